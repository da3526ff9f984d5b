/*
 * The checkpoint store: entries, claims, retention, and keeping them on
 * disk as a snapshot plus a journal (ckpt.h).
 */
#include "ckpt.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_int.h"
#include "log.h"
#include "mem.h"

/* The journal is compacted past this, or past 4 times the snapshot. */
#define LSH_CKPT_JOURNAL_MIN (1024u * 1024)

int64_t lsh_ckpt_now(void)
{
    return lsh_now_real_ns() / LSH_NS_PER_SEC;
}

static uint64_t lsh_ckpt_hash(uint64_t dev, uint64_t ino)
{
    return lsh_hash_u64(ino * 31 + dev);
}

static bool lsh_ckpt_eq(const struct lsh_hnode *n, const void *key)
{
    const struct lsh_ckpt_entry *e = (const void *)n;
    const uint64_t              *id = key;

    return e->dev == id[0] && e->ino == id[1];
}

static bool lsh_ckpt_eq_id(const struct lsh_hnode *n, const void *key)
{
    const struct lsh_ckpt_entry *e =
        (const void *)((const char *)n -
                       offsetof(struct lsh_ckpt_entry, by_id));

    return e->id == *(const uint64_t *)key;
}

struct lsh_ckpt_entry *lsh_ckpt_first(struct lsh_ckpt *ck, uint64_t dev,
                                      uint64_t ino)
{
    uint64_t id[2] = {dev, ino};

    return (struct lsh_ckpt_entry *)lsh_hmap_find(
        &ck->entries, lsh_ckpt_hash(dev, ino), lsh_ckpt_eq, id);
}

struct lsh_ckpt_entry *lsh_ckpt_next(struct lsh_ckpt       *ck,
                                     struct lsh_ckpt_entry *e)
{
    uint64_t id[2] = {e->dev, e->ino};

    return (struct lsh_ckpt_entry *)lsh_hmap_find_next(&ck->entries, &e->node,
                                                       lsh_ckpt_eq, id);
}

struct lsh_ckpt_entry *lsh__ckpt_by_id(struct lsh_ckpt *ck, uint64_t id)
{
    struct lsh_hnode *n =
        lsh_hmap_find(&ck->by_id, lsh_hash_u64(id), lsh_ckpt_eq_id, &id);

    return n != NULL ? (struct lsh_ckpt_entry *)((char *)n -
                                                 offsetof(struct lsh_ckpt_entry,
                                                          by_id))
                     : NULL;
}

void lsh__ckpt_entry_free(struct lsh_ckpt_entry *e)
{
    free(e->path);
    free(e);
}

void lsh__ckpt_insert(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    lsh_hmap_insert(&ck->entries, &e->node, lsh_ckpt_hash(e->dev, e->ino));
    lsh_hmap_insert(&ck->by_id, &e->by_id, lsh_hash_u64(e->id));
    if (e->id >= ck->next_id) {
        ck->next_id = e->id + 1;
    }
}

static void lsh_ckpt_unlink(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    lsh_hmap_remove(&ck->entries, &e->node);
    lsh_hmap_remove(&ck->by_id, &e->by_id);
}

void lsh_ckpt_set_notify(struct lsh_ckpt *ck, void (*fn)(void *), void *arg)
{
    ck->notify = fn;
    ck->notify_arg = arg;
}

static void lsh_ckpt_changed(struct lsh_ckpt *ck)
{
    if (!ck->pending) {
        if (!ck->snapshot_due) {
            ck->pending_since = lsh_now_mono_ns();
        }
        ck->pending = true;
        if (ck->notify != NULL) {
            ck->notify(ck->notify_arg);
        }
    }
}

/* Notes that e changed (what: LSH__CKPT_*), to persist at the next save. */
static void lsh_ckpt_touch(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                           uint8_t what)
{
    if (e->dirty == 0) {
        LSH_GROW(ck->dirty, ck->dirty_cap, ck->ndirty + 1);
        ck->dirty[ck->ndirty++] = e->id;
    }
    e->dirty |= what;
    lsh_ckpt_changed(ck);
}

