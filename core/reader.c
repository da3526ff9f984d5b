/*
 * From read(2) to batches of records.
 */
#include "reader.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mem.h"

struct lsh_reader_gen {
    struct lsh_tracker     tracker;
    struct lsh_reader_gen *next; /* in r->old */
    struct lsh_reader     *r;
};

/* What the line callbacks need while one read is framed. */
struct lsh_reader_ctx {
    struct lsh_reader *r;
    struct lsh_batch  *b;
    const char        *data; /* the bytes being framed */
    uint64_t           base; /* their source offset */
    int64_t            now;
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
        return;
    }
    for (pp = &r->old; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
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
    memset(r, 0, sizeof(*r));
    r->offset = offset;
    r->safe = offset;
    lsh_framer_init(&r->framer, o->max_line, o->on_long, o->strip_cr);
    if (o->ml != NULL) {
        r->ml = lsh_malloc(sizeof(*r->ml));
        lsh_ml_init(r->ml, o->ml);
    }
    r->on_commit = o->on_commit;
    r->data = o->data;
    r->gen = lsh_reader_gen_new(r, offset);
}

void lsh_reader_release(struct lsh_reader *r)
{
    lsh_buf_release(&r->partial);
    if (r->ml != NULL) {
        lsh_ml_release(r->ml);
        free(r->ml);
        r->ml = NULL;
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

bool lsh_reader_idle(const struct lsh_reader *r)
{
    return r->old == NULL && lsh_tracker_idle(&r->gen->tracker);
}

static void lsh_reader_record(void *arg, const char *text, size_t len,
                              unsigned flags)
{
    struct lsh_reader_ctx *c = arg;
    struct lsh_record     *rec;

    /* multiline text lives in the joiner: copy it into the batch */
    if (c->r->ml != NULL) {
        text = lsh_arena_memdup(&c->b->arena, text, len);
    }
    rec = lsh_batch_push(c->b, lsh_str_make(text, len), c->now);
    rec->flags |= flags;
}

static void lsh_reader_line(void *arg, const char *line, size_t len,
                            unsigned flags)
{
    struct lsh_reader_ctx *c = arg;

    if (c->r->ml == NULL) {
        lsh_reader_record(arg, line, len, flags);
        return;
    }
    lsh_ml_line(c->r->ml, line, len, flags,
                c->base + (uint64_t)(line - c->data), lsh_reader_record, c);
}

/*
 * Gives batch b a ticket up to the safe offset and emits it, or recycles
 * it if it holds nothing new.  Returns the lsh_input_emit() result.
 */
static int lsh_reader_emit(struct lsh_reader *r, struct lsh_instance *ins,
                           struct lsh_batch *b, struct lsh_str path)
{
    uint64_t safe = lsh_reader_pending(r) ? r->ml->start : r->offset;

    if (b->n == 0 && safe == r->safe) {
        lsh_input_discard(ins, b);
        return LSH_OK;
    }
    r->safe = safe;
    b->path = path;
    b->ticket = lsh_tracker_issue(&r->gen->tracker, safe);
    return lsh_input_emit(ins, b);
}

ssize_t lsh_reader_read(struct lsh_reader *r, struct lsh_instance *ins, int fd,
                        size_t chunk, struct lsh_str path, int *emit_rc)
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
    do {
        n = read(fd, b->data.ptr + plen, chunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        lsh_input_discard(ins, b);
        return n;
    }
    b->data.len = plen + (size_t)n;
    r->bytes += (uint64_t)n;
    c.r = r;
    c.b = b;
    c.data = b->data.ptr;
    c.base = r->offset;
    c.now = lsh_now_real_ns();
    consumed = lsh_framer_run(&r->framer, b->data.ptr, b->data.len,
                              lsh_reader_line, &c);
    lsh_buf_reset(&r->partial);
    lsh_buf_add(&r->partial, b->data.ptr + consumed, b->data.len - consumed);
    if (r->partial.len == 0 && r->partial.cap > 64 * 1024) {
        lsh_buf_release(&r->partial); /* after a long line: give it back */
    }
    b->data.len = consumed;
    r->offset += consumed;
    *emit_rc = lsh_reader_emit(r, ins, b, path);
    return n;
}

int lsh_reader_flush(struct lsh_reader *r, struct lsh_instance *ins,
                     struct lsh_str path)
{
    struct lsh_reader_ctx c;

    if (!lsh_reader_pending(r)) {
        return LSH_OK;
    }
    c.r = r;
    c.b = lsh_input_batch(ins);
    c.data = NULL;
    c.base = 0;
    c.now = lsh_now_real_ns();
    lsh_ml_flush(r->ml, lsh_reader_record, &c);
    return lsh_reader_emit(r, ins, c.b, path);
}

int lsh_reader_finish(struct lsh_reader *r, struct lsh_instance *ins,
                      struct lsh_str path)
{
    struct lsh_reader_ctx c;

    c.r = r;
    c.b = lsh_input_batch(ins);
    c.now = lsh_now_real_ns();
    c.base = r->offset;
    /* the last line lives in r->partial: copy it into the batch */
    lsh_buf_add(&c.b->data, r->partial.ptr, r->partial.len);
    c.data = c.b->data.ptr;
    lsh_framer_finish(&r->framer, c.b->data.ptr, c.b->data.len, lsh_reader_line,
                      &c);
    r->offset += r->partial.len;
    lsh_buf_reset(&r->partial);
    if (lsh_reader_pending(r)) {
        lsh_ml_flush(r->ml, lsh_reader_record, &c);
    }
    return lsh_reader_emit(r, ins, c.b, path);
}

void lsh_reader_restart(struct lsh_reader *r, uint64_t offset)
{
    lsh_buf_release(&r->partial);
    r->framer.discarding = false;
    r->framer.splitting = false;
    if (r->ml != NULL) {
        lsh_ml_release(r->ml);
        lsh_ml_init(r->ml, r->ml->conf);
    }
    if (lsh_tracker_idle(&r->gen->tracker)) {
        lsh_reader_gen_free(r->gen);
    } else {
        r->gen->next = r->old;
        r->old = r->gen;
    }
    r->gen = lsh_reader_gen_new(r, offset);
    r->offset = offset;
    r->safe = offset;
}
