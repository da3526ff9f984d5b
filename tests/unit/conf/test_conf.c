/*
 * Configuration loading: YAML to nodes with positions, ${VAR} expansion,
 * directory merging, and every class of configuration error with its
 * file:line:column, context and key.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "node.h"
#include "tpl.h"

static const char *const good_yaml =
    "service:\n"
    "  log_level: debug\n"
    "  state_dir: /tmp/x\n"
    "pipelines:\n"
    "  app:\n"
    "    inputs:\n"
    "      - type: tail\n"
    "        paths: [/var/log/app/*.log, /var/log/b.log]\n"
    "        read_from: tail\n"
    "    filters: []\n"
    "    outputs:\n"
    "      - type: kafka\n"
    "        brokers: 127.0.0.1:9092\n"
    "        topic: app-logs\n"
    "        format: raw\n"
    "      - type: stdout\n";

static void test_good(void **state)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_buf     out = LSH_BUF_INIT;

    (void)state;
    lsh_diag_init(&d);
    cfg = lsh_config_parse("good.yaml", good_yaml, strlen(good_yaml), &d);
    assert_non_null(cfg);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(cfg->service.log_level, 3);
    assert_string_equal(cfg->service.state_dir, "/tmp/x");
    assert_int_equal(cfg->service.shutdown_timeout_ms, 10000);
    assert_int_equal(cfg->npipelines, 1);
    assert_string_equal(cfg->pipelines[0].name, "app");
    assert_int_equal(cfg->pipelines[0].nstages[LSH_PLUGIN_INPUT], 1);
    assert_int_equal(cfg->pipelines[0].nstages[LSH_PLUGIN_FILTER], 0);
    assert_int_equal(cfg->pipelines[0].nstages[LSH_PLUGIN_OUTPUT], 2);
    assert_string_equal(cfg->pipelines[0].stages[2][1].plugin->name, "stdout");
    lsh_config_print(cfg, &out);
    lsh_buf_cstr(&out);
    assert_non_null(strstr(out.ptr, "paths: [\"/var/log/app/*.log\", "
                                    "\"/var/log/b.log\"]"));
    assert_non_null(strstr(out.ptr, "read_from: tail"));
    assert_non_null(strstr(out.ptr, "max_line_bytes: 1MiB"));
    assert_non_null(strstr(out.ptr, "topic: \"app-logs\""));
    lsh_buf_release(&out);
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
}

/* Loads yaml and asserts the diagnostics contain want. */
static void expect_error(const char *yaml, const char *want)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;

    lsh_diag_init(&d);
    cfg = lsh_config_parse("t.yaml", yaml, strlen(yaml), &d);
    lsh_buf_cstr(&d.text);
    if (cfg != NULL || strstr(d.text.ptr, want) == NULL) {
        fail_msg("want error containing:\n  %s\ngot (%s):\n%s", want,
                 cfg ? "loaded" : "rejected", d.text.ptr);
    }
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
}

#define PIPE_HEAD "pipelines:\n  app:\n    inputs:\n"
#define TAIL_OK   "      - type: tail\n        paths: /x\n"
#define OUTPUTS   "    outputs:\n      - type: stdout\n"

static void test_yaml_errors(void **state)
{
    (void)state;
    expect_error("pipelines:\n  app: [\n", "t.yaml:3:1: invalid YAML");
    expect_error("a: 1\n b: 2\n", "t.yaml:2:3: invalid YAML");
    expect_error("- 1\n- 2\n", "t.yaml:1:1: the top level must be a map");
    expect_error("service: {}\nservice: {}\n",
                 "t.yaml:2:1: duplicate key 'service' (first defined at 1:1)");
    expect_error("base: &b {x: 1}\nother:\n  <<: *b\n",
                 "t.yaml:3:3: YAML merge keys ('<<') are not supported");
}

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error("servce: {}\npipelines: {}\n",
                 "t.yaml:1:1: unknown top-level key 'servce'; valid keys: "
                 "service, pipelines");
    expect_error("service: {}\n", "t.yaml:1:1: no 'pipelines' defined");
    expect_error("pipelines: [a]\n",
                 "t.yaml:1:12: 'pipelines' must be a map of pipeline names");
    expect_error("pipelines: {}\n", "t.yaml:1:12: 'pipelines' must be a map "
                                    "of pipeline names to pipelines, not an "
                                    "empty map");
    expect_error("pipelines:\n  bad/name:\n    inputs: []\n",
                 "t.yaml:2:3: pipeline 'bad/name': invalid pipeline name");
    expect_error(PIPE_HEAD TAIL_OK OUTPUTS "    output: []\n",
                 "t.yaml:8:5: pipeline 'app': unknown key 'output'; valid "
                 "keys: inputs, filters, outputs");
    expect_error("pipelines:\n  app:\n" OUTPUTS,
                 "t.yaml:2:3: pipeline 'app': needs at least one input");
    expect_error(PIPE_HEAD TAIL_OK,
                 "t.yaml:2:3: pipeline 'app': needs at least one output");
    expect_error(PIPE_HEAD "      - tail\n" OUTPUTS,
                 "t.yaml:4:9: pipeline 'app': input #1: expected a map with "
                 "'type', got a scalar");
    expect_error(PIPE_HEAD "      - paths: /x\n" OUTPUTS,
                 "t.yaml:4:9: pipeline 'app': input #1: missing 'type' (one "
                 "of: tail, stdin)");
    expect_error(PIPE_HEAD "      - type: tial\n" OUTPUTS,
                 "t.yaml:4:15: pipeline 'app': input #1: unknown input type "
                 "'tial' (one of: tail, stdin)");
    expect_error("pipelines:\n  app:\n    inputs: {type: tail}\n" OUTPUTS,
                 "t.yaml:3:13: pipeline 'app': 'inputs' must be a list, not "
                 "a map");
}

