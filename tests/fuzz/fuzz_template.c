/*
 * Fuzz target: template compilation and rendering.  The input is split
 * at the first NUL: the template text, then a field value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char        *nul = memchr(data, '\0', size);
    size_t             tlen = nul ? (size_t)(nul - (const char *)data) : size;
    char              *src = malloc(tlen + 1);
    const char        *err = NULL;
    size_t             at = 0;
    struct lsh_tpl    *t;
    struct lsh_batch   b;
    struct lsh_record *r;
    struct lsh_buf     out = LSH_BUF_INIT;
    struct lsh_str     val;

    memcpy(src, data, tlen);
    src[tlen] = '\0';
    t = lsh_tpl_compile(src, &err, &at);
    if (t == NULL) {
        if (err == NULL || at > tlen) {
            abort();
        }
        free(src);
        return 0;
    }
    val = nul ? lsh_str_make(nul + 1, size - tlen - 1) : LSH_STR_LIT("");
    lsh_batch_init(&b);
    r = lsh_batch_push(&b, val, 0);
    lsh_record_set(&b, r, LSH_STR_LIT("f"), lsh_value_str(val));
    lsh_record_set(&b, r, LSH_STR_LIT("a"), lsh_value_str(val));
    lsh_tpl_render(t, &b, r, LSH_STR_LIT("host"), &out);
    if (lsh_tpl_is_const(t) && strcmp(lsh_tpl_source(t), src) != 0) {
        abort();
    }
    lsh_buf_release(&out);
    lsh_batch_release(&b);
    lsh_tpl_destroy(t);
    free(src);
    return 0;
}
