/* winograd_up_cpu.c: the upsampling modulated convolution as Winograd F(4x4, 2x2) on the transposed
 * conv's four output phases, then the blur (the algebra: winograd_up.h). Tiles j = (sample, tile row,
 * tile column) of the (h+1) x (w+1) phase grid, row-major; where h and w are multiples of 4 the tiles cover
 * h x w and T's last row and column are computed apart ("edge strips", below). Each chunk of tiles in steps of
 * one OpenMP region:
 *   1. input transform, threads over input channels: V [81 blocks, c_in, nt];
 *   2. the 36 GEMMs M_g = U_g V_g, each thread its share of the 81 blocks (single-threaded pcavs_sgemm_nn);
 *   3. output transform, threads over (sample,) output channels: the 4 phases' 4x4 tiles into T planes.
 * Fused form (where the scratch holds whole samples' V + M, up to PCAVS_WINO_UP_FUSED_MAX_CHUNK: the
 * generator's layers at any batch): chunks of whole samples, and step 3 writes each (sample, output) plane
 * into a T plane of its thread that the blur and output scale then read while it is in L2. Otherwise samples
 * go in groups whose T planes fit a budget, each group's tiles in chunks (V + M bounded), and the blur runs
 * per group from the T planes in memory.
 * Tile-block form (where U is small: 112x112 256->128; up_block_run): sample groups with T planes in memory as
 * above, but each thread runs steps 1-3 on its own blocks of tiles, V and M staying in cache. With a larger U
 * (56x56 512->256, 18.9 MB) re-reading U per block costs more than it saves, so that layer stays fused.
 * Blocks: EE point (k, l) is block k*5+l; EO row point k is group 25+k with blocks 25+4k+q (q = output
 * column in the tile); OE column point l is group 30+l, blocks 45+4l+q (q = output row); OO is group 35,
 * blocks 65+4i+s. Within group g, V's row c is [mult_g][nt] (so a group is one [c_in x mult_g*nt] matrix). */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "sgemm_nn.h"
#include "simd_clones.h"
#include "winograd.h"
#include "winograd_gather.h"
#include "winograd_scatter.h"
#include "winograd_up.h"

#define UP_BLOCKS 81
#ifndef PCAVS_WINO_UP_MAX_CHUNK
#define PCAVS_WINO_UP_MAX_CHUNK (96u << 20) /* bytes of V + M per chunk */
#endif
#ifndef PCAVS_WINO_UP_FUSED_MAX_CHUNK
/* bytes of V + M per chunk of whole samples (the fused form; 112x112 256->128: 105 MB a sample) */
#define PCAVS_WINO_UP_FUSED_MAX_CHUNK (128u << 20)
#endif
#ifndef PCAVS_WINO_UP_T_BUDGET
#define PCAVS_WINO_UP_T_BUDGET (48u << 20) /* bytes of T planes per sample group (at least one sample) */
#endif
#ifndef UP_PF_AHEAD
#define UP_PF_AHEAD 64
#endif

static int up_mult(int g) { return g < 25 ? 1 : g < 35 ? 4 : 16; }
static int up_blk0(int g) { return g < 25 ? g : g < 30 ? 25 + 4 * (g - 25) : g < 35 ? 45 + 4 * (g - 30) : 65; }

/* ---- weights ----
 * 1D F(4, 2) with points 0, 1, -1, 2, inf: G = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1] = G'/6 with G'
 * integer (exact in float), so each transform is a float sum of the taps and one final scale. The taps
 * along a 2-tap axis are (g0, g1) = (W[2], W[0]): the phase output at Y reads d = x[Y-1], x[Y]. */
static const float up_g6[5][2] = {{3, 0}, {-3, -3}, {-1, 1}, {1, 2}, {0, 6}};

void pcavs_wino_up_weight(int c_out, int c_in, const float *w,    /* [c_out, c_in, 3, 3] */
                          float scale, float *u, int n_threads) { /* [42, c_out, c_in] */
    const size_t plane = (size_t)c_out * c_in;
    const float post2 = scale / 36.0f, post1 = scale / 6.0f;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (int o = 0; o < c_out; o++) {
        const float *wo = w + (size_t)o * c_in * 9; /* [c_in, 3, 3] */
        float *uo = u + (size_t)o * c_in;           /* u[g] row o at uo + g * plane */
#pragma omp simd
        for (int c = 0; c < c_in; c++) {
            const float *k = wo + (size_t)c * 9; /* k[3i + j] = W[i][j] */
            /* EE: g[a][b] = W[2-2a][2-2b]; t = G' g, then U = t G'^T */
            const float g00 = k[8], g01 = k[6], g10 = k[2], g11 = k[0];
            for (int r = 0; r < 5; r++) {
                const float t0 = up_g6[r][0] * g00 + up_g6[r][1] * g10, t1 = up_g6[r][0] * g01 + up_g6[r][1] * g11;
                for (int l = 0; l < 5; l++)
                    uo[(size_t)(r * 5 + l) * plane + c] = (t0 * up_g6[l][0] + t1 * up_g6[l][1]) * post2;
            }
            for (int r = 0; r < 5; r++) {
                uo[(size_t)(25 + r) * plane + c] = (up_g6[r][0] * k[7] + up_g6[r][1] * k[1]) * post1; /* EO */
                uo[(size_t)(30 + r) * plane + c] = (up_g6[r][0] * k[5] + up_g6[r][1] * k[3]) * post1; /* OE */
            }
            uo[(size_t)35 * plane + c] = k[4] * scale; /* OO */
        }
        /* the edge strips' taps (up_strips_compute): rows [W[2][0] | W[2][2]], W[2][1], [W[0][2] | W[2][2]], W[1][2] */
        float *se = u + (size_t)36 * plane + (size_t)o * 2 * c_in, *so = u + (size_t)38 * plane + (size_t)o * c_in;
        float *ce = u + (size_t)39 * plane + (size_t)o * 2 * c_in, *co = u + (size_t)41 * plane + (size_t)o * c_in;
        for (int c = 0; c < c_in; c++) {
            const float *k = wo + (size_t)c * 9;
            se[c] = k[6] * scale, se[c_in + c] = k[8] * scale, so[c] = k[7] * scale;
            ce[c] = k[2] * scale, ce[c_in + c] = k[8] * scale, co[c] = k[5] * scale;
        }
    }
}

/* ---- sizes ---- */

/* Edge strips (sides that are multiples of 4: the generator's from 28x28): the phase grid is (h+1) x (w+1), but
 * only its last row and column (T's row 2h and column 2w) need the (h/4+1)-th tile row and column, which would
 * be 23 % of the tiles at 28x28 (13 % at 56, 7 % at 112). Those two T lines read only x's last row or column,
 * so they are computed apart, as small GEMMs per sample (up_strips_compute), and the tiles cover h/4 x w/4. */
