/* tensor.c: dtype sizes and names, shape text, fp16/bf16 conversions. */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

size_t pcavs_dtype_size(pcavs_dtype dt) {
    switch (dt) {
    case PCAVS_F32:
        return 4;
    case PCAVS_F16:
        return 2;
    case PCAVS_BF16:
        return 2;
    case PCAVS_I64:
        return 8;
    }
    return 0;
}

const char *pcavs_dtype_name(pcavs_dtype dt) {
    switch (dt) {
    case PCAVS_F32:
        return "F32";
    case PCAVS_F16:
        return "F16";
    case PCAVS_BF16:
        return "BF16";
    case PCAVS_I64:
        return "I64";
    }
    return "?";
}

int64_t pcavs_tensor_numel(const pcavs_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t pcavs_tensor_nbytes(const pcavs_tensor *t) { return (size_t)pcavs_tensor_numel(t) * pcavs_dtype_size(t->dtype); }

const char *pcavs_shape_str(const int64_t *shape, int ndim, char *buf, size_t cap) {
    size_t used = 0;
    if (cap == 0) return buf;
    buf[0] = '\0';
    if (ndim == 0) snprintf(buf, cap, "scalar");
    for (int i = 0; i < ndim && used < cap; i++) {
        int k = snprintf(buf + used, cap - used, i ? "x%lld" : "%lld", (long long)shape[i]);
        if (k < 0) break;
        used += (size_t)k;
    }
    return buf;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float pcavs_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t pcavs_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float pcavs_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        if (man == 0) return bits_f32(sign);
        /* subnormal: value = man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (man << 13));
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t pcavs_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* overflow to inf */
    if (a < 0x38800000u) {                                   /* subnormal or zero */
        float v = bits_f32(a) * 16777216.0f;                 /* scale by 2^24, round to int */
        uint32_t m = (uint32_t)(v + 0.5f);
        if ((float)m - v == 0.5f && (m & 1u)) m--; /* ties to even */
        return (uint16_t)(sign | m);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - (112u << 23);
    return (uint16_t)(sign | (r >> 13));
}
