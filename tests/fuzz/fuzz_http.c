/*
 * Fuzz target: HTTP requests, parsed by libmicrohttpd and routed by
 * logship's handler (core/http.c).  Each input is what one client sends
 * on one connection (a socketpair given to a server without a listening
 * socket), then it half-closes.  Checks that the server does not crash,
 * that whatever it answered starts with an HTTP/1.x status line, and that
 * it lets every connection go: at its end, or (a request cut short) when
 * the client closes it; otherwise the fourth input would find no room.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_ready_answer;

static void fuzz_metrics(void *arg, struct lsh_buf *out)
{
    (void)arg;
    lsh_buf_adds(out, "# TYPE logship_x counter\nlogship_x 1\n");
}

static void fuzz_pipelines(void *arg, struct lsh_buf *out)
{
    (void)arg;
    lsh_buf_adds(out, "{\"pipelines\":[]}");
}

static bool fuzz_ready(void *arg, struct lsh_buf *out)
{
    (void)arg;
    lsh_buf_adds(out, "{\"ready\":false,\"reasons\":[\"fuzz\"]}");
    return fuzz_ready_answer;
}

static int fuzz_reload(void *arg, struct lsh_buf *out)
{
    (void)arg;
    lsh_buf_adds(out, "{\"applied\":true}");
    return fuzz_ready_answer ? LSH_OK : LSH_EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lsh_http          *h;
    static struct lsh_http_conf      c = {.listen = NULL,
                                          .reload = true,
                                          .max_connections = 4,
                                          .timeout_ms = 1000};
    static const struct lsh_http_api api = {
        NULL,        fuzz_metrics, fuzz_pipelines, fuzz_ready,
        fuzz_reload, NULL,         NULL,           NULL};
    int            sv[2];
    char           buf[8192];
    struct lsh_buf got = LSH_BUF_INIT;
    int            turns;
    bool           eof = false;

    if (h == NULL) {
        h = lsh_http_new_unbound(&c, &api);
        if (h == NULL) {
            abort();
        }
    }
    if (size > 65536) {
        return 0;
    }
    fuzz_ready_answer = size % 2 == 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        abort();
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (lsh_http_add_connection(h, sv[1]) != LSH_OK) {
        abort(); /* connections of earlier inputs were never let go */
    }
    if (size > 0 && write(sv[0], data, size) != (ssize_t)size) {
        abort(); /* 64 KiB fit in a socketpair's buffer */
    }
    shutdown(sv[0], SHUT_WR);
    for (turns = 0; turns < 200 && !eof; turns++) {
        ssize_t n;

        lsh_http_run(h);
        while ((n = read(sv[0], buf, sizeof(buf))) > 0) {
            lsh_buf_add(&got, buf, (size_t)n);
        }
        eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    }
    if (!eof) {
        /*
         * An incomplete request: the server waits for the rest until its
         * timeout.  The client goes away instead; the server must notice
         * (else the next inputs find every connection taken).
         */
        close(sv[0]);
        sv[0] = -1;
        for (turns = 0; turns < 50; turns++) {
            lsh_http_run(h);
        }
    }
    if (got.len > 0 && (got.len < 9 || memcmp(got.ptr, "HTTP/1.", 7) != 0)) {
        abort();
    }
    lsh_buf_release(&got);
    if (sv[0] >= 0) {
        close(sv[0]);
    }
    return 0;
}
