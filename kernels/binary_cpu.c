/* binary_cpu.c: production CPU broadcasting add / mul with optional fused ReLU (see binary.h):
 * the 4-D shapes are collapsed to at most 4 runs of dimensions with the same broadcast pattern
 * (e.g. SE scaling [n,c,h,w] * [n,c,1,1] becomes rows of h*w elements times one scalar), then
 * rows of the innermost run are processed with one of four contiguous/scalar loops. OpenMP over
 * rows for large outputs. y may equal a when a has the output shape (each element is read
 * before it is written, in the same row). */
#include "binary.h"

#define PAR_MIN 65536 /* output elements below which one thread is faster */

/* Inner row kernels: A/B = 1 contiguous, 0 scalar (stride 0). */
#define ROW_LOOP(EXPR)                                                                                                 \
    do {                                                                                                               \
        if (ca && cb) {                                                                                                \
            for (long i = 0; i < cnt; i++) {                                                                           \
                const float va = pa[i], vb = pb[i];                                                                    \
                float v = EXPR;                                                                                        \
                if (relu) v = v < 0.0f ? 0.0f : v;                                                                     \
                py[i] = v;                                                                                             \
            }                                                                                                          \
        } else if (ca) {                                                                                               \
            const float vb = pb[0];                                                                                    \
            for (long i = 0; i < cnt; i++) {                                                                           \
                const float va = pa[i];                                                                                \
                float v = EXPR;                                                                                        \
                if (relu) v = v < 0.0f ? 0.0f : v;                                                                     \
                py[i] = v;                                                                                             \
            }                                                                                                          \
        } else if (cb) {                                                                                               \
            const float va = pa[0];                                                                                    \
            for (long i = 0; i < cnt; i++) {                                                                           \
                const float vb = pb[i];                                                                                \
                float v = EXPR;                                                                                        \
                if (relu) v = v < 0.0f ? 0.0f : v;                                                                     \
                py[i] = v;                                                                                             \
            }                                                                                                          \
        } else {                                                                                                       \
            const float va = pa[0], vb = pb[0];                                                                        \
            float v = EXPR;                                                                                            \
            if (relu) v = v < 0.0f ? 0.0f : v;                                                                         \
            for (long i = 0; i < cnt; i++) py[i] = v;                                                                  \
        }                                                                                                              \
    } while (0)

static pcavs_status binary_cpu(const pcavs_kctx *kc, const char *op, int is_mul, const int a_shape[4], const float *a,
                               const int b_shape[4], const float *b, pcavs_act act, float *y) {
    int o[4];
    PCAVS_TRY(pcavs_broadcast_shape(a_shape, b_shape, o));
    if (!a || !b || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    /* Collapse: drop output dims of size 1, merge neighbours with equal (a broadcast, b broadcast). */
    long size[4], sa[4], sb[4];
    int nd = 0, fa[4], fb[4];
    for (int d = 0; d < 4; d++) {
        if (o[d] == 1) continue;
        const int ba = a_shape[d] == 1, bb = b_shape[d] == 1;
        if (nd > 0 && fa[nd - 1] == ba && fb[nd - 1] == bb) {
            size[nd - 1] *= o[d];
        } else {
            size[nd] = o[d], fa[nd] = ba, fb[nd] = bb;
            nd++;
        }
    }
    if (nd == 0) size[0] = 1, fa[0] = fb[0] = 0, nd = 1;
    /* element strides of the collapsed dims in a and b (0 where broadcast) */
    long ea = 1, eb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        sa[d] = fa[d] ? 0 : ea;
        sb[d] = fb[d] ? 0 : eb;
        if (!fa[d]) ea *= size[d];
        if (!fb[d]) eb *= size[d];
    }
    const long len = size[nd - 1];
    const int ca = sa[nd - 1] != 0, cb = sb[nd - 1] != 0;
    long rows = 1;
    for (int d = 0; d < nd - 1; d++) rows *= size[d];
    const int relu = act == PCAVS_ACT_RELU;
    const int nth = kc && kc->n_threads > 0 ? kc->n_threads : 1;
    /* Work items are rows of the innermost run; a single long row (same shapes) is cut into one
     * block per thread. */
    const long blk = (rows == 1 && len >= PAR_MIN) ? (len + nth - 1) / nth : len;
    const long nblk = (len + blk - 1) / blk;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && rows * len >= PAR_MIN)
    for (long t = 0; t < rows * nblk; t++) {
        const long r = t / nblk, i0 = (t % nblk) * blk;
        long rem = r, offa = 0, offb = 0;
        for (int d = nd - 2; d >= 0; d--) {
            const long idx = rem % size[d];
            rem /= size[d];
            offa += idx * sa[d];
            offb += idx * sb[d];
        }
        const float *pa = a + offa + (ca ? i0 : 0), *pb = b + offb + (cb ? i0 : 0);
        float *py = y + r * len + i0;
        const long cnt = len - i0 < blk ? len - i0 : blk; /* the row piece ROW_LOOP processes */
        if (is_mul)
            ROW_LOOP(va * vb);
        else
            ROW_LOOP(va + vb);
    }
    return PCAVS_OK;
}

pcavs_status pcavs_add_cpu(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape */
                           const int b_shape[4], const float *b,                       /* b_shape */
                           pcavs_act act, float *y) {                                  /* broadcast shape */
    return binary_cpu(kc, "add_cpu", 0, a_shape, a, b_shape, b, act, y);
}

pcavs_status pcavs_mul_cpu(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape */
                           const int b_shape[4], const float *b,                       /* b_shape */
                           pcavs_act act, float *y) {                                  /* broadcast shape */
    return binary_cpu(kc, "mul_cpu", 1, a_shape, a, b_shape, b, act, y);
}
