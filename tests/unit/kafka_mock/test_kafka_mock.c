/*
 * Fault injection with librdkafka's mock cluster: the real engine and the
 * real kafka output against a mock broker that fails produce requests or
 * goes down.  Records must be retried, none lost, and the checkpoint
 * offset (the tracker's committed offset) must never pass an unacked
 * record.  (The end-to-end suite uses a real broker; the mock is only for
 * faults a real broker will not produce on demand.)
 */
#include "unit.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "engine.h"
#include "kafka.h"
#include "mem.h"
#include "ticket.h"

#define PRODUCE_API 0 /* Kafka ApiKey of Produce requests */

extern const struct lsh_plugin out_kafka_plugin;

/* --- "gen": count records "m-N", one ticket per batch of 10 ----------- */

struct gen_conf {
    int64_t count;
    int64_t size;     /* pad each record to this many bytes */
    int64_t every_ms; /* one batch of 10 this often (0: all at once) */
};

static struct lsh_timer g_pace;
static const char      *g_gen_opts = ""; /* more options for run()'s gen */

static struct lsh_tracker g_tracker;

static const struct lsh_option gen_options[] = {
    {.name = "count",
     .type = LSH_OPT_INT,
     .def = "100",
     .offset = offsetof(struct gen_conf, count),
     .help = "records"},
    {.name = "size",
     .type = LSH_OPT_INT,
     .def = "0",
     .offset = offsetof(struct gen_conf, size),
     .max = 10000000,
     .help = "bytes per record"},
    {.name = "every_ms",
     .type = LSH_OPT_INT,
     .def = "0",
     .offset = offsetof(struct gen_conf, every_ms),
     .max = 10000,
     .help = "pace"},
    {.name = NULL},
};

static void gen_tick(struct lsh_timer *t)
{
    lsh_input_ready(t->data);
}

static int gen_init(struct lsh_instance *ins, const void *conf)
{
    const struct gen_conf *c = conf;

    lsh_tracker_init(&g_tracker, 0, NULL, NULL);
    memset(&g_pace, 0, sizeof(g_pace));
    if (c->every_ms > 0) {
        lsh_timer_start(ins->loop, &g_pace, c->every_ms, c->every_ms, gen_tick,
                        ins);
    }
    lsh_input_ready(ins);
    return LSH_OK;
}

static int gen_collect(struct lsh_instance *ins)
{
    const struct gen_conf *c = ins->conf;
    static int64_t         next;

    if (g_tracker.issued == 0) {
        next = 0;
    }
    while (next < c->count) {
        struct lsh_batch *b = lsh_input_batch(ins);
        int               i;

        for (i = 0; i < 10 && next < c->count; i++) {
            size_t len = (size_t)LSH_MAX(c->size, 32);
            char  *text = lsh_arena_alloc(&b->arena, len);
            int    n = snprintf(text, 32, "m-%04lld", (long long)next++);

            if (c->size > n) {
                memset(text + n, 'x', (size_t)c->size - (size_t)n);
                n = (int)c->size;
            }
            lsh_batch_push(b, lsh_str_make(text, (size_t)n), 0);
        }
        b->ticket = lsh_tracker_issue(&g_tracker, (uint64_t)next);
        if (lsh_input_emit(ins, b) == LSH_EAGAIN) {
            return LSH_EAGAIN;
        }
        if (c->every_ms > 0 && next < c->count) {
            return LSH_OK; /* the next batch at the next tick */
        }
    }
    lsh_timer_stop(ins->loop, &g_pace);
    lsh_input_done(ins);
    return LSH_OK;
}

static void gen_exit(struct lsh_instance *ins)
{
    lsh_timer_stop(ins->loop, &g_pace);
    lsh_tracker_release(&g_tracker);
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

const struct lsh_plugin *const lsh_plugins[] = {&gen_plugin, &out_kafka_plugin,
                                                NULL};

/*
 * rd_kafka_new() as logship calls it: after g_fail_after producers were
 * created, the next g_fail_new fail (a producer that cannot be created:
 * out of threads, memory or descriptors), then librdkafka's own.
 */
static int g_fail_after;
static int g_fail_new;

rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         char *errstr, size_t errstr_size)
{
    typedef rd_kafka_t *(*new_fn)(rd_kafka_type_t, rd_kafka_conf_t *, char *,
                                  size_t);
    static new_fn real;

    if (real == NULL) {
        *(void **)&real = dlsym(RTLD_NEXT, "rd_kafka_new");
    }
    if (type == RD_KAFKA_PRODUCER && g_fail_after > 0) {
        g_fail_after--;
    } else if (type == RD_KAFKA_PRODUCER && g_fail_new > 0) {
        g_fail_new--;
        snprintf(errstr, errstr_size, "injected failure");
        return NULL; /* conf stays the caller's, as librdkafka does */
    }
    return real(type, conf, errstr, errstr_size);
}

