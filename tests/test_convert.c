/* test_convert.c: pcavs-convert (weights_tools/): SHA-256 on the FIPS 180-2 vectors; the .pth readers
 * against torch.load bit for bit (small hand-made checkpoints with views, shared/offset storages,
 * float64/float16, 0-d and empty tensors, both formats; the full-size random checkpoints of all four
 * networks, both formats); validation messages; refusal of non-state_dict files; every truncation and
 * a sweep of bit flips of real files give an error or a consistent result, never a crash;
 * --synthesize writes finite values with the official shapes.
 * Fixtures ($PCAVS_FIXTURES, made by tests/reference/make_all_fixtures.sh):
 *   ckpt/{legacy,zip}/latest_net_*.pth (make_checkpoints.py), torch_load.safetensors and pth_small/
 *   (dump_torch_load.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "model_keys.h"
#include "pth.h"
#include "safetensors.h"
#include "sha256.h"
#include "test_util.h"

static char g_tmp[] = "/tmp/pcavs_test_convert_XXXXXX";

static void test_sha256(void) {
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
             {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
             {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
             {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
              "nopqrstu",
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[65];
        pcavs_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
        pt_check(!strcmp(hex, v[i].hex), "sha256 vector %zu (%zu bytes): %s", i, strlen(v[i].msg), hex);
    }
    /* One million 'a', fed in uneven pieces. */
    pcavs_sha256 s;
    uint8_t d[32];
    char hex[65], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    pcavs_sha256_init(&s);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 997 + 1) {
        size_t n = k < left ? k : left;
        pcavs_sha256_update(&s, chunk, n);
        left -= n;
    }
    pcavs_sha256_final(&s, d);
    pcavs_sha256_to_hex(d, hex);
    pt_check(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
             "sha256 of 10^6 'a' in uneven updates: %s", hex);
}

/* Every tensor of `p` equals `prefix.<name>` of the dump bit for bit; returns tensors compared. */
static int compare_pth(pcavs_pth *p, const pcavs_st_file *want, const char *prefix, const char *what) {
    int same = 0, n = pcavs_pth_count(p);
    double max_abs = 0;
    for (int i = 0; i < n; i++) {
        const pcavs_pth_tensor *t = pcavs_pth_at(p, i);
        char name[600];
        snprintf(name, sizeof name, "%s.%s", prefix, t->name);
        const pcavs_st_entry *e = pcavs_st_find(want, name);
        const void *data;
        size_t nbytes;
        void *own;
        if (!e || pcavs_pth_tensor_data(p, i, &data, &nbytes, &own) != PCAVS_OK) {
            pt_check(0, "%s: tensor %s: %s", what, t->name,
                     e ? pcavs_last_error() : "missing from the torch.load dump");
            continue;
        }
        int ok = e->nbytes == nbytes && e->t.ndim == t->ndim && !memcmp(e->t.data, data, nbytes);
        for (int d = 0; ok && d < t->ndim; d++) ok = e->t.shape[d] == t->shape[d];
        if (ok)
            same++;
        else
            pt_check(0, "%s: tensor %s differs from torch.load", what, t->name);
        if (e->t.dtype == PCAVS_F32 && e->nbytes == nbytes)
            for (size_t k = 0; k < nbytes / 4; k++)
                max_abs = fmax(max_abs, fabs((double)((const float *)data)[k] - ((const float *)e->t.data)[k]));
        free(own);
    }
    pt_check(same == n && n > 0, "%s: %d/%d tensors bit-exact vs torch.load (max |diff| %g, bound 0)", what, same, n,
             max_abs);
    return same;
}

/* Truncations (every length for small files, n_trunc evenly spread for big ones) and n_flips single-bit
 * flips (spread over the first 256 KiB, where the pickles and zip headers live, and the last 64 KiB, where
 * the zip central directory lives): refused with a one-line message naming the file, or opened
 * consistently; never a crash (the ASan/UBSan CI build checks memory). */
