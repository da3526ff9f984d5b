/*
 * tail input: one followed file.
 *
 * Life of a file: opened when a glob first finds it (ACTIVE, attached to
 * its logical path); then renamed away (ROTATED) or unlinked (DELETED).
 * Either way a writer may still hold it, so it is read on, and closed
 * once rotate_wait has passed since its last write and it is read to the
 * end.  A closed file
 * keeps its state until every record read from it is acknowledged, then
 * is freed.  When a file is closed for good, an incomplete last line is
 * emitted as it is: nothing will complete it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "tail.h"

#define IN_TAIL_FILE_MASK \
    (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

#define in_tail_of(n, member) \
    ((struct in_tail_file *)((char *)(n)-offsetof(struct in_tail_file, member)))

struct in_tail_id {
    dev_t dev;
    ino_t ino;
};

static uint64_t in_tail_id_hash(dev_t dev, ino_t ino)
{
    return lsh_hash_u64((uint64_t)ino * 31 + (uint64_t)dev);
}

static bool in_tail_eq_id(const struct lsh_hnode *n, const void *key)
{
    const struct in_tail_file *f = in_tail_of(n, by_id);
    const struct in_tail_id   *id = key;

    return f->dev == id->dev && f->ino == id->ino;
}

static bool in_tail_eq_path(const struct lsh_hnode *n, const void *key)
{
    return strcmp(in_tail_of(n, by_path)->path, key) == 0;
}

static bool in_tail_eq_wd(const struct lsh_hnode *n, const void *key)
{
    return in_tail_of(n, by_wd)->wd == *(const int *)key;
}

struct in_tail_file *in_tail_file_by_id(struct in_tail *t, dev_t dev, ino_t ino)
{
    struct in_tail_id id = {dev, ino};
    struct lsh_hnode *n = lsh_hmap_find(
        &t->files_by_id, in_tail_id_hash(dev, ino), in_tail_eq_id, &id);

    return n ? in_tail_of(n, by_id) : NULL;
}

struct in_tail_file *in_tail_file_by_path(struct in_tail *t, const char *path)
{
    struct lsh_hnode *n =
        lsh_hmap_find(&t->files_by_path, lsh_hash_bytes(path, strlen(path)),
                      in_tail_eq_path, path);

    return n ? in_tail_of(n, by_path) : NULL;
}

struct in_tail_file *in_tail_file_by_wd(struct in_tail *t, int wd)
{
    struct lsh_hnode *n = lsh_hmap_find(
        &t->files_by_wd, lsh_hash_u64((uint64_t)wd), in_tail_eq_wd, &wd);

    return n ? in_tail_of(n, by_wd) : NULL;
}

static struct lsh_str in_tail_file_path(const struct in_tail_file *f)
{
    return lsh_str_make(f->path, f->path_len);
}

/*
 * The fingerprint: a hash of the first bytes (up to IN_TAIL_FP_BYTES).
 * With (device, inode) it identifies a file across restarts, so that a new
 * file reusing an old inode is not taken for it.  A file shorter than the
 * fingerprint is fingerprinted on what it has, and again as it grows.
 */
static void in_tail_file_fingerprint(struct in_tail_file *f, off_t size)
{
    char    buf[IN_TAIL_FP_BYTES];
    size_t  want = (size_t)LSH_MIN(size, (off_t)sizeof(buf));
    ssize_t n;

    if (want <= f->fp_len && f->fp_len > 0) {
        return;
    }
    n = pread(f->fd, buf, want, 0);
    if (n < 0) {
        return;
    }
    f->fp_len = (uint32_t)n;
    f->fp_hash = lsh_hash_bytes(buf, (size_t)n);
    f->fp_quick = lsh_hash_fast(buf, (size_t)n);
    if (f->ckpt != NULL) {
        lsh_ckpt_set_fp(f->tail->ckpt, f->ckpt, f->fp_len, f->fp_hash);
    }
}

static off_t in_tail_tail_offset(int fd, off_t size);
static void  in_tail_file_retire(struct in_tail_file       *f,
                                 const struct in_tail_copy *exact);
static void  in_tail_file_copy_later(struct in_tail_file *f);
static void  in_tail_file_old(struct lsh_reader *r, void *cookie,
                              const struct lsh_tracker *tr, bool done,
                              void *data);

/* Do the len bytes of fd at off hash to hash? */
static bool in_tail_range_matches(int fd, uint64_t off, uint32_t len,
                                  uint64_t hash)
{
    char    buf[IN_TAIL_FP_BYTES];
    ssize_t n;

    if (len > sizeof(buf)) {
        return false;
    }
    n = pread(fd, buf, len, (off_t)off);
    return n == (ssize_t)len && lsh_hash_bytes(buf, len) == hash;
}

