/*
 * kafka output: delivery.
 *
 * Each accepted record takes a hold on its batch's ticket, released by
 * the delivery report once the broker has acknowledged it, so a file's
 * checkpoint never passes an unacked line.  Delivery reports, logs,
 * errors and statistics come through librdkafka's main queue, which
 * signals a pipe watched by the engine's loop: everything runs on the
 * engine thread.
 *
 * A record whose delivery failed (message.timeout.ms passed, the producer
 * hit a fatal error) is kept and produced again with exponential backoff;
 * its ticket stays held.  With dead_letter, after after_attempts failures
 * it is written to a local file instead and counts as delivered.  A record
 * librdkafka refuses outright (larger than message.max.bytes) goes to
 * dead_letter, or is skipped, logged and counted.  A fatal producer error
 * (the idempotent producer lost its guarantees) replaces the producer;
 * what was in flight is produced again by the new one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"
#include "mem.h"
#include "ticket.h"

/* --- producing ----------------------------------------------------------- */

size_t out_kafka_cost(const struct out_kafka_msg *m)
{
    return m->vlen + m->klen + OUT_KAFKA_MSG_OVERHEAD;
}

/* A record is resolved: acknowledged, dead-lettered, skipped or dropped. */
void out_kafka_resolved(struct out_kafka *ctx, size_t cost)
{
    ctx->inflight--;
    ctx->inflight_bytes -= LSH_MIN(ctx->inflight_bytes, cost);
}

