/*
 * Configuration: from the merged YAML document to validated plugin
 * configurations.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "mem.h"

static const char *const lsh_log_levels[] = {"error", "warn", "info", "debug",
                                             NULL};

const struct lsh_option lsh_service_options[] = {
    {.name = "state_dir",
     .type = LSH_OPT_STR,
     .def = "/var/lib/logship",
     .offset = offsetof(struct lsh_service_conf, state_dir),
     .help = "Directory for checkpoints and other state."},
    {.name = "log_level",
     .type = LSH_OPT_ENUM,
     .def = "info",
     .offset = offsetof(struct lsh_service_conf, log_level),
     .values = lsh_log_levels,
     .help = "Least severe level of logship's own messages (to stderr)."},
    {.name = "hostname",
     .type = LSH_OPT_STR,
     .offset = offsetof(struct lsh_service_conf, hostname),
     .help = "Value of the records' host field; default: the system's "
             "host name."},
    {.name = "shutdown_timeout",
     .type = LSH_OPT_DURATION,
     .def = "10s",
     .offset = offsetof(struct lsh_service_conf, shutdown_timeout_ms),
     .min = 0,
     .max = 3600000,
     .help = "On SIGTERM or SIGINT, how long to wait for outputs to "
             "deliver what was read before exiting anyway."},
    {.name = "checkpoint_delay",
     .type = LSH_OPT_DURATION,
     .def = "100ms",
     .offset = offsetof(struct lsh_service_conf, checkpoint_delay_ms),
     .min = 1,
     .max = 60000,
     .help = "How soon after an ack advances a file's committed offset the "
             "offset is written to the checkpoint journal; every ack in "
             "between is written with it, and nothing is written while "
             "nothing advances. After a crash, at most what was in flight "
             "plus this much of acks is sent again."},
    {.name = "checkpoint_interval",
     .type = LSH_OPT_DURATION,
     .def = "0",
     .offset = offsetof(struct lsh_service_conf, checkpoint_interval_ms),
     .min = 0,
     .max = 3600000,
     .help = "Deprecated: the old name of checkpoint_delay (checkpoints "
             "used to be written on this timer). If set and "
             "checkpoint_delay is not, it is used as checkpoint_delay "
             "(at most 1m), with a warning."},
    {.name = "checkpoint_retention",
     .type = LSH_OPT_DURATION,
     .def = "24h",
     .offset = offsetof(struct lsh_service_conf, checkpoint_retention_ms),
     .min = 0,
     .max = 366LL * 86400 * 1000,
     .help = "How long the checkpoint of a file that is not visible (its "
             "directory moved away, a volume not mounted yet) is kept, so "
             "that the file resumes at its offset when it comes back."},
    {.name = "http",
     .type = LSH_OPT_SUB,
     .offset = offsetof(struct lsh_service_conf, http),
     .sub = lsh_http_options,
     .sub_size = sizeof(struct lsh_http_conf),
     .help = "{listen, reload, ready_max_paused, max_connections, "
             "timeout}: the HTTP API (/metrics, /health, /ready, "
             "/api/v1/pipelines, /api/v1/tap, /api/v1/reload); off unless "
             "listen is set. See docs/operations.md."},
    {.name = NULL},
};

static const char *const lsh_stage_keys[] = {"inputs", "filters", "outputs"};
static const char *const lsh_type_skip[] = {"type", NULL};

static bool lsh_valid_name(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
            *s != '.') {
            return false;
        }
    }
    return true;
}

static void lsh_stage_load(struct lsh_stage_conf *st, enum lsh_plugin_kind kind,
                           const struct lsh_node *n, size_t idx, size_t count,
                           const char *pipeline, struct lsh_diag *d)
{
    const struct lsh_node *type = lsh_node_get(n, "type");
    const char            *kname = lsh_plugin_kind_name(kind);
    struct lsh_buf         names = LSH_BUF_INIT;
    size_t                 errors0 = d->nerrors;

    st->mark = n->mark;
    lsh_diag_ctx(d, "pipeline '%s': %s #%zu", pipeline, kname, idx + 1);
    if (n->type != LSH_NODE_MAP) {
        lsh_diag_error(d, &n->mark, "expected a map with 'type', got %s",
                       lsh_node_type_name(n));
        return;
    }
    lsh_plugin_names(kind, &names);
    if (type != NULL && type->error != NULL) {
        lsh_diag_error(d, &type->error_mark, "option 'type': %s", type->error);
        lsh_buf_release(&names);
        return;
    }
    /* "type: null" reads as YAML's null, but means the null output */
    if (type == NULL || type->type != LSH_NODE_SCALAR ||
        (type->is_null &&
         (type->value == NULL || strcmp(type->value, "null") != 0))) {
        lsh_diag_error(d, type ? &type->mark : &n->mark,
                       "missing 'type' (one of: %s)", lsh_buf_cstr(&names));
        lsh_buf_release(&names);
        return;
    }
    st->plugin = lsh_plugin_find(kind, type->value);
    if (st->plugin == NULL) {
        lsh_diag_error(d, &type->mark, "unknown %s type '%s' (one of: %s)",
                       kname, type->value, lsh_buf_cstr(&names));
        lsh_buf_release(&names);
        return;
    }
    lsh_buf_release(&names);
    if (count > 1) {
        snprintf(st->label, sizeof(st->label), "%s '%s' #%zu", kname,
                 st->plugin->name, idx + 1);
    } else {
        snprintf(st->label, sizeof(st->label), "%s '%s'", kname,
                 st->plugin->name);
    }
    lsh_diag_ctx(d, "pipeline '%s': %s", pipeline, st->label);
    st->node = n;
    st->conf = lsh_calloc(1, st->plugin->conf_size);
    lsh_opt_parse(st->plugin->options, n, lsh_type_skip, st->conf, d);
    if (d->nerrors == errors0 && st->plugin->validate != NULL) {
        d->node = n;
        st->plugin->validate(st->conf, d);
        d->node = NULL;
    }
}

