/*
 * The reader: lines across reads, ticket end offsets (the "safe" offset)
 * with and without multiline, over-long lines, the end of a source, and
 * generations after a restart.  Driven through a real engine with a test
 * input (the test calls the reader itself) and a capturing output.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "mem.h"
#include "reader.h"

static struct lsh_instance *g_in;

static int nop_init(struct lsh_instance *ins, const void *conf)
{
    (void)conf;
    g_in = ins;
    return LSH_OK;
}

static int nop_collect(struct lsh_instance *ins)
{
    (void)ins;
    return LSH_OK;
}

static const struct lsh_option no_options[] = {{.name = NULL}};

static const struct lsh_plugin nop_plugin = {
    .name = "nop",
    .description = "test input",
    .kind = LSH_PLUGIN_INPUT,
    .options = no_options,
    .conf_size = 1,
    .init = nop_init,
    .collect = nop_collect,
};

/* Captures "body|...;" and the ticket ends; holds acks until told. */
static struct lsh_buf     g_seen;
static uint64_t           g_ends[64];
static int                g_nends;
static struct lsh_ticket *g_held[256];
static int                g_nheld;

static int cap_init(struct lsh_instance *ins, const void *conf)
{
    (void)ins;
    (void)conf;
    return LSH_OK;
}

static int cap_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                     size_t *pos)
{
    (void)ins;
    for (; *pos < b->n; (*pos)++) {
        const struct lsh_record *r = &b->recs[*pos];

        lsh_buf_add(&g_seen, r->body.ptr, r->body.len);
        lsh_buf_adds(&g_seen, (r->flags & LSH_REC_TRUNCATED) ? "|T;" : ";");
        lsh_ticket_hold(b->ticket, 1);
        g_held[g_nheld++] = b->ticket;
    }
    g_ends[g_nends++] = b->ticket->end;
    return LSH_OK;
}

static const struct lsh_plugin cap_plugin = {
    .name = "cap",
    .description = "test output",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = no_options,
    .conf_size = 1,
    .init = cap_init,
    .flush = cap_flush,
};

const struct lsh_plugin *const lsh_plugins[] = {&nop_plugin, &cap_plugin, NULL};

static void ack_all(void)
{
    int i;

    for (i = 0; i < g_nheld; i++) {
        lsh_ticket_ack(g_held[i]);
    }
    g_nheld = 0;
}

struct fx {
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_engine *e;
    int                p[2];
    struct lsh_reader  r;
};

static const char *const yaml = "pipelines:\n  p:\n    inputs: [{type: nop}]\n"
                                "    outputs: [{type: cap}]\n";

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    lsh_diag_init(&fx->d);
    fx->cfg = lsh_config_parse("r.yaml", yaml, strlen(yaml), &fx->d);
    assert_non_null(fx->cfg);
    fx->e = lsh_engine_create(fx->cfg);
    assert_int_equal(lsh_engine_start(fx->e, false), LSH_OK);
    assert_int_equal(pipe2(fx->p, O_NONBLOCK), 0);
    lsh_buf_reset(&g_seen);
    g_nends = 0;
    g_nheld = 0;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    ack_all();
    lsh_reader_release(&fx->r);
    close(fx->p[0]);
    close(fx->p[1]);
    lsh_engine_destroy(fx->e);
    lsh_config_destroy(fx->cfg);
    lsh_diag_release(&fx->d);
    lsh_buf_release(&g_seen);
    free(fx);
    return 0;
}

static void put(struct fx *fx, const char *s)
{
    assert_int_equal(write(fx->p[1], s, strlen(s)), (ssize_t)strlen(s));
}

static ssize_t get(struct fx *fx)
{
    int rc;

    return lsh_reader_read(&fx->r, g_in, fx->p[0], 4096, LSH_STR_LIT("src"),
                           &rc);
}

static void seen_is(const char *want)
{
    lsh_buf_cstr(&g_seen);
    assert_string_equal(g_seen.ptr, want);
}

static void init_reader(struct fx *fx, uint64_t offset, size_t max_line,
                        const struct lsh_ml_conf *ml)
{
    struct lsh_reader_opts o = {
        .max_line = max_line, .on_long = LSH_LONG_TRUNCATE, .ml = ml};

    lsh_reader_init(&fx->r, offset, &o);
}

