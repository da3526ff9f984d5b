/*
 * stdout output: writes each record as one line, for debugging and
 * piping.  A batch counts as delivered once write(2) has taken all of it.
 *
 * A write never waits, whatever standard output is: the event loop (the
 * HTTP API, Kafka's delivery reports) must go on while a reader is slow.
 * Its flags are never changed (the description may be shared with a
 * terminal or a socket, where O_NONBLOCK would reach the other end too).
 * A pipe or a terminal is opened again through /proc/self/fd/1, which
 * gives a description of its own, non-blocking; a socket is sent to with
 * MSG_DONTWAIT; a file or /dev/null never waits.  Where /proc cannot
 * reopen it, a pipe or terminal takes at most PIPE_BUF bytes a write once
 * poll(2) says it is writable (a pipe then has a free page: the write
 * fits).  When it can take nothing, what
 * was not written yet is kept, byte for byte, flush() returns LSH_EAGAIN
 * (the pipeline stops reading: back pressure), and epoll says when it can
 * be written; nothing is written twice or lost.  A real write
 * error (a full disk, a closed pipe) makes flush() fail: the engine keeps
 * the batch unacknowledged and gives it again later, and the bytes still
 * kept are written first then.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "mem.h"
#include "plugin.h"
#include "ticket.h"

enum out_stdout_format { OUT_STDOUT_JSON, OUT_STDOUT_RAW };

struct out_stdout_conf {
    int format;
};

/* What standard output is, as far as waiting goes. */
enum out_stdout_kind {
    OUT_STDOUT_FILE,   /* a file, /dev/null: never waits */
    OUT_STDOUT_OWN,    /* reopened non-blocking (a pipe, a terminal) */
    OUT_STDOUT_SOCKET, /* MSG_DONTWAIT */
    OUT_STDOUT_POLL,   /* a pipe or terminal /proc could not reopen */
};

struct out_stdout {
    struct lsh_instance *ins;
    enum out_stdout_kind kind;
    int                  fd;   /* STDOUT_FILENO, or our own description */
    struct lsh_buf       buf;  /* the batch's lines */
    size_t               sent; /* of them, already written */
    struct lsh_io        io;   /* waiting for writability */
    struct lsh_timer     retry;
    uint64_t             waits; /* times stdout was full */
    uint64_t             kept;  /* records in buf */
    uint64_t             delivered;
    uint64_t             failures;
};

static const char *const out_stdout_formats[] = {"json", "raw", NULL};

static const struct lsh_option out_stdout_options[] = {
    {.name = "format",
     .type = LSH_OPT_ENUM,
     .def = "json",
     .offset = offsetof(struct out_stdout_conf, format),
     .values = out_stdout_formats,
     .help = "json: one JSON object per line; raw: the body exactly as "
             "read."},
    {.name = NULL},
};

static int out_stdout_init(struct lsh_instance *ins, const void *conf)
{
    struct out_stdout *ctx = lsh_calloc(1, sizeof(*ctx));
    struct stat        st;

    (void)conf;
    ctx->ins = ins;
    ins->ctx = ctx;
    ctx->kind = OUT_STDOUT_FILE;
    ctx->fd = STDOUT_FILENO;
    if (fstat(STDOUT_FILENO, &st) != 0) {
        return LSH_OK;
    }
    if (S_ISSOCK(st.st_mode)) {
        ctx->kind = OUT_STDOUT_SOCKET;
    } else if (S_ISFIFO(st.st_mode) ||
               (S_ISCHR(st.st_mode) && isatty(STDOUT_FILENO))) {
        ctx->fd = open("/proc/self/fd/1",
                       O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        ctx->kind = ctx->fd >= 0 ? OUT_STDOUT_OWN : OUT_STDOUT_POLL;
        if (ctx->fd < 0) {
            ctx->fd = STDOUT_FILENO;
        }
    }
    return LSH_OK;
}

/* How much of n bytes stdout takes now without waiting; 0: none. */
static size_t out_stdout_room(const struct out_stdout *ctx, size_t n)
{
    struct pollfd p = {.fd = ctx->fd, .events = POLLOUT};

    if (ctx->kind != OUT_STDOUT_POLL) {
        return n; /* non-blocking, MSG_DONTWAIT, or never waits */
    }
    if (poll(&p, 1, 0) != 1) {
        return 0;
    }
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        return n; /* the write says what is wrong (EPIPE) */
    }
    return LSH_MIN(n, (size_t)PIPE_BUF); /* POLLOUT: a free page */
}

