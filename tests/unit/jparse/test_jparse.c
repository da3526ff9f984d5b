/*
 * The JSON reader and time parsing.
 */
#include "unit.h"

#include <stdlib.h>

#include "jparse.h"
#include "timeparse.h"

struct seen {
    struct lsh_buf out;
};

static int member(void *arg, const struct lsh_jvalue *k,
                  const struct lsh_jvalue *v)
{
    struct seen *s = arg;
    char        *tmp = malloc(k->raw.len + 1);
    size_t       n = lsh_jstring(k->raw, tmp);

    lsh_buf_add(&s->out, tmp, n);
    lsh_buf_addf(&s->out, "=%d:%.*s;", v->type, (int)v->raw.len, v->raw.ptr);
    free(tmp);
    return 0;
}

static void ok(const char *json, const char *want)
{
    struct seen s = {LSH_BUF_INIT};
    const char *err = NULL;
    size_t      at;

    if (lsh_jparse_object(json, strlen(json), member, &s, &err, &at) !=
        LSH_OK) {
        fail_msg("'%s': %s at %zu", json, err, at);
    }
    lsh_buf_cstr(&s.out);
    assert_string_equal(s.out.ptr ? s.out.ptr : "", want);
    lsh_buf_release(&s.out);
}

static void bad(const char *json, size_t want_at)
{
    struct seen s = {LSH_BUF_INIT};
    const char *err = NULL;
    size_t      at = 9999;

    if (lsh_jparse_object(json, strlen(json), member, &s, &err, &at) !=
        LSH_EINVAL) {
        fail_msg("'%s' parsed", json);
    }
    assert_non_null(err);
    assert_int_equal(at, want_at);
    lsh_buf_release(&s.out);
}

static void test_objects(void **state)
{
    (void)state;
    ok("{}", "");
    ok(" { \"a\" : 1 , \"b\":[1, {\"c\":null}], \"d\":\"x\" } \n",
       "a=1:1;b=6:[1, {\"c\":null}];d=0:\"x\";");
    ok("{\"t\":true,\"f\":false,\"n\":-0.5e+3}",
       "t=2:true;f=3:false;n=1:-0.5e+3;");
    ok("{\"k\\u0041\":\"\"}", "kA=0:\"\";");
}

static void test_errors(void **state)
{
    (void)state;
    bad("", 0);
    bad("[1]", 0);
    bad("{\"a\":}", 5);
    bad("{\"a\":1,}", 7);
    bad("{\"a\" 1}", 5);
    bad("{a:1}", 1);
    bad("{\"a\":01}", 6);
    bad("{\"a\":1.}", 6);
    bad("{\"a\":\"x\ty\"}", 7);
    bad("{\"a\":\"\\q\"}", 7);
    bad("{\"a\":\"\\u12\"}", 7);
    bad("{\"a\":tru}", 5);
    bad("{\"a\":1} x", 7);
    bad("{\"a\":\"unterminated}", 19);
}

static void test_depth(void **state)
{
    char   deep[300];
    size_t i;

    (void)state;
    strcpy(deep, "{\"a\":");
    for (i = 0; i < 100; i++) {
        strcat(deep, "[");
    }
    bad(deep, 68); /* 64 levels in, not 100 */
}

