/*
 * Configuration document loading: libyaml documents turned into a tree of
 * nodes with positions, files of a directory merged, and ${VAR}
 * references resolved from the environment.
 */
#include "node.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "mem.h"

#define LSH_YAML_MAX_DEPTH 64
#define LSH_YAML_MAX_NODES 100000

struct lsh_loader {
    struct lsh_diag *d;
    const char      *file;
    size_t           nodes;
    struct lsh_buf   tmp;
};

static void lsh_node_free(struct lsh_node *n)
{
    size_t i;

    if (n == NULL) {
        return;
    }
    free(n->value);
    free(n->error);
    for (i = 0; i < n->nitems; i++) {
        lsh_node_free(n->items[i]);
    }
    free(n->items);
    for (i = 0; i < n->npairs; i++) {
        lsh_node_free(n->pairs[i].key);
        lsh_node_free(n->pairs[i].value);
    }
    free(n->pairs);
    free(n);
}

void lsh_doc_destroy(struct lsh_doc *doc)
{
    size_t i;

    if (doc == NULL) {
        return;
    }
    lsh_node_free(doc->root);
    for (i = 0; i < doc->nfiles; i++) {
        free(doc->files[i]);
    }
    free(doc->files);
    free(doc);
}

const char *lsh_node_type_name(const struct lsh_node *n)
{
    if (n->type == LSH_NODE_MAP) {
        return "a map";
    }
    if (n->type == LSH_NODE_SEQ) {
        return "a list";
    }
    return n->is_null ? "null" : "a scalar";
}

struct lsh_node *lsh_node_get(const struct lsh_node *map, const char *key)
{
    size_t i;

    if (map == NULL || map->type != LSH_NODE_MAP) {
        return NULL;
    }
    for (i = 0; i < map->npairs; i++) {
        if (strcmp(map->pairs[i].key->value, key) == 0) {
            return map->pairs[i].value;
        }
    }
    return NULL;
}

static bool lsh_env_name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool lsh_env_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/*
 * The '}' that closes the "${NAME:-" whose default starts at s[from]:
 * defaults may hold references of their own ("${A:-${B}/x}").  Returns
 * its index, or len if there is none.
 */
static size_t lsh_env_close(const char *s, size_t len, size_t from)
{
    size_t depth = 1;
    size_t k = from;

    while (k < len) {
        if (s[k] == '$' && k + 1 < len &&
            (s[k + 1] == '{' || s[k + 1] == '$')) {
            depth += s[k + 1] == '{';
            k += 2;
            continue;
        }
        if (s[k] == '}' && --depth == 0) {
            return k;
        }
        k++;
    }
    return len;
}

static int lsh_env_expand_depth(const char *s, size_t len, struct lsh_buf *out,
                                struct lsh_buf *err, size_t *at, int depth);

int lsh_env_expand(const char *s, size_t len, struct lsh_buf *out,
                   struct lsh_buf *err, size_t *at)
{
    return lsh_env_expand_depth(s, len, out, err, at, 0);
}

static int lsh_env_expand_depth(const char *s, size_t len, struct lsh_buf *out,
                                struct lsh_buf *err, size_t *at, int depth)
{
    struct lsh_buf name = LSH_BUF_INIT;
    size_t         i = 0;
    int            rc = LSH_OK;