/* --- the mock cluster ---------------------------------------------------- */

struct fx {
    rd_kafka_t              *host; /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    char                     topic[64];
    char                     dlq[128];
    uint64_t                 committed_during_outage;
};

static int setup(void **state)
{
    struct fx       *fx = calloc(1, sizeof(*fx));
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    char             err[256];
    static int       n;

    g_fail_after = 0; /* (a test that failed may have left them set) */
    g_fail_new = 0;
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    fx->host = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    assert_non_null(fx->host);
    fx->mc = rd_kafka_mock_cluster_new(fx->host, 1);
    assert_non_null(fx->mc);
    snprintf(fx->topic, sizeof(fx->topic), "t%d", n++);
    rd_kafka_mock_topic_create(fx->mc, fx->topic, 1, 1);
    snprintf(fx->dlq, sizeof(fx->dlq), "/tmp/lsh-mock-dlq-%d-%d.jsonl",
             (int)getpid(), n);
    unlink(fx->dlq);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    rd_kafka_mock_cluster_destroy(fx->mc);
    rd_kafka_destroy(fx->host);
    unlink(fx->dlq);
    free(fx);
    return 0;
}

/* Reads the topic back; returns how many distinct records, counts dups. */
static int consume_all(struct fx *fx, int want, int *dups)
{
    rd_kafka_conf_t                 *kc = rd_kafka_conf_new();
    rd_kafka_t                      *rk;
    rd_kafka_topic_partition_list_t *parts;
    char                             err[256];
    char                            *seen = calloc(1, (size_t)want + 1);
    int                              distinct = 0;
    int                              idle = 0;

    *dups = 0;
    rd_kafka_conf_set(kc, "bootstrap.servers",
                      rd_kafka_mock_cluster_bootstraps(fx->mc), err,
                      sizeof(err));
    rd_kafka_conf_set(kc, "group.id", "check", err, sizeof(err));
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
    assert_non_null(rk);
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, fx->topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    while (distinct < want && idle < 50) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        int                 i;

        if (m == NULL) {
            idle++;
            continue;
        }
        if (m->err == 0 && sscanf(m->payload, "m-%d", &i) == 1 && i >= 0 &&
            i < want) {
            if (seen[i]) {
                (*dups)++;
            } else {
                seen[i] = 1;
                distinct++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(seen);
    return distinct;
}

/* Counts the messages of the topic, and those with a NULL value. */
static int consume_nulls(struct fx *fx, int want, int *nulls)
{
    rd_kafka_conf_t                 *kc = rd_kafka_conf_new();
    rd_kafka_t                      *rk;
    rd_kafka_topic_partition_list_t *parts;
    char                             err[256];
    int                              n = 0;
    int                              idle = 0;

    *nulls = 0;
    rd_kafka_conf_set(kc, "bootstrap.servers",
                      rd_kafka_mock_cluster_bootstraps(fx->mc), err,
                      sizeof(err));
    rd_kafka_conf_set(kc, "group.id", "nulls", err, sizeof(err));
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
    assert_non_null(rk);
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, fx->topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    while (n < want && idle < 50) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

        if (m == NULL) {
            idle++;
            continue;
        }
        if (m->err == 0) {
            n++;
            *nulls += m->payload == NULL;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

static void stop_engine(struct lsh_timer *t)
{
    lsh_engine_shutdown(t->data, "the test");
    lsh_engine_shutdown(t->data, "the test"); /* at once */
}

/*
 * Runs a pipeline of count records (of size bytes) with the given extra
 * output options for at most ms, then stops it; returns the committed
 * offset (records acknowledged, in order).
 */
static uint64_t run_for(struct fx *fx, int count, int size, const char *extra,
                        int64_t ms)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_engine *e;
    struct lsh_buf     yaml = LSH_BUF_INIT;
    struct lsh_timer   t;
    uint64_t           committed;

    lsh_buf_addf(&yaml,
                 "service: {shutdown_timeout: 1s}\n"
                 "pipelines:\n  p:\n    inputs: [{type: gen, count: %d, "
                 "size: %d}]\n"
                 "    outputs:\n      - type: kafka\n"
                 "        brokers: \"%s\"\n        topic: %s\n"
                 "        format: raw\n        redeliver_backoff: 100ms\n%s",
                 count, size, rd_kafka_mock_cluster_bootstraps(fx->mc),
                 fx->topic, extra);
    lsh_diag_init(&d);
    cfg = lsh_config_parse("mock.yaml", yaml.ptr, yaml.len, &d);
    lsh_buf_cstr(&d.text);
    if (cfg == NULL) {
        fail_msg("%s", d.text.ptr);
    }
    e = lsh_engine_create(cfg);
    assert_int_equal(lsh_engine_start(e, false), LSH_OK);
    memset(&t, 0, sizeof(t));
    lsh_timer_start(lsh_engine_loop(e), &t, ms, 0, stop_engine, e);
    lsh_engine_run(e);
    committed = g_tracker.committed;
    lsh_timer_stop(lsh_engine_loop(e), &t);
    lsh_engine_destroy(e);
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
    lsh_buf_release(&yaml);
    return committed;
}

/* Reads the topic back in partition order: true if the first copy of
   each record comes in order and every record is there. */
static bool consume_in_order(struct fx *fx, int want, int *dups)
{
    rd_kafka_conf_t                 *kc = rd_kafka_conf_new();
    rd_kafka_t                      *rk;
    rd_kafka_topic_partition_list_t *parts;
    char                             err[256];
    char                            *seen = calloc(1, (size_t)want + 1);
    int                              next = 0;
    bool                             ordered = true;
    int                              idle = 0;

    *dups = 0;
    rd_kafka_conf_set(kc, "bootstrap.servers",
                      rd_kafka_mock_cluster_bootstraps(fx->mc), err,
                      sizeof(err));
    rd_kafka_conf_set(kc, "group.id", "order", err, sizeof(err));
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
    assert_non_null(rk);
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, fx->topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    while (next < want && idle < 50) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        int                 i;

        if (m == NULL) {
            idle++;
            continue;
        }
        if (m->err == 0 && sscanf(m->payload, "m-%d", &i) == 1 && i >= 0 &&
            i < want) {
            if (seen[i]) {
                (*dups)++;
            } else {
                if (i != next) {
                    if (ordered) {
                        print_message("out of order: m-%d where m-%d was due\n",
                                      i, next);
                    }
                    ordered = false;
                }
                seen[i] = 1;
                next = LSH_MAX(next, i + 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    for (next = 0; next < want; next++) {
        ordered = ordered && seen[next];
    }
    free(seen);
    return ordered;
}

/* Runs a pipeline of count records with the given extra output options. */
static int run(struct fx *fx, int count, const char *extra,
               void (*during)(struct lsh_timer *), int64_t at_ms)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_engine *e;
    struct lsh_buf     yaml = LSH_BUF_INIT;
    struct lsh_timer   t;
    int                rc;

    lsh_buf_addf(
        &yaml,
        "service: {shutdown_timeout: 60s}\n"
        "pipelines:\n  p:\n    inputs: [{type: gen, count: %d%s}]\n"
        "    outputs:\n      - type: kafka\n"
        "        brokers: \"%s\"\n        topic: %s\n"
        "%s        redeliver_backoff: 100ms\n"
        "%s",
        count, g_gen_opts, rd_kafka_mock_cluster_bootstraps(fx->mc), fx->topic,
        strstr(extra, "format:") ? "" : "        format: raw\n", extra);
    lsh_diag_init(&d);
    cfg = lsh_config_parse("mock.yaml", yaml.ptr, yaml.len, &d);
    lsh_buf_cstr(&d.text);
    if (cfg == NULL) {
        fail_msg("%s", d.text.ptr);
    }
    e = lsh_engine_create(cfg);
    assert_int_equal(lsh_engine_start(e, false), LSH_OK);
    memset(&t, 0, sizeof(t));
    if (during != NULL) {
        lsh_timer_start(lsh_engine_loop(e), &t, at_ms, 0, during, fx);
    }
    rc = lsh_engine_run(e);
    assert_int_equal(g_tracker.committed, (uint64_t)count);
    lsh_timer_stop(lsh_engine_loop(e), &t);
    lsh_engine_destroy(e);
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
    lsh_buf_release(&yaml);
    return rc;
}

static void test_produce_errors(void **state)
{
    struct fx *fx = *state;
    int        dups;

    (void)state;
    /* failed produce requests: librdkafka retries them itself */
    rd_kafka_mock_push_request_errors(
        fx->mc, PRODUCE_API, 6, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    assert_int_equal(run(fx, 500, "", NULL, 0), LSH_OK);
    assert_int_equal(consume_all(fx, 500, &dups), 500);
    assert_int_equal(dups, 0); /* the idempotent producer */
}

static void broker_up(struct lsh_timer *t)
{
    struct fx *fx = t->data;

    /* nothing was acknowledged while the broker was down */
    fx->committed_during_outage = g_tracker.committed;
    rd_kafka_mock_broker_set_up(fx->mc, 1);
}

static void test_broker_down(void **state)
{
    struct fx *fx = *state;
    int        dups;

    /*
     * The broker is down for 2.5 s, longer than message.timeout.ms: the
     * deliveries fail and logship produces the records again.
     */
    rd_kafka_mock_broker_set_down(fx->mc, 1);
    assert_int_equal(run(fx, 300,
                         "        rdkafka: {message.timeout.ms: 1000}\n",
                         broker_up, 2500),
                     LSH_OK);
    assert_int_equal(fx->committed_during_outage, 0);
    assert_int_equal(consume_all(fx, 300, &dups), 300);
}

static void test_dead_letter(void **state)
{
    struct fx     *fx = *state;
    struct lsh_buf extra = LSH_BUF_INIT;
    FILE          *f;
    char           line[512];
    int            n = 0;
    int            i;

    /* every produce request fails, without end: after 2 failed deliveries
     * a record goes to the dead-letter file and counts as delivered */
    for (i = 0; i < 200; i++) {
        rd_kafka_mock_push_request_errors(
            fx->mc, PRODUCE_API, 1,
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    }
    lsh_buf_addf(&extra,
                 "        dead_letter: {path: \"%s\", after_attempts: 2}\n",
                 fx->dlq);
    assert_int_equal(run(fx, 20, lsh_buf_cstr(&extra), NULL, 0), LSH_OK);
    f = fopen(fx->dlq, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        assert_non_null(strstr(line, "\"attempts\":2"));
        assert_non_null(strstr(line, "TOPIC_AUTHORIZATION_FAILED"));
        n++;
    }
    fclose(f);
    assert_int_equal(n, 20);
    lsh_buf_release(&extra);
}

static void test_fatal_error(void **state)
{
    struct fx *fx = *state;
    int        dups;

    /*
     * An out-of-order sequence number is fatal to an idempotent producer:
     * logship replaces the producer and produces the records again.
     */
    rd_kafka_mock_push_request_errors(
        fx->mc, PRODUCE_API, 1, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(run(fx, 200, "", NULL, 0), LSH_OK);
    assert_int_equal(consume_all(fx, 200, &dups), 200);
}

static void test_fatal_error_then_no_producer(void **state)
{
    struct fx *fx = *state;
    int        dups;

    /*
     * After the fatal error, creating the new producer fails twice: it is
     * tried again with backoff, and every record that was in the old one
     * is produced by the one that finally starts.  Many records are in
     * the old producer when it fails (linger), so none may lose its hold.
     */
    rd_kafka_mock_push_request_errors(
        fx->mc, PRODUCE_API, 1, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* the first producer starts; its two replacements fail (counted, not
       timed: a timer raced the fatal error on a loaded machine) */
    g_fail_after = 1;
    g_fail_new = 2;
    assert_int_equal(run(fx, 2000, "        linger_ms: 200\n", NULL, 0),
                     LSH_OK);
    assert_int_equal(g_fail_new, 0);
    assert_int_equal(consume_all(fx, 2000, &dups), 2000);
}

static void test_empty_render_is_never_null(void **state)
{
    struct fx *fx = *state;
    int        nulls;

    /*
     * format: template rendering nothing, from the very first record: an
     * empty message every time, never a NULL one (a tombstone).
     */
    assert_int_equal(run(fx, 50,
                         "        format: template\n"
                         "        template: \"{{nothing}}\"\n",
                         NULL, 0),
                     LSH_OK);
    assert_int_equal(consume_nulls(fx, 50, &nulls), 50);
    assert_int_equal(nulls, 0);
}

static void test_redelivery_keeps_order(void **state)
{
    struct fx *fx = *state;
    int        dups;

    /*
     * The broker down 1.8 s with message.timeout.ms 500: records fail
     * while others are in flight, and are produced again with backoff.
     * The partition must still hold m-0 ... m-1499 in file order (this
     * gave m-0..m-149 | m-1340..m-1499 | m-190..m-1339 | m-150..m-189).
     */
    rd_kafka_mock_broker_set_down(fx->mc, 1);
    g_gen_opts = ", every_ms: 10"; /* 1,000 records a second, for 1.5 s */
    assert_int_equal(run(fx, 1500,
                         "        message_timeout_ms: 500\n"
                         "        linger_ms: 20\n",
                         broker_up, 1800),
                     LSH_OK);
    g_gen_opts = "";
    assert_true(consume_in_order(fx, 1500, &dups));
}

static void test_record_larger_than_queue(void **state)
{
    struct fx *fx = *state;
    int        dups;

    /*
     * max_inflight_bytes 64 KiB and 200 kB records: librdkafka's queue
     * used to be sized from the former (128 KiB), so the first record got
     * QUEUE_FULL with nothing in flight, and the pipeline stalled for
     * ever.  The queue now holds any record up to message.max.bytes.
     */
    assert_int_equal(
        run_for(fx, 5, 200000, "        max_inflight_bytes: 64KiB\n", 20000),
        5);
    assert_int_equal(consume_all(fx, 5, &dups), 5);
}

static void test_unwritable_dead_letter_commits_nothing(void **state)
{
    struct fx *fx = *state;

    /*
     * Records librdkafka refuses (larger than message.max.bytes) with a
     * dead letter that cannot be written (/dev/full): they used to be
     * skipped and committed (20 of 20, none anywhere).  They are kept and
     * tried again: nothing is committed.
     */
    assert_int_equal(
        run_for(fx, 20, 3000,
                "        dead_letter: {path: /dev/full, after_attempts: 1}\n"
                "        rdkafka: {message.max.bytes: 2000}\n",
                1500),
        0);
}

static void test_topic_cache_bounded(void **state)
{
    struct fx            *fx = *state;
    struct out_kafka      ctx;
    struct out_kafka_conf conf;
    struct lsh_instance   ins;
    rd_kafka_conf_t      *kc = rd_kafka_conf_new();
    char                  err[256];
    char                  name[32];
    int                   i;

    /*
     * A topic template fed by log content: every record a new topic.  The
     * cache keeps the 3 most recently used handles, and counts misses.
     */
    memset(&ctx, 0, sizeof(ctx));
    memset(&conf, 0, sizeof(conf));
    memset(&ins, 0, sizeof(ins));
    conf.topic_cache = 3;
    ctx.conf = &conf;
    ctx.ins = &ins;
    lsh_hmap_init(&ctx.topics);
    rd_kafka_conf_set(kc, "bootstrap.servers",
                      rd_kafka_mock_cluster_bootstraps(fx->mc), err,
                      sizeof(err));
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    ctx.rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    assert_non_null(ctx.rk);
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "topic-%d", i);
        assert_non_null(out_kafka_rkt(&ctx, name));
        assert_true(ctx.topics.count <= 3);
    }
    assert_int_equal(ctx.s.topic_misses, 1000);
    /* the most recent three are hits; an evicted one is a miss again */
    assert_non_null(out_kafka_rkt(&ctx, "topic-998"));
    assert_non_null(out_kafka_rkt(&ctx, "topic-997"));
    assert_non_null(out_kafka_rkt(&ctx, "topic-999"));
    assert_int_equal(ctx.s.topic_misses, 1000);
    assert_non_null(out_kafka_rkt(&ctx, "topic-5"));
    assert_int_equal(ctx.s.topic_misses, 1001);
    assert_int_equal(ctx.topics.count, 3);
    out_kafka_destroy_producer(&ctx);
    assert_null(ctx.lru_head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_produce_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broker_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_error_then_no_producer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_cache_bounded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_empty_render_is_never_null, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redelivery_keeps_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_record_larger_than_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_unwritable_dead_letter_commits_nothing, setup, teardown),
    };

    lsh_log_level = getenv("LSH_DEBUG") ? LSH_LOG_DEBUG : LSH_LOG_WARN;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
