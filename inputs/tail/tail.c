/*
 * tail input: follows files and emits their lines.
 *
 * Callbacks, options and the ready queue.  Files with unread bytes (or a
 * pending multiline flush, or a close due) wait in a FIFO; collect()
 * serves it within a byte budget, so that idle files cost nothing and a
 * busy one cannot starve the others.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tail.h"

static const char *const in_tail_read_from[] = {"head", "tail", NULL};
static const char *const in_tail_long_line[] = {"truncate", "skip", "split",
                                                NULL};
/* in enum lsh_ctr_format order */
static const char *const in_tail_formats[] = {"raw", "docker", "cri", "auto",
                                              NULL};

static const struct lsh_option in_tail_options[] = {
    {.name = "paths",
     .type = LSH_OPT_STRLIST,
     .flags = LSH_OPT_REQUIRED,
     .offset = offsetof(struct in_tail_conf, paths),
     .help = "Absolute paths or globs of the files to follow: * ? [...] "
             "within a name, ** for any number of directories. New "
             "matches are found through inotify."},
    {.name = "exclude",
     .type = LSH_OPT_STRLIST,
     .offset = offsetof(struct in_tail_conf, exclude),
     .help = "Globs of files not to follow. A pattern without '/' is "
             "matched against the file name (\"*.gz\"), one with '/' "
             "against the whole path."},
    {.name = "read_from",
     .type = LSH_OPT_ENUM,
     .def = "head",
     .offset = offsetof(struct in_tail_conf, read_from),
     .values = in_tail_read_from,
     .help = "Where a file found at start-up with no checkpoint starts: "
             "head (its first byte) or tail (after its last complete "
             "line). Files that appear later are read from the head."},
    {.name = "max_line_bytes",
     .type = LSH_OPT_SIZE,
     .def = "1MiB",
     .offset = offsetof(struct in_tail_conf, max_line_bytes),
     .min = 16,
     .max = 64 * 1024 * 1024,
     .help = "Longest line kept whole; longer ones follow on_long_line."},
    {.name = "on_long_line",
     .type = LSH_OPT_ENUM,
     .def = "truncate",
     .offset = offsetof(struct in_tail_conf, on_long_line),
     .values = in_tail_long_line,
     .help = "truncate: keep the first max_line_bytes (the record is "
             "marked truncated); skip: drop the line; split: emit it in "
             "max_line_bytes pieces. Each case is counted; none stops "
             "the file."},
    {.name = "strip_cr",
     .type = LSH_OPT_BOOL,
     .def = "false",
     .offset = offsetof(struct in_tail_conf, strip_cr),
     .help = "Remove a '\\r' before each '\\n' (CRLF files)."},
    {.name = "read_chunk",
     .type = LSH_OPT_SIZE,
     .def = "256KiB",
     .offset = offsetof(struct in_tail_conf, read_chunk),
     .min = 4096,
     .max = 16 * 1024 * 1024,
     .help = "Bytes asked of each read(2)."},
    {.name = "rotate_wait",
     .type = LSH_OPT_DURATION,
     .def = "5s",
     .offset = offsetof(struct in_tail_conf, rotate_wait_ms),
     .min = 0,
     .max = 86400000,
     .help = "A file renamed away or deleted is read on, including later "
             "writes to it, until this long after its last write; then it "
             "is read to the end and closed."},
    {.name = "poll_interval",
     .type = LSH_OPT_DURATION,
     .def = "0",
     .offset = offsetof(struct in_tail_conf, poll_interval_ms),
     .min = 0,
     .max = 3600000,
     .help = "0 (off): rely on inotify alone. Otherwise also look for new "
             "files and appends this often, for file systems where "
             "inotify sees no changes (NFS, some FUSE)."},
    {.name = "multiline",
     .type = LSH_OPT_SUB,
     .offset = offsetof(struct in_tail_conf, multiline),
     .sub = lsh_ml_options,
     .sub_size = sizeof(struct lsh_ml_conf),
     .help = "Join continuation lines (a stack trace) to the line that "
             "starts them: {start: REGEX, max_lines, max_bytes, "
             "flush_after}."},
    {.name = "format",
     .type = LSH_OPT_ENUM,
     .def = "raw",
     .offset = offsetof(struct in_tail_conf, format),
     .values = in_tail_formats,
     .help = "raw: each line is a record. docker: Docker json-file lines; "
             "cri: containerd and CRI-O lines; auto: either, decided per "
             "file by its first line. Container formats join partial "
             "lines, set the stream and time fields, and skip *.gz files. "
             "See docs/containers.md."},
    {.name = "streams",
     .type = LSH_OPT_STRLIST,
     .offset = offsetof(struct in_tail_conf, streams),
     .help = "Container formats: the streams to keep, from stdout and "
             "stderr (default both)."},
    {.name = "kubernetes",
     .type = LSH_OPT_BOOL,
     .def = "true",
     .offset = offsetof(struct in_tail_conf, kubernetes),
     .help = "Container formats: set k8s_pod, k8s_namespace, "
             "k8s_container and container_id from file names like "
             "/var/log/containers/<pod>_<namespace>_<container>-<id>.log."},
    {.name = NULL},
};

