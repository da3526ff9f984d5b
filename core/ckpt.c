/*
 * The checkpoint store.
 */
#include "ckpt.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

#define LSH_CKPT_MAGIC_V1 "logship-checkpoint 1"
#define LSH_CKPT_MAGIC    "logship-checkpoint 2"
#define LSH_CKPT_MAX_SIZE (256u * 1024 * 1024)

struct lsh_ckpt {
    char           *path; /* NULL: in memory only */
    char           *tmp;
    char           *dir;
    struct lsh_hmap entries;
    bool            dirty;
    uint64_t        writes;
    uint64_t        failures;
};

uint32_t lsh_crc32(uint32_t crc, const void *p, size_t n)
{
    static uint32_t table[256];
    const uint8_t  *s = p;
    size_t          i;

    if (table[1] == 0) {
        for (i = 0; i < 256; i++) {
            uint32_t c = (uint32_t)i;
            int      k;

            for (k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
    }
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc = table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

int64_t lsh_ckpt_now(void)
{
    return lsh_now_real_ns() / LSH_NS_PER_SEC;
}

static uint64_t lsh_ckpt_hash(uint64_t dev, uint64_t ino)
{
    return lsh_hash_u64(ino * 31 + dev);
}

static bool lsh_ckpt_eq(const struct lsh_hnode *n, const void *key)
{
    const struct lsh_ckpt_entry *e = (const void *)n;
    const uint64_t              *id = key;

    return e->dev == id[0] && e->ino == id[1];
}

struct lsh_ckpt_entry *lsh_ckpt_first(struct lsh_ckpt *ck, uint64_t dev,
                                      uint64_t ino)
{
    uint64_t id[2] = {dev, ino};

    return (struct lsh_ckpt_entry *)lsh_hmap_find(
        &ck->entries, lsh_ckpt_hash(dev, ino), lsh_ckpt_eq, id);
}

struct lsh_ckpt_entry *lsh_ckpt_next(struct lsh_ckpt       *ck,
                                     struct lsh_ckpt_entry *e)
{
    uint64_t id[2] = {e->dev, e->ino};

    return (struct lsh_ckpt_entry *)lsh_hmap_find_next(&ck->entries, &e->node,
                                                       lsh_ckpt_eq, id);
}

static void lsh_ckpt_entry_free(struct lsh_ckpt_entry *e)
{
    free(e->path);
    free(e);
}

void lsh_ckpt_remove(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    lsh_hmap_remove(&ck->entries, &e->node);
    lsh_ckpt_entry_free(e);
    ck->dirty = true;
}

static void lsh_ckpt_insert(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    lsh_hmap_insert(&ck->entries, &e->node, lsh_ckpt_hash(e->dev, e->ino));
}

void lsh_ckpt_move(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, uint64_t dev,
                   uint64_t ino, uint32_t flags)
{
    if (e->dev == dev && e->ino == ino && e->flags == flags) {
        return;
    }
    lsh_hmap_remove(&ck->entries, &e->node);
    e->dev = dev;
    e->ino = ino;
    e->flags = flags;
    lsh_ckpt_insert(ck, e);
    ck->dirty = true;
}

struct lsh_ckpt_entry *lsh_ckpt_add(struct lsh_ckpt *ck, uint64_t dev,
                                    uint64_t ino, uint32_t flags,
                                    uint32_t fp_len, uint64_t fp_hash,
                                    const char *path, uint64_t offset,
                                    void *owner)
{
    struct lsh_ckpt_entry *e = lsh_calloc(1, sizeof(*e));

    assert(owner != NULL);
    e->dev = dev;
    e->ino = ino;
    e->flags = flags;
    e->fp_len = fp_len;
    e->fp_hash = fp_hash;
    e->offset = offset;
    e->path = lsh_strdup(path);
    e->owner = owner;
    e->seen = lsh_ckpt_now();
    lsh_ckpt_insert(ck, e);
    ck->dirty = true;
    return e;
}

void lsh_ckpt_claim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e, void *owner)
{
    assert(e->owner == NULL && owner != NULL);
    e->owner = owner;
    e->seen = lsh_ckpt_now();
    ck->dirty = true;
}

void lsh_ckpt_unclaim(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e)
{
    e->owner = NULL;
    e->seen = lsh_ckpt_now();
    ck->dirty = true;
}

void lsh_ckpt_set_offset(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                         uint64_t offset, uint32_t end_len, uint64_t end_hash)
{
    if (e->offset != offset || e->end_len != end_len ||
        e->end_hash != end_hash) {
        e->offset = offset;
        e->end_len = end_len;
        e->end_hash = end_hash;
        ck->dirty = true;
    }
}

void lsh_ckpt_set_fp(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                     uint32_t fp_len, uint64_t fp_hash)
{
    if (e->fp_len != fp_len || e->fp_hash != fp_hash) {
        e->fp_len = fp_len;
        e->fp_hash = fp_hash;
        ck->dirty = true;
    }
}

void lsh_ckpt_set_path(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                       const char *path)
{
    if (strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = lsh_strdup(path);
        ck->dirty = true;
    }
}

size_t lsh_ckpt_count(const struct lsh_ckpt *ck)
{
    return ck->entries.count;
}

uint64_t lsh_ckpt_writes(const struct lsh_ckpt *ck)
{
    return ck->writes;
}

uint64_t lsh_ckpt_failures(const struct lsh_ckpt *ck)
{
    return ck->failures;
}

const char *lsh_ckpt_path(const struct lsh_ckpt *ck)
{
    return ck->path != NULL ? ck->path : "(memory)";
}

struct lsh_ckpt_list {
    struct lsh_ckpt_entry **v;
    size_t                  n;
    size_t                  cap;
};

static void lsh_ckpt_collect_unclaimed(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_list  *l = arg;
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    if (e->owner == NULL) {
        LSH_GROW(l->v, l->cap, l->n + 1);
        l->v[l->n++] = e;
    }
}

struct lsh_ckpt_entry **lsh_ckpt_unclaimed(struct lsh_ckpt *ck, size_t *n)
{
    struct lsh_ckpt_list l = {NULL, 0, 0};

    lsh_hmap_each(&ck->entries, lsh_ckpt_collect_unclaimed, &l);
    *n = l.n;
    return l.v;
}

struct lsh_ckpt_prune {
    struct lsh_ckpt *ck;
    int64_t          now;
    int64_t          retention;
    size_t           removed;
};

static void lsh_ckpt_prune_one(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_prune *p = arg;
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    if (e->owner != NULL) {
        if (p->now - e->seen > p->retention / 4) {
            e->seen = p->now;
            p->ck->dirty = true;
        }
        return;
    }
    if (p->now - e->seen >= p->retention) {
        lsh_info("checkpoint of '%s' dropped: not seen for %lld s "
                 "(checkpoint_retention)",
                 e->path, (long long)(p->now - e->seen));
        lsh_ckpt_remove(p->ck, e); /* removing the node given is allowed */
        p->removed++;
    }
}

size_t lsh_ckpt_prune(struct lsh_ckpt *ck, int64_t now, int64_t retention)
{
    struct lsh_ckpt_prune p = {ck, now, retention, 0};

    lsh_hmap_each(&ck->entries, lsh_ckpt_prune_one, &p);
    return p.removed;
}

/* --- text format --------------------------------------------------------- */

static bool lsh_ckpt_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("/._-+:@,=~", c) != NULL;
}

static void lsh_ckpt_escape(struct lsh_buf *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (lsh_ckpt_plain(c)) {
            lsh_buf_addc(out, (char)c);
        } else {
            lsh_buf_addc(out, '%');
            lsh_buf_addc(out, hex[c >> 4]);
            lsh_buf_addc(out, hex[c & 15]);
        }
    }
}

