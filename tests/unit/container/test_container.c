/*
 * Container runtime logs: the Docker and CRI decoders, and the joiner
 * (partial lines, streams, long lines, malformed lines, auto detection).
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "container.h"
#include "record.h"

/* 2026-11-23T10:15:00Z */
#define T0 1795428900000000000LL

/* --- decoders ------------------------------------------------------------ */

static void docker_ok(const char *line, const char *msg, int stream,
                      int64_t time_ns, bool partial)
{
    struct lsh_buf   scratch = {0};
    struct lsh_cline cl;
    const char      *err = NULL;

    assert_int_equal(lsh_docker_decode(line, strlen(line), &scratch, &cl, &err),
                     LSH_OK);
    assert_int_equal(cl.msg.len, strlen(msg));
    assert_memory_equal(cl.msg.ptr, msg, cl.msg.len);
    assert_int_equal(cl.stream, stream);
    assert_int_equal(cl.time_ns, time_ns);
    assert_int_equal(cl.partial, partial);
    lsh_buf_release(&scratch);
}

static void docker_bad(const char *line, size_t n, const char *why)
{
    struct lsh_buf   scratch = {0};
    struct lsh_cline cl;
    const char      *err = NULL;

    assert_int_equal(lsh_docker_decode(line, n, &scratch, &cl, &err),
                     LSH_EINVAL);
    assert_non_null(err);
    assert_string_equal(err, why);
    lsh_buf_release(&scratch);
}

static void test_docker_decode(void **state)
{
    (void)state;
    docker_ok("{\"log\":\"hello\\n\",\"stream\":\"stdout\","
              "\"time\":\"2026-11-23T10:15:00.123456789Z\"}",
              "hello", LSH_STREAM_STDOUT, T0 + 123456789, false);
    /* no trailing \n: a partial line */
    docker_ok("{\"log\":\"part\",\"stream\":\"stderr\","
              "\"time\":\"2026-11-23T10:15:00Z\"}",
              "part", LSH_STREAM_STDERR, T0, true);
    /* members in any order, others ignored */
    docker_ok("{\"time\":\"2026-11-23T10:15:00.5Z\",\"attrs\":{\"a\":1},"
              "\"stream\":\"stdout\",\"log\":\"x\\n\"}",
              "x", LSH_STREAM_STDOUT, T0 + 500000000, false);
    /* escapes, unicode, a surrogate pair, a tab and a quote */
    docker_ok("{\"log\":\"a\\\"b\\\\c\\td\\u00e9\\ud83d\\ude00/\\/\\n\","
              "\"stream\":\"stdout\",\"time\":\"2026-11-23T10:15:00Z\"}",
              "a\"b\\c\td\xc3\xa9\xf0\x9f\x98\x80//", LSH_STREAM_STDOUT, T0,
              false);
    /* an empty line is a whole line */
    docker_ok("{\"log\":\"\\n\",\"stream\":\"stdout\","
              "\"time\":\"2026-11-23T10:15:00Z\"}",
              "", LSH_STREAM_STDOUT, T0, false);
    /* a line with \n inside: only the last one ends it */
    docker_ok("{\"log\":\"a\\nb\\n\",\"stream\":\"stdout\","
              "\"time\":\"2026-11-23T10:15:00Z\"}",
              "a\nb", LSH_STREAM_STDOUT, T0, false);
    /* a lone surrogate becomes U+FFFD, as Go's encoder writes it */
    docker_ok("{\"log\":\"\\ud800x\\n\",\"stream\":\"stdout\","
              "\"time\":\"2026-11-23T10:15:00Z\"}",
              "\xef\xbf\xbdx", LSH_STREAM_STDOUT, T0, false);
    /* a time with an offset */
    docker_ok("{\"log\":\"z\\n\",\"stream\":\"stdout\","
              "\"time\":\"2026-11-23T11:15:00.000000001+01:00\"}",
              "z", LSH_STREAM_STDOUT, T0 + 1, false);
}