    while (i < len) {
        const char *val;
        size_t      j;

        if (s[i] != '$' || i + 1 >= len ||
            (s[i + 1] != '{' && s[i + 1] != '$')) {
            lsh_buf_addc(out, s[i++]);
            continue;
        }
        if (s[i + 1] == '$') {
            /* "$${" is a literal "${"; "$$" otherwise stays as is */
            if (i + 2 < len && s[i + 2] == '{') {
                lsh_buf_add(out, "${", 2);
                i += 3;
            } else {
                lsh_buf_add(out, "$$", 2);
                i += 2;
            }
            continue;
        }
        *at = i;
        j = i + 2;
        if (j >= len || !lsh_env_name_start(s[j])) {
            lsh_buf_adds(err, "expected a variable name after '${'");
            rc = LSH_EINVAL;
            break;
        }
        while (j < len && lsh_env_name_char(s[j])) {
            j++;
        }
        lsh_buf_reset(&name);
        lsh_buf_add(&name, s + i + 2, j - i - 2);
        val = getenv(lsh_buf_cstr(&name));
        if (j < len && s[j] == '}') {
            if (val == NULL) {
                lsh_buf_addf(err,
                             "environment variable '%s' is not set (write "
                             "${%s:-default} to give a default)",
                             name.ptr, name.ptr);
                rc = LSH_EINVAL;
                break;
            }
            lsh_buf_adds(out, val);
            i = j + 1;
            continue;
        }
        if (j + 1 < len && s[j] == ':' && s[j + 1] == '-') {
            size_t close = lsh_env_close(s, len, j + 2);
            size_t sub = 0;

            if (close == len) {
                lsh_buf_addf(err, "'${%s:-' is not closed by '}'", name.ptr);
                rc = LSH_EINVAL;
                break;
            }
            if (val != NULL && val[0] != '\0') {
                lsh_buf_adds(out, val);
            } else if (depth >= 16) {
                lsh_buf_adds(err, "defaults nested more than 16 deep");
                rc = LSH_EINVAL;
                break;
            } else {
                /* the default is expanded in turn: ${A:-${B:-x}} */
                rc = lsh_env_expand_depth(s + j + 2, close - j - 2, out, err,
                                          &sub, depth + 1);
                if (rc != LSH_OK) {
                    *at = j + 2 + sub;
                    break;
                }
            }
            i = close + 1;
            continue;
        }
        lsh_buf_addf(err, "'${%s' must be followed by '}' or ':-default}'",
                     name.ptr);
        rc = LSH_EINVAL;
        break;
    }
    lsh_buf_release(&name);
    return rc;
}

void lsh_node_report_errors(const struct lsh_node *n, struct lsh_diag *d)
{
    size_t i;

    if (n == NULL) {
        return;
    }
    if (n->error != NULL) {
        lsh_diag_error(d, &n->error_mark, "%s", n->error);
    }
    for (i = 0; i < n->nitems; i++) {
        lsh_node_report_errors(n->items[i], d);
    }
    for (i = 0; i < n->npairs; i++) {
        lsh_node_report_errors(n->pairs[i].value, d);
    }
}

static struct lsh_node *lsh_node_new(struct lsh_loader *L,
                                     enum lsh_node_type type,
                                     const yaml_mark_t *ym)
{
    struct lsh_node *n = lsh_calloc(1, sizeof(*n));

    n->type = type;
    n->mark.file = L->file;
    n->mark.line = (int)ym->line + 1;
    n->mark.col = (int)ym->column + 1;
    return n;
}

