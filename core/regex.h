/*
 * Regular expressions: PCRE2, compiled once (JIT where available) with
 * hard match and depth limits, safe on any bytes.
 *
 * Patterns are compiled in UTF mode with PCRE2_MATCH_INVALID_UTF: a
 * subject with invalid UTF-8 never errors, its invalid bytes just cannot
 * be part of a match.  A match that hits a limit is reported as
 * LSH_EAGAIN, distinct from "no match".
 */
#ifndef LSH_REGEX_H
#define LSH_REGEX_H

#include "lsh.h"

#define LSH_REGEX_MATCH_LIMIT 100000
#define LSH_REGEX_DEPTH_LIMIT 10000

struct lsh_regex;

/*
 * Compiles pattern.  Returns NULL with PCRE2's message in err and the
 * offset of the problem in *at.
 */
struct lsh_regex *lsh_regex_compile(const char *pattern, char *err,
                                    size_t errlen, size_t *at);
void              lsh_regex_destroy(struct lsh_regex *re);

const char *lsh_regex_source(const struct lsh_regex *re);

/* Sets the match and depth limits (0 keeps the current one). */
void lsh_regex_limits(struct lsh_regex *re, uint32_t match_limit,
                      uint32_t depth_limit);

/*
 * Matches subject[0..len).  Returns 1 on a match, 0 on no match,
 * LSH_EAGAIN when a limit was hit, LSH_ERR on another PCRE2 error.
 * Not thread-safe: the match data is shared.
 */
int lsh_regex_match(struct lsh_regex *re, const char *subject, size_t len);

/* Named groups, in the order of their numbers. */
size_t         lsh_regex_ngroups(const struct lsh_regex *re);
struct lsh_str lsh_regex_group_name(const struct lsh_regex *re, size_t i);

/*
 * After a match: the span of named group i in the subject.  Returns false
 * if the group did not take part in the match.
 */
bool lsh_regex_group(const struct lsh_regex *re, size_t i, size_t *start,
                     size_t *end);

#endif