bool in_tail_content_is(int fd, off_t size, const struct lsh_ckpt_entry *e)
{
    if ((e->flags & LSH_CKPT_GZ) || e->offset > (uint64_t)size ||
        !in_tail_range_matches(fd, 0, e->fp_len, e->fp_hash)) {
        return false;
    }
    return e->end_len == 0 || in_tail_range_matches(fd, e->offset - e->end_len,
                                                    e->end_len, e->end_hash);
}

struct in_tail_file *in_tail_followed_elsewhere(struct in_tail *t, dev_t dev,
                                                ino_t ino)
{
    struct lsh_ckpt_entry *e;

    if (t->ckpt == NULL) {
        return NULL;
    }
    for (e = lsh_ckpt_first(t->ckpt, (uint64_t)dev, (uint64_t)ino); e != NULL;
         e = lsh_ckpt_next(t->ckpt, e)) {
        struct in_tail_file *o = e->owner;

        /* every owner in a pipeline's store is a tail file */
        if (o != NULL && o->tail != t && o->state != IN_TAIL_CLOSED &&
            o->gz == NULL) {
            return o;
        }
    }
    return NULL;
}

/* Claims e for f, which resumes at e's offset. */
static off_t in_tail_file_claim(struct in_tail_file   *f,
                                struct lsh_ckpt_entry *e, const char *path)
{
    struct in_tail *t = f->tail;

    lsh_ckpt_claim(t->ckpt, e, f);
    lsh_ckpt_set_path(t->ckpt, e, path);
    lsh_ckpt_set_fp(t->ckpt, e, f->fp_len, f->fp_hash);
    f->ckpt = e;
    lsh_ins_info(t->ins, "'%s': resuming at offset %llu", path,
                 (unsigned long long)e->offset);
    return (off_t)e->offset;
}

/*
 * Where a newly opened file starts: at its checkpoint if the pipeline has
 * one for this very content (same device and inode, same first bytes,
 * and the same bytes just before the offset), else at read_from for
 * files found at start-up, else at its first byte.  Claims or creates the
 * checkpoint entry.  An entry for the inode with other content is left
 * alone: it belongs to a file that is gone (its inode reused) or changed
 * while logship was down, whose rest recovery may still find.
 */
static off_t in_tail_file_start(struct in_tail_file *f, const char *path,
                                const struct stat *st)
{
    struct in_tail        *t = f->tail;
    struct lsh_ckpt_entry *e;
    struct lsh_ckpt_entry *other = NULL;
    off_t                  start = 0;

    if (t->ckpt == NULL) {
        return t->starting && t->conf->read_from == IN_TAIL_TAIL
                   ? in_tail_tail_offset(f->fd, st->st_size)
                   : 0;
    }
    for (e = lsh_ckpt_first(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino);
         e != NULL; e = lsh_ckpt_next(t->ckpt, e)) {
        if (e->owner != NULL || (e->flags & LSH_CKPT_GZ)) {
            continue; /* another file's, still followed */
        }
        if (in_tail_content_is(f->fd, st->st_size, e)) {
            return in_tail_file_claim(f, e, path);
        }
        if (!(e->flags & LSH_CKPT_DONE)) {
            other = e; /* (a done one's inode is free to be reused) */
        }
    }
    if (other != NULL &&
        in_tail_range_matches(f->fd, 0, other->fp_len, other->fp_hash)) {
        lsh_ins_warn(t->ins,
                     "'%s' was truncated or rewritten while logship was down "
                     "(checkpoint at %llu, size %lld): reading it from the "
                     "start",
                     path, (unsigned long long)other->offset,
                     (long long)st->st_size);
    } else if (other != NULL) {
        lsh_ins_info(t->ins,
                     "'%s' has the inode of '%s' in the checkpoint but other "
                     "content: a new file, read from its start",
                     path, other->path);
    } else if (t->starting && t->conf->read_from == IN_TAIL_TAIL &&
               !in_tail_gone_has(t, path)) {
        /* (a file at the path of one that went while logship was down
           follows it: it is read whole) */
        start = in_tail_tail_offset(f->fd, st->st_size);
    }
    f->ckpt = lsh_ckpt_add(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino, 0,
                           f->fp_len, f->fp_hash, path, (uint64_t)start, f);
    return start;
}

/*
 * For read_from: tail, the offset just after the last newline, so that a
 * line being written when logship starts is read whole.
 */
static off_t in_tail_tail_offset(int fd, off_t size)
{
    char  buf[4096];
    off_t end = size;

    while (end > 0 && size - end < (off_t)(1 << 20)) {
        off_t   start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
        ssize_t n = pread(fd, buf, (size_t)(end - start), start);

        if (n <= 0) {
            break;
        }
        while (n > 0) {
            if (buf[n - 1] == '\n') {
                return start + n;
            }
            n--;
        }
        end = start;
    }
    return end == 0 ? 0 : size;
}

static void in_tail_file_committed(struct lsh_reader *r, void *data)
{
    struct in_tail_file *f = data;
    uint32_t             end_len;
    uint64_t             end_hash;

    if (f->ckpt != NULL) {
        lsh_reader_committed_end(r, &end_len, &end_hash);
        lsh_ckpt_set_offset(f->tail->ckpt, f->ckpt, lsh_reader_committed(r),
                            end_len, end_hash);
    }
    if (f->state == IN_TAIL_CLOSED && lsh_reader_idle(&f->reader)) {
        in_tail_file_free(f);
    }
}

