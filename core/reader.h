/*
 * Reading a byte stream into batches of records: the part tail and stdin
 * share.
 *
 * Each lsh_reader_read() does one read(2) straight into a batch from the
 * engine (after the incomplete line left from the last read), frames the
 * complete lines, optionally joins multiline records, and emits the
 * batch.  Records point into the batch; the reader itself keeps only the
 * incomplete last line, so an idle source costs a few hundred bytes.
 *
 * Offsets.  A batch's ticket ends at the reader's safe offset: every byte
 * before it is in an emitted record or was dropped on purpose (an
 * over-long line).  A multiline record still being joined holds the safe
 * offset at its first line, so a checkpoint never passes a line that was
 * read but not yet emitted.
 *
 * End hashes.  Each ticket also carries a hash of the (up to 64) bytes
 * just before its end offset, from the bytes of its batch and a short
 * history of what came before, so that a checkpoint can tell later
 * whether a file still holds, at its offset, what was delivered.
 *
 * Generations.  When a source restarts (truncation), the reader starts a
 * new tracker at the new offset; the old one lives until its tickets are
 * acknowledged, then is freed.  on_commit is called when the current
 * generation's committed offset moves; the callback may free the reader.
 */
#ifndef LSH_READER_H
#define LSH_READER_H

#include "container.h"
#include "framer.h"
#include "multiline.h"
#include "plugin.h"
#include "ticket.h"

struct lsh_reader;
struct lsh_reader_gen;

typedef void (*lsh_reader_commit_cb)(struct lsh_reader *r, void *data);

/*
 * An older generation's committed offset moved (tr); done: its last
 * ticket was released, and it is freed after the call.  cookie is what
 * lsh_reader_restart() was given when it retired.
 */
typedef void (*lsh_reader_old_cb)(struct lsh_reader *r, void *cookie,
                                  const struct lsh_tracker *tr, bool done,
                                  void *data);

struct lsh_reader {
    struct lsh_buf    partial; /* bytes after the last complete line */
    uint64_t          offset;  /* source offset of partial.ptr[0] */
    uint64_t          safe;    /* end of the last ticket issued */
    struct lsh_framer framer;
    struct lsh_ctr   *ctr; /* NULL unless container logs */
    /* multiline, NULL without; one per stream for container logs */
    struct lsh_ml          *ml[LSH_STREAM_COUNT];
    const struct lsh_field *fields; /* set on every record */
    size_t                  nfields;
    struct lsh_reader_gen  *gen; /* current generation */
    struct lsh_reader_gen  *old; /* older ones with tickets out */
    lsh_reader_commit_cb    on_commit;
    lsh_reader_old_cb       on_old;
    void                   *data;
    uint64_t                bytes; /* read in total */
    uint64_t                cut;   /* incomplete lines emitted by a cut */
    char                    hist[LSH_END_BYTES]; /* the bytes before offset */
    uint32_t                hist_len;
};

struct lsh_reader_opts {
    size_t                     max_line;
    int                        on_long;
    bool                       strip_cr;
    const struct lsh_ml_conf  *ml;  /* NULL for none */
    const struct lsh_ctr_conf *ctr; /* NULL: lines are the records */
    /* set on every record; they must outlive the reader */
    const struct lsh_field *fields;
    size_t                  nfields;
    lsh_reader_commit_cb    on_commit;
    lsh_reader_old_cb       on_old; /* optional */
    void                   *data;
    /* the end hash of the bytes before offset, if known (a checkpoint) */
    uint32_t end_len;
    uint64_t end_hash;
};

/* Starts at source offset; bytes before it count as delivered. */
void lsh_reader_init(struct lsh_reader *r, uint64_t offset,
                     const struct lsh_reader_opts *o);

/* Frees everything, tickets still out included (at exit only). */
void lsh_reader_release(struct lsh_reader *r);

/*
 * Reads up to chunk bytes from fd and emits what completes as one batch
 * of ins with path as its source.  Returns the bytes read (0 at end of
 * file) or -1 with errno set.  *emit_rc is LSH_EAGAIN if the pipeline is
 * now full and the caller must stop, else LSH_OK.
 */
ssize_t lsh_reader_read(struct lsh_reader *r, struct lsh_instance *ins, int fd,
                        size_t chunk, struct lsh_str path, int *emit_rc);

/* Reads up to n bytes into buf like read(2): bytes, 0 at the end, -1. */
typedef ssize_t (*lsh_read_fn)(void *src, void *buf, size_t n);

/* lsh_reader_read() from another kind of source (a gzip stream). */
ssize_t lsh_reader_read_from(struct lsh_reader *r, struct lsh_instance *ins,
                             lsh_read_fn fn, void *src, size_t chunk,
                             struct lsh_str path, int *emit_rc);

/*
 * Emits the pending multiline record now (flush_after passed).  Returns
 * the lsh_input_emit() result, or LSH_OK if nothing was pending.
 */
int lsh_reader_flush(struct lsh_reader *r, struct lsh_instance *ins,
                     struct lsh_str path);

/*
 * Emits every record waiting for more: the multiline record, and a
 * container's partial lines as they are (the source is about to restart,
 * so their ends will never come).  Returns as lsh_reader_flush().
 */
int lsh_reader_flush_all(struct lsh_reader *r, struct lsh_instance *ins,
                         struct lsh_str path);

/*
 * The source has ended for good (stdin closed; a rotated or deleted file
 * closed): emits the incomplete last line as a line, then any pending
 * multiline record.  Returns as lsh_reader_flush().
 */
int lsh_reader_finish(struct lsh_reader *r, struct lsh_instance *ins,
                      struct lsh_str path);

/*
 * The source is about to restart (it was truncated, and what was read is
 * all there will be of the old content): emits the incomplete last line
 * as its own record, flagged LSH_REC_TRUNCATED and counted in r->cut,
 * then everything pending.  Returns as lsh_reader_flush().
 */
int lsh_reader_cut(struct lsh_reader *r, struct lsh_instance *ins,
                   struct lsh_str path);

/*
 * The source restarted at offset (it was truncated): drops the incomplete
 * line (its end is gone) and starts a new generation.  Flush a pending
 * multiline record first: its lines are complete; restart drops it too.
 * Returns true if the old generation still has tickets out: it lives on,
 * with cookie, until they are released (see on_old); false if it was
 * freed at once.
 */
bool lsh_reader_restart(struct lsh_reader *r, uint64_t offset, void *cookie);

/* The source offset up to which bytes have been read. */
static inline uint64_t lsh_reader_read_offset(const struct lsh_reader *r)
{
    return r->offset + r->partial.len;
}

/*
 * True when a record waits for more lines (multiline, or a container's
 * partial line); *start is then where the oldest one begins.
 */
bool lsh_reader_pending_start(const struct lsh_reader *r, uint64_t *start);

static inline bool lsh_reader_pending(const struct lsh_reader *r)
{
    uint64_t start;

    return lsh_reader_pending_start(r, &start);
}

/* True when the current generation has tickets out. */
bool lsh_reader_busy(const struct lsh_reader *r);

/* The current generation's committed offset. */
uint64_t lsh_reader_committed(const struct lsh_reader *r);

/* The end hash of the bytes before the committed offset (len 0: none). */
void lsh_reader_committed_end(const struct lsh_reader *r, uint32_t *len,
                              uint64_t *hash);

/* True when no generation has a ticket out. */
bool lsh_reader_idle(const struct lsh_reader *r);

#endif
