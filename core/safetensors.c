/* safetensors.c: the safetensors reader (mmap or caller buffer, strict validation of every
 * length, offset, shape and dtype before use) and the atomic writer (temp file in the target
 * directory, fsync, rename). Format: u64 little-endian header length N, N bytes of JSON
 * {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}},
 * then the data area; offsets are relative to the start of the data area. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

/* Headers larger than this are refused (the reference implementation uses the same 100 MB cap). */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

struct pcavs_st_file {
    char *label;         /* path or caller label, for messages */
    const uint8_t *base; /* [size] whole file */
    size_t size;
    void *map; /* mmap base when we own a mapping, else NULL */
    size_t map_size;
    cJSON *json;             /* parsed header; entry names and metadata strings point into it */
    int n;                   /* tensors */
    pcavs_st_entry *entries; /* [n] in file (data offset) order */
    int *by_name;            /* [n] indices into entries sorted by name */
    int n_meta;
    const char **meta_keys; /* [n_meta] */
    const char **meta_vals; /* [n_meta] */
};

static int dtype_from_name(const char *s, pcavs_dtype *dt) {
    static const struct {
        const char *name;
        pcavs_dtype dt;
    } tab[] = {{"F32", PCAVS_F32}, {"F16", PCAVS_F16}, {"BF16", PCAVS_BF16}, {"I64", PCAVS_I64}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(s, tab[i].name) == 0) {
            *dt = tab[i].dt;
            return 1;
        }
    return 0;
}

/* A JSON number that is an exact non-negative integer <= 2^53 (beyond that doubles lose integers). */
static int json_u64(const cJSON *it, uint64_t *v) {
    if (!cJSON_IsNumber(it)) return 0;
    double d = it->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || floor(d) != d) return 0;
    *v = (uint64_t)d;
    return 1;
}

void pcavs_st_close(pcavs_st_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->map_size);
    cJSON_Delete(f->json);
    free(f->entries);
    free(f->by_name);
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->label);
    free(f);
}

static _Thread_local const pcavs_st_entry *g_sort_entries; /* qsort context of the opening thread */

static int cmp_offset(const void *a, const void *b) {
    const pcavs_st_entry *x = a, *y = b;
    const uint8_t *px = x->t.data, *py = y->t.data;
    if (px != py) return px < py ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_name_idx(const void *a, const void *b) {
    return strcmp(g_sort_entries[*(const int *)a].name, g_sort_entries[*(const int *)b].name);
}

static pcavs_status parse_entry(pcavs_st_file *f, const cJSON *item, uint64_t data_size, pcavs_st_entry *e) {
    const char *L = f->label, *name = item->string;
    if (!cJSON_IsObject(item))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: header entry is not an object", L, name);
    if (name[0] == '\0') return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: a tensor has an empty name", L);
    const cJSON *jd = NULL, *js = NULL, *jo = NULL, *k;
    cJSON_ArrayForEach(k, item) {
        const cJSON **slot = !strcmp(k->string, "dtype")          ? &jd
                             : !strcmp(k->string, "shape")        ? &js
                             : !strcmp(k->string, "data_offsets") ? &jo
                                                                  : NULL;
        if (!slot)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: unknown header field '%s'", L, name, k->string);
        if (*slot)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: duplicate header field '%s'", L, name, k->string);
        *slot = k;
    }
    if (!jd || !js || !jo)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: missing %s", L, name,
                          !jd   ? "dtype"
                          : !js ? "shape"
                                : "data_offsets");
    if (!cJSON_IsString(jd) || !dtype_from_name(jd->valuestring, &e->t.dtype))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: unknown dtype %s%s%s (known: F32 F16 BF16 I64)", L,
                          name, cJSON_IsString(jd) ? "'" : "", cJSON_IsString(jd) ? jd->valuestring : "(not a string)",
                          cJSON_IsString(jd) ? "'" : "");
    if (!cJSON_IsArray(js)) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: shape is not an array", L, name);
    int nd = cJSON_GetArraySize(js);
    if (nd > PCAVS_MAX_DIMS)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: %d dimensions (at most %d supported)", L, name, nd,
                          PCAVS_MAX_DIMS);
    e->t.ndim = nd;
    uint64_t numel = 1;
    int d = 0;
    cJSON_ArrayForEach(k, js) {
        uint64_t v;
        if (!json_u64(k, &v))
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: shape[%d] is not a non-negative integer", L, name,
                              d);
        if (v > (uint64_t)INT64_MAX || __builtin_mul_overflow(numel, v, &numel) || numel > (uint64_t)INT64_MAX)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: shape overflows 64-bit element count", L, name);
        e->t.shape[d++] = (int64_t)v;
    }
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)pcavs_dtype_size(e->t.dtype), &nbytes))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: byte size overflows", L, name);
    uint64_t b, en;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !json_u64(cJSON_GetArrayItem(jo, 0), &b) ||
        !json_u64(cJSON_GetArrayItem(jo, 1), &en))
        return pcavs_fail(PCAVS_ERR_FORMAT,
                          "file %s: tensor %s: data_offsets is not [begin, end] in non-negative integers", L, name);
    if (b > en || en > data_size)
        return pcavs_fail(PCAVS_ERR_FORMAT,
                          "file %s: tensor %s: data_offsets [%llu, %llu] outside the data area of %llu bytes", L, name,
                          (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_size);
    if (en - b != nbytes) {
        char sb[96];
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: %llu data bytes but shape %s x %s needs %llu", L, name,
                          (unsigned long long)(en - b), pcavs_shape_str(e->t.shape, nd, sb, sizeof sb),
                          pcavs_dtype_name(e->t.dtype), (unsigned long long)nbytes);
    }
    e->name = name;
    e->nbytes = (size_t)nbytes;
    e->t.data = (void *)(uintptr_t)b; /* relative offset for now; rebased after sorting */
    return PCAVS_OK;
}

