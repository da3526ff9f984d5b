/*
 * Fuzz target: JSON string encoding of arbitrary bytes.  The output must
 * be a valid JSON string and valid UTF-8, whatever the input; and when
 * the input is valid UTF-8 (nothing to replace), decoding the output with
 * the JSON reader must give the input back, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jparse.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Validates a JSON string literal of exactly n bytes at p. */
static void check_json_string(const unsigned char *p, size_t n)
{
    size_t i = 1;

    if (n < 2 || p[0] != '"' || p[n - 1] != '"') {
        abort();
    }
    while (i < n - 1) {
        size_t skip;
        size_t k;

        if (p[i] < 0x20 || p[i] == '"') {
            abort();
        }
        if (p[i] == '\\') {
            if (i + 1 >= n - 1) {
                abort();
            }
            if (p[i + 1] == 'u') {
                i += 6;
            } else if (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == 'b' ||
                       p[i + 1] == 'f' || p[i + 1] == 'n' || p[i + 1] == 'r' ||
                       p[i + 1] == 't') {
                i += 2;
            } else {
                abort();
            }
            continue;
        }
        k = lsh_utf8_seq(p + i, p + n - 1, &skip);
        if (k == 0) {
            abort();
        }
        i += k;
    }
    if (i != n - 1) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_buf b = LSH_BUF_INIT;

    size_t i;
    size_t skip;
    bool   utf8 = true;

    lsh_json_str(&b, (const char *)data, size);
    check_json_string((const unsigned char *)b.ptr, b.len);
    for (i = 0; i < size && utf8;) {
        size_t k =
            data[i] < 0x80 ? 1 : lsh_utf8_seq(data + i, data + size, &skip);

        utf8 = k > 0;
        i += k;
    }
    if (utf8) {
        char  *back = malloc(b.len + 1);
        size_t n = lsh_jstring(lsh_str_make(b.ptr, b.len), back);

        if (n != size || (size > 0 && memcmp(back, data, size) != 0)) {
            abort();
        }
        free(back);
    }
    lsh_buf_release(&b);
    return 0;
}
