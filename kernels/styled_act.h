/* styled_act.h: the tail of an output value that the CPU convolutions apply as they store it (Winograd output
 * transforms, the upsampling blur), so that StyleGAN2's StyledConv needs no separate pass over its output:
 *   v = v * out_scale;  v += noise_weight * noise[p] (if noise);  v += bias;  then the activation:
 *   none, ReLU, or upstream's FusedLeakyReLU: (v >= 0 ? v : 0.2 v) * sqrt(2) (activation.h's fused_lrelu).
 * Internal to kernels/. */
#ifndef PCAVS_KERNELS_STYLED_ACT_H
#define PCAVS_KERNELS_STYLED_ACT_H

#include <stdint.h>
#include <string.h>

enum { PCAVS_STORE_ACT_NONE = 0, PCAVS_STORE_ACT_RELU = 1, PCAVS_STORE_ACT_LRELU = 2 };

#define PCAVS_SQRT2_F 1.41421356237309504880f

/* leaky_relu(v, 0.2) * sqrt(2) without a floating-point compare (GCC's default -ftrapping-math keeps a compare of
 * a computed float as a branch, so loops with it stay scalar): the sign bit splits v into pos (v or +0) and neg
 * (v or +0); pos + neg * 0.2f is v + 0 or 0 + v * 0.2f, both exact, so it rounds as the branch does. */
static inline float pcavs_lrelu_sqrt2(float v) {
    uint32_t u, up, un;
    memcpy(&u, &v, sizeof u);
    const uint32_t neg_mask = (uint32_t)((int32_t)u >> 31);
    up = u & ~neg_mask;
    un = u & neg_mask;
    float pos, neg;
    memcpy(&pos, &up, sizeof pos);
    memcpy(&neg, &un, sizeof neg);
    return (pos + neg * 0.2f) * PCAVS_SQRT2_F;
}

/* The activation alone (act a PCAVS_STORE_ACT_ value). */
static inline float pcavs_store_act(float v, int act) {
    if (act == PCAVS_STORE_ACT_RELU) return v < 0.0f ? 0.0f : v;
    if (act == PCAVS_STORE_ACT_LRELU) return pcavs_lrelu_sqrt2(v);
    return v;
}

#endif
