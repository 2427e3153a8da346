/* test_safetensors.c: core/safetensors reader and writer: bit-exact round trip of every dtype
 * (scalars, empty tensors, metadata), shape-checked lookups, atomic replacement, and every
 * corruption case (header length, JSON, dtype, shape, offsets, overlap, metadata, duplicates,
 * truncation at every length, bit flips) answered with an error that names the problem. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "test_util.h"

/* A file image: 8-byte length + header (padded with spaces to hlen) + data_size bytes of 0x5A. */
static uint8_t *make_image(const char *hdr, uint64_t declared_len, size_t data_size, size_t *size) {
    size_t n = strlen(hdr);
    *size = 8 + n + data_size;
    uint8_t *b = malloc(*size + 1);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(declared_len >> (8 * i));
    memcpy(b + 8, hdr, n);
    memset(b + 8 + n, 0x5A, data_size);
    return b;
}

/* Opens a crafted image; checks it fails with PCAVS_ERR_FORMAT and a message containing `needle`. */
static void expect_bad(const char *what, const char *hdr, size_t data_size, const char *needle) {
    size_t size;
    uint8_t *b = make_image(hdr, strlen(hdr), data_size, &size);
    pcavs_st_file *f = NULL;
    pcavs_status st = pcavs_st_open_memory(b, size, "bad.safetensors", &f);
    const char *msg = pcavs_last_error();
    pt_check(st == PCAVS_ERR_FORMAT && f == NULL && strstr(msg, needle) && strstr(msg, "bad.safetensors"),
             "corrupt (%s) -> error \"%s\"", what, msg);
    pcavs_st_close(f);
    free(b);
}

static void expect_good(const char *what, const char *hdr, size_t data_size, int n_tensors) {
    size_t size;
    uint8_t *b = make_image(hdr, strlen(hdr), data_size, &size);
    pcavs_st_file *f = NULL;
    pcavs_status st = pcavs_st_open_memory(b, size, "good.safetensors", &f);
    pt_check(st == PCAVS_OK && pcavs_st_count(f) == n_tensors, "valid (%s) opens with %d tensors (%s)", what, n_tensors,
             st == PCAVS_OK ? "ok" : pcavs_last_error());
    pcavs_st_close(f);
    free(b);
}

static int count_tmp_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *size = fread(b, 1, (size_t)n, fp);
    fclose(fp);
    return b;
}

