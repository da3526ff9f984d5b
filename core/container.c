/*
 * Container runtime logs: Docker json-file and CRI.
 */
#include "container.h"

#include <string.h>

#include "jparse.h"
#include "record.h"
#include "timeparse.h"

const struct lsh_str lsh_stream_names[LSH_STREAM_COUNT] = {
    LSH_STR_LIT("stdout"), LSH_STR_LIT("stderr")};

int lsh_stream_of(const char *p, size_t n)
{
    int s;

    for (s = 0; s < LSH_STREAM_COUNT; s++) {
        if (lsh_str_eq(lsh_str_make(p, n), lsh_stream_names[s])) {
            return s;
        }
    }
    return -1;
}

/* --- Docker json-file ---------------------------------------------------- */

struct lsh_docker {
    struct lsh_jvalue log;
    struct lsh_jvalue stream;
    struct lsh_jvalue time;
    unsigned          seen; /* 1 log, 2 stream, 4 time */
};

static bool lsh_jkey(const struct lsh_jvalue *k, const char *name)
{
    return k->raw.len == strlen(name) + 2 &&
           memcmp(k->raw.ptr + 1, name, k->raw.len - 2) == 0;
}

static int lsh_docker_member(void *arg, const struct lsh_jvalue *k,
                             const struct lsh_jvalue *v)
{
    struct lsh_docker *d = arg;

    if (lsh_jkey(k, "log")) {
        d->log = *v;
        d->seen |= 1;
    } else if (lsh_jkey(k, "stream")) {
        d->stream = *v;
        d->seen |= 2;
    } else if (lsh_jkey(k, "time")) {
        d->time = *v;
        d->seen |= 4;
    }
    return 0; /* other members (attrs) are ignored */
}

int lsh_docker_decode(const char *line, size_t n, struct lsh_buf *scratch,
                      struct lsh_cline *out, const char **err)
{
    struct lsh_docker d;
    struct lsh_str    s;
    size_t            at;

    memset(&d, 0, sizeof(d));
    if (lsh_jparse_object(line, n, lsh_docker_member, &d, err, &at) != LSH_OK) {
        *err = "invalid json";
        return LSH_EINVAL;
    }
    if (d.seen != 7 || d.log.type != LSH_J_STRING ||
        d.stream.type != LSH_J_STRING || d.time.type != LSH_J_STRING) {
        *err = "not a docker log line (log, stream and time strings)";
        return LSH_EINVAL;
    }
    s = lsh_jstring_plain(d.stream.raw);
    out->stream = lsh_stream_of(s.ptr, s.len);
    if (out->stream < 0) {
        *err = "unknown stream";
        return LSH_EINVAL;
    }
    s = lsh_jstring_plain(d.time.raw);
    if (lsh_time_parse_iso8601(s.ptr, s.len, &out->time_ns) != LSH_OK) {
        *err = "bad time";
        return LSH_EINVAL;
    }
    if (d.log.escaped) {
        lsh_buf_reset(scratch);
        lsh_buf_reserve(scratch, d.log.raw.len);
        scratch->len = lsh_jstring(d.log.raw, scratch->ptr);
        out->msg = lsh_str_make(scratch->ptr, scratch->len);
    } else {
        out->msg = lsh_jstring_plain(d.log.raw);
    }
    out->partial = out->msg.len == 0 || out->msg.ptr[out->msg.len - 1] != '\n';
    if (!out->partial) {
        out->msg.len--;
    }
    return LSH_OK;
}

/* --- CRI ----------------------------------------------------------------- */

