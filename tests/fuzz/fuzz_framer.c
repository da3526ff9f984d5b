/*
 * Fuzz target: line framing.  The first bytes choose max_line, the mode,
 * strip_cr and the read size; the rest is the stream, fed like a reader
 * feeds it.  Checks the framer's promises: it never consumes more than
 * it was given, never keeps more than max_line (+1) bytes, and never
 * emits a line longer than max_line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
    size_t max;
    size_t lines;
};

static void on_line(void *arg, const char *line, size_t len, unsigned flags)
{
    struct check *c = arg;

    (void)line;
    (void)flags;
    if (len > c->max) {
        abort();
    }
    c->lines++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_framer f;
    struct check      c;
    struct lsh_buf    pend = LSH_BUF_INIT;
    size_t            step;
    size_t            pos;

    if (size < 3) {
        return 0;
    }
    c.max = (size_t)data[0] % 64 + 1;
    c.lines = 0;
    lsh_framer_init(&f, c.max, data[1] % 3, (data[1] & 4) != 0);
    step = (size_t)data[2] % 32 + 1;
    data += 3;
    size -= 3;
    for (pos = 0; pos < size; pos += step) {
        size_t take = size - pos < step ? size - pos : step;
        size_t used;

        lsh_buf_add(&pend, data + pos, take);
        used = lsh_framer_run(&f, pend.ptr, pend.len, on_line, &c);
        if (used > pend.len) {
            abort();
        }
        memmove(pend.ptr, pend.ptr + used, pend.len - used);
        pend.len -= used;
        if (pend.len > c.max + 1) {
            abort();
        }
    }
    lsh_framer_finish(&f, pend.ptr, pend.len, on_line, &c);
    if (c.lines != f.lines) {
        abort();
    }
    lsh_buf_release(&pend);
    return 0;
}
