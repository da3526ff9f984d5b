/*
 * What the HTTP API shows of the engine: the metrics scrape, the
 * pipelines' state as JSON, and readiness.  Everything is read from the
 * counters the engine and the plugins keep anyway: a scrape costs a walk
 * over the instances (and an fstat per followed file), nothing while no
 * one asks.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <string.h>

#include "ckpt.h"
#include "engine_int.h"
#include "http.h"
#include "json.h"
#include "metrics.h"

#ifndef LSH_VERSION
#define LSH_VERSION "0.0.0"
#endif

/* The name of ins within its pipeline: "tail", or "parse#2" of several. */
static const char *lsh_ins_label(const struct lsh_instance *ins)
{
    const char *s = strchr(ins->name, '/');
    const char *dot = s != NULL ? strchr(s, '.') : NULL;

    return dot != NULL ? dot + 1 : ins->name;
}

static void lsh_report_output(struct lsh_metrics *m, struct lsh_instance *out,
                              const char *const *l)
{
    struct lsh_output_counts c;

    memset(&c, 0, sizeof(c));
    if (out->plugin->counts != NULL) {
        out->plugin->counts(out, &c);
    }
    lsh_metric_u64(m, LSH_M_OUTPUT_DELIVERED, l, c.delivered);
    lsh_metric_u64(m, LSH_M_OUTPUT_FAILURES, l, c.failures);
    lsh_metric_u64(m, LSH_M_OUTPUT_RETRIES, l, c.redelivered);
    lsh_metric_u64(m, LSH_M_OUTPUT_DEAD, l, c.dead);
    lsh_metric_u64(m, LSH_M_OUTPUT_SKIPPED, l, c.skipped);
    lsh_metric_u64(m, LSH_M_OUTPUT_INFLIGHT, l, c.inflight);
    lsh_metric_u64(m, LSH_M_OUTPUT_INFLIGHT_BYTES, l, c.inflight_bytes);
}

static void lsh_report_pipeline(struct lsh_metrics *m, struct lsh_pipeline *p,
                                int64_t now)
{
    const char *lp[1] = {p->name};
    size_t      k;
    size_t      j;

    lsh_metric_u64(m, LSH_M_PIPELINE_PAUSED, lp, p->paused_since != 0);
    lsh_metric(m, LSH_M_PIPELINE_PAUSED_SECONDS, lp,
               (double)(p->paused_ns + lsh_pipeline_paused_ns(p, now)) / 1e9);
    if (p->ckpt != NULL) {
        const struct lsh_ckpt_stats *s = lsh_ckpt_stats(p->ckpt);
        int64_t                      since = lsh_ckpt_pending_since(p->ckpt);

        lsh_metric(m, LSH_M_CKPT_LAG, lp,
                   since != 0 ? (double)(now - since) / 1e9 : 0.0);
        lsh_metric_u64(m, LSH_M_CKPT_SAVES, lp, s->saves);
        lsh_metric_u64(m, LSH_M_CKPT_FAILURES, lp, s->failures);
        lsh_metric_u64(m, LSH_M_CKPT_BYTES, lp, s->bytes);
        lsh_metric_u64(m, LSH_M_CKPT_ENTRIES, lp, lsh_ckpt_count(p->ckpt));
    }
    for (k = 0; k < 3; k++) {
        for (j = 0; j < p->nstages[k]; j++) {
            struct lsh_instance *ins = &p->stages[k][j];
            const char          *l[2] = {p->name, lsh_ins_label(ins)};

            if (k == LSH_PLUGIN_INPUT) {
                lsh_metric_u64(m, LSH_M_INPUT_RECORDS, l, ins->records);
                lsh_metric_u64(m, LSH_M_INPUT_BYTES, l, ins->bytes);
            } else if (k == LSH_PLUGIN_FILTER) {
                lsh_metric_u64(m, LSH_M_FILTER_RECORDS, l, ins->records);
                lsh_metric_u64(m, LSH_M_FILTER_DROPPED, l, ins->dropped);
            } else {
                lsh_report_output(m, ins, l);
            }
            if (ins->plugin->metrics != NULL && ins->ctx != NULL) {
                ins->plugin->metrics(ins, m, l);
            }
        }
    }
}

