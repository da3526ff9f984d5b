/*
 * kafka output: produces records to Apache Kafka with librdkafka.
 *
 * Producing is asynchronous.  Each accepted record takes a hold on its
 * batch's ticket, released by the delivery report once the broker has
 * acknowledged it, so a file's checkpoint never passes an unacked line.
 * Delivery reports, logs and errors come through librdkafka's main queue,
 * which signals a pipe watched by the engine's loop; everything runs on
 * the engine thread.
 *
 * Back-pressure: when the bytes in flight (records accepted, not yet
 * acknowledged, counted with librdkafka's per-message overhead) would pass
 * max_inflight_bytes, or librdkafka's queue is full, flush() returns
 * LSH_EAGAIN and the pipeline stops reading; delivery reports wake it.
 *
 * Failures: a record whose delivery failed (message.timeout.ms passed, the
 * producer hit a fatal error) is kept and produced again with exponential
 * backoff; its ticket stays held.  With dead_letter, after after_attempts
 * failures it is written to a local file instead and counts as delivered.
 * A record librdkafka refuses outright (larger than message.max.bytes)
 * goes to dead_letter, or is skipped, logged and counted.  A fatal
 * producer error (the idempotent producer lost its guarantees) replaces
 * the producer; what was in flight is produced again by the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "json.h"
#include "mem.h"
#include "plugin.h"
#include "ticket.h"

enum out_kafka_format { OUT_KAFKA_JSON, OUT_KAFKA_RAW };

/* librdkafka's own cost per queued message, beyond key and value */
#define OUT_KAFKA_MSG_OVERHEAD 256

struct out_kafka_dlq_conf {
    char   *path;
    int64_t after_attempts;
};

struct out_kafka_conf {
    char                      *brokers;
    char                      *topic;
    int                        format;
    int64_t                    max_inflight_bytes;
    int64_t                    redeliver_backoff_ms;
    int64_t                    redeliver_backoff_max_ms;
    struct out_kafka_dlq_conf *dead_letter;
    struct lsh_kvlist          rdkafka;
};

/* A record being delivered again: its own copy of key and value. */
struct out_kafka_retry {
    struct out_kafka_retry *next;
    struct lsh_ticket      *ticket;
    int64_t                 due;      /* monotonic ns */
    uint32_t                attempts; /* failed deliveries so far */
    rd_kafka_resp_err_t     err;
    size_t                  klen;
    size_t                  vlen;
    char                    data[]; /* key, then value */
};

struct out_kafka_stats {
    uint64_t delivered;
    uint64_t failed;   /* delivery reports with an error */
    uint64_t retried;  /* records produced again */
    uint64_t dead;     /* written to dead_letter */
    uint64_t skipped;  /* the broker can never take them */
    uint64_t restarts; /* producers replaced after a fatal error */
};

struct out_kafka {
    struct lsh_instance         *ins;
    const struct out_kafka_conf *conf;
    rd_kafka_t                  *rk;
    rd_kafka_topic_t            *rkt;
    int                          pipe[2];
    struct lsh_io                io;
    struct lsh_buf               buf;
    uint64_t                     inflight;       /* records not resolved */
    uint64_t                     inflight_bytes; /* their cost */
    struct out_kafka_retry      *retry_head;
    struct out_kafka_retry     **retry_tail;
    struct lsh_timer             retry_timer;
    int                          dlq_fd;
    bool                         want_wake;
    bool                         retry_blocked; /* librdkafka was full */
    bool                         exiting;
    bool                         fatal;
    bool                         recreating;
    struct out_kafka_stats       s;
};

static const char *const out_kafka_formats[] = {"json", "raw", NULL};

static const struct lsh_option out_kafka_dlq_options[] = {
    {.name = "path",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct out_kafka_dlq_conf, path),
     .help = "File that failed records are appended to, one JSON object "
             "per line."},
    {.name = "after_attempts",
     .type = LSH_OPT_INT,
     .def = "5",
     .offset = offsetof(struct out_kafka_dlq_conf, after_attempts),
     .min = 1,
     .max = 1000000,
     .help = "Failed deliveries of a record before it goes to the file."},
    {.name = NULL},
};

