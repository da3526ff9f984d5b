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
    LSH_TPL_REF, /* a field or built-in, resolved by name per record */
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
        lsh_tpl_push(t, &cap, LSH_TPL_REF, name, (size_t)(end - name));
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
        lsh_buf_add_i64(out, v->i);
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

bool lsh_record_text(const struct lsh_batch *b, const struct lsh_record *r,
                     struct lsh_str name, struct lsh_str host,
                     struct lsh_buf *scratch, struct lsh_str *out)
{
    const struct lsh_field *f = lsh_record_field(r, name);
    size_t                  start = scratch->len;
    char                    ts[LSH_RFC3339_MS_LEN + 1];

    if (f != NULL) {
        if (f->v.type == LSH_V_NULL) {
            return false;
        }
        if (f->v.type == LSH_V_STR || f->v.type == LSH_V_JSON) {
            *out = f->v.s;
            return true;
        }
        lsh_tpl_value(scratch, &f->v);
        *out = lsh_str_make(scratch->ptr + start, scratch->len - start);
        return true;
    }
    switch (lsh_builtin(name)) {
    case LSH_B_TIME:
        lsh_buf_add(scratch, ts, lsh_time_rfc3339_ms(r->time_ns, ts));
        *out = lsh_str_make(scratch->ptr + start, scratch->len - start);
        return true;
    case LSH_B_BODY:
        *out = r->body;
        return !(r->flags & LSH_REC_NO_BODY);
    case LSH_B_PATH:
        *out = b->path;
        return b->path.len > 0 && !(r->flags & LSH_REC_NO_PATH);
    case LSH_B_HOST:
        *out = host;
        return !(r->flags & LSH_REC_NO_HOST);
    default:
        return false;
    }
}

size_t lsh_tpl_render(const struct lsh_tpl *t, const struct lsh_batch *b,
                      const struct lsh_record *r, struct lsh_str host,
                      struct lsh_buf *out)
{
    size_t missing = 0;
    size_t i;

    for (i = 0; i < t->nsegs; i++) {
        const struct lsh_tpl_seg *s = &t->segs[i];
        size_t                    mark = out->len;
        struct lsh_str            v;

        if (s->kind == LSH_TPL_LIT) {
            lsh_buf_add(out, s->s.ptr, s->s.len);
            continue;
        }
        /* the value is appended in place when it must be formatted */
        if (!lsh_record_text(b, r, s->s, host, out, &v)) {
            missing++;
            continue;
        }
        if (out->len == mark) {
            lsh_buf_add(out, v.ptr, v.len);
        }
    }
    return missing;
}
