/*
 * The checkpoint store: per pipeline, the committed offset of each file,
 * so that a restart resumes every file where delivery stopped.
 *
 * Identity.  An entry names one file's content: its device and inode, and
 * a fingerprint (a hash of its first fp_len bytes).  Inode numbers are
 * reused, so several entries may share (dev, ino): a deleted file still
 * waiting for acks and the new file that took its inode, or a file that
 * was gone at start-up and the stranger now at its inode.  Callers walk
 * the entries of an id with lsh_ckpt_first()/lsh_ckpt_next() and decide
 * by content.  The hash of the end_len bytes just before the offset
 * (end_hash) lets a resume check that the bytes it skips are the ones
 * that were delivered, and lets recovery recognise a copy or a
 * compressed rotation of the file by content alone.
 *
 * Claims.  An entry is claimed (owner != NULL) while a source follows it;
 * only the owner changes or removes it, and nothing ever frees a claimed
 * entry behind its owner's back.  An unclaimed entry is a file not seen
 * (yet): it is kept, and resumed when its file comes back, until it has
 * not been seen for the retention period (lsh_ckpt_prune()).
 *
 * On disk, per pipeline: a snapshot, <state_dir>/<pipeline>.ckpt, and a
 * journal of what changed since, <pipeline>.journal (journal.h).
 *   - Saving appends one record per entry that changed (its new offset,
 *     or all of it, or its removal) to the journal, with one write and
 *     one fdatasync: the cost is the entries that changed, not the store.
 *   - Past a size bound (4 times the snapshot's size, at least 1 MiB), and at a
 *     clean shutdown, the store is compacted: a snapshot of the next
 *     generation is written to a temporary file, fsync()ed, renamed over
 *     the old one, the directory fsync()ed, and then the journal is reset
 *     to that generation.  A crash in between leaves a journal of an
 *     older generation, which is ignored: the snapshot holds it.
 *   - Loading reads the snapshot, then replays the journal of its
 *     generation.  A torn last journal record (a crash mid-append) is
 *     normal and dropped.  A snapshot that does not parse, misses its
 *     trailer or fails its CRC, or a journal with a bad record before a
 *     good one, is corrupt, not half-written: logship then refuses to start
 *     (exit status 2) and names the file.  A file that cannot be read (EIO,
 *     a short read) is reported as such, not as corrupt.
 * Offsets only ever come from trackers, so a checkpoint never covers a
 * line that was not acknowledged.
 *
 * Snapshot format (text, so an operator can read it):
 *   logship-checkpoint 2 <generation>
 *   <id> <dev> <ino> <flags> <fp_len> <fp_hash:16 hex> <offset> <end_len>
 *     <end_hash:16 hex> <seen> <path, %-escaped>          (one line)
 *   ...
 *   end <count> <crc32 of everything above, 8 hex>
 * Journal records: "O <id> <offset> <end_len> <end_hash>" (an offset),
 * "F <id> <offset> <end_len> <end_hash> <fp_len> <fp_hash>" (an offset
 * and the fingerprint, which grows with a small file), "E <entry line>"
 * (an entry, whole: new, or its path, claim or seen time changed), and
 * "D <id>" (removed).  Version 1
 * snapshots (no generation, id, flags, end hash and seen) are read too;
 * the first save writes them back as version 2.
 */
#ifndef LSH_CKPT_H
#define LSH_CKPT_H

#include "buf.h"
#include "hmap.h"
#include "lsh.h"

struct lsh_ckpt;

/* entry flags */
#define LSH_CKPT_GZ                                      \
    0x1u /* (dev, ino) is a gzip file; offsets count its \
            decompressed bytes */
/*
 * Read to its end and closed for good, every line delivered.  Kept,
 * unclaimed, until checkpoint_retention drops it, only so that its content
 * is known: a recovery does not read it again (a copytruncate copy, a
 * rotation), and nothing is resumed from it.  Claiming clears it.
 */
#define LSH_CKPT_DONE  0x2u
#define LSH_CKPT_FLAGS (LSH_CKPT_GZ | LSH_CKPT_DONE) /* all there are */

#define LSH_CKPT_END_BYTES LSH_END_BYTES /* most bytes end_hash covers */

