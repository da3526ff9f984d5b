/*
 * kafka output: produces records to Apache Kafka with librdkafka.
 *
 * Producing is asynchronous.  Each accepted record takes a hold on its
 * batch's ticket, released by the delivery report once the broker has
 * acknowledged it, so a file's checkpoint never passes an unacked line.
 * Delivery reports, logs and errors come through librdkafka's main
 * queue, which signals a pipe watched by the engine's loop; everything
 * runs on the engine thread.
 *
 * When librdkafka's queue is full, flush() returns LSH_EAGAIN and the
 * pipeline waits; the next delivery reports wake it.
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

struct out_kafka_conf {
    char             *brokers;
    char             *topic;
    int               format;
    struct lsh_kvlist rdkafka;
};

struct out_kafka {
    struct lsh_instance *ins;
    rd_kafka_t          *rk;
    rd_kafka_topic_t    *rkt;
    int                  pipe[2];
    struct lsh_io        io;
    struct lsh_buf       buf;
    uint64_t             inflight; /* produced, no delivery report yet */
    uint64_t             delivered;
    uint64_t             failed;    /* delivery reports with an error */
    bool                 want_wake; /* flush() returned LSH_EAGAIN */
    bool                 exiting;
};

static const char *const out_kafka_formats[] = {"json", "raw", NULL};

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
    size_t           i;

    for (i = 0; i < LSH_ARRAY_SIZE(out_kafka_defaults); i++) {
        out_kafka_set(kc, out_kafka_defaults[i][0], out_kafka_defaults[i][1],
                      err, errlen);
    }
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
    return LSH_OK;
}

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
        lsh_ins_error(ctx->ins, "fatal producer error: %s", fatal);
        return;
    }
    lsh_ins_warn(ctx->ins, "%s: %s", rd_kafka_err2name(err), reason);
}

/* Errors that no retry can fix, for this record. */
static bool out_kafka_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        return true;
    default:
        return false;
    }
}

static void out_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
    struct out_kafka   *ctx = opaque;
    struct lsh_ticket  *t = m->_private;
    rd_kafka_resp_err_t err;

    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ctx->inflight--;
        ctx->delivered++;
        lsh_ticket_ack(t);
        return;
    }
    ctx->failed++;
    if (ctx->exiting || m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        /* not delivered: the ticket stays held, the checkpoint stays */
        ctx->inflight--;
        return;
    }
    if (out_kafka_permanent(m->err)) {
        /* the broker will never take this record: skip it, as at produce */
        ctx->inflight--;
        lsh_ins_error(ctx->ins,
                      "broker rejected a %zu-byte record: %s; it "
                      "is skipped",
                      m->len, rd_kafka_err2str(m->err));
        lsh_ticket_ack(t);
        return;
    }
    /*
     * Not delivered: produce it again (the slot it used is free now) and
     * keep the ticket held.  Order within the partition is lost for it.
     */
    lsh_ins_warn(ctx->ins, "delivery failed (%s), producing again",
                 rd_kafka_err2str(m->err));
    err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(m->rkt),
                            RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(m->payload, m->len),
                            RD_KAFKA_V_KEY(m->key, m->key_len),
                            RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ctx->inflight--;
        lsh_ins_error(ctx->ins,
                      "cannot produce again (%s): record not delivered; its "
                      "file offset will not be checkpointed",
                      rd_kafka_err2str(err));
    }
}

/* Serves every queued delivery report, log line and error. */
static void out_kafka_serve(struct out_kafka *ctx)
{
    while (rd_kafka_poll(ctx->rk, 0) > 0) {
    }
    if (ctx->want_wake) {
        ctx->want_wake = false;
        lsh_output_wake(ctx->ins);
    } else if (ctx->inflight == 0 && ctx->ins->stopped) {
        lsh_output_wake(ctx->ins); /* lets the engine see we drained */
    }
}

static void out_kafka_io(struct lsh_io *io, uint32_t events)
{
    struct out_kafka *ctx = io->data;
    char              drain[256];

    (void)events;
    while (read(ctx->pipe[0], drain, sizeof(drain)) > 0) {
    }
    out_kafka_serve(ctx);
}