rd_kafka_resp_err_t out_kafka_produce(struct out_kafka           *ctx,
                                      const struct out_kafka_msg *m,
                                      void                       *opaque)
{
    rd_kafka_topic_t   *rkt = out_kafka_rkt(ctx, m->topic);
    rd_kafka_resp_err_t err;

    if (rkt == NULL) {
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    }
    /* headers may be NULL: librdkafka then sends none */
    err = rd_kafka_producev(
        ctx->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(m->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY((void *)m->key, m->klen),
        RD_KAFKA_V_VALUE((void *)m->val, m->vlen), RD_KAFKA_V_HEADERS(m->hdrs),
        RD_KAFKA_V_TIMESTAMP(ctx->now_ms), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    return err;
}

/* Errors about the record itself, when it is produced: no retry helps. */
bool out_kafka_refused(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR__INVALID_ARG;
}

/* --- retries ------------------------------------------------------------- */

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

static struct out_kafka_msg out_kafka_retry_msg(struct out_kafka_retry *r)
{
    struct out_kafka_msg m;

    m.topic = r->data;
    m.partition = r->partition;
    m.key = r->has_key ? r->data + r->tlen + 1 : NULL;
    m.klen = r->klen;
    m.val = r->data + r->tlen + 1 + r->klen;
    m.vlen = r->vlen;
    m.hdrs = r->hdrs;
    return m;
}

/* Copies a record (m's headers are copied too, not taken). */
static struct out_kafka_retry *
out_kafka_retry_new(const struct out_kafka_msg *m, struct lsh_ticket *t)
{
    size_t                  tlen = strlen(m->topic);
    struct out_kafka_retry *r =
        lsh_calloc(1, sizeof(*r) + tlen + 1 + m->klen + m->vlen);

    r->ticket = t;
    r->partition = m->partition;
    r->has_key = m->key != NULL;
    r->tlen = tlen;
    r->klen = m->key != NULL ? m->klen : 0;
    r->vlen = m->vlen;
    memcpy(r->data, m->topic, tlen + 1);
    if (r->klen > 0) {
        memcpy(r->data + tlen + 1, m->key, r->klen);
    }
    if (m->vlen > 0) {
        memcpy(r->data + tlen + 1 + r->klen, m->val, m->vlen);
    }
    r->hdrs = m->hdrs != NULL ? rd_kafka_headers_copy(m->hdrs) : NULL;
    return r;
}

static void out_kafka_retry_free(struct out_kafka_retry *r)
{
    if (r->hdrs != NULL) {
        rd_kafka_headers_destroy(r->hdrs);
    }
    free(r);
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

/*
 * Order.  Records from one file must reach their partition in file order,
 * through redelivery too.  So a failure holds everything back: flush()
 * takes no new record while any record waits in the retry queue or is
 * being produced again (out_kafka_redelivering()); the queue is kept in
 * the order the failures were reported, which for one partition is the
 * order the records were produced; and it is produced again only once
 * every record produced before it has been reported (so nothing older is
 * still on its way), all of it at once, in order, when its first record's
 * backoff is over.
 */
bool out_kafka_redelivering(const struct out_kafka *ctx)
{
    return ctx->retry_head != NULL || ctx->retry_pending > 0;
}

static void out_kafka_retry_due(struct lsh_timer *t);

/* The queue waits for its first record's backoff. */
static void out_kafka_retry_arm(struct out_kafka *ctx)
{
    int64_t wait;

    if (ctx->retry_head == NULL) {
        lsh_timer_stop(ctx->ins->loop, &ctx->retry_timer);
        return;
    }
    wait = LSH_MAX(ctx->retry_head->due - lsh_now_mono_ns(), 0);
    lsh_timer_start(ctx->ins->loop, &ctx->retry_timer, wait / LSH_NS_PER_MS + 1,
                    0, out_kafka_retry_due, ctx);
}

/* Takes r back as resolved: delivered elsewhere, or skipped. */
static void out_kafka_retry_resolve(struct out_kafka       *ctx,
                                    struct out_kafka_retry *r)
{
    struct out_kafka_msg msg = out_kafka_retry_msg(r);

    out_kafka_resolved(ctx, out_kafka_cost(&msg));
    lsh_ticket_ack(r->ticket);
    out_kafka_retry_free(r);
}

void out_kafka_failed(struct out_kafka *ctx, rd_kafka_resp_err_t err,
                      const struct out_kafka_msg *orig, struct lsh_ticket *t,
                      struct out_kafka_retry *r, bool counts, bool permanent)
{
    const struct out_kafka_conf *c = ctx->conf;

    if (r == NULL) {
        r = out_kafka_retry_new(orig, t);
    }
    r->err = err;
    if (counts) {
        r->attempts++;
    }
    if (c->dead_letter != NULL &&
        (r->attempts >= (uint32_t)c->dead_letter->after_attempts ||
         permanent)) {
        if (out_kafka_dlq_write(ctx, r) == LSH_OK) {
            out_kafka_retry_resolve(ctx, r);
            return;
        }
        /* the dead letter failed: kept, not committed, tried again */
    } else if (permanent) {
        ctx->s.skipped++;
        lsh_ins_error(ctx->ins,
                      "cannot produce a %zu-byte record: %s; it is skipped "
                      "(set dead_letter to keep such records)",
                      r->vlen, rd_kafka_err2str(err));
        out_kafka_retry_resolve(ctx, r);
        return;
    }
    r->due =
        lsh_now_mono_ns() + (counts ? out_kafka_backoff_ns(c, r->attempts) : 0);
    r->next = NULL;
    *ctx->retry_tail = r;
    ctx->retry_tail = &r->next;
    ctx->retry_queued++;
    if (ctx->retry_head == r && !ctx->retry_blocked) {
        out_kafka_retry_arm(ctx); /* a new head: its own backoff */
    }
}

/*
 * Produces the queue again, in order, once its first record is due and
 * nothing produced before it is still out; stops when librdkafka is full.
 */
static void out_kafka_retry_run(struct out_kafka *ctx)
{
    uint64_t n;

    if (ctx->rk == NULL || ctx->fatal || ctx->retry_head == NULL) {
        return;
    }
    if (ctx->retry_head->due > lsh_now_mono_ns()) {
        out_kafka_retry_arm(ctx);
        return;
    }
    if (ctx->inflight > ctx->retry_queued + ctx->retry_pending) {
        return; /* older records are out: their reports run this again */
    }
    /* the records queued now (one refused again goes back to the end) */
    for (n = ctx->retry_queued; n > 0 && ctx->retry_head != NULL; n--) {
        struct out_kafka_retry *r = ctx->retry_head;
        struct out_kafka_msg    m = out_kafka_retry_msg(r);
        rd_kafka_resp_err_t     err;

        /* librdkafka takes the headers on success: give it a copy */
        m.hdrs = r->hdrs ? rd_kafka_headers_copy(r->hdrs) : NULL;
        err = out_kafka_produce(ctx, &m, out_kafka_tag(r));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && m.hdrs != NULL) {
            rd_kafka_headers_destroy(m.hdrs);
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* the next delivery reports make room and run this again */
            ctx->retry_blocked = true;
            lsh_timer_stop(ctx->ins->loop, &ctx->retry_timer);
            return;
        }
        ctx->retry_head = r->next;
        if (ctx->retry_head == NULL) {
            ctx->retry_tail = &ctx->retry_head;
        }
        ctx->retry_queued--;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            out_kafka_failed(ctx, err, NULL, r->ticket, r, true,
                             out_kafka_refused(err));
            continue;
        }
        ctx->retry_pending++;
        ctx->s.retried++;
    }
    out_kafka_retry_arm(ctx); /* for what went back to the queue, if any */
}

static void out_kafka_retry_due(struct lsh_timer *t)
{
    out_kafka_retry_run(t->data);
    out_kafka_maybe_wake(t->data); /* a retry may have resolved records */
}

void out_kafka_retry_free_all(struct out_kafka *ctx)
{
    while (ctx->retry_head != NULL) {
        struct out_kafka_retry *r = ctx->retry_head;

        ctx->retry_head = r->next;
        out_kafka_retry_free(r); /* its ticket stays held */
    }
    ctx->retry_tail = &ctx->retry_head;
    ctx->retry_queued = 0;
}

/* --- delivery reports ---------------------------------------------------- */

/*
 * Broker-side errors no retry fixes by itself: the record (or its batch)
 * is too large for the topic, or logship may not write to it.  They need
 * an operator, so they are loud: an error naming the topic, once a minute
 * while they last, and a counter.  The record is still kept and produced
 * again (the operator may raise the limit or grant the ACL), or goes to
 * dead_letter after its attempts; dropping it silently would lose it.
 */
static bool out_kafka_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        return true;
    default:
        return false;
    }
}

