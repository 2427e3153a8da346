/* net_g.c: G, the StyleGAN2 generator (rosinality port, upstream StyleGAN2Generator.forward
 * in models/networks/generator.py, with input_is_latent=True and identity_style = id_map),
 * plus the style assembly of AvModel.generate_fake / merge_mouthpose:
 *   style s [b, 2560] = cat(id_feature, mouth_embed(a), headpose_embed(h))  (both embeds start
 *   with a ReLU); the same s feeds every layer's modulation (EqualLinear, scale 1/sqrt(2560)
 *   folded into the weights at load), split into its identity columns (with the bias: kept per
 *   identity across calls) and its pose columns (per frame).
 *   x = id_map [512, 7, 7] -> conv1 (StyledConv) -> to_rgb1 -> for 14 .. 224: upsampling
 *   StyledConv (conv_transpose + Blur), StyledConv, ToRGB (+ upsampled skip) -> tanh.
 * StyledConv = modconv (demodulated) -> + noise.weight * noise -> fused leaky ReLU (bias,
 * 0.2, *sqrt 2), the tail in the same modconv call (modconv.h act_*); a ToRGB may come out of
 * the StyledConv before it (rgb_*). The modconv op's _cpu/_cuda forms are the batched ones (input
 * scaled by the style, one shared-weight convolution for the whole batch, output scaled by demod);
 * where the backend asks for it (per_sample_large_maps: the CPU) the 112 -> 224 step runs sample by sample
 * (g_step). Each layer's weight forms are the backend's (pn_prepare_modconv); this file never names one.
 * Stages: G.style, G.feat7, G.skip7, G.feat14, G.skip14, ..., G.feat224, G.skip224, G.frames. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pn_internal.h"

#define G_LAYERS 11    /* noise inputs: conv1 + 10 convs */
#define G_MODULATED 17 /* modulated layers: conv1, to_rgb1, 10 convs, 5 to_rgbs */

static int g_noise_side(int l) { return 7 << ((l + 1) / 2); }

static size_t g_noise_offset(int l) { /* floats before layer l in a per-frame noise vector */
    size_t off = 0;
    for (int i = 0; i < l; i++) off += (size_t)g_noise_side(i) * g_noise_side(i);
    return off;
}

/* The layer's descriptor at batch 1 on its side x side input: what the backend prepares its weight forms for. */
static pcavs_modconv_desc g_layer_desc(const pn_modconv *mc, int side) {
    return (pcavs_modconv_desc){.n = 1,
                                .c_in = mc->c_in,
                                .h = side,
                                .w = side,
                                .c_out = mc->c_out,
                                .k = mc->k,
                                .demodulate = mc->demodulate,
                                .upsample = mc->upsample};
}

/* The modulation EqualLinear (2560 -> c_in) as its identity columns (with the bias) and its pose columns, the
 * weight times 1/sqrt(2560) in float32 as upstream's `self.weight * self.scale`; id_part zeroed. */
static pcavs_status load_modulation(pn_loader *L, pn_modconv *mc, const char *name, int c_in) {
    char buf[224];
    const float *w, *b;
    int64_t ws[2] = {c_in, PCAVS_STYLE_DIM}, bs[1] = {c_in};
    snprintf(buf, sizeof buf, "%s.weight", name);
    PCAVS_TRY(pn_get(L, buf, 2, ws, &w));
    snprintf(buf, sizeof buf, "%s.bias", name);
    PCAVS_TRY(pn_get(L, buf, 1, bs, &b));
    const int pose_dim = PCAVS_STYLE_DIM - PCAVS_ID_DIM;
    const float scale = (float)(1.0 / sqrt((double)PCAVS_STYLE_DIM));
    float *wi = malloc((size_t)c_in * PCAVS_STYLE_DIM * sizeof(float)); /* [c_in, 2048] then [c_in, 512] */
    if (!wi) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate the modulation %s", name);
    float *wp = wi + (size_t)c_in * PCAVS_ID_DIM;
    for (int o = 0; o < c_in; o++)
        for (int i = 0; i < PCAVS_STYLE_DIM; i++) {
            const float v = w[(size_t)o * PCAVS_STYLE_DIM + i] * scale;
            if (i < PCAVS_ID_DIM)
                wi[(size_t)o * PCAVS_ID_DIM + i] = v;
            else
                wp[(size_t)o * pose_dim + i - PCAVS_ID_DIM] = v;
        }
    mc->mod_id = (pn_linear){.in = PCAVS_ID_DIM, .out = c_in};
    mc->mod_pose = (pn_linear){.in = pose_dim, .out = c_in};
    pcavs_status st = pn_upload_weight(L, wi, (size_t)c_in * PCAVS_ID_DIM, &mc->mod_id.w);
    if (st == PCAVS_OK) st = pn_upload_weight(L, wp, (size_t)c_in * pose_dim, &mc->mod_pose.w);
    if (st == PCAVS_OK) st = pn_upload_weight(L, b, (size_t)c_in, &mc->mod_id.b);
    if (st == PCAVS_OK) { /* the cache: any contents (id_valid 0 until it is filled) */
        const float *part = NULL;
        st = pn_upload_weight(L, b, (size_t)c_in, &part);
        mc->id_part = (float *)part;
    }
    free(wi);
    return st;
}

