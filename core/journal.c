/*
 * The append-only journal.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

#define LSH_JOURNAL_MAGIC "logship-journal 1"
#define LSH_JOURNAL_MAX   (1024u * 1024 * 1024) /* read at most */

struct lsh_journal {
    char          *path;
    char          *tmp;
    char          *dir;
    int            fd;
    uint64_t       bytes;
    uint64_t       records;
    bool           dropped_tail;
    struct lsh_buf pending; /* records added, not committed */
};

static int lsh_journal_fail(struct lsh_buf *err, const char *path,
                            const char *what)
{
    lsh_buf_addf(err, "cannot %s checkpoint journal '%s': %s", what, path,
                 strerror(errno));
    return LSH_ERR;
}

static int lsh_journal_corrupt(struct lsh_buf *err, const char *path,
                               size_t line, const char *why)
{
    lsh_buf_addf(err,
                 "corrupt checkpoint journal '%s' (line %zu: %s); logship "
                 "will not guess where to resume. To start again without it, "
                 "move it aside with the checkpoint file beside it (see "
                 "docs/checkpoints.md)",
                 path, line, why);
    return LSH_EINVAL;
}

/* Splits "<record> <crc>"; returns the record's length, or -1 if bad. */
static ssize_t lsh_journal_check(const char *line, size_t len)
{
    unsigned long crc;
    char          hex[9];
    char         *end;

    if (len < 10 || line[len - 9] != ' ') {
        return -1;
    }
    memcpy(hex, line + len - 8, 8);
    hex[8] = '\0';
    crc = strtoul(hex, &end, 16);
    if (*end != '\0' || (uint32_t)crc != lsh_crc32(0, line, len - 9)) {
        return -1;
    }
    return (ssize_t)(len - 9);
}

/* Reads the whole file; *text NULL if there is none. */
static int lsh_journal_read(const char *path, char **text, size_t *len,
                            struct lsh_buf *err)
{
    struct stat st;
    int         fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t      got = 0;
    ssize_t     n = 0;

    *text = NULL;
    *len = 0;
    if (fd < 0) {
        return errno == ENOENT ? LSH_OK : lsh_journal_fail(err, path, "read");
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int saved = errno;

        if (fstat(fd, &st) == 0) {
            saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        }
        close(fd);
        errno = saved;
        return lsh_journal_fail(err, path, "read");
    }
    if (st.st_size > (off_t)LSH_JOURNAL_MAX) {
        close(fd);
        return lsh_journal_corrupt(err, path, 0, "larger than 1 GiB");
    }
    *text = lsh_malloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size &&
           ((n = read(fd, *text + got, (size_t)st.st_size - got)) > 0 ||
            (n < 0 && errno == EINTR))) {
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (got < (size_t)st.st_size) {
        free(*text);
        *text = NULL;
        if (n == 0) {
            errno = EIO; /* a short read */
        }
        return lsh_journal_fail(err, path, "read");
    }
    (*text)[got] = '\0';
    *len = got;
    return LSH_OK;
}

/* Checks the header; returns its length, or -1 if it is bad. */
static ssize_t lsh_journal_header(const char *text, size_t len, uint64_t *gen)
{
    const char        *nl = memchr(text, '\n', len);
    char               tail[2];
    unsigned long long g;

    if (nl == NULL || memchr(text, '\0', (size_t)(nl - text)) != NULL ||
        sscanf(text, LSH_JOURNAL_MAGIC " %llu%1[\n]", &g, tail) != 2) {
        return -1;
    }
    *gen = g;
    return nl - text + 1;
}

int lsh_journal_scan(const char *name, char *text, size_t len, uint64_t gen,
                     lsh_journal_apply_cb apply, void *arg,
                     struct lsh_journal_scan *out, struct lsh_buf *err)
{
    uint64_t jgen = 0;
    ssize_t  hlen;
    size_t   pos;
    size_t   line = 1;

    memset(out, 0, sizeof(*out));
    if (len == 0) {
        out->stale = true; /* nothing: start one */
        return LSH_OK;
    }
    hlen = lsh_journal_header(text, len, &jgen);
    if (hlen < 0) {
        return lsh_journal_corrupt(err, name, 1, "not a logship journal");
    }
    if (jgen > gen) {
        out->newer = true;
        return lsh_journal_corrupt(err, name, 1,
                                   "newer than its checkpoint file");
    }
    if (jgen < gen) {
        out->stale = true; /* the snapshot holds it already */
        return LSH_OK;
    }
    pos = (size_t)hlen;
    out->good = pos;
    while (pos < len) {
        char       *start = text + pos;
        char       *nl = memchr(start, '\n', len - pos);
        const char *why = "malformed record";
        ssize_t     rec;

        line++;
        if (nl == NULL) {
            out->dropped_tail = true; /* torn: the crash came mid-write */
            return LSH_OK;
        }
        rec = lsh_journal_check(start, (size_t)(nl - start));
        if (rec < 0 || memchr(start, '\0', (size_t)rec) != NULL) {
            if (nl + 1 == text + len) {
                out->dropped_tail = true; /* the last record, torn */
                return LSH_OK;
            }
            return lsh_journal_corrupt(err, name, line, "CRC mismatch");
        }
        start[rec] = '\0';
        if (apply(arg, start, &why) != LSH_OK) {
            return lsh_journal_corrupt(err, name, line, why);
        }
        out->records++;
        pos = (size_t)(nl - text) + 1;
        out->good = pos;
    }
    return LSH_OK;
}