static int in_tail_validate(const void *conf, struct lsh_diag *d)
{
    const struct in_tail_conf *c = conf;
    struct in_tail_glob        g;
    const char                *err;
    size_t                     i;
    int                        rc = LSH_OK;

    for (i = 0; i < c->paths.n; i++) {
        if (in_tail_glob_compile(&g, c->paths.v[i], &err) != LSH_OK) {
            rc = lsh_diag_item(d, "paths", i, "'%s' %s", c->paths.v[i], err);
        }
        in_tail_glob_release(&g);
    }
    for (i = 0; i < c->exclude.n; i++) {
        if (strchr(c->exclude.v[i], '/') != NULL &&
            in_tail_glob_compile(&g, c->exclude.v[i], &err) != LSH_OK) {
            rc =
                lsh_diag_item(d, "exclude", i, "'%s' %s", c->exclude.v[i], err);
        }
        in_tail_glob_release(&g);
    }
    for (i = 0; i < c->streams.n; i++) {
        if (lsh_stream_of(c->streams.v[i], strlen(c->streams.v[i])) < 0) {
            rc = lsh_diag_item(d, "streams", i,
                               "'%s' is not a stream: stdout or stderr",
                               c->streams.v[i]);
        }
    }
    if (c->streams.n > 0 && c->format == LSH_CTR_RAW) {
        rc = lsh_diag_key(d, "streams",
                          "applies to container formats only (format: "
                          "docker, cri or auto)");
    }
    return rc;
}

bool in_tail_wanted(const struct in_tail *t, const char *path)
{
    const struct in_tail_conf *c = t->conf;
    const char                *base = strrchr(path, '/');
    bool                       match = false;
    size_t                     i;

    for (i = 0; i < t->nglobs && !match; i++) {
        match = in_tail_glob_match(&t->globs[i], path);
    }
    if (!match) {
        return false;
    }
    base = base ? base + 1 : path;
    /*
     * Compressed rotations are not text to follow; one that holds the
     * unread rest of a checkpointed file is read by recovery instead.
     */
    if (fnmatch("*.gz", base, 0) == 0) {
        return false;
    }
    for (i = 0; i < c->exclude.n; i++) {
        if (strchr(c->exclude.v[i], '/') == NULL &&
            fnmatch(c->exclude.v[i], base, 0) == 0) {
            return false;
        }
    }
    for (i = 0; i < t->nexcludes; i++) {
        if (in_tail_glob_match(&t->excludes[i], path)) {
            return false;
        }
    }
    return true;
}

bool in_tail_wanted_dir(const struct in_tail *t, const char *dir)
{
    size_t dl = strlen(dir);
    size_t i;

    for (i = 0; i < t->nglobs; i++) {
        const struct in_tail_glob *g = &t->globs[i];

        /* the root itself, an ancestor of a missing root, or below it */
        if (strncmp(g->root, dir, dl) == 0 &&
            (g->root[dl] == '\0' || g->root[dl] == '/')) {
            return true;
        }
        if (in_tail_glob_dir_may_match(g, dir)) {
            return true;
        }
    }
    return false;
}

void in_tail_enqueue(struct in_tail *t, struct in_tail_file *f)
{
    if (!f->queued && f->state != IN_TAIL_CLOSED) {
        f->queued = true;
        f->qnext = NULL;
        *t->qtail = f;
        t->qtail = &f->qnext;
    }
    lsh_input_ready(t->ins);
}

static struct in_tail_file *in_tail_dequeue(struct in_tail *t)
{
    struct in_tail_file *f = t->qhead;