void in_tail_file_watch(struct in_tail_file *f)
{
    char proc[64];

    /* the inode itself, whatever it is called now or later */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
    f->wd = inotify_add_watch(f->tail->ifd, proc, IN_TAIL_FILE_MASK);
    if (f->wd < 0 && errno == ENOENT) {
        f->wd = inotify_add_watch(f->tail->ifd, f->path, IN_TAIL_FILE_MASK);
    }
    if (f->wd < 0) {
        in_tail_retry_file(f, errno); /* polled until a watch can be had */
        return;
    }
    lsh_hmap_insert(&f->tail->files_by_wd, &f->by_wd,
                    lsh_hash_u64((uint64_t)f->wd));
    if (f->unwatched) {
        in_tail_retry_forget_file(f);
    }
}

static void in_tail_rotate_timer(struct lsh_timer *tm);

/*
 * Opens a file to follow.  O_NOATIME: reading a file just written would
 * otherwise update its access time (relatime) on every read, a journal
 * write per cycle; the kernel allows it to the owner and to root.  A file
 * never takes the descriptors kept for the outputs (lsh_fd_reserved):
 * that fails as EMFILE and is tried again like it, since a producer that
 * cannot open a socket would hold every line back for good.
 */
int in_tail_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);

    if (fd < 0 && errno == EPERM) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0 && lsh_fd_reserved(fd)) {
        close(fd);
        errno = EMFILE;
        return -1;
    }
    return fd;
}

/* Sets the fields its name gives every record of f (container logs). */
static void in_tail_file_names(struct in_tail_file *f)
{
    const struct in_tail_conf *c = f->tail->conf;
    char                      *text;
    size_t                     n;

    if (c->format == LSH_CTR_RAW || !c->kubernetes) {
        return;
    }
    n = in_tail_k8s_fields(f->path, f->k8s, &text);
    free(f->k8s_text);
    f->k8s_text = text;
    f->reader.fields = f->k8s;
    f->reader.nfields = n;
}

/* The parts every followed file shares. */
static struct in_tail_file *in_tail_file_new(struct in_tail *t, int fd,
                                             const struct stat *st)
{
    struct in_tail_file *f = lsh_calloc(1, sizeof(*f));

    f->tail = t;
    f->fd = fd;
    f->wd = -1;
    f->held_fd = -1;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->state = IN_TAIL_ACTIVE;
    f->lnext = t->all;
    if (t->all != NULL) {
        t->all->lprev = f;
    }
    t->all = f;
    return f;
}

/* Starts f's reader at start, where end_hash says what precedes it. */
static void in_tail_file_reader(struct in_tail_file *f, off_t start,
                                uint32_t end_len, uint64_t end_hash)
{
    const struct in_tail_conf *c = f->tail->conf;
    struct lsh_reader_opts     ro;

    memset(&ro, 0, sizeof(ro));
    ro.max_line = (size_t)c->max_line_bytes;
    ro.on_long = c->on_long_line;
    ro.strip_cr = c->strip_cr;
    ro.ml = c->multiline;
    ro.ctr = c->format != LSH_CTR_RAW ? &f->tail->ctr : NULL;
    ro.on_commit = in_tail_file_committed;
    ro.on_old = in_tail_file_old;
    ro.data = f;
    ro.end_len = end_len;
    ro.end_hash = end_hash;
    lsh_reader_init(&f->reader, (uint64_t)start, &ro);
}

/* Reads f as a file renamed away: until rotate_wait after its last write. */
static void in_tail_file_rotated(struct in_tail_file *f, const char *path)
{
    struct in_tail *t = f->tail;

    f->path = lsh_strdup(path);
    f->path_len = strlen(path);
    in_tail_file_names(f);
    f->state = IN_TAIL_ROTATED;
    f->last_write = lsh_now_mono_ns();
    lsh_timer_start(t->ins->loop, &f->rotate_timer, t->conf->rotate_wait_ms, 0,
                    in_tail_rotate_timer, f);
}

struct in_tail_file *in_tail_file_open(struct in_tail *t, const char *path,
                                       int fd, const struct stat *st,
                                       bool attach)
{
    struct in_tail_file *f = in_tail_file_new(t, fd, st);
    off_t                start;

    in_tail_file_fingerprint(f, st->st_size);
    start = in_tail_file_start(f, path, st);
    if (start > 0 && lseek(fd, start, SEEK_SET) < 0) {
        start = 0;
    }
    if (f->ckpt != NULL && (off_t)f->ckpt->offset == start) {
        in_tail_file_reader(f, start, f->ckpt->end_len, f->ckpt->end_hash);
    } else {
        in_tail_file_reader(f, start, 0, 0);
    }
    lsh_hmap_insert(&t->files_by_id, &f->by_id,
                    in_tail_id_hash(f->dev, f->ino));
    if (attach) {
        in_tail_file_attach(f, path);
    } else {
        in_tail_file_rotated(f, path);
    }
    in_tail_file_watch(f);
    t->c.files_opened++;
    lsh_ins_info(t->ins, "following '%s'%s from offset %lld", path,
                 attach ? "" : " (already rotated)", (long long)start);
    f->readable = true;
    in_tail_enqueue(t, f);
    return f;
}

