/*
 * kafka output: produces records to Apache Kafka with librdkafka.
 *
 * Each record becomes a message with a topic (a template, with a fallback),
 * an optional fixed partition, a key (a template; an empty key is a null
 * key), headers (templates) and a value (JSON, the raw line, or a
 * template).  The producer settings have their Kafka names and are checked
 * by librdkafka when the configuration loads.
 *
 * Back-pressure: when the bytes in flight (records accepted, not yet
 * acknowledged, counted with librdkafka's per-message overhead) would pass
 * max_inflight_bytes, or librdkafka's queue is full, flush() returns
 * LSH_EAGAIN and the pipeline stops reading; delivery reports wake it.
 * delivery: sync also waits, after each batch, until all of it is
 * acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "kafka.h"
#include "mem.h"
#include "metrics.h"
#include "ticket.h"

static const char *const out_kafka_formats[] = {"json", "raw", "template",
                                                NULL};
static const char *const out_kafka_partitioners[] = {
    "random",         "consistent", "consistent_random", "murmur2",
    "murmur2_random", "fnv1a",      "fnv1a_random",      NULL,
};
static const char *const out_kafka_codecs[] = {"none", "gzip", "snappy",
                                               "lz4",  "zstd", NULL};
static const char *const out_kafka_acks[] = {"all", "1", "0", NULL};
static const char *const out_kafka_deliveries[] = {"async", "sync",
                                                   "exactly_once", NULL};
static const char *const out_kafka_protocols[] = {
    "plaintext", "ssl", "sasl_plaintext", "sasl_ssl", NULL,
};
static const char *const out_kafka_mechanisms[] = {
    "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER", NULL,
};

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
    {.name = "max_bytes",
     .type = LSH_OPT_SIZE,
     .def = "1GiB",
     .offset = offsetof(struct out_kafka_dlq_conf, max_bytes),
     .min = 0,
     .max = 1024LL * 1024 * 1024 * 1024,
     .help = "Past this size the file is renamed to <path>.1 (replacing "
             "the one before) and a new one begun; 0: no bound."},
    {.name = NULL},
};

#define KOPT(field) offsetof(struct out_kafka_conf, field)

static const struct lsh_option out_kafka_options[] = {
    {.name = "brokers",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = KOPT(brokers),
     .help = "Bootstrap brokers, host:port[,host:port...]."},
    {.name = "topic",
     .type = LSH_OPT_TEMPLATE,
     .flags = LSH_OPT_REQUIRED,
     .offset = KOPT(topic),
     .help = "Topic, or a template of one (\"logs-{{service}}\"; then "
             "topic_fallback is required)."},
    {.name = "topic_fallback",
     .type = LSH_OPT_STR,
     .offset = KOPT(topic_fallback),
     .help = "Topic for records whose topic template misses a field or "
             "renders an invalid topic name."},
    {.name = "partition",
     .type = LSH_OPT_INT,
     .def = "-1",
     .offset = KOPT(partition),
     .min = -1,
     .max = 1000000,
     .help = "A fixed partition; -1 lets the partitioner choose."},
    {.name = "key",
     .type = LSH_OPT_TEMPLATE,
     .offset = KOPT(key),
     .help = "Message key, a template (\"{{service}}:{{user}}\"). Missing "
             "fields render empty; an empty key is a null key. Records "
             "with one key go to one partition, in order."},
    {.name = "partitioner",
     .type = LSH_OPT_ENUM,
     .def = "consistent_random",
     .offset = KOPT(partitioner),
     .values = out_kafka_partitioners,
     .help = "librdkafka's partitioner: how a key (or a null key) picks "
             "a partition."},
    {.name = "headers",
     .type = LSH_OPT_MAP,
     .item = LSH_OPT_TEMPLATE,
     .offset = KOPT(headers),
     .help = "Header name to value template."},
    {.name = "format",
     .type = LSH_OPT_ENUM,
     .def = "json",
     .offset = KOPT(format),
     .values = out_kafka_formats,
     .help = "Message value: json (time, body, path, host and every "
             "field), raw (the body as read), or template."},
    {.name = "template",
     .type = LSH_OPT_TEMPLATE,
     .offset = KOPT(template),
     .help = "With format: template, the value (\"{{time}} {{level}} "
             "{{msg}}\")."},
    {.name = "time_format",
     .type = LSH_OPT_ENUM,
     .def = "rfc3339_ms",
     .offset = KOPT(time_format),
     .values = lsh_time_format_names,
     .help = "How format: json writes time: rfc3339_ms, rfc3339_us, "
             "rfc3339_ns, epoch (seconds with 9 decimals), epoch_ms or "
             "epoch_ns."},
    {.name = "compression",
     .type = LSH_OPT_ENUM,
     .def = "none",
     .offset = KOPT(compression),
     .values = out_kafka_codecs,
     .help = "compression.codec."},
    {.name = "compression_level",
     .type = LSH_OPT_INT,
     .def = "-1",
     .offset = KOPT(compression_level),
     .min = -1,
     .max = 12,
     .help = "compression.level; -1 is the codec's default."},
    {.name = "linger_ms",
     .type = LSH_OPT_INT,
     .def = "5",
     .offset = KOPT(linger_ms),
     .min = 0,
     .max = 900000,
     .help = "linger.ms: how long a batch waits to fill."},
    {.name = "batch_size",
     .type = LSH_OPT_SIZE,
     .def = "1000000",
     .offset = KOPT(batch_size),
     .min = 1,
     .max = 2147483647,
     .help = "batch.size: largest batch, in bytes."},
    {.name = "batch_num_messages",
     .type = LSH_OPT_INT,
     .def = "10000",
     .offset = KOPT(batch_num_messages),
     .min = 1,
     .max = 1000000,
     .help = "batch.num.messages: most messages in a batch."},
    {.name = "acks",
     .type = LSH_OPT_ENUM,
     .def = "all",
     .offset = KOPT(acks),
     .values = out_kafka_acks,
     .help = "acks: all (every in-sync replica), 1 (the leader) or 0 "
             "(none: a record counts as delivered once sent). "
             "idempotence needs all."},
    {.name = "idempotence",
     .type = LSH_OPT_BOOL,
     .def = "true",
     .offset = KOPT(idempotence),
     .help = "enable.idempotence: no duplicates from the producer's own "
             "retries, order kept per partition."},
    {.name = "retries",
     .type = LSH_OPT_INT,
     .def = "2147483647",
     .offset = KOPT(retries),
     .min = 0,
     .max = 2147483647,
     .help = "message.send.max.retries, within message_timeout_ms."},
    {.name = "retry_backoff_ms",
     .type = LSH_OPT_INT,
     .def = "100",
     .offset = KOPT(retry_backoff_ms),
     .min = 1,
     .max = 300000,
     .help = "retry.backoff.ms."},
    {.name = "message_timeout_ms",
     .type = LSH_OPT_INT,
     .def = "300000",
     .offset = KOPT(message_timeout_ms),
     .min = 1,
     .max = 2147483647,
     .help = "message.timeout.ms: after it, a delivery fails and logship "
             "produces the record again (redeliver_backoff)."},
    {.name = "max_inflight_bytes",
     .type = LSH_OPT_SIZE,
     .def = "32MiB",
     .offset = KOPT(max_inflight_bytes),
     .min = 64 * 1024,
     .max = 16LL * 1024 * 1024 * 1024,
     .help = "Bytes of records accepted but not yet acknowledged (with "
             "about 256 bytes of librdkafka overhead each) before the "
             "pipeline stops reading. Bounds memory when Kafka is slow or "
             "down: the files are the buffer."},
    {.name = "delivery",
     .type = LSH_OPT_ENUM,
     .def = "async",
     .offset = KOPT(delivery),
     .values = out_kafka_deliveries,
     .help = "async: keep reading while records are in flight; sync: "
             "wait for every record of a batch to be acknowledged before "
             "the next (slower; see docs/kafka.md); exactly_once: records "
             "and file offsets committed in one Kafka transaction, so a "
             "read_committed consumer sees each line once "
             "(docs/exactly-once.md)."},
    {.name = "transactional_id",
     .type = LSH_OPT_STR,
     .def = "logship-{{host}}-{{pipeline}}",
     .offset = KOPT(transactional_id),
     .help = "exactly_once: transactional.id, from {{host}} and "
             "{{pipeline}}. It must stay the same across restarts of one "
             "host's pipeline and differ between hosts: a new instance "
             "fences the old one by it, and finds its offsets by it."},
    {.name = "offsets_topic",
     .type = LSH_OPT_STR,
     .def = "logship-offsets",
     .offset = KOPT(offsets_topic),
     .help = "exactly_once: the compacted topic the file offsets are "
             "committed to, in the same transaction as the records; "
             "created if missing."},
    {.name = "transaction_interval",
     .type = LSH_OPT_DURATION,
     .def = "100ms",
     .offset = KOPT(transaction_interval_ms),
     .min = 1,
     .max = 600000,
     .help = "exactly_once: a transaction commits this long after its "
             "first record (or at transaction_records): records become "
             "visible to read_committed consumers then."},
    {.name = "transaction_records",
     .type = LSH_OPT_INT,
     .def = "50000",
     .offset = KOPT(transaction_records),
     .min = 1,
     .max = 100000000,
     .help = "exactly_once: a transaction commits once it holds this many "
             "records, before transaction_interval."},
    {.name = "statistics_interval",
     .type = LSH_OPT_DURATION,
     .def = "10s",
     .offset = KOPT(statistics_interval_ms),
     .min = 0,
     .max = 86400000,
     .help = "statistics.interval.ms: how often librdkafka's statistics "
             "(queue depth, round-trip times, batch sizes, errors) are "
             "collected; 0 turns them off."},
    {.name = "security_protocol",
     .type = LSH_OPT_ENUM,
     .def = "plaintext",
     .offset = KOPT(security_protocol),
     .values = out_kafka_protocols,
     .help = "security.protocol."},
    {.name = "sasl_mechanism",
     .type = LSH_OPT_ENUM,
     .def = "PLAIN",
     .offset = KOPT(sasl_mechanism),
     .values = out_kafka_mechanisms,
     .help = "sasl.mechanism (with a sasl_ protocol)."},
    {.name = "sasl_username",
     .type = LSH_OPT_STR,
     .offset = KOPT(sasl_username),
     .help = "sasl.username."},
    {.name = "sasl_password",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_SECRET,
     .offset = KOPT(sasl_password),
     .help = "sasl.password; usually ${KAFKA_PASSWORD}."},
    {.name = "ssl_ca_location",
     .type = LSH_OPT_STR,
     .offset = KOPT(ssl_ca_location),
     .help = "ssl.ca.location."},
    {.name = "ssl_certificate_location",
     .type = LSH_OPT_STR,
     .offset = KOPT(ssl_certificate_location),
     .help = "ssl.certificate.location."},
    {.name = "ssl_key_location",
     .type = LSH_OPT_STR,
     .offset = KOPT(ssl_key_location),
     .help = "ssl.key.location."},
    {.name = "ssl_key_password",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_SECRET,
     .offset = KOPT(ssl_key_password),
     .help = "ssl.key.password."},
    {.name = "redeliver_backoff",
     .type = LSH_OPT_DURATION,
     .def = "1s",
     .offset = KOPT(redeliver_backoff_ms),
     .min = 1,
     .max = 3600000,
     .help = "Wait before producing a failed record again; doubles with "
             "each failure."},
    {.name = "redeliver_backoff_max",
     .type = LSH_OPT_DURATION,
     .def = "60s",
     .offset = KOPT(redeliver_backoff_max_ms),
     .min = 1,
     .max = 86400000,
     .help = "Longest wait between deliveries of a failed record."},
    {.name = "dead_letter",
     .type = LSH_OPT_SUB,
     .offset = KOPT(dead_letter),
     .sub = out_kafka_dlq_options,
     .sub_size = sizeof(struct out_kafka_dlq_conf),
     .help = "{path, after_attempts}: write records that failed "
             "after_attempts times (or that librdkafka refuses) to a local "
             "file; they then count as delivered. Without it they are "
             "retried for as long as logship runs."},
    {.name = "topic_cache",
     .type = LSH_OPT_INT,
     .def = "1000",
     .offset = KOPT(topic_cache),
     .min = 1,
     .max = 1000000,
     .help = "Topic handles kept (the least recently used is let go): a "
             "topic template that takes its value from log content cannot "
             "grow memory without bound."},
    {.name = "rdkafka",
     .type = LSH_OPT_MAP,
     .offset = KOPT(rdkafka),
     .help = "Any other librdkafka producer property (CONFIGURATION.md), "
             "applied last. Properties containing 'password' or 'secret' "
             "are masked in output."},
    {.name = NULL},
};

/* --- the librdkafka configuration ---------------------------------------- */

