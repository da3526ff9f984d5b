/*
 * parse filter: turns a line (or a field) into named fields.
 *
 * format: regex - the patterns are tried in order; the first that matches
 * sets a field per named group.  Values point into the subject: nothing
 * is copied.  A match that hits PCRE2's match or depth limit counts as a
 * mismatch (and is counted apart), so a hostile line cannot stall the
 * pipeline.
 *
 * format: json - the subject is a JSON object; its members become fields.
 * Nested objects and arrays are kept as JSON text (nested: json) or, for
 * objects, flattened into "a.b" fields (nested: flatten; arrays stay JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jparse.h"
#include "mem.h"
#include "plugin.h"
#include "regex.h"
#include "timeparse.h"
#include "tpl.h"

enum flt_parse_format { FLT_PARSE_REGEX, FLT_PARSE_JSON };
enum flt_parse_mismatch { FLT_PARSE_KEEP, FLT_PARSE_DROP, FLT_PARSE_TAG };
enum flt_parse_nested { FLT_PARSE_NESTED_JSON, FLT_PARSE_FLATTEN };
enum flt_parse_type { FLT_T_STRING, FLT_T_INT, FLT_T_FLOAT, FLT_T_BOOL };

struct flt_parse_time_conf {
    char *field;
    char *format;
    bool  keep;
};

struct flt_parse_conf {
    int                         format;
    struct lsh_strlist          regex;
    char                       *field;
    struct lsh_kvlist           types;
    struct flt_parse_time_conf *time;
    int                         on_mismatch;
    char                       *tag;
    bool                        keep_body;
    int                         nested;
    int64_t                     match_limit;
    int64_t                     depth_limit;
};

struct flt_parse_stats {
    uint64_t matched;
    uint64_t mismatched;
    uint64_t limit_hits;  /* of the mismatches: a regex limit was hit */
    uint64_t bad_json;    /* of the mismatches: not a JSON object */
    uint64_t type_errors; /* a value that does not fit its type: kept */
    uint64_t time_errors; /* a time that does not parse: read time kept */
};

struct flt_parse {
    const struct flt_parse_conf *conf;
    struct lsh_str               field;
    int                        **group_types; /* per regex, per group */
    struct lsh_timefmt           timefmt;
    struct lsh_str               time_field;
    struct lsh_buf               scratch;
    struct flt_parse_stats       s;
};

static const char *const flt_parse_formats[] = {"regex", "json", NULL};
static const char *const flt_parse_mismatches[] = {"keep", "drop", "tag", NULL};
static const char *const flt_parse_nesteds[] = {"json", "flatten", NULL};
static const char *const flt_parse_types[] = {"string", "int", "float", "bool",
                                              NULL};

static const struct lsh_option flt_parse_time_options[] = {
    {.name = "field",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct flt_parse_time_conf, field),
     .help = "The field holding the time (a group or a JSON key)."},
    {.name = "format",
     .type = LSH_OPT_STR,
     .def = "iso8601",
     .offset = offsetof(struct flt_parse_time_conf, format),
     .help = "iso8601, epoch, epoch_ms, epoch_us, epoch_ns, or a strptime "
             "format where %f is a fraction of a second. Fractions are "
             "kept to the nanosecond."},
    {.name = "keep",
     .type = LSH_OPT_BOOL,
     .def = "false",
     .offset = offsetof(struct flt_parse_time_conf, keep),
     .help = "Keep the field after setting the record's time from it."},
    {.name = NULL},
};

