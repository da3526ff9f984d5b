/*
 * The plugin interface.
 *
 * Each plugin's main file ends with one const struct lsh_plugin; CMake
 * collects them into the registry (build/plugins.c).  The core parses and
 * validates a plugin's options from its table before any plugin starts,
 * allocates the conf struct and passes it to init().
 *
 * Data flow.  An input, when it has data, reads some of it into a batch
 * from lsh_input_batch() and passes it on with lsh_input_emit().  The
 * engine runs the pipeline's filters over the batch in place, then hands
 * it to each output's flush().  Filters change records in place (add
 * fields, drop records) rather than copy them into a second batch: a
 * record is a small descriptor and every byte it refers to already lives
 * in the batch, so a copy per filter would only cost time.
 *
 * Acknowledgement.  A batch from a file carries a ticket.  An output that
 * delivers asynchronously takes a hold on the ticket for each record it
 * accepts (lsh_ticket_hold) and releases it when the record is acked
 * (lsh_ticket_ack); see ticket.h.
 *
 * Back-pressure.  flush() may accept part of a batch: it starts at *pos,
 * advances *pos past every record it accepted, and returns LSH_OK once
 * *pos == b->n or LSH_EAGAIN when it cannot take more now.  On LSH_EAGAIN
 * the engine keeps the batch, pauses the pipeline's inputs, and calls
 * flush() again with the same batch and *pos after the output called
 * lsh_output_wake().  The cursor means no record is given twice to an
 * output that accepted part of a batch.
 */
#ifndef LSH_PLUGIN_H
#define LSH_PLUGIN_H

#include "diag.h"
#include "log.h"
#include "loop.h"
#include "lsh.h"
#include "option.h"
#include "record.h"

struct lsh_engine;
struct lsh_loop;
struct lsh_pipeline;

enum lsh_plugin_kind {
    LSH_PLUGIN_INPUT,
    LSH_PLUGIN_FILTER,
    LSH_PLUGIN_OUTPUT,
};

struct lsh_instance {
    const struct lsh_plugin *plugin;
    const void              *conf; /* owned by the core */
    void                    *ctx;  /* plugin state, set by init() */
    struct lsh_engine       *engine;
    struct lsh_pipeline     *pipeline;
    struct lsh_loop         *loop;
    char                     name[128]; /* "pipeline/input.tail#0" */
    /* engine bookkeeping */
    struct lsh_task task;  /* input: runs collect() */
    bool            ready; /* input: has data to collect */
    bool            done;  /* input: will never emit again */
    bool            stopped;
    bool            started; /* init() was called */
    uint64_t        records; /* input: emitted; filter: let through;
                                output: accepted */
    uint64_t bytes;          /* input: body bytes of the records emitted */
    uint64_t dropped;        /* filter: records it dropped */
    /* the last error a plugin reported (lsh_ins_fault), for the HTTP API */
    char    last_error[240];
    int64_t last_error_ns; /* wall clock; 0: none yet */
};

/*
 * What an output counts (its counts() callback), for the metrics and the
 * HTTP API.  Exact: a record accepted is, at any time, in flight or
 * delivered, dead-lettered or skipped, exactly once.
 */
struct lsh_output_counts {
    uint64_t delivered;      /* acknowledged (Kafka), written (stdout) */
    uint64_t failures;       /* failed delivery attempts (retried) */
    uint64_t redelivered;    /* records produced again after one */
    uint64_t dead;           /* written to the dead-letter file */
    uint64_t skipped;        /* could never be delivered: logged, skipped */
    uint64_t inflight;       /* accepted, not resolved yet */
    uint64_t inflight_bytes; /* their size */
};

struct lsh_metrics;

/* plugin flags */
#define LSH_PLUGIN_CHECKPOINTS 0x1u /* input: keeps offsets in state_dir */

/* what an output's configuration asks of its pipeline (requires()) */
#define LSH_REQ_ALONE       0x1u /* no other output in the pipeline */
#define LSH_REQ_CHECKPOINTS 0x2u /* every input keeps checkpoints */

