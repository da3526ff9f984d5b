/*
 * Allocation wrappers.  They never return NULL: running out of memory
 * aborts the process with a message, so callers need no OOM branches.
 */
#ifndef LSH_MEM_H
#define LSH_MEM_H

#include <stddef.h>

void *lsh_malloc(size_t n);
void *lsh_calloc(size_t nmemb, size_t size);
void *lsh_realloc(void *p, size_t n);
char *lsh_strdup(const char *s);
char *lsh_strndup(const char *s, size_t n);
void *lsh_memdup(const void *p, size_t n);

/*
 * Grows *vec (an array of elem-sized items with capacity *cap) so it can
 * hold at least need items.  Capacity at least doubles.
 */
void lsh_grow(void **vec, size_t *cap, size_t need, size_t elem);

#define LSH_GROW(vec, cap, need) \
    lsh_grow((void **)&(vec), &(cap), (need), sizeof(*(vec)))

#endif