static int lsh_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static char *lsh_ckpt_unescape(const char *s)
{
    struct lsh_buf out = LSH_BUF_INIT;

    for (; *s != '\0'; s++) {
        if (*s == '%') {
            int hi = lsh_hexval(s[1]);
            int lo = hi < 0 ? -1 : lsh_hexval(s[2]);

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                lsh_buf_release(&out);
                return NULL;
            }
            lsh_buf_addc(&out, (char)(hi * 16 + lo));
            s += 2;
        } else if (lsh_ckpt_plain((unsigned char)*s)) {
            lsh_buf_addc(&out, *s);
        } else {
            lsh_buf_release(&out);
            return NULL;
        }
    }
    if (out.len == 0) {
        return NULL;
    }
    return lsh_buf_detach(&out, NULL);
}

struct lsh_ckpt_emit {
    struct lsh_buf *out;
    size_t          n;
};

static void lsh_ckpt_emit_entry(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;
    struct lsh_ckpt_emit  *em = arg;

    lsh_buf_addf(em->out,
                 "%" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32 " %016" PRIx64
                 " %" PRIu64 " %" PRIu32 " %016" PRIx64 " %" PRId64 " ",
                 e->dev, e->ino, e->flags, e->fp_len, e->fp_hash, e->offset,
                 e->end_len, e->end_hash, e->seen);
    lsh_ckpt_escape(em->out, e->path);
    lsh_buf_addc(em->out, '\n');
    em->n++;
}