void lsh_ckpt_remove(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    lsh_ckpt_unlink(ck, e);
    if (e->persisted) {
        LSH_GROW(ck->gone, ck->gone_cap, ck->ngone + 1);
        ck->gone[ck->ngone++] = e->id;
        lsh_ckpt_changed(ck);
    }
    lsh__ckpt_entry_free(e);
}

void lsh_ckpt_move(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, uint64_t dev,
                   uint64_t ino, uint32_t flags)
{
    if (e->dev == dev && e->ino == ino && e->flags == flags) {
        return;
    }
    lsh_hmap_remove(&ck->entries, &e->node);
    e->dev = dev;
    e->ino = ino;
    e->flags = flags;
    lsh_hmap_insert(&ck->entries, &e->node, lsh_ckpt_hash(dev, ino));
    lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
}

static int lsh_ckpt_fail(struct lsh_ckpt *ck, const char *what);

/*
 * A held store persists a new entry at once all the same: its offset is
 * where reading starts, not a delivery, and a file found and then renamed
 * away before the owner's next commit (a rotation in an outage) must be
 * found again after a restart.  It stays changed: the owner gets it too.
 */
static void lsh_ckpt_add_now(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    struct lsh_buf rec = LSH_BUF_INIT;

    if (ck->journal == NULL || ck->snapshot_due) {
        return;
    }
    lsh_buf_adds(&rec, "E ");
    lsh__ckpt_entry_text(&rec, e);
    lsh_journal_add(ck->journal, rec.ptr, rec.len);
    if (lsh_journal_commit(ck->journal) == LSH_OK) {
        e->persisted = true;
        ck->s.saves++;
    } else {
        ck->snapshot_due = true; /* as lsh_ckpt_save() does */
        lsh_ckpt_fail(ck, "append to the journal");
    }
    lsh_buf_release(&rec);
}

struct lsh_ckpt_entry *lsh_ckpt_add(struct lsh_ckpt *ck, uint64_t dev,
                                    uint64_t ino, uint32_t flags,
                                    uint32_t fp_len, uint64_t fp_hash,
                                    const char *path, uint64_t offset,
                                    void *owner)
{
    struct lsh_ckpt_entry *e = lsh_calloc(1, sizeof(*e));

    assert(owner != NULL);
    e->id = ck->next_id;
    e->dev = dev;
    e->ino = ino;
    e->flags = flags;
    e->fp_len = fp_len;
    e->fp_hash = fp_hash;
    e->offset = offset;
    e->path = lsh_strdup(path);
    e->owner = owner;
    e->seen = lsh_ckpt_now();
    lsh__ckpt_insert(ck, e);
    lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
    if (ck->held) {
        lsh_ckpt_add_now(ck, e);
    }
    return e;
}

void lsh_ckpt_claim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, void *owner)
{
    assert(e->owner == NULL && owner != NULL);
    e->owner = owner;
    e->flags &= ~LSH_CKPT_DONE;
    e->seen = lsh_ckpt_now();
    lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
}

void lsh_ckpt_unclaim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    e->owner = NULL;
    e->seen = lsh_ckpt_now();
    lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
}

void lsh_ckpt_finish(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    e->flags |= LSH_CKPT_DONE;
    lsh_ckpt_unclaim(ck, e);
}

void lsh_ckpt_set_offset(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                         uint64_t offset, uint32_t end_len, uint64_t end_hash)
{
    if (e->offset != offset || e->end_len != end_len ||
        e->end_hash != end_hash) {
        e->offset = offset;
        e->end_len = end_len;
        e->end_hash = end_hash;
        lsh_ckpt_touch(ck, e, LSH__CKPT_OFFSET);
    }
}