static void test_lines_across_reads(void **state)
{
    struct fx *fx = *state;

    init_reader(fx, 100, 1024, NULL);
    put(fx, "a\nb");
    assert_int_equal(get(fx), 3);
    seen_is("a;");
    assert_int_equal(g_ends[0], 102); /* "b" is not covered yet */
    assert_int_equal(lsh_reader_read_offset(&fx->r), 103);
    put(fx, "c\n\n");
    get(fx);
    seen_is("a;bc;;");
    assert_int_equal(g_ends[1], 106);
    /* nothing complete: no batch, no ticket */
    put(fx, "partial");
    get(fx);
    assert_int_equal(g_nends, 2);
    assert_int_equal(lsh_reader_committed(&fx->r), 100);
    ack_all();
    assert_int_equal(lsh_reader_committed(&fx->r), 106);
    assert_true(lsh_reader_idle(&fx->r));
    /* the end of the source: the partial line is a line */
    assert_int_equal(lsh_reader_finish(&fx->r, g_in, LSH_STR_LIT("src")),
                     LSH_OK);
    seen_is("a;bc;;partial;");
    assert_int_equal(g_ends[2], 113);
}

static void test_long_lines(void **state)
{
    struct fx *fx = *state;

    init_reader(fx, 0, 4, NULL);
    put(fx, "abcdefgh\nxy\nlonger-still-open");
    get(fx);
    seen_is("abcd|T;xy;long|T;");
    /* the open long line's bytes are consumed as they are dropped */
    assert_int_equal(g_ends[0], 29);
    put(fx, "-more\nok\n");
    get(fx);
    seen_is("abcd|T;xy;long|T;ok;");
    assert_int_equal(g_ends[1], 38);
}

static void test_multiline_safe_offset(void **state)
{
    struct fx         *fx = *state;
    struct lsh_ml_conf c = {
        .max_lines = 100, .max_bytes = 1 << 20, .flush_after_ms = 1000};
    char   err[64];
    size_t at;

    c.start = lsh_regex_compile("^S", err, sizeof(err), &at);
    init_reader(fx, 0, 1024, &c);
    put(fx, "S1\nx\nS2\ny\n");
    get(fx);
    seen_is("S1\nx;");
    /* S2 and y are read but pending: the ticket stops where S2 starts */
    assert_int_equal(g_ends[0], 5);
    assert_true(lsh_reader_pending(&fx->r));
    put(fx, "z\n");
    get(fx);
    assert_int_equal(g_nends, 1); /* nothing new to emit, offset unchanged */
    assert_int_equal(lsh_reader_flush(&fx->r, g_in, LSH_STR_LIT("src")),
                     LSH_OK);
    seen_is("S1\nx;S2\ny\nz;");
    assert_int_equal(g_ends[1], 12);
    ack_all();
    assert_int_equal(lsh_reader_committed(&fx->r), 12);
    lsh_reader_release(&fx->r);
    memset(&fx->r, 0, sizeof(fx->r));
    init_reader(fx, 0, 1024, NULL);
    lsh_regex_destroy(c.start);
}

/* A container's partial line holds the ticket at its first part. */
static void test_container_safe_offset(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ctr_conf    cc = {LSH_CTR_CRI, 3, 1024, LSH_LONG_TRUNCATE};
    struct lsh_reader_opts o = {
        .max_line = 1024, .on_long = LSH_LONG_TRUNCATE, .ctr = &cc};
    static const char *const l1 = "2026-11-23T10:15:00Z stdout F one\n";
    static const char *const l2 = "2026-11-23T10:15:00Z stdout P tw\n";
    static const char *const l3 = "2026-11-23T10:15:00Z stderr F err\n";
    static const char *const l4 = "2026-11-23T10:15:00Z stdout F o\n";
    size_t                   n1 = strlen(l1), n2 = strlen(l2);
    size_t                   n3 = strlen(l3), n4 = strlen(l4);

    lsh_reader_init(&fx->r, 0, &o);
    put(fx, l1);
    put(fx, l2);
    put(fx, l3);
    get(fx);
    seen_is("one;err;");
    /* the stderr line is out, but "tw" waits: the ticket stops before it */
    assert_int_equal(g_ends[0], n1);
    assert_true(lsh_reader_pending(&fx->r));
    put(fx, l4);
    get(fx);
    seen_is("one;err;two;");
    assert_int_equal(g_ends[1], n1 + n2 + n3 + n4);
    assert_false(lsh_reader_pending(&fx->r));
    ack_all();
    assert_int_equal(lsh_reader_committed(&fx->r), n1 + n2 + n3 + n4);
    /* a part whose end will never come (the file is cut): out as it is */
    put(fx, l2);
    get(fx);
    assert_true(lsh_reader_pending(&fx->r));
    assert_int_equal(lsh_reader_flush_all(&fx->r, g_in, LSH_STR_LIT("src")),
                     LSH_OK);
    seen_is("one;err;two;tw;");
    assert_false(lsh_reader_pending(&fx->r));
}

