/*
 * The dead-letter file: a record counts as delivered only once it is on
 * disk, whole, in the file at the configured path.  Moved, removed,
 * full, cut short by a file size limit, or past its bound: every line in
 * it stays a whole JSON object, and nothing goes to a file that left the
 * path.
 */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka.h"

struct fx {
    char                      dir[64];
    char                      path[128];
    struct out_kafka          ctx;
    struct out_kafka_conf     conf;
    struct out_kafka_dlq_conf dlq;
    struct lsh_instance       ins;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/lsh-dlq.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/dead.jsonl", fx->dir);
    fx->dlq.path = fx->path;
    fx->dlq.after_attempts = 1;
    fx->conf.dead_letter = &fx->dlq;
    fx->ctx.conf = &fx->conf;
    fx->ctx.ins = &fx->ins;
    fx->ctx.dlq.fd = -1;
    snprintf(fx->ins.name, sizeof(fx->ins.name), "test/kafka");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char       cmd[128];

    out_kafka_dlq_release(&fx->ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* A record to dead-letter: topic "t", value v, with a header. */
static struct out_kafka_retry *rec(const char *v)
{
    size_t                  vlen = strlen(v);
    struct out_kafka_retry *r = calloc(1, sizeof(*r) + 2 + vlen);

    memcpy(r->data, "t", 2);
    memcpy(r->data + 2, v, vlen);
    r->tlen = 1;
    r->vlen = vlen;
    r->attempts = 1;
    r->err = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    r->hdrs = rd_kafka_headers_new(1);
    rd_kafka_header_add(r->hdrs, "app", -1, "x\xff", 2);
    return r;
}

static void rec_free(struct out_kafka_retry *r)
{
    rd_kafka_headers_destroy(r->hdrs);
    free(r);
}

static int put(struct fx *fx, const char *v)
{
    struct out_kafka_retry *r = rec(v);
    int                     rc = out_kafka_dlq_write(&fx->ctx, r);

    rec_free(r);
    return rc;
}

/* The lines of a file, each checked to be a whole JSON object. */
static int lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char  line[8192];
    int   n = 0;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);

        assert_true(len > 2 && line[0] == '{' && line[len - 2] == '}' &&
                    line[len - 1] == '\n');
        n++;
    }
    fclose(f);
    return n;
}

static void test_moved_and_removed(void **state)
{
    struct fx *fx = *state;
    char       moved[160];
    FILE      *f;
    char       line[512];

    assert_int_equal(out_kafka_dlq_open(&fx->ctx), LSH_OK);
    assert_int_equal(put(fx, "one"), LSH_OK);
    assert_int_equal(put(fx, "two"), LSH_OK);
    /* rotated away (logrotate): the next record goes to the path again */
    snprintf(moved, sizeof(moved), "%s.moved", fx->path);
    assert_int_equal(rename(fx->path, moved), 0);
    assert_int_equal(put(fx, "three"), LSH_OK);
    assert_int_equal(lines(moved), 2);
    assert_int_equal(lines(fx->path), 1);
    /* removed: the same */
    assert_int_equal(unlink(fx->path), 0);
    assert_int_equal(put(fx, "four"), LSH_OK);
    assert_int_equal(lines(fx->path), 1);
    assert_int_equal(fx->ctx.s.dead, 4);
    /* headers are kept, with the exact bytes of one that is not UTF-8 */
    f = fopen(fx->path, "r");
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "\"value\":\"four\""));
    assert_non_null(strstr(
        line, "\"headers\":[{\"name\":\"app\",\"value\":\"x\xef\xbf\xbd\","
              "\"value_base64\":\"eP8=\"}]"));
}

static void test_bound_rotates(void **state)
{
    struct fx *fx = *state;
    char       old[160];
    int        i;

    fx->dlq.max_bytes = 1000;
    assert_int_equal(out_kafka_dlq_open(&fx->ctx), LSH_OK);
    for (i = 0; i < 20; i++) {
        assert_int_equal(put(fx, "a record of some forty bytes or so...."),
                         LSH_OK);
    }
    snprintf(old, sizeof(old), "%s.1", fx->path);
    assert_true(lines(fx->path) > 0);
    assert_true(lines(old) > 0);
    assert_true(lines(fx->path) + lines(old) <= 20); /* one rotation kept */
    assert_true(fx->ctx.dlq.rotations >= 2);
    {
        struct stat st;

        assert_int_equal(stat(fx->path, &st), 0);
        assert_true(st.st_size <= 1000);
    }
}

static void test_short_write_leaves_no_fragment(void **state)
{
    struct fx    *fx = *state;
    struct rlimit old;
    struct rlimit small;
    struct stat   st;

    assert_int_equal(out_kafka_dlq_open(&fx->ctx), LSH_OK);
    assert_int_equal(put(fx, "first"), LSH_OK);
    assert_int_equal(stat(fx->path, &st), 0);
    /* the file may grow by 20 bytes: the next line is cut short */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    small = old;
    small.rlim_cur = (rlim_t)st.st_size + 20;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    assert_int_equal(put(fx, "second, a line far longer than twenty bytes"),
                     LSH_ERR);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(fx->ctx.s.dlq_failures, 1);
    assert_int_equal(lines(fx->path), 1); /* the fragment was cut off */
    assert_int_equal(put(fx, "third"), LSH_OK);
    assert_int_equal(lines(fx->path), 2);
}

static void test_unwritable(void **state)
{
    struct fx *fx = *state;

    fx->dlq.path = "/dev/full";
    assert_int_equal(out_kafka_dlq_open(&fx->ctx), LSH_OK);
    assert_int_equal(put(fx, "lost?"), LSH_ERR); /* not delivered */
    assert_int_equal(fx->ctx.s.dead, 0);
    assert_int_equal(fx->ctx.s.dlq_failures, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_moved_and_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bound_rotates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_write_leaves_no_fragment,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
