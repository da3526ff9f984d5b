/*
 * Intrusive chained hash map.
 */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

void lsh_hmap_init(struct lsh_hmap *m)
{
    m->buckets = NULL;
    m->nbuckets = 0;
    m->count = 0;
}

void lsh_hmap_release(struct lsh_hmap *m)
{
    free(m->buckets);
    lsh_hmap_init(m);
}

static void lsh_hmap_grow(struct lsh_hmap *m)
{
    size_t             n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct lsh_hnode **b = lsh_calloc(n, sizeof(*b));
    size_t             i;

    for (i = 0; i < m->nbuckets; i++) {
        struct lsh_hnode *node = m->buckets[i];

        while (node != NULL) {
            struct lsh_hnode *next = node->next;
            size_t            slot = node->hash & (n - 1);

            node->next = b[slot];
            b[slot] = node;
            node = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void lsh_hmap_insert(struct lsh_hmap *m, struct lsh_hnode *n, uint64_t hash)
{
    size_t slot;

    if (m->count + 1 > m->nbuckets) {
        lsh_hmap_grow(m);
    }
    n->hash = hash;
    slot = hash & (m->nbuckets - 1);
    n->next = m->buckets[slot];
    m->buckets[slot] = n;
    m->count++;
}

void lsh_hmap_remove(struct lsh_hmap *m, struct lsh_hnode *n)
{
    struct lsh_hnode **pp;

    if (m->nbuckets == 0) {
        return;
    }
    for (pp = &m->buckets[n->hash & (m->nbuckets - 1)]; *pp != NULL;
         pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            n->next = NULL;
            m->count--;
            return;
        }
    }
}

struct lsh_hnode *lsh_hmap_find(const struct lsh_hmap *m, uint64_t hash,
                                lsh_hmap_eq eq, const void *key)
{
    struct lsh_hnode *n;

    if (m->nbuckets == 0) {
        return NULL;
    }
    for (n = m->buckets[hash & (m->nbuckets - 1)]; n != NULL; n = n->next) {
        if (n->hash == hash && eq(n, key)) {
            return n;
        }
    }
    return NULL;
}

struct lsh_hnode *lsh_hmap_find_next(const struct lsh_hmap  *m,
                                     const struct lsh_hnode *n, lsh_hmap_eq eq,
                                     const void *key)
{
    (void)m;
    for (n = n->next; n != NULL; n = n->next) {
        if (eq(n, key)) {
            return (struct lsh_hnode *)n;
        }
    }
    return NULL;
}

void lsh_hmap_each(struct lsh_hmap *m, void (*fn)(struct lsh_hnode *, void *),
                   void            *arg)
{
    size_t i;

    for (i = 0; i < m->nbuckets; i++) {
        struct lsh_hnode *n = m->buckets[i];

        while (n != NULL) {
            struct lsh_hnode *next = n->next;

            fn(n, arg);
            n = next;
        }
    }
}

/* FNV-1a, then a final mix so that low bits are well spread. */
uint64_t lsh_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t             h = 1469598103934665603ULL;
    size_t               i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return lsh_hash_u64(h);
}

uint64_t lsh_hash_fast(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t             h = 0x9e3779b97f4a7c15ULL ^ n;
    uint64_t             w;

    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ lsh_hash_u64(w)) * 0xff51afd7ed558ccdULL;
    }
    w = 0;
    memcpy(&w, s, n);
    return lsh_hash_u64(h ^ w);
}

uint64_t lsh_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb53fe49ec63bULL;
    x ^= x >> 33;
    return x;
}
