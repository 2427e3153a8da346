/* test_gemm_bf16.c: the bf16 GEMM (kernels/gemm_bf16.h). Checks, on shapes with every kind of tail
 * (m, n, k not multiples of 32) and the generator's real shapes:
 *   - pack_b_cpu (AVX-512) writes the same bits as pack_b_ref;
 *   - each CPU unit present (AMX, AVX512-BF16) against the reference on the same packed operands:
 *     both sum float32 products of the same bf16 values, only the order differs: rel L2 <= 1e-5;
 *   - the reference against a float64 GEMM of the unrounded float32 operands: the bf16 rounding itself.
 *     Each operand is rounded to 8 significant bits (relative error <= u = 2^-8, rms ~1.6e-3), so a
 *     product is off by ~2.3e-3 rms and a sum of independent products likewise (measured 2.3-2.4e-3):
 *     bound 4e-3; a single product (1 x 1 x 1) gets the worst case (1 + 2^-8)^2 - 1 = 7.8e-3;
 *   - rows and columns outside m x n are left untouched (NaN-poisoned output with a margin);
 *   - implicit im2col: bf16 planes and B packed from them bit for bit cpu == ref and == the packing of a
 *     float32 im2col; channel-pair planes cpu == ref; AMX's packing-free convolution vs the reference GEMM.
 * Units the CPU lacks are skipped with the reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_features.h"
#include "gemm_bf16.h"
#include "test_util.h"

#if !PCAVS_X86 /* the x86 units are not built here; pcavs_bf16_unit_detect() is none, so they are skipped */
#define pcavs_gemm_bf16_amx NULL
#define pcavs_gemm_bf16_avx512 NULL
#endif

typedef void (*gemm_fn)(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc);

static uint16_t *alloc_u16(size_t n) {
    uint16_t *p = aligned_alloc(64, (n * sizeof(uint16_t) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "test_gemm_bf16: out of memory\n");
        exit(1);
    }
    return p;
}

static void check_case(int m, long n, int k, uint64_t seed) {
    char what[160];
    const long lda = k + 3, ldb = n + 5, ldc = n + 7;
    float *a = pt_alloc((size_t)m * lda), *b = pt_alloc((size_t)k * ldb);
    pt_fill_normal(a, (size_t)m * lda, seed, 1.0f);
    pt_fill_normal(b, (size_t)k * ldb, seed + 1, 1.0f);
    uint16_t *ap = alloc_u16(pcavs_bf16_a_elems(m, k));
    uint16_t *bp = alloc_u16(pcavs_bf16_b_elems(k, n)), *bq = alloc_u16(pcavs_bf16_b_elems(k, n));
    pcavs_bf16_pack_a(m, k, a, lda, 1.0f, ap);
    pcavs_bf16_pack_b_ref(k, n, b, ldb, bp);
    pcavs_bf16_pack_b_cpu(k, n, b, ldb, bq);
    pt_check(!memcmp(bp, bq, pcavs_bf16_b_elems(k, n) * sizeof(uint16_t)),
             "pack_b_cpu == pack_b_ref bit for bit [k=%d n=%ld]", k, n);

    /* float64 truth of the unrounded operands, and the reference on the packed ones */
    float *want = pt_alloc((size_t)m * n), *ref = pt_alloc((size_t)m * ldc);
    for (int i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < k; q++) s += (double)a[(size_t)i * lda + q] * b[(size_t)q * ldb + j];
            want[(size_t)i * n + j] = (float)s;
        }
    pt_check_ok(pcavs_gemm_bf16_ref(m, n, k, ap, bp, ref, ldc), "gemm_bf16_ref");
    float *ref_c = pt_alloc((size_t)m * n);
    for (int i = 0; i < m; i++) memcpy(ref_c + (size_t)i * n, ref + (size_t)i * ldc, (size_t)n * sizeof(float));
    snprintf(what, sizeof what, "ref (bf16 operands) vs float64 of the float32 operands [%d x %ld x %d]", m, n, k);
    pt_check_rel_l2(what, ref_c, want, (size_t)m * n, (long)m * n == 1 ? 7.9e-3 : 4e-3);

    pcavs_bf16_unit have = pcavs_bf16_unit_detect();
    if (have == PCAVS_BF16_NONE && pcavs_bf16_unit_note()[0]) /* has AVX512-BF16, passed over as slow: test it */
        have = PCAVS_BF16_AVX512;
    const struct {
        pcavs_bf16_unit unit;
        gemm_fn fn;
    } units[] = {{PCAVS_BF16_AMX, pcavs_gemm_bf16_amx}, {PCAVS_BF16_AVX512, pcavs_gemm_bf16_avx512}};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (have < units[u].unit) {
            pt_skip("%s [%d x %ld x %d]: this CPU/OS offers only %s", pcavs_bf16_unit_name(units[u].unit), m, n, k,
                    pcavs_bf16_unit_name(have));
            continue;
        }
        float *got = pt_alloc((size_t)(m + 1) * ldc); /* one poisoned row beyond m */
        units[u].fn(m, n, k, ap, bp, got, ldc);
        float *got_c = pt_alloc((size_t)m * n);
        for (int i = 0; i < m; i++) memcpy(got_c + (size_t)i * n, got + (size_t)i * ldc, (size_t)n * sizeof(float));
        snprintf(what, sizeof what, "%s vs ref [%d x %ld x %d]", pcavs_bf16_unit_name(units[u].unit), m, n, k);
        pt_check_rel_l2(what, got_c, ref_c, (size_t)m * n, 1e-5);
        int untouched = 1;
        for (int i = 0; i <= m; i++)
            for (long j = (i < m ? n : 0); j < ldc; j++) untouched &= isnan(got[(size_t)i * ldc + j]);
        pt_check(untouched, "%s writes nothing outside the %d x %ld block", pcavs_bf16_unit_name(units[u].unit), m, n);
        pt_free(got);
        pt_free(got_c);
    }
    free(ap);
    free(bp);
    free(bq);
    pt_free(a);
    pt_free(b);
    pt_free(want);
    pt_free(ref);
    pt_free(ref_c);
}