static int up_strips(const pcavs_wino_up_conv *a) { return a->h % 4 == 0 && a->w % 4 == 0; }
static int up_th(const pcavs_wino_up_conv *a) { return up_strips(a) ? a->h / 4 : (a->h + 4) / 4; }
static int up_tw(const pcavs_wino_up_conv *a) { return up_strips(a) ? a->w / 4 : (a->w + 4) / 4; }
/* per (sample, output): E_row [w+1] (T row 2h, even columns), O_row [w] (its odd ones), E_col [h+1] (T column 2w,
 * even rows), O_col [h] (odd rows) */
static size_t up_strip_floats(const pcavs_wino_up_conv *a) { return (size_t)2 * a->w + 2 * (size_t)a->h + 2; }
/* the strips of every sample S [n, c_out, up_strip_floats], then per thread the GEMMs' B [2 c_in][max(h, w) + 1] */
static size_t up_strips_s_bytes(const pcavs_wino_up_conv *a) {
    return PCAVS_ALIGN64((size_t)a->n * a->c_out * up_strip_floats(a) * sizeof(float));
}
static size_t up_strips_b_floats(const pcavs_wino_up_conv *a) {
    return PCAVS_ALIGN64((size_t)2 * a->c_in * ((a->h > a->w ? a->h : a->w) + 1) * sizeof(float)) / sizeof(float);
}
static size_t up_strips_bytes(const pcavs_wino_up_conv *a, int n_threads) {
    if (!up_strips(a)) return 0;
    return up_strips_s_bytes(a) + (size_t)(n_threads < 1 ? 1 : n_threads) * up_strips_b_floats(a) * sizeof(float);
}

static size_t up_per_tile(const pcavs_wino_up_conv *a) {
    return (size_t)UP_BLOCKS * ((size_t)a->c_in + a->c_out) * sizeof(float);
}
static size_t up_plane_floats(const pcavs_wino_up_conv *a) { /* one T plane, padded to 64 bytes */
    return PCAVS_ALIGN64(pcavs_up_plane_floats(a->h, a->w) * sizeof(float)) / sizeof(float);
}
static size_t up_sample_t_bytes(const pcavs_wino_up_conv *a) {
    return (size_t)a->c_out * up_plane_floats(a) * sizeof(float);
}
/* per thread: the input transform's R, C [5][4][gs], XR, XC [5][gs] (the blur's 2 rows fit in them) */
static size_t up_rowbuf_floats(const pcavs_wino_up_conv *a) {
    size_t f = (size_t)50 * WINO_GROUP_STRIDE(up_tw(a)), blur = 2 * ((size_t)a->w + 16);
    return f > blur ? f : blur;
}
static size_t up_fixed(const pcavs_wino_up_conv *a, int n_threads) {
    return (size_t)(n_threads < 1 ? 1 : n_threads) * PCAVS_ALIGN64(up_rowbuf_floats(a) * sizeof(float)) + 4 * 64 +
           WINO_LANES * sizeof(float) * 2 + up_strips_bytes(a, n_threads);
}

size_t pcavs_wino_up_min_scratch_bytes(const pcavs_wino_up_conv *a, int n_threads) {
    size_t tps = (size_t)up_th(a) * up_tw(a), nt = tps < WINO_LANES ? tps : WINO_LANES;
    return up_fixed(a, n_threads) + up_sample_t_bytes(a) + nt * up_per_tile(a);
}

static size_t up_group_samples(const pcavs_wino_up_conv *a) {
    size_t sb = PCAVS_WINO_UP_T_BUDGET / up_sample_t_bytes(a);
    if (sb < 1) sb = 1;
    return sb > (size_t)a->n ? (size_t)a->n : sb;
}

/* The fused form (pcavs_wino_up_run): whole samples per chunk, capped at PCAVS_WINO_UP_FUSED_MAX_CHUNK bytes of
 * V + M, with a T plane per thread; how many samples a chunk takes in `avail` bytes (past the row buffers),
 * 0 where not even one fits. */
static size_t up_fused_samples(const pcavs_wino_up_conv *a, int n_threads, size_t avail) {
    const size_t tps = (size_t)up_th(a) * up_tw(a), per_sample = tps * up_per_tile(a);
    const size_t planes = (size_t)(n_threads < 1 ? 1 : n_threads) * up_plane_floats(a) * sizeof(float);
    if (avail < planes) return 0;
    size_t sb = (avail - planes) / per_sample, cap = PCAVS_WINO_UP_FUSED_MAX_CHUNK / per_sample;
    if (sb > cap) sb = cap;
    return sb > (size_t)a->n ? (size_t)a->n : sb;
}

/* The tile-block form (up_block_run): where U is small (<= PCAVS_WINO_UP_BLOCK_MAX_U: the generator's 112->224; at
 * 56->112, U 18.9 MB, streaming U once per block lost), each thread takes blocks of at most UP_BLOCK_TILES tiles: their
 * input transform into its own Vb [81][c_in][nb], then per UP_BLOCK_ROWS output channels the 36 GEMMs into Mb
 * [81][rows][nb] and the output transform into the sample group's T planes in memory (as the T-plane form), blurred
 * after the group; V and M stay in cache (the fused form writes and reads both: 70 + 35 MB a sample at 112->224). */
#ifndef PCAVS_WINO_UP_BLOCK_MAX_U
#define PCAVS_WINO_UP_BLOCK_MAX_U (8u << 20)
#endif
#ifndef UP_BLOCK_TILES
#define UP_BLOCK_TILES 32
#endif
#ifndef UP_BLOCK_ROWS
#define UP_BLOCK_ROWS 32
#endif
static int up_block_rows(const pcavs_wino_up_conv *a) { return a->c_out < UP_BLOCK_ROWS ? a->c_out : UP_BLOCK_ROWS; }
static size_t up_block_thread_floats(const pcavs_wino_up_conv *a) {
    return PCAVS_ALIGN64((size_t)UP_BLOCKS * a->c_in * UP_BLOCK_TILES * sizeof(float)) / sizeof(float) +
           PCAVS_ALIGN64(((size_t)UP_BLOCKS * up_block_rows(a) * UP_BLOCK_TILES + WINO_LANES) * sizeof(float)) /
               sizeof(float);
}
static size_t up_block_bytes(const pcavs_wino_up_conv *a, int n_threads) {
    return up_fixed(a, n_threads) +
           (size_t)(n_threads < 1 ? 1 : n_threads) * up_block_thread_floats(a) * sizeof(float) +
           up_group_samples(a) * up_sample_t_bytes(a);
}
static int up_block_form(const pcavs_wino_up_conv *a) {
    return !a->no_blocks &&
           (size_t)PCAVS_WINO_UP_MATS * a->c_out * a->c_in * sizeof(float) <= PCAVS_WINO_UP_BLOCK_MAX_U &&
           strcmp(pcavs_sgemm_nn_form(), "blas") != 0; /* OpenBLAS would pack the weights for every thin call */
}

int pcavs_wino_up_uses_blocks(const pcavs_wino_up_conv *a, size_t scratch_bytes, int n_threads) {
    return up_block_form(a) && scratch_bytes >= up_block_bytes(a, n_threads);
}

