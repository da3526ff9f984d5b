/*
 * Metrics: the family table and the Prometheus text exposition.
 */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define P   "pipeline"
#define PI  "pipeline,input"
#define PF  "pipeline,filter"
#define PO  "pipeline,output"
#define CNT LSH_METRIC_COUNTER
#define GAU LSH_METRIC_GAUGE

const struct lsh_metric_def lsh_metric_defs[LSH_M_COUNT] = {
    [LSH_M_INPUT_RECORDS] = {"logship_input_records_total", CNT, PI,
                             "Records an input passed down its pipeline."},
    [LSH_M_INPUT_BYTES] = {"logship_input_bytes_total", CNT, PI,
                           "Bytes of the records an input passed down its "
                           "pipeline (their bodies)."},
    [LSH_M_FILTER_RECORDS] = {"logship_filter_records_total", CNT, PF,
                              "Records a filter let through."},
    [LSH_M_FILTER_DROPPED] = {"logship_filter_dropped_records_total", CNT, PF,
                              "Records a filter dropped on purpose (they need "
                              "no delivery)."},
    [LSH_M_OUTPUT_DELIVERED] = {"logship_output_records_delivered_total", CNT,
                                PO,
                                "Records an output delivered: acknowledged by "
                                "Kafka, or written by stdout and null."},
    [LSH_M_OUTPUT_FAILURES] = {"logship_output_delivery_failures_total", CNT,
                               PO,
                               "Failed deliveries (each is retried, or "
                               "dead-lettered; none is dropped)."},
    [LSH_M_OUTPUT_RETRIES] = {"logship_output_redeliveries_total", CNT, PO,
                              "Records produced again after a failed "
                              "delivery."},
    [LSH_M_OUTPUT_DEAD] = {"logship_output_dead_letter_records_total", CNT, PO,
                           "Records written to the dead-letter file (they "
                           "count as delivered there)."},
    [LSH_M_OUTPUT_SKIPPED] = {"logship_output_skipped_records_total", CNT, PO,
                              "Records that could never be delivered and had "
                              "no dead-letter file (larger than "
                              "message.max.bytes): logged and skipped."},
    [LSH_M_OUTPUT_INFLIGHT] = {"logship_output_inflight_records", GAU, PO,
                               "Records accepted and not yet delivered."},
    [LSH_M_OUTPUT_INFLIGHT_BYTES] = {"logship_output_inflight_bytes", GAU, PO,
                                     "Bytes of the records in flight."},
    [LSH_M_PIPELINE_PAUSED] = {"logship_pipeline_paused", GAU, P,
                               "1 while back-pressure (or a failing output) "
                               "holds the pipeline's inputs, else 0."},
    [LSH_M_PIPELINE_PAUSED_SECONDS] = {"logship_pipeline_paused_seconds_total",
                                       CNT, P,
                                       "Time the pipeline's inputs were held, "
                                       "in all."},
    [LSH_M_CKPT_LAG] = {"logship_checkpoint_lag_seconds", GAU, P,
                        "Age of the oldest committed offset not yet written "
                        "to the checkpoint journal (0: all written)."},
    [LSH_M_CKPT_SAVES] = {"logship_checkpoint_saves_total", CNT, P,
                          "Checkpoint journal appends."},
    [LSH_M_CKPT_FAILURES] = {"logship_checkpoint_failures_total", CNT, P,
                             "Checkpoint writes that failed (delivery goes "
                             "on; a restart would resend more)."},
    [LSH_M_CKPT_BYTES] = {"logship_checkpoint_written_bytes_total", CNT, P,
                          "Bytes written to the checkpoint journal and "
                          "snapshots."},
    [LSH_M_CKPT_ENTRIES] = {"logship_checkpoint_entries", GAU, P,
                            "Files the checkpoint store knows."},
    [LSH_M_TAIL_FILES_OPEN] = {"logship_tail_files_open", GAU, PI,
                               "Files the tail input holds open."},
    [LSH_M_TAIL_LAG_BYTES] = {"logship_tail_lag_bytes", GAU, PI,
                              "Bytes of the followed files not yet delivered: "
                              "size minus committed offset, summed over "
                              "files."},
    [LSH_M_TAIL_ROTATIONS] = {"logship_tail_rotations_total", CNT, PI,
                              "Files renamed away (rotated) while followed."},
    [LSH_M_TAIL_TRUNCATIONS] = {"logship_tail_truncations_total", CNT, PI,
                                "Files truncated while followed (read again "
                                "from the start)."},
    [LSH_M_TAIL_DELETIONS] = {"logship_tail_deletions_total", CNT, PI,
                              "Files deleted while followed."},
    [LSH_M_TAIL_LONG_LINES] = {"logship_tail_long_lines_total", CNT, PI,
                               "Lines longer than max_line_bytes (truncated, "
                               "skipped or split, as on_long_line says)."},
    [LSH_M_TAIL_OPEN_WAITS] = {"logship_tail_resource_waits_total", CNT, PI,
                               "Opens and watches that had to wait for a "
                               "resource (descriptors, inotify watches)."},
    [LSH_M_TAIL_OVERFLOWS] = {"logship_tail_inotify_overflows_total", CNT, PI,
                              "inotify queue overflows (every file is then "
                              "looked at again)."},
    [LSH_M_KAFKA_QUEUE_MESSAGES] = {"logship_kafka_queue_messages", GAU, PO,
                                    "Messages in the librdkafka producer "
                                    "(msg_cnt)."},
    [LSH_M_KAFKA_QUEUE_BYTES] = {"logship_kafka_queue_bytes", GAU, PO,
                                 "Bytes of the messages in the librdkafka "
                                 "producer (msg_size)."},
    [LSH_M_KAFKA_BROKERS_UP] = {"logship_kafka_brokers_up", GAU, PO,
                                "Brokers the producer is connected to."},
    [LSH_M_KAFKA_RTT_AVG] = {"logship_kafka_broker_rtt_avg_seconds", GAU, PO,
                             "Produce round-trip time, average (the slowest "
                             "broker's)."},
    [LSH_M_KAFKA_RTT_P99] = {"logship_kafka_broker_rtt_p99_seconds", GAU, PO,
                             "Produce round-trip time, 99th percentile (the "
                             "slowest broker's)."},
    [LSH_M_KAFKA_BATCH_BYTES] = {"logship_kafka_batch_bytes_avg", GAU, PO,
                                 "Average batch size in bytes (the largest "
                                 "topic's)."},
    [LSH_M_KAFKA_BATCH_MESSAGES] = {"logship_kafka_batch_messages_avg", GAU, PO,
                                    "Average batch size in messages (the "
                                    "largest topic's)."},
    [LSH_M_KAFKA_TX_ERRORS] = {"logship_kafka_tx_errors", GAU, PO,
                               "Request errors librdkafka counted, over all "
                               "brokers, since the producer was created."},
    [LSH_M_KAFKA_TX_RETRIES] = {"logship_kafka_tx_retries", GAU, PO,
                                "Request retries librdkafka counted, over "
                                "all brokers, since the producer was "
                                "created."},
    [LSH_M_KAFKA_RESTARTS] = {"logship_kafka_producer_restarts_total", CNT, PO,
                              "Producers replaced after a fatal error."},
    [LSH_M_KAFKA_TXN_COMMITS] = {"logship_kafka_transactions_committed_total",
                                 CNT, PO,
                                 "delivery: exactly_once: transactions "
                                 "committed (records and file offsets)."},
    [LSH_M_KAFKA_TXN_RESTARTS] = {"logship_kafka_transaction_restarts_total",
                                  CNT, PO,
                                  "delivery: exactly_once: times the pipeline "
                                  "started again from its committed offsets "
                                  "after an aborted transaction."},
    [LSH_M_RELOADS] = {"logship_reloads_total", CNT, "",
                       "Configuration reloads applied."},
    [LSH_M_RELOAD_FAILURES] = {"logship_reload_failures_total", CNT, "",
                               "Reloads refused (the configuration was not "
                               "valid; the old one goes on)."},
    [LSH_M_BUILD_INFO] = {"logship_build_info", GAU, "version,librdkafka",
                          "Always 1; the labels say what runs."},
    [LSH_M_PROCESS_CPU] = {"process_cpu_seconds_total", CNT, "",
                           "User and system CPU time."},
    [LSH_M_PROCESS_RSS] = {"process_resident_memory_bytes", GAU, "",
                           "Resident memory."},
    [LSH_M_PROCESS_FDS] = {"process_open_fds", GAU, "",
                           "Open file descriptors."},
    [LSH_M_PROCESS_MAX_FDS] = {"process_max_fds", GAU, "",
                               "The limit of open file descriptors."},
    [LSH_M_PROCESS_START] = {"process_start_time_seconds", GAU, "",
                             "Start time, seconds since the epoch."},
};

