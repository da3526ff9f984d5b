/*
 * The filters, driven directly: parse (regex, types, time, mismatches,
 * limits, json), grep (and/or, exclude, missing fields, built-ins) and
 * modify (rename, copy, set with templates, remove).
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "json.h"
#include "mem.h"
#include "option.h"
#include "plugin.h"

extern const struct lsh_plugin flt_parse_plugin;
extern const struct lsh_plugin flt_grep_plugin;
extern const struct lsh_plugin flt_modify_plugin;

static const char *const type_skip[] = {"type", NULL};

struct flt {
    const struct lsh_plugin *plugin;
    void                    *conf;
    struct lsh_instance      ins;
};

/* A filter from YAML options; fails the test on a config error. */
static struct flt *flt_new(const struct lsh_plugin *p, const char *yaml)
{
    struct flt     *f = calloc(1, sizeof(*f));
    struct lsh_diag d;
    struct lsh_doc *doc;

    lsh_diag_init(&d);
    doc = lsh_doc_parse("f.yaml", yaml, strlen(yaml), &d);
    assert_non_null(doc);
    f->plugin = p;
    f->conf = calloc(1, p->conf_size);
    lsh_opt_parse(p->options, doc->root, type_skip, f->conf, &d);
    d.node = doc->root;
    if (d.nerrors == 0 && p->validate != NULL) {
        p->validate(f->conf, &d);
    }
    lsh_buf_cstr(&d.text);
    if (d.nerrors > 0) {
        fail_msg("%s", d.text.ptr);
    }
    lsh_doc_destroy(doc);
    lsh_diag_release(&d);
    f->ins.plugin = p;
    f->ins.conf = f->conf;
    snprintf(f->ins.name, sizeof(f->ins.name), "test/%s", p->name);
    assert_int_equal(p->init(&f->ins, f->conf), LSH_OK);
    return f;
}

static void flt_free(struct flt *f)
{
    f->plugin->exit(&f->ins);
    lsh_opt_release(f->plugin->options, f->conf);
    free(f->conf);
    free(f);
}

/* Config errors for a plugin's YAML options: returns the text. */
static char *flt_errors(const struct lsh_plugin *p, const char *yaml)
{
    struct lsh_diag d;
    struct lsh_doc *doc;
    void           *conf = calloc(1, p->conf_size);
    char           *text;

    lsh_diag_init(&d);
    doc = lsh_doc_parse("f.yaml", yaml, strlen(yaml), &d);
    lsh_opt_parse(p->options, doc->root, type_skip, conf, &d);
    d.node = doc->root;
    if (d.nerrors == 0 && p->validate != NULL) {
        p->validate(conf, &d);
    }
    text = strdup(lsh_buf_cstr(&d.text));
    lsh_opt_release(p->options, conf);
    free(conf);
    lsh_doc_destroy(doc);
    lsh_diag_release(&d);
    return text;
}

static void batch_lines(struct lsh_batch *b, const char *const *lines)
{
    size_t i;

    lsh_batch_init(b);
    b->path = LSH_STR_LIT("/var/log/t.log");
    for (i = 0; lines[i] != NULL; i++) {
        lsh_batch_push(b, lsh_str_make(lines[i], strlen(lines[i])),
                       1000 * LSH_NS_PER_SEC);
    }
}

/* The record as JSON, kept records only, joined with '\n'. */
static char *batch_json(const struct lsh_batch *b)
{
    struct lsh_buf out = LSH_BUF_INIT;
    size_t         i;

    for (i = 0; i < b->n; i++) {
        if (b->recs[i].flags & LSH_REC_DROPPED) {
            continue;
        }
        lsh_json_record(&out, b, &b->recs[i], LSH_STR_LIT("h"));
        lsh_buf_addc(&out, '\n');
    }
    return lsh_buf_detach(&out, NULL);
}

/* Asserts that s (freed here) contains want. */
static void has(char *s, const char *want)
{
    if (strstr(s, want) == NULL) {
        fail_msg("'%s' not in:\n%s", want, s);
    }
    free(s);
}