struct out_kafka_prop {
    const char *opt;  /* our option, for errors */
    const char *name; /* the librdkafka property */
    char        value[64];
    const char *str; /* or a string value */
};

static const char *out_kafka_val(const struct out_kafka_prop *p)
{
    return p->str != NULL ? p->str : p->value;
}

/* The properties our options set, in order; returns how many. */
static size_t out_kafka_props(const struct out_kafka_conf *c,
                              struct out_kafka_prop       *p)
{
    size_t n = 0;

#define PROP_STR(o, k, v) \
    do {                  \
        p[n].opt = o;     \
        p[n].name = k;    \
        p[n].str = v;     \
        n++;              \
    } while (0)
#define PROP_INT(o, k, v)                                                 \
    do {                                                                  \
        p[n].opt = o;                                                     \
        p[n].name = k;                                                    \
        p[n].str = NULL;                                                  \
        snprintf(p[n].value, sizeof(p[n].value), "%lld", (long long)(v)); \
        n++;                                                              \
    } while (0)

    PROP_STR("brokers", "bootstrap.servers", c->brokers);
    PROP_STR("compression", "compression.codec",
             out_kafka_codecs[c->compression]);
    if (c->compression_level >= 0) {
        PROP_INT("compression_level", "compression.level",
                 c->compression_level);
    }
    PROP_INT("linger_ms", "linger.ms", c->linger_ms);
    PROP_INT("batch_size", "batch.size", c->batch_size);
    PROP_INT("batch_num_messages", "batch.num.messages", c->batch_num_messages);
    PROP_STR("acks", "acks", out_kafka_acks[c->acks]);
    PROP_STR("idempotence", "enable.idempotence",
             c->idempotence ? "true" : "false");
    PROP_INT("retries", "message.send.max.retries", c->retries);
    PROP_INT("retry_backoff_ms", "retry.backoff.ms", c->retry_backoff_ms);
    PROP_INT("message_timeout_ms", "message.timeout.ms", c->message_timeout_ms);
    PROP_STR("partitioner", "partitioner",
             out_kafka_partitioners[c->partitioner]);
    PROP_INT("statistics_interval", "statistics.interval.ms",
             c->statistics_interval_ms);
    PROP_STR("security_protocol", "security.protocol",
             out_kafka_protocols[c->security_protocol]);
    if (c->security_protocol >= 2) {
        PROP_STR("sasl_mechanism", "sasl.mechanism",
                 out_kafka_mechanisms[c->sasl_mechanism]);
    }
    if (c->sasl_username != NULL) {
        PROP_STR("sasl_username", "sasl.username", c->sasl_username);
    }
    if (c->sasl_password != NULL) {
        PROP_STR("sasl_password", "sasl.password", c->sasl_password);
    }
    if (c->ssl_ca_location != NULL) {
        PROP_STR("ssl_ca_location", "ssl.ca.location", c->ssl_ca_location);
    }
    if (c->ssl_certificate_location != NULL) {
        PROP_STR("ssl_certificate_location", "ssl.certificate.location",
                 c->ssl_certificate_location);
    }
    if (c->ssl_key_location != NULL) {
        PROP_STR("ssl_key_location", "ssl.key.location", c->ssl_key_location);
    }
    if (c->ssl_key_password != NULL) {
        PROP_STR("ssl_key_password", "ssl.key.password", c->ssl_key_password);
    }
#undef PROP_STR
#undef PROP_INT
    return n;
}

