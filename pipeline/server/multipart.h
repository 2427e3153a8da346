/* multipart.h: a pure parser of multipart/form-data bodies (RFC 7578) held in memory. No allocation:
 * parts point into the body. Used by the job upload handler and fuzzed (tests/server/fuzz_server.c). */
#ifndef PCAVS_SERVER_MULTIPART_H
#define PCAVS_SERVER_MULTIPART_H

#include <stddef.h>

#define MP_MAX_PARTS 32
#define MP_NAME_MAX 64
#define MP_FILENAME_MAX 256

typedef struct mp_part {
    char name[MP_NAME_MAX];         /* form field name ("" when absent) */
    char filename[MP_FILENAME_MAX]; /* the client's file name, as sent ("" when absent); never used as a path */
    int has_filename;               /* a filename= parameter was present */
    const char *data;               /* [len] the part's body, inside the request body */
    size_t len;
} mp_part;

typedef struct mp_form {
    mp_part parts[MP_MAX_PARTS];
    int n;
} mp_form;

/* Extracts the boundary from a Content-Type header value ("multipart/form-data; boundary=..."), into
 * out[cap]. Returns 0 on success, -1 when the header is not multipart/form-data or has no valid boundary. */
int mp_boundary(const char *content_type, char *out, size_t cap);

/* Parses body[len] with the boundary. Returns 0, or -1 with a one-line reason in err[err_cap]. */
int mp_parse(const char *body, size_t len, const char *boundary, mp_form *form, char *err, size_t err_cap);

/* The first part named `name`, or NULL. */
const mp_part *mp_find(const mp_form *form, const char *name);

#endif
