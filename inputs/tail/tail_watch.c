/*
 * tail input: inotify.
 *
 * Directories are watched where a glob may match (from each glob's root
 * down, "**" included), or, while a root does not exist yet, at its
 * nearest existing ancestor.  The directory holding a symlink's target is
 * watched too, so that a runtime replacing the target (rotating 0.log)
 * is seen.  Any event for a name in a watched directory makes logship
 * look at that path again (in_tail_path_check), which opens new files,
 * attaches renamed ones, and detaches files that are no longer there.
 * Events on an open file's own watch go to tail_file.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "tail.h"

#define IN_TAIL_DIR_MASK                                               \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

static bool in_tail_dir_eq_wd(const struct lsh_hnode *n, const void *key)
{
    const struct in_tail_dir *d = (const void *)n;

    return d->wd == *(const int *)key;
}

static bool in_tail_dir_eq_path(const struct lsh_hnode *n, const void *key)
{
    const struct in_tail_dir *d =
        (const void *)((const char *)n - offsetof(struct in_tail_dir, by_path));

    return strcmp(d->path, key) == 0;
}

static struct in_tail_dir *in_tail_dir_by_wd(struct in_tail *t, int wd)
{
    return (struct in_tail_dir *)lsh_hmap_find(
        &t->dirs_by_wd, lsh_hash_u64((uint64_t)wd), in_tail_dir_eq_wd, &wd);
}

static struct in_tail_dir *in_tail_dir_by_path(struct in_tail *t,
                                               const char     *path)
{
    struct lsh_hnode *n =
        lsh_hmap_find(&t->dirs_by_path, lsh_hash_bytes(path, strlen(path)),
                      in_tail_dir_eq_path, path);

    return n ? (struct in_tail_dir *)((char *)n -
                                      offsetof(struct in_tail_dir, by_path))
             : NULL;
}

/*
 * A directory that cannot be watched for want of a resource is tried again
 * (tail_retry.c); other failures are logged once, later ones (every poll)
 * only at debug level.
 */
static void in_tail_watch_error(struct in_tail *t, const char *path, int err)
{
    int level;

    if (err == ENOENT || err == ENOTDIR) {
        return;
    }
    if (in_tail_retry_resource(err)) {
        in_tail_retry_dir(t, path, err);
        return;
    }
    level = t->c.watch_errors++ == 0 ? LSH_LOG_ERROR : LSH_LOG_DEBUG;
    lsh_log(level, t->ins->name,
            "cannot watch '%s': %s; without a watch, changes there are "
            "seen only with poll_interval",
            path, strerror(err));
}

/* Watches directory path (once); returns it or NULL. */
static struct in_tail_dir *in_tail_dir_add(struct in_tail *t, const char *path)
{
    struct in_tail_dir *d = in_tail_dir_by_path(t, path);
    int                 wd;

    if (d != NULL) {
        return d;
    }
    wd = inotify_add_watch(t->ifd, path, IN_TAIL_DIR_MASK);
    if (wd < 0) {
        in_tail_watch_error(t, path, errno);
        return NULL;
    }
    if (in_tail_dir_by_wd(t, wd) != NULL) {
        return in_tail_dir_by_wd(t, wd); /* the same directory, another name */
    }
    d = lsh_calloc(1, sizeof(*d));
    d->path = lsh_strdup(path);
    d->wd = wd;
    lsh_hmap_insert(&t->dirs_by_wd, &d->by_wd, lsh_hash_u64((uint64_t)wd));
    lsh_hmap_insert(&t->dirs_by_path, &d->by_path,
                    lsh_hash_bytes(path, strlen(path)));
    lsh_ins_debug(t->ins, "watching directory '%s'", path);
    return d;
}

static void in_tail_dir_free(struct in_tail *t, struct in_tail_dir *d,
                             bool rm_watch)
{
    if (rm_watch) {
        inotify_rm_watch(t->ifd, d->wd);
    }
    lsh_hmap_remove(&t->dirs_by_wd, &d->by_wd);
    lsh_hmap_remove(&t->dirs_by_path, &d->by_path);
    free(d->path);
    free(d);
}