static void lsh_stages_load(struct lsh_pipeline_conf *pc,
                            enum lsh_plugin_kind      kind,
                            const struct lsh_node *list, struct lsh_diag *d)
{
    size_t i;

    if (list->type != LSH_NODE_SEQ) {
        if (!list->is_null) {
            lsh_diag_error(d, &list->mark, "'%s' must be a list, not %s",
                           lsh_stage_keys[kind], lsh_node_type_name(list));
        }
        return;
    }
    pc->stages[kind] = lsh_calloc(list->nitems, sizeof(struct lsh_stage_conf));
    pc->nstages[kind] = list->nitems;
    for (i = 0; i < list->nitems; i++) {
        lsh_stage_load(&pc->stages[kind][i], kind, list->items[i], i,
                       list->nitems, pc->name, d);
    }
}

/* What an output asks of its pipeline (plugin requires()), checked. */
static void lsh_pipeline_requires(struct lsh_pipeline_conf *pc,
                                  struct lsh_diag          *d)
{
    size_t j;
    size_t i;

    for (j = 0; j < pc->nstages[LSH_PLUGIN_OUTPUT]; j++) {
        const struct lsh_stage_conf *st = &pc->stages[LSH_PLUGIN_OUTPUT][j];
        const char                  *key = "type";
        unsigned                     req;

        if (st->plugin == NULL || st->conf == NULL ||
            st->plugin->requires == NULL) {
            continue;
        }
        req = st->plugin->requires(st->conf, &key);
        lsh_diag_ctx(d, "pipeline '%s': %s", pc->name, st->label);
        d->node = st->node;
        if ((req & LSH_REQ_ALONE) && pc->nstages[LSH_PLUGIN_OUTPUT] > 1) {
            lsh_diag_key(d, key,
                         "needs to be the pipeline's only output (this one "
                         "has %zu): no transaction spans two outputs; give "
                         "the other outputs a pipeline of their own",
                         pc->nstages[LSH_PLUGIN_OUTPUT]);
        }
        for (i = 0;
             (req & LSH_REQ_CHECKPOINTS) && i < pc->nstages[LSH_PLUGIN_INPUT];
             i++) {
            const struct lsh_stage_conf *in = &pc->stages[LSH_PLUGIN_INPUT][i];

            if (in->plugin != NULL &&
                !(in->plugin->flags & LSH_PLUGIN_CHECKPOINTS)) {
                lsh_diag_key(d, key,
                             "needs inputs that keep checkpoints; %s "
                             "cannot read again what a failed transaction "
                             "held",
                             in->label);
            }
        }
        d->node = NULL;
    }
}