static void out_kafka_tell_permanent(struct out_kafka         *ctx,
                                     const rd_kafka_message_t *m)
{
    int64_t now = lsh_now_mono_ns();

    ctx->s.permanent++;
    if (ctx->told_permanent != 0 &&
        now - ctx->told_permanent < 60 * LSH_NS_PER_SEC) {
        return;
    }
    ctx->told_permanent = now;
    lsh_ins_error(ctx->ins,
                  "topic '%s' refuses records: %s (%s); %llu such failures "
                  "so far. The records are kept and produced again, and the "
                  "files' checkpoints wait for them: fix the topic (its "
                  "max.message.bytes, the ACLs) or set dead_letter",
                  rd_kafka_topic_name(m->rkt), rd_kafka_err2name(m->err),
                  rd_kafka_err2str(m->err),
                  (unsigned long long)ctx->s.permanent);
}

static void out_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
    struct out_kafka       *ctx = opaque;
    struct out_kafka_retry *r = out_kafka_untag(m->_private);
    struct lsh_ticket      *t = r != NULL ? r->ticket : m->_private;
    struct out_kafka_msg    msg;
    bool                    purged;

    (void)rk;
    if (out_kafka_txn_report(ctx, m)) {
        return; /* an offsets record (also after the transaction state went) */
    }
    if (r != NULL) {
        ctx->retry_pending--; /* a redelivery's report, whatever it says */
    }
    memset(&msg, 0, sizeof(msg));
    msg.klen = m->key != NULL ? m->key_len : 0;
    msg.vlen = m->len;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ctx->s.delivered++;
        ctx->reached = true;
        ctx->all_down = false;
        out_kafka_resolved(ctx, out_kafka_cost(&msg));
        lsh_ticket_ack(t);
        if (r != NULL) {
            out_kafka_retry_free(r);
        }
        return;
    }
    purged = m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
             m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
    if (ctx->txn != NULL && !ctx->exiting) {
        /* its transaction cannot commit: it is read again, not kept */
        out_kafka_txn_broken(ctx, "delivery to '%s' failed: %s",
                             rd_kafka_topic_name(m->rkt),
                             rd_kafka_err2str(m->err));
        ctx->s.failed++;
    }
    if (ctx->exiting || ctx->txn != NULL) {
        /* not delivered: the ticket stays held, the checkpoint too */
        out_kafka_resolved(ctx, out_kafka_cost(&msg));
        if (r != NULL) {
            out_kafka_retry_free(r);
        }
        return;
    }
    if (!(purged && ctx->recreating)) {
        /* a purge while the producer is replaced is not a failure */
        ctx->s.failed++;
        lsh_ins_fault(ctx->ins, "delivery to '%s' failed: %s",
                      rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
    if (r == NULL) {
        /* to produce again as it was asked: partition as configured */
        msg.topic = rd_kafka_topic_name(m->rkt);
        msg.partition = ctx->conf->partition;
        msg.key = m->key;
        msg.val = m->payload;
        if (rd_kafka_message_headers(m, &msg.hdrs) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            msg.hdrs = NULL;
        }
    }
    if (!purged && out_kafka_permanent(m->err)) {
        out_kafka_tell_permanent(ctx, m);
    } else if (!purged && ctx->s.failed % 1000 == 1) {
        lsh_ins_warn(ctx->ins,
                     "delivery failed (%s); the record is kept and produced "
                     "again (%llu failures so far)",
                     rd_kafka_err2str(m->err),
                     (unsigned long long)ctx->s.failed);
    }
    /* a purge while the producer is replaced is not the record's failure */
    out_kafka_failed(ctx, m->err, &msg, t, r, !(purged && ctx->recreating),
                     false);
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

    if (our <= LSH_LOG_WARN) {
        lsh_ins_fault(ctx->ins, "librdkafka %s: %s", fac, buf);
    }
    lsh_log(our, ctx->ins->name, "librdkafka %s: %s", fac, buf);
}

void out_kafka_conf_logs(rd_kafka_conf_t *kc, struct out_kafka *ctx)
{
    rd_kafka_conf_set_opaque(kc, ctx);
    rd_kafka_conf_set_log_cb(kc, out_kafka_log_cb);
}

static void out_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
                               void *opaque)
{
    struct out_kafka *ctx = opaque;
    char              fatal[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        ctx->fatal_err = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        if (ctx->txn != NULL) {
            ctx->fatal = true; /* kafka_txn.c tells and handles it */
            lsh_ins_fault(ctx->ins, "fatal producer error: %s", fatal);
            return;
        }
        lsh_ins_error(ctx->ins,
                      "fatal producer error: %s; replacing the producer and "
                      "producing what was in flight again",
                      fatal);
        lsh_ins_fault(ctx->ins, "fatal producer error: %s", fatal);
        ctx->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        ctx->all_down = true;
    }
    lsh_ins_fault(ctx->ins, "%s: %s", rd_kafka_err2name(err), reason);
    lsh_ins_warn(ctx->ins, "%s: %s", rd_kafka_err2name(err), reason);
}