static void in_tail_join(char *out, size_t cap, const char *dir,
                         const char *name)
{
    snprintf(out, cap, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
}

/* Watches dir and looks at everything in it that a glob may want. */
static void in_tail_scan_dir(struct in_tail *t, const char *dir, int depth)
{
    DIR           *dh;
    struct dirent *de;
    char           path[PATH_MAX];

    if (depth > 64) {
        return;
    }
    in_tail_dir_add(t, dir); /* without a watch, still list it (polling) */
    dh = opendir(dir);
    if (dh == NULL) {
        if (in_tail_retry_resource(errno)) {
            in_tail_retry_dir(t, dir, errno);
        } else if (errno != ENOENT) {
            lsh_ins_warn(t->ins, "cannot list '%s': %s", dir, strerror(errno));
        }
        return;
    }
    while ((de = readdir(dh)) != NULL) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        in_tail_join(path, sizeof(path), dir, de->d_name);
        if (de->d_type == DT_DIR ||
            (de->d_type == DT_UNKNOWN && lstat(path, &st) == 0 &&
             S_ISDIR(st.st_mode))) {
            /* symlinks to directories are not followed: no loops */
            if (in_tail_wanted_dir(t, path)) {
                in_tail_scan_dir(t, path, depth + 1);
            }
        } else if (in_tail_wanted(t, path)) {
            in_tail_path_check(t, path);
        }
    }
    closedir(dh);
}

void in_tail_watch_dir(struct in_tail *t, const char *path)
{
    in_tail_scan_dir(t, path, 0);
}

/*
 * Starts watching for glob g: from its root if the root exists, else
 * from the nearest existing ancestor, until the root appears.
 */
static void in_tail_watch_root(struct in_tail *t, const struct in_tail_glob *g)
{
    char        dir[PATH_MAX];
    struct stat st;

    snprintf(dir, sizeof(dir), "%s", g->root);
    while (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');

        if (slash == NULL || slash == dir) {
            snprintf(dir, sizeof(dir), "/");
            break;
        }
        *slash = '\0';
    }
    if (strcmp(dir, g->root) == 0) {
        in_tail_scan_dir(t, dir, 0);
    } else {
        lsh_ins_debug(t->ins, "'%s' does not exist yet; watching '%s'", g->root,
                      dir);
        in_tail_dir_add(t, dir);
    }
}

/* --- symlinks ----------------------------------------------------------- */

static bool in_tail_link_eq(const struct lsh_hnode *n, const void *key)
{
    const struct in_tail_link *l = (const void *)n;

    return strcmp(l->path, key) == 0;
}

static struct in_tail_link *in_tail_link_find(struct in_tail *t,
                                              const char     *path)
{
    return (struct in_tail_link *)lsh_hmap_find(
        &t->links_by_path, lsh_hash_bytes(path, strlen(path)), in_tail_link_eq,
        path);
}

void in_tail_link_forget(struct in_tail *t, const char *path)
{
    struct in_tail_link *l = in_tail_link_find(t, path);

    if (l == NULL) {
        return;
    }
    lsh_hmap_remove(&t->links_by_path, &l->by_path);
    free(l->path);
    free(l->target);
    free(l);
}

/*
 * Where symlink path points, as an absolute path, even when the target
 * does not exist (a runtime is replacing it): its directory is resolved,
 * its name kept.
 */
bool in_tail_link_target(const char *path, char *out)
{
    char    link[PATH_MAX];
    char    joined[PATH_MAX];
    char    dir[PATH_MAX];
    char    rdir[PATH_MAX];
    ssize_t n;

    if (realpath(path, out) != NULL) {
        return true;
    }
    n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0) {
        return false;
    }
    link[n] = '\0';
    if (link[0] == '/') {
        snprintf(joined, sizeof(joined), "%s", link);
    } else {
        snprintf(dir, sizeof(dir), "%s", path);
        if (snprintf(joined, sizeof(joined), "%s/%s", dirname(dir), link) >=
            (int)sizeof(joined)) {
            return false;
        }
    }
    snprintf(dir, sizeof(dir), "%s", joined);
    if (realpath(dirname(dir), rdir) == NULL) {
        return false;
    }
    snprintf(dir, sizeof(dir), "%s", joined);
    return snprintf(out, PATH_MAX, "%s/%s", strcmp(rdir, "/") ? rdir : "",
                    basename(dir)) < PATH_MAX;
}

