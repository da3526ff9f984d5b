/*
 * epoll event loop with timers, tasks and signals.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

struct lsh_loop {
    int                 epfd;
    bool                running;
    struct lsh_io       timer_io;
    struct lsh_timer  **heap;
    size_t              nheap;
    size_t              heap_cap;
    int64_t             armed; /* due time the timerfd is set to, or 0 */
    struct lsh_task    *tasks; /* FIFO of posted tasks */
    struct lsh_task   **tail;
    struct lsh_io       sig_io;
    lsh_signal_cb       sig_cb;
    void               *sig_data;
    struct epoll_event *evs; /* events being dispatched */
    int                 nevs;
};

static void lsh_loop_timers_due(struct lsh_io *io, uint32_t events);

struct lsh_loop *lsh_loop_create(void)
{
    struct lsh_loop *loop = lsh_calloc(1, sizeof(*loop));
    int              tfd;

    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        lsh_error("epoll_create1: %s", strerror(errno));
        free(loop);
        return NULL;
    }
    loop->tail = &loop->tasks;
    loop->sig_io.fd = -1;
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0 || lsh_io_start(loop, &loop->timer_io, tfd, EPOLLIN,
                                lsh_loop_timers_due, loop) != LSH_OK) {
        lsh_error("timerfd: %s", strerror(errno));
        if (tfd >= 0) {
            close(tfd);
        }
        close(loop->epfd);
        free(loop);
        return NULL;
    }
    return loop;
}

void lsh_loop_destroy(struct lsh_loop *loop)
{
    if (loop == NULL) {
        return;
    }
    if (loop->sig_io.fd >= 0) {
        close(loop->sig_io.fd);
    }
    close(loop->timer_io.fd);
    close(loop->epfd);
    free(loop->heap);
    free(loop);
}

int lsh_io_start(struct lsh_loop *loop, struct lsh_io *io, int fd,
                 uint32_t events, lsh_io_cb cb, void *data)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = io;
    io->fd = fd;
    io->events = events;
    io->cb = cb;
    io->data = data;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return LSH_ERR;
    }
    io->active = true;
    return LSH_OK;
}

int lsh_io_modify(struct lsh_loop *loop, struct lsh_io *io, uint32_t events)
{
    struct epoll_event ev;

    if (!io->active || io->events == events) {
        return LSH_OK;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = io;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) != 0) {
        return LSH_ERR;
    }
    io->events = events;
    return LSH_OK;
}

void lsh_io_stop(struct lsh_loop *loop, struct lsh_io *io)
{
    int i;

    if (!io->active) {
        return;
    }
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->active = false;
    /* io may be freed once we return: forget its undispatched events */
    for (i = 0; i < loop->nevs; i++) {
        if (loop->evs[i].data.ptr == io) {
            loop->evs[i].data.ptr = NULL;
        }
    }
}

/* --- timers: a binary min-heap on due time ------------------------------ */

static void lsh_heap_set(struct lsh_loop *loop, size_t i, struct lsh_timer *t)
{
    loop->heap[i] = t;
    t->slot = i;
}

static void lsh_heap_up(struct lsh_loop *loop, size_t i)
{
    struct lsh_timer *t = loop->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (loop->heap[parent]->due <= t->due) {
            break;
        }
        lsh_heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    lsh_heap_set(loop, i, t);
}

static void lsh_heap_down(struct lsh_loop *loop, size_t i)
{
    struct lsh_timer *t = loop->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= loop->nheap) {
            break;
        }
        if (c + 1 < loop->nheap &&
            loop->heap[c + 1]->due < loop->heap[c]->due) {
            c++;
        }
        if (t->due <= loop->heap[c]->due) {
            break;
        }
        lsh_heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    lsh_heap_set(loop, i, t);
}

static void lsh_heap_remove(struct lsh_loop *loop, struct lsh_timer *t)
{
    size_t            i = t->slot;
    struct lsh_timer *last = loop->heap[--loop->nheap];

    t->active = false;
    if (last == t) {
        return;
    }
    lsh_heap_set(loop, i, last);
    lsh_heap_down(loop, i);
    lsh_heap_up(loop, last->slot);
}

static void lsh_loop_arm(struct lsh_loop *loop)
{
    struct itimerspec its;
    int64_t           due = loop->nheap ? loop->heap[0]->due : 0;

    if (due == loop->armed) {
        return;
    }
    memset(&its, 0, sizeof(its));
    if (due > 0) {
        its.it_value.tv_sec = due / LSH_NS_PER_SEC;
        its.it_value.tv_nsec = due % LSH_NS_PER_SEC;
    }
    timerfd_settime(loop->timer_io.fd, TFD_TIMER_ABSTIME, &its, NULL);
    loop->armed = due;
}

