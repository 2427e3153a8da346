/* net_a.c: A_sync, the audio encoder: upstream ResNetSE(SEBasicBlock, [3, 4, 6, 3],
 * [32, 64, 128, 256], nOut 512, encoder "SAP", n_mel_T 1) (models/networks/audio_network.py)
 * as called by ResSESyncEncoder.forward_feature on mel windows [n, 1, 80, 20]:
 *   conv1 3x3 (bias) -> ReLU -> bn1 (the BN follows the ReLU: not foldable, batchnorm op)
 *   -> layer1..4 -> [n, 256, 10, 3] viewed as [n, 2560, 3] -> attention: Conv1d 2560->128,
 *   ReLU, BatchNorm1d, Conv1d 128->2560, softmax over time -> sum_t x * w -> fc 2560 -> 512.
 * SEBasicBlock: conv1(stride) -> ReLU -> bn1 -> conv2 (+bn2 folded) -> SE -> + residual
 * (downsample 1x1 stride + BN, folded) -> ReLU. SE: mean over HW -> Linear c->c/8 -> ReLU
 * -> Linear -> sigmoid -> channel scale.
 * Stages: A.stem, A.layer1..A.layer4, A.attention (softmax weights [n, 2560, 3]), A.embedding. */
#include <stdio.h>

#include "pn_internal.h"

static const int a_layers[4] = {3, 4, 6, 3};

pcavs_status pn_load_a(pn_loader *L) {
    pn_a *a = &L->m->a;
    char n[128], bn[128];
    PCAVS_TRY(pn_load_conv(L, &a->stem, "model.conv1", 1, NULL, 1, 32, 3, 1, 1, 1));
    PCAVS_TRY(pn_load_bn(L, &a->stem_bn, "model.bn1", 32));
    int inplanes = 32, bi = 0;
    for (int l = 0; l < 4; l++) {
        int planes = 32 << l;
        for (int j = 0; j < a_layers[l]; j++, bi++) {
            pn_a_block *b = &a->blocks[bi];
            int stride = (j == 0 && l > 0) ? 2 : 1;
            snprintf(n, sizeof n, "model.layer%d.%d.conv1", l + 1, j);
            PCAVS_TRY(pn_load_conv(L, &b->c1, n, 0, NULL, inplanes, planes, 3, stride, 1, 1));
            snprintf(bn, sizeof bn, "model.layer%d.%d.bn1", l + 1, j);
            PCAVS_TRY(pn_load_bn(L, &b->bn1, bn, planes));
            snprintf(n, sizeof n, "model.layer%d.%d.conv2", l + 1, j);
            snprintf(bn, sizeof bn, "model.layer%d.%d.bn2", l + 1, j);
            PCAVS_TRY(pn_load_conv(L, &b->c2, n, 0, bn, planes, planes, 3, 1, 1, 1));
            snprintf(n, sizeof n, "model.layer%d.%d.se.fc.0", l + 1, j);
            PCAVS_TRY(pn_load_linear(L, &b->se1, n, planes, planes / 8, 1.0f));
            snprintf(n, sizeof n, "model.layer%d.%d.se.fc.2", l + 1, j);
            PCAVS_TRY(pn_load_linear(L, &b->se2, n, planes / 8, planes, 1.0f));
            b->has_ds = (stride != 1 || inplanes != planes);
            if (b->has_ds) {
                snprintf(n, sizeof n, "model.layer%d.%d.downsample.0", l + 1, j);
                snprintf(bn, sizeof bn, "model.layer%d.%d.downsample.1", l + 1, j);
                PCAVS_TRY(pn_load_conv(L, &b->ds, n, 0, bn, inplanes, planes, 1, stride, 0, 1));
            }
            inplanes = planes;
        }
    }
    /* Conv1d weights [out, in, 1] are 1x1 conv weights [out, in, 1, 1] in memory. */
    const float *w, *bias;
    int64_t w0[3] = {128, 2560, 1}, b0[1] = {128}, w3[3] = {2560, 128, 1}, b3[1] = {2560};
    PCAVS_TRY(pn_get(L, "model.attention.0.weight", 3, w0, &w));
    PCAVS_TRY(pn_get(L, "model.attention.0.bias", 1, b0, &bias));
    a->att0 = (pn_conv){.c_in = 2560, .c_out = 128, .k = 1, .stride = 1, .pad = 0, .groups = 1};
    PCAVS_TRY(pn_upload_weight(L, w, 128 * 2560, &a->att0.w));
    PCAVS_TRY(pn_upload_weight(L, bias, 128, &a->att0.b));
    PCAVS_TRY(pn_load_bn(L, &a->att_bn, "model.attention.2", 128));
    PCAVS_TRY(pn_get(L, "model.attention.3.weight", 3, w3, &w));
    PCAVS_TRY(pn_get(L, "model.attention.3.bias", 1, b3, &bias));
    a->att3 = (pn_conv){.c_in = 128, .c_out = 2560, .k = 1, .stride = 1, .pad = 0, .groups = 1};
    PCAVS_TRY(pn_upload_weight(L, w, 128 * 2560, &a->att3.w));
    PCAVS_TRY(pn_upload_weight(L, bias, 2560, &a->att3.b));
    static const float ones[3] = {1.0f, 1.0f, 1.0f};
    PCAVS_TRY(pn_upload_weight(L, ones, 3, &a->ones3));
    return pn_load_linear(L, &a->fc, "model.fc", 2560, 512, 1.0f);
}