static pcavs_status st_parse(pcavs_st_file *f) {
    const char *L = f->label;
    if (f->size < 8)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %zu bytes, too short for a safetensors header", L, f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | f->base[i];
    if (n > f->size - 8)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: header length %llu exceeds the file size %zu (truncated?)", L,
                          (unsigned long long)n, f->size);
    if (n > ST_MAX_HEADER)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: header length %llu over the %llu byte limit", L,
                          (unsigned long long)n, (unsigned long long)ST_MAX_HEADER);
    if (n < 2)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: header length %llu is too small for a JSON object", L,
                          (unsigned long long)n);
    const char *hdr = (const char *)f->base + 8;
    const char *end = NULL;
    f->json = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &end, 0);
    if (!f->json) {
        const char *at = cJSON_GetErrorPtr();
        long off = (at && at >= hdr && at <= hdr + n) ? (long)(at - hdr) : -1;
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: header is not valid JSON (error near byte %ld)", L, off);
    }
    for (const char *p = end; p && p < hdr + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: trailing bytes after the JSON header", L);
    if (!cJSON_IsObject(f->json)) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: header is not a JSON object", L);

    const uint64_t data_size = f->size - 8 - n;
    int cap = cJSON_GetArraySize(f->json);
    f->entries = calloc((size_t)cap + 1, sizeof *f->entries);
    f->by_name = calloc((size_t)cap + 1, sizeof *f->by_name);
    if (!f->entries || !f->by_name)
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory for %d header entries", L, cap);
    const cJSON *item, *meta = NULL;
    cJSON_ArrayForEach(item, f->json) {
        if (strcmp(item->string, "__metadata__") == 0) {
            if (meta) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: duplicate __metadata__", L);
            meta = item;
            continue;
        }
        PCAVS_TRY(parse_entry(f, item, data_size, &f->entries[f->n]));
        f->n++;
    }
    if (meta) {
        if (!cJSON_IsObject(meta)) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: __metadata__ is not an object", L);
        int m = cJSON_GetArraySize(meta);
        f->meta_keys = calloc((size_t)m + 1, sizeof *f->meta_keys);
        f->meta_vals = calloc((size_t)m + 1, sizeof *f->meta_vals);
        if (!f->meta_keys || !f->meta_vals) return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory for metadata", L);
        cJSON_ArrayForEach(item, meta) {
            if (!cJSON_IsString(item))
                return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: __metadata__ value of '%s' is not a string", L,
                                  item->string);
            for (int i = 0; i < f->n_meta; i++)
                if (!strcmp(f->meta_keys[i], item->string))
                    return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: duplicate __metadata__ key '%s'", L, item->string);
            f->meta_keys[f->n_meta] = item->string;
            f->meta_vals[f->n_meta] = item->valuestring;
            f->n_meta++;
        }
    }
    /* File order, then overlap check: each tensor must start at or after the end of the previous
     * (empty tensors take no bytes and may share an offset). */
    qsort(f->entries, (size_t)f->n, sizeof *f->entries, cmp_offset);
    for (int i = 1; i < f->n; i++) {
        uint64_t pb = (uintptr_t)f->entries[i - 1].t.data, pe = pb + f->entries[i - 1].nbytes;
        uint64_t cb = (uintptr_t)f->entries[i].t.data;
        if (f->entries[i].nbytes > 0 && cb < pe)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: data overlaps tensor %s", L, f->entries[i].name,
                              f->entries[i - 1].name);
    }
    const uint8_t *data = f->base + 8 + n;
    for (int i = 0; i < f->n; i++) {
        f->entries[i].t.data = (void *)(data + (uintptr_t)f->entries[i].t.data);
        f->by_name[i] = i;
    }
    g_sort_entries = f->entries;
    qsort(f->by_name, (size_t)f->n, sizeof *f->by_name, cmp_name_idx);
    for (int i = 1; i < f->n; i++)
        if (!strcmp(f->entries[f->by_name[i]].name, f->entries[f->by_name[i - 1]].name))
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: duplicate name", L,
                              f->entries[f->by_name[i]].name);
    return PCAVS_OK;
}

