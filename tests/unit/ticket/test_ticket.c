/*
 * Tickets and trackers: the committed offset only moves over a fully
 * acknowledged prefix, whatever order the acks come in.
 */
#include "unit.h"

#include "ticket.h"

struct commits {
    int      calls;
    uint64_t last;
};

static void on_commit(struct lsh_tracker *tr, void *data)
{
    struct commits *c = data;

    c->calls++;
    c->last = tr->committed;
}

static void test_in_order(void **state)
{
    struct lsh_tracker tr;
    struct commits     c = {0, 0};
    struct lsh_ticket *a;
    struct lsh_ticket *b;

    (void)state;
    lsh_tracker_init(&tr, 100, on_commit, &c);
    a = lsh_tracker_issue(&tr, 150);
    b = lsh_tracker_issue(&tr, 200);
    assert_int_equal(tr.issued, 200);
    assert_int_equal(tr.outstanding, 2);
    lsh_ticket_ack(a);
    assert_int_equal(tr.committed, 150);
    assert_int_equal(c.calls, 1);
    lsh_ticket_ack(b);
    assert_int_equal(tr.committed, 200);
    assert_int_equal(c.last, 200);
    assert_true(lsh_tracker_idle(&tr));
    lsh_tracker_release(&tr);
}

static void test_out_of_order(void **state)
{
    struct lsh_tracker tr;
    struct commits     c = {0, 0};
    struct lsh_ticket *t[4];
    int                i;

    (void)state;
    lsh_tracker_init(&tr, 0, on_commit, &c);
    for (i = 0; i < 4; i++) {
        t[i] = lsh_tracker_issue(&tr, (uint64_t)(i + 1) * 10);
        lsh_ticket_hold(t[i], 2); /* two records delivered async */
        lsh_ticket_ack(t[i]);     /* the engine's hold */
    }
    /* the last tickets finish first: nothing may commit */
    lsh_ticket_ack(t[3]);
    lsh_ticket_ack(t[3]);
    lsh_ticket_ack(t[2]);
    lsh_ticket_ack(t[2]);
    lsh_ticket_ack(t[1]);
    assert_int_equal(tr.committed, 0);
    assert_int_equal(c.calls, 0);
    lsh_ticket_ack(t[0]);
    assert_int_equal(tr.committed, 0);
    lsh_ticket_ack(t[0]);
    /* t0 done; t1 still holds one */
    assert_int_equal(tr.committed, 10);
    lsh_ticket_ack(t[1]);
    /* t1, t2, t3 all released at once */
    assert_int_equal(tr.committed, 40);
    assert_int_equal(c.calls, 2);
    assert_true(lsh_tracker_idle(&tr));
    lsh_tracker_release(&tr);
}

static void test_several_outputs_and_drops(void **state)
{
    struct lsh_tracker tr;
    struct lsh_ticket *t;

    (void)state;
    lsh_tracker_init(&tr, 0, NULL, NULL);
    /* a batch of 3 records, one dropped by a filter, two outputs */
    t = lsh_tracker_issue(&tr, 300);
    lsh_ticket_hold(t, 2); /* output A takes the 2 kept records */
    lsh_ticket_hold(t, 2); /* output B too */
    lsh_ticket_ack(t);     /* engine: every output took the batch */
    lsh_ticket_ack(t);
    lsh_ticket_ack(t);
    lsh_ticket_ack(t); /* A done, B has one left */
    assert_int_equal(tr.committed, 0);
    lsh_ticket_ack(t);
    assert_int_equal(tr.committed, 300);

    /* every record dropped: the engine's hold is the only one */
    t = lsh_tracker_issue(&tr, 400);
    lsh_ticket_ack(t);
    assert_int_equal(tr.committed, 400);
    lsh_tracker_release(&tr);
}

static void test_null_ticket_and_release(void **state)
{
    struct lsh_tracker tr;

    (void)state;
    lsh_ticket_hold(NULL, 1);
    lsh_ticket_ack(NULL);
    lsh_tracker_init(&tr, 0, NULL, NULL);
    lsh_tracker_issue(&tr, 10);
    lsh_tracker_issue(&tr, 20);
    lsh_tracker_release(&tr); /* frees unreleased tickets, commits none */
    assert_int_equal(tr.committed, 0);
    assert_true(lsh_tracker_idle(&tr));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_several_outputs_and_drops),
        cmocka_unit_test(test_null_ticket_and_release),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
