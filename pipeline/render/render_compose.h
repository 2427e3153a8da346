/* render_compose.h: the side-by-side output's rows (upstream's avconcat.mp4), private to pipeline/render/. */
#ifndef PCAVS_RENDER_COMPOSE_H
#define PCAVS_RENDER_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "render_sources.h"

/* One row of 224x224 panels, left to right: identity | generated | generated with the reference pose
 * (gen_ref, NULL when not rendered) | pose source frame pose_k (pose NULL: none) | ground-truth mouth
 * frame k from mouth_dir (NULL: none; mid-grey past its end, as upstream's zero tensor). row holds
 * `panels` panels; work is one panel of scratch and may alias gen (which is copied first). */
pcavs_status render_compose_row(uint8_t *row, int panels, const uint8_t *id_rgb, const uint8_t *gen,
                                const uint8_t *gen_ref, pose_src *pose, size_t pose_k, const char *mouth_dir, size_t k,
                                uint8_t *work);

#endif
