/*
 * Records and batches: the data model every plugin sees.
 *
 * A batch holds records read from one source in one go.  Everything a
 * record points to lives in the batch: bodies point into batch->data (the
 * bytes as read), and fields, their names and values, and any bytes a
 * filter creates live in batch->arena.  Nothing is freed per record; the
 * engine resets the whole batch once every output has taken it.
 */
#ifndef LSH_RECORD_H
#define LSH_RECORD_H

#include "arena.h"
#include "buf.h"
#include "lsh.h"

struct lsh_ticket;

enum lsh_vtype {
    LSH_V_NULL = 0,
    LSH_V_STR,
    LSH_V_INT,
    LSH_V_FLOAT,
    LSH_V_BOOL,
    LSH_V_JSON, /* s holds JSON text, emitted verbatim */
};

struct lsh_value {
    enum lsh_vtype type;
    union {
        struct lsh_str s;
        int64_t        i;
        double         f;
        bool           b;
    };
};

struct lsh_field {
    struct lsh_str   name;
    struct lsh_value v;
};

/* record flags */
#define LSH_REC_DROPPED   0x1u  /* removed by a filter; outputs skip it */
#define LSH_REC_NO_BODY   0x2u  /* body removed by a filter */
#define LSH_REC_TRUNCATED 0x4u  /* body cut at max_line_bytes */
#define LSH_REC_NO_PATH   0x8u  /* path removed by a filter */
#define LSH_REC_NO_HOST   0x10u /* host removed by a filter */

/*
 * The built-in values every record has.  A field with one of these names
 * replaces the built-in value (in JSON output and templates): a parsed
 * "time" string, a "body" cut down by a parser, a host set by modify.
 */
enum lsh_builtin {
    LSH_B_TIME,
    LSH_B_BODY,
    LSH_B_PATH,
    LSH_B_HOST,
    LSH_B_COUNT,
};

/* The built-in index of name, or -1. */
int                         lsh_builtin(struct lsh_str name);
extern const struct lsh_str lsh_builtin_names[LSH_B_COUNT];

struct lsh_record {
    int64_t           time_ns; /* UTC, nanoseconds since the epoch */
    struct lsh_str    body;
    struct lsh_field *fields;
    uint32_t          nfields;
    uint32_t          fields_cap;
    uint32_t          flags;
    /*
     * With many fields (a JSON object of 80,000 keys), lookups go through
     * a hash index of field numbers + 1 (0: empty), built in the arena on
     * first need and kept up to date, so that setting n fields costs O(n),
     * not O(n^2).  index_cap is a power of two, or 0 for no index.
     */
    uint32_t *index;
    uint32_t  index_cap;
};

struct lsh_batch {
    struct lsh_record *recs;
    size_t             n;
    size_t             cap;
    size_t             ndropped;
    struct lsh_str     path;   /* source of all records; "" for stdin */
    struct lsh_ticket *ticket; /* acknowledgement handle, may be NULL */
    struct lsh_buf     data;   /* bytes the bodies point into */
    struct lsh_arena   arena;  /* fields and filter-made bytes */
};

void lsh_batch_init(struct lsh_batch *b);
void lsh_batch_release(struct lsh_batch *b);

/* Forgets all records and frees their memory for reuse. */
void lsh_batch_reset(struct lsh_batch *b);

/*
 * Appends a record with the given body and time and returns it.  The body
 * must point into b->data or b->arena (or static memory).  The pointer is
 * valid until the next lsh_batch_push().
 */
struct lsh_record *lsh_batch_push(struct lsh_batch *b, struct lsh_str body,
                                  int64_t time_ns);

/* Marks a record dropped (idempotent). */
void lsh_batch_drop(struct lsh_batch *b, struct lsh_record *r);

/* Returns the field named name, or NULL. */
struct lsh_field *lsh_record_field(const struct lsh_record *r,
                                   struct lsh_str           name);

/*
 * Sets field name to v, replacing an existing field of that name.  The
 * name and any string in v must outlive the batch (static, or in
 * b->arena / b->data).
 */
void lsh_record_set(struct lsh_batch *b, struct lsh_record *r,
                    struct lsh_str name, struct lsh_value v);

/*
 * The fields of a record at one moment, to go back to: a parser that
 * fails half-way (invalid JSON) leaves the record as it was.
 */
struct lsh_record_mark {
    struct lsh_field *fields; /* a copy, in the arena; NULL if none */
    uint32_t          nfields;
};

void lsh_record_mark(struct lsh_batch *b, const struct lsh_record *r,
                     struct lsh_record_mark *m);
void lsh_record_rewind(struct lsh_record *r, const struct lsh_record_mark *m);

/* Removes field name; returns true if it existed. */
bool lsh_record_unset(struct lsh_record *r, struct lsh_str name);

static inline struct lsh_value lsh_value_str(struct lsh_str s)
{
    struct lsh_value v = {.type = LSH_V_STR, .s = s};
    return v;
}

#endif
