/* net_v.c: V, the identity encoder: torchvision ResNeXt50-32x4d (Bottleneck [3, 4, 6, 3],
 * groups 32, width_per_group 4) as used by upstream ResNeXt50.forward_feature
 * (models/networks/vision_network.py): stem conv 7x7/2 + BN + ReLU, maxpool 3x3/2 pad 1,
 * layer1..4, then (a) global average pool -> id_feature [2048] and (b) conv1x1 2048->512
 * (bias) + adaptive_avg_pool2d(7, 7) -> id_map [512, 7, 7]. All BN folded into the convs.
 * Stages: V.stem (after maxpool), V.layer1..V.layer4, V.id_feature, V.id_map. */
#include <stdio.h>

#include "pn_internal.h"

static const int v_layers[4] = {3, 4, 6, 3};

pcavs_status pn_load_v(pn_loader *L) {
    pn_v *v = &L->m->v;
    PCAVS_TRY(pn_load_conv(L, &v->stem, "model.conv1", 0, "model.bn1", 3, 64, 7, 2, 3, 1));
    int inplanes = 64, bi = 0;
    char n[128], bn[128];
    for (int l = 0; l < 4; l++) {
        int planes = 64 << l, width = planes * 2, outp = planes * 4; /* int(planes*4/64)*32 = 2*planes */
        for (int j = 0; j < v_layers[l]; j++, bi++) {
            pn_v_block *b = &v->blocks[bi];
            int stride = (j == 0 && l > 0) ? 2 : 1;
            snprintf(n, sizeof n, "model.layer%d.%d.conv1", l + 1, j);
            snprintf(bn, sizeof bn, "model.layer%d.%d.bn1", l + 1, j);
            PCAVS_TRY(pn_load_conv(L, &b->c1, n, 0, bn, inplanes, width, 1, 1, 0, 1));
            snprintf(n, sizeof n, "model.layer%d.%d.conv2", l + 1, j);
            snprintf(bn, sizeof bn, "model.layer%d.%d.bn2", l + 1, j);
            PCAVS_TRY(pn_load_conv(L, &b->c2, n, 0, bn, width, width, 3, stride, 1, 32));
            snprintf(n, sizeof n, "model.layer%d.%d.conv3", l + 1, j);
            snprintf(bn, sizeof bn, "model.layer%d.%d.bn3", l + 1, j);
            PCAVS_TRY(pn_load_conv(L, &b->c3, n, 0, bn, width, outp, 1, 1, 0, 1));
            b->has_ds = (j == 0);
            if (b->has_ds) {
                snprintf(n, sizeof n, "model.layer%d.%d.downsample.0", l + 1, j);
                snprintf(bn, sizeof bn, "model.layer%d.%d.downsample.1", l + 1, j);
                PCAVS_TRY(pn_load_conv(L, &b->ds, n, 0, bn, inplanes, outp, 1, stride, 0, 1));
            }
            inplanes = outp;
        }
    }
    return pn_load_conv(L, &v->conv1x1, "conv1x1", 1, NULL, 2048, 512, 1, 1, 0, 1);
}

