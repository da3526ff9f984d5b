/*
 * tail input: what failed for want of a resource, tried again.
 *
 * A file that cannot be opened because descriptors ran out (EMFILE,
 * ENFILE), memory is short, or permission is missing for now; a directory
 * or file that cannot be watched because the inotify watch limit is
 * reached (ENOSPC): nothing else would ever look at them again, since an
 * append to a file causes no directory event.  So each is kept here and
 * tried again on a timer, with backoff per item (1 s doubling to 30 s).
 * A file without a watch is polled every tick meanwhile, and a directory
 * without one is listed again at each attempt, so that nothing written
 * is lost while the shortage lasts.  The first failure of each kind is
 * logged as an error with the fix to apply; the rest are counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "mem.h"
#include "tail.h"

#define IN_TAIL_RETRY_TICK_MS 1000
#define IN_TAIL_RETRY_MAX_MS  30000

enum in_tail_retry_kind {
    IN_TAIL_RETRY_OPEN,
    IN_TAIL_RETRY_DIR,
    IN_TAIL_RETRY_RECOVER, /* rotations of checkpointed files, by content */
};

struct in_tail_retry_item {
    struct lsh_hnode node; /* by kind and path */
    char            *path;
    int              kind;
    int64_t          due; /* monotonic ns */
    int64_t          backoff_ms;
    uint64_t         failed_tick; /* the tick it last failed in */
};

struct in_tail_retry_file {
    struct in_tail_file *f;
    int64_t              due;
    int64_t              backoff_ms;
};

struct in_tail_retry {
    struct lsh_hmap            items;
    struct in_tail_retry_file *files; /* unwatched files, polled */
    size_t                     nfiles;
    size_t                     cap;
    struct lsh_timer           timer;
    uint64_t                   tick;
    bool                       told_open; /* logged the first of each kind */
    bool                       told_watch;
    uint64_t                   waited; /* items that had to wait */
};

bool in_tail_retry_resource(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOSPC ||
           err == EACCES || err == EPERM;
}

static const char *in_tail_retry_fix(int err)
{
    switch (err) {
    case EMFILE:
        return "raise the open files limit: LimitNOFILE= in the systemd "
               "unit, or ulimit -n; files never take the last eighth of it "
               "(4 to 512), kept for the outputs";
    case ENFILE:
        return "the system's file table is full: raise fs.file-max";
    case ENOSPC:
        return "the inotify watch limit is reached: sysctl "
               "fs.inotify.max_user_watches=524288";
    case EACCES:
    case EPERM:
        return "give logship read permission (group adm on Debian)";
    default:
        return "memory is short";
    }
}

static struct in_tail_retry *in_tail_retry_get(struct in_tail *t)
{
    if (t->retry == NULL) {
        t->retry = lsh_calloc(1, sizeof(*t->retry));
        lsh_hmap_init(&t->retry->items);
    }
    return t->retry;
}

static uint64_t in_tail_retry_hash(int kind, const char *path)
{
    return lsh_hash_bytes(path, strlen(path)) ^ (uint64_t)kind;
}

struct in_tail_retry_key {
    int         kind;
    const char *path;
};

static bool in_tail_retry_eq(const struct lsh_hnode *n, const void *key)
{
    const struct in_tail_retry_item *it = (const void *)n;
    const struct in_tail_retry_key  *k = key;

    return it->kind == k->kind && strcmp(it->path, k->path) == 0;
}

static void in_tail_retry_tick(struct lsh_timer *tm);

static void in_tail_retry_arm(struct in_tail *t)
{
    struct in_tail_retry *r = t->retry;

    if (!r->timer.active && !t->stopped) {
        lsh_timer_start(t->ins->loop, &r->timer, IN_TAIL_RETRY_TICK_MS,
                        IN_TAIL_RETRY_TICK_MS, in_tail_retry_tick, t);
    }
}

