/*
 * Line framing.
 */
#include "framer.h"

#include <string.h>

#include "record.h"

void lsh_framer_init(struct lsh_framer *f, size_t max_line, int on_long,
                     bool strip_cr)
{
    memset(f, 0, sizeof(*f));
    f->max_line = max_line > 0 ? max_line : 1;
    f->on_long = on_long;
    f->strip_cr = strip_cr;
}

static void lsh_framer_line(struct lsh_framer *f, const char *p, size_t n,
                            unsigned flags, lsh_line_cb emit, void *arg)
{
    if (f->strip_cr && n > 0 && p[n - 1] == '\r') {
        n--;
    }
    f->lines++;
    emit(arg, p, n, flags);
}

/*
 * Handles the start of a line known to be longer than max_line: p[0..n)
 * are its bytes seen so far (n > max_line), nl tells whether p[n] is its
 * newline.  Returns the bytes consumed.
 */
static size_t lsh_framer_long(struct lsh_framer *f, const char *p, size_t n,
                              bool nl, lsh_line_cb emit, void *arg)
{
    switch (f->on_long) {
    case LSH_LONG_SPLIT:
        if (!f->splitting) {
            f->split++;
            f->splitting = true;
        }
        f->lines++;
        emit(arg, p, f->max_line, 0);
        return f->max_line;
    case LSH_LONG_SKIP:
        f->skipped++;
        break;
    default:
        f->truncated++;
        f->lines++;
        emit(arg, p, f->max_line, LSH_REC_TRUNCATED);
        break;
    }
    if (nl) {
        return n + 1;
    }
    f->discarding = true;
    return n;
}

size_t lsh_framer_run(struct lsh_framer *f, const char *data, size_t len,
                      lsh_line_cb emit, void *arg)
{
    size_t pos = 0;

    while (pos < len) {
        const char *start = data + pos;
        size_t      avail = len - pos;
        const char *nl = memchr(start, '\n', avail);
        size_t      n = nl ? (size_t)(nl - start) : avail;

        if (f->discarding) {
            if (nl == NULL) {
                return len;
            }
            f->discarding = false;
            pos += n + 1;
            continue;
        }
        if (n > f->max_line &&
            !(f->strip_cr && n == f->max_line + 1 && start[n - 1] == '\r')) {
            /* a '\r' that strip_cr will remove does not count */
            pos += lsh_framer_long(f, start, n, nl != NULL, emit, arg);
            continue;
        }
        if (nl == NULL) {
            break; /* incomplete line: the caller keeps it */
        }
        lsh_framer_line(f, start, n, 0, emit, arg);
        f->splitting = false;
        pos += n + 1;
    }
    return pos;
}

void lsh_framer_finish(struct lsh_framer *f, const char *data, size_t len,
                       lsh_line_cb emit, void *arg)
{
    if (f->discarding || len == 0) {
        f->discarding = false;
        f->splitting = false;
        return;
    }
    f->splitting = false;
    lsh_framer_line(f, data, len, 0, emit, arg);
}