static pcavs_status load_modconv(pn_loader *L, pn_modconv *mc, const char *name, int c_in, int c_out, int k,
                                 int upsample, int demodulate, int is_rgb, int side) {
    char buf[160];
    const float *w, *p;
    int64_t ws[5] = {1, c_out, c_in, k, k};
    snprintf(buf, sizeof buf, "%s.conv.weight", name);
    PCAVS_TRY(pn_get(L, buf, 5, ws, &w));
    PCAVS_TRY(pn_upload_weight(L, w, (size_t)c_out * c_in * k * k, &mc->w));
    snprintf(buf, sizeof buf, "%s.conv.modulation", name);
    PCAVS_TRY(load_modulation(L, mc, buf, c_in));
    int64_t bs[4] = {1, c_out, 1, 1};
    snprintf(buf, sizeof buf, is_rgb ? "%s.bias" : "%s.activate.bias", name);
    PCAVS_TRY(pn_get(L, buf, 4, bs, &p));
    PCAVS_TRY(pn_upload_weight(L, p, (size_t)c_out, &mc->bias));
    mc->blur = NULL;
    int64_t ks[2] = {4, 4};
    if (upsample) {
        snprintf(buf, sizeof buf, "%s.conv.blur.kernel", name);
        PCAVS_TRY(pn_get(L, buf, 2, ks, &p));
        PCAVS_TRY(pn_upload_weight(L, p, 16, &mc->blur));
    } else if (is_rgb && strcmp(name, "to_rgb1") != 0) {
        snprintf(buf, sizeof buf, "%s.upsample.kernel", name);
        PCAVS_TRY(pn_get(L, buf, 2, ks, &p));
        PCAVS_TRY(pn_upload_weight(L, p, 16, &mc->blur));
    }
    mc->noise_weight = 0.0f;
    if (!is_rgb) {
        int64_t ns[1] = {1};
        snprintf(buf, sizeof buf, "%s.noise.weight", name);
        PCAVS_TRY(pn_get(L, buf, 1, ns, &p));
        mc->noise_weight = p[0];
    }
    mc->c_in = c_in;
    mc->c_out = c_out;
    mc->k = k;
    mc->upsample = upsample;
    mc->demodulate = demodulate;
    /* the backend's own forms of the weight (e.g. the CPU's Winograd, tap-GEMM, bf16 and squared-sum forms) */
    const pcavs_modconv_desc d1 = g_layer_desc(mc, side);
    return pn_prepare_modconv(L, &d1, w, pcavs_exec_precision(L->m->ex), &mc->prep);
}

static const int g_ch[6] = {512, 512, 512, 512, 256, 128}; /* 7, 14, 28, 56, 112, 224 */

