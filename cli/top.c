/*
 * logship top [-c PATH | --url URL]: a live view of a running logship,
 * from its /metrics, refreshed each second; q quits.
 *
 * One line per input, filter and output of each pipeline: records and
 * bytes per second (rates over the last refresh), the tail input's lag
 * (bytes not yet acknowledged), records in flight, whether back-pressure
 * holds the pipeline, records dropped by filters and failed deliveries.
 */
#include <curses.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "mem.h"

/* One stage's samples, by its labels. */
struct lsh_top_row {
    char   pipeline[64];
    char   kind[8]; /* input, filter, output */
    char   name[64];
    double records; /* input: read; filter: let through; output: delivered */
    double bytes;
    double lag;
    double inflight;
    double dropped;
    double failures;
    double paused;
    double rate;      /* records/s, since the last sample */
    double byte_rate; /* bytes/s */
};

struct lsh_top {
    struct lsh_top_row *rows;
    size_t              n;
    size_t              cap;
};

/* The value of label key in a labels text (k="v",k2="v2"), into out. */
static bool lsh_top_label(const char *labels, const char *key, char *out,
                          size_t cap)
{
    size_t      klen = strlen(key);
    const char *p = labels;

    while ((p = strstr(p, key)) != NULL) {
        if ((p == labels || p[-1] == ',' || p[-1] == '{') && p[klen] == '=' &&
            p[klen + 1] == '"') {
            const char *v = p + klen + 2;
            size_t      n = 0;

            while (v[n] != '\0' && v[n] != '"' && n + 1 < cap) {
                out[n] = v[n];
                n++;
            }
            out[n] = '\0';
            return true;
        }
        p += klen;
    }
    return false;
}

static struct lsh_top_row *lsh_top_row(struct lsh_top *t, const char *pipeline,
                                       const char *kind, const char *name)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        if (strcmp(t->rows[i].pipeline, pipeline) == 0 &&
            strcmp(t->rows[i].kind, kind) == 0 &&
            strcmp(t->rows[i].name, name) == 0) {
            return &t->rows[i];
        }
    }
    LSH_GROW(t->rows, t->cap, t->n + 1);
    memset(&t->rows[t->n], 0, sizeof(t->rows[t->n]));
    snprintf(t->rows[t->n].pipeline, sizeof(t->rows[t->n].pipeline), "%s",
             pipeline);
    snprintf(t->rows[t->n].kind, sizeof(t->rows[t->n].kind), "%s", kind);
    snprintf(t->rows[t->n].name, sizeof(t->rows[t->n].name), "%s", name);
    return &t->rows[t->n++];
}

/* Reads the exposition text into t (values replaced, rows kept). */
static void lsh_top_parse(struct lsh_top *t, char *text)
{
    static const struct {
        const char *metric;
        const char *kind;
        size_t      field; /* offsetof in lsh_top_row */
    } map[] = {
        {"logship_input_records_total", "input",
         offsetof(struct lsh_top_row, records)},
        {"logship_input_bytes_total", "input",
         offsetof(struct lsh_top_row, bytes)},
        {"logship_tail_lag_bytes", "input", offsetof(struct lsh_top_row, lag)},
        {"logship_filter_records_total", "filter",
         offsetof(struct lsh_top_row, records)},
        {"logship_filter_dropped_records_total", "filter",
         offsetof(struct lsh_top_row, dropped)},
        {"logship_output_records_delivered_total", "output",
         offsetof(struct lsh_top_row, records)},
        {"logship_output_inflight_records", "output",
         offsetof(struct lsh_top_row, inflight)},
        {"logship_output_inflight_bytes", "output",
         offsetof(struct lsh_top_row, bytes)},
        {"logship_output_delivery_failures_total", "output",
         offsetof(struct lsh_top_row, failures)},
    };
    char *line;
    char *save = NULL;

    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char  *brace = strchr(line, '{');
        char  *space = strrchr(line, ' ');
        char   pipeline[64];
        char   name[64];
        size_t i;
        size_t mlen;
        double v;

        if (line[0] == '#' || brace == NULL || space == NULL) {
            continue;
        }
        mlen = (size_t)(brace - line);
        v = strtod(space + 1, NULL);
        if (!lsh_top_label(brace, "pipeline", pipeline, sizeof(pipeline))) {
            continue;
        }
        if (mlen == strlen("logship_pipeline_paused") &&
            strncmp(line, "logship_pipeline_paused", mlen) == 0) {
            for (i = 0; i < t->n; i++) {
                if (strcmp(t->rows[i].pipeline, pipeline) == 0) {
                    t->rows[i].paused = v;
                }
            }
            continue;
        }
        for (i = 0; i < LSH_ARRAY_SIZE(map); i++) {
            if (strlen(map[i].metric) == mlen &&
                strncmp(line, map[i].metric, mlen) == 0 &&
                lsh_top_label(brace, map[i].kind, name, sizeof(name))) {
                struct lsh_top_row *r =
                    lsh_top_row(t, pipeline, map[i].kind, name);

                *(double *)((char *)r + map[i].field) = v;
            }
        }
    }
}

