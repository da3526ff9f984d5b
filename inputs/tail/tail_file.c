/*
 * tail input: one followed file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "tail.h"

/*
 * For read_from: tail, the offset just after the last newline before the
 * end, so a line being written when logship starts is read whole.
 */
static off_t in_tail_file_tail_offset(int fd, off_t size)
{
    char  buf[4096];
    off_t end = size;

    while (end > 0) {
        off_t   start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
        ssize_t n = pread(fd, buf, (size_t)(end - start), start);

        if (n <= 0) {
            break;
        }
        while (n > 0) {
            if (buf[n - 1] == '\n') {
                return start + n;
            }
            n--;
        }
        if (size - start > (off_t)(1 << 20)) {
            break; /* no newline in the last MiB: start at the end */
        }
        end = start;
    }
    return end == 0 ? 0 : size;
}

int in_tail_file_open(struct in_tail *t, const char *path)
{
    const struct in_tail_conf *c = t->conf;
    struct in_tail_file       *f;
    struct stat                st;
    off_t                      start = 0;
    int                        fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return lsh_ins_warn(t->ins, "cannot open '%s': %s", path,
                            strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lsh_ins_warn(t->ins, "'%s' is not a regular file; skipped",
                            path);
    }
    if (c->read_from == IN_TAIL_TAIL) {
        start = in_tail_file_tail_offset(fd, st.st_size);
    }
    f = lsh_calloc(1, sizeof(*f));
    f->tail = t;
    f->path = lsh_strdup(path);
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->wd = inotify_add_watch(t->ifd, path, IN_MODIFY);
    if (f->wd < 0) {
        lsh_ins_warn(t->ins, "cannot watch '%s': %s", path, strerror(errno));
    }
    lsh_reader_init(&f->reader, (uint64_t)start, (size_t)c->max_line_bytes,
                    c->on_long_line, c->strip_cr, NULL, f);
    if (lseek(fd, start, SEEK_SET) < 0) {
        lsh_ins_warn(t->ins, "lseek '%s': %s", path, strerror(errno));
    }
    f->readable = true;
    f->next = t->files;
    t->files = f;
    lsh_ins_info(t->ins, "following '%s' from offset %lld", path,
                 (long long)start);
    return LSH_OK;
}

void in_tail_file_close(struct in_tail_file *f)
{
    if (f->wd >= 0) {
        inotify_rm_watch(f->tail->ifd, f->wd);
    }
    close(f->fd);
    lsh_reader_release(&f->reader);
    free(f->path);
    free(f);
}

int in_tail_file_collect(struct in_tail_file *f, size_t *budget)
{
    size_t         chunk = (size_t)f->tail->conf->read_chunk;
    struct lsh_str path = lsh_str_make(f->path, strlen(f->path));

    while (f->readable) {
        int     emit_rc;
        ssize_t n;

        if (*budget == 0) {
            return LSH_EAGAIN;
        }
        n = lsh_reader_read(&f->reader, f->tail->ins, f->fd, chunk, path,
                            &emit_rc);
        if (n < 0) {
            lsh_ins_error(f->tail->ins, "read '%s': %s", f->path,
                          strerror(errno));
            f->readable = false;
            break;
        }
        /* a short read reached the end; inotify reports later writes */
        if ((size_t)n < chunk) {
            f->readable = false;
        }
        *budget -= LSH_MIN(*budget, (size_t)n);
        if (emit_rc == LSH_EAGAIN) {
            return LSH_EAGAIN;
        }
    }
    return LSH_OK;
}
