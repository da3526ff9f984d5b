/*
 * Multiline joining.
 */
#include "multiline.h"

#include <string.h>

const struct lsh_option lsh_ml_options[] = {
    {.name = "start",
     .type = LSH_OPT_REGEX,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct lsh_ml_conf, start),
     .help = "PCRE2 regex matching the first line of a record; other "
             "lines continue the record before them."},
    {.name = "max_lines",
     .type = LSH_OPT_INT,
     .def = "500",
     .offset = offsetof(struct lsh_ml_conf, max_lines),
     .min = 1,
     .max = 1000000,
     .help = "Most lines in one record; more start a new record."},
    {.name = "max_bytes",
     .type = LSH_OPT_SIZE,
     .def = "1MiB",
     .offset = offsetof(struct lsh_ml_conf, max_bytes),
     .min = 64,
     .max = 64 * 1024 * 1024,
     .help = "Largest record; a line that would pass it starts a new "
             "record."},
    {.name = "flush_after",
     .type = LSH_OPT_DURATION,
     .def = "1s",
     .offset = offsetof(struct lsh_ml_conf, flush_after_ms),
     .min = 1,
     .max = 3600000,
     .help = "A pending record is emitted after this long without a new "
             "line."},
    {.name = NULL},
};

void lsh_ml_init(struct lsh_ml *ml, const struct lsh_ml_conf *conf)
{
    memset(ml, 0, sizeof(*ml));
    ml->conf = conf;
}

void lsh_ml_release(struct lsh_ml *ml)
{
    lsh_buf_release(&ml->group);
    ml->active = false;
}

void lsh_ml_flush(struct lsh_ml *ml, lsh_ml_emit emit, void *arg)
{
    if (!ml->active) {
        return;
    }
    emit(arg, ml->group.ptr, ml->group.len, ml->flags, ml->time_ns, ml->tag);
    ml->records++;
    ml->active = false;
    ml->nlines = 0;
    ml->flags = 0;
    lsh_buf_reset(&ml->group);
    if (ml->group.cap > 64 * 1024) {
        lsh_buf_release(&ml->group); /* do not keep a big buffer per file */
    }
}

static void lsh_ml_begin(struct lsh_ml *ml, const char *line, size_t len,
                         unsigned flags, uint64_t start, int64_t time_ns,
                         int tag)
{
    lsh_buf_add(&ml->group, line, len);
    ml->nlines = 1;
    ml->flags = flags;
    ml->start = start;
    ml->time_ns = time_ns;
    ml->tag = tag;
    ml->active = true;
}

void lsh_ml_line(struct lsh_ml *ml, const char *line, size_t len,
                 unsigned flags, uint64_t start, int64_t time_ns, int tag,
                 lsh_ml_emit emit, void *arg)
{
    int m = lsh_regex_match(ml->conf->start, line, len);

    if (m == LSH_EAGAIN || m == LSH_ERR) {
        ml->limit_hits++;
        m = 1; /* never join without bound on a pattern that gave up */
    }
    if (m == 1) {
        lsh_ml_flush(ml, emit, arg);
        lsh_ml_begin(ml, line, len, flags, start, time_ns, tag);
        return;
    }
    if (!ml->active) {
        ml->records++;
        emit(arg, line, len, flags, time_ns, tag); /* no start before it */
        return;
    }
    if ((int64_t)ml->nlines + 1 > ml->conf->max_lines ||
        (int64_t)(ml->group.len + 1 + len) > ml->conf->max_bytes) {
        ml->split++;
        lsh_ml_flush(ml, emit, arg);
        lsh_ml_begin(ml, line, len, flags, start, time_ns, tag);
        return;
    }
    lsh_buf_addc(&ml->group, '\n');
    lsh_buf_add(&ml->group, line, len);
    ml->nlines++;
    ml->flags |= flags;
    ml->joined++;
}