static void test_docker_nul(void **state)
{
    static const char line[] = "{\"log\":\"a\\u0000b\\n\",\"stream\":"
                               "\"stdout\",\"time\":\"2026-11-23T10:15:00Z\"}";
    struct lsh_buf    scratch = {0};
    struct lsh_cline  cl;
    const char       *err;

    (void)state;
    assert_int_equal(
        lsh_docker_decode(line, sizeof(line) - 1, &scratch, &cl, &err), LSH_OK);
    assert_int_equal(cl.msg.len, 3);
    assert_memory_equal(cl.msg.ptr, "a\0b", 3);
    lsh_buf_release(&scratch);
}

static void test_docker_malformed(void **state)
{
    (void)state;
#define BAD(s, why) docker_bad(s, sizeof(s) - 1, why)
    BAD("{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T10:1",
        "invalid json");
    BAD("{\"log\":\"\\q\\n\",\"stream\":\"stdout\","
        "\"time\":\"2026-11-23T10:15:00Z\"}",
        "invalid json");
    BAD("{\"log\":\"\\u12\",\"stream\":\"stdout\","
        "\"time\":\"2026-11-23T10:15:00Z\"}",
        "invalid json");
    BAD("not json at all", "invalid json");
    BAD("", "invalid json");
    BAD("{\"log\":\"x\\n\",\"time\":\"2026-11-23T10:15:00Z\"}",
        "not a docker log line (log, stream and time strings)");
    BAD("{\"log\":7,\"stream\":\"stdout\",\"time\":\"2026-11-23T10:15:00Z\"}",
        "not a docker log line (log, stream and time strings)");
    BAD("{\"log\":\"x\\n\",\"stream\":\"stdin\","
        "\"time\":\"2026-11-23T10:15:00Z\"}",
        "unknown stream");
    BAD("{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}",
        "bad time");
    BAD("{\"log\":\"x\\n\",\"stream\":\"stdout\","
        "\"time\":\"2026-11-23T10:15:00Z\"} trailing",
        "invalid json");
    /* raw control characters inside a string are not JSON */
    BAD("{\"log\":\"a\tb\\n\",\"stream\":\"stdout\","
        "\"time\":\"2026-11-23T10:15:00Z\"}",
        "invalid json");
    /* a NUL byte in the line itself */
    BAD("{\"log\":\"a\0b\\n\",\"stream\":\"stdout\","
        "\"time\":\"2026-11-23T10:15:00Z\"}",
        "invalid json");
#undef BAD
}

static void cri_ok(const char *line, const char *msg, int stream,
                   int64_t time_ns, bool partial)
{
    struct lsh_cline cl;
    const char      *err = NULL;

    assert_int_equal(lsh_cri_decode(line, strlen(line), &cl, &err), LSH_OK);
    assert_int_equal(cl.msg.len, strlen(msg));
    assert_memory_equal(cl.msg.ptr, msg, cl.msg.len);
    assert_int_equal(cl.stream, stream);
    assert_int_equal(cl.time_ns, time_ns);
    assert_int_equal(cl.partial, partial);
}

static void cri_bad(const char *line, const char *why)
{
    struct lsh_cline cl;
    const char      *err = NULL;

    assert_int_equal(lsh_cri_decode(line, strlen(line), &cl, &err), LSH_EINVAL);
    assert_string_equal(err, why);
}

