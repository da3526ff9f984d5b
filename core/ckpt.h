/*
 * The checkpoint store: per pipeline, the committed offset of each file,
 * so that a restart resumes every file where delivery stopped.
 *
 * One file per pipeline, <state_dir>/<pipeline>.ckpt, replaced atomically:
 * written to a temporary file, fsync()ed, renamed over the old one, and
 * the directory fsync()ed.  A crash leaves either the old or the new file,
 * never a mix, so a file that does not parse, misses its trailer or fails
 * its CRC is corrupt, not half-written: logship then refuses to start (exit
 * status 2) and names the file.  Offsets only ever come from trackers,
 * so a checkpoint never covers a line that was not acknowledged.
 *
 * Format (text, so an operator can read it):
 *   logship-checkpoint 1
 *   <dev> <ino> <fp_len> <fp_hash:16 hex> <offset> <path, %-escaped>
 *   ...
 *   end <count> <crc32 of everything above, 8 hex>
 */
#ifndef LSH_CKPT_H
#define LSH_CKPT_H

#include "buf.h"
#include "hmap.h"
#include "lsh.h"

struct lsh_ckpt;

struct lsh_ckpt_entry {
    struct lsh_hnode node; /* by (dev, ino) */
    uint64_t         dev;
    uint64_t         ino;
    uint32_t         fp_len;  /* fingerprint: hash of the first fp_len */
    uint64_t         fp_hash; /* bytes of the file */
    uint64_t         offset;  /* every byte before it was delivered */
    char            *path;    /* where the file was last seen */
    bool             claimed; /* a followed file owns this entry */
};

/*
 * Loads <dir>/<name>.ckpt (a missing file means no checkpoints yet).
 * Returns LSH_OK; LSH_EINVAL if the file is corrupt; LSH_ERR if it cannot
 * be read.  On failure err holds the message.
 */
int  lsh_ckpt_open(struct lsh_ckpt **out, const char *dir, const char *name,
                   struct lsh_buf *err);
void lsh_ckpt_close(struct lsh_ckpt *ck);

const char *lsh_ckpt_path(const struct lsh_ckpt *ck);

struct lsh_ckpt_entry *lsh_ckpt_find(struct lsh_ckpt *ck, uint64_t dev,
                                     uint64_t ino);

/* Adds (or replaces) the entry for (dev, ino), claimed. */
struct lsh_ckpt_entry *lsh_ckpt_add(struct lsh_ckpt *ck, uint64_t dev,
                                    uint64_t ino, uint32_t fp_len,
                                    uint64_t fp_hash, const char *path,
                                    uint64_t offset);

void lsh_ckpt_set_offset(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                         uint64_t offset);
void lsh_ckpt_set_fp(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                     uint32_t fp_len, uint64_t fp_hash);
void lsh_ckpt_set_path(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e,
                       const char *path);
void lsh_ckpt_remove(struct lsh_ckpt *ck, struct lsh_ckpt_entry *e);

/* Calls fn for each entry not claimed; fn may remove it. */
void lsh_ckpt_each_unclaimed(struct lsh_ckpt *ck,
                             void (*fn)(struct lsh_ckpt_entry *, void *),
                             void *arg);

/*
 * Writes the store if it changed since the last write.  Returns LSH_OK or
 * LSH_ERR (logged; the next call tries again).
 */
int lsh_ckpt_save(struct lsh_ckpt *ck);

size_t lsh_ckpt_count(const struct lsh_ckpt *ck);

uint32_t lsh_crc32(uint32_t crc, const void *p, size_t n);

#endif
