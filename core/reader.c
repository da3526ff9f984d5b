/*
 * From read(2) to batches of records.
 */
#include "reader.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hmap.h"
#include "mem.h"

struct lsh_reader_gen {
    struct lsh_tracker     tracker;
    struct lsh_reader_gen *next; /* in r->old */
    struct lsh_reader     *r;
    void                  *cookie; /* the owner's, once retired */
};

/* What the line callbacks need while one read is framed. */
struct lsh_reader_ctx {
    struct lsh_reader *r;
    struct lsh_batch  *b;
    const char        *data; /* the bytes being framed */
    size_t             len;
    /* the reader's fields, copied into the batch on first use */
    struct lsh_field *fields;
    uint64_t          base;  /* their source offset */
    size_t            used;  /* of them, consumed: source [base, base+used) */
    unsigned          flags; /* added to every framed line's */
    int64_t           now;
};

static void lsh_reader_gen_commit(struct lsh_tracker *tr, void *data)
{
    struct lsh_reader_gen  *g = data;
    struct lsh_reader      *r = g->r;
    struct lsh_reader_gen **pp;

    (void)tr;
    if (g == r->gen) {
        if (r->on_commit != NULL) {
            r->on_commit(r, r->data); /* may free r */
        }
        return;
    }
    if (!lsh_tracker_idle(&g->tracker)) {
        if (r->on_old != NULL) {
            r->on_old(r, g->cookie, &g->tracker, false, r->data);
        }
        return;
    }
    for (pp = &r->old; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    if (r->on_old != NULL) {
        r->on_old(r, g->cookie, &g->tracker, true, r->data);
    }
    free(g);
    if (r->on_commit != NULL) {
        r->on_commit(r, r->data); /* lets the owner see r is idle */
    }
}

static struct lsh_reader_gen *lsh_reader_gen_new(struct lsh_reader *r,
                                                 uint64_t           offset)
{
    struct lsh_reader_gen *g = lsh_calloc(1, sizeof(*g));

    g->r = r;
    lsh_tracker_init(&g->tracker, offset, lsh_reader_gen_commit, g);
    return g;
}

static void lsh_reader_gen_free(struct lsh_reader_gen *g)
{
    lsh_tracker_release(&g->tracker);
    free(g);
}

void lsh_reader_init(struct lsh_reader *r, uint64_t offset,
                     const struct lsh_reader_opts *o)
{
    int i;
    memset(r, 0, sizeof(*r));
    r->offset = offset;
    r->safe = offset;
    if (o->ctr != NULL) {
        /*
         * A runtime writes a long line in parts (16 KiB of text each for
         * Docker and containerd, escaped up to 6 times over in JSON);
         * the joined line is what max_line_bytes limits.  A runtime line
         * longer still is cut and, for Docker, then fails to decode.
         */
        size_t max = o->max_line > 128 * 1024 ? o->max_line : 128 * 1024;

        lsh_framer_init(&r->framer, max + 1024, LSH_LONG_TRUNCATE, o->strip_cr);
    } else {
        lsh_framer_init(&r->framer, o->max_line, o->on_long, o->strip_cr);
    }
    if (o->ml != NULL) {
        for (i = 0; i < (o->ctr ? LSH_STREAM_COUNT : 1); i++) {
            r->ml[i] = lsh_malloc(sizeof(*r->ml[i]));
            lsh_ml_init(r->ml[i], o->ml);
        }
    }
    if (o->ctr != NULL) {
        r->ctr = lsh_malloc(sizeof(*r->ctr));
        lsh_ctr_init(r->ctr, o->ctr);
    }
    r->fields = o->fields;
    r->nfields = o->nfields;
    r->on_commit = o->on_commit;
    r->on_old = o->on_old;
    r->data = o->data;
    r->gen = lsh_reader_gen_new(r, offset);
    r->gen->tracker.committed_len = o->end_len;
    r->gen->tracker.committed_hash = o->end_hash;
}

void lsh_reader_release(struct lsh_reader *r)
{
    int i;

    lsh_buf_release(&r->partial);
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (r->ml[i] != NULL) {
            lsh_ml_release(r->ml[i]);
            free(r->ml[i]);
            r->ml[i] = NULL;
        }
    }
    if (r->ctr != NULL) {
        lsh_ctr_release(r->ctr);
        free(r->ctr);
        r->ctr = NULL;
    }
    while (r->old != NULL) {
        struct lsh_reader_gen *g = r->old;

        r->old = g->next;
        lsh_reader_gen_free(g);
    }
    if (r->gen != NULL) {
        lsh_reader_gen_free(r->gen);
        r->gen = NULL;
    }
}

uint64_t lsh_reader_committed(const struct lsh_reader *r)
{
    return r->gen->tracker.committed;
}

