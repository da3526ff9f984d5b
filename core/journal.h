/*
 * An append-only journal of small text records, each with its own CRC:
 * what makes a checkpoint change cost the entries that changed, not the
 * whole store (ckpt.c writes the records; this file frames them).
 *
 * File:
 *   logship-journal 1 <generation>
 *   <record> <crc32 of the record, 8 hex>
 *   ...
 * A record is one line of text (no '\n' inside).
 *
 * Invariants and crash safety:
 *   - A journal belongs to the snapshot of the same generation; its
 *     records apply on top of it, in order.  A journal of an older
 *     generation is stale (the snapshot already holds it: a crash between
 *     writing a snapshot and resetting the journal) and is ignored; one of
 *     a newer generation cannot exist and is corrupt.
 *   - Records are appended with one write(2) per commit, then
 *     fdatasync()ed: once lsh_journal_commit() returns LSH_OK they survive
 *     a crash or power loss.
 *   - A crash during an append leaves at most one torn record, the last:
 *     one without its '\n', or whose CRC does not match.  It is normal,
 *     dropped on open, and cut off the file.  A bad record followed by a
 *     good one is not a torn tail but damage: the journal is corrupt.
 *   - A reset (after a new snapshot) writes the new, empty journal to a
 *     temporary file, syncs it, renames it over the old one and syncs the
 *     directory: a crash leaves the old journal or the new one.
 */
#ifndef LSH_JOURNAL_H
#define LSH_JOURNAL_H

#include "buf.h"
#include "lsh.h"

struct lsh_journal;

/*
 * Applies one record (NUL-terminated, without its CRC) in order; returns
 * LSH_OK, or LSH_EINVAL if the record makes no sense (the journal is then
 * corrupt).  why gets a static reason.
 */
typedef int (*lsh_journal_apply_cb)(void *arg, char *record, const char **why);

/*
 * Opens (or creates) the journal at path for the snapshot of generation
 * gen, replaying its records through apply.  Returns LSH_OK; LSH_EINVAL if
 * it is corrupt; LSH_ERR if it cannot be read or written.  err says why.
 */
int  lsh_journal_open(struct lsh_journal **out, const char *path, uint64_t gen,
                      lsh_journal_apply_cb apply, void *arg,
                      struct lsh_buf *err);
void lsh_journal_close(struct lsh_journal *j);

struct lsh_journal_scan {
    size_t   good;         /* where the last whole record ends */
    uint64_t records;      /* applied */
    bool     dropped_tail; /* the last record was torn */
    bool     stale;        /* empty, or of an older generation: unused */
    bool     newer;        /* of a newer generation than the snapshot */
};

/*
 * Replays journal text (len bytes; text is modified) for the snapshot of
 * generation gen: what lsh_journal_open() does with the file, and what the
 * fuzz target feeds.  name is for messages.  Returns LSH_OK or LSH_EINVAL
 * with err set.
 */
/* Reads and replays the file at path without changing it. */
int lsh_journal_load(const char *path, uint64_t gen, lsh_journal_apply_cb apply,
                     void *arg, struct lsh_journal_scan *scan,
                     struct lsh_buf *err);

int lsh_journal_scan(const char *name, char *text, size_t len, uint64_t gen,
                     lsh_journal_apply_cb apply, void *arg,
                     struct lsh_journal_scan *out, struct lsh_buf *err);

/* Adds a record (no '\n' inside) to the next commit. */
void lsh_journal_add(struct lsh_journal *j, const char *rec, size_t len);

/*
 * Appends what was added with one write and syncs it.  Returns LSH_OK, or
 * LSH_ERR with errno set: what was added is then dropped (the caller adds
 * it again), and a partial append is cut off the file; if even that fails,
 * every commit fails until lsh_journal_reset().
 */
int lsh_journal_commit(struct lsh_journal *j);

/* Starts an empty journal of generation gen (its snapshot is on disk). */
int lsh_journal_reset(struct lsh_journal *j, uint64_t gen);

uint64_t lsh_journal_bytes(const struct lsh_journal *j);   /* file size */
uint64_t lsh_journal_records(const struct lsh_journal *j); /* replayed */
bool     lsh_journal_dropped_tail(const struct lsh_journal *j);

#endif
