/*
 * A growable byte buffer.
 *
 * Invariants: ptr is NULL when cap is 0; otherwise ptr points to cap
 * bytes, of which the first len are in use.  The buffer is not kept
 * NUL-terminated; call lsh_buf_cstr() when a C string is needed.
 */
#ifndef LSH_BUF_H
#define LSH_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "lsh.h"

struct lsh_buf {
    char  *ptr;
    size_t len;
    size_t cap;
};

#define LSH_BUF_INIT \
    {                \
        NULL, 0, 0   \
    }

void lsh_buf_release(struct lsh_buf *b);
void lsh_buf_reserve(struct lsh_buf *b, size_t extra);
void lsh_buf_add(struct lsh_buf *b, const void *p, size_t n);
void lsh_buf_addf(struct lsh_buf *b, const char *fmt, ...) LSH_PRINTF(2, 3);
void lsh_buf_vaddf(struct lsh_buf *b, const char *fmt, va_list ap);
const char *lsh_buf_cstr(struct lsh_buf *b);

/* Appends v in decimal (what "%lld" prints, without printf's cost). */
void lsh_buf_add_i64(struct lsh_buf *b, int64_t v);

/* Appends v in decimal, zero-padded to width digits. */
void lsh_buf_add_u64w(struct lsh_buf *b, uint64_t v, int width);

/* Exchanges the storage of two buffers. */
void lsh_buf_swap(struct lsh_buf *a, struct lsh_buf *b);

/* Hands the storage to the caller (free() it) and empties b. */
char *lsh_buf_detach(struct lsh_buf *b, size_t *len);

static inline void lsh_buf_reset(struct lsh_buf *b)
{
    b->len = 0;
}

static inline void lsh_buf_addc(struct lsh_buf *b, char c)
{
    if (lsh_unlikely(b->len == b->cap)) {
        lsh_buf_reserve(b, 1);
    }
    b->ptr[b->len++] = c;
}

static inline void lsh_buf_adds(struct lsh_buf *b, const char *s)
{
    lsh_buf_add(b, s, strlen(s));
}

#endif
