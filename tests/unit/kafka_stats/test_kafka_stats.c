/*
 * librdkafka's statistics JSON parsed into the output's counters.
 */
#include "unit.h"

#include "kafka.h"

static const char stats[] =
    "{\"name\":\"logship#producer-1\",\"type\":\"producer\",\"ts\":1,"
    "\"msg_cnt\":1234,\"msg_size\":567890,\"txmsgs\":100000,"
    "\"txmsg_bytes\":9876543,\"brokers\":{"
    "\"127.0.0.1:9092/1\":{\"state\":\"UP\",\"txerrs\":2,\"txretries\":3,"
    "\"rtt\":{\"min\":100,\"max\":9000,\"avg\":1500,\"p99\":8000}},"
    "\"127.0.0.1:9093/2\":{\"state\":\"DOWN\",\"txerrs\":5,\"txretries\":1,"
    "\"rtt\":{\"avg\":2500,\"p99\":4000}},"
    "\"GroupCoordinator\":{\"state\":\"INIT\"}},"
    "\"topics\":{\"logs\":{\"batchsize\":{\"avg\":65000},"
    "\"batchcnt\":{\"avg\":640},\"partitions\":{\"0\":{\"txmsgs\":5}}}},"
    "\"nested\":[{\"a\":{}}]}";

static void test_parse(void **state)
{
    struct out_kafka_metrics m;

    (void)state;
    memset(&m, 0, sizeof(m));
    out_kafka_stats_parse(&m, stats, sizeof(stats) - 1);
    assert_int_equal(m.updates, 1);
    assert_int_equal(m.queue_msgs, 1234);
    assert_int_equal(m.queue_bytes, 567890);
    assert_int_equal(m.tx_msgs, 100000);
    assert_int_equal(m.tx_bytes, 9876543);
    assert_int_equal(m.tx_errors, 7);
    assert_int_equal(m.tx_retries, 4);
    assert_int_equal(m.rtt_avg_us, 2500);
    assert_int_equal(m.rtt_p99_us, 8000);
    assert_int_equal(m.batch_size_avg, 65000);
    assert_int_equal(m.batch_cnt_avg, 640);
    assert_int_equal(m.brokers_up, 1);
}

static void test_bad_json_keeps_the_last(void **state)
{
    struct out_kafka_metrics m;

    (void)state;
    memset(&m, 0, sizeof(m));
    out_kafka_stats_parse(&m, stats, sizeof(stats) - 1);
    out_kafka_stats_parse(&m, "{\"msg_cnt\":", 11);
    assert_int_equal(m.queue_msgs, 1234);
    assert_int_equal(m.updates, 1);
}

/* Huge numbers (UBSan: signed overflow, float-to-int out of range). */
static void test_huge_numbers(void **state)
{
    static const char huge[] =
        "{\"msg_cnt\":1e300,\"msg_size\":-1e300,\"brokers\":{"
        "\"a\":{\"txerrs\":9223372036854775807,\"txretries\":-9e18},"
        "\"b\":{\"txerrs\":9223372036854775807,\"txretries\":-9e18},"
        "\"c\":{\"rtt\":{\"avg\":1e19,\"p99\":-0.0}}}}";
    struct out_kafka_metrics m;

    (void)state;
    memset(&m, 0, sizeof(m));
    out_kafka_stats_parse(&m, huge, sizeof(huge) - 1);
    assert_int_equal(m.queue_msgs, INT64_MAX);
    assert_int_equal(m.queue_bytes, INT64_MIN);
    assert_int_equal(m.tx_errors, INT64_MAX);  /* saturated, not wrapped */
    assert_int_equal(m.tx_retries, INT64_MIN); /* -9e18 twice, saturated */
    assert_int_equal(m.rtt_avg_us, INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_bad_json_keeps_the_last),
        cmocka_unit_test(test_huge_numbers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
