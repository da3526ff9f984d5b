/*
 * Templates: compiling, rendering fields and built-ins, missing fields,
 * and compile errors.
 */
#include "unit.h"

#include <stdlib.h>

#include "tpl.h"

struct fixture {
    struct lsh_batch   b;
    struct lsh_record *r;
};

static int setup(void **state)
{
    struct fixture  *fx = calloc(1, sizeof(*fx));
    struct lsh_value v;

    lsh_batch_init(&fx->b);
    fx->b.path = LSH_STR_LIT("/var/log/app.log");
    fx->r =
        lsh_batch_push(&fx->b, LSH_STR_LIT("the body"), 1795428000123000000LL);
    lsh_record_set(&fx->b, fx->r, LSH_STR_LIT("service"),
                   lsh_value_str(LSH_STR_LIT("api")));
    v.type = LSH_V_INT;
    v.i = 1234;
    lsh_record_set(&fx->b, fx->r, LSH_STR_LIT("user"), v);
    v.type = LSH_V_FLOAT;
    v.f = 0.1;
    lsh_record_set(&fx->b, fx->r, LSH_STR_LIT("ratio"), v);
    v.type = LSH_V_BOOL;
    v.b = false;
    lsh_record_set(&fx->b, fx->r, LSH_STR_LIT("ok"), v);
    v.type = LSH_V_NULL;
    lsh_record_set(&fx->b, fx->r, LSH_STR_LIT("nothing"), v);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    lsh_batch_release(&fx->b);
    free(fx);
    return 0;
}

static void check(struct fixture *fx, const char *src, const char *want,
                  size_t want_missing)
{
    const char     *err = NULL;
    size_t          at = 0;
    struct lsh_tpl *t = lsh_tpl_compile(src, &err, &at);
    struct lsh_buf  out = LSH_BUF_INIT;
    size_t          missing;

    assert_non_null(t);
    missing = lsh_tpl_render(t, &fx->b, fx->r, LSH_STR_LIT("h1"), &out);
    lsh_buf_cstr(&out);
    if (strcmp(out.ptr, want) != 0 || missing != want_missing) {
        fail_msg("'%s' rendered '%s' (%zu missing), want '%s' (%zu)", src,
                 out.ptr, missing, want, want_missing);
    }
    assert_string_equal(lsh_tpl_source(t), src);
    lsh_buf_release(&out);
    lsh_tpl_destroy(t);
}

static void test_render(void **state)
{
    struct fixture *fx = *state;

    check(fx, "logs", "logs", 0);
    check(fx, "", "", 0);
    check(fx, "logs-{{service}}", "logs-api", 0);
    check(fx, "{{ service }}:{{user}}", "api:1234", 0);
    check(fx, "{{ratio}}/{{ok}}", "0.1/false", 0);
    check(fx, "{{service}}{{service}}", "apiapi", 0);
    check(fx, "a{b}c", "a{b}c", 0);
    check(fx, "x}}y", "x}}y", 0);
}

static void test_builtins(void **state)
{
    struct fixture *fx = *state;

    check(fx, "{{time}} {{host}} {{path}}: {{body}}",
          "2026-11-23T10:00:00.123Z h1 /var/log/app.log: the body", 0);
}

static void test_missing(void **state)
{
    struct fixture *fx = *state;

    check(fx, "{{nope}}", "", 1);
    check(fx, "k-{{nope}}-{{nothing}}-{{service}}", "k---api", 2);
    fx->r->flags |= LSH_REC_NO_BODY;
    check(fx, "[{{body}}]", "[]", 1);
}

static void test_const(void **state)
{
    const char     *err;
    size_t          at;
    struct lsh_tpl *a = lsh_tpl_compile("plain", &err, &at);
    struct lsh_tpl *b = lsh_tpl_compile("x{{y}}", &err, &at);

    (void)state;
    assert_true(lsh_tpl_is_const(a));
    assert_false(lsh_tpl_is_const(b));
    lsh_tpl_destroy(a);
    lsh_tpl_destroy(b);
}

static void check_error(const char *src, size_t want_at)
{
    const char *err = NULL;
    size_t      at = 999;

    assert_null(lsh_tpl_compile(src, &err, &at));
    assert_non_null(err);
    assert_int_equal(at, want_at);
}

static void test_errors(void **state)
{
    (void)state;
    check_error("{{", 0);
    check_error("abc{{def", 3);
    check_error("{{}}", 0);
    check_error("x{{  }}", 1);
    check_error("{{a b}}", 0);
    check_error("ok {{a}} {{b{c}}", 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test(test_const),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
