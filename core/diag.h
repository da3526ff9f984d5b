/*
 * Diagnostics for configuration errors.
 *
 * Every message names the place (file:line:column), the context (which
 * pipeline and plugin) and the key, for example
 *   app.yaml:12:5: pipeline 'app': input 'tail': option 'paths': ...
 * Messages are collected so that one run reports every error it finds.
 */
#ifndef LSH_DIAG_H
#define LSH_DIAG_H

#include "buf.h"
#include "lsh.h"

/* A position in a configuration file: 1-based line and column. */
struct lsh_mark {
    const char *file; /* owned by the loaded document */
    int         line;
    int         col;
};

struct lsh_node;

struct lsh_diag {
    struct lsh_buf         text; /* one message per line */
    size_t                 nerrors;
    size_t                 nwarnings;
    char                   ctx[256]; /* "pipeline 'app': input 'tail'" */
    const struct lsh_node *node;     /* map of the plugin being checked */
};

void lsh_diag_init(struct lsh_diag *d);
void lsh_diag_release(struct lsh_diag *d);

/* Sets the context prefix (printf-style); an empty format clears it. */
void lsh_diag_ctx(struct lsh_diag *d, const char *fmt, ...) LSH_PRINTF(2, 3);

/* Records an error at mark m (may be NULL).  Returns LSH_EINVAL. */
int lsh_diag_error(struct lsh_diag *d, const struct lsh_mark *m,
                   const char *fmt, ...) LSH_PRINTF(3, 4);
int lsh_diag_warn(struct lsh_diag *d, const struct lsh_mark *m, const char *fmt,
                  ...) LSH_PRINTF(3, 4);

/*
 * For plugin validate() callbacks: records an error about option key of
 * the plugin being checked, at the key's position.  Returns LSH_EINVAL.
 */
int lsh_diag_key(struct lsh_diag *d, const char *key, const char *fmt, ...)
    LSH_PRINTF(3, 4);

/* The same, at the position of item idx when the key's value is a list. */
int lsh_diag_item(struct lsh_diag *d, const char *key, size_t idx,
                  const char *fmt, ...) LSH_PRINTF(4, 5);

#endif