int main(void) {
    char dir[] = "/tmp/pcavs_test_st_XXXXXX";
    if (!mkdtemp(dir)) {
        pt_skip("cannot create a temporary directory");
        return pt_finish();
    }
    char path[256];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);

    /* ---- round trip ---- */
    enum { N1 = 3 * 5 * 7 };
    float a[N1]; /* [3, 5, 7] */
    pt_fill_normal(a, N1, 11, 1.0f);
    a[0] = -0.0f;
    int64_t ib[4] = {-1, 0, INT64_MAX, INT64_MIN};                    /* [4] */
    uint16_t h[6] = {0x3c00, 0x8000, 0x7bff, 0x0001, 0xfc00, 0x3555}; /* [2, 3] */
    float sc = 3.25f;                                                 /* [] */
    int64_t nbt = 123456;                                             /* [] */
    int64_t sa[3] = {3, 5, 7}, sb[1] = {4}, sh[2] = {2, 3}, se[2] = {0, 4};
    pcavs_st_writer *w = NULL;
    pt_check_ok(pcavs_st_writer_create(&w), "writer_create");
    pt_check_ok(pcavs_st_writer_add(w, "net.a.weight", PCAVS_F32, 3, sa, a, 0), "add F32 (copied)");
    pt_check_ok(pcavs_st_writer_add(w, "net.b", PCAVS_I64, 1, sb, ib, 1), "add I64 (borrowed)");
    pt_check_ok(pcavs_st_writer_add(w, "h", PCAVS_F16, 2, sh, h, 0), "add F16");
    pt_check_ok(pcavs_st_writer_add(w, "bf", PCAVS_BF16, 2, sh, h, 0), "add BF16");
    pt_check_ok(pcavs_st_writer_add(w, "empty", PCAVS_F32, 2, se, NULL, 0), "add empty");
    pt_check_ok(pcavs_st_writer_add(w, "scalar", PCAVS_F32, 0, NULL, &sc, 0), "add 0-d F32");
    pt_check_ok(pcavs_st_writer_add(w, "nbt", PCAVS_I64, 0, NULL, &nbt, 0), "add 0-d I64");
    pt_check(pcavs_st_writer_add(w, "h", PCAVS_F16, 2, sh, h, 0) != PCAVS_OK, "duplicate name refused: %s",
             pcavs_last_error());
    int64_t neg[1] = {-2};
    pt_check(pcavs_st_writer_add(w, "neg", PCAVS_F32, 1, neg, a, 0) != PCAVS_OK, "negative dim refused: %s",
             pcavs_last_error());
    pt_check(pcavs_st_writer_add(w, "__metadata__", PCAVS_F32, 0, NULL, &sc, 0) != PCAVS_OK,
             "tensor named __metadata__ refused: %s", pcavs_last_error());
    pt_check_ok(pcavs_st_writer_metadata(w, "format", "pcavs"), "metadata");
    pt_check_ok(pcavs_st_writer_metadata(w, "note", "quote \" backslash \\ newline \n utf8 \xc3\xa9"),
                "metadata escapes");
    pt_check_ok(pcavs_st_writer_metadata(w, "format", "pcavs2"), "metadata replace");
    a[1] += 1.0f; /* copied tensor must not see this */
    pt_check_ok(pcavs_st_writer_save(w, path), "save");
    a[1] -= 1.0f;
    pt_check(count_tmp_files(dir) == 0, "no temporary file left after save");

    pcavs_st_file *f = NULL;
    if (pt_check_ok(pcavs_st_open(path, &f), "open round-trip file")) {
        pt_check(pcavs_st_count(f) == 7, "7 tensors (got %d)", pcavs_st_count(f));
        const char *order[7] = {"net.a.weight", "net.b", "h", "bf", "empty", "scalar", "nbt"};
        int in_order = 1;
        for (int i = 0; i < 7 && i < pcavs_st_count(f); i++) in_order &= !strcmp(pcavs_st_at(f, i)->name, order[i]);
        pt_check(in_order, "pcavs_st_at gives file (insertion) order");
        const float *pa = NULL;
        pt_check_ok(pcavs_st_get_f32(f, "net.a.weight", 3, sa, &pa), "get_f32 net.a.weight");
        pt_check(pa && memcmp(pa, a, sizeof a) == 0, "F32 bit-exact (incl. -0.0)");
        const pcavs_st_entry *e = pcavs_st_find(f, "net.b");
        pt_check(e && e->t.dtype == PCAVS_I64 && e->t.ndim == 1 && e->t.shape[0] == 4 && e->nbytes == 32 &&
                     memcmp(e->t.data, ib, sizeof ib) == 0,
                 "I64 bit-exact with shape [4]");
        e = pcavs_st_find(f, "h");
        pt_check(e && e->t.dtype == PCAVS_F16 && memcmp(e->t.data, h, sizeof h) == 0, "F16 bit-exact");
        e = pcavs_st_find(f, "bf");
        pt_check(e && e->t.dtype == PCAVS_BF16 && memcmp(e->t.data, h, sizeof h) == 0, "BF16 bit-exact");
        e = pcavs_st_find(f, "empty");
        pt_check(e && e->nbytes == 0 && e->t.ndim == 2 && e->t.shape[0] == 0 && e->t.shape[1] == 4,
                 "empty tensor [0, 4]");
        const float *ps = NULL;
        pt_check(pcavs_st_get_f32(f, "scalar", 0, NULL, &ps) == PCAVS_OK && ps && *ps == 3.25f, "0-d F32 scalar");
        e = pcavs_st_find(f, "nbt");
        pt_check(e && e->t.ndim == 0 && *(const int64_t *)e->t.data == 123456, "0-d I64 scalar");
        pt_check(pcavs_st_find(f, "missing") == NULL, "find of a missing name gives NULL");
        const char *fm = pcavs_st_metadata(f, "format");
        pt_check(fm && !strcmp(fm, "pcavs2"), "metadata format = pcavs2 (replaced)");
        const char *nt = pcavs_st_metadata(f, "note");
        pt_check(nt && !strcmp(nt, "quote \" backslash \\ newline \n utf8 \xc3\xa9"), "metadata escapes round-trip");
        pt_check(pcavs_st_metadata_count(f) == 2, "2 metadata entries");
        int64_t wrong[3] = {3, 7, 5};
        pcavs_status st = pcavs_st_get_f32(f, "net.a.weight", 3, wrong, &pa);
        pt_check(st == PCAVS_ERR_SHAPE && strstr(pcavs_last_error(), "net.a.weight") &&
                     strstr(pcavs_last_error(), "3x5x7") && strstr(pcavs_last_error(), "3x7x5"),
                 "wrong shape -> \"%s\"", pcavs_last_error());
        st = pcavs_st_get_f32(f, "net.b", 1, sb, &pa);
        pt_check(st != PCAVS_OK && strstr(pcavs_last_error(), "I64"), "wrong dtype -> \"%s\"", pcavs_last_error());
        st = pcavs_st_get_f32(f, "nope", 1, sb, &pa);
        pt_check(st != PCAVS_OK && strstr(pcavs_last_error(), "nope") && strstr(pcavs_last_error(), path),
                 "missing tensor -> \"%s\"", pcavs_last_error());
        pcavs_st_close(f);
    }

    /* ---- atomic replacement: a failed save leaves the old file intact ---- */
    size_t good_size = 0;
    uint8_t *good = read_file(path, &good_size);
    char bad_path[300];
    snprintf(bad_path, sizeof bad_path, "%s/no/such/dir/x.safetensors", dir);
    pcavs_status st = pcavs_st_writer_save(w, bad_path);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), bad_path), "save into a missing directory -> \"%s\"",
             pcavs_last_error());
    pcavs_st_writer_free(w);
    pt_check_ok(pcavs_st_writer_create(&w), "writer_create 2");
    pt_check_ok(pcavs_st_writer_add(w, "only", PCAVS_F32, 0, NULL, &sc, 1), "add");
    pt_check_ok(pcavs_st_writer_save(w, path), "save over the existing file");
    pcavs_st_writer_free(w);
    f = NULL;
    pt_check(pcavs_st_open(path, &f) == PCAVS_OK && pcavs_st_count(f) == 1, "replaced file has the new content");
    pcavs_st_close(f);
    pt_check(count_tmp_files(dir) == 0, "no temporary file left");

    /* ---- file-level errors ---- */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.safetensors", dir);
    st = pcavs_st_open(missing, &f);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "missing.safetensors"), "missing file -> \"%s\"",
             pcavs_last_error());
    st = pcavs_st_open(dir, &f);
    pt_check(st == PCAVS_ERR_IO, "directory -> \"%s\"", pcavs_last_error());

    /* ---- crafted headers ---- */
    expect_good("minimal", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 1);
    expect_good("no tensors", "{}      ", 0, 0);
    expect_good("metadata only", "{\"__metadata__\":{\"a\":\"b\"}}", 0, 0);
    expect_good("gap between tensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                12, 2);
    expect_bad("invalid JSON", "{\"t\":{\"dtype\":\"F32\",", 8, "JSON");
    expect_bad("not an object", "[1,2,3]", 0, "not a JSON object");
    expect_bad("trailing garbage", "{} x", 0, "trailing");
    expect_bad("unknown dtype", "{\"t\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype 'F128'");
    expect_bad("dtype not a string", "{\"t\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype");
    expect_bad("negative dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("fractional dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("string dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("numel overflow",
               "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,8]}}", 8,
               "overflow");
    expect_bad("byte size overflow",
               "{\"t\":{\"dtype\":\"I64\",\"shape\":[4503599627370496,1024],\"data_offsets\":[0,8]}}", 8, "overflow");
    expect_bad("huge dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("too many dims", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
               "dimensions");
    expect_bad("shape not array", "{\"t\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape is not");
    expect_bad("offsets past the end", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
               "outside the data area");
    expect_bad("offsets reversed", "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
               "outside the data area");
    expect_bad("negative offset", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
               "data_offsets");
    expect_bad("three offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8,
               "data_offsets");
    expect_bad("size mismatch", "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12, "needs 12");
    expect_bad("overlap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "overlaps");
    expect_bad("duplicate name",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "duplicate name");
    expect_bad("missing field", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing data_offsets");
    expect_bad("unknown field", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
               "unknown header field");
    expect_bad("entry not object", "{\"t\":5}", 0, "not an object");
    expect_bad("empty name", "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "empty name");
    expect_bad("metadata non-string", "{\"__metadata__\":{\"a\":1}}", 0, "not a string");
    expect_bad("metadata not object", "{\"__metadata__\":\"x\"}", 0, "__metadata__ is not an object");
    expect_bad("metadata duplicate key", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0,
               "duplicate __metadata__ key");
    expect_bad("nested too deep",
               "{\"__metadata__\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
               0, "__metadata__ is not an object");

    /* Header length fields that lie. */
    {
        size_t size;
        const char *hdr = "{}";
        uint8_t *b = make_image(hdr, 1000, 0, &size);
        f = NULL;
        st = pcavs_st_open_memory(b, size, "len.safetensors", &f);
        pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "exceeds the file size"),
                 "header length > file -> \"%s\"", pcavs_last_error());
        free(b);
        b = make_image(hdr, UINT64_MAX, 0, &size);
        st = pcavs_st_open_memory(b, size, "len.safetensors", &f);
        pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "exceeds"), "header length 2^64-1 -> \"%s\"",
                 pcavs_last_error());
        free(b);
        b = make_image(hdr, 0, 0, &size);
        st = pcavs_st_open_memory(b, size, "len.safetensors", &f);
        pt_check(st == PCAVS_ERR_FORMAT, "header length 0 -> \"%s\"", pcavs_last_error());
        free(b);
        uint8_t tiny[5] = {1, 0, 0, 0, 0};
        st = pcavs_st_open_memory(tiny, sizeof tiny, "tiny.safetensors", &f);
        pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "too short"), "5-byte file -> \"%s\"",
                 pcavs_last_error());
    }

    /* Truncation at every length and single-bit flips of the round-trip file image: every result is
     * either a clean open or a FORMAT error with a message (ASan/UBSan builds catch any overread). */
    if (good) {
        int trunc_bad = 0, trunc_msg = 0;
        for (size_t len = 0; len < good_size; len++) {
            uint8_t *copy = malloc(len + 1); /* exact-size copy: an overread hits the allocation end */
            memcpy(copy, good, len);
            f = NULL;
            pcavs_clear_error();
            st = pcavs_st_open_memory(copy, len, "trunc.safetensors", &f);
            trunc_bad += st == PCAVS_ERR_FORMAT && f == NULL;
            trunc_msg += strstr(pcavs_last_error(), "trunc.safetensors") != NULL;
            pcavs_st_close(f);
            free(copy);
        }
        pt_check(trunc_bad == (int)good_size && trunc_msg == (int)good_size,
                 "all %zu truncations refused with a message (%d refused, %d named the file)", good_size, trunc_bad,
                 trunc_msg);
        int opened = 0, refused = 0, other = 0;
        uint8_t *copy = malloc(good_size);
        for (size_t bit = 0; bit < good_size * 8; bit += 3) {
            memcpy(copy, good, good_size);
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            f = NULL;
            st = pcavs_st_open_memory(copy, good_size, "flip.safetensors", &f);
            if (st == PCAVS_OK) {
                /* Whatever opened must be self-consistent: every entry inside the buffer. */
                for (int i = 0; i < pcavs_st_count(f); i++) {
                    const pcavs_st_entry *e = pcavs_st_at(f, i);
                    if ((const uint8_t *)e->t.data < copy || (const uint8_t *)e->t.data + e->nbytes > copy + good_size)
                        other++;
                }
                opened++;
            } else if (st == PCAVS_ERR_FORMAT && pcavs_last_error()[0]) {
                refused++;
            } else {
                other++;
            }
            pcavs_st_close(f);
        }
        free(copy);
        pt_check(other == 0 && refused > 0, "bit flips: %d opened (data flips), %d refused, %d inconsistent", opened,
                 refused, other);
        free(good);
    }

    unlink(path);
    rmdir(dir);
    return pt_finish();
}
