/*
 * Option tables: parse, validate, default, free, print and document.
 */
#include "option.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "mem.h"
#include "regex.h"
#include "tpl.h"

struct lsh_unit {
    const char *name;
    int64_t     mult;
};

static const struct lsh_unit lsh_duration_units[] = {
    {"ms", 1},      {"s", 1000},     {"m", 60000},
    {"h", 3600000}, {"d", 86400000}, {NULL, 0},
};

static const struct lsh_unit lsh_size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1024},
    {"kib", 1024},
    {"kb", 1000},
    {"m", 1024 * 1024},
    {"mib", 1024 * 1024},
    {"mb", 1000 * 1000},
    {"g", 1024LL * 1024 * 1024},
    {"gib", 1024LL * 1024 * 1024},
    {"gb", 1000LL * 1000 * 1000},
    {NULL, 0},
};

static const char *const lsh_opt_type_names[] = {
    [LSH_OPT_STR] = "string",         [LSH_OPT_STRLIST] = "list of strings",
    [LSH_OPT_INT] = "integer",        [LSH_OPT_BOOL] = "boolean",
    [LSH_OPT_ENUM] = "one of",        [LSH_OPT_DURATION] = "duration",
    [LSH_OPT_SIZE] = "size",          [LSH_OPT_TEMPLATE] = "template",
    [LSH_OPT_MAP] = "map of strings", [LSH_OPT_SUB] = "map",
    [LSH_OPT_REGEX] = "regex",
};

int lsh_parse_int(const char *s, int64_t *v)
{
    char     *end;
    long long x;

    if (*s == '\0' || isspace((unsigned char)*s)) {
        return LSH_EINVAL;
    }
    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return LSH_EINVAL;
    }
    *v = x;
    return LSH_OK;
}

int lsh_parse_bool(const char *s, bool *v)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    size_t                   i;

    for (i = 0; i < LSH_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *v = true;
            return LSH_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *v = false;
            return LSH_OK;
        }
    }
    return LSH_EINVAL;
}

/*
 * Parses "<number><unit>" where number may have a fraction.  Returns
 * LSH_EINVAL for bad syntax, an unknown unit, a negative value or an
 * overflow.
 */
static int lsh_parse_units(const char *s, const struct lsh_unit *units,
                           bool unit_required, int64_t *out)
{
    char                  *end;
    double                 x;
    const struct lsh_unit *u;

    if (*s == '\0' || isspace((unsigned char)*s) || *s == '-' || *s == '+') {
        return LSH_EINVAL;
    }
    errno = 0;
    x = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(x) || isalpha((unsigned char)*s)) {
        return LSH_EINVAL;
    }
    while (*end == ' ') {
        end++;
    }
    if (*end == '\0' && unit_required && x != 0) {
        return LSH_EINVAL;
    }
    for (u = units; u->name != NULL; u++) {
        if (strcasecmp(end, u->name) == 0 || (*end == '\0' && u->mult == 1)) {
            double v = x * (double)u->mult;

            if (v >= 9.2e18) {
                return LSH_EINVAL;
            }
            *out = (int64_t)llround(v);
            return LSH_OK;
        }
    }
    return LSH_EINVAL;
}

int lsh_parse_duration_ms(const char *s, int64_t *ms)
{
    return lsh_parse_units(s, lsh_duration_units, true, ms);
}

int lsh_parse_size(const char *s, int64_t *bytes)
{
    return lsh_parse_units(s, lsh_size_units, false, bytes);
}

static void lsh_fmt_duration(struct lsh_buf *out, int64_t ms)
{
    if (ms != 0 && ms % 86400000 == 0) {
        lsh_buf_addf(out, "%" PRId64 "d", ms / 86400000);
    } else if (ms != 0 && ms % 3600000 == 0) {
        lsh_buf_addf(out, "%" PRId64 "h", ms / 3600000);
    } else if (ms != 0 && ms % 60000 == 0) {
        lsh_buf_addf(out, "%" PRId64 "m", ms / 60000);
    } else if (ms != 0 && ms % 1000 == 0) {
        lsh_buf_addf(out, "%" PRId64 "s", ms / 1000);
    } else {
        lsh_buf_addf(out, "%" PRId64 "ms", ms);
    }
}