void lsh_engine_metrics(void *engine, struct lsh_buf *out)
{
    struct lsh_engine *e = engine;
    struct lsh_metrics m;
    const char        *build[2] = {LSH_VERSION, rd_kafka_version_str()};
    int64_t            now = lsh_now_mono_ns();
    size_t             i;

    lsh_metrics_init(&m);
    for (i = 0; i < e->npipelines; i++) {
        lsh_report_pipeline(&m, e->pipelines[i], now);
    }
    lsh_metric_u64(&m, LSH_M_RELOADS, NULL, e->reloads);
    lsh_metric_u64(&m, LSH_M_RELOAD_FAILURES, NULL, e->reload_failures);
    lsh_metric_u64(&m, LSH_M_BUILD_INFO, build, 1);
    lsh_metrics_process(&m);
    lsh_metrics_write(&m, out);
    lsh_metrics_release(&m);
}

/* --- /api/v1/pipelines -------------------------------------------------- */

static void lsh_report_error(struct lsh_buf            *out,
                             const struct lsh_instance *ins)
{
    char t[LSH_RFC3339_MS_LEN + 1];

    if (ins->last_error_ns == 0) {
        lsh_buf_adds(out, ",\"last_error\":null,\"last_error_time\":null");
        return;
    }
    lsh_buf_adds(out, ",\"last_error\":");
    lsh_json_str(out, ins->last_error, strlen(ins->last_error));
    lsh_time_rfc3339_ms(ins->last_error_ns, t);
    lsh_buf_addf(out, ",\"last_error_time\":\"%s\"", t);
}

static void lsh_report_stage(struct lsh_buf *out, struct lsh_instance *ins,
                             int kind)
{
    const char *name = lsh_ins_label(ins);

    lsh_buf_adds(out, "{\"name\":");
    lsh_json_str(out, name, strlen(name));
    lsh_buf_addf(out, ",\"type\":\"%s\"", ins->plugin->name);
    if (kind == LSH_PLUGIN_INPUT) {
        lsh_buf_addf(out, ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64,
                     ins->records, ins->bytes);
    } else if (kind == LSH_PLUGIN_FILTER) {
        lsh_buf_addf(out, ",\"records\":%" PRIu64 ",\"dropped\":%" PRIu64,
                     ins->records, ins->dropped);
    } else {
        struct lsh_output_counts c;

        memset(&c, 0, sizeof(c));
        if (ins->plugin->counts != NULL && ins->ctx != NULL) {
            ins->plugin->counts(ins, &c);
        }
        lsh_buf_addf(out,
                     ",\"inflight\":%" PRIu64 ",\"inflight_bytes\":%" PRIu64
                     ",\"delivered\":%" PRIu64 ",\"failures\":%" PRIu64
                     ",\"redelivered\":%" PRIu64 ",\"dead_letter\":%" PRIu64
                     ",\"skipped\":%" PRIu64,
                     c.inflight, c.inflight_bytes, c.delivered, c.failures,
                     c.redelivered, c.dead, c.skipped);
        lsh_report_error(out, ins);
    }
    if (ins->plugin->status != NULL && ins->ctx != NULL) {
        ins->plugin->status(ins, out);
    }
    lsh_buf_addc(out, '}');
}

