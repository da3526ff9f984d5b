/*
 * kafka output: shared declarations.
 *
 * kafka.c          options, the librdkafka configuration, encoding and
 *                  flush()
 * kafka_deliver.c  producing, delivery reports, redelivery with backoff,
 *                  dead letters, replacing the producer after a fatal error
 * kafka_topic.c    topic handles, cached by name with a bound (LRU)
 * kafka_dlq.c      the dead-letter file: whole lines, synced, at its path,
 *                  bounded
 * kafka_stats.c    librdkafka's statistics, parsed into counters
 */
#ifndef OUT_KAFKA_H
#define OUT_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "hmap.h"
#include "json.h"
#include "plugin.h"
#include "tpl.h"

enum out_kafka_format { OUT_KAFKA_JSON, OUT_KAFKA_RAW, OUT_KAFKA_TEMPLATE };
enum out_kafka_delivery {
    OUT_KAFKA_ASYNC,
    OUT_KAFKA_SYNC,
    OUT_KAFKA_EXACTLY_ONCE,
};

/* librdkafka's own cost per queued message, beyond its bytes */
#define OUT_KAFKA_MSG_OVERHEAD 256

struct out_kafka_dlq_conf {
    char   *path;
    int64_t after_attempts;
    int64_t max_bytes;
};

/* The dead-letter file open now. */
struct out_kafka_dlq {
    int      fd;
    dev_t    dev;
    ino_t    ino;
    off_t    size;
    int64_t  told; /* monotonic ns of the last failure logged */
    uint64_t rotations;
};

struct out_kafka_conf {
    char             *brokers;
    struct lsh_tpl   *topic;
    char             *topic_fallback;
    int64_t           partition;
    struct lsh_tpl   *key;
    int               partitioner;
    struct lsh_kvlist headers; /* values are templates */
    int               format;
    struct lsh_tpl *template;
    int                        time_format;
    int                        compression;
    int64_t                    compression_level;
    int64_t                    linger_ms;
    int64_t                    batch_size;
    int64_t                    batch_num_messages;
    int                        acks;
    bool                       idempotence;
    int64_t                    retries;
    int64_t                    retry_backoff_ms;
    int64_t                    message_timeout_ms;
    int64_t                    max_inflight_bytes;
    int                        delivery;
    char                      *transactional_id; /* {{host}}, {{pipeline}} */
    char                      *offsets_topic;
    int64_t                    transaction_interval_ms;
    int64_t                    transaction_records;
    int64_t                    statistics_interval_ms;
    int                        security_protocol;
    int                        sasl_mechanism;
    char                      *sasl_username;
    char                      *sasl_password;
    char                      *ssl_ca_location;
    char                      *ssl_certificate_location;
    char                      *ssl_key_location;
    char                      *ssl_key_password;
    int64_t                    redeliver_backoff_ms;
    int64_t                    redeliver_backoff_max_ms;
    struct out_kafka_dlq_conf *dead_letter;
    int64_t                    topic_cache;
    struct lsh_kvlist          rdkafka;
};

/* One message to produce: what flush() renders, or a retry keeps. */
struct out_kafka_msg {
    const char         *topic; /* NUL-terminated */
    int32_t             partition;
    const void         *key; /* NULL: a null key */
    size_t              klen;
    const void         *val;
    size_t              vlen;
    rd_kafka_headers_t *hdrs; /* NULL, or given to librdkafka on success */
};

/* A record being delivered again: its own copy of everything. */
struct out_kafka_retry {
    struct out_kafka_retry *next;
    struct lsh_ticket      *ticket;
    int64_t                 due;      /* monotonic ns */
    uint32_t                attempts; /* failed deliveries so far */
    rd_kafka_resp_err_t     err;
    int32_t                 partition;
    rd_kafka_headers_t     *hdrs;
    bool                    has_key;
    size_t                  tlen;
    size_t                  klen;
    size_t                  vlen;
    char                    data[]; /* topic, NUL, key, value */
};

/* A cached topic handle, by name; most recently used first. */
struct out_kafka_topic {
    struct lsh_hnode        node;
    struct out_kafka_topic *prev;
    struct out_kafka_topic *next;
    char                   *name;
    rd_kafka_topic_t       *rkt;
};