/* Fixed defaults of logship's own; options and rdkafka: come after. */
static const char *const out_kafka_defaults[][2] = {
    {"log.queue", "true"}, /* logs reach us on our thread */
    {"client.id", "logship"},
    /* logship's byte limit rules; librdkafka's count limit must not */
    {"queue.buffering.max.messages", "2000000"},
};

/*
 * librdkafka's queue must hold any one record it would send, however small
 * max_inflight_bytes is: else a record larger than the queue gets
 * QUEUE_FULL with nothing in flight, and nothing would ever make room.  So
 * the queue is at least max_inflight_bytes plus message.max.bytes (and
 * twice max_inflight_bytes, so that ours is the limit that acts), unless
 * rdkafka: sets it.
 */
static void out_kafka_queue_size(const struct out_kafka_conf *c,
                                 rd_kafka_conf_t             *kc)
{
    char      val[32];
    char      err[256];
    size_t    len = sizeof(val);
    long      max_msg = 1000000;
    size_t    i;
    long long kb;

    for (i = 0; i < c->rdkafka.n; i++) {
        if (strcmp(c->rdkafka.keys[i], "queue.buffering.max.kbytes") == 0) {
            return;
        }
    }
    if (rd_kafka_conf_get(kc, "message.max.bytes", val, &len) ==
        RD_KAFKA_CONF_OK) {
        max_msg = atol(val);
    }
    kb = LSH_MAX(c->max_inflight_bytes * 2,
                 c->max_inflight_bytes + max_msg + 65536) /
         1024;
    snprintf(val, sizeof(val), "%lld", LSH_MIN(kb, 2097151LL));
    rd_kafka_conf_set(kc, "queue.buffering.max.kbytes", val, err, sizeof(err));
}