static const struct lsh_option out_kafka_options[] = {
    {.name = "brokers",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct out_kafka_conf, brokers),
     .help = "Bootstrap brokers, host:port[,host:port...]."},
    {.name = "topic",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct out_kafka_conf, topic),
     .help = "Topic to produce to."},
    {.name = "format",
     .type = LSH_OPT_ENUM,
     .def = "json",
     .offset = offsetof(struct out_kafka_conf, format),
     .values = out_kafka_formats,
     .help = "Message value: json (all fields as one JSON object) or raw "
             "(the body exactly as read)."},
    {.name = "max_inflight_bytes",
     .type = LSH_OPT_SIZE,
     .def = "32MiB",
     .offset = offsetof(struct out_kafka_conf, max_inflight_bytes),
     .min = 64 * 1024,
     .max = 16LL * 1024 * 1024 * 1024,
     .help = "Bytes of records accepted but not yet acknowledged (with "
             "about 256 bytes of librdkafka overhead each) before the "
             "pipeline stops reading. Bounds memory when Kafka is slow or "
             "down: the files are the buffer."},
    {.name = "redeliver_backoff",
     .type = LSH_OPT_DURATION,
     .def = "1s",
     .offset = offsetof(struct out_kafka_conf, redeliver_backoff_ms),
     .min = 1,
     .max = 3600000,
     .help = "Wait before producing a failed record again; doubles with "
             "each failure."},
    {.name = "redeliver_backoff_max",
     .type = LSH_OPT_DURATION,
     .def = "60s",
     .offset = offsetof(struct out_kafka_conf, redeliver_backoff_max_ms),
     .min = 1,
     .max = 86400000,
     .help = "Longest wait between deliveries of a failed record."},
    {.name = "dead_letter",
     .type = LSH_OPT_SUB,
     .offset = offsetof(struct out_kafka_conf, dead_letter),
     .sub = out_kafka_dlq_options,
     .sub_size = sizeof(struct out_kafka_dlq_conf),
     .help = "{path, after_attempts}: write records that failed "
             "after_attempts times (or that the broker can never take) to "
             "a local file; they then count as delivered. Without it they "
             "are retried for as long as logship runs."},
    {.name = "rdkafka",
     .type = LSH_OPT_MAP,
     .offset = offsetof(struct out_kafka_conf, rdkafka),
     .help = "Further librdkafka producer properties (see librdkafka's "
             "CONFIGURATION.md), checked by librdkafka when the "
             "configuration loads. Properties containing 'password' or "
             "'secret' are masked in output."},
    {.name = NULL},
};

/* Producer defaults; rdkafka: properties may override them. */
static const char *const out_kafka_defaults[][2] = {
    {"enable.idempotence", "true"}, /* ordered, no duplicates on retry */
    {"linger.ms", "5"},
    {"log.queue", "true"}, /* logs reach us on our thread */
    {"client.id", "logship"},
    /* logship's byte limit rules; librdkafka's count limit must not */
    {"queue.buffering.max.messages", "2000000"},
};

static int out_kafka_set(rd_kafka_conf_t *kc, const char *k, const char *v,
                         char *err, size_t errlen)
{
    return rd_kafka_conf_set(kc, k, v, err, errlen) == RD_KAFKA_CONF_OK
               ? LSH_OK
               : LSH_EINVAL;
}

/*
 * Builds the librdkafka configuration.  On failure returns NULL, with the
 * message in err and *bad set to the index of the offending rdkafka
 * property (or -1 for brokers).
 */