size_t pcavs_wino_up_scratch_bytes(const pcavs_wino_up_conv *a, int n_threads) {
    if (up_block_form(a)) return up_block_bytes(a, n_threads);
    const size_t tps = (size_t)up_th(a) * up_tw(a), per_sample = tps * up_per_tile(a);
    if (per_sample <= PCAVS_WINO_UP_FUSED_MAX_CHUNK) {
        size_t sb = PCAVS_WINO_UP_FUSED_MAX_CHUNK / per_sample;
        if (sb > (size_t)a->n) sb = (size_t)a->n;
        return up_fixed(a, n_threads) + (size_t)(n_threads < 1 ? 1 : n_threads) * up_plane_floats(a) * sizeof(float) +
               sb * per_sample;
    }
    const size_t sb = up_group_samples(a), tiles = sb * up_th(a) * up_tw(a);
    size_t nt = PCAVS_WINO_UP_MAX_CHUNK / up_per_tile(a);
    if (nt < WINO_LANES) nt = WINO_LANES;
    if (nt > tiles) nt = tiles;
    return up_fixed(a, n_threads) + sb * up_sample_t_bytes(a) + nt * up_per_tile(a);
}

/* ---- transforms ---- */

/* B^T rows of 1D F(4, 2) applied to (x0..x4) */
#define UP_BT0(x0, x1, x2, x3, x4) (2.0f * ((x0) - (x2)) - (x1) + (x3))
#define UP_BT1(x0, x1, x2, x3, x4) (-2.0f * (x1) - (x2) + (x3))
#define UP_BT2(x0, x1, x2, x3, x4) (2.0f * (x1)-3.0f * (x2) + (x3))
#define UP_BT3(x0, x1, x2, x3, x4) ((x3) - (x1))
#define UP_BT4(x0, x1, x2, x3, x4) (2.0f * ((x1) - (x3)) - (x2) + (x4))
/* all five into v0..v4[at] */
#define UP_BT_STORE(v0, v1, v2, v3, v4, at, x0, x1, x2, x3, x4)                                                        \
    do {                                                                                                               \
        (v0)[at] = UP_BT0(x0, x1, x2, x3, x4), (v1)[at] = UP_BT1(x0, x1, x2, x3, x4);                                  \
        (v2)[at] = UP_BT2(x0, x1, x2, x3, x4), (v3)[at] = UP_BT3(x0, x1, x2, x3, x4);                                  \
        (v4)[at] = UP_BT4(x0, x1, x2, x3, x4);                                                                         \
    } while (0)

/* the 5 B^T rows of one 5-column run: (a, b, c, d, e)[tt] -> v0..v4[tt] */
static inline void up_bt_run(int n, const float *restrict a, const float *restrict b, const float *restrict c,
                             const float *restrict d, const float *restrict e, float *restrict v0, float *restrict v1,
                             float *restrict v2, float *restrict v3, float *restrict v4) {
#pragma omp simd
    for (int tt = 0; tt < n; tt++) {
        const float x0 = a[tt], x1 = b[tt], x2 = c[tt], x3 = d[tt], x4 = e[tt];
        UP_BT_STORE(v0, v1, v2, v3, v4, tt, x0, x1, x2, x3, x4);
    }
}

/* One row pass of the input transform over a group's n_g tiles, whose 5 columns are p0..p3[t] and p0[t+1] (the
 * last tile of each of the rows: xlast[j] instead): B^T along them into v[0..4 * vs] and columns 1..4 as they
 * are into cp[0..3 * nh] (each at the tile's index), in one loop (rather than memcpy calls after it: a library call
 * per run of at most 128 floats, and the columns read twice). */
static inline __attribute__((always_inline)) void up_row_pass(int n_g, int rows, const int *nt_of, const float *p0,
                                                              const float *p1, const float *p2, const float *p3,
                                                              const float *xlast, float *v, size_t vs, float *cp,
                                                              size_t nh) {
    float *restrict v0 = v, *restrict v1 = v + vs, *restrict v2 = v + 2 * vs, *restrict v3 = v + 3 * vs,
                    *restrict v4 = v + 4 * vs;
    float *restrict c1 = cp, *restrict c2 = cp + nh, *restrict c3 = cp + 2 * nh, *restrict c4 = cp + 3 * nh;
#pragma omp simd
    for (int tt = 0; tt < n_g; tt++) {
        const float x0 = p0[tt], x1 = p1[tt], x2 = p2[tt], x3 = p3[tt], x4 = p0[tt + 1];
        UP_BT_STORE(v0, v1, v2, v3, v4, tt, x0, x1, x2, x3, x4);
        c1[tt] = x1, c2[tt] = x2, c3[tt] = x3, c4[tt] = x4;
    }
    for (int j = 0, t = -1; j < rows; j++) { /* each row's last tile: its fifth column from xlast */
        t += nt_of[j];
        const float x0 = p0[t], x1 = p1[t], x2 = p2[t], x3 = p3[t], x4 = xlast[j];
        UP_BT_STORE(v0, v1, v2, v3, v4, t, x0, x1, x2, x3, x4);
        c4[t] = x4;
    }
}

/* Input channel c of tiles t0 .. t0+nh-1 (global tile indices) into V [81][c_in][nh]. Tile rows go in groups
 * (wino_group_rows, as the F(4x4, 3x3) transform does), laid end to end in column-phase arrays
 * R[i][q][t] = x[4ty-1+i][4t+q-1] of the group's 5 input rows per tile row, so each loop runs over the group's
 * tiles (a loop per tile row of 15 or 29 tiles was half scalar remainder). Tile t's 5 columns are R[i][0..3][t]
 * and R[i][0][t+1]; for the last tile of a row that fifth column is gathered aside into XR (the next row's
 * tiles overwrite it) and its values are redone from there. Every value takes the same operations as before. */
