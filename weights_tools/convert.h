/* convert.h: pcavs-convert as a library: the official PC-AVS checkpoints (latest_net_{G,V,E,A_sync}.pth,
 * legacy or zip) to one validated safetensors model, --list, and --synthesize (official shapes,
 * seeded random weights). The output names are "<net>.<upstream key>" with PyTorch shapes. */
#ifndef PCAVS_CONVERT_H
#define PCAVS_CONVERT_H

#include <stdint.h>
#include <stdio.h>

#include "pcavs.h"

#define PCAVS_MODEL_FORMAT "pcavs"
#define PCAVS_MODEL_FORMAT_VERSION "1"

typedef struct pcavs_convert_opts {
    int keep_all; /* keep training-only tensors */
    FILE *log;    /* progress and the full list of validation problems (NULL: silent) */
} pcavs_convert_opts;

/* inputs: checkpoint folders (the four latest_net_*.pth) and/or single .pth files (network taken
 * from the file name *net_<X>.pth / <X>.pth, else from its keys). */
pcavs_status pcavs_convert(const char *const *inputs, int n_inputs, const char *out_path, const pcavs_convert_opts *o);
/* Prints "name dtype shape sha256:<16 hex>" per tensor of a .pth or .safetensors file (checksum of the
 * contiguous little-endian data in the output dtype, so a .pth and its conversion list the same sums). */
pcavs_status pcavs_convert_list(const char *path, FILE *out);
/* Writes a model with every inference tensor (all of them with keep_all) at the official shape. */
pcavs_status pcavs_synthesize(const char *out_path, uint64_t seed, int keep_all);

/* Network name of a checkpoint file name ("latest_net_A_sync.pth" -> "A_sync"), or NULL. */
const char *pcavs_convert_net_from_filename(const char *path);

#endif
