/*
 * null output: takes every record and does nothing with it.  For
 * benchmarks of inputs and filters, and for pipelines that only test.
 */
#include <stdlib.h>

#include "mem.h"
#include "plugin.h"

struct out_null {
    uint64_t records;
};

static const struct lsh_option out_null_options[] = {{.name = NULL}};

static int out_null_init(struct lsh_instance *ins, const void *conf)
{
    (void)conf;
    ins->ctx = lsh_calloc(1, sizeof(struct out_null));
    return LSH_OK;
}

static int out_null_flush(struct lsh_instance *ins, const struct lsh_batch *b,
                          size_t *pos)
{
    struct out_null *n = ins->ctx;

    n->records += b->n - b->ndropped;
    *pos = b->n;
    return LSH_OK;
}

static void out_null_exit(struct lsh_instance *ins)
{
    struct out_null *n = ins->ctx;

    if (n != NULL) {
        lsh_ins_info(ins, "%llu records discarded",
                     (unsigned long long)n->records);
        free(n);
        ins->ctx = NULL;
    }
}

static void out_null_counts(struct lsh_instance      *ins,
                            struct lsh_output_counts *c)
{
    const struct out_null *n = ins->ctx;

    c->delivered = n->records;
}

const struct lsh_plugin out_null_plugin = {
    .name = "null",
    .description = "Discards every record (benchmarks, tests).",
    .kind = LSH_PLUGIN_OUTPUT,
    .options = out_null_options,
    .conf_size = 1,
    .init = out_null_init,
    .flush = out_null_flush,
    .exit = out_null_exit,
    .counts = out_null_counts,
};