static pcavs_status st_new(const char *label, pcavs_st_file **out) {
    *out = NULL;
    pcavs_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->label = strdup(label ? label : "(memory)"))) {
        free(f);
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory", label ? label : "(memory)");
    }
    *out = f;
    return PCAVS_OK;
}

pcavs_status pcavs_st_open_memory(const void *data, size_t size, const char *label, pcavs_st_file **out) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_st_open_memory: out is NULL");
    *out = NULL;
    if (!data && size) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_st_open_memory: data is NULL");
    pcavs_st_file *f;
    PCAVS_TRY(st_new(label, &f));
    static const uint8_t empty[1];
    f->base = data ? data : empty;
    f->size = size;
    pcavs_status st = st_parse(f);
    if (st != PCAVS_OK) {
        pcavs_st_close(f);
        return st;
    }
    *out = f;
    return PCAVS_OK;
}

pcavs_status pcavs_st_open(const char *path, pcavs_st_file **out) {
    if (!out || !path) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_st_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: not a regular file", path);
    }
    pcavs_st_file *f;
    pcavs_status st = st_new(path, &f);
    if (st != PCAVS_OK) {
        close(fd);
        return st;
    }
    f->size = (size_t)sb.st_size;
    if (f->size > 0) {
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            pcavs_st_close(f);
            return pcavs_fail(PCAVS_ERR_IO, "file %s: mmap failed: %s", path, strerror(errno));
        }
        f->map = m;
        f->map_size = f->size;
        f->base = m;
    } else {
        static const uint8_t empty[1];
        f->base = empty;
    }
    close(fd);
    st = st_parse(f);
    if (st != PCAVS_OK) {
        pcavs_st_close(f);
        return st;
    }
    *out = f;
    return PCAVS_OK;
}

const char *pcavs_st_path(const pcavs_st_file *f) { return f ? f->label : NULL; }
int pcavs_st_count(const pcavs_st_file *f) { return f ? f->n : 0; }

const pcavs_st_entry *pcavs_st_at(const pcavs_st_file *f, int i) {
    return (f && i >= 0 && i < f->n) ? &f->entries[i] : NULL;
}