struct in_tail_file *in_tail_file_resume(struct in_tail              *t,
                                         const struct in_tail_origin *o)
{
    struct in_tail_file   *f = in_tail_file_new(t, o->fd, o->st);
    struct lsh_ckpt_entry *e = o->entry;
    off_t                  start = (off_t)o->start;

    f->gz = o->gz;
    f->fp_len = o->fp_len;
    f->fp_hash = o->fp_hash;
    if (e != NULL) {
        lsh_ckpt_claim(t->ckpt, e, f);
        start = (off_t)e->offset;
        in_tail_file_reader(f, start, e->end_len, e->end_hash);
    } else {
        if (t->ckpt != NULL) {
            e = lsh_ckpt_add(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino,
                             o->gz != NULL ? LSH_CKPT_GZ : 0, f->fp_len,
                             f->fp_hash, o->path, (uint64_t)start, f);
        }
        in_tail_file_reader(f, start, o->end_len, o->end_hash);
    }
    f->ckpt = e;
    if (e != NULL) {
        /* the content lives here now: found by inode after a restart */
        lsh_ckpt_move(t->ckpt, e, (uint64_t)f->dev, (uint64_t)f->ino,
                      o->gz != NULL ? LSH_CKPT_GZ : 0);
    }
    if (o->gz == NULL) {
        f->fp_len = 0; /* fingerprint what it has */
        in_tail_file_fingerprint(f, o->st->st_size);
        if (lseek(f->fd, start, SEEK_SET) < 0) {
            lsh_ins_warn(t->ins, "lseek: %s", strerror(errno));
        }
        lsh_hmap_insert(&t->files_by_id, &f->by_id,
                        in_tail_id_hash(f->dev, f->ino));
        in_tail_file_rotated(f, o->path);
        in_tail_file_watch(f);
    } else {
        /* a compressed file is complete: read it to its end and close */
        f->path = lsh_strdup(o->path);
        f->path_len = strlen(o->path);
        in_tail_file_names(f);
        f->state = IN_TAIL_ROTATED;
        f->close_due = true;
    }
    t->c.files_opened++;
    f->readable = true;
    in_tail_enqueue(t, f);
    return f;
}

void in_tail_file_attach(struct in_tail_file *f, const char *path)
{
    struct in_tail *t = f->tail;

    if (f->attached) {
        lsh_hmap_remove(&t->files_by_path, &f->by_path);
    }
    if (f->path == NULL || strcmp(f->path, path) != 0) {
        free(f->path);
        f->path = lsh_strdup(path);
        f->path_len = strlen(path);
    }
    lsh_hmap_insert(&t->files_by_path, &f->by_path,
                    lsh_hash_bytes(path, f->path_len));
    f->attached = true;
    if (f->ckpt != NULL) {
        lsh_ckpt_set_path(t->ckpt, f->ckpt, path);
    }
    in_tail_file_names(f);
    if (f->state == IN_TAIL_ROTATED) {
        f->state = IN_TAIL_ACTIVE;
        f->close_due = false;
        lsh_timer_stop(t->ins->loop, &f->rotate_timer);
    }
}

static void in_tail_rotate_timer(struct lsh_timer *tm)
{
    struct in_tail_file *f = tm->data;
    int64_t              wait = f->tail->conf->rotate_wait_ms * LSH_NS_PER_MS;
    int64_t              idle = lsh_now_mono_ns() - f->last_write;

    if (idle < wait) {
        lsh_timer_start(f->tail->ins->loop, &f->rotate_timer,
                        (wait - idle) / LSH_NS_PER_MS + 1, 0,
                        in_tail_rotate_timer, f);
        return;
    }
    f->close_due = true;
    f->readable = true; /* read what is left, then close */
    in_tail_enqueue(f->tail, f);
}

/*
 * Unlinked: a writer that still holds it may go on writing, so it is read
 * like a rotated file, until rotate_wait after its last write.
 */
static void in_tail_file_deleted(struct in_tail_file *f)
{
    struct in_tail *t = f->tail;

    if (f->state == IN_TAIL_DELETED || f->state == IN_TAIL_CLOSED) {
        return;
    }
    if (f->state == IN_TAIL_ACTIVE) {
        f->last_write = lsh_now_mono_ns();
        lsh_timer_start(t->ins->loop, &f->rotate_timer, t->conf->rotate_wait_ms,
                        0, in_tail_rotate_timer, f);
    }
    f->state = IN_TAIL_DELETED;
    t->c.deletions++;
    lsh_ins_info(t->ins,
                 "'%s' was deleted; reading it until %lld ms after its last "
                 "write",
                 f->path, (long long)t->conf->rotate_wait_ms);
    f->readable = true;
    in_tail_enqueue(t, f);
}