static void test_cri_decode(void **state)
{
    (void)state;
    cri_ok("2026-11-23T10:15:00.123456789Z stdout F hello world", "hello world",
           LSH_STREAM_STDOUT, T0 + 123456789, false);
    cri_ok("2026-11-23T10:15:00Z stderr P  two spaces", " two spaces",
           LSH_STREAM_STDERR, T0, true);
    /* CRI-O writes the local offset */
    cri_ok("2026-11-23T05:15:00.000000002-05:00 stdout F x", "x",
           LSH_STREAM_STDOUT, T0 + 2, false);
    /* an empty message, with and without its separator */
    cri_ok("2026-11-23T10:15:00Z stdout F ", "", LSH_STREAM_STDOUT, T0, false);
    cri_ok("2026-11-23T10:15:00Z stdout F", "", LSH_STREAM_STDOUT, T0, false);
    /* tags after the first, ':'-separated, are ignored */
    cri_ok("2026-11-23T10:15:00Z stdout F:x msg", "msg", LSH_STREAM_STDOUT, T0,
           false);
    cri_ok("2026-11-23T10:15:00Z stdout F {\"json\": true}", "{\"json\": true}",
           LSH_STREAM_STDOUT, T0, false);

    cri_bad("hello", "bad cri header");
    cri_bad("garbage stdout F x", "bad cri time");
    cri_bad("2026-11-23T10:15:00Z", "bad cri header");
    cri_bad("2026-11-23T10:15:00Z stdin F x", "bad cri stream");
    cri_bad("2026-11-23T10:15:00Z stdout", "bad cri stream");
    cri_bad("2026-11-23T10:15:00Z stdout X x", "bad cri tag");
    cri_bad("2026-11-23T10:15:00Z stdout FP x", "bad cri tag");
    cri_bad("2026-11-23T10:15:00Z stdout  x", "bad cri tag");
    cri_bad("2026-13-23T10:15:00Z stdout F x", "bad cri time");
}

/* --- the joiner ---------------------------------------------------------- */

struct rec {
    char       *text;
    size_t      len;
    unsigned    flags;
    int         stream;
    int64_t     time_ns;
    const char *error;
};

struct out {
    struct rec r[64];
    int        n;
};

static void emit(void *arg, const struct lsh_cout *o)
{
    struct out *out = arg;
    struct rec *r;

    assert_true(out->n < 64);
    r = &out->r[out->n++];
    r->text = malloc(o->len + 1);
    memcpy(r->text, o->text, o->len);
    r->text[o->len] = '\0';
    r->len = o->len;
    r->flags = o->flags;
    r->stream = o->stream;
    r->time_ns = o->time_ns;
    r->error = o->error;
}

static void out_free(struct out *o)
{
    int i;

    for (i = 0; i < o->n; i++) {
        free(o->r[i].text);
    }
    o->n = 0;
}

static struct lsh_ctr_conf conf_of(int format, size_t max_line, int on_long)
{
    struct lsh_ctr_conf c = {format, 3, max_line, on_long};

    return c;
}

static void feed(struct lsh_ctr *c, const char *line, uint64_t start,
                 struct out *o)
{
    lsh_ctr_line(c, line, strlen(line), 0, start, emit, o);
}

static void test_join_cri(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};
    uint64_t            start = 0;

    (void)state;
    lsh_ctr_init(&c, &conf);
    feed(&c, "2026-11-23T10:15:00.000000001Z stdout P one ", 100, &o);
    assert_int_equal(o.n, 0);
    assert_true(lsh_ctr_pending_start(&c, &start));
    assert_int_equal(start, 100);
    /* stderr interleaves, its whole line goes out alone */
    feed(&c, "2026-11-23T10:15:00.000000002Z stderr F oops", 150, &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "oops");
    assert_int_equal(o.r[0].stream, LSH_STREAM_STDERR);
    feed(&c, "2026-11-23T10:15:00.000000003Z stdout P two ", 200, &o);
    feed(&c, "2026-11-23T10:15:00.000000004Z stdout F three", 250, &o);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[1].text, "one two three");
    assert_int_equal(o.r[1].stream, LSH_STREAM_STDOUT);
    assert_int_equal(o.r[1].time_ns, T0 + 1); /* its first part's */
    assert_null(o.r[1].error);
    assert_false(lsh_ctr_pending_start(&c, &start));
    assert_int_equal(c.s.lines, 2);
    assert_int_equal(c.s.partials, 2);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_join_docker(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_DOCKER, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    lsh_ctr_init(&c, &conf);
    feed(&c,
         "{\"log\":\"caf\\u00e9 \",\"stream\":\"stdout\",\"time\":"
         "\"2026-11-23T10:15:00Z\"}",
         0, &o);
    feed(&c,
         "{\"log\":\"au lait\\n\",\"stream\":\"stdout\",\"time\":"
         "\"2026-11-23T10:15:01Z\"}",
         80, &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "caf\xc3\xa9 au lait");
    assert_int_equal(o.r[0].time_ns, T0);
    out_free(&o);
    lsh_ctr_release(&c);
}

