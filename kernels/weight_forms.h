/* weight_forms.h: what the CPU backend's prepared handle points to (a conv2d or modconv descriptor's `prepared`,
 * made by engine/backend.h's prepare slots at model load): a layer's weight in the forms conv2d_cpu and
 * modconv_cpu read besides the plain weight. Each form is NULL or as the op header describes the field it stands
 * for; the networks never see inside. */
#ifndef PCAVS_KERNELS_WEIGHT_FORMS_H
#define PCAVS_KERNELS_WEIGHT_FORMS_H

#include <stdint.h>

typedef struct pcavs_cpu_weight_forms {
    const float *wino;    /* modconv.h's weight_wino */
    const float *taps;    /* modconv.h's weight_taps */
    const float *sq;      /* modconv.h's weight_sq */
    const uint16_t *bf16; /* modconv.h's or conv2d.h's weight_bf16 */
} pcavs_cpu_weight_forms;

#endif