rd_kafka_conf_t *out_kafka_conf_build(const struct out_kafka_conf *c, char *err,
                                      size_t errlen, const char **bad_opt,
                                      long *bad_prop)
{
    rd_kafka_conf_t      *kc = rd_kafka_conf_new();
    struct out_kafka_prop props[32];
    size_t                n = out_kafka_props(c, props);
    size_t                i;

    *bad_opt = NULL;
    *bad_prop = -1;
    for (i = 0; i < LSH_ARRAY_SIZE(out_kafka_defaults); i++) {
        rd_kafka_conf_set(kc, out_kafka_defaults[i][0],
                          out_kafka_defaults[i][1], err, errlen);
    }
    for (i = 0; i < n; i++) {
        if (rd_kafka_conf_set(kc, props[i].name, out_kafka_val(&props[i]), err,
                              errlen) != RD_KAFKA_CONF_OK) {
            *bad_opt = props[i].opt;
            goto err;
        }
    }
    for (i = 0; i < c->rdkafka.n; i++) {
        if (rd_kafka_conf_set(kc, c->rdkafka.keys[i], c->rdkafka.vals[i], err,
                              errlen) != RD_KAFKA_CONF_OK) {
            *bad_prop = (long)i;
            goto err;
        }
    }
    out_kafka_queue_size(c, kc);
    return kc;
err:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

/* A connection setting (for a client that is not the producer)? */
static bool out_kafka_connection_prop(const char *name)
{
    static const char *const prefixes[] = {
        "bootstrap.servers",
        "metadata.broker.list",
        "security.protocol",
        "sasl.",
        "ssl.",
        "enable.ssl.",
        "socket.",
        "broker.address.",
        "client.",
        "api.version",
        "broker.version.",
        "reconnect.",
        "enable.sasl.",
    };
    size_t i;

    for (i = 0; i < LSH_ARRAY_SIZE(prefixes); i++) {
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
            return true;
        }
    }
    return false;
}

rd_kafka_conf_t *out_kafka_conf_connection(const struct out_kafka_conf *c)
{
    rd_kafka_conf_t      *kc = rd_kafka_conf_new();
    struct out_kafka_prop props[32];
    size_t                n = out_kafka_props(c, props);
    size_t                i;
    char                  err[256];

    for (i = 0; i < n; i++) {
        if (out_kafka_connection_prop(props[i].name)) {
            rd_kafka_conf_set(kc, props[i].name, out_kafka_val(&props[i]), err,
                              sizeof(err));
        }
    }
    for (i = 0; i < c->rdkafka.n; i++) {
        if (out_kafka_connection_prop(c->rdkafka.keys[i])) {
            rd_kafka_conf_set(kc, c->rdkafka.keys[i], c->rdkafka.vals[i], err,
                              sizeof(err));
        }
    }
    return kc;
}

