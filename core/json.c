/*
 * JSON encoding.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

static const char lsh_hex[] = "0123456789abcdef";

/*
 * Checks the UTF-8 sequence starting at p (p[0] >= 0x80) against Unicode
 * table 3-7.  Returns its length if well-formed.  Otherwise returns 0 and
 * sets *skip to the length of the maximal subpart (at least 1).
 */
size_t lsh_utf8_seq(const unsigned char *p, const unsigned char *end,
                    size_t *skip)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    size_t        need;
    size_t        i;

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c == 0xe0) {
        need = 2;
        lo = 0xa0;
    } else if (c >= 0xe1 && c <= 0xef) {
        need = 2;
        if (c == 0xed) {
            hi = 0x9f; /* no surrogates */
        }
    } else if (c == 0xf0) {
        need = 3;
        lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) {
        need = 3;
    } else if (c == 0xf4) {
        need = 3;
        hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        *skip = 1;
        return 0;
    }
    for (i = 1; i <= need; i++) {
        if (p + i >= end || p[i] < lo || p[i] > hi) {
            *skip = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return need + 1;
}

static void lsh_json_escape(struct lsh_buf *out, unsigned char c)
{
    char e[6] = {'\\', 'u', '0', '0', 0, 0};

    switch (c) {
    case '"':
        lsh_buf_add(out, "\\\"", 2);
        return;
    case '\\':
        lsh_buf_add(out, "\\\\", 2);
        return;
    case '\b':
        lsh_buf_add(out, "\\b", 2);
        return;
    case '\f':
        lsh_buf_add(out, "\\f", 2);
        return;
    case '\n':
        lsh_buf_add(out, "\\n", 2);
        return;
    case '\r':
        lsh_buf_add(out, "\\r", 2);
        return;
    case '\t':
        lsh_buf_add(out, "\\t", 2);
        return;
    default:
        e[4] = lsh_hex[c >> 4];
        e[5] = lsh_hex[c & 0xf];
        lsh_buf_add(out, e, 6);
        return;
    }
}

/* Bytes copied as they are: printable ASCII but '"' and '\\'. */
static const unsigned char lsh_json_plain[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7f] = 1,
};

/*
 * True when none of the 8 bytes in x needs more than a copy: no control
 * character, no '"' or '\\', nothing from 0x80 up.  The "has a byte
 * less than" and "has a zero byte" tests are exact for the word as a
 * whole, which is all that is asked.
 */
static inline bool lsh_json_plain8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t       q = x ^ (ones * '"');
    uint64_t       bs = x ^ (ones * '\\');

    uint64_t hit =
        ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x;

    return (hit & high) == 0;
}

void lsh_json_str(struct lsh_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    const unsigned char *run = p;
    size_t               k;
    size_t               skip;

    lsh_buf_reserve(out, n + 2);
    lsh_buf_addc(out, '"');
    while (p < end) {
        unsigned char c;
        uint64_t      w;

        while (end - p >= 8) {
            memcpy(&w, p, 8);
            if (!lsh_json_plain8(w)) {
                break;
            }
            p += 8;
        }
        while (p < end && lsh_json_plain[*p]) {
            p++;
        }
        if (p == end) {
            break;
        }
        c = *p;
        if (c >= 0x80) {
            k = lsh_utf8_seq(p, end, &skip);
            if (k > 0) {
                p += k;
                continue;
            }
        }
        lsh_buf_add(out, run, (size_t)(p - run));
        if (c < 0x80) {
            lsh_json_escape(out, c);
            p++;
        } else {
            lsh_buf_add(out, "\xef\xbf\xbd", 3);
            p += skip;
        }
        run = p;
    }
    if (lsh_likely(run == (const unsigned char *)s)) {
        /* nothing escaped: the room reserved above holds it all */
        memcpy(out->ptr + out->len, s, n);
        out->ptr[out->len + n] = '"';
        out->len += n + 1;
        return;
    }
    lsh_buf_add(out, run, (size_t)(p - run));
    lsh_buf_addc(out, '"');
}

void lsh_json_raw(struct lsh_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    const unsigned char *run = p;
    size_t               k;
    size_t               skip;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        k = lsh_utf8_seq(p, end, &skip);
        if (k > 0) {
            p += k;
            continue;
        }
        lsh_buf_add(out, run, (size_t)(p - run));
        lsh_buf_add(out, "\xef\xbf\xbd", 3);
        p += skip;
        run = p;
    }
    lsh_buf_add(out, run, (size_t)(p - run));
}

void lsh_json_value(struct lsh_buf *out, const struct lsh_value *v)
{
    switch (v->type) {
    case LSH_V_STR:
        lsh_json_str(out, v->s.ptr, v->s.len);
        break;
    case LSH_V_INT:
        lsh_buf_add_i64(out, v->i);
        break;
    case LSH_V_FLOAT:
        if (isfinite(v->f)) {
            lsh_buf_addf(out, "%.17g", v->f);
        } else {
            lsh_buf_add(out, "null", 4);
        }
        break;
    case LSH_V_BOOL:
        lsh_buf_adds(out, v->b ? "true" : "false");
        break;
    case LSH_V_JSON:
        lsh_json_raw(out, v->s.ptr, v->s.len);
        break;
    case LSH_V_NULL:
    default:
        lsh_buf_add(out, "null", 4);
        break;
    }
}

/*
 * Formatting the date is the slow part, and consecutive records nearly
 * always share their second, so the "YYYY-MM-DDTHH:MM:SS" prefix of the
 * last second seen is kept per thread.
 */
