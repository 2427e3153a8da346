/* sniff.h: what an uploaded file is, from its bytes alone (never from its name or the client's
 * Content-Type): the server picks the extension it saves the file under from this. Pure. */
#ifndef PCAVS_SERVER_SNIFF_H
#define PCAVS_SERVER_SNIFF_H

#include <stddef.h>

typedef enum sniff_kind {
    SNIFF_UNKNOWN = 0,
    SNIFF_JPEG,
    SNIFF_PNG,
    SNIFF_WAV,
    SNIFF_FLAC,
    SNIFF_OGG,
    SNIFF_MP3,
    SNIFF_MP4, /* ISO BMFF: mp4, m4a, mov */
    SNIFF_WEBM /* Matroska / WebM */
} sniff_kind;

sniff_kind sniff(const unsigned char *d, size_t n);
/* The extension the server saves a kind under ("jpg", "png", "wav", ...; "bin" for unknown). */
const char *sniff_ext(sniff_kind k);
int sniff_is_image(sniff_kind k);
int sniff_is_audio(sniff_kind k); /* also containers that can carry audio (mp4, webm) */
int sniff_is_video(sniff_kind k);
/* 1 when an image's bytes end where the format says it ends (JPEG EOI marker, PNG IEND chunk): a
 * truncated upload fails here before any decoder sees it. */
int sniff_image_complete(sniff_kind k, const unsigned char *d, size_t n);

#endif
