/*
 * Small helpers declared in lsh.h.
 */
#include <string.h>
#include <time.h>

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