/* Logs the first failure of a kind loudly, the rest at debug level. */
static void in_tail_retry_tell(struct in_tail *t, bool *told, const char *what,
                               const char *path, int err)
{
    int level = *told ? LSH_LOG_DEBUG : LSH_LOG_ERROR;

    *told = true;
    lsh_log(level, t->ins->name,
            "cannot %s '%s': %s; it is tried again with backoff and nothing "
            "written to it is lost meanwhile (%s)",
            what, path, strerror(err), in_tail_retry_fix(err));
}

static void in_tail_retry_add(struct in_tail *t, int kind, const char *path,
                              int err)
{
    struct in_tail_retry      *r = in_tail_retry_get(t);
    struct in_tail_retry_key   k = {kind, path};
    uint64_t                   h = in_tail_retry_hash(kind, path);
    struct in_tail_retry_item *it;

    it = (struct in_tail_retry_item *)lsh_hmap_find(&r->items, h,
                                                    in_tail_retry_eq, &k);
    if (it == NULL) {
        it = lsh_calloc(1, sizeof(*it));
        it->path = lsh_strdup(path);
        it->kind = kind;
        it->backoff_ms = IN_TAIL_RETRY_TICK_MS;
        lsh_hmap_insert(&r->items, &it->node, h);
        r->waited++;
        in_tail_retry_tell(
            t, kind == IN_TAIL_RETRY_OPEN ? &r->told_open : &r->told_watch,
            kind == IN_TAIL_RETRY_OPEN ? "open" : "watch", path, err);
    } else {
        it->backoff_ms = LSH_MIN(it->backoff_ms * 2, IN_TAIL_RETRY_MAX_MS);
    }
    it->failed_tick = r->tick;
    it->due = lsh_now_mono_ns() + it->backoff_ms * LSH_NS_PER_MS;
    in_tail_retry_arm(t);
}

void in_tail_retry_open(struct in_tail *t, const char *path, int err)
{
    t->c.open_errors++;
    in_tail_retry_add(t, IN_TAIL_RETRY_OPEN, path, err);
}

void in_tail_retry_dir(struct in_tail *t, const char *path, int err)
{
    t->c.watch_errors++;
    in_tail_retry_add(t, IN_TAIL_RETRY_DIR, path, err);
}

void in_tail_retry_recover(struct in_tail *t, const char *dir, int err)
{
    in_tail_retry_add(t, IN_TAIL_RETRY_RECOVER, dir, err);
}

void in_tail_retry_file(struct in_tail_file *f, int err)
{
    struct in_tail       *t = f->tail;
    struct in_tail_retry *r = in_tail_retry_get(t);
    size_t                i;

    t->c.watch_errors++;
    for (i = 0; i < r->nfiles; i++) {
        if (r->files[i].f == f) {
            r->files[i].backoff_ms =
                LSH_MIN(r->files[i].backoff_ms * 2, IN_TAIL_RETRY_MAX_MS);
            r->files[i].due =
                lsh_now_mono_ns() + r->files[i].backoff_ms * LSH_NS_PER_MS;
            return;
        }
    }
    LSH_GROW(r->files, r->cap, r->nfiles + 1);
    r->files[r->nfiles].f = f;
    r->files[r->nfiles].backoff_ms = IN_TAIL_RETRY_TICK_MS;
    r->files[r->nfiles].due =
        lsh_now_mono_ns() + IN_TAIL_RETRY_TICK_MS * LSH_NS_PER_MS;
    r->nfiles++;
    r->waited++;
    f->unwatched = true;
    in_tail_retry_tell(t, &r->told_watch, "watch", f->path, err);
    in_tail_retry_arm(t);
}

void in_tail_retry_forget_file(struct in_tail_file *f)
{
    struct in_tail_retry *r = f->tail->retry;
    size_t                i;

    f->unwatched = false;
    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->nfiles; i++) {
        if (r->files[i].f == f) {
            r->files[i] = r->files[--r->nfiles];
            return;
        }
    }
}

struct in_tail_retry_due {
    struct in_tail_retry_item **v;
    size_t                      n;
    size_t                      cap;
    int64_t                     now;
};