/* The implicit-im2col pieces: bf16 planes and B packed from them (3x3 taps, pad 1) bit for bit cpu == ref,
 * and that B equal to the packing of the float32 im2col built here from the definition. */
static void check_taps(int c_in, int h, int w, uint64_t seed) {
    const int rows = h + 2, gwp = (w + 15) / 16 * 16, K = c_in * 9;
    const long ls = gwp + 16, n = (long)h * gwp;
    float *x = pt_alloc((size_t)c_in * h * w);
    pt_fill_normal(x, (size_t)c_in * h * w, seed, 1.0f);
    const size_t pe = (size_t)c_in * rows * ls;
    uint16_t *pr = alloc_u16(pe), *pc = alloc_u16(pe);
    for (int c = 0; c < c_in; c++) {
        pcavs_bf16_plane_ref(x + (size_t)c * h * w, 0.75f, h, w, 1, rows, ls, pr + (size_t)c * rows * ls);
        pcavs_bf16_plane_cpu(x + (size_t)c * h * w, 0.75f, h, w, 1, rows, ls, pc + (size_t)c * rows * ls);
    }
    pt_check(!memcmp(pr, pc, pe * sizeof(uint16_t)), "bf16 planes cpu == ref [%d x %dx%d]", c_in, h, w);
    long *off = malloc((size_t)K * sizeof(long));
    float *col = pt_alloc((size_t)K * n); /* the float32 im2col of 0.75 * x on the padded grid */
    for (int q = 0; q < K; q++) {
        const int c = q / 9, dy = q % 9 / 3 - 1, dx = q % 3 - 1;
        off[q] = (long)c * rows * ls + (long)(dy + 1) * ls + (dx + 1);
        for (long p = 0; p < n; p++) {
            const int yy = (int)(p / gwp) + dy, xx = (int)(p % gwp) + dx;
            col[(size_t)q * n + p] = (yy >= 0 && yy < h && xx >= 0 && xx < w && p % gwp < w)
                                         ? 0.75f * x[((size_t)c * h + yy) * w + xx]
                                         : 0.0f;
        }
    }
    const size_t be = pcavs_bf16_b_elems(K, n);
    uint16_t *br = alloc_u16(be), *bc = alloc_u16(be), *bd = alloc_u16(be);
    pcavs_bf16_pack_b_taps_ref(K, n, pr, off, gwp, ls, br);
    pcavs_bf16_pack_b_taps_cpu(K, n, pc, off, gwp, ls, bc);
    pcavs_bf16_pack_b_ref(K, n, col, n, bd);
    pt_check(!memcmp(br, bc, be * sizeof(uint16_t)), "pack_b_taps cpu == ref [K=%d n=%ld]", K, n);
    /* columns beyond w read the border: compare only where the grid is real */
    int same = 1;
    const size_t kp = pcavs_bf16_round32((size_t)K);
    for (long p = 0; p < n; p++)
        if (p % gwp < w)
            for (size_t q = 0; q < kp; q++) {
                const size_t at = ((size_t)(p / 16) * (kp / 2) + q / 2) * 32 + (size_t)(p % 16) * 2 + q % 2;
                same &= br[at] == bd[at];
            }
    pt_check(same, "pack_b_taps == packing of the float32 im2col [%d x %dx%d]", c_in, h, w);
    free(pr), free(pc), free(off), free(br), free(bc), free(bd);
    pt_free(x);
    pt_free(col);
}

/* AMX's packing-free convolution (pcavs_conv_bf16_amx) against the reference GEMM on B packed from the same
 * planes: channel-pair planes cpu == ref bit for bit, then the 3x3 taps (tap-major A) rel L2 <= 1e-5 (same
 * products, other order), columns of a grid padded to 16 and an odd count of 16-column blocks included. */