struct out_kafka_stats {
    uint64_t delivered;
    uint64_t failed;       /* delivery reports with an error */
    uint64_t retried;      /* records produced again */
    uint64_t dead;         /* written to dead_letter */
    uint64_t skipped;      /* librdkafka refused them (too large) */
    uint64_t restarts;     /* producers replaced after a fatal error */
    uint64_t fallbacks;    /* records sent to topic_fallback */
    uint64_t permanent;    /* failures no retry can fix (authorization, size) */
    uint64_t topic_misses; /* topic handles created (cache misses) */
    uint64_t create_failures; /* producers that could not be created */
    uint64_t dlq_failures;    /* records dead_letter could not take */
    uint64_t too_large;       /* records larger than librdkafka's queue */
};

/*
 * librdkafka's statistics (statistics.interval.ms), kept in one place
 * for the metrics endpoint to come.
 */
struct out_kafka_metrics {
    uint64_t updates;
    int64_t  queue_msgs;     /* msg_cnt: messages in the producer */
    int64_t  queue_bytes;    /* msg_size */
    int64_t  tx_msgs;        /* txmsgs: sent to brokers */
    int64_t  tx_bytes;       /* txmsg_bytes */
    int64_t  tx_errors;      /* brokers' txerrs, summed */
    int64_t  tx_retries;     /* brokers' txretries, summed */
    int64_t  rtt_avg_us;     /* brokers' rtt.avg, the largest */
    int64_t  rtt_p99_us;     /* brokers' rtt.p99, the largest */
    int64_t  batch_size_avg; /* topics' batchsize.avg, the largest */
    int64_t  batch_cnt_avg;  /* topics' batchcnt.avg, the largest */
    int64_t  brokers_up;     /* brokers in state UP */
};

struct out_kafka_txn;

struct out_kafka {
    struct lsh_instance         *ins;
    struct out_kafka_txn        *txn; /* delivery: exactly_once, else NULL */
    const struct out_kafka_conf *conf;
    rd_kafka_t                  *rk;
    struct lsh_hmap              topics;
    struct out_kafka_topic      *lru_head; /* most recently used */
    struct out_kafka_topic      *lru_tail;
    /* the last topic looked up: records in a row nearly always share it */
    const char       *last_topic;
    rd_kafka_topic_t *last_rkt;
    int64_t           now_ms; /* message timestamp of the flush under way */
    int               pipe[2];
    struct lsh_io     io;
    struct lsh_buf    val;            /* the value being encoded */
    struct lsh_buf    tbuf;           /* the topic being rendered */
    struct lsh_buf    kbuf;           /* the key being rendered */
    struct lsh_buf    hbuf;           /* a header being rendered */
    uint64_t          inflight;       /* records not resolved */
    uint64_t          inflight_bytes; /* their cost */
    struct out_kafka_retry  *retry_head;
    struct out_kafka_retry **retry_tail;
    struct lsh_timer         retry_timer;
    struct out_kafka_dlq     dlq;
    uint64_t retry_pending; /* redelivered records not reported yet */
    uint64_t retry_queued;  /* records in the retry queue */
    bool     want_wake;
    bool     retry_blocked; /* librdkafka was full */
    bool     exiting;
    bool     fatal;
    rd_kafka_resp_err_t      fatal_err;  /* what rd_kafka_fatal_error() said */
    bool                     recreating; /* the old producer drains */
    struct lsh_timer         producer_timer; /* drain, or create again */
    int64_t                  create_backoff_ms;
    int64_t                  recreate_since; /* monotonic ns */
    bool                     drain_told;
    int64_t                  told_permanent; /* monotonic ns, rate limit */
    bool                     reached;        /* a broker answered, ever */
    bool                     all_down;       /* since the last sign of life */
    struct out_kafka_stats   s;
    struct out_kafka_metrics m;
};

/* kafka.c */
rd_kafka_conf_t *out_kafka_conf_build(const struct out_kafka_conf *c, char *err,
                                      size_t errlen, const char **bad_opt,
                                      long *bad_prop);

/* The connection settings alone (brokers, security), for another client. */
rd_kafka_conf_t *out_kafka_conf_connection(const struct out_kafka_conf *c);

/* kafka_deliver.c: librdkafka's logs of a client to ours (opaque: ctx) */
void out_kafka_conf_logs(rd_kafka_conf_t *kc, struct out_kafka *ctx);

