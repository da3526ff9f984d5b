/*
 * Small helpers declared in lsh.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "lsh.h"

bool lsh_str_eq(struct lsh_str a, struct lsh_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool lsh_str_eqz(struct lsh_str a, const char *z)
{
    return lsh_str_eq(a, lsh_str_make(z, strlen(z)));
}

static int64_t lsh_clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * LSH_NS_PER_SEC + ts.tv_nsec;
}

int64_t lsh_now_mono_ns(void)
{
    return lsh_clock_ns(CLOCK_MONOTONIC);
}

int64_t lsh_now_real_ns(void)
{
    return lsh_clock_ns(CLOCK_REALTIME);
}

uint32_t lsh_crc32(uint32_t crc, const void *p, size_t n)
{
    const Bytef *s = p;

    /* zlib's CRC-32 (the one of gzip and PNG), fed in pieces it can count */
    while (n > 0) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;

        crc = (uint32_t)crc32(crc, s, piece);
        s += piece;
        n -= piece;
    }
    return crc;
}

int lsh_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return LSH_ERR;
        }
        s += w;
        n -= (size_t)w;
    }
    return LSH_OK;
}

static rlim_t lsh_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return 1 << 20;
    }
    return rl.rlim_cur;
}

int lsh_fd_reserve(void)
{
    rlim_t r = lsh_fd_limit() / 8;

    return (int)LSH_MIN(LSH_MAX(r, 4), 512);
}

bool lsh_fd_reserved(int fd)
{
    return (rlim_t)fd + (rlim_t)lsh_fd_reserve() >= lsh_fd_limit();
}

int lsh_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return LSH_ERR;
    }
    rc = fsync(fd);
    if (close(fd) != 0 || rc != 0) {
        return LSH_ERR;
    }
    return LSH_OK;
}
