/*
 * The engine: runs the configured pipelines on one event loop.
 *
 * Start order is outputs, then filters, then inputs, so nothing is read
 * before it can be sent.  A pipeline holds at most one batch that an
 * output could not take yet; while it does, its inputs are not asked to
 * collect, so a slow output stops reading and the files are the buffer.
 *
 * Shutdown (SIGTERM or SIGINT): inputs stop reading, the held batches
 * are still delivered, and the loop ends when every output has nothing
 * pending or service.shutdown_timeout passes.  A second signal ends it at
 * once.  When every input finished (the end of stdin) there is no time
 * limit: what stdin read exists nowhere else; a signal then sets one.
 */
#ifndef LSH_ENGINE_H
#define LSH_ENGINE_H

#include "config.h"
#include "loop.h"

struct lsh_engine;

/* Builds the engine for cfg (which must outlive it).  Starts nothing. */
struct lsh_engine *lsh_engine_create(const struct lsh_config *cfg);
void               lsh_engine_destroy(struct lsh_engine *e);

/*
 * Takes SIGINT and SIGTERM (if handle_signals), loads the checkpoints of
 * pipelines whose inputs keep them (locking state_dir), and starts every
 * plugin.  Returns LSH_OK; LSH_EINVAL if a checkpoint file is corrupt;
 * LSH_ERR if anything else failed.
 */
int lsh_engine_start(struct lsh_engine *e, bool handle_signals);

/*
 * Runs until shutdown completes.  Returns LSH_OK when everything read was
 * delivered, LSH_EAGAIN when the stop was forced (shutdown_timeout or a
 * second signal) and what was not delivered will be read again (files,
 * from their checkpoints), LSH_ERR on an internal failure or when records
 * read from an input that cannot read them again (stdin) were not
 * delivered.
 */
int lsh_engine_run(struct lsh_engine *e);

/*
 * Where lsh_engine_reload() reads the configuration again (the -c path),
 * and whether its log_level applies (not when --log-level was given).
 */
void lsh_engine_set_source(struct lsh_engine *e, const char *path,
                           bool log_level_from_config);

/*
 * Loads the configuration again and applies it as a diff: unchanged
 * pipelines go on untouched, removed ones drain (within shutdown_timeout)
 * and persist their checkpoints, added ones start, changed ones drain and
 * then start again from their checkpoints.  An invalid configuration, or
 * one whose service section changed (other than log_level), is refused:
 * the running one goes on.  Logged and counted; if report is not NULL,
 * the outcome is appended to it as JSON.  Returns LSH_OK if applied,
 * LSH_EINVAL if refused, LSH_ERR if applied but an added or changed
 * pipeline failed to start (it stays stopped; logged).  A pipeline that
 * reads stdin is never drained by a reload: it goes on as it is.
 */
int lsh_engine_reload(struct lsh_engine *e, const char *why,
                      struct lsh_buf *report);

/* Begins a graceful shutdown; a second call forces it. */
void lsh_engine_shutdown(struct lsh_engine *e, const char *why);

struct lsh_loop *lsh_engine_loop(struct lsh_engine *e);

#endif
