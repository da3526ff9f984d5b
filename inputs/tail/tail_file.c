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

/* Do the first len bytes of fd hash to hash? */
static bool in_tail_fp_matches(int fd, uint32_t len, uint64_t hash)
{
    char    buf[IN_TAIL_FP_BYTES];
    ssize_t n;

    if (len > sizeof(buf)) {
        return false;
    }
    n = pread(fd, buf, len, 0);
    return n == (ssize_t)len && lsh_hash_bytes(buf, len) == hash;
}

/*
 * Where a newly opened file starts: its checkpoint if the pipeline has one
 * for this file (same device, inode and first bytes), else read_from for
 * files found at start-up, else its first byte.  Claims or creates the
 * checkpoint entry.
 */
static off_t in_tail_file_start(struct in_tail_file *f, const char *path,
                                const struct stat *st)
{
    struct in_tail        *t = f->tail;
    struct lsh_ckpt_entry *e = NULL;
    off_t                  start = -1;

    if (t->ckpt != NULL) {
        e = lsh_ckpt_find(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino);
    }
    if (e != NULL && !e->claimed &&
        in_tail_fp_matches(f->fd, e->fp_len, e->fp_hash)) {
        if (e->offset > (uint64_t)st->st_size) {
            lsh_ins_warn(t->ins,
                         "'%s' is shorter than its checkpoint (%llu > %lld): "
                         "truncated while logship was down; reading it from "
                         "the start",
                         path, (unsigned long long)e->offset,
                         (long long)st->st_size);
            start = 0;
        } else {
            start = (off_t)e->offset;
            lsh_ins_info(t->ins, "'%s': resuming at offset %lld", path,
                         (long long)start);
        }
        e->claimed = true;
        lsh_ckpt_set_offset(t->ckpt, e, (uint64_t)start);
        lsh_ckpt_set_path(t->ckpt, e, path);
    } else if (e != NULL && !e->claimed) {
        lsh_ins_info(t->ins,
                     "'%s' has the inode of '%s' in the checkpoint but other "
                     "content: a new file, read from its start",
                     path, e->path);
        lsh_ckpt_remove(t->ckpt, e);
        e = NULL;
    } else {
        e = NULL;
    }
    if (start < 0) {
        start = 0;
        if (t->starting && t->conf->read_from == IN_TAIL_TAIL) {
            start = in_tail_tail_offset(f->fd, st->st_size);
        }
    }
    if (e == NULL && t->ckpt != NULL) {
        e = lsh_ckpt_add(t->ckpt, (uint64_t)f->dev, (uint64_t)f->ino, f->fp_len,
                         f->fp_hash, path, (uint64_t)start);
        lsh_input_ckpt_soon(t->ins);
    }
    f->ckpt = e;
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

    if (f->ckpt != NULL) {
        lsh_ckpt_set_offset(f->tail->ckpt, f->ckpt, lsh_reader_committed(r));
    }
    if (f->state == IN_TAIL_CLOSED && lsh_reader_idle(&f->reader)) {
        in_tail_file_free(f);
    }
}

static void in_tail_file_watch(struct in_tail_file *f)
{
    char proc[64];

    /* the inode itself, whatever it is called now or later */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
    f->wd = inotify_add_watch(f->tail->ifd, proc, IN_TAIL_FILE_MASK);
    if (f->wd < 0 && errno == ENOENT) {
        f->wd = inotify_add_watch(f->tail->ifd, f->path, IN_TAIL_FILE_MASK);
    }
    if (f->wd < 0) {
        lsh_log(f->tail->c.watch_errors++ == 0 ? LSH_LOG_ERROR : LSH_LOG_DEBUG,
                f->tail->ins->name,
                "cannot watch '%s': %s%s; appends are seen only with "
                "poll_interval",
                f->path, strerror(errno),
                errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        return;
    }
    lsh_hmap_insert(&f->tail->files_by_wd, &f->by_wd,
                    lsh_hash_u64((uint64_t)f->wd));
}

static void in_tail_rotate_timer(struct lsh_timer *tm);

/*
 * Opens a file to follow.  O_NOATIME: reading a file just written would
 * otherwise update its access time (relatime) on every read, a journal
 * write per cycle; the kernel allows it to the owner and to root.
 */
int in_tail_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);

    if (fd < 0 && errno == EPERM) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    return fd;
}

