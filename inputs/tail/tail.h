/*
 * tail input: shared declarations.
 *
 * Files are found by globs resolved against inotify directory watches and
 * followed through one inotify watch each, on the open file's inode
 * (added through /proc/self/fd/N), so appends are seen whatever the file
 * is called now.  A logical path is where a glob matched (a symlink
 * stays a symlink; records carry this path); a file is an open
 * descriptor with its identity.  Events on directories make logship look
 * at a path again (in_tail_path_check); events on files make them
 * readable.
 *
 * tail.c        plugin callbacks, options, the ready queue
 * tail_glob.c   glob patterns: compiling and matching, ** included
 * tail_watch.c  inotify: directories, symlink targets, event dispatch
 * tail_file.c   one file: open, identity, read, rotate, delete, close
 * tail_recover.c at start-up: files rotated, copied or compressed while
 *               logship was down, found by content and read to their end
 * tail_retry.c  what failed for want of a resource (descriptors, inotify
 *               watches): tried again on a timer, with backoff
 */
#ifndef IN_TAIL_H
#define IN_TAIL_H

#include <sys/stat.h>
#include <sys/types.h>
#include <zlib.h>

#include "ckpt.h"
#include "hmap.h"
#include "multiline.h"
#include "plugin.h"
#include "reader.h"

enum in_tail_read_from { IN_TAIL_HEAD, IN_TAIL_TAIL };

struct in_tail_conf {
    struct lsh_strlist  paths;
    struct lsh_strlist  exclude;
    int                 read_from;
    int64_t             max_line_bytes;
    int                 on_long_line;
    bool                strip_cr;
    int64_t             read_chunk;
    int64_t             rotate_wait_ms;
    int64_t             poll_interval_ms;
    struct lsh_ml_conf *multiline;
    int                 format; /* enum lsh_ctr_format */
    struct lsh_strlist  streams;
    bool                kubernetes;
};

/* A compiled glob: absolute, split into components after its root. */
struct in_tail_glob {
    char  *src;
    char  *root;  /* longest prefix without wildcards */
    char **parts; /* the components after it */
    size_t nparts;
};

#define IN_TAIL_FP_BYTES 1024

enum in_tail_state {
    IN_TAIL_ACTIVE,  /* at its logical path */
    IN_TAIL_ROTATED, /* renamed away: read until rotate_wait passes */
    IN_TAIL_DELETED, /* unlinked: read to the end */
    IN_TAIL_CLOSED,  /* descriptor closed; kept until acks come back */
};

struct in_tail_file {
    struct lsh_hnode     by_wd;   /* t->files_by_wd (while watched) */
    struct lsh_hnode     by_id;   /* t->files_by_id (while open) */
    struct lsh_hnode     by_path; /* t->files_by_path (while attached) */
    struct in_tail      *tail;
    char                *path; /* logical path; records carry it */
    size_t               path_len;
    int                  fd;
    int                  wd;
    int                  held_fd; /* closed, kept: in_tail_file_close() */
    dev_t                dev;
    ino_t                ino;
    uint64_t             fp_hash; /* fingerprint of the first fp_len bytes */
    uint32_t             fp_len;
    uint64_t             fp_quick; /* lsh_hash_fast of the same bytes */
    enum in_tail_state   state;
    bool                 attached;
    bool                 readable;  /* may have unread bytes */
    bool                 flush_due; /* multiline flush_after passed */
    bool                 close_due; /* rotate_wait passed */
    bool                 queued;    /* in the ready queue */
    bool                 unwatched; /* no inotify watch: polled (retry) */
    struct in_tail_file *qnext;     /* ready queue */
    struct in_tail_file *lnext;     /* t->all */
    struct in_tail_file *lprev;
    int64_t              last_write; /* monotonic ns of the last event */
    struct lsh_timer     rotate_timer;
    struct lsh_timer     ml_timer;
    struct lsh_reader    reader;
    struct lsh_ckpt_entry
          *ckpt; /* its checkpoint, if the pipeline keeps them */
    gzFile gz;   /* a compressed rotation being recovered, else NULL */
    /*
     * Checkpoints of this file's content before a truncation, while its
     * records are still out: a crash then resumes them from a copy.
     */
    struct lsh_ckpt_entry **retired;
    size_t                  nretired;
    size_t                  retired_cap;
    /* Kubernetes names from the file name, set on its records */
    struct lsh_field k8s[4];
    char            *k8s_text;
};

struct in_tail_retry;

