/*
 * Fuzz target: the parse filter on random subjects.  The first byte picks
 * the format (regex with the benchmark's pattern, or json with flatten);
 * the rest is the line.  Then the record is encoded as JSON, which must be
 * valid JSON (the strict reader accepts it) and valid UTF-8, whatever the
 * fields hold, nested values included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jparse.h"
#include "json.h"
#include "option.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct lsh_plugin flt_parse_plugin;

static const char *const yamls[] = {
    "regex: ['^(?<time>\\S+) (?<level>[A-Z]+) +service=(?<service>\\S+) "
    "user=(?<user>\\d+) msg=\"(?<msg>[^\"]*)\" seq=(?<seq>\\d+)$', "
    "'(?<any>.*)']\n"
    "types: {user: int, seq: int}\ntime: {field: time}\non_mismatch: tag\n",
    "format: json\nnested: flatten\ntypes: {n: int, f: float, b: bool}\n"
    "time: {field: ts, format: epoch_ms}\non_mismatch: tag\n",
};

static struct lsh_instance g_ins[2];
static void               *g_conf[2];

static void setup(int k)
{
    static const char *const skip[] = {"type", NULL};
    struct lsh_diag          d;
    struct lsh_doc          *doc;

    lsh_diag_init(&d);
    doc = lsh_doc_parse("f.yaml", yamls[k], strlen(yamls[k]), &d);
    g_conf[k] = calloc(1, flt_parse_plugin.conf_size);
    lsh_opt_parse(flt_parse_plugin.options, doc->root, skip, g_conf[k], &d);
    if (d.nerrors > 0) {
        abort();
    }
    g_ins[k].plugin = &flt_parse_plugin;
    g_ins[k].conf = g_conf[k];
    flt_parse_plugin.init(&g_ins[k], g_conf[k]);
    lsh_doc_destroy(doc);
    lsh_diag_release(&d);
}

static int any_member(void *arg, const struct lsh_jvalue *k,
                      const struct lsh_jvalue *v)
{
    (void)arg;
    (void)k;
    (void)v;
    return 0;
}

static void check_output(const struct lsh_buf *out)
{
    const unsigned char *p = (const unsigned char *)out->ptr;
    const unsigned char *end = p + out->len;
    const char          *err;
    size_t               at;
    size_t               skip;

    if (lsh_jparse_object(out->ptr, out->len, any_member, NULL, &err, &at) !=
        LSH_OK) {
        abort(); /* not valid JSON */
    }
    while (p < end) {
        size_t k = lsh_utf8_seq(p, end, &skip);

        if (k == 0) {
            abort(); /* not valid UTF-8 */
        }
        p += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_batch b;
    struct lsh_buf   out = LSH_BUF_INIT;
    int              k;

    if (size < 1) {
        return 0;
    }
    k = data[0] & 1;
    if (g_ins[k].plugin == NULL) {
        lsh_log_level = LSH_LOG_ERROR;
        setup(k);
    }
    lsh_batch_init(&b);
    lsh_batch_push(&b, lsh_str_make((const char *)data + 1, size - 1), 0);
    flt_parse_plugin.process(&g_ins[k], &b);
    lsh_json_record(&out, &b, &b.recs[0], LSH_STR_LIT("h"));
    check_output(&out);
    lsh_buf_release(&out);
    lsh_batch_release(&b);
    return 0;
}