static const char *const in_tail_k8s_names[] = {
    "k8s_pod", "k8s_namespace", "k8s_container", "container_id", "k8s_pod_uid"};

/* Points out[i] at the i-th name and value; s holds the values. */
static void in_tail_k8s_set(struct lsh_field *out, const int *names,
                            const char *s, const size_t *off, const size_t *len)
{
    int i;

    for (i = 0; i < 4; i++) {
        const char *name = in_tail_k8s_names[names[i]];

        out[i].name = lsh_str_make(name, strlen(name));
        out[i].v = lsh_value_str(lsh_str_make(s + off[i], len[i]));
    }
}

/*
 * /var/log/containers/<pod>_<namespace>_<container>-<id>.log: pod and
 * namespace names cannot hold '_' (DNS names), nor can container names;
 * the id is the runtime's (64 hex digits).
 */
static size_t in_tail_k8s_link(const char *base, struct lsh_field *out,
                               char **text)
{
    static const int names[4] = {0, 1, 2, 3};
    const char      *end = base + strlen(base);
    const char      *u1;
    const char      *u2;
    const char      *dash;
    size_t           off[4];
    size_t           len[4];

    if (end - base < 4 || strcmp(end - 4, ".log") != 0) {
        return 0;
    }
    end -= 4;
    u1 = memchr(base, '_', (size_t)(end - base));
    u2 = u1 != NULL ? memchr(u1 + 1, '_', (size_t)(end - u1 - 1)) : NULL;
    if (u2 == NULL || memchr(u2 + 1, '_', (size_t)(end - u2 - 1)) != NULL) {
        return 0;
    }
    dash = end;
    while (dash > u2 + 1 && dash[-1] != '-') {
        dash--;
    }
    if (u1 == base || u2 == u1 + 1 || dash <= u2 + 2 || dash == end) {
        return 0; /* an empty part, or no '-<id>' */
    }
    off[0] = 0;
    len[0] = (size_t)(u1 - base);
    off[1] = (size_t)(u1 + 1 - base);
    len[1] = (size_t)(u2 - u1 - 1);
    off[2] = (size_t)(u2 + 1 - base);
    len[2] = (size_t)(dash - 1 - u2 - 1);
    off[3] = (size_t)(dash - base);
    len[3] = (size_t)(end - dash);
    *text = lsh_strndup(base, (size_t)(end - base));
    in_tail_k8s_set(out, names, *text, off, len);
    return 4;
}

/*
 * /var/log/pods/<namespace>_<pod>_<uid>/<container>/<N>.log, or a
 * rotated <N>.log.<suffix>: what the symlinks point to.
 */
static size_t in_tail_k8s_pods(const char *path, const char *base,
                               struct lsh_field *out, char **text)
{
    static const int names[4] = {1, 0, 4, 2};
    const char      *cdir;
    const char      *pdir;
    const char      *p = base;
    const char      *u1;
    const char      *u2;
    size_t           off[4];
    size_t           len[4];
    size_t           plen;

    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (p == base || strncmp(p, ".log", 4) != 0 ||
        (p[4] != '\0' && p[4] != '.')) {
        return 0;
    }
    /* base - 1 is the '/' before N.log; find the two directories above */
    for (cdir = base - 1; cdir > path && cdir[-1] != '/'; cdir--) {
    }
    if (cdir <= path + 1 || cdir == base - 1) {
        return 0;
    }
    for (pdir = cdir - 1; pdir > path && pdir[-1] != '/'; pdir--) {
    }
    plen = (size_t)(cdir - 1 - pdir);
    u1 = memchr(pdir, '_', plen);
    u2 = u1 != NULL ? memchr(u1 + 1, '_', (size_t)(cdir - 1 - u1 - 1)) : NULL;
    if (u2 == NULL || u1 == pdir || u2 == u1 + 1 || u2 + 1 == cdir - 1) {
        return 0;
    }
    off[0] = 0; /* namespace */
    len[0] = (size_t)(u1 - pdir);
    off[1] = (size_t)(u1 + 1 - pdir); /* pod */
    len[1] = (size_t)(u2 - u1 - 1);
    off[2] = (size_t)(u2 + 1 - pdir); /* uid */
    len[2] = (size_t)(cdir - 1 - u2 - 1);
    off[3] = (size_t)(cdir - pdir); /* container */
    len[3] = (size_t)(base - 1 - cdir);
    *text = lsh_strndup(pdir, (size_t)(base - 1 - pdir));
    in_tail_k8s_set(out, names, *text, off, len);
    return 4;
}

