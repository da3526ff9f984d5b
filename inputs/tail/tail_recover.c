/*
 * tail input: the rest of files that went away while logship was down.
 *
 * At start-up a checkpoint entry that no glob claimed belongs to a file
 * logship was following when it stopped, which is no longer at its path.
 * Rotation moved it; what it held past the checkpoint is read from where
 * it is now, with its records still carrying the logical path:
 *   - renamed (logrotate's default, "create"): found by its inode in the
 *     directory it was in;
 *   - copied, then truncated (copytruncate): found by content, a sibling
 *     whose first bytes and whose bytes just before the offset are the
 *     entry's (its fingerprint and end hash);
 *   - compressed (logrotate "compress", the kubelet): a sibling *.gz whose
 *     decompressed content matches in the same way; its rest is read from
 *     the stream.
 * Siblings are the rotation family of the logical path: names that start
 * with its base name and a '.', '-' or '_' (app.log.1, app.log.2.gz,
 * app.log-20261201, 0.log.20261201-101010.gz), in its directory and, for
 * a symlink, in its target's.  When rotations went on while logship was
 * down, the files rotated after the one found were never seen at all:
 * the family members modified later than it, that no glob follows and no
 * checkpoint knows, are read whole, oldest first.
 *
 * Content, not names, decides: a file is taken as a checkpointed one only
 * if its fingerprint matches (and its end hash, when the entry has one).
 * Without an end hash (a version 1 checkpoint) two candidates with the
 * same first bytes are ambiguous, and neither is taken.  An entry whose
 * content is nowhere is kept until checkpoint_retention drops it.
 *
 * The search runs at start-up, and again for the entries below a directory
 * that appears later (moved back, a volume mounted).  At run time the same
 * search also finds the copy that copytruncate made of a file just
 * truncated (in_tail_follow_copy()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "tail.h"

#define IN_TAIL_DIR_MAX 4096 /* siblings looked at in one directory */

/* A regular file in a directory where rotations may be. */
struct in_tail_cand {
    char       *name;
    struct stat st;
    bool        gz;        /* named *.gz: its content is decompressed */
    bool        head_read; /* head[] holds its first bytes */
    bool        taken;     /* holds an entry's content, or is read whole */
    uint64_t    taken_at;  /* read from this offset on, when taken */
    size_t      head_len;
    char        head[IN_TAIL_FP_BYTES];
};

struct in_tail_dirlist {
    char                *dir;
    struct in_tail_cand *v; /* oldest modification first */
    size_t               n;
    size_t               cap;
    bool                 blocked; /* a resource ran out while looking */
};

/* Files found to read, and the families whose later members are read. */
struct in_tail_family {
    struct in_tail_dirlist *dl;
    char                   *base;
    char                   *path;  /* logical */
    struct timespec         since; /* the oldest content found in it */
};

struct in_tail_rec {
    struct in_tail          *t;
    struct in_tail_dirlist **dirs;
    size_t                   ndirs;
    size_t                   dcap;
    struct in_tail_family   *fams;
    size_t                   nfams;
    size_t                   fcap;
};

/* --- the paths that went while logship was down ------------------------ */

struct in_tail_gone {
    struct lsh_hnode node;
    char            *path;
};

static bool in_tail_gone_eq(const struct lsh_hnode *n, const void *key)
{
    return strcmp(((const struct in_tail_gone *)n)->path, key) == 0;
}

void in_tail_gone_begin(struct in_tail *t)
{
    struct lsh_ckpt_entry **v;
    size_t                  n;
    size_t                  i;

    lsh_hmap_init(&t->gone);
    if (t->ckpt == NULL) {
        return;
    }
    v = lsh_ckpt_unclaimed(t->ckpt, &n);
    for (i = 0; i < n; i++) {
        struct in_tail_gone *g = lsh_calloc(1, sizeof(*g));

        g->path = lsh_strdup(v[i]->path);
        lsh_hmap_insert(&t->gone, &g->node,
                        lsh_hash_bytes(g->path, strlen(g->path)));
    }
    free(v);
}

bool in_tail_gone_has(const struct in_tail *t, const char *path)
{
    return lsh_hmap_find(&t->gone, lsh_hash_bytes(path, strlen(path)),
                         in_tail_gone_eq, path) != NULL;
}