/* Reads a decimal number and the space after it; false if there is none. */
static bool lsh_ckpt_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t    v = 0;

    if (*s < '0' || *s > '9') {
        return false;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s != ' ') {
        return false;
    }
    *p = s + 1;
    *out = v;
    return true;
}

/* Reads exactly 16 lowercase hex digits and the space after them. */
static bool lsh_ckpt_hex64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t    v = 0;
    int         i;

    for (i = 0; i < 16; i++) {
        int d = lsh_hexval(s[i]);

        if (d < 0) {
            return false;
        }
        v = v << 4 | (uint64_t)d;
    }
    if (s[16] != ' ') {
        return false;
    }
    *p = s + 17;
    *out = v;
    return true;
}

/*
 * Parses one entry line (NUL-terminated) of format version v; NULL if it
 * is malformed.  Version 1 entries were seen when they are loaded.
 */
static struct lsh_ckpt_entry *lsh_ckpt_parse_entry(const char *line, int v)
{
    struct lsh_ckpt_entry e;
    const char           *p = line;
    uint64_t              flags = 0;
    uint64_t              fp_len;
    uint64_t              end_len = 0;
    uint64_t              seen;
    char                 *path;

    memset(&e, 0, sizeof(e));
    e.seen = lsh_ckpt_now();
    if (!lsh_ckpt_num(&p, &e.dev) || !lsh_ckpt_num(&p, &e.ino)) {
        return NULL;
    }
    if (v == 2 && !lsh_ckpt_num(&p, &flags)) {
        return NULL;
    }
    if (!lsh_ckpt_num(&p, &fp_len) || !lsh_ckpt_hex64(&p, &e.fp_hash) ||
        !lsh_ckpt_num(&p, &e.offset)) {
        return NULL;
    }
    if (v == 2) {
        if (!lsh_ckpt_num(&p, &end_len) || !lsh_ckpt_hex64(&p, &e.end_hash) ||
            !lsh_ckpt_num(&p, &seen) || seen > (uint64_t)INT64_MAX) {
            return NULL;
        }
        e.seen = (int64_t)seen;
    }
    if (fp_len > 1024 * 1024 || end_len > LSH_CKPT_END_BYTES ||
        end_len > e.offset || (flags & ~(uint64_t)LSH_CKPT_GZ) != 0) {
        return NULL;
    }
    path = lsh_ckpt_unescape(p);
    if (path == NULL || path[0] != '/') {
        free(path);
        return NULL;
    }
    e.flags = (uint32_t)flags;
    e.fp_len = (uint32_t)fp_len;
    e.end_len = (uint32_t)end_len;
    e.path = path;
    return lsh_memdup(&e, sizeof(e));
}

/* Splits off the next line of text[*pos..len); NULL at the end. */
static char *lsh_ckpt_next_line(char *text, size_t len, size_t *pos)
{
    char *start = text + *pos;
    char *nl;

    if (*pos >= len) {
        return NULL;
    }
    nl = memchr(start, '\n', len - *pos);
    if (nl == NULL) {
        return NULL; /* a last line without newline: truncated */
    }
    *nl = '\0';
    *pos = (size_t)(nl - text) + 1;
    return start;
}

static int lsh_ckpt_corrupt(struct lsh_ckpt *ck, struct lsh_buf *err, int line,
                            const char *why)
{
    lsh_buf_addf(err,
                 "corrupt checkpoint file '%s' (line %d: %s); logship will "
                 "not guess where to resume. To start again without it, "
                 "move it aside: files are then read from their "
                 "read_from position (see docs/checkpoints.md)",
                 lsh_ckpt_path(ck), line, why);
    return LSH_EINVAL;
}

/*
 * Version 1 kept one entry per inode: two are a damaged file.  Version 2
 * may hold several, even with the same first bytes (a file truncated to
 * empty, and its old content waiting for acknowledgements).
 */
static bool lsh_ckpt_twin(struct lsh_ckpt *ck, const struct lsh_ckpt_entry *e,
                          int v)
{
    return v == 1 && lsh_ckpt_first(ck, e->dev, e->ino) != NULL;
}

