/*
 * lsh_bench: the broker side of the benchmarks (bench/run.py).
 *
 *   lsh_bench topic   BROKERS TOPIC PARTITIONS [name=value...]
 *       creates a topic (topic configs as name=value)
 *   lsh_bench wait    BROKERS TOPIC N TIMEOUT_MS
 *       polls the topic's end offsets every 2 ms until they add up to N:
 *       N records acknowledged.  Prints the CLOCK_MONOTONIC time (seconds)
 *       when it saw them, or exits 1 at the timeout.
 *   lsh_bench latency BROKERS TOPIC N TIMEOUT_MS
 *       reads N records from the start and, for each, takes the write time
 *       the line carries ("wt=<ns since the epoch>") from the broker's
 *       append time (the topic needs message.timestamp.type=LogAppendTime).
 *       Prints JSON: count, p50, p90, p99, max in milliseconds.
 *   lsh_bench visible BROKERS TOPIC N TIMEOUT_MS
 *       reads N records as they become visible to a read_committed
 *       consumer (delivery: exactly_once commits them in transactions)
 *       and, for each, takes the write time the line carries from the
 *       time it was read ("write to visible").  Prints the CLOCK_MONOTONIC
 *       time of the Nth, then JSON: count, p50, p90, p99, max (ms).
 *   lsh_bench consumed BROKERS TOPIC N TIMEOUT_MS
 *       the same with a read_uncommitted consumer: the baseline for
 *       "visible", a run that pays for the same consumer (on a 2-CPU
 *       machine, reading 1,000,000 records costs the others CPU).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_committed; /* the consumer of client() reads so */

static rd_kafka_t *client(const char *brokers, rd_kafka_type_t type)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char             err[512];
    rd_kafka_t      *rk;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        (type == RD_KAFKA_CONSUMER &&
         (rd_kafka_conf_set(conf, "group.id", "lsh-bench", err, sizeof(err)) !=
              RD_KAFKA_CONF_OK ||
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                            sizeof(err)) != RD_KAFKA_CONF_OK ||
          rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err,
                            sizeof(err)) != RD_KAFKA_CONF_OK))) {
        fprintf(stderr, "lsh_bench: %s\n", err);
        exit(2);
    }
    if (read_committed &&
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", err,
                          sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "lsh_bench: %s\n", err);
        exit(2);
    }
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "lsh_bench: %s\n", err);
        exit(2);
    }
    return rk;
}

