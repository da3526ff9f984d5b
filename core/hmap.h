/*
 * An intrusive hash map: items embed a struct lsh_hnode and are found by
 * a 64-bit hash plus a caller-supplied equality test.  Inserting and
 * removing allocate nothing (the bucket array grows by doubling).
 */
#ifndef LSH_HMAP_H
#define LSH_HMAP_H

#include "lsh.h"

struct lsh_hnode {
    struct lsh_hnode *next;
    uint64_t          hash;
};

struct lsh_hmap {
    struct lsh_hnode **buckets;
    size_t             nbuckets; /* a power of two, or 0 */
    size_t             count;
};

/* Returns true if node n holds the key. */
typedef bool (*lsh_hmap_eq)(const struct lsh_hnode *n, const void *key);

void lsh_hmap_init(struct lsh_hmap *m);
void lsh_hmap_release(struct lsh_hmap *m); /* frees buckets, not items */

void lsh_hmap_insert(struct lsh_hmap *m, struct lsh_hnode *n, uint64_t hash);
void lsh_hmap_remove(struct lsh_hmap *m, struct lsh_hnode *n);

/* First node with this hash that eq() accepts, or NULL. */
struct lsh_hnode *lsh_hmap_find(const struct lsh_hmap *m, uint64_t hash,
                                lsh_hmap_eq eq, const void *key);

/*
 * The next node after n, in n's chain, with this hash that eq() accepts,
 * or NULL: for maps where several nodes hold one key.
 */
struct lsh_hnode *lsh_hmap_find_next(const struct lsh_hmap  *m,
                                     const struct lsh_hnode *n, lsh_hmap_eq eq,
                                     const void *key);

/* Calls fn on every node; fn may remove the node it is given. */
void lsh_hmap_each(struct lsh_hmap *m, void (*fn)(struct lsh_hnode *, void *),
                   void            *arg);

uint64_t lsh_hash_bytes(const void *p, size_t n);

/*
 * A faster hash, 8 bytes a step, for comparisons within one process
 * only: its values may change between versions, so never store them
 * (lsh_hash_bytes is what checkpoints keep).
 */
uint64_t lsh_hash_fast(const void *p, size_t n);
uint64_t lsh_hash_u64(uint64_t x);

#endif