    if (f != NULL) {
        t->qhead = f->qnext;
        if (t->qhead == NULL) {
            t->qtail = &t->qhead;
        }
        f->queued = false;
    }
    return f;
}

void in_tail_dequeue_file(struct in_tail *t, struct in_tail_file *f)
{
    struct in_tail_file **pp;

    for (pp = &t->qhead; *pp != NULL; pp = &(*pp)->qnext) {
        if (*pp == f) {
            *pp = f->qnext;
            if (t->qtail == &f->qnext) {
                t->qtail = pp;
            }
            f->queued = false;
            return;
        }
    }
}

/* Puts f back first in line (the pipeline was full). */
static void in_tail_requeue_front(struct in_tail *t, struct in_tail_file *f)
{
    if (f->queued || f->state == IN_TAIL_CLOSED) {
        return;
    }
    f->queued = true;
    f->qnext = t->qhead;
    t->qhead = f;
    if (f->qnext == NULL) {
        t->qtail = &f->qnext;
    }
}

static void in_tail_poll(struct lsh_timer *tm)
{
    in_tail_rescan(tm->data);
}

static int in_tail_compile_globs(struct in_tail *t)
{
    const struct in_tail_conf *c = t->conf;
    const char                *err;
    size_t                     i;

    t->globs = lsh_calloc(c->paths.n, sizeof(*t->globs));
    for (i = 0; i < c->paths.n; i++) {
        if (in_tail_glob_compile(&t->globs[t->nglobs], c->paths.v[i], &err) !=
            LSH_OK) {
            return lsh_ins_error(t->ins, "path '%s' %s", c->paths.v[i], err);
        }
        t->nglobs++;
    }
    t->excludes = lsh_calloc(c->exclude.n + 1, sizeof(*t->excludes));
    for (i = 0; i < c->exclude.n; i++) {
        if (strchr(c->exclude.v[i], '/') == NULL) {
            continue;
        }
        if (in_tail_glob_compile(&t->excludes[t->nexcludes], c->exclude.v[i],
                                 &err) != LSH_OK) {
            return lsh_ins_error(t->ins, "exclude '%s' %s", c->exclude.v[i],
                                 err);
        }
        t->nexcludes++;
    }
    return LSH_OK;
}

static int in_tail_init(struct lsh_instance *ins, const void *conf)
{
    const struct in_tail_conf *c = conf;
    struct in_tail            *t = lsh_calloc(1, sizeof(*t));

    t->ins = ins;
    t->conf = c;
    t->ifd = -1;
    t->ckpt = lsh_input_ckpt(ins);
    t->qtail = &t->qhead;
    ins->ctx = t;
    lsh_hmap_init(&t->files_by_wd);
    lsh_hmap_init(&t->files_by_id);
    lsh_hmap_init(&t->files_by_path);
    lsh_hmap_init(&t->dirs_by_wd);
    lsh_hmap_init(&t->dirs_by_path);
    lsh_hmap_init(&t->links_by_path);
    if (c->format != LSH_CTR_RAW) {
        size_t i;

        t->ctr.format = c->format;
        t->ctr.max_line = (size_t)c->max_line_bytes;
        t->ctr.on_long = c->on_long_line;
        t->ctr.streams = c->streams.n == 0 ? (1u << LSH_STREAM_COUNT) - 1 : 0;
        for (i = 0; i < c->streams.n; i++) {
            t->ctr.streams |=
                1u << lsh_stream_of(c->streams.v[i], strlen(c->streams.v[i]));
        }
    }
    if (in_tail_compile_globs(t) != LSH_OK ||
        in_tail_watch_start(t) != LSH_OK) {
        return LSH_ERR;
    }
    if (t->files_by_id.count == 0) {
        lsh_ins_info(ins, "no file matches yet; waiting for one to appear");
    }
    if (c->poll_interval_ms > 0) {
        lsh_timer_start(ins->loop, &t->poll_timer, c->poll_interval_ms,
                        c->poll_interval_ms, in_tail_poll, t);
    }
    return LSH_OK;
}

static int in_tail_collect(struct lsh_instance *ins)
{
    struct in_tail      *t = ins->ctx;
    struct in_tail_file *f;
    size_t               budget = 16 * (size_t)t->conf->read_chunk;

    while ((f = in_tail_dequeue(t)) != NULL) {
        if (in_tail_file_collect(f, &budget) != LSH_EAGAIN) {
            continue;
        }
        if (budget == 0) {
            in_tail_enqueue(t, f); /* round robin: to the back */
        } else {
            in_tail_requeue_front(t, f); /* the pipeline is full */
        }
        return LSH_EAGAIN;
    }
    return LSH_OK;
}