static void torture(const char *path, size_t n_trunc, size_t n_flips) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return;
    fseek(fp, 0, SEEK_END);
    size_t size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *good = malloc(size);
    if (fread(good, 1, size, fp) != size) size = 0;
    fclose(fp);
    int refused = 0, total = 0, with_msg = 0;
    size_t step = size / n_trunc + 1;
    for (size_t len = 0; len < size; len += step) {
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, good, len);
        pcavs_pth *p = NULL;
        pcavs_clear_error();
        pcavs_status st = pcavs_pth_open_memory(copy, len, "trunc.pth", &p);
        /* A truncated zip may still parse (the central directory is at the end, so no); a truncated
         * legacy file always loses storage data. Either way the handle must be unusable or refused. */
        if (st != PCAVS_OK) {
            refused++;
            with_msg += strstr(pcavs_last_error(), "trunc.pth") != NULL && !strchr(pcavs_last_error(), '\n');
        } else {
            for (int i = 0; i < pcavs_pth_count(p); i++) {
                const void *d;
                size_t nb;
                void *own;
                if (pcavs_pth_tensor_data(p, i, &d, &nb, &own) == PCAVS_OK) free(own);
            }
        }
        pcavs_pth_close(p);
        free(copy);
        total++;
    }
    pt_check(refused == total && with_msg == total,
             "%s: %d/%d truncations refused with a one-line message naming the file", path, refused, total);
    int opened = 0, bad = 0, flips = 0;
    uint8_t *copy = malloc(size ? size : 1);
    size_t head = size < (256u << 10) ? size : (256u << 10),
           tail = size - head < (64u << 10) ? size - head : (64u << 10);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (size_t k = 0; k < n_flips && size > 0; k++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t bit = (size_t)(rng % (uint64_t)(8 * head));
        if (tail && k % 4 == 3) bit = 8 * (size - tail) + (size_t)(rng % (uint64_t)(8 * tail));
        memcpy(copy, good, size);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        pcavs_pth *p = NULL;
        pcavs_status st = pcavs_pth_open_memory(copy, size, "flip.pth", &p);
        if (st == PCAVS_OK) {
            opened++;
            for (int i = 0; i < pcavs_pth_count(p); i++) {
                const void *d;
                size_t nb;
                void *own;
                if (pcavs_pth_tensor_data(p, i, &d, &nb, &own) == PCAVS_OK) free(own);
            }
        } else if (!pcavs_last_error()[0]) {
            bad++;
        }
        pcavs_pth_close(p);
        flips++;
    }
    free(copy);
    free(good);
    pt_check(bad == 0 && flips > 0, "%s: %d bit flips: %d opened, %d refused, %d refused without a message", path,
             flips, opened, flips - opened - bad, bad);
}

static void test_small(const char *dir) {
    char exp[1024], path[1024];
    snprintf(exp, sizeof exp, "%s/small_expected.safetensors", dir);
    pcavs_st_file *want = NULL;
    if (pcavs_st_open(exp, &want) != PCAVS_OK) {
        pt_skip("small checkpoints: %s", pcavs_last_error());
        return;
    }
    const char *fmts[2] = {"legacy", "zip"};
    for (int f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "%s/small_%s.pth", dir, fmts[f]);
        pcavs_pth *p = NULL;
        if (!pt_check_ok(pcavs_pth_open(path, &p), path)) continue;
        pt_check(!strcmp(pcavs_pth_format(p), fmts[f]), "%s detected as %s", path, pcavs_pth_format(p));
        pt_check(pcavs_pth_count(p) == pcavs_st_count(want), "%s: %d tensors (torch.load: %d)", path,
                 pcavs_pth_count(p), pcavs_st_count(want));
        compare_pth(p, want, "S", path);
        pcavs_pth_close(p);
        torture(path, SIZE_MAX, 4000);
    }
    pcavs_st_close(want);
    static const struct {
        const char *file, *needle;
    } bad[] = {{"bad_nested_legacy.pth", "not a tensor"},
               {"bad_int_zip.pth", "tensor n: value is not a tensor"},
               {"bad_global_legacy.pth", "collections.Counter"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad[i].file);
        pcavs_pth *p = NULL;
        pcavs_status st = pcavs_pth_open(path, &p);
        pt_check(st != PCAVS_OK && strstr(pcavs_last_error(), bad[i].needle) && strstr(pcavs_last_error(), bad[i].file),
                 "refused %s -> \"%s\"", bad[i].file, pcavs_last_error());
        pcavs_pth_close(p);
    }
    /* Validation: misshapen, missing and unexpected tensors are all reported by name. */
    snprintf(path, sizeof path, "%s/bad_keys/latest_net_A_sync.pth", dir);
    char out[1100], *logbuf = NULL;
    size_t loglen = 0;
    snprintf(out, sizeof out, "%s/bad.safetensors", g_tmp);
    FILE *log = open_memstream(&logbuf, &loglen);
    pcavs_convert_opts o = {.keep_all = 0, .log = log};
    const char *in[1] = {path};
    pcavs_status st = pcavs_convert(in, 1, out, &o);
    fclose(log);
    pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "3 validation problems"), "bad keys refused: \"%s\"",
             pcavs_last_error());
    pt_check(logbuf && strstr(logbuf, "tensor model.conv1.bias: shape 33, expected 32") &&
                 strstr(logbuf, "tensor model.fc.weight: missing") && strstr(logbuf, "tensor extra.weight: unexpected"),
             "log names the misshapen, missing and unexpected tensors");
    pt_check(access(out, F_OK) != 0, "no output written on validation failure");
    free(logbuf);
}

