/*
 * kafka output, delivery: exactly_once: the records and the file offsets
 * they end at, committed in one Kafka transaction (docs/exactly-once.md).
 *
 * The pipeline's checkpoint store is this output's (lsh_output_ckpt(own)):
 * the engine writes nothing by itself, and the store is held.
 *
 * Start.  The inputs wait (lsh_output_inputs_wait).  From a timer, in
 * steps that each block the loop for at most a few seconds:
 *   INIT   init_transactions(): fences an older instance with the same
 *          transactional.id and aborts what it left open;
 *   TOPIC  the offsets topic is created (compacted) if missing, reported
 *          if it is not compacted; our partition of it is picked by a
 *          hash of the transactional id;
 *   READ   that partition is read, read_committed, to the end it had
 *          after INIT; each record of ours (key "<id> <entry id>") is put
 *          into the store (lsh_ckpt_put), later ones over earlier ones.
 *          Kafka's offsets take precedence over the journal, which is a
 *          cache of them: when the store's tag says this output wrote it
 *          last, or the store is empty.  Otherwise (an at-least-once run
 *          wrote it since) the store is right and Kafka's records are
 *          stale: every entry goes to Kafka in the first transaction, and
 *          the records of ids the store lacks are deleted.
 * Then the inputs start, at those offsets.
 *
 * Running.  A transaction begins with its first record.  Records are
 * acknowledged as usual, and the acks move the files' offsets in the store
 * (which nothing writes to disk meanwhile).  transaction_interval after
 * its first record, or at transaction_records, a commit is due: flush()
 * takes no new batch (it finishes the one it is in, so that every ticket
 * of the transaction is whole), and once every record is acknowledged,
 * one offsets record per entry that changed (lsh_ckpt_changes) is
 * produced to the offsets topic and the transaction commits.  Then the
 * store is saved to the journal (lsh_ckpt_save, the cache).  A change of
 * offsets with no record (a batch every filter dropped, a new file) is
 * committed the same way, in a transaction of offsets only.
 *
 * Failure.  A delivery that fails, a commit refused, or a fatal producer
 * error: the transaction is aborted if it can be, and the pipeline starts
 * again from the persisted offsets (lsh_output_restart): a new producer,
 * INIT (a new epoch), READ.  What the aborted transaction held is read
 * again; read_committed consumers never saw it.
 *
 * The calls that wait for the coordinator (init, commit, abort) block the
 * loop for a round trip; a commit is asked for only once every record is
 * acknowledged, so it never waits for deliveries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "hmap.h"
#include "kafka.h"
#include "mem.h"
#include "metrics.h"

enum out_kafka_txn_phase {
    TXN_INIT,
    TXN_TOPIC,
    TXN_READ,
    TXN_RUN,
    TXN_BROKEN, /* the pipeline starts again */
    TXN_FENCED, /* another instance took over: stopped for good */
};

#define TXN_PARTITIONS   16   /* of an offsets topic logship creates */
#define TXN_STEP_MS      1000 /* the longest a start step blocks */
#define TXN_CALL_MS      500  /* the longest a commit or abort call blocks */
#define TXN_VALUE_PREFIX "1 " /* version of an offsets record's value */

struct out_kafka_txn {
    int               phase;
    char             *id; /* transactional.id */
    struct lsh_ckpt  *ck;
    char             *tag; /* what the store's tag says when it is ours */
    bool              synced;
    bool              local_wins; /* the store is newer than Kafka's records */
    bool              open;       /* a transaction began */
    bool              due;        /* commit it at the next batch boundary */
    bool              committing; /* commit_transaction() to resume */
    bool              mid_batch;  /* flush() stopped inside a batch */
    bool              stopping;
    uint64_t          records; /* produced in the open transaction */
    struct lsh_timer  timer;   /* start steps; the interval; retries */
    int32_t           partition;
    int64_t           end; /* the offsets partition's end, to read to */
    rd_kafka_t       *consumer;
    rd_kafka_topic_t *crkt;
    rd_kafka_topic_t *orkt;  /* the offsets topic, on the producer */
    uint64_t         *stale; /* ids Kafka has and a newer store lacks */
    size_t            nstale;
    size_t            stale_cap;
    uint64_t          read; /* offsets records read at start */
    uint64_t          commits;
    uint64_t          offsets;     /* offsets records committed */
    uint64_t          offsets_out; /* produced, not acknowledged */
    int64_t           commit_ns;   /* the last commit took */
    int64_t           told;        /* monotonic ns: waiting, said */
    int64_t        waiting_since;  /* monotonic ns a start step first failed */
    struct lsh_buf key;
    struct lsh_buf val;
};

static const char out_kafka_offsets_tag; /* opaque of an offsets record */

/* --- the transactional id ------------------------------------------------ */

