/*
 * stdout output: writes each record as one line, for debugging and
 * piping.  A record counts as delivered once write(2) has taken it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "mem.h"
#include "plugin.h"
#include "ticket.h"

enum out_stdout_format { OUT_STDOUT_JSON, OUT_STDOUT_RAW };

struct out_stdout_conf {
    int format;
};

struct out_stdout {
    struct lsh_buf buf;
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
    (void)conf;
    ins->ctx = lsh_calloc(1, sizeof(struct out_stdout));
    return LSH_OK;
}

static int out_stdout_write(struct lsh_instance *ins, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return lsh_ins_error(ins, "write to stdout: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return LSH_OK;
}

static int out_stdout_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                            size_t *pos)
{
    const struct out_stdout_conf *conf = ins->conf;
    struct out_stdout            *ctx = ins->ctx;
    struct lsh_str                host = lsh_host();
    size_t                        i;

    lsh_buf_reset(&ctx->buf);
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
    }
    if (out_stdout_write(ins, ctx->buf.ptr, ctx->buf.len) != LSH_OK) {
        return LSH_ERR;
    }
    *pos = b->n;
    return LSH_OK;
}

static void out_stdout_exit(struct lsh_instance *ins)
{
    struct out_stdout *ctx = ins->ctx;

    if (ctx != NULL) {
        lsh_buf_release(&ctx->buf);
        free(ctx);
        ins->ctx = NULL;
    }
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
};
