/* binary_ref.c: reference broadcasting add and mul over 4-D NCHW shapes (torch `a + b`, `a * b`
 * with numpy broadcasting), optionally followed by ReLU: ResNet residual `out += identity;
 * relu(out)`, SE `x * y.expand_as(x)`, the hourglass `up1 + up2`, ToRGB skip adds. Also
 * pcavs_broadcast_shape, shared by every backend. Plain index loops: the truth. */
#include "binary.h"

pcavs_status pcavs_broadcast_shape(const int a_shape[4], const int b_shape[4], int out_shape[4]) {
    if (!a_shape || !b_shape || !out_shape) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "broadcast_shape: NULL shape");
    int o[4];
    for (int d = 0; d < 4; d++) {
        const int a = a_shape[d], b = b_shape[d];
        if (a < 1 || b < 1)
            return pcavs_fail(
                PCAVS_ERR_SHAPE, "broadcast_shape: non-positive dimension %d: a=[%d,%d,%d,%d] b=[%d,%d,%d,%d]", d,
                a_shape[0], a_shape[1], a_shape[2], a_shape[3], b_shape[0], b_shape[1], b_shape[2], b_shape[3]);
        if (a != b && a != 1 && b != 1)
            return pcavs_fail(
                PCAVS_ERR_SHAPE,
                "broadcast_shape: dimension %d does not broadcast (%d vs %d): a=[%d,%d,%d,%d] b=[%d,%d,%d,%d]", d, a, b,
                a_shape[0], a_shape[1], a_shape[2], a_shape[3], b_shape[0], b_shape[1], b_shape[2], b_shape[3]);
        o[d] = a > b ? a : b;
    }
    for (int d = 0; d < 4; d++) out_shape[d] = o[d];
    return PCAVS_OK;
}

static pcavs_status binary_ref(const char *op, int is_mul, const int a_shape[4], const float *a, const int b_shape[4],
                               const float *b, pcavs_act act, float *y) {
    int o[4];
    PCAVS_TRY(pcavs_broadcast_shape(a_shape, b_shape, o));
    if (!a || !b || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    /* element strides, 0 along broadcast dimensions */
    size_t sa[4], sb[4], ea = 1, eb = 1;
    for (int d = 3; d >= 0; d--) {
        sa[d] = a_shape[d] == 1 ? 0 : ea;
        sb[d] = b_shape[d] == 1 ? 0 : eb;
        ea *= (size_t)a_shape[d];
        eb *= (size_t)b_shape[d];
    }
    size_t k = 0;
    for (int i0 = 0; i0 < o[0]; i0++)
        for (int i1 = 0; i1 < o[1]; i1++)
            for (int i2 = 0; i2 < o[2]; i2++)
                for (int i3 = 0; i3 < o[3]; i3++, k++) {
                    const float va = a[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]];
                    const float vb = b[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
                    float v = is_mul ? va * vb : va + vb;
                    if (act == PCAVS_ACT_RELU && v < 0.0f) v = 0.0f;
                    y[k] = v;
                }
    return PCAVS_OK;
}

pcavs_status pcavs_add_ref(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape */
                           const int b_shape[4], const float *b,                       /* b_shape */
                           pcavs_act act, float *y) {                                  /* broadcast shape */
    return binary_ref("add_ref", 0, a_shape, a, b_shape, b, act, y);
}

pcavs_status pcavs_mul_ref(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape */
                           const int b_shape[4], const float *b,                       /* b_shape */
                           pcavs_act act, float *y) {                                  /* broadcast shape */
    return binary_ref("mul_ref", 1, a_shape, a, b_shape, b, act, y);
}