struct lsh_ckpt;

struct lsh_plugin {
    const char              *name; /* YAML "type:" */
    const char              *description;
    enum lsh_plugin_kind     kind;
    unsigned                 flags;     /* LSH_PLUGIN_* */
    const struct lsh_option *options;   /* { NULL }-terminated */
    size_t                   conf_size; /* core allocates and fills */

    /* Optional cross-option checks; report with lsh_diag_key(). */
    int (*validate)(const void *conf, struct lsh_diag *d);

    /*
     * Output, optional: what this configuration asks of its pipeline
     * (LSH_REQ_*), checked by --check; *key names the option that asks.
     */
    unsigned (*requires)(const void *conf, const char **key);

    /* Sets ins->ctx, registers fds and timers.  LSH_OK or LSH_ERR. */
    int (*init)(struct lsh_instance *ins, const void *conf);

    /*
     * Input: reads what is available, emitting batches.  Returns LSH_OK
     * when nothing is left to read (it will call lsh_input_ready() when
     * more arrives) or LSH_EAGAIN when it stopped early and wants to be
     * called again (its budget ran out or lsh_input_emit() said the
     * pipeline is full).
     */
    int (*collect)(struct lsh_instance *ins);

    /* Filter: changes b in place.  LSH_OK, or LSH_ERR to pass b as is. */
    int (*process)(struct lsh_instance *ins, struct lsh_batch *b);

    /* Output: see "Back-pressure" above. */
    int (*flush)(struct lsh_instance *ins, const struct lsh_batch *b,
                 size_t *pos);

    /* Output: records accepted but not yet acknowledged. */
    size_t (*pending)(struct lsh_instance *ins);

    /* Shutdown begins: inputs stop reading, outputs start draining. */
    void (*stop)(struct lsh_instance *ins);

    /* Frees what init() allocated.  Called even if init() failed. */
    void (*exit)(struct lsh_instance *ins);

    /* Output: its counts (see struct lsh_output_counts). */
    void (*counts)(struct lsh_instance *ins, struct lsh_output_counts *c);

    /*
     * Optional: adds the instance's own samples to a scrape; labels are
     * its labels (pipeline, then its kind's: input, filter or output).
     */
    void (*metrics)(struct lsh_instance *ins, struct lsh_metrics *m,
                    const char *const *labels);

    /*
     * Output, optional: false (with the reason, text, in why) while
     * it cannot deliver: not connected to its brokers yet, or all down.
     */
    bool (*ready)(struct lsh_instance *ins, struct lsh_buf *why);

    /*
     * Optional: adds members to the instance's JSON object in
     * /api/v1/pipelines, each written as ,"name":value.
     */
    void (*status)(struct lsh_instance *ins, struct lsh_buf *json);
};

/* The registry, generated by CMake; NULL-terminated. */
extern const struct lsh_plugin *const lsh_plugins[];

const struct lsh_plugin *lsh_plugin_find(enum lsh_plugin_kind kind,
                                         const char          *name);
const char              *lsh_plugin_kind_name(enum lsh_plugin_kind kind);

/* Appends the names of plugins of kind, comma separated. */
void lsh_plugin_names(enum lsh_plugin_kind kind, struct lsh_buf *out);

/* The host name records carry (service.hostname or gethostname()). */
struct lsh_str lsh_host(void);

/* Sets the host name; NULL means gethostname(). */
void lsh_host_set(const char *name);

/* --- services the engine gives plugins --------------------------------- */

/* Input: there is data to collect; the engine will call collect(). */
void lsh_input_ready(struct lsh_instance *ins);

/* Input: will never emit again (end of stdin). */
void lsh_input_done(struct lsh_instance *ins);

/*
 * Input: returns an empty batch to fill.  It stays the input's until
 * passed to lsh_input_emit() or lsh_input_discard().
 */
struct lsh_batch *lsh_input_batch(struct lsh_instance *ins);