static bool lsh_yaml_is_null(const yaml_node_t *yn)
{
    const char *v = (const char *)yn->data.scalar.value;

    if (yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static struct lsh_node *lsh_scalar_from_yaml(struct lsh_loader *L,
                                             const yaml_node_t *yn, bool is_key)
{
    struct lsh_node *n = lsh_node_new(L, LSH_NODE_SCALAR, &yn->start_mark);
    const char      *text = (const char *)yn->data.scalar.value;
    size_t           len = yn->data.scalar.length;
    struct lsh_buf   err = LSH_BUF_INIT;
    size_t           at = 0;

    n->is_null = lsh_yaml_is_null(yn);
    if (is_key || memchr(text, '$', len) == NULL) {
        n->value = lsh_strndup(text, len);
        n->len = len;
        return n;
    }
    lsh_buf_reset(&L->tmp);
    if (lsh_env_expand(text, len, &L->tmp, &err, &at) != LSH_OK) {
        n->error_mark = n->mark;
        if (yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            memchr(text, '\n', at) == NULL) {
            n->error_mark.col += (int)at;
        }
        n->error = lsh_buf_detach(&err, NULL);
    }
    n->value = lsh_buf_detach(&L->tmp, &n->len);
    return n;
}

static struct lsh_node *lsh_node_from_yaml(struct lsh_loader *L,
                                           yaml_document_t   *doc,
                                           yaml_node_t *yn, int depth,
                                           bool is_key);

static struct lsh_node *lsh_seq_from_yaml(struct lsh_loader *L,
                                          yaml_document_t *doc, yaml_node_t *yn,
                                          int depth)
{
    struct lsh_node  *n = lsh_node_new(L, LSH_NODE_SEQ, &yn->start_mark);
    yaml_node_item_t *it;
    size_t            cap = 0;

    for (it = yn->data.sequence.items.start; it < yn->data.sequence.items.top;
         it++) {
        struct lsh_node *c = lsh_node_from_yaml(
            L, doc, yaml_document_get_node(doc, *it), depth + 1, false);

        if (c == NULL) {
            lsh_node_free(n);
            return NULL;
        }
        LSH_GROW(n->items, cap, n->nitems + 1);
        n->items[n->nitems++] = c;
    }
    return n;
}

static int lsh_map_add(struct lsh_loader *L, struct lsh_node *map, size_t *cap,
                       struct lsh_node *k, struct lsh_node *v)
{
    size_t i;

    if (k->type != LSH_NODE_SCALAR) {
        lsh_diag_error(L->d, &k->mark, "map keys must be plain names");
        goto err;
    }
    for (i = 0; i < map->npairs; i++) {
        const struct lsh_node *prev = map->pairs[i].key;

        if (strcmp(prev->value, k->value) == 0) {
            lsh_diag_error(L->d, &k->mark,
                           "duplicate key '%s' (first defined at %d:%d)",
                           k->value, prev->mark.line, prev->mark.col);
            goto err;
        }
    }
    LSH_GROW(map->pairs, *cap, map->npairs + 1);
    map->pairs[map->npairs].key = k;
    map->pairs[map->npairs].value = v;
    map->npairs++;
    return LSH_OK;
err:
    lsh_node_free(k);
    lsh_node_free(v);
    return LSH_EINVAL;
}

static struct lsh_node *lsh_map_from_yaml(struct lsh_loader *L,
                                          yaml_document_t *doc, yaml_node_t *yn,
                                          int depth)
{
    struct lsh_node  *n = lsh_node_new(L, LSH_NODE_MAP, &yn->start_mark);
    yaml_node_pair_t *p;
    size_t            cap = 0;

    for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
         p++) {
        struct lsh_node *k = lsh_node_from_yaml(
            L, doc, yaml_document_get_node(doc, p->key), depth + 1, true);
        struct lsh_node *v = NULL;

        if (k != NULL) {
            v = lsh_node_from_yaml(L, doc,
                                   yaml_document_get_node(doc, p->value),
                                   depth + 1, false);
        }
        if (k == NULL || v == NULL) {
            lsh_node_free(k);
            lsh_node_free(n);
            return NULL;
        }
        if (k->type == LSH_NODE_SCALAR && strcmp(k->value, "<<") == 0) {
            lsh_diag_error(L->d, &k->mark,
                           "YAML merge keys ('<<') are not supported");
            lsh_node_free(k);
            lsh_node_free(v);
            continue;
        }
        lsh_map_add(L, n, &cap, k, v);
    }
    return n;
}

static struct lsh_node *lsh_node_from_yaml(struct lsh_loader *L,
                                           yaml_document_t   *doc,
                                           yaml_node_t *yn, int depth,
                                           bool is_key)
{
    yaml_mark_t zero = {0, 0, 0};

    if (yn == NULL) {
        lsh_diag_error(L->d, NULL, "%s: malformed YAML document", L->file);
        return NULL;
    }
    if (depth > LSH_YAML_MAX_DEPTH || ++L->nodes > LSH_YAML_MAX_NODES) {
        struct lsh_node tmp;

        tmp.mark.file = L->file;
        tmp.mark.line = (int)yn->start_mark.line + 1;
        tmp.mark.col = (int)yn->start_mark.column + 1;
        lsh_diag_error(L->d, &tmp.mark,
                       "document too large or too deeply nested "
                       "(at most %d levels and %d nodes)",
                       LSH_YAML_MAX_DEPTH, LSH_YAML_MAX_NODES);
        return NULL;
    }
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        return lsh_scalar_from_yaml(L, yn, is_key);
    case YAML_SEQUENCE_NODE:
        return lsh_seq_from_yaml(L, doc, yn, depth);
    case YAML_MAPPING_NODE:
        return lsh_map_from_yaml(L, doc, yn, depth);
    default:
        return lsh_node_new(L, LSH_NODE_SCALAR, &zero);
    }
}