PCAVS_SIMD_CLONES static void up_input_channel_body(const pcavs_wino_up_conv *a, int c, size_t t0, size_t nh,
                                                    float *rowbuf, float *V) {
    const int h = a->h, w = a->w, tw = up_tw(a), th = up_th(a);
    const size_t gs = WINO_GROUP_STRIDE(tw), n4 = 4 * gs;
    float *R = rowbuf;                      /* [5][4][gs] gathered rows */
    float *C = R + 20 * gs;                 /* [5][4][gs] B^T down the rows */
    float *XR = C + 20 * gs;                /* [5][gs] each tile row's column after its last tile */
    float *XC = XR + 5 * gs;                /* [5][gs] ... and B^T down them */
    const size_t vb = (size_t)a->c_in * nh; /* floats per block */
    const size_t r_first = t0 / tw, r_last = (t0 + nh - 1) / tw;
    int lo_of[WINO_GROUP_TILES], nt_of[WINO_GROUP_TILES]; /* per row of the group: first tile, tiles */
    for (size_t g0 = r_first; g0 <= r_last;) {
        int n_g, rows;
        const size_t g1 = wino_group_rows(g0, r_first, r_last, t0, nh, tw, lo_of, nt_of, &rows, &n_g);
        const size_t base = g0 * tw + (g0 == r_first ? t0 - r_first * tw : 0) - t0; /* chunk-relative */
        wino_gather_group(a->x, a->in_scale, a->c_in, c, h, w, th, g0, rows, lo_of, nt_of, 5, 1, gs, R, XR);
        /* C[k] = B^T down the 5 rows, the 4 phases as one run (up to what is read); XC likewise */
        up_bt_run((int)(3 * gs + n_g + 1), R, R + n4, R + 2 * n4, R + 3 * n4, R + 4 * n4, C, C + n4, C + 2 * n4,
                  C + 3 * n4, C + 4 * n4);
        up_bt_run(rows, XR, XR + gs, XR + 2 * gs, XR + 3 * gs, XR + 4 * gs, XC, XC + gs, XC + 2 * gs, XC + 3 * gs,
                  XC + 4 * gs);
        for (int k = 0; k < 5; k++) { /* EE: B^T along tile columns, blocks k*5 + l; EO: columns 1..4, group 25+k */
            const float *e0 = C + (size_t)k * n4;
            up_row_pass(n_g, rows, nt_of, e0, e0 + gs, e0 + 2 * gs, e0 + 3 * gs, XC + (size_t)k * gs,
                        V + (size_t)(k * 5) * vb + (size_t)c * nh + base, vb,
                        V + (size_t)(25 + 4 * k) * vb + (size_t)c * 4 * nh + base, nh);
        }
        for (int q = 0; q < 4; q++) { /* input rows 1..4 as they are: OE (B^T along tile columns, group 30+l at
                                       * blocks 45+4l, output row q) and OO (columns 1..4, blocks 65 + 4q + s) */
            const float *r0 = R + (size_t)(1 + q) * n4;
            up_row_pass(n_g, rows, nt_of, r0, r0 + gs, r0 + 2 * gs, r0 + 3 * gs, XR + (size_t)(1 + q) * gs,
                        V + (size_t)45 * vb + ((size_t)c * 4 + q) * nh + base, 4 * vb,
                        V + (size_t)65 * vb + ((size_t)c * 16 + 4 * q) * nh + base, nh);
        }
        g0 = g1;
    }
}
PCAVS_SIMD_DISPATCH(static, up_input_channel,
                    (const pcavs_wino_up_conv *a, int c, size_t t0, size_t nh, float *rowbuf, float *V),
                    (a, c, t0, nh, rowbuf, V))

/* Input channel c of tiles t0 .. t0+nh-1 into V (up_input_channel), the next channel's input rows prefetched meanwhile
 * (wino_prefetch_rows: a tile reads 5 rows and 5 columns from 4 ty - 1, 4 tx - 1). */
static void up_input(const pcavs_wino_up_conv *a, int c, size_t t0, size_t nh, float *rowbuf, float *V) {
    if (c + 1 < a->c_in) wino_prefetch_rows(a->x, a->c_in, c + 1, a->h, a->w, 4, 5, up_tw(a), up_th(a), t0, nh);
    up_input_channel(a, c, t0, nh, rowbuf, V);
}

/* A^T of 1D F(4, 2) applied to (m0..m4): output i */
#define UP_AT(i, m0, m1, m2, m3, m4)                                                                                   \
    ((i) == 0   ? (m0) + (m1) + (m2) + (m3)                                                                            \
     : (i) == 1 ? (m1) - (m2) + 2.0f * (m3)                                                                            \
     : (i) == 2 ? (m1) + (m2) + 4.0f * (m3)                                                                            \
                : (m1) - (m2) + 8.0f * (m3) + (m4))

/* Output channel o of tiles t0 .. t0+cnt-1 (global indices) from row mo of M [81][m_rows][nh] (M: the first of
 * those tiles' columns; nh: the chunk's width; m_rows: c_out, or a tile block's rows from output channel o - mo)
 * into T planes: sample b's at Tb + (b - g0) * b_stride + o * o_stride. */
