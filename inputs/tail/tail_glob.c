/*
 * tail input: glob patterns.
 *
 * A pattern is an absolute path whose components may use fnmatch(3)
 * wildcards (* ? [...], with \ to escape), and "**" for any number of
 * directories (not hidden ones).  A trailing "**" means every file below.
 * Wildcards do not match a leading '.', as in the shell.  The root is the
 * longest directory prefix without wildcards: the place watching starts.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tail.h"

#define IN_TAIL_MAX_DEPTH 64

struct in_tail_comps {
    const char *p[IN_TAIL_MAX_DEPTH];
    size_t      len[IN_TAIL_MAX_DEPTH];
    size_t      n;
};

static bool in_tail_has_magic(const char *s)
{
    return strpbrk(s, "*?[\\") != NULL;
}

/* Splits path into components; false if there are too many. */
static bool in_tail_split(const char *path, struct in_tail_comps *c)
{
    const char *s = path;

    c->n = 0;
    while (*s != '\0') {
        const char *e;

        while (*s == '/') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        e = strchr(s, '/');
        if (e == NULL) {
            e = s + strlen(s);
        }
        if (c->n == IN_TAIL_MAX_DEPTH) {
            return false;
        }
        c->p[c->n] = s;
        c->len[c->n] = (size_t)(e - s);
        c->n++;
        s = e;
    }
    return true;
}

int in_tail_glob_compile(struct in_tail_glob *g, const char *pattern,
                         const char **err)
{
    struct in_tail_comps c;
    struct lsh_buf       root = LSH_BUF_INIT;
    size_t               i;
    size_t               nroot = 0;

    memset(g, 0, sizeof(*g));
    if (pattern[0] != '/') {
        *err = "must be an absolute path";
        return LSH_EINVAL;
    }
    if (!in_tail_split(pattern, &c) || c.n == 0) {
        *err = c.n == 0 ? "names no file" : "has too many components";
        return LSH_EINVAL;
    }
    for (i = 0; i < c.n; i++) {
        if ((c.len[i] == 2 && memcmp(c.p[i], "..", 2) == 0) ||
            (c.len[i] == 1 && c.p[i][0] == '.')) {
            *err = "must not contain '.' or '..' components";
            return LSH_EINVAL;
        }
    }
    /* the root: literal directories, never the last component */
    while (nroot + 1 < c.n) {
        char tmp[NAME_MAX + 1];

        if (c.len[nroot] > NAME_MAX) {
            *err = "has a component longer than NAME_MAX";
            lsh_buf_release(&root); /* (it leaked here) */
            return LSH_EINVAL;
        }
        memcpy(tmp, c.p[nroot], c.len[nroot]);
        tmp[c.len[nroot]] = '\0';
        if (in_tail_has_magic(tmp)) {
            break;
        }
        lsh_buf_addc(&root, '/');
        lsh_buf_add(&root, c.p[nroot], c.len[nroot]);
        nroot++;
    }
    if (root.len == 0) {
        lsh_buf_addc(&root, '/');
    }
    g->src = lsh_strdup(pattern);
    g->root = lsh_buf_detach(&root, NULL);
    g->parts = lsh_calloc(c.n - nroot + 1, sizeof(*g->parts));
    for (i = nroot; i < c.n; i++) {
        bool dstar = c.len[i] == 2 && memcmp(c.p[i], "**", 2) == 0;

        /* "**" twice in a row means the same as once */
        if (dstar && g->nparts > 0 &&
            strcmp(g->parts[g->nparts - 1], "**") == 0) {
            continue;
        }
        g->parts[g->nparts++] = lsh_strndup(c.p[i], c.len[i]);
    }
    if (strcmp(g->parts[g->nparts - 1], "**") == 0) {
        g->parts[g->nparts++] = lsh_strdup("*");
    }
    return LSH_OK;
}

void in_tail_glob_release(struct in_tail_glob *g)
{
    size_t i;

    for (i = 0; i < g->nparts; i++) {
        free(g->parts[i]);
    }
    free(g->parts);
    free(g->root);
    free(g->src);
    memset(g, 0, sizeof(*g));
}

static bool in_tail_comp_match(const char *pat, const char *s, size_t n)
{
    char name[NAME_MAX + 1];

    if (n > NAME_MAX) {
        return false;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    return fnmatch(pat, name, FNM_PERIOD) == 0;
}

static bool in_tail_is_dstar(const char *p)
{
    return p[0] == '*' && p[1] == '*' && p[2] == '\0';
}

/* Do parts[pi..] match components[ci..] exactly? */
static bool in_tail_match_from(const struct in_tail_glob *g, size_t pi,
                               const struct in_tail_comps *c, size_t ci)
{
    if (pi == g->nparts) {
        return ci == c->n;
    }
    if (in_tail_is_dstar(g->parts[pi])) {
        if (in_tail_match_from(g, pi + 1, c, ci)) {
            return true;
        }
        /* "**" takes one more directory, never a hidden one or the file */
        return ci + 1 < c->n && c->p[ci][0] != '.' &&
               in_tail_match_from(g, pi, c, ci + 1);
    }
    return ci < c->n &&
           in_tail_comp_match(g->parts[pi], c->p[ci], c->len[ci]) &&
           in_tail_match_from(g, pi + 1, c, ci + 1);
}

/*
 * Can directories components[ci..] be matched by parts[pi..] leaving at
 * least the file's component to match?
 */
static bool in_tail_prefix_from(const struct in_tail_glob *g, size_t pi,
                                const struct in_tail_comps *c, size_t ci)
{
    if (ci == c->n) {
        return pi < g->nparts;
    }
    if (pi + 1 >= g->nparts) {
        return false; /* only the file's part is left */
    }
    if (in_tail_is_dstar(g->parts[pi])) {
        return in_tail_prefix_from(g, pi + 1, c, ci) ||
               (c->p[ci][0] != '.' && in_tail_prefix_from(g, pi, c, ci + 1));
    }
    return in_tail_comp_match(g->parts[pi], c->p[ci], c->len[ci]) &&
           in_tail_prefix_from(g, pi + 1, c, ci + 1);
}

/* Splits the part of path below g's root; false if path is not below. */
static bool in_tail_below_root(const struct in_tail_glob *g, const char *path,
                               struct in_tail_comps *c)
{
    size_t rl = strlen(g->root);

    if (strcmp(g->root, "/") == 0) {
        return in_tail_split(path, c);
    }
    if (strncmp(path, g->root, rl) != 0 ||
        (path[rl] != '/' && path[rl] != '\0')) {
        return false;
    }
    return in_tail_split(path + rl, c);
}

bool in_tail_glob_match(const struct in_tail_glob *g, const char *path)
{
    struct in_tail_comps c;

    return in_tail_below_root(g, path, &c) && in_tail_match_from(g, 0, &c, 0);
}

bool in_tail_glob_dir_may_match(const struct in_tail_glob *g, const char *dir)
{
    struct in_tail_comps c;

    return in_tail_below_root(g, dir, &c) && in_tail_prefix_from(g, 0, &c, 0);
}
