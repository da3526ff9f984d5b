/*
 * Descriptors kept across a pipeline's restart (lsh_output_restart(), a
 * reload that changes it).  A file that was deleted, or moved where no
 * glob finds it, can be read only through a descriptor still open on it:
 * when its pipeline starts again from its checkpoints, its rest would be
 * lost with the descriptor.  So an input stopping for a restart leaves
 * such descriptors here, keyed by its instance name and the file's
 * identity, and the same input of the new pipeline takes them back while
 * it recovers its checkpoints.  What it does not take is closed once the
 * new pipeline's inputs have started (or with the engine).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "mem.h"

struct lsh_stash {
    struct lsh_stash *next;
    char             *ins; /* the instance's name: "<pipeline>/..." */
    uint64_t          dev;
    uint64_t          ino;
    int               fd;
};

void lsh_stash_fd(struct lsh_instance *ins, uint64_t dev, uint64_t ino, int fd)
{
    struct lsh_pipeline *p = ins->pipeline;
    struct lsh_engine   *e = p->engine;
    struct lsh_stash    *s;

    if (p->restart == NULL || e->stopping) {
        close(fd); /* not started again: nothing would take it */
        return;
    }
    s = lsh_calloc(1, sizeof(*s));
    s->ins = lsh_strdup(ins->name);
    s->dev = dev;
    s->ino = ino;
    s->fd = fd;
    s->next = e->stash;
    e->stash = s;
}

int lsh_unstash_fd(struct lsh_instance *ins, uint64_t dev, uint64_t ino)
{
    struct lsh_stash **pp;

    for (pp = &ins->pipeline->engine->stash; *pp != NULL; pp = &(*pp)->next) {
        struct lsh_stash *s = *pp;
        int               fd = s->fd;

        if (s->dev == dev && s->ino == ino && strcmp(s->ins, ins->name) == 0) {
            *pp = s->next;
            free(s->ins);
            free(s);
            return fd;
        }
    }
    return -1;
}

/* Closes what is kept for pipeline name's instances (NULL: for all). */
void lsh_stash_drop(struct lsh_engine *e, const char *name)
{
    struct lsh_stash **pp = &e->stash;
    size_t             n = name != NULL ? strlen(name) : 0;

    while (*pp != NULL) {
        struct lsh_stash *s = *pp;

        if (name != NULL &&
            (strncmp(s->ins, name, n) != 0 || s->ins[n] != '/')) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        close(s->fd);
        free(s->ins);
        free(s);
    }
}
