/*
 * Where a running logship's HTTP API is, and a small client for it.
 */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "http.h"

int lsh_client_target(const char *url, const char *config, struct lsh_buf *out,
                      struct lsh_buf *err)
{
    struct sockaddr_storage ss;
    socklen_t               len;
    struct lsh_config      *cfg;
    struct lsh_diag         d;
    char                    host[INET6_ADDRSTRLEN];
    const char             *listen = url;
    int                     port;

    if (url == NULL && config == NULL) {
        lsh_buf_adds(err, "give -c PATH (the configuration of the running "
                          "logship) or --url URL");
        return LSH_ERR;
    }
    lsh_diag_init(&d);
    cfg = NULL;
    if (url == NULL) {
        cfg = lsh_config_load(config, &d);
        if (cfg == NULL) {
            lsh_buf_addf(err, "%s", lsh_buf_cstr(&d.text));
            lsh_diag_release(&d);
            return LSH_ERR;
        }
        if (cfg->service.http == NULL || cfg->service.http->listen == NULL) {
            lsh_buf_addf(err,
                         "'%s' has no service.http.listen: the HTTP API is "
                         "off",
                         config);
            lsh_config_destroy(cfg);
            lsh_diag_release(&d);
            return LSH_ERR;
        }
        listen = cfg->service.http->listen;
    } else if (strncmp(url, "http://", 7) == 0) {
        listen += 7;
    }
    lsh_buf_reset(out);
    lsh_buf_adds(out, listen);
    while (out->len > 0 && out->ptr[out->len - 1] == '/') {
        out->len--;
    }
    if (lsh_http_parse_listen(lsh_buf_cstr(out), &ss, &len, err) != LSH_OK) {
        lsh_config_destroy(cfg);
        lsh_diag_release(&d);
        return LSH_ERR;
    }
    lsh_buf_reset(out);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr)) {
            a->sin6_addr = in6addr_loopback;
        }
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        lsh_buf_addf(out, "[%s]:%d", host, port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        if (a->sin_addr.s_addr == htonl(INADDR_ANY)) {
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        }
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        lsh_buf_addf(out, "%s:%d", host, port);
    }
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
    return LSH_OK;
}

/* Waits until fd is ready for events or the deadline; false if not. */
static bool lsh_client_wait(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t       left = (deadline - lsh_now_mono_ns()) / LSH_NS_PER_MS;

    return left > 0 && poll(&p, 1, (int)left) == 1;
}

static int lsh_client_connect(const char *target, int64_t deadline,
                              struct lsh_buf *err)
{
    struct sockaddr_storage ss;
    socklen_t               len;
    int                     fd;
    int                     e = 0;
    socklen_t               elen = sizeof(e);

    if (lsh_http_parse_listen(target, &ss, &len, err) != LSH_OK) {
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        lsh_buf_addf(err, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        e = errno;
    } else if (!lsh_client_wait(fd, POLLOUT, deadline)) {
        e = ETIMEDOUT;
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0) {
        e = errno;
    }
    if (e != 0) {
        lsh_buf_addf(err,
                     "cannot reach logship's HTTP API at %s: %s "
                     "(is it running, with service.http.listen?)",
                     target, strerror(e));
        close(fd);
        return -1;
    }
    return fd;
}

int lsh_client_request(const char *target, const char *method, const char *path,
                       int timeout_ms, int *status, struct lsh_buf *body,
                       struct lsh_buf *err)
{
    int64_t        deadline = lsh_now_mono_ns() + timeout_ms * LSH_NS_PER_MS;
    struct lsh_buf req = LSH_BUF_INIT;
    struct lsh_buf resp = LSH_BUF_INIT;
    size_t         sent = 0;
    char           buf[16384];
    const char    *end;
    int            fd = lsh_client_connect(target, deadline, err);
    int            rc = LSH_ERR;

    if (fd < 0) {
        return LSH_ERR;
    }
    lsh_buf_addf(&req,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                 "Content-Length: 0\r\nUser-Agent: logship\r\n\r\n",
                 method, path, target);
    while (sent < req.len) {
        ssize_t w = send(fd, req.ptr + sent, req.len - sent, MSG_NOSIGNAL);

        if (w > 0) {
            sent += (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            lsh_buf_addf(err, "send: %s", strerror(errno));
            goto err;
        } else if (!lsh_client_wait(fd, POLLOUT, deadline)) {
            lsh_buf_adds(err, "timed out sending the request");
            goto err;
        }
    }
    for (;;) { /* to the end: the server closes (Connection: close) */
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n > 0) {
            lsh_buf_add(&resp, buf, (size_t)n);
        } else if (n == 0) {
            break;
        } else if (errno != EAGAIN && errno != EINTR) {
            lsh_buf_addf(err, "recv: %s", strerror(errno));
            goto err;
        } else if (!lsh_client_wait(fd, POLLIN, deadline)) {
            lsh_buf_adds(err, "timed out waiting for the answer");
            goto err;
        }
    }
    end = resp.len > 0 ? strstr(lsh_buf_cstr(&resp), "\r\n\r\n") : NULL;
    if (end == NULL || sscanf(resp.ptr, "HTTP/1.%*d %d", status) != 1) {
        lsh_buf_adds(err, "the answer is not HTTP");
        goto err;
    }
    lsh_buf_add(body, end + 4, resp.len - (size_t)(end + 4 - resp.ptr));
    rc = LSH_OK;
err:
    close(fd);
    lsh_buf_release(&req);
    lsh_buf_release(&resp);
    return rc;
}