static void lsh_fmt_size(struct lsh_buf *out, int64_t b)
{
    if (b != 0 && b % ((int64_t)1024 * 1024 * 1024) == 0) {
        lsh_buf_addf(out, "%" PRId64 "GiB", b / ((int64_t)1024 * 1024 * 1024));
    } else if (b != 0 && b % (1024 * 1024) == 0) {
        lsh_buf_addf(out, "%" PRId64 "MiB", b / (1024 * 1024));
    } else if (b != 0 && b % 1024 == 0) {
        lsh_buf_addf(out, "%" PRId64 "KiB", b / 1024);
    } else {
        lsh_buf_addf(out, "%" PRId64, b);
    }
}

static void lsh_fmt_num(struct lsh_buf *out, enum lsh_opt_type t, int64_t v)
{
    if (t == LSH_OPT_DURATION) {
        lsh_fmt_duration(out, v);
    } else if (t == LSH_OPT_SIZE) {
        lsh_fmt_size(out, v);
    } else {
        lsh_buf_addf(out, "%" PRId64, v);
    }
}

static void lsh_join_values(struct lsh_buf *out, const char *const *v)
{
    size_t i;

    for (i = 0; v[i] != NULL; i++) {
        lsh_buf_addf(out, "%s%s", i ? ", " : "", v[i]);
    }
}

static size_t lsh_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t row[64];
    size_t i;
    size_t j;

    if (la >= LSH_ARRAY_SIZE(row) || lb >= LSH_ARRAY_SIZE(row)) {
        return SIZE_MAX;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
                                  tolower((unsigned char)b[j - 1]));

            best = LSH_MIN(best, up + 1);
            best = LSH_MIN(best, row[j - 1] + 1);
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Context for one parse: where errors go and the dotted key prefix. */
struct lsh_optctx {
    struct lsh_diag *d;
    const char      *prefix; /* "multiline." for nested tables */
};

static int lsh_opt_err(struct lsh_optctx *c, const struct lsh_mark *m,
                       const struct lsh_option *o, const char *fmt, ...)
    LSH_PRINTF(4, 5);

static int lsh_opt_err(struct lsh_optctx *c, const struct lsh_mark *m,
                       const struct lsh_option *o, const char *fmt, ...)
{
    struct lsh_buf msg = LSH_BUF_INIT;
    va_list        ap;

    va_start(ap, fmt);
    lsh_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    lsh_diag_error(c->d, m, "option '%s%s': %s", c->prefix, o->name,
                   lsh_buf_cstr(&msg));
    lsh_buf_release(&msg);
    return LSH_EINVAL;
}

static void lsh_unknown_key(struct lsh_optctx *c, const struct lsh_option *t,
                            const char *const *skip, const struct lsh_node *key)
{
    struct lsh_buf           valid = LSH_BUF_INIT;
    const struct lsh_option *o;
    const char              *best = NULL;
    size_t                   bestd = 3;
    size_t                   i;

    for (o = t; o->name != NULL; o++) {
        size_t dist = lsh_edit_distance(key->value, o->name);

        lsh_buf_addf(&valid, "%s%s", valid.len ? ", " : "", o->name);
        if (dist < bestd) {
            bestd = dist;
            best = o->name;
        }
    }
    for (i = 0; skip != NULL && skip[i] != NULL; i++) {
        lsh_buf_addf(&valid, "%s%s", valid.len ? ", " : "", skip[i]);
    }
    if (best != NULL) {
        lsh_diag_error(c->d, &key->mark,
                       "unknown option '%s%s' (did you mean '%s'?); "
                       "valid options: %s",
                       c->prefix, key->value, best, lsh_buf_cstr(&valid));
    } else {
        lsh_diag_error(c->d, &key->mark,
                       "unknown option '%s%s'; valid options: %s", c->prefix,
                       key->value, lsh_buf_cstr(&valid));
    }
    lsh_buf_release(&valid);
}

static int lsh_opt_bounds(struct lsh_optctx *c, const struct lsh_option *o,
                          const struct lsh_mark *m, int64_t v)
{
    struct lsh_buf a = LSH_BUF_INIT;
    struct lsh_buf b = LSH_BUF_INIT;
    int            rc = LSH_OK;

    if (o->min == 0 && o->max == 0) {
        return LSH_OK;
    }
    lsh_fmt_num(&a, o->type, v);
    if (v < o->min) {
        lsh_fmt_num(&b, o->type, o->min);
        rc = lsh_opt_err(c, m, o, "%s is below the minimum %s",
                         lsh_buf_cstr(&a), lsh_buf_cstr(&b));
    } else if (v > o->max) {
        lsh_fmt_num(&b, o->type, o->max);
        rc = lsh_opt_err(c, m, o, "%s is above the maximum %s",
                         lsh_buf_cstr(&a), lsh_buf_cstr(&b));
    }
    lsh_buf_release(&a);
    lsh_buf_release(&b);
    return rc;
}

