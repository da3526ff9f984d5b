/*
 * The engine's insides, shared by engine.c (running the pipelines),
 * engine_reload.c (applying a new configuration) and engine_report.c
 * (what the HTTP API shows of them).
 */
#ifndef LSH_ENGINE_INT_H
#define LSH_ENGINE_INT_H

#include "config.h"
#include "engine.h"
#include "loop.h"
#include "plugin.h"

struct lsh_http;
struct lsh_tap;

struct lsh_pool_batch {
    struct lsh_batch       b; /* first: a batch pointer is a pool entry */
    struct lsh_pool_batch *next;
};

/*
 * A configuration some pipeline still runs from: the first one (owned by
 * the caller of lsh_engine_create) and each reloaded one (owned here,
 * freed when no pipeline uses it and a newer one is current).
 */
struct lsh_engine_cfg {
    struct lsh_config     *cfg;
    size_t                 users; /* pipelines made from it */
    bool                   owned;
    struct lsh_engine_cfg *next;
};

struct lsh_pipeline {
    struct lsh_engine              *engine;
    const char                     *name;
    const struct lsh_pipeline_conf *pc;
    struct lsh_engine_cfg          *from;    /* the configuration pc is in */
    bool                            started; /* its plugins' init() ran */
    /* stopping for a reload: drained, then freed (and maybe restarted) */
    bool                            draining;
    struct lsh_timer                drain_limit; /* shutdown_timeout */
    const struct lsh_pipeline_conf *restart;     /* then start this, or NULL */
    struct lsh_engine_cfg          *restart_from;
    /* an output asked to start again from the checkpoints (restart) */
    struct lsh_timer     restart_now;
    char                 restart_why[200];
    uint64_t             restarts;    /* times that happened */
    size_t               inputs_wait; /* outputs the inputs' start waits for */
    bool                 ckpt_owned;  /* an output persists the checkpoints */
    struct lsh_instance *stages[3];   /* by enum lsh_plugin_kind */
    size_t               nstages[3];
    struct lsh_ckpt     *ckpt;     /* NULL if no input checkpoints */
    struct lsh_batch    *held;     /* batch an output could not take */
    size_t               held_out; /* output to continue with */
    size_t               held_pos; /* record to continue from */
    struct lsh_task      resume;
    /* an output failed (flush() returned LSH_ERR): tried again later */
    struct lsh_timer retry;
    int64_t          retry_ms; /* the next backoff */
    uint64_t         failures; /* failed flushes in a row */
    int64_t          told;     /* monotonic ns of the last log of it */
    /* back-pressure: the inputs are held while a batch is */
    int64_t paused_since; /* monotonic ns; 0 while not paused */
    int64_t paused_ns;    /* in all, before paused_since */
};

struct lsh_stash;

struct lsh_engine {
    const struct lsh_config *cfg;
    struct lsh_loop         *loop;
    struct lsh_pipeline    **pipelines; /* running and draining ones */
    size_t                   npipelines;
    size_t                   cap;
    struct lsh_engine_cfg   *cfgs;        /* the current one first */
    const char              *config_path; /* reloaded from; NULL: cannot */
    bool                     log_level_from_config;
    struct lsh_pool_batch   *pool;
    bool                     started;
    bool                     stopping;
    bool                     forced;
    bool                     input_end; /* stopping: every input finished */
    struct lsh_timer         deadline;
    struct lsh_timer         progress; /* while draining without a limit */
    struct lsh_task          drain_check;
    struct lsh_timer         ckpt_timer; /* a save is due */
    int64_t                  ckpt_saved; /* monotonic ns the last save began */
    int64_t                  ckpt_cost;  /* ns the last save took */
    struct lsh_timer         ckpt_prune;
    int                      lock_fd;
    struct lsh_http         *http;       /* NULL unless service.http.listen */
    struct lsh_tap          *taps;       /* tap.c */
    int64_t                  started_ns; /* wall clock */
    uint64_t                 reloads;
    uint64_t                 reload_failures;
    struct lsh_stash        *stash; /* descriptors across a restart */
};

/* stash.c: closes what is kept for pipeline name (NULL: for all). */
void lsh_stash_drop(struct lsh_engine *e, const char *name);

#define lsh_inputs(p)  ((p)->stages[LSH_PLUGIN_INPUT])
#define lsh_filters(p) ((p)->stages[LSH_PLUGIN_FILTER])
#define lsh_outputs(p) ((p)->stages[LSH_PLUGIN_OUTPUT])

/* engine.c, for engine_reload.c */
struct lsh_pipeline *lsh_pipeline_new(struct lsh_engine              *e,
                                      const struct lsh_pipeline_conf *pc,
                                      struct lsh_engine_cfg          *from);
/* Opens its checkpoints and starts its plugins; LSH_OK, EINVAL or ERR. */
int  lsh_pipeline_start(struct lsh_pipeline *p);
void lsh_pipeline_stop(struct lsh_pipeline *p);
/* Its plugins' exit(), the last checkpoint save, compaction; freed. */
void lsh_pipeline_free(struct lsh_pipeline *p);
bool lsh_pipeline_drained(const struct lsh_pipeline *p);
/* Some input of p keeps no checkpoint (stdin): what it read is only here */
bool lsh_pipeline_volatile(const struct lsh_pipeline *p);
/* Every input finished (the ends of stdin): shut down. */
void lsh_engine_check_inputs(struct lsh_engine *e);
void lsh_engine_add_pipeline(struct lsh_engine *e, struct lsh_pipeline *p);
void lsh_engine_remove_pipeline(struct lsh_engine *e, struct lsh_pipeline *p);
struct lsh_pipeline *lsh_engine_find_pipeline(struct lsh_engine *e,
                                              const char        *name);
/* engine_reload.c */
void lsh_engine_cfg_release(struct lsh_engine *e, struct lsh_engine_cfg *c);
int  lsh_engine_reload_http(void *engine, struct lsh_buf *out);
/* A draining pipeline is drained (or its time is up): it goes, and what
 * replaces it starts. */
void lsh_pipeline_retire(struct lsh_pipeline *p);
/* Starts the inputs of p whose init() has not run; LSH_OK or LSH_ERR. */
int lsh_pipeline_init_inputs(struct lsh_pipeline *p);

/* tap.c: copies records passing stage of p to the taps waiting there */
void  lsh_tap_capture(struct lsh_pipeline *p, size_t stage,
                      const struct lsh_batch *b);
void *lsh_engine_tap_start(void *engine, const char *pipeline,
                           const char *after, size_t limit, int64_t wait_ms,
                           void (*done)(void *), void *cookie,
                           struct lsh_buf *err, unsigned *status);
void  lsh_engine_tap_take(void *engine, void *tap, struct lsh_buf *out);
void  lsh_engine_tap_cancel(void *engine, void *tap);
/* Answers every tap with what it has (at the end). */
void lsh_engine_taps_finish(struct lsh_engine *e);

/* engine_report.c: the HTTP API's views (see http.h) */
void    lsh_engine_metrics(void *engine, struct lsh_buf *out);
void    lsh_engine_pipelines(void *engine, struct lsh_buf *out);
bool    lsh_engine_ready(void *engine, struct lsh_buf *why);
int64_t lsh_pipeline_paused_ns(const struct lsh_pipeline *p, int64_t now);

#endif
