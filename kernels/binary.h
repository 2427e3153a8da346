/* binary.h: broadcasting elementwise add and mul over 4-D NCHW shapes (numpy rules: each
 * dimension equal or 1), with an optional fused ReLU: residual adds (a + b, then ReLU),
 * SE channel scaling (x[n,c,h,w] * s[n,c,1,1]), hourglass `up + low`, ToRGB skip adds.
 * The output shape is the broadcast shape; y may equal a when a has the output shape. */
#ifndef PCAVS_KERNELS_BINARY_H
#define PCAVS_KERNELS_BINARY_H

#include "kctx.h"

#define PCAVS_DECLARE_BINARY(op, suffix)                                                                               \
    pcavs_status pcavs_##op##_##suffix(const pcavs_kctx *kc, const int a_shape[4], const float *a,                     \
                                       const int b_shape[4], const float *b, pcavs_act act, float *y);
PCAVS_DECLARE_BINARY(add, ref)
PCAVS_DECLARE_BINARY(add, cpu)
PCAVS_DECLARE_BINARY(add, cuda)
PCAVS_DECLARE_BINARY(mul, ref)
PCAVS_DECLARE_BINARY(mul, cpu)
PCAVS_DECLARE_BINARY(mul, cuda)

/* Fails with PCAVS_ERR_SHAPE unless every dimension pair is equal or contains a 1. */
pcavs_status pcavs_broadcast_shape(const int a_shape[4], const int b_shape[4], int out_shape[4]);

#endif
