/*
 * stdin input: emits the lines of standard input.  At end of input the
 * last line is emitted even without a newline, and the input finishes;
 * when every input has finished, logship waits until every record is
 * acknowledged, then exits (stdin cannot be read again, so nothing may be
 * left behind).
 *
 * The descriptor's flags are never changed: standard input may share its
 * file description with standard output (a terminal, a socket), and
 * O_NONBLOCK on one would be O_NONBLOCK on both.  Instead epoll says when
 * there is something to read, poll(2) with no timeout says whether there
 * still is, and FIONREAD how much: a read never waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mem.h"
#include "plugin.h"
#include "reader.h"

struct in_stdin_conf {
    int64_t max_line_bytes;
    int     on_long_line;
    bool    strip_cr;
};

struct in_stdin {
    struct lsh_instance *ins;
    struct lsh_io        io;
    struct lsh_reader    reader;
    bool                 polled; /* epoll watches fd 0 (not a regular file) */
};

static const char *const in_stdin_long_line[] = {"truncate", "skip", "split",
                                                 NULL};

static const struct lsh_option in_stdin_options[] = {
    {.name = "max_line_bytes",
     .type = LSH_OPT_SIZE,
     .def = "1MiB",
     .offset = offsetof(struct in_stdin_conf, max_line_bytes),
     .min = 16,
     .max = 64 * 1024 * 1024,
     .help = "Longest line kept whole; longer ones follow on_long_line."},
    {.name = "on_long_line",
     .type = LSH_OPT_ENUM,
     .def = "truncate",
     .offset = offsetof(struct in_stdin_conf, on_long_line),
     .values = in_stdin_long_line,
     .help = "truncate, skip or split, as for tail."},
    {.name = "strip_cr",
     .type = LSH_OPT_BOOL,
     .def = "false",
     .offset = offsetof(struct in_stdin_conf, strip_cr),
     .help = "Remove a '\\r' before each '\\n'."},
    {.name = NULL},
};

#define IN_STDIN_CHUNK (256 * 1024)

static void in_stdin_io(struct lsh_io *io, uint32_t events)
{
    struct in_stdin *s = io->data;

    (void)events;
    lsh_input_ready(s->ins);
}

static int in_stdin_init(struct lsh_instance *ins, const void *conf)
{
    const struct in_stdin_conf *c = conf;
    struct in_stdin            *s = lsh_calloc(1, sizeof(*s));
    struct lsh_reader_opts      ro;

    s->ins = ins;
    ins->ctx = s;
    memset(&ro, 0, sizeof(ro));
    ro.max_line = (size_t)c->max_line_bytes;
    ro.on_long = c->on_long_line;
    ro.strip_cr = c->strip_cr;
    lsh_reader_init(&s->reader, 0, &ro);
    if (fcntl(STDIN_FILENO, F_GETFL) < 0) {
        return lsh_ins_error(ins, "stdin: %s", strerror(errno));
    }
    /* epoll refuses regular files; those are always readable */
    if (lsh_io_start(ins->loop, &s->io, STDIN_FILENO, EPOLLIN, in_stdin_io,
                     s) == LSH_OK) {
        s->polled = true;
    } else if (errno != EPERM) {
        return lsh_ins_error(ins, "epoll stdin: %s", strerror(errno));
    }
    lsh_input_ready(ins);
    return LSH_OK;
}

/*
 * How much a read may ask for now without waiting: 0 if nothing is there
 * yet (epoll will say when), or IN_STDIN_CHUNK at the end of input (the
 * read then returns 0) and for regular files.
 */
static size_t in_stdin_ready(const struct in_stdin *s)
{
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    int           avail = 0;

    if (!s->polled) {
        return IN_STDIN_CHUNK;
    }
    if (poll(&pfd, 1, 0) <= 0) {
        return 0;
    }
    if (ioctl(STDIN_FILENO, FIONREAD, &avail) != 0 || avail <= 0) {
        return IN_STDIN_CHUNK; /* readable with nothing in it: the end */
    }
    return LSH_MIN((size_t)avail, (size_t)IN_STDIN_CHUNK);
}

static int in_stdin_collect(struct lsh_instance *ins)
{
    struct in_stdin *s = ins->ctx;
    struct lsh_str   path = lsh_str_make("", 0);
    int              i;

    for (i = 0; i < 16; i++) {
        int     emit_rc;
        size_t  want = in_stdin_ready(s);
        ssize_t n;

        if (want == 0) {
            return LSH_OK; /* epoll says when there is more */
        }
        n = lsh_reader_read(&s->reader, ins, STDIN_FILENO, want, path,
                            &emit_rc);
        if (n < 0 && errno == EAGAIN) {
            return LSH_OK; /* a non-blocking description of another's */
        }
        if (n < 0) {
            lsh_ins_error(ins, "read stdin: %s", strerror(errno));
        }
        if (n <= 0) {
            if (lsh_reader_finish(&s->reader, ins, path) == LSH_EAGAIN) {
                /* the last line is held by the pipeline; nothing lost */
            }
            lsh_input_done(ins);
            return LSH_OK;
        }
        if (emit_rc == LSH_EAGAIN) {
            return LSH_EAGAIN;
        }
    }
    return LSH_EAGAIN;
}

static void in_stdin_stop(struct lsh_instance *ins)
{
    struct in_stdin *s = ins->ctx;

    if (s != NULL && s->polled) {
        lsh_io_stop(ins->loop, &s->io);
    }
}

static void in_stdin_exit(struct lsh_instance *ins)
{
    struct in_stdin *s = ins->ctx;

    if (s == NULL) {
        return;
    }
    if (s->polled) {
        lsh_io_stop(ins->loop, &s->io);
    }
    lsh_reader_release(&s->reader);
    free(s);
    ins->ctx = NULL;
}

const struct lsh_plugin in_stdin_plugin = {
    .name = "stdin",
    .description = "Reads lines from standard input; logship exits after "
                   "delivering them once every input has finished.",
    .kind = LSH_PLUGIN_INPUT,
    .options = in_stdin_options,
    .conf_size = sizeof(struct in_stdin_conf),
    .init = in_stdin_init,
    .collect = in_stdin_collect,
    .stop = in_stdin_stop,
    .exit = in_stdin_exit,
};
