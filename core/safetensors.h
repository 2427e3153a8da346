/* safetensors.h: reader and writer for the safetensors format (8-byte little-endian header
 * length, a JSON header parsed with cJSON, then raw little-endian tensor data). One reader
 * serves model weights and test fixtures. Nothing read from a file is trusted: the header
 * length, every offset, size, shape and dtype is checked against the file size before use,
 * and errors name the file and the tensor. */
#ifndef PCAVS_ENGINE_SAFETENSORS_H
#define PCAVS_ENGINE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"
#include "tensor.h"

typedef struct pcavs_st_file pcavs_st_file;

typedef struct pcavs_st_entry {
    const char *name;
    pcavs_tensor t; /* t.data points into the file's memory (read-only) */
    size_t nbytes;
} pcavs_st_entry;

/* Opens and validates a whole file (memory-mapped). */
pcavs_status pcavs_st_open(const char *path, pcavs_st_file **out);
/* Same, over a caller-owned buffer that must outlive the handle (fuzzing, embedded data). */
pcavs_status pcavs_st_open_memory(const void *data, size_t size, const char *label, pcavs_st_file **out);
void pcavs_st_close(pcavs_st_file *f);

const char *pcavs_st_path(const pcavs_st_file *f);
int pcavs_st_count(const pcavs_st_file *f);
const pcavs_st_entry *pcavs_st_at(const pcavs_st_file *f, int i); /* in file order */
const pcavs_st_entry *pcavs_st_find(const pcavs_st_file *f, const char *name);
/* A string value of __metadata__, or NULL. */
const char *pcavs_st_metadata(const pcavs_st_file *f, const char *key);
int pcavs_st_metadata_count(const pcavs_st_file *f);
void pcavs_st_metadata_at(const pcavs_st_file *f, int i, const char **key, const char **value);

/* Looks up a tensor that must be F32 with exactly the given shape; fails naming the file, the
 * tensor and the expected/actual shape. `*data` points into the file. */
pcavs_status pcavs_st_get_f32(const pcavs_st_file *f, const char *name, int ndim, const int64_t *shape,
                              const float **data);

/* Writer: collects tensors (data copied unless `borrow`), then writes atomically (temp file +
 * rename), so a failed write never leaves a truncated file or replaces a good one. */
typedef struct pcavs_st_writer pcavs_st_writer;
pcavs_status pcavs_st_writer_create(pcavs_st_writer **out);
void pcavs_st_writer_free(pcavs_st_writer *w);
pcavs_status pcavs_st_writer_add(pcavs_st_writer *w, const char *name, pcavs_dtype dt, int ndim, const int64_t *shape,
                                 const void *data, int borrow);
pcavs_status pcavs_st_writer_metadata(pcavs_st_writer *w, const char *key, const char *value);
pcavs_status pcavs_st_writer_save(pcavs_st_writer *w, const char *path);

#endif