char *out_kafka_txn_id(const struct out_kafka_conf *c, const char *pipeline,
                       const char **why)
{
    struct lsh_buf out = LSH_BUF_INIT;
    const char    *p = c->transactional_id;
    struct lsh_str host = lsh_host();

    while (*p != '\0') {
        if (strncmp(p, "{{host}}", 8) == 0) {
            lsh_buf_add(&out, host.ptr, host.len);
            p += 8;
        } else if (strncmp(p, "{{pipeline}}", 12) == 0) {
            lsh_buf_adds(&out, pipeline);
            p += 12;
        } else if (p[0] == '{' && p[1] == '{') {
            *why = "only {{host}} and {{pipeline}} may be used: the id must "
                   "not change from one record to the next";
            lsh_buf_release(&out);
            return NULL;
        } else if ((unsigned char)*p <= ' ') {
            *why = "must not contain spaces or control characters";
            lsh_buf_release(&out);
            return NULL;
        } else {
            lsh_buf_addc(&out, *p++);
        }
    }
    if (out.len == 0) {
        *why = "must not be empty";
        lsh_buf_release(&out);
        return NULL;
    }
    {
        char *id = lsh_strdup(lsh_buf_cstr(&out));

        lsh_buf_release(&out);
        return id;
    }
}

int out_kafka_txn_conf(struct out_kafka *ctx, rd_kafka_conf_t *kc, char *err,
                       size_t errlen)
{
    char   val[32];
    size_t len = sizeof(val);
    long   txn_ms = 60000;
    size_t i;

    /*
     * A delivery may not outlast its transaction: message.timeout.ms is at
     * most transaction.timeout.ms (60 s unless rdkafka: sets it).
     */
    for (i = 0; i < ctx->conf->rdkafka.n; i++) {
        if (strcmp(ctx->conf->rdkafka.keys[i], "transaction.timeout.ms") == 0 &&
            rd_kafka_conf_get(kc, "transaction.timeout.ms", val, &len) ==
                RD_KAFKA_CONF_OK) {
            txn_ms = atol(val);
        }
    }
    snprintf(val, sizeof(val), "%ld", txn_ms);
    if (rd_kafka_conf_set(kc, "transaction.timeout.ms", val, err, errlen) !=
        RD_KAFKA_CONF_OK) {
        return LSH_ERR;
    }
    if (ctx->conf->message_timeout_ms > txn_ms) {
        rd_kafka_conf_set(kc, "message.timeout.ms", val, err, errlen);
    }
    if (rd_kafka_conf_set(kc, "transactional.id", ctx->txn->id, err, errlen) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(kc, "enable.idempotence", "true", err, errlen) !=
            RD_KAFKA_CONF_OK) {
        return LSH_ERR;
    }
    return LSH_OK;
}

/* --- failure ------------------------------------------------------------- */

