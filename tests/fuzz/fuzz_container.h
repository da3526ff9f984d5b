/*
 * Shared body of the container fuzz targets (fuzz_docker.c, fuzz_cri.c).
 *
 * The first byte chooses max_line_bytes (1..64) and the long-line rule;
 * the rest is split into runtime lines at '\n' and fed to the joiner.
 * Checks, whatever the input:
 *   - every line either decodes or comes out raw with an error, under the
 *     same long-line rule (the raw bytes out are what the rule keeps), and
 *     the joiner counts exactly the lines that did not decode as
 *     malformed;
 *   - a record never claims to start after the line that completed it
 *     (the checkpoint may not pass its first part);
 *   - with split, the bytes that come out on each stream are exactly the
 *     bytes decoded on it: nothing lost or added;
 *   - no joined record is longer than max_line_bytes;
 *   - a pending line never starts after the line just fed.
 */
#ifndef LSH_FUZZ_CONTAINER_H
#define LSH_FUZZ_CONTAINER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctr_out {
    size_t   max_line;
    uint64_t bytes[LSH_STREAM_COUNT];
    uint64_t raw; /* bytes kept raw */
    uint64_t at;  /* start of the line being fed */
};

static void fuzz_ctr_emit(void *arg, const struct lsh_cout *o)
{
    struct fuzz_ctr_out *out = arg;

    if (o->start > out->at || o->len > out->max_line) {
        abort();
    }
    if (o->stream < 0) {
        if (o->error == NULL) {
            abort(); /* a decoding format never passes lines through */
        }
        out->raw += o->len;
        return;
    }
    if (o->len > out->max_line || o->error != NULL) {
        abort();
    }
    out->bytes[o->stream] += o->len;
}

static int fuzz_ctr_run(int format, const uint8_t *data, size_t size)
{
    struct lsh_ctr_conf conf;
    struct lsh_ctr      c;
    struct lsh_buf      scratch = LSH_BUF_INIT;
    struct fuzz_ctr_out out;
    uint64_t            want[LSH_STREAM_COUNT] = {0, 0};
    uint64_t            bad = 0;
    uint64_t            bad_bytes = 0;
    uint64_t            start;
    const char         *p;
    const char         *end;
    int                 i;

    if (size < 1) {
        return 0;
    }
    memset(&out, 0, sizeof(out));
    conf.format = format;
    conf.streams = 3;
    conf.max_line = data[0] % 64 + 1;
    conf.on_long = (data[0] >> 6) % 3; /* truncate, skip, split */
    out.max_line = conf.max_line;
    lsh_ctr_init(&c, &conf);
    p = (const char *)data + 1;
    end = (const char *)data + size;
    while (p < end) {
        const char      *nl = memchr(p, '\n', (size_t)(end - p));
        size_t           n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        uint64_t         at = (uint64_t)(p - (const char *)data);
        struct lsh_cline cl;
        const char      *err;
        int              rc;

        rc = format == LSH_CTR_DOCKER
                 ? lsh_docker_decode(p, n, &scratch, &cl, &err)
                 : lsh_cri_decode(p, n, &cl, &err);
        if (rc == LSH_OK) {
            want[cl.stream] += cl.msg.len;
        } else {
            bad++;
            /* what the long-line rule keeps of a raw line */
            bad_bytes += n <= conf.max_line               ? n
                         : conf.on_long == LSH_LONG_SKIP  ? 0
                         : conf.on_long == LSH_LONG_SPLIT ? n
                                                          : conf.max_line;
        }
        out.at = at;
        lsh_ctr_line(&c, p, n, 0, at, fuzz_ctr_emit, &out);
        if (lsh_ctr_pending_start(&c, &start) && start > at) {
            abort();
        }
        p += n + 1;
    }
    lsh_ctr_flush(&c, fuzz_ctr_emit, &out);
    if (out.raw != bad_bytes || c.s.malformed != bad) {
        abort();
    }
    for (i = 0; i < LSH_STREAM_COUNT; i++) {
        if (conf.on_long == LSH_LONG_SPLIT && out.bytes[i] != want[i]) {
            abort();
        }
        if (out.bytes[i] > want[i]) {
            abort();
        }
    }
    lsh_buf_release(&scratch);
    lsh_ctr_release(&c);
    return 0;
}

#endif
