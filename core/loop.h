/*
 * The engine's event loop: epoll over file descriptors, one timerfd
 * driving a heap of timers, a signalfd, and deferred tasks.
 *
 * Everything runs on the thread that calls lsh_loop_run().  Callbacks
 * must not block.  Tasks posted while tasks run are run on the next
 * iteration, after epoll has been polled, so a busy input cannot starve
 * fd events such as delivery reports.
 */
#ifndef LSH_LOOP_H
#define LSH_LOOP_H

#include <signal.h>

#include "lsh.h"

struct lsh_loop;
struct lsh_io;
struct lsh_timer;
struct lsh_task;

typedef void (*lsh_io_cb)(struct lsh_io *io, uint32_t events);
typedef void (*lsh_timer_cb)(struct lsh_timer *t);
typedef void (*lsh_task_cb)(struct lsh_task *t);
typedef void (*lsh_signal_cb)(struct lsh_loop *loop, int signo, void *data);

struct lsh_io {
    int       fd;
    uint32_t  events; /* EPOLLIN, EPOLLOUT */
    lsh_io_cb cb;
    void     *data;
    bool      active;
};

struct lsh_timer {
    int64_t      due;    /* monotonic ns */
    int64_t      period; /* ns; 0 for one-shot */
    size_t       slot;   /* position in the heap */
    lsh_timer_cb cb;
    void        *data;
    bool         active;
};

struct lsh_task {
    struct lsh_task *next;
    lsh_task_cb      cb;
    void            *data;
    bool             queued;
};

struct lsh_loop *lsh_loop_create(void);
void             lsh_loop_destroy(struct lsh_loop *loop);

/*
 * Runs until lsh_loop_stop().  Returns LSH_OK, or LSH_ERR if epoll
 * failed.
 */
int  lsh_loop_run(struct lsh_loop *loop);
void lsh_loop_stop(struct lsh_loop *loop);

/* Watches fd for events; io must stay valid until lsh_io_stop(). */
int  lsh_io_start(struct lsh_loop *loop, struct lsh_io *io, int fd,
                  uint32_t events, lsh_io_cb cb, void *data);
int  lsh_io_modify(struct lsh_loop *loop, struct lsh_io *io, uint32_t events);
void lsh_io_stop(struct lsh_loop *loop, struct lsh_io *io);

/* (Re)arms t to fire after delay_ms, then every period_ms if nonzero. */
void lsh_timer_start(struct lsh_loop *loop, struct lsh_timer *t,
                     int64_t delay_ms, int64_t period_ms, lsh_timer_cb cb,
                     void *data);
void lsh_timer_stop(struct lsh_loop *loop, struct lsh_timer *t);

/* Runs t->cb once on a later iteration; posting a queued task is a no-op */
void lsh_task_post(struct lsh_loop *loop, struct lsh_task *t);
void lsh_task_cancel(struct lsh_loop *loop, struct lsh_task *t);

/*
 * Blocks the signals in set for the whole process (call before any
 * thread starts) and delivers them to cb through a signalfd.
 */
int lsh_loop_signals(struct lsh_loop *loop, const sigset_t *set,
                     lsh_signal_cb cb, void *data);

#endif