void in_tail_file_detach(struct in_tail_file *f)
{
    struct in_tail *t = f->tail;
    struct stat     st;

    if (!f->attached) {
        return;
    }
    lsh_hmap_remove(&t->files_by_path, &f->by_path);
    f->attached = false;
    if (f->state != IN_TAIL_ACTIVE) {
        return;
    }
    if (fstat(f->fd, &st) == 0 && st.st_nlink == 0) {
        in_tail_file_deleted(f);
        return;
    }
    f->state = IN_TAIL_ROTATED;
    t->c.rotations++;
    lsh_ins_info(t->ins,
                 "'%s' was rotated; reading it until %lld ms after its last "
                 "write",
                 f->path, (long long)t->conf->rotate_wait_ms);
    f->last_write = lsh_now_mono_ns();
    lsh_timer_start(t->ins->loop, &f->rotate_timer, t->conf->rotate_wait_ms, 0,
                    in_tail_rotate_timer, f);
    f->readable = true;
    in_tail_enqueue(t, f);
}

void in_tail_file_event(struct in_tail_file *f, uint32_t mask)
{
    struct in_tail *t = f->tail;
    struct stat     st;

    if (mask & IN_IGNORED) {
        lsh_hmap_remove(&t->files_by_wd, &f->by_wd);
        f->wd = -1;
        return;
    }
    if (f->state == IN_TAIL_CLOSED) {
        return;
    }
    if (mask & IN_MODIFY) {
        f->last_write = lsh_now_mono_ns();
        f->readable = true;
        in_tail_enqueue(t, f);
    }
    if (mask & (IN_ATTRIB | IN_DELETE_SELF)) {
        if (fstat(f->fd, &st) == 0 && st.st_nlink == 0) {
            if (f->attached) {
                in_tail_path_check(t, f->path); /* detaches f */
            }
            in_tail_file_deleted(f);
        }
    }
    if ((mask & IN_MOVE_SELF) && f->attached) {
        in_tail_path_check(t, f->path);
    }
}

void in_tail_file_poll(struct in_tail_file *f)
{
    struct stat st;

    if (f->state == IN_TAIL_CLOSED || fstat(f->fd, &st) != 0) {
        return;
    }
    if ((uint64_t)st.st_size != lsh_reader_read_offset(&f->reader)) {
        f->readable = true;
        in_tail_enqueue(f->tail, f);
    }
}

static void in_tail_ml_timer(struct lsh_timer *tm)
{
    struct in_tail_file *f = tm->data;

    f->flush_due = true;
    in_tail_enqueue(f->tail, f);
}

/* Closes the descriptor for good; returns the last emit's result. */
static int in_tail_file_close(struct in_tail_file *f)
{
    struct in_tail *t = f->tail;
    int             rc;

    rc = lsh_reader_finish(&f->reader, t->ins, in_tail_file_path(f));
    lsh_timer_stop(t->ins->loop, &f->rotate_timer);
    lsh_timer_stop(t->ins->loop, &f->ml_timer);
    if (f->wd >= 0) {
        inotify_rm_watch(t->ifd, f->wd);
        lsh_hmap_remove(&t->files_by_wd, &f->by_wd);
        f->wd = -1;
    }
    if (f->unwatched) {
        in_tail_retry_forget_file(f);
    }
    if (f->attached) {
        lsh_hmap_remove(&t->files_by_path, &f->by_path);
        f->attached = false;
    }
    if (f->gz != NULL) {
        gzclose(f->gz);
        f->gz = NULL;
        lsh_ins_info(t->ins,
                     "read the compressed rotation of '%s' to its end "
                     "(%llu bytes)",
                     f->path,
                     (unsigned long long)lsh_reader_read_offset(&f->reader));
    } else {
        lsh_hmap_remove(&t->files_by_id, &f->by_id);
        /*
         * When the pipeline may rewind (lsh_input_rewinds(): an abort
         * starts it again from its checkpoints), the descriptor stays open
         * while records are out: a restart reads them again through it
         * (in_tail_file_let_go()), as no path may lead to the file.
         */
        if (f->ckpt != NULL && !lsh_reader_idle(&f->reader) &&
            lsh_input_rewinds(t->ins)) {
            f->held_fd = f->fd;
        } else {
            close(f->fd);
        }
        lsh_ins_info(t->ins, "closed %s file '%s' after %llu bytes",
                     f->state == IN_TAIL_DELETED ? "deleted" : "rotated",
                     f->path,
                     (unsigned long long)lsh_reader_read_offset(&f->reader));
    }
    f->fd = -1;
    f->state = IN_TAIL_CLOSED;
    t->c.files_closed++;
    if (lsh_reader_idle(&f->reader)) {
        in_tail_file_free(f);
    }
    return rc;
}

