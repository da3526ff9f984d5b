/*
 * Templates over record fields: "logs-{{service}}", "{{ns}}/{{pod}}".
 *
 * "{{name}}" (spaces inside the braces are ignored) refers to a field of
 * the record.  time, body, path and host are the record's built-in
 * values, unless a field of that name replaces them.  There is no escape: "{{"
 * always opens a reference.  "${...}" is never seen here; it was resolved from
 * the environment when the configuration loaded.
 *
 * Templates are compiled once when the configuration loads and rendered
 * per record into a caller-owned buffer; rendering allocates nothing once
 * the buffer has grown to size.
 */
#ifndef LSH_TPL_H
#define LSH_TPL_H

#include "buf.h"
#include "record.h"

struct lsh_tpl;

/*
 * Compiles src.  Returns the template, or NULL with *err set to a static
 * message and *at to the byte offset of the problem.
 */
struct lsh_tpl *lsh_tpl_compile(const char *src, const char **err, size_t *at);
void            lsh_tpl_destroy(struct lsh_tpl *t);

/* The source text, as written in the configuration. */
const char *lsh_tpl_source(const struct lsh_tpl *t);

/* True if the template has no references (renders the same always). */
bool lsh_tpl_is_const(const struct lsh_tpl *t);

/*
 * Appends the rendering for record r of batch b to out.  A missing or
 * null field renders as nothing.  Returns the number of references that
 * were missing or null.
 */
size_t lsh_tpl_render(const struct lsh_tpl *t, const struct lsh_batch *b,
                      const struct lsh_record *r, struct lsh_str host,
                      struct lsh_buf *out);

/* Appends a value as template text: strings raw, numbers in decimal. */
void lsh_tpl_value(struct lsh_buf *out, const struct lsh_value *v);

/*
 * The text of name for record r: its field (numbers in decimal), or the
 * built-in of that name.  Text that must be formatted is appended to
 * scratch, which must not change until *out is used.  Returns false if
 * the record has no such value (a missing or null field, a removed body).
 */
bool lsh_record_text(const struct lsh_batch *b, const struct lsh_record *r,
                     struct lsh_str name, struct lsh_str host,
                     struct lsh_buf *scratch, struct lsh_str *out);

#endif
