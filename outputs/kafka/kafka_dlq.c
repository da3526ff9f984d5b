/*
 * kafka output: the dead-letter file.
 *
 * A record written here counts as delivered, so it must really be here:
 *   - in the file at the configured path: before each write the path is
 *     looked at, and the file reopened if it was moved or removed (a
 *     rotation by logrotate, an operator's rm); after the sync it is
 *     looked at again, and the record written again if the file went in
 *     between;
 *   - whole or not at all: a line is one write(2); a short one is cut
 *     back off with ftruncate(), so no fragment fuses with the next line;
 *   - on disk: fdatasync() before it counts.
 * The file is bounded: past max_bytes it is renamed to <path>.1 (the one
 * before is replaced) and a new one begun.  Each line is one JSON object:
 * time, topic, error, attempts, key, value and headers; key, value and
 * header values that are not valid UTF-8 also come as base64.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka.h"
#include "mem.h"

static void out_kafka_b64(struct lsh_buf *out, const unsigned char *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

        lsh_buf_addc(out, tbl[v >> 18]);
        lsh_buf_addc(out, tbl[(v >> 12) & 63]);
        lsh_buf_addc(out, tbl[(v >> 6) & 63]);
        lsh_buf_addc(out, tbl[v & 63]);
    }
    if (i < n) {
        uint32_t v =
            (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

        lsh_buf_addc(out, tbl[v >> 18]);
        lsh_buf_addc(out, tbl[(v >> 12) & 63]);
        lsh_buf_addc(out, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
        lsh_buf_addc(out, '=');
    }
}

static bool out_kafka_utf8(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    const unsigned char *end = s + n;
    size_t               skip;

    while (s < end) {
        size_t k = lsh_utf8_seq(s, end, &skip);

        if (k == 0) {
            return false;
        }
        s += k;
    }
    return true;
}

/* ,"name":"text" and, if it is not UTF-8, ,"name_base64":"..." */
static void out_kafka_json_bytes(struct lsh_buf *out, const char *name,
                                 const char *p, size_t n)
{
    lsh_buf_addf(out, ",\"%s\":", name);
    lsh_json_str(out, p, n);
    if (!out_kafka_utf8(p, n)) {
        lsh_buf_addf(out, ",\"%s_base64\":\"", name); /* the exact bytes */
        out_kafka_b64(out, (const unsigned char *)p, n);
        lsh_buf_addc(out, '"');
    }
}

static void out_kafka_dlq_headers(struct lsh_buf *out, rd_kafka_headers_t *h)
{
    const char *name;
    const void *val;
    size_t      len;
    size_t      i;

    if (h == NULL || rd_kafka_header_cnt(h) == 0) {
        return;
    }
    lsh_buf_adds(out, ",\"headers\":[");
    for (i = 0; rd_kafka_header_get_all(h, i, &name, &val, &len) ==
                RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        lsh_buf_adds(out, i > 0 ? ",{\"name\":" : "{\"name\":");
        lsh_json_str(out, name, strlen(name));
        if (val != NULL) {
            out_kafka_json_bytes(out, "value", val, len);
        } else {
            lsh_buf_adds(out, ",\"value\":null");
        }
        lsh_buf_addc(out, '}');
    }
    lsh_buf_addc(out, ']');
}

static void out_kafka_dlq_line(struct lsh_buf               *line,
                               const struct out_kafka_retry *r)
{
    char ts[LSH_RFC3339_MS_LEN + 1];

    lsh_time_rfc3339_ms(lsh_now_real_ns(), ts);
    lsh_buf_addf(line, "{\"time\":\"%s\",\"topic\":", ts);
    lsh_json_str(line, r->data, r->tlen);
    lsh_buf_addf(line, ",\"error\":\"%s\",\"attempts\":%u",
                 rd_kafka_err2name(r->err), r->attempts);
    if (r->has_key) {
        out_kafka_json_bytes(line, "key", r->data + r->tlen + 1, r->klen);
    }
    out_kafka_json_bytes(line, "value", r->data + r->tlen + 1 + r->klen,
                         r->vlen);
    out_kafka_dlq_headers(line, r->hdrs);
    lsh_buf_adds(line, "}\n");
}

static void out_kafka_dlq_close(struct out_kafka *ctx)
{
    if (ctx->dlq.fd >= 0) {
        close(ctx->dlq.fd);
        ctx->dlq.fd = -1;
    }
}

