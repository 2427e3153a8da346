/* pth.h: reader of PyTorch checkpoint files holding a plain state_dict (docs/numerics.md §5):
 * the legacy serialization of PyTorch < 1.6 (five pickles + raw storages) and the zip serialization
 * of >= 1.6 (data.pkl + data/<key> entries, read with libzip). The pickles go through a small
 * unpickler that knows only the opcodes and globals a state_dict needs and refuses the rest.
 * Nothing in a file is trusted: every length, offset, shape, stride and count is checked, and all
 * memory is capped by the file size. */
#ifndef PCAVS_PTH_H
#define PCAVS_PTH_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"
#include "tensor.h"

/* torch storage element types. */
typedef enum pcavs_pth_stype {
    PTH_FLOAT,
    PTH_DOUBLE,
    PTH_HALF,
    PTH_BFLOAT16,
    PTH_LONG,
    PTH_INT,
    PTH_SHORT,
    PTH_CHAR,
    PTH_BYTE,
    PTH_BOOL
} pcavs_pth_stype;

typedef struct pcavs_pth_tensor {
    const char *name;      /* state_dict key (NUL-terminated, owned by the file handle) */
    pcavs_pth_stype stype; /* element type of the storage */
    int ndim;
    int64_t shape[PCAVS_MAX_DIMS];
    int64_t stride[PCAVS_MAX_DIMS]; /* in elements */
    int64_t offset;                 /* storage offset in elements */
    int storage;                    /* index into the file's storage table */
} pcavs_pth_tensor;

typedef struct pcavs_pth pcavs_pth;

/* Opens a .pth file (format detected from the first bytes) and parses its state_dict. */
pcavs_status pcavs_pth_open(const char *path, pcavs_pth **out);
/* Same over a caller-owned buffer that outlives the handle (fuzzing, tests). */
pcavs_status pcavs_pth_open_memory(const void *data, size_t size, const char *label, pcavs_pth **out);
void pcavs_pth_close(pcavs_pth *p);

const char *pcavs_pth_format(const pcavs_pth *p); /* "legacy" or "zip" */
int pcavs_pth_count(const pcavs_pth *p);
const pcavs_pth_tensor *pcavs_pth_at(const pcavs_pth *p, int i); /* state_dict order */
const char *pcavs_pth_stype_name(pcavs_pth_stype t);             /* "float32", "int64", ... */

/* The dtype a tensor gets in the output: F32 for every floating type, I64 for int64; fails
 * (UNSUPPORTED) for the other integer types. */
pcavs_status pcavs_pth_out_dtype(const pcavs_pth *p, int i, pcavs_dtype *dt);

/* Contiguous little-endian data of tensor i in its output dtype: borrowed from the file (the
 * mapping or the loaded zip entry, valid until close) when the tensor is contiguous and already
 * of that dtype, else converted into *owned (free() it). nbytes = numel * dtype size. */
pcavs_status pcavs_pth_tensor_data(pcavs_pth *p, int i, const void **data, size_t *nbytes, void **owned);

#endif
