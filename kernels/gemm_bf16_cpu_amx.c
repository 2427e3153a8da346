/* gemm_bf16_cpu_amx.c: the AMX form of the bf16 GEMM (gemm_bf16.h), compiled with -mamx-tile -mamx-bf16
 * and called only where the CPU has AMX and Linux granted the tile state (gemm_bf16_cpu.c decides).
 * Tiles: C 0..3 (2 x 2 blocks of 16 x 16 float), A 4..5 (16 rows x 32 k), B 6..7 (16 k-pairs x 16
 * columns), so one step is 32 x 32 outputs over 32 k. Columns go in chunks whose packed B stays in L2;
 * each 32-row block of A is read once per chunk. */
#include <immintrin.h>
#include <string.h>

#include "gemm_bf16.h"

#define AMX_B_CHUNK_BYTES (512u << 10)

typedef struct amx_tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_tilecfg;

/* Eight tiles of 16 rows x 64 bytes (palette 1), the layout every kernel here uses. */
static void amx_configure(void) {
    amx_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

/* Stores the C tiles 0..3 (a 32 x 32 block: 0 | 1 over 2 | 3) at cc (row stride ldc), only its first `rows`
 * rows and `cols` columns: straight from the tiles when the block is whole, else through a staging copy. */
static void amx_store_c(float *cc, long ldc, int rows, int cols) {
    if (rows >= 32 && cols >= 32) {
        _tile_stored(0, cc, ldc * 4);
        _tile_stored(1, cc + 16, ldc * 4);
        _tile_stored(2, cc + 16 * ldc, ldc * 4);
        _tile_stored(3, cc + 16 * ldc + 16, ldc * 4);
        return;
    }
    float tmp[4][16 * 16] __attribute__((aligned(64)));
    _tile_stored(0, tmp[0], 64);
    _tile_stored(1, tmp[1], 64);
    _tile_stored(2, tmp[2], 64);
    _tile_stored(3, tmp[3], 64);
    for (int i = 0; i < 32 && i < rows; i++)
        for (int j = 0; j < 32 && j < cols; j++)
            cc[(size_t)i * ldc + j] = tmp[(i / 16) * 2 + j / 16][(i % 16) * 16 + j % 16];
}

void pcavs_gemm_bf16_amx(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc) {
    amx_configure();
    const size_t kp = pcavs_bf16_round32((size_t)k), nq = kp / 2;
    const long nb32 = (n + 31) / 32;
    long chunk = (long)(AMX_B_CHUNK_BYTES / (kp * 64));
    if (chunk < 1) chunk = 1;
    for (long jc = 0; jc < nb32; jc += chunk) {
        const long je = jc + chunk < nb32 ? jc + chunk : nb32;
        for (int r0 = 0; r0 < m; r0 += 32) {
            const uint16_t *a0 = a + (size_t)r0 * kp, *a1 = a0 + 16 * kp;
            for (long jb = jc; jb < je; jb++) {
                const uint16_t *b0 = b + (size_t)(2 * jb) * nq * 32, *b1 = b0 + nq * 32;
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (size_t kk = 0; kk < kp; kk += 32) {
                    _tile_loadd(4, a0 + kk, (long)(kp * 2));
                    _tile_loadd(5, a1 + kk, (long)(kp * 2));
                    _tile_loadd(6, b0 + kk * 16, 64);
                    _tile_loadd(7, b1 + kk * 16, 64);
                    _tile_dpbf16ps(0, 4, 6);
                    _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(2, 5, 6);
                    _tile_dpbf16ps(3, 5, 7);
                }
                const long col0 = jb * 32;
                amx_store_c(c + (size_t)r0 * ldc + col0, ldc, m - r0, (int)(n - col0 < 32 ? n - col0 : 32));
            }
        }
    }
    _tile_release();
}

#define AMX_CONV_CHUNK 8 /* column-block pairs (256 columns) per chunk: their planes stay in L2 over all rows */

void pcavs_conv_bf16_amx(int m, int c_in, int ntaps, const uint16_t *a, const uint16_t *pl, long pair_plane,
                         const long *tap_off, long ls, int gwp, long ncol, float *c, long ldc) {
    amx_configure();
    const size_t kp = (size_t)ntaps * c_in; /* a multiple of 32 */
    const long nblk = ncol / 16, npair = (nblk + 1) / 2;
    const long bstride = pair_plane * 2; /* bytes between the 16 channel pairs of a B tile */
    const int cblocks = c_in / 32;
    for (long p0 = 0; p0 < npair; p0 += AMX_CONV_CHUNK) {
        const long p1 = p0 + AMX_CONV_CHUNK < npair ? p0 + AMX_CONV_CHUNK : npair;
        for (int r0 = 0; r0 < m; r0 += 32) {
            const uint16_t *a0 = a + (size_t)r0 * kp, *a1 = a0 + 16 * kp;
            for (long pp = p0; pp < p1; pp++) {
                const long j0 = 2 * pp, j1 = j0 + 1 < nblk ? j0 + 1 : j0; /* a lone last block: computed twice */
                const long col0 = j0 * 16, col1 = j1 * 16;
                const uint16_t *bb0 = pl + ((col0 / gwp) * ls + col0 % gwp) * 2;
                const uint16_t *bb1 = pl + ((col1 / gwp) * ls + col1 % gwp) * 2;
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (int t = 0; t < ntaps; t++) {
                    const uint16_t *ta0 = a0 + (size_t)t * c_in, *ta1 = a1 + (size_t)t * c_in;
                    const uint16_t *tb0 = bb0 + tap_off[t], *tb1 = bb1 + tap_off[t];
                    for (int cb = 0; cb < cblocks; cb++) {
                        _tile_loadd(4, ta0 + cb * 32, (long)(kp * 2));
                        _tile_loadd(5, ta1 + cb * 32, (long)(kp * 2));
                        _tile_loadd(6, tb0 + (size_t)cb * 16 * pair_plane, bstride);
                        _tile_loadd(7, tb1 + (size_t)cb * 16 * pair_plane, bstride);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                }
                amx_store_c(c + (size_t)r0 * ldc + col0, ldc, m - r0, j1 == j0 + 1 ? 32 : 16);
            }
        }
    }
    _tile_release();
}
