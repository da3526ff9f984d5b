/*
 * lsh_mockd: a librdkafka mock cluster in a process of its own, for the
 * torture test's fault injection (produce errors, a broker down) across
 * logship's restarts.  It prints its bootstrap servers on the first line
 * of stdout, then reads commands from stdin, one per line:
 *   errors N CODE   the next N produce requests fail with error CODE
 *   clear           forget the produce errors not used yet
 *   down ID | up ID a broker goes down or comes back
 *   quit            (or end of input) stops
 * Usage: lsh_mockd TOPIC PARTITIONS
 * The mock stands in for no broker in any test that checks delivery to
 * Kafka itself; it exists for faults a real broker will not make on
 * demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define PRODUCE_API 0

int main(int argc, char **argv)
{
    rd_kafka_conf_t         *kc = rd_kafka_conf_new();
    rd_kafka_t              *rk;
    rd_kafka_mock_cluster_t *mc;
    char                     err[256];
    char                     line[256];

    if (argc != 3) {
        fprintf(stderr, "usage: lsh_mockd TOPIC PARTITIONS\n");
        return 2;
    }
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "lsh_mockd: %s\n", err);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, 1);
    if (mc == NULL) {
        fprintf(stderr, "lsh_mockd: cannot create the mock cluster\n");
        return 1;
    }
    rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), 1);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        int n;
        int code;
        int id;

        if (sscanf(line, "errors %d %d", &n, &code) == 2) {
            while (n-- > 0) {
                rd_kafka_mock_push_request_errors(mc, PRODUCE_API, 1,
                                                  (rd_kafka_resp_err_t)code);
            }
        } else if (strncmp(line, "clear", 5) == 0) {
            rd_kafka_mock_clear_request_errors(mc, PRODUCE_API);
        } else if (sscanf(line, "down %d", &id) == 1) {
            rd_kafka_mock_broker_set_down(mc, id);
        } else if (sscanf(line, "up %d", &id) == 1) {
            rd_kafka_mock_broker_set_up(mc, id);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
        printf("ok\n");
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
