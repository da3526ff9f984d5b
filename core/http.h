/*
 * The HTTP API (service.http): metrics, health, readiness and the
 * pipelines' state, served by libmicrohttpd on the engine's event loop.
 *
 * libmicrohttpd runs in its "external" mode with epoll: its epoll
 * descriptor is one more fd of our loop and its timeout one more timer,
 * so there is no thread, and a request is answered between two batches.
 * Every answer is built in memory in one go (a scrape of 10,000 files is
 * about 1 MiB), bounded by the limits below; nothing a client sends can
 * block, slow or change the shipping: a bad request gets a 4xx.
 *
 * Limits: max_connections at once (and 8 per client address), 16 KiB of
 * request headers (431 past them), 4 KiB of request body (413), and a
 * connection idle for `timeout` is closed.
 */
#ifndef LSH_HTTP_H
#define LSH_HTTP_H

#include <sys/socket.h>

#include "buf.h"
#include "loop.h"
#include "lsh.h"
#include "option.h"

struct lsh_http_conf {
    char   *listen;
    bool    reload; /* POST /api/v1/reload */
    int64_t ready_max_paused_ms;
    int64_t max_connections;
    int64_t timeout_ms;
};

extern const struct lsh_option lsh_http_options[];

/* What the endpoints show: filled by the engine (or a test). */
struct lsh_http_api {
    void *arg;
    void (*metrics)(void *arg, struct lsh_buf *out);   /* text exposition */
    void (*pipelines)(void *arg, struct lsh_buf *out); /* JSON */
    bool (*ready)(void *arg, struct lsh_buf *why);     /* JSON reasons */
    /* POST /api/v1/reload: LSH_OK (applied) or not; the outcome, JSON */
    int (*reload)(void *arg, struct lsh_buf *out);
    /*
     * GET /api/v1/tap: starts copying the records of pipeline at stage
     * after ("input", or a filter's number) as JSON lines, until limit
     * records or wait_ms; then done(cookie) is called (once).  Returns
     * the tap, or NULL with why in err (status 404 or 400 in *status).
     * tap_take appends what was copied and frees the tap; tap_cancel
     * frees it unanswered.
     */
    void *(*tap_start)(void *arg, const char *pipeline, const char *after,
                       size_t limit, int64_t wait_ms, void (*done)(void *),
                       void *cookie, struct lsh_buf *err, unsigned *status);
    void (*tap_take)(void *arg, void *tap, struct lsh_buf *out);
    void (*tap_cancel)(void *arg, void *tap);
};

struct lsh_http;

/*
 * Parses listen: "PORT" (on 127.0.0.1), "HOST:PORT" or "[IPV6]:PORT",
 * HOST an address (no name lookup).  LSH_OK, or LSH_ERR with why in err.
 */
int lsh_http_parse_listen(const char *listen, struct sockaddr_storage *ss,
                          socklen_t *len, struct lsh_buf *err);

/*
 * Starts serving c->listen on loop.  Returns the server, or NULL with the
 * reason logged (the address is in use...).
 */
struct lsh_http *lsh_http_start(struct lsh_loop            *loop,
                                const struct lsh_http_conf *c,
                                const struct lsh_http_api  *api);

/* A server without a listening socket, run by hand (tests, fuzzing). */
struct lsh_http *lsh_http_new_unbound(const struct lsh_http_conf *c,
                                      const struct lsh_http_api  *api);
/* Serves a connected socket (it is the server's now). LSH_OK or LSH_ERR */
int  lsh_http_add_connection(struct lsh_http *h, int fd);
void lsh_http_run(struct lsh_http *h);

/* Runs the server until no connection is suspended (before stopping). */
void lsh_http_settle(struct lsh_http *h);

void lsh_http_stop(struct lsh_http *h);

#endif