static void test_option_errors(void **state)
{
    (void)state;
    expect_error(PIPE_HEAD TAIL_OK "        path: /y\n" OUTPUTS,
                 "t.yaml:6:9: pipeline 'app': input 'tail': unknown option "
                 "'path' (did you mean 'paths'?); valid options: paths, "
                 "exclude, read_from,");
    expect_error(PIPE_HEAD TAIL_OK "        colour: red\n" OUTPUTS,
                 "t.yaml:6:9: pipeline 'app': input 'tail': unknown option "
                 "'colour'; valid options: paths,");
    expect_error(PIPE_HEAD "      - type: tail\n" OUTPUTS,
                 "t.yaml:4:9: pipeline 'app': input 'tail': missing required "
                 "option 'paths'");
    expect_error(PIPE_HEAD TAIL_OK "        read_from: middle\n" OUTPUTS,
                 "t.yaml:6:20: pipeline 'app': input 'tail': option "
                 "'read_from': 'middle' is not one of: head, tail");
    expect_error(PIPE_HEAD TAIL_OK "        max_line_bytes: 8\n" OUTPUTS,
                 "t.yaml:6:25: pipeline 'app': input 'tail': option "
                 "'max_line_bytes': 8 is below the minimum 16");
    expect_error(PIPE_HEAD TAIL_OK "        max_line_bytes: 1GiB\n" OUTPUTS,
                 "option 'max_line_bytes': 1GiB is above the maximum 64MiB");
    expect_error(PIPE_HEAD TAIL_OK "        max_line_bytes: lots\n" OUTPUTS,
                 "t.yaml:6:25: pipeline 'app': input 'tail': option "
                 "'max_line_bytes': 'lots' is not a size");
    expect_error(PIPE_HEAD TAIL_OK "        strip_cr: maybe\n" OUTPUTS,
                 "t.yaml:6:19: pipeline 'app': input 'tail': option "
                 "'strip_cr': 'maybe' is not true or false");
    expect_error(PIPE_HEAD TAIL_OK "        read_from: [head]\n" OUTPUTS,
                 "t.yaml:6:20: pipeline 'app': input 'tail': option "
                 "'read_from': expected one of, got a list");
    expect_error(PIPE_HEAD TAIL_OK "        read_from:\n" OUTPUTS,
                 "option 'read_from': has no value");
    expect_error(PIPE_HEAD
                 "      - type: tail\n        paths: {a: 1}\n" OUTPUTS,
                 "t.yaml:5:16: pipeline 'app': input 'tail': option 'paths': "
                 "expected a string or a list of strings, got a map");
    expect_error(PIPE_HEAD
                 "      - type: tail\n        paths: [a, [b]]\n" OUTPUTS,
                 "t.yaml:5:20: pipeline 'app': input 'tail': option 'paths': "
                 "list item 2: expected a string, got a list");
    expect_error("service:\n  shutdown_timeout: 10\n" PIPE_HEAD TAIL_OK OUTPUTS,
                 "t.yaml:2:21: service: option 'shutdown_timeout': '10' is "
                 "not a duration");
    expect_error("service:\n  shutdown_timeout: 2h\n" PIPE_HEAD TAIL_OK OUTPUTS,
                 "option 'shutdown_timeout': 2h is above the maximum 1h");
}

