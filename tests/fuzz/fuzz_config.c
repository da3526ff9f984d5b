/*
 * Fuzz target: configuration loading from YAML text, with environment
 * references, through option parsing and validation.  Any input must
 * give a configuration or errors, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsh_diag    d;
    struct lsh_config *cfg;
    struct lsh_buf     out = LSH_BUF_INIT;

    setenv("LSH_FUZZ_VAR", "value", 0);
    lsh_diag_init(&d);
    cfg = lsh_config_parse("fuzz.yaml", (const char *)data, size, &d);
    if (cfg != NULL) {
        lsh_config_print(cfg, &out);
        lsh_buf_release(&out);
        if (d.nerrors != 0) {
            abort();
        }
    } else if (d.nerrors == 0) {
        abort();
    }
    lsh_config_destroy(cfg);
    lsh_diag_release(&d);
    return 0;
}