static int out_kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len,
                              void *opaque)
{
    struct out_kafka *ctx = opaque;

    (void)rk;
    out_kafka_stats_parse(&ctx->m, json, len);
    if (ctx->m.brokers_up > 0) {
        ctx->reached = true;
        ctx->all_down = false;
    }
    return 0; /* librdkafka frees json */
}

int out_kafka_create(struct out_kafka *ctx)
{
    rd_kafka_conf_t  *kc;
    rd_kafka_queue_t *q;
    char              err[512];
    const char       *bad_opt;
    long              bad;

    kc = out_kafka_conf_build(ctx->conf, err, sizeof(err), &bad_opt, &bad);
    if (kc == NULL) {
        return lsh_ins_error(ctx->ins, "%s", err);
    }
    if (ctx->txn != NULL &&
        out_kafka_txn_conf(ctx, kc, err, sizeof(err)) != LSH_OK) {
        rd_kafka_conf_destroy(kc);
        return lsh_ins_error(ctx->ins, "%s", err);
    }
    rd_kafka_conf_set_opaque(kc, ctx);
    rd_kafka_conf_set_log_cb(kc, out_kafka_log_cb);
    rd_kafka_conf_set_error_cb(kc, out_kafka_error_cb);
    rd_kafka_conf_set_dr_msg_cb(kc, out_kafka_dr_cb);
    rd_kafka_conf_set_stats_cb(kc, out_kafka_stats_cb);
    ctx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    if (ctx->rk == NULL) {
        rd_kafka_conf_destroy(kc);
        return lsh_ins_error(ctx->ins, "cannot create producer: %s", err);
    }
    rd_kafka_set_log_queue(ctx->rk, NULL);
    q = rd_kafka_queue_get_main(ctx->rk);
    rd_kafka_queue_io_event_enable(q, ctx->pipe[1], "1", 1);
    rd_kafka_queue_destroy(q);
    /*
     * What the queue holds already (rd_kafka_new()'s own log lines, with
     * rdkafka: {debug: ...}) wrote no wake-up, and librdkafka writes one
     * only when an event lands in an empty queue: unserved, they kept
     * every later event (delivery reports) from waking us, and the
     * pipeline stalled until shutdown.  One wake-up of our own drains it.
     */
    if (write(ctx->pipe[1], "1", 1) < 0 && errno != EAGAIN) {
        lsh_ins_warn(ctx->ins, "wake-up pipe: %s", strerror(errno));
    }
    return LSH_OK;
}

