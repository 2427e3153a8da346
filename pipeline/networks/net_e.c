/* net_e.c: E, the pose/mouth encoder: upstream FAN_use (models/networks/FAN_feature_extractor.py)
 * and the FanEncoder heads used at inference (models/networks/encoder.py): to_headpose
 * (Linear, ReLU, Linear), headpose_embed and mouth_embed (ReLU, Linear; applied in net_g.c).
 *   conv1 7x7/2 (+bn1 folded) ReLU -> ConvBlock(64,128) -> maxpool 2 -> ConvBlock(128,128)
 *   -> ConvBlock(128,256) -> HourGlass(depth 4) -> top_m_0 -> conv_last0 (+bn_end0) ReLU
 *   -> l0 (+bn5) ReLU -> conv6 3x3/2 -> ReLU -> fc 784 -> 512.
 * ConvBlock is pre-activation (BN -> ReLU -> conv): its BNs run as the batchnorm op with ReLU.
 * Stages: E.stem (after conv1+bn1+ReLU), E.hourglass, E.feature, E.headpose. */
#include <stdio.h>

#include "pn_internal.h"

static pcavs_status load_convblock(pn_loader *L, pn_convblock *b, const char *name, int in, int out) {
    char n[160], bn[160];
    snprintf(bn, sizeof bn, "%s.bn1", name);
    PCAVS_TRY(pn_load_bn(L, &b->bn1, bn, in));
    snprintf(n, sizeof n, "%s.conv1", name);
    PCAVS_TRY(pn_load_conv(L, &b->c1, n, 0, NULL, in, out / 2, 3, 1, 1, 1));
    snprintf(bn, sizeof bn, "%s.bn2", name);
    PCAVS_TRY(pn_load_bn(L, &b->bn2, bn, out / 2));
    snprintf(n, sizeof n, "%s.conv2", name);
    PCAVS_TRY(pn_load_conv(L, &b->c2, n, 0, NULL, out / 2, out / 4, 3, 1, 1, 1));
    snprintf(bn, sizeof bn, "%s.bn3", name);
    PCAVS_TRY(pn_load_bn(L, &b->bn3, bn, out / 4));
    snprintf(n, sizeof n, "%s.conv3", name);
    PCAVS_TRY(pn_load_conv(L, &b->c3, n, 0, NULL, out / 4, out / 4, 3, 1, 1, 1));
    b->has_ds = in != out;
    if (b->has_ds) {
        snprintf(bn, sizeof bn, "%s.downsample.0", name);
        PCAVS_TRY(pn_load_bn(L, &b->ds_bn, bn, in));
        snprintf(n, sizeof n, "%s.downsample.2", name);
        PCAVS_TRY(pn_load_conv(L, &b->ds, n, 0, NULL, in, out, 1, 1, 0, 1));
    }
    return PCAVS_OK;
}