static int partitions(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t               *t = rd_kafka_topic_new(rk, topic, NULL);
    int                             n = -1;

    if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == 0) {
            n = md->topics[0].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

static int cmd_topic(int argc, char **argv)
{
    rd_kafka_t                     *rk = client(argv[0], RD_KAFKA_PRODUCER);
    rd_kafka_NewTopic_t            *nt;
    rd_kafka_queue_t               *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t               *ev;
    const rd_kafka_topic_result_t **res;
    size_t                          nres;
    char                            err[512];
    int                             i;
    int                             rc = 0;

    nt = rd_kafka_NewTopic_new(argv[1], atoi(argv[2]), 1, err, sizeof(err));
    if (nt == NULL) {
        fprintf(stderr, "lsh_bench: %s\n", err);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (eq == NULL) {
            fprintf(stderr, "lsh_bench: '%s' is not name=value\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        rd_kafka_NewTopic_set_config(nt, argv[i], eq + 1);
    }
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    if (ev == NULL || rd_kafka_event_error(ev)) {
        fprintf(stderr, "lsh_bench: create topic: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timed out");
        rc = 1;
    } else {
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &nres);
        if (nres != 1 || rd_kafka_topic_result_error(res[0])) {
            fprintf(stderr, "lsh_bench: create topic: %s\n",
                    nres ? rd_kafka_topic_result_error_string(res[0]) : "?");
            rc = 1;
        }
    }
    /* wait until the topic's partitions have leaders */
    for (i = 0; rc == 0 && i < 300 && partitions(rk, argv[1]) != atoi(argv[2]);
         i++) {
        struct timespec ts = {0, 10 * 1000000};

        nanosleep(&ts, NULL);
    }
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

static int cmd_wait(char **argv)
{
    rd_kafka_t *rk = client(argv[0], RD_KAFKA_PRODUCER);
    int64_t     want = strtoll(argv[2], NULL, 10);
    double      limit = mono_now() + atof(argv[3]) / 1000.0;
    int         n = partitions(rk, argv[1]);
    int64_t     total = 0;

    if (n <= 0) {
        fprintf(stderr, "lsh_bench: no topic '%s'\n", argv[1]);
        return 2;
    }
    while (mono_now() < limit) {
        int p;

        total = 0;
        for (p = 0; p < n; p++) {
            int64_t lo;
            int64_t hi;

            if (rd_kafka_query_watermark_offsets(rk, argv[1], p, &lo, &hi,
                                                 1000) != 0) {
                hi = 0;
            }
            total += hi;
        }
        if (total >= want) {
            printf("%.6f %" PRId64 "\n", mono_now(), total);
            rd_kafka_destroy(rk);
            return 0;
        }
        {
            struct timespec ts = {0, 2 * 1000000};

            nanosleep(&ts, NULL);
        }
    }
    fprintf(stderr, "lsh_bench: %" PRId64 " of %" PRId64 " records in '%s'\n",
            total, want, argv[1]);
    rd_kafka_destroy(rk);
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static double pct(const int64_t *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    return (double)v[i] / 1e6;
}

static double real_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmd_latency(char **argv, bool visible)
{
    rd_kafka_t                      *rk = client(argv[0], RD_KAFKA_CONSUMER);
    size_t                           want = strtoull(argv[2], NULL, 10);
    double                           limit = mono_now() + atof(argv[3]) / 1e3;
    int                              n = partitions(rk, argv[1]);
    rd_kafka_topic_partition_list_t *tp;
    int64_t *lat = calloc(want ? want : 1, sizeof(*lat));
    double   done = 0;
    size_t   got = 0;
    size_t   bad = 0;
    int      p;

    if (n <= 0) {
        fprintf(stderr, "lsh_bench: no topic '%s'\n", argv[1]);
        return 2;
    }
    tp = rd_kafka_topic_partition_list_new(n);
    for (p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(tp, argv[1], p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    while (got + bad < want && mono_now() < limit) {
        rd_kafka_message_t       *m = rd_kafka_consumer_poll(rk, 100);
        rd_kafka_timestamp_type_t tt;
        int64_t                   ts;
        const char               *wt;

        if (m == NULL) {
            continue;
        }
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        ts = rd_kafka_message_timestamp(m, &tt);
        wt = m->len > 3 ? memmem(m->payload, m->len, "wt=", 3) : NULL;
        if (visible && wt != NULL) {
            lat[got++] = (int64_t)real_now_ns() - strtoll(wt + 3, NULL, 10);
        } else if (visible) {
            got++; /* counted, not timed */
        } else if (wt == NULL || tt != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
            bad++;
        } else {
            lat[got++] = ts * 1000000 - strtoll(wt + 3, NULL, 10);
        }
        if (got + bad == want) {
            done = mono_now();
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got == 0) {
        fprintf(stderr,
                "lsh_bench: no record with wt= and a log append time\n");
        return 1;
    }
    qsort(lat, got, sizeof(*lat), cmp_i64);
    if (visible) {
        printf("%.6f\n", done);
    }
    printf("{\"count\": %zu, \"unusable\": %zu, \"p50_ms\": %.2f, "
           "\"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
           got, bad, pct(lat, got, 0.50), pct(lat, got, 0.90),
           pct(lat, got, 0.99), pct(lat, got, 1.0));
    free(lat);
    return got + bad < want ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "topic") == 0) {
        return cmd_topic(argc - 2, argv + 2);
    }
    if (argc == 6 && strcmp(argv[1], "wait") == 0) {
        return cmd_wait(argv + 2);
    }
    if (argc == 6 && strcmp(argv[1], "latency") == 0) {
        return cmd_latency(argv + 2, false);
    }
    if (argc == 6 && strcmp(argv[1], "visible") == 0) {
        read_committed = 1;
        return cmd_latency(argv + 2, true);
    }
    if (argc == 6 && strcmp(argv[1], "consumed") == 0) {
        return cmd_latency(argv + 2, true);
    }
    fprintf(stderr, "usage: lsh_bench topic BROKERS TOPIC PARTITIONS [k=v...]\n"
                    "       lsh_bench wait BROKERS TOPIC N TIMEOUT_MS\n"
                    "       lsh_bench latency BROKERS TOPIC N TIMEOUT_MS\n"
                    "       lsh_bench visible BROKERS TOPIC N TIMEOUT_MS\n"
                    "       lsh_bench consumed BROKERS TOPIC N TIMEOUT_MS\n");
    return 2;
}