struct lsh_ckpt_entry {
    struct lsh_hnode node;  /* by (dev, ino); several may share one */
    struct lsh_hnode by_id; /* by id */
    uint64_t         id;    /* names it in the journal */
    uint64_t         dev;
    uint64_t         ino;
    uint32_t         flags;   /* LSH_CKPT_* */
    uint32_t         fp_len;  /* fingerprint: hash of the first fp_len */
    uint64_t         fp_hash; /* bytes of the file */
    uint64_t         offset;  /* every byte before it was delivered */
    uint32_t         end_len; /* hash of the end_len bytes before offset */
    uint64_t         end_hash;
    int64_t          seen;      /* wall-clock seconds it was last followed */
    char            *path;      /* where the file was last seen */
    void            *owner;     /* the source following it, or NULL */
    uint8_t          dirty;     /* what changed since it was persisted */
    bool             persisted; /* on disk (snapshot or journal) */
};

struct lsh_ckpt_stats {
    uint64_t saves;     /* journal appends */
    uint64_t records;   /* journal records appended */
    uint64_t snapshots; /* compactions */
    uint64_t bytes;     /* written, journal and snapshots */
    uint64_t failures;  /* saves that failed */
    uint64_t replayed;  /* journal records replayed at load */
    bool     torn_tail; /* the journal ended in a torn record */
};

/*
 * Loads <dir>/<name>.ckpt (a missing file means no checkpoints yet).
 * Returns LSH_OK; LSH_EINVAL if the file is corrupt; LSH_ERR if it cannot
 * be read.  On failure err holds the message.
 */
int  lsh_ckpt_open(struct lsh_ckpt **out, const char *dir, const char *name,
                   struct lsh_buf *err);
void lsh_ckpt_close(struct lsh_ckpt *ck);

/*
 * Appends the state of pipeline name in dir (its snapshot with its
 * journal replayed) as a comment line and the entry lines of the snapshot
 * format, without changing either file: safe while logship runs
 * (logship --checkpoints).  Returns what lsh_ckpt_open() would.
 */
int lsh_ckpt_inspect(const char *dir, const char *name, struct lsh_buf *out,
                     struct lsh_buf *err);

/*
 * Parses checkpoint text into ck (empty); for lsh_ckpt_open() and the
 * fuzz target.  Returns LSH_OK or LSH_EINVAL with err set.
 */
int lsh_ckpt_parse_text(struct lsh_ckpt *ck, char *text, size_t len,
                        struct lsh_buf *err);

/*
 * Replays journal text on top of ck (what lsh_ckpt_open() does with the
 * journal file; for the fuzz target).  Returns LSH_OK or LSH_EINVAL.
 */
int lsh_ckpt_replay_text(struct lsh_ckpt *ck, char *text, size_t len,
                         struct lsh_buf *err);

/* An empty store that is never saved (tests, fuzzing). */
struct lsh_ckpt *lsh_ckpt_new_memory(void);

const char *lsh_ckpt_path(const struct lsh_ckpt *ck);

/* The first entry for (dev, ino), or NULL; then the next one after e. */
struct lsh_ckpt_entry *lsh_ckpt_first(struct lsh_ckpt *ck, uint64_t dev,
                                      uint64_t ino);
struct lsh_ckpt_entry *lsh_ckpt_next(struct lsh_ckpt       *ck,
                                     struct lsh_ckpt_entry *e);

/* Adds a new entry claimed by owner (never replaces another). */
struct lsh_ckpt_entry *lsh_ckpt_add(struct lsh_ckpt *ck, uint64_t dev,
                                    uint64_t ino, uint32_t flags,
                                    uint32_t fp_len, uint64_t fp_hash,
                                    const char *path, uint64_t offset,
                                    void *owner);

/* Claims an unclaimed entry for owner; releases a claim (at exit). */
void lsh_ckpt_claim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, void *owner);
void lsh_ckpt_unclaim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e);
/* Its owner is done with it for good: unclaimed, marked LSH_CKPT_DONE. */
void lsh_ckpt_finish(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e);

/* The committed offset and the hash of the end_len bytes before it. */
void lsh_ckpt_set_offset(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                         uint64_t offset, uint32_t end_len, uint64_t end_hash);
void lsh_ckpt_set_fp(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                     uint32_t fp_len, uint64_t fp_hash);
void lsh_ckpt_set_path(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                       const char *path);
void lsh_ckpt_remove(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e);

