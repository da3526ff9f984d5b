/*
 * logship command line: load and check the configuration, then run it.
 *
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for a bad
 * configuration or command line, or a corrupt checkpoint file.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <librdkafka/rdkafka.h>
#include <pcre2.h>
#include <yaml.h>

#include "ckpt.h"
#include "client.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

#ifndef LSH_VERSION
#define LSH_VERSION "0.0.0"
#endif

#define LSH_EXIT_OK      0
#define LSH_EXIT_RUNTIME 1
#define LSH_EXIT_CONFIG  2

static void lsh_usage(FILE *to)
{
    fprintf(to,
            "usage: logship -c PATH [--check] [--log-level LEVEL]\n"
            "       logship --checkpoints STATE_DIR\n"
            "       logship top [-c PATH | --url URL]\n"
            "       logship tap PIPELINE [-c PATH | --url URL] "
            "[--after input|N] [--limit N]\n"
            "       logship --doc | --doc-metrics | --version | --help\n"
            "\n"
            "  -c, --config PATH    YAML file, or directory of *.yaml files "
            "merged\n"
            "                       in name order\n"
            "  -t, --check          validate the configuration, print it "
            "resolved\n"
            "                       (secrets masked) and exit: 0 if valid, 2 "
            "if not\n"
            "  -l, --log-level L    error, warn, info or debug (overrides\n"
            "                       service.log_level)\n"
            "      --checkpoints D  print the committed offsets kept in state "
            "dir D\n"
            "                       (snapshot and journal; safe while "
            "logship runs)\n"
            "      --doc            print the configuration reference "
            "(Markdown)\n"
            "      --doc-metrics    print the metrics the HTTP API serves "
            "(Markdown)\n"
            "  -V, --version        print versions and exit\n"
            "  -h, --help           print this help and exit\n");
}

static void lsh_version(void)
{
    char pcre[64];

    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("logship %s (librdkafka %s, libyaml %s, PCRE2 %s)\n", LSH_VERSION,
           rd_kafka_version_str(), yaml_get_version_string(), pcre);
}

static int lsh_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * --checkpoints: every pipeline with a snapshot or a journal in dir, in
 * name order.  Exits 0, 1 if a file cannot be read, 2 if one is corrupt.
 */
static int lsh_show_checkpoints(const char *dir)
{
    struct lsh_buf out = LSH_BUF_INIT;
    struct lsh_buf err = LSH_BUF_INIT;
    DIR           *d = opendir(dir);
    struct dirent *de;
    char         **names = NULL;
    size_t         n = 0;
    size_t         i;
    int            status = LSH_EXIT_OK;

    if (d == NULL) {
        fprintf(stderr, "logship: cannot open state directory '%s': %s\n", dir,
                strerror(errno));
        return LSH_EXIT_RUNTIME;
    }
    while ((de = readdir(d)) != NULL) {
        const char *dot = strrchr(de->d_name, '.');
        size_t      len = dot != NULL ? (size_t)(dot - de->d_name) : 0;

        if (de->d_name[0] == '.' || len == 0 ||
            (strcmp(dot, ".ckpt") != 0 && strcmp(dot, ".journal") != 0)) {
            continue;
        }
        for (i = 0; i < n; i++) {
            if (strncmp(names[i], de->d_name, len) == 0 &&
                names[i][len] == '\0') {
                break;
            }
        }
        if (i == n) {
            names = lsh_realloc(names, (n + 1) * sizeof(*names));
            names[n++] = lsh_strndup(de->d_name, len);
        }
    }
    closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof(*names), lsh_cmp_str);
    }
    for (i = 0; i < n; i++) {
        int rc = lsh_ckpt_inspect(dir, names[i], &out, &err);

        if (rc != LSH_OK) {
            fprintf(stderr, "logship: %s\n", lsh_buf_cstr(&err));
            if (status != LSH_EXIT_CONFIG) {
                status = rc == LSH_EINVAL ? LSH_EXIT_CONFIG : LSH_EXIT_RUNTIME;
            }
        }
        free(names[i]);
    }
    if (n == 0) {
        fprintf(stderr, "logship: no checkpoints in '%s'\n", dir);
    }
    if (out.len > 0) {
        fwrite(out.ptr, 1, out.len, stdout); /* ptr is NULL while empty */
    }
    free(names);
    lsh_buf_release(&out);
    lsh_buf_release(&err);
    return status;
}

struct lsh_args {
    const char *config;
    const char *log_level;
    bool        check;
};