/* 1234567 as "1.2M": rates and sizes in a narrow column. */
static void lsh_top_human(char *out, size_t cap, double v)
{
    static const char units[] = " kMGTP";
    int               u = 0;

    while (v >= 10000 && u < 5) {
        v /= 1000;
        u++;
    }
    if (u == 0) {
        snprintf(out, cap, "%.0f", v);
    } else {
        snprintf(out, cap, "%.1f%c", v, units[u]);
    }
}

static void lsh_top_draw(const struct lsh_top *t, const char *target,
                         const char *problem)
{
    size_t i;
    int    y = 2;

    erase();
    mvprintw(0, 0, "logship top - %s - refreshed each second, q quits", target);
    attron(A_REVERSE);
    mvprintw(1, 0, "%-16s %-7s %-14s %9s %9s %9s %9s %6s %9s %9s", "PIPELINE",
             "KIND", "STAGE", "REC/S", "BYTES/S", "LAG", "INFLIGHT", "PAUSED",
             "DROPPED", "FAILURES");
    attroff(A_REVERSE);
    for (i = 0; i < t->n; i++) {
        const struct lsh_top_row *r = &t->rows[i];
        char                      rate[16];
        char                      brate[16];
        char                      lag[16];
        char                      infl[16];
        char                      drop[16];
        char                      fail[16];

        lsh_top_human(rate, sizeof(rate), r->rate);
        lsh_top_human(brate, sizeof(brate), r->byte_rate);
        lsh_top_human(lag, sizeof(lag), r->lag);
        lsh_top_human(infl, sizeof(infl), r->inflight);
        lsh_top_human(drop, sizeof(drop), r->dropped);
        lsh_top_human(fail, sizeof(fail), r->failures);
        mvprintw(y++, 0, "%-16.16s %-7s %-14.14s %9s %9s %9s %9s %6s %9s %9s",
                 r->pipeline, r->kind, r->name, rate,
                 strcmp(r->kind, "input") == 0 ? brate : "-",
                 strcmp(r->kind, "input") == 0 ? lag : "-",
                 strcmp(r->kind, "output") == 0 ? infl : "-",
                 r->paused > 0 ? "yes" : "no",
                 strcmp(r->kind, "filter") == 0 ? drop : "-",
                 strcmp(r->kind, "output") == 0 ? fail : "-");
    }
    if (problem != NULL) {
        mvprintw(y + 1, 0, "%s", problem);
    }
    refresh();
}

static void lsh_top_usage(FILE *to)
{
    fprintf(to, "usage: logship top [-c PATH | --url URL]\n");
}

int lsh_top_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char    *config = NULL;
    const char    *url = NULL;
    struct lsh_buf target = LSH_BUF_INIT;
    struct lsh_buf err = LSH_BUF_INIT;
    struct lsh_buf body = LSH_BUF_INIT;
    struct lsh_top top = {NULL, 0, 0};
    int64_t        last = 0;
    int            c;
    int            status;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'h':
            lsh_top_usage(stdout);
            return 0;
        default:
            lsh_top_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        lsh_top_usage(stderr);
        return 2;
    }
    if (lsh_client_target(url, config, &target, &err) != LSH_OK) {
        fprintf(stderr, "logship top: %s\n", lsh_buf_cstr(&err));
        lsh_buf_release(&err);
        return 2;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr,
                "logship top: needs a terminal (curl %s/metrics "
                "gives the same numbers)\n",
                lsh_buf_cstr(&target));
        lsh_buf_release(&target);
        lsh_buf_release(&err);
        return 2;
    }
    initscr();
    cbreak();
    noecho();
    curs_set(0);
    timeout(1000); /* getch() waits a second at most: the refresh */
    for (;;) {
        const char *problem = NULL;
        int64_t     now = lsh_now_mono_ns();
        size_t      i;

        lsh_buf_reset(&body);
        lsh_buf_reset(&err);
        if (lsh_client_request(lsh_buf_cstr(&target), "GET", "/metrics", 3000,
                               &status, &body, &err) != LSH_OK) {
            problem = lsh_buf_cstr(&err);
        } else if (status != 200) {
            problem = "/metrics did not answer 200";
        } else {
            struct lsh_top_row *prev = NULL;
            size_t              nprev = top.n;
            double              dt = last > 0 ? (double)(now - last) / 1e9 : 0;

            if (nprev > 0) {
                prev = lsh_malloc(nprev * sizeof(*prev));
                memcpy(prev, top.rows, nprev * sizeof(*prev));
            }
            lsh_top_parse(&top, (char *)lsh_buf_cstr(&body));
            /* rows are only ever appended: row i was prev[i] */
            for (i = 0; i < nprev && dt > 0; i++) {
                top.rows[i].rate =
                    LSH_MAX(top.rows[i].records - prev[i].records, 0) / dt;
                top.rows[i].byte_rate =
                    LSH_MAX(top.rows[i].bytes - prev[i].bytes, 0) / dt;
            }
            free(prev);
            last = now;
        }
        lsh_top_draw(&top, lsh_buf_cstr(&target), problem);
        c = getch();
        if (c == 'q' || c == 'Q') {
            break;
        }
        /* a key other than q: refresh now; else a second went by */
    }
    endwin();
    free(top.rows);
    lsh_buf_release(&target);
    lsh_buf_release(&err);
    lsh_buf_release(&body);
    return 0;
}
