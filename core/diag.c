/*
 * Collected configuration diagnostics.
 */
#include "diag.h"

#include <stdio.h>
#include <string.h>

#include "node.h"

void lsh_diag_init(struct lsh_diag *d)
{
    memset(d, 0, sizeof(*d));
}

void lsh_diag_release(struct lsh_diag *d)
{
    lsh_buf_release(&d->text);
}

void lsh_diag_ctx(struct lsh_diag *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->ctx, sizeof(d->ctx), fmt, ap);
    va_end(ap);
}

static void lsh_diag_vadd(struct lsh_diag *d, const char *kind,
                          const struct lsh_mark *m, const char *fmt, va_list ap)
{
    if (m != NULL && m->file != NULL) {
        lsh_buf_addf(&d->text, "%s:%d:%d: ", m->file, m->line, m->col);
    }
    lsh_buf_adds(&d->text, kind);
    if (d->ctx[0] != '\0') {
        lsh_buf_addf(&d->text, "%s: ", d->ctx);
    }
    lsh_buf_vaddf(&d->text, fmt, ap);
    lsh_buf_addc(&d->text, '\n');
}

int lsh_diag_error(struct lsh_diag *d, const struct lsh_mark *m,
                   const char *fmt, ...)
{
    va_list ap;

    d->nerrors++;
    va_start(ap, fmt);
    lsh_diag_vadd(d, "", m, fmt, ap);
    va_end(ap);
    return LSH_EINVAL;
}

int lsh_diag_warn(struct lsh_diag *d, const struct lsh_mark *m, const char *fmt,
                  ...)
{
    va_list ap;

    d->nwarnings++;
    va_start(ap, fmt);
    lsh_diag_vadd(d, "warning: ", m, fmt, ap);
    va_end(ap);
    return LSH_OK;
}

static int lsh_diag_vkey(struct lsh_diag *d, const char *key, long idx,
                         const char *fmt, va_list ap)
{
    const struct lsh_mark *m = NULL;
    size_t                 i;

    if (d->node != NULL) {
        m = &d->node->mark;
        for (i = 0; i < d->node->npairs; i++) {
            const struct lsh_node *v = d->node->pairs[i].value;

            if (strcmp(d->node->pairs[i].key->value, key) != 0) {
                continue;
            }
            m = &v->mark;
            if (idx >= 0 && v->type == LSH_NODE_SEQ &&
                (size_t)idx < v->nitems) {
                m = &v->items[idx]->mark;
            }
            break;
        }
    }
    d->nerrors++;
    if (m != NULL && m->file != NULL) {
        lsh_buf_addf(&d->text, "%s:%d:%d: ", m->file, m->line, m->col);
    }
    if (d->ctx[0] != '\0') {
        lsh_buf_addf(&d->text, "%s: ", d->ctx);
    }
    lsh_buf_addf(&d->text, "option '%s': ", key);
    lsh_buf_vaddf(&d->text, fmt, ap);
    lsh_buf_addc(&d->text, '\n');
    return LSH_EINVAL;
}

int lsh_diag_key(struct lsh_diag *d, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lsh_diag_vkey(d, key, -1, fmt, ap);
    va_end(ap);
    return LSH_EINVAL;
}

int lsh_diag_item(struct lsh_diag *d, const char *key, size_t idx,
                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lsh_diag_vkey(d, key, (long)idx, fmt, ap);
    va_end(ap);
    return LSH_EINVAL;
}