static void in_tail_gone_free(struct lsh_hnode *n, void *arg)
{
    struct in_tail_gone *g = (struct in_tail_gone *)n;

    (void)arg;
    free(g->path);
    free(g);
}

void in_tail_gone_end(struct in_tail *t)
{
    lsh_hmap_each(&t->gone, in_tail_gone_free, NULL);
    lsh_hmap_release(&t->gone);
}

/* --- directories and their files --------------------------------------- */

static int in_tail_time_cmp(struct timespec a, struct timespec b)
{
    if (a.tv_sec != b.tv_sec) {
        return a.tv_sec < b.tv_sec ? -1 : 1;
    }
    if (a.tv_nsec != b.tv_nsec) {
        return a.tv_nsec < b.tv_nsec ? -1 : 1;
    }
    return 0;
}

static int in_tail_cand_cmp(const void *a, const void *b)
{
    const struct in_tail_cand *x = a;
    const struct in_tail_cand *y = b;
    int c = in_tail_time_cmp(x->st.st_mtim, y->st.st_mtim);

    return c != 0 ? c : strcmp(x->name, y->name);
}

static struct in_tail_dirlist *in_tail_dirlist_load(const char *dir)
{
    struct in_tail_dirlist *dl = lsh_calloc(1, sizeof(*dl));
    DIR                    *dh = opendir(dir);
    struct dirent          *de;

