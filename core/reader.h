/*
 * Reading a byte stream into batches of lines: the part tail and stdin
 * share.
 *
 * A reader owns the unconsumed bytes of its source (an incomplete last
 * line), the framer state and the tracker of the source's tickets.  Each
 * lsh_reader_read() does one read(2) into that buffer, frames the
 * complete lines, and emits them as one batch whose ticket covers the
 * bytes up to the end of the last complete line.  The batch takes the
 * buffer itself (records point into it; no copy), and the incomplete
 * line is copied back into a fresh buffer.
 */
#ifndef LSH_READER_H
#define LSH_READER_H

#include "framer.h"
#include "plugin.h"
#include "ticket.h"

struct lsh_reader {
    struct lsh_buf     buf;    /* bytes read but not yet framed */
    uint64_t           offset; /* source offset of buf.ptr[0] */
    struct lsh_framer  framer;
    struct lsh_tracker tracker;
    uint64_t           bytes; /* bytes read in total */
};

/* Starts at source offset; the tracker counts bytes before it as done. */
void lsh_reader_init(struct lsh_reader *r, uint64_t offset, size_t max_line,
                     int on_long, bool strip_cr, lsh_commit_cb on_commit,
                     void *data);
void lsh_reader_release(struct lsh_reader *r);

/*
 * Reads up to chunk bytes from fd and emits the complete lines as one
 * batch of ins, with path as its source.  Returns the byte count read (0
 * at end of file) or -1 with errno set.  *emit_rc is LSH_EAGAIN if the
 * pipeline is now full and the caller must stop, else LSH_OK.
 */
ssize_t lsh_reader_read(struct lsh_reader *r, struct lsh_instance *ins, int fd,
                        size_t chunk, struct lsh_str path, int *emit_rc);

/*
 * End of the stream: emits the incomplete last line, if any, as a final
 * batch.  Returns the lsh_input_emit() result, or LSH_OK if nothing was
 * left.
 */
int lsh_reader_finish(struct lsh_reader *r, struct lsh_instance *ins,
                      struct lsh_str path);

/* The source offset up to which bytes have been read. */
static inline uint64_t lsh_reader_read_offset(const struct lsh_reader *r)
{
    return r->offset + r->buf.len;
}

#endif
