/*
 * Tickets and trackers: which bytes of a source are safely delivered.
 *
 * An input issues one ticket per batch it reads from a source, covering
 * the bytes up to the ticket's end offset.  A ticket starts with one hold
 * (the engine's, released once every output has accepted the batch); an
 * output adds a hold for each record it accepts and releases it when the
 * record is acknowledged.  A record a filter dropped needs no hold.
 *
 * A tracker keeps its source's tickets in offset order.  Its committed
 * offset is the end of the longest run of fully released tickets from
 * the start: every byte before it has been delivered by every output.
 * Acks may arrive in any order; commits only move forward over a prefix.
 *
 * Single-threaded: tickets are held and released on the engine thread.
 */
#ifndef LSH_TICKET_H
#define LSH_TICKET_H

#include "lsh.h"

struct lsh_tracker;

struct lsh_ticket {
    struct lsh_ticket  *next;
    struct lsh_tracker *tracker;
    uint64_t            end;      /* source offset after the covered bytes */
    uint64_t            end_hash; /* of the end_len bytes before end */
    uint32_t            end_len;
    uint32_t            holds;
};

typedef void (*lsh_commit_cb)(struct lsh_tracker *tr, void *data);

struct lsh_tracker {
    struct lsh_ticket *head; /* oldest unreleased ticket */
    struct lsh_ticket *tail;
    uint64_t           committed;      /* all bytes before this are delivered */
    uint64_t           committed_hash; /* end_hash of the last ticket popped */
    uint32_t           committed_len;  /* its end_len */
    uint64_t           issued;         /* end of the newest ticket */
    size_t             outstanding;
    lsh_commit_cb      on_commit; /* optional, after committed moves */
    void              *data;
};

/* Starts a tracker whose bytes before offset are already delivered. */
void lsh_tracker_init(struct lsh_tracker *tr, uint64_t offset,
                      lsh_commit_cb on_commit, void *data);

/*
 * Frees unreleased tickets without committing them; a holder must not
 * use them afterwards (used at exit only).
 */
void lsh_tracker_release(struct lsh_tracker *tr);

/*
 * Issues a ticket covering [tr->issued, end) with one hold.  end must not
 * be below the previous ticket's end.
 */
struct lsh_ticket *lsh_tracker_issue(struct lsh_tracker *tr, uint64_t end);

/*
 * The same, with the hash of the end_len bytes just before end, which the
 * tracker hands on as committed_hash once the ticket commits (checkpoints
 * keep it to recognise the file's content at the offset).
 */
struct lsh_ticket *lsh_tracker_issue_at(struct lsh_tracker *tr, uint64_t end,
                                        uint32_t end_len, uint64_t end_hash);

/* True when no ticket is outstanding. */
static inline bool lsh_tracker_idle(const struct lsh_tracker *tr)
{
    return tr->head == NULL;
}

/* Adds n holds; t may be NULL (nothing to track). */
void lsh_ticket_hold(struct lsh_ticket *t, uint32_t n);

/* Releases one hold; the last one may commit and free the ticket. */
void lsh_ticket_ack(struct lsh_ticket *t);

#endif
