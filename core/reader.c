/*
 * From read(2) to batches of lines.
 */
#include "reader.h"

#include <errno.h>
#include <unistd.h>

struct lsh_reader_emit {
    struct lsh_batch *b;
    int64_t           now;
};

static void lsh_reader_line(void *arg, const char *line, size_t len,
                            unsigned flags)
{
    struct lsh_reader_emit *e = arg;
    struct lsh_record      *rec;

    rec = lsh_batch_push(e->b, lsh_str_make(line, len), e->now);
    rec->flags |= flags;
}

void lsh_reader_init(struct lsh_reader *r, uint64_t offset, size_t max_line,
                     int on_long, bool strip_cr, lsh_commit_cb on_commit,
                     void *data)
{
    lsh_buf_release(&r->buf);
    r->offset = offset;
    r->bytes = 0;
    lsh_framer_init(&r->framer, max_line, on_long, strip_cr);
    lsh_tracker_init(&r->tracker, offset, on_commit, data);
}

void lsh_reader_release(struct lsh_reader *r)
{
    lsh_buf_release(&r->buf);
    lsh_tracker_release(&r->tracker);
}

/*
 * Hands buf[0..consumed) to batch b: b takes the whole buffer, and the
 * unconsumed tail moves to a new one.
 */
static void lsh_reader_handoff(struct lsh_reader *r, struct lsh_batch *b,
                               size_t consumed)
{
    lsh_buf_swap(&r->buf, &b->data);
    lsh_buf_reset(&r->buf);
    lsh_buf_add(&r->buf, b->data.ptr + consumed, b->data.len - consumed);
    b->data.len = consumed;
    r->offset += consumed;
    b->ticket = lsh_tracker_issue(&r->tracker, r->offset);
}

ssize_t lsh_reader_read(struct lsh_reader *r, struct lsh_instance *ins, int fd,
                        size_t chunk, struct lsh_str path, int *emit_rc)
{
    struct lsh_reader_emit e;
    ssize_t                n;
    size_t                 consumed;

    *emit_rc = LSH_OK;
    lsh_buf_reserve(&r->buf, chunk);
    do {
        n = read(fd, r->buf.ptr + r->buf.len, chunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return n;
    }
    r->buf.len += (size_t)n;
    r->bytes += (uint64_t)n;
    e.b = lsh_input_batch(ins);
    e.now = lsh_now_real_ns();
    consumed =
        lsh_framer_run(&r->framer, r->buf.ptr, r->buf.len, lsh_reader_line, &e);
    if (consumed == 0) {
        lsh_input_discard(ins, e.b);
        return n;
    }
    lsh_reader_handoff(r, e.b, consumed);
    e.b->path = path;
    *emit_rc = lsh_input_emit(ins, e.b);
    return n;
}

int lsh_reader_finish(struct lsh_reader *r, struct lsh_instance *ins,
                      struct lsh_str path)
{
    struct lsh_reader_emit e;

    if (r->buf.len == 0) {
        return LSH_OK;
    }
    e.b = lsh_input_batch(ins);
    e.now = lsh_now_real_ns();
    lsh_framer_finish(&r->framer, r->buf.ptr, r->buf.len, lsh_reader_line, &e);
    lsh_reader_handoff(r, e.b, r->buf.len);
    e.b->path = path;
    return lsh_input_emit(ins, e.b);
}