void lsh_engine_pipelines(void *engine, struct lsh_buf *out)
{
    static const char *const kinds[] = {"inputs", "filters", "outputs"};
    struct lsh_engine       *e = engine;
    int64_t                  now = lsh_now_mono_ns();
    size_t                   i;
    size_t                   j;
    int                      k;

    lsh_buf_adds(out, "{\"pipelines\":[");
    for (i = 0; i < e->npipelines; i++) {
        struct lsh_pipeline *p = e->pipelines[i];

        lsh_buf_adds(out, i > 0 ? ",{\"name\":" : "{\"name\":");
        lsh_json_str(out, p->name, strlen(p->name));
        lsh_buf_addf(out, ",\"paused\":%s,\"paused_seconds\":%.3f",
                     p->paused_since != 0 ? "true" : "false",
                     (double)lsh_pipeline_paused_ns(p, now) / 1e9);
        if (p->ckpt != NULL) {
            const char *path = lsh_ckpt_path(p->ckpt);
            int64_t     since = lsh_ckpt_pending_since(p->ckpt);

            lsh_buf_adds(out, ",\"checkpoint\":{\"path\":");
            lsh_json_str(out, path, strlen(path));
            lsh_buf_addf(
                out,
                ",\"entries\":%zu,\"lag_seconds\":%.3f,\"saves\":%" PRIu64
                ",\"failures\":%" PRIu64 "}",
                lsh_ckpt_count(p->ckpt),
                since != 0 ? (double)(now - since) / 1e9 : 0.0,
                lsh_ckpt_stats(p->ckpt)->saves,
                lsh_ckpt_stats(p->ckpt)->failures);
        }
        for (k = 0; k < 3; k++) {
            lsh_buf_addf(out, ",\"%s\":[", kinds[k]);
            for (j = 0; j < p->nstages[k]; j++) {
                if (j > 0) {
                    lsh_buf_addc(out, ',');
                }
                lsh_report_stage(out, &p->stages[k][j], k);
            }
            lsh_buf_addc(out, ']');
        }
        lsh_buf_addc(out, '}');
    }
    lsh_buf_adds(out, "]}");
}

/* --- /ready -------------------------------------------------------------- */

static void lsh_report_reason(struct lsh_buf *out, size_t *n, const char *text)
{
    lsh_buf_adds(out, (*n)++ > 0 ? "," : "");
    lsh_json_str(out, text, strlen(text));
}

bool lsh_engine_ready(void *engine, struct lsh_buf *out)
{
    struct lsh_engine *e = engine;
    struct lsh_buf     why = LSH_BUF_INIT;
    int64_t            now = lsh_now_mono_ns();
    int64_t            max = e->cfg->service.http->ready_max_paused_ms;
    size_t             n = 0;
    size_t             i;
    size_t             j;

    if (e->stopping) {
        lsh_report_reason(&why, &n, "shutting down");
    }
    for (i = 0; i < e->npipelines; i++) {
        struct lsh_pipeline *p = e->pipelines[i];
        int64_t              held = lsh_pipeline_paused_ns(p, now);
        char                 text[512];

        if (held > max * LSH_NS_PER_MS) {
            snprintf(text, sizeof(text),
                     "pipeline '%s' has been held by back-pressure for %.1f s "
                     "(ready_max_paused: %.1f s)",
                     p->name, (double)held / 1e9, (double)max / 1000);
            lsh_report_reason(&why, &n, text);
        }
        for (j = 0; j < p->nstages[LSH_PLUGIN_OUTPUT]; j++) {
            struct lsh_instance *o = &lsh_outputs(p)[j];
            struct lsh_buf       t = LSH_BUF_INIT;

            if (o->plugin->ready != NULL && o->ctx != NULL &&
                !o->plugin->ready(o, &t)) {
                snprintf(text, sizeof(text), "%s: %s", o->name,
                         lsh_buf_cstr(&t));
                lsh_report_reason(&why, &n, text);
            }
            lsh_buf_release(&t);
        }
    }
    lsh_buf_addf(out, "{\"ready\":%s,\"reasons\":[", n == 0 ? "true" : "false");
    lsh_buf_add(out, why.ptr, why.len);
    lsh_buf_adds(out, "]}");
    lsh_buf_release(&why);
    return n == 0;
}