static bool out_kafka_txn_is_fenced(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__FENCED ||
           err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

/*
 * Another instance with our transactional id started: it is the one that
 * goes on, from the offsets we committed.  This one stops producing for
 * good (starting again would fence that one in turn, and both would read
 * the same files): the pipeline holds its inputs until a restart.
 */
static void out_kafka_txn_fenced(struct out_kafka *ctx, const char *why)
{
    struct out_kafka_txn *x = ctx->txn;

    if (x->phase == TXN_FENCED || ctx->exiting) {
        return;
    }
    x->phase = TXN_FENCED;
    x->open = false;
    lsh_timer_stop(ctx->ins->loop, &x->timer);
    lsh_output_restart_cancel(ctx->ins); /* a failure before may have asked */
    lsh_ins_error(ctx->ins,
                  "fenced: another instance started with transactional id "
                  "'%s' (%s); this one stops producing for good, and what it "
                  "had not committed is the new instance's to read. Give "
                  "each host and pipeline its own transactional_id",
                  x->id, why);
    lsh_ins_fault(ctx->ins,
                  "fenced by another instance with transactional "
                  "id '%s'",
                  x->id);
}

void out_kafka_txn_broken(struct out_kafka *ctx, const char *fmt, ...)
{
    struct out_kafka_txn *x = ctx->txn;
    char                  why[300];
    va_list               ap;

    if (x->phase == TXN_BROKEN || x->phase == TXN_FENCED || ctx->exiting) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (ctx->fatal && out_kafka_txn_is_fenced(ctx->fatal_err)) {
        /* a failed delivery of a fenced producer: fenced, not broken */
        out_kafka_txn_fenced(ctx, why);
        return;
    }
    x->phase = TXN_BROKEN;
    lsh_timer_stop(ctx->ins->loop, &x->timer);
    lsh_ins_error(ctx->ins,
                  "transaction %s aborted (%s): read_committed consumers see "
                  "none of it; the pipeline reads again from the last "
                  "committed offsets",
                  x->id, why);
    lsh_ins_fault(ctx->ins, "transaction aborted: %s", why);
    /*
     * No abort_transaction() here (this may be a delivery report, inside
     * librdkafka's poll, where its flush would wait for the report being
     * served): the new producer's init_transactions() aborts it.
     */
    x->open = false;
    lsh_output_restart(ctx->ins, why);
}

void out_kafka_txn_fatal(struct out_kafka *ctx, rd_kafka_resp_err_t err)
{
    if (out_kafka_txn_is_fenced(err)) {
        out_kafka_txn_fenced(ctx, rd_kafka_err2str(err));
    } else {
        out_kafka_txn_broken(ctx, "fatal producer error: %s",
                             rd_kafka_err2str(err));
    }
}

/* A transactional call's error: broken, or (retriable) try again soon. */
static bool out_kafka_txn_error(struct out_kafka *ctx, rd_kafka_error_t *e,
                                const char *what)
{
    bool again = rd_kafka_error_is_retriable(e) &&
                 !rd_kafka_error_txn_requires_abort(e) &&
                 !rd_kafka_error_is_fatal(e);

    if (out_kafka_txn_is_fenced(rd_kafka_error_code(e)) ||
        (rd_kafka_error_is_fatal(e) &&
         out_kafka_txn_is_fenced(ctx->fatal_err))) {
        ctx->fatal = true;
        out_kafka_txn_fenced(ctx, rd_kafka_error_string(e));
        again = false;
    } else if (!again) {
        if (rd_kafka_error_is_fatal(e)) {
            ctx->fatal = true;
        }
        out_kafka_txn_broken(ctx, "%s: %s", what, rd_kafka_error_string(e));
    }
    rd_kafka_error_destroy(e);
    return again;
}

/* --- start --------------------------------------------------------------- */

static void out_kafka_txn_step(struct lsh_timer *t);

static void out_kafka_txn_later(struct out_kafka *ctx, int64_t ms)
{
    lsh_timer_start(ctx->ins->loop, &ctx->txn->timer, ms, 0, out_kafka_txn_step,
                    ctx);
}

/* Said once a minute at most, while a start step waits. */
static void out_kafka_txn_waiting(struct out_kafka *ctx, const char *what,
                                  const char *why)
{
    int64_t now = lsh_now_mono_ns();

    if (ctx->txn->waiting_since == 0) {
        ctx->txn->waiting_since = now;
    }
    /* a topic just created has no leader for a moment: not worth a word */
    if (now - ctx->txn->waiting_since >= 3 * LSH_NS_PER_SEC &&
        (ctx->txn->told == 0 || now - ctx->txn->told > 60 * LSH_NS_PER_SEC)) {
        ctx->txn->told = now;
        lsh_ins_warn(ctx->ins,
                     "exactly_once: %s (%s); nothing is read until it "
                     "succeeds, trying again",
                     what, why);
    }
    lsh_ins_fault(ctx->ins, "%s: %s", what, why);
}

/* Creates the offsets topic, compacted; reports one that is not. */
static int out_kafka_txn_topic(struct out_kafka *ctx)
{
    const char                           *name = ctx->conf->offsets_topic;
    rd_kafka_queue_t                     *q = rd_kafka_queue_new(ctx->rk);
    rd_kafka_NewTopic_t                  *nt;
    rd_kafka_event_t                     *ev;
    const rd_kafka_topic_result_t *const *res;
    size_t                                n = 0;
    char                                  err[256];
    rd_kafka_resp_err_t                   code = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int                                   rc = LSH_ERR;

    nt = rd_kafka_NewTopic_new(name, TXN_PARTITIONS, -1, err, sizeof(err));
    if (nt == NULL) {
        rd_kafka_queue_destroy(q);
        out_kafka_txn_waiting(ctx, "cannot create the offsets topic", err);
        return LSH_ERR;
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_CreateTopics(ctx->rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, TXN_STEP_MS);
    if (ev != NULL) {
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
        code = n == 1 ? rd_kafka_topic_result_error(res[0])
                      : rd_kafka_event_error(ev);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
        lsh_ins_info(ctx->ins, "created the offsets topic '%s' (compacted)",
                     name);
        rc = LSH_OK;
    } else if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        rc = LSH_OK;
    } else {
        out_kafka_txn_waiting(ctx, "cannot create the offsets topic",
                              rd_kafka_err2str(code));
    }
    return rc;
}

/* Warns if the offsets topic is not compacted: it would lose offsets. */
static void out_kafka_txn_check_compacted(struct out_kafka *ctx)
{
    rd_kafka_queue_t                       *q = rd_kafka_queue_new(ctx->rk);
    rd_kafka_ConfigResource_t              *cr;
    rd_kafka_event_t                       *ev;
    const rd_kafka_ConfigResource_t *const *rs;
    const rd_kafka_ConfigEntry_t *const    *ents;
    size_t                                  n = 0;
    size_t                                  ne = 0;
    size_t                                  i;

    cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
                                     ctx->conf->offsets_topic);
    rd_kafka_DescribeConfigs(ctx->rk, &cr, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, TXN_STEP_MS);
    if (ev != NULL && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rs = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &n);
        ents = n == 1 ? rd_kafka_ConfigResource_configs(rs[0], &ne) : NULL;
        for (i = 0; i < ne; i++) {
            const char *v = rd_kafka_ConfigEntry_value(ents[i]);

            if (strcmp(rd_kafka_ConfigEntry_name(ents[i]), "cleanup.policy") ==
                    0 &&
                (v == NULL || strstr(v, "compact") == NULL)) {
                lsh_ins_warn(ctx->ins,
                             "the offsets topic '%s' has cleanup.policy=%s, "
                             "not compact: retention will delete committed "
                             "offsets, and a restart after that reads files "
                             "again from where it has none (set "
                             "cleanup.policy=compact on it)",
                             ctx->conf->offsets_topic, v ? v : "(none)");
            }
        }
    }
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_queue_destroy(q);
}