static void expect_json(struct lsh_batch *b, const char *want)
{
    char *got = batch_json(b);

    if (strcmp(got, want) != 0) {
        fail_msg("got:\n%s\nwant:\n%s", got, want);
    }
    free(got);
}

#define T0 "\"time\":\"1970-01-01T00:16:40.000Z\""

static void test_parse_regex(void **state)
{
    static const char *const lines[] = {
        "2026-11-23T10:00:00.123Z INFO  service=api-7 user=1234 "
        "msg=\"GET /x 200 12ms\" seq=17",
        "2026-11-23T10:00:01.5+02:00 WARN service=db user=x msg=\"\" seq=18",
        "garbage",
        NULL,
    };
    struct flt *f = flt_new(
        &flt_parse_plugin,
        "regex: '^(?<t>\\S+) (?<level>[A-Z]+) +service=(?<service>\\S+) "
        "user=(?<user>\\S+) msg=\"(?<msg>[^\"]*)\" seq=(?<seq>\\d+)$'\n"
        "types: {user: int, seq: int}\n"
        "time: {field: t}\n"
        "keep_body: false\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    assert_int_equal(f->plugin->process(&f->ins, &b), LSH_OK);
    expect_json(
        &b,
        "{\"time\":\"2026-11-23T10:00:00.123Z\",\"path\":\"/var/log/t.log\","
        "\"host\":\"h\",\"level\":\"INFO\",\"service\":\"api-7\",\"user\":1234,"
        "\"msg\":\"GET /x 200 12ms\",\"seq\":17}\n"
        /* "x" is not an int: it stays a string */
        "{\"time\":\"2026-11-23T08:00:01.500Z\",\"path\":\"/var/log/t.log\","
        "\"host\":\"h\",\"level\":\"WARN\",\"service\":\"db\",\"user\":\"x\","
        "\"msg\":\"\",\"seq\":18}\n"
        "{" T0 ",\"body\":\"garbage\",\"path\":\"/var/log/t.log\","
        "\"host\":\"h\"}\n");
    lsh_batch_release(&b);
    flt_free(f);
}

static void test_parse_list_and_mismatch(void **state)
{
    static const char *const lines[] = {"a=1", "b=2", "c=3", NULL};
    struct flt              *f =
        flt_new(&flt_parse_plugin, "regex: ['^a=(?<a>\\d)$', '^b=(?<b>\\d)$']\n"
                                   "on_mismatch: tag\ntag: err\n");
    struct flt      *g = flt_new(&flt_parse_plugin,
                                 "regex: '^a=(?<a>\\d)$'\non_mismatch: drop\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    f->plugin->process(&f->ins, &b);
    expect_json(
        &b,
        "{" T0 ",\"body\":\"a=1\",\"path\":\"/var/log/t.log\",\"host\":\"h\","
        "\"a\":\"1\"}\n"
        "{" T0 ",\"body\":\"b=2\",\"path\":\"/var/log/t.log\",\"host\":\"h\","
        "\"b\":\"2\"}\n"
        "{" T0 ",\"body\":\"c=3\",\"path\":\"/var/log/t.log\",\"host\":\"h\","
        "\"err\":\"no match\"}\n");
    lsh_batch_release(&b);
    batch_lines(&b, lines);
    g->plugin->process(&g->ins, &b);
    assert_int_equal(b.ndropped, 2);
    lsh_batch_release(&b);
    flt_free(f);
    flt_free(g);
}

static void test_parse_catastrophic(void **state)
{
    char             hostile[20001];
    const char      *lines[] = {hostile, "aaaa", NULL};
    struct flt      *f = flt_new(&flt_parse_plugin,
                                 "regex: '^(?<x>(a+)+)$'\non_mismatch: tag\n");
    struct lsh_batch b;
    int64_t          t0 = lsh_now_mono_ns();

    (void)state;
    memset(hostile, 'a', sizeof(hostile) - 2);
    hostile[sizeof(hostile) - 2] = 'b'; /* never matches: exponential */
    hostile[sizeof(hostile) - 1] = '\0';
    batch_lines(&b, lines);
    f->plugin->process(&f->ins, &b);
    /* the match limit stops it long before a human would notice */
    assert_true(lsh_now_mono_ns() - t0 < 2 * LSH_NS_PER_SEC);
    has(batch_json(&b), "\"parse_error\":\"match limit\"");
    assert_string_equal(b.recs[1].fields[0].name.ptr, "x");
    lsh_batch_release(&b);
    flt_free(f);
}

static void test_parse_json(void **state)
{
    static const char *const lines[] = {
        "{\"ts\":\"2026-11-23T10:00:00Z\",\"level\":\"info\",\"n\":3,"
        "\"f\":2.5,\"ok\":false,\"none\":null,\"obj\":{\"a\":[1,{\"b\":2}]},"
        "\"esc\":\"tab\\there\",\"host\":\"app-host\",\"count\":\"7\"}",
        "[1,2]",
        "{\"broken\":",
        NULL,
    };
    struct flt *f =
        flt_new(&flt_parse_plugin, "format: json\ntime: {field: ts}\n"
                                   "types: {count: int}\non_mismatch: tag\n");
    struct flt *g =
        flt_new(&flt_parse_plugin, "format: json\nnested: flatten\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    f->plugin->process(&f->ins, &b);
    /* a "host" key takes the built-in's place */
    expect_json(
        &b,
        "{\"time\":\"2026-11-23T10:00:00.000Z\",\"body\":\"{\\\"ts\\\":"
        "\\\"2026-11-23T10:00:00Z\\\",\\\"level\\\":\\\"info\\\",\\\"n\\\":3,"
        "\\\"f\\\":2.5,\\\"ok\\\":false,\\\"none\\\":null,\\\"obj\\\":{"
        "\\\"a\\\":"
        "[1,{\\\"b\\\":2}]},\\\"esc\\\":\\\"tab\\\\there\\\",\\\"host\\\":"
        "\\\"app-host\\\",\\\"count\\\":\\\"7\\\"}\",\"path\":\"/var/log/"
        "t.log\","
        "\"host\":\"app-host\",\"level\":\"info\",\"n\":3,\"f\":2.5,"
        "\"ok\":false,\"none\":null,\"obj\":{\"a\":[1,{\"b\":2}]},"
        "\"esc\":\"tab\\there\",\"count\":7}\n"
        "{" T0 ",\"body\":\"[1,2]\",\"path\":\"/var/log/t.log\",\"host\":\"h\","
        "\"parse_error\":\"invalid json\"}\n"
        "{" T0 ",\"body\":\"{\\\"broken\\\":\",\"path\":\"/var/log/t.log\","
        "\"host\":\"h\",\"parse_error\":\"invalid json\"}\n");
    lsh_batch_release(&b);

    batch_lines(&b, lines);
    b.n = 1;
    b.recs[0].flags |= LSH_REC_NO_BODY;
    lsh_record_set(
        &b, &b.recs[0], LSH_STR_LIT("body"),
        lsh_value_str(LSH_STR_LIT("{\"k\":{\"x\":{\"y\":1},\"z\":[]}}")));
    g->plugin->process(&g->ins, &b);
    has(batch_json(&b), "\"k.x.y\":1,\"k.z\":[]");
    lsh_batch_release(&b);
    flt_free(f);
    flt_free(g);
}

/* Invalid JSON gives no field at all, however far it got. */
static void test_parse_json_invalid_no_fields(void **state)
{
    static const char *const lines[] = {
        "{\"level\":\"error\",\"user\":\"mallory\",\"msg\":\"trunc",
        "{\"a\":{\"b\":1,\"c\":}}",
        NULL,
    };
    struct flt *f = flt_new(
        &flt_parse_plugin, "format: json\nnested: flatten\non_mismatch: tag\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    /* a field from before (a container's stream) survives the rewind */
    lsh_record_set(&b, &b.recs[0], LSH_STR_LIT("stream"),
                   lsh_value_str(LSH_STR_LIT("stdout")));
    f->plugin->process(&f->ins, &b);
    expect_json(&b,
                "{" T0 ",\"body\":\"{\\\"level\\\":\\\"error\\\",\\\"user\\\":"
                "\\\"mallory\\\",\\\"msg\\\":\\\"trunc\",\"path\":\"/var/log/"
                "t.log\",\"host\":\"h\",\"stream\":\"stdout\","
                "\"parse_error\":\"invalid json\"}\n"
                "{" T0 ",\"body\":\"{\\\"a\\\":{\\\"b\\\":1,\\\"c\\\":}}\","
                "\"path\":\"/var/log/t.log\",\"host\":\"h\","
                "\"parse_error\":\"invalid json\"}\n");
    lsh_batch_release(&b);
    flt_free(f);
}

/* 80,000 keys in one JSON line: linear, not quadratic, in the fields. */
static void test_parse_json_many_keys(void **state)
{
    struct lsh_buf    line = LSH_BUF_INIT;
    const char       *lines[2] = {NULL, NULL};
    struct flt       *f = flt_new(&flt_parse_plugin, "format: json\n");
    struct lsh_batch  b;
    struct lsh_field *x;
    int               i;

    (void)state;
    lsh_buf_addc(&line, '{');
    for (i = 0; i < 80000; i++) {
        lsh_buf_addf(&line, "%s\"key%d\":%d", i ? "," : "", i, i);
    }
    lsh_buf_adds(&line, ",\"key7\":-7}"); /* a duplicate: the last wins */
    lines[0] = lsh_buf_cstr(&line);
    batch_lines(&b, lines);
    f->plugin->process(&f->ins, &b);
    /* lookups go through the index, not a scan (timed in bench/, not here) */
    assert_non_null(b.recs[0].index);
    assert_true(b.recs[0].index_cap >= 2 * 80000);
    assert_int_equal(b.recs[0].nfields, 80000);
    x = lsh_record_field(&b.recs[0], LSH_STR_LIT("key79999"));
    assert_non_null(x);
    assert_int_equal(x->v.i, 79999);
    x = lsh_record_field(&b.recs[0], LSH_STR_LIT("key7"));
    assert_int_equal(x->v.i, -7);
    assert_true(lsh_record_unset(&b.recs[0], LSH_STR_LIT("key5")));
    assert_null(lsh_record_field(&b.recs[0], LSH_STR_LIT("key5")));
    assert_non_null(lsh_record_field(&b.recs[0], LSH_STR_LIT("key6")));
    lsh_batch_release(&b);
    lsh_buf_release(&line);
    flt_free(f);
}

static void test_parse_config_errors(void **state)
{
    char *e;

    (void)state;
    e = flt_errors(&flt_parse_plugin, "regex: '(?<a>x'\n");
    assert_non_null(strstr(e, "f.yaml:1:8: option 'regex': list item 1: "
                              "invalid regex: missing closing parenthesis at "
                              "offset 6 in '(?<a>x'"));
    free(e);
    e = flt_errors(&flt_parse_plugin, "regex: ['ok', 'a)']\n");
    assert_non_null(strstr(e, "f.yaml:1:15: option 'regex': list item 2: "
                              "invalid regex"));
    free(e);
    e = flt_errors(&flt_parse_plugin, "regex: x\ntypes: {a: number}\n");
    assert_non_null(strstr(e, "f.yaml:2:12: option 'types': field 'a': "
                              "'number' is not one of"));
    free(e);
    e = flt_errors(&flt_parse_plugin, "format: json\ntime: {field: t, "
                                      "format: dd-mm}\n");
    assert_non_null(strstr(e, "option 'time': format 'dd-mm' is not iso8601"));
    free(e);
    e = flt_errors(&flt_parse_plugin, "format: regex\n");
    assert_non_null(strstr(e, "regex needs a 'regex' option"));
    free(e);
}

static void test_grep(void **state)
{
    static const char *const lines[] = {"INFO a", "DEBUG b", "WARN c",
                                        "ERROR d", NULL};
    struct flt              *inc =
        flt_new(&flt_grep_plugin, "include: {body: '^(WARN|ERROR)'}\n");
    struct flt *orl =
        flt_new(&flt_grep_plugin, "include: {body: '^INFO', missing: x}\n"
                                  "logic: or\n");
    struct flt *andl =
        flt_new(&flt_grep_plugin, "include: {body: '^INFO', missing: x}\n");
    struct flt *exc =
        flt_new(&flt_grep_plugin, "exclude: {body: DEBUG, path: 'other'}\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    inc->plugin->process(&inc->ins, &b);
    assert_int_equal(b.ndropped, 2);
    assert_true(b.recs[0].flags & LSH_REC_DROPPED);
    assert_false(b.recs[3].flags & LSH_REC_DROPPED);
    lsh_batch_release(&b);

    batch_lines(&b, lines);
    orl->plugin->process(&orl->ins, &b);
    assert_int_equal(b.ndropped, 3); /* only INFO; a missing field fails */
    lsh_batch_release(&b);

    batch_lines(&b, lines);
    andl->plugin->process(&andl->ins, &b);
    assert_int_equal(b.ndropped, 4);
    lsh_batch_release(&b);

    batch_lines(&b, lines);
    exc->plugin->process(&exc->ins, &b);
    assert_int_equal(b.ndropped, 1);
    assert_true(b.recs[1].flags & LSH_REC_DROPPED);
    lsh_batch_release(&b);
    flt_free(inc);
    flt_free(orl);
    flt_free(andl);
    flt_free(exc);
}

static void test_grep_typed_fields(void **state)
{
    static const char *const lines[] = {"x", "y", NULL};
    struct flt *g = flt_new(&flt_grep_plugin, "include: {code: '^5\\d\\d$'}\n");
    struct lsh_batch b;
    struct lsh_value v = {.type = LSH_V_INT, .i = 503};

    (void)state;
    batch_lines(&b, lines);
    lsh_record_set(&b, &b.recs[0], LSH_STR_LIT("code"), v);
    v.i = 200;
    lsh_record_set(&b, &b.recs[1], LSH_STR_LIT("code"), v);
    g->plugin->process(&g->ins, &b);
    assert_false(b.recs[0].flags & LSH_REC_DROPPED);
    assert_true(b.recs[1].flags & LSH_REC_DROPPED);
    lsh_batch_release(&b);
    flt_free(g);
    has(flt_errors(&flt_grep_plugin, "logic: or\n"),
        "grep needs include or exclude");
}

static void test_modify(void **state)
{
    static const char *const lines[] = {"the body", NULL};
    struct flt              *m =
        flt_new(&flt_modify_plugin,
                "rename: {a: alpha, body: message}\n"
                "copy: {alpha: alpha2, host: origin}\n"
                "set: {greeting: 'hi {{alpha}} on {{origin}}', const: x, "
                "host: '{{alpha}}-host'}\n"
                "remove: [b, path, nothing]\n");
    struct lsh_batch b;

    (void)state;
    batch_lines(&b, lines);
    lsh_record_set(&b, &b.recs[0], LSH_STR_LIT("a"),
                   lsh_value_str(LSH_STR_LIT("A")));
    lsh_record_set(&b, &b.recs[0], LSH_STR_LIT("b"),
                   lsh_value_str(LSH_STR_LIT("B")));
    m->plugin->process(&m->ins, &b);
    expect_json(&b, "{" T0 ",\"host\":\"A-host\",\"alpha\":\"A\","
                    "\"message\":\"the body\",\"alpha2\":\"A\","
                    "\"origin\":\"h\",\"greeting\":\"hi A on h\","
                    "\"const\":\"x\"}\n");
    lsh_batch_release(&b);
    flt_free(m);
    has(flt_errors(&flt_modify_plugin, "remove: [time]\n"),
        "f.yaml:1:10: option 'remove': 'time' cannot be "
        "removed");
    has(flt_errors(&flt_modify_plugin, "set: {x: '{{unclosed'}\n"),
        "option 'set': key 'x': '{{' is not closed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_regex),
        cmocka_unit_test(test_parse_list_and_mismatch),
        cmocka_unit_test(test_parse_catastrophic),
        cmocka_unit_test(test_parse_json),
        cmocka_unit_test(test_parse_json_invalid_no_fields),
        cmocka_unit_test(test_parse_json_many_keys),
        cmocka_unit_test(test_parse_config_errors),
        cmocka_unit_test(test_grep),
        cmocka_unit_test(test_grep_typed_fields),
        cmocka_unit_test(test_modify),
    };

    lsh_log_level = LSH_LOG_WARN;
    lsh_host_set("h");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
