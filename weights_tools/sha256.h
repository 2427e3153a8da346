/* sha256.h: SHA-256 (FIPS 180-4), incremental, for the source-file sums and tensor checksums that
 * pcavs-convert records. */
#ifndef PCAVS_SHA256_H
#define PCAVS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct pcavs_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;
} pcavs_sha256;

void pcavs_sha256_init(pcavs_sha256 *s);
void pcavs_sha256_update(pcavs_sha256 *s, const void *data, size_t n);
void pcavs_sha256_final(pcavs_sha256 *s, uint8_t out[32]);
/* One-shot, as 64 lowercase hex digits + NUL. */
void pcavs_sha256_hex(const void *data, size_t n, char hex[65]);
void pcavs_sha256_to_hex(const uint8_t d[32], char hex[65]);

#endif