int lsh_cri_decode(const char *line, size_t n, struct lsh_cline *out,
                   const char **err)
{
    const char *end = line + n;
    const char *ts = line;
    const char *sp1 = memchr(line, ' ', n);
    const char *stream;
    const char *sp2;
    const char *tag;
    const char *sp3;

    if (sp1 == NULL) {
        *err = "bad cri header";
        return LSH_EINVAL;
    }
    if (lsh_time_parse_iso8601(ts, (size_t)(sp1 - ts), &out->time_ns) !=
        LSH_OK) {
        *err = "bad cri time";
        return LSH_EINVAL;
    }
    stream = sp1 + 1;
    sp2 = memchr(stream, ' ', (size_t)(end - stream));
    if (sp2 == NULL ||
        (out->stream = lsh_stream_of(stream, (size_t)(sp2 - stream))) < 0) {
        *err = "bad cri stream";
        return LSH_EINVAL;
    }
    tag = sp2 + 1;
    sp3 = memchr(tag, ' ', (size_t)(end - tag));
    if (sp3 == NULL) {
        sp3 = end; /* "... stdout F" with an empty message */
    }
    /* the first of the ':'-separated tags: P (partial) or F (full) */
    if (sp3 == tag || (tag[0] != 'P' && tag[0] != 'F') ||
        (sp3 - tag > 1 && tag[1] != ':')) {
        *err = "bad cri tag";
        return LSH_EINVAL;
    }
    out->partial = tag[0] == 'P';
    out->msg = sp3 < end ? lsh_str_make(sp3 + 1, (size_t)(end - sp3 - 1))
                         : lsh_str_make(end, 0);
    return LSH_OK;
}

/* --- joining ------------------------------------------------------------- */

void lsh_ctr_init(struct lsh_ctr *c, const struct lsh_ctr_conf *conf)
{
    memset(c, 0, sizeof(*c));
    c->conf = conf;
    c->format = conf->format;
}

void lsh_ctr_release(struct lsh_ctr *c)
{
    int i;

    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        lsh_buf_release(&c->pend[i].buf);
    }
    lsh_buf_release(&c->scratch);
}

static void lsh_ctr_emit_raw(struct lsh_ctr *c, const char *line, size_t n,
                             unsigned flags, uint64_t start, const char *error,
                             lsh_ctr_emit emit, void *arg)
{
    size_t          max = c->conf->max_line;
    struct lsh_cout o = {line, n, flags, -1, 0, error, start};

    if (error != NULL) {
        c->s.malformed++;
    }
    if (n > max) {
        switch (c->conf->on_long) {
        case LSH_LONG_SKIP:
            c->s.skipped++;
            return;
        case LSH_LONG_SPLIT:
            c->s.split++;
            while (n > 0) {
                o.text = line;
                o.len = LSH_MIN(n, max);
                emit(arg, &o);
                line += o.len;
                n -= o.len;
            }
            return;
        default:
            c->s.truncated++;
            o.len = max;
            o.flags |= LSH_REC_TRUNCATED;
            break;
        }
    }
    emit(arg, &o);
}

static void lsh_ctr_done(struct lsh_ctr_pending *p)
{
    lsh_buf_reset(&p->buf);
    if (p->buf.cap > 64 * 1024) {
        lsh_buf_release(&p->buf);
    }
    p->active = false;
    p->dropping = false;
    p->splitting = false;
    p->flags = 0;
}

/* Emits the pending line of stream s (what was kept of it). */
static void lsh_ctr_emit_pending(struct lsh_ctr *c, int s, lsh_ctr_emit emit,
                                 void *arg)
{
    struct lsh_ctr_pending *p = &c->pend[s];
    struct lsh_cout         o = {p->buf.ptr, p->buf.len, p->flags, s,
                                 p->time_ns, NULL,       p->start};

    /* skip drops the whole line; what else is kept goes out */
    if (!(p->dropping && c->conf->on_long == LSH_LONG_SKIP)) {
        c->s.lines++;
        emit(arg, &o);
    }
    lsh_ctr_done(p);
}

/* Adds a part to the pending line of stream s, within max_line. */
static void lsh_ctr_append(struct lsh_ctr *c, int s, struct lsh_str part,
                           lsh_ctr_emit emit, void *arg)
{
    struct lsh_ctr_pending *p = &c->pend[s];
    size_t                  max = c->conf->max_line;

    while (!p->dropping && p->buf.len + part.len > max) {
        size_t room = max - p->buf.len;

        switch (c->conf->on_long) {
        case LSH_LONG_SPLIT: {
            struct lsh_cout o;

            lsh_buf_add(&p->buf, part.ptr, room);
            part.ptr += room;
            part.len -= room;
            if (!p->splitting) {
                c->s.split++;
                p->splitting = true;
            }
            o = (struct lsh_cout){p->buf.ptr, p->buf.len, 0,       s,
                                  p->time_ns, NULL,       p->start};
            c->s.lines++;
            emit(arg, &o);
            lsh_buf_reset(&p->buf);
            continue;
        }
        case LSH_LONG_SKIP:
            c->s.skipped++;
            lsh_buf_reset(&p->buf);
            break;
        default:
            c->s.truncated++;
            lsh_buf_add(&p->buf, part.ptr, room);
            p->flags |= LSH_REC_TRUNCATED;
            break;
        }
        p->dropping = true;
    }
    if (!p->dropping) {
        lsh_buf_add(&p->buf, part.ptr, part.len);
    }
}