static rd_kafka_conf_t *out_kafka_conf_build(const struct out_kafka_conf *c,
                                             char *err, size_t errlen,
                                             long *bad)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    char             kbytes[32];
    size_t           i;

    for (i = 0; i < LSH_ARRAY_SIZE(out_kafka_defaults); i++) {
        out_kafka_set(kc, out_kafka_defaults[i][0], out_kafka_defaults[i][1],
                      err, errlen);
    }
    /* room above our own limit, so that ours is the one that acts */
    snprintf(kbytes, sizeof(kbytes), "%lld",
             (long long)LSH_MIN(c->max_inflight_bytes * 2 / 1024, 2097151));
    out_kafka_set(kc, "queue.buffering.max.kbytes", kbytes, err, errlen);
    *bad = -1;
    if (out_kafka_set(kc, "bootstrap.servers", c->brokers, err, errlen) !=
        LSH_OK) {
        goto err;
    }
    for (i = 0; i < c->rdkafka.n; i++) {
        *bad = (long)i;
        if (out_kafka_set(kc, c->rdkafka.keys[i], c->rdkafka.vals[i], err,
                          errlen) != LSH_OK) {
            goto err;
        }
    }
    return kc;
err:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

static int out_kafka_validate(const void *conf, struct lsh_diag *d)
{
    const struct out_kafka_conf *c = conf;
    rd_kafka_conf_t             *kc;
    char                         err[512];
    long                         bad;

    kc = out_kafka_conf_build(c, err, sizeof(err), &bad);
    if (kc == NULL) {
        if (bad < 0) {
            return lsh_diag_key(d, "brokers", "%s", err);
        }
        return lsh_diag_error(d, &c->rdkafka.marks[bad],
                              "option 'rdkafka': property '%s': %s",
                              c->rdkafka.keys[bad], err);
    }
    rd_kafka_conf_destroy(kc);
    if (c->topic[0] == '\0') {
        return lsh_diag_key(d, "topic", "must not be empty");
    }
    if (c->redeliver_backoff_max_ms < c->redeliver_backoff_ms) {
        return lsh_diag_key(d, "redeliver_backoff_max",
                            "must not be below redeliver_backoff");
    }
    return LSH_OK;
}

/* --- records in flight --------------------------------------------------- */

/* Opaques: a ticket (first attempt) or a retry record, tagged by bit 0. */
static void *out_kafka_tag(struct out_kafka_retry *r)
{
    return (void *)((uintptr_t)r | 1u);
}

static struct out_kafka_retry *out_kafka_untag(void *opaque)
{
    return ((uintptr_t)opaque & 1u)
               ? (struct out_kafka_retry *)((uintptr_t)opaque & ~(uintptr_t)1)
               : NULL;
}

static size_t out_kafka_cost(size_t vlen, size_t klen)
{
    return vlen + klen + OUT_KAFKA_MSG_OVERHEAD;
}

/* A record is resolved: acknowledged, dead-lettered, skipped or dropped. */
static void out_kafka_resolved(struct out_kafka *ctx, size_t cost)
{
    ctx->inflight--;
    ctx->inflight_bytes -= LSH_MIN(ctx->inflight_bytes, cost);
}

