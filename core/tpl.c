/*
 * Field templates: compiled once, rendered per record.
 */
#include "tpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

enum lsh_tpl_kind {
    LSH_TPL_LIT,
    LSH_TPL_FIELD,
    LSH_TPL_TIME,
    LSH_TPL_BODY,
    LSH_TPL_PATH,
    LSH_TPL_HOST,
};

struct lsh_tpl_seg {
    enum lsh_tpl_kind kind;
    struct lsh_str    s; /* literal text or field name, into t->text */
};

struct lsh_tpl {
    char               *src;
    char               *text; /* copy that segments point into */
    struct lsh_tpl_seg *segs;
    size_t              nsegs;
    bool                is_const;
};

static const struct {
    const char       *name;
    enum lsh_tpl_kind kind;
} lsh_tpl_builtins[] = {
    {"time", LSH_TPL_TIME},
    {"body", LSH_TPL_BODY},
    {"path", LSH_TPL_PATH},
    {"host", LSH_TPL_HOST},
};

static void lsh_tpl_push(struct lsh_tpl *t, size_t *cap, enum lsh_tpl_kind kind,
                         const char *p, size_t n)
{
    LSH_GROW(t->segs, *cap, t->nsegs + 1);
    t->segs[t->nsegs].kind = kind;
    t->segs[t->nsegs].s = lsh_str_make(p, n);
    t->nsegs++;
}

static bool lsh_tpl_space(char c)
{
    return c == ' ' || c == '\t';
}

static enum lsh_tpl_kind lsh_tpl_ref_kind(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < LSH_ARRAY_SIZE(lsh_tpl_builtins); i++) {
        if (strlen(lsh_tpl_builtins[i].name) == n &&
            memcmp(lsh_tpl_builtins[i].name, p, n) == 0) {
            return lsh_tpl_builtins[i].kind;
        }
    }
    return LSH_TPL_FIELD;
}

struct lsh_tpl *lsh_tpl_compile(const char *src, const char **err, size_t *at)
{
    struct lsh_tpl *t = lsh_calloc(1, sizeof(*t));
    size_t          cap = 0;
    const char     *p;
    const char     *open;

    t->src = lsh_strdup(src);
    t->text = lsh_strdup(src);
    t->is_const = true;
    p = t->text;
    while ((open = strstr(p, "{{")) != NULL) {
        const char *name = open + 2;
        const char *close = strstr(name, "}}");
        const char *end;
        size_t      i;

        if (open > p) {
            lsh_tpl_push(t, &cap, LSH_TPL_LIT, p, (size_t)(open - p));
        }
        if (close == NULL) {
            *err = "'{{' is not closed by '}}'";
            goto err;
        }
        while (name < close && lsh_tpl_space(*name)) {
            name++;
        }
        end = close;
        while (end > name && lsh_tpl_space(end[-1])) {
            end--;
        }
        if (end == name) {
            *err = "empty field name in '{{}}'";
            goto err;
        }
        for (i = 0; name + i < end; i++) {
            if (name[i] == '{' || name[i] == '}' || lsh_tpl_space(name[i])) {
                *err = "invalid character in field name";
                goto err;
            }
        }
        lsh_tpl_push(t, &cap, lsh_tpl_ref_kind(name, (size_t)(end - name)),
                     name, (size_t)(end - name));
        t->is_const = false;
        p = close + 2;
    }
    if (*p != '\0') {
        lsh_tpl_push(t, &cap, LSH_TPL_LIT, p, strlen(p));
    }
    return t;
err:
    *at = (size_t)(open - t->text);
    lsh_tpl_destroy(t);
    return NULL;
}

void lsh_tpl_destroy(struct lsh_tpl *t)
{
    if (t == NULL) {
        return;
    }
    free(t->src);
    free(t->text);
    free(t->segs);
    free(t);
}

const char *lsh_tpl_source(const struct lsh_tpl *t)
{
    return t->src;
}

bool lsh_tpl_is_const(const struct lsh_tpl *t)
{
    return t->is_const;
}

static void lsh_tpl_double(struct lsh_buf *out, double d)
{
    char tmp[40];
    int  n = snprintf(tmp, sizeof(tmp), "%.15g", d);

    if (strtod(tmp, NULL) != d) {
        n = snprintf(tmp, sizeof(tmp), "%.17g", d);
    }
    lsh_buf_add(out, tmp, (size_t)n);
}

void lsh_tpl_value(struct lsh_buf *out, const struct lsh_value *v)
{
    switch (v->type) {
    case LSH_V_STR:
    case LSH_V_JSON:
        lsh_buf_add(out, v->s.ptr, v->s.len);
        break;
    case LSH_V_INT:
        lsh_buf_addf(out, "%lld", (long long)v->i);
        break;
    case LSH_V_FLOAT:
        lsh_tpl_double(out, v->f);
        break;
    case LSH_V_BOOL:
        lsh_buf_adds(out, v->b ? "true" : "false");
        break;
    case LSH_V_NULL:
    default:
        break;
    }
}

size_t lsh_tpl_render(const struct lsh_tpl *t, const struct lsh_batch *b,
                      const struct lsh_record *r, struct lsh_str host,
                      struct lsh_buf *out)
{
    size_t                  missing = 0;
    size_t                  i;
    char                    ts[LSH_RFC3339_MS_LEN + 1];
    const struct lsh_field *f;

    for (i = 0; i < t->nsegs; i++) {
        const struct lsh_tpl_seg *s = &t->segs[i];

        switch (s->kind) {
        case LSH_TPL_LIT:
            lsh_buf_add(out, s->s.ptr, s->s.len);
            break;
        case LSH_TPL_FIELD:
            f = lsh_record_field(r, s->s);
            if (f == NULL || f->v.type == LSH_V_NULL) {
                missing++;
            } else {
                lsh_tpl_value(out, &f->v);
            }
            break;
        case LSH_TPL_TIME:
            lsh_buf_add(out, ts, lsh_time_rfc3339_ms(r->time_ns, ts));
            break;
        case LSH_TPL_BODY:
            if (r->flags & LSH_REC_NO_BODY) {
                missing++;
            } else {
                lsh_buf_add(out, r->body.ptr, r->body.len);
            }
            break;
        case LSH_TPL_PATH:
            if (b->path.len == 0) {
                missing++;
            }
            lsh_buf_add(out, b->path.ptr, b->path.len);
            break;
        case LSH_TPL_HOST:
            lsh_buf_add(out, host.ptr, host.len);
            break;
        }
    }
    return missing;
}
