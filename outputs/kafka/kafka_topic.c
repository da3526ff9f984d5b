/*
 * kafka output: topic handles.
 *
 * librdkafka wants a handle per topic.  Handles are cached by name, most
 * recently used first, and the least recently used is let go once the
 * cache holds topic_cache of them: a topic template that takes its value
 * from log content ("logs-{{service}}") cannot grow memory for ever.  A
 * handle let go while messages for it are in flight is safe: librdkafka
 * counts its references.  The last name looked up is remembered apart,
 * as records in a row nearly always share their topic.
 */
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "mem.h"

static bool out_kafka_topic_eq(const struct lsh_hnode *n, const void *key)
{
    return strcmp(((const struct out_kafka_topic *)n)->name, key) == 0;
}

static void out_kafka_lru_unlink(struct out_kafka       *ctx,
                                 struct out_kafka_topic *t)
{
    if (t->prev != NULL) {
        t->prev->next = t->next;
    } else {
        ctx->lru_head = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    } else {
        ctx->lru_tail = t->prev;
    }
    t->prev = t->next = NULL;
}

static void out_kafka_lru_front(struct out_kafka       *ctx,
                                struct out_kafka_topic *t)
{
    t->prev = NULL;
    t->next = ctx->lru_head;
    if (ctx->lru_head != NULL) {
        ctx->lru_head->prev = t;
    }
    ctx->lru_head = t;
    if (ctx->lru_tail == NULL) {
        ctx->lru_tail = t;
    }
}

static void out_kafka_topic_free(struct out_kafka       *ctx,
                                 struct out_kafka_topic *t)
{
    if (ctx->last_rkt == t->rkt) {
        ctx->last_topic = NULL;
        ctx->last_rkt = NULL;
    }
    out_kafka_lru_unlink(ctx, t);
    lsh_hmap_remove(&ctx->topics, &t->node);
    rd_kafka_topic_destroy(t->rkt);
    free(t->name);
    free(t);
}

rd_kafka_topic_t *out_kafka_rkt(struct out_kafka *ctx, const char *name)
{
    uint64_t                h;
    struct out_kafka_topic *t;

    if (ctx->last_topic != NULL &&
        (name == ctx->last_topic || strcmp(name, ctx->last_topic) == 0)) {
        return ctx->last_rkt;
    }
    h = lsh_hash_bytes(name, strlen(name));
    t = (struct out_kafka_topic *)lsh_hmap_find(&ctx->topics, h,
                                                out_kafka_topic_eq, name);
    if (t == NULL) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(ctx->rk, name, NULL);

        if (rkt == NULL) {
            lsh_ins_error(ctx->ins, "topic '%s': %s", name,
                          rd_kafka_err2str(rd_kafka_last_error()));
            return NULL;
        }
        ctx->s.topic_misses++;
        while (ctx->topics.count >= (size_t)ctx->conf->topic_cache &&
               ctx->lru_tail != NULL) {
            out_kafka_topic_free(ctx, ctx->lru_tail);
        }
        t = lsh_calloc(1, sizeof(*t));
        t->name = lsh_strdup(name);
        t->rkt = rkt;
        lsh_hmap_insert(&ctx->topics, &t->node, h);
    } else {
        out_kafka_lru_unlink(ctx, t);
    }
    out_kafka_lru_front(ctx, t);
    ctx->last_topic = t->name;
    ctx->last_rkt = t->rkt;
    return t->rkt;
}

void out_kafka_topics_release(struct out_kafka *ctx)
{
    while (ctx->lru_head != NULL) {
        out_kafka_topic_free(ctx, ctx->lru_head);
    }
    lsh_hmap_release(&ctx->topics);
    ctx->last_topic = NULL;
    ctx->last_rkt = NULL;
}