const pcavs_st_entry *pcavs_st_find(const pcavs_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const pcavs_st_entry *e = &f->entries[f->by_name[mid]];
        int c = strcmp(name, e->name);
        if (c == 0) return e;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *pcavs_st_metadata(const pcavs_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key)) return f->meta_vals[i];
    return NULL;
}

int pcavs_st_metadata_count(const pcavs_st_file *f) { return f ? f->n_meta : 0; }

void pcavs_st_metadata_at(const pcavs_st_file *f, int i, const char **key, const char **value) {
    int ok = f && i >= 0 && i < f->n_meta;
    if (key) *key = ok ? f->meta_keys[i] : NULL;
    if (value) *value = ok ? f->meta_vals[i] : NULL;
}

pcavs_status pcavs_st_get_f32(const pcavs_st_file *f, const char *name, int ndim, const int64_t *shape,
                              const float **data) {
    if (!f || !name || !data || ndim < 0 || (ndim > 0 && !shape))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_st_get_f32: bad arguments");
    *data = NULL;
    const pcavs_st_entry *e = pcavs_st_find(f, name);
    if (!e) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: missing", f->label, name);
    if (e->t.dtype != PCAVS_F32)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: dtype %s, expected F32", f->label, name,
                          pcavs_dtype_name(e->t.dtype));
    int same = e->t.ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = e->t.shape[i] == shape[i];
    if (!same) {
        char a[128], b[128];
        return pcavs_fail(PCAVS_ERR_SHAPE, "file %s: tensor %s: shape %s, expected %s", f->label, name,
                          pcavs_shape_str(e->t.shape, e->t.ndim, a, sizeof a),
                          pcavs_shape_str(shape, ndim, b, sizeof b));
    }
    if (((uintptr_t)e->t.data & 3u) != 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: data not 4-byte aligned in the file", f->label, name);
    *data = e->t.data;
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- writer */

typedef struct st_wentry {
    char *name;
    pcavs_dtype dt;
    int ndim;
    int64_t shape[PCAVS_MAX_DIMS];
    const void *data; /* [nbytes] borrowed or owned (see owned) */
    void *owned;
    size_t nbytes;
} st_wentry;

struct pcavs_st_writer {
    st_wentry *e;
    int n, cap;
    char **mkeys, **mvals;
    int nm, capm;
};

pcavs_status pcavs_st_writer_create(pcavs_st_writer **out) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_st_writer_create: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
    return PCAVS_OK;
}

void pcavs_st_writer_free(pcavs_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        free(w->e[i].name);
        free(w->e[i].owned);
    }
    for (int i = 0; i < w->nm; i++) {
        free(w->mkeys[i]);
        free(w->mvals[i]);
    }
    free(w->e);
    free(w->mkeys);
    free(w->mvals);
    free(w);
}

pcavs_status pcavs_st_writer_add(pcavs_st_writer *w, const char *name, pcavs_dtype dt, int ndim, const int64_t *shape,
                                 const void *data, int borrow) {
    if (!w || !name) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: NULL argument");
    if (!name[0] || !strcmp(name, "__metadata__"))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor name '%s' is not allowed", name);
    if (pcavs_dtype_size(dt) == 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s: unknown dtype", name);
    if (ndim < 0 || ndim > PCAVS_MAX_DIMS || (ndim > 0 && !shape))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s: bad rank %d", name, ndim);
    uint64_t numel = 1, nbytes;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(numel, (uint64_t)shape[i], &numel))
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s: bad shape", name);
    if (__builtin_mul_overflow(numel, (uint64_t)pcavs_dtype_size(dt), &nbytes) || nbytes > SIZE_MAX / 2)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s: too large", name);
    if (nbytes > 0 && !data)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s: data is NULL", name);
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->e[i].name, name))
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: tensor %s added twice", name);
    if (w->n == w->cap) {
        int nc = w->cap ? 2 * w->cap : 64;
        st_wentry *ne = realloc(w->e, (size_t)nc * sizeof *ne);
        if (!ne) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
        w->e = ne;
        w->cap = nc;
    }
    st_wentry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
    if (!borrow && nbytes > 0) {
        e->owned = malloc((size_t)nbytes);
        if (!e->owned) {
            free(e->name);
            return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: tensor %s: out of memory (%llu bytes)", name,
                              (unsigned long long)nbytes);
        }
        memcpy(e->owned, data, (size_t)nbytes);
        e->data = e->owned;
    } else {
        e->data = data;
    }
    e->dt = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = (size_t)nbytes;
    w->n++;
    return PCAVS_OK;
}

