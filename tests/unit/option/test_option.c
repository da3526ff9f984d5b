/*
 * Option tables: value parsers, defaults, nested tables, maps, printing
 * (with secrets masked) and the generated reference.
 */
#include "unit.h"

#include <stdlib.h>

#include "option.h"
#include "plugin.h"
#include "tpl.h"

static void test_duration(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(lsh_parse_duration_ms("250ms", &v), LSH_OK);
    assert_int_equal(v, 250);
    assert_int_equal(lsh_parse_duration_ms("1.5s", &v), LSH_OK);
    assert_int_equal(v, 1500);
    assert_int_equal(lsh_parse_duration_ms("2m", &v), LSH_OK);
    assert_int_equal(v, 120000);
    assert_int_equal(lsh_parse_duration_ms("1h", &v), LSH_OK);
    assert_int_equal(v, 3600000);
    assert_int_equal(lsh_parse_duration_ms("0", &v), LSH_OK);
    assert_int_equal(v, 0);
    assert_int_equal(lsh_parse_duration_ms("5 s", &v), LSH_OK);
    assert_int_equal(v, 5000);
    assert_int_equal(lsh_parse_duration_ms("10", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("-1s", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("1d", &v), LSH_OK);
    assert_int_equal(v, 86400000);
    assert_int_equal(lsh_parse_duration_ms("1w", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("s", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("nan s", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_duration_ms("inf", &v), LSH_EINVAL);
}

static void test_size(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(lsh_parse_size("512", &v), LSH_OK);
    assert_int_equal(v, 512);
    assert_int_equal(lsh_parse_size("64KiB", &v), LSH_OK);
    assert_int_equal(v, 65536);
    assert_int_equal(lsh_parse_size("64k", &v), LSH_OK);
    assert_int_equal(v, 65536);
    assert_int_equal(lsh_parse_size("1MB", &v), LSH_OK);
    assert_int_equal(v, 1000000);
    assert_int_equal(lsh_parse_size("1.5MiB", &v), LSH_OK);
    assert_int_equal(v, 1572864);
    assert_int_equal(lsh_parse_size("2G", &v), LSH_OK);
    assert_int_equal(v, 2147483648LL);
    assert_int_equal(lsh_parse_size("12b", &v), LSH_OK);
    assert_int_equal(v, 12);
    assert_int_equal(lsh_parse_size("1TB", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_size("-1", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_size("x", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_size("99999999999G", &v), LSH_EINVAL);
}

static void test_int_bool(void **state)
{
    int64_t v;
    bool    b;

    (void)state;
    assert_int_equal(lsh_parse_int("-42", &v), LSH_OK);
    assert_int_equal(v, -42);
    assert_int_equal(lsh_parse_int("9223372036854775807", &v), LSH_OK);
    assert_int_equal(lsh_parse_int("9223372036854775808", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_int("1.0", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_int(" 1", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_int("", &v), LSH_EINVAL);
    assert_int_equal(lsh_parse_bool("true", &b), LSH_OK);
    assert_true(b);
    assert_int_equal(lsh_parse_bool("Off", &b), LSH_OK);
    assert_false(b);
    assert_int_equal(lsh_parse_bool("1", &b), LSH_EINVAL);
}

/* A table with every type, including a nested one. */
struct sub_conf {
    char   *start;
    int64_t max_lines;
};

struct all_conf {
    char              *s;
    char              *secret;
    struct lsh_strlist l;
    int64_t            i;
    bool               b;
    int                e;
    int64_t            d;
    int64_t            z;
    struct lsh_tpl    *t;
    struct lsh_kvlist  m;
    struct sub_conf   *sub;
};

static const char *const colours[] = {"red", "green", NULL};

static const struct lsh_option sub_options[] = {
    {.name = "start",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct sub_conf, start),
     .help = "start"},
    {.name = "max_lines",
     .type = LSH_OPT_INT,
     .def = "500",
     .offset = offsetof(struct sub_conf, max_lines),
     .min = 1,
     .max = 1000,
     .help = "max"},
    {.name = NULL},
};

static const struct lsh_option all_options[] = {
    {.name = "s",
     .type = LSH_OPT_STR,
     .def = "dflt",
     .offset = offsetof(struct all_conf, s),
     .help = "a string"},
    {.name = "secret",
     .type = LSH_OPT_STR,
     .flags = LSH_OPT_SECRET,
     .offset = offsetof(struct all_conf, secret),
     .help = "hidden"},
    {.name = "l",
     .type = LSH_OPT_STRLIST,
     .offset = offsetof(struct all_conf, l),
     .help = "list"},
    {.name = "i",
     .type = LSH_OPT_INT,
     .def = "3",
     .offset = offsetof(struct all_conf, i),
     .min = 1,
     .max = 10,
     .help = "int"},
    {.name = "b",
     .type = LSH_OPT_BOOL,
     .def = "true",
     .offset = offsetof(struct all_conf, b),
     .help = "bool"},
    {.name = "e",
     .type = LSH_OPT_ENUM,
     .def = "green",
     .offset = offsetof(struct all_conf, e),
     .values = colours,
     .help = "enum"},
    {.name = "d",
     .type = LSH_OPT_DURATION,
     .def = "1s",
     .offset = offsetof(struct all_conf, d),
     .help = "duration"},
    {.name = "z",
     .type = LSH_OPT_SIZE,
     .def = "1MiB",
     .offset = offsetof(struct all_conf, z),
     .help = "size"},
    {.name = "t",
     .type = LSH_OPT_TEMPLATE,
     .offset = offsetof(struct all_conf, t),
     .help = "template"},
    {.name = "m",
     .type = LSH_OPT_MAP,
     .offset = offsetof(struct all_conf, m),
     .help = "map"},
    {.name = "sub",
     .type = LSH_OPT_SUB,
     .offset = offsetof(struct all_conf, sub),
     .sub = sub_options,
     .sub_size = sizeof(struct sub_conf),
     .help = "nested"},
    {.name = NULL},
};

static int parse(const char *yaml, struct all_conf *c, struct lsh_diag *d)
{
    struct lsh_doc *doc = lsh_doc_parse("o.yaml", yaml, strlen(yaml), d);
    int             rc;

    assert_non_null(doc);
    memset(c, 0, sizeof(*c));
    rc = lsh_opt_parse(all_options, doc->root, NULL, c, d);
    lsh_doc_destroy(doc);
    return rc;
}

static void test_defaults_and_values(void **state)
{
    struct all_conf c;
    struct lsh_diag d;

    (void)state;
    lsh_diag_init(&d);
    assert_int_equal(parse("l: one\n", &c, &d), LSH_OK);
    assert_string_equal(c.s, "dflt");
    assert_null(c.secret);
    assert_int_equal(c.l.n, 1);
    assert_string_equal(c.l.v[0], "one");
    assert_int_equal(c.i, 3);
    assert_true(c.b);
    assert_int_equal(c.e, 1);
    assert_int_equal(c.d, 1000);
    assert_int_equal(c.z, 1048576);
    assert_null(c.t);
    assert_int_equal(c.m.n, 0);
    assert_null(c.sub);
    lsh_opt_release(all_options, &c);

    assert_int_equal(parse("s: x\nl: [a, b]\ni: 10\nb: no\ne: red\nd: 2m\n"
                           "z: 4KiB\nt: 'k-{{f}}'\nm: {p.q: 1, r: s}\n"
                           "sub: {start: '^\\d'}\n",
                           &c, &d),
                     LSH_OK);
    assert_string_equal(c.s, "x");
    assert_int_equal(c.l.n, 2);
    assert_int_equal(c.i, 10);
    assert_false(c.b);
    assert_int_equal(c.e, 0);
    assert_int_equal(c.d, 120000);
    assert_int_equal(c.z, 4096);
    assert_string_equal(lsh_tpl_source(c.t), "k-{{f}}");
    assert_int_equal(c.m.n, 2);
    assert_string_equal(c.m.keys[0], "p.q");
    assert_string_equal(c.m.vals[0], "1");
    assert_int_equal(c.m.marks[1].line, 9);
    assert_non_null(c.sub);
    assert_string_equal(c.sub->start, "^\\d");
    assert_int_equal(c.sub->max_lines, 500);
    assert_int_equal(d.nerrors, 0);
    lsh_opt_release(all_options, &c);
    lsh_diag_release(&d);
}

static void expect(const char *yaml, const char *want)
{
    struct all_conf c;
    struct lsh_diag d;

    lsh_diag_init(&d);
    assert_int_equal(parse(yaml, &c, &d), LSH_EINVAL);
    lsh_buf_cstr(&d.text);
    if (strstr(d.text.ptr, want) == NULL) {
        fail_msg("want '%s' in:\n%s", want, d.text.ptr);
    }
    lsh_opt_release(all_options, &c);
    lsh_diag_release(&d);
}

static void test_errors(void **state)
{
    (void)state;
    expect("i: 0\n", "o.yaml:1:4: option 'i': 0 is below the minimum 1");
    expect("i: 11\n", "option 'i': 11 is above the maximum 10");
    expect("i: x\n", "option 'i': 'x' is not an integer");
    expect("e: blue\n", "option 'e': 'blue' is not one of: red, green");
    expect("t: '{{x'\n", "o.yaml:1:4: option 't': '{{' is not closed by "
                         "'}}' at offset 0 in '{{x'");
    expect("m: [a]\n", "option 'm': expected a map, got a list");
    expect("m: {a: [1]}\n", "option 'm': key 'a': expected a scalar value");
    expect("sub: {}\n", "o.yaml:1:6: missing required option 'sub.start'");
    expect("sub: {start: x, max_lines: 0}\n",
           "option 'sub.max_lines': 0 is below the minimum 1");
    expect("sub: {start: x, nope: 1}\n",
           "unknown option 'sub.nope'; valid options: start, max_lines");
    expect("sub: 3\n", "option 'sub': expected a map, got a scalar");
    expect("s: {a: 1}\n", "option 's': expected string, got a map");
}

static void test_print_masks_secrets(void **state)
{
    struct all_conf c;
    struct lsh_diag d;
    struct lsh_buf  out = LSH_BUF_INIT;

    (void)state;
    lsh_diag_init(&d);
    assert_int_equal(parse("secret: hunter2\nm: {sasl.password: pw, a: b}\n"
                           "sub: {start: x}\n",
                           &c, &d),
                     LSH_OK);
    lsh_opt_print(all_options, &c, 0, &out);
    lsh_buf_cstr(&out);
    assert_null(strstr(out.ptr, "hunter2"));
    assert_null(strstr(out.ptr, "pw"));
    assert_non_null(strstr(out.ptr, "secret: \"****\""));
    assert_non_null(strstr(out.ptr, "\"sasl.password\": \"****\""));
    assert_non_null(strstr(out.ptr, "\"a\": \"b\""));
    assert_non_null(strstr(out.ptr, "sub: \n  start: \"x\"\n  max_lines: 500"));
    assert_non_null(strstr(out.ptr, "d: 1s\n"));
    lsh_buf_release(&out);
    lsh_opt_release(all_options, &c);
    lsh_diag_release(&d);
}

static void test_doc(void **state)
{
    struct lsh_buf out = LSH_BUF_INIT;

    (void)state;
    lsh_opt_doc(all_options, &out);
    lsh_buf_cstr(&out);
    assert_non_null(strstr(out.ptr, "| `i` | integer, 1 to 10 | `3` | int |"));
    assert_non_null(strstr(out.ptr, "| `e` | one of `red, green` | `green` |"));
    assert_non_null(strstr(out.ptr, "| `sub.start` | string | required |"));
    lsh_buf_release(&out);
}

/* Every registered plugin's defaults must parse and pass its bounds. */
static void test_plugin_defaults(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; lsh_plugins[i] != NULL; i++) {
        const struct lsh_plugin *p = lsh_plugins[i];
        const struct lsh_option *o;
        struct lsh_diag          d;
        void                    *conf = calloc(1, p->conf_size);

        lsh_diag_init(&d);
        /* supply a value for required options, then check the rest */
        lsh_opt_parse(p->options, NULL, NULL, conf, &d);
        for (o = p->options; o->name != NULL; o++) {
            assert_non_null(o->help);
        }
        lsh_buf_cstr(&d.text);
        if (strstr(d.text.ptr, "missing required") == NULL && d.nerrors > 0) {
            fail_msg("plugin %s: %s", p->name, d.text.ptr);
        }
        lsh_opt_release(p->options, conf);
        free(conf);
        lsh_diag_release(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_int_bool),
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_print_masks_secrets),
        cmocka_unit_test(test_doc),
        cmocka_unit_test(test_plugin_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