/* Our partition of the offsets topic: a hash of the transactional id. */
static int out_kafka_txn_partition(struct out_kafka *ctx)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t   *rkt = out_kafka_rkt(ctx, ctx->conf->offsets_topic);
    rd_kafka_resp_err_t err;
    int                 parts = 0;

    if (rkt == NULL) {
        return LSH_ERR;
    }
    err = rd_kafka_metadata(ctx->rk, 0, rkt, &md, TXN_STEP_MS);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        parts = md->topics[0].partition_cnt;
    }
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    if (parts <= 0) {
        out_kafka_txn_waiting(ctx, "no metadata for the offsets topic",
                              rd_kafka_err2str(err));
        return LSH_ERR;
    }
    ctx->txn->orkt = rkt;
    ctx->txn->partition =
        (int32_t)(lsh_hash_bytes(ctx->txn->id, strlen(ctx->txn->id)) %
                  (uint64_t)parts);
    return LSH_OK;
}

/* The connection settings of the producer, for the offsets reader. */
static rd_kafka_conf_t *out_kafka_txn_consumer_conf(struct out_kafka *ctx)
{
    rd_kafka_conf_t *cc = out_kafka_conf_connection(ctx->conf);
    char             err[256];

    rd_kafka_conf_set(cc, "isolation.level", "read_committed", err,
                      sizeof(err));
    rd_kafka_conf_set(cc, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(cc, "group.id", "logship-offsets-reader", err,
                      sizeof(err));
    rd_kafka_conf_set(cc, "log.connection.close", "false", err, sizeof(err));
    /* its logs reach us on our thread, when it is polled */
    rd_kafka_conf_set(cc, "log.queue", "true", err, sizeof(err));
    out_kafka_conf_logs(cc, ctx);
    return cc;
}

static void out_kafka_txn_reader_free(struct out_kafka_txn *x)
{
    if (x->consumer != NULL) {
        rd_kafka_poll(x->consumer, 0);
    }
    if (x->crkt != NULL) {
        rd_kafka_consume_stop(x->crkt, x->partition);
        rd_kafka_topic_destroy(x->crkt);
        x->crkt = NULL;
    }
    if (x->consumer != NULL) {
        rd_kafka_destroy(x->consumer);
        x->consumer = NULL;
    }
}

static int out_kafka_txn_reader_start(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;
    rd_kafka_conf_t      *cc = out_kafka_txn_consumer_conf(ctx);
    char                  err[512];
    int64_t               lo = 0;
    int64_t               hi = 0;
    rd_kafka_resp_err_t   e;

    if (cc == NULL) {
        return LSH_ERR;
    }
    x->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (x->consumer == NULL) {
        rd_kafka_conf_destroy(cc);
        out_kafka_txn_waiting(ctx, "cannot read the offsets topic", err);
        return LSH_ERR;
    }
    rd_kafka_set_log_queue(x->consumer, NULL);
    e = rd_kafka_query_watermark_offsets(x->consumer, ctx->conf->offsets_topic,
                                         x->partition, &lo, &hi, TXN_STEP_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        out_kafka_txn_waiting(ctx, "cannot read the offsets topic",
                              rd_kafka_err2str(e));
        out_kafka_txn_reader_free(x);
        return LSH_ERR;
    }
    x->end = hi;
    if (hi <= lo) {
        return LSH_OK; /* nothing there */
    }
    x->crkt = rd_kafka_topic_new(x->consumer, ctx->conf->offsets_topic, NULL);
    if (x->crkt == NULL ||
        rd_kafka_consume_start(x->crkt, x->partition,
                               RD_KAFKA_OFFSET_BEGINNING) != 0) {
        out_kafka_txn_waiting(ctx, "cannot read the offsets topic",
                              rd_kafka_err2str(rd_kafka_last_error()));
        out_kafka_txn_reader_free(x);
        return LSH_ERR;
    }
    return LSH_OK;
}

/* One offsets record read: ours (by its key) goes into the store. */
static void out_kafka_txn_apply(struct out_kafka         *ctx,
                                const rd_kafka_message_t *m)
{
    struct out_kafka_txn *x = ctx->txn;
    size_t                idl = strlen(x->id);
    const char           *k = m->key;
    char                 *line = NULL;
    uint64_t              id = 0;
    size_t                i;
    size_t                pl = strlen(TXN_VALUE_PREFIX);

    if (k == NULL || m->key_len <= idl + 1 || memcmp(k, x->id, idl) != 0 ||
        k[idl] != ' ') {
        return; /* another instance's */
    }
    for (i = idl + 1; i < m->key_len; i++) {
        if (k[i] < '0' || k[i] > '9' || id > UINT64_MAX / 10) {
            return;
        }
        id = id * 10 + (uint64_t)(k[i] - '0');
    }
    x->read++;
    if (x->local_wins) {
        /* the store is newer: delete Kafka's records of ids it lacks */
        LSH_GROW(x->stale, x->stale_cap, x->nstale + 1);
        x->stale[x->nstale++] = id;
        return;
    }
    if (m->payload == NULL && !lsh_ckpt_has_id(x->ck, id)) {
        return; /* gone there and here: nothing to say again */
    }
    if (m->payload != NULL) {
        if (m->len < pl || memcmp(m->payload, TXN_VALUE_PREFIX, pl) != 0) {
            lsh_ins_warn(ctx->ins,
                         "offsets record '%.*s' of an unknown "
                         "format: ignored",
                         (int)m->key_len, k);
            return;
        }
        line = lsh_malloc(m->len - pl + 1);
        memcpy(line, (const char *)m->payload + pl, m->len - pl);
        line[m->len - pl] = '\0';
    }
    if (lsh_ckpt_put(x->ck, id, line) != LSH_OK) {
        lsh_ins_warn(ctx->ins, "offsets record '%.*s' does not parse: ignored",
                     (int)m->key_len, k);
    }
    free(line);
}

/* Reads the offsets partition for at most a step; LSH_OK at its end. */
static int out_kafka_txn_read(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;
    int64_t             until = lsh_now_mono_ns() + TXN_STEP_MS * LSH_NS_PER_MS;
    rd_kafka_message_t *m;
    int                 rc = LSH_EAGAIN;

    if (x->crkt == NULL) {
        return LSH_OK;
    }
    while (rc == LSH_EAGAIN && lsh_now_mono_ns() < until) {
        rd_kafka_poll(x->consumer, 0); /* its logs */
        m = rd_kafka_consume(x->crkt, x->partition, 100);
        if (m == NULL) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->offset >= x->end) {
                rc = LSH_OK; /* what was committed before INIT is in */
            }
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            out_kafka_txn_waiting(ctx, "reading the offsets topic failed",
                                  rd_kafka_message_errstr(m));
            rc = LSH_ERR;
        } else {
            out_kafka_txn_apply(ctx, m);
        }
        rd_kafka_message_destroy(m);
    }
    return rc;
}

