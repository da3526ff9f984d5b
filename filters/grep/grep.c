/*
 * grep filter: keeps or drops records by matching fields with PCRE2.
 *
 * include: every rule must match (logic: and), or any one (logic: or);
 * exclude: a record any rule matches is dropped.  A missing field does
 * not match.  Names may be fields or the built-ins time, body, path and
 * host.  A match that hits PCRE2's limits does not match (and is counted).
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "plugin.h"
#include "regex.h"
#include "tpl.h"

enum flt_grep_logic { FLT_GREP_AND, FLT_GREP_OR };

struct flt_grep_conf {
    struct lsh_kvlist include;
    struct lsh_kvlist exclude;
    int               logic;
    int64_t           match_limit;
    int64_t           depth_limit;
};

struct flt_grep {
    const struct flt_grep_conf *conf;
    struct lsh_buf              scratch;
    uint64_t                    kept;
    uint64_t                    dropped;
    uint64_t                    limit_hits;
};

static const char *const flt_grep_logics[] = {"and", "or", NULL};

static const struct lsh_option flt_grep_options[] = {
    {.name = "include",
     .type = LSH_OPT_MAP,
     .item = LSH_OPT_REGEX,
     .offset = offsetof(struct flt_grep_conf, include),
     .help = "Field to PCRE2 regex: records must match (see logic)."},
    {.name = "exclude",
     .type = LSH_OPT_MAP,
     .item = LSH_OPT_REGEX,
     .offset = offsetof(struct flt_grep_conf, exclude),
     .help = "Field to PCRE2 regex: a record any of them matches is "
             "dropped."},
    {.name = "logic",
     .type = LSH_OPT_ENUM,
     .def = "and",
     .offset = offsetof(struct flt_grep_conf, logic),
     .values = flt_grep_logics,
     .help = "and: every include rule must match; or: one is enough."},
    {.name = "match_limit",
     .type = LSH_OPT_INT,
     .def = "100000",
     .offset = offsetof(struct flt_grep_conf, match_limit),
     .min = 100,
     .max = 100000000,
     .help = "PCRE2 match limit."},
    {.name = "depth_limit",
     .type = LSH_OPT_INT,
     .def = "10000",
     .offset = offsetof(struct flt_grep_conf, depth_limit),
     .min = 10,
     .max = 10000000,
     .help = "PCRE2 depth limit."},
    {.name = NULL},
};

static int flt_grep_validate(const void *conf, struct lsh_diag *d)
{
    const struct flt_grep_conf *c = conf;

    if (c->include.n == 0 && c->exclude.n == 0) {
        return lsh_diag_key(d, "include", "grep needs include or exclude");
    }
    return LSH_OK;
}

static void flt_grep_limits(const struct flt_grep_conf *c,
                            const struct lsh_kvlist    *kv)
{
    size_t i;

    for (i = 0; i < kv->n; i++) {
        lsh_regex_limits(kv->objs[i], (uint32_t)c->match_limit,
                         (uint32_t)c->depth_limit);
    }
}

static int flt_grep_init(struct lsh_instance *ins, const void *conf)
{
    const struct flt_grep_conf *c = conf;
    struct flt_grep            *g = lsh_calloc(1, sizeof(*g));

    g->conf = c;
    flt_grep_limits(c, &c->include);
    flt_grep_limits(c, &c->exclude);
    ins->ctx = g;
    return LSH_OK;
}

/* Does rule i of kv match record r?  A missing field does not. */
static bool flt_grep_rule(struct flt_grep *g, const struct lsh_batch *b,
                          const struct lsh_record *r,
                          const struct lsh_kvlist *kv, size_t i)
{
    struct lsh_str text;
    int            m;

    lsh_buf_reset(&g->scratch);
    if (!lsh_record_text(b, r, lsh_str_make(kv->keys[i], strlen(kv->keys[i])),
                         lsh_host(), &g->scratch, &text)) {
        return false;
    }
    m = lsh_regex_match(kv->objs[i], text.ptr, text.len);
    if (m == LSH_EAGAIN || m == LSH_ERR) {
        g->limit_hits++;
        return false;
    }
    return m == 1;
}

static bool flt_grep_keep(struct flt_grep *g, const struct lsh_batch *b,
                          const struct lsh_record *r)
{
    const struct flt_grep_conf *c = g->conf;
    size_t                      i;

    if (c->include.n > 0) {
        bool any = false;
        bool all = true;

        for (i = 0; i < c->include.n; i++) {
            bool m = flt_grep_rule(g, b, r, &c->include, i);

            any = any || m;
            all = all && m;
            if (c->logic == FLT_GREP_AND ? !all : any) {
                break; /* decided */
            }
        }
        if (c->logic == FLT_GREP_AND ? !all : !any) {
            return false;
        }
    }
    for (i = 0; i < c->exclude.n; i++) {
        if (flt_grep_rule(g, b, r, &c->exclude, i)) {
            return false;
        }
    }
    return true;
}

static int flt_grep_process(struct lsh_instance *ins, struct lsh_batch *b)
{
    struct flt_grep *g = ins->ctx;
    size_t           i;

    for (i = 0; i < b->n; i++) {
        struct lsh_record *r = &b->recs[i];

        if (r->flags & LSH_REC_DROPPED) {
            continue;
        }
        if (flt_grep_keep(g, b, r)) {
            g->kept++;
        } else {
            g->dropped++;
            lsh_batch_drop(b, r);
        }
    }
    return LSH_OK;
}

static void flt_grep_exit(struct lsh_instance *ins)
{
    struct flt_grep *g = ins->ctx;

    if (g == NULL) {
        return;
    }
    lsh_ins_info(ins, "%llu kept, %llu dropped, %llu regex limit hits",
                 (unsigned long long)g->kept, (unsigned long long)g->dropped,
                 (unsigned long long)g->limit_hits);
    lsh_buf_release(&g->scratch);
    free(g);
    ins->ctx = NULL;
}

const struct lsh_plugin flt_grep_plugin = {
    .name = "grep",
    .description = "Keeps records whose fields match include rules and "
                   "drops those an exclude rule matches (PCRE2).",
    .kind = LSH_PLUGIN_FILTER,
    .options = flt_grep_options,
    .conf_size = sizeof(struct flt_grep_conf),
    .validate = flt_grep_validate,
    .init = flt_grep_init,
    .process = flt_grep_process,
    .exit = flt_grep_exit,
};
