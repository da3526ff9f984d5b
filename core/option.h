/*
 * Option tables: each plugin (and the service section) declares its
 * options once.  The same table drives parsing into the plugin's conf
 * struct, validation with positions, defaults, freeing, the --check
 * printout and the generated reference in docs/.
 */
#ifndef LSH_OPTION_H
#define LSH_OPTION_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "node.h"

enum lsh_opt_type {
    LSH_OPT_STR,      /* char * */
    LSH_OPT_STRLIST,  /* struct lsh_strlist; a scalar or a list of them */
    LSH_OPT_INT,      /* int64_t */
    LSH_OPT_BOOL,     /* bool */
    LSH_OPT_ENUM,     /* int: index into values[] */
    LSH_OPT_DURATION, /* int64_t milliseconds: "250ms", "1.5s", "5m", "1h" */
    LSH_OPT_SIZE,     /* int64_t bytes: "512", "64KiB", "1MiB", "1MB", "1G" */
    LSH_OPT_TEMPLATE, /* struct lsh_tpl *: "{{field}}" text */
    LSH_OPT_MAP,      /* struct lsh_kvlist: map of name to scalar */
    LSH_OPT_SUB,      /* void *: nested table (sub), NULL when absent */
    LSH_OPT_REGEX,    /* struct lsh_regex *: PCRE2, compiled at load */
};

/* option flags */
#define LSH_OPT_REQUIRED 0x1u
#define LSH_OPT_SECRET   0x2u /* masked in --check output and logs */

struct lsh_option {
    const char              *name;
    enum lsh_opt_type        type;
    const char              *def; /* default, parsed like YAML text */
    unsigned                 flags;
    size_t                   offset; /* into the conf struct */
    int64_t                  min;    /* INT, DURATION, SIZE; min == max */
    int64_t                  max;    /* == 0 means unbounded */
    const char *const       *values; /* ENUM choices, NULL-terminated */
    const char              *help;
    const struct lsh_option *sub;      /* SUB: nested table */
    size_t                   sub_size; /* SUB: size of nested struct */
    /*
     * STRLIST and MAP: LSH_OPT_REGEX or LSH_OPT_TEMPLATE compiles every
     * item (into objs[]), with errors at the item's position.
     */
    enum lsh_opt_type item;
};

struct lsh_strlist {
    char **v;
    void **objs; /* compiled items (option item), else NULL */
    size_t n;
};

struct lsh_kvlist {
    char           **keys;
    char           **vals;
    void           **objs;  /* compiled values (option item), else NULL */
    struct lsh_mark *marks; /* of each value */
    size_t           n;
};

/*
 * Parses map node (NULL means empty) into conf following table.  Keys in
 * skip (NULL-terminated, may be NULL) are accepted and ignored (such as
 * "type").  Checks, in order: unknown keys (listing the valid ones),
 * types, bounds and allowed values, required keys.  Errors go to d with
 * positions.  Returns LSH_OK or LSH_EINVAL.  conf must be zeroed; free it
 * with lsh_opt_release() whatever the result.
 */
int lsh_opt_parse(const struct lsh_option *table, const struct lsh_node *map,
                  const char *const *skip, void *conf, struct lsh_diag *d);

/* Frees everything lsh_opt_parse() stored in conf (not conf itself). */
void lsh_opt_release(const struct lsh_option *table, void *conf);

/* Appends conf as YAML, indented by indent spaces; secrets masked. */
void lsh_opt_print(const struct lsh_option *table, const void *conf, int indent,
                   struct lsh_buf *out);

/* Appends a Markdown table describing the options. */
void lsh_opt_doc(const struct lsh_option *table, struct lsh_buf *out);

/* Parsers shared with tests; return LSH_OK or LSH_EINVAL. */
int lsh_parse_duration_ms(const char *s, int64_t *ms);
int lsh_parse_size(const char *s, int64_t *bytes);
int lsh_parse_int(const char *s, int64_t *v);
int lsh_parse_bool(const char *s, bool *v);

#endif