static int lsh_opt_enum(struct lsh_optctx *c, const struct lsh_option *o,
                        const struct lsh_mark *m, const char *s, int *out)
{
    struct lsh_buf list = LSH_BUF_INIT;
    int            i;

    for (i = 0; o->values[i] != NULL; i++) {
        if (strcmp(s, o->values[i]) == 0) {
            *out = i;
            return LSH_OK;
        }
    }
    lsh_join_values(&list, o->values);
    lsh_opt_err(c, m, o, "'%s' is not one of: %s", s, lsh_buf_cstr(&list));
    lsh_buf_release(&list);
    return LSH_EINVAL;
}

static int lsh_opt_parse_table(struct lsh_optctx       *c,
                               const struct lsh_option *table,
                               const struct lsh_node   *map,
                               const char *const *skip, void *conf);

static int lsh_opt_regex(struct lsh_optctx *c, const struct lsh_option *o,
                         const struct lsh_mark *m, const char *s, void *field)
{
    char   err[256];
    size_t at = 0;

    lsh_regex_destroy(*(struct lsh_regex **)field);
    *(struct lsh_regex **)field = lsh_regex_compile(s, err, sizeof(err), &at);
    if (*(struct lsh_regex **)field == NULL) {
        return lsh_opt_err(c, m, o, "invalid regex: %s at offset %zu in '%s'",
                           err, at, s);
    }
    return LSH_OK;
}

/* Parses one scalar text for o into field. */
static int lsh_opt_scalar(struct lsh_optctx *c, const struct lsh_option *o,
                          const struct lsh_mark *m, const char *s, void *field)
{
    int64_t     v;
    const char *err;
    size_t      at;

    switch (o->type) {
    case LSH_OPT_STR:
        free(*(char **)field);
        *(char **)field = lsh_strdup(s);
        return LSH_OK;
    case LSH_OPT_INT:
        if (lsh_parse_int(s, &v) != LSH_OK) {
            return lsh_opt_err(c, m, o, "'%s' is not an integer", s);
        }
        *(int64_t *)field = v;
        return lsh_opt_bounds(c, o, m, v);
    case LSH_OPT_DURATION:
        if (lsh_parse_duration_ms(s, &v) != LSH_OK) {
            return lsh_opt_err(c, m, o,
                               "'%s' is not a duration (a number with a "
                               "unit: ms, s, m or h, as in 500ms or 2s)",
                               s);
        }
        *(int64_t *)field = v;
        return lsh_opt_bounds(c, o, m, v);
    case LSH_OPT_SIZE:
        if (lsh_parse_size(s, &v) != LSH_OK) {
            return lsh_opt_err(c, m, o,
                               "'%s' is not a size (bytes, or a number "
                               "with KiB, MiB, GiB, KB, MB or GB)",
                               s);
        }
        *(int64_t *)field = v;
        return lsh_opt_bounds(c, o, m, v);
    case LSH_OPT_BOOL:
        if (lsh_parse_bool(s, (bool *)field) != LSH_OK) {
            return lsh_opt_err(c, m, o, "'%s' is not true or false", s);
        }
        return LSH_OK;
    case LSH_OPT_ENUM:
        return lsh_opt_enum(c, o, m, s, (int *)field);
    case LSH_OPT_TEMPLATE:
        lsh_tpl_destroy(*(struct lsh_tpl **)field);
        *(struct lsh_tpl **)field = lsh_tpl_compile(s, &err, &at);
        if (*(struct lsh_tpl **)field == NULL) {
            return lsh_opt_err(c, m, o, "%s at offset %zu in '%s'", err, at, s);
        }
        return LSH_OK;
    case LSH_OPT_REGEX:
        return lsh_opt_regex(c, o, m, s, field);
    default:
        return lsh_opt_err(c, m, o, "expected %s, got a scalar",
                           lsh_opt_type_names[o->type]);
    }
}

