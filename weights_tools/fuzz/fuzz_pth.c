/* fuzz_pth.c: libFuzzer target for the .pth readers: the restricted unpickler, the legacy
 * storage table and the zip (libzip) path, then materialisation of every tensor. */
#include <stdint.h>
#include <stdlib.h>

#include "pth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pcavs_pth *p = NULL;
    if (pcavs_pth_open_memory(data, size, "fuzz.pth", &p) == PCAVS_OK) {
        for (int i = 0; i < pcavs_pth_count(p); i++) {
            const void *d;
            size_t nb;
            void *own;
            if (pcavs_pth_tensor_data(p, i, &d, &nb, &own) == PCAVS_OK) {
                volatile uint8_t sink = nb ? ((const uint8_t *)d)[nb - 1] : 0;
                (void)sink;
                free(own);
            }
        }
    }
    pcavs_pth_close(p);
    return 0;
}
