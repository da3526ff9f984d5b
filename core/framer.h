/*
 * Line framing: splits a byte stream into lines at '\n'.
 *
 * The caller keeps a buffer of unconsumed bytes, appends what it reads,
 * and calls lsh_framer_run().  Every complete line is passed to emit()
 * without its '\n' (and without a '\r' before it when strip_cr is set).
 * The return value says how many bytes from the start of the buffer are
 * finished with; the caller keeps the rest (an incomplete last line of at
 * most max_line bytes) and presents it again with more data after it.
 *
 * A line longer than max_line bytes is handled by on_long:
 *   truncate - emit its first max_line bytes (flag LSH_REC_TRUNCATED)
 *              and drop the rest up to its '\n';
 *   skip     - drop the whole line;
 *   split    - emit it in pieces of max_line bytes (the last piece is
 *              whatever is left before the '\n').
 * Each such line is counted once in its mode's counter.  The bytes of
 * an over-long line are consumed as they are seen, so the buffer never
 * needs more than max_line + 1 bytes for one line.
 */
#ifndef LSH_FRAMER_H
#define LSH_FRAMER_H

#include "lsh.h"

enum lsh_long_line {
    LSH_LONG_TRUNCATE,
    LSH_LONG_SKIP,
    LSH_LONG_SPLIT,
};

/* Called per line; flags are LSH_REC_* flags for the record. */
typedef void (*lsh_line_cb)(void *arg, const char *line, size_t len,
                            unsigned flags);

struct lsh_framer {
    size_t   max_line;
    int      on_long; /* enum lsh_long_line */
    bool     strip_cr;
    bool     discarding; /* dropping the rest of an over-long line */
    bool     splitting;  /* emitting pieces of an over-long line */
    uint64_t lines;      /* lines emitted (split pieces count each) */
    uint64_t truncated;
    uint64_t skipped;
    uint64_t split;
};

void lsh_framer_init(struct lsh_framer *f, size_t max_line, int on_long,
                     bool strip_cr);

/* Frames data[0..len); returns the number of bytes consumed. */
size_t lsh_framer_run(struct lsh_framer *f, const char *data, size_t len,
                      lsh_line_cb emit, void *arg);

/*
 * At end of input (stdin closed): emits data[0..len) as a last line if it
 * is not empty.  Files never call this: a partial line at their end
 * waits for its newline.
 */
void lsh_framer_finish(struct lsh_framer *f, const char *data, size_t len,
                       lsh_line_cb emit, void *arg);

#endif