/* A malformed line in a partial chain goes out raw; the chain goes on. */
static void test_malformed_in_chain(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    lsh_ctr_init(&c, &conf);
    feed(&c, "2026-11-23T10:15:00Z stdout P a", 0, &o);
    feed(&c, "this is not cri", 40, &o);
    feed(&c, "2026-11-23T10:15:00Z stdout F b", 60, &o);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "this is not cri");
    assert_string_equal(o.r[0].error, "bad cri time");
    assert_int_equal(o.r[0].stream, -1);
    assert_int_equal(o.r[0].time_ns, 0);
    assert_string_equal(o.r[1].text, "ab");
    assert_int_equal(c.s.malformed, 1);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_streams(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    conf.streams = 1u << LSH_STREAM_STDERR;
    lsh_ctr_init(&c, &conf);
    feed(&c, "2026-11-23T10:15:00Z stdout F out", 0, &o);
    feed(&c, "2026-11-23T10:15:00Z stdout P out", 0, &o);
    feed(&c, "2026-11-23T10:15:00Z stderr F err", 0, &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "err");
    assert_int_equal(c.s.filtered, 2);
    out_free(&o);
    lsh_ctr_release(&c);
}

/* A chain of parts: 40 x 100 bytes against max_line 1000. */
static void chain(struct lsh_ctr *c, struct out *o, int parts)
{
    char line[256];
    int  i;

    for (i = 0; i < parts; i++) {
        int n = snprintf(line, sizeof(line), "2026-11-23T10:15:00Z stdout %c ",
                         i == parts - 1 ? 'F' : 'P');

        memset(line + n, 'a' + i % 26, 100);
        line[n + 100] = '\0';
        feed(c, line, (uint64_t)i * 130, o);
    }
}

static void test_long_truncate(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1000, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    lsh_ctr_init(&c, &conf);
    chain(&c, &o, 40);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.r[0].len, 1000);
    assert_true(o.r[0].flags & LSH_REC_TRUNCATED);
    assert_int_equal(o.r[0].text[999], 'j');
    assert_int_equal(c.s.truncated, 1);
    /* the next line is whole again */
    chain(&c, &o, 2);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.r[1].len, 200);
    assert_int_equal(o.r[1].flags, 0);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_long_skip(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1000, LSH_LONG_SKIP);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    lsh_ctr_init(&c, &conf);
    chain(&c, &o, 40);
    assert_int_equal(o.n, 0);
    assert_int_equal(c.s.skipped, 1);
    chain(&c, &o, 10); /* exactly max_line: kept */
    assert_int_equal(o.n, 1);
    assert_int_equal(o.r[0].len, 1000);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_long_split(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1000, LSH_LONG_SPLIT);
    struct lsh_ctr      c;
    struct out          o = {0};
    int                 i;

    (void)state;
    lsh_ctr_init(&c, &conf);
    chain(&c, &o, 25); /* 2500 bytes: 1000 + 1000 + 500 */
    assert_int_equal(o.n, 3);
    for (i = 0; i < 3; i++) {
        assert_int_equal(o.r[i].len, i < 2 ? 1000 : 500);
        assert_int_equal(o.r[i].time_ns, T0);
    }
    assert_int_equal(o.r[1].text[0], 'k'); /* part 10 starts piece 2 */
    assert_int_equal(c.s.split, 1);
    out_free(&o);
    lsh_ctr_release(&c);
}

