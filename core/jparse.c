/*
 * A strict JSON reader.
 */
#include "jparse.h"

#include <stdlib.h>
#include <string.h>

#define LSH_J_MAX_DEPTH 64

struct lsh_jp {
    const char *p;
    const char *end;
    const char *start;
    const char *err;
    const char *at;
};

static const char *lsh_jp_fail(struct lsh_jp *j, const char *p, const char *m)
{
    j->err = m;
    j->at = p;
    return NULL;
}

static const char *lsh_jp_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

static int lsh_hex4(const char *p)
{
    int v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

/* A string starting at p (on its '"'); returns the byte after it. */
static const char *lsh_jp_string(struct lsh_jp *j, const char *p, bool *esc)
{
    *esc = false;
    for (p++; p < j->end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"') {
            return p + 1;
        }
        if (c < 0x20) {
            return lsh_jp_fail(j, p, "control character in a string");
        }
        if (c != '\\') {
            continue;
        }
        *esc = true;
        if (++p >= j->end) {
            break;
        }
        switch (*p) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u':
            if (j->end - p < 5 || lsh_hex4(p + 1) < 0) {
                return lsh_jp_fail(j, p, "bad \\u escape");
            }
            p += 4;
            break;
        default:
            return lsh_jp_fail(j, p, "bad escape");
        }
    }
    return lsh_jp_fail(j, p, "unterminated string");
}

static const char *lsh_jp_digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }
    return p;
}

static const char *lsh_jp_number(struct lsh_jp *j, const char *p)
{
    const char *q;

    if (*p == '-') {
        p++;
    }
    if (p >= j->end || *p < '0' || *p > '9') {
        return lsh_jp_fail(j, p, "bad number");
    }
    p = *p == '0' ? p + 1 : lsh_jp_digits(p, j->end);
    if (p < j->end && *p == '.') {
        q = lsh_jp_digits(p + 1, j->end);
        if (q == p + 1) {
            return lsh_jp_fail(j, p, "bad number");
        }
        p = q;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-')) {
            p++;
        }
        q = lsh_jp_digits(p, j->end);
        if (q == p) {
            return lsh_jp_fail(j, p, "bad number");
        }
        p = q;
    }
    return p;
}

static const char *lsh_jp_value(struct lsh_jp *j, const char *p, int depth,
                                struct lsh_jvalue *v);

/* An object or array starting at p; returns the byte after it. */
static const char *lsh_jp_container(struct lsh_jp *j, const char *p, int depth,
                                    bool object)
{
    char              close = object ? '}' : ']';
    struct lsh_jvalue v;
    bool              first = true;

    if (depth >= LSH_J_MAX_DEPTH) {
        return lsh_jp_fail(j, p, "nested too deeply");
    }
    p = lsh_jp_ws(p + 1, j->end);
    if (p < j->end && *p == close) {
        return p + 1;
    }
    for (;;) {
        if (!first) {
            p = lsh_jp_ws(p, j->end);
            if (p < j->end && *p == close) {
                return p + 1;
            }
            if (p >= j->end || *p != ',') {
                return lsh_jp_fail(j, p, "expected ',' or a closing bracket");
            }
            p = lsh_jp_ws(p + 1, j->end);
        }
        first = false;
        if (object) {
            if (p >= j->end || *p != '"') {
                return lsh_jp_fail(j, p, "expected a string key");
            }
            p = lsh_jp_string(j, p, &v.escaped);
            if (p == NULL) {
                return NULL;
            }
            p = lsh_jp_ws(p, j->end);
            if (p >= j->end || *p != ':') {
                return lsh_jp_fail(j, p, "expected ':'");
            }
            p++;
        }
        p = lsh_jp_value(j, p, depth + 1, &v);
        if (p == NULL) {
            return NULL;
        }
    }
}

static const char *lsh_jp_literal(struct lsh_jp *j, const char *p,
                                  const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(j->end - p) < n || memcmp(p, word, n) != 0) {
        return lsh_jp_fail(j, p, "unexpected character");
    }
    return p + n;
}

/* Any value at p (after whitespace); fills v; returns the byte after. */
static const char *lsh_jp_value(struct lsh_jp *j, const char *p, int depth,
                                struct lsh_jvalue *v)
{
    const char *q;