PCAVS_SIMD_CLONES static void up_output_channel_body(const pcavs_wino_up_conv *a, int o, int mo, int m_rows, size_t t0,
                                                     size_t cnt, size_t nh, const float *M, float *Tb, size_t b_stride,
                                                     size_t o_stride, int g0) {
    const int h = a->h, w = a->w, tw = up_tw(a), th = up_th(a);
    const size_t mb = (size_t)m_rows * nh, ts = (size_t)w + 3;
    const float *ee = M + (size_t)mo * nh;                        /* block p at ee + p*mb */
    const float *eo = M + (size_t)25 * mb + (size_t)mo * 4 * nh;  /* row point k, column q: + 4k*mb + q*nh */
    const float *oe = M + (size_t)45 * mb + (size_t)mo * 4 * nh;  /* column point l, row q: + 4l*mb + q*nh */
    const float *oo = M + (size_t)65 * mb + (size_t)mo * 16 * nh; /* (i, s): + (4i+s)*nh */
    float *const To = Tb + (size_t)o * o_stride;
    for (size_t jj = 0; jj < cnt; jj += WINO_LANES) {
        if (jj + UP_PF_AHEAD < cnt) { /* 81 streams, more than the hardware prefetchers follow */
            const size_t f = jj + UP_PF_AHEAD;
            for (int p = 0; p < 25; p++) __builtin_prefetch(ee + (size_t)p * mb + f);
            for (int k = 0; k < 5; k++)
                for (int q = 0; q < 4; q++) {
                    __builtin_prefetch(eo + (size_t)(4 * k) * mb + (size_t)q * nh + f);
                    __builtin_prefetch(oe + (size_t)(4 * k) * mb + (size_t)q * nh + f);
                }
            for (int i = 0; i < 16; i++) __builtin_prefetch(oo + (size_t)i * nh + f);
        }
        float t[4][5][WINO_LANES];      /* EE: A^T down the columns */
        float out[4][4][4][WINO_LANES]; /* [phase EE, EO, OE, OO][row][column][lane] */
        for (int l = 0; l < 5; l++) {
            const float *m0 = ee + (size_t)l * mb + jj, *m1 = m0 + 5 * mb, *m2 = m0 + 10 * mb, *m3 = m0 + 15 * mb,
                        *m4 = m0 + 20 * mb;
            for (int q = 0; q < WINO_LANES; q++)
                for (int i = 0; i < 4; i++) t[i][l][q] = UP_AT(i, m0[q], m1[q], m2[q], m3[q], m4[q]);
        }
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++)
                for (int q = 0; q < WINO_LANES; q++)
                    out[0][r][s][q] = UP_AT(s, t[r][0][q], t[r][1][q], t[r][2][q], t[r][3][q], t[r][4][q]);
        for (int cq = 0; cq < 4; cq++) {
            const float *e = eo + (size_t)cq * nh + jj, *f = oe + (size_t)cq * nh + jj;
            for (int i = 0; i < 4; i++)
                for (int q = 0; q < WINO_LANES; q++) {
                    out[1][i][cq][q] = UP_AT(i, e[q], e[q + 4 * mb], e[q + 8 * mb], e[q + 12 * mb], e[q + 16 * mb]);
                    out[2][cq][i][q] = UP_AT(i, f[q], f[q + 4 * mb], f[q + 8 * mb], f[q + 12 * mb], f[q + 16 * mb]);
                }
            for (int s = 0; s < 4; s++)
                for (int q = 0; q < WINO_LANES; q++) out[3][cq][s][q] = oo[(size_t)(4 * cq + s) * nh + jj + q];
        }
        const int lanes = cnt - jj < WINO_LANES ? (int)(cnt - jj) : WINO_LANES;
        const size_t j0 = t0 + jj; /* the group's first tile, then step along */
        int tx = (int)(j0 % tw), ty = (int)((j0 / tw) % th), b = (int)(j0 / ((size_t)tw * th));
        for (int q = 0; q < lanes;) {
            float *P = To + (size_t)(b - g0) * b_stride;
            int run = 0; /* whole tiles of this tile row from lane q, every phase row complete */
            if (4 * ty + 4 <= h)
                while (q + run < lanes && tx + run < tw && 4 * (tx + run) + 4 <= w) run++;
            if (run > 0) {
                /* each T row segment is 4 x run consecutive floats, transposed from the lanes and stored as vectors */
                float *P0 = P + 1 + 4 * tx;
                for (int r = 0; r < 4; r++) {
                    float *te = P0 + (size_t)(4 * (4 * ty + r)) * ts; /* T row 2Y, even columns; odd at + ts */
                    for (int ph = 0; ph < 4; ph++) {                  /* EE, EO (row 2Y), OE, OO (2Y+1) */
                        if (run == WINO_LANES) {                      /* the common case: straight into T */
                            wino_lanes_to_row(&out[ph][r][0][0], 4, 0, 1.0f, 0.0f, 0, NULL, 0.0f, te + (size_t)ph * ts);
                        } else {
                            float row[4 * WINO_LANES] __attribute__((aligned(64)));
                            wino_lanes_to_row(&out[ph][r][0][0], 4, 0, 1.0f, 0.0f, 0, NULL, 0.0f, row);
                            for (int l = 0; l < run; l++) /* constant-size copies (as wino_store_run) */
                                memcpy(te + (size_t)ph * ts + 4 * l, row + 4 * (q + l), 4 * sizeof(float));
                        }
                    }
                }
                q += run, tx += run;
            } else { /* a tile at the right or bottom edge, value by value */
                const int X0 = 4 * tx, ne = w + 1 - X0 < 4 ? w + 1 - X0 : 4, no = w - X0 < 4 ? w - X0 : 4;
                for (int r = 0; r < 4; r++) {
                    const int Y = 4 * ty + r;
                    if (Y > h) break;
                    float *te = P + (size_t)(4 * Y) * ts + 1 + X0, *to = te + ts; /* T row 2Y */
                    for (int s = 0; s < ne; s++) te[s] = out[0][r][s][q];
                    for (int s = 0; s < no; s++) to[s] = out[1][r][s][q];
                    if (Y == h) continue;
                    te += 2 * ts, to += 2 * ts; /* T row 2Y+1 */
                    for (int s = 0; s < ne; s++) te[s] = out[2][r][s][q];
                    for (int s = 0; s < no; s++) to[s] = out[3][r][s][q];
                }
                q++, tx++;
            }
            if (tx == tw) {
                tx = 0;
                if (++ty == th) ty = 0, b++;
            }
        }
    }
}
PCAVS_SIMD_DISPATCH(static, up_output_channel,
                    (const pcavs_wino_up_conv *a, int o, int mo, int m_rows, size_t t0, size_t cnt, size_t nh,
                     const float *M, float *Tb, size_t b_stride, size_t o_stride, int g0),
                    (a, o, mo, m_rows, t0, cnt, nh, M, Tb, b_stride, o_stride, g0))

/* ---- the blur (also modconv_cpu's direct upsampling path) ----
 * y[oy][ox] = scale * sum_{a,b} kf[a][b] T[oy+a-1][ox+b-1], kf[a][b] = blur[3-a][3-b]; with ox = 2X (E)
 * or 2X+1 (O):  E[X] = kf0 To[X-1] + kf1 Te[X] + kf2 To[X] + kf3 Te[X+1]
 *               O[X] = kf0 Te[X] + kf1 To[X] + kf2 Te[X+1] + kf3 To[X+1]   (To[-1] = To[w] = 0) */
/* One output row of the blur from the 4 T rows te/to (even/odd phases), then the tail (styled_act.h; nr: the noise
 * row or NULL); `sep`, `tail`, `act` and whether nr is NULL are constants where it is inlined. One pass, the sums in
 * registers (4 read-modify-write passes over 2 row buffers would be load/store bound). With sep, where
 * k[ky][j] = kv[ky] kh[j] (upstream's outer([1,3,3,1]) kernel), the 4 T rows are summed down the columns first
 * (ve[X], X = 0..w; vo[X], X = -1..w), then 4 taps along the row: 8 multiply-adds an output, not 16 (the blur
 * waits on memory more than on arithmetic, so this saves less than half its time). */
static inline __attribute__((always_inline)) void up_blur_row(const float *const te[4], const float *const to[4],
                                                              const float k[4][4], const float kv[4], const float kh[4],
                                                              int sep, float *ve, float *vo, int w, const float *nr,
                                                              float nw, float bias, int tail, int act, float *yr) {
    if (sep) {
#pragma omp simd
        for (int X = 0; X <= w; X++) ve[X] = kv[0] * te[0][X] + kv[1] * te[1][X] + kv[2] * te[2][X] + kv[3] * te[3][X];
#pragma omp simd
        for (int X = -1; X <= w; X++) vo[X] = kv[0] * to[0][X] + kv[1] * to[1][X] + kv[2] * to[2][X] + kv[3] * to[3][X];
    }
#pragma omp simd
    for (int xx = 0; xx < w; xx++) {
        float e = 0.0f, o = 0.0f;
        if (sep) {
            e = kh[0] * vo[xx - 1] + kh[1] * ve[xx] + kh[2] * vo[xx] + kh[3] * ve[xx + 1];
            o = kh[0] * ve[xx] + kh[1] * vo[xx] + kh[2] * ve[xx + 1] + kh[3] * vo[xx + 1];
        } else {
            for (int ky = 0; ky < 4; ky++) {
                const float *e_ = te[ky], *o_ = to[ky];
                e += k[ky][0] * o_[xx - 1] + k[ky][1] * e_[xx] + k[ky][2] * o_[xx] + k[ky][3] * e_[xx + 1];
                o += k[ky][0] * e_[xx] + k[ky][1] * o_[xx] + k[ky][2] * e_[xx + 1] + k[ky][3] * o_[xx + 1];
            }
        }
        if (tail) {
            if (nr) e = e + nr[2 * xx] * nw, o = o + nr[2 * xx + 1] * nw;
            e = pcavs_store_act(e + bias, act), o = pcavs_store_act(o + bias, act);
        }
        yr[2 * xx] = e;
        yr[2 * xx + 1] = o;
    }
}

