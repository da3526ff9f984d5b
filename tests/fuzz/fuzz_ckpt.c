/*
 * Fuzz target: the checkpoint snapshot and journal loaders.  The first
 * byte chooses how the rest is used: as a whole snapshot (mode 0); as the
 * entry lines of a version 2 (mode 1) or version 1 (mode 2) snapshot given
 * a valid header and trailer, so that the entry parser is reached past
 * the CRC; as a whole journal (mode 3); or as journal records given a
 * header and each its CRC (mode 4), so that the record parser is reached.
 * Whatever the bytes, loading either fails with a message or gives
 * entries that obey the format's bounds; and what loads, written out and
 * loaded again, gives the same lines (the format round-trips).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry lines of a formatted store, sorted, joined by '\n'. */
static void canonical(struct lsh_ckpt *ck, struct lsh_buf *out)
{
    struct lsh_buf text = LSH_BUF_INIT;
    char         **lines = NULL;
    size_t         n = 0;
    char          *p;
    char          *nl;
    size_t         i;

    lsh_ckpt_format(ck, &text);
    lsh_buf_cstr(&text);
    p = strchr(text.ptr, '\n') + 1; /* after the magic */
    while ((nl = strchr(p, '\n')) != NULL && strncmp(p, "end ", 4) != 0) {
        *nl = '\0';
        lines = realloc(lines, (n + 1) * sizeof(*lines));
        lines[n++] = p;
        p = nl + 1;
    }
    if (n > 1) {
        qsort(lines, n, sizeof(*lines), cmp_lines);
    }
    for (i = 0; i < n; i++) {
        lsh_buf_adds(out, lines[i]);
        lsh_buf_addc(out, '\n');
    }
    free(lines);
    lsh_buf_release(&text);
}

static void check_entries(struct lsh_ckpt *ck)
{
    struct lsh_ckpt_entry **v;
    size_t                  n;
    size_t                  i;

    v = lsh_ckpt_unclaimed(ck, &n);
    if (n != lsh_ckpt_count(ck)) {
        abort(); /* loaded entries are all unclaimed */
    }
    for (i = 0; i < n; i++) {
        if (v[i]->path[0] != '/' || v[i]->end_len > LSH_CKPT_END_BYTES ||
            v[i]->end_len > v[i]->offset || (v[i]->flags & ~LSH_CKPT_FLAGS)) {
            abort();
        }
    }
    free(v);
}

/* The snapshot of the entry lines in data, with header and trailer. */
static void wrap_snapshot(struct lsh_buf *text, const char *magic,
                          const uint8_t *data, size_t size)
{
    size_t start;
    size_t lines = 0;
    size_t i;

    lsh_buf_adds(text, magic);
    start = text->len;
    lsh_buf_add(text, (const char *)data, size);
    if (size > 0 && data[size - 1] != '\n') {
        lsh_buf_addc(text, '\n');
    }
    for (i = start; i < text->len; i++) {
        lines += text->ptr[i] == '\n';
    }
    lsh_buf_addf(text, "end %zu %08x\n", lines,
                 lsh_crc32(0, text->ptr, text->len));
}

/* A journal of the records in data (one a line), each with its CRC. */
static void wrap_journal(struct lsh_buf *text, const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *end = p + size;

    lsh_buf_adds(text, "logship-journal 1 0\n");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t      n = (size_t)((nl != NULL ? nl : end) - p);

        lsh_buf_add(text, p, n);
        lsh_buf_addf(text, " %08x\n", lsh_crc32(0, p, n));
        p += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_buf   text = LSH_BUF_INIT;
    struct lsh_buf   err = LSH_BUF_INIT;
    struct lsh_buf   a = LSH_BUF_INIT;
    struct lsh_buf   b = LSH_BUF_INIT;
    struct lsh_ckpt *ck = lsh_ckpt_new_memory();
    struct lsh_ckpt *again;
    int              mode = size > 0 ? data[0] % 5 : 0;
    int              rc;

    if (size > 0) {
        data++;
        size--;
    }
    if (mode == 0 || mode == 3) {
        lsh_buf_add(&text, (const char *)data, size);
    } else if (mode == 4) {
        wrap_journal(&text, data, size);
    } else {
        wrap_snapshot(&text,
                      mode == 1 ? "logship-checkpoint 2 0\n"
                                : "logship-checkpoint 1\n",
                      data, size);
    }
    lsh_buf_cstr(&text);
    rc = mode >= 3 ? lsh_ckpt_replay_text(ck, text.ptr, text.len, &err)
                   : lsh_ckpt_parse_text(ck, text.ptr, text.len, &err);
    if (rc == LSH_OK) {
        check_entries(ck);
        canonical(ck, &a);
        lsh_buf_reset(&text);
        lsh_ckpt_format(ck, &text);
        again = lsh_ckpt_new_memory();
        lsh_buf_cstr(&text);
        if (lsh_ckpt_parse_text(again, text.ptr, text.len, &err) != LSH_OK) {
            abort(); /* what we write, we must read */
        }
        canonical(again, &b);
        if (a.len != b.len || (a.len > 0 && memcmp(a.ptr, b.ptr, a.len) != 0)) {
            abort();
        }
        lsh_ckpt_close(again);
    } else if (err.len == 0) {
        abort(); /* a failure always says why */
    }
    lsh_ckpt_close(ck);
    lsh_buf_release(&text);
    lsh_buf_release(&err);
    lsh_buf_release(&a);
    lsh_buf_release(&b);
    return 0;
}