/*
 * Input: passes a filled batch down the pipeline (ownership moves to the
 * engine).  Returns LSH_OK if the input may emit more now, or LSH_EAGAIN
 * if the pipeline is full: the input must stop and return LSH_EAGAIN from
 * collect(); it is called again once there is room.
 */
int lsh_input_emit(struct lsh_instance *ins, struct lsh_batch *b);

/* Input: gives back an unused batch. */
void lsh_input_discard(struct lsh_instance *ins, struct lsh_batch *b);

/*
 * Input with LSH_PLUGIN_CHECKPOINTS: its pipeline's checkpoint store,
 * loaded before init().
 */
struct lsh_ckpt *lsh_input_ckpt(struct lsh_instance *ins);

/* Output: room has freed up (or acks arrived); retry blocked batches. */
void lsh_output_wake(struct lsh_instance *ins);

/*
 * Output, from init(): the pipeline's inputs wait until the output calls
 * lsh_output_inputs_go() (an exactly-once output reads its committed
 * offsets first).  Their init() then runs.
 */
void lsh_output_inputs_wait(struct lsh_instance *ins);
void lsh_output_inputs_go(struct lsh_instance *ins);

/*
 * Output: the pipeline's checkpoint store, or NULL if no input keeps one.
 * An output that owns it (own: true) is the only writer: the engine then
 * persists nothing by itself, and the store is written only after the
 * owner calls lsh_ckpt_hold(ck, false) (see ckpt.h).
 */
struct lsh_ckpt *lsh_output_ckpt(struct lsh_instance *ins, bool own);

/*
 * Output: throws the pipeline's state away and starts it again from its
 * persisted checkpoints, soon (from the loop, never inside the call):
 * what was read and not committed is read again.  Logged with why.
 */
void lsh_output_restart(struct lsh_instance *ins, const char *why);
/* Takes back a restart asked for and not begun. */
void lsh_output_restart_cancel(struct lsh_instance *ins);

/* How many times the pipeline of ins was started again that way. */
uint64_t lsh_output_restarts(struct lsh_instance *ins);

/*
 * Input: keeps fd (taking it), open on the file (dev, ino), for the same
 * input of the pipeline started again after this one stops (a restart, a
 * reload that changes it); closes it when the pipeline is not started
 * again.  For a file no path leads to any more (deleted, moved away):
 * what was not committed is read from it again.  The new instance takes
 * it with lsh_unstash_fd() (-1: none) while its inputs start; what it does
 * not take is closed then (core/stash.c).
 */
void lsh_stash_fd(struct lsh_instance *ins, uint64_t dev, uint64_t ino, int fd);
/*
 * Input: true if an output of its pipeline may start it again from its
 * checkpoints (it owns them: exactly_once), so that what is not committed
 * yet must stay readable.
 */
bool lsh_input_rewinds(struct lsh_instance *ins);
int  lsh_unstash_fd(struct lsh_instance *ins, uint64_t dev, uint64_t ino);

/*
 * Records an error of ins for the HTTP API (last_error), without logging
 * it: the plugin logs as it sees fit (often rate-limited).
 */
void lsh_ins_fault(struct lsh_instance *ins, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logging with the instance name as prefix. */
#define lsh_ins_error(ins, ...) lsh_log(LSH_LOG_ERROR, (ins)->name, __VA_ARGS__)
#define lsh_ins_warn(ins, ...)  lsh_log(LSH_LOG_WARN, (ins)->name, __VA_ARGS__)
#define lsh_ins_info(ins, ...)                             \
    (lsh_log_enabled(LSH_LOG_INFO)                         \
         ? lsh_log(LSH_LOG_INFO, (ins)->name, __VA_ARGS__) \
         : LSH_ERR)
#define lsh_ins_debug(ins, ...)                             \
    (lsh_log_enabled(LSH_LOG_DEBUG)                         \
         ? lsh_log(LSH_LOG_DEBUG, (ins)->name, __VA_ARGS__) \
         : LSH_ERR)

#endif