static ssize_t out_stdout_write(const struct out_stdout *ctx, const char *p,
                                size_t n)
{
    if (ctx->kind == OUT_STDOUT_SOCKET) {
        return send(STDOUT_FILENO, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    n = out_stdout_room(ctx, n);
    if (n == 0) {
        errno = EAGAIN;
        return -1;
    }
    return write(ctx->fd, p, n);
}

static void out_stdout_writable(struct lsh_io *io, uint32_t events)
{
    struct out_stdout *ctx = io->data;

    (void)events;
    lsh_io_stop(ctx->ins->loop, &ctx->io);
    lsh_output_wake(ctx->ins);
}

static void out_stdout_retry(struct lsh_timer *t)
{
    struct out_stdout *ctx = t->data;

    lsh_output_wake(ctx->ins);
}

/* Waits for stdout to take more: epoll, or a timer where epoll cannot. */
static int out_stdout_wait(struct out_stdout *ctx)
{
    ctx->waits++;
    if (!ctx->io.active &&
        lsh_io_start(ctx->ins->loop, &ctx->io, ctx->fd, EPOLLOUT,
                     out_stdout_writable, ctx) != LSH_OK) {
        lsh_timer_start(ctx->ins->loop, &ctx->retry, 10, 0, out_stdout_retry,
                        ctx);
    }
    return LSH_EAGAIN;
}

/* Writes what is kept; LSH_OK once all of it is, else EAGAIN or ERR. */
static int out_stdout_drain(struct out_stdout *ctx)
{
    while (ctx->sent < ctx->buf.len) {
        ssize_t w = out_stdout_write(ctx, ctx->buf.ptr + ctx->sent,
                                     ctx->buf.len - ctx->sent);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return out_stdout_wait(ctx);
        }
        if (w < 0) {
            ctx->failures++;
            lsh_ins_fault(ctx->ins, "write to stdout: %s", strerror(errno));
            return lsh_ins_error(ctx->ins, "write to stdout: %s",
                                 strerror(errno));
        }
        ctx->sent += (size_t)w;
    }
    lsh_buf_reset(&ctx->buf);
    ctx->sent = 0;
    ctx->delivered += ctx->kept;
    ctx->kept = 0;
    return LSH_OK;
}

static int out_stdout_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                            size_t *pos)
{
    const struct out_stdout_conf *conf = ins->conf;
    struct out_stdout            *ctx = ins->ctx;
    struct lsh_str                host = lsh_host();
    size_t                        i;

    if (*pos < b->n) {
        /* a new batch (the last one's bytes were all written first) */
        for (i = *pos; i < b->n; i++) {
            const struct lsh_record *r = &b->recs[i];

            if (r->flags & LSH_REC_DROPPED) {
                continue;
            }
            if (conf->format == OUT_STDOUT_RAW) {
                lsh_buf_add(&ctx->buf, r->body.ptr, r->body.len);
            } else {
                lsh_json_record(&ctx->buf, b, r, host);
            }
            lsh_buf_addc(&ctx->buf, '\n');
            ctx->kept++;
        }
        /* taken into our buffer; the batch stays held until written */
        *pos = b->n;
    }
    return out_stdout_drain(ctx);
}

static void out_stdout_exit(struct lsh_instance *ins)
{
    struct out_stdout *ctx = ins->ctx;

    if (ctx == NULL) {
        return;
    }
    if (ctx->io.active) {
        lsh_io_stop(ins->loop, &ctx->io);
    }
    lsh_timer_stop(ins->loop, &ctx->retry);
    if (ctx->buf.len > ctx->sent) {
        lsh_ins_warn(ins,
                     "%zu bytes not written to stdout at exit (their records "
                     "are not acknowledged)",
                     ctx->buf.len - ctx->sent);
    }
    if (ctx->waits > 0) {
        lsh_ins_info(ins, "stdout was full %llu times (waited for it)",
                     (unsigned long long)ctx->waits);
    }
    if (ctx->fd != STDOUT_FILENO) {
        close(ctx->fd);
    }
    lsh_buf_release(&ctx->buf);
    free(ctx);
    ins->ctx = NULL;
}

static void out_stdout_counts(struct lsh_instance      *ins,
                              struct lsh_output_counts *c)
{
    const struct out_stdout *ctx = ins->ctx;

    c->delivered = ctx->delivered;
    c->failures = ctx->failures;
    c->inflight = ctx->kept;
    c->inflight_bytes = ctx->buf.len - ctx->sent;
}

const struct lsh_plugin out_stdout_plugin = {
    .name = "stdout",
    .description = "Writes records to standard output, one per line.",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = out_stdout_options,
    .conf_size = sizeof(struct out_stdout_conf),
    .init = out_stdout_init,
    .flush = out_stdout_flush,
    .exit = out_stdout_exit,
    .counts = out_stdout_counts,
};