static void test_full(const char *fix) {
    char want_path[1024];
    snprintf(want_path, sizeof want_path, "%s/torch_load.safetensors", fix);
    pcavs_st_file *want = NULL;
    if (pcavs_st_open(want_path, &want) != PCAVS_OK) {
        pt_skip("full checkpoints: %s (run make_checkpoints.py and dump_torch_load.py)", pcavs_last_error());
        return;
    }
    const char *fmts[2] = {"legacy", "zip"};
    for (int f = 0; f < 2; f++) {
        char dir[1024], out[1100];
        if (f == 0 && pt_quick()) { /* test_small reads both formats; the full model once, in the zip format */
            pt_skip("quick run (PCAVS_TEST_QUICK): the full legacy checkpoints are not converted");
            continue;
        }
        snprintf(dir, sizeof dir, "%s/ckpt/%s", fix, fmts[f]);
        /* The converted model (--keep-all): every torch.load tensor, bit for bit, plus metadata. */
        snprintf(out, sizeof out, "%s/model_%s.safetensors", g_tmp, fmts[f]);
        const char *in[1] = {dir};
        pcavs_convert_opts o = {.keep_all = 1, .log = NULL};
        if (!pt_check_ok(pcavs_convert(in, 1, out, &o), "pcavs_convert --keep-all")) continue;
        pcavs_st_file *got = NULL;
        if (!pt_check_ok(pcavs_st_open(out, &got), out)) continue;
        int same = 0;
        for (int i = 0; i < pcavs_st_count(want); i++) {
            const pcavs_st_entry *w = pcavs_st_at(want, i), *g = pcavs_st_find(got, w->name);
            int ok = g && g->t.dtype == w->t.dtype && g->nbytes == w->nbytes && g->t.ndim == w->t.ndim &&
                     !memcmp(g->t.data, w->t.data, w->nbytes);
            for (int d = 0; ok && d < w->t.ndim; d++) ok = g->t.shape[d] == w->t.shape[d];
            same += ok;
        }
        pt_check(same == pcavs_st_count(want) && pcavs_st_count(got) == pcavs_st_count(want),
                 "%s converted --keep-all: %d/%d tensors bit-exact, %d in the output", fmts[f], same,
                 pcavs_st_count(want), pcavs_st_count(got));
        pt_check(pcavs_st_count(got) == pcavs_model_key_count, "%d tensors = the %d of the key table",
                 pcavs_st_count(got), pcavs_model_key_count);
        const char *m = pcavs_st_metadata(got, "format"), *sha = pcavs_st_metadata(got, "sha256_G");
        const char *src = pcavs_st_metadata(got, "source_format_V");
        pt_check(m && !strcmp(m, "pcavs") && sha && strlen(sha) == 64 && src && !strcmp(src, fmts[f]) &&
                     pcavs_st_metadata(got, "style_dim") && !strcmp(pcavs_st_metadata(got, "synthetic"), "0"),
                 "metadata: format=%s sha256_G=%.16s... source_format_V=%s", m ? m : "-", sha ? sha : "-",
                 src ? src : "-");
        pcavs_st_close(got);
        /* Default conversion: training-only tensors dropped (once: the reader paths are covered above). */
        if (f == 1) continue;
        o.keep_all = 0;
        if (!pt_check_ok(pcavs_convert(in, 1, out, &o), "pcavs_convert")) continue;
        if (!pt_check_ok(pcavs_st_open(out, &got), out)) continue;
        int n_inf = 0, leaked = 0;
        for (int i = 0; i < pcavs_model_key_count; i++) {
            char name[600];
            snprintf(name, sizeof name, "%s.%s", pcavs_model_keys[i].net, pcavs_model_keys[i].name);
            int present = pcavs_st_find(got, name) != NULL;
            n_inf += !pcavs_model_keys[i].training_only;
            leaked += pcavs_model_keys[i].training_only ? present : !present;
        }
        pt_check(leaked == 0 && pcavs_st_count(got) == n_inf, "%s default: %d inference tensors, %d misplaced", fmts[f],
                 pcavs_st_count(got), leaked);
        pcavs_st_close(got);
        unlink(out);
    }
    pcavs_st_close(want);
    /* A folder with a wrong network under a right name: every unexpected tensor is reported. */
    char d2[1100], src[1200], dst[1200], out[1200];
    snprintf(d2, sizeof d2, "%s/swapped", g_tmp);
    mkdir(d2, 0755);
    const char *lnk[4][2] = {{"G", "G"}, {"V", "E"}, {"E", "V"}, {"A_sync", "A_sync"}};
    for (int k = 0; k < 4; k++) {
        snprintf(src, sizeof src, "%s/ckpt/legacy/latest_net_%s.pth", fix, lnk[k][1]);
        snprintf(dst, sizeof dst, "%s/latest_net_%s.pth", d2, lnk[k][0]);
        if (symlink(src, dst) != 0) pt_check(0, "symlink %s", dst);
    }
    snprintf(out, sizeof out, "%s/swapped.safetensors", g_tmp);
    const char *in[1] = {d2};
    pcavs_status st = pcavs_convert(in, 1, out, NULL);
    pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "latest_net_V.pth: tensor"),
             "V and E swapped -> \"%s\"", pcavs_last_error());
    for (int k = 0; k < 4; k++) {
        snprintf(dst, sizeof dst, "%s/latest_net_%s.pth", d2, lnk[k][0]);
        unlink(dst);
    }
    rmdir(d2);
    snprintf(src, sizeof src, "%s/ckpt/legacy/latest_net_A_sync.pth", fix);
    torture(src, 40, 60);
    snprintf(src, sizeof src, "%s/ckpt/zip/latest_net_A_sync.pth", fix);
    torture(src, 40, 60);
}