static void test_plugin_validate(void **state)
{
    (void)state;
    expect_error(PIPE_HEAD TAIL_OK
                 "    outputs:\n      - type: kafka\n"
                 "        brokers: b:9092\n        topic: t\n"
                 "        rdkafka:\n          linger.ms: soon\n",
                 "t.yaml:11:22: pipeline 'app': output 'kafka': option "
                 "'rdkafka': property 'linger.ms': Invalid value for "
                 "configuration property \"queue.buffering.max.ms\"");
    expect_error(PIPE_HEAD TAIL_OK
                 "    outputs:\n      - type: kafka\n"
                 "        brokers: b:9092\n        topic: t\n"
                 "        rdkafka:\n          no.such.thing: 1\n",
                 "t.yaml:11:26: pipeline 'app': output 'kafka': option "
                 "'rdkafka': property 'no.such.thing': No such configuration "
                 "property");
    expect_error(PIPE_HEAD TAIL_OK "    outputs:\n      - type: kafka\n"
                                   "        topic: t\n",
                 "t.yaml:7:9: pipeline 'app': output 'kafka': missing "
                 "required option 'brokers'");
}

static void test_env(void **state)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    const char        *yaml = PIPE_HEAD
        "      - type: tail\n"
        "        paths: ['${LSH_T_DIR}/*.log', '${LSH_T_UNSET:-/d}/x', "
        "'/${LSH_T_EMPTY:-e}', '/lit $${HOME} $$x $5', "
        "'${LSH_T_UNSET:-${LSH_T_DIR}/state}', "
        "'${LSH_T_UNSET:-${LSH_T_EMPTY:-/n}/${LSH_T_DIR:-x}}', "
        "'/${LSH_T_DIR:-${LSH_T_UNSET}}']\n" OUTPUTS;
    const char **paths;

    (void)state;
    setenv("LSH_T_DIR", "/var/log/app", 1);
    setenv("LSH_T_EMPTY", "", 1);
    unsetenv("LSH_T_UNSET");
    lsh_diag_init(&d);
    cfg = lsh_config_parse("t.yaml", yaml, strlen(yaml), &d);
    assert_non_null(cfg);
    paths = (const char *
                 *)((struct lsh_strlist *)cfg->pipelines[0].stages[0][0].conf)
                ->v;
    assert_string_equal(paths[0], "/var/log/app/*.log");
    assert_string_equal(paths[1], "/d/x");
    assert_string_equal(paths[2], "/e");
    assert_string_equal(paths[3], "/lit ${HOME} $$x $5");
    /* nested defaults are expanded in turn; a set variable wins */
    assert_string_equal(paths[4], "/var/log/app/state");
    assert_string_equal(paths[5], "/n//var/log/app");
    assert_string_equal(paths[6], "//var/log/app");
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);

    expect_error(
        PIPE_HEAD
        "      - type: tail\n        paths: /a/${LSH_T_UNSET}\n" OUTPUTS,
        "t.yaml:5:19: pipeline 'app': input 'tail': option 'paths': "
        "environment variable 'LSH_T_UNSET' is not set");
    expect_error(PIPE_HEAD "      - type: tail\n        paths: ${1x}\n" OUTPUTS,
                 "t.yaml:5:16: pipeline 'app': input 'tail': option 'paths': "
                 "expected a variable name after '${'");
    expect_error(PIPE_HEAD
                 "      - type: tail\n        paths: ${A:-b\n" OUTPUTS,
                 "option 'paths': '${A:-' is not closed by '}'");
    expect_error(PIPE_HEAD "      - type: tail\n        paths: "
                           "/${LSH_T_UNSET:-${LSH_T_UNSET}}\n" OUTPUTS,
                 "t.yaml:5:32: pipeline 'app': input 'tail': option 'paths': "
                 "environment variable 'LSH_T_UNSET' is not set");
    expect_error(PIPE_HEAD "      - type: tail\n        paths: "
                           "/${LSH_T_UNSET:-${B}\n" OUTPUTS,
                 "'${LSH_T_UNSET:-' is not closed by '}'");
    expect_error(PIPE_HEAD
                 "      - type: tail\n        paths: ${A-b}\n" OUTPUTS,
                 "option 'paths': '${A' must be followed by '}' or "
                 "':-default}'");
    expect_error(PIPE_HEAD "      - type: ${LSH_T_UNSET}\n" OUTPUTS,
                 "t.yaml:4:15: pipeline 'app': input #1: option 'type': "
                 "environment variable 'LSH_T_UNSET' is not set");
    /* in a key nothing reads: still reported */
    expect_error("x: ${LSH_T_UNSET}\n" PIPE_HEAD TAIL_OK OUTPUTS,
                 "unknown top-level key 'x'");
    unsetenv("LSH_T_DIR");
    unsetenv("LSH_T_EMPTY");
}

static void test_all_errors_reported(void **state)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    const char        *yaml = "service:\n  log_levl: x\n" PIPE_HEAD
                       "      - type: tail\n        paths: /x\n"
                       "        read_from: mid\n"
                       "      - type: nope\n" OUTPUTS;

    (void)state;
    lsh_diag_init(&d);
    cfg = lsh_config_parse("t.yaml", yaml, strlen(yaml), &d);
    assert_null(cfg);
    assert_int_equal(d.nerrors, 3);
    lsh_diag_release(&d);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char  path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return strdup(path);
}