/* A valid Kafka topic name: 1 to 249 of [a-zA-Z0-9._-], not . or .. */
static bool out_kafka_topic_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 249 || (n == 1 && s[0] == '.') ||
        (n == 2 && s[0] == '.' && s[1] == '.')) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-')) {
            return false;
        }
    }
    return true;
}

/* delivery: exactly_once needs what a transactional producer needs. */
static int out_kafka_validate_eos(const struct out_kafka_conf *c,
                                  struct lsh_diag             *d)
{
    const char *why = NULL;
    char       *id = out_kafka_txn_id(c, "p", &why);
    int         rc = LSH_OK;
    size_t      i;

    free(id);
    if (id == NULL) {
        rc = lsh_diag_key(d, "transactional_id", "%s", why);
    }
    if (c->acks != 0) {
        rc = lsh_diag_key(d, "acks",
                          "delivery: exactly_once needs acks: all (a "
                          "transaction commits only what every in-sync "
                          "replica has)");
    }
    if (!c->idempotence) {
        rc = lsh_diag_key(d, "idempotence",
                          "delivery: exactly_once needs idempotence: true "
                          "(transactions are built on it)");
    }
    if (!out_kafka_topic_ok(c->offsets_topic, strlen(c->offsets_topic))) {
        rc = lsh_diag_key(d, "offsets_topic", "'%s' is not a valid topic name",
                          c->offsets_topic);
    }
    for (i = 0; i < c->rdkafka.n; i++) {
        if (strcmp(c->rdkafka.keys[i], "transactional.id") == 0 ||
            strcmp(c->rdkafka.keys[i], "enable.idempotence") == 0) {
            rc = lsh_diag_error(d, &c->rdkafka.marks[i],
                                "option 'rdkafka': property '%s' is set by "
                                "delivery: exactly_once (use "
                                "transactional_id)",
                                c->rdkafka.keys[i]);
        }
    }
    return rc;
}

static unsigned out_kafka_requires(const void *conf, const char **key)
{
    const struct out_kafka_conf *c = conf;

    *key = "delivery";
    return c->delivery == OUT_KAFKA_EXACTLY_ONCE
               ? LSH_REQ_ALONE | LSH_REQ_CHECKPOINTS
               : 0;
}

static int out_kafka_validate(const void *conf, struct lsh_diag *d)
{
    const struct out_kafka_conf *c = conf;
    const char                  *topic = lsh_tpl_source(c->topic);
    rd_kafka_conf_t             *kc;
    char                         err[512];
    const char                  *bad_opt;
    long                         bad;
    int                          rc = LSH_OK;

    kc = out_kafka_conf_build(c, err, sizeof(err), &bad_opt, &bad);
    if (kc == NULL && bad_opt != NULL) {
        rc = lsh_diag_key(d, bad_opt, "%s", err);
    } else if (kc == NULL) {
        rc = lsh_diag_error(d, &c->rdkafka.marks[bad],
                            "option 'rdkafka': property '%s': %s",
                            c->rdkafka.keys[bad], err);
    }
    if (kc != NULL) {
        rd_kafka_conf_destroy(kc);
    }
    if (lsh_tpl_is_const(c->topic) &&
        !out_kafka_topic_ok(topic, strlen(topic))) {
        rc = lsh_diag_key(d, "topic",
                          "'%s' is not a valid topic name "
                          "(1 to 249 of a-z A-Z 0-9 . _ -)",
                          topic);
    }
    if (!lsh_tpl_is_const(c->topic) && c->topic_fallback == NULL) {
        rc = lsh_diag_key(d, "topic",
                          "a topic template needs topic_fallback, "
                          "for records it cannot name a topic for");
    }
    if (c->topic_fallback != NULL &&
        !out_kafka_topic_ok(c->topic_fallback, strlen(c->topic_fallback))) {
        rc = lsh_diag_key(d, "topic_fallback", "'%s' is not a valid topic name",
                          c->topic_fallback);
    }
    if (c->format == OUT_KAFKA_TEMPLATE && c->template == NULL) {
        rc = lsh_diag_key(d, "format", "template needs a 'template' option");
    }
    if (c->idempotence && c->acks != 0) {
        rc = lsh_diag_key(d, "acks",
                          "idempotence needs acks: all (or set "
                          "idempotence: false)");
    }
    if (c->delivery == OUT_KAFKA_EXACTLY_ONCE) {
        rc = out_kafka_validate_eos(c, d) != LSH_OK ? LSH_EINVAL : rc;
    }
    if (c->redeliver_backoff_max_ms < c->redeliver_backoff_ms) {
        rc = lsh_diag_key(d, "redeliver_backoff_max",
                          "must not be below redeliver_backoff");
    }
    return rc;
}

/* --- records to messages ------------------------------------------------- */

static struct lsh_str out_kafka_host(void)
{
    return lsh_host();
}

