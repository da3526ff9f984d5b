/*
 * JSON encoding: escapes, UTF-8 handling, values and whole records.
 */
#include "unit.h"

#include <math.h>

#include "json.h"

static void check_str(const char *in, size_t n, const char *want)
{
    struct lsh_buf b = LSH_BUF_INIT;

    lsh_json_str(&b, in, n);
    assert_buf_eq(&b, want);
    lsh_buf_release(&b);
}

#define CHECK(lit, want) check_str((lit), sizeof(lit) - 1, (want))

static void test_plain_and_escapes(void **state)
{
    (void)state;
    CHECK("", "\"\"");
    CHECK("hello world", "\"hello world\"");
    CHECK("a\"b\\c", "\"a\\\"b\\\\c\"");
    CHECK("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    CHECK("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    CHECK("/", "\"/\"");
}

static void test_nul_bytes(void **state)
{
    (void)state;
    CHECK("a\0b", "\"a\\u0000b\"");
    CHECK("\0", "\"\\u0000\"");
}

static void test_valid_utf8_passes(void **state)
{
    (void)state;
    CHECK("\xc3\xa9", "\"\xc3\xa9\"");                 /* é */
    CHECK("\xe2\x82\xac", "\"\xe2\x82\xac\"");         /* € */
    CHECK("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* 😀 */
    CHECK("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");         /* U+FFFF */
    CHECK("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    /* lone continuation and invalid lead bytes: one U+FFFD each */
    CHECK("\x80", "\"" FFFD "\"");
    CHECK("a\xffz", "\"a" FFFD "z\"");
    CHECK("\xc0\xaf", "\"" FFFD FFFD "\""); /* overlong '/' */
    CHECK("\xc1\xbf", "\"" FFFD FFFD "\"");
    CHECK("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    /* truncated sequences: the maximal subpart becomes one U+FFFD */
    CHECK("\xe2\x82", "\"" FFFD "\"");
    CHECK("\xe2\x82z", "\"" FFFD "z\"");
    CHECK("\xf0\x9f\x98", "\"" FFFD "\"");
    CHECK("\xf0\x9f\x98"
          "\xc3\xa9",
          "\"" FFFD "\xc3\xa9\"");
    /* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
    CHECK("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
    CHECK("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
    CHECK("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    /* invalid bytes next to characters that need escaping */
    CHECK("\xff\"\xfe\n", "\"" FFFD "\\\"" FFFD "\\n\"");
}

static void test_values(void **state)
{
    struct lsh_buf   b = LSH_BUF_INIT;
    struct lsh_value v;

    (void)state;
    v.type = LSH_V_INT;
    v.i = -42;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.type = LSH_V_FLOAT;
    v.f = 0.5;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.f = NAN;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.f = INFINITY;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.type = LSH_V_BOOL;
    v.b = true;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.type = LSH_V_NULL;
    lsh_json_value(&b, &v);
    lsh_buf_addc(&b, ' ');
    v.type = LSH_V_JSON;
    v.s = LSH_STR_LIT("{\"a\":[1]}");
    lsh_json_value(&b, &v);
    assert_buf_eq(&b, "-42 0.5 null null true null {\"a\":[1]}");
    lsh_buf_release(&b);
}

/* Nested JSON values a parser kept as text: valid UTF-8 on output. */
static void test_nested_utf8(void **state)
{
    struct lsh_buf   b = LSH_BUF_INIT;
    struct lsh_value v;

    (void)state;
    v.type = LSH_V_JSON;
    v.s = LSH_STR_LIT("[\"\xff\xfe\",\"ok \xc3\xa9\",\"\xe2\x82\"]");
    lsh_json_value(&b, &v);
    assert_buf_eq(&b, "[\"\xef\xbf\xbd\xef\xbf\xbd\",\"ok \xc3\xa9\","
                      "\"\xef\xbf\xbd\"]");
    lsh_buf_release(&b);
}

static void test_time_format(void **state)
{
    char ts[LSH_RFC3339_MS_LEN + 1];

    (void)state;
    /* 2026-11-23T10:00:00.123Z */
    assert_int_equal(lsh_time_rfc3339_ms(1795428000123456789LL, ts), 24);
    assert_string_equal(ts, "2026-11-23T10:00:00.123Z");
    lsh_time_rfc3339_ms(0, ts);
    assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
    /* same second again: the cached prefix must still be right */
    lsh_time_rfc3339_ms(1795428000999000000LL, ts);
    assert_string_equal(ts, "2026-11-23T10:00:00.999Z");
    lsh_time_rfc3339_ms(1795428001000000000LL, ts);
    assert_string_equal(ts, "2026-11-23T10:00:01.000Z");
}

/* Every time_format, written without printf. */
static void test_time_formats(void **state)
{
    static const struct {
        int64_t              ns;
        enum lsh_time_format tf;
        const char          *want;
    } cases[] = {
        {1795428000123456789LL, LSH_TF_RFC3339_MS,
         "\"2026-11-23T10:00:00.123Z\""},
        {1795428000123456789LL, LSH_TF_RFC3339_US,
         "\"2026-11-23T10:00:00.123456Z\""},
        {1795428000123456789LL, LSH_TF_RFC3339_NS,
         "\"2026-11-23T10:00:00.123456789Z\""},
        {1795428000000000001LL, LSH_TF_RFC3339_NS,
         "\"2026-11-23T10:00:00.000000001Z\""},
        {1795428000000001000LL, LSH_TF_RFC3339_US,
         "\"2026-11-23T10:00:00.000001Z\""},
        {1795428000123456789LL, LSH_TF_EPOCH, "1795428000.123456789"},
        {1795428000000000007LL, LSH_TF_EPOCH, "1795428000.000000007"},
        {1795428000123456789LL, LSH_TF_EPOCH_MS, "1795428000123"},
        {1795428000123456789LL, LSH_TF_EPOCH_NS, "1795428000123456789"},
        {0, LSH_TF_EPOCH_NS, "0"},
        {0, LSH_TF_EPOCH, "0.000000000"},
        {-1, LSH_TF_EPOCH_NS, "-1"},
        {-1, LSH_TF_EPOCH, "-0.000000001"},
        {-500000000, LSH_TF_EPOCH, "-0.500000000"}, /* was -1.500000000 */
        {-1500000000, LSH_TF_EPOCH, "-1.500000000"},
        {INT64_MIN, LSH_TF_EPOCH, "-9223372036.854775808"},
        {-500000000, LSH_TF_EPOCH_MS, "-500"},
        {INT64_MIN, LSH_TF_EPOCH_NS, "-9223372036854775808"},
        {INT64_MAX, LSH_TF_EPOCH_NS, "9223372036854775807"},
    };
    struct lsh_buf b = LSH_BUF_INIT;
    size_t         i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lsh_buf_reset(&b);
        lsh_json_time(&b, cases[i].ns, cases[i].tf);
        assert_buf_eq(&b, cases[i].want);
    }
    lsh_buf_reset(&b);
    lsh_buf_add_i64(&b, INT64_MIN);
    lsh_buf_addc(&b, ' ');
    lsh_buf_add_u64w(&b, 7, 3);
    lsh_buf_addc(&b, ' ');
    lsh_buf_add_u64w(&b, 12345, 3);
    lsh_buf_addc(&b, ' ');
    lsh_buf_add_u64w(&b, 0, 0);
    assert_buf_eq(&b, "-9223372036854775808 007 12345 0");
    lsh_buf_release(&b);
}

static void test_record(void **state)
{
    struct lsh_batch   b;
    struct lsh_buf     out = LSH_BUF_INIT;
    struct lsh_record *r;
    struct lsh_value   v = {.type = LSH_V_INT, .i = 7};

    (void)state;
    lsh_batch_init(&b);
    b.path = LSH_STR_LIT("/var/log/a\".log");
    r = lsh_batch_push(&b, LSH_STR_LIT("line \"one\""), 1795428000123000000LL);
    lsh_record_set(&b, r, LSH_STR_LIT("level"),
                   lsh_value_str(LSH_STR_LIT("INFO")));
    lsh_record_set(&b, r, LSH_STR_LIT("n"), v);
    lsh_json_record(&out, &b, r, LSH_STR_LIT("host-1"));
    assert_buf_eq(&out, "{\"time\":\"2026-11-23T10:00:00.123Z\","
                        "\"body\":\"line \\\"one\\\"\","
                        "\"path\":\"/var/log/a\\\".log\","
                        "\"host\":\"host-1\",\"level\":\"INFO\",\"n\":7}");

    /* no path (stdin) and body removed */
    lsh_buf_reset(&out);
    b.path = LSH_STR_LIT("");
    r->flags |= LSH_REC_NO_BODY;
    lsh_record_unset(r, LSH_STR_LIT("level"));
    lsh_json_record(&out, &b, r, LSH_STR_LIT("h"));
    assert_buf_eq(&out, "{\"time\":\"2026-11-23T10:00:00.123Z\","
                        "\"host\":\"h\",\"n\":7}");
    lsh_buf_release(&out);
    lsh_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_escapes),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_valid_utf8_passes),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_nested_utf8),
        cmocka_unit_test(test_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
