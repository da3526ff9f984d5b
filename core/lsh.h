/*
 * Common definitions shared by every part of logship: return codes,
 * small helpers and the string-slice type used across the core.
 */
#ifndef LSH_H
#define LSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LSH_OK     0
#define LSH_ERR    -1 /* failure, already logged */
#define LSH_EAGAIN -2 /* cannot proceed now; retry later */
#define LSH_EINVAL -3 /* invalid argument or input */

#define LSH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LSH_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define LSH_MAX(a, b)     ((a) > (b) ? (a) : (b))

#define lsh_likely(x)   __builtin_expect(!!(x), 1)
#define lsh_unlikely(x) __builtin_expect(!!(x), 0)

#define LSH_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* A byte range that does not own its memory; not NUL-terminated. */
struct lsh_str {
    const char *ptr;
    size_t      len;
};

#define LSH_STR_LIT(s) ((struct lsh_str){(s), sizeof(s) - 1})

static inline struct lsh_str lsh_str_make(const char *p, size_t n)
{
    struct lsh_str s = {p, n};
    return s;
}

bool lsh_str_eq(struct lsh_str a, struct lsh_str b);
bool lsh_str_eqz(struct lsh_str a, const char *z);

/* write(2) until all n bytes are written; LSH_OK or LSH_ERR (errno). */
int lsh_write_all(int fd, const void *p, size_t n);

/* Makes a rename or create in dir durable (fsync of the directory). */
int lsh_fsync_dir(const char *dir);

/*
 * Descriptors kept free for what is not a followed file: the outputs'
 * sockets (librdkafka connects on demand, and again after an outage), the
 * checkpoint files, the HTTP server.  An eighth of the open files limit,
 * at least 4 (a tiny limit leaves room for files too) and at most 512.
 * lsh_fd_reserved(fd) is true when fd, the lowest free descriptor just returned
 * by open(), leaves fewer free than that: every descriptor below it is in use.
 */
int  lsh_fd_reserve(void);
bool lsh_fd_reserved(int fd);

/* CRC-32 (IEEE), continuing from crc (0 to start). */
uint32_t lsh_crc32(uint32_t crc, const void *p, size_t n);

/* Monotonic and wall-clock time in nanoseconds. */
int64_t lsh_now_mono_ns(void);
int64_t lsh_now_real_ns(void);

/* The most bytes an end hash covers (see ticket.h and ckpt.h). */
#define LSH_END_BYTES 64

#define LSH_NS_PER_MS  1000000LL
#define LSH_NS_PER_SEC 1000000000LL

#endif