/*
 * True if the first bytes changed: the file was truncated and written
 * again, perhaps past the old offset, before logship looked (copytruncate
 * under load).  One pread per read cycle, not per record.
 */
static bool in_tail_file_rewritten(struct in_tail_file *f)
{
    char    buf[IN_TAIL_FP_BYTES];
    ssize_t n;

    if (f->fp_len == 0 || lsh_reader_read_offset(&f->reader) == 0) {
        return false;
    }
    n = pread(f->fd, buf, f->fp_len, 0);
    return n >= 0 && ((size_t)n < f->fp_len ||
                      lsh_hash_fast(buf, (size_t)n) != f->fp_quick);
}

/*
 * The file is shorter than what was read, or its start changed.  Its old
 * content is finished with: a copy of it beside the file (copytruncate)
 * is read from where this one stopped; without one, an incomplete last
 * line is emitted as it is (flagged truncated), as nothing will complete
 * it.  Then the file is read again from the start.
 */
static int in_tail_file_truncated(struct in_tail_file *f, off_t size)
{
    struct in_tail     *t = f->tail;
    int                 rc = LSH_OK;
    bool                looked;
    struct in_tail_copy exact;
    bool                copy = in_tail_follow_copy(f, &looked, &exact);

    if (!looked && !lsh_reader_busy(&f->reader) && f->ckpt != NULL) {
        in_tail_file_copy_later(f);
    }
    if (copy) {
        /* the copy holds the incomplete line, whole: drop ours */
        lsh_buf_reset(&f->reader.partial);
        rc = lsh_reader_flush_all(&f->reader, t->ins, in_tail_file_path(f));
    } else {
        rc = lsh_reader_cut(&f->reader, t->ins, in_tail_file_path(f));
    }
    t->c.truncations++;
    lsh_ins_warn(t->ins,
                 "'%s' was truncated (size %lld, read up to %llu); reading "
                 "it again from the start",
                 f->path, (long long)size,
                 (unsigned long long)lsh_reader_read_offset(&f->reader));
    in_tail_file_retire(f, &exact);
    lseek(f->fd, 0, SEEK_SET);
    f->fp_len = 0;
    in_tail_file_fingerprint(f, size);
    if (f->ckpt != NULL) {
        /* the old offset means nothing in the new content */
        lsh_ckpt_set_offset(t->ckpt, f->ckpt, 0, 0, 0);
    }
    return rc;
}

/*
 * An older generation's entry, every record of it in: a copy's stays,
 * done; the old content of f itself is gone with the truncation.
 */
static void in_tail_file_forget(struct in_tail_file   *f,
                                struct lsh_ckpt_entry *e)
{
    if (e->dev != (uint64_t)f->dev || e->ino != (uint64_t)f->ino) {
        lsh_ckpt_finish(f->tail->ckpt, e);
    } else {
        lsh_ckpt_remove(f->tail->ckpt, e);
    }
}

/*
 * Before the reader restarts for the new content: if records of the old
 * content are still out, their progress is kept in a checkpoint entry of
 * its own (the old fingerprint, the committed offset and its end hash),
 * moved on as their acks come, and removed once the last one is in.  A
 * crash before that finds the old content in copytruncate's copy at the
 * next start-up and resumes it there: unacked records are not lost.
 *
 * When a copy holding exactly what was read is known (exact), the entry
 * is the copy's (found by its inode after a crash), and once every record
 * is in it stays, done (LSH_CKPT_DONE): a later recovery knows the copy's
 * content and does not read it again as a rotation never seen.
 */
static void in_tail_file_retire(struct in_tail_file       *f,
                                const struct in_tail_copy *exact)
{
    struct in_tail        *t = f->tail;
    struct lsh_ckpt_entry *old = NULL;
    uint32_t               end_len;
    uint64_t               end_hash;

    if (f->ckpt != NULL && (exact->found || lsh_reader_busy(&f->reader))) {
        lsh_reader_committed_end(&f->reader, &end_len, &end_hash);
        old = lsh_ckpt_add(
            t->ckpt, (uint64_t)(exact->found ? exact->dev : f->dev),
            (uint64_t)(exact->found ? exact->ino : f->ino), 0, f->fp_len,
            f->fp_hash, f->path, lsh_reader_committed(&f->reader), f);
        lsh_ckpt_set_offset(t->ckpt, old, lsh_reader_committed(&f->reader),
                            end_len, end_hash);
    }
    if (lsh_reader_restart(&f->reader, 0, old)) {
        LSH_GROW(f->retired, f->retired_cap, f->nretired + 1);
        f->retired[f->nretired++] = old;
    } else if (old != NULL) {
        in_tail_file_forget(f, old);
    }
}

/*
 * A copy of the old content could not be looked for (descriptors ran
 * out): what was not read yet may be only there.  An unclaimed entry for
 * the old content at the read offset lets recovery find the copy, on the
 * retry timer or at the next start.  (With records still out, the
 * retired entry of in_tail_file_retire() does the same.)
 */