void out_kafka_destroy_producer(struct out_kafka *ctx)
{
    out_kafka_topics_release(ctx);
    if (ctx->rk != NULL) {
        rd_kafka_destroy(ctx->rk);
        ctx->rk = NULL;
    }
}

static void out_kafka_producer_timer(struct lsh_timer *t);

static size_t out_kafka_retries(const struct out_kafka *ctx)
{
    const struct out_kafka_retry *r;
    size_t                        n = 0;

    for (r = ctx->retry_head; r != NULL; r = r->next) {
        n++;
    }
    return n;
}

/*
 * Creates the producer; if librdkafka refuses (out of memory, threads,
 * descriptors), tries again after a backoff of 100 ms doubling to 30 s,
 * and meanwhile flush() takes nothing.  Once it runs, what was kept is
 * produced again.
 */
static void out_kafka_start_producer(struct out_kafka *ctx)
{
    if (out_kafka_create(ctx) != LSH_OK) {
        ctx->s.create_failures++;
        ctx->create_backoff_ms =
            ctx->create_backoff_ms == 0
                ? 100
                : LSH_MIN(ctx->create_backoff_ms * 2, 30000);
        lsh_ins_error(ctx->ins,
                      "no producer (%llu failed attempts); %zu records wait "
                      "and are produced once one starts; trying again in "
                      "%lld ms",
                      (unsigned long long)ctx->s.create_failures,
                      out_kafka_retries(ctx),
                      (long long)ctx->create_backoff_ms);
        lsh_timer_start(ctx->ins->loop, &ctx->producer_timer,
                        ctx->create_backoff_ms, 0, out_kafka_producer_timer,
                        ctx);
        return;
    }
    if (ctx->create_backoff_ms > 0) {
        lsh_ins_info(ctx->ins, "producer started after %llu failed attempts",
                     (unsigned long long)ctx->s.create_failures);
    }
    ctx->create_backoff_ms = 0;
    out_kafka_retry_run(ctx);
    out_kafka_maybe_wake(ctx);
}

