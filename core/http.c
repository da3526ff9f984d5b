/*
 * The HTTP API: libmicrohttpd driven from the event loop (see http.h).
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "mem.h"

#define LSH_HTTP_MAX_HEADERS (16 * 1024)
#define LSH_HTTP_MAX_BODY    4096
#define LSH_HTTP_PER_IP      8

const struct lsh_option lsh_http_options[] = {
    {.name = "listen",
     .type = LSH_OPT_STR,
     .offset = offsetof(struct lsh_http_conf, listen),
     .help = "Address of the HTTP API: \"2020\" (on 127.0.0.1), "
             "\"127.0.0.1:2020\", \"0.0.0.0:2020\" or \"[::1]:2020\". Off "
             "when not set. It has no authentication: keep it on loopback, "
             "or on a pod address only Prometheus and the kubelet reach."},
    {.name = "reload",
     .type = LSH_OPT_BOOL,
     .def = "false",
     .offset = offsetof(struct lsh_http_conf, reload),
     .help = "Serve POST /api/v1/reload, which reloads the configuration "
             "like SIGHUP does (whoever reaches the API can then make "
             "logship read its files again)."},
    {.name = "ready_max_paused",
     .type = LSH_OPT_DURATION,
     .def = "60s",
     .offset = offsetof(struct lsh_http_conf, ready_max_paused_ms),
     .min = 1,
     .max = 86400000,
     .help = "GET /ready answers 503 while a pipeline has been held by "
             "back-pressure (a slow or failing output) for longer than "
             "this."},
    {.name = "max_connections",
     .type = LSH_OPT_INT,
     .def = "32",
     .offset = offsetof(struct lsh_http_conf, max_connections),
     .min = 1,
     .max = 1024,
     .help = "Connections served at once (8 at most from one address); "
             "more wait in the listen queue."},
    {.name = "timeout",
     .type = LSH_OPT_DURATION,
     .def = "10s",
     .offset = offsetof(struct lsh_http_conf, timeout_ms),
     .min = 1000,
     .max = 3600000,
     .help = "A connection idle this long is closed."},
    {.name = NULL},
};

struct lsh_http {
    struct MHD_Daemon          *d;
    struct lsh_loop            *loop;
    const struct lsh_http_conf *conf;
    struct lsh_http_api         api;
    struct lsh_io               io;
    struct lsh_timer            timer;
    struct lsh_buf              out; /* the answer being built */
    struct lsh_buf              tmp;
    const char                 *allow; /* methods, for a 405 */
    int taps; /* requests waiting on a tap, or its answer */
};

int lsh_http_parse_listen(const char *listen, struct sockaddr_storage *ss,
                          socklen_t *len, struct lsh_buf *err)
{
    char        host[64];
    const char *port;
    const char *colon = strrchr(listen, ':');
    char       *end;
    long        p;
    size_t      hlen;

    memset(ss, 0, sizeof(*ss));
    if (colon == NULL) {
        snprintf(host, sizeof(host), "127.0.0.1");
        port = listen;
    } else {
        hlen = (size_t)(colon - listen);
        if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
            listen++;
            hlen -= 2;
        }
        if (hlen == 0 || hlen >= sizeof(host)) {
            lsh_buf_addf(err, "'%s': give HOST:PORT or PORT", listen);
            return LSH_ERR;
        }
        memcpy(host, listen, hlen);
        host[hlen] = '\0';
        port = colon + 1;
    }
    errno = 0;
    p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || errno != 0 || p < 1 || p > 65535) {
        lsh_buf_addf(err, "'%s' is not a port (1 to 65535)", port);
        return LSH_ERR;
    }
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            lsh_buf_addf(err, "'%s' is not an IPv6 address", host);
            return LSH_ERR;
        }
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
        *len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;

        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            lsh_buf_addf(err,
                         "'%s' is not an IPv4 address (give an address, "
                         "not a host name)",
                         host);
            return LSH_ERR;
        }
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
        *len = sizeof(*a);
    }
    return LSH_OK;
}

static void lsh_http_timer(struct lsh_timer *t);

/* --- answers ------------------------------------------------------------ */