/* kafka_dlq.c */
int out_kafka_dlq_open(struct out_kafka *ctx);
/* LSH_OK once the record is on disk in the file at the path; else logged */
int out_kafka_dlq_write(struct out_kafka *ctx, const struct out_kafka_retry *r);
void out_kafka_dlq_release(struct out_kafka *ctx);
/* Records are kept in order: none is taken while redeliveries are due. */
bool out_kafka_redelivering(const struct out_kafka *ctx);

/* kafka_topic.c */
rd_kafka_topic_t *out_kafka_rkt(struct out_kafka *ctx, const char *name);
void              out_kafka_topics_release(struct out_kafka *ctx);

/* kafka_deliver.c */
int                 out_kafka_create(struct out_kafka *ctx);
void                out_kafka_destroy_producer(struct out_kafka *ctx);
rd_kafka_resp_err_t out_kafka_produce(struct out_kafka           *ctx,
                                      const struct out_kafka_msg *m,
                                      void                       *opaque);
/*
 * A delivery of the record described by m (or retry r) failed with err:
 * keep it for later, or give it to dead_letter.  Takes ownership of r;
 * copies m.  counts: the failure counts as an attempt.  permanent:
 * librdkafka refused this very record when it was produced (larger than
 * message.max.bytes).  A failed delivery never is: the broker judges
 * whole batches, and a batch too large fails every record in it.
 */
void   out_kafka_failed(struct out_kafka *ctx, rd_kafka_resp_err_t err,
                        const struct out_kafka_msg *m, struct lsh_ticket *t,
                        struct out_kafka_retry *r, bool counts, bool permanent);
bool   out_kafka_refused(rd_kafka_resp_err_t err);
void   out_kafka_serve(struct out_kafka *ctx);
void   out_kafka_maybe_wake(struct out_kafka *ctx);
void   out_kafka_retry_free_all(struct out_kafka *ctx);
size_t out_kafka_cost(const struct out_kafka_msg *m);
void   out_kafka_resolved(struct out_kafka *ctx, size_t cost);

/* kafka_txn.c: delivery: exactly_once */
/* the transactional.id of conf c in pipeline (NULL: malformed; why says) */
char *out_kafka_txn_id(const struct out_kafka_conf *c, const char *pipeline,
                       const char **why);
int   out_kafka_txn_init(struct out_kafka *ctx);
/* sets transactional.id on the producer's configuration */
int  out_kafka_txn_conf(struct out_kafka *ctx, rd_kafka_conf_t *kc, char *err,
                        size_t errlen);
void out_kafka_txn_exit(struct out_kafka *ctx);
/*
 * flush(): LSH_OK to produce the batch from *pos on, LSH_EAGAIN, or
 * OUT_KAFKA_DISCARD: take it without producing (fenced, stopping)
 */
#define OUT_KAFKA_DISCARD 1
int  out_kafka_txn_take(struct out_kafka *ctx, size_t pos);
void out_kafka_txn_produced(struct out_kafka *ctx);
/* flush() returns: whole, or stopped inside the batch (no commit then) */
void out_kafka_txn_flushed(struct out_kafka *ctx, bool whole);
/* a delivery report of ours (an offsets record): true if it was one */
bool out_kafka_txn_report(struct out_kafka *ctx, const rd_kafka_message_t *m);
/* a record's delivery failed: the transaction cannot commit */
void out_kafka_txn_broken(struct out_kafka *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* a fatal producer error: fenced (stop for good), or start again */
void out_kafka_txn_fatal(struct out_kafka *ctx, rd_kafka_resp_err_t err);
/* after delivery reports: commits when one is due and all are in */
void out_kafka_txn_serve(struct out_kafka *ctx);
void out_kafka_txn_stop(struct out_kafka *ctx);
/* what pending() adds: an open transaction, or offsets not committed */
size_t out_kafka_txn_pending(struct out_kafka *ctx);
/* /ready: false (why says) while starting, fenced or starting again */
bool out_kafka_txn_ready(struct out_kafka *ctx, struct lsh_buf *why);
/* false once fenced or aborted: nothing in flight will be committed */
bool out_kafka_txn_live(struct out_kafka *ctx);
void out_kafka_txn_metrics(struct out_kafka *ctx, struct lsh_metrics *m,
                           const char *const *labels);
void out_kafka_txn_status(struct out_kafka *ctx, struct lsh_buf *json);

/* kafka_stats.c */
void out_kafka_stats_parse(struct out_kafka_metrics *m, const char *json,
                           size_t len);

#endif
