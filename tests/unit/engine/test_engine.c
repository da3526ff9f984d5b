/*
 * The engine with test plugins: every record reaches every output once
 * and in order, filters drop records, a full output pauses the inputs
 * and resumes them when it wakes, tickets commit only after every
 * output acknowledged, and shutdown waits for pending acks.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "engine.h"
#include "mem.h"
#include "ticket.h"

/* --- "gen" input: emits "line-N" records in batches ------------------- */

struct gen_conf {
    int64_t count;
    int64_t per_batch;
};

struct gen {
    struct lsh_tracker tracker;
    int64_t            next;
    int                collects;
};

static const struct lsh_option gen_options[] = {
    {.name = "count",
     .type = LSH_OPT_INT,
     .def = "100",
     .offset = offsetof(struct gen_conf, count),
     .help = "records"},
    {.name = "per_batch",
     .type = LSH_OPT_INT,
     .def = "7",
     .offset = offsetof(struct gen_conf, per_batch),
     .help = "batch"},
    {.name = NULL},
};

static struct gen *g_gen;

static int gen_init(struct lsh_instance *ins, const void *conf)
{
    struct gen *g = lsh_calloc(1, sizeof(*g));

    (void)conf;
    lsh_tracker_init(&g->tracker, 0, NULL, NULL);
    ins->ctx = g;
    g_gen = g;
    lsh_input_ready(ins);
    return LSH_OK;
}

static int gen_collect(struct lsh_instance *ins)
{
    const struct gen_conf *c = ins->conf;
    struct gen            *g = ins->ctx;

    g->collects++;
    while (g->next < c->count) {
        struct lsh_batch *b = lsh_input_batch(ins);
        int64_t           i;

        for (i = 0; i < c->per_batch && g->next < c->count; i++) {
            char *text = lsh_arena_alloc(&b->arena, 32);
            int   n = snprintf(text, 32, "line-%lld", (long long)g->next++);

            lsh_batch_push(b, lsh_str_make(text, (size_t)n), 0);
        }
        b->path = LSH_STR_LIT("gen");
        b->ticket = lsh_tracker_issue(&g->tracker, (uint64_t)g->next);
        if (lsh_input_emit(ins, b) == LSH_EAGAIN) {
            return LSH_EAGAIN;
        }
        if (g->collects % 2 == 0) {
            return LSH_EAGAIN; /* pretend the budget ran out */
        }
    }
    lsh_input_done(ins);
    return LSH_OK;
}

static void gen_exit(struct lsh_instance *ins)
{
    struct gen *g = ins->ctx;

    lsh_tracker_release(&g->tracker);
    free(g);
}

static const struct lsh_plugin gen_plugin = {
    .name = "gen",
    .description = "test input",
    .kind = LSH_PLUGIN_INPUT,
    .options = gen_options,
    .conf_size = sizeof(struct gen_conf),
    .init = gen_init,
    .collect = gen_collect,
    .exit = gen_exit,
};

/* --- "dropodd" filter -------------------------------------------------- */

static int dropodd_init(struct lsh_instance *ins, const void *conf)
{
    (void)ins;
    (void)conf;
    return LSH_OK;
}

static int dropodd_process(struct lsh_instance *ins, struct lsh_batch *b)
{
    size_t i;

    (void)ins;
    for (i = 0; i < b->n; i++) {
        const struct lsh_str *body = &b->recs[i].body;

        if ((body->ptr[body->len - 1] - '0') % 2 == 1) {
            lsh_batch_drop(b, &b->recs[i]);
        }
    }
    return LSH_OK;
}

static const struct lsh_option no_options[] = {{.name = NULL}};

static const struct lsh_plugin dropodd_plugin = {
    .name = "dropodd",
    .description = "test filter",
    .kind = LSH_PLUGIN_FILTER,
    .options = no_options,
    .conf_size = 1,
    .init = dropodd_init,
    .process = dropodd_process,
};

/* --- "cap" output: captures, can refuse and ack later ------------------ */

struct cap_conf {
    int64_t room;  /* records accepted before LSH_EAGAIN; 0 = unlimited */
    int64_t delay; /* ms before acking what was accepted; 0 = at once */
};