/* 1,000 parts of 16 KiB (16 MiB) become one 1 MiB record. */
static void test_long_chain_bounded(void **state)
{
    struct lsh_ctr_conf conf =
        conf_of(LSH_CTR_DOCKER, 1024 * 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr c;
    struct out     o = {0};
    size_t         n = 16 * 1024 + 100;
    char          *line = malloc(n);
    int            i;

    (void)state;
    lsh_ctr_init(&c, &conf);
    for (i = 0; i < 1000; i++) {
        int h = snprintf(line, n, "{\"log\":\"");

        memset(line + h, 'x', 16 * 1024);
        h += 16 * 1024;
        h += snprintf(line + h, n - (size_t)h,
                      "%s\",\"stream\":\"stdout\",\"time\":"
                      "\"2026-11-23T10:15:00Z\"}",
                      i == 999 ? "\\n" : "");
        lsh_ctr_line(&c, line, (size_t)h, 0, (uint64_t)i * n, emit, &o);
        /* what waits stays bounded */
        assert_true(c.pend[0].buf.len <= 1024 * 1024);
    }
    assert_int_equal(o.n, 1);
    assert_int_equal(o.r[0].len, 1024 * 1024);
    assert_true(o.r[0].flags & LSH_REC_TRUNCATED);
    assert_int_equal(c.s.partials, 999);
    free(line);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_flush_reset(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_CRI, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};
    uint64_t            start;

    (void)state;
    lsh_ctr_init(&c, &conf);
    feed(&c, "2026-11-23T10:15:00Z stderr P late", 500, &o);
    feed(&c, "2026-11-23T10:15:00Z stdout P early", 10, &o);
    assert_true(lsh_ctr_pending_start(&c, &start));
    assert_int_equal(start, 10); /* the oldest of the two */
    lsh_ctr_flush(&c, emit, &o);
    assert_int_equal(o.n, 2);
    assert_false(lsh_ctr_pending_start(&c, &start));
    feed(&c, "2026-11-23T10:15:00Z stdout P gone", 0, &o);
    lsh_ctr_reset(&c);
    assert_false(lsh_ctr_pending_start(&c, &start));
    lsh_ctr_flush(&c, emit, &o);
    assert_int_equal(o.n, 2);
    out_free(&o);
    lsh_ctr_release(&c);
}

static void test_auto(void **state)
{
    struct lsh_ctr_conf conf = conf_of(LSH_CTR_AUTO, 1024, LSH_LONG_TRUNCATE);
    struct lsh_ctr      c;
    struct out          o = {0};

    (void)state;
    lsh_ctr_init(&c, &conf);
    feed(&c, "", 0, &o); /* an empty first line decides nothing */
    assert_int_equal(c.format, LSH_CTR_AUTO);
    feed(&c, "2026-11-23T10:15:00Z stdout F cri", 1, &o);
    assert_int_equal(c.format, LSH_CTR_CRI);
    assert_string_equal(o.r[1].text, "cri");
    lsh_ctr_reset(&c); /* truncated: decide again */
    feed(&c,
         "{\"log\":\"d\\n\",\"stream\":\"stdout\",\"time\":"
         "\"2026-11-23T10:15:00Z\"}",
         0, &o);
    assert_int_equal(c.format, LSH_CTR_DOCKER);
    assert_string_equal(o.r[2].text, "d");
    lsh_ctr_reset(&c);
    feed(&c, "plain text", 0, &o);
    assert_int_equal(c.format, LSH_CTR_RAW);
    assert_string_equal(o.r[3].text, "plain text");
    assert_null(o.r[3].error); /* raw by choice: no error */
    out_free(&o);
    lsh_ctr_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_decode),
        cmocka_unit_test(test_docker_nul),
        cmocka_unit_test(test_docker_malformed),
        cmocka_unit_test(test_cri_decode),
        cmocka_unit_test(test_join_cri),
        cmocka_unit_test(test_join_docker),
        cmocka_unit_test(test_malformed_in_chain),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_long_truncate),
        cmocka_unit_test(test_long_skip),
        cmocka_unit_test(test_long_split),
        cmocka_unit_test(test_long_chain_bounded),
        cmocka_unit_test(test_flush_reset),
        cmocka_unit_test(test_auto),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