void lsh_ckpt_set_fp(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                     uint32_t fp_len, uint64_t fp_hash)
{
    if (e->fp_len != fp_len || e->fp_hash != fp_hash) {
        e->fp_len = fp_len;
        e->fp_hash = fp_hash;
        lsh_ckpt_touch(ck, e, LSH__CKPT_FP);
    }
}

void lsh_ckpt_set_path(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                       const char *path)
{
    if (strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = lsh_strdup(path);
        lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
    }
}

size_t lsh_ckpt_count(const struct lsh_ckpt *ck)
{
    return ck->entries.count;
}

const struct lsh_ckpt_stats *lsh_ckpt_stats(const struct lsh_ckpt *ck)
{
    return &ck->s;
}

bool lsh_ckpt_pending(const struct lsh_ckpt *ck)
{
    return ck->pending || ck->snapshot_due;
}

int64_t lsh_ckpt_pending_since(const struct lsh_ckpt *ck)
{
    return lsh_ckpt_pending(ck) ? ck->pending_since : 0;
}

const char *lsh_ckpt_path(const struct lsh_ckpt *ck)
{
    return ck->path != NULL ? ck->path : "(memory)";
}

struct lsh_ckpt_list {
    struct lsh_ckpt_entry **v;
    size_t                  n;
    size_t                  cap;
};

static void lsh_ckpt_collect_unclaimed(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_list  *l = arg;
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    if (e->owner == NULL) {
        LSH_GROW(l->v, l->cap, l->n + 1);
        l->v[l->n++] = e;
    }
}

struct lsh_ckpt_entry **lsh_ckpt_unclaimed(struct lsh_ckpt *ck, size_t *n)
{
    struct lsh_ckpt_list l = {NULL, 0, 0};

    lsh_hmap_each(&ck->entries, lsh_ckpt_collect_unclaimed, &l);
    *n = l.n;
    return l.v;
}

struct lsh_ckpt_prune {
    struct lsh_ckpt *ck;
    int64_t          now;
    int64_t          retention;
    size_t           removed;
};

static void lsh_ckpt_prune_one(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_prune *p = arg;
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    if (e->owner != NULL) {
        if (p->now - e->seen > p->retention / 4) {
            e->seen = p->now;
            lsh_ckpt_touch(p->ck, e, LSH__CKPT_FULL);
        }
        return;
    }
    if (p->now - e->seen >= p->retention) {
        lsh_info("checkpoint of '%s' dropped: not seen for %lld s "
                 "(checkpoint_retention)",
                 e->path, (long long)(p->now - e->seen));
        lsh_ckpt_remove(p->ck, e); /* removing the node given is allowed */
        p->removed++;
    }
}

size_t lsh_ckpt_prune(struct lsh_ckpt *ck, int64_t now, int64_t retention)
{
    struct lsh_ckpt_prune p = {ck, now, retention, 0};

    lsh_hmap_each(&ck->entries, lsh_ckpt_prune_one, &p);
    return p.removed;
}

/* --- the journal's records ---------------------------------------------- */