/* Notes that path is a symlink and watches its target's directory. */
static void in_tail_link_note(struct in_tail *t, const char *path)
{
    char                 real[PATH_MAX];
    char                 dir[PATH_MAX];
    struct in_tail_link *l;

    if (!in_tail_link_target(path, real)) {
        return;
    }
    l = in_tail_link_find(t, path);
    if (l != NULL && strcmp(l->target, real) == 0) {
        return;
    }
    in_tail_link_forget(t, path);
    l = lsh_calloc(1, sizeof(*l));
    l->path = lsh_strdup(path);
    l->target = lsh_strdup(real);
    lsh_hmap_insert(&t->links_by_path, &l->by_path,
                    lsh_hash_bytes(path, strlen(path)));
    snprintf(dir, sizeof(dir), "%s", real);
    in_tail_dir_add(t, dirname(dir));
}

struct in_tail_link_visit {
    struct in_tail *t;
    const char     *target;
    char          **paths;
    size_t          n;
    size_t          cap;
};

static void in_tail_link_collect(struct lsh_hnode *n, void *arg)
{
    struct in_tail_link       *l = (struct in_tail_link *)n;
    struct in_tail_link_visit *v = arg;

    if (strcmp(l->target, v->target) == 0) {
        LSH_GROW(v->paths, v->cap, v->n + 1);
        v->paths[v->n++] = lsh_strdup(l->path);
    }
}

/* Something happened to target: look again at the links pointing to it. */
static void in_tail_links_check(struct in_tail *t, const char *target)
{
    struct in_tail_link_visit v = {t, target, NULL, 0, 0};
    size_t                    i;

    if (t->links_by_path.count == 0) {
        return;
    }
    lsh_hmap_each(&t->links_by_path, in_tail_link_collect, &v);
    for (i = 0; i < v.n; i++) {
        in_tail_path_check(t, v.paths[i]);
        free(v.paths[i]);
    }
    free(v.paths);
}

/* --- looking at a path -------------------------------------------------- */

void in_tail_path_check(struct in_tail *t, const char *path)
{
    struct in_tail_file *cur = in_tail_file_by_path(t, path);
    struct in_tail_file *f;
    struct stat          st;
    struct stat          lst;
    int                  fd;

    if (t->stopped) {
        return;
    }
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && cur != NULL &&
        cur->dev == st.st_dev && cur->ino == st.st_ino) {
        return; /* still the same file */
    }
    fd = in_tail_open(path);
    if (fd < 0 && in_tail_retry_resource(errno)) {
        in_tail_retry_open(t, path, errno); /* nothing else would retry */
        return;
    }
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            close(fd);
        }
        if (cur != NULL) {
            in_tail_file_detach(cur);
        }
        /* a dangling symlink stays noted: its target may come back */
        if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            in_tail_link_note(t, path);
        } else {
            in_tail_link_forget(t, path);
        }
        return;
    }
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        in_tail_link_note(t, path);
    } else {
        in_tail_link_forget(t, path);
    }
    if (cur != NULL) {
        in_tail_file_detach(cur); /* another file is at the path now */
    }
    f = in_tail_file_by_id(t, st.st_dev, st.st_ino);
    if (f == NULL && in_tail_followed_elsewhere(t, st.st_dev, st.st_ino)) {
        close(fd);
        if (t->c.followed_elsewhere++ == 0) {
            lsh_ins_info(t->ins,
                         "'%s' is followed by another input of this pipeline "
                         "already (their paths overlap); each file is "
                         "followed once",
                         path);
        }
        return;
    }
    if (f == NULL) {
        in_tail_file_open(t, path, fd, &st, true);
        return;
    }
    close(fd);
    if (f->attached) {
        struct stat other;

        if (stat(f->path, &other) == 0 && other.st_dev == f->dev &&
            other.st_ino == f->ino) {
            lsh_ins_debug(t->ins,
                          "'%s' is the same file as '%s'; followed once", path,
                          f->path);
            return;
        }
    }
    /* renamed within the watched set: it keeps its progress */
    lsh_ins_info(t->ins, "'%s' is now '%s'", f->path, path);
    in_tail_file_attach(f, path);
}

