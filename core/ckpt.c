/*
 * The checkpoint store.
 */
#include "ckpt.h"

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

#define LSH_CKPT_MAGIC    "logship-checkpoint 1"
#define LSH_CKPT_MAX_SIZE (256u * 1024 * 1024)

struct lsh_ckpt {
    char           *path;
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

struct lsh_ckpt_entry *lsh_ckpt_find(struct lsh_ckpt *ck, uint64_t dev,
                                     uint64_t ino)
{
    uint64_t id[2] = {dev, ino};

    return (struct lsh_ckpt_entry *)lsh_hmap_find(
        &ck->entries, lsh_ckpt_hash(dev, ino), lsh_ckpt_eq, id);
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

struct lsh_ckpt_entry *lsh_ckpt_add(struct lsh_ckpt *ck, uint64_t dev,
                                    uint64_t ino, uint32_t fp_len,
                                    uint64_t fp_hash, const char *path,
                                    uint64_t offset)
{
    struct lsh_ckpt_entry *e = lsh_ckpt_find(ck, dev, ino);

    if (e != NULL) {
        lsh_ckpt_remove(ck, e);
    }
    e = lsh_calloc(1, sizeof(*e));
    e->dev = dev;
    e->ino = ino;
    e->fp_len = fp_len;
    e->fp_hash = fp_hash;
    e->offset = offset;
    e->path = lsh_strdup(path);
    e->claimed = true;
    lsh_hmap_insert(&ck->entries, &e->node, lsh_ckpt_hash(dev, ino));
    ck->dirty = true;
    return e;
}

void lsh_ckpt_set_offset(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                         uint64_t offset)
{
    if (e->offset != offset) {
        e->offset = offset;
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

const char *lsh_ckpt_path(const struct lsh_ckpt *ck)
{
    return ck->path;
}

struct lsh_ckpt_visit {
    void (*fn)(struct lsh_ckpt_entry *, void *);
    void *arg;
};

static void lsh_ckpt_visit_unclaimed(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_visit *v = arg;
    struct lsh_ckpt_entry *e = (struct lsh_ckpt_entry *)n;

    if (!e->claimed) {
        v->fn(e, v->arg);
    }
}

void lsh_ckpt_each_unclaimed(struct lsh_ckpt *ck,
                             void (*fn)(struct lsh_ckpt_entry *, void *),
                             void *arg)
{
    struct lsh_ckpt_visit v = {fn, arg};

    lsh_hmap_each(&ck->entries, lsh_ckpt_visit_unclaimed, &v);
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
                 "%" PRIu64 " %" PRIu64 " %" PRIu32 " %016" PRIx64 " %" PRIu64
                 " ",
                 e->dev, e->ino, e->fp_len, e->fp_hash, e->offset);
    lsh_ckpt_escape(em->out, e->path);
    lsh_buf_addc(em->out, '\n');
    em->n++;
}

/* Parses one entry line (NUL-terminated); NULL if it is malformed. */
static struct lsh_ckpt_entry *lsh_ckpt_parse_entry(char *line)
{
    struct lsh_ckpt_entry *e;
    unsigned long long     dev;
    unsigned long long     ino;
    unsigned long          fp_len;
    unsigned long long     fp_hash;
    unsigned long long     off;
    int                    pos = 0;
    char                  *path;

    if (sscanf(line, "%llu %llu %lu %16llx %llu %n", &dev, &ino, &fp_len,
               &fp_hash, &off, &pos) != 5 ||
        pos == 0 || fp_len > 1024 * 1024) {
        return NULL;
    }
    path = lsh_ckpt_unescape(line + pos);
    if (path == NULL || path[0] != '/') {
        free(path);
        return NULL;
    }
    e = lsh_calloc(1, sizeof(*e));
    e->dev = dev;
    e->ino = ino;
    e->fp_len = (uint32_t)fp_len;
    e->fp_hash = fp_hash;
    e->offset = off;
    e->path = path;
    return e;
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
                 ck->path, line, why);
    return LSH_EINVAL;
}

/* Parses the whole file; text is modified. */
static int lsh_ckpt_parse(struct lsh_ckpt *ck, char *text, size_t len,
                          struct lsh_buf *err)
{
    size_t                 pos = 0;
    char                  *line;
    int                    lineno = 1;
    size_t                 body_end;
    unsigned long          count;
    unsigned long long     crc;
    int                    tail = 0;
    struct lsh_ckpt_entry *e;

    line = lsh_ckpt_next_line(text, len, &pos);
    if (line == NULL || strcmp(line, LSH_CKPT_MAGIC) != 0) {
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
        e = lsh_ckpt_parse_entry(line);
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
    lsh_ckpt_next_line(text, len, &pos);
    while ((line = lsh_ckpt_next_line(text, body_end, &pos)) != NULL) {
        e = lsh_ckpt_parse_entry(line);
        if (lsh_ckpt_find(ck, e->dev, e->ino) != NULL) {
            lsh_ckpt_entry_free(e);
            return lsh_ckpt_corrupt(ck, err, 0, "the same file twice");
        }
        lsh_hmap_insert(&ck->entries, &e->node, lsh_ckpt_hash(e->dev, e->ino));
    }
    return LSH_OK;
}

static int lsh_ckpt_load(struct lsh_ckpt *ck, struct lsh_buf *err)
{
    struct stat st;
    char       *text;
    int         fd = open(ck->path, O_RDONLY | O_CLOEXEC);
    ssize_t     n;
    size_t      got = 0;
    int         rc;

    if (fd < 0) {
        if (errno == ENOENT) {
            return LSH_OK;
        }
        lsh_buf_addf(err, "cannot read checkpoint file '%s': %s", ck->path,
                     strerror(errno));
        return LSH_ERR;
    }
    if (fstat(fd, &st) != 0 || st.st_size > (off_t)LSH_CKPT_MAX_SIZE) {
        close(fd);
        lsh_buf_addf(err, "checkpoint file '%s' is too large", ck->path);
        return LSH_EINVAL;
    }
    text = lsh_malloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size &&
           (n = read(fd, text + got, (size_t)st.st_size - got)) > 0) {
        got += (size_t)n;
    }
    close(fd);
    text[got] = '\0';
    rc = lsh_ckpt_parse(ck, text, got, err);
    free(text);
    return rc;
}

int lsh_ckpt_open(struct lsh_ckpt **out, const char *dir, const char *name,
                  struct lsh_buf *err)
{
    struct lsh_ckpt *ck = lsh_calloc(1, sizeof(*ck));
    struct lsh_buf   b = LSH_BUF_INIT;
    int              rc;

    lsh_buf_addf(&b, "%s/%s.ckpt", dir, name);
    ck->path = lsh_buf_detach(&b, NULL);
    lsh_buf_addf(&b, "%s/.%s.ckpt.tmp", dir, name);
    ck->tmp = lsh_buf_detach(&b, NULL);
    ck->dir = lsh_strdup(dir);
    lsh_hmap_init(&ck->entries);
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

int lsh_ckpt_save(struct lsh_ckpt *ck)
{
    struct lsh_buf       text = LSH_BUF_INIT;
    struct lsh_ckpt_emit em = {&text, 0};
    int                  fd;
    int                  dfd;
    int                  rc = LSH_ERR;

    if (!ck->dirty) {
        return LSH_OK;
    }
    lsh_buf_adds(&text, LSH_CKPT_MAGIC "\n");
    lsh_hmap_each(&ck->entries, lsh_ckpt_emit_entry, &em);
    lsh_buf_addf(&text, "end %zu %08" PRIx32 "\n", em.n,
                 lsh_crc32(0, text.ptr, text.len));
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
    close(fd);
    if (rename(ck->tmp, ck->path) != 0) {
        rc = lsh_ckpt_fail(ck, "rename");
        goto out;
    }
    dfd = open(ck->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* makes the rename itself durable */
        close(dfd);
    }
    ck->dirty = false;
    ck->writes++;
    rc = LSH_OK;
out:
    lsh_buf_release(&text);
    return rc;
}
