/* fuzz_safetensors.c: libFuzzer target for the safetensors reader (core/safetensors.c): open,
 * then touch the last byte of every tensor and look every name up. */
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pcavs_st_file *f = NULL;
    if (pcavs_st_open_memory(data, size, "fuzz.safetensors", &f) == PCAVS_OK) {
        for (int i = 0; i < pcavs_st_count(f); i++) {
            const pcavs_st_entry *e = pcavs_st_at(f, i);
            volatile uint8_t sink = e->nbytes ? ((const uint8_t *)e->t.data)[e->nbytes - 1] : 0;
            (void)sink;
            (void)pcavs_st_find(f, e->name);
        }
        for (int i = 0; i < pcavs_st_metadata_count(f); i++) {
            const char *k, *v;
            pcavs_st_metadata_at(f, i, &k, &v);
            (void)pcavs_st_metadata(f, k);
        }
    }
    pcavs_st_close(f);
    return 0;
}
