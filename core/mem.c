/*
 * Allocation wrappers that abort on out-of-memory.
 */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lsh_oom(size_t n)
{
    fprintf(stderr, "logship: out of memory allocating %zu bytes\n", n);
    abort();
}

void *lsh_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        lsh_oom(n);
    }
    return p;
}

void *lsh_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (p == NULL) {
        lsh_oom(nmemb * size);
    }
    return p;
}

void *lsh_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL) {
        lsh_oom(n);
    }
    return q;
}

char *lsh_strdup(const char *s)
{
    return lsh_strndup(s, strlen(s));
}

char *lsh_strndup(const char *s, size_t n)
{
    char *d = lsh_malloc(n + 1);

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void lsh_grow(void **vec, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;

    if (need <= *cap) {
        return;
    }
    ncap = *cap ? *cap * 2 : 8;
    while (ncap < need) {
        ncap *= 2;
    }
    *vec = lsh_realloc(*vec, ncap * elem);
    *cap = ncap;
}

void *lsh_memdup(const void *p, size_t n)
{
    void *q = lsh_malloc(n);

    memcpy(q, p, n);
    return q;
}