/*
 * Compiles one item of a list or map option as o->item says.  what names
 * the item in errors ("list item 2", "key 'level'").
 */
static int lsh_opt_item(struct lsh_optctx *c, const struct lsh_option *o,
                        const struct lsh_mark *m, const char *what,
                        const char *text, void **obj)
{
    char        err[256];
    const char *terr;
    size_t      at = 0;

    *obj = NULL;
    if (o->item == LSH_OPT_REGEX) {
        *obj = lsh_regex_compile(text, err, sizeof(err), &at);
        if (*obj == NULL) {
            return lsh_opt_err(c, m, o,
                               "%s: invalid regex: %s at offset %zu "
                               "in '%s'",
                               what, err, at, text);
        }
    } else if (o->item == LSH_OPT_TEMPLATE) {
        *obj = lsh_tpl_compile(text, &terr, &at);
        if (*obj == NULL) {
            return lsh_opt_err(c, m, o, "%s: %s at offset %zu in '%s'", what,
                               terr, at, text);
        }
    }
    return LSH_OK;
}

static void lsh_opt_item_free(const struct lsh_option *o, void *obj)
{
    if (o->item == LSH_OPT_REGEX) {
        lsh_regex_destroy(obj);
    } else if (o->item == LSH_OPT_TEMPLATE) {
        lsh_tpl_destroy(obj);
    }
}

static void lsh_strlist_add(struct lsh_strlist *l, const char *s)
{
    l->v = lsh_realloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->objs = lsh_realloc(l->objs, (l->n + 1) * sizeof(*l->objs));
    l->objs[l->n] = NULL;
    l->v[l->n++] = lsh_strdup(s);
}

static int lsh_strlist_compile(struct lsh_optctx *c, const struct lsh_option *o,
                               const struct lsh_mark *m, struct lsh_strlist *l)
{
    char what[32];

    if (o->item != LSH_OPT_REGEX && o->item != LSH_OPT_TEMPLATE) {
        return LSH_OK;
    }
    snprintf(what, sizeof(what), "list item %zu", l->n);
    return lsh_opt_item(c, o, m, what, l->v[l->n - 1], &l->objs[l->n - 1]);
}

static int lsh_opt_strlist(struct lsh_optctx *c, const struct lsh_option *o,
                           const struct lsh_node *n, struct lsh_strlist *l)
{
    size_t i;

    if (n->type == LSH_NODE_SCALAR && n->error != NULL) {
        return lsh_opt_err(c, &n->error_mark, o, "%s", n->error);
    }
    if (n->type == LSH_NODE_SCALAR) {
        lsh_strlist_add(l, n->value);
        return lsh_strlist_compile(c, o, &n->mark, l);
    }
    if (n->type != LSH_NODE_SEQ) {
        return lsh_opt_err(c, &n->mark, o,
                           "expected a string or a list of strings, got %s",
                           lsh_node_type_name(n));
    }
    for (i = 0; i < n->nitems; i++) {
        const struct lsh_node *it = n->items[i];

        if (it->type != LSH_NODE_SCALAR || it->is_null) {
            return lsh_opt_err(c, &it->mark, o,
                               "list item %zu: expected a string, got %s",
                               i + 1, lsh_node_type_name(it));
        }
        if (it->error != NULL) {
            return lsh_opt_err(c, &it->error_mark, o, "list item %zu: %s",
                               i + 1, it->error);
        }
        lsh_strlist_add(l, it->value);
        if (lsh_strlist_compile(c, o, &it->mark, l) != LSH_OK) {
            return LSH_EINVAL;
        }
    }
    return LSH_OK;
}