static int out_kafka_txn_cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The store now holds what Kafka committed: the inputs may start. */
static void out_kafka_txn_start_inputs(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;
    size_t                i;

    out_kafka_txn_reader_free(x);
    if (x->local_wins) {
        lsh_ins_info(ctx->ins,
                     "exactly_once: the checkpoints were written without it "
                     "since (at-least-once): they are committed to '%s' "
                     "as they are, and %zu older records there are deleted",
                     ctx->conf->offsets_topic, x->nstale);
        qsort(x->stale, x->nstale, sizeof(*x->stale), out_kafka_txn_cmp_id);
        for (i = 0; i < x->nstale; i++) {
            if ((i == 0 || x->stale[i] != x->stale[i - 1]) &&
                !lsh_ckpt_has_id(x->ck, x->stale[i])) {
                lsh_ckpt_put(x->ck, x->stale[i], NULL);
            }
        }
        lsh_ckpt_touch_all(x->ck);
    }
    free(x->stale);
    x->stale = NULL;
    x->nstale = 0;
    x->phase = TXN_RUN;
    x->told = 0;
    x->waiting_since = 0;
    lsh_ins_info(ctx->ins,
                 "exactly_once as '%s': %llu offsets records read from "
                 "'%s' [%d]; %zu files known",
                 x->id, (unsigned long long)x->read, ctx->conf->offsets_topic,
                 (int)x->partition, lsh_ckpt_count(x->ck));
    lsh_output_inputs_go(ctx->ins);
    if (lsh_ckpt_pending(x->ck)) {
        out_kafka_txn_later(ctx, ctx->conf->transaction_interval_ms);
    }
}

