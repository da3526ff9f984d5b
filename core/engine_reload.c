/*
 * Reloading the configuration (SIGHUP, POST /api/v1/reload): the new one
 * is loaded and checked like at start-up, then applied as a diff of
 * pipelines, compared by name and by their YAML (after ${VAR} expansion).
 *
 *   unchanged  goes on untouched: its plugins, producer and files are
 *              the same objects, nothing is read again;
 *   removed    stops reading, delivers what it holds (within
 *              shutdown_timeout), persists its checkpoints and is freed;
 *   changed    the same, then starts again with its new settings, from
 *              those checkpoints: what was delivered is not sent again;
 *   added      starts.
 *
 * A pipeline being drained that a later reload changes again restarts
 * with the latest settings; one it removes is not restarted.  The
 * service section cannot change (other than log_level): state_dir, the
 * HTTP listener and the host name are the process's, so such a reload is
 * refused, like an invalid one, and the running configuration goes on.
 * Each configuration is kept while a pipeline runs from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "json.h"
#include "log.h"
#include "mem.h"

void lsh_engine_set_source(struct lsh_engine *e, const char *path,
                           bool log_level_from_config)
{
    e->config_path = path;
    e->log_level_from_config = log_level_from_config;
}

int lsh_engine_reload_http(void *engine, struct lsh_buf *out)
{
    return lsh_engine_reload(engine, "POST /api/v1/reload", out);
}

/* Frees the configurations no pipeline runs from, but the current one. */
static void lsh_engine_cfg_gc(struct lsh_engine *e)
{
    struct lsh_engine_cfg **pp = &e->cfgs;

    while (*pp != NULL) {
        struct lsh_engine_cfg *c = *pp;

        if (c->users == 0 && c->owned && c->cfg != e->cfg) {
            *pp = c->next;
            lsh_config_destroy(c->cfg);
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

void lsh_engine_cfg_release(struct lsh_engine *e, struct lsh_engine_cfg *c)
{
    c->users--;
    lsh_engine_cfg_gc(e);
}

/* Starts a pipeline made from pc; on failure it is freed, and logged. */
static bool lsh_reload_start(struct lsh_engine              *e,
                             const struct lsh_pipeline_conf *pc,
                             struct lsh_engine_cfg          *from)
{
    struct lsh_pipeline *p = lsh_pipeline_new(e, pc, from);
    int                  rc;

    lsh_engine_add_pipeline(e, p);
    rc = lsh_pipeline_start(p);
    if (rc != LSH_OK) {
        lsh_error("pipeline '%s' failed to start; it stays stopped until a "
                  "reload or restart that works",
                  pc->name);
        lsh_engine_remove_pipeline(e, p);
        lsh_pipeline_free(p);
        lsh_stash_drop(e, pc->name); /* what the old one left for it */
        e->reload_failures++;
        return false;
    }
    return true;
}

void lsh_pipeline_retire(struct lsh_pipeline *p)
{
    struct lsh_engine              *e = p->engine;
    const struct lsh_pipeline_conf *restart = p->restart;
    struct lsh_engine_cfg          *from = p->restart_from;
    bool                            again = p->restart_why[0] != '\0';
    uint64_t                        restarts = p->restarts + (again ? 1 : 0);
    char                            name[128];
    struct lsh_pipeline            *np;

    snprintf(name, sizeof(name), "%s", p->name);
    p->restart_from = NULL; /* its reference is ours now */
    lsh_engine_remove_pipeline(e, p);
    lsh_pipeline_free(p);
    if (restart == NULL) {
        lsh_info("pipeline '%s' stopped: its checkpoints are saved", name);
    } else {
        if (lsh_reload_start(e, restart, from) && !again) {
            lsh_info("pipeline '%s' restarted with its new settings, from "
                     "its checkpoints",
                     name);
        }
        np = lsh_engine_find_pipeline(e, name);
        if (np != NULL) {
            np->restarts = restarts;
        }
        lsh_engine_cfg_release(e, from);
    }
    lsh_engine_check_inputs(e); /* what is left may all have finished */
}

static void lsh_pipeline_restart_timer(struct lsh_timer *t)
{
    struct lsh_pipeline *p = t->data;

    if (p->engine->stopping || p->draining) {
        return; /* going anyway: the shutdown or reload frees it */
    }
    lsh_warn("pipeline '%s' starts again from its committed offsets (%s); "
             "what was read since is read again",
             p->name, p->restart_why);
    p->restart = p->pc;
    p->restart_from = p->from;
    p->from->users++;
    lsh_pipeline_retire(p);
}

void lsh_output_restart(struct lsh_instance *ins, const char *why)
{
    struct lsh_pipeline *p = ins->pipeline;

    if (p->restart_now.active || p->restart_why[0] != '\0') {
        return;
    }
    snprintf(p->restart_why, sizeof(p->restart_why), "%s", why);
    /*
     * Again and again (a record the broker refuses, a denied ACL): each
     * time later, up to 30 s, so a failure that lasts costs little.
     */
    lsh_timer_start(p->engine->loop, &p->restart_now,
                    (int64_t)LSH_MIN(p->restarts, 60) * 500, 0,
                    lsh_pipeline_restart_timer, p);
}

void lsh_output_restart_cancel(struct lsh_instance *ins)
{
    struct lsh_pipeline *p = ins->pipeline;

    lsh_timer_stop(p->engine->loop, &p->restart_now);
    p->restart_why[0] = '\0';
}

uint64_t lsh_output_restarts(struct lsh_instance *ins)
{
    return ins->pipeline->restarts;
}

static const struct lsh_pipeline_conf *
lsh_reload_find(const struct lsh_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->npipelines; i++) {
        if (strcmp(cfg->pipelines[i].name, name) == 0) {
            return &cfg->pipelines[i];
        }
    }
    return NULL;
}

/* The JSON list of names, in the report. */
static void lsh_reload_name(struct lsh_buf *list, const char *name)
{
    if (list->len > 0) {
        lsh_buf_addc(list, ',');
    }
    lsh_json_str(list, name, strlen(name));
}

static int lsh_reload_refuse(struct lsh_engine *e, const char *why,
                             const char *errors, struct lsh_buf *report)
{
    e->reload_failures++;
    lsh_error("reload (%s) refused; the running configuration goes on: %s", why,
              errors);
    if (report != NULL) {
        lsh_buf_adds(report, "{\"applied\":false,\"errors\":");
        lsh_json_str(report, errors, strlen(errors));
        lsh_buf_addc(report, '}');
    }
    return LSH_EINVAL;
}

int lsh_engine_reload(struct lsh_engine *e, const char *why,
                      struct lsh_buf *report)
{
    struct lsh_diag        d;
    struct lsh_config     *cfg;
    struct lsh_engine_cfg *ref;
    struct lsh_buf         kept = LSH_BUF_INIT;
    struct lsh_buf         changed = LSH_BUF_INIT;
    struct lsh_buf         added = LSH_BUF_INIT;
    struct lsh_buf         removed = LSH_BUF_INIT;
    struct lsh_buf         failed = LSH_BUF_INIT;
    size_t                 n;
    size_t                 i;
    int                    rc;

    if (e->stopping) {
        return lsh_reload_refuse(e, why, "logship is shutting down", report);
    }
    if (e->config_path == NULL) {
        return lsh_reload_refuse(e, why, "no configuration path to read",
                                 report);
    }
    lsh_diag_init(&d);
    cfg = lsh_config_load(e->config_path, &d);
    while (d.text.len > 0 && d.text.ptr[d.text.len - 1] == '\n') {
        d.text.len--;
    }
    if (cfg == NULL) {
        rc = lsh_reload_refuse(e, why, lsh_buf_cstr(&d.text), report);
        lsh_diag_release(&d);
        return rc;
    }
    if (d.text.len > 0) {
        lsh_warn("reload (%s): %s", why, lsh_buf_cstr(&d.text));
    }
    lsh_diag_release(&d);
    if (!lsh_node_equal(lsh_node_get(e->cfg->doc->root, "service"),
                        lsh_node_get(cfg->doc->root, "service"), "log_level")) {
        lsh_config_destroy(cfg);
        return lsh_reload_refuse(e, why,
                                 "the service section changed (other than "
                                 "log_level); that needs a restart",
                                 report);
    }
    ref = lsh_calloc(1, sizeof(*ref));
    ref->cfg = cfg;
    ref->owned = true;
    ref->users = 1; /* held while the diff is applied */
    ref->next = e->cfgs;
    e->cfgs = ref;
    e->cfg = cfg;
    if (e->log_level_from_config) {
        lsh_log_level = cfg->service.log_level;
    }
    /* what runs now: go on, drain, or drain and restart */
    n = e->npipelines;
    for (i = 0; i < n; i++) {
        struct lsh_pipeline            *p = e->pipelines[i];
        const struct lsh_pipeline_conf *pc = lsh_reload_find(cfg, p->name);

        if (p->restart_from != NULL) {
            lsh_engine_cfg_release(e, p->restart_from);
            p->restart_from = NULL;
        }
        p->restart = NULL;
        if (!p->draining && lsh_pipeline_volatile(p) &&
            (pc == NULL || !lsh_node_equal(p->pc->node, pc->node, NULL))) {
            /* what stdin gave exists nowhere else: never drained away */
            lsh_warn("pipeline '%s' reads stdin, which cannot be read again: "
                     "a reload leaves it as it is (restart logship to %s it)",
                     p->name, pc == NULL ? "remove" : "change");
            lsh_reload_name(&kept, p->name);
        } else if (pc == NULL) {
            lsh_reload_name(&removed, p->name);
            lsh_pipeline_stop(p);
        } else if (!p->draining &&
                   lsh_node_equal(p->pc->node, pc->node, NULL)) {
            lsh_reload_name(&kept, p->name);
        } else {
            lsh_reload_name(&changed, p->name);
            p->restart = pc;
            p->restart_from = ref;
            ref->users++;
            lsh_pipeline_stop(p);
        }
    }
    for (i = 0; i < cfg->npipelines; i++) {
        const struct lsh_pipeline_conf *pc = &cfg->pipelines[i];

        if (lsh_engine_find_pipeline(e, pc->name) == NULL) {
            if (lsh_reload_start(e, pc, ref)) {
                lsh_reload_name(&added, pc->name);
            } else {
                lsh_reload_name(&failed, pc->name);
            }
        }
    }
    e->reloads++;
    lsh_info("reload (%s) applied: unchanged [%s], changed [%s], added [%s], "
             "removed [%s]%s%s%s",
             why, lsh_buf_cstr(&kept), lsh_buf_cstr(&changed),
             lsh_buf_cstr(&added), lsh_buf_cstr(&removed),
             failed.len > 0 ? ", failed to start [" : "", lsh_buf_cstr(&failed),
             failed.len > 0 ? "]" : "");
    if (report != NULL) {
        lsh_buf_addf(report,
                     "{\"applied\":true,\"unchanged\":[%s],\"changed\":[%s],"
                     "\"added\":[%s],\"removed\":[%s],\"failed\":[%s]}",
                     lsh_buf_cstr(&kept), lsh_buf_cstr(&changed),
                     lsh_buf_cstr(&added), lsh_buf_cstr(&removed),
                     lsh_buf_cstr(&failed));
    }
    rc = failed.len > 0 ? LSH_ERR : LSH_OK;
    lsh_buf_release(&failed);
    lsh_buf_release(&kept);
    lsh_buf_release(&changed);
    lsh_buf_release(&added);
    lsh_buf_release(&removed);
    /* the hold above; the one before goes once its last pipeline does */
    lsh_engine_cfg_release(e, ref);
    lsh_engine_check_inputs(e);
    return rc;
}