struct cap {
    struct lsh_instance *ins;
    struct lsh_buf       seen; /* bodies joined with ',' */
    size_t               nseen;
    struct lsh_ticket  **pending; /* accepted, not acked yet */
    size_t               npending;
    size_t               cap_pending;
    struct lsh_timer     timer;
    int                  refusals;
};

static const struct lsh_option cap_options[] = {
    {.name = "room",
     .type = LSH_OPT_INT,
     .def = "0",
     .offset = offsetof(struct cap_conf, room),
     .help = "room"},
    {.name = "delay",
     .type = LSH_OPT_INT,
     .def = "0",
     .offset = offsetof(struct cap_conf, delay),
     .help = "delay"},
    {.name = NULL},
};

static struct cap *g_caps[2];
static int         g_ncaps;
static int         g_refusals[2]; /* kept after the engine is gone */

static int cap_init(struct lsh_instance *ins, const void *conf)
{
    struct cap *c = lsh_calloc(1, sizeof(*c));

    (void)conf;
    c->ins = ins;
    ins->ctx = c;
    g_caps[g_ncaps++] = c;
    return LSH_OK;
}

static void cap_ack_all(struct lsh_timer *t)
{
    struct cap *c = t->data;
    size_t      i;

    for (i = 0; i < c->npending; i++) {
        lsh_ticket_ack(c->pending[i]);
    }
    c->npending = 0;
    lsh_output_wake(c->ins);
}

static int cap_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                     size_t *pos)
{
    const struct cap_conf *conf = ins->conf;
    struct cap            *c = ins->ctx;

    for (; *pos < b->n; (*pos)++) {
        const struct lsh_record *r = &b->recs[*pos];

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        if (conf->room > 0 && (int64_t)c->npending >= conf->room) {
            c->refusals++;
            if (!c->timer.active) {
                lsh_timer_start(ins->loop, &c->timer, conf->delay, 0,
                                cap_ack_all, c);
            }
            return LSH_EAGAIN;
        }
        lsh_buf_add(&c->seen, r->body.ptr, r->body.len);
        lsh_buf_addc(&c->seen, ',');
        c->nseen++;
        if (conf->delay == 0 && conf->room == 0) {
            continue; /* synchronous: nothing to hold */
        }
        lsh_ticket_hold(b->ticket, 1);
        LSH_GROW(c->pending, c->cap_pending, c->npending + 1);
        c->pending[c->npending++] = b->ticket;
        if (!c->timer.active) {
            lsh_timer_start(ins->loop, &c->timer, conf->delay, 0, cap_ack_all,
                            c);
        }
    }
    return LSH_OK;
}

static size_t cap_pending(struct lsh_instance *ins)
{
    return ((struct cap *)ins->ctx)->npending;
}

static void cap_exit(struct lsh_instance *ins)
{
    struct cap *c = ins->ctx;

    lsh_timer_stop(ins->loop, &c->timer);
    lsh_buf_release(&c->seen);
    free(c->pending);
    free(c);
}

static const struct lsh_plugin cap_plugin = {
    .name = "cap",
    .description = "test output",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = cap_options,
    .conf_size = sizeof(struct cap_conf),
    .init = cap_init,
    .flush = cap_flush,
    .pending = cap_pending,
    .exit = cap_exit,
};

/* The registry for this test binary replaces the generated one. */
const struct lsh_plugin *const lsh_plugins[] = {
    &gen_plugin,
    &dropodd_plugin,
    &cap_plugin,
    NULL,
};

/* --- tests -------------------------------------------------------------- */

static void expected(struct lsh_buf *out, int64_t count, bool odd_dropped)
{
    int64_t i;

    for (i = 0; i < count; i++) {
        if (odd_dropped && i % 2 == 1) {
            continue;
        }
        lsh_buf_addf(out, "line-%lld,", (long long)i);
    }
}