static const struct lsh_option flt_parse_options[] = {
    {.name = "format",
     .type = LSH_OPT_ENUM,
     .def = "regex",
     .offset = offsetof(struct flt_parse_conf, format),
     .values = flt_parse_formats,
     .help = "regex: named groups become fields; json: the members of a "
             "JSON object become fields."},
    {.name = "regex",
     .type = LSH_OPT_STRLIST,
     .item = LSH_OPT_REGEX,
     .offset = offsetof(struct flt_parse_conf, regex),
     .help = "PCRE2 pattern, or a list tried in order; each named group "
             "((?<name>...)) becomes a field. Compiled once, with JIT."},
    {.name = "field",
     .type = LSH_OPT_STR,
     .def = "body",
     .offset = offsetof(struct flt_parse_conf, field),
     .help = "The field to parse."},
    {.name = "types",
     .type = LSH_OPT_MAP,
     .offset = offsetof(struct flt_parse_conf, types),
     .help = "Field to type: int, float, bool or string. A value that "
             "does not fit its type stays a string (and is counted)."},
    {.name = "time",
     .type = LSH_OPT_SUB,
     .offset = offsetof(struct flt_parse_conf, time),
     .sub = flt_parse_time_options,
     .sub_size = sizeof(struct flt_parse_time_conf),
     .help = "{field, format, keep}: set the record's time from a parsed "
             "field."},
    {.name = "on_mismatch",
     .type = LSH_OPT_ENUM,
     .def = "keep",
     .offset = offsetof(struct flt_parse_conf, on_mismatch),
     .values = flt_parse_mismatches,
     .help = "A record nothing matched: keep it as it is, drop it, or "
             "tag it (set the field named by tag to the reason)."},
    {.name = "tag",
     .type = LSH_OPT_STR,
     .def = "parse_error",
     .offset = offsetof(struct flt_parse_conf, tag),
     .help = "The field on_mismatch: tag sets: \"no match\", \"match "
             "limit\" or \"invalid json\"."},
    {.name = "keep_body",
     .type = LSH_OPT_BOOL,
     .def = "true",
     .offset = offsetof(struct flt_parse_conf, keep_body),
     .help = "false: remove the body from records that were parsed."},
    {.name = "nested",
     .type = LSH_OPT_ENUM,
     .def = "json",
     .offset = offsetof(struct flt_parse_conf, nested),
     .values = flt_parse_nesteds,
     .help = "format json: keep nested objects and arrays as JSON text, "
             "or flatten nested objects into a.b fields."},
    {.name = "match_limit",
     .type = LSH_OPT_INT,
     .def = "100000",
     .offset = offsetof(struct flt_parse_conf, match_limit),
     .min = 100,
     .max = 100000000,
     .help = "PCRE2 match limit: backtracking steps before a match gives "
             "up (a mismatch, counted apart)."},
    {.name = "depth_limit",
     .type = LSH_OPT_INT,
     .def = "10000",
     .offset = offsetof(struct flt_parse_conf, depth_limit),
     .min = 10,
     .max = 10000000,
     .help = "PCRE2 depth limit, likewise."},
    {.name = NULL},
};