static enum MHD_Result lsh_http_answer(struct MHD_Connection *c,
                                       unsigned status, const char *type,
                                       const struct lsh_buf *body,
                                       const char           *allow)
{
    struct MHD_Response *r;
    enum MHD_Result      rc;

    r = MHD_create_response_from_buffer(body->len, body->ptr,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    }
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result lsh_http_json(struct lsh_http       *h,
                                     struct MHD_Connection *c, unsigned status)
{
    lsh_buf_addc(&h->out, '\n');
    return lsh_http_answer(c, status, "application/json", &h->out,
                           status == MHD_HTTP_METHOD_NOT_ALLOWED ? h->allow
                                                                 : NULL);
}

/* {"error": why}, with the path quoted. */
static enum MHD_Result lsh_http_error(struct lsh_http       *h,
                                      struct MHD_Connection *c, unsigned status,
                                      const char *why, const char *url)
{
    lsh_buf_reset(&h->tmp);
    lsh_buf_addf(&h->tmp, "%s: %s", why, url);
    lsh_buf_reset(&h->out);
    lsh_buf_adds(&h->out, "{\"error\":");
    lsh_json_str(&h->out, h->tmp.ptr, h->tmp.len);
    lsh_buf_addc(&h->out, '}');
    return lsh_http_json(h, c, status);
}

static bool lsh_http_is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
           strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result lsh_http_route(struct lsh_http       *h,
                                      struct MHD_Connection *c, const char *url,
                                      const char *method)
{
    static const char *const paths[] = {"/metrics", "/health", "/ready",
                                        "/api/v1/pipelines"};
    size_t                   i;

    if (strcmp(url, "/api/v1/reload") == 0) {
        if (!h->conf->reload || h->api.reload == NULL) {
            return lsh_http_error(h, c, MHD_HTTP_FORBIDDEN,
                                  "reload over HTTP is off (set "
                                  "service.http.reload: true)",
                                  url);
        }
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
            h->allow = "POST";
            return lsh_http_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  "only POST is allowed on", url);
        }
        lsh_buf_reset(&h->out);
        switch (h->api.reload(h->api.arg, &h->out)) {
        case LSH_OK:
            return lsh_http_json(h, c, MHD_HTTP_OK);
        case LSH_EINVAL: /* refused: the configuration */
            return lsh_http_json(h, c, MHD_HTTP_UNPROCESSABLE_CONTENT);
        default: /* applied, but a pipeline failed to start */
            return lsh_http_json(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR);
        }
    }

    for (i = 0; i < LSH_ARRAY_SIZE(paths); i++) {
        if (strcmp(url, paths[i]) == 0) {
            break;
        }
    }
    if (i == LSH_ARRAY_SIZE(paths)) {
        return lsh_http_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint",
                              url);
    }
    if (!lsh_http_is_get(method)) {
        h->allow = "GET, HEAD";
        return lsh_http_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "only GET and HEAD are allowed on", url);
    }
    lsh_buf_reset(&h->out);
    switch (i) {
    case 0:
        h->api.metrics(h->api.arg, &h->out);
        return lsh_http_answer(c, MHD_HTTP_OK,
                               "text/plain; version=0.0.4; charset=utf-8",
                               &h->out, NULL);
    case 1:
        /* answered at all: the loop turns */
        lsh_buf_adds(&h->out, "{\"status\":\"ok\"}");
        return lsh_http_json(h, c, MHD_HTTP_OK);
    case 2:
        if (h->api.ready(h->api.arg, &h->out)) {
            return lsh_http_json(h, c, MHD_HTTP_OK);
        }
        return lsh_http_json(h, c, MHD_HTTP_SERVICE_UNAVAILABLE);
    default:
        h->api.pipelines(h->api.arg, &h->out);
        return lsh_http_json(h, c, MHD_HTTP_OK);
    }
}

/*
 * libmicrohttpd calls this once when the headers are in, again for each
 * piece of the body, and a last time with none left.  The body is not
 * used: it is counted (in *con_cls, 1 + its bytes) and refused past
 * LSH_HTTP_MAX_BODY.
 */
/* --- /api/v1/tap: a request answered later ------------------------------ */

/* A request's state, from its headers to its end (lsh_http_completed). */
struct lsh_http_req {
    struct lsh_http       *h;
    struct MHD_Connection *c;
    size_t                 body;   /* bytes of body seen */
    void                  *tap;    /* a tap under way, or NULL */
    bool                   tapped; /* its records are in: answer */
};

static void lsh_http_tap_done(void *cookie)
{
    struct lsh_http_req *rq = cookie;

    rq->tapped = true;
    MHD_resume_connection(rq->c);
    if (rq->h->loop != NULL) {
        lsh_timer_start(rq->h->loop, &rq->h->timer, 0, 0, lsh_http_timer,
                        rq->h);
    }
}

