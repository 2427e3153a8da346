/* json.h: the little JSON the server needs: escaping strings into responses, and parsing the flat
 * control objects a stream client sends ({"type": "start", "seed": 3, ...}: string, number, true,
 * false and null values; no nesting). Pure functions (fuzzed). */
#ifndef PCAVS_SERVER_JSON_H
#define PCAVS_SERVER_JSON_H

#include <stddef.h>

#define JSON_MAX_FIELDS 16
#define JSON_KEY_MAX 32
#define JSON_STR_MAX 128

typedef enum json_kind { JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL } json_kind;

typedef struct json_field {
    char key[JSON_KEY_MAX];
    json_kind kind;
    char str[JSON_STR_MAX]; /* JSON_STRING: the unescaped value (UTF-8; \u escapes above 0x7f become '?') */
    double num;             /* JSON_NUMBER; JSON_BOOL: 0 or 1 */
} json_field;

typedef struct json_object {
    json_field f[JSON_MAX_FIELDS];
    int n;
} json_object;

/* Parses text[len] as one flat object. Returns 0, or -1 with a reason in err[cap]. */
int json_parse_flat(const char *text, size_t len, json_object *obj, char *err, size_t cap);
/* The field named key, or NULL. */
const json_field *json_get(const json_object *obj, const char *key);

/* Writes s as a JSON string literal (with quotes) into out[cap], truncating safely; returns out. */
char *json_quote(const char *s, char *out, size_t cap);

#endif