static void in_tail_stop(struct lsh_instance *ins)
{
    struct in_tail      *t = ins->ctx;
    struct in_tail_file *f;

    if (t == NULL) {
        return;
    }
    t->stopped = true;
    lsh_timer_stop(ins->loop, &t->poll_timer);
    in_tail_retry_pause(t);
    if (t->ifd >= 0) {
        lsh_io_stop(ins->loop, &t->io);
    }
    for (f = t->all; f != NULL; f = f->lnext) {
        lsh_timer_stop(ins->loop, &f->rotate_timer);
        lsh_timer_stop(ins->loop, &f->ml_timer);
    }
}

static void in_tail_exit(struct lsh_instance *ins)
{
    struct in_tail          *t = ins->ctx;
    struct in_tail_counters *c;
    size_t                   i;

    if (t == NULL) {
        return;
    }
    in_tail_stop(ins);
    t->exiting = true; /* the checkpoint keeps every file's position */
    while (t->all != NULL) {
        in_tail_file_free(t->all);
    }
    in_tail_retry_stop(t);
    c = &t->c;
    lsh_ins_info(
        ins,
        "%llu files opened, %llu closed, %llu rotations, %llu "
        "deletions, %llu truncations (%llu incomplete lines emitted), "
        "%llu inotify overflows; %llu "
        "lines, over max_line_bytes: %llu truncated, %llu skipped, "
        "%llu split; multiline: %llu records, %llu split at a limit",
        (unsigned long long)c->files_opened,
        (unsigned long long)c->files_closed, (unsigned long long)c->rotations,
        (unsigned long long)c->deletions, (unsigned long long)c->truncations,
        (unsigned long long)c->cut, (unsigned long long)c->overflows,
        (unsigned long long)c->lines, (unsigned long long)c->truncated,
        (unsigned long long)c->skipped, (unsigned long long)c->split,
        (unsigned long long)c->ml_records, (unsigned long long)c->ml_split);
    lsh_ins_info(
        ins,
        "%llu opens and %llu watches had to wait for a resource; "
        "%llu files followed by another input; %llu files rotated "
        "while logship was down read to their end (%llu of them "
        "compressed)",
        (unsigned long long)c->open_errors, (unsigned long long)c->watch_errors,
        (unsigned long long)c->followed_elsewhere,
        (unsigned long long)c->recovered, (unsigned long long)c->recovered_gz);
    if (t->conf->format != LSH_CTR_RAW) {
        lsh_ins_info(ins,
                     "container logs: %llu lines, %llu partial parts "
                     "joined, %llu malformed (kept raw), %llu on streams "
                     "not kept",
                     (unsigned long long)c->ctr_lines,
                     (unsigned long long)c->ctr_partials,
                     (unsigned long long)c->ctr_malformed,
                     (unsigned long long)c->ctr_filtered);
    }
    in_tail_watch_stop(t);
    for (i = 0; i < t->nglobs; i++) {
        in_tail_glob_release(&t->globs[i]);
    }
    for (i = 0; i < t->nexcludes; i++) {
        in_tail_glob_release(&t->excludes[i]);
    }
    free(t->globs);
    free(t->excludes);
    lsh_hmap_release(&t->files_by_wd);
    lsh_hmap_release(&t->files_by_id);
    lsh_hmap_release(&t->files_by_path);
    lsh_hmap_release(&t->dirs_by_wd);
    lsh_hmap_release(&t->dirs_by_path);
    lsh_hmap_release(&t->links_by_path);
    free(t);
    ins->ctx = NULL;
}

const struct lsh_plugin in_tail_plugin = {
    .name = "tail",
    .description = "Follows files found by globs and emits each line (or "
                   "multiline record) as a record; survives rotation, "
                   "truncation and deletion.",
    .kind = LSH_PLUGIN_INPUT,
    .flags = LSH_PLUGIN_CHECKPOINTS,
    .options = in_tail_options,
    .conf_size = sizeof(struct in_tail_conf),
    .validate = in_tail_validate,
    .init = in_tail_init,
    .collect = in_tail_collect,
    .stop = in_tail_stop,
    .exit = in_tail_exit,
    .metrics = in_tail_metrics,
    .status = in_tail_status,
};