/* A number argument in [lo, hi], or def when absent; -1 when bad. */
static long long lsh_http_arg(struct MHD_Connection *c, const char *name,
                              long long def, long long lo, long long hi)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char       *end;
    long long   n;

    if (v == NULL) {
        return def;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    return *v == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi ? -1
                                                                        : n;
}

static enum MHD_Result lsh_http_tap(struct lsh_http       *h,
                                    struct MHD_Connection *c,
                                    struct lsh_http_req *rq, const char *url)
{
    const char *pipeline;
    const char *after;
    long long   limit;
    long long   wait;
    unsigned    status = MHD_HTTP_BAD_REQUEST;

    if (rq->tapped) {
        lsh_buf_reset(&h->out);
        h->api.tap_take(h->api.arg, rq->tap, &h->out);
        rq->tap = NULL;
        h->taps--;
        return lsh_http_answer(c, MHD_HTTP_OK, "application/x-ndjson", &h->out,
                               NULL);
    }
    pipeline =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pipeline");
    after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    limit = lsh_http_arg(c, "limit", 10, 1, 1000);
    wait = lsh_http_arg(c, "wait", 1000, 0, 10000);
    if (pipeline == NULL || limit < 0 || wait < 0) {
        return lsh_http_error(h, c, MHD_HTTP_BAD_REQUEST,
                              "give pipeline=NAME, and optionally "
                              "after=input|FILTER_NUMBER, limit=1..1000, "
                              "wait=0..10000 (ms)",
                              url);
    }
    lsh_buf_reset(&h->tmp);
    rq->tap = h->api.tap_start(h->api.arg, pipeline,
                               after != NULL ? after : "input", (size_t)limit,
                               wait, lsh_http_tap_done, rq, &h->tmp, &status);
    if (rq->tap == NULL) {
        lsh_buf_reset(&h->out);
        lsh_buf_adds(&h->out, "{\"error\":");
        lsh_json_str(&h->out, h->tmp.ptr, h->tmp.len);
        lsh_buf_addc(&h->out, '}');
        return lsh_http_json(h, c, status);
    }
    h->taps++;
    MHD_suspend_connection(c); /* lsh_http_tap_done resumes it */
    return MHD_YES;
}

/*
 * libmicrohttpd calls this once when the headers are in, again for each
 * piece of the body, and a last time with none left (and once more after
 * a tap resumed the connection).  The body is not used: it is counted and
 * refused past LSH_HTTP_MAX_BODY.
 */
static enum MHD_Result lsh_http_handler(void *cls, struct MHD_Connection *c,
                                        const char *url, const char *method,
                                        const char *version, const char *upload,
                                        size_t *upload_size, void **con_cls)
{
    struct lsh_http     *h = cls;
    struct lsh_http_req *rq = *con_cls;

    (void)version;
    (void)upload;
    if (rq == NULL) {
        rq = lsh_calloc(1, sizeof(*rq));
        rq->h = h;
        rq->c = c;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        rq->body += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->body > LSH_HTTP_MAX_BODY) {
        return lsh_http_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
                              "the request body is larger than 4 KiB", url);
    }
    if (strcmp(url, "/api/v1/tap") == 0 && h->api.tap_start != NULL) {
        if (!lsh_http_is_get(method)) {
            h->allow = "GET, HEAD";
            return lsh_http_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  "only GET and HEAD are allowed on", url);
        }
        return lsh_http_tap(h, c, rq, url);
    }
    return lsh_http_route(h, c, url, method);
}

static void lsh_http_completed(void *cls, struct MHD_Connection *c,
                               void                          **con_cls,
                               enum MHD_RequestTerminationCode why)
{
    struct lsh_http     *h = cls;
    struct lsh_http_req *rq = *con_cls;

    (void)c;
    (void)why;
    if (rq == NULL) {
        return;
    }
    if (rq->tap != NULL) {
        h->api.tap_cancel(h->api.arg, rq->tap);
        h->taps--;
    }
    free(rq);
    *con_cls = NULL;
}

static void lsh_http_log(void *cls, const char *fmt, va_list ap)
{
    char   msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n') {
        msg[--n] = '\0';
    }
    lsh_debug("http: %s", msg);
}

/* --- the loop ----------------------------------------------------------- */