static void lsh_pipeline_load(struct lsh_pipeline_conf *pc,
                              const struct lsh_pair *pair, struct lsh_diag *d)
{
    const struct lsh_node *n = pair->value;
    size_t                 i;
    int                    k;

    pc->name = lsh_strdup(pair->key->value);
    pc->mark = pair->key->mark;
    pc->node = n;
    lsh_diag_ctx(d, "pipeline '%s'", pc->name);
    if (!lsh_valid_name(pc->name)) {
        lsh_diag_error(d, &pair->key->mark,
                       "invalid pipeline name (use letters, digits, '_', "
                       "'-' and '.')");
    }
    if (n->type != LSH_NODE_MAP) {
        lsh_diag_error(d, &n->mark,
                       "expected a map with inputs, filters and outputs, "
                       "got %s",
                       lsh_node_type_name(n));
        return;
    }
    for (i = 0; i < n->npairs; i++) {
        const char *key = n->pairs[i].key->value;

        for (k = 0; k < 3; k++) {
            if (strcmp(key, lsh_stage_keys[k]) == 0) {
                break;
            }
        }
        if (k == 3) {
            lsh_diag_error(d, &n->pairs[i].key->mark,
                           "unknown key '%s'; valid keys: inputs, filters, "
                           "outputs",
                           key);
            continue;
        }
        lsh_stages_load(pc, (enum lsh_plugin_kind)k, n->pairs[i].value, d);
        lsh_diag_ctx(d, "pipeline '%s'", pc->name);
    }
    if (pc->nstages[LSH_PLUGIN_INPUT] == 0) {
        lsh_diag_error(d, &pair->key->mark, "needs at least one input");
    }
    if (pc->nstages[LSH_PLUGIN_OUTPUT] == 0) {
        lsh_diag_error(d, &pair->key->mark, "needs at least one output");
    }
    lsh_pipeline_requires(pc, d);
    lsh_diag_ctx(d, "pipeline '%s'", pc->name);
}

static void lsh_pipelines_load(struct lsh_config *cfg, const struct lsh_node *n,
                               struct lsh_diag *d)
{
    size_t i;

    if (n->type != LSH_NODE_MAP || n->npairs == 0) {
        lsh_diag_error(d, &n->mark,
                       "'pipelines' must be a map of pipeline names to "
                       "pipelines, not %s",
                       n->type == LSH_NODE_MAP ? "an empty map"
                                               : lsh_node_type_name(n));
        return;
    }
    cfg->pipelines = lsh_calloc(n->npairs, sizeof(*cfg->pipelines));
    cfg->npipelines = n->npairs;
    for (i = 0; i < n->npairs; i++) {
        lsh_pipeline_load(&cfg->pipelines[i], &n->pairs[i], d);
    }
    lsh_diag_ctx(d, "%s", "");
}

/*
 * Builds the configuration from doc, taking ownership of it.  errors0 is
 * the error count before the document was loaded: any error since then,
 * in the YAML or in the configuration, makes the result NULL.
 */
/* checkpoint_interval: the old name of checkpoint_delay. */
static void lsh_service_deprecated(struct lsh_service_conf *s,
                                   const struct lsh_node   *svc,
                                   struct lsh_diag         *d)
{
    const struct lsh_node *iv = lsh_node_get(svc, "checkpoint_interval");

    if (iv == NULL || s->checkpoint_interval_ms == 0) {
        return;
    }
    if (lsh_node_get(svc, "checkpoint_delay") != NULL) {
        lsh_diag_warn(d, &iv->mark,
                      "'checkpoint_interval' is deprecated and ignored: "
                      "'checkpoint_delay' is set");
        return;
    }
    s->checkpoint_delay_ms = LSH_MIN(s->checkpoint_interval_ms, 60000);
    lsh_diag_warn(d, &iv->mark,
                  "'checkpoint_interval' is deprecated: checkpoints are "
                  "written within 'checkpoint_delay' of each ack; using "
                  "checkpoint_delay: %lldms",
                  (long long)s->checkpoint_delay_ms);
}

/* service.http.listen: an address to bind, checked before anything runs */
static void lsh_service_http(const struct lsh_service_conf *s,
                             const struct lsh_node *svc, struct lsh_diag *d)
{
    const struct lsh_node *n =
        lsh_node_get(lsh_node_get(svc, "http"), "listen");
    struct sockaddr_storage ss;
    socklen_t               len;
    struct lsh_buf          err = LSH_BUF_INIT;

    if (s->http == NULL || s->http->listen == NULL || n == NULL) {
        return;
    }
    if (lsh_http_parse_listen(s->http->listen, &ss, &len, &err) != LSH_OK) {
        lsh_diag_error(d, &n->mark, "option 'http.listen': %s",
                       lsh_buf_cstr(&err));
    }
    lsh_buf_release(&err);
}

static struct lsh_config *lsh_config_build(struct lsh_doc  *doc,
                                           struct lsh_diag *d, size_t errors0)
{
    struct lsh_config     *cfg = lsh_calloc(1, sizeof(*cfg));
    const struct lsh_node *root;
    const struct lsh_node *pipes;
    size_t                 i;

