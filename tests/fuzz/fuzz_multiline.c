/*
 * Fuzz target: the multiline joiner.  The first two bytes choose
 * max_lines and max_bytes; the rest is split into lines at '\n' and fed
 * in.  Whatever the input, joining the emitted records with '\n' must
 * give back exactly the lines fed in: nothing lost, added or reordered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "multiline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsh_regex *g_start;

struct joined {
    struct lsh_buf text;
    size_t         records;
};

static void on_record(void *arg, const char *text, size_t len, unsigned flags,
                      int64_t time_ns, int tag)
{
    struct joined *out = arg;

    (void)flags;
    (void)time_ns;
    (void)tag;
    if (out->records++ > 0) {
        lsh_buf_addc(&out->text, '\n'); /* records may be empty lines */
    }
    lsh_buf_add(&out->text, text, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_ml_conf c;
    struct lsh_ml      ml;
    struct joined      out = {LSH_BUF_INIT, 0};
    const char        *p;
    const char        *end;
    char               err[64];
    size_t             at;

    if (size < 2) {
        return 0;
    }
    if (g_start == NULL) {
        /* a start line begins with a non-blank character */
        g_start = lsh_regex_compile("^\\S", err, sizeof(err), &at);
    }
    c.start = g_start;
    c.max_lines = data[0] % 8 + 1;
    c.max_bytes = data[1] % 64 + 1;
    c.flush_after_ms = 1;
    lsh_ml_init(&ml, &c);
    p = (const char *)data + 2;
    end = (const char *)data + size;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t      n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        lsh_ml_line(&ml, p, n, 0, (uint64_t)(p - (const char *)data), 0, -1,
                    on_record, &out);
        if (ml.active && ml.start > (uint64_t)(p - (const char *)data)) {
            abort(); /* the pending record cannot start after this line */
        }
        p += n + 1;
    }
    lsh_ml_flush(&ml, on_record, &out);
    if (out.text.len != size - 2 ||
        (size > 2 && memcmp(out.text.ptr, data + 2, size - 2) != 0)) {
        abort();
    }
    lsh_buf_release(&out.text);
    lsh_ml_release(&ml);
    return 0;
}
