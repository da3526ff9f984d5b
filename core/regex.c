/*
 * PCRE2 wrapper.
 */
#include "regex.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct lsh_regex_group {
    struct lsh_str name; /* into names */
    uint32_t       number;
};

struct lsh_regex {
    char                   *src;
    pcre2_code             *code;
    pcre2_match_context    *mctx;
    pcre2_match_data       *md;
    pcre2_jit_stack        *jit_stack;
    struct lsh_regex_group *groups;
    size_t                  ngroups;
    char                   *names;
};

static int lsh_regex_group_cmp(const void *a, const void *b)
{
    const struct lsh_regex_group *x = a;
    const struct lsh_regex_group *y = b;

    return (x->number > y->number) - (x->number < y->number);
}

/* Reads the name table: each entry is a 2-byte number, then the name. */
static void lsh_regex_load_names(struct lsh_regex *re)
{
    uint32_t   count = 0;
    uint32_t   size = 0;
    PCRE2_SPTR table = NULL;
    uint32_t   i;
    char      *p;

    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0) {
        return;
    }
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    re->groups = lsh_calloc(count, sizeof(*re->groups));
    re->names = lsh_malloc((size_t)count * size);
    p = re->names;
    for (i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * size;
        size_t               n = strlen((const char *)e + 2);

        memcpy(p, e + 2, n + 1);
        re->groups[i].number = (uint32_t)(e[0] << 8 | e[1]);
        re->groups[i].name = lsh_str_make(p, n);
        p += n + 1;
    }
    re->ngroups = count;
    qsort(re->groups, count, sizeof(*re->groups), lsh_regex_group_cmp);
}

size_t lsh_regex_ngroups(const struct lsh_regex *re)
{
    return re->ngroups;
}

struct lsh_str lsh_regex_group_name(const struct lsh_regex *re, size_t i)
{
    return re->groups[i].name;
}

bool lsh_regex_group(const struct lsh_regex *re, size_t i, size_t *start,
                     size_t *end)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    uint32_t    n = re->groups[i].number;

    if (n >= pcre2_get_ovector_count(re->md) || ov[2 * n] == PCRE2_UNSET) {
        return false;
    }
    *start = ov[2 * n];
    *end = ov[2 * n + 1];
    return true;
}

struct lsh_regex *lsh_regex_compile(const char *pattern, char *err,
                                    size_t errlen, size_t *at)
{
    struct lsh_regex *re;
    int               code;
    PCRE2_SIZE        off;
    pcre2_code       *c;

    c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (c == NULL) {
        pcre2_get_error_message(code, (PCRE2_UCHAR *)err, errlen);
        *at = (size_t)off;
        return NULL;
    }
    re = lsh_calloc(1, sizeof(*re));
    re->src = lsh_strdup(pattern);
    re->code = c;
    re->mctx = pcre2_match_context_create(NULL);
    re->md = pcre2_match_data_create_from_pattern(c, NULL);
    if (re->mctx == NULL || re->md == NULL) {
        lsh_regex_destroy(re);
        snprintf(err, errlen, "out of memory");
        *at = 0;
        return NULL;
    }
    if (pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) {
        re->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (re->jit_stack != NULL) {
            pcre2_jit_stack_assign(re->mctx, NULL, re->jit_stack);
        }
    }
    lsh_regex_limits(re, LSH_REGEX_MATCH_LIMIT, LSH_REGEX_DEPTH_LIMIT);
    lsh_regex_load_names(re);
    return re;
}

void lsh_regex_destroy(struct lsh_regex *re)
{
    if (re == NULL) {
        return;
    }
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_jit_stack_free(re->jit_stack);
    pcre2_code_free(re->code);
    free(re->groups);
    free(re->names);
    free(re->src);
    free(re);
}

const char *lsh_regex_source(const struct lsh_regex *re)
{
    return re->src;
}

void lsh_regex_limits(struct lsh_regex *re, uint32_t match_limit,
                      uint32_t depth_limit)
{
    if (match_limit > 0) {
        pcre2_set_match_limit(re->mctx, match_limit);
    }
    if (depth_limit > 0) {
        pcre2_set_depth_limit(re->mctx, depth_limit);
    }
}

int lsh_regex_match(struct lsh_regex *re, const char *subject, size_t len)
{
    int rc =
        pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md, re->mctx);

    if (rc >= 0) {
        return 1;
    }
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return 0;
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        return LSH_EAGAIN;
    default:
        return LSH_ERR;
    }
}