/* e's content now lives in another file (a copy, a .gz): re-keys it. */
void lsh_ckpt_move(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, uint64_t dev,
                   uint64_t ino, uint32_t flags);

/*
 * A snapshot of the unclaimed entries (an array the caller frees), so
 * that the caller may add, claim and remove entries while it walks it.
 */
struct lsh_ckpt_entry **lsh_ckpt_unclaimed(struct lsh_ckpt *ck, size_t *n);

/*
 * Housekeeping, every minute or so: removes unclaimed entries not seen
 * for retention seconds (returns how many), and refreshes the seen time
 * of claimed entries once it is older than a quarter of retention (so an
 * idle file does not cost a write every interval).
 */
size_t lsh_ckpt_prune(struct lsh_ckpt *ck, int64_t now, int64_t retention);

/* Appends the store in the text format (what lsh_ckpt_save() writes). */
void lsh_ckpt_format(struct lsh_ckpt *ck, struct lsh_buf *text);

/*
 * Persists what changed since the last save: journal records, or a
 * snapshot when the journal is past its bound.  Returns LSH_OK or LSH_ERR
 * (logged, rate-limited; the next call tries again).
 */
int lsh_ckpt_save(struct lsh_ckpt *ck);

/* Writes a snapshot and resets the journal (at a clean shutdown). */
int lsh_ckpt_compact(struct lsh_ckpt *ck);

/* True if something changed that is not persisted yet. */
bool lsh_ckpt_pending(const struct lsh_ckpt *ck);

/* Since when (monotonic ns) that is so; 0 when nothing is pending. */
int64_t lsh_ckpt_pending_since(const struct lsh_ckpt *ck);

/*
 * fn(arg) is called each time the store goes from nothing to persist to
 * something to persist: the owner schedules a save (checkpoint_delay).
 */
void lsh_ckpt_set_notify(struct lsh_ckpt *ck, void (*fn)(void *), void *arg);

const struct lsh_ckpt_stats *lsh_ckpt_stats(const struct lsh_ckpt *ck);

size_t lsh_ckpt_count(const struct lsh_ckpt *ck);

/*
 * A second store of the same entries, which takes precedence (the
 * offsets topic of an exactly-once output): it gets what changed, and
 * what it holds is put here at start.
 *
 * While held, lsh_ckpt_save() and lsh_ckpt_compact() write nothing (and
 * keep what changed): the owner releases the hold only while the store
 * holds what the second one committed, and saves.
 */
void lsh_ckpt_hold(struct lsh_ckpt *ck, bool hold);

/*
 * What changed since the last save: fn(arg, id, NULL, 0) for each entry
 * removed, then fn(arg, id, line, len) for each entry changed, with its
 * snapshot line.  Nothing is cleared: the next save does that.
 */
void lsh_ckpt_changes(struct lsh_ckpt *ck,
                      void (*fn)(void *arg, uint64_t id, const char *line,
                                 size_t len),
                      void *arg);

/*
 * Sets entry id as the second store has it: line is its snapshot line
 * (NUL-terminated), or NULL for "removed".  Only while nothing is
 * claimed (before the inputs start).  The entry counts as changed (the
 * next save persists it).  Returns LSH_OK, or LSH_EINVAL for a line that
 * does not parse or names another id.
 */
int lsh_ckpt_put(struct lsh_ckpt *ck, uint64_t id, const char *line);

/*
 * A tag the owner of the second store leaves beside the store
 * (<pipeline>.tag): who wrote it last.  lsh_ckpt_tag() is what was there
 * at open (NULL: none).  lsh_ckpt_set_tag() writes it (synced), or
 * removes it (NULL): the engine does that before it writes an unowned
 * store, so a tag says the store was written only by its owner since.
 */
const char *lsh_ckpt_tag(const struct lsh_ckpt *ck);
int         lsh_ckpt_set_tag(struct lsh_ckpt *ck, const char *tag);

/* True if the store has an entry of that id. */
bool lsh_ckpt_has_id(struct lsh_ckpt *ck, uint64_t id);

/* Every entry counts as changed: the second store gets all of them. */
void lsh_ckpt_touch_all(struct lsh_ckpt *ck);

/* The wall clock in seconds, as entries' seen times keep it. */
int64_t lsh_ckpt_now(void);

#endif