static void lsh_yaml_error(struct lsh_loader *L, const yaml_parser_t *p)
{
    struct lsh_mark m;

    m.file = L->file;
    m.line = (int)p->problem_mark.line + 1;
    m.col = (int)p->problem_mark.column + 1;
    if (p->context != NULL) {
        lsh_diag_error(L->d, &m, "invalid YAML: %s %s (line %d)", p->problem,
                       p->context, (int)p->context_mark.line + 1);
    } else {
        lsh_diag_error(L->d, &m, "invalid YAML: %s",
                       p->problem ? p->problem : "unknown error");
    }
}

/*
 * Merges map src into map dst, taking ownership of src.  Keys present in
 * both must both be maps.
 */
static void lsh_node_merge(struct lsh_diag *d, struct lsh_node *dst,
                           struct lsh_node *src)
{
    size_t cap = dst->npairs;
    size_t i;

    for (i = 0; i < src->npairs; i++) {
        struct lsh_pair *sp = &src->pairs[i];
        struct lsh_node *dk = NULL;
        struct lsh_node *dv = NULL;
        size_t           j;

        for (j = 0; j < dst->npairs; j++) {
            if (strcmp(dst->pairs[j].key->value, sp->key->value) == 0) {
                dk = dst->pairs[j].key;
                dv = dst->pairs[j].value;
                break;
            }
        }
        if (dv == NULL) {
            LSH_GROW(dst->pairs, cap, dst->npairs + 1);
            dst->pairs[dst->npairs++] = *sp;
            sp->key = NULL;
            sp->value = NULL;
        } else if (dv->type == LSH_NODE_MAP &&
                   sp->value->type == LSH_NODE_MAP) {
            lsh_node_merge(d, dv, sp->value);
            sp->value = NULL;
        } else {
            lsh_diag_error(
                d, &sp->key->mark, "key '%s' is already defined at %s:%d:%d",
                sp->key->value, dk->mark.file, dk->mark.line, dk->mark.col);
        }
    }
    lsh_node_free(src);
}

static char *lsh_doc_add_file(struct lsh_doc *doc, const char *name)
{
    doc->files =
        lsh_realloc(doc->files, (doc->nfiles + 1) * sizeof(*doc->files));
    doc->files[doc->nfiles] = lsh_strdup(name);
    return doc->files[doc->nfiles++];
}

/* Adds every document found by parser p to doc. */
static void lsh_doc_read(struct lsh_doc *doc, struct lsh_loader *L,
                         yaml_parser_t *p)
{
    for (;;) {
        yaml_document_t  ydoc;
        yaml_node_t     *root;
        struct lsh_node *n;

        if (!yaml_parser_load(p, &ydoc)) {
            lsh_yaml_error(L, p);
            return;
        }
        root = yaml_document_get_root_node(&ydoc);
        if (root == NULL) {
            yaml_document_delete(&ydoc);
            return;
        }
        if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0) {
            yaml_document_delete(&ydoc); /* a document with only comments */
            continue;
        }
        n = lsh_node_from_yaml(L, &ydoc, root, 0, false);
        yaml_document_delete(&ydoc);
        if (n == NULL) {
            return;
        }
        if (n->type != LSH_NODE_MAP) {
            lsh_diag_error(L->d, &n->mark,
                           "the top level must be a map (with 'service' "
                           "and 'pipelines'), not %s",
                           lsh_node_type_name(n));
            lsh_node_free(n);
        } else if (doc->root == NULL) {
            doc->root = n;
        } else {
            lsh_node_merge(L->d, doc->root, n);
        }
    }
}

static void lsh_doc_read_file(struct lsh_doc *doc, struct lsh_loader *L,
                              const char *path)
{
    yaml_parser_t p;
    FILE         *f = fopen(path, "rb");

    if (f == NULL) {
        lsh_diag_error(L->d, NULL, "cannot open '%s': %s", path,
                       strerror(errno));
        return;
    }
    L->file = lsh_doc_add_file(doc, path);
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    lsh_doc_read(doc, L, &p);
    yaml_parser_delete(&p);
    fclose(f);
}

