/* tensor.h: the engine's tensor description: dtype, NCHW shape (PyTorch order), data.
 * Compute is float32; F16/BF16 exist for storage and reduced-precision modes, I64 for
 * checkpoint counters. A tensor never owns its data: arenas and files do. */
#ifndef PCAVS_ENGINE_TENSOR_H
#define PCAVS_ENGINE_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define PCAVS_MAX_DIMS 8

typedef enum pcavs_dtype { PCAVS_F32 = 0, PCAVS_F16 = 1, PCAVS_BF16 = 2, PCAVS_I64 = 3 } pcavs_dtype;

typedef struct pcavs_tensor {
    pcavs_dtype dtype;
    int ndim;
    int64_t shape[PCAVS_MAX_DIMS];
    void *data; /* host or device memory, not owned */
} pcavs_tensor;

size_t pcavs_dtype_size(pcavs_dtype dt);
const char *pcavs_dtype_name(pcavs_dtype dt); /* safetensors spelling: "F32", "F16", "BF16", "I64" */
int64_t pcavs_tensor_numel(const pcavs_tensor *t);
size_t pcavs_tensor_nbytes(const pcavs_tensor *t);
/* Writes "1x512x7x7" style text into buf; returns buf. */
const char *pcavs_shape_str(const int64_t *shape, int ndim, char *buf, size_t cap);

/* fp16 / bf16 conversions (round to nearest even). */
float pcavs_f16_to_f32(uint16_t h);
uint16_t pcavs_f32_to_f16(float f);
float pcavs_bf16_to_f32(uint16_t h);
uint16_t pcavs_f32_to_bf16(float f);

#endif