void lsh_reader_committed_end(const struct lsh_reader *r, uint32_t *len,
                              uint64_t *hash)
{
    *len = r->gen->tracker.committed_len;
    *hash = r->gen->tracker.committed_hash;
}

bool lsh_reader_busy(const struct lsh_reader *r)
{
    return !lsh_tracker_idle(&r->gen->tracker);
}

bool lsh_reader_idle(const struct lsh_reader *r)
{
    return r->old == NULL && lsh_tracker_idle(&r->gen->tracker);
}

bool lsh_reader_pending_start(const struct lsh_reader *r, uint64_t *start)
{
    bool any = false;
    int  i;

    if (r->ctr != NULL) {
        any = lsh_ctr_pending_start(r->ctr, start);
    }
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        const struct lsh_ml *ml = r->ml[i];

        if (ml != NULL && ml->active && (!any || ml->start < *start)) {
            *start = ml->start;
            any = true;
        }
    }
    return any;
}

static const struct lsh_str lsh_stream_field = LSH_STR_LIT("stream");
static const struct lsh_str lsh_error_field = LSH_STR_LIT("container_error");
static const struct lsh_str lsh_truncated_field = LSH_STR_LIT("truncated");

/*
 * Adds a record.  copy: the text lives in a joiner or a reused buffer, so
 * the batch gets its own copy (lines framed in place point into the batch
 * already).  time_ns 0: the time it was read.  stream < 0: none.
 */
static void lsh_reader_emit_record(struct lsh_reader_ctx *c, const char *text,
                                   size_t len, unsigned flags, bool copy,
                                   int64_t time_ns, int stream,
                                   const char *error)
{
    struct lsh_reader *r = c->r;
    struct lsh_record *rec;
    size_t             i;

    if (copy) {
        text = lsh_arena_memdup(&c->b->arena, text, len);
    }
    rec = lsh_batch_push(c->b, lsh_str_make(text, len),
                         time_ns != 0 ? time_ns : c->now);
    rec->flags |= flags;
    if (r->nfields > 0 && c->fields == NULL) {
        /* the batch outlives the source's names: give it its own copy */
        c->fields =
            lsh_arena_alloc(&c->b->arena, r->nfields * sizeof(*c->fields));
        for (i = 0; i < r->nfields; i++) {
            c->fields[i] = r->fields[i];
            c->fields[i].v.s.ptr = lsh_arena_memdup(
                &c->b->arena, r->fields[i].v.s.ptr, r->fields[i].v.s.len);
        }
    }
    for (i = 0; i < r->nfields; i++) {
        lsh_record_set(c->b, rec, c->fields[i].name, c->fields[i].v);
    }
    if (stream >= 0) {
        lsh_record_set(c->b, rec, lsh_stream_field,
                       lsh_value_str(lsh_stream_names[stream]));
    }
    if (error != NULL) {
        lsh_record_set(c->b, rec, lsh_error_field,
                       lsh_value_str(lsh_str_make(error, strlen(error))));
    }
    if (flags & LSH_REC_TRUNCATED) {
        /* the mark users see: "truncated": true */
        struct lsh_value v = {.type = LSH_V_BOOL, .b = true};

        lsh_record_set(c->b, rec, lsh_truncated_field, v);
    }
}

static void lsh_reader_ml_out(void *arg, const char *text, size_t len,
                              unsigned flags, int64_t time_ns, int tag)
{
    lsh_reader_emit_record(arg, text, len, flags, true, time_ns, tag, NULL);
}

/* A line (framed, or from a container joiner): to multiline, or out. */
static void lsh_reader_text(struct lsh_reader_ctx *c, const char *text,
                            size_t len, unsigned flags, uint64_t start,
                            bool copy, int64_t time_ns, int stream,
                            const char *error)
{
    struct lsh_ml *ml = c->r->ml[stream > 0 ? stream : 0];

    if (ml == NULL || error != NULL) {
        lsh_reader_emit_record(c, text, len, flags, copy, time_ns, stream,
                               error);
        return;
    }
    lsh_ml_line(ml, text, len, flags, start, time_ns, stream, lsh_reader_ml_out,
                c);
}

static void lsh_reader_cout(void *arg, const struct lsh_cout *o)
{
    struct lsh_reader_ctx *c = arg;
    /* a whole line decoded in place is in the batch already */
    bool copy = c->data == NULL || o->text < c->data ||
                o->text + o->len > c->data + c->len;

    /* a joined line starts where its first part does */
    lsh_reader_text(c, o->text, o->len, o->flags, o->start, copy, o->time_ns,
                    o->stream, o->error);
}

