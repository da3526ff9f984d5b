/*
 * JSON encoding of strings, values and whole records.
 *
 * Strings: '"' and '\\' are escaped, control characters below 0x20
 * become \b \f \n \r \t or \u00XX (so NUL is \u0000), well-formed UTF-8
 * passes through unchanged, and each ill-formed UTF-8 subsequence
 * (the "maximal subpart" of Unicode 15, section 3.9) becomes one U+FFFD.
 * The output is therefore always valid UTF-8 and valid JSON.  Use
 * format "raw" to ship bytes exactly as read.
 */
#ifndef LSH_JSON_H
#define LSH_JSON_H

#include "buf.h"
#include "record.h"

/* Appends p[0..n) as a quoted JSON string. */
void lsh_json_str(struct lsh_buf *out, const char *p, size_t n);

/* Appends v as JSON; NaN and infinities become null. */
void lsh_json_value(struct lsh_buf *out, const struct lsh_value *v);

/* How "time" is written in JSON records. */
enum lsh_time_format {
    LSH_TF_RFC3339_MS, /* "2026-11-23T10:00:00.123Z" */
    LSH_TF_RFC3339_US, /* "2026-11-23T10:00:00.123456Z" */
    LSH_TF_RFC3339_NS, /* "2026-11-23T10:00:00.123456789Z" */
    LSH_TF_EPOCH,      /* 1795428000.123456789 */
    LSH_TF_EPOCH_MS,   /* 1795428000123 */
    LSH_TF_EPOCH_NS,   /* 1795428000123456789 */
};

/* Names of the formats above, for option tables; NULL-terminated. */
extern const char *const lsh_time_format_names[];

/*
 * Appends the record as one JSON object: "time" (RFC 3339, milliseconds,
 * UTC), "body" (unless removed), "path" (unless the source has none),
 * "host", then the named fields in order.  A field named time, body, path
 * or host takes the place of the built-in value.
 */
void lsh_json_record(struct lsh_buf *out, const struct lsh_batch *b,
                     const struct lsh_record *r, struct lsh_str host);

/* The same, with time written as tf says. */
void lsh_json_record_tf(struct lsh_buf *out, const struct lsh_batch *b,
                        const struct lsh_record *r, struct lsh_str host,
                        enum lsh_time_format tf);

/* Appends the time ns in format tf (JSON: quoted when a string). */
void lsh_json_time(struct lsh_buf *out, int64_t ns, enum lsh_time_format tf);

#define LSH_RFC3339_MS_LEN 24 /* 2026-11-24T02:32:45.612Z */

/* Writes ns as RFC 3339 UTC with milliseconds; returns the length (24). */
size_t lsh_time_rfc3339_ms(int64_t ns, char out[LSH_RFC3339_MS_LEN + 1]);

/*
 * Appends JSON text (already well-formed, e.g. a nested value a parser
 * checked) with each ill-formed UTF-8 sequence replaced by U+FFFD, so that
 * the output is valid UTF-8 too.
 */
void lsh_json_raw(struct lsh_buf *out, const char *s, size_t n);

/* Length of the well-formed UTF-8 sequence at p, or 0 if ill-formed. */
size_t lsh_utf8_seq(const unsigned char *p, const unsigned char *end,
                    size_t *skip);

#endif