/* A watched directory: where globs may match, or a symlink's target. */
struct in_tail_dir {
    struct lsh_hnode by_wd;
    struct lsh_hnode by_path;
    char            *path;
    int              wd;
};

/* A symlink found by a glob: its target's directory is watched too. */
struct in_tail_link {
    struct lsh_hnode by_path;   /* keyed by the symlink's logical path */
    struct lsh_hnode by_target; /* keyed by the target's full path */
    char            *path;
    char            *target;
};

struct in_tail_counters {
    uint64_t files_opened;
    uint64_t files_closed;
    uint64_t rotations;
    uint64_t deletions;
    uint64_t truncations;
    uint64_t overflows;
    uint64_t watch_errors;
    uint64_t open_errors;        /* opens that failed for want of a resource */
    uint64_t followed_elsewhere; /* files another input follows already */
    uint64_t recovered;          /* rotated while down, read to the end */
    uint64_t recovered_gz;       /* of them, from a compressed file */
    uint64_t cut;                /* incomplete lines emitted at truncation */
    /* lines, summed over files (added in when a file is freed) */
    uint64_t lines;
    uint64_t truncated;
    uint64_t skipped;
    uint64_t split;
    uint64_t ml_records;
    uint64_t ml_split;
    /* container logs */
    uint64_t ctr_lines;
    uint64_t ctr_partials;
    uint64_t ctr_malformed;
    uint64_t ctr_filtered;
};

struct in_tail {
    struct lsh_instance       *ins;
    const struct in_tail_conf *conf;
    struct in_tail_glob       *globs;
    size_t                     nglobs;
    struct in_tail_glob       *excludes; /* those with a '/' */
    size_t                     nexcludes;
    int                        ifd;
    struct lsh_io              io;
    struct lsh_hmap            files_by_wd;
    struct lsh_hmap            files_by_id;
    struct lsh_hmap            files_by_path;
    struct lsh_hmap            dirs_by_wd;
    struct lsh_hmap            dirs_by_path;
    struct lsh_hmap            links_by_path;
    struct lsh_hmap            links_by_target;
    struct in_tail_file       *all;   /* every file, closed ones too */
    struct in_tail_file       *qhead; /* ready queue */
    struct in_tail_file      **qtail;
    struct lsh_timer           poll_timer;
    bool                       starting; /* read_from applies */
    bool                       exiting;  /* files freed keep checkpoints */
    struct lsh_ctr_conf        ctr;      /* container logs, if format says */
    struct lsh_ckpt           *ckpt;
    uint32_t                   moved_cookie; /* of the last IN_MOVED_FROM */
    char                      *moved_from;   /* its path, if wanted */
    struct lsh_hmap            gone;  /* while starting: unclaimed paths */
    struct in_tail_retry      *retry; /* tail_retry.c */
    bool                       stopped;
    struct in_tail_counters    c;
};

/* tail_metrics.c */
struct lsh_metrics;
void in_tail_metrics(struct lsh_instance *ins, struct lsh_metrics *m,
                     const char *const *labels);
void in_tail_status(struct lsh_instance *ins, struct lsh_buf *json);

/* tail_glob.c */
int  in_tail_glob_compile(struct in_tail_glob *g, const char *pattern,
                          const char **err);
void in_tail_glob_release(struct in_tail_glob *g);
bool in_tail_glob_match(const struct in_tail_glob *g, const char *path);
/* True if files below directory dir may match g. */
bool in_tail_glob_dir_may_match(const struct in_tail_glob *g, const char *dir);

/* tail.c */
bool in_tail_wanted(const struct in_tail *t, const char *path);
bool in_tail_wanted_dir(const struct in_tail *t, const char *dir);
void in_tail_enqueue(struct in_tail *t, struct in_tail_file *f);
void in_tail_dequeue_file(struct in_tail *t, struct in_tail_file *f);

/* tail_watch.c */
int  in_tail_watch_start(struct in_tail *t);
void in_tail_watch_stop(struct in_tail *t);
void in_tail_rescan(struct in_tail *t);
void in_tail_path_check(struct in_tail *t, const char *path);
/* Watches directory path and looks at what is in it. */
void in_tail_watch_dir(struct in_tail *t, const char *path);
void in_tail_moved_away(struct in_tail *t, const char *from, const char *to);
void in_tail_link_forget(struct in_tail *t, const char *path);
/* Where symlink path points (absolute; the target may be missing). */
bool in_tail_link_target(const char *path, char *out);