static int lsh_opt_map(struct lsh_optctx *c, const struct lsh_option *o,
                       const struct lsh_node *n, struct lsh_kvlist *kv)
{
    size_t i;

    if (n->type != LSH_NODE_MAP) {
        return lsh_opt_err(c, &n->mark, o, "expected a map, got %s",
                           lsh_node_type_name(n));
    }
    kv->keys = lsh_calloc(n->npairs, sizeof(*kv->keys));
    kv->vals = lsh_calloc(n->npairs, sizeof(*kv->vals));
    kv->objs = lsh_calloc(n->npairs, sizeof(*kv->objs));
    kv->marks = lsh_calloc(n->npairs, sizeof(*kv->marks));
    for (i = 0; i < n->npairs; i++) {
        const struct lsh_node *v = n->pairs[i].value;

        if (v->type != LSH_NODE_SCALAR || v->is_null) {
            return lsh_opt_err(c, &v->mark, o,
                               "key '%s': expected a scalar value, got %s",
                               n->pairs[i].key->value, lsh_node_type_name(v));
        }
        if (v->error != NULL) {
            return lsh_opt_err(c, &v->error_mark, o, "key '%s': %s",
                               n->pairs[i].key->value, v->error);
        }
        kv->keys[kv->n] = lsh_strdup(n->pairs[i].key->value);
        kv->vals[kv->n] = lsh_strdup(v->value);
        kv->marks[kv->n] = v->mark;
        kv->n++;
        if (o->item == LSH_OPT_REGEX || o->item == LSH_OPT_TEMPLATE) {
            char what[160];

            snprintf(what, sizeof(what), "key '%.100s'", kv->keys[kv->n - 1]);
            if (lsh_opt_item(c, o, &v->mark, what, v->value,
                             &kv->objs[kv->n - 1]) != LSH_OK) {
                return LSH_EINVAL;
            }
        }
    }
    return LSH_OK;
}

static int lsh_opt_sub(struct lsh_optctx *c, const struct lsh_option *o,
                       const struct lsh_node *n, void **field)
{
    struct lsh_optctx sc = {c->d, NULL};
    struct lsh_buf    prefix = LSH_BUF_INIT;
    int               rc;

    if (n != NULL && n->type != LSH_NODE_MAP) {
        return lsh_opt_err(c, &n->mark, o, "expected a map, got %s",
                           lsh_node_type_name(n));
    }
    lsh_buf_addf(&prefix, "%s%s.", c->prefix, o->name);
    sc.prefix = lsh_buf_cstr(&prefix);
    *field = lsh_calloc(1, o->sub_size);
    rc = lsh_opt_parse_table(&sc, o->sub, n, NULL, *field);
    lsh_buf_release(&prefix);
    return rc;
}

static int lsh_opt_value(struct lsh_optctx *c, const struct lsh_option *o,
                         const struct lsh_node *n, void *field)
{
    switch (o->type) {
    case LSH_OPT_STRLIST:
        return lsh_opt_strlist(c, o, n, field);
    case LSH_OPT_MAP:
        return lsh_opt_map(c, o, n, field);
    case LSH_OPT_SUB:
        return lsh_opt_sub(c, o, n, field);
    default:
        break;
    }
    if (n->type != LSH_NODE_SCALAR) {
        return lsh_opt_err(c, &n->mark, o, "expected %s, got %s",
                           lsh_opt_type_names[o->type], lsh_node_type_name(n));
    }
    if (n->error != NULL) {
        return lsh_opt_err(c, &n->error_mark, o, "%s", n->error);
    }
    if (n->is_null) {
        return lsh_opt_err(c, &n->mark, o,
                           "has no value (remove the key to use the "
                           "default)");
    }
    return lsh_opt_scalar(c, o, &n->mark, n->value, field);
}

static bool lsh_in_list(const char *const *list, const char *s)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static int lsh_opt_parse_table(struct lsh_optctx       *c,
                               const struct lsh_option *table,
                               const struct lsh_node   *map,
                               const char *const *skip, void *conf)
{
    size_t                   nopts = 0;
    bool                     set[128] = {false};
    size_t                   errors0 = c->d->nerrors;
    size_t                   i;
    const struct lsh_option *o;

    while (table[nopts].name != NULL) {
        nopts++;
    }
    if (nopts > LSH_ARRAY_SIZE(set)) {
        return lsh_diag_error(c->d, NULL, "internal: option table too big");
    }
    if (map != NULL && map->type != LSH_NODE_MAP) {
        return lsh_diag_error(c->d, &map->mark, "expected a map, got %s",
                              lsh_node_type_name(map));
    }
    for (i = 0; map != NULL && i < map->npairs; i++) {
        const struct lsh_node *k = map->pairs[i].key;

        if (lsh_in_list(skip, k->value)) {
            continue;
        }
        for (o = table; o->name != NULL; o++) {
            if (strcmp(o->name, k->value) == 0) {
                break;
            }
        }
        if (o->name == NULL) {
            lsh_unknown_key(c, table, skip, k);
            continue;
        }
        set[o - table] = true;
        lsh_opt_value(c, o, map->pairs[i].value, (char *)conf + o->offset);
    }
    for (o = table; o->name != NULL; o++) {
        void *field = (char *)conf + o->offset;

        if (set[o - table]) {
            continue;
        }
        if (o->flags & LSH_OPT_REQUIRED) {
            lsh_diag_error(c->d, map ? &map->mark : NULL,
                           "missing required option '%s%s'", c->prefix,
                           o->name);
        } else if (o->def != NULL) {
            if (o->type == LSH_OPT_STRLIST) {
                lsh_strlist_add(field, o->def);
            } else {
                lsh_opt_scalar(c, o, NULL, o->def, field);
            }
        }
    }
    return c->d->nerrors > errors0 ? LSH_EINVAL : LSH_OK;
}

