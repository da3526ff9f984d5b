/*
 * Buffers, the arena and the record model.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "buf.h"
#include "record.h"

static void test_buf(void **state)
{
    struct lsh_buf a = LSH_BUF_INIT;
    struct lsh_buf b = LSH_BUF_INIT;
    char          *p;
    size_t         len;
    int            i;

    (void)state;
    for (i = 0; i < 1000; i++) {
        lsh_buf_addf(&a, "%d,", i);
    }
    assert_int_equal(a.len, 3890);
    assert_memory_equal(a.ptr, "0,1,2,", 6);
    lsh_buf_adds(&b, "xy");
    lsh_buf_swap(&a, &b);
    assert_buf_eq(&a, "xy");
    assert_int_equal(b.len, 3890);
    p = lsh_buf_detach(&a, &len);
    assert_string_equal(p, "xy");
    assert_int_equal(len, 2);
    assert_null(a.ptr);
    free(p);
    lsh_buf_reset(&b);
    lsh_buf_addf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    lsh_buf_release(&b);
    assert_int_equal(b.cap, 0);
}

static void test_arena(void **state)
{
    struct lsh_arena a;
    char            *p;
    char            *q;
    int              i;

    (void)state;
    lsh_arena_init(&a, 128);
    p = lsh_arena_memdup(&a, "hello", 5);
    assert_string_equal(p, "hello");
    assert_int_equal((uintptr_t)p % 8, 0);
    /* overflow into more chunks, including one bigger than the default */
    for (i = 0; i < 100; i++) {
        q = lsh_arena_alloc(&a, 100);
        memset(q, 'x', 100);
        assert_int_equal((uintptr_t)q % 8, 0);
    }
    q = lsh_arena_alloc(&a, 10000);
    memset(q, 'y', 10000);
    assert_string_equal(p, "hello");
    lsh_arena_reset(&a);
    assert_int_equal(a.used, 0);
    /* after a reset, one chunk holds what the last round needed */
    for (i = 0; i < 100; i++) {
        lsh_arena_alloc(&a, 100);
    }
    lsh_arena_release(&a);
}

static void test_records(void **state)
{
    struct lsh_batch   b;
    struct lsh_record *r;
    struct lsh_value   v = {.type = LSH_V_INT, .i = 1};
    int                i;
    char               name[16];

    (void)state;
    lsh_batch_init(&b);
    for (i = 0; i < 100; i++) {
        lsh_batch_push(&b, LSH_STR_LIT("x"), i);
    }
    assert_int_equal(b.n, 100);
    r = &b.recs[50];
    assert_int_equal(r->time_ns, 50);
    for (i = 0; i < 20; i++) {
        char *n;

        snprintf(name, sizeof(name), "f%d", i);
        n = lsh_arena_memdup(&b.arena, name, strlen(name));
        v.i = i;
        lsh_record_set(&b, r, lsh_str_make(n, strlen(n)), v);
    }
    assert_int_equal(r->nfields, 20);
    v.i = 99;
    lsh_record_set(&b, r, LSH_STR_LIT("f3"), v);
    assert_int_equal(r->nfields, 20);
    assert_int_equal(lsh_record_field(r, LSH_STR_LIT("f3"))->v.i, 99);
    assert_true(lsh_record_unset(r, LSH_STR_LIT("f0")));
    assert_false(lsh_record_unset(r, LSH_STR_LIT("f0")));
    assert_int_equal(r->nfields, 19);
    assert_string_equal(r->fields[0].name.ptr, "f1");
    assert_null(lsh_record_field(r, LSH_STR_LIT("nope")));
    lsh_batch_drop(&b, r);
    lsh_batch_drop(&b, r);
    assert_int_equal(b.ndropped, 1);
    lsh_batch_reset(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.ndropped, 0);
    lsh_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_records),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