static void out_kafka_b64(struct lsh_buf *out, const unsigned char *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

        lsh_buf_addc(out, tbl[v >> 18]);
        lsh_buf_addc(out, tbl[(v >> 12) & 63]);
        lsh_buf_addc(out, tbl[(v >> 6) & 63]);
        lsh_buf_addc(out, tbl[v & 63]);
    }
    if (i < n) {
        uint32_t v =
            (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

        lsh_buf_addc(out, tbl[v >> 18]);
        lsh_buf_addc(out, tbl[(v >> 12) & 63]);
        lsh_buf_addc(out, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
        lsh_buf_addc(out, '=');
    }
}

static bool out_kafka_utf8(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    const unsigned char *end = s + n;
    size_t               skip;

    while (s < end) {
        size_t k = lsh_utf8_seq(s, end, &skip);

        if (k == 0) {
            return false;
        }
        s += k;
    }
    return true;
}

static void out_kafka_json_bytes(struct lsh_buf *out, const char *name,
                                 const char *p, size_t n)
{
    lsh_buf_addf(out, ",\"%s\":", name);
    lsh_json_str(out, p, n);
    if (!out_kafka_utf8(p, n)) {
        lsh_buf_addf(out, ",\"%s_base64\":\"", name); /* the exact bytes */
        out_kafka_b64(out, (const unsigned char *)p, n);
        lsh_buf_addc(out, '"');
    }
}

/*
 * Appends a failed record to the dead-letter file and syncs it.  Returns
 * LSH_OK once it is on disk: the record then counts as delivered.
 */
static int out_kafka_dead_letter(struct out_kafka *ctx, const char *key,
                                 size_t klen, const char *val, size_t vlen,
                                 uint32_t attempts, rd_kafka_resp_err_t err)
{
    struct lsh_buf line = LSH_BUF_INIT;
    char           ts[LSH_RFC3339_MS_LEN + 1];
    const char    *p;
    size_t         n;
    int            rc = LSH_OK;

    lsh_time_rfc3339_ms(lsh_now_real_ns(), ts);
    lsh_buf_addf(&line, "{\"time\":\"%s\",\"topic\":", ts);
    lsh_json_str(&line, ctx->conf->topic, strlen(ctx->conf->topic));
    lsh_buf_addf(&line, ",\"error\":\"%s\",\"attempts\":%u",
                 rd_kafka_err2name(err), attempts);
    if (key != NULL) {
        out_kafka_json_bytes(&line, "key", key, klen);
    }
    out_kafka_json_bytes(&line, "value", val, vlen);
    lsh_buf_adds(&line, "}\n");
    for (p = line.ptr, n = line.len; n > 0 && rc == LSH_OK;) {
        ssize_t w = write(ctx->dlq_fd, p, n);

        if (w < 0 && errno != EINTR) {
            rc = LSH_ERR;
        } else if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    if (rc == LSH_OK && fdatasync(ctx->dlq_fd) != 0) {
        rc = LSH_ERR;
    }
    lsh_buf_release(&line);
    if (rc != LSH_OK) {
        return lsh_ins_error(ctx->ins, "cannot write dead_letter '%s': %s",
                             ctx->conf->dead_letter->path, strerror(errno));
    }
    ctx->s.dead++;
    return LSH_OK;
}

static int64_t out_kafka_backoff_ns(const struct out_kafka_conf *c,
                                    uint32_t                     attempts)
{
    int64_t  ms = c->redeliver_backoff_ms;
    uint32_t i;

    for (i = 1; i < attempts && ms < c->redeliver_backoff_max_ms; i++) {
        ms *= 2;
    }
    return LSH_MIN(ms, c->redeliver_backoff_max_ms) * LSH_NS_PER_MS;
}

static void out_kafka_retry_due(struct lsh_timer *t);

static void out_kafka_retry_arm(struct out_kafka *ctx)
{
    int64_t                 due = INT64_MAX;
    struct out_kafka_retry *r;

    for (r = ctx->retry_head; r != NULL; r = r->next) {
        due = LSH_MIN(due, r->due);
    }
    if (due == INT64_MAX) {
        lsh_timer_stop(ctx->ins->loop, &ctx->retry_timer);
        return;
    }
    due = LSH_MAX(due - lsh_now_mono_ns(), 0);
    lsh_timer_start(ctx->ins->loop, &ctx->retry_timer, due / LSH_NS_PER_MS + 1,
                    0, out_kafka_retry_due, ctx);
}

static void out_kafka_retry_push(struct out_kafka       *ctx,
                                 struct out_kafka_retry *r)
{
    r->next = NULL;
    *ctx->retry_tail = r;
    ctx->retry_tail = &r->next;
}

/*
 * A delivery failed: keep a copy of the record and produce it again
 * later, or give it to dead_letter.  Takes ownership of r (may be NULL:
 * then the record is copied from m).  counts: the failure counts as an
 * attempt.  permanent: librdkafka refused this very record when it was
 * produced (larger than message.max.bytes).  A failed delivery never is:
 * the broker judges whole batches, and a batch too large fails every
 * record in it, so those are retried.
 */
static void out_kafka_failed(struct out_kafka *ctx, const rd_kafka_message_t *m,
                             struct lsh_ticket *t, struct out_kafka_retry *r,
                             bool counts, bool permanent)
{
    const struct out_kafka_conf *c = ctx->conf;

    if (r == NULL) {
        r = lsh_malloc(sizeof(*r) + m->key_len + m->len);
        r->ticket = t;
        r->attempts = 0;
        r->klen = m->key != NULL ? m->key_len : 0;
        r->vlen = m->len;
        if (r->klen > 0) {
            memcpy(r->data, m->key, r->klen);
        }
        memcpy(r->data + r->klen, m->payload, m->len);
    }
    r->err = m->err;
    if (counts) {
        r->attempts++;
    }
    if (c->dead_letter != NULL &&
        (r->attempts >= (uint32_t)c->dead_letter->after_attempts ||
         permanent) &&
        out_kafka_dead_letter(ctx, r->klen ? r->data : NULL, r->klen,
                              r->data + r->klen, r->vlen, r->attempts,
                              m->err) == LSH_OK) {
        out_kafka_resolved(ctx, out_kafka_cost(r->vlen, r->klen));
        lsh_ticket_ack(r->ticket);
        free(r);
        return;
    }
    if (permanent) {
        ctx->s.skipped++;
        lsh_ins_error(ctx->ins,
                      "cannot produce a %zu-byte record: %s; it is skipped "
                      "(set dead_letter to keep such records)",
                      r->vlen, rd_kafka_err2str(m->err));
        out_kafka_resolved(ctx, out_kafka_cost(r->vlen, r->klen));
        lsh_ticket_ack(r->ticket);
        free(r);
        return;
    }
    r->due =
        lsh_now_mono_ns() + (counts ? out_kafka_backoff_ns(c, r->attempts) : 0);
    out_kafka_retry_push(ctx, r);
    if (!ctx->retry_blocked && (!ctx->retry_timer.active || !counts)) {
        out_kafka_retry_arm(ctx);
    }
}

static void out_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
    struct out_kafka       *ctx = opaque;
    struct out_kafka_retry *r = out_kafka_untag(m->_private);
    struct lsh_ticket      *t = r != NULL ? r->ticket : m->_private;
    bool                    purged;

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ctx->s.delivered++;
        out_kafka_resolved(ctx, out_kafka_cost(m->len, m->key_len));
        lsh_ticket_ack(t);
        free(r);
        return;
    }
    purged = m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
             m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
    if (ctx->exiting) {
        /* not delivered: the ticket stays held, the checkpoint too */
        out_kafka_resolved(ctx, out_kafka_cost(m->len, m->key_len));
        free(r);
        return;
    }
    ctx->s.failed++;
    if (!purged && ctx->s.failed % 1000 == 1) {
        lsh_ins_warn(ctx->ins,
                     "delivery failed (%s); the record is kept and produced "
                     "again (%llu failures so far)",
                     rd_kafka_err2str(m->err),
                     (unsigned long long)ctx->s.failed);
    }
    /* a purge while the producer is replaced is not the record's failure */
    out_kafka_failed(ctx, m, t, r, !(purged && ctx->recreating), false);
}

