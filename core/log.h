/*
 * Levelled logging to stderr.  Each message is formatted on the stack and
 * written with one write(2), so lines from different threads never mix.
 */
#ifndef LSH_LOG_H
#define LSH_LOG_H

#include <stdarg.h>

#include "lsh.h"

enum lsh_log_level {
    LSH_LOG_ERROR = 0,
    LSH_LOG_WARN,
    LSH_LOG_INFO,
    LSH_LOG_DEBUG,
};

extern int lsh_log_level;

/* Returns LSH_OK, or LSH_EINVAL for an unknown level name. */
int         lsh_log_set_level_name(const char *name);
const char *lsh_log_level_name(int level);

/*
 * Writes one line: time, level, optional "who" prefix, message.
 * Always returns LSH_ERR so that error paths can "return lsh_error(...)".
 */
int lsh_log(int level, const char *who, const char *fmt, ...) LSH_PRINTF(3, 4);
int lsh_vlog(int level, const char *who, const char *fmt, va_list ap);

#define lsh_log_enabled(l) ((l) <= lsh_log_level)

#define lsh_error(...) lsh_log(LSH_LOG_ERROR, NULL, __VA_ARGS__)
#define lsh_warn(...)  lsh_log(LSH_LOG_WARN, NULL, __VA_ARGS__)
#define lsh_info(...)                                                         \
    (lsh_log_enabled(LSH_LOG_INFO) ? lsh_log(LSH_LOG_INFO, NULL, __VA_ARGS__) \
                                   : LSH_ERR)
#define lsh_debug(...)                               \
    (lsh_log_enabled(LSH_LOG_DEBUG)                  \
         ? lsh_log(LSH_LOG_DEBUG, NULL, __VA_ARGS__) \
         : LSH_ERR)

#endif