/* Runs yaml to completion and checks both outputs saw want. */
static void run(const char *yaml, int64_t count, bool odd_dropped, int want_rc,
                uint64_t want_committed)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_engine *e;
    struct lsh_buf     want = LSH_BUF_INIT;
    int                i;

    g_ncaps = 0;
    lsh_diag_init(&d);
    cfg = lsh_config_parse("e.yaml", yaml, strlen(yaml), &d);
    lsh_buf_cstr(&d.text);
    if (cfg == NULL) {
        fail_msg("%s", d.text.ptr);
    }
    e = lsh_engine_create(cfg);
    assert_int_equal(lsh_engine_start(e, false), LSH_OK);
    assert_int_equal(lsh_engine_run(e), want_rc);
    expected(&want, count, odd_dropped);
    for (i = 0; i < g_ncaps; i++) {
        lsh_buf_cstr(&g_caps[i]->seen);
        lsh_buf_cstr(&want);
        if (strcmp(g_caps[i]->seen.ptr, want.ptr) != 0) {
            fail_msg("output %d saw\n%s\nwant\n%s", i, g_caps[i]->seen.ptr,
                     want.ptr);
        }
    }
    for (i = 0; i < g_ncaps; i++) {
        g_refusals[i] = g_caps[i]->refusals;
    }
    assert_int_equal(g_gen->tracker.committed, want_committed);
    assert_int_equal(lsh_tracker_idle(&g_gen->tracker),
                     want_committed == (uint64_t)count);
    lsh_buf_release(&want);
    lsh_engine_destroy(e);
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
}

static void test_sync_output(void **state)
{
    (void)state;
    run("pipelines:\n  p:\n    inputs: [{type: gen, count: 1000}]\n"
        "    outputs: [{type: cap}]\n",
        1000, false, LSH_OK, 1000);
}

static void test_filter_drops(void **state)
{
    (void)state;
    run("pipelines:\n  p:\n    inputs: [{type: gen, count: 500}]\n"
        "    filters: [{type: dropodd}]\n"
        "    outputs: [{type: cap, delay: 1}, {type: cap}]\n",
        500, true, LSH_OK, 500);
}

static void test_backpressure(void **state)
{
    (void)state;
    /* room for 5 records: every batch of 7 blocks part-way */
    run("pipelines:\n  p:\n    inputs: [{type: gen, count: 300}]\n"
        "    outputs: [{type: cap, room: 5, delay: 1}, {type: cap}]\n",
        300, false, LSH_OK, 300);
    assert_true(g_refusals[0] > 10);
}

static void test_input_end_waits_for_acks(void **state)
{
    (void)state;
    /*
     * The input ends (as stdin does), acks come after 300 ms, the
     * shutdown timeout is 50 ms: what an input that cannot read again
     * emitted is waited for, not given up after shutdown_timeout.
     */
    run("service: {shutdown_timeout: 50ms}\n"
        "pipelines:\n  p:\n    inputs: [{type: gen, count: 3}]\n"
        "    outputs: [{type: cap, delay: 300}]\n",
        3, false, LSH_OK, 3);
}

static void sigterm_now(struct lsh_timer *t)
{
    lsh_engine_shutdown(t->data, "SIGTERM");
}

static void test_shutdown_timeout(void **state)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_engine *e;
    struct lsh_timer   t;
    const char        *yaml = "service: {shutdown_timeout: 50ms}\n"
                              "pipelines:\n  p:\n    inputs: [{type: gen, count: 3}]\n"
                              "    outputs: [{type: cap, delay: 10000}]\n";

    (void)state;
    /*
     * Acks come after 10 s; a signal sets the limit, shutdown_timeout
     * (50 ms): the stop is forced, and since the input cannot read its
     * records again, they are lost: LSH_ERR (exit status 1).
     */
    g_ncaps = 0;
    lsh_diag_init(&d);
    cfg = lsh_config_parse("e.yaml", yaml, strlen(yaml), &d);
    assert_non_null(cfg);
    e = lsh_engine_create(cfg);
    assert_int_equal(lsh_engine_start(e, false), LSH_OK);
    memset(&t, 0, sizeof(t));
    lsh_timer_start(lsh_engine_loop(e), &t, 20, 0, sigterm_now, e);
    assert_int_equal(lsh_engine_run(e), LSH_ERR);
    assert_int_equal(g_gen->tracker.committed, 0);
    lsh_timer_stop(lsh_engine_loop(e), &t);
    lsh_engine_destroy(e);
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_output),
        cmocka_unit_test(test_filter_drops),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_input_end_waits_for_acks),
        cmocka_unit_test(test_shutdown_timeout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