static int lsh_parse_args(int argc, char **argv, struct lsh_args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"doc", no_argument, NULL, 'D'},
        {"doc-metrics", no_argument, NULL, 'M'},
        {"checkpoints", required_argument, NULL, 'K'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lsh_buf doc = LSH_BUF_INIT;
    int            c;

    while ((c = getopt_long(argc, argv, "c:tl:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 't':
            a->check = true;
            break;
        case 'l':
            a->log_level = optarg;
            break;
        case 'D':
            lsh_config_doc(&doc);
            fwrite(doc.ptr, 1, doc.len, stdout);
            lsh_buf_release(&doc);
            exit(LSH_EXIT_OK);
        case 'M':
            lsh_metrics_doc(&doc);
            fwrite(doc.ptr, 1, doc.len, stdout);
            lsh_buf_release(&doc);
            exit(LSH_EXIT_OK);
        case 'K':
            exit(lsh_show_checkpoints(optarg));
        case 'V':
            lsh_version();
            exit(LSH_EXIT_OK);
        case 'h':
            lsh_usage(stdout);
            exit(LSH_EXIT_OK);
        default:
            lsh_usage(stderr);
            return LSH_EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "logship: unexpected argument '%s'\n", argv[optind]);
        return LSH_EINVAL;
    }
    if (a->config == NULL) {
        fprintf(stderr, "logship: no configuration given (use -c PATH)\n");
        lsh_usage(stderr);
        return LSH_EINVAL;
    }
    if (a->log_level != NULL &&
        lsh_log_set_level_name(a->log_level) != LSH_OK) {
        fprintf(stderr,
                "logship: unknown log level '%s' (error, warn, info, debug)\n",
                a->log_level);
        return LSH_EINVAL;
    }
    return LSH_OK;
}

/*
 * Every followed file holds a descriptor: take the hard limit as the soft
 * one (the usual soft default, 1024, is too few for a log host).
 */
static void lsh_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        lsh_debug("open files limit: %llu", (unsigned long long)rl.rlim_cur);
    }
}

static int lsh_run(const struct lsh_config *cfg, const struct lsh_args *a)
{
    struct lsh_engine *e = lsh_engine_create(cfg);
    int                rc;

    if (e == NULL) {
        return LSH_EXIT_RUNTIME;
    }
    lsh_engine_set_source(e, a->config, a->log_level == NULL);
    rc = lsh_engine_start(e, true);
    if (rc != LSH_OK) {
        lsh_engine_destroy(e);
        return rc == LSH_EINVAL ? LSH_EXIT_CONFIG : LSH_EXIT_RUNTIME;
    }
    lsh_info("logship %s started", LSH_VERSION);
    rc = lsh_engine_run(e);
    lsh_engine_destroy(e);
    return rc == LSH_ERR ? LSH_EXIT_RUNTIME : LSH_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct lsh_args    args = {NULL, NULL, false};
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_buf     out = LSH_BUF_INIT;
    sigset_t           stop;
    int                rc;

    /*
     * SIGTERM, SIGINT and SIGHUP wait, blocked, until the engine reads them
     * from its signalfd: one that comes while logship starts is not lost, nor
     * does it kill the process before its checkpoints are safe.  Threads
     * (librdkafka's) inherit the mask, so none of them takes a signal.
     */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP); /* a reload, never the default (exit 129) */
    if (argc >= 2 && strcmp(argv[1], "top") == 0) {
        return lsh_top_main(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "tap") == 0) {
        return lsh_tap_main(argc - 1, argv + 1);
    }
    if (lsh_parse_args(argc, argv, &args) != LSH_OK) {
        return LSH_EXIT_CONFIG;
    }
    if (!args.check) {
        sigprocmask(SIG_BLOCK, &stop, NULL);
    }
    lsh_diag_init(&d);
    cfg = lsh_config_load(args.config, &d);
    if (d.text.len > 0) {
        fwrite(d.text.ptr, 1, d.text.len, stderr);
    }
    if (cfg == NULL) {
        fprintf(stderr, "logship: %zu error%s in configuration '%s'\n",
                d.nerrors, d.nerrors == 1 ? "" : "s", args.config);
        lsh_diag_release(&d);
        return LSH_EXIT_CONFIG;
    }
    lsh_diag_release(&d);
    if (args.check) {
        lsh_config_print(cfg, &out);
        fwrite(out.ptr, 1, out.len, stdout);
        lsh_buf_release(&out);
        fprintf(stderr, "logship: configuration '%s' is valid\n", args.config);
        lsh_config_destroy(cfg);
        return LSH_EXIT_OK;
    }
    if (args.log_level == NULL) {
        lsh_log_level = cfg->service.log_level;
    }
    lsh_host_set(cfg->service.hostname);
    signal(SIGPIPE, SIG_IGN);
    lsh_raise_nofile();
    rc = lsh_run(cfg, &args);
    lsh_config_destroy(cfg);
    return rc;
}
