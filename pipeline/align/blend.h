/* blend.h: blending a resampled generated face into a region of a frame, by a signed distance to the mask's
 * boundary: a feathered alpha ramp, or a Laplacian-pyramid (multiband) blend. */
#ifndef PCAVS_BLEND_H
#define PCAVS_BLEND_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blends in place a region of w x h pixels of a frame. dst: the region's first pixel, rows `stride` bytes
 * apart, RGB; face: [h, w, 3] the generated face resampled onto those pixels (float, 0..255); valid: [h, w]
 * 1 where the generated face covers the pixel; dist: [h, w] signed distance to the mask boundary in mask units
 * (aligned-crop pixels, > 0 inside); margin: how far outside (mask units) the blend may reach; px_per_unit: frame
 * pixels per mask unit. Pixels with dist < -margin are not written; the rest get
 *   feather:   orig + a(d) (face - orig), a a smoothstep from 0 at d = -margin to 1 at d = +margin;
 *   multiband: orig + sum over pyramid bands l of a_l(d) band_l(face - orig), a_l smoothsteps from 0 at
 *              d = -margin to 1 at d = w_l, w_l growing with the band's scale (fine detail switches over near
 *              the boundary, colour and lighting over up to 32 units inside the mask). */
pcavs_status pcavs_blend_region(uint8_t *dst, size_t stride, int w, int h, const float *face, const uint8_t *valid,
                                const float *dist, double margin, double px_per_unit, pcavs_paste_blend mode);

/* Frame pixels of context a multiband blend reads around the region it writes (the ROI's padding). */
int pcavs_blend_context_px(double px_per_unit);

#ifdef __cplusplus
}
#endif
#endif
