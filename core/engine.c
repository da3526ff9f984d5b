/*
 * The engine: pipelines, batch routing, back-pressure and shutdown.
 */
#include "engine.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "engine_int.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "ticket.h"

static void lsh_engine_collect_task(struct lsh_task *t);
static void lsh_pipeline_retire_timer(struct lsh_timer *t);
static void lsh_engine_prune_checkpoints(struct lsh_timer *t);
static void lsh_pipeline_resume_task(struct lsh_task *t);
static void lsh_engine_drain_task(struct lsh_task *t);

struct lsh_pipeline *lsh_pipeline_new(struct lsh_engine              *e,
                                      const struct lsh_pipeline_conf *pc,
                                      struct lsh_engine_cfg          *from)
{
    struct lsh_pipeline *p = lsh_calloc(1, sizeof(*p));
    size_t               j;
    int                  k;

    p->engine = e;
    p->name = pc->name;
    p->pc = pc;
    p->from = from;
    from->users++;
    p->resume.cb = lsh_pipeline_resume_task;
    p->resume.data = p;
    for (k = 0; k < 3; k++) {
        p->stages[k] = lsh_calloc(pc->nstages[k], sizeof(**p->stages));
        p->nstages[k] = pc->nstages[k];
        for (j = 0; j < pc->nstages[k]; j++) {
            struct lsh_instance         *ins = &p->stages[k][j];
            const struct lsh_stage_conf *st = &pc->stages[k][j];

            ins->plugin = st->plugin;
            ins->conf = st->conf;
            ins->engine = e;
            ins->pipeline = p;
            ins->loop = e->loop;
            ins->task.cb = lsh_engine_collect_task;
            ins->task.data = ins;
            if (pc->nstages[k] > 1) {
                snprintf(ins->name, sizeof(ins->name), "%s/%s.%s#%zu", pc->name,
                         lsh_plugin_kind_name(k), st->plugin->name, j + 1);
            } else {
                snprintf(ins->name, sizeof(ins->name), "%s/%s.%s", pc->name,
                         lsh_plugin_kind_name(k), st->plugin->name);
            }
        }
    }
    return p;
}

void lsh_engine_add_pipeline(struct lsh_engine *e, struct lsh_pipeline *p)
{
    LSH_GROW(e->pipelines, e->cap, e->npipelines + 1);
    e->pipelines[e->npipelines++] = p;
}

void lsh_engine_remove_pipeline(struct lsh_engine *e, struct lsh_pipeline *p)
{
    size_t i;

    for (i = 0; i < e->npipelines; i++) {
        if (e->pipelines[i] == p) {
            memmove(&e->pipelines[i], &e->pipelines[i + 1],
                    (e->npipelines - i - 1) * sizeof(*e->pipelines));
            e->npipelines--;
            return;
        }
    }
}

struct lsh_pipeline *lsh_engine_find_pipeline(struct lsh_engine *e,
                                              const char        *name)
{
    size_t i;

    for (i = 0; i < e->npipelines; i++) {
        if (strcmp(e->pipelines[i]->name, name) == 0) {
            return e->pipelines[i];
        }
    }
    return NULL;
}

struct lsh_engine *lsh_engine_create(const struct lsh_config *cfg)
{
    struct lsh_engine *e = lsh_calloc(1, sizeof(*e));
    size_t             i;

    e->cfg = cfg;
    e->lock_fd = -1;
    e->loop = lsh_loop_create();
    if (e->loop == NULL) {
        free(e);
        return NULL;
    }
    e->drain_check.cb = lsh_engine_drain_task;
    e->drain_check.data = e;
    e->cfgs = lsh_calloc(1, sizeof(*e->cfgs));
    e->cfgs->cfg = (struct lsh_config *)cfg; /* not owned: never freed here */
    for (i = 0; i < cfg->npipelines; i++) {
        lsh_engine_add_pipeline(
            e, lsh_pipeline_new(e, &cfg->pipelines[i], e->cfgs));
    }
    return e;
}

struct lsh_loop *lsh_engine_loop(struct lsh_engine *e)
{
    return e->loop;
}

static void lsh_engine_signal(struct lsh_loop *loop, int signo, void *data)
{
    struct lsh_engine *e = data;

    (void)loop;
    if (signo == SIGHUP) {
        lsh_engine_reload(e, "SIGHUP", NULL);
        return;
    }
    lsh_engine_shutdown(e, signo == SIGINT ? "SIGINT" : "SIGTERM");
}

