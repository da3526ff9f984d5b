/*
 * Reading JSON (RFC 8259) from a byte range, strictly and without
 * allocation: for log lines that are JSON objects (the parse filter's
 * format: json) and Docker's json-file logs.
 *
 * The parser validates the whole text and hands each member of the top
 * level object to a callback, as raw text.  Strings are unescaped on
 * demand.  Nesting is limited to 64 levels; anything malformed is an
 * error with its offset, never a crash.
 */
#ifndef LSH_JPARSE_H
#define LSH_JPARSE_H

#include "lsh.h"
#include "record.h"

enum lsh_jtype {
    LSH_J_STRING,
    LSH_J_NUMBER,
    LSH_J_TRUE,
    LSH_J_FALSE,
    LSH_J_NULL,
    LSH_J_OBJECT,
    LSH_J_ARRAY,
};

struct lsh_jvalue {
    enum lsh_jtype type;
    struct lsh_str raw;     /* as written; strings with their quotes */
    bool           escaped; /* a string with backslash escapes */
};

/* Called per member; a non-zero return stops the walk and is returned. */
typedef int (*lsh_jmember_cb)(void *arg, const struct lsh_jvalue *key,
                              const struct lsh_jvalue *value);

/*
 * Walks the JSON object in p[0..n) (whitespace around it allowed).
 * Returns LSH_OK, the callback's non-zero result, or LSH_EINVAL with a
 * static message in *err and the offset of the problem in *at.
 */
int lsh_jparse_object(const char *p, size_t n, lsh_jmember_cb fn, void *arg,
                      const char **err, size_t *at);

/*
 * Unescapes a JSON string (raw, with its quotes) into out, which needs
 * raw.len bytes.  Returns the length.  \u0000 becomes a NUL byte; a lone
 * surrogate becomes U+FFFD.
 */
size_t lsh_jstring(struct lsh_str raw, char *out);

/* The string's contents without its quotes, when it has no escapes. */
static inline struct lsh_str lsh_jstring_plain(struct lsh_str raw)
{
    return lsh_str_make(raw.ptr + 1, raw.len - 2);
}

/*
 * A number as a value: LSH_V_INT if it is integral and fits in int64,
 * LSH_V_FLOAT if it has a fraction or exponent, otherwise (a huge
 * integer) its exact text as LSH_V_JSON.
 */
void lsh_jnumber(struct lsh_str raw, struct lsh_value *v);

#endif