int out_kafka_dlq_open(struct out_kafka *ctx)
{
    const char *path = ctx->conf->dead_letter->path;
    struct stat st;

    out_kafka_dlq_close(ctx);
    ctx->dlq.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (ctx->dlq.fd < 0 || fstat(ctx->dlq.fd, &st) != 0) {
        out_kafka_dlq_close(ctx);
        return LSH_ERR;
    }
    ctx->dlq.dev = st.st_dev;
    ctx->dlq.ino = st.st_ino;
    ctx->dlq.size = st.st_size;
    return LSH_OK;
}

/* Is the file at the path still the one open? */
static bool out_kafka_dlq_here(const struct out_kafka *ctx)
{
    struct stat st;

    return ctx->dlq.fd >= 0 && stat(ctx->conf->dead_letter->path, &st) == 0 &&
           st.st_dev == ctx->dlq.dev && st.st_ino == ctx->dlq.ino;
}

/* Past max_bytes: <path> becomes <path>.1 and a new file begins. */
static int out_kafka_dlq_rotate(struct out_kafka *ctx)
{
    struct lsh_buf old = LSH_BUF_INIT;
    int            rc;

    lsh_buf_addf(&old, "%s.1", ctx->conf->dead_letter->path);
    rc = rename(ctx->conf->dead_letter->path, lsh_buf_cstr(&old));
    lsh_buf_release(&old);
    if (rc != 0) {
        return LSH_ERR;
    }
    ctx->dlq.rotations++;
    return out_kafka_dlq_open(ctx);
}

/* One attempt: the line appended whole and synced, or nothing of it. */
static int out_kafka_dlq_append(struct out_kafka *ctx, const struct lsh_buf *l)
{
    int64_t max = ctx->conf->dead_letter->max_bytes;
    off_t   at;
    ssize_t w;

    if (!out_kafka_dlq_here(ctx) && out_kafka_dlq_open(ctx) != LSH_OK) {
        return LSH_ERR;
    }
    if (max > 0 && ctx->dlq.size > 0 &&
        ctx->dlq.size + (off_t)l->len > (off_t)max &&
        out_kafka_dlq_rotate(ctx) != LSH_OK) {
        return LSH_ERR;
    }
    at = lseek(ctx->dlq.fd, 0, SEEK_END);
    do {
        w = write(ctx->dlq.fd, l->ptr, l->len);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)l->len || fdatasync(ctx->dlq.fd) != 0) {
        int saved = w >= 0 && w != (ssize_t)l->len ? ENOSPC : errno;

        if (at >= 0 && ftruncate(ctx->dlq.fd, at) != 0) {
            /* the fragment stays: a reader sees a line that does not parse */
        }
        errno = saved;
        return LSH_ERR;
    }
    ctx->dlq.size = at + (off_t)l->len;
    return LSH_OK;
}

int out_kafka_dlq_write(struct out_kafka *ctx, const struct out_kafka_retry *r)
{
    struct lsh_buf line = LSH_BUF_INIT;
    int            rc = LSH_ERR;
    int            tries;

    out_kafka_dlq_line(&line, r);
    for (tries = 0; tries < 3; tries++) {
        if (out_kafka_dlq_append(ctx, &line) != LSH_OK) {
            break;
        }
        if (out_kafka_dlq_here(ctx)) {
            rc = LSH_OK; /* on disk, in the file at the path */
            break;
        }
        /* moved or removed while it was written: write it again there */
    }
    lsh_buf_release(&line);
    if (rc == LSH_OK) {
        ctx->s.dead++;
        return LSH_OK;
    }
    ctx->s.dlq_failures++;
    if (ctx->dlq.told == 0 ||
        lsh_now_mono_ns() - ctx->dlq.told >= 60 * LSH_NS_PER_SEC) {
        ctx->dlq.told = lsh_now_mono_ns();
        lsh_ins_error(ctx->ins,
                      "cannot write dead_letter '%s': %s (%llu failures); the "
                      "record is kept, not counted as delivered, and tried "
                      "again",
                      ctx->conf->dead_letter->path,
                      tries < 3 ? strerror(errno) : "it keeps moving",
                      (unsigned long long)ctx->s.dlq_failures);
    }
    return LSH_ERR;
}

void out_kafka_dlq_release(struct out_kafka *ctx)
{
    out_kafka_dlq_close(ctx);
}
