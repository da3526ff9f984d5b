/*
 * tail input: shared declarations of the tail input's files.
 */
#ifndef IN_TAIL_H
#define IN_TAIL_H

#include <sys/types.h>

#include "plugin.h"
#include "reader.h"

enum in_tail_read_from { IN_TAIL_HEAD, IN_TAIL_TAIL };

struct in_tail_conf {
    struct lsh_strlist paths;
    int                read_from;
    int64_t            max_line_bytes;
    int                on_long_line;
    bool               strip_cr;
    int64_t            read_chunk;
};

struct in_tail_file {
    struct in_tail_file *next;
    struct in_tail      *tail;
    char                *path;
    int                  fd;
    int                  wd; /* inotify watch, -1 if none */
    dev_t                dev;
    ino_t                ino;
    bool                 readable; /* may have unread bytes */
    struct lsh_reader    reader;
};

struct in_tail {
    struct lsh_instance       *ins;
    const struct in_tail_conf *conf;
    int                        ifd; /* inotify */
    struct lsh_io              io;
    struct in_tail_file       *files;
    struct in_tail_file       *cursor; /* where the next collect starts */
};

/* tail_file.c */
int  in_tail_file_open(struct in_tail *t, const char *path);
void in_tail_file_close(struct in_tail_file *f);

/*
 * Reads f until it has nothing more, the budget of bytes runs out or the
 * pipeline is full.  Returns LSH_OK if f has nothing more to read now, or
 * LSH_EAGAIN if it stopped early.
 */
int in_tail_file_collect(struct in_tail_file *f, size_t *budget);

#endif
