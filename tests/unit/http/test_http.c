/*
 * The HTTP API's pieces that need no socket: service.http.listen parsing
 * and the Prometheus text exposition (escaping, value formatting, HELP
 * and TYPE once per family, families without samples left out, the
 * generated table).
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "metrics.h"

static void parse_ok(const char *listen, int family, const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t               len = 0;
    struct lsh_buf          err = LSH_BUF_INIT;
    char                    text[64];

    assert_int_equal(lsh_http_parse_listen(listen, &ss, &len, &err), LSH_OK);
    assert_int_equal(ss.ss_family, family);
    if (family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&ss;

        inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
        assert_int_equal(ntohs(a->sin_port), port);
        assert_int_equal(len, sizeof(*a));
    } else {
        const struct sockaddr_in6 *a = (const void *)&ss;

        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
        assert_int_equal(ntohs(a->sin6_port), port);
    }
    assert_string_equal(text, addr);
    lsh_buf_release(&err);
}

static void parse_bad(const char *listen, const char *why)
{
    struct sockaddr_storage ss;
    socklen_t               len = 0;
    struct lsh_buf          err = LSH_BUF_INIT;

    assert_int_equal(lsh_http_parse_listen(listen, &ss, &len, &err), LSH_ERR);
    assert_non_null(strstr(lsh_buf_cstr(&err), why));
    lsh_buf_release(&err);
}

static void test_listen(void **state)
{
    (void)state;
    parse_ok("2020", AF_INET, "127.0.0.1", 2020); /* loopback by default */
    parse_ok("127.0.0.1:9", AF_INET, "127.0.0.1", 9);
    parse_ok("0.0.0.0:65535", AF_INET, "0.0.0.0", 65535);
    parse_ok("[::1]:2020", AF_INET6, "::1", 2020);
    parse_ok("[::]:80", AF_INET6, "::", 80);
    parse_bad("localhost:2020", "not an IPv4 address");
    parse_bad("127.0.0.1:0", "not a port");
    parse_bad("127.0.0.1:65536", "not a port");
    parse_bad("127.0.0.1:", "not a port");
    parse_bad("127.0.0.1:20x", "not a port");
    parse_bad(":2020", "give HOST:PORT");
    parse_bad("[]:2020", "give HOST:PORT");
    parse_bad("[::g]:1", "not an IPv6 address");
    parse_bad("", "not a port");
}

static void test_exposition(void **state)
{
    struct lsh_metrics m;
    struct lsh_buf     out = LSH_BUF_INIT;
    const char        *l1[2] = {"p", "tail"};
    const char        *l2[2] = {"q\"x\\y\nz", "tail#2"};
    const char        *text;

    (void)state;
    lsh_metrics_init(&m);
    lsh_metric_u64(&m, LSH_M_INPUT_RECORDS, l1, 18446744073709551615ULL);
    lsh_metric_u64(&m, LSH_M_INPUT_RECORDS, l2, 0);
    lsh_metric(&m, LSH_M_CKPT_LAG, l1, 0.25);
    lsh_metric(&m, LSH_M_PROCESS_RSS, NULL, 1048576.0);
    lsh_metrics_write(&m, &out);
    text = lsh_buf_cstr(&out);
    assert_string_equal(
        text,
        "# HELP logship_input_records_total Records an input passed down "
        "its pipeline.\n"
        "# TYPE logship_input_records_total counter\n"
        "logship_input_records_total{pipeline=\"p\",input=\"tail\"} "
        "18446744073709551615\n"
        "logship_input_records_total{pipeline=\"q\\\"x\\\\y\\nz\","
        "input=\"tail#2\"} 0\n"
        "# HELP logship_checkpoint_lag_seconds Age of the oldest committed "
        "offset not yet written to the checkpoint journal (0: all "
        "written).\n"
        "# TYPE logship_checkpoint_lag_seconds gauge\n"
        "logship_checkpoint_lag_seconds{pipeline=\"p\"} 0.25\n"
        "# HELP process_resident_memory_bytes Resident memory.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes 1048576\n");
    lsh_metrics_release(&m);
    lsh_buf_release(&out);
}

/* Every family is named once, with a type and a help text, and documented */
static void test_table(void **state)
{
    struct lsh_buf doc = LSH_BUF_INIT;
    size_t         i;
    size_t         j;

    (void)state;
    lsh_metrics_doc(&doc);
    for (i = 0; i < LSH_M_COUNT; i++) {
        const struct lsh_metric_def *d = &lsh_metric_defs[i];
        char                         cell[128];

        assert_non_null(d->name);
        assert_non_null(d->help);
        assert_true(strlen(d->help) > 10);
        if (d->type == LSH_METRIC_COUNTER) {
            assert_non_null(strstr(d->name, "_total"));
        } else {
            assert_null(strstr(d->name, "_total"));
        }
        for (j = 0; j < i; j++) {
            assert_string_not_equal(d->name, lsh_metric_defs[j].name);
        }
        snprintf(cell, sizeof(cell), "| `%s` |", d->name);
        assert_non_null(strstr(lsh_buf_cstr(&doc), cell));
    }
    lsh_buf_release(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_exposition),
        cmocka_unit_test(test_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