static void in_tail_file_copy_later(struct in_tail_file *f)
{
    struct in_tail        *t = f->tail;
    struct lsh_reader     *r = &f->reader;
    struct lsh_ckpt_entry *e;
    char                   dir[PATH_MAX];
    char                  *slash;

    e = lsh_ckpt_add(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino, 0, f->fp_len,
                     f->fp_hash, f->path, r->offset, f);
    lsh_ckpt_set_offset(t->ckpt, e, r->offset, r->hist_len,
                        lsh_hash_bytes(r->hist, r->hist_len));
    lsh_ckpt_unclaim(t->ckpt, e);
    snprintf(dir, sizeof(dir), "%s", f->path);
    slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        in_tail_retry_recover(t, dir[0] ? dir : "/", EMFILE);
    }
}

/* An older generation's acks: its retired entry follows them. */
static void in_tail_file_old(struct lsh_reader *r, void *cookie,
                             const struct lsh_tracker *tr, bool done,
                             void *data)
{
    struct in_tail_file   *f = data;
    struct lsh_ckpt_entry *e = cookie;
    size_t                 i;

    (void)r;
    if (e == NULL) {
        return;
    }
    /* the last ack too: a copy's entry stays, done, at the end of what was
       read (recovery resumes a done entry where its file holds more) */
    lsh_ckpt_set_offset(f->tail->ckpt, e, tr->committed, tr->committed_len,
                        tr->committed_hash);
    if (!done) {
        return;
    }
    for (i = 0; i < f->nretired; i++) {
        if (f->retired[i] == e) {
            f->retired[i] = f->retired[--f->nretired];
            break;
        }
    }
    in_tail_file_forget(f, e);
}

static ssize_t in_tail_gz_read(void *src, void *buf, size_t n)
{
    struct in_tail_file *f = src;
    int got = gzread(f->gz, buf, (unsigned)LSH_MIN(n, 1u << 30));
    int zerr;

    if (got < 0) {
        lsh_ins_error(f->tail->ins,
                      "compressed rotation of '%s': %s; the rest of it "
                      "cannot be read",
                      f->path, gzerror(f->gz, &zerr));
        errno = EIO;
    }
    return got;
}

/* One read of f: from its descriptor, or from its gzip stream. */
static ssize_t in_tail_file_read1(struct in_tail_file *f, size_t chunk, int *rc)
{
    struct in_tail *t = f->tail;

    if (f->gz != NULL) {
        return lsh_reader_read_from(&f->reader, t->ins, in_tail_gz_read, f,
                                    chunk, in_tail_file_path(f), rc);
    }
    return lsh_reader_read(&f->reader, t->ins, f->fd, chunk,
                           in_tail_file_path(f), rc);
}

static int in_tail_file_read(struct in_tail_file *f, size_t *budget)
{
    struct in_tail *t = f->tail;
    size_t          chunk = (size_t)t->conf->read_chunk;
    struct stat     st;
    bool            got = false;
    bool            first = true;
    int             rc = LSH_OK;

    /*
     * Two syscalls a cycle when a line or two was appended: the check of
     * the first bytes, and the read.  The size is asked only when there
     * is nothing at the read offset (was the file cut below it?).
     */
    if (f->gz == NULL && in_tail_file_rewritten(f)) {
        rc = in_tail_file_truncated(f, fstat(f->fd, &st) == 0 ? st.st_size
                                                              : (off_t)0);
    }
    while (f->readable && rc == LSH_OK) {
        ssize_t n;

        if (*budget == 0) {
            rc = LSH_EAGAIN;
            break;
        }
        n = in_tail_file_read1(f, chunk, &rc);
        if (n < 0) {
            if (f->gz == NULL) {
                lsh_ins_error(t->ins, "read '%s': %s", f->path,
                              strerror(errno));
            }
            f->readable = false;
            break;
        }
        if (n == 0 && first && f->gz == NULL && fstat(f->fd, &st) == 0 &&
            (uint64_t)st.st_size < lsh_reader_read_offset(&f->reader)) {
            first = false;
            rc = in_tail_file_truncated(f, st.st_size);
            continue; /* and read it from the start */
        }
        first = false;
        if ((size_t)n < chunk) {
            f->readable = false; /* at the end; inotify tells of more */
        }
        got = got || n > 0;
        *budget -= LSH_MIN(*budget, (size_t)n);
    }
    if (f->gz == NULL && f->fp_len < IN_TAIL_FP_BYTES &&
        lsh_reader_read_offset(&f->reader) > f->fp_len) {
        /* a short file grew: fingerprint what it has now */
        in_tail_file_fingerprint(f, (off_t)lsh_reader_read_offset(&f->reader));
    }
    if (got && t->conf->multiline != NULL) {
        if (lsh_reader_pending(&f->reader)) {
            lsh_timer_start(t->ins->loop, &f->ml_timer,
                            t->conf->multiline->flush_after_ms, 0,
                            in_tail_ml_timer, f);
        } else {
            lsh_timer_stop(t->ins->loop, &f->ml_timer);
        }
    }
    return rc;
}