/* Produces one record; the opaque says what to release on delivery. */
static rd_kafka_resp_err_t out_kafka_produce(struct out_kafka *ctx,
                                             const void *key, size_t klen,
                                             const void *val, size_t vlen,
                                             void *opaque)
{
    return rd_kafka_producev(ctx->rk, RD_KAFKA_V_RKT(ctx->rkt),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY((void *)key, klen),
                             RD_KAFKA_V_VALUE((void *)val, vlen),
                             RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

/* Errors about the record itself, when it is produced: no retry helps. */
static bool out_kafka_refused(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR__INVALID_ARG;
}

/* Produces due retries, in order; stops when librdkafka is full. */
static void out_kafka_retry_run(struct out_kafka *ctx)
{
    struct out_kafka_retry **pp = &ctx->retry_head;
    int64_t                  now = lsh_now_mono_ns();

    if (ctx->rk == NULL || ctx->fatal) {
        return;
    }
    while (*pp != NULL) {
        struct out_kafka_retry *r = *pp;
        rd_kafka_resp_err_t     err;

        if (r->due > now) {
            pp = &r->next;
            continue;
        }
        err = out_kafka_produce(ctx, r->klen ? r->data : NULL, r->klen,
                                r->data + r->klen, r->vlen, out_kafka_tag(r));
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* the next delivery reports make room and run this again */
            ctx->retry_blocked = true;
            lsh_timer_stop(ctx->ins->loop, &ctx->retry_timer);
            return;
        }
        *pp = r->next;
        if (ctx->retry_tail == &r->next) {
            ctx->retry_tail = pp;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_t m;

            memset(&m, 0, sizeof(m));
            m.err = err;
            out_kafka_failed(ctx, &m, r->ticket, r, true,
                             out_kafka_refused(err));
            continue;
        }
        ctx->s.retried++;
    }
    out_kafka_retry_arm(ctx);
}

static void out_kafka_maybe_wake(struct out_kafka *ctx);

static void out_kafka_retry_due(struct lsh_timer *t)
{
    out_kafka_retry_run(t->data);
    out_kafka_maybe_wake(t->data); /* a retry may have resolved records */
}

/* --- the producer -------------------------------------------------------- */

static void out_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                             const char *buf)
{
    struct out_kafka *ctx = rd_kafka_opaque(rk);
    /*
     * librdkafka logs transient trouble (a refused connection) at LOG_ERR
     * and retries it; logship keeps "error" for what loses or stops.
     */
    int our = level <= 2   ? LSH_LOG_ERROR
              : level <= 4 ? LSH_LOG_WARN
              : level <= 6 ? LSH_LOG_INFO
                           : LSH_LOG_DEBUG;

    lsh_log(our, ctx->ins->name, "librdkafka %s: %s", fac, buf);
}