/* Applies one journal record at load (see ckpt.h for the three kinds). */
static int lsh_ckpt_apply(void *arg, char *rec, const char **why)
{
    struct lsh_ckpt       *ck = arg;
    struct lsh_ckpt_entry *e;
    const char            *p = rec + 2;
    uint64_t               id;
    uint64_t               off;
    uint64_t               end_len;
    uint64_t               end_hash;
    uint64_t               fp_len = 0;
    uint64_t               fp_hash = 0;

    if (rec[0] == '\0' || rec[1] != ' ') {
        return LSH_EINVAL;
    }
    switch (rec[0]) {
    case 'O':
    case 'F':
        if (!lsh__ckpt_num(&p, &id, false) || !lsh__ckpt_num(&p, &off, false) ||
            !lsh__ckpt_num(&p, &end_len, false) ||
            !lsh__ckpt_hex64(&p, &end_hash, rec[0] == 'O') ||
            end_len > LSH_CKPT_END_BYTES || end_len > off) {
            return LSH_EINVAL;
        }
        if (rec[0] == 'F' &&
            (!lsh__ckpt_num(&p, &fp_len, false) ||
             !lsh__ckpt_hex64(&p, &fp_hash, true) || fp_len > UINT32_MAX)) {
            return LSH_EINVAL;
        }
        e = lsh__ckpt_by_id(ck, id);
        if (e == NULL) {
            *why = "an offset for an unknown entry";
            return LSH_EINVAL;
        }
        e->offset = off;
        e->end_len = (uint32_t)end_len;
        e->end_hash = end_hash;
        if (rec[0] == 'F') {
            e->fp_len = (uint32_t)fp_len;
            e->fp_hash = fp_hash;
        }
        return LSH_OK;
    case 'E':
        e = lsh__ckpt_parse_entry(p, 2, 0);
        if (e == NULL) {
            return LSH_EINVAL;
        }
        if (lsh__ckpt_by_id(ck, e->id) != NULL) {
            struct lsh_ckpt_entry *old = lsh__ckpt_by_id(ck, e->id);

            lsh_ckpt_unlink(ck, old);
            lsh__ckpt_entry_free(old);
        }
        lsh__ckpt_insert(ck, e);
        return LSH_OK;
    case 'D':
        if (!lsh__ckpt_num(&p, &id, true)) {
            return LSH_EINVAL;
        }
        e = lsh__ckpt_by_id(ck, id);
        if (e == NULL) {
            *why = "the removal of an unknown entry";
            return LSH_EINVAL;
        }
        lsh_ckpt_unlink(ck, e);
        lsh__ckpt_entry_free(e);
        return LSH_OK;
    default:
        return LSH_EINVAL;
    }
}

int lsh_ckpt_replay_text(struct lsh_ckpt *ck, char *text, size_t len,
                         struct lsh_buf *err)
{
    struct lsh_journal_scan scan;

    return lsh_journal_scan("(journal)", text, len, ck->gen, lsh_ckpt_apply, ck,
                            &scan, err);
}

/* Adds the records of what changed to the journal's next commit. */
static void lsh_ckpt_records(struct lsh_ckpt *ck)
{
    struct lsh_buf rec = LSH_BUF_INIT;
    size_t         i;

    for (i = 0; i < ck->ngone; i++) {
        lsh_buf_reset(&rec);
        lsh_buf_addf(&rec, "D %" PRIu64, ck->gone[i]);
        lsh_journal_add(ck->journal, rec.ptr, rec.len);
    }
    for (i = 0; i < ck->ndirty; i++) {
        struct lsh_ckpt_entry *e = lsh__ckpt_by_id(ck, ck->dirty[i]);

        if (e == NULL) {
            continue; /* added and removed before it was saved */
        }
        lsh_buf_reset(&rec);
        if ((e->dirty & LSH__CKPT_FULL) == 0 && e->persisted) {
            /* the common case: an offset, and for a small file its
               fingerprint, which grows with it */
            lsh_buf_addf(&rec,
                         "%c %" PRIu64 " %" PRIu64 " %" PRIu32 " %016" PRIx64,
                         e->dirty & LSH__CKPT_FP ? 'F' : 'O', e->id, e->offset,
                         e->end_len, e->end_hash);
            if (e->dirty & LSH__CKPT_FP) {
                lsh_buf_addf(&rec, " %" PRIu32 " %016" PRIx64, e->fp_len,
                             e->fp_hash);
            }
        } else {
            lsh_buf_adds(&rec, "E ");
            lsh__ckpt_entry_text(&rec, e);
        }
        lsh_journal_add(ck->journal, rec.ptr, rec.len);
        ck->s.records++;
    }
    lsh_buf_release(&rec);
}

static void lsh_ckpt_all_persisted(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    (void)arg;
    e->dirty = 0;
    e->persisted = true;
}

