/*
 * Taps (GET /api/v1/tap, `logship tap`): copies of the records passing a
 * stage of a pipeline, as JSON lines, for a person to see what a regex
 * really produced.
 *
 * A tap waits at one stage of one pipeline (by name: it outlives a
 * reload) until it has `limit` records (or 4 MiB of them) or its wait
 * is over, and is then answered; a record larger than 64 KiB is shown as
 * a line that says so.  The records are copied, never held: delivery and the
 * checkpoints do not see a tap.  With no tap, the cost is one pointer
 * test per batch; with one, the JSON encoding of the records it copies,
 * at most limit (1,000) of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "json.h"
#include "mem.h"

/* A tap's answer stays small, whatever the records are. */
#define LSH_TAP_MAX_BYTES  (4 * 1024 * 1024)
#define LSH_TAP_MAX_RECORD (64 * 1024)

struct lsh_tap {
    struct lsh_engine *e;
    struct lsh_tap    *next;
    char               pipeline[128];
    size_t             stage; /* 0: after the input; i: after filter i */
    size_t             limit;
    size_t             n;
    struct lsh_buf     out;
    struct lsh_timer   timer; /* the wait */
    void (*done)(void *cookie);
    void *cookie;
    bool  finished;
};

static void lsh_tap_finish(struct lsh_tap *t)
{
    if (t->finished) {
        return;
    }
    t->finished = true;
    lsh_timer_stop(t->e->loop, &t->timer);
    t->done(t->cookie);
}

static void lsh_tap_timer(struct lsh_timer *tm)
{
    lsh_tap_finish(tm->data);
}

void lsh_tap_capture(struct lsh_pipeline *p, size_t stage,
                     const struct lsh_batch *b)
{
    struct lsh_tap *t;
    struct lsh_str  host = lsh_host();
    size_t          i;

    for (t = p->engine->taps; t != NULL; t = t->next) {
        if (t->finished || t->stage != stage ||
            strcmp(t->pipeline, p->name) != 0) {
            continue;
        }
        for (i = 0; i < b->n && t->n < t->limit; i++) {
            const struct lsh_record *r = &b->recs[i];

            if (r->flags & LSH_REC_DROPPED) {
                continue;
            }
            if (r->body.len > LSH_TAP_MAX_RECORD) {
                lsh_buf_addf(&t->out,
                             "{\"tap\":\"a record of %zu bytes, not shown "
                             "(more than 64 KiB)\"}\n",
                             r->body.len);
            } else {
                lsh_json_record(&t->out, b, r, host);
                lsh_buf_addc(&t->out, '\n');
            }
            t->n++;
        }
        if (t->n >= t->limit || t->out.len >= LSH_TAP_MAX_BYTES) {
            lsh_tap_finish(t);
        }
    }
}

void lsh_engine_taps_finish(struct lsh_engine *e)
{
    struct lsh_tap *t;

    for (t = e->taps; t != NULL; t = t->next) {
        lsh_tap_finish(t);
    }
}

void *lsh_engine_tap_start(void *engine, const char *pipeline,
                           const char *after, size_t limit, int64_t wait_ms,
                           void (*done)(void *), void *cookie,
                           struct lsh_buf *err, unsigned *status)
{
    struct lsh_engine   *e = engine;
    struct lsh_pipeline *p = lsh_engine_find_pipeline(e, pipeline);
    struct lsh_tap      *t;
    size_t               stage = 0;
    char                *end;

    if (p == NULL || strlen(pipeline) >= sizeof(t->pipeline)) {
        lsh_buf_addf(err, "no pipeline '%s'", pipeline);
        *status = 404;
        return NULL;
    }
    if (strcmp(after, "input") != 0) {
        unsigned long n = strtoul(after, &end, 10);

        if (*after == '\0' || *end != '\0' || n < 1 ||
            n > p->nstages[LSH_PLUGIN_FILTER]) {
            lsh_buf_addf(err,
                         "after must be 'input' or a filter's number, 1 to "
                         "%zu, in pipeline '%s'",
                         p->nstages[LSH_PLUGIN_FILTER], pipeline);
            *status = 400;
            return NULL;
        }
        stage = n;
    }
    t = lsh_calloc(1, sizeof(*t));
    t->e = e;
    snprintf(t->pipeline, sizeof(t->pipeline), "%s", pipeline);
    t->stage = stage;
    t->limit = limit;
    t->out = (struct lsh_buf)LSH_BUF_INIT;
    t->done = done;
    t->cookie = cookie;
    t->next = e->taps;
    e->taps = t;
    lsh_timer_start(e->loop, &t->timer, wait_ms, 0, lsh_tap_timer, t);
    return t;
}

static void lsh_tap_free(struct lsh_engine *e, struct lsh_tap *t)
{
    struct lsh_tap **pp;

    for (pp = &e->taps; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    lsh_timer_stop(e->loop, &t->timer);
    lsh_buf_release(&t->out);
    free(t);
}

void lsh_engine_tap_take(void *engine, void *tap, struct lsh_buf *out)
{
    struct lsh_tap *t = tap;

    lsh_buf_add(out, t->out.ptr, t->out.len);
    lsh_tap_free(engine, t);
}

void lsh_engine_tap_cancel(void *engine, void *tap)
{
    lsh_tap_free(engine, tap);
}
