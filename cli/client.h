/*
 * The command line's side of the HTTP API (`logship top`, `logship tap`):
 * where the API of a running logship is, and a small HTTP/1.1 client.
 *
 * The client is our own, some 150 lines, rather than libcurl: it only
 * ever talks plain HTTP to an address of this host's logship, and linking
 * libcurl would bring its TLS, LDAP and SSH libraries into the agent's
 * binary for that.
 */
#ifndef LSH_CLIENT_H
#define LSH_CLIENT_H

#include "buf.h"
#include "lsh.h"

/*
 * The API's address, "HOST:PORT": from url ("http://127.0.0.1:2020",
 * "127.0.0.1:2020") if not NULL, else from service.http.listen of the
 * configuration at config (an address of every interface becomes the
 * loopback one).  LSH_OK, or LSH_ERR with why in err.
 */
int lsh_client_target(const char *url, const char *config, struct lsh_buf *out,
                      struct lsh_buf *err);

/*
 * Sends METHOD path to target and reads the answer: its status and body.
 * timeout_ms bounds the whole exchange.  LSH_OK, or LSH_ERR with why in
 * err (cannot connect, timed out, not HTTP).
 */
int lsh_client_request(const char *target, const char *method, const char *path,
                       int timeout_ms, int *status, struct lsh_buf *body,
                       struct lsh_buf *err);

/* `logship top` and `logship tap`: exit statuses 0, 1 (runtime), 2 (usage) */
int lsh_top_main(int argc, char **argv);
int lsh_tap_main(int argc, char **argv);

#endif