    dl->dir = lsh_strdup(dir);
    if (dh == NULL) {
        dl->blocked = in_tail_retry_resource(errno);
        return dl;
    }
    while ((de = readdir(dh)) != NULL && dl->n < IN_TAIL_DIR_MAX) {
        struct in_tail_cand *c;
        struct stat          st;
        size_t               len = strlen(de->d_name);

        if (fstatat(dirfd(dh), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        LSH_GROW(dl->v, dl->cap, dl->n + 1);
        c = &dl->v[dl->n++];
        memset(c, 0, sizeof(*c));
        c->name = lsh_strdup(de->d_name);
        c->st = st;
        c->gz = len > 3 && strcmp(de->d_name + len - 3, ".gz") == 0;
    }
    closedir(dh);
    if (dl->n > 1) {
        qsort(dl->v, dl->n, sizeof(*dl->v), in_tail_cand_cmp);
    }
    return dl;
}

static void in_tail_dirlist_free(struct in_tail_dirlist *dl)
{
    size_t i;

    for (i = 0; i < dl->n; i++) {
        free(dl->v[i].name);
    }
    free(dl->v);
    free(dl->dir);
    free(dl);
}

static struct in_tail_dirlist *in_tail_rec_dir(struct in_tail_rec *rec,
                                               const char         *dir)
{
    size_t i;

    for (i = 0; i < rec->ndirs; i++) {
        if (strcmp(rec->dirs[i]->dir, dir) == 0) {
            return rec->dirs[i];
        }
    }
    LSH_GROW(rec->dirs, rec->dcap, rec->ndirs + 1);
    rec->dirs[rec->ndirs] = in_tail_dirlist_load(dir);
    return rec->dirs[rec->ndirs++];
}

static void in_tail_cand_path(const struct in_tail_dirlist *dl,
                              const struct in_tail_cand *c, char *out)
{
    snprintf(out, PATH_MAX, "%s/%s", strcmp(dl->dir, "/") ? dl->dir : "",
             c->name);
}

/* Is c a rotation of base: base, then '.', '-' or '_', then more? */
static bool in_tail_cand_of(const struct in_tail_cand *c, const char *base)
{
    size_t bl = strlen(base);

    return strncmp(c->name, base, bl) == 0 && c->name[bl] != '\0' &&
           strchr(".-_", c->name[bl]) != NULL && c->name[bl + 1] != '\0';
}

static gzFile in_tail_gz_open(const char *path)
{
    int    fd = in_tail_open(path);
    gzFile gz;

    if (fd < 0) {
        return NULL;
    }
    gz = gzdopen(fd, "rb");
    if (gz == NULL) {
        close(fd);
        return NULL;
    }
    gzbuffer(gz, 128 * 1024);
    return gz;
}

/* Reads c's first bytes (decompressed, for a .gz) once. */
static void in_tail_cand_head(const struct in_tail_dirlist *dl,
                              struct in_tail_cand          *c)
{
    char    path[PATH_MAX];
    ssize_t n = -1;

    if (c->head_read) {
        return;
    }
    c->head_read = true;
    in_tail_cand_path(dl, c, path);
    if (c->gz) {
        gzFile gz = in_tail_gz_open(path);

        if (gz != NULL) {
            n = gzread(gz, c->head, sizeof(c->head));
            gzclose(gz);
        }
    } else {
        int fd = in_tail_open(path);

        if (fd >= 0) {
            n = pread(fd, c->head, sizeof(c->head), 0);
            close(fd);
        }
    }
    if (n < 0 && in_tail_retry_resource(errno)) {
        c->head_read = false; /* not known: look again next time */
        ((struct in_tail_dirlist *)dl)->blocked = true;
    }
    c->head_len = n > 0 ? (size_t)n : 0;
}

static bool in_tail_head_is(const struct in_tail_cand *c, uint32_t fp_len,
                            uint64_t fp_hash)
{
    return fp_len <= c->head_len && lsh_hash_bytes(c->head, fp_len) == fp_hash;
}

/*
 * Positions gz at offset after checking that the end_len bytes before it
 * hash to end_hash (or, without an end hash, that offset bytes exist).
 */
static bool in_tail_gz_seek(gzFile gz, uint64_t offset, uint32_t end_len,
                            uint64_t end_hash)
{
    char     buf[LSH_END_BYTES];
    uint32_t want = end_len > 0 ? end_len : (offset > 0 ? 1 : 0);
    z_off_t  at = (z_off_t)(offset - want);

    if (want == 0) {
        return true;
    }
    if (gzseek(gz, at, SEEK_SET) != at || gzread(gz, buf, want) != (int)want) {
        return false;
    }
    return end_len == 0 || lsh_hash_bytes(buf, end_len) == end_hash;
}

/* --- finding an entry's content ----------------------------------------- */

/* Opens c and checks that it holds e's content; fills o on success. */
static bool in_tail_cand_holds(const struct in_tail_dirlist *dl,
                               struct in_tail_cand *c, struct lsh_ckpt_entry *e,
                               struct in_tail_origin *o)
{
    char path[PATH_MAX];

    in_tail_cand_path(dl, c, path);
    memset(o, 0, sizeof(*o));
    o->fd = -1;
    o->entry = e;
    o->path = e->path;
    o->st = &c->st;
    o->fp_len = e->fp_len;
    o->fp_hash = e->fp_hash;
    if (c->gz) {
        o->gz = in_tail_gz_open(path);
        if (o->gz == NULL) {
            ((struct in_tail_dirlist *)dl)->blocked |=
                in_tail_retry_resource(errno);
            return false;
        }
        if (!in_tail_gz_seek(o->gz, e->offset, e->end_len, e->end_hash)) {
            gzclose(o->gz);
            o->gz = NULL;
            return false;
        }
        return true;
    }
    o->fd = in_tail_open(path);
    if (o->fd < 0) {
        ((struct in_tail_dirlist *)dl)->blocked |=
            in_tail_retry_resource(errno);
        return false;
    }
    if (!in_tail_content_is(o->fd, c->st.st_size, e)) {
        close(o->fd);
        o->fd = -1;
        return false;
    }
    return true;
}

static bool in_tail_followed(struct in_tail *t, const struct stat *st)
{
    return in_tail_file_by_id(t, st->st_dev, st->st_ino) != NULL ||
           in_tail_followed_elsewhere(t, st->st_dev, st->st_ino) != NULL;
}

/* e's own file, renamed (or its .gz, for an entry of a compressed one). */
static struct in_tail_cand *in_tail_by_inode(struct in_tail_rec     *rec,
                                             struct in_tail_dirlist *dl,
                                             struct lsh_ckpt_entry  *e,
                                             struct in_tail_origin  *o)
{
    size_t i;

    for (i = 0; i < dl->n; i++) {
        struct in_tail_cand *c = &dl->v[i];

        if (c->taken || (uint64_t)c->st.st_ino != e->ino ||
            (uint64_t)c->st.st_dev != e->dev ||
            c->gz != ((e->flags & LSH_CKPT_GZ) != 0) ||
            in_tail_followed(rec->t, &c->st)) {
            continue;
        }
        if (c->gz) {
            in_tail_cand_head(dl, c);
            if (!in_tail_head_is(c, e->fp_len, e->fp_hash)) {
                continue;
            }
        }
        if (in_tail_cand_holds(dl, c, e, o)) {
            return c;
        }
    }
    return NULL;
}

/* A sibling holding e's content: a copy, or a compressed rotation. */
static struct in_tail_cand *in_tail_by_content(struct in_tail_rec     *rec,
                                               struct in_tail_dirlist *dl,
                                               const char             *base,
                                               struct lsh_ckpt_entry  *e,
                                               struct in_tail_origin  *o)
{
    struct in_tail_cand *only = NULL;
    size_t               matches = 0;
    size_t               i;

    if (e->fp_len == 0) {
        return NULL; /* nothing of its content is known: by inode only */
    }
    for (i = 0; i < dl->n; i++) {
        struct in_tail_cand *c = &dl->v[i];

        if (c->taken || !in_tail_cand_of(c, base) ||
            in_tail_followed(rec->t, &c->st)) {
            continue;
        }
        in_tail_cand_head(dl, c);
        if (!in_tail_head_is(c, e->fp_len, e->fp_hash)) {
            continue;
        }
        matches++;
        if (e->end_len > 0 && in_tail_cand_holds(dl, c, e, o)) {
            return c; /* the end hash settles it */
        }
        only = c;
    }
    if (e->end_len > 0 || matches == 0) {
        return NULL;
    }
    if (matches > 1) {
        lsh_ins_warn(rec->t->ins,
                     "%zu rotations of '%s' start with the same bytes and the "
                     "checkpoint has no end hash to tell them apart; its rest "
                     "is not read from any of them",
                     matches, e->path);
        return NULL;
    }
    return in_tail_cand_holds(dl, only, e, o) ? only : NULL;
}

static void in_tail_rec_family(struct in_tail_rec     *rec,
                               struct in_tail_dirlist *dl, const char *base,
                               const char *path, const struct in_tail_cand *c)
{
    struct in_tail_family *f;
    size_t                 i;

    for (i = 0; i < rec->nfams; i++) {
        f = &rec->fams[i];
        if (f->dl == dl && strcmp(f->base, base) == 0) {
            if (in_tail_time_cmp(c->st.st_mtim, f->since) < 0) {
                f->since = c->st.st_mtim;
            }
            return;
        }
    }
    LSH_GROW(rec->fams, rec->fcap, rec->nfams + 1);
    f = &rec->fams[rec->nfams++];
    f->dl = dl;
    f->base = lsh_strdup(base);
    f->path = lsh_strdup(path);
    f->since = c->st.st_mtim;
}

/* Splits path into its directory and base name (out buffers PATH_MAX). */
static void in_tail_split(const char *path, char *dir, char *base)
{
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s", path);
    snprintf(base, PATH_MAX, "%s", basename(tmp));
    snprintf(tmp, sizeof(tmp), "%s", path);
    snprintf(dir, PATH_MAX, "%s", dirname(tmp));
}

/*
 * True if e's file is still at its path but could not be opened (it
 * waits in tail_retry.c, and resumes once it opens).
 */
static bool in_tail_still_there(const struct lsh_ckpt_entry *e)
{
    struct stat st;
    int         fd;
    bool        same;

    if ((e->flags & LSH_CKPT_GZ) || stat(e->path, &st) != 0 ||
        (uint64_t)st.st_ino != e->ino || (uint64_t)st.st_dev != e->dev) {
        return false;
    }
    fd = in_tail_open(e->path);
    if (fd < 0) {
        return in_tail_retry_resource(errno);
    }
    same = in_tail_content_is(fd, st.st_size, e);
    close(fd);
    return same;
}

static void in_tail_origin_close(struct in_tail_origin *o)
{
    if (o->gz != NULL) {
        gzclose(o->gz);
    } else if (o->fd >= 0) {
        close(o->fd);
    }
}

/*
 * Is c's content past e's offset delivered already, by a done entry of
 * c's own (an earlier run read it there to its end)?  e is then stale.
 */
static bool in_tail_done_covers(struct in_tail *t, struct in_tail_cand *c,
                                const struct lsh_ckpt_entry *e)
{
    struct lsh_ckpt_entry *d;

    for (d = lsh_ckpt_first(t->ckpt, (uint64_t)c->st.st_dev,
                            (uint64_t)c->st.st_ino);
         d != NULL; d = lsh_ckpt_next(t->ckpt, d)) {
        if (d != e && (d->flags & LSH_CKPT_DONE) &&
            c->gz == ((d->flags & LSH_CKPT_GZ) != 0) &&
            d->fp_len == e->fp_len && d->fp_hash == e->fp_hash &&
            d->offset >= e->offset) {
            return true;
        }
    }
    return false;
}

/*
 * Two entries may hold one content: the old content of a truncated file,
 * retired with records still out, and the copy whose rest was being read
 * from where the reader had stopped (in_tail_follow_copy()).  Entries are
 * recovered lowest offset first, so the older one takes the copy and reads
 * it from its own, lower, offset: the other one is then superseded (its
 * content is being read from before its offset) and goes.  Without that,
 * one of them would read the copy again (duplicates) or find it taken
 * and skip what lies between the two offsets (a loss).
 */
static bool in_tail_superseded(struct in_tail_rec     *rec,
                               struct in_tail_dirlist *dl,
                               struct lsh_ckpt_entry  *e)
{
    struct in_tail_origin o;
    size_t                i;

    for (i = 0; i < dl->n; i++) {
        struct in_tail_cand *c = &dl->v[i];
        char                 path[PATH_MAX];

        /* (a plain file's content may be found compressed, not back) */
        if (!c->taken || c->taken_at > e->offset ||
            (!c->gz && (e->flags & LSH_CKPT_GZ))) {
            continue;
        }
        in_tail_cand_head(dl, c);
        if (!in_tail_head_is(c, e->fp_len, e->fp_hash) ||
            !in_tail_cand_holds(dl, c, e, &o)) {
            continue;
        }
        in_tail_origin_close(&o);
        in_tail_cand_path(dl, c, path);
        lsh_ins_info(rec->t->ins,
                     "'%s': the rest of its content after offset %llu is "
                     "read already from '%s', from an older checkpoint",
                     e->path, (unsigned long long)e->offset, path);
        lsh_ckpt_remove(rec->t->ckpt, e);
        return true;
    }
    return false;
}

/* Does any checkpoint entry know c's content already? */
static bool in_tail_known(struct in_tail *t, struct in_tail_dirlist *dl,
                          struct in_tail_cand *c)
{
    struct lsh_ckpt_entry *e;

    for (e = lsh_ckpt_first(t->ckpt, (uint64_t)c->st.st_dev,
                            (uint64_t)c->st.st_ino);
         e != NULL; e = lsh_ckpt_next(t->ckpt, e)) {
        if (c->gz == ((e->flags & LSH_CKPT_GZ) != 0)) {
            in_tail_cand_head(dl, c);
            if (in_tail_head_is(c, e->fp_len, e->fp_hash)) {
                return true;
            }
        }
    }
    return false;
}

/*
 * Is c (at path) a member of base's rotation family that nothing has taken
 * or follows, no input looks for and no entry knows: never seen?
 */
static bool in_tail_unseen(struct in_tail *t, struct in_tail_dirlist *dl,
                           struct in_tail_cand *c, const char *base,
                           const char *path)
{
    return !c->taken && in_tail_cand_of(c, base) &&
           !in_tail_followed(t, &c->st) && !in_tail_wanted(t, path) &&
           !in_tail_known(t, dl, c);
}

/* Reads candidate c whole as a rotation of path (logical); false if not. */
static bool in_tail_read_whole(struct in_tail_rec     *rec,
                               struct in_tail_dirlist *dl,
                               struct in_tail_cand *c, const char *path)
{
    struct in_tail       *t = rec->t;
    struct in_tail_origin o;
    char                  name[PATH_MAX];

    in_tail_cand_path(dl, c, name);
    in_tail_cand_head(dl, c);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.st = &c->st;
    o.fd = -1;
    o.fp_len = (uint32_t)c->head_len;
    o.fp_hash = lsh_hash_bytes(c->head, c->head_len);
    if (c->gz) {
        o.gz = in_tail_gz_open(name);
    } else {
        o.fd = in_tail_open(name);
    }
    if (o.gz == NULL && o.fd < 0) {
        return false;
    }
    c->taken = true;
    c->taken_at = 0;
    t->c.recovered++;
    t->c.recovered_gz += c->gz;
    in_tail_file_resume(t, &o);
    return true;
}

/*
 * e's content is nowhere, but its inode is a rotation of its name with
 * content no entry knows: the file was truncated (its copy gone) or
 * rewritten while logship was down, written again, then rotated.  At its
 * own path it would be read from its start (in_tail_file_start()); as a
 * rotation it is read whole too, and e, whose content is gone, goes.
 */
static bool in_tail_rewritten(struct in_tail_rec *rec, struct lsh_ckpt_entry *e,
                              char (*dirs)[PATH_MAX], char (*bases)[PATH_MAX],
                              int nloc)
{
    struct in_tail *t = rec->t;
    int             i;
    size_t          k;

    for (i = 0; i < nloc; i++) {
        struct in_tail_dirlist *dl = in_tail_rec_dir(rec, dirs[i]);

        for (k = 0; k < dl->n; k++) {
            struct in_tail_cand *c = &dl->v[k];
            char                 name[PATH_MAX];

            in_tail_cand_path(dl, c, name);
            if (c->gz || (uint64_t)c->st.st_ino != e->ino ||
                (uint64_t)c->st.st_dev != e->dev ||
                !in_tail_unseen(t, dl, c, bases[i], name) ||
                !in_tail_read_whole(rec, dl, c, e->path)) {
                continue;
            }
            lsh_ins_warn(t->ins,
                         "'%s' was truncated or rewritten while logship was "
                         "down, then rotated to '%s': reading it whole",
                         e->path, name);
            in_tail_rec_family(rec, dl, bases[i], e->path, c);
            lsh_ckpt_remove(t->ckpt, e);
            return true;
        }
    }
    return false;
}

/*
 * After a restart of the pipeline: the descriptor the previous instance
 * kept on e's file (core/stash.c), the only way left to a deleted one.
 */
static bool in_tail_from_stash(struct in_tail_rec    *rec,
                               struct lsh_ckpt_entry *e)
{
    struct in_tail       *t = rec->t;
    struct in_tail_origin o;
    struct stat           st;
    int                   fd;

    if (e->flags & LSH_CKPT_GZ) {
        return false;
    }
    fd = lsh_unstash_fd(t->ins, e->dev, e->ino);
    if (fd < 0) {
        return false;
    }
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != e->dev ||
        (uint64_t)st.st_ino != e->ino ||
        !in_tail_content_is(fd, st.st_size, e)) {
        close(fd);
        return false;
    }
    memset(&o, 0, sizeof(o));
    o.path = e->path;
    o.fd = fd;
    o.st = &st;
    o.entry = e;
    o.fp_len = e->fp_len;
    o.fp_hash = e->fp_hash;
    t->c.recovered++;
    lsh_ins_info(t->ins,
                 "'%s' (%s): reading it again from offset %llu through the "
                 "descriptor kept across the restart",
                 e->path, st.st_nlink == 0 ? "deleted" : "moved",
                 (unsigned long long)e->offset);
    in_tail_file_resume(t, &o);
    return true;
}

/*
 * Reads the rest of e from where its content is now.  Returns true if a
 * resource ran out while looking (EMFILE...): then it is looked for again
 * later (tail_retry.c).
 */
static bool in_tail_recover_entry(struct in_tail_rec    *rec,
                                  struct lsh_ckpt_entry *e)
{
    bool blocked = false;