/* Runs what is due, and arms the timer for what libmicrohttpd waits for. */
void lsh_http_run(struct lsh_http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;

    MHD_run(h->d);
    if (h->loop == NULL) {
        return;
    }
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        lsh_timer_start(h->loop, &h->timer, (int64_t)LSH_MIN(ms, 3600000ULL), 0,
                        lsh_http_timer, h);
    } else {
        lsh_timer_stop(h->loop, &h->timer);
    }
}

static void lsh_http_timer(struct lsh_timer *t)
{
    lsh_http_run(t->data);
}

static void lsh_http_io(struct lsh_io *io, uint32_t events)
{
    (void)events;
    lsh_http_run(io->data);
}

static struct lsh_http *lsh_http_create(const struct lsh_http_conf    *c,
                                        const struct lsh_http_api     *api,
                                        const struct sockaddr_storage *ss)
{
    struct lsh_http *h = lsh_calloc(1, sizeof(*h));
    unsigned         flags =
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

    h->conf = c;
    h->api = *api;
    h->out = (struct lsh_buf)LSH_BUF_INIT;
    h->tmp = (struct lsh_buf)LSH_BUF_INIT;
    if (ss == NULL) {
        flags |= MHD_USE_NO_LISTEN_SOCKET;
    } else if (ss->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, lsh_http_handler, h, MHD_OPTION_NOTIFY_COMPLETED,
        lsh_http_completed, h, MHD_OPTION_EXTERNAL_LOGGER, lsh_http_log, h,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LSH_HTTP_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(c->timeout_ms / 1000),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LSH_HTTP_MAX_HEADERS,
        ss != NULL ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, ss, MHD_OPTION_END);
    if (h->d == NULL) {
        free(h);
        return NULL;
    }
    return h;
}

struct lsh_http *lsh_http_start(struct lsh_loop            *loop,
                                const struct lsh_http_conf *c,
                                const struct lsh_http_api  *api)
{
    struct sockaddr_storage     ss;
    socklen_t                   len;
    struct lsh_buf              err = LSH_BUF_INIT;
    struct lsh_http            *h;
    const union MHD_DaemonInfo *info;

    if (lsh_http_parse_listen(c->listen, &ss, &len, &err) != LSH_OK) {
        lsh_error("service.http.listen: %s", lsh_buf_cstr(&err));
        lsh_buf_release(&err);
        return NULL;
    }
    h = lsh_http_create(c, api, &ss);
    if (h == NULL) {
        lsh_error("cannot serve the HTTP API on %s: %s (is another process "
                  "listening there?)",
                  c->listen, strerror(errno));
        return NULL;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    h->loop = loop;
    if (info == NULL || lsh_io_start(loop, &h->io, info->epoll_fd, EPOLLIN,
                                     lsh_http_io, h) != LSH_OK) {
        lsh_error("cannot watch the HTTP server: %s", strerror(errno));
        h->loop = NULL;
        lsh_http_stop(h);
        return NULL;
    }
    lsh_info("HTTP API on http://%s (/metrics, /health, /ready, "
             "/api/v1/pipelines, /api/v1/tap%s)",
             c->listen, c->reload ? ", /api/v1/reload" : "");
    lsh_http_run(h);
    return h;
}

struct lsh_http *lsh_http_new_unbound(const struct lsh_http_conf *c,
                                      const struct lsh_http_api  *api)
{
    return lsh_http_create(c, api, NULL);
}

int lsh_http_add_connection(struct lsh_http *h, int fd)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(h->d, fd, (const struct sockaddr *)&a, sizeof(a)) !=
        MHD_YES) {
        return LSH_ERR;
    }
    return LSH_OK;
}

void lsh_http_settle(struct lsh_http *h)
{
    int i;

    /* resumed taps are answered within a few turns, then sent */
    for (i = 0; i < 100 && h->taps > 0; i++) {
        MHD_run(h->d);
    }
    for (i = 0; i < 10; i++) {
        MHD_run(h->d);
    }
}

void lsh_http_stop(struct lsh_http *h)
{
    if (h == NULL) {
        return;
    }
    if (h->loop != NULL) {
        lsh_io_stop(h->loop, &h->io);
        lsh_timer_stop(h->loop, &h->timer);
    }
    MHD_stop_daemon(h->d);
    lsh_buf_release(&h->out);
    lsh_buf_release(&h->tmp);
    free(h);
}
