/*
 * Levelled logging to stderr.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int lsh_log_level = LSH_LOG_INFO;

static const char *const lsh_log_names[] = {"error", "warn", "info", "debug"};

int lsh_log_set_level_name(const char *name)
{
    size_t i;

    for (i = 0; i < LSH_ARRAY_SIZE(lsh_log_names); i++) {
        if (strcmp(name, lsh_log_names[i]) == 0) {
            lsh_log_level = (int)i;
            return LSH_OK;
        }
    }
    return LSH_EINVAL;
}

const char *lsh_log_level_name(int level)
{
    if (level < 0 || level >= (int)LSH_ARRAY_SIZE(lsh_log_names)) {
        return "?";
    }
    return lsh_log_names[level];
}

int lsh_vlog(int level, const char *who, const char *fmt, va_list ap)
{
    char      line[4096];
    size_t    n;
    int       r;
    int64_t   now;
    time_t    sec;
    struct tm tm;
    int       saved = errno;

    if (!lsh_log_enabled(level)) {
        return LSH_ERR;
    }
    now = lsh_now_real_ns();
    sec = (time_t)(now / LSH_NS_PER_SEC);
    gmtime_r(&sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03dZ [%s] %s%s",
                 (int)(now % LSH_NS_PER_SEC / LSH_NS_PER_MS),
                 lsh_log_level_name(level), who ? who : "", who ? ": " : "");
    n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r < 0) {
        r = 0;
    }
    n += (size_t)r;
    if (n > sizeof(line) - 2) {
        n = sizeof(line) - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
    errno = saved;
    return LSH_ERR;
}

int lsh_log(int level, const char *who, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lsh_vlog(level, who, fmt, ap);
    va_end(ap);
    return LSH_ERR;
}