    p = lsh_jp_ws(p, j->end);
    if (p >= j->end) {
        return lsh_jp_fail(j, p, "unexpected end");
    }
    v->escaped = false;
    switch (*p) {
    case '"':
        v->type = LSH_J_STRING;
        q = lsh_jp_string(j, p, &v->escaped);
        break;
    case '{':
        v->type = LSH_J_OBJECT;
        q = lsh_jp_container(j, p, depth, true);
        break;
    case '[':
        v->type = LSH_J_ARRAY;
        q = lsh_jp_container(j, p, depth, false);
        break;
    case 't':
        v->type = LSH_J_TRUE;
        q = lsh_jp_literal(j, p, "true");
        break;
    case 'f':
        v->type = LSH_J_FALSE;
        q = lsh_jp_literal(j, p, "false");
        break;
    case 'n':
        v->type = LSH_J_NULL;
        q = lsh_jp_literal(j, p, "null");
        break;
    default:
        v->type = LSH_J_NUMBER;
        q = lsh_jp_number(j, p);
        break;
    }
    if (q != NULL) {
        v->raw = lsh_str_make(p, (size_t)(q - p));
    }
    return q;
}

int lsh_jparse_object(const char *text, size_t n, lsh_jmember_cb fn, void *arg,
                      const char **err, size_t *at)
{
    struct lsh_jp     j = {text, text + n, text, NULL, NULL};
    const char       *p = lsh_jp_ws(text, j.end);
    struct lsh_jvalue k;
    struct lsh_jvalue v;
    bool              first = true;
    int               rc;

    if (p >= j.end || *p != '{') {
        lsh_jp_fail(&j, p, "not a JSON object");
        goto bad;
    }
    p = lsh_jp_ws(p + 1, j.end);
    if (p < j.end && *p == '}') {
        p++;
        goto done;
    }
    for (;;) {
        if (!first) {
            p = lsh_jp_ws(p, j.end);
            if (p < j.end && *p == '}') {
                p++;
                break;
            }
            if (p >= j.end || *p != ',') {
                lsh_jp_fail(&j, p, "expected ',' or '}'");
                goto bad;
            }
            p = lsh_jp_ws(p + 1, j.end);
        }
        first = false;
        if (p >= j.end || *p != '"') {
            lsh_jp_fail(&j, p, "expected a string key");
            goto bad;
        }
        k.type = LSH_J_STRING;
        k.raw.ptr = p;
        p = lsh_jp_string(&j, p, &k.escaped);
        if (p == NULL) {
            goto bad;
        }
        k.raw.len = (size_t)(p - k.raw.ptr);
        p = lsh_jp_ws(p, j.end);
        if (p >= j.end || *p != ':') {
            lsh_jp_fail(&j, p, "expected ':'");
            goto bad;
        }
        p = lsh_jp_value(&j, p + 1, 1, &v);
        if (p == NULL) {
            goto bad;
        }
        rc = fn(arg, &k, &v);
        if (rc != 0) {
            return rc;
        }
    }
done:
    if (lsh_jp_ws(p, j.end) != j.end) {
        lsh_jp_fail(&j, p, "text after the object");
        goto bad;
    }
    return LSH_OK;
bad:
    *err = j.err;
    *at = (size_t)(j.at - text);
    return LSH_EINVAL;
}

static size_t lsh_utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t lsh_jstring(struct lsh_str raw, char *out)
{
    const char *p = raw.ptr + 1;
    const char *end = raw.ptr + raw.len - 1;
    size_t      n = 0;

    while (p < end) {
        uint32_t cp;
        int      lo;

        if (*p != '\\') {
            out[n++] = *p++;
            continue;
        }
        p++;
        switch (*p++) {
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u':
            cp = (uint32_t)lsh_hex4(p);
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
                p[1] == 'u' && (lo = lsh_hex4(p + 2)) >= 0xdc00 &&
                lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* a lone surrogate */
            }
            /* \uXXXX takes 6 bytes, its UTF-8 at most 3; a pair 12 and 4 */
            n += lsh_utf8_put(out + n, cp);
            break;
        default: /* " \ / */
            out[n++] = p[-1];
            break;
        }
    }
    return n;
}

void lsh_jnumber(struct lsh_str raw, struct lsh_value *v)
{
    const char *p = raw.ptr;
    const char *end = raw.ptr + raw.len;
    bool        neg = false;
    uint64_t    u = 0;
    char        buf[64];

    if (memchr(p, '.', raw.len) == NULL && memchr(p, 'e', raw.len) == NULL &&
        memchr(p, 'E', raw.len) == NULL) {
        if (*p == '-') {
            neg = true;
            p++;
        }
        for (; p < end; p++) {
            if (u > (UINT64_MAX - 9) / 10) {
                goto raw;
            }
            u = u * 10 + (uint64_t)(*p - '0');
        }
        if (u > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
            goto raw;
        }
        v->type = LSH_V_INT;
        v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
        return;
    }
    if (raw.len < sizeof(buf)) {
        memcpy(buf, raw.ptr, raw.len);
        buf[raw.len] = '\0';
        v->type = LSH_V_FLOAT;
        v->f = strtod(buf, NULL);
        return;
    }
raw:
    v->type = LSH_V_JSON; /* exact text, still valid JSON */
    v->s = raw;
}
