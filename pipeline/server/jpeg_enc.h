/* jpeg_enc.h: RGB frames to JPEG in memory (libjpeg-turbo), for the live stream. Deterministic: the same
 * frame and quality give the same bytes (tests/server compare them with the C streaming API's frames). */
#ifndef PCAVS_SERVER_JPEG_ENC_H
#define PCAVS_SERVER_JPEG_ENC_H

#include <stddef.h>
#include <stdint.h>

/* Encodes rgb [height, width, 3] at quality 1..100 into *out (malloc'ed, *out_len bytes). 0 or -1. */
int jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, unsigned char **out, size_t *out_len);

#endif