/* Bottleneck: y [n, c3.c_out, ho, wo] = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + identity). */
static pcavs_status bottleneck(pn_ctx *c, const pn_v_block *b, int n, int h, int w, const float *x, float *y) {
    size_t mark = pcavs_arena_mark(&c->ar);
    int ho = pn_conv_out(&b->c2, h), wo = pn_conv_out(&b->c2, w);
    float *t1, *t2; /* [n, width, h, w], [n, width, ho, wo] */
    PN_ALLOC(c, t1, (size_t)n * b->c1.c_out * h * w);
    PN_ALLOC(c, t2, (size_t)n * b->c2.c_out * ho * wo);
    PCAVS_TRY(pn_conv_run(c, &b->c1, n, h, w, x, t1, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_conv_run(c, &b->c2, n, h, w, t1, t2, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_conv_run(c, &b->c3, n, ho, wo, t2, y, PCAVS_ACT_NONE));
    const float *res = x; /* [n, c_out, ho, wo] */
    if (b->has_ds) {
        float *r;
        PN_ALLOC(c, r, (size_t)n * b->ds.c_out * ho * wo);
        PCAVS_TRY(pn_conv_run(c, &b->ds, n, h, w, x, r, PCAVS_ACT_NONE));
        res = r;
    }
    int shp[4] = {n, b->c3.c_out, ho, wo};
    PN_K(c, c->be->add(c->kc, shp, y, shp, res, PCAVS_ACT_RELU, y));
    pcavs_arena_release(&c->ar, mark);
    return PCAVS_OK;
}

typedef struct v_args {
    int n;
    const float *images; /* host [n, 3, 224, 224] */
    float *id_feature;   /* host [n, 2048] or NULL */
    float *id_map;       /* host [n, 512, 7, 7] or NULL */
} v_args;

static pcavs_status v_body(pn_ctx *c, void *vargs) {
    v_args *a = vargs;
    const pn_v *v = &c->m->v;
    int n = a->n, H = PCAVS_IMG;
    /* Two ping-pong slots sized for the largest chain activation: 64 x 112 x 112 (stem) =
     * 256 x 56 x 56 (layer1) per image. */
    size_t slot = (size_t)n * 64 * 112 * 112;
    float *in, *s0, *s1;
    PN_ALLOC(c, in, (size_t)n * 3 * H * H);
    PN_ALLOC(c, s0, slot);
    PN_ALLOC(c, s1, slot);
    PCAVS_TRY(pn_upload(c, in, a->images, (size_t)n * 3 * H * H));
    PCAVS_TRY(pn_conv_run(c, &v->stem, n, H, H, in, s0, PCAVS_ACT_RELU)); /* [n, 64, 112, 112] */
    pcavs_maxpool2d_desc mp = {.n = n, .c = 64, .h = 112, .w = 112, .k = 3, .stride = 2, .pad = 1};
    PN_K(c, c->be->maxpool2d(c->kc, &mp, s0, s1)); /* [n, 64, 56, 56] */
    int h = 56, ch = 64;
    PCAVS_TRY(pn_stage4(c, "V.stem", s1, n, ch, h, h));
    float *x = s1, *y = s0;
    int bi = 0;
    char name[32];
    for (int l = 0; l < 4; l++) {
        for (int j = 0; j < v_layers[l]; j++, bi++) {
            const pn_v_block *b = &v->blocks[bi];
            PCAVS_TRY(bottleneck(c, b, n, h, h, x, y));
            h = pn_conv_out(&b->c2, h);
            ch = b->c3.c_out;
            float *t = x;
            x = y;
            y = t;
        }
        snprintf(name, sizeof name, "V.layer%d", l + 1);
        PCAVS_TRY(pn_stage4(c, name, x, n, ch, h, h)); /* layer4: [n, 2048, 7, 7] */
    }
    float *feat, *map, *map7; /* [n, 2048], [n, 512, h, h], [n, 512, 7, 7] */
    PN_ALLOC(c, feat, (size_t)n * 2048);
    PN_ALLOC(c, map, (size_t)n * 512 * h * h);
    PN_ALLOC(c, map7, (size_t)n * 512 * 7 * 7);
    PN_K(c, c->be->global_avgpool(c->kc, n * 2048, h * h, x, feat));
    PCAVS_TRY(pn_conv_run(c, &v->conv1x1, n, h, h, x, map, PCAVS_ACT_NONE));
    PN_K(c, c->be->adaptive_avgpool(c->kc, n * 512, h, h, 7, 7, map, map7));
    int64_t fs[2] = {n, 2048};
    PCAVS_TRY(pn_stage(c, "V.id_feature", feat, 2, fs));
    PCAVS_TRY(pn_stage4(c, "V.id_map", map7, n, 512, 7, 7));
    if (a->id_feature) PCAVS_TRY(pn_download(c, a->id_feature, feat, (size_t)n * 2048));
    if (a->id_map) PCAVS_TRY(pn_download(c, a->id_map, map7, (size_t)n * 512 * 49));
    return PCAVS_OK;
}

pcavs_status pcavs_v_forward(pcavs_model *m, int n, const float *images, float *id_feature, float *id_map) {
    if (!m || !images) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_v_forward: NULL argument");
    v_args a = {n, images, id_feature, id_map};
    return pn_run(m, PN_WS_V, n, v_body, &a);
}
