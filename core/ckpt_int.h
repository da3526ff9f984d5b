/*
 * Inside the checkpoint store: what ckpt.c (the store and how it is kept
 * on disk) and ckpt_text.c (the text of its files) share.  Nothing else
 * includes this.
 */
#ifndef LSH_CKPT_INT_H
#define LSH_CKPT_INT_H

#include "ckpt.h"
#include "journal.h"

struct lsh_ckpt {
    char               *path; /* the snapshot; NULL: in memory only */
    char               *tmp;  /* where a new snapshot is written first */
    char               *dir;
    char               *jpath;   /* the journal */
    struct lsh_hmap     entries; /* by (dev, ino) */
    struct lsh_hmap     by_id;
    struct lsh_journal *journal;
    uint64_t            gen;     /* of the snapshot on disk */
    uint64_t            next_id; /* for the next entry added */
    /* to persist: entries changed (ids) and removed (ids once on disk) */
    uint64_t *dirty;
    size_t    ndirty;
    size_t    dirty_cap;
    uint64_t *gone;
    size_t    ngone;
    size_t    gone_cap;
    /* removed from another store of it, never known here (lsh_ckpt_put) */
    uint64_t *away;
    size_t    naway;
    size_t    away_cap;
    bool      held; /* its owner persists it (lsh_ckpt_hold) */
    char     *tag;  /* lsh_ckpt_tag() */
    char     *tag_path;
    bool      pending;      /* something to persist */
    bool      snapshot_due; /* the next save writes a snapshot */
    uint64_t  snapshot_bytes;
    int64_t   fail_logged;     /* when a failure was last logged */
    int64_t   pending_since;   /* monotonic ns something became pending */
    void (*notify)(void *arg); /* called when pending becomes true */
    void                 *notify_arg;
    struct lsh_ckpt_stats s;
};

/* entry dirty bits */
#define LSH__CKPT_OFFSET 0x1u /* offset and end hash changed */
#define LSH__CKPT_FP     0x2u /* the fingerprint changed (a file < fp max) */
#define LSH__CKPT_FULL   0x4u /* anything else (or new) */

/* The entry's snapshot line (no '\n'): id, identity, offset, path. */
void lsh__ckpt_entry_text(struct lsh_buf *out, const struct lsh_ckpt_entry *e);

/*
 * Parses an entry line of format version v (2: with id; 1: without, the
 * id is assigned); NULL if it is malformed.
 */
struct lsh_ckpt_entry *lsh__ckpt_parse_entry(const char *line, int v,
                                             uint64_t assign_id);

/* Reads a decimal number (and the space after it unless last). */
bool lsh__ckpt_num(const char **p, uint64_t *out, bool last);
bool lsh__ckpt_hex64(const char **p, uint64_t *out, bool last);

void lsh__ckpt_insert(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e);
void lsh__ckpt_entry_free(struct lsh_ckpt_entry *e);
struct lsh_ckpt_entry *lsh__ckpt_by_id(struct lsh_ckpt *ck, uint64_t id);

/* Reads the snapshot at ck->path into ck; LSH_OK, LSH_EINVAL, LSH_ERR. */
int lsh__ckpt_load(struct lsh_ckpt *ck, struct lsh_buf *err);

/* Reads the owner's tag beside the store, if any (at open). */
void lsh__ckpt_load_tag(struct lsh_ckpt *ck);

/* Writes ck as the snapshot of generation gen, atomically. */
int lsh__ckpt_write_snapshot(struct lsh_ckpt *ck, uint64_t gen,
                             const char **what);

#endif
