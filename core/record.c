/*
 * Records and batches.
 */
#include "record.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "mem.h"

#define LSH_BATCH_ARENA_CHUNK (64 * 1024)

const struct lsh_str lsh_builtin_names[LSH_B_COUNT] = {
    [LSH_B_TIME] = LSH_STR_LIT("time"),
    [LSH_B_BODY] = LSH_STR_LIT("body"),
    [LSH_B_PATH] = LSH_STR_LIT("path"),
    [LSH_B_HOST] = LSH_STR_LIT("host"),
};

int lsh_builtin(struct lsh_str name)
{
    int i;

    if (name.len != 4) {
        return -1;
    }
    for (i = 0; i < LSH_B_COUNT; i++) {
        if (memcmp(name.ptr, lsh_builtin_names[i].ptr, 4) == 0) {
            return i;
        }
    }
    return -1;
}

void lsh_batch_init(struct lsh_batch *b)
{
    memset(b, 0, sizeof(*b));
    lsh_arena_init(&b->arena, LSH_BATCH_ARENA_CHUNK);
}

void lsh_batch_release(struct lsh_batch *b)
{
    free(b->recs);
    lsh_buf_release(&b->data);
    lsh_arena_release(&b->arena);
    memset(b, 0, sizeof(*b));
}

void lsh_batch_reset(struct lsh_batch *b)
{
    b->n = 0;
    b->ndropped = 0;
    b->path = lsh_str_make("", 0);
    b->ticket = NULL;
    lsh_buf_reset(&b->data);
    lsh_arena_reset(&b->arena);
}

struct lsh_record *lsh_batch_push(struct lsh_batch *b, struct lsh_str body,
                                  int64_t time_ns)
{
    struct lsh_record *r;

    if (lsh_unlikely(b->n == b->cap)) {
        LSH_GROW(b->recs, b->cap, b->n + 1);
    }
    r = &b->recs[b->n++];
    r->time_ns = time_ns;
    r->body = body;
    r->fields = NULL;
    r->nfields = 0;
    r->fields_cap = 0;
    r->flags = 0;
    r->index = NULL;
    r->index_cap = 0;
    return r;
}

void lsh_batch_drop(struct lsh_batch *b, struct lsh_record *r)
{
    if (!(r->flags & LSH_REC_DROPPED)) {
        r->flags |= LSH_REC_DROPPED;
        b->ndropped++;
    }
}

/* Below this many fields a scan is faster than an index. */
#define LSH_INDEX_MIN 16

static uint32_t lsh_name_hash(struct lsh_str name)
{
    return (uint32_t)lsh_hash_fast(name.ptr, name.len);
}

static void lsh_index_put(uint32_t *index, uint32_t cap, struct lsh_str name,
                          uint32_t i)
{
    uint32_t h = lsh_name_hash(name) & (cap - 1);

    while (index[h] != 0) {
        h = (h + 1) & (cap - 1);
    }
    index[h] = i + 1;
}

/* (Re)builds r's index with room for twice its fields. */
static void lsh_index_build(struct lsh_batch *b, struct lsh_record *r,
                            uint32_t want)
{
    uint32_t cap = 64;
    uint32_t i;

    while (cap < want * 2) {
        cap *= 2;
    }
    r->index = lsh_arena_alloc(&b->arena, cap * sizeof(*r->index));
    memset(r->index, 0, cap * sizeof(*r->index));
    r->index_cap = cap;
    for (i = 0; i < r->nfields; i++) {
        lsh_index_put(r->index, cap, r->fields[i].name, i);
    }
}

struct lsh_field *lsh_record_field(const struct lsh_record *r,
                                   struct lsh_str           name)
{
    uint32_t i;

    if (r->index != NULL) {
        uint32_t h = lsh_name_hash(name) & (r->index_cap - 1);

        while (r->index[h] != 0) {
            struct lsh_field *f = &r->fields[r->index[h] - 1];

            if (lsh_str_eq(f->name, name)) {
                return f;
            }
            h = (h + 1) & (r->index_cap - 1);
        }
        return NULL;
    }
    for (i = 0; i < r->nfields; i++) {
        if (lsh_str_eq(r->fields[i].name, name)) {
            return &r->fields[i];
        }
    }
    return NULL;
}

void lsh_record_set(struct lsh_batch *b, struct lsh_record *r,
                    struct lsh_str name, struct lsh_value v)
{
    struct lsh_field *f;

    if (r->index == NULL && r->nfields >= LSH_INDEX_MIN) {
        lsh_index_build(b, r, r->nfields + 1);
    }
    f = lsh_record_field(r, name);
    if (f != NULL) {
        f->v = v;
        return;
    }
    if (r->nfields == r->fields_cap) {
        uint32_t          ncap = r->fields_cap ? r->fields_cap * 2 : 8;
        struct lsh_field *nf = lsh_arena_alloc(&b->arena, ncap * sizeof(*nf));

        if (r->nfields > 0) {
            memcpy(nf, r->fields, r->nfields * sizeof(*nf));
        }
        r->fields = nf;
        r->fields_cap = ncap;
    }
    f = &r->fields[r->nfields++];
    f->name = name;
    f->v = v;
    if (r->index != NULL) {
        if (r->nfields * 2 > r->index_cap) {
            lsh_index_build(b, r, r->nfields);
        } else {
            lsh_index_put(r->index, r->index_cap, name, r->nfields - 1);
        }
    }
}

bool lsh_record_unset(struct lsh_record *r, struct lsh_str name)
{
    struct lsh_field *f = lsh_record_field(r, name);
    size_t            idx;

    if (f == NULL) {
        return false;
    }
    idx = (size_t)(f - r->fields);
    memmove(f, f + 1, (r->nfields - idx - 1) * sizeof(*f));
    r->nfields--;
    r->index = NULL; /* the numbers moved: rebuilt when next needed */
    r->index_cap = 0;
    return true;
}

void lsh_record_mark(struct lsh_batch *b, const struct lsh_record *r,
                     struct lsh_record_mark *m)
{
    m->nfields = r->nfields;
    m->fields = NULL;
    if (r->nfields > 0) {
        m->fields = lsh_arena_alloc(&b->arena, r->nfields * sizeof(*r->fields));
        memcpy(m->fields, r->fields, r->nfields * sizeof(*r->fields));
    }
}

void lsh_record_rewind(struct lsh_record *r, const struct lsh_record_mark *m)
{
    r->fields = m->fields;
    r->nfields = m->nfields;
    r->fields_cap = m->nfields;
    r->index = NULL;
    r->index_cap = 0;
}