static void test_synthesize(void) {
    char out[1100];
    snprintf(out, sizeof out, "%s/synth.safetensors", g_tmp);
    if (!pt_check_ok(pcavs_synthesize(out, 42, 0), "pcavs_synthesize seed 42")) return;
    pcavs_st_file *f = NULL;
    if (!pt_check_ok(pcavs_st_open(out, &f), out)) return;
    int shapes_ok = 0, n_inf = 0, finite = 1;
    for (int i = 0; i < pcavs_model_key_count; i++) {
        const pcavs_model_key *k = &pcavs_model_keys[i];
        if (k->training_only) continue;
        n_inf++;
        char name[600];
        snprintf(name, sizeof name, "%s.%s", k->net, k->name);
        const float *x;
        if (pcavs_st_get_f32(f, name, k->ndim, k->shape, &x) == PCAVS_OK) {
            shapes_ok++;
            const pcavs_st_entry *e = pcavs_st_find(f, name);
            for (size_t j = 0; j < e->nbytes / 4; j++) finite &= isfinite(x[j]);
        }
    }
    pt_check(shapes_ok == n_inf && pcavs_st_count(f) == n_inf && finite,
             "synthesized: %d/%d official shapes, all finite: %d", shapes_ok, n_inf, finite);
    const char *syn = pcavs_st_metadata(f, "synthetic");
    pt_check(syn && !strcmp(syn, "1"), "synthetic=1 in metadata");
    const float *kern, *mb, *rv;
    int64_t s44[2] = {4, 4}, s512[1] = {512};
    int64_t s64[1] = {64};
    if (pcavs_st_get_f32(f, "G.to_rgbs.0.upsample.kernel", 2, s44, &kern) == PCAVS_OK &&
        pcavs_st_get_f32(f, "G.conv1.conv.modulation.bias", 1, s512, &mb) == PCAVS_OK &&
        pcavs_st_get_f32(f, "V.model.bn1.running_var", 1, s64, &rv) == PCAVS_OK) {
        float want_k[16];
        static const float v[4] = {1, 3, 3, 1};
        for (int i = 0; i < 16; i++) want_k[i] = v[i / 4] * v[i % 4] / 16.0f;
        pt_check_max_abs("synth blur kernel = make_kernel([1,3,3,1]) * 4", kern, want_k, 16, 0.0);
        float ones[512];
        for (int i = 0; i < 512; i++) ones[i] = 1.0f;
        pt_check_max_abs("synth modulation bias = 1", mb, ones, 512, 0.0);
        pt_check_max_abs("synth BN running_var = 1", rv, ones, 64, 0.0);
    } else {
        pt_check(0, "synthesized tensors missing: %s", pcavs_last_error());
    }
    pcavs_st_close(f);
    unlink(out);
}

int main(void) {
    if (!mkdtemp(g_tmp)) {
        pt_skip("cannot create a temporary directory");
        return pt_finish();
    }
    test_sha256();
    pt_check(!strcmp(pcavs_convert_net_from_filename("/x/latest_net_A_sync.pth"), "A_sync") &&
                 !strcmp(pcavs_convert_net_from_filename("G.pth"), "G") &&
                 !pcavs_convert_net_from_filename("latest_net_A.pth") && !pcavs_convert_net_from_filename("GG.pth"),
             "network from file name");
    test_synthesize();
    const char *fix = pt_fixtures_dir();
    if (!fix) {
        pt_skip("PCAVS_FIXTURES not set: no PyTorch checkpoints to compare with");
    } else {
        char small[1024];
        snprintf(small, sizeof small, "%s/pth_small", fix);
        test_small(small);
        test_full(fix);
    }
    rmdir(g_tmp);
    return pt_finish();
}