static void out_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
                               void *opaque)
{
    struct out_kafka *ctx = opaque;
    char              fatal[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        lsh_ins_error(ctx->ins,
                      "fatal producer error: %s; replacing the producer and "
                      "producing what was in flight again",
                      fatal);
        ctx->fatal = true;
        return;
    }
    lsh_ins_warn(ctx->ins, "%s: %s", rd_kafka_err2name(err), reason);
}

static void out_kafka_io(struct lsh_io *io, uint32_t events);

static int out_kafka_create(struct out_kafka *ctx)
{
    rd_kafka_conf_t  *kc;
    rd_kafka_queue_t *q;
    char              err[512];
    long              bad;

    kc = out_kafka_conf_build(ctx->conf, err, sizeof(err), &bad);
    if (kc == NULL) {
        return lsh_ins_error(ctx->ins, "%s", err);
    }
    rd_kafka_conf_set_opaque(kc, ctx);
    rd_kafka_conf_set_log_cb(kc, out_kafka_log_cb);
    rd_kafka_conf_set_error_cb(kc, out_kafka_error_cb);
    rd_kafka_conf_set_dr_msg_cb(kc, out_kafka_dr_cb);
    ctx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    if (ctx->rk == NULL) {
        rd_kafka_conf_destroy(kc);
        return lsh_ins_error(ctx->ins, "cannot create producer: %s", err);
    }
    rd_kafka_set_log_queue(ctx->rk, NULL);
    ctx->rkt = rd_kafka_topic_new(ctx->rk, ctx->conf->topic, NULL);
    if (ctx->rkt == NULL) {
        return lsh_ins_error(ctx->ins, "topic '%s': %s", ctx->conf->topic,
                             rd_kafka_err2str(rd_kafka_last_error()));
    }
    q = rd_kafka_queue_get_main(ctx->rk);
    rd_kafka_queue_io_event_enable(q, ctx->pipe[1], "1", 1);
    rd_kafka_queue_destroy(q);
    return LSH_OK;
}

static void out_kafka_destroy_producer(struct out_kafka *ctx)
{
    if (ctx->rkt != NULL) {
        rd_kafka_topic_destroy(ctx->rkt);
        ctx->rkt = NULL;
    }
    if (ctx->rk != NULL) {
        rd_kafka_destroy(ctx->rk);
        ctx->rk = NULL;
    }
}