int in_tail_file_collect(struct in_tail_file *f, size_t *budget)
{
    int rc;

    if (f->state == IN_TAIL_CLOSED) {
        return LSH_OK;
    }
    if (f->flush_due) {
        f->flush_due = false;
        rc = lsh_reader_flush(&f->reader, f->tail->ins, in_tail_file_path(f));
        if (rc != LSH_OK) {
            return rc;
        }
    }
    if (f->readable) {
        rc = in_tail_file_read(f, budget);
        if (rc != LSH_OK) {
            return rc;
        }
    }
    if (!f->readable && f->close_due &&
        (f->state == IN_TAIL_DELETED || f->state == IN_TAIL_ROTATED)) {
        return in_tail_file_close(f);
    }
    return LSH_OK;
}

/* Does f's logical path still lead to f's inode? */
static bool in_tail_file_reachable(const struct in_tail_file *f)
{
    struct stat st;

    return f->state == IN_TAIL_ACTIVE && stat(f->path, &st) == 0 &&
           st.st_dev == f->dev && st.st_ino == f->ino;
}

/*
 * The last of a descriptor.  At a restart (t->exiting), one that no path
 * leads to any more (deleted or moved, noticed or not yet) may be all that
 * leads to the file's content: it is kept for the next instance, which
 * takes it if it recovers the file (core/stash.c,
 * in_tail_recover_entry()); the core closes it otherwise.  A file still at
 * its path is opened again there: keeping its descriptor too would double
 * the descriptors across a restart of a pipeline following many files.
 */
static void in_tail_file_let_go(struct in_tail_file *f, int fd)
{
    if (f->tail->exiting && f->ckpt != NULL && !in_tail_file_reachable(f)) {
        lsh_stash_fd(f->tail->ins, (uint64_t)f->dev, (uint64_t)f->ino, fd);
    } else {
        close(fd);
    }
}

void in_tail_file_free(struct in_tail_file *f)
{
    struct in_tail *t = f->tail;
    int             i;

    if (f->state != IN_TAIL_CLOSED) {
        lsh_timer_stop(t->ins->loop, &f->rotate_timer);
        lsh_timer_stop(t->ins->loop, &f->ml_timer);
        if (f->wd >= 0) {
            lsh_hmap_remove(&t->files_by_wd, &f->by_wd);
        }
        if (f->attached) {
            lsh_hmap_remove(&t->files_by_path, &f->by_path);
        }
        if (f->gz != NULL) {
            gzclose(f->gz);
        } else {
            lsh_hmap_remove(&t->files_by_id, &f->by_id);
            in_tail_file_let_go(f, f->fd);
        }
    } else if (f->held_fd >= 0) {
        in_tail_file_let_go(f, f->held_fd);
    }
    if (f->unwatched) {
        in_tail_retry_forget_file(f);
    }
    if (f->queued && !t->exiting) {
        in_tail_dequeue_file(t, f);
    }
    if (f->lprev != NULL) {
        f->lprev->lnext = f->lnext;
    } else {
        t->all = f->lnext;
    }
    if (f->lnext != NULL) {
        f->lnext->lprev = f->lprev;
    }
    t->c.lines += f->reader.framer.lines;
    t->c.truncated += f->reader.framer.truncated;
    t->c.skipped += f->reader.framer.skipped;
    t->c.split += f->reader.framer.split;
    t->c.cut += f->reader.cut;
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (f->reader.ml[i] != NULL) {
            t->c.ml_records += f->reader.ml[i]->records;
            t->c.ml_split += f->reader.ml[i]->split;
        }
    }
    if (f->reader.ctr != NULL) {
        const struct lsh_ctr_stats *cs = &f->reader.ctr->s;

        t->c.ctr_lines += cs->lines;
        t->c.ctr_partials += cs->partials;
        t->c.ctr_malformed += cs->malformed;
        t->c.ctr_filtered += cs->filtered;
        t->c.truncated += cs->truncated;
        t->c.skipped += cs->skipped;
        t->c.split += cs->split;
    }
    free(f->k8s_text);
    for (i = 0; i < (int)f->nretired; i++) {
        /* at exit only: what is still out is looked for at the next start */
        lsh_ckpt_unclaim(t->ckpt, f->retired[i]);
    }
    free(f->retired);
    if (f->ckpt != NULL && t->exiting) {
        lsh_ckpt_unclaim(t->ckpt, f->ckpt); /* resumed after a restart */
    } else if (f->ckpt != NULL) {
        /* closed for good and every line delivered: nothing to resume,
           but its content stays known (see LSH_CKPT_DONE) */
        lsh_ckpt_finish(t->ckpt, f->ckpt);
    }
    lsh_reader_release(&f->reader);
    free(f->path);
    free(f);
}