static int flt_parse_type_of(const char *s)
{
    int i;

    for (i = 0; flt_parse_types[i] != NULL; i++) {
        if (strcmp(s, flt_parse_types[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int flt_parse_validate(const void *conf, struct lsh_diag *d)
{
    const struct flt_parse_conf *c = conf;
    struct lsh_timefmt           tf;
    const char                  *err;
    size_t                       i;
    int                          rc = LSH_OK;

    if (c->format == FLT_PARSE_REGEX && c->regex.n == 0) {
        rc = lsh_diag_key(d, "format", "regex needs a 'regex' option");
    }
    if (c->format == FLT_PARSE_JSON && c->regex.n > 0) {
        rc = lsh_diag_key(d, "regex", "not used with format: json");
    }
    for (i = 0; i < c->types.n; i++) {
        if (flt_parse_type_of(c->types.vals[i]) < 0) {
            rc = lsh_diag_error(d, &c->types.marks[i],
                                "option 'types': field '%s': '%s' is not one "
                                "of: string, int, float, bool",
                                c->types.keys[i], c->types.vals[i]);
        }
    }
    if (c->time != NULL &&
        lsh_timefmt_compile(&tf, c->time->format, &err) != LSH_OK) {
        rc = lsh_diag_key(d, "time", "format '%s' %s", c->time->format, err);
    }
    return rc;
}

static int flt_parse_init(struct lsh_instance *ins, const void *conf)
{
    const struct flt_parse_conf *c = conf;
    struct flt_parse            *p = lsh_calloc(1, sizeof(*p));
    const char                  *err;
    size_t                       i;
    size_t                       g;
    size_t                       k;

    p->conf = c;
    p->field = lsh_str_make(c->field, strlen(c->field));
    ins->ctx = p;
    p->group_types = lsh_calloc(c->regex.n + 1, sizeof(*p->group_types));
    for (i = 0; i < c->regex.n; i++) {
        struct lsh_regex *re = c->regex.objs[i];
        size_t            ng = lsh_regex_ngroups(re);

        lsh_regex_limits(re, (uint32_t)c->match_limit,
                         (uint32_t)c->depth_limit);
        p->group_types[i] = lsh_calloc(ng + 1, sizeof(int));
        for (g = 0; g < ng; g++) {
            struct lsh_str name = lsh_regex_group_name(re, g);

            for (k = 0; k < c->types.n; k++) {
                if (lsh_str_eqz(name, c->types.keys[k])) {
                    p->group_types[i][g] = flt_parse_type_of(c->types.vals[k]);
                }
            }
        }
    }
    if (c->time != NULL) {
        lsh_timefmt_compile(&p->timefmt, c->time->format, &err);
        p->time_field = lsh_str_make(c->time->field, strlen(c->time->field));
    }
    return LSH_OK;
}

/* --- typed values -------------------------------------------------------- */

static bool flt_parse_int(struct lsh_str s, int64_t *out)
{
    size_t   i = 0;
    bool     neg = false;
    uint64_t u = 0;

    if (s.len > 0 && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        neg = s.ptr[0] == '-';
        i = 1;
    }
    if (i == s.len) {
        return false;
    }
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9' || u > (UINT64_MAX - 9) / 10) {
            return false;
        }
        u = u * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    if (u > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
        return false;
    }
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

static bool flt_parse_float(struct lsh_str s, double *out)
{
    char  buf[64];
    char *end;

    if (s.len == 0 || s.len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    *out = strtod(buf, &end);
    return *end == '\0' && buf[0] != ' ';
}

static bool flt_parse_bool(struct lsh_str s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t                   i;

    for (i = 0; i < LSH_ARRAY_SIZE(yes); i++) {
        if (s.len == strlen(yes[i]) && strncasecmp(s.ptr, yes[i], s.len) == 0) {
            *out = true;
            return true;
        }
        if (s.len == strlen(no[i]) && strncasecmp(s.ptr, no[i], s.len) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* The value of text as type; a value that does not fit stays a string. */
static struct lsh_value flt_parse_typed(struct flt_parse *p, int type,
                                        struct lsh_str text)
{
    struct lsh_value v = lsh_value_str(text);
    bool             ok = true;

    switch (type) {
    case FLT_T_INT:
        ok = flt_parse_int(text, &v.i);
        if (ok) {
            v.type = LSH_V_INT;
        }
        break;
    case FLT_T_FLOAT:
        ok = flt_parse_float(text, &v.f);
        if (ok) {
            v.type = LSH_V_FLOAT;
        }
        break;
    case FLT_T_BOOL:
        ok = flt_parse_bool(text, &v.b);
        if (ok) {
            v.type = LSH_V_BOOL;
        }
        break;
    default:
        break;
    }
    if (!ok) {
        v = lsh_value_str(text);
        p->s.type_errors++;
    }
    return v;
}

/* The type the types option gives a field name (for JSON keys). */
static int flt_parse_type_for(const struct flt_parse *p, struct lsh_str name)
{
    const struct lsh_kvlist *t = &p->conf->types;
    size_t                   i;

    for (i = 0; i < t->n; i++) {
        if (lsh_str_eqz(name, t->keys[i])) {
            return flt_parse_type_of(t->vals[i]);
        }
    }
    return FLT_T_STRING;
}

/* --- regex --------------------------------------------------------------- */

/* Returns 1 if a pattern matched, 0 if none did; *limit if one gave up. */
static int flt_parse_regex(struct flt_parse *p, struct lsh_batch *b,
                           struct lsh_record *r, struct lsh_str subj,
                           bool *limit)
{
    const struct lsh_strlist *l = &p->conf->regex;
    size_t                    i;
    size_t                    g;

    for (i = 0; i < l->n; i++) {
        struct lsh_regex *re = l->objs[i];
        int               m = lsh_regex_match(re, subj.ptr, subj.len);

        if (m == LSH_EAGAIN || m == LSH_ERR) {
            *limit = true;
            continue;
        }
        if (m != 1) {
            continue;
        }
        for (g = 0; g < lsh_regex_ngroups(re); g++) {
            size_t start;
            size_t end;

            if (!lsh_regex_group(re, g, &start, &end)) {
                continue; /* an optional group that took no part */
            }
            lsh_record_set(
                b, r, lsh_regex_group_name(re, g),
                flt_parse_typed(p, p->group_types[i][g],
                                lsh_str_make(subj.ptr + start, end - start)));
        }
        return 1;
    }
    return 0;
}

/* --- json ---------------------------------------------------------------- */

struct flt_parse_json {
    struct flt_parse  *p;
    struct lsh_batch  *b;
    struct lsh_record *r;
    struct lsh_str     prefix; /* "a.b." while flattening */
};

static struct lsh_str flt_parse_jstr(struct lsh_batch *b, struct lsh_str raw,
                                     bool escaped)
{
    char *out;

    if (!escaped) {
        return lsh_jstring_plain(raw); /* points into the line: no copy */
    }
    out = lsh_arena_alloc(&b->arena, raw.len);
    return lsh_str_make(out, lsh_jstring(raw, out));
}

static int flt_parse_member(void *arg, const struct lsh_jvalue *k,
                            const struct lsh_jvalue *v);

static struct lsh_str flt_parse_key(struct flt_parse_json   *j,
                                    const struct lsh_jvalue *k)
{
    struct lsh_str key = flt_parse_jstr(j->b, k->raw, k->escaped);
    char          *full;

    if (j->prefix.len == 0) {
        return key;
    }
    full = lsh_arena_alloc(&j->b->arena, j->prefix.len + key.len);
    memcpy(full, j->prefix.ptr, j->prefix.len);
    memcpy(full + j->prefix.len, key.ptr, key.len);
    return lsh_str_make(full, j->prefix.len + key.len);
}

static int flt_parse_member(void *arg, const struct lsh_jvalue *k,
                            const struct lsh_jvalue *v)
{
    struct flt_parse_json *j = arg;
    struct lsh_str         key = flt_parse_key(j, k);
    struct lsh_value       val;
    const char            *err;
    size_t                 at;

    switch (v->type) {
    case LSH_J_STRING:
        val = flt_parse_typed(j->p, flt_parse_type_for(j->p, key),
                              flt_parse_jstr(j->b, v->raw, v->escaped));
        break;
    case LSH_J_NUMBER:
        lsh_jnumber(v->raw, &val);
        break;
    case LSH_J_TRUE:
    case LSH_J_FALSE:
        val.type = LSH_V_BOOL;
        val.b = v->type == LSH_J_TRUE;
        break;
    case LSH_J_NULL:
        val.type = LSH_V_NULL;
        break;
    case LSH_J_OBJECT:
        if (j->p->conf->nested == FLT_PARSE_FLATTEN) {
            struct flt_parse_json sub = *j;
            char *pre = lsh_arena_alloc(&j->b->arena, key.len + 1);

            memcpy(pre, key.ptr, key.len);
            pre[key.len] = '.';
            sub.prefix = lsh_str_make(pre, key.len + 1);
            return lsh_jparse_object(v->raw.ptr, v->raw.len, flt_parse_member,
                                     &sub, &err, &at);
        }
        val.type = LSH_V_JSON; /* kept as JSON text */
        val.s = v->raw;
        break;
    default:
        val.type = LSH_V_JSON;
        val.s = v->raw;
        break;
    }
    lsh_record_set(j->b, j->r, key, val);
    return 0;
}

/* --- per record ---------------------------------------------------------- */

/* Sets the record's time from the time field, and removes the field. */
static void flt_parse_time(struct flt_parse *p, struct lsh_record *r)
{
    struct lsh_field *f = lsh_record_field(r, p->time_field);
    struct lsh_str    text;
    int64_t           ns;

    if (f == NULL || f->v.type == LSH_V_NULL) {
        p->s.time_errors++;
        return;
    }
    text = f->v.s;
    if (f->v.type != LSH_V_STR) { /* an epoch given as a JSON number */
        lsh_buf_reset(&p->scratch);
        lsh_tpl_value(&p->scratch, &f->v);
        text = lsh_str_make(p->scratch.ptr, p->scratch.len);
    }
    if (lsh_time_parse(&p->timefmt, text.ptr, text.len, &ns) != LSH_OK) {
        p->s.time_errors++;
        return;
    }
    r->time_ns = ns;
    if (!p->conf->time->keep) {
        lsh_record_unset(r, p->time_field);
    }
}

/* The text to parse; stable for the batch's life. */
static bool flt_parse_subject(struct flt_parse *p, struct lsh_batch *b,
                              const struct lsh_record *r, struct lsh_str *out)
{
    lsh_buf_reset(&p->scratch);
    if (!lsh_record_text(b, r, p->field, lsh_host(), &p->scratch, out)) {
        return false;
    }
    if (p->scratch.len > 0) { /* formatted into scratch: keep a copy */
        out->ptr = lsh_arena_memdup(&b->arena, out->ptr, out->len);
    }
    return true;
}

static void flt_parse_mismatch(struct flt_parse *p, struct lsh_batch *b,
                               struct lsh_record *r, const char *why)
{
    p->s.mismatched++;
    switch (p->conf->on_mismatch) {
    case FLT_PARSE_DROP:
        lsh_batch_drop(b, r);
        break;
    case FLT_PARSE_TAG:
        lsh_record_set(b, r, lsh_str_make(p->conf->tag, strlen(p->conf->tag)),
                       lsh_value_str(lsh_str_make(why, strlen(why))));
        break;
    default:
        break;
    }
}

static int flt_parse_process(struct lsh_instance *ins, struct lsh_batch *b)
{
    struct flt_parse            *p = ins->ctx;
    const struct flt_parse_conf *c = p->conf;
    size_t                       i;

    for (i = 0; i < b->n; i++) {
        struct lsh_record *r = &b->recs[i];
        struct lsh_str     subj;
        bool               limit = false;
        int                ok;

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        if (!flt_parse_subject(p, b, r, &subj)) {
            flt_parse_mismatch(p, b, r, "no match");
            continue;
        }
        if (c->format == FLT_PARSE_JSON) {
            struct flt_parse_json  j = {p, b, r, {NULL, 0}};
            struct lsh_record_mark mark;
            const char            *err;
            size_t                 at;

            lsh_record_mark(b, r, &mark);
            ok = lsh_jparse_object(subj.ptr, subj.len, flt_parse_member, &j,
                                   &err, &at) == LSH_OK;
            if (!ok) {
                /* invalid JSON gives no field at all, not the first few */
                lsh_record_rewind(r, &mark);
                p->s.bad_json++;
                flt_parse_mismatch(p, b, r, "invalid json");
                continue;
            }
        } else {
            ok = flt_parse_regex(p, b, r, subj, &limit);
            if (!ok) {
                p->s.limit_hits += limit;
                flt_parse_mismatch(p, b, r, limit ? "match limit" : "no match");
                continue;
            }
        }
        p->s.matched++;
        if (c->time != NULL) {
            flt_parse_time(p, r);
        }
        if (!c->keep_body) {
            r->flags |= LSH_REC_NO_BODY;
        }
    }
    return LSH_OK;
}

static void flt_parse_exit(struct lsh_instance *ins)
{
    struct flt_parse *p = ins->ctx;
    size_t            i;

    if (p == NULL) {
        return;
    }
    lsh_ins_info(
        ins,
        "%llu parsed, %llu mismatched (%llu at a regex limit, %llu "
        "invalid json); %llu values not of their type, %llu times "
        "not parsed",
        (unsigned long long)p->s.matched, (unsigned long long)p->s.mismatched,
        (unsigned long long)p->s.limit_hits, (unsigned long long)p->s.bad_json,
        (unsigned long long)p->s.type_errors,
        (unsigned long long)p->s.time_errors);
    for (i = 0; i < p->conf->regex.n; i++) {
        free(p->group_types[i]);
    }
    free(p->group_types);
    lsh_buf_release(&p->scratch);
    free(p);
    ins->ctx = NULL;
}

const struct lsh_plugin flt_parse_plugin = {
    .name = "parse",
    .description = "Parses a field (the body by default) into named fields, "
                   "with PCRE2 regexes or as a JSON object; sets the record "
                   "time from a field.",
    .kind = LSH_PLUGIN_FILTER,
    .options = flt_parse_options,
    .conf_size = sizeof(struct flt_parse_conf),
    .validate = flt_parse_validate,
    .init = flt_parse_init,
    .process = flt_parse_process,
    .exit = flt_parse_exit,
};