void lsh_timer_start(struct lsh_loop *loop, struct lsh_timer *t,
                     int64_t delay_ms, int64_t period_ms, lsh_timer_cb cb,
                     void *data)
{
    if (t->active) {
        lsh_heap_remove(loop, t);
    }
    t->due = lsh_now_mono_ns() + delay_ms * LSH_NS_PER_MS;
    if (t->due <= 0) {
        t->due = 1;
    }
    t->period = period_ms * LSH_NS_PER_MS;
    t->cb = cb;
    t->data = data;
    t->active = true;
    LSH_GROW(loop->heap, loop->heap_cap, loop->nheap + 1);
    loop->heap[loop->nheap] = t;
    t->slot = loop->nheap++;
    lsh_heap_up(loop, t->slot);
    lsh_loop_arm(loop);
}

void lsh_timer_stop(struct lsh_loop *loop, struct lsh_timer *t)
{
    if (!t->active) {
        return;
    }
    lsh_heap_remove(loop, t);
    lsh_loop_arm(loop);
}

static void lsh_loop_timers_due(struct lsh_io *io, uint32_t events)
{
    struct lsh_loop *loop = io->data;
    uint64_t         ticks;
    int64_t          now = lsh_now_mono_ns();

    (void)events;
    if (read(io->fd, &ticks, sizeof(ticks)) < 0) {
        /* EAGAIN: a timer was re-armed after the fd became readable */
    }
    loop->armed = 0;
    while (loop->nheap > 0 && loop->heap[0]->due <= now) {
        struct lsh_timer *t = loop->heap[0];

        lsh_heap_remove(loop, t);
        if (t->period > 0) {
            t->due += t->period;
            if (t->due <= now) {
                t->due = now + t->period;
            }
            t->active = true;
            LSH_GROW(loop->heap, loop->heap_cap, loop->nheap + 1);
            loop->heap[loop->nheap] = t;
            t->slot = loop->nheap++;
            lsh_heap_up(loop, t->slot);
        }
        t->cb(t);
    }
    lsh_loop_arm(loop);
}

/* --- tasks -------------------------------------------------------------- */

void lsh_task_post(struct lsh_loop *loop, struct lsh_task *t)
{
    if (t->queued) {
        return;
    }
    t->queued = true;
    t->next = NULL;
    *loop->tail = t;
    loop->tail = &t->next;
}

void lsh_task_cancel(struct lsh_loop *loop, struct lsh_task *t)
{
    struct lsh_task **pp;

    if (!t->queued) {
        return;
    }
    for (pp = &loop->tasks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            if (loop->tail == &t->next) {
                loop->tail = pp;
            }
            break;
        }
    }
    t->queued = false;
}

static void lsh_loop_run_tasks(struct lsh_loop *loop)
{
    struct lsh_task *batch = loop->tasks;

    loop->tasks = NULL;
    loop->tail = &loop->tasks;
    while (batch != NULL && loop->running) {
        struct lsh_task *t = batch;

        batch = t->next;
        t->queued = false;
        t->cb(t);
    }
    /* put back what a stop left unrun, ahead of newly posted tasks */
    if (batch != NULL) {
        struct lsh_task *t = batch;

        while (t->next != NULL) {
            t = t->next;
        }
        t->next = loop->tasks;
        if (loop->tasks == NULL) {
            loop->tail = &t->next;
        }
        loop->tasks = batch;
    }
}

/* --- signals ------------------------------------------------------------ */

static void lsh_loop_signal_io(struct lsh_io *io, uint32_t events)
{
    struct lsh_loop        *loop = io->data;
    struct signalfd_siginfo si;

    (void)events;
    while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        loop->sig_cb(loop, (int)si.ssi_signo, loop->sig_data);
    }
}

int lsh_loop_signals(struct lsh_loop *loop, const sigset_t *set,
                     lsh_signal_cb cb, void *data)
{
    int fd;

    if (sigprocmask(SIG_BLOCK, set, NULL) != 0) {
        return lsh_error("sigprocmask: %s", strerror(errno));
    }
    fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        return lsh_error("signalfd: %s", strerror(errno));
    }
    loop->sig_cb = cb;
    loop->sig_data = data;
    if (lsh_io_start(loop, &loop->sig_io, fd, EPOLLIN, lsh_loop_signal_io,
                     loop) != LSH_OK) {
        close(fd);
        loop->sig_io.fd = -1;
        return lsh_error("epoll_ctl(signalfd): %s", strerror(errno));
    }
    return LSH_OK;
}

/* --- running ------------------------------------------------------------ */

int lsh_loop_run(struct lsh_loop *loop)
{
    struct epoll_event evs[64];
    int                n;
    int                i;

    loop->running = true;
    while (loop->running) {
        n = epoll_wait(loop->epfd, evs, (int)LSH_ARRAY_SIZE(evs),
                       loop->tasks != NULL ? 0 : -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return lsh_error("epoll_wait: %s", strerror(errno));
        }
        loop->evs = evs;
        loop->nevs = n;
        for (i = 0; i < n && loop->running; i++) {
            struct lsh_io *io = evs[i].data.ptr;

            if (io != NULL && io->active) {
                io->cb(io, evs[i].events);
            }
        }
        loop->nevs = 0;
        lsh_loop_run_tasks(loop);
    }
    return LSH_OK;
}

void lsh_loop_stop(struct lsh_loop *loop)
{
    loop->running = false;
}