/* Everything is on disk: nothing left to persist. */
static void lsh_ckpt_clean(struct lsh_ckpt *ck)
{
    size_t i;

    for (i = 0; i < ck->ndirty; i++) {
        struct lsh_ckpt_entry *e = lsh__ckpt_by_id(ck, ck->dirty[i]);

        if (e != NULL) {
            e->dirty = 0;
            e->persisted = true;
        }
    }
    ck->ndirty = 0;
    ck->ngone = 0;
    ck->naway = 0;
    ck->pending = false;
}

static int lsh_ckpt_fail(struct lsh_ckpt *ck, const char *what)
{
    int64_t now = lsh_now_mono_ns();
    int     saved = errno;

    /* the first failure loudly, then at most once a minute */
    ck->s.failures++;
    if (ck->fail_logged == 0 || now - ck->fail_logged >= 60 * LSH_NS_PER_SEC) {
        ck->fail_logged = now;
        errno = saved;
        lsh_error("cannot write checkpoint '%s': %s: %s (%llu failures; "
                  "delivery goes on, a restart would resend more)",
                  ck->path, what, strerror(errno),
                  (unsigned long long)ck->s.failures);
    }
    return LSH_ERR;
}

int lsh_ckpt_compact(struct lsh_ckpt *ck)
{
    const char *what = "write";

    if (ck->held) {
        return LSH_OK;
    }
    if (ck->path == NULL) {
        lsh_ckpt_clean(ck);
        return LSH_OK;
    }
    if (lsh__ckpt_write_snapshot(ck, ck->gen + 1, &what) != LSH_OK) {
        /*
         * The rename may have happened (a failed directory fsync): the file
         * may be of generation gen + 1 already, so the old journal would be
         * stale at a restart.  Nothing is appended to it until a snapshot
         * is written (which resends, never loses).
         */
        ck->snapshot_due = true;
        return lsh_ckpt_fail(ck, what);
    }
    ck->gen++;
    ck->s.snapshots++;
    lsh_hmap_each(&ck->entries, lsh_ckpt_all_persisted, NULL);
    ck->ndirty = 0;
    ck->ngone = 0;
    ck->naway = 0;
    ck->pending = false;
    ck->snapshot_due = false;
    /*
     * The journal starts again at this generation (what was added to it
     * and not committed is in the snapshot).  If that fails, the old one
     * stays, of an older generation, and is ignored at load: records
     * appended to it would be lost to a restart (resent, not lost), so
     * the next save compacts again rather than append.
     */
    if (lsh_journal_reset(ck->journal, ck->gen) != LSH_OK) {
        ck->snapshot_due = true;
        return lsh_ckpt_fail(ck, "reset the journal");
    }
    return LSH_OK;
}

int lsh_ckpt_save(struct lsh_ckpt *ck)
{
    uint64_t before;

    if (ck->held || (!ck->pending && !ck->snapshot_due)) {
        return LSH_OK;
    }
    if (ck->path == NULL) {
        lsh_ckpt_clean(ck);
        return LSH_OK;
    }
    if (ck->snapshot_due ||
        lsh_journal_bytes(ck->journal) >
            LSH_MAX(LSH_CKPT_JOURNAL_MIN, 4 * ck->snapshot_bytes)) {
        return lsh_ckpt_compact(ck);
    }
    before = lsh_journal_bytes(ck->journal);
    lsh_ckpt_records(ck);
    if (lsh_journal_commit(ck->journal) != LSH_OK) {
        /* the next save writes a snapshot: it does not need the journal */
        ck->snapshot_due = true;
        return lsh_ckpt_fail(ck, "append to the journal");
    }
    ck->s.saves++;
    ck->s.bytes += lsh_journal_bytes(ck->journal) - before;
    lsh_ckpt_clean(ck);
    return LSH_OK;
}

/* --- a second store ------------------------------------------------------ */

