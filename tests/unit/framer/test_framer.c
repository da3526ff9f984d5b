/*
 * Line framing: complete lines, partial lines kept, CRLF, and the three
 * rules for over-long lines, including lines split across reads.
 */
#include "unit.h"

#include "framer.h"
#include "record.h"

struct collected {
    struct lsh_buf text; /* lines joined as "line|flags;" */
    size_t         n;
};

static void collect(void *arg, const char *line, size_t len, unsigned flags)
{
    struct collected *c = arg;

    lsh_buf_add(&c->text, line, len);
    lsh_buf_addf(&c->text, "%s;", (flags & LSH_REC_TRUNCATED) ? "|T" : "");
    c->n++;
}

/*
 * Feeds input in pieces of step bytes, keeping unconsumed bytes like a
 * reader does, and returns what was left unconsumed at the end.
 */
static size_t feed(struct lsh_framer *f, const char *in, size_t len,
                   size_t step, struct collected *c)
{
    struct lsh_buf pend = LSH_BUF_INIT;
    size_t         pos = 0;
    size_t         left;

    while (pos < len) {
        size_t take = LSH_MIN(step, len - pos);
        size_t used;

        lsh_buf_add(&pend, in + pos, take);
        pos += take;
        used = lsh_framer_run(f, pend.ptr, pend.len, collect, c);
        assert_true(used <= pend.len);
        memmove(pend.ptr, pend.ptr + used, pend.len - used);
        pend.len -= used;
        /* never more than max_line (+1 for a '\r') bytes are kept */
        assert_true(pend.len <= f->max_line + 1);
    }
    left = pend.len;
    lsh_buf_release(&pend);
    return left;
}

static void run_case(size_t max, int mode, bool cr, const char *in,
                     const char *want, size_t want_left)
{
    size_t step;

    /* every split of the input into reads must give the same lines */
    for (step = 1; step <= strlen(in) + 1; step++) {
        struct lsh_framer f;
        struct collected  c = {LSH_BUF_INIT, 0};
        size_t            left;

        lsh_framer_init(&f, max, mode, cr);
        left = feed(&f, in, strlen(in), step, &c);
        lsh_buf_cstr(&c.text);
        if (strcmp(c.text.ptr, want) != 0 || left != want_left) {
            fail_msg("step %zu: got '%s' left %zu, want '%s' left %zu", step,
                     c.text.ptr, left, want, want_left);
        }
        lsh_buf_release(&c.text);
    }
}

static void test_lines(void **state)
{
    (void)state;
    run_case(100, LSH_LONG_TRUNCATE, false, "a\nbb\n\nccc\n", "a;bb;;ccc;", 0);
    run_case(100, LSH_LONG_TRUNCATE, false, "a\npartial", "a;", 7);
    run_case(100, LSH_LONG_TRUNCATE, false, "", "", 0);
    run_case(100, LSH_LONG_TRUNCATE, false, "\n\n", ";;", 0);
}

static void test_nul_passes(void **state)
{
    struct lsh_framer f;
    struct collected  c = {LSH_BUF_INIT, 0};
    static const char in[] = "a\0b\nc\n";

    (void)state;
    lsh_framer_init(&f, 100, LSH_LONG_TRUNCATE, false);
    assert_int_equal(lsh_framer_run(&f, in, sizeof(in) - 1, collect, &c), 6);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.text.ptr, "a\0b;c;", 6);
    lsh_buf_release(&c.text);
}

static void test_crlf(void **state)
{
    (void)state;
    run_case(100, LSH_LONG_TRUNCATE, true, "a\r\nb\r\n", "a;b;", 0);
    run_case(100, LSH_LONG_TRUNCATE, false, "a\r\n", "a\r;", 0);
    /* only a '\r' right before '\n' goes */
    run_case(100, LSH_LONG_TRUNCATE, true, "a\rb\r\n", "a\rb;", 0);
    /* a max-length line plus CRLF is not too long */
    run_case(4, LSH_LONG_TRUNCATE, true, "abcd\r\nx\n", "abcd;x;", 0);
}