int lsh_ckpt_parse_text(struct lsh_ckpt *ck, char *text, size_t len,
                        struct lsh_buf *err)
{
    size_t                 pos = 0;
    char                  *line;
    int                    lineno = 1;
    int                    v;
    size_t                 body_end;
    unsigned long          count;
    unsigned long long     crc;
    int                    tail = 0;
    struct lsh_ckpt_entry *e;

    line = lsh_ckpt_next_line(text, len, &pos);
    if (line != NULL && strcmp(line, LSH_CKPT_MAGIC) == 0) {
        v = 2;
    } else if (line != NULL && strcmp(line, LSH_CKPT_MAGIC_V1) == 0) {
        v = 1;
    } else {
        return lsh_ckpt_corrupt(ck, err, 1, "not a logship checkpoint file");
    }
    for (;;) {
        body_end = pos;
        lineno++;
        line = lsh_ckpt_next_line(text, len, &pos);
        if (line == NULL) {
            return lsh_ckpt_corrupt(ck, err, lineno,
                                    "truncated: no 'end' line");
        }
        if (strncmp(line, "end ", 4) == 0) {
            break;
        }
        e = lsh_ckpt_parse_entry(line, v);
        if (e == NULL) {
            return lsh_ckpt_corrupt(ck, err, lineno, "malformed entry");
        }
        lsh_ckpt_entry_free(e);
    }
    if (sscanf(line, "end %lu %8llx%n", &count, &crc, &tail) != 2 ||
        line[tail] != '\0' || pos != len) {
        return lsh_ckpt_corrupt(ck, err, lineno, "malformed 'end' line");
    }
    if (count != (unsigned long)(lineno - 2)) {
        return lsh_ckpt_corrupt(ck, err, lineno, "entry count does not match");
    }
    /* the entry lines had their '\n' replaced: restore them for the CRC */
    for (pos = 0; pos < body_end; pos++) {
        if (text[pos] == '\0') {
            text[pos] = '\n';
        }
    }
    if (lsh_crc32(0, text, body_end) != (uint32_t)crc) {
        return lsh_ckpt_corrupt(ck, err, lineno, "CRC mismatch");
    }
    pos = 0;
    lineno = 1;
    lsh_ckpt_next_line(text, len, &pos);
    while ((line = lsh_ckpt_next_line(text, body_end, &pos)) != NULL) {
        lineno++;
        e = lsh_ckpt_parse_entry(line, v);
        if (lsh_ckpt_twin(ck, e, v)) {
            lsh_ckpt_entry_free(e);
            return lsh_ckpt_corrupt(ck, err, lineno, "the same file twice");
        }
        lsh_ckpt_insert(ck, e);
    }
    ck->dirty = v != 2; /* an old version is written back as the new one */
    return LSH_OK;
}

static int lsh_ckpt_unreadable(struct lsh_ckpt *ck, struct lsh_buf *err,
                               const char *why)
{
    lsh_buf_addf(err,
                 "cannot read checkpoint file '%s': %s (an I/O problem, not "
                 "a corrupt file: fix the disk or permissions and start "
                 "again)",
                 ck->path, why);
    return LSH_ERR;
}

