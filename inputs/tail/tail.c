/*
 * tail input: follows files and emits their lines.
 *
 * Files matching the configured globs when logship starts are followed;
 * inotify reports appends, so nothing is polled.  A partial last line
 * waits for its newline.
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "mem.h"
#include "tail.h"

static const char *const in_tail_read_from[] = {"head", "tail", NULL};
static const char *const in_tail_long_line[] = {"truncate", "skip", "split",
                                                NULL};

static const struct lsh_option in_tail_options[] = {
    {.name = "paths",
     .type = LSH_OPT_STRLIST,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct in_tail_conf, paths),
     .help = "Files to follow: paths or globs (* ? [...])."},
    {.name = "read_from",
     .type = LSH_OPT_ENUM,
     .def = "head",
     .offset = offsetof(struct in_tail_conf, read_from),
     .values = in_tail_read_from,
     .help = "Where a file with no checkpoint starts: head (its first "
             "byte) or tail (after its last complete line)."},
    {.name = "max_line_bytes",
     .type = LSH_OPT_SIZE,
     .def = "1MiB",
     .offset = offsetof(struct in_tail_conf, max_line_bytes),
     .min = 16,
     .max = 64 * 1024 * 1024,
     .help = "Longest line kept whole; longer ones follow on_long_line."},
    {.name = "on_long_line",
     .type = LSH_OPT_ENUM,
     .def = "truncate",
     .offset = offsetof(struct in_tail_conf, on_long_line),
     .values = in_tail_long_line,
     .help = "truncate: keep the first max_line_bytes; skip: drop the "
             "line; split: emit it in max_line_bytes pieces. Each is "
             "counted."},
    {.name = "strip_cr",
     .type = LSH_OPT_BOOL,
     .def = "false",
     .offset = offsetof(struct in_tail_conf, strip_cr),
     .help = "Remove a '\\r' before each '\\n' (CRLF files)."},
    {.name = "read_chunk",
     .type = LSH_OPT_SIZE,
     .def = "256KiB",
     .offset = offsetof(struct in_tail_conf, read_chunk),
     .min = 4096,
     .max = 16 * 1024 * 1024,
     .help = "Bytes asked of each read(2)."},
    {.name = NULL},
};

static struct in_tail_file *in_tail_find_wd(struct in_tail *t, int wd)
{
    struct in_tail_file *f;

    for (f = t->files; f != NULL; f = f->next) {
        if (f->wd == wd) {
            return f;
        }
    }
    return NULL;
}

static void in_tail_inotify(struct lsh_io *io, uint32_t events)
{
    struct in_tail *t = io->data;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    (void)events;
    while ((n = read(t->ifd, buf, sizeof(buf))) > 0) {
        char *p = buf;

        while (p < buf + n) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            struct in_tail_file        *f;

            if (ev->mask & IN_Q_OVERFLOW) {
                for (f = t->files; f != NULL; f = f->next) {
                    f->readable = true;
                }
            } else if ((f = in_tail_find_wd(t, ev->wd)) != NULL) {
                f->readable = true;
            }
            p += sizeof(*ev) + ev->len;
        }
    }
    lsh_input_ready(t->ins);
}

static int in_tail_expand(struct in_tail *t, const char *pattern)
{
    glob_t g;
    size_t i;
    int    rc = glob(pattern, GLOB_NOSORT | GLOB_BRACE, NULL, &g);

    if (rc == GLOB_NOMATCH) {
        lsh_ins_warn(t->ins, "no file matches '%s'", pattern);
        return LSH_OK;
    }
    if (rc != 0) {
        return lsh_ins_error(t->ins, "cannot expand '%s'", pattern);
    }
    for (i = 0; i < g.gl_pathc; i++) {
        in_tail_file_open(t, g.gl_pathv[i]);
    }
    globfree(&g);
    return LSH_OK;
}

static int in_tail_init(struct lsh_instance *ins, const void *conf)
{
    const struct in_tail_conf *c = conf;
    struct in_tail            *t = lsh_calloc(1, sizeof(*t));
    size_t                     i;

    t->ins = ins;
    t->conf = c;
    ins->ctx = t;
    t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->ifd < 0) {
        return lsh_ins_error(ins, "inotify_init1: %s", strerror(errno));
    }
    if (lsh_io_start(ins->loop, &t->io, t->ifd, EPOLLIN, in_tail_inotify, t) !=
        LSH_OK) {
        return lsh_ins_error(ins, "epoll: %s", strerror(errno));
    }
    for (i = 0; i < c->paths.n; i++) {
        if (in_tail_expand(t, c->paths.v[i]) != LSH_OK) {
            return LSH_ERR;
        }
    }
    lsh_input_ready(ins);
    return LSH_OK;
}

/*
 * Reads every readable file, within a byte budget per call so that the
 * loop keeps serving delivery reports.  The next call starts after the
 * file where this one stopped, so a busy file cannot starve the others.
 */
static int in_tail_collect(struct lsh_instance *ins)
{
    struct in_tail      *t = ins->ctx;
    struct in_tail_file *start = t->cursor ? t->cursor : t->files;
    struct in_tail_file *f = start;
    size_t               budget = 16 * (size_t)t->conf->read_chunk;

    t->cursor = NULL;
    if (f == NULL) {
        return LSH_OK;
    }
    do {
        if (in_tail_file_collect(f, &budget) == LSH_EAGAIN) {
            t->cursor = f->next;
            return LSH_EAGAIN;
        }
        f = f->next ? f->next : t->files;
    } while (f != start);
    return LSH_OK;
}

static void in_tail_stop(struct lsh_instance *ins)
{
    struct in_tail *t = ins->ctx;

    if (t != NULL && t->ifd >= 0) {
        lsh_io_stop(ins->loop, &t->io);
    }
}

static void in_tail_exit(struct lsh_instance *ins)
{
    struct in_tail *t = ins->ctx;

    if (t == NULL) {
        return;
    }
    while (t->files != NULL) {
        struct in_tail_file *f = t->files;

        t->files = f->next;
        in_tail_file_close(f);
    }
    if (t->ifd >= 0) {
        lsh_io_stop(ins->loop, &t->io);
        close(t->ifd);
    }
    free(t);
    ins->ctx = NULL;
}

const struct lsh_plugin in_tail_plugin = {
    .name = "tail",
    .description = "Follows files and emits each line as a record.",
    .kind = LSH_PLUGIN_INPUT,
    .options = in_tail_options,
    .conf_size = sizeof(struct in_tail_conf),
    .init = in_tail_init,
    .collect = in_tail_collect,
    .stop = in_tail_stop,
    .exit = in_tail_exit,
};