/*
 * After a fatal error: take back everything from the old producer (its
 * delivery reports put each record in the retry queue), then start a new
 * one and produce them again.
 */
static void out_kafka_recreate(struct out_kafka *ctx)
{
    int i;

    ctx->recreating = true;
    rd_kafka_purge(ctx->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                RD_KAFKA_PURGE_F_NON_BLOCKING);
    for (i = 0; i < 100 && rd_kafka_outq_len(ctx->rk) > 0; i++) {
        rd_kafka_poll(ctx->rk, 50);
    }
    out_kafka_destroy_producer(ctx);
    ctx->recreating = false;
    ctx->fatal = false;
    ctx->s.restarts++;
    if (out_kafka_create(ctx) != LSH_OK) {
        ctx->fatal = true; /* try again on the next event */
        return;
    }
    out_kafka_retry_run(ctx);
}

/*
 * After records were resolved or room freed up, by a delivery report or
 * a retry: wakes the pipeline if it waits for room, or the engine if it
 * waits for this output to drain.
 */
static void out_kafka_maybe_wake(struct out_kafka *ctx)
{
    uint64_t room = (uint64_t)ctx->conf->max_inflight_bytes / 4 * 3;

    if (ctx->want_wake && ctx->inflight_bytes <= room) {
        ctx->want_wake = false;
        lsh_output_wake(ctx->ins);
    } else if (ctx->inflight == 0 && ctx->ins->stopped) {
        lsh_output_wake(ctx->ins);
    }
}

/* Serves every queued delivery report, log line and error. */
static void out_kafka_serve(struct out_kafka *ctx)
{
    while (rd_kafka_poll(ctx->rk, 0) > 0) {
    }
    if (ctx->fatal) {
        out_kafka_recreate(ctx);
    }
    if (ctx->retry_blocked) {
        ctx->retry_blocked = false;
        out_kafka_retry_run(ctx);
    }
    out_kafka_maybe_wake(ctx);
}

static void out_kafka_io(struct lsh_io *io, uint32_t events)
{
    struct out_kafka *ctx = io->data;
    char              drain[256];

    (void)events;
    while (read(ctx->pipe[0], drain, sizeof(drain)) > 0) {
    }
    if (ctx->rk != NULL) {
        out_kafka_serve(ctx);
    }
}

static int out_kafka_init(struct lsh_instance *ins, const void *conf)
{
    const struct out_kafka_conf *c = conf;
    struct out_kafka            *ctx = lsh_calloc(1, sizeof(*ctx));

    ctx->ins = ins;
    ctx->conf = c;
    ctx->pipe[0] = ctx->pipe[1] = -1;
    ctx->dlq_fd = -1;
    ctx->retry_tail = &ctx->retry_head;
    ins->ctx = ctx;
    if (c->dead_letter != NULL) {
        ctx->dlq_fd = open(c->dead_letter->path,
                           O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (ctx->dlq_fd < 0) {
            return lsh_ins_error(ins, "cannot open dead_letter '%s': %s",
                                 c->dead_letter->path, strerror(errno));
        }
    }
    if (pipe2(ctx->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        return lsh_ins_error(ins, "pipe: %s", strerror(errno));
    }
    if (out_kafka_create(ctx) != LSH_OK) {
        return LSH_ERR;
    }
    if (lsh_io_start(ins->loop, &ctx->io, ctx->pipe[0], EPOLLIN, out_kafka_io,
                     ctx) != LSH_OK) {
        return lsh_ins_error(ins, "epoll: %s", strerror(errno));
    }
    return LSH_OK;
}

static const void *out_kafka_value(struct out_kafka        *ctx,
                                   const struct lsh_batch  *b,
                                   const struct lsh_record *r, size_t *len)
{
    if (ctx->conf->format == OUT_KAFKA_RAW) {
        *len = r->body.len;
        return r->body.ptr;
    }
    lsh_buf_reset(&ctx->buf);
    lsh_json_record(&ctx->buf, b, r, lsh_host());
    *len = ctx->buf.len;
    return ctx->buf.ptr;
}

static int out_kafka_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                           size_t *pos)
{
    struct out_kafka *ctx = ins->ctx;
    uint64_t          max = (uint64_t)ctx->conf->max_inflight_bytes;
    size_t            i;

    for (i = *pos; i < b->n; i++) {
        const struct lsh_record *r = &b->recs[i];
        const void              *val;
        size_t                   len;
        size_t                   cost;
        rd_kafka_resp_err_t      err;

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        val = out_kafka_value(ctx, b, r, &len);
        cost = out_kafka_cost(len, 0);
        if (ctx->fatal ||
            (ctx->inflight > 0 && ctx->inflight_bytes + cost > max)) {
            *pos = i;
            ctx->want_wake = true;
            return LSH_EAGAIN;
        }
        err = out_kafka_produce(ctx, NULL, 0, val, len, b->ticket);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            *pos = i;
            ctx->want_wake = true;
            return LSH_EAGAIN;
        }
        ctx->inflight++;
        ctx->inflight_bytes += cost;
        lsh_ticket_hold(b->ticket, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* refused (too large), or the topic is failing: retried */
            rd_kafka_message_t m;

            memset(&m, 0, sizeof(m));
            m.err = err;
            m.payload = (void *)val;
            m.len = len;
            out_kafka_failed(ctx, &m, b->ticket, NULL, true,
                             out_kafka_refused(err));
        }
    }
    *pos = b->n;
    return LSH_OK;
}

