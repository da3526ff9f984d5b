/*
 * Metrics: the families logship exposes (one table, in exposition order,
 * from which docs/operations.md is generated) and a scrape, in which the
 * engine and each plugin add their samples, written out in the Prometheus
 * text exposition format (version 0.0.4).
 *
 * Counters are exact: they count what happened, never an estimate, so
 * that a person can check "read = delivered + dropped + in flight".  A
 * family's labels are fixed (lsh_metric_defs[].labels); a sample gives a
 * value for each, in order.
 */
#ifndef LSH_METRICS_H
#define LSH_METRICS_H

#include "buf.h"
#include "lsh.h"

enum lsh_metric_id {
    /* engine and inputs */
    LSH_M_INPUT_RECORDS,
    LSH_M_INPUT_BYTES,
    LSH_M_FILTER_RECORDS,
    LSH_M_FILTER_DROPPED,
    LSH_M_OUTPUT_DELIVERED,
    LSH_M_OUTPUT_FAILURES,
    LSH_M_OUTPUT_RETRIES,
    LSH_M_OUTPUT_DEAD,
    LSH_M_OUTPUT_SKIPPED,
    LSH_M_OUTPUT_INFLIGHT,
    LSH_M_OUTPUT_INFLIGHT_BYTES,
    LSH_M_PIPELINE_PAUSED,
    LSH_M_PIPELINE_PAUSED_SECONDS,
    LSH_M_CKPT_LAG,
    LSH_M_CKPT_SAVES,
    LSH_M_CKPT_FAILURES,
    LSH_M_CKPT_BYTES,
    LSH_M_CKPT_ENTRIES,
    /* tail */
    LSH_M_TAIL_FILES_OPEN,
    LSH_M_TAIL_LAG_BYTES,
    LSH_M_TAIL_ROTATIONS,
    LSH_M_TAIL_TRUNCATIONS,
    LSH_M_TAIL_DELETIONS,
    LSH_M_TAIL_LONG_LINES,
    LSH_M_TAIL_OPEN_WAITS,
    LSH_M_TAIL_OVERFLOWS,
    /* kafka: librdkafka's statistics */
    LSH_M_KAFKA_QUEUE_MESSAGES,
    LSH_M_KAFKA_QUEUE_BYTES,
    LSH_M_KAFKA_BROKERS_UP,
    LSH_M_KAFKA_RTT_AVG,
    LSH_M_KAFKA_RTT_P99,
    LSH_M_KAFKA_BATCH_BYTES,
    LSH_M_KAFKA_BATCH_MESSAGES,
    LSH_M_KAFKA_TX_ERRORS,
    LSH_M_KAFKA_TX_RETRIES,
    LSH_M_KAFKA_RESTARTS,
    LSH_M_KAFKA_TXN_COMMITS,
    LSH_M_KAFKA_TXN_RESTARTS,
    /* the service */
    LSH_M_RELOADS,
    LSH_M_RELOAD_FAILURES,
    LSH_M_BUILD_INFO,
    LSH_M_PROCESS_CPU,
    LSH_M_PROCESS_RSS,
    LSH_M_PROCESS_FDS,
    LSH_M_PROCESS_MAX_FDS,
    LSH_M_PROCESS_START,
    LSH_M_COUNT
};

enum lsh_metric_type { LSH_METRIC_COUNTER, LSH_METRIC_GAUGE };

struct lsh_metric_def {
    const char          *name;
    enum lsh_metric_type type;
    const char          *labels; /* comma separated, or "" */
    const char          *help;
};

extern const struct lsh_metric_def lsh_metric_defs[LSH_M_COUNT];

/* A scrape being built. */
struct lsh_metrics {
    struct lsh_buf fam[LSH_M_COUNT]; /* the samples of each family */
};

void lsh_metrics_init(struct lsh_metrics *m);
void lsh_metrics_release(struct lsh_metrics *m);

/*
 * Adds a sample of family id: one label value per label of the family
 * (escaped here), and the value.
 */
void lsh_metric(struct lsh_metrics *m, enum lsh_metric_id id,
                const char *const *labels, double value);
void lsh_metric_u64(struct lsh_metrics *m, enum lsh_metric_id id,
                    const char *const *labels, uint64_t value);

/* The process's own samples: CPU, memory, descriptors, start time. */
void lsh_metrics_process(struct lsh_metrics *m);

/* Writes every family that has samples, HELP and TYPE first. */
void lsh_metrics_write(const struct lsh_metrics *m, struct lsh_buf *out);

/* The families as a Markdown table (docs/operations.md). */
void lsh_metrics_doc(struct lsh_buf *out);

#endif