    struct in_tail       *t = rec->t;
    char                  dirs[2][PATH_MAX];
    char                  bases[2][PATH_MAX];
    char                  target[PATH_MAX];
    struct lsh_ckpt_entry copy = *e;
    struct in_tail_origin o;
    struct stat           lst;
    int                   nloc = 1;
    int                   i;

    if (in_tail_still_there(e) || in_tail_from_stash(rec, e)) {
        return false;
    }
    in_tail_split(e->path, dirs[0], bases[0]);
    if (lstat(e->path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
        in_tail_link_target(e->path, target)) {
        in_tail_split(target, dirs[1], bases[1]);
        nloc = 2;
    }
    for (i = 0; i < nloc; i++) {
        struct in_tail_dirlist *dl = in_tail_rec_dir(rec, dirs[i]);
        struct in_tail_cand    *c = in_tail_by_inode(rec, dl, e, &o);

        if (c == NULL && !(e->flags & LSH_CKPT_GZ)) {
            c = in_tail_by_content(rec, dl, bases[i], e, &o);
        }
        if (c == NULL && in_tail_superseded(rec, dl, e)) {
            return false;
        }
        if (c == NULL) {
            blocked = blocked || dl->blocked;
            continue;
        }
        if (in_tail_done_covers(t, c, e)) {
            in_tail_origin_close(&o);
            lsh_ins_info(t->ins,
                         "'%s': what '%s/%s' holds after offset %llu was read "
                         "already",
                         copy.path, dl->dir, c->name,
                         (unsigned long long)copy.offset);
            lsh_ckpt_remove(t->ckpt, e);
            return false;
        }
        if ((e->flags & LSH_CKPT_DONE) &&
            (c->gz || (uint64_t)c->st.st_size <= e->offset)) {
            in_tail_origin_close(&o); /* nothing after what was read */
            return false;
        }
        c->taken = true;
        c->taken_at = copy.offset;
        t->c.recovered++;
        t->c.recovered_gz += c->gz;
        lsh_ins_info(t->ins,
                     "'%s' was rotated to '%s/%s' while logship was down; "
                     "reading the rest of it from offset %llu",
                     copy.path, dl->dir, c->name,
                     (unsigned long long)copy.offset);
        in_tail_rec_family(rec, dl, bases[i], copy.path, c);
        in_tail_file_resume(t, &o);
        return false;
    }
    if (blocked) {
        in_tail_retry_recover(t, dirs[0], EMFILE);
        return true;
    }
    if (e->flags & LSH_CKPT_DONE) {
        return false; /* read to its end: nothing to say */
    }
    if (!(e->flags & LSH_CKPT_GZ) &&
        in_tail_rewritten(rec, e, dirs, bases, nloc)) {
        return false;
    }
    lsh_log(t->starting ? LSH_LOG_WARN : LSH_LOG_DEBUG, t->ins->name,
            "'%s' is gone and no rotation of it holds its content; what it "
            "held after offset %llu is not read (its checkpoint is kept for "
            "checkpoint_retention, in case it comes back)",
            e->path, (unsigned long long)e->offset);
    return false;
}

/* The family's members rotated after its content found: never seen. */
static void in_tail_recover_later(struct in_tail_rec    *rec,
                                  struct in_tail_family *f)
{
    struct in_tail         *t = rec->t;
    struct in_tail_dirlist *dl = f->dl;
    size_t                  i;

