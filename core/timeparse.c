/*
 * Timestamp parsing.
 */
#include "timeparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lsh_timefmt_compile(struct lsh_timefmt *f, const char *spec,
                        const char **err)
{
    static const struct {
        const char           *name;
        enum lsh_timefmt_kind kind;
    } named[] = {
        {"iso8601", LSH_TIME_ISO8601},   {"rfc3339", LSH_TIME_ISO8601},
        {"epoch", LSH_TIME_EPOCH},       {"epoch_ms", LSH_TIME_EPOCH_MS},
        {"epoch_us", LSH_TIME_EPOCH_US}, {"epoch_ns", LSH_TIME_EPOCH_NS},
    };
    const char *pct;
    size_t      i;

    memset(f, 0, sizeof(*f));
    for (i = 0; i < LSH_ARRAY_SIZE(named); i++) {
        if (strcmp(spec, named[i].name) == 0) {
            f->kind = named[i].kind;
            return LSH_OK;
        }
    }
    if (strchr(spec, '%') == NULL) {
        *err = "is not iso8601, epoch, epoch_ms, epoch_us, epoch_ns or a "
               "strptime format with % directives";
        return LSH_EINVAL;
    }
    f->kind = LSH_TIME_STRPTIME;
    pct = strstr(spec, "%f");
    if (pct != NULL && strstr(pct + 2, "%f") != NULL) {
        *err = "has %f more than once";
        return LSH_EINVAL;
    }
    if (strlen(spec) >= sizeof(f->before)) {
        *err = "is too long";
        return LSH_EINVAL;
    }
    for (pct = spec; (pct = strchr(pct, '%')) != NULL; pct += 2) {
        if (pct[1] != '\0' && strchr("YyCGgsFDcx", pct[1]) != NULL) {
            f->has_year = true;
        }
        if (pct[1] == '\0') {
            break;
        }
    }
    pct = strstr(spec, "%f");
    if (pct == NULL) {
        snprintf(f->before, sizeof(f->before), "%s", spec);
    } else {
        snprintf(f->before, sizeof(f->before), "%.*s", (int)(pct - spec), spec);
        snprintf(f->after, sizeof(f->after), "%s", pct + 2);
        f->has_frac = true;
    }
    return LSH_OK;
}

static bool lsh_digits(const char *s, int n, int *out)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool lsh_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The days of month m (1-12) of year y. */
static int lsh_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return m == 2 && lsh_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t lsh_days(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/*
 * Seconds and nanoseconds to nanoseconds since the epoch, if they fit in
 * an int64 (1677-09-21 to 2262-04-11).
 */
static int lsh_time_ns(int64_t sec, int64_t frac, int64_t *ns)
{
    if (sec > INT64_MAX / LSH_NS_PER_SEC - 1 ||
        sec < INT64_MIN / LSH_NS_PER_SEC + 1) {
        return LSH_EINVAL;
    }
    *ns = sec * LSH_NS_PER_SEC + frac;
    return LSH_OK;
}

/* Reads a fraction after the '.' at s: up to 9 digits kept. */
static size_t lsh_fraction(const char *s, size_t n, int64_t *ns)
{
    size_t  i = 0;
    int64_t v = 0;
    int     kept = 0;

    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (kept < 9) {
            v = v * 10 + (s[i] - '0');
            kept++;
        }
        i++;
    }
    while (kept < 9) {
        v *= 10;
        kept++;
    }
    *ns = v;
    return i;
}

int lsh_time_parse_iso8601(const char *s, size_t n, int64_t *ns)
{
    int     y, mo, d, h, mi, sec, zh, zm;
    int64_t frac = 0;
    int64_t off = 0;
    size_t  i = 19;

    if (n < 19 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' || !lsh_digits(s, 4, &y) || !lsh_digits(s + 5, 2, &mo) ||
        !lsh_digits(s + 8, 2, &d) || !lsh_digits(s + 11, 2, &h) ||
        !lsh_digits(s + 14, 2, &mi) || !lsh_digits(s + 17, 2, &sec) || mo < 1 ||
        mo > 12 || d < 1 || d > lsh_month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 60) {
        return LSH_EINVAL;
    }
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        size_t k = lsh_fraction(s + i + 1, n - i - 1, &frac);

        if (k == 0) {
            return LSH_EINVAL;
        }
        i += 1 + k;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;

        if (n - i >= 6 && s[i + 3] == ':' && lsh_digits(s + i + 1, 2, &zh) &&
            lsh_digits(s + i + 4, 2, &zm)) {
            i += 6;
        } else if (n - i >= 5 && lsh_digits(s + i + 1, 2, &zh) &&
                   lsh_digits(s + i + 3, 2, &zm)) {
            i += 5;
        } else {
            return LSH_EINVAL;
        }
        if (zh > 23 || zm > 59) {
            return LSH_EINVAL;
        }
        off = sign * ((int64_t)zh * 3600 + zm * 60);
    }
    if (i != n) {
        return LSH_EINVAL;
    }
    return lsh_time_ns(
        lsh_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off, frac, ns);
}

