/*
 * Fuzz target: the JSON reader.  Whatever the bytes, it returns an error
 * with an offset inside the text, or walks every member; each key and
 * string value unescapes within its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int member(void *arg, const struct lsh_jvalue *k,
                  const struct lsh_jvalue *v)
{
    char            *out = malloc(k->raw.len + v->raw.len + 1);
    struct lsh_value num;

    (void)arg;
    if (lsh_jstring(k->raw, out) > k->raw.len) {
        abort();
    }
    if (v->type == LSH_J_STRING && lsh_jstring(v->raw, out) > v->raw.len) {
        abort();
    }
    if (v->type == LSH_J_NUMBER) {
        lsh_jnumber(v->raw, &num);
    }
    free(out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *err = NULL;
    size_t      at = 0;
    int         rc;

    rc = lsh_jparse_object((const char *)data, size, member, NULL, &err, &at);
    if (rc == LSH_EINVAL && (err == NULL || at > size)) {
        abort();
    }
    return 0;
}