int lsh_opt_parse(const struct lsh_option *table, const struct lsh_node *map,
                  const char *const *skip, void *conf, struct lsh_diag *d)
{
    struct lsh_optctx c = {d, ""};

    return lsh_opt_parse_table(&c, table, map, skip, conf);
}

void lsh_opt_release(const struct lsh_option *table, void *conf)
{
    const struct lsh_option *o;
    size_t                   i;

    for (o = table; o->name != NULL; o++) {
        void *field = (char *)conf + o->offset;

        switch (o->type) {
        case LSH_OPT_STR:
            free(*(char **)field);
            *(char **)field = NULL;
            break;
        case LSH_OPT_STRLIST: {
            struct lsh_strlist *l = field;

            for (i = 0; i < l->n; i++) {
                free(l->v[i]);
                lsh_opt_item_free(o, l->objs[i]);
            }
            free(l->v);
            free(l->objs);
            l->v = NULL;
            l->objs = NULL;
            l->n = 0;
            break;
        }
        case LSH_OPT_TEMPLATE:
            lsh_tpl_destroy(*(struct lsh_tpl **)field);
            *(struct lsh_tpl **)field = NULL;
            break;
        case LSH_OPT_REGEX:
            lsh_regex_destroy(*(struct lsh_regex **)field);
            *(struct lsh_regex **)field = NULL;
            break;
        case LSH_OPT_MAP: {
            struct lsh_kvlist *kv = field;

            for (i = 0; i < kv->n; i++) {
                free(kv->keys[i]);
                free(kv->vals[i]);
                lsh_opt_item_free(o, kv->objs[i]);
            }
            free(kv->keys);
            free(kv->vals);
            free(kv->objs);
            free(kv->marks);
            memset(kv, 0, sizeof(*kv));
            break;
        }
        case LSH_OPT_SUB:
            if (*(void **)field != NULL) {
                lsh_opt_release(o->sub, *(void **)field);
                free(*(void **)field);
                *(void **)field = NULL;
            }
            break;
        default:
            break;
        }
    }
}

/*
 * Keys of a map (librdkafka properties) whose values are secrets or key
 * material: passwords, secrets, private keys (ssl.key.pem), keystores,
 * and sasl.oauthbearer.config (it may hold a client secret).
 */
static bool lsh_opt_secret_key(const char *key)
{
    static const char *const marks[] = {
        "password",           "secret", "key.pem", "keystore", "private",
        "oauthbearer.config", "token"};
    size_t i;

    for (i = 0; i < LSH_ARRAY_SIZE(marks); i++) {
        if (strstr(key, marks[i]) != NULL) {
            return true;
        }
    }
    return false;
}

static void lsh_print_str(struct lsh_buf *out, const char *s, bool secret)
{
    if (s == NULL) {
        lsh_buf_adds(out, "~");
    } else if (secret) {
        lsh_buf_adds(out, "\"****\"");
    } else {
        lsh_json_str(out, s, strlen(s));
    }
}