/* up_blur_row with its tail's common cases as constants (StyledConv with and without noise, none at all) */
static inline __attribute__((always_inline)) void up_blur_row_tail(const float *const te[4], const float *const to[4],
                                                                   const float k[4][4], const float kv[4],
                                                                   const float kh[4], int sep, float *ve, float *vo,
                                                                   int w, const float *nr, float nw, float bias,
                                                                   int act, float *yr) {
    if (act == PCAVS_STORE_ACT_LRELU && nr)
        up_blur_row(te, to, k, kv, kh, sep, ve, vo, w, nr, nw, bias, 1, PCAVS_STORE_ACT_LRELU, yr);
    else if (act == PCAVS_STORE_ACT_LRELU)
        up_blur_row(te, to, k, kv, kh, sep, ve, vo, w, NULL, 0.0f, bias, 1, PCAVS_STORE_ACT_LRELU, yr);
    else if (!nr && act == PCAVS_STORE_ACT_NONE && bias == 0.0f)
        up_blur_row(te, to, k, kv, kh, sep, ve, vo, w, NULL, 0.0f, 0.0f, 0, PCAVS_STORE_ACT_NONE, yr);
    else
        up_blur_row(te, to, k, kv, kh, sep, ve, vo, w, nr, nw, bias, 1, act, yr);
}

/* 1 where k [4][4] is the outer product kv x kh to within 1e-6 of its largest tap (then kv, kh set), else 0. */
static int up_blur_separable(const float k[4][4], float kv[4], float kh[4]) {
    int i0 = 0, j0 = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (fabsf(k[i][j]) > fabsf(k[i0][j0])) i0 = i, j0 = j;
    const float top = k[i0][j0];
    if (top == 0.0f) return 0;
    for (int i = 0; i < 4; i++) kv[i] = k[i][j0], kh[i] = k[i0][i] / top;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (fabsf(kv[i] * kh[j] - k[i][j]) > 1e-6f * fabsf(top)) return 0;
    return 1;
}

#define UP_BLUR_SEP_MAX_W 1024 /* the separable rows' buffers live on the stack up to this input width */

PCAVS_SIMD_CLONES static void pcavs_up_blur_plane_body(float *t, int h, int w, const float *blur, float scale,
                                                       const float *noise, float noise_weight, float bias, int act,
                                                       float *tmp, float *y) {
    const size_t ts = (size_t)w + 3;
    const int th = 2 * h + 1, oh = 2 * h, ow = 2 * w;
    for (int r = 0; r < th; r++) {
        float *to = t + (size_t)(2 * r + 1) * ts + 1;
        to[-1] = to[w] = 0.0f;
    }
    float *zero = tmp; /* a T row of zeros (both phases) for the rows above and below the grid */
    memset(zero, 0, 2 * ts * sizeof(float));
    float k[4][4]; /* k[ky][0..3]: the taps along x for the T row oy+ky-1, times scale */
    for (int ky = 0; ky < 4; ky++)
        for (int j = 0; j < 4; j++) k[ky][j] = blur[(3 - ky) * 4 + 3 - j] * scale;
    float kv[4], kh[4], vbuf[2][UP_BLUR_SEP_MAX_W + 2];
    const int sep = w <= UP_BLUR_SEP_MAX_W && up_blur_separable(k, kv, kh);
    float *ve = vbuf[0], *vo = vbuf[1] + 1; /* ve[0..w], vo[-1..w] */
    for (int oy = 0; oy < oh; oy++) {
        const float *te[4], *to[4]; /* the 4 T rows, even and odd phases */
        for (int ky = 0; ky < 4; ky++) {
            const int ty = oy + ky - 1;
            te[ky] = (ty < 0 || ty >= th ? zero : t + (size_t)(2 * ty) * ts) + 1, to[ky] = te[ky] + ts;
        }
        float *yr = y + (size_t)oy * ow;
        const float *nr = noise ? noise + (size_t)oy * ow : NULL;
        if (sep)
            up_blur_row_tail(te, to, k, kv, kh, 1, ve, vo, w, nr, noise_weight, bias, act, yr);
        else
            up_blur_row_tail(te, to, k, kv, kh, 0, ve, vo, w, nr, noise_weight, bias, act, yr);
    }
}
PCAVS_SIMD_DISPATCH(, pcavs_up_blur_plane,
                    (float *t, int h, int w, const float *blur, float scale, const float *noise, float noise_weight,
                     float bias, int act, float *tmp, float *y),
                    (t, h, w, blur, scale, noise, noise_weight, bias, act, tmp, y))

/* ---- driver ---- */

/* This thread's share of the 36 products M_g = U_g V_g. The 81 blocks are laid out in order (matrix g is
 * blocks up_blk0(g) .. + up_mult(g), each nh columns wide), so a thread takes the blocks [81 t / T,
 * 81 (t+1) / T), i.e. column ranges of whole matrices with all rows: every block of V is read by one thread
 * (pcavs_sgemm_nn packs nothing, so a column split costs no repacking and beats a row split). With OpenBLAS (no
 * AVX-512) each thread takes its rows of every matrix at the full width instead: split by columns there, one
 * thread would pack the 25 EE weights for thin calls. */
static void up_gemms(const pcavs_wino_up_conv *a, size_t nh, const float *V, float *M, int tid, int nthr, int by_rows) {
    const size_t plane = (size_t)a->c_out * a->c_in;
    if (by_rows) {
        const int o0 = tid == 0 ? 0 : (a->c_out * tid / nthr) & ~7;
        const int o1 = tid == nthr - 1 ? a->c_out : (a->c_out * (tid + 1) / nthr) & ~7;
        if (o1 <= o0) return;
        for (int g = 0; g < PCAVS_WINO_UP_MATS; g++) {
            const int m = up_mult(g), f = up_blk0(g), ld = (int)(m * nh);
            const float *vg = V + (size_t)f * a->c_in * nh; /* [c_in, m*nh] */
            float *mg = M + (size_t)f * a->c_out * nh;      /* [c_out, m*nh] */
            pcavs_sgemm_nn(o1 - o0, ld, a->c_in, a->u + (size_t)g * plane + (size_t)o0 * a->c_in, a->c_in, vg, ld,
                           mg + (size_t)o0 * ld, ld);
        }
        return;
    }
    const int u0 = UP_BLOCKS * tid / nthr, u1 = UP_BLOCKS * (tid + 1) / nthr;
    for (int g = 0; g < PCAVS_WINO_UP_MATS; g++) {
        const int m = up_mult(g), f = up_blk0(g), ld = (int)(m * nh);
        const int lo = f > u0 ? f : u0, hi = f + m < u1 ? f + m : u1;
        if (lo >= hi) continue;
        const size_t col0 = (size_t)(lo - f) * nh;
        pcavs_sgemm_nn(a->c_out, (int)((size_t)(hi - lo) * nh), a->c_in, a->u + (size_t)g * plane, a->c_in,
                       V + (size_t)f * a->c_in * nh + col0, ld, M + (size_t)f * a->c_out * nh + col0, ld);
    }
}

