/*
 * tail input: Kubernetes names from container log file names.
 *
 * /var/log/containers/<pod>_<namespace>_<container>-<id>.log (the
 * kubelet's symlinks) and /var/log/pods/<namespace>_<pod>_<uid>/
 * <container>/<N>.log (their targets) name the pod, namespace and
 * container of every line in them.
 */
#include <string.h>

#include "mem.h"
#include "tail.h"

static const char *const in_tail_k8s_names[] = {
    "k8s_pod", "k8s_namespace", "k8s_container", "container_id", "k8s_pod_uid"};

/* Points out[i] at the i-th name and value; s holds the values. */
static void in_tail_k8s_set(struct lsh_field *out, const int *names,
                            const char *s, const size_t *off, const size_t *len)
{
    int i;

    for (i = 0; i < 4; i++) {
        const char *name = in_tail_k8s_names[names[i]];

        out[i].name = lsh_str_make(name, strlen(name));
        out[i].v = lsh_value_str(lsh_str_make(s + off[i], len[i]));
    }
}

/*
 * /var/log/containers/<pod>_<namespace>_<container>-<id>.log: pod and
 * namespace names cannot hold '_' (DNS names), nor can container names;
 * the id is the runtime's (64 hex digits).
 */
static size_t in_tail_k8s_link(const char *base, struct lsh_field *out,
                               char **text)
{
    static const int names[4] = {0, 1, 2, 3};
    const char      *end = base + strlen(base);
    const char      *u1;
    const char      *u2;
    const char      *dash;
    size_t           off[4];
    size_t           len[4];

    if (end - base < 4 || strcmp(end - 4, ".log") != 0) {
        return 0;
    }
    end -= 4;
    u1 = memchr(base, '_', (size_t)(end - base));
    u2 = u1 != NULL ? memchr(u1 + 1, '_', (size_t)(end - u1 - 1)) : NULL;
    if (u2 == NULL || memchr(u2 + 1, '_', (size_t)(end - u2 - 1)) != NULL) {
        return 0;
    }
    dash = end;
    while (dash > u2 + 1 && dash[-1] != '-') {
        dash--;
    }
    if (u1 == base || u2 == u1 + 1 || dash <= u2 + 2 || dash == end) {
        return 0; /* an empty part, or no '-<id>' */
    }
    off[0] = 0;
    len[0] = (size_t)(u1 - base);
    off[1] = (size_t)(u1 + 1 - base);
    len[1] = (size_t)(u2 - u1 - 1);
    off[2] = (size_t)(u2 + 1 - base);
    len[2] = (size_t)(dash - 1 - u2 - 1);
    off[3] = (size_t)(dash - base);
    len[3] = (size_t)(end - dash);
    *text = lsh_strndup(base, (size_t)(end - base));
    in_tail_k8s_set(out, names, *text, off, len);
    return 4;
}

/*
 * /var/log/pods/<namespace>_<pod>_<uid>/<container>/<N>.log, or a
 * rotated <N>.log.<suffix>: what the symlinks point to.
 */
static size_t in_tail_k8s_pods(const char *path, const char *base,
                               struct lsh_field *out, char **text)
{
    static const int names[4] = {1, 0, 4, 2};
    const char      *cdir;
    const char      *pdir;
    const char      *p = base;
    const char      *u1;
    const char      *u2;
    size_t           off[4];
    size_t           len[4];
    size_t           plen;

    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (p == base || strncmp(p, ".log", 4) != 0 ||
        (p[4] != '\0' && p[4] != '.')) {
        return 0;
    }
    /* base - 1 is the '/' before N.log; find the two directories above */
    for (cdir = base - 1; cdir > path && cdir[-1] != '/'; cdir--) {
    }
    if (cdir <= path + 1 || cdir == base - 1) {
        return 0;
    }
    for (pdir = cdir - 1; pdir > path && pdir[-1] != '/'; pdir--) {
    }
    plen = (size_t)(cdir - 1 - pdir);
    u1 = memchr(pdir, '_', plen);
    u2 = u1 != NULL ? memchr(u1 + 1, '_', (size_t)(cdir - 1 - u1 - 1)) : NULL;
    if (u2 == NULL || u1 == pdir || u2 == u1 + 1 || u2 + 1 == cdir - 1) {
        return 0;
    }
    off[0] = 0; /* namespace */
    len[0] = (size_t)(u1 - pdir);
    off[1] = (size_t)(u1 + 1 - pdir); /* pod */
    len[1] = (size_t)(u2 - u1 - 1);
    off[2] = (size_t)(u2 + 1 - pdir); /* uid */
    len[2] = (size_t)(cdir - 1 - u2 - 1);
    off[3] = (size_t)(cdir - pdir); /* container */
    len[3] = (size_t)(base - 1 - cdir);
    *text = lsh_strndup(pdir, (size_t)(base - 1 - pdir));
    in_tail_k8s_set(out, names, *text, off, len);
    return 4;
}

size_t in_tail_k8s_fields(const char *path, struct lsh_field *out, char **text)
{
    const char *base = strrchr(path, '/');
    size_t      n;

    *text = NULL;
    base = base != NULL ? base + 1 : path;
    n = in_tail_k8s_link(base, out, text);
    if (n == 0 && base > path + 1) {
        n = in_tail_k8s_pods(path, base, out, text);
    }
    return n;
}