static int lsh_ckpt_load(struct lsh_ckpt *ck, struct lsh_buf *err)
{
    struct stat st;
    char       *text;
    char        why[128];
    int         fd = open(ck->path, O_RDONLY | O_CLOEXEC);
    ssize_t     n = 0;
    size_t      got = 0;
    int         rc;

    if (fd < 0) {
        if (errno == ENOENT) {
            return LSH_OK;
        }
        return lsh_ckpt_unreadable(ck, err, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return lsh_ckpt_unreadable(ck, err, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lsh_ckpt_unreadable(ck, err, "not a regular file");
    }
    if (st.st_size > (off_t)LSH_CKPT_MAX_SIZE) {
        close(fd);
        return lsh_ckpt_corrupt(ck, err, 0, "larger than 256 MiB");
    }
    text = lsh_malloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        n = read(fd, text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    if (n < 0) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
    } else {
        snprintf(why, sizeof(why), "short read (%zu of %lld bytes)", got,
                 (long long)st.st_size);
    }
    close(fd);
    if (got < (size_t)st.st_size) {
        free(text);
        return lsh_ckpt_unreadable(ck, err, why);
    }
    text[got] = '\0';
    rc = lsh_ckpt_parse_text(ck, text, got, err);
    free(text);
    return rc;
}

struct lsh_ckpt *lsh_ckpt_new_memory(void)
{
    struct lsh_ckpt *ck = lsh_calloc(1, sizeof(*ck));

    lsh_hmap_init(&ck->entries);
    return ck;
}

int lsh_ckpt_open(struct lsh_ckpt **out, const char *dir, const char *name,
                  struct lsh_buf *err)
{
    struct lsh_ckpt *ck = lsh_ckpt_new_memory();
    struct lsh_buf   b = LSH_BUF_INIT;
    int              rc;

    lsh_buf_addf(&b, "%s/%s.ckpt", dir, name);
    ck->path = lsh_buf_detach(&b, NULL);
    lsh_buf_addf(&b, "%s/.%s.ckpt.tmp", dir, name);
    ck->tmp = lsh_buf_detach(&b, NULL);
    ck->dir = lsh_strdup(dir);
    rc = lsh_ckpt_load(ck, err);
    if (rc != LSH_OK) {
        lsh_ckpt_close(ck);
        return rc;
    }
    *out = ck;
    return LSH_OK;
}

static void lsh_ckpt_free_each(struct lsh_hnode *n, void *arg)
{
    (void)arg;
    lsh_ckpt_entry_free((struct lsh_ckpt_entry *)n);
}

void lsh_ckpt_close(struct lsh_ckpt *ck)
{
    if (ck == NULL) {
        return;
    }
    lsh_hmap_each(&ck->entries, lsh_ckpt_free_each, NULL);
    lsh_hmap_release(&ck->entries);
    free(ck->path);
    free(ck->tmp);
    free(ck->dir);
    free(ck);
}

static int lsh_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return LSH_ERR;
        }
        p += w;
        n -= (size_t)w;
    }
    return LSH_OK;
}

static int lsh_ckpt_fail(struct lsh_ckpt *ck, const char *what)
{
    /* the first failure loudly, then every 60th (every minute or so) */
    if (ck->failures++ % 60 == 0) {
        lsh_error("cannot write checkpoint '%s': %s: %s (%llu failures; "
                  "delivery goes on, a restart would resend more)",
                  ck->path, what, strerror(errno),
                  (unsigned long long)ck->failures);
    }
    return LSH_ERR;
}

/* Makes the rename durable: fsync of the directory that holds it. */
static int lsh_ckpt_sync_dir(struct lsh_ckpt *ck)
{
    int dfd = open(ck->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (dfd < 0) {
        return LSH_ERR;
    }
    rc = fsync(dfd);
    if (close(dfd) != 0 || rc != 0) {
        return LSH_ERR;
    }
    return LSH_OK;
}

void lsh_ckpt_format(struct lsh_ckpt *ck, struct lsh_buf *text)
{
    struct lsh_ckpt_emit em = {text, 0};
    size_t               start = text->len;

    lsh_buf_adds(text, LSH_CKPT_MAGIC "\n");
    lsh_hmap_each(&ck->entries, lsh_ckpt_emit_entry, &em);
    lsh_buf_addf(text, "end %zu %08" PRIx32 "\n", em.n,
                 lsh_crc32(0, text->ptr + start, text->len - start));
}

int lsh_ckpt_save(struct lsh_ckpt *ck)
{
    struct lsh_buf text = LSH_BUF_INIT;
    int            fd;
    int            rc = LSH_ERR;

    if (!ck->dirty || ck->path == NULL) {
        return LSH_OK;
    }
    lsh_ckpt_format(ck, &text);
    fd = open(ck->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = lsh_ckpt_fail(ck, "open");
        goto out;
    }
    if (lsh_write_all(fd, text.ptr, text.len) != LSH_OK || fsync(fd) != 0) {
        close(fd);
        rc = lsh_ckpt_fail(ck, "write");
        goto out;
    }
    if (close(fd) != 0) { /* NFS reports write errors here */
        rc = lsh_ckpt_fail(ck, "close");
        goto out;
    }
    if (rename(ck->tmp, ck->path) != 0) {
        rc = lsh_ckpt_fail(ck, "rename");
        goto out;
    }
    if (lsh_ckpt_sync_dir(ck) != LSH_OK) {
        rc = lsh_ckpt_fail(ck, "fsync of the directory");
        goto out;
    }
    ck->dirty = false;
    ck->writes++;
    rc = LSH_OK;
out:
    lsh_buf_release(&text);
    return rc;
}