static void in_tail_retry_collect(struct lsh_hnode *n, void *arg)
{
    struct in_tail_retry_item *it = (struct in_tail_retry_item *)n;
    struct in_tail_retry_due  *d = arg;

    if (it->due <= d->now) {
        LSH_GROW(d->v, d->cap, d->n + 1);
        d->v[d->n++] = it;
    }
}

static void in_tail_retry_item_free(struct in_tail_retry      *r,
                                    struct in_tail_retry_item *it)
{
    lsh_hmap_remove(&r->items, &it->node);
    free(it->path);
    free(it);
}

/* Tries the items that are due; those that work again are dropped. */
static void in_tail_retry_items(struct in_tail *t)
{
    struct in_tail_retry    *r = t->retry;
    struct in_tail_retry_due d = {NULL, 0, 0, lsh_now_mono_ns()};
    size_t                   i;

    lsh_hmap_each(&r->items, in_tail_retry_collect, &d);
    for (i = 0; i < d.n; i++) {
        struct in_tail_retry_item *it = d.v[i];

        if (it->kind == IN_TAIL_RETRY_OPEN) {
            in_tail_path_check(t, it->path); /* fails again: re-added */
        } else if (it->kind == IN_TAIL_RETRY_DIR) {
            in_tail_watch_dir(t, it->path);
        } else {
            in_tail_recover_under(t, it->path);
        }
        if (it->failed_tick != r->tick) {
            /* it worked, or the path is gone (nothing left to wait for) */
            if (it->kind != IN_TAIL_RETRY_OPEN ||
                in_tail_file_by_path(t, it->path) != NULL) {
                lsh_ins_info(t->ins, "'%s' can be %s now", it->path,
                             it->kind == IN_TAIL_RETRY_OPEN  ? "opened"
                             : it->kind == IN_TAIL_RETRY_DIR ? "watched"
                                                             : "searched");
            }
            in_tail_retry_item_free(r, it);
        }
    }
    free(d.v);
}

/* Polls unwatched files; tries to watch those that are due. */
static void in_tail_retry_files(struct in_tail *t)
{
    struct in_tail_retry *r = t->retry;
    int64_t               now = lsh_now_mono_ns();
    size_t                i = 0;

    while (i < r->nfiles) {
        struct in_tail_file *f = r->files[i].f;

        in_tail_file_poll(f);
        if (r->files[i].due <= now) {
            in_tail_file_watch(f); /* on success it leaves the list */
            if (i < r->nfiles && r->files[i].f != f) {
                continue; /* removed: slot i holds another file now */
            }
        }
        i++;
    }
}

static void in_tail_retry_tick(struct lsh_timer *tm)
{
    struct in_tail       *t = tm->data;
    struct in_tail_retry *r = t->retry;

    r->tick++;
    in_tail_retry_files(t);
    in_tail_retry_items(t);
    if (r->items.count == 0 && r->nfiles == 0) {
        lsh_timer_stop(t->ins->loop, &r->timer);
        lsh_ins_info(t->ins,
                     "every file and directory that had to wait for a "
                     "resource is followed now (%llu waited)",
                     (unsigned long long)r->waited);
        r->waited = 0;
        r->told_open = false;
        r->told_watch = false;
    }
}

static void in_tail_retry_free_each(struct lsh_hnode *n, void *arg)
{
    in_tail_retry_item_free(arg, (struct in_tail_retry_item *)n);
}

void in_tail_retry_pause(struct in_tail *t)
{
    if (t->retry != NULL) {
        lsh_timer_stop(t->ins->loop, &t->retry->timer);
    }
}

void in_tail_retry_stop(struct in_tail *t)
{
    struct in_tail_retry *r = t->retry;

    if (r == NULL) {
        return;
    }
    lsh_timer_stop(t->ins->loop, &r->timer);
    lsh_hmap_each(&r->items, in_tail_retry_free_each, r);
    lsh_hmap_release(&r->items);
    free(r->files);
    free(r);
    t->retry = NULL;
}
