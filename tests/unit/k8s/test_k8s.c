/*
 * Kubernetes names from container log paths (tail_file.c).
 */
#include "unit.h"

#include <stdlib.h>

#include "tail.h"

static void check(const char *path, const char *const *want)
{
    struct lsh_field f[4];
    char            *text;
    size_t           n = in_tail_k8s_fields(path, f, &text);
    size_t           i;

    if (want == NULL) {
        assert_int_equal(n, 0);
        assert_null(text);
        return;
    }
    assert_int_equal(n, 4);
    for (i = 0; i < 4; i++) {
        assert_int_equal(f[i].name.len, strlen(want[2 * i]));
        assert_memory_equal(f[i].name.ptr, want[2 * i], f[i].name.len);
        assert_int_equal(f[i].v.s.len, strlen(want[2 * i + 1]));
        assert_memory_equal(f[i].v.s.ptr, want[2 * i + 1], f[i].v.s.len);
    }
    free(text);
}

static void test_links(void **state)
{
    static const char *const web[] = {
        "k8s_pod",       "web-7d9f8c-x2x9q", "k8s_namespace", "shop",
        "k8s_container", "nginx-proxy",      "container_id",  "0123abcd"};
    static const char *const one[] = {
        "k8s_pod",       "p", "k8s_namespace", "n",
        "k8s_container", "c", "container_id",  "i"};

    (void)state;
    check("/var/log/containers/web-7d9f8c-x2x9q_shop_nginx-proxy-0123abcd.log",
          web);
    check("web-7d9f8c-x2x9q_shop_nginx-proxy-0123abcd.log", web);
    check("/x/p_n_c-i.log", one);
    check("/var/log/containers/p_n_c.log", NULL);      /* no id */
    check("/var/log/containers/p_n_-i.log", NULL);     /* no container */
    check("/var/log/containers/_n_c-i.log", NULL);     /* no pod */
    check("/var/log/containers/p__c-i.log", NULL);     /* no namespace */
    check("/var/log/containers/p_n_c-.log", NULL);     /* empty id */
    check("/var/log/containers/p_n_c_d-i.log", NULL);  /* a third '_' */
    check("/var/log/containers/p_n_c-i.log.gz", NULL); /* not .log */
    check("/var/log/syslog", NULL);
    check("/.log", NULL);
    check("", NULL);
}

static void test_pods(void **state)
{
    static const char *const dns[] = {"k8s_namespace", "kube-system", "k8s_pod",
                                      "coredns-5c4b",  "k8s_pod_uid", "4f1c-99",
                                      "k8s_container", "coredns"};

    (void)state;
    check("/var/log/pods/kube-system_coredns-5c4b_4f1c-99/coredns/0.log", dns);
    check("/var/log/pods/kube-system_coredns-5c4b_4f1c-99/coredns/12.log", dns);
    /* rotated, still the same container */
    check("/var/log/pods/kube-system_coredns-5c4b_4f1c-99/coredns/"
          "0.log.20261123-101500",
          dns);
    check("kube-system_coredns-5c4b_4f1c-99/coredns/0.log", dns);
    check("/var/log/pods/kube-system_coredns-5c4b_4f1c-99/coredns/x.log", NULL);
    check("/var/log/pods/kube-system_coredns-5c4b_4f1c-99/coredns/0.logx",
          NULL);
    check("/var/log/pods/kube-system_coredns-5c4b/coredns/0.log", NULL);
    check("/var/log/pods/a_b_c//0.log", NULL);
    check("/coredns/0.log", NULL);
    check("/0.log", NULL);
    check("0.log", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_pods),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