/* tail_recover.c */
void in_tail_recover(struct in_tail *t);
/*
 * The same for the unclaimed entries below dir (it just appeared); returns
 * how many could not be looked for (a resource ran out): those are tried
 * again later.
 */
size_t in_tail_recover_under(struct in_tail *t, const char *dir);
/* While starting: the paths of checkpointed files no input claimed yet */
void in_tail_gone_begin(struct in_tail *t);
bool in_tail_gone_has(const struct in_tail *t, const char *path);
void in_tail_gone_end(struct in_tail *t);
/* A copy of a truncated file's old content that holds what was read. */
struct in_tail_copy {
    bool  found;
    dev_t dev;
    ino_t ino;
};
/*
 * f was truncated: if a copy of its old content with more than was read
 * sits beside it (copytruncate), reads the copy's rest.  True if so;
 * *looked is false if a resource ran out before it could tell.  A copy
 * that holds exactly what was read, and nothing more, is put in *exact:
 * its checkpoint then says its content is known (in_tail_file_retire()).
 */
bool in_tail_follow_copy(struct in_tail_file *f, bool *looked,
                         struct in_tail_copy *exact);
/* Where a file found by recovery comes from, and where it starts. */
struct in_tail_origin {
    const char            *path;  /* the logical path its records carry */
    int                    fd;    /* a plain file, or -1 */
    gzFile                 gz;    /* or a gzip stream, positioned at start */
    const struct stat     *st;    /* of the file (the .gz file for gz) */
    struct lsh_ckpt_entry *entry; /* resume from it; NULL: a new entry: */
    uint64_t               start;
    uint32_t               fp_len; /* its content's fingerprint */
    uint64_t               fp_hash;
    uint32_t               end_len; /* what precedes start */
    uint64_t               end_hash;
};

/* Reads such a file as a rotated one, to its end (taking fd or gz). */
struct in_tail_file *in_tail_file_resume(struct in_tail              *t,
                                         const struct in_tail_origin *o);

/* tail_retry.c */
void in_tail_retry_pause(struct in_tail *t); /* at shutdown */
void in_tail_retry_stop(struct in_tail *t);  /* frees everything */
/* Opening path failed with err (EMFILE, ENFILE, ENOMEM): try again. */
void in_tail_retry_open(struct in_tail *t, const char *path, int err);
/* Watching directory path failed with err: try again, rescan it meanwhile */
void in_tail_retry_dir(struct in_tail *t, const char *path, int err);
/* f has no watch (err): poll it and try again. */
void in_tail_retry_file(struct in_tail_file *f, int err);
/* Recovery below directory dir could not look (err): look again later. */
void in_tail_retry_recover(struct in_tail *t, const char *dir, int err);
void in_tail_retry_forget_file(struct in_tail_file *f);
bool in_tail_retry_resource(int err); /* a shortage, not a bad path */

/* tail_file.c */
/*
 * Follows the file open on fd (taking the descriptor) with records
 * carrying path.  attach: it is at path now; otherwise it was already
 * renamed away and is read as a rotated file.
 */
struct in_tail_file *in_tail_file_open(struct in_tail *t, const char *path,
                                       int fd, const struct stat *st,
                                       bool attach);
struct in_tail_file *in_tail_file_by_id(struct in_tail *t, dev_t dev,
                                        ino_t ino);
struct in_tail_file *in_tail_file_by_path(struct in_tail *t, const char *path);
struct in_tail_file *in_tail_file_by_wd(struct in_tail *t, int wd);
void in_tail_file_attach(struct in_tail_file *f, const char *path);
int  in_tail_open(const char *path);
/* The file of another input of this pipeline following (dev, ino), if any */
struct in_tail_file *in_tail_followed_elsewhere(struct in_tail *t, dev_t dev,
                                                ino_t ino);
void                 in_tail_file_watch(struct in_tail_file *f);
/* Does the file on fd hold e's content up to e's offset? */
bool   in_tail_content_is(int fd, off_t size, const struct lsh_ckpt_entry *e);
size_t in_tail_k8s_fields(const char *path, struct lsh_field *out, char **text);
void   in_tail_file_detach(struct in_tail_file *f);
void   in_tail_file_event(struct in_tail_file *f, uint32_t mask);
int    in_tail_file_collect(struct in_tail_file *f, size_t *budget);
void   in_tail_file_poll(struct in_tail_file *f);
void   in_tail_file_free(struct in_tail_file *f);

#endif