static void out_kafka_txn_commit(struct out_kafka *ctx);

/* Offsets moved with no transaction open: one of offsets only, soon. */
static void out_kafka_txn_changed(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;

    if (x->phase == TXN_RUN && !x->open && !x->timer.active) {
        out_kafka_txn_later(ctx, ctx->conf->transaction_interval_ms);
    }
}

static void out_kafka_txn_notify(void *arg)
{
    out_kafka_txn_changed(arg);
}

static void out_kafka_txn_step(struct lsh_timer *t)
{
    struct out_kafka     *ctx = t->data;
    struct out_kafka_txn *x = ctx->txn;
    rd_kafka_error_t     *e;
    int                   rc;

    switch (x->phase) {
    case TXN_INIT:
        if (ctx->rk == NULL) {
            out_kafka_txn_later(ctx, 1000);
            return;
        }
        /* resumable: short calls, so the loop is free half of the wait */
        e = rd_kafka_init_transactions(ctx->rk, 250);
        if (e != NULL) {
            if (out_kafka_txn_error(ctx, e, "init_transactions")) {
                out_kafka_txn_waiting(ctx,
                                      "waiting for the transaction "
                                      "coordinator",
                                      "init_transactions");
                out_kafka_txn_later(ctx, 250);
            }
            return;
        }
        x->phase = TXN_TOPIC;
        /* fall through */
    case TXN_TOPIC:
        if (out_kafka_txn_topic(ctx) != LSH_OK ||
            out_kafka_txn_partition(ctx) != LSH_OK) {
            out_kafka_txn_later(ctx, 250);
            return;
        }
        out_kafka_txn_check_compacted(ctx);
        /* decided once, before the first record changes the count */
        x->local_wins = !x->synced && lsh_ckpt_count(x->ck) > 0;
        if (out_kafka_txn_reader_start(ctx) != LSH_OK) {
            out_kafka_txn_later(ctx, 250);
            return;
        }
        x->phase = TXN_READ;
        /* fall through */
    case TXN_READ:
        rc = out_kafka_txn_read(ctx);
        if (rc == LSH_EAGAIN) {
            out_kafka_txn_later(ctx, 0);
        } else if (rc != LSH_OK) {
            /* from the start: the store may hold half of it */
            out_kafka_txn_broken(ctx, "reading the offsets topic failed");
        } else {
            out_kafka_txn_start_inputs(ctx);
        }
        return;
    case TXN_RUN:
        x->due = true; /* the interval is up */
        out_kafka_txn_serve(ctx);
        return;
    default:
        return;
    }
}

int out_kafka_txn_init(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = lsh_calloc(1, sizeof(*x));
    const char           *why = "";
    const char           *slash = strchr(ctx->ins->name, '/');
    char                  pipeline[128];

    ctx->txn = x;
    snprintf(pipeline, sizeof(pipeline), "%.*s",
             (int)(slash != NULL ? slash - ctx->ins->name
                                 : (ptrdiff_t)strlen(ctx->ins->name)),
             ctx->ins->name);
    x->id = out_kafka_txn_id(ctx->conf, pipeline, &why);
    if (x->id == NULL) {
        return lsh_ins_error(ctx->ins, "transactional_id: %s", why);
    }
    x->ck = lsh_output_ckpt(ctx->ins, true);
    if (x->ck == NULL) {
        return lsh_ins_error(ctx->ins, "exactly_once needs an input that "
                                       "keeps checkpoints");
    }
    lsh_ckpt_hold(x->ck, true);
    lsh_ckpt_set_notify(x->ck, out_kafka_txn_notify, ctx);
    x->tag = lsh_malloc(strlen(x->id) + 32);
    sprintf(x->tag, "kafka-exactly-once %s", x->id);
    x->synced =
        lsh_ckpt_tag(x->ck) != NULL && strcmp(lsh_ckpt_tag(x->ck), x->tag) == 0;
    lsh_output_inputs_wait(ctx->ins);
    out_kafka_txn_later(ctx, 0);
    return LSH_OK;
}

