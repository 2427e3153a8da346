/* activation_cpu_avx2.c: AVX2+FMA spans of sigmoid and tanh for activation_cpu.c (dispatched at run
 * time when pcavs_cpu_detect() reports AVX2 and FMA; compiled with -mavx2 -mfma by the top-level
 * CMakeLists). Same functions as PyTorch's torch.sigmoid / torch.tanh (float32):
 *   exp: Cephes expf (round(x*log2 e), two-part ln 2 reduction, degree-5 polynomial, 2^n via the
 *        exponent bits), |rel err| ~ 1e-7 on [-88, 88];
 *   sigmoid(x) = 1 / (1 + exp(-x)) with a true division; 0 and 1 at saturation;
 *   tanh(x) = x + x^3 P(x^2) (Cephes tanhf) for |x| < 0.625, else sign(x) (1 - 2 / (exp(2|x|) + 1)).
 * NaN in gives NaN out. Measured against the _ref (libm) in tests/test_activation.c: rel L2 ~1e-7. */
#include <immintrin.h>
#include <stddef.h>

void pcavs_sigmoid_span_avx2(const float *x, float *y, size_t n);
void pcavs_tanh_span_avx2(const float *x, float *y, size_t n);

static inline __m256 exp256(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201E-1f));
    const __m256 x2 = _mm256_mul_ps(x, x);
    p = _mm256_fmadd_ps(p, x2, _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    /* 2^fx: fx in [-127, 128]; split in two factors so 2^128 and 2^-127 stay representable */
    const __m256i n = _mm256_cvtps_epi32(fx);
    const __m256i n1 = _mm256_srai_epi32(n, 1), n2 = _mm256_sub_epi32(n, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 keep_nan(__m256 y, __m256 x) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }

static inline __m256 sigmoid256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return keep_nan(_mm256_div_ps(one, _mm256_add_ps(one, e)), x);
}

static inline __m256 tanh256(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    const __m256 ax = _mm256_andnot_ps(sign, x);
    /* large: 1 - 2 / (exp(2|x|) + 1), sign restored */
    const __m256 e = exp256(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    big = _mm256_or_ps(big, _mm256_and_ps(x, sign));
    /* small: x + x z P(z), z = x^2 */
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    const __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
    return keep_nan(_mm256_blendv_ps(big, small, is_small), x);
}

#define SPAN(name, fn)                                                                                                 \
    void name(const float *x, float *y, size_t n) {                                                                    \
        size_t i = 0;                                                                                                  \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));                                \
        if (i < n) {                                                                                                   \
            float tx[8] = {0}, ty[8];                                                                                  \
            for (size_t j = 0; j < n - i; j++) tx[j] = x[i + j];                                                       \
            _mm256_storeu_ps(ty, fn(_mm256_loadu_ps(tx)));                                                             \
            for (size_t j = 0; j < n - i; j++) y[i + j] = ty[j];                                                       \
        }                                                                                                              \
    }
SPAN(pcavs_sigmoid_span_avx2, sigmoid256)
SPAN(pcavs_tanh_span_avx2, tanh256)
