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

int lsh_diag_key(struct lsh_diag *d, const char *key, const char *fmt, ...)
{
    const struct lsh_mark *m = NULL;
    size_t                 i;
    va_list                ap;

    if (d->node != NULL) {
        m = &d->node->mark;
        for (i = 0; i < d->node->npairs; i++) {
            if (strcmp(d->node->pairs[i].key->value, key) == 0) {
                m = &d->node->pairs[i].value->mark;
                break;
            }
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
    va_start(ap, fmt);
    lsh_buf_vaddf(&d->text, fmt, ap);
    va_end(ap);
    lsh_buf_addc(&d->text, '\n');
    return LSH_EINVAL;
}
