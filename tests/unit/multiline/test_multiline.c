/*
 * The multiline joiner: start lines, continuations, limits, flushing,
 * and the source offset of the pending record.
 */
#include "unit.h"

#include <stdlib.h>

#include "multiline.h"
#include "record.h"

struct out {
    struct lsh_buf text; /* records joined with '|' */
    int            n;
};

static void emit(void *arg, const char *text, size_t len, unsigned flags,
                 int64_t time_ns, int tag)
{
    struct out *o = arg;

    (void)flags;
    (void)time_ns;
    (void)tag;
    lsh_buf_add(&o->text, text, len);
    lsh_buf_addc(&o->text, '|');
    o->n++;
}

static struct lsh_ml_conf *conf(const char *re, int64_t max_lines,
                                int64_t max_bytes)
{
    struct lsh_ml_conf *c = calloc(1, sizeof(*c));
    char                err[128];
    size_t              at;

    c->start = lsh_regex_compile(re, err, sizeof(err), &at);
    assert_non_null(c->start);
    c->max_lines = max_lines;
    c->max_bytes = max_bytes;
    c->flush_after_ms = 1000;
    return c;
}

static void conf_free(struct lsh_ml_conf *c)
{
    lsh_regex_destroy(c->start);
    free(c);
}

static void feed(struct lsh_ml *ml, const char *line, uint64_t off,
                 struct out *o)
{
    lsh_ml_line(ml, line, strlen(line), 0, off, 0, -1, emit, o);
}

static void test_join(void **state)
{
    struct lsh_ml_conf *c = conf("^\\d", 100, 1 << 20);
    struct lsh_ml       ml;
    struct out          o = {LSH_BUF_INIT, 0};

    (void)state;
    lsh_ml_init(&ml, c);
    feed(&ml, "  orphan", 0, &o);
    assert_int_equal(o.n, 1); /* a continuation with no start: alone */
    assert_false(ml.active);
    feed(&ml, "1 first", 9, &o);
    assert_true(ml.active);
    assert_int_equal(ml.start, 9);
    feed(&ml, "  at a", 17, &o);
    feed(&ml, "  at b", 24, &o);
    assert_int_equal(o.n, 1);
    feed(&ml, "2 second", 31, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(ml.start, 31);
    lsh_ml_flush(&ml, emit, &o);
    lsh_ml_flush(&ml, emit, &o); /* nothing pending: no-op */
    assert_int_equal(o.n, 3);
    lsh_buf_cstr(&o.text);
    assert_string_equal(o.text.ptr,
                        "  orphan|1 first\n  at a\n  at b|2 second|");
    assert_int_equal(ml.joined, 2);
    lsh_buf_release(&o.text);
    lsh_ml_release(&ml);
    conf_free(c);
}

static void test_limits(void **state)
{
    struct lsh_ml_conf *c = conf("^S", 3, 20);
    struct lsh_ml       ml;
    struct out          o = {LSH_BUF_INIT, 0};

    (void)state;
    lsh_ml_init(&ml, c);
    feed(&ml, "S1", 0, &o);
    feed(&ml, "a", 3, &o);
    feed(&ml, "b", 5, &o);
    feed(&ml, "c", 7, &o); /* fourth line: over max_lines */
    assert_int_equal(o.n, 1);
    assert_int_equal(ml.start, 7);
    feed(&ml, "0123456789", 9, &o);
    feed(&ml, "0123456789", 20, &o); /* would pass 20 bytes */
    lsh_ml_flush(&ml, emit, &o);
    lsh_buf_cstr(&o.text);
    assert_string_equal(o.text.ptr, "S1\na\nb|c\n0123456789|0123456789|");
    assert_int_equal(ml.split, 2);
    lsh_buf_release(&o.text);
    lsh_ml_release(&ml);
    conf_free(c);
}

static void test_regex_limit_is_a_start(void **state)
{
    struct lsh_ml_conf *c = conf("^(a+)+$", 100, 1 << 20);
    struct lsh_ml       ml;
    struct out          o = {LSH_BUF_INIT, 0};
    char                hostile[64];

    (void)state;
    lsh_regex_limits(c->start, 1000, 0);
    memset(hostile, 'a', 40);
    hostile[40] = 'b';
    hostile[41] = '\0';
    lsh_ml_init(&ml, c);
    feed(&ml, "aaa", 0, &o);
    feed(&ml, hostile, 4, &o); /* catastrophic: hits the match limit */
    assert_int_equal(ml.limit_hits, 1);
    assert_int_equal(o.n, 1); /* it began a new record */
    lsh_buf_release(&o.text);
    lsh_ml_release(&ml);
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_regex_limit_is_a_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
