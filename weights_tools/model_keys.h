/* model_keys.h: the compiled-in table of every tensor of the official PC-AVS checkpoints
 * (spec/keys/ TSV files, generated into model_keys.c by gen_model_keys.py), used by pcavs-convert to
 * validate inputs, drop training-only tensors and synthesize random models. */
#ifndef PCAVS_MODEL_KEYS_H
#define PCAVS_MODEL_KEYS_H

#include <stdint.h>

#include "tensor.h"

typedef struct pcavs_model_key {
    const char *net;  /* "G", "V", "E", "A_sync" */
    const char *name; /* upstream state_dict key */
    int ndim;
    int64_t shape[PCAVS_MAX_DIMS];
    pcavs_dtype dtype; /* PCAVS_F32 or PCAVS_I64 (num_batches_tracked) */
    int training_only; /* 1: inference never reads it */
} pcavs_model_key;

extern const pcavs_model_key pcavs_model_keys[];
extern const int pcavs_model_key_count;

#endif
