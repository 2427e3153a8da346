/* test_util.c: the test harness (see test_util.h). */
#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "arena.h"
#include "safetensors.h"

static int g_pass, g_fail, g_skip;

static uint64_t next_u64(uint64_t *s) {
    /* splitmix64: well-mixed from any seed */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void pt_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double u = (double)(next_u64(&s) >> 11) * (1.0 / 9007199254740992.0);
        x[i] = (float)(lo + (hi - lo) * u);
    }
}

void pt_fill_normal(float *x, size_t n, uint64_t seed, float std) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double u1 = ((double)(next_u64(&s) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
        double u2 = (double)(next_u64(&s) >> 11) * (1.0 / 9007199254740992.0);
        x[i] = (float)(std * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
    }
}

float *pt_alloc(size_t n) {
    float *p = pcavs_aligned_alloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "test: out of memory allocating %zu floats\n", n);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}

void pt_free(void *p) { pcavs_aligned_free(p); }

double pt_rel_l2(const float *got, const float *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    if (num != num) return NAN;
    if (den == 0) return sqrt(num);
    return sqrt(num / den);
}

double pt_max_abs(const float *got, const float *want, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d != d) return NAN;
        if (d > m) m = d;
    }
    return m;
}

static int has_nan(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != x[i]) return 1;
    return 0;
}

static int record(int ok) {
    if (ok)
        g_pass++;
    else
        g_fail++;
    return ok;
}

int pt_check_rel_l2(const char *what, const float *got, const float *want, size_t n, double bound) {
    double r = pt_rel_l2(got, want, n), m = pt_max_abs(got, want, n);
    int nan = has_nan(got, n);
    int ok = !nan && r <= bound;
    printf("%s %s: rel_l2 %.3e <= bound %.1e (%.1f%% of bound), max_abs %.3e%s\n", ok ? "PASS" : "FAIL", what, r, bound,
           100.0 * r / bound, m, nan ? " [NaN in output]" : "");
    return record(ok);
}

int pt_check_max_abs(const char *what, const float *got, const float *want, size_t n, double bound) {
    double m = pt_max_abs(got, want, n);
    int nan = has_nan(got, n);
    int ok = !nan && m <= bound;
    if (bound > 0)
        printf("%s %s: max_abs %.3e <= bound %.1e (%.1f%% of bound)%s\n", ok ? "PASS" : "FAIL", what, m, bound,
               100.0 * m / bound, nan ? " [NaN in output]" : "");
    else
        printf("%s %s: max_abs %.3e == 0 (exact)%s\n", ok ? "PASS" : "FAIL", what, m, nan ? " [NaN in output]" : "");
    return record(ok);
}

int pt_check(int ok, const char *fmt, ...) {
    va_list ap;
    printf("%s ", ok ? "PASS" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return record(ok);
}

int pt_check_ok(int st, const char *what) {
    if (st == PCAVS_OK) return pt_check(1, "%s", what);
    return pt_check(0, "%s: status %d (%s): %s", what, st, pcavs_status_name((pcavs_status)st), pcavs_last_error());
}

void pt_skip(const char *fmt, ...) {
    va_list ap;
    printf("SKIP ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    g_skip++;
}

int pt_quick(void) {
    const char *e = getenv("PCAVS_TEST_QUICK");
    return e && *e && strcmp(e, "0") != 0;
}

int pt_quick_skip(double macs, const char *what) {
    if (!pt_quick() || macs <= PT_QUICK_MAX_MACS) return 0;
    pt_skip("%s: %.0f M multiply-adds, over the quick run's %.0f M (PCAVS_TEST_QUICK)", what, macs / 1e6,
            PT_QUICK_MAX_MACS / 1e6);
    return 1;
}

pcavs_kctx pt_host_kctx(size_t scratch_mb, int n_threads) {
    pcavs_kctx kc;
    memset(&kc, 0, sizeof kc);
#ifdef _OPENMP
    kc.n_threads = n_threads > 0 ? n_threads : omp_get_num_procs();
#else
    kc.n_threads = 1;
#endif
    kc.scratch_bytes = scratch_mb << 20;
    kc.scratch = pcavs_aligned_alloc(kc.scratch_bytes);
    if (!kc.scratch) {
        fprintf(stderr, "test: cannot allocate scratch\n");
        exit(2);
    }
    return kc;
}

void pt_free_kctx(pcavs_kctx *kc) {
    pcavs_aligned_free(kc->scratch);
    kc->scratch = NULL;
}

const char *pt_fixtures_dir(void) {
    const char *d = getenv("PCAVS_FIXTURES");
    return d && *d ? d : NULL;
}

const char *pt_path(const char *dir, const char *name) {
    static _Thread_local char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static char pt_tmp_root[1024];

char *pt_tmp_dir_make(const char *prefix) {
    const char *bin = getenv("PCAVS_BINARY_DIR");
    snprintf(pt_tmp_root, sizeof pt_tmp_root, "%s/%s_tmp_XXXXXX", bin ? bin : "/tmp", prefix);
    if (!mkdtemp(pt_tmp_root)) snprintf(pt_tmp_root, sizeof pt_tmp_root, "/tmp");
    return pt_tmp_root;
}

static const char *pt_rotating_join(const char *a, const char *b) {
    static char buf[16][2048];
    static int k;
    k = (k + 1) & 15;
    snprintf(buf[k], sizeof buf[k], "%s/%s", a, b);
    return buf[k];
}

const char *pt_tmp(const char *name) { return pt_rotating_join(pt_tmp_root, name); }

const char *pt_example(const char *rel) {
    const char *src = getenv("PCAVS_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/examples", src ? src : ".");
    return pt_rotating_join(dir, rel);
}

struct pcavs_st_file *pt_open_op_fixtures(const char *op, const char *generator) {
    const char *dir = pt_fixtures_dir();
    if (!dir) {
        pt_skip("PyTorch comparison: PCAVS_FIXTURES is not set (run tests/reference/%s)", generator);
        return NULL;
    }
    char name[256];
    snprintf(name, sizeof name, "ops/%s.safetensors", op);
    pcavs_st_file *f = NULL;
    if (pcavs_st_open(pt_path(dir, name), &f) != PCAVS_OK) {
        pt_skip("PyTorch comparison: %s", pcavs_last_error());
        return NULL;
    }
    return f;
}

const float *pt_fixture_f32(struct pcavs_st_file *f, const char *case_name, const char *what, int ndim,
                            const int64_t *shape) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", case_name, what);
    const float *p = NULL;
    if (pcavs_st_get_f32(f, key, ndim, shape, &p) != PCAVS_OK) {
        pt_check(0, "fixture tensor %s: %s", key, pcavs_last_error());
        return NULL;
    }
    return p;
}

int pt_finish(void) {
    if (g_skip)
        printf("%d passed, %d failed, %d skipped\n", g_pass, g_fail, g_skip);
    else
        printf("%d passed, %d failed\n", g_pass, g_fail);
    if (g_fail) return 1;
    if (g_pass == 0 && g_skip == 0) {
        printf("no check ran\n");
        return 1;
    }
    return 0;
}
