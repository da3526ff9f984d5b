/*
 * Parsing timestamps into nanoseconds since the epoch (UTC).
 *
 * Formats:
 *   iso8601   2026-11-23T10:00:00.123456789Z, with 'T' or a space, an
 *             optional fraction (up to nanoseconds), and Z, +hh:mm, +hhmm
 *             or no zone (then UTC);
 *   epoch     seconds, with an optional fraction (1795428000.123);
 *   epoch_ms, epoch_us, epoch_ns  integer (or fractional) multiples;
 *   anything else is a strptime(3) format, where %f stands for a
 *             fraction of a second (digits, kept to the nanosecond); a
 *             format without a year (syslog's "Dec 31 23:59:58") takes the
 *             year, of the last, this and the next, that puts the time
 *             nearest to now, as syslog readers do.
 * Strictly: a day the month does not have (2024-02-31), an offset beyond
 * +-23:59, or a time outside what int64 nanoseconds hold (1677-09-21 to
 * 2262-04-11, epoch values included) is an error, never a guess.
 */
#ifndef LSH_TIMEPARSE_H
#define LSH_TIMEPARSE_H

#include "lsh.h"

enum lsh_timefmt_kind {
    LSH_TIME_ISO8601,
    LSH_TIME_EPOCH,
    LSH_TIME_EPOCH_MS,
    LSH_TIME_EPOCH_US,
    LSH_TIME_EPOCH_NS,
    LSH_TIME_STRPTIME,
};

struct lsh_timefmt {
    enum lsh_timefmt_kind kind;
    char                  before[64]; /* strptime: the format up to %f */
    char                  after[64];  /* and after it */
    bool                  has_frac;
    bool                  has_year; /* strptime: the format names a year */
};

/* Returns LSH_OK, or LSH_EINVAL with a static message in *err. */
int lsh_timefmt_compile(struct lsh_timefmt *f, const char *spec,
                        const char **err);

/* Parses s[0..n) in the whole; returns LSH_OK or LSH_EINVAL. */
int lsh_time_parse(const struct lsh_timefmt *f, const char *s, size_t n,
                   int64_t *ns);

/* Just ISO 8601 (RFC 3339) as above. */
int lsh_time_parse_iso8601(const char *s, size_t n, int64_t *ns);

/* The same as lsh_time_parse(), with "now" given (for tests). */
int lsh_time_parse_at(const struct lsh_timefmt *f, const char *s, size_t n,
                      int64_t now_sec, int64_t *ns);

#endif
