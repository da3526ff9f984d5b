/*
 * modify filter: edits fields.
 *
 * Applied in this order: rename, copy, set, remove.  Names may be fields
 * or the built-ins body, path and host (time can be set, not removed): a
 * field of a built-in's name replaces it, and removing a built-in leaves
 * it out of the output.  set values are templates ("{{service}}-{{env}}").
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "plugin.h"
#include "tpl.h"

struct flt_modify_conf {
    struct lsh_kvlist  rename;
    struct lsh_kvlist  copy;
    struct lsh_kvlist  set;
    struct lsh_strlist remove;
};

struct flt_modify {
    const struct flt_modify_conf *conf;
    struct lsh_buf                scratch;
};

static const struct lsh_option flt_modify_options[] = {
    {.name = "rename",
     .type = LSH_OPT_MAP,
     .offset = offsetof(struct flt_modify_conf, rename),
     .help = "Old name to new name (a field there is replaced)."},
    {.name = "copy",
     .type = LSH_OPT_MAP,
     .offset = offsetof(struct flt_modify_conf, copy),
     .help = "Source to destination."},
    {.name = "set",
     .type = LSH_OPT_MAP,
     .item = LSH_OPT_TEMPLATE,
     .offset = offsetof(struct flt_modify_conf, set),
     .help = "Field to value; values are templates over the record's "
             "fields ({{name}}), rendered after rename and copy."},
    {.name = "remove",
     .type = LSH_OPT_STRLIST,
     .offset = offsetof(struct flt_modify_conf, remove),
     .help = "Fields to remove (also body, path or host)."},
    {.name = NULL},
};

static int flt_modify_validate(const void *conf, struct lsh_diag *d)
{
    const struct flt_modify_conf *c = conf;
    size_t                        i;
    int                           rc = LSH_OK;

    if (c->rename.n + c->copy.n + c->set.n + c->remove.n == 0) {
        rc = lsh_diag_key(d, "set", "modify needs rename, copy, set or remove");
    }
    for (i = 0; i < c->remove.n; i++) {
        if (strcmp(c->remove.v[i], "time") == 0) {
            rc = lsh_diag_item(d, "remove", i, "'time' cannot be removed");
        }
    }
    for (i = 0; i < c->rename.n; i++) {
        if (strcmp(c->rename.keys[i], "time") == 0) {
            rc = lsh_diag_error(d, &c->rename.marks[i],
                                "option 'rename': 'time' cannot be renamed "
                                "(copy it)");
        }
    }
    return rc;
}

static int flt_modify_init(struct lsh_instance *ins, const void *conf)
{
    struct flt_modify *m = lsh_calloc(1, sizeof(*m));

    m->conf = conf;
    ins->ctx = m;
    return LSH_OK;
}

static struct lsh_str flt_modify_name(const char *s)
{
    return lsh_str_make(s, strlen(s));
}

/* Removes name from r: a field, or a built-in from the output. */
static void flt_modify_remove(struct lsh_record *r, struct lsh_str name)
{
    lsh_record_unset(r, name);
    switch (lsh_builtin(name)) {
    case LSH_B_BODY:
        r->flags |= LSH_REC_NO_BODY;
        break;
    case LSH_B_PATH:
        r->flags |= LSH_REC_NO_PATH;
        break;
    case LSH_B_HOST:
        r->flags |= LSH_REC_NO_HOST;
        break;
    default:
        break;
    }
}

/* The value of from, for copying; false if r has none. */
static bool flt_modify_value(struct flt_modify *m, struct lsh_batch *b,
                             struct lsh_record *r, struct lsh_str from,
                             struct lsh_value *v)
{
    struct lsh_field *f = lsh_record_field(r, from);
    struct lsh_str    text;

    if (f != NULL) {
        *v = f->v;
        return true;
    }
    lsh_buf_reset(&m->scratch);
    if (!lsh_record_text(b, r, from, lsh_host(), &m->scratch, &text)) {
        return false;
    }
    if (m->scratch.len > 0) {
        text.ptr = lsh_arena_memdup(&b->arena, text.ptr, text.len);
    }
    *v = lsh_value_str(text);
    return true;
}

static void flt_modify_record(struct flt_modify *m, struct lsh_batch *b,
                              struct lsh_record *r)
{
    const struct flt_modify_conf *c = m->conf;
    struct lsh_value              v;
    size_t                        i;

    for (i = 0; i < c->rename.n; i++) {
        struct lsh_str from = flt_modify_name(c->rename.keys[i]);

        if (flt_modify_value(m, b, r, from, &v)) {
            flt_modify_remove(r, from);
            lsh_record_set(b, r, flt_modify_name(c->rename.vals[i]), v);
        }
    }
    for (i = 0; i < c->copy.n; i++) {
        if (flt_modify_value(m, b, r, flt_modify_name(c->copy.keys[i]), &v)) {
            lsh_record_set(b, r, flt_modify_name(c->copy.vals[i]), v);
        }
    }
    for (i = 0; i < c->set.n; i++) {
        const struct lsh_tpl *t = c->set.objs[i];
        struct lsh_str        text;

        if (lsh_tpl_is_const(t)) {
            text = flt_modify_name(c->set.vals[i]); /* lives with the conf */
        } else {
            lsh_buf_reset(&m->scratch);
            lsh_tpl_render(t, b, r, lsh_host(), &m->scratch);
            text = lsh_str_make(
                lsh_arena_memdup(&b->arena, m->scratch.ptr, m->scratch.len),
                m->scratch.len);
        }
        lsh_record_set(b, r, flt_modify_name(c->set.keys[i]),
                       lsh_value_str(text));
    }
    for (i = 0; i < c->remove.n; i++) {
        flt_modify_remove(r, flt_modify_name(c->remove.v[i]));
    }
}

static int flt_modify_process(struct lsh_instance *ins, struct lsh_batch *b)
{
    struct flt_modify *m = ins->ctx;
    size_t             i;

    for (i = 0; i < b->n; i++) {
        if (!(b->recs[i].flags & LSH_REC_DROPPED)) {
            flt_modify_record(m, b, &b->recs[i]);
        }
    }
    return LSH_OK;
}

static void flt_modify_exit(struct lsh_instance *ins)
{
    struct flt_modify *m = ins->ctx;

    if (m != NULL) {
        lsh_buf_release(&m->scratch);
        free(m);
        ins->ctx = NULL;
    }
}

const struct lsh_plugin flt_modify_plugin = {
    .name = "modify",
    .description = "Renames, copies, sets (with templates) and removes "
                   "fields, in that order.",
    .kind = LSH_PLUGIN_FILTER,
    .options = flt_modify_options,
    .conf_size = sizeof(struct flt_modify_conf),
    .validate = flt_modify_validate,
    .init = flt_modify_init,
    .process = flt_modify_process,
    .exit = flt_modify_exit,
};