static void test_long_truncate(void **state)
{
    (void)state;
    run_case(4, LSH_LONG_TRUNCATE, false, "abcd\nabcdefgh\nxy\n",
             "abcd;abcd|T;xy;", 0);
    /* the rest of a long line is dropped even when it is still open */
    run_case(4, LSH_LONG_TRUNCATE, false, "abcdefghij", "abcd|T;", 0);
    run_case(4, LSH_LONG_TRUNCATE, false, "abcdefghij\nok\n", "abcd|T;ok;", 0);
}

static void test_long_skip(void **state)
{
    (void)state;
    run_case(4, LSH_LONG_SKIP, false, "abcdefgh\nxy\nabcde\n", "xy;", 0);
    run_case(4, LSH_LONG_SKIP, false, "abcdefgh", "", 0);
}

static void test_long_split(void **state)
{
    (void)state;
    run_case(4, LSH_LONG_SPLIT, false, "abcdefghij\nxy\n", "abcd;efgh;ij;xy;",
             0);
    run_case(4, LSH_LONG_SPLIT, false, "abcdefgh\n", "abcd;efgh;", 0);
    run_case(4, LSH_LONG_SPLIT, false, "abcdefg", "abcd;", 3);
}

static void test_counters(void **state)
{
    struct lsh_framer f;
    struct collected  c = {LSH_BUF_INIT, 0};
    static const char in[] = "aaaaaaa\nb\ncccccccc\n";

    (void)state;
    lsh_framer_init(&f, 4, LSH_LONG_TRUNCATE, false);
    lsh_framer_run(&f, in, sizeof(in) - 1, collect, &c);
    assert_int_equal(f.truncated, 2);
    assert_int_equal(f.lines, 3);
    lsh_buf_release(&c.text);

    memset(&c, 0, sizeof(c));
    lsh_framer_init(&f, 4, LSH_LONG_SKIP, false);
    lsh_framer_run(&f, in, sizeof(in) - 1, collect, &c);
    assert_int_equal(f.skipped, 2);
    assert_int_equal(f.lines, 1);
    lsh_buf_release(&c.text);

    memset(&c, 0, sizeof(c));
    lsh_framer_init(&f, 4, LSH_LONG_SPLIT, false);
    lsh_framer_run(&f, in, sizeof(in) - 1, collect, &c);
    assert_int_equal(f.split, 2); /* each long line once */
    assert_int_equal(f.lines, 5); /* aaaa aaa b cccc cccc */
    lsh_buf_release(&c.text);

    memset(&c, 0, sizeof(c));
    lsh_framer_init(&f, 4, LSH_LONG_SPLIT, false);
    lsh_framer_run(&f, "abcdefghijklm\nab\n", 17, collect, &c);
    assert_int_equal(f.split, 1);
    assert_int_equal(f.lines, 5); /* abcd efgh ijkl m ab */
    lsh_buf_release(&c.text);
}

static void test_finish(void **state)
{
    struct lsh_framer f;
    struct collected  c = {LSH_BUF_INIT, 0};

    (void)state;
    lsh_framer_init(&f, 100, LSH_LONG_TRUNCATE, true);
    lsh_framer_finish(&f, "last\r", 5, collect, &c);
    lsh_framer_finish(&f, "", 0, collect, &c);
    assert_int_equal(c.n, 1);
    assert_memory_equal(c.text.ptr, "last;", 5);
    lsh_buf_release(&c.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),     cmocka_unit_test(test_nul_passes),
        cmocka_unit_test(test_crlf),      cmocka_unit_test(test_long_truncate),
        cmocka_unit_test(test_long_skip), cmocka_unit_test(test_long_split),
        cmocka_unit_test(test_counters),  cmocka_unit_test(test_finish),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