/* The topic of record r; NUL-terminated, valid until the next record. */
static const char *out_kafka_topic_of(struct out_kafka        *ctx,
                                      const struct lsh_batch  *b,
                                      const struct lsh_record *r)
{
    const struct out_kafka_conf *c = ctx->conf;
    size_t                       missing;

    if (lsh_tpl_is_const(c->topic)) {
        return lsh_tpl_source(c->topic);
    }
    lsh_buf_reset(&ctx->tbuf);
    missing = lsh_tpl_render(c->topic, b, r, out_kafka_host(), &ctx->tbuf);
    if (missing > 0 || !out_kafka_topic_ok(ctx->tbuf.ptr, ctx->tbuf.len)) {
        ctx->s.fallbacks++;
        return c->topic_fallback;
    }
    return lsh_buf_cstr(&ctx->tbuf);
}

static rd_kafka_headers_t *out_kafka_headers(struct out_kafka        *ctx,
                                             const struct lsh_batch  *b,
                                             const struct lsh_record *r)
{
    const struct lsh_kvlist *h = &ctx->conf->headers;
    rd_kafka_headers_t      *hdrs;
    size_t                   i;

    if (h->n == 0) {
        return NULL;
    }
    hdrs = rd_kafka_headers_new(h->n);
    for (i = 0; i < h->n; i++) {
        lsh_buf_reset(&ctx->hbuf);
        lsh_tpl_render(h->objs[i], b, r, out_kafka_host(), &ctx->hbuf);
        /* an empty render is an empty value, never a null one */
        rd_kafka_header_add(hdrs, h->keys[i], -1,
                            ctx->hbuf.len > 0 ? ctx->hbuf.ptr : "",
                            (ssize_t)ctx->hbuf.len);
    }
    return hdrs;
}

/* Renders record r into message m (buffers in ctx). */
static void out_kafka_render(struct out_kafka *ctx, const struct lsh_batch *b,
                             const struct lsh_record *r,
                             struct out_kafka_msg    *m)
{
    const struct out_kafka_conf *c = ctx->conf;

    m->topic = out_kafka_topic_of(ctx, b, r);
    m->partition = (int32_t)c->partition;
    m->key = NULL;
    m->klen = 0;
    if (c->key != NULL) {
        lsh_buf_reset(&ctx->kbuf);
        lsh_tpl_render(c->key, b, r, out_kafka_host(), &ctx->kbuf);
        if (ctx->kbuf.len > 0) {
            m->key = ctx->kbuf.ptr;
            m->klen = ctx->kbuf.len;
        }
    }
    switch (c->format) {
    case OUT_KAFKA_RAW:
        m->val = r->body.ptr;
        m->vlen = r->body.len;
        break;
    case OUT_KAFKA_TEMPLATE:
        lsh_buf_reset(&ctx->val);
        lsh_tpl_render(c->template, b, r, out_kafka_host(), &ctx->val);
        m->val = ctx->val.ptr;
        m->vlen = ctx->val.len;
        break;
    default:
        lsh_buf_reset(&ctx->val);
        lsh_json_record_tf(&ctx->val, b, r, out_kafka_host(), c->time_format);
        m->val = ctx->val.ptr;
        m->vlen = ctx->val.len;
        break;
    }
    if (m->vlen == 0) {
        /*
         * One rule for every record: an empty value is an empty message,
         * never a null one (a tombstone, which deletes the key on a
         * compacted topic), whatever the buffer held before.
         */
        m->val = "";
    }
    m->hdrs = out_kafka_headers(ctx, b, r);
}

static int out_kafka_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                           size_t *pos)
{
    struct out_kafka *ctx = ins->ctx;
    uint64_t          max = (uint64_t)ctx->conf->max_inflight_bytes;
    size_t            i;

    /*
     * The time librdkafka would give each message (0 means "now" to it),
     * taken once a flush instead of once a record.
     */
    if (ctx->txn != NULL) {
        int take = out_kafka_txn_take(ctx, *pos);

        if (take == OUT_KAFKA_DISCARD) {
            *pos = b->n; /* fenced: no hold taken, nothing is committed */
            return LSH_OK;
        }
        if (take != LSH_OK) {
            ctx->want_wake = true;
            return LSH_EAGAIN;
        }
    }
    ctx->now_ms = lsh_now_real_ns() / LSH_NS_PER_MS;
    for (i = *pos; i < b->n; i++) {
        const struct lsh_record *r = &b->recs[i];
        struct out_kafka_msg     m;
        size_t                   cost;
        rd_kafka_resp_err_t      err;

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        out_kafka_render(ctx, b, r, &m);
        cost = out_kafka_cost(&m);
        if (ctx->fatal || ctx->rk == NULL || out_kafka_redelivering(ctx) ||
            (ctx->inflight > 0 && ctx->inflight_bytes + cost > max)) {
            /* wait for acks, for a producer, or for redelivery (order) */
            err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
        } else {
            err = out_kafka_produce(ctx, &m, b->ticket);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ctx->inflight == 0) {
                /* nothing out to make room: it will never fit the queue */
                ctx->s.too_large++;
                lsh_ins_warn(ctx->ins,
                             "a %zu-byte record does not fit librdkafka's "
                             "queue (queue.buffering.max.kbytes)",
                             m.vlen + m.klen);
                err = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
            }
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (m.hdrs != NULL) {
                rd_kafka_headers_destroy(m.hdrs);
            }
            if (ctx->txn != NULL) {
                out_kafka_txn_flushed(ctx, i == 0);
            }
            *pos = i;
            ctx->want_wake = true;
            ctx->now_ms = 0;
            return LSH_EAGAIN;
        }
        ctx->inflight++;
        ctx->inflight_bytes += cost;
        lsh_ticket_hold(b->ticket, 1);
        if (ctx->txn != NULL && err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            out_kafka_txn_produced(ctx);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* refused (too large), or the topic is failing: kept */
            out_kafka_failed(ctx, err, &m, b->ticket, NULL, true,
                             out_kafka_refused(err));
            if (m.hdrs != NULL) {
                rd_kafka_headers_destroy(m.hdrs);
            }
        }
    }
    *pos = b->n;
    if (ctx->txn != NULL) {
        out_kafka_txn_flushed(ctx, true);
    }
    ctx->now_ms = 0; /* what is produced again later gets its own time */
    if (ctx->conf->delivery == OUT_KAFKA_SYNC && ctx->inflight > 0) {
        /* send what lingers now, and take the batch only once acked */
        if (ctx->rk != NULL) {
            rd_kafka_flush(ctx->rk, 0);
        }
        if (ctx->inflight > 0) {
            ctx->want_wake = true;
            return LSH_EAGAIN;
        }
    }
    return LSH_OK;
}