void lsh_metrics_init(struct lsh_metrics *m)
{
    size_t i;

    for (i = 0; i < LSH_M_COUNT; i++) {
        m->fam[i] = (struct lsh_buf)LSH_BUF_INIT;
    }
}

void lsh_metrics_release(struct lsh_metrics *m)
{
    size_t i;

    for (i = 0; i < LSH_M_COUNT; i++) {
        lsh_buf_release(&m->fam[i]);
    }
}

/* A label value: backslash, double quote and newline escaped. */
static void lsh_metric_escape(struct lsh_buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            lsh_buf_addc(out, '\\');
            lsh_buf_addc(out, *s);
        } else if (*s == '\n') {
            lsh_buf_adds(out, "\\n");
        } else {
            lsh_buf_addc(out, *s);
        }
    }
}

/* The name and labels of a sample of id, up to the space before its value. */
static void lsh_metric_head(struct lsh_metrics *m, enum lsh_metric_id id,
                            const char *const *labels)
{
    struct lsh_buf *out = &m->fam[id];
    const char     *l = lsh_metric_defs[id].labels;
    size_t          i = 0;

    lsh_buf_adds(out, lsh_metric_defs[id].name);
    if (*l != '\0') {
        lsh_buf_addc(out, '{');
        while (*l != '\0') {
            const char *comma = strchr(l, ',');
            size_t      n = comma != NULL ? (size_t)(comma - l) : strlen(l);

            if (i > 0) {
                lsh_buf_addc(out, ',');
            }
            lsh_buf_add(out, l, n);
            lsh_buf_adds(out, "=\"");
            lsh_metric_escape(out, labels[i++]);
            lsh_buf_addc(out, '"');
            l += n + (comma != NULL);
        }
        lsh_buf_addc(out, '}');
    }
    lsh_buf_addc(out, ' ');
}

