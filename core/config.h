/*
 * The loaded configuration: the service section and the pipelines, each
 * plugin's options parsed and validated against its table.  Loading
 * validates everything before any plugin starts.
 */
#ifndef LSH_CONFIG_H
#define LSH_CONFIG_H

#include "diag.h"
#include "node.h"
#include "plugin.h"

struct lsh_http_conf;

struct lsh_service_conf {
    char   *state_dir;
    int     log_level;
    char   *hostname;
    int64_t shutdown_timeout_ms;
    int64_t checkpoint_delay_ms;
    int64_t checkpoint_interval_ms; /* deprecated: checkpoint_delay */
    int64_t checkpoint_retention_ms;
    struct lsh_http_conf *http; /* NULL when absent */
};

struct lsh_stage_conf {
    const struct lsh_plugin *plugin;
    void                    *conf; /* plugin->conf_size bytes */
    struct lsh_mark          mark;
    const struct lsh_node   *node;      /* its YAML (in doc) */
    char                     label[80]; /* "input 'tail' #2" */
};

struct lsh_pipeline_conf {
    char                  *name;
    struct lsh_mark        mark;
    const struct lsh_node *node; /* its YAML (in doc): what a reload compares */
    struct lsh_stage_conf *stages[3]; /* by enum lsh_plugin_kind */
    size_t                 nstages[3];
};

struct lsh_config {
    struct lsh_service_conf   service;
    struct lsh_pipeline_conf *pipelines;
    size_t                    npipelines;
    struct lsh_doc           *doc;
};

extern const struct lsh_option lsh_service_options[];

/*
 * Loads and validates the configuration at path (file or directory).
 * Returns it, or NULL with every error found in d.
 */
struct lsh_config *lsh_config_load(const char *path, struct lsh_diag *d);

/* Same, from YAML text (tests and fuzzing). */
struct lsh_config *lsh_config_parse(const char *name, const char *text,
                                    size_t len, struct lsh_diag *d);

void lsh_config_destroy(struct lsh_config *cfg);

/* Appends the resolved configuration as YAML, secrets masked. */
void lsh_config_print(const struct lsh_config *cfg, struct lsh_buf *out);

/* Appends the Markdown reference of every option of every plugin. */
void lsh_config_doc(struct lsh_buf *out);

#endif