    cfg->doc = doc;
    if (doc == NULL) {
        goto err;
    }
    root = doc->root;
    for (i = 0; root != NULL && i < root->npairs; i++) {
        const char *key = root->pairs[i].key->value;

        if (strcmp(key, "service") != 0 && strcmp(key, "pipelines") != 0) {
            lsh_diag_error(d, &root->pairs[i].key->mark,
                           "unknown top-level key '%s'; valid keys: "
                           "service, pipelines",
                           key);
        }
    }
    lsh_diag_ctx(d, "service");
    lsh_opt_parse(lsh_service_options, lsh_node_get(root, "service"), NULL,
                  &cfg->service, d);
    lsh_service_deprecated(&cfg->service, lsh_node_get(root, "service"), d);
    lsh_service_http(&cfg->service, lsh_node_get(root, "service"), d);
    lsh_diag_ctx(d, "%s", "");
    pipes = lsh_node_get(root, "pipelines");
    if (pipes == NULL) {
        lsh_diag_error(
            d,
            root ? &root->mark
                 : &(struct lsh_mark){doc->nfiles ? doc->files[0] : NULL, 1, 1},
            "no 'pipelines' defined");
    } else {
        lsh_pipelines_load(cfg, pipes, d);
    }
    if (d->nerrors == errors0) {
        lsh_node_report_errors(root, d); /* values nothing looked at */
    }
    if (d->nerrors > errors0) {
        goto err;
    }
    return cfg;
err:
    lsh_config_destroy(cfg);
    return NULL;
}

struct lsh_config *lsh_config_load(const char *path, struct lsh_diag *d)
{
    size_t errors0 = d->nerrors;

    return lsh_config_build(lsh_doc_load(path, d), d, errors0);
}

struct lsh_config *lsh_config_parse(const char *name, const char *text,
                                    size_t len, struct lsh_diag *d)
{
    size_t errors0 = d->nerrors;

    return lsh_config_build(lsh_doc_parse(name, text, len, d), d, errors0);
}

void lsh_config_destroy(struct lsh_config *cfg)
{
    size_t i;
    size_t j;
    int    k;

    if (cfg == NULL) {
        return;
    }
    for (i = 0; i < cfg->npipelines; i++) {
        struct lsh_pipeline_conf *pc = &cfg->pipelines[i];

        for (k = 0; k < 3; k++) {
            for (j = 0; j < pc->nstages[k]; j++) {
                struct lsh_stage_conf *st = &pc->stages[k][j];

                if (st->conf != NULL) {
                    lsh_opt_release(st->plugin->options, st->conf);
                    free(st->conf);
                }
            }
            free(pc->stages[k]);
        }
        free(pc->name);
    }
    free(cfg->pipelines);
    lsh_opt_release(lsh_service_options, &cfg->service);
    lsh_doc_destroy(cfg->doc);
    free(cfg);
}

void lsh_config_print(const struct lsh_config *cfg, struct lsh_buf *out)
{
    size_t i;
    size_t j;
    int    k;

    lsh_buf_adds(out, "service:\n");
    lsh_opt_print(lsh_service_options, &cfg->service, 2, out);
    lsh_buf_adds(out, "pipelines:\n");
    for (i = 0; i < cfg->npipelines; i++) {
        const struct lsh_pipeline_conf *pc = &cfg->pipelines[i];

        lsh_buf_addf(out, "  %s:\n", pc->name);
        for (k = 0; k < 3; k++) {
            lsh_buf_addf(out, "    %s:%s\n", lsh_stage_keys[k],
                         pc->nstages[k] ? "" : " []");
            for (j = 0; j < pc->nstages[k]; j++) {
                const struct lsh_stage_conf *st = &pc->stages[k][j];

                lsh_buf_addf(out, "      - type: %s\n", st->plugin->name);
                lsh_opt_print(st->plugin->options, st->conf, 8, out);
            }
        }
    }
}

void lsh_config_doc(struct lsh_buf *out)
{
    size_t i;
    int    k;

    lsh_buf_adds(out,
                 "# Configuration reference\n\n"
                 "Generated by `logship --doc` from the option tables in "
                 "the source; do not edit by hand.\n\n"
                 "Durations take a unit: `ms`, `s`, `m`, `h` (`1.5s`). "
                 "Sizes are bytes, or take `KiB`, `MiB`, `GiB` (also `K`, "
                 "`M`, `G`) or `KB`, `MB`, `GB`.\n"
                 "Any value may use `${VAR}` or `${VAR:-default}` from the "
                 "environment; `$${` is a literal `${`.\n\n"
                 "## service\n\n");
    lsh_opt_doc(lsh_service_options, out);
    for (k = 0; k < 3; k++) {
        lsh_buf_addf(out, "\n## %s\n", lsh_stage_keys[k]);
        for (i = 0; lsh_plugins[i] != NULL; i++) {
            const struct lsh_plugin *p = lsh_plugins[i];

            if ((int)p->kind != k) {
                continue;
            }
            lsh_buf_addf(out, "\n### %s\n\n%s\n\n", p->name, p->description);
            lsh_opt_doc(p->options, out);
        }
    }
}