static void check_conv_amx(int c_in, int c_out, int h, int w, uint64_t seed) {
    const int rows = h + 2, gwp = (w + 15) / 16 * 16, K = c_in * 9;
    const long ls = gwp + 16, n = (long)h * gwp, plane = (long)rows * ls;
    float *x = pt_alloc((size_t)c_in * h * w), *wt = pt_alloc((size_t)c_out * K);
    pt_fill_normal(x, (size_t)c_in * h * w, seed, 1.0f);
    pt_fill_normal(wt, (size_t)c_out * K, seed + 1, 1.0f);
    uint16_t *single = alloc_u16((size_t)c_in * plane), *pr = alloc_u16((size_t)c_in * plane);
    uint16_t *pc = alloc_u16((size_t)c_in * plane);
    for (int c = 0; c < c_in; c++)
        pcavs_bf16_plane_ref(x + (size_t)c * h * w, 1.0f, h, w, 1, rows, ls, single + (size_t)c * plane);
    for (int c = 0; c < c_in; c += 2) {
        pcavs_bf16_plane_pair_ref(x + (size_t)c * h * w, 1.0f, x + (size_t)(c + 1) * h * w, 1.0f, h, w, 1, rows, ls,
                                  pr + (size_t)c * plane);
        pcavs_bf16_plane_pair_cpu(x + (size_t)c * h * w, 1.0f, x + (size_t)(c + 1) * h * w, 1.0f, h, w, 1, rows, ls,
                                  pc + (size_t)c * plane);
    }
    pt_check(!memcmp(pr, pc, (size_t)c_in * plane * sizeof(uint16_t)), "channel-pair planes cpu == ref [%d x %dx%d]",
             c_in, h, w);
    if (pcavs_bf16_unit_detect() != PCAVS_BF16_AMX) {
        pt_skip("pcavs_conv_bf16_amx [%d -> %d, %dx%d]: no AMX here", c_in, c_out, h, w);
    } else {
        uint16_t *a = alloc_u16(pcavs_bf16_a_elems(c_out, K)), *bp = alloc_u16(pcavs_bf16_b_elems(K, n));
        long *off = malloc((size_t)K * sizeof(long)), tap[9];
        float *tm = pt_alloc((size_t)c_out * K); /* tap-major weight: tm[o][t * c_in + c] = wt[o][c * 9 + t] */
        for (int o = 0; o < c_out; o++)
            for (int q = 0; q < K; q++) tm[(size_t)o * K + q] = wt[(size_t)o * K + (size_t)(q % c_in) * 9 + q / c_in];
        pcavs_bf16_pack_a(c_out, K, tm, K, 1.0f, a);
        for (int q = 0; q < K; q++) {
            const int t = q / c_in, c = q % c_in;
            off[q] = (long)c * plane + (long)(t / 3) * ls + t % 3;
        }
        for (int t = 0; t < 9; t++) tap[t] = ((long)(t / 3) * ls + t % 3) * 2;
        pcavs_bf16_pack_b_taps_ref(K, n, single, off, gwp, ls, bp);
        float *want = pt_alloc((size_t)c_out * n), *got = pt_alloc((size_t)c_out * n);
        pt_check_ok(pcavs_gemm_bf16_ref(c_out, n, K, a, bp, want, n), "gemm_bf16_ref");
        pcavs_conv_bf16_amx(c_out, c_in, 9, a, pc, 2 * plane, tap, ls, gwp, n, got, n);
        char what[128];
        snprintf(what, sizeof what, "conv_bf16_amx vs packed reference [%d -> %d, %dx%d]", c_in, c_out, h, w);
        pt_check_rel_l2(what, got, want, (size_t)c_out * n, 1e-5);
        free(a), free(bp), free(off);
        pt_free(tm), pt_free(want), pt_free(got);
    }
    free(single), free(pr), free(pc);
    pt_free(x), pt_free(wt);
}

int main(void) {
    printf("bf16 unit on this machine: %s%s%s\n", pcavs_bf16_unit_name(pcavs_bf16_unit_detect()),
           pcavs_bf16_unit_note()[0] ? "; " : "", pcavs_bf16_unit_note());
    check_case(1, 1, 1, 1);
    check_case(5, 45, 37, 2);       /* every dimension a tail */
    check_case(40, 100, 300, 3);    /* a 32-row block + tail, three 32-column blocks + tail */
    check_case(64, 49, 4608, 4);    /* the 7x7 plain conv: K = 512 * 9, N = 49 */
    check_case(128, 1030, 1152, 5); /* the 224x224 plain conv's im2col K, column chunks */
    check_case(96, 700, 512, 6);    /* the upsampling tap-GEMM: K = c_in */
    if (pcavs_bf16_unit_detect() == PCAVS_BF16_NONE)
        pt_skip("implicit im2col: the _cpu forms are the _ref ones without a bf16 unit");
    check_taps(3, 5, 7, 7);            /* narrow: one 16-column block per grid row, mostly border */
    check_taps(5, 4, 33, 8);           /* three blocks per row, odd K */
    check_taps(2, 6, 32, 9);           /* exact width */
    check_conv_amx(32, 40, 5, 20, 10); /* 2 blocks per grid row (20 -> 32), a 32-row block + tail */
    check_conv_amx(64, 32, 3, 16, 11); /* 3 blocks in all: the odd last one */
    return pt_finish();
}