pcavs_status pn_load_g(pn_loader *L) {
    pn_g *g = &L->m->g;
    char n[64];
    PCAVS_TRY(load_modconv(L, &g->conv1, "conv1", 512, 512, 3, 0, 1, 0, 7));
    PCAVS_TRY(load_modconv(L, &g->to_rgb1, "to_rgb1", 512, 3, 1, 0, 0, 1, 7));
    for (int i = 0; i < 5; i++) {
        int cin = g_ch[i], cout = g_ch[i + 1];
        snprintf(n, sizeof n, "convs.%d", 2 * i);
        PCAVS_TRY(load_modconv(L, &g->convs[2 * i], n, cin, cout, 3, 1, 1, 0, 7 << i));
        snprintf(n, sizeof n, "convs.%d", 2 * i + 1);
        PCAVS_TRY(load_modconv(L, &g->convs[2 * i + 1], n, cout, cout, 3, 0, 1, 0, 14 << i));
        snprintf(n, sizeof n, "to_rgbs.%d", i);
        PCAVS_TRY(load_modconv(L, &g->to_rgbs[i], n, cout, 3, 1, 0, 0, 1, 14 << i));
    }
    size_t total = g_noise_offset(G_LAYERS);
    L->m->host_noise_fixed = malloc(total * sizeof(float));
    if (!L->m->host_noise_fixed) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate the fixed noise");
    for (int l = 0; l < G_LAYERS; l++) {
        int s = g_noise_side(l);
        int64_t shp[4] = {1, 1, s, s};
        const float *p;
        snprintf(n, sizeof n, "noises.noise_%d", l);
        PCAVS_TRY(pn_get(L, n, 4, shp, &p));
        memcpy(L->m->host_noise_fixed + g_noise_offset(l), p, (size_t)s * s * sizeof(float));
    }
    return PCAVS_OK;
}

