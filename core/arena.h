/*
 * A bump allocator for memory that lives exactly as long as one batch.
 *
 * Allocation is a pointer bump inside the current chunk; a reset makes
 * all of it free at once.  After a reset the arena keeps one chunk, sized
 * to what the previous round used, so a steady stream of similar batches
 * allocates nothing from malloc.
 */
#ifndef LSH_ARENA_H
#define LSH_ARENA_H

#include <stddef.h>

struct lsh_arena_chunk;

struct lsh_arena {
    struct lsh_arena_chunk *head; /* chunk being filled */
    size_t                  used; /* bytes handed out since reset */
    size_t                  min_chunk;
};

void lsh_arena_init(struct lsh_arena *a, size_t min_chunk);
void lsh_arena_release(struct lsh_arena *a);

/* Frees everything allocated since the last reset. */
void lsh_arena_reset(struct lsh_arena *a);

/* Returns n bytes aligned to 8; never NULL.  Contents are undefined. */
void *lsh_arena_alloc(struct lsh_arena *a, size_t n);

/* Copies n bytes into the arena and NUL-terminates the copy. */
char *lsh_arena_memdup(struct lsh_arena *a, const void *p, size_t n);

#endif
