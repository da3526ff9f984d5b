/*
 * Multiline joining: continuation lines (a stack trace) are appended to
 * the line that started them, to form one record.
 *
 * A line matching start begins a record.  Other lines continue the
 * pending record, joined with '\n'.  A record ends when the next start
 * line arrives, when the caller flushes it (flush_after without new
 * lines, or the end of the source), or when adding a line would pass
 * max_lines or max_bytes: then it is emitted and the line begins a new
 * record (counted as split; nothing is dropped).  A continuation line
 * with no pending record is emitted alone.
 *
 * The pending record's first byte is at source offset ml->start; the
 * reader never lets a checkpoint pass it.
 */
#ifndef LSH_MULTILINE_H
#define LSH_MULTILINE_H

#include "buf.h"
#include "option.h"
#include "regex.h"

struct lsh_ml_conf {
    struct lsh_regex *start;
    int64_t           max_lines;
    int64_t           max_bytes;
    int64_t           flush_after_ms;
};

/* The option table of a "multiline:" map (a LSH_OPT_SUB). */
extern const struct lsh_option lsh_ml_options[];

/*
 * Called per record: its text and flags, and the time and tag (a stream)
 * given with its first line.
 */
typedef void (*lsh_ml_emit)(void *arg, const char *text, size_t len,
                            unsigned flags, int64_t time_ns, int tag);

struct lsh_ml {
    const struct lsh_ml_conf *conf;
    struct lsh_buf            group; /* the pending record */
    size_t                    nlines;
    uint64_t                  start;   /* source offset of its first line */
    int64_t                   time_ns; /* given with its first line */
    int                       tag;
    unsigned                  flags; /* LSH_REC_* of its lines */
    bool                      active;
    uint64_t                  records;    /* emitted */
    uint64_t                  joined;     /* continuation lines appended */
    uint64_t                  split;      /* records cut at a limit */
    uint64_t                  limit_hits; /* regex limits: taken as start */
};

void lsh_ml_init(struct lsh_ml *ml, const struct lsh_ml_conf *conf);
void lsh_ml_release(struct lsh_ml *ml);

/*
 * Feeds one line that starts at source offset start; time_ns and tag are
 * handed back with the record it starts.
 */
void lsh_ml_line(struct lsh_ml *ml, const char *line, size_t len,
                 unsigned flags, uint64_t start, int64_t time_ns, int tag,
                 lsh_ml_emit emit, void *arg);

/* Emits the pending record, if any. */
void lsh_ml_flush(struct lsh_ml *ml, lsh_ml_emit emit, void *arg);

#endif