/* --- events ------------------------------------------------------------- */

static void in_tail_forget_tree(struct lsh_hnode *n, void *arg)
{
    struct in_tail_dir *d =
        (struct in_tail_dir *)((char *)n -
                               offsetof(struct in_tail_dir, by_path));
    void          **a = arg;
    struct in_tail *t = a[0];
    const char     *prefix = a[1];
    size_t          pl = strlen(prefix);

    if (strncmp(d->path, prefix, pl) == 0 &&
        (d->path[pl] == '/' || d->path[pl] == '\0')) {
        in_tail_dir_free(t, d, true);
    }
}

struct in_tail_path_list {
    char      **v;
    size_t      n;
    size_t      cap;
    const char *prefix;
};

static void in_tail_files_below(struct lsh_hnode *n, void *arg)
{
    struct in_tail_file *f =
        (struct in_tail_file *)((char *)n -
                                offsetof(struct in_tail_file, by_path));
    struct in_tail_path_list *l = arg;
    size_t                    pl = strlen(l->prefix);

    if (strncmp(f->path, l->prefix, pl) == 0 && f->path[pl] == '/') {
        LSH_GROW(l->v, l->cap, l->n + 1);
        l->v[l->n++] = lsh_strdup(f->path);
    }
}

/* A directory moved away: forget its watches and look at its files. */
static void in_tail_dir_gone(struct in_tail *t, const char *path)
{
    void                    *a[2] = {t, (void *)path};
    struct in_tail_path_list l = {NULL, 0, 0, path};
    size_t                   i;

    lsh_hmap_each(&t->dirs_by_path, in_tail_forget_tree, a);
    lsh_hmap_each(&t->files_by_path, in_tail_files_below, &l);
    for (i = 0; i < l.n; i++) {
        in_tail_path_check(t, l.v[i]);
        free(l.v[i]);
    }
    free(l.v);
}

static void in_tail_dir_event(struct in_tail *t, struct in_tail_dir *d,
                              const struct inotify_event *ev)
{
    char path[PATH_MAX];
    int  i;

    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        char *gone = lsh_strdup(d->path);

        size_t gl = strlen(gone);

        in_tail_dir_free(t, d, (ev->mask & IN_IGNORED) == 0);
        in_tail_dir_gone(t, gone);
        /* a root at or below it has gone: watch its ancestors until back */
        for (i = 0; i < (int)t->nglobs; i++) {
            const char *root = t->globs[i].root;

            if (strncmp(root, gone, gl) == 0 &&
                (root[gl] == '\0' || root[gl] == '/' || gl == 1)) {
                in_tail_watch_root(t, &t->globs[i]);
            }
        }
        free(gone);
        return;
    }
    if (ev->len == 0) {
        return;
    }
    in_tail_join(path, sizeof(path), d->path, ev->name);
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            if (in_tail_wanted_dir(t, path)) {
                in_tail_scan_dir(t, path, 0);
                /* rotations of checkpointed files may have come with it */
                in_tail_recover_under(t, path);
            }
        } else if (ev->mask & IN_MOVED_FROM) {
            in_tail_dir_gone(t, path);
        }
        return;
    }
    if ((ev->mask & IN_MOVED_TO) && t->moved_from != NULL &&
        ev->cookie == t->moved_cookie && !in_tail_wanted(t, path)) {
        in_tail_moved_away(t, t->moved_from, path);
    }
    if (ev->mask & IN_MOVED_FROM) {
        free(t->moved_from);
        t->moved_from = NULL;
        if (in_tail_wanted(t, path)) {
            t->moved_from = lsh_strdup(path);
            t->moved_cookie = ev->cookie;
        }
    }
    if (in_tail_wanted(t, path) || in_tail_file_by_path(t, path) != NULL) {
        in_tail_path_check(t, path);
    }
    in_tail_links_check(t, path);
}

/*
 * A file at a wanted path was renamed to a path no glob wants (rotation)
 * before logship looked at it: follow it anyway, as a rotated file, so
 * that what was written to it is not lost.
 */