static void test_directory_merge(void **state)
{
    char               dir[] = "/tmp/lsh-conf-XXXXXX";
    struct lsh_diag    d;
    struct lsh_config *cfg;
    char              *files[4];
    size_t             i;

    (void)state;
    assert_non_null(mkdtemp(dir));
    files[0] =
        write_file(dir, "10-service.yaml", "service:\n  log_level: warn\n");
    files[1] = write_file(dir, "20-app.yaml", PIPE_HEAD TAIL_OK OUTPUTS);
    files[2] = write_file(dir, "30-more.yml",
                          "pipelines:\n  more:\n    inputs:\n" TAIL_OK OUTPUTS
                          "service:\n  shutdown_timeout: 3s\n");
    files[3] = write_file(dir, "README.txt", "not: [yaml");
    lsh_diag_init(&d);
    cfg = lsh_config_load(dir, &d);
    lsh_buf_cstr(&d.text);
    if (cfg == NULL) {
        fail_msg("%s", d.text.ptr);
    }
    assert_int_equal(cfg->service.log_level, 1);
    assert_int_equal(cfg->service.shutdown_timeout_ms, 3000);
    assert_int_equal(cfg->npipelines, 2);
    assert_string_equal(cfg->pipelines[0].name, "app");
    assert_string_equal(cfg->pipelines[1].name, "more");
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);

    /* the same pipeline in two files is an error naming both places */
    free(files[2]);
    files[2] = write_file(dir, "30-more.yml", PIPE_HEAD TAIL_OK OUTPUTS);
    lsh_diag_init(&d);
    cfg = lsh_config_load(dir, &d);
    assert_null(cfg);
    lsh_buf_cstr(&d.text);
    assert_non_null(strstr(d.text.ptr, "/30-more.yml:3:5: key 'inputs' is "
                                       "already defined at "));
    assert_non_null(strstr(d.text.ptr, "/20-app.yaml:3:5"));
    lsh_diag_release(&d);

    for (i = 0; i < 4; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    lsh_diag_init(&d);
    assert_null(lsh_config_load(dir, &d));
    lsh_buf_cstr(&d.text);
    assert_non_null(strstr(d.text.ptr, "no *.yaml files in directory"));
    lsh_diag_release(&d);
    rmdir(dir);

    lsh_diag_init(&d);
    assert_null(lsh_config_load("/nonexistent/logship.yaml", &d));
    lsh_buf_cstr(&d.text);
    assert_non_null(strstr(d.text.ptr, "cannot read configuration "
                                       "'/nonexistent/logship.yaml'"));
    lsh_diag_release(&d);
}

static void test_node_marks(void **state)
{
    struct lsh_diag        d;
    struct lsh_doc        *doc;
    const struct lsh_node *n;
    const char            *yaml = "a:\n  b: [x, \"y\", ~]\n  c: ''\n";

    (void)state;
    lsh_diag_init(&d);
    doc = lsh_doc_parse("m.yaml", yaml, strlen(yaml), &d);
    assert_non_null(doc);
    n = lsh_node_get(lsh_node_get(doc->root, "a"), "b");
    assert_non_null(n);
    assert_int_equal(n->type, LSH_NODE_SEQ);
    assert_int_equal(n->nitems, 3);
    assert_int_equal(n->items[1]->mark.line, 2);
    assert_int_equal(n->items[1]->mark.col, 10);
    assert_false(n->items[1]->is_null);
    assert_true(n->items[2]->is_null);
    n = lsh_node_get(lsh_node_get(doc->root, "a"), "c");
    assert_false(n->is_null); /* quoted empty string is a value */
    assert_null(lsh_node_get(doc->root, "zzz"));
    lsh_doc_destroy(doc);
    lsh_diag_release(&d);
}

static void test_limits(void **state)
{
    struct lsh_diag d;
    struct lsh_buf  y = LSH_BUF_INIT;
    int             i;

    (void)state;
    for (i = 0; i < 100; i++) {
        lsh_buf_adds(&y, "[");
    }
    for (i = 0; i < 100; i++) {
        lsh_buf_adds(&y, "]");
    }
    lsh_diag_init(&d);
    assert_null(lsh_config_parse("deep.yaml", y.ptr, y.len, &d));
    lsh_buf_cstr(&d.text);
    assert_non_null(strstr(d.text.ptr, "too deeply nested"));
    lsh_diag_release(&d);
    lsh_buf_release(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_plugin_validate),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_directory_merge),
        cmocka_unit_test(test_node_marks),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