pcavs_status pcavs_st_writer_metadata(pcavs_st_writer *w, const char *key, const char *value) {
    if (!w || !key || !value) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: NULL metadata argument");
    for (int i = 0; i < w->nm; i++)
        if (!strcmp(w->mkeys[i], key)) {
            char *v = strdup(value);
            if (!v) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
            free(w->mvals[i]);
            w->mvals[i] = v;
            return PCAVS_OK;
        }
    if (w->nm == w->capm) {
        int nc = w->capm ? 2 * w->capm : 16;
        char **nk = realloc(w->mkeys, (size_t)nc * sizeof *nk);
        if (!nk) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
        w->mkeys = nk;
        char **nv = realloc(w->mvals, (size_t)nc * sizeof *nv);
        if (!nv) return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
        w->mvals = nv;
        w->capm = nc;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return pcavs_fail(PCAVS_ERR_OOM, "safetensors writer: out of memory");
    }
    w->mkeys[w->nm] = k;
    w->mvals[w->nm] = v;
    w->nm++;
    return PCAVS_OK;
}

static int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n > 0) {
        size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        ssize_t k = write(fd, p, chunk);
        if (k < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

static char *build_header(const pcavs_st_writer *w, size_t *len) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    int ok = 1;
    if (w->nm > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (int i = 0; ok && i < w->nm; i++) ok = cJSON_AddStringToObject(m, w->mkeys[i], w->mvals[i]) != NULL;
    }
    uint64_t off = 0;
    for (int i = 0; ok && i < w->n; i++) {
        const st_wentry *e = &w->e[i];
        cJSON *o = cJSON_AddObjectToObject(root, e->name);
        cJSON *sh = o ? cJSON_AddArrayToObject(o, "shape") : NULL;
        cJSON *of = sh ? cJSON_AddArrayToObject(o, "data_offsets") : NULL;
        ok = of && cJSON_AddStringToObject(o, "dtype", pcavs_dtype_name(e->dt));
        for (int d = 0; ok && d < e->ndim; d++) ok = cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e->shape[d]));
        if (ok) ok = cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        off += e->nbytes;
        if (ok) ok = cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) return NULL;
    /* Pad with spaces so the data area starts 8-byte aligned (8 + header length % 8 == 0). */
    size_t n = strlen(s), padded = (n + 7) & ~(size_t)7;
    char *p = realloc(s, padded + 1);
    if (!p) {
        free(s);
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = '\0';
    *len = padded;
    return p;
}

pcavs_status pcavs_st_writer_save(pcavs_st_writer *w, const char *path) {
    if (!w || !path || !path[0]) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "safetensors writer: NULL argument");
    size_t hlen = 0;
    char *hdr = build_header(w, &hlen);
    if (!hdr) return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory building the header", path);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(hdr);
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory", path);
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        pcavs_status st =
            pcavs_fail(PCAVS_ERR_IO, "file %s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(hdr);
        free(tmp);
        return st;
    }
    mode_t um = umask(0);
    umask(um);
    int ok = fchmod(fd, 0666 & ~um) == 0;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    ok = ok && write_all(fd, len8, 8) && write_all(fd, hdr, hlen);
    for (int i = 0; ok && i < w->n; i++) ok = write_all(fd, w->e[i].data, w->e[i].nbytes);
    int saved_errno = errno;
    ok = ok && fsync(fd) == 0;
    if (!ok) saved_errno = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    free(hdr);
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved_errno = errno;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: write failed: %s", path, strerror(saved_errno));
    }
    free(tmp);
    /* Make the rename durable: fsync the directory (best effort). */
    char *dir = strdup(path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
        int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return PCAVS_OK;
}