/* The edge strips of sample b (up_strips) into S [n, c_out, up_strip_floats]: part 0 T's row 2h,
 *   E_row[X] = W[2][0] x[h-1][X] + W[2][2] x[h-1][X-1] (X 0..w),  O_row[X] = W[2][1] x[h-1][X] (X < w),
 * part 1 its column 2w, the same down x's last column with W[0][2], W[2][2] and W[1][2]; x times in_scale. As
 * GEMMs [c_out, 2 c_in] x [2 c_in, side + 1] (the shifted line under the line) and [c_out, c_in] x [c_in, side];
 * B: this thread's [2 c_in][side + 1]. */
static void up_strips_compute(const pcavs_wino_up_conv *a, int b, int part, float *S, float *B) {
    const int h = a->h, w = a->w, n = part ? h : w; /* the line's length */
    const size_t plane = (size_t)a->c_out * a->c_in, sf = up_strip_floats(a), ld = (size_t)n + 1;
    for (int c = 0; c < a->c_in; c++) {
        const float s = a->in_scale ? a->in_scale[(size_t)b * a->c_in + c] : 1.0f;
        const float *xc = a->x + ((size_t)b * a->c_in + c) * h * w;
        float *b0 = B + (size_t)c * ld, *b1 = B + ((size_t)a->c_in + c) * ld;
        for (int i = 0; i < n; i++) b0[i] = (part ? xc[(size_t)i * w + w - 1] : xc[(size_t)(h - 1) * w + i]) * s;
        b0[n] = 0.0f, b1[0] = 0.0f;
        memcpy(b1 + 1, b0, (size_t)n * sizeof(float));
    }
    float *out = S + (size_t)b * a->c_out * sf + (part ? 2 * (size_t)w + 1 : 0);
    const float *ue = a->u + (size_t)(part ? 39 : 36) * plane, *uo = a->u + (size_t)(part ? 41 : 38) * plane;
    pcavs_sgemm_nn(a->c_out, n + 1, 2 * a->c_in, ue, 2 * a->c_in, B, (int)ld, out, (int)sf);
    pcavs_sgemm_nn(a->c_out, n, a->c_in, uo, a->c_in, B, (int)ld, out + n + 1, (int)sf);
}

/* Writes the strips of (b, o) into its T plane (pcavs_up_plane_floats layout): column 2w's even rows at Te[w] of
 * rows 2Y, its odd rows at Te[w] of rows 2Y+1, then row 2h (both phases). */
static void up_strips_fill(const pcavs_wino_up_conv *a, const float *S, int b, int o, float *t) {
    const int h = a->h, w = a->w;
    const size_t ts = (size_t)w + 3;
    const float *st = S + ((size_t)b * a->c_out + o) * up_strip_floats(a);
    const float *er = st, *orow = st + w + 1, *ec = orow + w, *oc = ec + h + 1;
    for (int Y = 0; Y < h; Y++) {
        t[(size_t)(4 * Y) * ts + 1 + w] = ec[Y];
        t[(size_t)(4 * Y + 2) * ts + 1 + w] = oc[Y];
    }
    float *te = t + (size_t)(4 * h) * ts + 1;
    memcpy(te, er, (size_t)(w + 1) * sizeof(float));
    memcpy(te + ts, orow, (size_t)w * sizeof(float));
}

/* Inside a parallel region: every sample's strips into S (nothing where S is NULL); SB: the threads' B buffers. */
static void up_strips_all(const pcavs_wino_up_conv *a, float *S, float *SB, int tid) {
    if (!S) return;
    const size_t sbf = up_strips_b_floats(a);
#pragma omp for schedule(static)
    for (int bp = 0; bp < 2 * a->n; bp++) up_strips_compute(a, bp / 2, bp % 2, S, SB + (size_t)tid * sbf);
}

/* output plane (b, o) of y: the blur of its T plane times the plane's out_scale, then the tail */
static void up_blur_out(const pcavs_wino_up_conv *a, const float *S, float *T, int b, int o, float *rowbuf) {
    if (S) up_strips_fill(a, S, b, o, T);
    const float sc = a->out_scale ? a->out_scale[(size_t)b * a->c_out + o] : 1.0f;
    const size_t plane = (size_t)4 * a->h * a->w;
    const pcavs_up_tail *tl = &a->tail;
    pcavs_up_blur_plane(T, a->h, a->w, a->blur, sc, tl->noise ? tl->noise + (size_t)b * plane : NULL, tl->noise_weight,
                        tl->bias ? tl->bias[o] : 0.0f, tl->act, rowbuf, a->y + ((size_t)b * a->c_out + o) * plane);
}

/* The tile-block form (see up_block_form), with kc's scratch of at least up_block_bytes. */
static void up_block_run(const pcavs_wino_up_conv *a, int nth, float *rowbufs, float *S, float *SB, float *work) {
    const size_t tps = (size_t)up_th(a) * up_tw(a), pf = up_plane_floats(a), sb = up_group_samples(a);
    const size_t rb = PCAVS_ALIGN64(up_rowbuf_floats(a) * sizeof(float)) / sizeof(float),
                 per = up_block_thread_floats(a);
    const int rows = up_block_rows(a);
    float *Tb = work + (size_t)nth * per; /* [sb, c_out, plane] */
#pragma omp parallel num_threads(nth)
    {
        const int tid = omp_get_thread_num();
        float *rowbuf = rowbufs + (size_t)tid * rb, *Vb = work + (size_t)tid * per;
        up_strips_all(a, S, SB, tid);
        float *Mb = Vb + PCAVS_ALIGN64((size_t)UP_BLOCKS * a->c_in * UP_BLOCK_TILES * sizeof(float)) / sizeof(float);
        for (int g0 = 0; g0 < a->n; g0 += (int)sb) {
            const int gb = a->n - g0 < (int)sb ? a->n - g0 : (int)sb;
            const size_t base = (size_t)g0 * tps, tiles = (size_t)gb * tps;
            size_t bt; /* tiles a block */
            const long blocks = wino_even_blocks(tiles, nth, UP_BLOCK_TILES, &bt);
#pragma omp for schedule(dynamic, 1)
            for (long bi = 0; bi < blocks; bi++) {
                const size_t t0 = (size_t)bi * bt;
                if (t0 >= tiles) continue;
                const size_t nb = tiles - t0 < bt ? tiles - t0 : bt;
                for (int c = 0; c < a->c_in; c++) up_input(a, c, base + t0, nb, rowbuf, Vb);
                for (int o0 = 0; o0 < a->c_out; o0 += rows) {
                    const int ro = a->c_out - o0 < rows ? a->c_out - o0 : rows;
                    for (int g = 0; g < PCAVS_WINO_UP_MATS; g++) {
                        const int m = up_mult(g), f = up_blk0(g), ld = (int)(m * nb);
                        pcavs_sgemm_nn(ro, ld, a->c_in, a->u + ((size_t)g * a->c_out + o0) * a->c_in, a->c_in,
                                       Vb + (size_t)f * a->c_in * nb, ld, Mb + (size_t)f * ro * nb, ld);
                    }
                    for (int o = 0; o < ro; o++)
                        up_output_channel(a, o0 + o, o, ro, base + t0, nb, nb, Mb, Tb, (size_t)a->c_out * pf, pf, g0);
                }
            }
#pragma omp for schedule(static)
            for (long bo = 0; bo < (long)gb * a->c_out; bo++)
                up_blur_out(a, S, Tb + (size_t)bo * pf, g0 + (int)(bo / a->c_out), (int)(bo % a->c_out), rowbuf);
        }
    }
}

