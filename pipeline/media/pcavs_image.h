/* pcavs_image.h: image input/output and the exact upstream image preprocessing.
 *
 * Mirrors upstream data/voxtest_dataset.py `load_img` + `to_Tensor` (docs/numerics.md §3):
 *   cv2.imread (libjpeg-turbo defaults: ISLOW IDCT, fancy upsampling; PNG via libpng)
 *   -> img[0:192, 16:208] -> cv2.resize(224x224, INTER_LINEAR) on uint8 (OpenCV's fixed-point path)
 *   -> BGR2RGB -> x/255*2-1 as float32 CHW [3,224,224].
 * and util.tensor2im for the output side ((y+1)/2*255, clip, truncate to uint8).
 * Pixel buffers here are always RGB, interleaved, row-major: [h, w, 3] uint8. */
#ifndef PCAVS_MEDIA_IMAGE_H
#define PCAVS_MEDIA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_IMAGE_SIZE 224 /* VoxCeleb2-style crop size (upstream opt.crop_size) */
#define PCAVS_IMAGE_CROP 16  /* upstream crop_len: rows 0..191, cols 16..207 */

typedef struct pcavs_image {
    int width, height; /* pixels */
    uint8_t *rgb;      /* [height, width, 3] RGB, owned (free with pcavs_image_free) */
} pcavs_image;

/* Decodes a JPEG (libjpeg-turbo, cv2.imread's settings) or PNG (8-bit; 16-bit is reduced to its high
 * byte, alpha dropped, gray/palette expanded to RGB) recognised by content, not extension.
 * EXIF orientation is not applied (VoxCeleb2 frames carry none). */
pcavs_status pcavs_image_load(const char *path, pcavs_image *out);
/* Decodes from memory (what_name names the source in error messages). */
pcavs_status pcavs_image_decode(const uint8_t *data, size_t size, const char *what_name, pcavs_image *out);
void pcavs_image_free(pcavs_image *img);

/* cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) for uint8 images with `channels` interleaved
 * channels, bit-exact with OpenCV's fixed-point path (11-bit coefficients, the SIMD vertical rounding).
 * src: [sh, rows of src_stride bytes], dst: [dh, dw, channels]. Note: OpenCV turns an exact 2x
 * downscale in both directions into INTER_AREA; this function does not (not used by PC-AVS). */
pcavs_status pcavs_image_resize_linear_u8(const uint8_t *src, int sw, int sh, size_t src_stride, uint8_t *dst, int dw,
                                          int dh, int channels);

/* Upstream crop + resize of a 224x224 VoxCeleb2-style frame: rows 0..191, cols 16..207 resized to 224x224.
 * Refuses (PCAVS_ERR_SHAPE) an image that is not 224x224; `what_name` names it in the message. */
pcavs_status pcavs_image_crop_resize(const pcavs_image *img, const char *what_name,
                                     uint8_t *out /* [224, 224, 3] RGB */);

/* to_Tensor: v = float32(2*float32(x/255.0) - 1), RGB planes. */
void pcavs_image_to_tensor(const uint8_t *rgb /* [h, w, 3] */, int width, int height, float *out /* [3, h, w] */);

/* The whole load_img + to_Tensor chain for one file. */
pcavs_status pcavs_image_preprocess_file(const char *path, float *out /* [3, 224, 224] */);
/* The same for an already decoded 224x224 RGB frame (e.g. from a video). */
pcavs_status pcavs_image_preprocess(const pcavs_image *img, const char *what_name, float *out /* [3, 224, 224] */);

/* tensor2im: u8 = (uint8)clip((y+1)/2*255, 0, 255) in float32, truncating; NaN becomes 0. */
void pcavs_image_from_tensor(const float *chw /* [3, h, w] */, int width, int height, uint8_t *rgb /* [h, w, 3] */);

/* Lossless PNG (8-bit RGB). Writes PATH.tmp-XXXXXX next to the target and renames it on success. */
pcavs_status pcavs_image_write_png(const char *path, const uint8_t *rgb /* [h, w, 3] */, int width, int height);

#ifdef __cplusplus
}
#endif
#endif
