/* json.c: JSON string quoting and the flat-object parser of json.h. Every read is bounds-checked. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void skip_ws(const char *t, size_t n, size_t *p) {
    while (*p < n && (t[*p] == ' ' || t[*p] == '\t' || t[*p] == '\n' || t[*p] == '\r')) (*p)++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string literal at t[*p] ('"' expected) into out[cap] (too long: error). */
static int parse_string(const char *t, size_t n, size_t *p, char *out, size_t cap, char *err, size_t ecap) {
    if (*p >= n || t[*p] != '"') return fail(err, ecap, "json: expected a string at byte %zu", *p);
    (*p)++;
    size_t o = 0;
    while (*p < n && t[*p] != '"') {
        unsigned char c = (unsigned char)t[*p];
        if (c < 0x20) return fail(err, ecap, "json: control character in a string at byte %zu", *p);
        if (c == '\\') {
            if (*p + 1 >= n) return fail(err, ecap, "json: truncated escape");
            char e = t[*p + 1];
            *p += 2;
            switch (e) {
            case '"':
                c = '"';
                break;
            case '\\':
                c = '\\';
                break;
            case '/':
                c = '/';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                if (*p + 4 > n) return fail(err, ecap, "json: truncated \\u escape");
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(t[*p + i]);
                    if (h < 0) return fail(err, ecap, "json: bad \\u escape");
                    v = v * 16 + h;
                }
                *p += 4;
                c = v > 0 && v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default:
                return fail(err, ecap, "json: bad escape \\%c", e);
            }
        } else {
            (*p)++;
        }
        if (o + 1 >= cap) return fail(err, ecap, "json: string longer than %zu bytes", cap - 1);
        out[o++] = (char)c;
    }
    if (*p >= n) return fail(err, ecap, "json: unterminated string");
    (*p)++;
    out[o] = 0;
    return 0;
}

static int lit(const char *t, size_t n, size_t *p, const char *w) {
    size_t k = strlen(w);
    if (*p + k > n || memcmp(t + *p, w, k) != 0) return 0;
    *p += k;
    return 1;
}

int json_parse_flat(const char *t, size_t n, json_object *obj, char *err, size_t cap) {
    if (!t || !obj) return fail(err, cap, "json: no text");
    memset(obj, 0, sizeof *obj);
    size_t p = 0;
    skip_ws(t, n, &p);
    if (p >= n || t[p] != '{') return fail(err, cap, "json: expected an object");
    p++;
    skip_ws(t, n, &p);
    if (p < n && t[p] == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        if (obj->n == JSON_MAX_FIELDS) return fail(err, cap, "json: more than %d fields", JSON_MAX_FIELDS);
        json_field *f = &obj->f[obj->n];
        skip_ws(t, n, &p);
        if (parse_string(t, n, &p, f->key, sizeof f->key, err, cap)) return -1;
        skip_ws(t, n, &p);
        if (p >= n || t[p] != ':') return fail(err, cap, "json: expected ':' after \"%s\"", f->key);
        p++;
        skip_ws(t, n, &p);
        if (p >= n) return fail(err, cap, "json: missing value of \"%s\"", f->key);
        if (t[p] == '"') {
            f->kind = JSON_STRING;
            if (parse_string(t, n, &p, f->str, sizeof f->str, err, cap)) return -1;
        } else if (lit(t, n, &p, "true")) {
            f->kind = JSON_BOOL, f->num = 1;
        } else if (lit(t, n, &p, "false")) {
            f->kind = JSON_BOOL, f->num = 0;
        } else if (lit(t, n, &p, "null")) {
            f->kind = JSON_NULL;
        } else if (t[p] == '-' || (t[p] >= '0' && t[p] <= '9')) {
            char buf[64];
            size_t k = 0;
            while (p < n && k + 1 < sizeof buf && strchr("+-.eE0123456789", t[p]) && t[p]) buf[k++] = t[p++];
            buf[k] = 0;
            char *end;
            f->num = strtod(buf, &end);
            if (*end || k == 0) return fail(err, cap, "json: bad number for \"%s\"", f->key);
            f->kind = JSON_NUMBER;
        } else {
            return fail(err, cap, "json: unsupported value for \"%s\" (flat objects only)", f->key);
        }
        obj->n++;
        skip_ws(t, n, &p);
        if (p < n && t[p] == ',') {
            p++;
            continue;
        }
        if (p < n && t[p] == '}') {
            p++;
            break;
        }
        return fail(err, cap, "json: expected ',' or '}' at byte %zu", p);
    }
tail:
    skip_ws(t, n, &p);
    if (p != n) return fail(err, cap, "json: trailing bytes after the object");
    return 0;
}

const json_field *json_get(const json_object *obj, const char *key) {
    for (int i = 0; i < obj->n; i++)
        if (strcmp(obj->f[i].key, key) == 0) return &obj->f[i];
    return NULL;
}

char *json_quote(const char *s, char *out, size_t cap) {
    size_t o = 0;
    if (cap < 3) {
        if (cap) out[0] = 0;
        return out;
    }
    out[o++] = '"';
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        const char *w = tmp;
        if (c == '"')
            w = "\\\"";
        else if (c == '\\')
            w = "\\\\";
        else if (c == '\n')
            w = "\\n";
        else if (c == '\r')
            w = "\\r";
        else if (c == '\t')
            w = "\\t";
        else if (c < 0x20)
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
        else
            tmp[0] = (char)c, tmp[1] = 0;
        size_t k = strlen(w);
        if (o + k + 2 > cap) break;
        memcpy(out + o, w, k);
        o += k;
    }
    out[o++] = '"';
    out[o] = 0;
    return out;
}
