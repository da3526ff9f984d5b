/*
 * Growable byte buffer.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>

#include "mem.h"

void lsh_buf_release(struct lsh_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void lsh_buf_reserve(struct lsh_buf *b, size_t extra)
{
    size_t need = b->len + extra;
    size_t ncap;

    if (need <= b->cap) {
        return;
    }
    ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    b->ptr = lsh_realloc(b->ptr, ncap);
    b->cap = ncap;
}

void lsh_buf_add(struct lsh_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    lsh_buf_reserve(b, n);
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
}

void lsh_buf_vaddf(struct lsh_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int     n;

    va_copy(cp, ap);
    n = vsnprintf(b->ptr ? b->ptr + b->len : NULL, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        lsh_buf_reserve(b, (size_t)n + 1);
        vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void lsh_buf_addf(struct lsh_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lsh_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

const char *lsh_buf_cstr(struct lsh_buf *b)
{
    lsh_buf_reserve(b, 1);
    b->ptr[b->len] = '\0';
    return b->ptr;
}

void lsh_buf_swap(struct lsh_buf *a, struct lsh_buf *b)
{
    struct lsh_buf t = *a;

    *a = *b;
    *b = t;
}

char *lsh_buf_detach(struct lsh_buf *b, size_t *len)
{
    char *p;

    lsh_buf_cstr(b);
    p = b->ptr;
    if (len != NULL) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void lsh_buf_add_u64w(struct lsh_buf *b, uint64_t v, int width)
{
    char  tmp[24];
    char *p = tmp + sizeof(tmp);

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
        width--;
    } while (v != 0 || width > 0);
    lsh_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void lsh_buf_add_i64(struct lsh_buf *b, int64_t v)
{
    if (v < 0) {
        lsh_buf_addc(b, '-');
        lsh_buf_add_u64w(b, -(uint64_t)v, 1);
    } else {
        lsh_buf_add_u64w(b, (uint64_t)v, 1);
    }
}