/*
 * A joined container line that starts a multiline record which then
 * waits: the record, and so the checkpoint, starts at the line's first
 * part, not at its last.
 */
static void test_container_multiline_start(void **state)
{
    struct fx          *fx = *state;
    struct lsh_ctr_conf cc = {LSH_CTR_DOCKER, 3, 1024, LSH_LONG_TRUNCATE};
    struct lsh_ml_conf  mc = {
         .max_lines = 100, .max_bytes = 1 << 20, .flush_after_ms = 60000};
    struct lsh_reader_opts o = {
        .max_line = 1024, .on_long = LSH_LONG_TRUNCATE, .ctr = &cc, .ml = &mc};
    static const char *const l1 = "{\"log\":\"hello\\n\",\"stream\":\"stdout\","
                                  "\"time\":\"2026-01-01T00:00:00Z\"}\n";
    static const char *const l2 = "{\"log\":\"START-\",\"stream\":\"stdout\","
                                  "\"time\":\"2026-01-01T00:00:00Z\"}\n";
    static const char *const l3 = "{\"log\":\"bbb\\n\",\"stream\":\"stdout\","
                                  "\"time\":\"2026-01-01T00:00:00Z\"}\n";
    char                     err[64];
    size_t                   at;
    uint64_t                 start = 0;

    mc.start = lsh_regex_compile("^(START|hello)", err, sizeof(err), &at);
    lsh_reader_init(&fx->r, 0, &o);
    put(fx, l1);
    put(fx, l2);
    put(fx, l3);
    get(fx);
    seen_is("hello;");
    assert_true(lsh_reader_pending_start(&fx->r, &start));
    assert_int_equal(start, strlen(l1)); /* where "START-" is */
    assert_int_equal(g_ends[0], strlen(l1));
    ack_all();
    lsh_reader_release(&fx->r);
    memset(&fx->r, 0, sizeof(fx->r));
    init_reader(fx, 0, 1024, NULL);
    lsh_regex_destroy(mc.start);
}

/* format auto on plain text: the long-line rule still holds */
static void test_container_auto_raw_long(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ctr_conf    cc = {LSH_CTR_AUTO, 3, 8, LSH_LONG_SKIP};
    struct lsh_reader_opts o = {
        .max_line = 8, .on_long = LSH_LONG_SKIP, .ctr = &cc};

    lsh_reader_init(&fx->r, 0, &o);
    put(fx, "short\nmuch longer than eight\nok\n");
    get(fx);
    seen_is("short;ok;");
    assert_int_equal(fx->r.ctr->s.skipped, 1);
}

static void test_restart_generations(void **state)
{
    struct fx *fx = *state;

    init_reader(fx, 0, 1024, NULL);
    put(fx, "one\ntwo\n");
    get(fx);
    assert_false(lsh_reader_idle(&fx->r));
    assert_true(lsh_reader_restart(&fx->r, 0, NULL)); /* acks still out */
    assert_int_equal(lsh_reader_committed(&fx->r), 0);
    put(fx, "new\n");
    get(fx);
    assert_int_equal(g_ends[1], 4);
    assert_false(lsh_reader_idle(&fx->r));
    ack_all(); /* the old generation is freed, the new one commits */
    assert_true(lsh_reader_idle(&fx->r));
    assert_int_equal(lsh_reader_committed(&fx->r), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_across_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiline_safe_offset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_container_safe_offset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_container_multiline_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_container_auto_raw_long, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_generations, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
