/*
 * kafka output: librdkafka's statistics (see librdkafka's STATISTICS.md),
 * emitted every statistics_interval, parsed into the few counters that
 * matter for a shipper: queue depth, throughput, errors and retries,
 * broker round-trip times and batch sizes.  The metrics endpoint exposes
 * them; nothing else reads the JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "jparse.h"
#include "kafka.h"

/*
 * A number of the statistics, as an int64: a float out of that range (or
 * NaN) is clamped, never converted with undefined behaviour.
 */
static int64_t out_kafka_num(const struct lsh_jvalue *v)
{
    struct lsh_value n;

    if (v->type != LSH_J_NUMBER) {
        return 0;
    }
    lsh_jnumber(v->raw, &n);
    if (n.type == LSH_V_INT) {
        return n.i;
    }
    if (n.type != LSH_V_FLOAT || !(n.f == n.f)) {
        return 0;
    }
    if (n.f >= 9223372036854775807.0) {
        return INT64_MAX;
    }
    if (n.f <= -9223372036854775808.0) {
        return INT64_MIN;
    }
    return (int64_t)n.f;
}

/* a + b, saturating: sums of hostile (or just huge) numbers stay defined */
static int64_t out_kafka_add(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return r;
}

static bool out_kafka_key(const struct lsh_jvalue *k, const char *name)
{
    return k->raw.len == strlen(name) + 2 &&
           memcmp(k->raw.ptr + 1, name, k->raw.len - 2) == 0;
}

/* {"avg": ..., "p99": ...}: the member named want. */
struct out_kafka_pick {
    const char *want;
    int64_t     value;
};

static int out_kafka_pick_cb(void *arg, const struct lsh_jvalue *k,
                             const struct lsh_jvalue *v)
{
    struct out_kafka_pick *p = arg;

    if (out_kafka_key(k, p->want)) {
        p->value = out_kafka_num(v);
    }
    return 0;
}

static int64_t out_kafka_pick(const struct lsh_jvalue *obj, const char *want)
{
    struct out_kafka_pick p = {want, 0};
    const char           *err;
    size_t                at;

    if (obj->type == LSH_J_OBJECT) {
        lsh_jparse_object(obj->raw.ptr, obj->raw.len, out_kafka_pick_cb, &p,
                          &err, &at);
    }
    return p.value;
}

static int out_kafka_broker_cb(void *arg, const struct lsh_jvalue *k,
                               const struct lsh_jvalue *v)
{
    struct out_kafka_metrics *m = arg;

    if (out_kafka_key(k, "state")) {
        m->brokers_up = out_kafka_add(m->brokers_up,
                                      v->raw.len == 4 &&
                                          memcmp(v->raw.ptr, "\"UP\"", 4) == 0);
    } else if (out_kafka_key(k, "txerrs")) {
        m->tx_errors = out_kafka_add(m->tx_errors, out_kafka_num(v));
    } else if (out_kafka_key(k, "txretries")) {
        m->tx_retries = out_kafka_add(m->tx_retries, out_kafka_num(v));
    } else if (out_kafka_key(k, "rtt")) {
        m->rtt_avg_us = LSH_MAX(m->rtt_avg_us, out_kafka_pick(v, "avg"));
        m->rtt_p99_us = LSH_MAX(m->rtt_p99_us, out_kafka_pick(v, "p99"));
    }
    return 0;
}

static int out_kafka_topic_cb(void *arg, const struct lsh_jvalue *k,
                              const struct lsh_jvalue *v)
{
    struct out_kafka_metrics *m = arg;

    if (out_kafka_key(k, "batchsize")) {
        m->batch_size_avg =
            LSH_MAX(m->batch_size_avg, out_kafka_pick(v, "avg"));
    } else if (out_kafka_key(k, "batchcnt")) {
        m->batch_cnt_avg = LSH_MAX(m->batch_cnt_avg, out_kafka_pick(v, "avg"));
    }
    return 0;
}

/* "brokers" and "topics": a map of name to object. */
struct out_kafka_each {
    lsh_jmember_cb            fn;
    struct out_kafka_metrics *m;
};

static int out_kafka_each_cb(void *arg, const struct lsh_jvalue *k,
                             const struct lsh_jvalue *v)
{
    struct out_kafka_each *e = arg;
    const char            *err;
    size_t                 at;

    (void)k;
    if (v->type == LSH_J_OBJECT) {
        lsh_jparse_object(v->raw.ptr, v->raw.len, e->fn, e->m, &err, &at);
    }
    return 0;
}

static int out_kafka_top_cb(void *arg, const struct lsh_jvalue *k,
                            const struct lsh_jvalue *v)
{
    struct out_kafka_metrics *m = arg;
    struct out_kafka_each     e = {NULL, m};
    const char               *err;
    size_t                    at;

    if (out_kafka_key(k, "msg_cnt")) {
        m->queue_msgs = out_kafka_num(v);
    } else if (out_kafka_key(k, "msg_size")) {
        m->queue_bytes = out_kafka_num(v);
    } else if (out_kafka_key(k, "txmsgs")) {
        m->tx_msgs = out_kafka_num(v);
    } else if (out_kafka_key(k, "txmsg_bytes")) {
        m->tx_bytes = out_kafka_num(v);
    } else if (out_kafka_key(k, "brokers")) {
        e.fn = out_kafka_broker_cb;
    } else if (out_kafka_key(k, "topics")) {
        e.fn = out_kafka_topic_cb;
    }
    if (e.fn != NULL && v->type == LSH_J_OBJECT) {
        lsh_jparse_object(v->raw.ptr, v->raw.len, out_kafka_each_cb, &e, &err,
                          &at);
    }
    return 0;
}

void out_kafka_stats_parse(struct out_kafka_metrics *m, const char *json,
                           size_t len)
{
    struct out_kafka_metrics next;
    const char              *err;
    size_t                   at;

    memset(&next, 0, sizeof(next));
    next.updates = m->updates + 1;
    if (lsh_jparse_object(json, len, out_kafka_top_cb, &next, &err, &at) ==
        LSH_OK) {
        *m = next;
    }
}
