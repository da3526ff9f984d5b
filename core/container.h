/*
 * Container runtime logs: decoding a line and joining partial lines.
 *
 * Docker json-file:  {"log":"text\n","stream":"stdout","time":"2026-...Z"}
 *   a "log" without its trailing "\n" is a partial line, joined with the
 *   lines after it on the same stream.
 * CRI (containerd, CRI-O):  2026-11-23T10:15:00.123456789Z stdout F text
 *   P marks a partial line, joined with the next parts until an F.
 * auto decides per file from its first line.
 *
 * A joined line obeys max_line_bytes and the tail's long-line rule.  A
 * line that does not decode (broken JSON, a bad CRI header) is kept as it
 * is, with an error, and counted: never dropped, never a stall.  stdout
 * and stderr are joined apart, as runtimes may interleave their parts.
 * While a partial line waits for its end, the checkpoint stays at its
 * first part.
 */
#ifndef LSH_CONTAINER_H
#define LSH_CONTAINER_H

#include "buf.h"
#include "framer.h"
#include "lsh.h"

enum lsh_ctr_format {
    LSH_CTR_RAW,
    LSH_CTR_DOCKER,
    LSH_CTR_CRI,
    LSH_CTR_AUTO,
};

enum lsh_ctr_stream {
    LSH_STREAM_STDOUT,
    LSH_STREAM_STDERR,
    LSH_STREAM_COUNT,
};

/* One decoded runtime line. */
struct lsh_cline {
    struct lsh_str msg;     /* the text, without the runtime's framing */
    int            stream;  /* enum lsh_ctr_stream */
    int64_t        time_ns; /* the runtime's timestamp */
    bool           partial; /* more of this line follows */
};

/*
 * Decodes a Docker json-file line.  msg may point into scratch (when the
 * text had escapes) or into line.  Returns LSH_OK or LSH_EINVAL with a
 * static reason in *err.
 */
int lsh_docker_decode(const char *line, size_t n, struct lsh_buf *scratch,
                      struct lsh_cline *out, const char **err);

/* Decodes a CRI line; msg points into line.  Returns as above. */
int lsh_cri_decode(const char *line, size_t n, struct lsh_cline *out,
                   const char **err);

/* What a joiner emits: a whole line, or a raw one that did not decode. */
struct lsh_cout {
    const char *text;
    size_t      len;
    unsigned    flags;   /* LSH_REC_TRUNCATED */
    int         stream;  /* -1 if unknown (a raw line) */
    int64_t     time_ns; /* 0 if unknown */
    const char *error;   /* NULL, or why the line did not decode */
    uint64_t    start;   /* source offset of its first part */
};

typedef void (*lsh_ctr_emit)(void *arg, const struct lsh_cout *o);

struct lsh_ctr_conf {
    int      format;  /* enum lsh_ctr_format */
    unsigned streams; /* bit per enum lsh_ctr_stream to keep */
    size_t   max_line;
    int      on_long; /* enum lsh_long_line */
};

struct lsh_ctr_pending {
    struct lsh_buf buf;
    bool           active;
    bool           dropping; /* the rest of a line too long to keep */
    bool           splitting;
    uint64_t       start;   /* source offset of its first part */
    int64_t        time_ns; /* of its first part */
    unsigned       flags;
};

struct lsh_ctr_stats {
    uint64_t lines;     /* whole lines emitted */
    uint64_t partials;  /* partial parts joined */
    uint64_t malformed; /* kept raw, with an error */
    uint64_t filtered;  /* on a stream not kept */
    uint64_t truncated;
    uint64_t skipped;
    uint64_t split;
};

/* Per file. */
struct lsh_ctr {
    const struct lsh_ctr_conf *conf;
    int                        format; /* decided (auto: by the first line) */
    struct lsh_ctr_pending     pend[LSH_STREAM_COUNT];
    struct lsh_buf             scratch;
    struct lsh_ctr_stats       s;
};

void lsh_ctr_init(struct lsh_ctr *c, const struct lsh_ctr_conf *conf);
void lsh_ctr_release(struct lsh_ctr *c);

/*
 * Feeds one runtime line that starts at source offset start; flags are
 * the framer's (LSH_REC_TRUNCATED if it cut the line).  A line kept raw
 * (format raw, or one that did not decode) obeys max_line and the
 * long-line rule like a joined one.
 */
void lsh_ctr_line(struct lsh_ctr *c, const char *line, size_t n, unsigned flags,
                  uint64_t start, lsh_ctr_emit emit, void *arg);

/* Emits the partial lines waiting, as they are (the file is finished). */
void lsh_ctr_flush(struct lsh_ctr *c, lsh_ctr_emit emit, void *arg);

/* Forgets the partial lines (the file was truncated). */
void lsh_ctr_reset(struct lsh_ctr *c);

/*
 * If a partial line waits, sets *start to the offset of the oldest one's
 * first part and returns true.
 */
bool lsh_ctr_pending_start(const struct lsh_ctr *c, uint64_t *start);

/* "stdout" and "stderr", by enum lsh_ctr_stream */
extern const struct lsh_str lsh_stream_names[LSH_STREAM_COUNT];

/* The enum lsh_ctr_stream named by p, or -1. */
int lsh_stream_of(const char *p, size_t n);

#endif