/* --- life ---------------------------------------------------------------- */

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
    ctx->dlq.fd = -1;
    ctx->retry_tail = &ctx->retry_head;
    lsh_hmap_init(&ctx->topics);
    ins->ctx = ctx;
    if (c->dead_letter != NULL && out_kafka_dlq_open(ctx) != LSH_OK) {
        return lsh_ins_error(ins, "cannot open dead_letter '%s': %s",
                             c->dead_letter->path, strerror(errno));
    }
    if (pipe2(ctx->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        return lsh_ins_error(ins, "pipe: %s", strerror(errno));
    }
    if (c->delivery == OUT_KAFKA_EXACTLY_ONCE &&
        out_kafka_txn_init(ctx) != LSH_OK) {
        return LSH_ERR;
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

static size_t out_kafka_pending(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx == NULL) {
        return 0;
    }
    if (ctx->txn != NULL && !out_kafka_txn_live(ctx)) {
        return 0; /* fenced or aborted: nothing in flight can be committed */
    }
    return ctx->inflight + (ctx->txn != NULL ? out_kafka_txn_pending(ctx) : 0);
}

static void out_kafka_counts(struct lsh_instance      *ins,
                             struct lsh_output_counts *c)
{
    const struct out_kafka *ctx = ins->ctx;

    c->delivered = ctx->s.delivered;
    c->failures = ctx->s.failed;
    c->redelivered = ctx->s.retried;
    c->dead = ctx->s.dead;
    c->skipped = ctx->s.skipped;
    c->inflight = ctx->inflight;
    c->inflight_bytes = ctx->inflight_bytes;
}

/* librdkafka's statistics, as of its last report (statistics_interval). */
static void out_kafka_metrics(struct lsh_instance *ins, struct lsh_metrics *m,
                              const char *const *l)
{
    const struct out_kafka         *ctx = ins->ctx;
    const struct out_kafka_metrics *k = &ctx->m;

    lsh_metric_u64(m, LSH_M_KAFKA_RESTARTS, l, ctx->s.restarts);
    if (ctx->txn != NULL) {
        out_kafka_txn_metrics((struct out_kafka *)ctx, m, l);
    }
    if (k->updates == 0) {
        return;
    }
    lsh_metric(m, LSH_M_KAFKA_QUEUE_MESSAGES, l, (double)k->queue_msgs);
    lsh_metric(m, LSH_M_KAFKA_QUEUE_BYTES, l, (double)k->queue_bytes);
    lsh_metric(m, LSH_M_KAFKA_BROKERS_UP, l, (double)k->brokers_up);
    lsh_metric(m, LSH_M_KAFKA_RTT_AVG, l, (double)k->rtt_avg_us / 1e6);
    lsh_metric(m, LSH_M_KAFKA_RTT_P99, l, (double)k->rtt_p99_us / 1e6);
    lsh_metric(m, LSH_M_KAFKA_BATCH_BYTES, l, (double)k->batch_size_avg);
    lsh_metric(m, LSH_M_KAFKA_BATCH_MESSAGES, l, (double)k->batch_cnt_avg);
    lsh_metric(m, LSH_M_KAFKA_TX_ERRORS, l, (double)k->tx_errors);
    lsh_metric(m, LSH_M_KAFKA_TX_RETRIES, l, (double)k->tx_retries);
}

/*
 * Ready once a broker answered (metadata came, a record was acked, or the
 * statistics saw a broker up), until librdkafka says all brokers are down
 * and nothing since says otherwise.
 */
static bool out_kafka_ready(struct lsh_instance *ins, struct lsh_buf *why)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx->txn != NULL && !out_kafka_txn_ready(ctx, why)) {
        return false;
    }
    if (!ctx->reached && ctx->rk != NULL &&
        rd_kafka_controllerid(ctx->rk, 0) >= 0) {
        ctx->reached = true;
    }
    if (!ctx->reached) {
        lsh_buf_adds(why, "has not reached its brokers yet");
        return false;
    }
    if (ctx->all_down) {
        lsh_buf_adds(why, "all its brokers are down");
        return false;
    }
    return true;
}