static void lsh_reader_line(void *arg, const char *line, size_t len,
                            unsigned flags)
{
    struct lsh_reader_ctx *c = arg;
    uint64_t               start = c->base + (uint64_t)(line - c->data);

    flags |= c->flags;
    if (c->r->ctr != NULL) {
        lsh_ctr_line(c->r->ctr, line, len, flags, start, lsh_reader_cout, c);
        return;
    }
    /* framed in place: the text is in the batch already */
    lsh_reader_text(c, line, len, flags, start, false, 0, -1, NULL);
}

/*
 * The hash of the bytes just before safe (up to LSH_END_BYTES of them),
 * from the history before c->base and c's bytes after it; *len is how
 * many it covers, 0 if safe lies before what is known.
 */
static void lsh_reader_end(const struct lsh_reader     *r,
                           const struct lsh_reader_ctx *c, uint64_t safe,
                           uint32_t *len, uint64_t *hash)
{
    char     buf[LSH_END_BYTES];
    uint64_t known = c->base - r->hist_len; /* first byte we have */
    uint64_t from = safe > LSH_END_BYTES ? safe - LSH_END_BYTES : 0;
    uint64_t at;
    size_t   n = 0;

    *len = 0;
    *hash = 0;
    if (safe < known || safe > c->base + c->used) {
        return;
    }
    from = LSH_MAX(from, known);
    for (at = from; at < safe; at++) {
        buf[n++] = at < c->base ? r->hist[r->hist_len - (c->base - at)]
                                : c->data[at - c->base];
    }
    *len = (uint32_t)n;
    *hash = lsh_hash_bytes(buf, n);
}

/* Keeps the last LSH_END_BYTES bytes before the new offset. */
static void lsh_reader_hist(struct lsh_reader *r, const char *data, size_t n)
{
    size_t keep;

    if (n >= LSH_END_BYTES) {
        memcpy(r->hist, data + n - LSH_END_BYTES, LSH_END_BYTES);
        r->hist_len = LSH_END_BYTES;
        return;
    }
    keep = LSH_MIN(r->hist_len, LSH_END_BYTES - n);
    memmove(r->hist, r->hist + r->hist_len - keep, keep);
    memcpy(r->hist + keep, data, n);
    r->hist_len = (uint32_t)(keep + n);
}

/*
 * Gives c's batch a ticket up to the safe offset and emits it, or
 * recycles it if it holds nothing new.  Returns the lsh_input_emit()
 * result.
 */
static int lsh_reader_emit(struct lsh_reader *r, struct lsh_instance *ins,
                           struct lsh_reader_ctx *c, struct lsh_str path)
{
    struct lsh_batch *b = c->b;
    uint64_t          safe = r->offset;
    uint32_t          end_len;
    uint64_t          end_hash;

    lsh_reader_pending_start(r, &safe);
    lsh_reader_end(r, c, safe, &end_len, &end_hash);
    if (c->used > 0) {
        lsh_reader_hist(r, c->data, c->used);
    }
    if (b->n == 0 && safe == r->safe) {
        lsh_input_discard(ins, b);
        return LSH_OK;
    }
    r->safe = safe;
    b->path = path;
    b->ticket = lsh_tracker_issue_at(&r->gen->tracker, safe, end_len, end_hash);
    return lsh_input_emit(ins, b);
}

/* A context for what one batch b gets from r, from r's offset on. */
static void lsh_reader_ctx_init(struct lsh_reader_ctx *c, struct lsh_reader *r,
                                struct lsh_batch *b)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->b = b;
    c->base = r->offset;
    c->now = lsh_now_real_ns();
}

static ssize_t lsh_reader_fd_read(void *src, void *buf, size_t n)
{
    ssize_t got;

    do {
        got = read(*(int *)src, buf, n);
    } while (got < 0 && errno == EINTR);
    return got;
}

ssize_t lsh_reader_read(struct lsh_reader *r, struct lsh_instance *ins, int fd,
                        size_t chunk, struct lsh_str path, int *emit_rc)
{
    return lsh_reader_read_from(r, ins, lsh_reader_fd_read, &fd, chunk, path,
                                emit_rc);
}

ssize_t lsh_reader_read_from(struct lsh_reader *r, struct lsh_instance *ins,
                             lsh_read_fn fn, void *src, size_t chunk,
                             struct lsh_str path, int *emit_rc)
{
    struct lsh_reader_ctx c;
    struct lsh_batch     *b = lsh_input_batch(ins);
    size_t                plen = r->partial.len;
    size_t                consumed;
    ssize_t               n;