static void test_strings(void **state)
{
    char       out[64];
    const char s1[] = "\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\u0000z\"";
    const char s2[] = "\"lone \\ud800 x\"";
    size_t     n;

    (void)state;
    n = lsh_jstring(lsh_str_make(s1, sizeof(s1) - 1), out);
    assert_int_equal(n, 16);
    assert_memory_equal(out, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\0z", 16);
    n = lsh_jstring(lsh_str_make(s2, sizeof(s2) - 1), out);
    assert_memory_equal(out, "lone \xef\xbf\xbd x", n);
}

static void test_numbers(void **state)
{
    struct lsh_value v;

    (void)state;
    lsh_jnumber(LSH_STR_LIT("-9223372036854775808"), &v);
    assert_int_equal(v.type, LSH_V_INT);
    assert_true(v.i == INT64_MIN);
    lsh_jnumber(LSH_STR_LIT("9223372036854775808"), &v);
    assert_int_equal(v.type, LSH_V_JSON); /* too big: kept as written */
    lsh_jnumber(LSH_STR_LIT("1e3"), &v);
    assert_int_equal(v.type, LSH_V_FLOAT);
    assert_true(v.f == 1000.0);
}

static void time_ok(const char *fmt, const char *s, int64_t want)
{
    struct lsh_timefmt f;
    const char        *err;
    int64_t            ns = 0;

    assert_int_equal(lsh_timefmt_compile(&f, fmt, &err), LSH_OK);
    if (lsh_time_parse(&f, s, strlen(s), &ns) != LSH_OK || ns != want) {
        fail_msg("%s '%s': got %lld, want %lld", fmt, s, (long long)ns,
                 (long long)want);
    }
}

static void time_bad(const char *fmt, const char *s)
{
    struct lsh_timefmt f;
    const char        *err;
    int64_t            ns;

    assert_int_equal(lsh_timefmt_compile(&f, fmt, &err), LSH_OK);
    assert_int_equal(lsh_time_parse(&f, s, strlen(s), &ns), LSH_EINVAL);
}

#define T 1795428000LL /* 2026-11-23T10:00:00Z */

/* A year-less time goes to the year that puts it nearest to now. */
static void test_time_no_year(void **state)
{
    struct lsh_timefmt f;
    const char        *err;
    int64_t            ns;
    /* 2027-01-01T00:00:05Z, just after New Year */
    int64_t now = 1798761605LL;

    (void)state;
    assert_int_equal(lsh_timefmt_compile(&f, "%b %d %H:%M:%S", &err), LSH_OK);
    assert_int_equal(lsh_time_parse_at(&f, "Dec 31 23:59:58", 15, now, &ns),
                     LSH_OK);
    assert_int_equal(ns, (now - 7) * LSH_NS_PER_SEC); /* 2026, not 2027 */
    assert_int_equal(lsh_time_parse_at(&f, "Jan  1 00:00:03", 15, now, &ns),
                     LSH_OK);
    assert_int_equal(ns, (now - 2) * LSH_NS_PER_SEC);
    /* late December, New Year's Day in the line: next year's */
    assert_int_equal(
        lsh_time_parse_at(&f, "Jan  1 00:00:01", 15, now - 10, &ns), LSH_OK);
    assert_int_equal(ns, (now - 4) * LSH_NS_PER_SEC);
    /* Feb 29 exists only in a leap year: the nearest one that has it */
    assert_int_equal(lsh_time_parse_at(&f, "Feb 29 12:00:00", 15, 1709208000LL,
                                       &ns), /* 2024-02-29 */
                     LSH_OK);
    assert_int_equal(ns, 1709208000LL * LSH_NS_PER_SEC);
    assert_int_equal(lsh_time_parse_at(&f, "Feb 30 12:00:00", 15, now, &ns),
                     LSH_EINVAL);
}

static void test_time(void **state)
{
    struct lsh_timefmt f;
    const char        *err;

    (void)state;
    time_ok("iso8601", "2026-11-23T10:00:00Z", T * LSH_NS_PER_SEC);
    time_ok("iso8601", "2026-11-23 10:00:00.123456789Z",
            T * LSH_NS_PER_SEC + 123456789);
    time_ok("iso8601", "2026-11-23T12:00:00.5+02:00",
            T * LSH_NS_PER_SEC + 500000000);
    time_ok("iso8601", "2026-11-23T09:30:00-0030", T * LSH_NS_PER_SEC);
    time_ok("iso8601", "2026-11-23T10:00:00", T * LSH_NS_PER_SEC);
    time_ok("iso8601", "1970-01-01T00:00:00.0000000001Z", 0);
    time_bad("iso8601", "2026-11-23");
    time_bad("iso8601", "2026-13-23T10:00:00Z");
    time_bad("iso8601", "2026-11-23T10:00:00Zjunk");
    time_bad("iso8601", "2568-11-23T10:00:00Z"); /* past int64 ns */
    time_bad("iso8601", "1600-01-01T00:00:00Z");
    time_ok("iso8601", "2262-04-11T23:47:15Z", 9223372035LL * LSH_NS_PER_SEC);
    time_ok("epoch", "1795428000.25", T * LSH_NS_PER_SEC + 250000000);
    time_ok("epoch_ms", "1795428000123", T * LSH_NS_PER_SEC + 123000000);
    time_ok("epoch_us", "1795428000123456", T * LSH_NS_PER_SEC + 123456000);
    time_ok("epoch_ns", "1795428000123456789", T * LSH_NS_PER_SEC + 123456789);
    time_bad("epoch", "12a");
    time_ok("%d/%b/%Y:%H:%M:%S %z", "23/Nov/2026:11:00:00 +0100",
            T * LSH_NS_PER_SEC);
    time_ok("%Y-%m-%d %H:%M:%S,%f", "2026-11-23 10:00:00,042",
            T * LSH_NS_PER_SEC + 42000000);
    time_bad("%Y-%m-%d", "2026-11-23 trailing");
    /* strict: days a month does not have, offsets, out-of-range epochs */
    time_bad("iso8601", "2024-02-31T00:00:00Z");
    time_bad("iso8601", "2023-02-29T00:00:00Z");
    time_ok("iso8601", "2024-02-29T00:00:00Z", 1709164800LL * LSH_NS_PER_SEC);
    time_bad("iso8601", "2026-04-31T00:00:00Z");
    time_bad("iso8601", "2026-11-23T10:00:00+99:99");
    time_bad("iso8601", "2026-11-23T10:00:00+24:00");
    time_bad("iso8601", "2026-11-23T10:00:00+0160");
    time_ok("iso8601", "2026-11-23T23:59:00+23:59",
            1795392000LL * LSH_NS_PER_SEC);
    time_bad("%Y-%m-%d", "2024-02-31");
    time_bad("epoch", "9223372039");
    time_bad("epoch", "-9223372039");
    time_bad("epoch_ns", "9223372036854775809");
    time_bad("epoch_ns", "99999999999999999999999");
    time_bad("epoch_ms", "9223372036855");
    time_bad("epoch", "9223372036.9");
    time_ok("epoch_ns", "9223372036854775807", INT64_MAX);
    time_ok("epoch", "9223372036.854775807", INT64_MAX);
    time_ok("epoch", "-0.5", -500000000);
    assert_int_equal(lsh_timefmt_compile(&f, "dd-mm", &err), LSH_EINVAL);
    assert_int_equal(lsh_timefmt_compile(&f, "%f%f", &err), LSH_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth),        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),      cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_no_year),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