pcavs_status pn_load_e(pn_loader *L) {
    pn_e *e = &L->m->e;
    char n[64];
    PCAVS_TRY(pn_load_conv(L, &e->stem, "model.conv1", 1, "model.bn1", 3, 64, 7, 2, 3, 1));
    PCAVS_TRY(load_convblock(L, &e->conv2, "model.conv2", 64, 128));
    PCAVS_TRY(load_convblock(L, &e->conv3, "model.conv3", 128, 128));
    PCAVS_TRY(load_convblock(L, &e->conv4, "model.conv4", 128, 256));
    for (int lv = 4; lv >= 1; lv--) {
        snprintf(n, sizeof n, "model.m0.b1_%d", lv);
        PCAVS_TRY(load_convblock(L, &e->hg_b1[lv], n, 256, 256));
        snprintf(n, sizeof n, "model.m0.b2_%d", lv);
        PCAVS_TRY(load_convblock(L, &e->hg_b2[lv], n, 256, 256));
        snprintf(n, sizeof n, "model.m0.b3_%d", lv);
        PCAVS_TRY(load_convblock(L, &e->hg_b3[lv], n, 256, 256));
    }
    PCAVS_TRY(load_convblock(L, &e->hg_b2_plus1, "model.m0.b2_plus_1", 256, 256));
    PCAVS_TRY(load_convblock(L, &e->top_m, "model.top_m_0", 256, 256));
    PCAVS_TRY(pn_load_conv(L, &e->conv_last, "model.conv_last0", 1, "model.bn_end0", 256, 256, 1, 1, 0, 1));
    PCAVS_TRY(pn_load_conv(L, &e->l0, "model.l0", 1, "model.bn5", 256, 68, 1, 1, 0, 1));
    PCAVS_TRY(pn_load_conv(L, &e->conv6, "model.conv6", 1, NULL, 68, 1, 3, 2, 1, 1));
    PCAVS_TRY(pn_load_linear(L, &e->fc, "model.fc", 784, 512, 1.0f));
    PCAVS_TRY(pn_load_linear(L, &e->to_headpose0, "to_headpose.0", 512, 512, 1.0f));
    PCAVS_TRY(pn_load_linear(L, &e->to_headpose2, "to_headpose.2", 512, 512, 1.0f));
    PCAVS_TRY(pn_load_linear(L, &e->headpose_embed, "headpose_embed.1", 512, 12, 1.0f));
    return pn_load_linear(L, &e->mouth_embed, "mouth_embed.1", 512, 500, 1.0f);
}

/* ConvBlock: y [n, out, h, w] = cat(o1, o2, o3) + residual, o1 = conv1(relu(bn1(x))),
 * o2 = conv2(relu(bn2(o1))), o3 = conv3(relu(bn3(o2))); residual = x or
 * downsample.2(relu(downsample.0(x))). */
