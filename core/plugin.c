/*
 * Plugin registry lookups and the host name.
 */
#include "plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const lsh_kind_names[] = {"input", "filter", "output"};

static char   lsh_host_buf[256];
static size_t lsh_host_len;

const char *lsh_plugin_kind_name(enum lsh_plugin_kind kind)
{
    return lsh_kind_names[kind];
}

const struct lsh_plugin *lsh_plugin_find(enum lsh_plugin_kind kind,
                                         const char          *name)
{
    size_t i;

    for (i = 0; lsh_plugins[i] != NULL; i++) {
        if (lsh_plugins[i]->kind == kind &&
            strcmp(lsh_plugins[i]->name, name) == 0) {
            return lsh_plugins[i];
        }
    }
    return NULL;
}

void lsh_plugin_names(enum lsh_plugin_kind kind, struct lsh_buf *out)
{
    size_t i;
    size_t n = 0;

    for (i = 0; lsh_plugins[i] != NULL; i++) {
        if (lsh_plugins[i]->kind == kind) {
            lsh_buf_addf(out, "%s%s", n++ ? ", " : "", lsh_plugins[i]->name);
        }
    }
    if (n == 0) {
        lsh_buf_adds(out, "none available yet");
    }
}

void lsh_host_set(const char *name)
{
    if (name == NULL) {
        if (gethostname(lsh_host_buf, sizeof(lsh_host_buf) - 1) != 0) {
            strcpy(lsh_host_buf, "localhost");
        }
        lsh_host_buf[sizeof(lsh_host_buf) - 1] = '\0';
    } else {
        strncpy(lsh_host_buf, name, sizeof(lsh_host_buf) - 1);
    }
    lsh_host_len = strlen(lsh_host_buf);
}

struct lsh_str lsh_host(void)
{
    if (lsh_host_len == 0) {
        lsh_host_set(NULL);
    }
    return lsh_str_make(lsh_host_buf, lsh_host_len);
}

void lsh_ins_fault(struct lsh_instance *ins, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ins->last_error, sizeof(ins->last_error), fmt, ap);
    va_end(ap);
    ins->last_error_ns = lsh_now_real_ns();
}