static int lsh_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool lsh_is_yaml_name(const char *n)
{
    size_t len = strlen(n);

    if (n[0] == '.') {
        return false;
    }
    return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

static void lsh_doc_read_dir(struct lsh_doc *doc, struct lsh_loader *L,
                             const char *dir)
{
    DIR           *dh = opendir(dir);
    struct dirent *de;
    char         **names = NULL;
    size_t         n = 0;
    size_t         cap = 0;
    size_t         i;
    struct lsh_buf path = LSH_BUF_INIT;

    if (dh == NULL) {
        lsh_diag_error(L->d, NULL, "cannot open directory '%s': %s", dir,
                       strerror(errno));
        return;
    }
    while ((de = readdir(dh)) != NULL) {
        if (lsh_is_yaml_name(de->d_name)) {
            LSH_GROW(names, cap, n + 1);
            names[n++] = lsh_strdup(de->d_name);
        }
    }
    closedir(dh);
    if (n == 0) {
        lsh_diag_error(L->d, NULL, "no *.yaml files in directory '%s'", dir);
    }
    if (n > 1) {
        qsort(names, n, sizeof(*names), lsh_name_cmp);
    }
    for (i = 0; i < n; i++) {
        lsh_buf_reset(&path);
        lsh_buf_addf(&path, "%s%s%s", dir,
                     dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        lsh_doc_read_file(doc, L, lsh_buf_cstr(&path));
        free(names[i]);
    }
    free(names);
    lsh_buf_release(&path);
}

/*
 * Returns doc even after errors, as long as it holds something, so that
 * the configuration checks can report their errors too; the caller
 * decides from the error count.
 */
static struct lsh_doc *lsh_doc_finish(struct lsh_doc *doc, struct lsh_loader *L,
                                      size_t errors0)
{
    lsh_buf_release(&L->tmp);
    if (L->d->nerrors > errors0 && doc->root == NULL) {
        lsh_doc_destroy(doc);
        return NULL;
    }
    return doc;
}

struct lsh_doc *lsh_doc_load(const char *path, struct lsh_diag *d)
{
    struct lsh_doc   *doc = lsh_calloc(1, sizeof(*doc));
    struct lsh_loader L = {.d = d};
    size_t            errors0 = d->nerrors;
    struct stat       st;

    if (stat(path, &st) != 0) {
        lsh_diag_error(d, NULL, "cannot read configuration '%s': %s", path,
                       strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        lsh_doc_read_dir(doc, &L, path);
    } else {
        lsh_doc_read_file(doc, &L, path);
    }
    return lsh_doc_finish(doc, &L, errors0);
}

struct lsh_doc *lsh_doc_parse(const char *name, const char *text, size_t len,
                              struct lsh_diag *d)
{
    struct lsh_doc   *doc = lsh_calloc(1, sizeof(*doc));
    struct lsh_loader L = {.d = d};
    size_t            errors0 = d->nerrors;
    yaml_parser_t     p;

    L.file = lsh_doc_add_file(doc, name);
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    lsh_doc_read(doc, &L, &p);
    yaml_parser_delete(&p);
    return lsh_doc_finish(doc, &L, errors0);
}

/* The pairs of m but skip_key, from index *i on: the next one, or NULL. */
static const struct lsh_pair *lsh_node_next_pair(const struct lsh_node *m,
                                                 size_t *i, const char *skip)
{
    while (*i < m->npairs) {
        const struct lsh_pair *p = &m->pairs[(*i)++];

        if (skip == NULL || strcmp(p->key->value, skip) != 0) {
            return p;
        }
    }
    return NULL;
}

bool lsh_node_equal(const struct lsh_node *a, const struct lsh_node *b,
                    const char *skip_key)
{
    size_t i = 0;
    size_t j = 0;

    if (a == NULL || b == NULL) {
        return a == b;
    }
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case LSH_NODE_SCALAR:
        return a->is_null == b->is_null && a->len == b->len &&
               (a->len == 0 || memcmp(a->value, b->value, a->len) == 0) &&
               (a->error == NULL) == (b->error == NULL);
    case LSH_NODE_SEQ:
        if (a->nitems != b->nitems) {
            return false;
        }
        for (i = 0; i < a->nitems; i++) {
            if (!lsh_node_equal(a->items[i], b->items[i], NULL)) {
                return false;
            }
        }
        return true;
    default:
        for (;;) {
            const struct lsh_pair *pa = lsh_node_next_pair(a, &i, skip_key);
            const struct lsh_pair *pb = lsh_node_next_pair(b, &j, skip_key);

            if (pa == NULL || pb == NULL) {
                return pa == pb;
            }
            if (strcmp(pa->key->value, pb->key->value) != 0 ||
                !lsh_node_equal(pa->value, pb->value, NULL)) {
                return false;
            }
        }
    }
}
