/*
 * The configuration document: a tree of YAML nodes that remember where
 * they came from, loaded from one file or merged from a directory.
 */
#ifndef LSH_NODE_H
#define LSH_NODE_H

#include "diag.h"

enum lsh_node_type {
    LSH_NODE_SCALAR,
    LSH_NODE_SEQ,
    LSH_NODE_MAP,
};

struct lsh_pair {
    struct lsh_node *key; /* always a scalar */
    struct lsh_node *value;
};

struct lsh_node {
    enum lsh_node_type type;
    struct lsh_mark    mark;
    /* scalar: text after ${VAR} expansion, NUL-terminated */
    char  *value;
    size_t len;
    bool   is_null; /* plain "", "~" or "null" */
    /*
     * Set when ${VAR} expansion failed.  The error is reported, with
     * its pipeline, plugin and key, by whatever reads the value.
     */
    char           *error;
    struct lsh_mark error_mark;
    /* sequence */
    struct lsh_node **items;
    size_t            nitems;
    /* mapping, in document order */
    struct lsh_pair *pairs;
    size_t           npairs;
};

struct lsh_doc {
    struct lsh_node *root;  /* a map; NULL if every file was empty */
    char           **files; /* names that marks point to */
    size_t           nfiles;
};

/*
 * Loads path: a YAML file, or a directory whose *.yaml and *.yml files
 * are merged in byte order of their names.  Maps merge recursively; the
 * same non-map key in two places is an error naming both.  Scalars have
 * ${VAR} and ${VAR:-default} replaced from the environment ($${ is a
 * literal "${"); a failed expansion is kept on its node (n->error).
 * Errors go to d.  Returns the document, partial if d got errors, or NULL
 * if nothing could be read.  Free it with lsh_doc_destroy().
 */
struct lsh_doc *lsh_doc_load(const char *path, struct lsh_diag *d);
void            lsh_doc_destroy(struct lsh_doc *doc);

/* Parses YAML text as if it were file name (for tests and fuzzing). */
struct lsh_doc *lsh_doc_parse(const char *name, const char *text, size_t len,
                              struct lsh_diag *d);

/* Returns the value of key in map node, or NULL. */
struct lsh_node *lsh_node_get(const struct lsh_node *map, const char *key);

const char *lsh_node_type_name(const struct lsh_node *n);

/*
 * True if a and b hold the same YAML (after ${VAR} expansion), wherever
 * they are; map keys in the same order.  skip_key, if not NULL, is a key
 * of a top-level map left out of the comparison.
 */
bool lsh_node_equal(const struct lsh_node *a, const struct lsh_node *b,
                    const char *skip_key);

/*
 * Expands ${VAR} and ${VAR:-default} in text into out.  On error returns
 * LSH_EINVAL with the message in err and *at set to the offset of the
 * offending "${".
 */
int lsh_env_expand(const char *text, size_t len, struct lsh_buf *out,
                   struct lsh_buf *err, size_t *at);

/*
 * Reports, into d, every ${VAR} error in the tree under n: a last check
 * for values no option parser looked at.
 */
void lsh_node_report_errors(const struct lsh_node *n, struct lsh_diag *d);

#endif