void lsh_metric(struct lsh_metrics *m, enum lsh_metric_id id,
                const char *const *labels, double value)
{
    lsh_metric_head(m, id, labels);
    if (isnan(value)) {
        lsh_buf_adds(&m->fam[id], "NaN\n");
    } else if (value == floor(value) && fabs(value) < 9.0e15) {
        lsh_buf_addf(&m->fam[id], "%.0f\n", value);
    } else {
        lsh_buf_addf(&m->fam[id], "%.9g\n", value);
    }
}

void lsh_metric_u64(struct lsh_metrics *m, enum lsh_metric_id id,
                    const char *const *labels, uint64_t value)
{
    lsh_metric_head(m, id, labels);
    lsh_buf_addf(&m->fam[id], "%" PRIu64 "\n", value);
}

/* Fields of /proc/self/stat after the command name: utime, stime, start. */
static void lsh_metrics_stat(struct lsh_metrics *m)
{
    char               buf[1024];
    FILE              *f = fopen("/proc/self/stat", "r");
    char              *p;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    unsigned long long start = 0;
    double             tick = (double)sysconf(_SC_CLK_TCK);
    size_t             n;
    double             boot = 0;

    if (f == NULL) {
        return;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    if (p == NULL ||
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
               "%*d %*d %*d %*d %llu",
               &utime, &stime, &start) != 3) {
        return;
    }
    lsh_metric(m, LSH_M_PROCESS_CPU, NULL, (double)(utime + stime) / tick);
    f = fopen("/proc/stat", "r");
    if (f != NULL) {
        while (fgets(buf, sizeof(buf), f) != NULL) {
            unsigned long long btime;

            if (sscanf(buf, "btime %llu", &btime) == 1) {
                boot = (double)btime;
                break;
            }
        }
        fclose(f);
    }
    if (boot > 0) {
        lsh_metric(m, LSH_M_PROCESS_START, NULL,
                   floor(boot + (double)start / tick));
    }
}

void lsh_metrics_process(struct lsh_metrics *m)
{
    FILE         *f = fopen("/proc/self/statm", "r");
    unsigned long pages;
    unsigned long rss;
    DIR          *d;
    struct rlimit rl;

    lsh_metrics_stat(m);
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &pages, &rss) == 2) {
            lsh_metric(m, LSH_M_PROCESS_RSS, NULL,
                       (double)rss * (double)sysconf(_SC_PAGESIZE));
        }
        fclose(f);
    }
    d = opendir("/proc/self/fd");
    if (d != NULL) {
        uint64_t       fds = 0;
        struct dirent *de;

        while ((de = readdir(d)) != NULL) {
            fds += de->d_name[0] != '.';
        }
        closedir(d);
        lsh_metric_u64(m, LSH_M_PROCESS_FDS, NULL, fds - 1); /* the DIR's */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        lsh_metric_u64(m, LSH_M_PROCESS_MAX_FDS, NULL, (uint64_t)rl.rlim_cur);
    }
}

void lsh_metrics_write(const struct lsh_metrics *m, struct lsh_buf *out)
{
    size_t i;

    for (i = 0; i < LSH_M_COUNT; i++) {
        const struct lsh_metric_def *d = &lsh_metric_defs[i];

        if (m->fam[i].len == 0) {
            continue;
        }
        lsh_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help,
                     d->name,
                     d->type == LSH_METRIC_COUNTER ? "counter" : "gauge");
        lsh_buf_add(out, m->fam[i].ptr, m->fam[i].len);
    }
}

void lsh_metrics_doc(struct lsh_buf *out)
{
    size_t i;

    lsh_buf_adds(out, "| metric | type | labels | meaning |\n"
                      "|---|---|---|---|\n");
    for (i = 0; i < LSH_M_COUNT; i++) {
        const struct lsh_metric_def *d = &lsh_metric_defs[i];

        lsh_buf_addf(out, "| `%s` | %s | %s | %s |\n", d->name,
                     d->type == LSH_METRIC_COUNTER ? "counter" : "gauge",
                     *d->labels != '\0' ? d->labels : "", d->help);
    }
}