void lsh_ckpt_hold(struct lsh_ckpt *ck, bool hold)
{
    ck->held = hold;
}

void lsh_ckpt_changes(struct lsh_ckpt *ck,
                      void (*fn)(void *arg, uint64_t id, const char *line,
                                 size_t len),
                      void *arg)
{
    struct lsh_buf line = LSH_BUF_INIT;
    size_t         i;

    for (i = 0; i < ck->naway; i++) {
        fn(arg, ck->away[i], NULL, 0);
    }
    for (i = 0; i < ck->ngone; i++) {
        fn(arg, ck->gone[i], NULL, 0);
    }
    for (i = 0; i < ck->ndirty; i++) {
        struct lsh_ckpt_entry *e = lsh__ckpt_by_id(ck, ck->dirty[i]);

        if (e != NULL) {
            lsh_buf_reset(&line);
            lsh__ckpt_entry_text(&line, e);
            fn(arg, e->id, line.ptr, line.len);
        }
    }
    lsh_buf_release(&line);
}

int lsh_ckpt_put(struct lsh_ckpt *ck, uint64_t id, const char *line)
{
    struct lsh_ckpt_entry *old = lsh__ckpt_by_id(ck, id);
    struct lsh_ckpt_entry *e = NULL;
    bool                   persisted = old != NULL && old->persisted;
    uint8_t                dirty = old != NULL ? old->dirty : 0;

    if (line != NULL) {
        e = lsh__ckpt_parse_entry(line, 2, 0);
        if (e == NULL || e->id != id) {
            if (e != NULL) {
                lsh__ckpt_entry_free(e);
            }
            return LSH_EINVAL;
        }
    }
    if (old != NULL) {
        assert(old->owner == NULL);
        lsh_ckpt_remove(ck, old); /* journaled as removed if it was on disk */
    } else if (e == NULL) {
        /* removed there, never here: only the second store hears of it */
        LSH_GROW(ck->away, ck->away_cap, ck->naway + 1);
        ck->away[ck->naway++] = id;
        lsh_ckpt_changed(ck);
    }
    if (e != NULL) {
        /* parsed as if from disk; on disk here only if the old one was */
        e->persisted = false;
        e->dirty = dirty; /* its id is in the list of changes once */
        lsh__ckpt_insert(ck, e);
        lsh_ckpt_touch(ck, e, LSH__CKPT_FULL);
        if (persisted) {
            /* its removal above is moot: the journal gets it whole */
            ck->ngone--;
            e->persisted = true;
        }
    }
    return LSH_OK;
}

bool lsh_ckpt_has_id(struct lsh_ckpt *ck, uint64_t id)
{
    return lsh__ckpt_by_id(ck, id) != NULL;
}

static void lsh_ckpt_touch1(struct lsh_hnode *n, void *arg)
{
    lsh_ckpt_touch(arg, (struct lsh_ckpt_entry *)n, LSH__CKPT_FULL);
}

void lsh_ckpt_touch_all(struct lsh_ckpt *ck)
{
    lsh_hmap_each(&ck->entries, lsh_ckpt_touch1, ck);
}

/* --- open and close ------------------------------------------------------ */

struct lsh_ckpt *lsh_ckpt_new_memory(void)
{
    struct lsh_ckpt *ck = lsh_calloc(1, sizeof(*ck));

    lsh_hmap_init(&ck->entries);
    lsh_hmap_init(&ck->by_id);
    ck->next_id = 1;
    return ck;
}

/* A store of the files of pipeline name in dir, not loaded yet. */
static struct lsh_ckpt *lsh_ckpt_new_at(const char *dir, const char *name)
{
    struct lsh_ckpt *ck = lsh_ckpt_new_memory();
    struct lsh_buf   b = LSH_BUF_INIT;

