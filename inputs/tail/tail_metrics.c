/*
 * tail input: its samples for /metrics and its files for
 * /api/v1/pipelines.
 *
 * Counters of lines are kept per file and summed into the input's when a
 * file is freed (tail_file.c); a scrape adds those of the files still
 * held, so that every count is exact at any time.
 */
#include <inttypes.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "json.h"
#include "metrics.h"
#include "tail.h"

/* Long lines of f not yet summed into the input's counters. */
static uint64_t in_tail_file_long(const struct in_tail_file *f)
{
    const struct lsh_framer *fr = &f->reader.framer;
    uint64_t                 n = fr->truncated + fr->skipped + fr->split;

    if (f->reader.ctr != NULL) {
        const struct lsh_ctr_stats *cs = &f->reader.ctr->s;

        n += cs->truncated + cs->skipped + cs->split;
    }
    return n;
}

/* Size of an open file now, or its read offset when it cannot be known. */
static uint64_t in_tail_file_size(const struct in_tail_file *f)
{
    struct stat st;

    if (f->fd >= 0 && f->gz == NULL && fstat(f->fd, &st) == 0) {
        return (uint64_t)st.st_size;
    }
    return f->reader.offset + f->reader.partial.len;
}

static uint64_t in_tail_file_committed(const struct in_tail_file *f)
{
    return f->ckpt != NULL ? f->ckpt->offset : 0;
}

void in_tail_metrics(struct lsh_instance *ins, struct lsh_metrics *m,
                     const char *const *l)
{
    const struct in_tail      *t = ins->ctx;
    const struct in_tail_file *f;
    uint64_t                   open = 0;
    uint64_t                   lag = 0;
    uint64_t longs = t->c.truncated + t->c.skipped + t->c.split;

    for (f = t->all; f != NULL; f = f->lnext) {
        longs += in_tail_file_long(f);
        if (f->fd >= 0) {
            uint64_t size = in_tail_file_size(f);
            uint64_t done = in_tail_file_committed(f);

            open++;
            lag += size > done ? size - done : 0;
        }
    }
    lsh_metric_u64(m, LSH_M_TAIL_FILES_OPEN, l, open);
    lsh_metric_u64(m, LSH_M_TAIL_LAG_BYTES, l, lag);
    lsh_metric_u64(m, LSH_M_TAIL_ROTATIONS, l, t->c.rotations);
    lsh_metric_u64(m, LSH_M_TAIL_TRUNCATIONS, l, t->c.truncations);
    lsh_metric_u64(m, LSH_M_TAIL_DELETIONS, l, t->c.deletions);
    lsh_metric_u64(m, LSH_M_TAIL_LONG_LINES, l, longs);
    lsh_metric_u64(m, LSH_M_TAIL_OPEN_WAITS, l,
                   t->c.open_errors + t->c.watch_errors);
    lsh_metric_u64(m, LSH_M_TAIL_OVERFLOWS, l, t->c.overflows);
}

static const char *in_tail_state_name(enum in_tail_state s)
{
    switch (s) {
    case IN_TAIL_ACTIVE:
        return "active";
    case IN_TAIL_ROTATED:
        return "rotated";
    case IN_TAIL_DELETED:
        return "deleted";
    default:
        return "closed";
    }
}

void in_tail_status(struct lsh_instance *ins, struct lsh_buf *json)
{
    const struct in_tail      *t = ins->ctx;
    const struct in_tail_file *f;
    bool                       first = true;

    lsh_buf_adds(json, ",\"files\":[");
    for (f = t->all; f != NULL; f = f->lnext) {
        lsh_buf_adds(json, first ? "{\"path\":" : ",{\"path\":");
        first = false;
        lsh_json_str(json, f->path, f->path_len);
        lsh_buf_addf(json,
                     ",\"state\":\"%s\",\"identity\":{\"dev\":%" PRIu64
                     ",\"inode\":%" PRIu64 ",\"fingerprint\":\"%016" PRIx64
                     "\",\"fingerprint_bytes\":%" PRIu32 "}",
                     in_tail_state_name(f->state), (uint64_t)f->dev,
                     (uint64_t)f->ino, f->fp_hash, f->fp_len);
        lsh_buf_addf(json,
                     ",\"read_offset\":%" PRIu64
                     ",\"committed_offset\":%" PRIu64 ",\"size\":%" PRIu64 "}",
                     f->reader.offset + f->reader.partial.len,
                     in_tail_file_committed(f), in_tail_file_size(f));
    }
    lsh_buf_addc(json, ']');
}