size_t in_tail_k8s_fields(const char *path, struct lsh_field *out, char **text)
{
    const char *base = strrchr(path, '/');
    size_t      n;

    *text = NULL;
    base = base != NULL ? base + 1 : path;
    n = in_tail_k8s_link(base, out, text);
    if (n == 0 && base > path + 1) {
        n = in_tail_k8s_pods(path, base, out, text);
    }
    return n;
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

struct in_tail_file *in_tail_file_open(struct in_tail *t, const char *path,
                                       int fd, const struct stat *st,
                                       bool attach)
{
    const struct in_tail_conf *c = t->conf;
    struct in_tail_file       *f = lsh_calloc(1, sizeof(*f));
    struct lsh_reader_opts     ro;
    off_t                      start = 0;

    f->tail = t;
    f->fd = fd;
    f->wd = -1;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->state = IN_TAIL_ACTIVE;
    in_tail_file_fingerprint(f, st->st_size);
    start = in_tail_file_start(f, path, st);
    if (start > 0 && lseek(fd, start, SEEK_SET) < 0) {
        start = 0;
    }
    memset(&ro, 0, sizeof(ro));
    ro.max_line = (size_t)c->max_line_bytes;
    ro.on_long = c->on_long_line;
    ro.strip_cr = c->strip_cr;
    ro.ml = c->multiline;
    ro.ctr = c->format != LSH_CTR_RAW ? &t->ctr : NULL;
    ro.on_commit = in_tail_file_committed;
    ro.data = f;
    lsh_reader_init(&f->reader, (uint64_t)start, &ro);
    lsh_hmap_insert(&t->files_by_id, &f->by_id,
                    in_tail_id_hash(f->dev, f->ino));
    f->lnext = t->all;
    if (t->all != NULL) {
        t->all->lprev = f;
    }
    t->all = f;
    if (attach) {
        in_tail_file_attach(f, path);
    } else {
        f->path = lsh_strdup(path);
        f->path_len = strlen(path);
        in_tail_file_names(f);
        f->state = IN_TAIL_ROTATED;
        f->last_write = lsh_now_mono_ns();
        lsh_timer_start(t->ins->loop, &f->rotate_timer, c->rotate_wait_ms, 0,
                        in_tail_rotate_timer, f);
    }
    in_tail_file_watch(f);
    t->c.files_opened++;
    lsh_ins_info(t->ins, "following '%s'%s from offset %lld", path,
                 attach ? "" : " (already rotated)", (long long)start);
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
    if (f->attached) {
        lsh_hmap_remove(&t->files_by_path, &f->by_path);
        f->attached = false;
    }
    lsh_hmap_remove(&t->files_by_id, &f->by_id);
    close(f->fd);
    f->fd = -1;
    lsh_ins_info(t->ins, "closed %s file '%s' after %llu bytes",
                 f->state == IN_TAIL_DELETED ? "deleted" : "rotated", f->path,
                 (unsigned long long)lsh_reader_read_offset(&f->reader));
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

/* The file is shorter than what was read, or its start changed. */
static int in_tail_file_truncated(struct in_tail_file *f, off_t size)
{
    struct in_tail *t = f->tail;
    int             rc = LSH_OK;

    if (lsh_reader_pending(&f->reader)) {
        rc = lsh_reader_flush_all(&f->reader, t->ins, in_tail_file_path(f));
    }
    t->c.truncations++;
    lsh_ins_warn(t->ins,
                 "'%s' was truncated (size %lld, read up to %llu); reading "
                 "it again from the start",
                 f->path, (long long)size,
                 (unsigned long long)lsh_reader_read_offset(&f->reader));
    lsh_reader_restart(&f->reader, 0);
    lseek(f->fd, 0, SEEK_SET);
    f->fp_len = 0;
    in_tail_file_fingerprint(f, size);
    if (f->ckpt != NULL) {
        /* the old offset means nothing in the new content */
        lsh_ckpt_set_offset(t->ckpt, f->ckpt, 0);
    }
    return rc;
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
    if (in_tail_file_rewritten(f)) {
        rc = in_tail_file_truncated(f, fstat(f->fd, &st) == 0 ? st.st_size
                                                              : (off_t)0);
    }
    while (f->readable && rc == LSH_OK) {
        ssize_t n;

        if (*budget == 0) {
            rc = LSH_EAGAIN;
            break;
        }
        n = lsh_reader_read(&f->reader, t->ins, f->fd, chunk,
                            in_tail_file_path(f), &rc);
        if (n < 0) {
            lsh_ins_error(t->ins, "read '%s': %s", f->path, strerror(errno));
            f->readable = false;
            break;
        }
        if (n == 0 && first && fstat(f->fd, &st) == 0 &&
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
    if (f->fp_len < IN_TAIL_FP_BYTES &&
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

void in_tail_file_free(struct in_tail_file *f)
{
    struct in_tail *t = f->tail;
    int             i;

    if (f->fd >= 0) {
        lsh_timer_stop(t->ins->loop, &f->rotate_timer);
        lsh_timer_stop(t->ins->loop, &f->ml_timer);
        if (f->wd >= 0) {
            lsh_hmap_remove(&t->files_by_wd, &f->by_wd);
        }
        if (f->attached) {
            lsh_hmap_remove(&t->files_by_path, &f->by_path);
        }
        lsh_hmap_remove(&t->files_by_id, &f->by_id);
        close(f->fd);
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
    if (f->ckpt != NULL && !t->exiting) {
        /* closed for good and every line delivered: nothing to resume */
        lsh_ckpt_remove(t->ckpt, f->ckpt);
    }
    lsh_reader_release(&f->reader);
    free(f->path);
    free(f);
}

/*
 * A checkpoint entry no glob claimed: perhaps its file was rotated while
 * logship was down and no longer matches.  Look for its inode in the
 * directory it was in; if it is there, same content, with lines not yet
 * delivered, follow it as a rotated file from its checkpoint.
 */
static void in_tail_recover_entry(struct lsh_ckpt_entry *e, void *arg)
{
    struct in_tail *t = arg;
    char            dir[PATH_MAX];
    char            path[PATH_MAX];
    char           *slash;
    DIR            *dh;
    struct dirent  *de;
    struct stat     st;
    int             fd;

    if (!in_tail_wanted(t, e->path)) {
        return; /* another input's */
    }
    snprintf(dir, sizeof(dir), "%s", e->path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        return;
    }
    *slash = '\0';
    dh = opendir(dir[0] ? dir : "/");
    if (dh == NULL) {
        return;
    }
    while ((de = readdir(dh)) != NULL) {
        if (fstatat(dirfd(dh), de->d_name, &st, 0) != 0 ||
            (uint64_t)st.st_ino != e->ino || (uint64_t)st.st_dev != e->dev ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        if ((uint64_t)st.st_size <= e->offset) {
            break; /* delivered to its end */
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
            (int)sizeof(path)) {
            break;
        }
        fd = in_tail_open(path);
        if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_ino == e->ino &&
            (uint64_t)st.st_dev == e->dev) {
            lsh_ins_info(t->ins,
                         "'%s' was rotated to '%s' while logship was down; "
                         "reading the rest of it",
                         e->path, path);
            in_tail_file_open(t, e->path, fd, &st, false);
        } else if (fd >= 0) {
            close(fd);
        }
        break;
    }
    closedir(dh);
}

void in_tail_recover(struct in_tail *t)
{
    if (t->ckpt != NULL) {
        lsh_ckpt_each_unclaimed(t->ckpt, in_tail_recover_entry, t);
    }
}
