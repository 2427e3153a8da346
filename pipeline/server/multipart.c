/* multipart.c: multipart/form-data parsing (RFC 7578 / RFC 2046 section 5.1) over an in-memory body.
 * Pure: no allocation, no I/O; every index is bounds-checked against len (fuzzed). */
#define _GNU_SOURCE
#include "multipart.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
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

/* First occurrence of n[nn] in h[hn] (glibc's memmem: linear time, so a body crafted to almost match the
 * delimiter everywhere costs no more than any other). */
static const char *find(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0 || hn < nn) return NULL;
    return memmem(h, hn, n, nn);
}

static int ieq_prefix(const char *s, size_t n, const char *lit) {
    size_t k = strlen(lit);
    if (n < k) return 0;
    for (size_t i = 0; i < k; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)lit[i])) return 0;
    return 1;
}

int mp_boundary(const char *ct, char *out, size_t cap) {
    if (!ct || !out || cap < 2) return -1;
    size_t n = strlen(ct);
    if (!ieq_prefix(ct, n, "multipart/form-data")) return -1;
    for (size_t i = 0; i + 9 <= n; i++) {
        if (!ieq_prefix(ct + i, n - i, "boundary=")) continue;
        if (i > 0 && ct[i - 1] != ';' && ct[i - 1] != ' ' && ct[i - 1] != '\t') continue;
        const char *v = ct + i + 9;
        size_t vn = 0;
        if (*v == '"') {
            v++;
            while (v[vn] && v[vn] != '"') vn++;
            if (v[vn] != '"') return -1;
        } else {
            while (v[vn] && v[vn] != ';' && v[vn] != ' ' && v[vn] != '\t') vn++;
        }
        if (vn == 0 || vn > 70 || vn + 1 > cap) /* RFC 2046: 1..70 characters */
            return -1;
        memcpy(out, v, vn);
        out[vn] = 0;
        return 0;
    }
    return -1;
}

/* Reads parameter `key` (name / filename) of a Content-Disposition value line[n] into out[cap].
 * Returns 1 when found, 0 when absent, -1 when malformed or too long. */
static int disp_param(const char *line, size_t n, const char *key, char *out, size_t cap) {
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn + 1 <= n; i++) {
        if (!(i == 0 || line[i - 1] == ';' || line[i - 1] == ' ' || line[i - 1] == '\t')) continue;
        if (!ieq_prefix(line + i, n - i, key) || line[i + kn] != '=') continue;
        size_t p = i + kn + 1, o = 0;
        if (p < n && line[p] == '"') {
            p++;
            while (p < n && line[p] != '"') {
                char c = line[p];
                if (c == '\\' && p + 1 < n) c = line[++p];
                if (o + 1 >= cap) return -1;
                out[o++] = c;
                p++;
            }
            if (p >= n) return -1;
        } else {
            while (p < n && line[p] != ';' && line[p] != ' ' && line[p] != '\t') {
                if (o + 1 >= cap) return -1;
                out[o++] = line[p++];
            }
        }
        out[o] = 0;
        return 1;
    }
    return 0;
}

int mp_parse(const char *body, size_t len, const char *boundary, mp_form *form, char *err, size_t cap) {
    if (!body || !boundary || !form) return fail(err, cap, "multipart: no body");
    memset(form, 0, sizeof *form);
    char delim[80];
    size_t bn = strlen(boundary);
    if (bn == 0 || bn > 70) return fail(err, cap, "multipart: bad boundary");
    delim[0] = '\r', delim[1] = '\n', delim[2] = '-', delim[3] = '-';
    memcpy(delim + 4, boundary, bn);
    size_t dn = bn + 4;
    /* the first delimiter may start the body without the leading CRLF */
    size_t pos;
    if (len >= dn - 2 && memcmp(body, delim + 2, dn - 2) == 0) {
        pos = dn - 2;
    } else {
        const char *f = find(body, len, delim, dn);
        if (!f) return fail(err, cap, "multipart: no boundary found in the body");
        pos = (size_t)(f - body) + dn;
    }
    for (;;) {
        /* after a delimiter: "--" ends the body, else CRLF starts a part */
        if (pos + 2 <= len && body[pos] == '-' && body[pos + 1] == '-') return 0;
        while (pos < len && (body[pos] == ' ' || body[pos] == '\t')) pos++;
        if (pos + 2 > len || body[pos] != '\r' || body[pos + 1] != '\n')
            return fail(err, cap, "multipart: truncated body (no closing boundary)");
        pos += 2;
        if (form->n == MP_MAX_PARTS) return fail(err, cap, "multipart: more than %d parts", MP_MAX_PARTS);
        mp_part *pt = &form->parts[form->n];
        int have_disp = 0;
        /* headers, up to an empty line */
        for (;;) {
            const char *eol = find(body + pos, len - pos, "\r\n", 2);
            if (!eol) return fail(err, cap, "multipart: truncated part headers");
            size_t ln = (size_t)(eol - (body + pos));
            const char *line = body + pos;
            pos += ln + 2;
            if (ln == 0) break;
            if (ln > 4096) return fail(err, cap, "multipart: part header too long");
            if (ieq_prefix(line, ln, "content-disposition:")) {
                const char *v = line + 20;
                size_t vn = ln - 20;
                while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
                if (!ieq_prefix(v, vn, "form-data")) return fail(err, cap, "multipart: part is not form-data");
                int r = disp_param(v, vn, "name", pt->name, sizeof pt->name);
                if (r < 0) return fail(err, cap, "multipart: malformed or too long field name");
                r = disp_param(v, vn, "filename", pt->filename, sizeof pt->filename);
                if (r < 0) return fail(err, cap, "multipart: malformed or too long file name");
                pt->has_filename = r == 1;
                have_disp = 1;
            }
        }
        if (!have_disp) return fail(err, cap, "multipart: a part has no Content-Disposition");
        const char *end = find(body + pos, len - pos, delim, dn);
        if (!end) return fail(err, cap, "multipart: truncated body (part '%s' has no closing boundary)", pt->name);
        pt->data = body + pos;
        pt->len = (size_t)(end - (body + pos));
        form->n++;
        pos = (size_t)(end - body) + dn;
    }
}

const mp_part *mp_find(const mp_form *form, const char *name) {
    for (int i = 0; i < form->n; i++)
        if (strcmp(form->parts[i].name, name) == 0) return &form->parts[i];
    return NULL;
}