void in_tail_moved_away(struct in_tail *t, const char *from, const char *to)
{
    struct stat st;
    int         fd = in_tail_open(to);

    if (fd < 0) {
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        in_tail_file_by_id(t, st.st_dev, st.st_ino) != NULL ||
        in_tail_followed_elsewhere(t, st.st_dev, st.st_ino) != NULL) {
        close(fd); /* followed already (the usual case) */
        return;
    }
    in_tail_file_open(t, from, fd, &st, false);
}

static void in_tail_event(struct in_tail *t, const struct inotify_event *ev)
{
    struct in_tail_file *f;
    struct in_tail_dir  *d;

    if (ev->mask & IN_Q_OVERFLOW) {
        t->c.overflows++;
        lsh_ins_warn(t->ins, "inotify queue overflowed; looking at every "
                             "path again");
        in_tail_rescan(t);
        return;
    }
    f = in_tail_file_by_wd(t, ev->wd);
    if (f != NULL) {
        in_tail_file_event(f, ev->mask);
        return;
    }
    d = in_tail_dir_by_wd(t, ev->wd);
    if (d != NULL) {
        in_tail_dir_event(t, d, ev);
    }
}

static void in_tail_inotify(struct lsh_io *io, uint32_t events)
{
    struct in_tail *t = io->data;
    char            buf[64 * 1024]
        __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    (void)events;
    while ((n = read(t->ifd, buf, sizeof(buf))) > 0) {
        char *p = buf;

        while (p < buf + n) {
            const struct inotify_event *ev = (const struct inotify_event *)p;

            in_tail_event(t, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

/* --- start, stop, rescan ------------------------------------------------- */

static void in_tail_recheck_file(struct lsh_hnode *n, void *arg)
{
    struct in_tail_file *f =
        (struct in_tail_file *)((char *)n -
                                offsetof(struct in_tail_file, by_path));
    struct in_tail_path_list *l = arg;

    LSH_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = lsh_strdup(f->path);
}

void in_tail_rescan(struct in_tail *t)
{
    struct in_tail_path_list l = {NULL, 0, 0, NULL};
    struct in_tail_file     *f;
    size_t                   i;

    for (i = 0; i < t->nglobs; i++) {
        in_tail_watch_root(t, &t->globs[i]);
    }
    lsh_hmap_each(&t->files_by_path, in_tail_recheck_file, &l);
    for (i = 0; i < l.n; i++) {
        in_tail_path_check(t, l.v[i]);
        free(l.v[i]);
    }
    free(l.v);
    for (f = t->all; f != NULL; f = f->lnext) {
        in_tail_file_poll(f);
    }
}

int in_tail_watch_start(struct in_tail *t)
{
    size_t i;

    t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->ifd < 0) {
        return lsh_ins_error(
            t->ins, "inotify_init1: %s%s", strerror(errno),
            errno == EMFILE ? " (raise fs.inotify.max_user_instances)" : "");
    }
    if (lsh_io_start(t->ins->loop, &t->io, t->ifd, EPOLLIN, in_tail_inotify,
                     t) != LSH_OK) {
        return lsh_ins_error(t->ins, "epoll: %s", strerror(errno));
    }
    t->starting = true;
    in_tail_gone_begin(t);
    for (i = 0; i < t->nglobs; i++) {
        in_tail_watch_root(t, &t->globs[i]);
    }
    in_tail_recover(t);
    in_tail_gone_end(t);
    t->starting = false;
    return LSH_OK;
}

static void in_tail_dir_free_each(struct lsh_hnode *n, void *arg)
{
    in_tail_dir_free(arg, (struct in_tail_dir *)n, false);
}

static void in_tail_link_free_each(struct lsh_hnode *n, void *arg)
{
    in_tail_link_forget(arg, ((struct in_tail_link *)n)->path);
}

void in_tail_watch_stop(struct in_tail *t)
{
    free(t->moved_from);
    t->moved_from = NULL;
    if (t->ifd >= 0) {
        lsh_io_stop(t->ins->loop, &t->io);
        close(t->ifd);
        t->ifd = -1;
    }
    lsh_hmap_each(&t->dirs_by_wd, in_tail_dir_free_each, t);
    lsh_hmap_each(&t->links_by_path, in_tail_link_free_each, t);
}
