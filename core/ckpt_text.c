/*
 * The checkpoint store's files: snapshot text, entry lines, loading and
 * writing the snapshot (see ckpt.h for the formats).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_int.h"
#include "log.h"
#include "mem.h"

#define LSH_CKPT_MAGIC_V1 "logship-checkpoint 1"
#define LSH_CKPT_MAGIC    "logship-checkpoint 2"
#define LSH_CKPT_MAX_SIZE (256u * 1024 * 1024)

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

/* Reads a decimal number, and the space after it unless it is the last. */
bool lsh__ckpt_num(const char **p, uint64_t *out, bool last)
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
    if (last ? *s != '\0' : *s != ' ') {
        return false;
    }
    *p = last ? s : s + 1;
    *out = v;
    return true;
}

/* Reads exactly 16 lowercase hex digits, and the space after them. */
bool lsh__ckpt_hex64(const char **p, uint64_t *out, bool last)
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
    if (last ? s[16] != '\0' : s[16] != ' ') {
        return false;
    }
    *p = last ? s + 16 : s + 17;
    *out = v;
    return true;
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

void lsh__ckpt_entry_text(struct lsh_buf *out, const struct lsh_ckpt_entry *e)
{
    lsh_buf_addf(out,
                 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32
                 " %016" PRIx64 " %" PRIu64 " %" PRIu32 " %016" PRIx64
                 " %" PRId64 " ",
                 e->id, e->dev, e->ino, e->flags, e->fp_len, e->fp_hash,
                 e->offset, e->end_len, e->end_hash, e->seen);
    lsh_ckpt_escape(out, e->path);
}

struct lsh_ckpt_entry *lsh__ckpt_parse_entry(const char *line, int v,
                                             uint64_t assign_id)
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
    e.id = assign_id;
    if (v == 2 && !lsh__ckpt_num(&p, &e.id, false)) {
        return NULL;
    }
    if (!lsh__ckpt_num(&p, &e.dev, false) ||
        !lsh__ckpt_num(&p, &e.ino, false)) {
        return NULL;
    }
    if (v == 2 && !lsh__ckpt_num(&p, &flags, false)) {
        return NULL;
    }
    if (!lsh__ckpt_num(&p, &fp_len, false) ||
        !lsh__ckpt_hex64(&p, &e.fp_hash, false) ||
        !lsh__ckpt_num(&p, &e.offset, false)) {
        return NULL;
    }
    if (v == 2) {
        if (!lsh__ckpt_num(&p, &end_len, false) ||
            !lsh__ckpt_hex64(&p, &e.end_hash, false) ||
            !lsh__ckpt_num(&p, &seen, false) || seen > (uint64_t)INT64_MAX) {
            return NULL;
        }
        e.seen = (int64_t)seen;
    }
    if (fp_len > 1024 * 1024 || end_len > LSH_CKPT_END_BYTES ||
        end_len > e.offset || (flags & ~(uint64_t)LSH_CKPT_FLAGS) != 0) {
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
    e.persisted = true;
    return lsh_memdup(&e, sizeof(e));
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
 * empty, and its old content waiting for acknowledgements); its ids are
 * unique.
 */
static bool lsh_ckpt_twin(struct lsh_ckpt *ck, const struct lsh_ckpt_entry *e,
                          int v)
{
    return v == 1 ? lsh_ckpt_first(ck, e->dev, e->ino) != NULL
                  : lsh__ckpt_by_id(ck, e->id) != NULL;
}

/* The header: its version, and (version 2) the generation. */
static int lsh_ckpt_header(const char *line, uint64_t *gen)
{
    const char *p;

    *gen = 0;
    if (strcmp(line, LSH_CKPT_MAGIC_V1) == 0) {
        return 1;
    }
    if (strncmp(line, LSH_CKPT_MAGIC " ", sizeof(LSH_CKPT_MAGIC)) != 0) {
        return 0;
    }
    p = line + sizeof(LSH_CKPT_MAGIC);
    return lsh__ckpt_num(&p, gen, true) ? 2 : 0;
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
    uint64_t               gen;
    struct lsh_ckpt_entry *e;

    line = lsh_ckpt_next_line(text, len, &pos);
    v = line != NULL ? lsh_ckpt_header(line, &gen) : 0;
    if (v == 0) {
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
        e = lsh__ckpt_parse_entry(line, v, 0);
        if (e == NULL) {
            return lsh_ckpt_corrupt(ck, err, lineno, "malformed entry");
        }
        lsh__ckpt_entry_free(e);
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
        e = lsh__ckpt_parse_entry(line, v, ck->next_id);
        if (lsh_ckpt_twin(ck, e, v)) {
            lsh__ckpt_entry_free(e);
            return lsh_ckpt_corrupt(ck, err, lineno, "the same file twice");
        }
        lsh__ckpt_insert(ck, e);
    }
    ck->gen = gen;
    ck->snapshot_due = v != 2; /* an old version is written back as new */
    return LSH_OK;
}

struct lsh_ckpt_emit {
    struct lsh_buf *out;
    size_t          n;
};