int lsh_journal_load(const char *path, uint64_t gen, lsh_journal_apply_cb apply,
                     void *arg, struct lsh_journal_scan *scan,
                     struct lsh_buf *err)
{
    char  *text;
    size_t len;
    int    rc;

    memset(scan, 0, sizeof(*scan));
    rc = lsh_journal_read(path, &text, &len, err);
    if (rc == LSH_OK) {
        rc = lsh_journal_scan(path, text != NULL ? text : "", len, gen, apply,
                              arg, scan, err);
    }
    free(text);
    return rc;
}

int lsh_journal_open(struct lsh_journal **out, const char *path, uint64_t gen,
                     lsh_journal_apply_cb apply, void *arg, struct lsh_buf *err)
{
    struct lsh_journal     *j = lsh_calloc(1, sizeof(*j));
    struct lsh_buf          b = LSH_BUF_INIT;
    struct lsh_journal_scan scan;
    int                     rc;
    char                   *d;

    j->fd = -1;
    j->path = lsh_strdup(path);
    lsh_buf_addf(&b, "%s.tmp", path);
    j->tmp = lsh_buf_detach(&b, NULL);
    d = lsh_strdup(path);
    j->dir = lsh_strdup(dirname(d));
    free(d);
    rc = lsh_journal_load(path, gen, apply, arg, &scan, err);
    if (rc != LSH_OK) {
        goto fail;
    }
    j->records = scan.records;
    j->dropped_tail = scan.dropped_tail;
    if (scan.stale) {
        rc = lsh_journal_reset(j, gen);
        if (rc != LSH_OK) {
            rc = lsh_journal_fail(err, path, "create");
            goto fail;
        }
        *out = j;
        return LSH_OK;
    }
    /* appends follow the last whole record: a torn one is cut off */
    j->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (j->fd < 0 ||
        (scan.dropped_tail && ftruncate(j->fd, (off_t)scan.good) != 0) ||
        lseek(j->fd, (off_t)scan.good, SEEK_SET) < 0) {
        rc = lsh_journal_fail(err, path, "open");
        goto fail;
    }
    j->bytes = scan.good;
    *out = j;
    return LSH_OK;
fail:
    lsh_journal_close(j);
    return rc;
}

void lsh_journal_close(struct lsh_journal *j)
{
    if (j == NULL) {
        return;
    }
    if (j->fd >= 0) {
        close(j->fd);
    }
    lsh_buf_release(&j->pending);
    free(j->path);
    free(j->tmp);
    free(j->dir);
    free(j);
}

void lsh_journal_add(struct lsh_journal *j, const char *rec, size_t len)
{
    lsh_buf_add(&j->pending, rec, len);
    lsh_buf_addf(&j->pending, " %08" PRIx32 "\n", lsh_crc32(0, rec, len));
}

int lsh_journal_commit(struct lsh_journal *j)
{
    int saved;

    if (j->pending.len == 0) {
        return LSH_OK;
    }
    if (j->fd >= 0 &&
        lsh_write_all(j->fd, j->pending.ptr, j->pending.len) == LSH_OK &&
        fdatasync(j->fd) == 0) {
        j->bytes += j->pending.len;
        lsh_buf_reset(&j->pending);
        return LSH_OK;
    }
    saved = errno;
    lsh_buf_reset(&j->pending); /* the caller adds its records again */
    /*
     * A partial append must not stay in the middle of the file: records
     * after it would make the journal corrupt.  If it cannot be cut off,
     * nothing more is appended until a reset replaces the file.
     */
    if (j->fd >= 0 && (ftruncate(j->fd, (off_t)j->bytes) != 0 ||
                       lseek(j->fd, (off_t)j->bytes, SEEK_SET) < 0)) {
        close(j->fd);
        j->fd = -1;
    }
    errno = saved;
    return LSH_ERR;
}

int lsh_journal_reset(struct lsh_journal *j, uint64_t gen)
{
    char header[64];
    int n = snprintf(header, sizeof(header), LSH_JOURNAL_MAGIC " %" PRIu64 "\n",
                     gen);
    int fd;

    lsh_buf_reset(&j->pending); /* in the snapshot now */
    fd = open(j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

    if (fd < 0) {
        return LSH_ERR;
    }
    if (lsh_write_all(fd, header, (size_t)n) != LSH_OK || fsync(fd) != 0) {
        close(fd);
        return LSH_ERR;
    }
    if (rename(j->tmp, j->path) != 0 || lsh_fsync_dir(j->dir) != LSH_OK) {
        close(fd);
        return LSH_ERR;
    }
    if (j->fd >= 0) {
        close(j->fd);
    }
    j->fd = fd; /* the new file, at the end of its header */
    j->bytes = (uint64_t)n;
    return LSH_OK;
}

uint64_t lsh_journal_bytes(const struct lsh_journal *j)
{
    return j->bytes;
}

uint64_t lsh_journal_records(const struct lsh_journal *j)
{
    return j->records;
}

bool lsh_journal_dropped_tail(const struct lsh_journal *j)
{
    return j->dropped_tail;
}