    for (i = 0; i < dl->n; i++) {
        struct in_tail_cand *c = &dl->v[i];
        char                 path[PATH_MAX];

        in_tail_cand_path(dl, c, path);
        if (in_tail_time_cmp(c->st.st_mtim, f->since) <= 0 ||
            !in_tail_unseen(t, dl, c, f->base, path) ||
            !in_tail_read_whole(rec, dl, c, f->path)) {
            continue;
        }
        lsh_ins_info(t->ins,
                     "'%s' was rotated while logship was down, and rotated "
                     "again: reading '%s' whole",
                     f->path, path);
    }
}

static int in_tail_by_offset(const void *a, const void *b)
{
    const struct lsh_ckpt_entry *x = *(struct lsh_ckpt_entry *const *)a;
    const struct lsh_ckpt_entry *y = *(struct lsh_ckpt_entry *const *)b;

    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id; /* the same order each time */
}

/* Is path below directory dir (NULL: everything is)? */
static bool in_tail_below(const char *path, const char *dir)
{
    size_t n;

    if (dir == NULL) {
        return true;
    }
    n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

size_t in_tail_recover_under(struct in_tail *t, const char *dir)
{
    struct in_tail_rec      rec;
    struct lsh_ckpt_entry **v;
    size_t                  n;
    size_t                  i;
    size_t                  blocked = 0;

    if (t->ckpt == NULL) {
        return 0;
    }
    memset(&rec, 0, sizeof(rec));
    rec.t = t;
    v = lsh_ckpt_unclaimed(t->ckpt, &n);
    if (n > 1) {
        qsort(v, n, sizeof(*v), in_tail_by_offset); /* in_tail_superseded */
    }
    for (i = 0; i < n; i++) {
        /* (done ones too: their file may have grown since, and a kill
           may have left one done that was resumed) */
        if (v[i]->owner == NULL && in_tail_below(v[i]->path, dir) &&
            in_tail_wanted(t, v[i]->path)) {
            blocked += in_tail_recover_entry(&rec, v[i]);
        }
    }
    for (i = 0; i < rec.nfams; i++) {
        in_tail_recover_later(&rec, &rec.fams[i]);
        free(rec.fams[i].base);
        free(rec.fams[i].path);
    }
    for (i = 0; i < rec.ndirs; i++) {
        in_tail_dirlist_free(rec.dirs[i]);
    }
    free(rec.fams);
    free(rec.dirs);
    free(v);
    return blocked;
}

void in_tail_recover(struct in_tail *t)
{
    in_tail_recover_under(t, NULL);
}

/* --- a copy made by copytruncate, at run time --------------------------- */

bool in_tail_follow_copy(struct in_tail_file *f, bool *looked,
                         struct in_tail_copy *exact)
{
    struct in_tail         *t = f->tail;
    struct lsh_reader      *r = &f->reader;
    struct lsh_ckpt_entry   e;
    struct in_tail_dirlist *dl;
    struct in_tail_origin   o;
    char                    dir[PATH_MAX];
    char                    base[PATH_MAX];
    size_t                  i;
    bool                    found = false;

    *looked = true;
    memset(exact, 0, sizeof(*exact));
    if (f->gz != NULL || f->fp_len == 0 || r->offset == 0) {
        return false;
    }
    /* what was read: its first bytes, and the bytes before the offset */
    memset(&e, 0, sizeof(e));
    e.fp_len = (uint32_t)LSH_MIN((uint64_t)f->fp_len, r->offset);
    e.fp_hash = f->fp_hash;
    e.offset = r->offset;
    e.end_len = r->hist_len;
    e.end_hash = lsh_hash_bytes(r->hist, r->hist_len);
    e.path = f->path;
    if (e.fp_len != f->fp_len) {
        return false; /* (the fingerprint covers unread bytes) */
    }
    in_tail_split(f->path, dir, base);
    dl = in_tail_dirlist_load(dir);
    for (i = dl->n; i-- > 0 && !found;) { /* the newest copy first */
        struct in_tail_cand *c = &dl->v[i];

        if (c->gz || !in_tail_cand_of(c, base) ||
            (uint64_t)c->st.st_size < lsh_reader_read_offset(r) ||
            in_tail_followed(t, &c->st)) {
            continue;
        }
        in_tail_cand_head(dl, c);
        if (!in_tail_head_is(c, e.fp_len, e.fp_hash) ||
            !in_tail_cand_holds(dl, c, &e, &o)) {
            continue;
        }
        if ((uint64_t)c->st.st_size == lsh_reader_read_offset(r)) {
            close(o.fd); /* nothing left to read in it */
            if (!exact->found) {
                exact->found = true;
                exact->dev = c->st.st_dev;
                exact->ino = c->st.st_ino;
            }
            continue;
        }
        o.entry = NULL; /* a new source of its own, from where f stopped */
        o.path = f->path;
        o.start = r->offset;
        o.end_len = e.end_len;
        o.end_hash = e.end_hash;
        lsh_ins_info(t->ins,
                     "'%s' was copied to '%s/%s' and truncated: reading the "
                     "rest of the copy from offset %llu",
                     f->path, dl->dir, c->name, (unsigned long long)r->offset);
        in_tail_file_resume(t, &o);
        found = true;
    }
    *looked = found || !dl->blocked;
    in_tail_dirlist_free(dl);
    return found;
}