static bool lsh_pipeline_checkpoints(const struct lsh_pipeline *p)
{
    size_t i;

    for (i = 0; i < p->nstages[LSH_PLUGIN_INPUT]; i++) {
        if (lsh_inputs(p)[i].plugin->flags & LSH_PLUGIN_CHECKPOINTS) {
            return true;
        }
    }
    return false;
}

/* Creates dir and its parents; returns LSH_OK or LSH_ERR with errno. */
static int lsh_mkdir_p(const char *dir)
{
    char *p = lsh_strdup(dir);
    char *s;
    int   rc = LSH_OK;

    for (s = p + 1; rc == LSH_OK; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;

            *s = '\0';
            if (mkdir(p, 0750) != 0 && errno != EEXIST) {
                rc = LSH_ERR;
            }
            *s = c;
            if (c == '\0') {
                break;
            }
        }
    }
    free(p);
    return rc;
}

/* One logship per state_dir: two would overwrite each other's checkpoints */
static int lsh_engine_lock(struct lsh_engine *e, const char *dir)
{
    char path[4096];
    char pid[32];
    int  n;

    if (lsh_mkdir_p(dir) != LSH_OK) {
        return lsh_error("cannot create state_dir '%s': %s", dir,
                         strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/logship.lock", dir);
    e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (e->lock_fd < 0) {
        return lsh_error("cannot open '%s': %s", path, strerror(errno));
    }
    if (flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        n = (int)read(e->lock_fd, pid, sizeof(pid) - 1);
        while (n > 0 && (pid[n - 1] == '\n' || pid[n - 1] == ' ')) {
            n--;
        }
        pid[n > 0 ? n : 0] = '\0';
        close(e->lock_fd); /* not ours: the next try locks again */
        e->lock_fd = -1;
        return lsh_error("state_dir '%s' is in use by another logship "
                         "(pid %s); give each instance its own state_dir",
                         dir, pid[0] ? pid : "unknown");
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(e->lock_fd, 0) != 0 ||
        write(e->lock_fd, pid, (size_t)n) < 0) {
        lsh_warn("cannot write pid to '%s': %s", path, strerror(errno));
    }
    return LSH_OK;
}

/* Returns false if a store could not be saved (it is still pending). */
static bool lsh_engine_save_checkpoints(struct lsh_engine *e)
{
    bool   ok = true;
    size_t i;

    for (i = 0; i < e->npipelines; i++) {
        if (e->pipelines[i]->ckpt != NULL &&
            lsh_ckpt_save(e->pipelines[i]->ckpt) != LSH_OK) {
            ok = false;
        }
    }
    return ok;
}

/* A failed save is tried again after this (the disk may be full). */
#define LSH_CKPT_RETRY_MS 1000

static void lsh_engine_ckpt_timer(struct lsh_timer *t)
{
    struct lsh_engine *e = t->data;
    int64_t            t0 = lsh_now_mono_ns();
    bool               ok;

    ok = lsh_engine_save_checkpoints(e);
    e->ckpt_saved = t0;
    e->ckpt_cost = lsh_now_mono_ns() - t0;
    if (!ok) {
        lsh_timer_start(e->loop, &e->ckpt_timer, LSH_CKPT_RETRY_MS, 0,
                        lsh_engine_ckpt_timer, e);
    }
}

/*
 * A store has something to persist (an ack advanced an offset, a file was
 * added).  It is saved checkpoint_delay after the last save, with
 * whatever else changes by then, or at once if that is past: the first
 * ack after a quiet spell is on disk straight away, a steady stream of
 * them costs one save a checkpoint_delay, and no acknowledged offset
 * waits longer than that.  A slow disk spaces saves 20 times as long as
 * the last one took (it is never busy with checkpoints more than 5 % of
 * the time).  Nothing changes, nothing is written.
 */
static void lsh_engine_ckpt_changed(void *arg)
{
    struct lsh_engine *e = arg;
    int64_t            delay = e->cfg->service.checkpoint_delay_ms;
    int64_t            gap;
    int64_t            wait;

    if (e->ckpt_timer.active) {
        return;
    }
    gap = LSH_MAX(delay, 20 * e->ckpt_cost / LSH_NS_PER_MS);
    wait = e->ckpt_saved + gap * LSH_NS_PER_MS - lsh_now_mono_ns();
    wait = LSH_MAX(wait, 0) / LSH_NS_PER_MS;
    lsh_timer_start(e->loop, &e->ckpt_timer, wait, 0, lsh_engine_ckpt_timer, e);
}

/*
 * Loads the checkpoints of p if its inputs keep them.  Returns LSH_OK,
 * LSH_EINVAL for a corrupt file, LSH_ERR otherwise.
 */
static int lsh_pipeline_open_checkpoints(struct lsh_pipeline *p)
{
    struct lsh_engine *e = p->engine;
    const char        *dir = e->cfg->service.state_dir;
    struct lsh_buf     err = LSH_BUF_INIT;
    int                rc;

    if (!lsh_pipeline_checkpoints(p) || p->ckpt != NULL) {
        return LSH_OK;
    }
    if (e->lock_fd < 0) {
        if (lsh_engine_lock(e, dir) != LSH_OK) {
            return LSH_ERR;
        }
        lsh_timer_start(e->loop, &e->ckpt_prune, 0, 60000,
                        lsh_engine_prune_checkpoints, e);
    }
    rc = lsh_ckpt_open(&p->ckpt, dir, p->name, &err);
    if (rc != LSH_OK) {
        lsh_error("%s", lsh_buf_cstr(&err));
        lsh_buf_release(&err);
        return rc;
    }
    lsh_info("pipeline '%s': %zu checkpoints in '%s'%s", p->name,
             lsh_ckpt_count(p->ckpt), lsh_ckpt_path(p->ckpt),
             lsh_ckpt_stats(p->ckpt)->torn_tail
                 ? " (the journal's last record was torn by a crash; "
                   "dropped)"
                 : "");
    lsh_ckpt_set_notify(p->ckpt, lsh_engine_ckpt_changed, e);
    if (lsh_ckpt_pending(p->ckpt)) {
        lsh_engine_ckpt_changed(e);
    }
    return LSH_OK;
}

/* Starts the plugins of p of kind k that have not started. */
static int lsh_pipeline_init_kind(struct lsh_pipeline *p,
                                  enum lsh_plugin_kind k)
{
    size_t j;

    for (j = 0; j < p->nstages[k]; j++) {
        struct lsh_instance *ins = &p->stages[k][j];

        if (ins->started) {
            continue;
        }
        ins->started = true; /* exit() runs even if init() fails */
        if (ins->plugin->init(ins, ins->conf) != LSH_OK) {
            return lsh_error("'%s' failed to start", ins->name);
        }
    }
    return LSH_OK;
}

int lsh_pipeline_init_inputs(struct lsh_pipeline *p)
{
    int rc = lsh_pipeline_init_kind(p, LSH_PLUGIN_INPUT);

    lsh_stash_drop(p->engine, p->name); /* what they did not take back */
    return rc;
}

/*
 * Starts p's plugins: outputs, then filters, then inputs, unless an
 * output asked the inputs to wait (lsh_output_inputs_wait()).
 */
static int lsh_pipeline_init(struct lsh_pipeline *p)
{
    p->started = true;
    if (lsh_pipeline_init_kind(p, LSH_PLUGIN_OUTPUT) != LSH_OK ||
        lsh_pipeline_init_kind(p, LSH_PLUGIN_FILTER) != LSH_OK) {
        return LSH_ERR;
    }
    if (p->ckpt != NULL && !p->ckpt_owned && lsh_ckpt_tag(p->ckpt) != NULL &&
        lsh_ckpt_set_tag(p->ckpt, NULL) != LSH_OK) {
        return LSH_ERR; /* the tag would say an owner wrote what we write */
    }
    return p->inputs_wait > 0 ? LSH_OK : lsh_pipeline_init_inputs(p);
}

void lsh_output_inputs_wait(struct lsh_instance *ins)
{
    ins->pipeline->inputs_wait++;
}

void lsh_output_inputs_go(struct lsh_instance *ins)
{
    struct lsh_pipeline *p = ins->pipeline;

    if (p->inputs_wait == 0 || --p->inputs_wait > 0 || p->draining ||
        p->engine->stopping || !p->started) {
        return;
    }
    if (lsh_pipeline_init_inputs(p) != LSH_OK) {
        lsh_engine_shutdown(p->engine, "an input failed to start");
    }
}

bool lsh_input_rewinds(struct lsh_instance *ins)
{
    return ins->pipeline->ckpt_owned;
}

struct lsh_ckpt *lsh_output_ckpt(struct lsh_instance *ins, bool own)
{
    if (own) {
        ins->pipeline->ckpt_owned = true;
    }
    return ins->pipeline->ckpt;
}

int lsh_pipeline_start(struct lsh_pipeline *p)
{
    int rc = lsh_pipeline_open_checkpoints(p);

    return rc != LSH_OK ? rc : lsh_pipeline_init(p);
}

/*
 * Entries of files no input has seen for checkpoint_retention are
 * dropped; the others wait for their files to come back.
 */
static void lsh_engine_prune_checkpoints(struct lsh_timer *t)
{
    struct lsh_engine *e = t->data;
    int64_t            keep = e->cfg->service.checkpoint_retention_ms / 1000;
    size_t             i;

    for (i = 0; i < e->npipelines; i++) {
        struct lsh_ckpt *ck = e->pipelines[i]->ckpt;

        /* inputs not started yet claim nothing: everything would look old */
        if (ck != NULL && e->pipelines[i]->inputs_wait == 0) {
            lsh_ckpt_prune(ck, lsh_ckpt_now(), keep);
        }
    }
}

struct lsh_ckpt *lsh_input_ckpt(struct lsh_instance *ins)
{
    return ins->pipeline->ckpt;
}

int lsh_engine_start(struct lsh_engine *e, bool handle_signals)
{
    sigset_t set;
    size_t   i;
    int      rc;

    if (handle_signals) {
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        if (lsh_loop_signals(e->loop, &set, lsh_engine_signal, e) != LSH_OK) {
            return LSH_ERR;
        }
    }
    /* every store first: a corrupt one stops logship before anything runs */
    for (i = 0; i < e->npipelines; i++) {
        rc = lsh_pipeline_open_checkpoints(e->pipelines[i]);
        if (rc != LSH_OK) {
            return rc;
        }
    }
    e->started = true;
    for (i = 0; i < e->npipelines; i++) {
        if (lsh_pipeline_init(e->pipelines[i]) != LSH_OK) {
            return LSH_ERR;
        }
    }
    if (e->cfg->service.http != NULL && e->cfg->service.http->listen != NULL) {
        struct lsh_http_api api = {
            e,
            lsh_engine_metrics,
            lsh_engine_pipelines,
            lsh_engine_ready,
            lsh_engine_reload_http,
            lsh_engine_tap_start,
            lsh_engine_tap_take,
            lsh_engine_tap_cancel,
        };

        e->http = lsh_http_start(e->loop, e->cfg->service.http, &api);
        if (e->http == NULL) {
            return LSH_ERR;
        }
    }
    return LSH_OK;
}

/* --- batches ------------------------------------------------------------ */

struct lsh_batch *lsh_input_batch(struct lsh_instance *ins)
{
    struct lsh_engine     *e = ins->engine;
    struct lsh_pool_batch *pb = e->pool;

    if (pb != NULL) {
        e->pool = pb->next;
    } else {
        pb = lsh_calloc(1, sizeof(*pb));
        lsh_batch_init(&pb->b);
    }
    pb->next = NULL;
    return &pb->b;
}

static void lsh_engine_recycle(struct lsh_engine *e, struct lsh_batch *b)
{
    struct lsh_pool_batch *pb = (struct lsh_pool_batch *)b;

    lsh_batch_reset(b);
    pb->next = e->pool;
    e->pool = pb;
}

void lsh_input_discard(struct lsh_instance *ins, struct lsh_batch *b)
{
    lsh_engine_recycle(ins->engine, b);
}

/* --- pipelines ---------------------------------------------------------- */

static bool lsh_engine_drained(struct lsh_engine *e)
{
    size_t i;

    for (i = 0; i < e->npipelines; i++) {
        if (!lsh_pipeline_drained(e->pipelines[i])) {
            return false;
        }
    }
    return true;
}

/*
 * Gives the held batch to the outputs, from where the last attempt
 * stopped.  Returns LSH_OK once every output took all of it (the batch
 * is then recycled) or LSH_EAGAIN if one cannot take more yet.
 */
static void lsh_pipeline_retry(struct lsh_timer *t)
{
    lsh_task_post(((struct lsh_pipeline *)t->data)->engine->loop,
                  &((struct lsh_pipeline *)t->data)->resume);
}

/*
 * out's flush() failed: what it did not take stays held (the batch, so
 * its ticket, hence the checkpoint) and is given to it again after a
 * backoff of 100 ms doubling to 30 s.  Logged at the first failure and
 * then once a minute while it lasts.
 */
static int lsh_pipeline_failed(struct lsh_pipeline *p, struct lsh_instance *out)
{
    int64_t now = lsh_now_mono_ns();

    p->failures++;
    p->retry_ms = p->retry_ms == 0 ? 100 : LSH_MIN(p->retry_ms * 2, 30000);
    if (p->failures == 1 || now - p->told >= 60 * LSH_NS_PER_SEC) {
        p->told = now;
        lsh_ins_error(out,
                      "output failed (%llu times in a row); %zu records it "
                      "did not take stay unacknowledged and are given to it "
                      "again in %lld ms",
                      (unsigned long long)p->failures, p->held->n - p->held_pos,
                      (long long)p->retry_ms);
    }
    lsh_timer_start(p->engine->loop, &p->retry, p->retry_ms, 0,
                    lsh_pipeline_retry, p);
    return LSH_EAGAIN;
}

/* The inputs of p are held (a batch waits for an output) from now. */
static int lsh_pipeline_pause(struct lsh_pipeline *p)
{
    if (p->paused_since == 0) {
        p->paused_since = lsh_now_mono_ns();
    }
    return LSH_EAGAIN;
}

int64_t lsh_pipeline_paused_ns(const struct lsh_pipeline *p, int64_t now)
{
    return p->paused_since != 0 ? now - p->paused_since : 0;
}

static int lsh_pipeline_push(struct lsh_pipeline *p)
{
    struct lsh_batch *b = p->held;
    int               rc;

    if (p->retry.active) {
        return lsh_pipeline_pause(p); /* an output failed: its backoff */
    }
    while (p->held_out < p->nstages[LSH_PLUGIN_OUTPUT]) {
        struct lsh_instance *out = &lsh_outputs(p)[p->held_out];
        size_t               before = p->held_pos;

        rc = out->plugin->flush(out, b, &p->held_pos);
        assert(p->held_pos <= b->n);
        out->records += p->held_pos - before;
        if (rc == LSH_EAGAIN) {
            return lsh_pipeline_pause(p);
        }
        if (rc != LSH_OK) {
            lsh_ins_fault(out, "output failed (%llu times in a row)",
                          (unsigned long long)p->failures + 1);
            lsh_pipeline_failed(p, out);
            return lsh_pipeline_pause(p);
        }
        if (p->failures > 0) {
            lsh_ins_info(out, "output works again after %llu failures",
                         (unsigned long long)p->failures);
            p->failures = 0;
            p->retry_ms = 0;
        }
        p->held_out++;
        p->held_pos = 0;
    }
    lsh_ticket_ack(b->ticket); /* the engine's own hold */
    p->held = NULL;
    if (p->paused_since != 0) {
        p->paused_ns += lsh_now_mono_ns() - p->paused_since;
        p->paused_since = 0;
    }
    lsh_engine_recycle(p->engine, b);
    return LSH_OK;
}

int lsh_input_emit(struct lsh_instance *ins, struct lsh_batch *b)
{
    struct lsh_pipeline *p = ins->pipeline;
    size_t               i;

    assert(p->held == NULL);
    ins->records += b->n;
    for (i = 0; i < b->n; i++) {
        ins->bytes += b->recs[i].body.len;
    }
    if (ins->engine->taps != NULL) {
        lsh_tap_capture(p, 0, b);
    }
    for (i = 0; i < p->nstages[LSH_PLUGIN_FILTER]; i++) {
        struct lsh_instance *f = &lsh_filters(p)[i];
        size_t               dropped = b->ndropped;

        if (f->plugin->process(f, b) != LSH_OK) {
            lsh_ins_warn(f, "filter failed; batch passed on unchanged");
        }
        f->dropped += b->ndropped - dropped;
        f->records += b->n - b->ndropped;
        if (ins->engine->taps != NULL) {
            lsh_tap_capture(p, i + 1, b);
        }
    }
    p->held = b;
    p->held_out = 0;
    p->held_pos = 0;
    return lsh_pipeline_push(p);
}

void lsh_input_ready(struct lsh_instance *ins)
{
    if (ins->stopped || ins->done) {
        return;
    }
    ins->ready = true;
    if (ins->pipeline->held == NULL) {
        lsh_task_post(ins->loop, &ins->task);
    }
}

/*
 * When every input of every pipeline has finished (the ends of stdin),
 * logship shuts down.  A pipeline a reload drains does not count: it is
 * going.
 */
void lsh_engine_check_inputs(struct lsh_engine *e)
{
    bool   any = false;
    size_t i;
    size_t j;

    if (e->stopping) {
        return;
    }
    for (i = 0; i < e->npipelines; i++) {
        struct lsh_pipeline *p = e->pipelines[i];

        if (p->draining) {
            continue;
        }
        for (j = 0; j < p->nstages[LSH_PLUGIN_INPUT]; j++) {
            if (!lsh_inputs(p)[j].done) {
                return;
            }
            any = true;
        }
    }
    if (any) {
        e->input_end = true;
        lsh_engine_shutdown(e, "every input has finished");
    }
}

void lsh_input_done(struct lsh_instance *ins)
{
    ins->done = true;
    ins->ready = false;
    lsh_task_cancel(ins->loop, &ins->task);
    lsh_engine_check_inputs(ins->engine);
}

static void lsh_engine_collect_task(struct lsh_task *t)
{
    struct lsh_instance *ins = t->data;
    int                  rc;

    if (ins->stopped || ins->done || ins->pipeline->held != NULL) {
        return;
    }
    ins->ready = false;
    rc = ins->plugin->collect(ins);
    if (rc == LSH_EAGAIN && !ins->stopped && !ins->done) {
        ins->ready = true;
        if (ins->pipeline->held == NULL) {
            lsh_task_post(ins->loop, &ins->task);
        }
    }
}

static void lsh_pipeline_resume_task(struct lsh_task *t)
{
    struct lsh_pipeline *p = t->data;
    size_t               i;

    if (p->held != NULL && lsh_pipeline_push(p) != LSH_OK) {
        return;
    }
    if (p->draining && lsh_pipeline_drained(p)) {
        /* from a timer: tasks of p may still be queued behind this one */
        lsh_timer_start(p->engine->loop, &p->drain_limit, 0, 0,
                        lsh_pipeline_retire_timer, p);
        return;
    }
    for (i = 0; i < p->nstages[LSH_PLUGIN_INPUT]; i++) {
        struct lsh_instance *ins = &lsh_inputs(p)[i];

        if (ins->ready && !ins->stopped) {
            lsh_task_post(ins->loop, &ins->task);
        }
    }
    if (p->engine->stopping) {
        lsh_task_post(p->engine->loop, &p->engine->drain_check);
    }
}

static void lsh_pipeline_retire_timer(struct lsh_timer *t)
{
    lsh_pipeline_retire(t->data);
}

void lsh_output_wake(struct lsh_instance *ins)
{
    lsh_task_post(ins->loop, &ins->pipeline->resume);
}

/* --- shutdown ----------------------------------------------------------- */

static void lsh_engine_drain_task(struct lsh_task *t)
{
    struct lsh_engine *e = t->data;

    if (lsh_engine_drained(e)) {
        lsh_info("everything read was delivered; exiting");
        lsh_loop_stop(e->loop);
    }
}

/* True if some input of p keeps no checkpoint: what it read is only here */
bool lsh_pipeline_volatile(const struct lsh_pipeline *p)
{
    size_t i;

    for (i = 0; i < p->nstages[LSH_PLUGIN_INPUT]; i++) {
        if (!(lsh_inputs(p)[i].plugin->flags & LSH_PLUGIN_CHECKPOINTS)) {
            return true;
        }
    }
    return false;
}

/* Records of p not delivered yet: held, or in an output (at most). */
static size_t lsh_pipeline_undelivered(const struct lsh_pipeline *p)
{
    size_t n = 0;
    size_t j;

    for (j = 0; j < p->nstages[LSH_PLUGIN_OUTPUT]; j++) {
        struct lsh_instance *out = &lsh_outputs(p)[j];

        if (out->plugin->pending != NULL) {
            n = LSH_MAX(n, out->plugin->pending(out));
        }
    }
    if (p->held != NULL) {
        n += p->held->n - p->held->ndropped;
    }
    return n;
}

/* Undelivered records of pipelines that could not read them again. */
static size_t lsh_engine_lost(const struct lsh_engine *e)
{
    size_t n = 0;
    size_t i;

    for (i = 0; i < e->npipelines; i++) {
        if (lsh_pipeline_volatile(e->pipelines[i])) {
            n += lsh_pipeline_undelivered(e->pipelines[i]);
        }
    }
    return n;
}

static void lsh_engine_deadline(struct lsh_timer *t)
{
    struct lsh_engine *e = t->data;
    size_t             lost = lsh_engine_lost(e);

    if (lost > 0) {
        lsh_error("shutdown_timeout passed with %zu records from stdin not "
                  "yet acknowledged; they cannot be read again and are lost",
                  lost);
    } else {
        lsh_warn("shutdown_timeout passed with records not yet "
                 "acknowledged; exiting anyway (files resume at their "
                 "checkpoints, so they are read again after a restart)");
    }
    e->forced = true;
    lsh_loop_stop(e->loop);
}

static void lsh_engine_progress(struct lsh_timer *t)
{
    struct lsh_engine *e = t->data;
    size_t             n = 0;
    size_t             i;

    for (i = 0; i < e->npipelines; i++) {
        n += lsh_pipeline_undelivered(e->pipelines[i]);
    }
    lsh_info("every input has finished; waiting for %zu records to be "
             "acknowledged (SIGTERM gives up after shutdown_timeout)",
             n);
}

void lsh_engine_shutdown(struct lsh_engine *e, const char *why)
{
    size_t i;
    size_t j;
    int    k;

    if (e->stopping && e->input_end && !e->deadline.active) {
        /* draining the end of stdin without a limit: now there is one */
        lsh_warn("%s: waiting up to %" PRId64 " ms more for outputs to "
                 "deliver",
                 why, e->cfg->service.shutdown_timeout_ms);
        lsh_timer_stop(e->loop, &e->progress);
        lsh_timer_start(e->loop, &e->deadline,
                        e->cfg->service.shutdown_timeout_ms, 0,
                        lsh_engine_deadline, e);
        return;
    }
    if (e->stopping) {
        lsh_warn("%s again: exiting now", why);
        e->forced = true;
        lsh_loop_stop(e->loop);
        return;
    }
    e->stopping = true;
    if (e->input_end) {
        lsh_info("%s: waiting for outputs to deliver everything (a signal "
                 "sets a limit: shutdown_timeout)",
                 why);
    } else {
        lsh_info("%s: stopping inputs, waiting up to %" PRId64
                 " ms for outputs to deliver",
                 why, e->cfg->service.shutdown_timeout_ms);
    }
    for (i = 0; i < e->npipelines; i++) {
        struct lsh_pipeline *p = e->pipelines[i];

        /* a pipeline a reload was to restart stays stopped */
        if (p->restart_from != NULL) {
            lsh_engine_cfg_release(e, p->restart_from);
            p->restart_from = NULL;
        }
        p->restart = NULL;
        lsh_timer_stop(e->loop, &p->drain_limit); /* the engine's limit now */
        p->draining = false;
    }
    for (k = 0; k < 3; k++) {
        for (i = 0; i < e->npipelines; i++) {
            struct lsh_pipeline *p = e->pipelines[i];

            for (j = 0; j < p->nstages[k]; j++) {
                struct lsh_instance *ins = &p->stages[k][j];

                if (ins->stopped) {
                    continue;
                }
                ins->stopped = true;
                lsh_task_cancel(e->loop, &ins->task);
                if (ins->plugin->stop != NULL) {
                    ins->plugin->stop(ins);
                }
            }
        }
    }
    if (e->input_end) {
        /* what stdin read exists nowhere else: no limit but a signal's */
        lsh_timer_start(e->loop, &e->progress, 10000, 10000,
                        lsh_engine_progress, e);
    } else {
        lsh_timer_start(e->loop, &e->deadline,
                        e->cfg->service.shutdown_timeout_ms, 0,
                        lsh_engine_deadline, e);
    }
    lsh_task_post(e->loop, &e->drain_check);
}

int lsh_engine_run(struct lsh_engine *e)
{
    size_t lost;

    if (lsh_loop_run(e->loop) != LSH_OK) {
        return LSH_ERR;
    }
    lsh_timer_stop(e->loop, &e->progress);
    lost = lsh_engine_lost(e);
    if (lost > 0) {
        lsh_error("%zu records read from stdin were not delivered; they "
                  "cannot be read again (exit status 1)",
                  lost);
        return LSH_ERR;
    }
    /* forced: even if all was delivered by then, nobody noticed in time */
    return e->forced ? LSH_EAGAIN : LSH_OK;
}

/* --- one pipeline's end ------------------------------------------------ */

bool lsh_pipeline_drained(const struct lsh_pipeline *p)
{
    size_t j;

    if (p->held != NULL) {
        return false;
    }
    for (j = 0; j < p->nstages[LSH_PLUGIN_OUTPUT]; j++) {
        struct lsh_instance *out = &lsh_outputs(p)[j];

        if (out->plugin->pending != NULL && out->plugin->pending(out) > 0) {
            return false;
        }
    }
    return true;
}

static void lsh_pipeline_drain_limit(struct lsh_timer *t)
{
    struct lsh_pipeline *p = t->data;

    lsh_warn("pipeline '%s' did not deliver everything within "
             "shutdown_timeout; what is not acknowledged is read again "
             "from its checkpoints",
             p->name);
    lsh_pipeline_retire(p);
}

/* Stops p's inputs, and its outputs deliver what they hold (a reload). */
void lsh_pipeline_stop(struct lsh_pipeline *p)
{
    struct lsh_engine *e = p->engine;
    size_t             j;
    int                k;

    for (k = 0; k < 3; k++) {
        for (j = 0; j < p->nstages[k]; j++) {
            struct lsh_instance *ins = &p->stages[k][j];

            if (ins->stopped) {
                continue;
            }
            ins->stopped = true;
            lsh_task_cancel(e->loop, &ins->task);
            if (ins->plugin->stop != NULL && ins->started) {
                ins->plugin->stop(ins);
            }
        }
    }
    if (!p->draining) {
        p->draining = true;
        lsh_timer_start(e->loop, &p->drain_limit,
                        e->cfg->service.shutdown_timeout_ms, 0,
                        lsh_pipeline_drain_limit, p);
    }
    lsh_task_post(e->loop, &p->resume);
}

void lsh_pipeline_free(struct lsh_pipeline *p)
{
    /*
     * Outputs first: while they shut down they may still acknowledge
     * records, and the tickets belong to the inputs' sources.
     */
    static const enum lsh_plugin_kind order[] = {
        LSH_PLUGIN_OUTPUT, LSH_PLUGIN_FILTER, LSH_PLUGIN_INPUT};
    struct lsh_engine *e = p->engine;
    size_t             j;
    size_t             k;

    if (p->ckpt != NULL) {
        lsh_ckpt_set_notify(p->ckpt, NULL, NULL);
    }
    lsh_timer_stop(e->loop, &p->retry);
    lsh_timer_stop(e->loop, &p->drain_limit);
    lsh_timer_stop(e->loop, &p->restart_now);
    lsh_task_cancel(e->loop, &p->resume);
    for (k = 0; k < LSH_ARRAY_SIZE(order); k++) {
        for (j = 0; j < p->nstages[order[k]]; j++) {
            struct lsh_instance *ins = &p->stages[order[k]][j];

            lsh_task_cancel(e->loop, &ins->task);
            if (ins->started && ins->plugin->exit != NULL) {
                ins->plugin->exit(ins);
            }
        }
        if (order[k] == LSH_PLUGIN_OUTPUT && p->ckpt != NULL && p->started) {
            /* the outputs' last acks are in: the final checkpoint */
            lsh_ckpt_save(p->ckpt);
        }
    }
    if (p->ckpt != NULL && p->started) {
        /* the inputs let go of their entries: one snapshot of it all */
        lsh_ckpt_compact(p->ckpt);
    }
    if (p->held != NULL) {
        lsh_batch_release(p->held);
        free(p->held);
    }
    for (k = 0; k < 3; k++) {
        free(p->stages[k]);
    }
    lsh_ckpt_close(p->ckpt);
    if (p->restart_from != NULL) {
        lsh_engine_cfg_release(e, p->restart_from);
    }
    lsh_engine_cfg_release(e, p->from);
    free(p);
}

void lsh_engine_destroy(struct lsh_engine *e)
{
    size_t i;

    if (e == NULL) {
        return;
    }
    lsh_timer_stop(e->loop, &e->ckpt_timer);
    lsh_timer_stop(e->loop, &e->ckpt_prune);
    lsh_timer_stop(e->loop, &e->deadline);
    lsh_timer_stop(e->loop, &e->progress);
    for (i = 0; i < e->npipelines; i++) {
        lsh_pipeline_free(e->pipelines[i]); /* each one's final save */
    }
    e->npipelines = 0;
    lsh_stash_drop(e, NULL);
    /*
     * Taps still waiting are answered with what they have: libmicrohttpd
     * may not be stopped with a connection suspended.
     */
    lsh_engine_taps_finish(e);
    if (e->http != NULL) {
        lsh_http_settle(e->http);
    }
    lsh_http_stop(e->http);
    if (e->lock_fd >= 0) {
        close(e->lock_fd); /* releases the flock */
    }
    while (e->pool != NULL) {
        struct lsh_pool_batch *pb = e->pool;

        e->pool = pb->next;
        lsh_batch_release(&pb->b);
        free(pb);
    }
    while (e->cfgs != NULL) {
        struct lsh_engine_cfg *c = e->cfgs;

        e->cfgs = c->next;
        if (c->owned) {
            lsh_config_destroy(c->cfg);
        }
        free(c);
    }
    free(e->pipelines);
    lsh_loop_destroy(e->loop);
    free(e);
}
