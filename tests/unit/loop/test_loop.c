/*
 * The event loop: timers fire in due order, periodic timers repeat,
 * tasks run once per post, fds report readiness, stop ends the run.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct record {
    struct lsh_loop *loop;
    char             order[64];
    int              n;
    int              ticks;
};

struct named_timer {
    struct lsh_timer t;
    struct record   *r;
    char             name;
};

static void on_named(struct lsh_timer *t)
{
    struct named_timer *nt = (struct named_timer *)t;

    nt->r->order[nt->r->n++] = nt->name;
    if (nt->name == 'z') {
        lsh_loop_stop(nt->r->loop);
    }
}

static void test_timer_order(void **state)
{
    struct record      r = {0};
    struct named_timer ts[5];
    const char         names[] = "cabdz";
    const int          delays[] = {30, 10, 20, 40, 60};
    int                i;

    (void)state;
    r.loop = lsh_loop_create();
    for (i = 0; i < 5; i++) {
        ts[i].r = &r;
        ts[i].name = names[i];
        memset(&ts[i].t, 0, sizeof(ts[i].t));
        lsh_timer_start(r.loop, &ts[i].t, delays[i], 0, on_named, NULL);
    }
    /* stopping one and restarting another reorders the heap */
    lsh_timer_stop(r.loop, &ts[3].t);
    lsh_timer_start(r.loop, &ts[0].t, 5, 0, on_named, NULL);
    assert_int_equal(lsh_loop_run(r.loop), LSH_OK);
    r.order[r.n] = '\0';
    assert_string_equal(r.order, "cabz");
    lsh_loop_destroy(r.loop);
}

static void on_tick(struct lsh_timer *t)
{
    struct record *r = t->data;

    if (++r->ticks == 5) {
        lsh_timer_stop(r->loop, t);
        lsh_loop_stop(r->loop);
    }
}

static void test_periodic(void **state)
{
    struct record    r = {0};
    struct lsh_timer t = {0};
    int64_t          start = lsh_now_mono_ns();

    (void)state;
    r.loop = lsh_loop_create();
    lsh_timer_start(r.loop, &t, 1, 10, on_tick, &r);
    lsh_loop_run(r.loop);
    assert_int_equal(r.ticks, 5);
    /* 1 + 4 * 10 ms at least */
    assert_true(lsh_now_mono_ns() - start >= 41 * LSH_NS_PER_MS);
    lsh_loop_destroy(r.loop);
}

struct task_rec {
    struct lsh_task  task;
    struct lsh_loop *loop;
    int              runs;
};

static void on_task(struct lsh_task *t)
{
    struct task_rec *tr = (struct task_rec *)t;

    if (++tr->runs < 3) {
        lsh_task_post(tr->loop, t); /* runs again next iteration */
    } else {
        lsh_loop_stop(tr->loop);
    }
}

static void test_tasks(void **state)
{
    struct task_rec tr = {{0}, NULL, 0};
    struct task_rec other = {{0}, NULL, 0};

    (void)state;
    tr.loop = lsh_loop_create();
    other.loop = tr.loop;
    tr.task.cb = on_task;
    other.task.cb = on_task;
    lsh_task_post(tr.loop, &tr.task);
    lsh_task_post(tr.loop, &tr.task); /* already queued: no-op */
    lsh_task_post(tr.loop, &other.task);
    lsh_task_cancel(tr.loop, &other.task);
    lsh_loop_run(tr.loop);
    assert_int_equal(tr.runs, 3);
    assert_int_equal(other.runs, 0);
    lsh_loop_destroy(tr.loop);
}

struct io_rec {
    struct lsh_io    io;
    struct lsh_loop *loop;
    char             got[16];
};

static void on_io(struct lsh_io *io, uint32_t events)
{
    struct io_rec *r = (struct io_rec *)io;
    ssize_t        n;

    assert_true(events & EPOLLIN);
    n = read(io->fd, r->got, sizeof(r->got) - 1);
    assert_true(n > 0);
    r->got[n] = '\0';
    lsh_io_stop(r->loop, io);
    lsh_loop_stop(r->loop);
}

static void test_io(void **state)
{
    struct io_rec r;
    int           p[2];

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    r.loop = lsh_loop_create();
    assert_int_equal(lsh_io_start(r.loop, &r.io, p[0], EPOLLIN, on_io, NULL),
                     LSH_OK);
    assert_int_equal(write(p[1], "ping", 4), 4);
    lsh_loop_run(r.loop);
    assert_string_equal(r.got, "ping");
    close(p[0]);
    close(p[1]);
    lsh_loop_destroy(r.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_io),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