    lsh_buf_addf(&b, "%s/%s.ckpt", dir, name);
    ck->path = lsh_buf_detach(&b, NULL);
    lsh_buf_addf(&b, "%s/.%s.ckpt.tmp", dir, name);
    ck->tmp = lsh_buf_detach(&b, NULL);
    lsh_buf_addf(&b, "%s/%s.journal", dir, name);
    ck->jpath = lsh_buf_detach(&b, NULL);
    ck->dir = lsh_strdup(dir);
    return ck;
}

int lsh_ckpt_inspect(const char *dir, const char *name, struct lsh_buf *out,
                     struct lsh_buf *err)
{
    struct lsh_journal_scan scan;
    struct lsh_ckpt        *ck;
    struct lsh_buf          text = LSH_BUF_INIT;
    const char             *p;
    int                     tries;
    int                     rc = LSH_ERR;

    /* a compaction between reading the two files: read them again */
    for (tries = 0; tries < 5; tries++) {
        ck = lsh_ckpt_new_at(dir, name);
        memset(&scan, 0, sizeof(scan));
        lsh_buf_reset(err);
        rc = lsh__ckpt_load(ck, err);
        if (rc == LSH_OK) {
            rc = lsh_journal_load(ck->jpath, ck->gen, lsh_ckpt_apply, ck, &scan,
                                  err);
        }
        if (rc == LSH_OK || !scan.newer) {
            break;
        }
        lsh_ckpt_close(ck);
        ck = NULL;
    }
    if (rc == LSH_OK) {
        lsh_buf_addf(out,
                     "# pipeline %s: %zu entr%s (snapshot generation %" PRIu64
                     ", %" PRIu64 " journal records%s)\n",
                     name, lsh_ckpt_count(ck),
                     lsh_ckpt_count(ck) == 1 ? "y" : "ies", ck->gen,
                     scan.records,
                     scan.dropped_tail ? ", the last one torn" : "");
        lsh_ckpt_format(ck, &text);
        lsh_buf_cstr(&text);
        p = strchr(text.ptr, '\n') + 1; /* after the header */
        while (strncmp(p, "end ", 4) != 0) {
            const char *nl = strchr(p, '\n');

            lsh_buf_add(out, p, (size_t)(nl - p) + 1);
            p = nl + 1;
        }
    }
    lsh_buf_release(&text);
    lsh_ckpt_close(ck);
    return rc;
}

int lsh_ckpt_open(struct lsh_ckpt **out, const char *dir, const char *name,
                  struct lsh_buf *err)
{
    struct lsh_ckpt *ck = lsh_ckpt_new_at(dir, name);
    int              rc;

    rc = lsh__ckpt_load(ck, err);
    if (rc == LSH_OK) {
        rc = lsh_journal_open(&ck->journal, ck->jpath, ck->gen, lsh_ckpt_apply,
                              ck, err);
    }
    if (rc != LSH_OK) {
        lsh_ckpt_close(ck);
        return rc;
    }
    lsh__ckpt_load_tag(ck);
    ck->s.replayed = lsh_journal_records(ck->journal);
    ck->s.torn_tail = lsh_journal_dropped_tail(ck->journal);
    *out = ck;
    return LSH_OK;
}

static void lsh_ckpt_free_each(struct lsh_hnode *n, void *arg)
{
    (void)arg;
    lsh__ckpt_entry_free((struct lsh_ckpt_entry *)n);
}

void lsh_ckpt_close(struct lsh_ckpt *ck)
{
    if (ck == NULL) {
        return;
    }
    lsh_journal_close(ck->journal);
    lsh_hmap_each(&ck->entries, lsh_ckpt_free_each, NULL);
    lsh_hmap_release(&ck->entries);
    lsh_hmap_release(&ck->by_id);
    free(ck->dirty);
    free(ck->gone);
    free(ck->away);
    free(ck->tag);
    free(ck->tag_path);
    free(ck->path);
    free(ck->tmp);
    free(ck->jpath);
    free(ck->dir);
    free(ck);
}
