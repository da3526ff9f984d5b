/*
 * logship tap PIPELINE [-c PATH | --url URL] [--after input|N] [--limit N]
 *
 * Prints records of a running pipeline as JSON lines, as they are after
 * its input or after its filter number N, by asking GET /api/v1/tap
 * again and again (each waits up to a second for records).  It stops
 * after --limit records (10 by default; 0: until interrupted).  It copies
 * records and never holds one: delivery goes on as if no one looked.
 * Records that pass between two requests are not shown: a tap is a
 * sample.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static void lsh_tap_usage(FILE *to)
{
    fprintf(to, "usage: logship tap PIPELINE [-c PATH | --url URL] "
                "[--after input|FILTER_NUMBER] [--limit N]\n");
}

int lsh_tap_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"after", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char    *config = NULL;
    const char    *url = NULL;
    const char    *after = "input";
    long long      limit = 10;
    long long      shown = 0;
    struct lsh_buf target = LSH_BUF_INIT;
    struct lsh_buf err = LSH_BUF_INIT;
    struct lsh_buf body = LSH_BUF_INIT;
    struct lsh_buf path = LSH_BUF_INIT;
    char          *end;
    int            c;
    int            status;
    int            rc = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'a':
            after = optarg;
            break;
        case 'n':
            limit = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || limit < 0) {
                fprintf(stderr, "logship tap: --limit wants a number >= 0\n");
                return 2;
            }
            break;
        case 'h':
            lsh_tap_usage(stdout);
            return 0;
        default:
            lsh_tap_usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        lsh_tap_usage(stderr);
        return 2;
    }
    if (lsh_client_target(url, config, &target, &err) != LSH_OK) {
        fprintf(stderr, "logship tap: %s\n", lsh_buf_cstr(&err));
        rc = 2;
        goto out;
    }
    while (limit == 0 || shown < limit) {
        long long want = limit == 0 ? 100 : LSH_MIN(limit - shown, 1000);
        size_t    i;

        lsh_buf_reset(&path);
        lsh_buf_reset(&body);
        /* names are letters, digits, '_', '-', '.': nothing to escape */
        lsh_buf_addf(&path,
                     "/api/v1/tap?pipeline=%s&after=%s&limit=%lld&wait=1000",
                     argv[optind], after, want);
        if (lsh_client_request(lsh_buf_cstr(&target), "GET",
                               lsh_buf_cstr(&path), 5000, &status, &body,
                               &err) != LSH_OK) {
            fprintf(stderr, "logship tap: %s\n", lsh_buf_cstr(&err));
            goto out;
        }
        if (status != 200) {
            fprintf(stderr, "logship tap: %d %.*s", status, (int)body.len,
                    body.ptr);
            rc = status == 400 ? 2 : 1;
            goto out;
        }
        for (i = 0; i < body.len; i++) {
            shown += body.ptr[i] == '\n';
        }
        if (body.len > 0) {
            fwrite(body.ptr, 1, body.len, stdout);
        }
        fflush(stdout);
    }
    rc = 0;
out:
    lsh_buf_release(&target);
    lsh_buf_release(&err);
    lsh_buf_release(&body);
    lsh_buf_release(&path);
    return rc;
}