static void out_kafka_status(struct lsh_instance *ins, struct lsh_buf *json)
{
    const struct out_kafka *ctx = ins->ctx;

    lsh_buf_addf(json,
                 ",\"brokers_up\":%" PRId64 ",\"producer_restarts\":%" PRIu64
                 ",\"fallbacks\":%" PRIu64,
                 ctx->m.updates > 0 ? ctx->m.brokers_up : -1, ctx->s.restarts,
                 ctx->s.fallbacks);
    if (ctx->txn != NULL) {
        out_kafka_txn_status((struct out_kafka *)ctx, json);
    }
}

static void out_kafka_stop(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx != NULL && ctx->rk != NULL) {
        /* send what lingers now; delivery reports come through the loop */
        rd_kafka_flush(ctx->rk, 0);
    }
    if (ctx != NULL && ctx->txn != NULL) {
        out_kafka_txn_stop(ctx); /* commit what is delivered */
    }
}

static void out_kafka_exit(struct lsh_instance *ins)
{
    struct out_kafka *ctx = ins->ctx;

    if (ctx == NULL) {
        return;
    }
    ctx->exiting = true;
    if (ctx->txn != NULL) {
        out_kafka_txn_exit(ctx); /* the last commit, or an abort */
    }
    lsh_timer_stop(ins->loop, &ctx->retry_timer);
    lsh_timer_stop(ins->loop, &ctx->producer_timer);
    if (ctx->rk != NULL) {
        if (ctx->inflight > 0) {
            lsh_ins_warn(ins, "%llu records not acknowledged at exit",
                         (unsigned long long)ctx->inflight);
            /*
             * Blocking: the reports of every purged record are queued when
             * it returns, so the poll below frees what they carry (a
             * non-blocking purge left some for after the destroy: leaks).
             */
            rd_kafka_purge(ctx->rk,
                           RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        }
        rd_kafka_poll(ctx->rk, 0);
        out_kafka_destroy_producer(ctx);
    }
    /* with or without a producer (being made again): no event may follow */
    lsh_io_stop(ins->loop, &ctx->io);
    out_kafka_retry_free_all(ctx);
    lsh_ins_info(
        ins,
        "%llu records delivered; %llu delivery failures (%llu the "
        "topic refused), %llu produced again, %llu dead-lettered, %llu "
        "skipped, %llu to topic_fallback, %llu producer restarts, %llu "
        "topic handles made",
        (unsigned long long)ctx->s.delivered, (unsigned long long)ctx->s.failed,
        (unsigned long long)ctx->s.permanent,
        (unsigned long long)ctx->s.retried, (unsigned long long)ctx->s.dead,
        (unsigned long long)ctx->s.skipped,
        (unsigned long long)ctx->s.fallbacks,
        (unsigned long long)ctx->s.restarts,
        (unsigned long long)ctx->s.topic_misses);
    if (ctx->m.updates > 0) {
        lsh_ins_info(ins,
                     "librdkafka: %lld messages sent, %lld bytes, %lld "
                     "errors, %lld retries; rtt avg %lld us, p99 %lld us; "
                     "batches avg %lld messages, %lld bytes",
                     (long long)ctx->m.tx_msgs, (long long)ctx->m.tx_bytes,
                     (long long)ctx->m.tx_errors, (long long)ctx->m.tx_retries,
                     (long long)ctx->m.rtt_avg_us, (long long)ctx->m.rtt_p99_us,
                     (long long)ctx->m.batch_cnt_avg,
                     (long long)ctx->m.batch_size_avg);
    }
    if (ctx->pipe[0] >= 0) {
        close(ctx->pipe[0]);
        close(ctx->pipe[1]);
    }
    out_kafka_dlq_release(ctx);
    lsh_buf_release(&ctx->val);
    lsh_buf_release(&ctx->tbuf);
    lsh_buf_release(&ctx->kbuf);
    lsh_buf_release(&ctx->hbuf);
    free(ctx);
    ins->ctx = NULL;
}

const struct lsh_plugin out_kafka_plugin = {
    .name = "kafka",
    .description = "Produces records to Apache Kafka (librdkafka): topic, "
                   "key and headers from templates, any producer setting; a "
                   "record is delivered once the broker acknowledged it.",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = out_kafka_options,
    .conf_size = sizeof(struct out_kafka_conf),
    .validate = out_kafka_validate,
    .requires = out_kafka_requires,
    .init = out_kafka_init,
    .flush = out_kafka_flush,
    .pending = out_kafka_pending,
    .stop = out_kafka_stop,
    .exit = out_kafka_exit,
    .counts = out_kafka_counts,
    .metrics = out_kafka_metrics,
    .status = out_kafka_status,
    .ready = out_kafka_ready,
};