/* SEBasicBlock: x [n, in, h, w] -> y [n, planes, ho, wo]. */
static pcavs_status se_block(pn_ctx *c, const pn_a_block *b, int n, int h, int w, const float *x, float *y) {
    size_t mark = pcavs_arena_mark(&c->ar);
    int ho = pn_conv_out(&b->c1, h), wo = pn_conv_out(&b->c1, w), ch = b->c1.c_out, hw = ho * wo;
    float *t1, *t2, *pool, *s1, *s2; /* [n, ch, ho, wo] x2, [n, ch], [n, ch/8], [n, ch] */
    PN_ALLOC(c, t1, (size_t)n * ch * hw);
    PN_ALLOC(c, t2, (size_t)n * ch * hw);
    PN_ALLOC(c, pool, (size_t)n * ch);
    PN_ALLOC(c, s1, (size_t)n * b->se1.out);
    PN_ALLOC(c, s2, (size_t)n * ch);
    PCAVS_TRY(pn_conv_run(c, &b->c1, n, h, w, x, t1, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_bn_run(c, &b->bn1, n, hw, t1, t1, PCAVS_ACT_NONE));
    PCAVS_TRY(pn_conv_run(c, &b->c2, n, ho, wo, t1, t2, PCAVS_ACT_NONE));
    PN_K(c, c->be->global_avgpool(c->kc, n * ch, hw, t2, pool));
    PCAVS_TRY(pn_linear_run(c, &b->se1, n, pool, s1, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_linear_run(c, &b->se2, n, s1, s2, PCAVS_ACT_NONE));
    PN_K(c, c->be->sigmoid(c->kc, (size_t)n * ch, s2, s2));
    int xs[4] = {n, ch, ho, wo}, ss[4] = {n, ch, 1, 1};
    PN_K(c, c->be->mul(c->kc, xs, t2, ss, s2, PCAVS_ACT_NONE, y));
    const float *res = x;
    if (b->has_ds) {
        PCAVS_TRY(pn_conv_run(c, &b->ds, n, h, w, x, t1, PCAVS_ACT_NONE));
        res = t1;
    }
    PN_K(c, c->be->add(c->kc, xs, y, xs, res, PCAVS_ACT_RELU, y));
    pcavs_arena_release(&c->ar, mark);
    return PCAVS_OK;
}

typedef struct a_args {
    int n;
    const float *mel; /* host [n, 1, 80, 20] */
    float *embedding; /* host [n, 512] */
} a_args;

static pcavs_status a_body(pn_ctx *c, void *vargs) {
    a_args *args = vargs;
    const pn_a *a = &c->m->a;
    int n = args->n, H = 80, W = 20;
    size_t slot = (size_t)n * 32 * H * W; /* = 64 x 40 x 10 = ... the largest chain activation */
    float *in, *s0, *s1, *emb;
    PN_ALLOC(c, in, (size_t)n * H * W);
    PN_ALLOC(c, s0, slot);
    PN_ALLOC(c, s1, slot);
    PN_ALLOC(c, emb, (size_t)n * 512);
    PCAVS_TRY(pn_upload(c, in, args->mel, (size_t)n * H * W));
    PCAVS_TRY(pn_conv_run(c, &a->stem, n, H, W, in, s0, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_bn_run(c, &a->stem_bn, n, H * W, s0, s0, PCAVS_ACT_NONE));
    PCAVS_TRY(pn_stage4(c, "A.stem", s0, n, 32, H, W));
    float *x = s0, *y = s1;
    int h = H, w = W, ch = 32, bi = 0;
    char name[32];
    for (int l = 0; l < 4; l++) {
        for (int j = 0; j < a_layers[l]; j++, bi++) {
            const pn_a_block *b = &a->blocks[bi];
            PCAVS_TRY(se_block(c, b, n, h, w, x, y));
            h = pn_conv_out(&b->c1, h);
            w = pn_conv_out(&b->c1, w);
            ch = b->c1.c_out;
            float *t = x;
            x = y;
            y = t;
        }
        snprintf(name, sizeof name, "A.layer%d", l + 1);
        PCAVS_TRY(pn_stage4(c, name, x, n, ch, h, w));
    }
    /* x [n, 256, 10, 3] = [n, 2560, 3]; attention over the T = 3 time steps */
    int T = w, D = ch * h;
    float *att, *wts, *xw; /* [n, 128, T], [n, D, T], [n, D, T] */
    PN_ALLOC(c, att, (size_t)n * 128 * T);
    PN_ALLOC(c, wts, (size_t)n * D * T);
    PN_ALLOC(c, xw, (size_t)n * D * T);
    PCAVS_TRY(pn_conv_run(c, &a->att0, n, T, 1, x, att, PCAVS_ACT_RELU));
    PCAVS_TRY(pn_bn_run(c, &a->att_bn, n, T, att, att, PCAVS_ACT_NONE));
    PCAVS_TRY(pn_conv_run(c, &a->att3, n, T, 1, att, wts, PCAVS_ACT_NONE));
    PN_K(c, c->be->softmax(c->kc, n * D, T, 1, wts, wts));
    int64_t ws[3] = {n, D, T};
    PCAVS_TRY(pn_stage(c, "A.attention", wts, 3, ws));
    int sh[4] = {n, D, T, 1};
    PN_K(c, c->be->mul(c->kc, sh, x, sh, wts, PCAVS_ACT_NONE, xw));
    /* sum over time as a [n*D, T] x [T] -> [n*D] product with a row of ones */
    float *pooled = wts; /* [n, D] */
    PN_K(c, c->be->linear(c->kc, n * D, T, 1, xw, a->ones3, NULL, PCAVS_ACT_NONE, pooled));
    PCAVS_TRY(pn_linear_run(c, &a->fc, n, pooled, emb, PCAVS_ACT_NONE));
    int64_t es[2] = {n, 512};
    PCAVS_TRY(pn_stage(c, "A.embedding", emb, 2, es));
    return pn_download(c, args->embedding, emb, (size_t)n * 512);
}

pcavs_status pcavs_a_forward(pcavs_model *m, int n, const float *mel, float *embedding) {
    if (!m || !mel || !embedding) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_a_forward: NULL argument");
    a_args a = {n, mel, embedding};
    return pn_run(m, PN_WS_A, n, a_body, &a);
}