/* auto: the first line decides the file's format. */
static void lsh_ctr_detect(struct lsh_ctr *c, const char *line, size_t n)
{
    struct lsh_cline cl;
    const char      *err;

    if (n == 0) {
        return; /* decide on a line with something in it */
    }
    if (line[0] == '{') {
        c->format = LSH_CTR_DOCKER;
    } else if (lsh_cri_decode(line, n, &cl, &err) == LSH_OK) {
        c->format = LSH_CTR_CRI;
    } else {
        c->format = LSH_CTR_RAW;
    }
}

static void lsh_ctr_line_in(struct lsh_ctr *c, const char *line, size_t n,
                            unsigned flags, uint64_t start, lsh_ctr_emit emit,
                            void *arg)
{
    struct lsh_cline        cl;
    struct lsh_ctr_pending *p;
    const char             *err = NULL;
    int                     rc;

    if (c->format == LSH_CTR_AUTO) {
        lsh_ctr_detect(c, line, n);
    }
    if (c->format == LSH_CTR_RAW || c->format == LSH_CTR_AUTO) {
        lsh_ctr_emit_raw(c, line, n, flags, start, NULL, emit, arg);
        return;
    }
    rc = c->format == LSH_CTR_DOCKER
             ? lsh_docker_decode(line, n, &c->scratch, &cl, &err)
             : lsh_cri_decode(line, n, &cl, &err);
    if (rc != LSH_OK) {
        lsh_ctr_emit_raw(c, line, n, flags, start, err, emit, arg);
        return;
    }
    if (!(c->conf->streams & (1u << cl.stream))) {
        c->s.filtered++;
        return;
    }
    p = &c->pend[cl.stream];
    if (!p->active && !cl.partial && cl.msg.len <= c->conf->max_line) {
        struct lsh_cout o = {cl.msg.ptr, cl.msg.len, 0,    cl.stream,
                             cl.time_ns, NULL,       start};

        c->s.lines++;
        emit(arg, &o); /* the common case: whole, no copy */
        return;
    }
    if (!p->active) {
        p->active = true;
        p->start = start;
        p->time_ns = cl.time_ns;
    }
    c->s.partials += cl.partial;
    lsh_ctr_append(c, cl.stream, cl.msg, emit, arg);
    if (!cl.partial) {
        lsh_ctr_emit_pending(c, cl.stream, emit, arg);
    }
}

void lsh_ctr_line(struct lsh_ctr *c, const char *line, size_t n, unsigned flags,
                  uint64_t start, lsh_ctr_emit emit, void *arg)
{
    lsh_ctr_line_in(c, line, n, flags, start, emit, arg);
    if (c->scratch.cap > 64 * 1024) {
        /* after a long escaped line: an idle file keeps little */
        lsh_buf_release(&c->scratch);
    }
}

void lsh_ctr_flush(struct lsh_ctr *c, lsh_ctr_emit emit, void *arg)
{
    int i;

    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (c->pend[i].active) {
            lsh_ctr_emit_pending(c, i, emit, arg);
        }
    }
}

void lsh_ctr_reset(struct lsh_ctr *c)
{
    int i;

    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        lsh_ctr_done(&c->pend[i]);
    }
    c->format = c->conf->format;
}

bool lsh_ctr_pending_start(const struct lsh_ctr *c, uint64_t *start)
{
    bool any = false;
    int  i;

    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (c->pend[i].active && (!any || c->pend[i].start < *start)) {
            *start = c->pend[i].start;
            any = true;
        }
    }
    return any;
}
