/*
 * Bump allocator with batch lifetime.
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "lsh.h"
#include "mem.h"

struct lsh_arena_chunk {
    struct lsh_arena_chunk *next;
    size_t                  cap;
    size_t                  pos;
    max_align_t             data[];
};

static struct lsh_arena_chunk *lsh_arena_chunk_new(size_t cap)
{
    struct lsh_arena_chunk *c = lsh_malloc(sizeof(*c) + cap);

    c->next = NULL;
    c->cap = cap;
    c->pos = 0;
    return c;
}

void lsh_arena_init(struct lsh_arena *a, size_t min_chunk)
{
    a->head = NULL;
    a->used = 0;
    a->min_chunk = min_chunk ? min_chunk : 4096;
}

static void lsh_arena_free_chunks(struct lsh_arena_chunk *c)
{
    struct lsh_arena_chunk *next;

    while (c != NULL) {
        next = c->next;
        free(c);
        c = next;
    }
}

void lsh_arena_release(struct lsh_arena *a)
{
    lsh_arena_free_chunks(a->head);
    a->head = NULL;
    a->used = 0;
}

void lsh_arena_reset(struct lsh_arena *a)
{
    if (a->head != NULL && a->head->next != NULL) {
        /* several chunks were needed: replace them by one that fits */
        size_t want = a->used;

        lsh_arena_free_chunks(a->head);
        a->head = lsh_arena_chunk_new(LSH_MAX(want, a->min_chunk));
    } else if (a->head != NULL) {
        a->head->pos = 0;
    }
    a->used = 0;
}

void *lsh_arena_alloc(struct lsh_arena *a, size_t n)
{
    struct lsh_arena_chunk *c = a->head;
    void                   *p;

    n = (n + 7) & ~(size_t)7;
    if (c == NULL || c->cap - c->pos < n) {
        size_t cap = LSH_MAX(a->min_chunk, n);

        if (c != NULL) {
            cap = LSH_MAX(cap, c->cap * 2);
        }
        c = lsh_arena_chunk_new(cap);
        c->next = a->head;
        a->head = c;
    }
    p = (char *)c->data + c->pos;
    c->pos += n;
    a->used += n;
    return p;
}

char *lsh_arena_memdup(struct lsh_arena *a, const void *p, size_t n)
{
    char *d = lsh_arena_alloc(a, n + 1);

    if (n > 0) {
        memcpy(d, p, n);
    }
    d[n] = '\0';
    return d;
}