static int out_kafka_start_events(struct out_kafka *ctx)
{
    rd_kafka_queue_t *q;

    if (pipe2(ctx->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        return lsh_ins_error(ctx->ins, "pipe: %s", strerror(errno));
    }
    q = rd_kafka_queue_get_main(ctx->rk);
    rd_kafka_queue_io_event_enable(q, ctx->pipe[1], "1", 1);
    rd_kafka_queue_destroy(q);
    if (lsh_io_start(ctx->ins->loop, &ctx->io, ctx->pipe[0], EPOLLIN,
                     out_kafka_io, ctx) != LSH_OK) {
        return lsh_ins_error(ctx->ins, "epoll: %s", strerror(errno));
    }
    return LSH_OK;
}

static int out_kafka_init(struct lsh_instance *ins, const void *conf)
{
    const struct out_kafka_conf *c = conf;
    struct out_kafka            *ctx = lsh_calloc(1, sizeof(*ctx));
    rd_kafka_conf_t             *kc;
    char                         err[512];
    long                         bad;

    ctx->ins = ins;
    ctx->pipe[0] = ctx->pipe[1] = -1;
    ins->ctx = ctx;
    kc = out_kafka_conf_build(c, err, sizeof(err), &bad);
    if (kc == NULL) {
        return lsh_ins_error(ins, "%s", err);
    }
    rd_kafka_conf_set_opaque(kc, ctx);
    rd_kafka_conf_set_log_cb(kc, out_kafka_log_cb);
    rd_kafka_conf_set_error_cb(kc, out_kafka_error_cb);
    rd_kafka_conf_set_dr_msg_cb(kc, out_kafka_dr_cb);
    ctx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    if (ctx->rk == NULL) {
        rd_kafka_conf_destroy(kc);
        return lsh_ins_error(ins, "cannot create producer: %s", err);
    }
    rd_kafka_set_log_queue(ctx->rk, NULL);
    ctx->rkt = rd_kafka_topic_new(ctx->rk, c->topic, NULL);
    if (ctx->rkt == NULL) {
        return lsh_ins_error(ins, "topic '%s': %s", c->topic,
                             rd_kafka_err2str(rd_kafka_last_error()));
    }
    return out_kafka_start_events(ctx);
}

static const void *out_kafka_value(const struct out_kafka_conf *c,
                                   struct out_kafka            *ctx,
                                   const struct lsh_batch      *b,
                                   const struct lsh_record *r, size_t *len)
{
    if (c->format == OUT_KAFKA_RAW) {
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
    const struct out_kafka_conf *c = ins->conf;
    struct out_kafka            *ctx = ins->ctx;
    size_t                       i;

    for (i = *pos; i < b->n; i++) {
        const struct lsh_record *r = &b->recs[i];
        const void              *val;
        size_t                   len;
        rd_kafka_resp_err_t      err;

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        val = out_kafka_value(c, ctx, b, r, &len);
        err = rd_kafka_producev(ctx->rk, RD_KAFKA_V_RKT(ctx->rkt),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE((void *)val, len),
                                RD_KAFKA_V_OPAQUE(b->ticket), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            *pos = i;
            ctx->want_wake = true;
            return LSH_EAGAIN;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* only permanent errors (such as a too-large message) remain */
            ctx->failed++;
            lsh_ins_error(ins,
                          "cannot produce a %zu-byte record from '%.*s': %s; "
                          "it is skipped",
                          len, (int)b->path.len, b->path.ptr,
                          rd_kafka_err2str(err));
            continue;
        }
        ctx->inflight++;
        lsh_ticket_hold(b->ticket, 1);
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
    if (ctx->rk != NULL) {
        ctx->exiting = true;
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
        if (ctx->rkt != NULL) {
            rd_kafka_topic_destroy(ctx->rkt);
        }
        rd_kafka_destroy(ctx->rk);
    }
    lsh_ins_info(ins, "%llu records delivered, %llu delivery failures",
                 (unsigned long long)ctx->delivered,
                 (unsigned long long)ctx->failed);
    if (ctx->pipe[0] >= 0) {
        close(ctx->pipe[0]);
        close(ctx->pipe[1]);
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