static void lsh_ckpt_emit_entry(struct lsh_hnode *n, void *arg)
{
    struct lsh_ckpt_emit *em = arg;

    lsh__ckpt_entry_text(em->out, (struct lsh_ckpt_entry *)n);
    lsh_buf_addc(em->out, '\n');
    em->n++;
}

static void lsh_ckpt_format_at(struct lsh_ckpt *ck, uint64_t gen,
                               struct lsh_buf *text)
{
    struct lsh_ckpt_emit em = {text, 0};
    size_t               start = text->len;

    lsh_buf_addf(text, LSH_CKPT_MAGIC " %" PRIu64 "\n", gen);
    lsh_hmap_each(&ck->entries, lsh_ckpt_emit_entry, &em);
    lsh_buf_addf(text, "end %zu %08" PRIx32 "\n", em.n,
                 lsh_crc32(0, text->ptr + start, text->len - start));
}

void lsh_ckpt_format(struct lsh_ckpt *ck, struct lsh_buf *text)
{
    lsh_ckpt_format_at(ck, ck->gen, text);
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

int lsh__ckpt_load(struct lsh_ckpt *ck, struct lsh_buf *err)
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
    ck->snapshot_bytes = got;
    free(text);
    return rc;
}

int lsh__ckpt_write_snapshot(struct lsh_ckpt *ck, uint64_t gen,
                             const char **what)
{
    struct lsh_buf text = LSH_BUF_INIT;
    int            fd;
    int            rc = LSH_ERR;

    lsh_ckpt_format_at(ck, gen, &text);
    fd = open(ck->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        *what = "open";
        goto out;
    }
    if (lsh_write_all(fd, text.ptr, text.len) != LSH_OK || fsync(fd) != 0) {
        close(fd);
        *what = "write";
        goto out;
    }
    if (close(fd) != 0) { /* NFS reports write errors here */
        *what = "close";
        goto out;
    }
    if (rename(ck->tmp, ck->path) != 0) {
        *what = "rename";
        goto out;
    }
    if (lsh_fsync_dir(ck->dir) != LSH_OK) {
        *what = "fsync of the directory";
        goto out;
    }
    ck->snapshot_bytes = text.len;
    ck->s.bytes += text.len;
    rc = LSH_OK;
out:
    lsh_buf_release(&text);
    return rc;
}

/* --- the owner's tag ----------------------------------------------------- */

/* <pipeline>.tag beside <pipeline>.ckpt (NULL for a store in memory). */
static const char *lsh_ckpt_tag_path(struct lsh_ckpt *ck)
{
    size_t n;

    if (ck->tag_path == NULL && ck->path != NULL) {
        n = strlen(ck->path);
        ck->tag_path = lsh_malloc(n + 8);
        memcpy(ck->tag_path, ck->path, n + 1);
        if (n > 5 && strcmp(ck->tag_path + n - 5, ".ckpt") == 0) {
            n -= 5;
        }
        memcpy(ck->tag_path + n, ".tag", 5);
    }
    return ck->tag_path;
}

void lsh__ckpt_load_tag(struct lsh_ckpt *ck)
{
    const char *path = lsh_ckpt_tag_path(ck);
    char        buf[512];
    ssize_t     n;
    int         fd;

    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0 && buf[n - 1] == '\n') {
        buf[n - 1] = '\0';
        ck->tag = lsh_strdup(buf);
    }
}

const char *lsh_ckpt_tag(const struct lsh_ckpt *ck)
{
    return ck->tag;
}

int lsh_ckpt_set_tag(struct lsh_ckpt *ck, const char *tag)
{
    const char    *path = lsh_ckpt_tag_path(ck);
    struct lsh_buf tmp = LSH_BUF_INIT;
    int            fd;
    int            rc = LSH_ERR;

    if ((tag == NULL && ck->tag == NULL) ||
        (tag != NULL && ck->tag != NULL && strcmp(tag, ck->tag) == 0)) {
        return LSH_OK;
    }
    if (path == NULL) {
        rc = LSH_OK;
    } else if (tag == NULL) {
        rc = unlink(path) == 0 || errno == ENOENT ? lsh_fsync_dir(ck->dir)
                                                  : LSH_ERR;
    } else {
        lsh_buf_addf(&tmp, "%s.tmp", path);
        fd = open(lsh_buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644);
        if (fd >= 0) {
            rc = lsh_write_all(fd, tag, strlen(tag)) == LSH_OK &&
                         lsh_write_all(fd, "\n", 1) == LSH_OK && fsync(fd) == 0
                     ? LSH_OK
                     : LSH_ERR;
            close(fd);
        }
        if (rc == LSH_OK && (rename(lsh_buf_cstr(&tmp), path) != 0 ||
                             lsh_fsync_dir(ck->dir) != LSH_OK)) {
            rc = LSH_ERR;
        }
    }
    lsh_buf_release(&tmp);
    if (rc != LSH_OK) {
        return lsh_error("cannot write '%s': %s", path, strerror(errno));
    }
    free(ck->tag);
    ck->tag = tag != NULL ? lsh_strdup(tag) : NULL;
    return LSH_OK;
}
