/* sniff.c: file type detection from magic numbers (sniff.h). */
#include "sniff.h"

#include <string.h>

sniff_kind sniff(const unsigned char *d, size_t n) {
    if (!d) return SNIFF_UNKNOWN;
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return SNIFF_JPEG;
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return SNIFF_PNG;
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WAVE", 4)) return SNIFF_WAV;
    if (n >= 4 && !memcmp(d, "fLaC", 4)) return SNIFF_FLAC;
    if (n >= 4 && !memcmp(d, "OggS", 4)) return SNIFF_OGG;
    if (n >= 3 && !memcmp(d, "ID3", 3)) return SNIFF_MP3;
    if (n >= 2 && d[0] == 0xFF && (d[1] & 0xE6) == 0xE2) return SNIFF_MP3; /* MPEG audio layer III/II frame sync */
    if (n >= 12 && !memcmp(d + 4, "ftyp", 4)) return SNIFF_MP4;
    if (n >= 4 && d[0] == 0x1A && d[1] == 0x45 && d[2] == 0xDF && d[3] == 0xA3) return SNIFF_WEBM;
    return SNIFF_UNKNOWN;
}

const char *sniff_ext(sniff_kind k) {
    switch (k) {
    case SNIFF_JPEG:
        return "jpg";
    case SNIFF_PNG:
        return "png";
    case SNIFF_WAV:
        return "wav";
    case SNIFF_FLAC:
        return "flac";
    case SNIFF_OGG:
        return "ogg";
    case SNIFF_MP3:
        return "mp3";
    case SNIFF_MP4:
        return "mp4";
    case SNIFF_WEBM:
        return "webm";
    default:
        return "bin";
    }
}

int sniff_is_image(sniff_kind k) { return k == SNIFF_JPEG || k == SNIFF_PNG; }
int sniff_is_audio(sniff_kind k) {
    return k == SNIFF_WAV || k == SNIFF_FLAC || k == SNIFF_OGG || k == SNIFF_MP3 || k == SNIFF_MP4 || k == SNIFF_WEBM;
}
int sniff_is_video(sniff_kind k) { return k == SNIFF_MP4 || k == SNIFF_WEBM; }

int sniff_image_complete(sniff_kind k, const unsigned char *d, size_t n) {
    if (k == SNIFF_JPEG) {
        /* the EOI marker, allowing a few bytes of padding after it */
        for (size_t i = n; i >= 2 && n - i < 64; i--)
            if (d[i - 2] == 0xFF && d[i - 1] == 0xD9) return 1;
        return 0;
    }
    if (k == SNIFF_PNG) return n >= 20 && !memcmp(d + n - 8, "IEND\xae\x42\x60\x82", 8);
    return 0;
}