static void lsh_opt_print_value(const struct lsh_option *o, const void *field,
                                int indent, struct lsh_buf *out)
{
    bool   secret = (o->flags & LSH_OPT_SECRET) != 0;
    size_t i;

    switch (o->type) {
    case LSH_OPT_STR:
        lsh_print_str(out, *(char *const *)field, secret);
        break;
    case LSH_OPT_STRLIST: {
        const struct lsh_strlist *l = field;

        lsh_buf_addc(out, '[');
        for (i = 0; i < l->n; i++) {
            lsh_buf_adds(out, i ? ", " : "");
            lsh_print_str(out, l->v[i], secret);
        }
        lsh_buf_addc(out, ']');
        break;
    }
    case LSH_OPT_INT:
    case LSH_OPT_DURATION:
    case LSH_OPT_SIZE:
        lsh_fmt_num(out, o->type, *(const int64_t *)field);
        break;
    case LSH_OPT_BOOL:
        lsh_buf_adds(out, *(const bool *)field ? "true" : "false");
        break;
    case LSH_OPT_ENUM:
        lsh_buf_adds(out, o->values[*(const int *)field]);
        break;
    case LSH_OPT_TEMPLATE: {
        const struct lsh_tpl *t = *(struct lsh_tpl *const *)field;

        lsh_print_str(out, t ? lsh_tpl_source(t) : NULL, secret);
        break;
    }
    case LSH_OPT_REGEX: {
        const struct lsh_regex *re = *(struct lsh_regex *const *)field;

        lsh_print_str(out, re ? lsh_regex_source(re) : NULL, secret);
        break;
    }
    case LSH_OPT_MAP: {
        const struct lsh_kvlist *kv = field;

        if (kv->n == 0) {
            lsh_buf_adds(out, "{}");
        }
        for (i = 0; i < kv->n; i++) {
            bool mask = secret || lsh_opt_secret_key(kv->keys[i]);

            lsh_buf_addf(out, "\n%*s", indent + 2, "");
            lsh_json_str(out, kv->keys[i], strlen(kv->keys[i]));
            lsh_buf_adds(out, ": ");
            lsh_print_str(out, kv->vals[i], mask);
        }
        break;
    }
    case LSH_OPT_SUB:
        if (*(void *const *)field == NULL) {
            lsh_buf_adds(out, "~");
        } else {
            lsh_buf_addc(out, '\n');
            lsh_opt_print(o->sub, *(void *const *)field, indent + 2, out);
            if (out->len > 0 && out->ptr[out->len - 1] == '\n') {
                out->len--;
            }
        }
        break;
    }
}

void lsh_opt_print(const struct lsh_option *table, const void *conf, int indent,
                   struct lsh_buf *out)
{
    const struct lsh_option *o;

    for (o = table; o->name != NULL; o++) {
        lsh_buf_addf(out, "%*s%s: ", indent, "", o->name);
        lsh_opt_print_value(o, (const char *)conf + o->offset, indent, out);
        lsh_buf_addc(out, '\n');
    }
}

static void lsh_opt_doc_rows(const struct lsh_option *table, const char *prefix,
                             struct lsh_buf *out)
{
    const struct lsh_option *o;

    for (o = table; o->name != NULL; o++) {
        lsh_buf_addf(out, "| `%s%s` | %s", prefix, o->name,
                     lsh_opt_type_names[o->type]);
        if (o->item == LSH_OPT_REGEX || o->item == LSH_OPT_TEMPLATE) {
            lsh_buf_addf(out, " (each a %s)", lsh_opt_type_names[o->item]);
        }
        if (o->type == LSH_OPT_ENUM) {
            lsh_buf_adds(out, " `");
            lsh_join_values(out, o->values);
            lsh_buf_addc(out, '`');
        }
        if (o->min != 0 || o->max != 0) {
            lsh_buf_adds(out, ", ");
            lsh_fmt_num(out, o->type, o->min);
            lsh_buf_adds(out, " to ");
            lsh_fmt_num(out, o->type, o->max);
        }
        lsh_buf_adds(out, " | ");
        if (o->flags & LSH_OPT_REQUIRED) {
            lsh_buf_adds(out, "required");
        } else if (o->def != NULL) {
            lsh_buf_addf(out, "`%s`", o->def);
        } else {
            lsh_buf_adds(out, "none");
        }
        lsh_buf_addf(out, " | %s%s |\n", o->help ? o->help : "",
                     (o->flags & LSH_OPT_SECRET) ? " Masked in output." : "");
        if (o->type == LSH_OPT_SUB) {
            struct lsh_buf p = LSH_BUF_INIT;

            lsh_buf_addf(&p, "%s%s.", prefix, o->name);
            lsh_opt_doc_rows(o->sub, lsh_buf_cstr(&p), out);
            lsh_buf_release(&p);
        }
    }
}

void lsh_opt_doc(const struct lsh_option *table, struct lsh_buf *out)
{
    lsh_buf_adds(out, "| option | type | default | description |\n"
                      "| --- | --- | --- | --- |\n");
    lsh_opt_doc_rows(table, "", out);
}