int out_kafka_txn_take(struct out_kafka *ctx, size_t pos)
{
    struct out_kafka_txn *x = ctx->txn;
    rd_kafka_error_t     *e;

    if (x->phase == TXN_FENCED && x->stopping) {
        /* the new instance reads it: let the batch go, so shutdown ends */
        return OUT_KAFKA_DISCARD;
    }
    if (x->phase != TXN_RUN || ctx->rk == NULL) {
        return LSH_EAGAIN;
    }
    if (pos == 0 && x->due) {
        out_kafka_txn_serve(ctx); /* a new batch waits for the commit */
        if (x->due || x->phase != TXN_RUN) {
            return LSH_EAGAIN;
        }
    }
    if (!x->open) {
        e = rd_kafka_begin_transaction(ctx->rk);
        if (e != NULL) {
            out_kafka_txn_error(ctx, e, "begin_transaction");
            return LSH_EAGAIN;
        }
        x->open = true;
        x->records = 0;
        out_kafka_txn_later(ctx, ctx->conf->transaction_interval_ms);
    }
    return LSH_OK;
}

void out_kafka_txn_flushed(struct out_kafka *ctx, bool whole)
{
    ctx->txn->mid_batch = !whole;
}

void out_kafka_txn_produced(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;

    if (++x->records >= (uint64_t)ctx->conf->transaction_records) {
        x->due = true;
    }
}

bool out_kafka_txn_report(struct out_kafka *ctx, const rd_kafka_message_t *m)
{
    struct out_kafka_txn *x = ctx->txn;

    if (m->_private != &out_kafka_offsets_tag) {
        return false;
    }
    if (x == NULL) {
        return true; /* at exit, purged */
    }
    x->offsets_out--;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        out_kafka_txn_broken(ctx, "an offsets record failed: %s",
                             rd_kafka_err2str(m->err));
    }
    return true;
}