/* The fused and T-plane forms (the file's top comment); sp: the scratch past the row buffers and strips. */
static void up_chunked_run(const pcavs_wino_up_conv *a, int nth, size_t scratch_bytes, float *rowbufs, float *S,
                           float *SB, char *sp) {
    const size_t tps = (size_t)up_th(a) * up_tw(a), per_tile = up_per_tile(a), t_samp = up_sample_t_bytes(a);
    const size_t avail = scratch_bytes - up_fixed(a, nth);
    const size_t pf = up_plane_floats(a), rb = PCAVS_ALIGN64(up_rowbuf_floats(a) * sizeof(float)) / sizeof(float);
    const int by_rows = !strcmp(pcavs_sgemm_nn_form(), "blas");

    /* Fused form where whole samples fit (a chunk per group of fsb samples, the output plane blurred at once from its
     * thread's T plane, in L2); else sample groups with as many T planes as the budget and the scratch allow
     * (leaving a lane group of tiles), their tiles in chunks capped, then balanced, and the blur after each group. */
    const size_t fsb = up_fused_samples(a, nth, avail);
    const int fused = fsb > 0;
    size_t sb = fsb, nt = fsb * tps;
    if (!fused) {
        sb = up_group_samples(a);
        while (sb > 1 && sb * t_samp + WINO_LANES * per_tile > avail) sb--;
        size_t cap = PCAVS_WINO_UP_MAX_CHUNK / per_tile;
        nt = (avail - sb * t_samp) / per_tile;
        if (cap < WINO_LANES) cap = WINO_LANES;
        if (nt > cap) nt = cap;
        if (nt > sb * tps) nt = sb * tps;
        const size_t chunks = (sb * tps + nt - 1) / nt, even = (sb * tps + chunks - 1) / chunks;
        const size_t rounded = (even + WINO_LANES - 1) / WINO_LANES * WINO_LANES;
        nt = rounded <= nt ? rounded : even;
    }
    /* carve (past the row buffers and strips): T [nth, plane] (fused) or [sb, c_out, plane] | V [81, c_in, nt] |
     * M [81, c_out, nt] (+ a lane group) */
    float *Tb = (float *)sp;
    sp += fused ? (size_t)nth * pf * sizeof(float) : sb * t_samp;
    float *V = (float *)sp;
    sp += PCAVS_ALIGN64((size_t)UP_BLOCKS * a->c_in * nt * sizeof(float));
    float *M = (float *)sp;
#pragma omp parallel num_threads(nth)
    {
        const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
        float *rowbuf = rowbufs + (size_t)tid * rb, *Tt = Tb + (size_t)tid * pf; /* Tt: this thread's (fused) */
        up_strips_all(a, S, SB, tid);
        for (int g0 = 0; g0 < a->n; g0 += (int)sb) {
            const int gb = a->n - g0 < (int)sb ? a->n - g0 : (int)sb;
            const size_t base = (size_t)g0 * tps, tiles = (size_t)gb * tps;
            for (size_t t0 = 0; t0 < tiles; t0 += nt) { /* fused: one chunk, t0 = 0 */
                const size_t nh = tiles - t0 < nt ? tiles - t0 : nt;
#pragma omp for schedule(static)
                for (int c = 0; c < a->c_in; c++) up_input(a, c, base + t0, nh, rowbuf, V);
                up_gemms(a, nh, V, M, tid, nthr, by_rows);
#pragma omp barrier
                if (fused) {
#pragma omp for schedule(static)
                    for (long bo = 0; bo < (long)gb * a->c_out; bo++) {
                        const int bl = (int)(bo / a->c_out), o = (int)(bo % a->c_out), b = g0 + bl;
                        up_output_channel(a, o, o, a->c_out, (size_t)b * tps, tps, nh, M + (size_t)bl * tps, Tt, 0, 0,
                                          b);
                        up_blur_out(a, S, Tt, b, o, rowbuf);
                    }
                } else {
#pragma omp for schedule(static)
                    for (int o = 0; o < a->c_out; o++)
                        up_output_channel(a, o, o, a->c_out, base + t0, nh, nh, M, Tb, (size_t)a->c_out * pf, pf, g0);
                }
            }
            if (!fused) {
#pragma omp for schedule(static)
                for (long bo = 0; bo < (long)gb * a->c_out; bo++)
                    up_blur_out(a, S, Tb + (size_t)bo * pf, g0 + (int)(bo / a->c_out), (int)(bo % a->c_out), rowbuf);
            }
        }
    }
}

pcavs_status pcavs_wino_up_run(const pcavs_kctx *kc, const pcavs_wino_up_conv *a) {
    if (!kc || !a || !a->x || !a->u || !a->y || !a->blur)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_up_run: NULL pointer");
    if (a->n < 1 || a->c_in < 1 || a->c_out < 1 || a->h < 1 || a->w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_up_run: bad sizes n=%d c_in=%d c_out=%d %dx%d", a->n, a->c_in,
                          a->c_out, a->h, a->w);
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    const size_t need = pcavs_wino_up_min_scratch_bytes(a, nth);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "wino_up_run: [n=%d, %d->%d, %dx%d] needs at least %zu bytes of scratch, %zu available", a->n,
                          a->c_in, a->c_out, a->h, a->w, need, kc->scratch_bytes);
    /* carve: row buffers | edge strips S and their GEMMs' B per thread (up_strips) | the form's own */
    const size_t rb = PCAVS_ALIGN64(up_rowbuf_floats(a) * sizeof(float)) / sizeof(float);
    float *rowbufs = (float *)kc->scratch, *S = NULL, *SB = NULL;
    char *sp = (char *)kc->scratch + (size_t)nth * rb * sizeof(float);
    if (up_strips(a)) {
        S = (float *)sp;
        SB = (float *)(sp + up_strips_s_bytes(a));
        sp += up_strips_bytes(a, nth);
    }
    const int blas_threads = pcavs_blas_single_threaded(); /* the GEMMs run single-threaded inside our region */
    if (pcavs_wino_up_uses_blocks(a, kc->scratch_bytes, nth))
        up_block_run(a, nth, rowbufs, S, SB, (float *)sp);
    else
        up_chunked_run(a, nth, kc->scratch_bytes, rowbufs, S, SB, sp);
    pcavs_blas_threads_restore(blas_threads);
    return PCAVS_OK;
}