static pcavs_status convblock(pn_ctx *c, const pn_convblock *b, int n, int h, int w, const float *x, float *y) {
    size_t mark = pcavs_arena_mark(&c->ar);
    int in = b->bn1.c, c1 = b->c1.c_out, c2 = b->c2.c_out, c3 = b->c3.c_out, hw = h * w;
    float *t, *o1, *o2, *o3; /* [n, max(in, c1), hw], [n, c1, hw], [n, c2, hw], [n, c3, hw] */
    PN_ALLOC(c, t, (size_t)n * (in > c1 ? in : c1) * hw);
    PN_ALLOC(c, o1, (size_t)n * c1 * hw);
    PN_ALLOC(c, o2, (size_t)n * c2 * hw);
    PN_ALLOC(c, o3, (size_t)n * c3 * hw);
    PCAVS_TRY(pn_bn_run(c, &b->bn1, n, hw, x, t, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_conv_run(c, &b->c1, n, h, w, t, o1, PCAVS_ACT_NONE));
    PCAVS_TRY(pn_bn_run(c, &b->bn2, n, hw, o1, t, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_conv_run(c, &b->c2, n, h, w, t, o2, PCAVS_ACT_NONE));
    PCAVS_TRY(pn_bn_run(c, &b->bn3, n, hw, o2, t, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_conv_run(c, &b->c3, n, h, w, t, o3, PCAVS_ACT_NONE));
    const float *xs[3] = {o1, o2, o3};
    int chs[3] = {c1, c2, c3};
    PN_K(c, c->be->concat(c->kc, n, 3, xs, chs, hw, y));
    const float *res = x;
    if (b->has_ds) {
        float *r; /* [n, out, hw]; t still holds >= in channels */
        PN_ALLOC(c, r, (size_t)n * b->ds.c_out * hw);
        PCAVS_TRY(pn_bn_run(c, &b->ds_bn, n, hw, x, t, PCAVS_ACT_RELU));
        PCAVS_TRY(pn_conv_run(c, &b->ds, n, h, w, t, r, PCAVS_ACT_NONE));
        res = r;
    }
    int shp[4] = {n, c1 + c2 + c3, h, w};
    PN_K(c, c->be->add(c->kc, shp, y, shp, res, PCAVS_ACT_NONE, y));
    pcavs_arena_release(&c->ar, mark);
    return PCAVS_OK;
}

/* HourGlass._forward(level, x): y [n, 256, h, w] = b1(x) + bilinear(b3(low), h, w) with
 * low = level > 1 ? hourglass(level-1, b2(maxpool2(x))) : b2_plus_1(b2(maxpool2(x))). */
static pcavs_status hourglass(pn_ctx *c, int level, int n, int h, int w, const float *x, float *y) {
    const pn_e *e = &c->m->e;
    size_t mark = pcavs_arena_mark(&c->ar);
    PCAVS_TRY(convblock(c, &e->hg_b1[level], n, h, w, x, y)); /* up1, kept in y */
    pcavs_maxpool2d_desc mp = {.n = n, .c = 256, .h = h, .w = w, .k = 2, .stride = 2, .pad = 0};
    int lh = pcavs_maxpool2d_out_h(&mp), lw = pcavs_maxpool2d_out_w(&mp);
    size_t low_n = (size_t)n * 256 * lh * lw;
    float *p, *l1, *l2, *up2; /* [n, 256, lh, lw] x3, [n, 256, h, w] */
    PN_ALLOC(c, p, low_n);
    PN_ALLOC(c, l1, low_n);
    PN_ALLOC(c, l2, low_n);
    PN_K(c, c->be->maxpool2d(c->kc, &mp, x, p));
    PCAVS_TRY(convblock(c, &e->hg_b2[level], n, lh, lw, p, l1));
    if (level > 1)
        PCAVS_TRY(hourglass(c, level - 1, n, lh, lw, l1, l2));
    else
        PCAVS_TRY(convblock(c, &e->hg_b2_plus1, n, lh, lw, l1, l2));
    PCAVS_TRY(convblock(c, &e->hg_b3[level], n, lh, lw, l2, p)); /* low3 */
    PN_ALLOC(c, up2, (size_t)n * 256 * h * w);
    PN_K(c, c->be->bilinear(c->kc, n * 256, lh, lw, h, w, p, up2));
    int shp[4] = {n, 256, h, w};
    PN_K(c, c->be->add(c->kc, shp, y, shp, up2, PCAVS_ACT_NONE, y));
    pcavs_arena_release(&c->ar, mark);
    return PCAVS_OK;
}

typedef struct e_args {
    int n;
    const float *frames; /* host [n, 3, 224, 224] */
    float *feature;      /* host [n, 512] or NULL */
    float *headpose;     /* host [n, 512] or NULL */
} e_args;

static pcavs_status e_body(pn_ctx *c, void *vargs) {
    e_args *a = vargs;
    const pn_e *e = &c->m->e;
    int n = a->n, H = PCAVS_IMG;
    size_t slot = (size_t)n * 128 * 112 * 112; /* largest chain activation: ConvBlock(64,128) at 112 */
    float *in, *s0, *s1, *feat;
    PN_ALLOC(c, in, (size_t)n * 3 * H * H);
    PN_ALLOC(c, s0, slot);
    PN_ALLOC(c, s1, slot);
    PN_ALLOC(c, feat, (size_t)n * 512);
    PCAVS_TRY(pn_upload(c, in, a->frames, (size_t)n * 3 * H * H));
    PCAVS_TRY(pn_conv_run(c, &e->stem, n, H, H, in, s0, PCAVS_ACT_RELU)); /* [n, 64, 112, 112] */
    PCAVS_TRY(pn_stage4(c, "E.stem", s0, n, 64, 112, 112));
    PCAVS_TRY(convblock(c, &e->conv2, n, 112, 112, s0, s1)); /* [n, 128, 112, 112] */
    pcavs_maxpool2d_desc mp = {.n = n, .c = 128, .h = 112, .w = 112, .k = 2, .stride = 2, .pad = 0};
    PN_K(c, c->be->maxpool2d(c->kc, &mp, s1, s0));         /* [n, 128, 56, 56] */
    PCAVS_TRY(convblock(c, &e->conv3, n, 56, 56, s0, s1)); /* [n, 128, 56, 56] */
    PCAVS_TRY(convblock(c, &e->conv4, n, 56, 56, s1, s0)); /* [n, 256, 56, 56] */
    PCAVS_TRY(hourglass(c, 4, n, 56, 56, s0, s1));         /* [n, 256, 56, 56] */
    PCAVS_TRY(pn_stage4(c, "E.hourglass", s1, n, 256, 56, 56));
    PCAVS_TRY(convblock(c, &e->top_m, n, 56, 56, s1, s0));
    PCAVS_TRY(pn_conv_run(c, &e->conv_last, n, 56, 56, s0, s1, PCAVS_ACT_RELU)); /* relu(bn_end0(conv_last0)) */
    PCAVS_TRY(pn_conv_run(c, &e->l0, n, 56, 56, s1, s0, PCAVS_ACT_RELU));        /* relu(bn5(l0)) [n, 68, 56, 56] */
    PCAVS_TRY(pn_conv_run(c, &e->conv6, n, 56, 56, s0, s1, PCAVS_ACT_RELU));     /* [n, 1, 28, 28] = [n, 784] */
    PCAVS_TRY(pn_linear_run(c, &e->fc, n, s1, feat, PCAVS_ACT_NONE));
    int64_t fs[2] = {n, 512};
    PCAVS_TRY(pn_stage(c, "E.feature", feat, 2, fs));
    if (a->feature) PCAVS_TRY(pn_download(c, a->feature, feat, (size_t)n * 512));
    if (a->headpose) {
        PCAVS_TRY(pn_linear_run(c, &e->to_headpose0, n, feat, s0, PCAVS_ACT_RELU));
        PCAVS_TRY(pn_linear_run(c, &e->to_headpose2, n, s0, s1, PCAVS_ACT_NONE));
        PCAVS_TRY(pn_stage(c, "E.headpose", s1, 2, fs));
        PCAVS_TRY(pn_download(c, a->headpose, s1, (size_t)n * 512));
    }
    return PCAVS_OK;
}

pcavs_status pcavs_e_forward(pcavs_model *m, int n, const float *frames, float *feature, float *headpose) {
    if (!m || !frames) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_e_forward: NULL argument");
    e_args a = {n, frames, feature, headpose};
    return pn_run(m, PN_WS_E, n, e_body, &a);
}

typedef struct head_args {
    int n;
    const float *feature; /* host [n, 512] */
    float *headpose;      /* host [n, 512] */
} head_args;

static pcavs_status head_body(pn_ctx *c, void *vargs) {
    head_args *a = vargs;
    const pn_e *e = &c->m->e;
    size_t cnt = (size_t)a->n * 512;
    float *x, *t, *y;
    PN_ALLOC(c, x, cnt);
    PN_ALLOC(c, t, cnt);
    PN_ALLOC(c, y, cnt);
    PCAVS_TRY(pn_upload(c, x, a->feature, cnt));
    PCAVS_TRY(pn_linear_run(c, &e->to_headpose0, a->n, x, t, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_linear_run(c, &e->to_headpose2, a->n, t, y, PCAVS_ACT_NONE));
    int64_t fs[2] = {a->n, 512};
    PCAVS_TRY(pn_stage(c, "E.ref_headpose", y, 2, fs));
    return pn_download(c, a->headpose, y, cnt);
}

pcavs_status pcavs_headpose_from_feature(pcavs_model *m, int n, const float *feature, float *headpose) {
    if (!m || !feature || !headpose)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_headpose_from_feature: NULL argument");
    head_args a = {n, feature, headpose};
    return pn_run(m, PN_WS_HEAD, n, head_body, &a);
}