/* One offsets record (line NULL: a removed entry, a tombstone). */
static void out_kafka_txn_offset(void *arg, uint64_t id, const char *line,
                                 size_t len)
{
    struct out_kafka     *ctx = arg;
    struct out_kafka_txn *x = ctx->txn;
    void                 *tag = (void *)&out_kafka_offsets_tag;
    void                 *val = NULL;
    size_t                vlen = 0;
    rd_kafka_resp_err_t   err;

    if (x->phase != TXN_RUN) {
        return;
    }
    lsh_buf_reset(&x->key);
    lsh_buf_addf(&x->key, "%s %" PRIu64, x->id, id);
    lsh_buf_reset(&x->val);
    if (line != NULL) {
        lsh_buf_adds(&x->val, TXN_VALUE_PREFIX);
        lsh_buf_add(&x->val, line, len);
        val = x->val.ptr;
        vlen = x->val.len;
    }
    err = rd_kafka_producev(
        ctx->rk, RD_KAFKA_V_RKT(x->orkt), RD_KAFKA_V_PARTITION(x->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(x->key.ptr, x->key.len), RD_KAFKA_V_VALUE(val, vlen),
        RD_KAFKA_V_OPAQUE(tag), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        out_kafka_txn_broken(ctx, "an offsets record was refused: %s",
                             rd_kafka_err2str(err));
        return;
    }
    x->offsets_out++;
    x->offsets++;
}

/* Persists the store (the journal, a cache) as committed; and the tag. */
static void out_kafka_txn_persist(struct out_kafka *ctx, bool compact)
{
    struct out_kafka_txn *x = ctx->txn;

    lsh_ckpt_hold(x->ck, false);
    if (compact) {
        lsh_ckpt_compact(x->ck);
    } else {
        lsh_ckpt_save(x->ck);
    }
    lsh_ckpt_hold(x->ck, true);
    if (!x->synced && lsh_ckpt_set_tag(x->ck, x->tag) == LSH_OK) {
        x->synced = true;
    }
}

static void out_kafka_txn_commit(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;
    rd_kafka_error_t     *e;
    int64_t               t0 = lsh_now_mono_ns();

    if (!x->open) {
        e = rd_kafka_begin_transaction(ctx->rk);
        if (e != NULL) {
            out_kafka_txn_error(ctx, e, "begin_transaction");
            return;
        }
        x->open = true;
    }
    if (!x->committing) {
        lsh_ckpt_changes(x->ck, out_kafka_txn_offset, ctx);
        if (x->phase != TXN_RUN) {
            return;
        }
        x->committing = true;
    }
    /*
     * Bounded, and resumed from the timer while it times out (librdkafka
     * continues it meanwhile): a coordinator that is away must not hold
     * the loop (signals, the HTTP API, the other pipelines) for the
     * transaction timeout.
     */
    e = rd_kafka_commit_transaction(ctx->rk, TXN_CALL_MS);
    if (e != NULL) {
        if (out_kafka_txn_error(ctx, e, "commit_transaction")) {
            out_kafka_txn_later(ctx, 100); /* resumed, not begun again */
        }
        return;
    }
    x->committing = false;
    x->open = false;
    x->due = false;
    x->records = 0;
    x->commits++;
    x->commit_ns = lsh_now_mono_ns() - t0;
    out_kafka_txn_persist(ctx, false);
    lsh_output_wake(ctx->ins);
}

void out_kafka_txn_serve(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;

    if (x->phase != TXN_RUN || ctx->rk == NULL) {
        return;
    }
    if (!x->open && !x->due) {
        if (lsh_ckpt_pending(x->ck)) {
            out_kafka_txn_changed(ctx); /* offsets only, soon */
        }
        return;
    }
    if (!x->due || ctx->inflight > 0 || x->offsets_out > 0 || x->mid_batch) {
        return; /* every ack, and the whole of the batch under way */
    }
    if (!x->open && !lsh_ckpt_pending(x->ck)) {
        x->due = false;
        return;
    }
    lsh_timer_stop(ctx->ins->loop, &x->timer);
    out_kafka_txn_commit(ctx);
    if (x->phase == TXN_RUN && !x->open && lsh_ckpt_pending(x->ck)) {
        out_kafka_txn_changed(ctx);
    }
}

void out_kafka_txn_stop(struct out_kafka *ctx)
{
    ctx->txn->stopping = true;
    ctx->txn->due = true;
    out_kafka_txn_serve(ctx);
}

size_t out_kafka_txn_pending(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;

    if (x->phase != TXN_RUN) {
        return 0; /* nothing committed can be lost: nothing to wait for */
    }
    if (x->stopping && !x->due && lsh_ckpt_pending(x->ck)) {
        x->due = true; /* offsets that moved since: one more commit */
        out_kafka_txn_serve(ctx);
    }
    return (x->open || (x->due && lsh_ckpt_pending(x->ck))) ? 1 : 0;
}

bool out_kafka_txn_ready(struct out_kafka *ctx, struct lsh_buf *why)
{
    switch (ctx->txn->phase) {
    case TXN_RUN:
        return true;
    case TXN_FENCED:
        lsh_buf_adds(why, "fenced by another instance with its "
                          "transactional id: stopped for good");
        return false;
    case TXN_BROKEN:
        lsh_buf_adds(why, "a transaction aborted: starting again");
        return false;
    default:
        lsh_buf_adds(why, "reading its committed offsets (exactly_once)");
        return false;
    }
}

bool out_kafka_txn_live(struct out_kafka *ctx)
{
    return ctx->txn->phase != TXN_BROKEN && ctx->txn->phase != TXN_FENCED;
}

void out_kafka_txn_metrics(struct out_kafka *ctx, struct lsh_metrics *m,
                           const char *const *l)
{
    lsh_metric_u64(m, LSH_M_KAFKA_TXN_COMMITS, l, ctx->txn->commits);
    lsh_metric_u64(m, LSH_M_KAFKA_TXN_RESTARTS, l,
                   lsh_output_restarts(ctx->ins));
}

void out_kafka_txn_status(struct out_kafka *ctx, struct lsh_buf *json)
{
    struct out_kafka_txn *x = ctx->txn;

    lsh_buf_adds(json, ",\"transactional_id\":");
    lsh_json_str(json, x->id, strlen(x->id));
    lsh_buf_addf(
        json,
        ",\"transactions_committed\":%" PRIu64 ",\"offsets_committed\":%" PRIu64
        ",\"pipeline_restarts\":%" PRIu64 ",\"last_commit_seconds\":%.6f",
        x->commits, x->offsets, lsh_output_restarts(ctx->ins),
        (double)x->commit_ns / 1e9);
}

void out_kafka_txn_exit(struct out_kafka *ctx)
{
    struct out_kafka_txn *x = ctx->txn;
    rd_kafka_error_t     *e;

    lsh_timer_stop(ctx->ins->loop, &x->timer);
    out_kafka_txn_reader_free(x);
    if (x->phase == TXN_RUN && !x->open && !lsh_ckpt_pending(x->ck)) {
        /* everything is committed: the journal may be compacted */
        out_kafka_txn_persist(ctx, true);
    } else if (x->open && ctx->rk != NULL && !ctx->fatal) {
        e = rd_kafka_abort_transaction(ctx->rk, TXN_CALL_MS);
        if (e != NULL) {
            rd_kafka_error_destroy(e);
        }
        lsh_ins_warn(ctx->ins,
                     "the open transaction was aborted at exit: what it "
                     "held is read again at the next start");
    }
    lsh_ins_info(ctx->ins,
                 "exactly_once: %llu transactions committed, %llu offsets "
                 "records; the pipeline started again %llu times",
                 (unsigned long long)x->commits, (unsigned long long)x->offsets,
                 (unsigned long long)lsh_output_restarts(ctx->ins));
    lsh_buf_release(&x->key);
    lsh_buf_release(&x->val);
    free(x->stale);
    free(x->tag);
    free(x->id);
    free(x);
    ctx->txn = NULL;
}
