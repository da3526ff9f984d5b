/*
 * Tickets and trackers.
 */
#include "ticket.h"

#include <assert.h>
#include <stdlib.h>

#include "mem.h"

void lsh_tracker_init(struct lsh_tracker *tr, uint64_t offset,
                      lsh_commit_cb on_commit, void *data)
{
    tr->head = NULL;
    tr->tail = NULL;
    tr->committed = offset;
    tr->committed_hash = 0;
    tr->committed_len = 0;
    tr->issued = offset;
    tr->outstanding = 0;
    tr->on_commit = on_commit;
    tr->data = data;
}

void lsh_tracker_release(struct lsh_tracker *tr)
{
    struct lsh_ticket *t = tr->head;

    while (t != NULL) {
        struct lsh_ticket *next = t->next;

        free(t);
        t = next;
    }
    tr->head = NULL;
    tr->tail = NULL;
    tr->outstanding = 0;
}

struct lsh_ticket *lsh_tracker_issue(struct lsh_tracker *tr, uint64_t end)
{
    return lsh_tracker_issue_at(tr, end, 0, 0);
}

struct lsh_ticket *lsh_tracker_issue_at(struct lsh_tracker *tr, uint64_t end,
                                        uint32_t end_len, uint64_t end_hash)
{
    struct lsh_ticket *t = lsh_malloc(sizeof(*t));

    assert(end >= tr->issued);
    t->next = NULL;
    t->tracker = tr;
    t->end = end;
    t->end_len = end_len;
    t->end_hash = end_hash;
    t->holds = 1;
    if (tr->tail != NULL) {
        tr->tail->next = t;
    } else {
        tr->head = t;
    }
    tr->tail = t;
    tr->issued = end;
    tr->outstanding++;
    return t;
}

void lsh_ticket_hold(struct lsh_ticket *t, uint32_t n)
{
    if (t != NULL) {
        t->holds += n;
    }
}

/* Pops released tickets from the head; returns true if committed moved. */
static bool lsh_tracker_advance(struct lsh_tracker *tr)
{
    bool moved = false;

    while (tr->head != NULL && tr->head->holds == 0) {
        struct lsh_ticket *t = tr->head;

        tr->head = t->next;
        if (tr->head == NULL) {
            tr->tail = NULL;
        }
        tr->committed = t->end;
        tr->committed_len = t->end_len;
        tr->committed_hash = t->end_hash;
        tr->outstanding--;
        free(t);
        moved = true;
    }
    return moved;
}

void lsh_ticket_ack(struct lsh_ticket *t)
{
    struct lsh_tracker *tr;

    if (t == NULL) {
        return;
    }
    assert(t->holds > 0);
    if (--t->holds > 0) {
        return;
    }
    tr = t->tracker;
    if (tr->head == t && lsh_tracker_advance(tr) && tr->on_commit != NULL) {
        tr->on_commit(tr, tr->data);
    }
}
