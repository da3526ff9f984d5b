/*
 * tail globs: roots, matching with * ? [...] and **, hidden names, and
 * which directories may hold matches.
 */
#include "unit.h"

#include "tail.h"

static void compile_ok(struct in_tail_glob *g, const char *pattern)
{
    const char *err = NULL;

    if (in_tail_glob_compile(g, pattern, &err) != LSH_OK) {
        fail_msg("'%s': %s", pattern, err);
    }
}

static void test_roots(void **state)
{
    struct in_tail_glob g;

    (void)state;
    compile_ok(&g, "/var/log/app/*.log");
    assert_string_equal(g.root, "/var/log/app");
    assert_int_equal(g.nparts, 1);
    in_tail_glob_release(&g);

    compile_ok(&g, "/var/log/app.log");
    assert_string_equal(g.root, "/var/log");
    assert_string_equal(g.parts[0], "app.log");
    in_tail_glob_release(&g);

    compile_ok(&g, "/var//log/**/**/x-?.log");
    assert_string_equal(g.root, "/var/log");
    assert_int_equal(g.nparts, 2); /* ** twice is ** once */
    in_tail_glob_release(&g);

    compile_ok(&g, "/logs/**");
    assert_int_equal(g.nparts, 2); /* a trailing ** means every file */
    assert_string_equal(g.parts[1], "*");
    in_tail_glob_release(&g);

    compile_ok(&g, "/*.log");
    assert_string_equal(g.root, "/");
    in_tail_glob_release(&g);
}

static void test_compile_errors(void **state)
{
    struct in_tail_glob g;
    const char         *err = NULL;

    (void)state;
    assert_int_equal(in_tail_glob_compile(&g, "var/log/*.log", &err),
                     LSH_EINVAL);
    assert_string_equal(err, "must be an absolute path");
    assert_int_equal(in_tail_glob_compile(&g, "/var/../etc/*", &err),
                     LSH_EINVAL);
    assert_int_equal(in_tail_glob_compile(&g, "/", &err), LSH_EINVAL);
    {
        /* a root component longer than NAME_MAX, after a literal one: its
           error path leaked the root built so far (LeakSanitizer) */
        char long_path[600];

        memset(long_path, 'a', sizeof(long_path));
        memcpy(long_path, "/var/", 5);
        memcpy(long_path + 5 + 300, "/*.log", 7);
        assert_int_equal(in_tail_glob_compile(&g, long_path, &err), LSH_EINVAL);
        assert_string_equal(err, "has a component longer than NAME_MAX");
    }
}

struct m {
    const char *path;
    bool        want;
};

static void check(const char *pattern, const struct m *cases, size_t n)
{
    struct in_tail_glob g;
    size_t              i;

    compile_ok(&g, pattern);
    for (i = 0; i < n; i++) {
        if (in_tail_glob_match(&g, cases[i].path) != cases[i].want) {
            fail_msg("'%s' vs '%s': want %d", pattern, cases[i].path,
                     cases[i].want);
        }
    }
    in_tail_glob_release(&g);
}

static void test_match(void **state)
{
    static const struct m simple[] = {
        {"/var/log/app/a.log", true},    {"/var/log/app/.a.log", false},
        {"/var/log/app/a.log.1", false}, {"/var/log/app/sub/a.log", false},
        {"/var/log/app", false},         {"/var/log/appx/a.log", false},
        {"/var/log/app/x.log", true},
    };
    static const struct m dstar[] = {
        {"/k/a.log", true},         {"/k/x/a.log", true},
        {"/k/x/y/z/a.log", true},   {"/k/.hid/a.log", false},
        {"/k/x/.hid/a.log", false}, {"/k/x/a.txt", false},
        {"/other/a.log", false},
    };
    static const struct m mid[] = {
        {"/p/ns_pod_1/c/0.log", true},
        {"/p/ns_pod_1/c/d/0.log", false},
        {"/p/x/c/0.log", false},
        {"/p/ns_a/c/0.log.1", false},
    };
    static const struct m cls[] = {
        {"/l/app-1.log", true},
        {"/l/app-x.log", false},
        {"/l/app-12.log", false},
    };

    (void)state;
    check("/var/log/app/*.log", simple, LSH_ARRAY_SIZE(simple));
    check("/k/**/*.log", dstar, LSH_ARRAY_SIZE(dstar));
    check("/p/*_*/c/[0-9].log", mid, LSH_ARRAY_SIZE(mid));
    check("/l/app-[0-9].log", cls, LSH_ARRAY_SIZE(cls));
}

static void test_dir_may_match(void **state)
{
    struct in_tail_glob g;

    (void)state;
    compile_ok(&g, "/p/*/c/*.log");
    assert_true(in_tail_glob_dir_may_match(&g, "/p"));
    assert_true(in_tail_glob_dir_may_match(&g, "/p/ns"));
    assert_true(in_tail_glob_dir_may_match(&g, "/p/ns/c"));
    assert_false(in_tail_glob_dir_may_match(&g, "/p/ns/d"));
    assert_false(in_tail_glob_dir_may_match(&g, "/p/ns/c/deeper"));
    assert_false(in_tail_glob_dir_may_match(&g, "/q/ns"));
    in_tail_glob_release(&g);

    compile_ok(&g, "/k/**/*.log");
    assert_true(in_tail_glob_dir_may_match(&g, "/k/a/b/c/d"));
    assert_false(in_tail_glob_dir_may_match(&g, "/k/a/.git"));
    in_tail_glob_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_dir_may_match),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