/* ---- deterministic N(0, 1): splitmix64 keyed by (seed, frame, layer), Box-Muller ---- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_normal(float *x, size_t n, uint64_t seed, int64_t frame, int layer) {
    uint64_t s = seed ^ 0x5043415653ull; /* "PCAVS" */
    s = splitmix64(&s) ^ (uint64_t)frame * 0xD1B54A32D192ED03ull;
    s = splitmix64(&s) ^ (uint64_t)(layer + 1) * 0x8CB92BA72F3D8DD7ull;
    for (size_t i = 0; i < n; i += 2) {
        /* 53-bit uniforms in (0, 1] and [0, 1) */
        double u1 = ((splitmix64(&s) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
        double u2 = (splitmix64(&s) >> 11) * (1.0 / 9007199254740992.0);
        double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
        x[i] = (float)(r * cos(t));
        if (i + 1 < n) x[i + 1] = (float)(r * sin(t));
    }
}

/* ---- forward ---- */

typedef struct g_args {
    int b, h_rows;
    const float *id_feature; /* host [2048] */
    const float *id_map;     /* host [512, 7, 7] */
    const float *h;          /* host [h_rows, 512] */
    const float *a;          /* host [b, 512] */
    const float *noise;      /* host [G_LAYERS blocks of [b, side*side]] or NULL */
    float *frames;           /* host [b, 3, 224, 224] */
} g_args;

/* The ToRGB that may read a StyledConv's output as it is stored (modconv.h's rgb_*; the CPU's plain Winograd
 * tile-block form: G's 112x112 and 224x224 layers, whose ToRGB otherwise rereads 13-26 MB a frame). */
typedef struct g_rgb_side {
    const pn_modconv *rgb; /* the ToRGB layer */
    const float *style;    /* [b, c_in] its modulation */
    float *out;            /* [b, 3, h, h] */
    int done;
} g_rgb_side;

/* StyledConv: y = fused_lrelu(modconv(x) + noise), one modconv call with its tail (modconv.h's act_*), and the next
 * ToRGB's sums as a side output where `side` is given and the form can (side->done says whether it did). */
static pcavs_status styled_conv(pn_ctx *c, const pn_modconv *mc, int b, int h, const float *x, const float *style,
                                const float *noise, float *y, g_rgb_side *side) {
    pcavs_modconv_desc d = {.n = b,
                            .c_in = mc->c_in,
                            .h = h,
                            .w = h,
                            .c_out = mc->c_out,
                            .k = mc->k,
                            .demodulate = mc->demodulate,
                            .upsample = mc->upsample,
                            .prepared = mc->prep,
                            /* the noise and the leaky ReLU in the op (the CPU's Winograd paths as they store y) */
                            .act_lrelu = 1,
                            .act_bias = mc->bias,
                            .act_noise = noise,
                            .act_noise_weight = mc->noise_weight};
    if (side) {
        side->done = 0;
        d.rgb_weight = side->rgb->w, d.rgb_style = side->style, d.rgb_out = side->out, d.rgb_done = &side->done;
    }
    PN_K(c, c->be->modconv(c->kc, &d, x, mc->w, style, mc->blur, y));
    return PCAVS_OK;
}

/* ToRGB: skip_out [b, 3, h, h] = modconv(x) + bias (+ Upsample(skip_in) when skip_in); the modconv already in
 * skip_out where `done` (the side output of the StyledConv before). */
static pcavs_status to_rgb(pn_ctx *c, const pn_modconv *mc, int b, int h, const float *x, const float *style,
                           const float *skip_in, float *tmp, float *skip_out, int done) {
    pcavs_modconv_desc d = {
        .n = b, .c_in = mc->c_in, .h = h, .w = h, .c_out = 3, .k = 1, .demodulate = 0, .upsample = 0};
    int os[4] = {b, 3, h, h}, bs[4] = {1, 3, 1, 1};
    if (!skip_in) {
        PN_K(c, c->be->modconv(c->kc, &d, x, mc->w, style, NULL, tmp));
        PN_K(c, c->be->add(c->kc, os, tmp, bs, mc->bias, PCAVS_ACT_NONE, skip_out));
        return PCAVS_OK;
    }
    if (!done) PN_K(c, c->be->modconv(c->kc, &d, x, mc->w, style, NULL, skip_out));
    PN_K(c, c->be->add(c->kc, os, skip_out, bs, mc->bias, PCAVS_ACT_NONE, skip_out));
    pcavs_upfirdn2d_desc u = {.planes = b * 3,
                              .h = h / 2,
                              .w = h / 2,
                              .up = 2,
                              .down = 1,
                              .pad_x0 = 2,
                              .pad_x1 = 1,
                              .pad_y0 = 2,
                              .pad_y1 = 1,
                              .kh = 4,
                              .kw = 4};
    PN_K(c, c->be->upfirdn2d(c->kc, &u, skip_in, mc->blur, tmp));
    PN_K(c, c->be->add(c->kc, os, skip_out, os, tmp, PCAVS_ACT_NONE, skip_out));
    return PCAVS_OK;
}

/* Every layer's id_part = mod_id(id_feature) (id_dev: the identity on the device), unless the cache holds this
 * identity already (the frames of one video share it). The cache is marked valid only once all are written. */
static pcavs_status g_identity_parts(pn_ctx *c, const pn_modconv *const layers[G_MODULATED], const float *id_dev,
                                     const float *id_host) {
    pn_g *g = &c->m->g;
    if (c->measure) return PCAVS_OK; /* the arena's sizing pass runs no kernel */
    if (g->id_valid && memcmp(g->id_key, id_host, sizeof g->id_key) == 0) return PCAVS_OK;
    g->id_valid = 0;
    for (int l = 0; l < G_MODULATED; l++) {
        const pn_linear *mi = &layers[l]->mod_id;
        PN_K(c, c->be->linear(c->kc, 1, mi->in, mi->out, id_dev, mi->w, mi->b, PCAVS_ACT_NONE, layers[l]->id_part));
    }
    memcpy(g->id_key, id_host, sizeof g->id_key);
    g->id_valid = 1;
    return PCAVS_OK;
}

/* One resolution step's buffers for the whole batch of b (h: the step's input side; c_in, c_out its channels):
 * x [b, c_in, h, h] -> mid [b, c_out, 2h, 2h] -> out [b, c_out, 2h, 2h] (out may be x's buffer: x is read only by
 * the first layer); skip [b, 3, h, h] -> skip_next [b, 3, 2h, 2h]; tmp [b, 3, 2h, 2h]; the two layers' noise
 * [b, 2h * 2h] or NULL. */
typedef struct g_step_io {
    float *x, *mid, *out, *skip, *skip_next, *tmp;
    const float *noise_up, *noise;
} g_step_io;

/* Resolution step i (upsampling StyledConv, StyledConv, ToRGB with the upsampled skip) for samples [s0, s0 + n). */
static pcavs_status g_step(pn_ctx *c, int i, int s0, int n, int h, const g_step_io *io, float *const *style_conv,
                           float *const *style_rgb) {
    const pn_g *g = &c->m->g;
    const pn_modconv *up = &g->convs[2 * i], *conv = &g->convs[2 * i + 1], *rgb = &g->to_rgbs[i];
    const size_t hw = (size_t)h * h, hw2 = 4 * hw;
    const float *x = io->x + (size_t)s0 * up->c_in * hw;
    float *mid = io->mid + (size_t)s0 * up->c_out * hw2, *out = io->out + (size_t)s0 * conv->c_out * hw2;
    float *skip_next = io->skip_next + (size_t)s0 * 3 * hw2;
    g_rgb_side side = {.rgb = rgb, .style = style_rgb[i] + (size_t)s0 * rgb->c_in, .out = skip_next};
    PCAVS_TRY(styled_conv(c, up, n, h, x, style_conv[2 * i] + (size_t)s0 * up->c_in,
                          io->noise_up ? io->noise_up + (size_t)s0 * hw2 : NULL, mid, NULL));
    PCAVS_TRY(styled_conv(c, conv, n, 2 * h, mid, style_conv[2 * i + 1] + (size_t)s0 * conv->c_in,
                          io->noise ? io->noise + (size_t)s0 * hw2 : NULL, out, &side));
    return to_rgb(c, rgb, n, 2 * h, out, style_rgb[i] + (size_t)s0 * rgb->c_in, io->skip + (size_t)s0 * 3 * hw,
                  io->tmp + (size_t)s0 * 3 * hw2, skip_next, side.done);
}

static pcavs_status g_body(pn_ctx *c, void *vargs) {
    g_args *A = vargs;
    const pn_g *g = &c->m->g;
    const pn_e *e = &c->m->e;
    int b = A->b;
    const size_t map_n = 512 * 7 * 7, frame_n = 3 * 224 * 224;
    float *id_rep, *mel, *hp, *mouth, *pose12, *s; /* [b,2048] [b,512] [b,512] [b,500] [b,12] [b,2560] */
    PN_ALLOC(c, id_rep, (size_t)b * PCAVS_ID_DIM);
    PN_ALLOC(c, mel, (size_t)b * 512);
    PN_ALLOC(c, hp, (size_t)b * 512);
    PN_ALLOC(c, mouth, (size_t)b * 500);
    PN_ALLOC(c, pose12, (size_t)b * 12);
    PN_ALLOC(c, s, (size_t)b * PCAVS_STYLE_DIM);
    float *pose_in; /* [b, 512]: the style's pose part (mouth, pose) */
    PN_ALLOC(c, pose_in, (size_t)b * (PCAVS_STYLE_DIM - PCAVS_ID_DIM));
    float *styles[12]; /* [b, c_in] per layer: conv1, to_rgb1, convs.0..9, to_rgbs.0..4 below */
    float *style_rgb[5];
    PN_ALLOC(c, styles[0], (size_t)b * g->conv1.c_in);
    PN_ALLOC(c, styles[1], (size_t)b * g->to_rgb1.c_in);
    float *style_conv[10];
    for (int i = 0; i < 10; i++) PN_ALLOC(c, style_conv[i], (size_t)b * g->convs[i].c_in);
    for (int i = 0; i < 5; i++) PN_ALLOC(c, style_rgb[i], (size_t)b * g->to_rgbs[i].c_in);
    size_t per_frame_noise = g_noise_offset(G_LAYERS);
    float *noise_buf; /* [layer blocks of [b, side^2]]: always planned, so the noise mode may change */
    PN_ALLOC(c, noise_buf, (size_t)b * per_frame_noise);
    float *noise = A->noise ? noise_buf : NULL;
    size_t slot = (size_t)b * 128 * 224 * 224; /* largest feature map: 128 x 224 x 224 = 256 x 112 x 112 */
    float *f0, *f1, *sk0, *sk1, *tmp;
    PN_ALLOC(c, f0, slot);
    PN_ALLOC(c, f1, slot);
    PN_ALLOC(c, sk0, (size_t)b * frame_n);
    PN_ALLOC(c, sk1, (size_t)b * frame_n);
    PN_ALLOC(c, tmp, (size_t)b * frame_n);

    /* inputs: identity repeated over the batch (encode_identity_feature's repeat), poses */
    for (int i = 0; i < b; i++) {
        PCAVS_TRY(pn_upload(c, id_rep + (size_t)i * PCAVS_ID_DIM, A->id_feature, PCAVS_ID_DIM));
        PCAVS_TRY(pn_upload(c, f0 + (size_t)i * map_n, A->id_map, map_n));
        PCAVS_TRY(pn_upload(c, hp + (size_t)i * 512, A->h + (A->h_rows == 1 ? 0 : (size_t)i * 512), 512));
    }
    PCAVS_TRY(pn_upload(c, mel, A->a, (size_t)b * 512));
    if (noise) PCAVS_TRY(pn_upload(c, noise, A->noise, (size_t)b * per_frame_noise));

    /* style = cat(id_feature, pose_in), pose_in = cat(mouth_embed(a), headpose_embed(h)) (the modulations read pose_in)
     */
    PN_K(c, c->be->relu(c->kc, (size_t)b * 512, mel, mel));
    PCAVS_TRY(pn_linear_run(c, &e->mouth_embed, b, mel, mouth, PCAVS_ACT_NONE));
    PN_K(c, c->be->relu(c->kc, (size_t)b * 512, hp, hp));
    PCAVS_TRY(pn_linear_run(c, &e->headpose_embed, b, hp, pose12, PCAVS_ACT_NONE));
    const float *pose_parts[2] = {mouth, pose12}, *parts[2] = {id_rep, pose_in};
    int pose_ch[2] = {500, 12}, pch[2] = {PCAVS_ID_DIM, PCAVS_STYLE_DIM - PCAVS_ID_DIM};
    PN_K(c, c->be->concat(c->kc, b, 2, pose_parts, pose_ch, 1, pose_in));
    PN_K(c, c->be->concat(c->kc, b, 2, parts, pch, 1, s));
    int64_t ss[2] = {b, PCAVS_STYLE_DIM};
    PCAVS_TRY(pn_stage(c, "G.style", s, 2, ss));

    /* every layer's modulation from the same latent: its identity part (cached per identity) as the bias of its
     * pose part */
    const pn_modconv *layers[G_MODULATED] = {&g->conv1, &g->to_rgb1};
    float *layer_style[G_MODULATED] = {styles[0], styles[1]};
    for (int i = 0; i < 10; i++) layers[2 + i] = &g->convs[i], layer_style[2 + i] = style_conv[i];
    for (int i = 0; i < 5; i++) layers[12 + i] = &g->to_rgbs[i], layer_style[12 + i] = style_rgb[i];
    PCAVS_TRY(g_identity_parts(c, layers, id_rep, A->id_feature));
    for (int l = 0; l < G_MODULATED; l++) {
        const pn_linear *mp = &layers[l]->mod_pose;
        PN_K(c, c->be->linear(c->kc, b, mp->in, mp->out, pose_in, mp->w, layers[l]->id_part, PCAVS_ACT_NONE,
                              layer_style[l]));
    }

#define NOISE(l) (noise ? noise + (size_t)b * g_noise_offset(l) : NULL)
    char name[32];
    int h = 7;
    PCAVS_TRY(styled_conv(c, &g->conv1, b, h, f0, styles[0], NOISE(0), f1, NULL));
    PCAVS_TRY(pn_stage4(c, "G.feat7", f1, b, g->conv1.c_out, h, h));
    PCAVS_TRY(to_rgb(c, &g->to_rgb1, b, h, f1, styles[1], NULL, tmp, sk0, 0));
    PCAVS_TRY(pn_stage4(c, "G.skip7", sk0, b, 3, h, h));
    float *skip = sk0, *skip_next = sk1;
    for (int i = 0; i < 5; i++) {
        /* the last step (112 -> 224) sample by sample where the backend asks for it (a CPU: each sample's 26 MB maps
         * then pass from one layer to the next through the 32 MB L3 as at batch 1; a batch's go through DRAM); the
         * earlier steps batched, where sharing each weight read across the batch is what counts */
        const int per_sample = i == 4 && b > 1 && c->be->per_sample_large_maps;
        /* sample by sample the last first: out (f1) overwrites x (f1) of samples >= s0 / 2 only (its per-sample
         * stride, 128 x 224 x 224, is 2x x's, 256 x 112 x 112), which are done by then */
        const g_step_io io = {.x = f1,
                              .mid = f0,
                              .out = f1,
                              .skip = skip,
                              .skip_next = skip_next,
                              .tmp = tmp,
                              .noise_up = NOISE(2 * i + 1),
                              .noise = NOISE(2 * i + 2)};
        for (int k = 0; k < (per_sample ? b : 1); k++)
            PCAVS_TRY(g_step(c, i, per_sample ? b - 1 - k : 0, per_sample ? 1 : b, h, &io, style_conv, style_rgb));
        h *= 2;
        snprintf(name, sizeof name, "G.feat%d", h);
        PCAVS_TRY(pn_stage4(c, name, f1, b, g->convs[2 * i + 1].c_out, h, h));
        snprintf(name, sizeof name, "G.skip%d", h);
        PCAVS_TRY(pn_stage4(c, name, skip_next, b, 3, h, h));
        float *t = skip;
        skip = skip_next;
        skip_next = t;
    }
#undef NOISE
    PN_K(c, c->be->tanh_(c->kc, (size_t)b * frame_n, skip, tmp));
    PCAVS_TRY(pn_stage4(c, "G.frames", tmp, b, 3, 224, 224));
    return pn_download(c, A->frames, tmp, (size_t)b * frame_n);
}

pcavs_status pcavs_generate(pcavs_model *m, int b, const float *id_feature, const float *id_map, int h_rows,
                            const float *h, const float *a, const pcavs_noise_params *noise, float *frames) {
    if (!m || !id_feature || !id_map || !h || !a || !frames)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate: NULL argument");
    if (b < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate: batch must be >= 1 (got %d)", b);
    if (h_rows != 1 && h_rows != b)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate: h_rows must be 1 or the batch %d (got %d)", b,
                          h_rows);
    pcavs_noise_params np = {.mode = PCAVS_NOISE_RANDOM};
    if (noise) np = *noise;
    const float *host_noise = NULL;
    if (np.mode == PCAVS_NOISE_RANDOM || np.mode == PCAVS_NOISE_FIXED) {
        size_t need = (size_t)b * g_noise_offset(G_LAYERS);
        if (need > m->host_noise_cap) {
            float *p = realloc(m->host_noise, need * sizeof(float));
            if (!p) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_generate: cannot allocate the noise of %d frames", b);
            m->host_noise = p;
            m->host_noise_cap = need;
        }
        /* one item per (layer, frame), the largest layers first: each item is its own stream (keyed by seed, frame
         * and layer), so the threads give the numbers one thread would (a serial fill would leave the other
         * threads idle) */
        const int n_items = G_LAYERS * b, nth = m->ex->kc.n_threads > 1 ? m->ex->kc.n_threads : 1;
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (np.mode == PCAVS_NOISE_RANDOM)
        for (int it = 0; it < n_items; it++) {
            const int l = G_LAYERS - 1 - it / b, i = it % b;
            const size_t hw = (size_t)g_noise_side(l) * g_noise_side(l);
            float *blk = m->host_noise + (size_t)b * g_noise_offset(l); /* [b, hw] */
            if (np.mode == PCAVS_NOISE_FIXED)
                memcpy(blk + i * hw, m->host_noise_fixed + g_noise_offset(l), hw * sizeof(float));
            else
                fill_normal(blk + i * hw, hw, np.seed, np.first_frame + i, l);
        }
        host_noise = m->host_noise;
    } else if (np.mode != PCAVS_NOISE_NONE) {
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate: unknown noise mode %d", (int)np.mode);
    }
    g_args A = {b, h_rows, id_feature, id_map, h, a, host_noise, frames};
    return pn_run(m, PN_WS_G, b, g_body, &A);
}