/*
 * "123.456" times unit (ns per unit).  Out of the int64 range of
 * nanoseconds is an error, checked before anything can overflow.
 */
static int lsh_time_epoch(const char *s, size_t n, int64_t unit, int64_t *ns)
{
    size_t   i = 0;
    uint64_t whole = 0;
    int64_t  frac = 0;
    uint64_t total;
    bool     neg = false;

    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == n || s[i] < '0' || s[i] > '9') {
        return LSH_EINVAL;
    }
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        whole = whole * 10 + (uint64_t)(s[i++] - '0');
        if (whole > (uint64_t)INT64_MAX / (uint64_t)unit) {
            return LSH_EINVAL;
        }
    }
    if (i < n && s[i] == '.') {
        size_t k = lsh_fraction(s + i + 1, n - i - 1, &frac);

        i += 1 + k;
        frac = frac * unit / LSH_NS_PER_SEC; /* < unit: at most 1e18 */
    }
    if (i != n) {
        return LSH_EINVAL;
    }
    total = whole * (uint64_t)unit;
    if (total > (uint64_t)INT64_MAX - (uint64_t)frac) {
        return LSH_EINVAL;
    }
    total += (uint64_t)frac;
    *ns = neg ? -(int64_t)total : (int64_t)total;
    return LSH_OK;
}

/* tm as seconds since the epoch, if its date exists; minus its offset. */
static bool lsh_tm_sec(const struct tm *tm, long gmtoff, int64_t *sec)
{
    int64_t y = (int64_t)tm->tm_year + 1900;

    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
        tm->tm_mday > lsh_month_days(y, tm->tm_mon + 1) || tm->tm_hour > 23 ||
        tm->tm_min > 59 || tm->tm_sec > 60) {
        return false;
    }
    *sec = lsh_days(y, tm->tm_mon + 1, tm->tm_mday) * 86400 +
           tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec - gmtoff;
    return true;
}

/*
 * For a format without a year: of the last, this and the next year, the
 * one that puts the time nearest to now ("Dec 31 23:59:58" read just
 * after New Year is last year's).
 */
static bool lsh_nearest_year(struct tm *tm, long gmtoff, int64_t now,
                             int64_t *sec)
{
    time_t    t = (time_t)now;
    struct tm nowtm;
    int64_t   best = 0;
    bool      found = false;
    int       dy;

    gmtime_r(&t, &nowtm);
    for (dy = -1; dy <= 1; dy++) {
        int64_t cand;

        tm->tm_year = nowtm.tm_year + dy;
        if (lsh_tm_sec(tm, gmtoff, &cand) &&
            (!found || llabs(cand - now) < llabs(best - now))) {
            best = cand;
            found = true;
        }
    }
    *sec = best;
    return found;
}

static int lsh_time_strptime(const struct lsh_timefmt *f, const char *s,
                             size_t n, int64_t now, int64_t *ns)
{
    char        buf[128];
    struct tm   tm;
    const char *p;
    int64_t     frac = 0;
    int64_t     sec;
    long        gmtoff;

    if (n >= sizeof(buf)) {
        return LSH_EINVAL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 70;
    tm.tm_mday = 1;
    p = strptime(buf, f->before, &tm);
    if (p == NULL) {
        return LSH_EINVAL;
    }
    if (f->has_frac) {
        size_t k = lsh_fraction(p, strlen(p), &frac);

        if (k == 0) {
            return LSH_EINVAL;
        }
        p += k;
        if (f->after[0] != '\0') {
            p = strptime(p, f->after, &tm);
            if (p == NULL) {
                return LSH_EINVAL;
            }
        }
    }
    if (*p != '\0') {
        return LSH_EINVAL;
    }
    gmtoff = tm.tm_gmtoff;
    if (gmtoff > 86399 || gmtoff < -86399) {
        return LSH_EINVAL;
    }
    if (f->has_year ? !lsh_tm_sec(&tm, gmtoff, &sec)
                    : !lsh_nearest_year(&tm, gmtoff, now, &sec)) {
        return LSH_EINVAL; /* a day the month does not have */
    }
    return lsh_time_ns(sec, frac, ns);
}

int lsh_time_parse(const struct lsh_timefmt *f, const char *s, size_t n,
                   int64_t *ns)
{
    return lsh_time_parse_at(f, s, n, (int64_t)time(NULL), ns);
}

int lsh_time_parse_at(const struct lsh_timefmt *f, const char *s, size_t n,
                      int64_t now, int64_t *ns)
{
    switch (f->kind) {
    case LSH_TIME_ISO8601:
        return lsh_time_parse_iso8601(s, n, ns);
    case LSH_TIME_EPOCH:
        return lsh_time_epoch(s, n, LSH_NS_PER_SEC, ns);
    case LSH_TIME_EPOCH_MS:
        return lsh_time_epoch(s, n, LSH_NS_PER_MS, ns);
    case LSH_TIME_EPOCH_US:
        return lsh_time_epoch(s, n, 1000, ns);
    case LSH_TIME_EPOCH_NS:
        return lsh_time_epoch(s, n, 1, ns);
    default:
        return lsh_time_strptime(f, s, n, now, ns);
    }
}