size_t lsh_time_rfc3339_ms(int64_t ns, char out[LSH_RFC3339_MS_LEN + 1])
{
    static __thread int64_t cached_sec = INT64_MIN;
    static __thread char    cached[20];
    int64_t                 sec = ns / LSH_NS_PER_SEC;
    int64_t                 rem = ns % LSH_NS_PER_SEC;
    int                     ms;

    if (rem < 0) {
        rem += LSH_NS_PER_SEC;
        sec -= 1;
    }
    if (sec != cached_sec) {
        time_t    t = (time_t)sec;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    ms = (int)(rem / LSH_NS_PER_MS);
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return LSH_RFC3339_MS_LEN;
}

const char *const lsh_time_format_names[] = {
    "rfc3339_ms", "rfc3339_us", "rfc3339_ns", "epoch",
    "epoch_ms",   "epoch_ns",   NULL,
};

void lsh_json_time(struct lsh_buf *out, int64_t ns, enum lsh_time_format tf)
{
    char    ts[LSH_RFC3339_MS_LEN + 1];
    int64_t frac = ns % LSH_NS_PER_SEC;
    int64_t sec = ns / LSH_NS_PER_SEC;

    if (frac < 0) {
        frac += LSH_NS_PER_SEC;
        sec -= 1;
    }
    switch (tf) {
    case LSH_TF_RFC3339_US:
        lsh_time_rfc3339_ms(ns, ts);
        lsh_buf_addc(out, '"');
        lsh_buf_add(out, ts, 19);
        lsh_buf_addc(out, '.');
        lsh_buf_add_u64w(out, (uint64_t)(frac / 1000), 6);
        lsh_buf_add(out, "Z\"", 2);
        break;
    case LSH_TF_RFC3339_NS:
        lsh_time_rfc3339_ms(ns, ts);
        lsh_buf_addc(out, '"');
        lsh_buf_add(out, ts, 19);
        lsh_buf_addc(out, '.');
        lsh_buf_add_u64w(out, (uint64_t)frac, 9);
        lsh_buf_add(out, "Z\"", 2);
        break;
    case LSH_TF_EPOCH: {
        /* -0.5 s is "-0.500000000": sign, then the magnitude */
        uint64_t mag = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;

        if (ns < 0) {
            lsh_buf_addc(out, '-');
        }
        lsh_buf_add_u64w(out, mag / LSH_NS_PER_SEC, 1);
        lsh_buf_addc(out, '.');
        lsh_buf_add_u64w(out, mag % LSH_NS_PER_SEC, 9);
        break;
    }
    case LSH_TF_EPOCH_MS:
        lsh_buf_add_i64(out, sec * 1000 + frac / LSH_NS_PER_MS);
        break;
    case LSH_TF_EPOCH_NS:
        lsh_buf_add_i64(out, ns);
        break;
    default:
        lsh_buf_addc(out, '"');
        lsh_buf_add(out, ts, lsh_time_rfc3339_ms(ns, ts));
        lsh_buf_addc(out, '"');
        break;
    }
}

void lsh_json_record(struct lsh_buf *out, const struct lsh_batch *b,
                     const struct lsh_record *r, struct lsh_str host)
{
    lsh_json_record_tf(out, b, r, host, LSH_TF_RFC3339_MS);
}

void lsh_json_record_tf(struct lsh_buf *out, const struct lsh_batch *b,
                        const struct lsh_record *r, struct lsh_str host,
                        enum lsh_time_format tf)
{
    const struct lsh_field *over[LSH_B_COUNT] = {NULL, NULL, NULL, NULL};
    uint32_t                i;
    int                     k;

    for (i = 0; i < r->nfields; i++) {
        k = lsh_builtin(r->fields[i].name);
        if (k >= 0) {
            over[k] = &r->fields[i];
        }
    }
    lsh_buf_add(out, "{\"time\":", 8);
    if (over[LSH_B_TIME] != NULL) {
        lsh_json_value(out, &over[LSH_B_TIME]->v);
    } else {
        lsh_json_time(out, r->time_ns, tf);
    }
    if (over[LSH_B_BODY] != NULL) {
        lsh_buf_add(out, ",\"body\":", 8);
        lsh_json_value(out, &over[LSH_B_BODY]->v);
    } else if (!(r->flags & LSH_REC_NO_BODY)) {
        lsh_buf_add(out, ",\"body\":", 8);
        lsh_json_str(out, r->body.ptr, r->body.len);
    }
    if (over[LSH_B_PATH] != NULL) {
        lsh_buf_add(out, ",\"path\":", 8);
        lsh_json_value(out, &over[LSH_B_PATH]->v);
    } else if (b->path.len > 0 && !(r->flags & LSH_REC_NO_PATH)) {
        lsh_buf_add(out, ",\"path\":", 8);
        lsh_json_str(out, b->path.ptr, b->path.len);
    }
    if (over[LSH_B_HOST] != NULL) {
        lsh_buf_add(out, ",\"host\":", 8);
        lsh_json_value(out, &over[LSH_B_HOST]->v);
    } else if (!(r->flags & LSH_REC_NO_HOST)) {
        lsh_buf_add(out, ",\"host\":", 8);
        lsh_json_str(out, host.ptr, host.len);
    }
    for (i = 0; i < r->nfields; i++) {
        const struct lsh_field *f = &r->fields[i];

        if (f->name.len == 4 && lsh_builtin(f->name) >= 0) {
            continue; /* written above, in the built-in's place */
        }
        lsh_buf_addc(out, ',');
        lsh_json_str(out, f->name.ptr, f->name.len);
        lsh_buf_addc(out, ':');
        lsh_json_value(out, &f->v);
    }
    lsh_buf_addc(out, '}');
}