/*
 * After a fatal error: take back everything from the old producer, then
 * replace it.  The purge makes librdkafka report every message it holds
 * (each goes to the retry queue); the old producer is destroyed only once
 * every report is in, so no record's hold is left behind.  Waiting for
 * them never blocks the loop: this runs again from a timer until done.
 */
static void out_kafka_recreate(struct out_kafka *ctx)
{
    int64_t now = lsh_now_mono_ns();

    if (!ctx->recreating) {
        ctx->recreating = true;
        ctx->recreate_since = now;
        ctx->drain_told = false;
        rd_kafka_purge(ctx->rk, RD_KAFKA_PURGE_F_QUEUE |
                                    RD_KAFKA_PURGE_F_INFLIGHT |
                                    RD_KAFKA_PURGE_F_NON_BLOCKING);
    }
    while (rd_kafka_poll(ctx->rk, 0) > 0) {
    }
    if (rd_kafka_outq_len(ctx->rk) > 0) {
        if (now - ctx->recreate_since > 30 * LSH_NS_PER_SEC &&
            !ctx->drain_told) {
            ctx->drain_told = true;
            lsh_ins_warn(ctx->ins,
                         "the failed producer still holds %d messages; "
                         "waiting for their reports before replacing it",
                         rd_kafka_outq_len(ctx->rk));
        }
        lsh_timer_start(ctx->ins->loop, &ctx->producer_timer, 10, 0,
                        out_kafka_producer_timer, ctx);
        return;
    }
    out_kafka_destroy_producer(ctx);
    ctx->recreating = false;
    ctx->fatal = false;
    ctx->s.restarts++;
    if (ctx->inflight != out_kafka_retries(ctx)) {
        /* every record out is in librdkafka or in the retry queue */
        lsh_ins_error(ctx->ins,
                      "%llu records in flight but %zu kept after the "
                      "producer was replaced",
                      (unsigned long long)ctx->inflight,
                      out_kafka_retries(ctx));
    }
    out_kafka_start_producer(ctx);
}

static void out_kafka_producer_timer(struct lsh_timer *t)
{
    struct out_kafka *ctx = t->data;

    if (ctx->rk != NULL && ctx->fatal) {
        out_kafka_recreate(ctx);
    } else if (ctx->rk == NULL) {
        out_kafka_start_producer(ctx);
    }
}

/*
 * After records were resolved or room freed up: wakes the pipeline if it
 * waits (for room, or in sync mode for every ack), or the engine if it
 * waits for this output to drain.
 */
void out_kafka_maybe_wake(struct out_kafka *ctx)
{
    uint64_t room = (uint64_t)ctx->conf->max_inflight_bytes / 4 * 3;
    bool     ready =
        ctx->conf->delivery == OUT_KAFKA_SYNC
                ? ctx->inflight == 0
                : ctx->inflight_bytes <= room && !out_kafka_redelivering(ctx);

    if (ctx->want_wake && ready) {
        ctx->want_wake = false;
        lsh_output_wake(ctx->ins);
    } else if (ctx->inflight == 0 && ctx->ins->stopped) {
        lsh_output_wake(ctx->ins);
    }
}

/* Serves every queued delivery report, log line, error and statistic. */
void out_kafka_serve(struct out_kafka *ctx)
{
    while (rd_kafka_poll(ctx->rk, 0) > 0) {
    }
    if (ctx->txn != NULL) {
        if (ctx->fatal) {
            out_kafka_txn_fatal(ctx, ctx->fatal_err);
        }
        out_kafka_txn_serve(ctx);
        out_kafka_maybe_wake(ctx);
        return;
    }
    if (ctx->fatal) {
        out_kafka_recreate(ctx);
        if (ctx->rk == NULL || ctx->fatal) {
            return;
        }
    }
    ctx->retry_blocked = false;
    out_kafka_retry_run(ctx); /* reports may have made it possible */
    out_kafka_maybe_wake(ctx);
}