static size_t out_kafka_pending(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    return ctx != NULL ? ctx->inflight : 0;
}

static void out_kafka_stop(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx != NULL && ctx->rk != NULL) {
        /* send what lingers now; delivery reports come through the loop */
        rd_kafka_flush(ctx->rk, 0);
    }
}

static void out_kafka_exit(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx == NULL) {
        return;
    }
    ctx->exiting = true;
    lsh_timer_stop(ins->loop, &ctx->retry_timer);
    if (ctx->rk != NULL) {
        if (ctx->inflight > 0) {
            lsh_ins_warn(ins,
                         "%llu records not acknowledged at exit; they will "
                         "be read again after a restart",
                         (unsigned long long)ctx->inflight);
            rd_kafka_purge(ctx->rk,
                           RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        }
        rd_kafka_poll(ctx->rk, 0);
        lsh_io_stop(ins->loop, &ctx->io);
        out_kafka_destroy_producer(ctx);
    }
    while (ctx->retry_head != NULL) {
        struct out_kafka_retry *r = ctx->retry_head;

        ctx->retry_head = r->next;
        free(r); /* its ticket stays held: not checkpointed */
    }
    lsh_ins_info(
        ins,
        "%llu records delivered; %llu delivery failures, %llu "
        "produced again, %llu dead-lettered, %llu skipped, %llu "
        "producer restarts",
        (unsigned long long)ctx->s.delivered, (unsigned long long)ctx->s.failed,
        (unsigned long long)ctx->s.retried, (unsigned long long)ctx->s.dead,
        (unsigned long long)ctx->s.skipped,
        (unsigned long long)ctx->s.restarts);
    if (ctx->pipe[0] >= 0) {
        close(ctx->pipe[0]);
        close(ctx->pipe[1]);
    }
    if (ctx->dlq_fd >= 0) {
        close(ctx->dlq_fd);
    }
    lsh_buf_release(&ctx->buf);
    free(ctx);
    ins->ctx = NULL;
}

const struct lsh_plugin out_kafka_plugin = {
    .name = "kafka",
    .description = "Produces records to Apache Kafka (librdkafka), "
                   "acknowledging each record only once the broker has.",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = out_kafka_options,
    .conf_size = sizeof(struct out_kafka_conf),
    .validate = out_kafka_validate,
    .init = out_kafka_init,
    .flush = out_kafka_flush,
    .pending = out_kafka_pending,
    .stop = out_kafka_stop,
    .exit = out_kafka_exit,
};