    *emit_rc = LSH_OK;
    lsh_buf_reserve(&b->data, plen + chunk);
    if (plen > 0) {
        memcpy(b->data.ptr, r->partial.ptr, plen);
    }
    n = fn(src, b->data.ptr + plen, chunk);
    if (n <= 0) {
        lsh_input_discard(ins, b);
        return n;
    }
    b->data.len = plen + (size_t)n;
    r->bytes += (uint64_t)n;
    lsh_reader_ctx_init(&c, r, b);
    c.data = b->data.ptr;
    c.len = b->data.len;
    consumed = lsh_framer_run(&r->framer, b->data.ptr, b->data.len,
                              lsh_reader_line, &c);
    lsh_buf_reset(&r->partial);
    lsh_buf_add(&r->partial, b->data.ptr + consumed, b->data.len - consumed);
    if (r->partial.len == 0 && r->partial.cap > 64 * 1024) {
        lsh_buf_release(&r->partial); /* after a long line: give it back */
    }
    b->data.len = consumed;
    c.used = consumed;
    r->offset += consumed;
    *emit_rc = lsh_reader_emit(r, ins, &c, path);
    return n;
}

/*
 * Emits what waits for more, in c's batch: a container's partial lines as
 * they are (if partials: their ends will not come), then every multiline
 * record.  Returns the lsh_input_emit() result.
 */
static int lsh_reader_drain(struct lsh_reader *r, struct lsh_instance *ins,
                            struct lsh_str path, struct lsh_reader_ctx *c,
                            bool partials)
{
    int i;

    if (partials && r->ctr != NULL) {
        lsh_ctr_flush(r->ctr, lsh_reader_cout, c);
    }
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (r->ml[i] != NULL) {
            lsh_ml_flush(r->ml[i], lsh_reader_ml_out, c);
        }
    }
    return lsh_reader_emit(r, ins, c, path);
}

int lsh_reader_flush(struct lsh_reader *r, struct lsh_instance *ins,
                     struct lsh_str path)
{
    struct lsh_reader_ctx c;
    bool                  ml = false;
    int                   i;

    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        ml = ml || (r->ml[i] != NULL && r->ml[i]->active);
    }
    if (!ml) {
        return LSH_OK; /* a container's partial line waits for its end */
    }
    lsh_reader_ctx_init(&c, r, lsh_input_batch(ins));
    return lsh_reader_drain(r, ins, path, &c, false);
}

int lsh_reader_flush_all(struct lsh_reader *r, struct lsh_instance *ins,
                         struct lsh_str path)
{
    struct lsh_reader_ctx c;

    lsh_reader_ctx_init(&c, r, lsh_input_batch(ins));
    return lsh_reader_drain(r, ins, path, &c, true);
}

/* Emits the incomplete last line with flags, then everything pending. */
static int lsh_reader_end_line(struct lsh_reader *r, struct lsh_instance *ins,
                               struct lsh_str path, unsigned flags)
{
    struct lsh_reader_ctx c;

    lsh_reader_ctx_init(&c, r, lsh_input_batch(ins));
    /* the last line lives in r->partial: copy it into the batch */
    lsh_buf_add(&c.b->data, r->partial.ptr, r->partial.len);
    c.data = c.b->data.ptr;
    c.len = c.b->data.len;
    c.used = c.len;
    c.flags = flags;
    if (flags != 0 && r->partial.len > 0 && !r->framer.discarding) {
        r->cut++;
    }
    lsh_framer_finish(&r->framer, c.b->data.ptr, c.b->data.len, lsh_reader_line,
                      &c);
    r->offset += r->partial.len;
    lsh_buf_reset(&r->partial);
    return lsh_reader_drain(r, ins, path, &c, true);
}

int lsh_reader_finish(struct lsh_reader *r, struct lsh_instance *ins,
                      struct lsh_str path)
{
    return lsh_reader_end_line(r, ins, path, 0);
}

int lsh_reader_cut(struct lsh_reader *r, struct lsh_instance *ins,
                   struct lsh_str path)
{
    return lsh_reader_end_line(r, ins, path, LSH_REC_TRUNCATED);
}

bool lsh_reader_restart(struct lsh_reader *r, uint64_t offset, void *cookie)
{
    bool kept;

    int i;

    lsh_buf_release(&r->partial);
    r->hist_len = 0;
    r->framer.discarding = false;
    r->framer.splitting = false;
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (r->ml[i] != NULL) {
            lsh_ml_release(r->ml[i]);
            lsh_ml_init(r->ml[i], r->ml[i]->conf);
        }
    }
    if (r->ctr != NULL) {
        lsh_ctr_reset(r->ctr);
    }
    kept = !lsh_tracker_idle(&r->gen->tracker);
    if (kept) {
        r->gen->cookie = cookie;
        r->gen->next = r->old;
        r->old = r->gen;
    } else {
        lsh_reader_gen_free(r->gen);
    }
    r->gen = lsh_reader_gen_new(r, offset);
    r->offset = offset;
    r->safe = offset;
    return kept;
}
