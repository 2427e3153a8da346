/* model.c: loading the PC-AVS model (safetensors written by pcavs-convert, tensors named
 * "<net>.<upstream key>"), the shared loader helpers (shape-checked lookup, BatchNorm folding,
 * upload), the arena planning per batch size, and the identity/pose/audio entry points of the
 * dataflow (upstream AvModel.inference: encode_identity_feature, encode_ref_noid + to_headpose,
 * encode_noid_feature + to_headpose, encode_audiosync_feature * mouth_feature_weight). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pn_internal.h"

/* ---------------------------------------------------------------- loader helpers */

pcavs_status pn_get(pn_loader *L, const char *name, int ndim, const int64_t *shape, const float **data) {
    char full[320];
    if (snprintf(full, sizeof full, "%s.%s", L->net, name) >= (int)sizeof full)
        return pcavs_fail(PCAVS_ERR_INTERNAL, "model: tensor name %s.%s too long", L->net, name);
    return pcavs_st_get_f32(L->f, full, ndim, shape, data);
}

pcavs_status pn_upload_weight(pn_loader *L, const float *host, size_t count, const float **dev) {
    pcavs_model *m = L->m;
    const pcavs_backend *be = m->ex->be;
    if (m->n_allocs == m->cap_allocs) {
        int cap = m->cap_allocs ? 2 * m->cap_allocs : 256;
        void **p = realloc(m->allocs, (size_t)cap * sizeof *p);
        if (!p) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot grow the weight table");
        m->allocs = p;
        m->cap_allocs = cap;
    }
    void *mem = NULL;
    size_t bytes = count * sizeof(float);
    PCAVS_TRY(be->mem_alloc(bytes, &mem));
    m->allocs[m->n_allocs++] = mem;
    m->weight_bytes += bytes;
    PCAVS_TRY(be->to_device(&m->ex->kc, mem, host, bytes));
    *dev = mem;
    return PCAVS_OK;
}

static pcavs_status bn_host(pn_loader *L, const char *name, int c, float *scale, float *shift) {
    const float *g, *b, *mean, *var;
    char buf[256];
    int64_t shp[1] = {c};
    snprintf(buf, sizeof buf, "%s.weight", name);
    PCAVS_TRY(pn_get(L, buf, 1, shp, &g));
    snprintf(buf, sizeof buf, "%s.bias", name);
    PCAVS_TRY(pn_get(L, buf, 1, shp, &b));
    snprintf(buf, sizeof buf, "%s.running_mean", name);
    PCAVS_TRY(pn_get(L, buf, 1, shp, &mean));
    snprintf(buf, sizeof buf, "%s.running_var", name);
    PCAVS_TRY(pn_get(L, buf, 1, shp, &var));
    pcavs_bn_fold(c, g, b, mean, var, 1e-5f, scale, shift);
    return PCAVS_OK;
}

pcavs_status pn_load_bn(pn_loader *L, pn_bn *bn, const char *name, int c) {
    float *tmp = malloc(2 * (size_t)c * sizeof(float));
    if (!tmp) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate BN %s", name);
    pcavs_status st = bn_host(L, name, c, tmp, tmp + c);
    if (st == PCAVS_OK) st = pn_upload_weight(L, tmp, (size_t)c, &bn->scale);
    if (st == PCAVS_OK) st = pn_upload_weight(L, tmp + c, (size_t)c, &bn->shift);
    bn->c = c;
    free(tmp);
    return st;
}

/* Keeps a prepared handle (non-NULL) for pcavs_model_free and counts its bytes with the weights. */
static pcavs_status keep_prepared(pn_loader *L, void *prep, size_t bytes) {
    pcavs_model *m = L->m;
    if (!prep) return PCAVS_OK;
    if (m->n_preps == m->cap_preps) {
        int cap = m->cap_preps ? 2 * m->cap_preps : 64;
        void **p = realloc(m->preps, (size_t)cap * sizeof *p);
        if (!p) {
            m->ex->be->free_prepared(prep);
            return pcavs_fail(PCAVS_ERR_OOM, "model: cannot grow the prepared-weight table");
        }
        m->preps = p;
        m->cap_preps = cap;
    }
    m->preps[m->n_preps++] = prep;
    m->weight_bytes += bytes;
    return PCAVS_OK;
}

pcavs_status pn_prepare_conv2d(pn_loader *L, const pcavs_conv2d_desc *d, const float *w_host, pcavs_precision p,
                               const void **prep) {
    void *h = NULL;
    size_t bytes = 0;
    *prep = NULL;
    PCAVS_TRY(L->m->ex->be->prepare_conv2d(&L->m->ex->kc, d, w_host, p, &h, &bytes));
    PCAVS_TRY(keep_prepared(L, h, bytes));
    *prep = h;
    return PCAVS_OK;
}

pcavs_status pn_prepare_modconv(pn_loader *L, const pcavs_modconv_desc *d, const float *w_host, pcavs_precision p,
                                const void **prep) {
    void *h = NULL;
    size_t bytes = 0;
    *prep = NULL;
    PCAVS_TRY(L->m->ex->be->prepare_modconv(&L->m->ex->kc, d, w_host, p, &h, &bytes));
    PCAVS_TRY(keep_prepared(L, h, bytes));
    *prep = h;
    return PCAVS_OK;
}

/* The conv's descriptor for an n x h x w input, with the backend's forms of its weight. */
static pcavs_conv2d_desc conv_desc(const pn_conv *cv, int n, int h, int w, pcavs_act act) {
    return (pcavs_conv2d_desc){.n = n,
                               .c_in = cv->c_in,
                               .h = h,
                               .w = w,
                               .c_out = cv->c_out,
                               .kh = cv->k,
                               .kw = cv->k,
                               .stride_h = cv->stride,
                               .stride_w = cv->stride,
                               .pad_h = cv->pad,
                               .pad_w = cv->pad,
                               .groups = cv->groups,
                               .act = act,
                               .prepared = cv->prep};
}

/* The backend's forms of a conv's weight (BN folded). The reduced-precision mode is allowed to E's convs only
 * (the pose encoder, as the generator's): V's and A_sync's features stay float32. */
static pcavs_status prepare_conv(pn_loader *L, pn_conv *cv, const float *w_host) {
    const pcavs_precision p = strcmp(L->net, "E") == 0 ? pcavs_exec_precision(L->m->ex) : PCAVS_PRECISION_FP32;
    const pcavs_conv2d_desc d = conv_desc(cv, 1, cv->k, cv->k, PCAVS_ACT_NONE);
    return pn_prepare_conv2d(L, &d, w_host, p, &cv->prep);
}

pcavs_status pn_load_conv(pn_loader *L, pn_conv *cv, const char *name, int has_bias, const char *bn, int c_in,
                          int c_out, int k, int stride, int pad, int groups) {
    char buf[256];
    int64_t wshape[4] = {c_out, c_in / groups, k, k};
    int64_t bshape[1] = {c_out};
    const float *w, *b = NULL;
    snprintf(buf, sizeof buf, "%s.weight", name);
    PCAVS_TRY(pn_get(L, buf, 4, wshape, &w));
    if (has_bias) {
        snprintf(buf, sizeof buf, "%s.bias", name);
        PCAVS_TRY(pn_get(L, buf, 1, bshape, &b));
    }
    cv->c_in = c_in;
    cv->c_out = c_out;
    cv->k = k;
    cv->stride = stride;
    cv->pad = pad;
    cv->groups = groups;
    cv->b = NULL;
    size_t per_out = (size_t)(c_in / groups) * k * k;
    size_t wn = (size_t)c_out * per_out;
    cv->prep = NULL;
    if (!bn) {
        PCAVS_TRY(pn_upload_weight(L, w, wn, &cv->w));
        if (b) PCAVS_TRY(pn_upload_weight(L, b, (size_t)c_out, &cv->b));
        return prepare_conv(L, cv, w);
    }
    float *wf = malloc((wn + 3 * (size_t)c_out) * sizeof(float));
    if (!wf) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate conv %s.%s", L->net, name);
    float *scale = wf + wn, *shift = scale + c_out, *bias = shift + c_out;
    memcpy(wf, w, wn * sizeof(float));
    pcavs_status st = bn_host(L, bn, c_out, scale, shift);
    if (st == PCAVS_OK) {
        pcavs_bn_fold_into_conv(c_out, (long)per_out, wf, b, scale, shift, bias);
        st = pn_upload_weight(L, wf, wn, &cv->w);
    }
    if (st == PCAVS_OK) st = prepare_conv(L, cv, wf);
    if (st == PCAVS_OK) st = pn_upload_weight(L, bias, (size_t)c_out, &cv->b);
    free(wf);
    return st;
}

pcavs_status pn_load_linear(pn_loader *L, pn_linear *l, const char *name, int in, int out, float wscale) {
    char buf[256];
    int64_t wshape[2] = {out, in}, bshape[1] = {out};
    const float *w, *b;
    snprintf(buf, sizeof buf, "%s.weight", name);
    PCAVS_TRY(pn_get(L, buf, 2, wshape, &w));
    snprintf(buf, sizeof buf, "%s.bias", name);
    PCAVS_TRY(pn_get(L, buf, 1, bshape, &b));
    l->in = in;
    l->out = out;
    if (wscale == 1.0f) {
        PCAVS_TRY(pn_upload_weight(L, w, (size_t)in * out, &l->w));
    } else {
        size_t n = (size_t)in * out;
        float *ws = malloc(n * sizeof(float));
        if (!ws) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate linear %s.%s", L->net, name);
        /* float32 product, exactly like upstream's `self.weight * self.scale` */
        for (size_t i = 0; i < n; i++) ws[i] = w[i] * wscale;
        pcavs_status st = pn_upload_weight(L, ws, n, &l->w);
        free(ws);
        PCAVS_TRY(st);
    }
    return pn_upload_weight(L, b, (size_t)out, &l->b);
}

/* ---------------------------------------------------------------- ops */

int pn_conv_out(const pn_conv *cv, int size) { return (size + 2 * cv->pad - cv->k) / cv->stride + 1; }

pcavs_status pn_conv_run(pn_ctx *c, const pn_conv *cv, int n, int h, int w, const float *x, float *y, pcavs_act act) {
    const pcavs_conv2d_desc d = conv_desc(cv, n, h, w, act);
    PN_K(c, c->be->conv2d(c->kc, &d, x, cv->w, cv->b, y));
    return PCAVS_OK;
}

pcavs_status pn_linear_run(pn_ctx *c, const pn_linear *l, int rows, const float *x, float *y, pcavs_act act) {
    PN_K(c, c->be->linear(c->kc, rows, l->in, l->out, x, l->w, l->b, act, y));
    return PCAVS_OK;
}

pcavs_status pn_bn_run(pn_ctx *c, const pn_bn *bn, int n, int hw, const float *x, float *y, pcavs_act act) {
    PN_K(c, c->be->batchnorm(c->kc, n, bn->c, hw, x, bn->scale, bn->shift, act, y));
    return PCAVS_OK;
}

static pcavs_status host_stage_reserve(pcavs_model *m, size_t count) {
    if (count <= m->host_stage_cap) return PCAVS_OK;
    float *p = realloc(m->host_stage, count * sizeof(float));
    if (!p) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate %zu floats of host staging", count);
    m->host_stage = p;
    m->host_stage_cap = count;
    return PCAVS_OK;
}

pcavs_status pn_stage(pn_ctx *c, const char *name, const float *x, int ndim, const int64_t *shape) {
    pcavs_model *m = c->m;
    if (c->measure || !m->stage_fn) return PCAVS_OK;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= (size_t)shape[i];
    const float *host = x;
    if (c->be->on_device) {
        PCAVS_TRY(host_stage_reserve(m, count));
        PCAVS_TRY(c->be->to_host(c->kc, m->host_stage, x, count * sizeof(float)));
        PCAVS_TRY(c->be->sync(c->kc));
        host = m->host_stage;
    }
    m->stage_fn(m->stage_user, name, host, ndim, shape);
    return PCAVS_OK;
}

pcavs_status pn_stage4(pn_ctx *c, const char *name, const float *x, int n, int ch, int h, int w) {
    int64_t s[4] = {n, ch, h, w};
    return pn_stage(c, name, x, 4, s);
}

pcavs_status pn_upload(pn_ctx *c, float *dst, const float *src, size_t count) {
    PN_K(c, c->be->to_device(c->kc, dst, src, count * sizeof(float)));
    return PCAVS_OK;
}

pcavs_status pn_download(pn_ctx *c, float *dst, const float *src, size_t count) {
    if (c->measure) return PCAVS_OK;
    PCAVS_TRY(c->be->to_host(c->kc, dst, src, count * sizeof(float)));
    return c->be->sync(c->kc);
}

/* ---------------------------------------------------------------- planning */

pcavs_status pn_run(pcavs_model *m, int which, int n, pn_body_fn body, void *args) {
    if (n < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batch size must be >= 1 (got %d)", n);
    pn_ws *ws = &m->ws[which];
    const pcavs_backend *be = m->ex->be;
    pn_ctx c = {.m = m, .be = be, .kc = &m->ex->kc};
    if (ws->planned_n != n) {
        pcavs_arena_init_measure(&c.ar, 0);
        c.measure = 1;
        PCAVS_TRY(body(&c, args));
        size_t need = c.ar.peak + PCAVS_ALIGN;
        if (need > ws->cap) {
            if (ws->mem) be->mem_free(ws->mem);
            ws->mem = NULL;
            ws->cap = 0;
            ws->planned_n = 0;
            PCAVS_TRY(be->mem_alloc(need, &ws->mem));
            ws->cap = need;
        }
        ws->planned_n = n;
    }
    pcavs_arena_init_fixed(&c.ar, ws->mem, ws->cap, m->ex->params.debug_nan_poison && !be->on_device);
    c.measure = 0;
    return body(&c, args);
}

/* ---------------------------------------------------------------- load / free */

pcavs_status pcavs_model_load(pcavs_exec *ex, const char *path, pcavs_model **out) {
    if (!ex || !path || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_model_load: NULL argument");
    *out = NULL;
    pcavs_model *m = calloc(1, sizeof *m);
    if (!m) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate");
    m->ex = ex;
    pn_loader L = {.m = m};
    pcavs_status st = pcavs_st_open(path, &L.f);
    if (st != PCAVS_OK) {
        free(m);
        return st;
    }
    L.net = "V";
    st = pn_load_v(&L);
    if (st == PCAVS_OK) {
        L.net = "E";
        st = pn_load_e(&L);
    }
    if (st == PCAVS_OK) {
        L.net = "A_sync";
        st = pn_load_a(&L);
    }
    if (st == PCAVS_OK) {
        L.net = "G";
        st = pn_load_g(&L);
    }
    if (st == PCAVS_OK) st = ex->be->sync(&ex->kc);
    pcavs_st_close(L.f);
    if (st != PCAVS_OK) {
        pcavs_model_free(m);
        return st;
    }
    pcavs_log(ex, PCAVS_LOG_INFO, "model %s: %.1f MB of weights on %s", path, m->weight_bytes / 1e6, ex->be->name);
    *out = m;
    return PCAVS_OK;
}

void pcavs_model_free(pcavs_model *m) {
    if (!m) return;
    const pcavs_backend *be = m->ex->be;
    for (int i = 0; i < m->n_preps; i++) be->free_prepared(m->preps[i]);
    free(m->preps);
    for (int i = 0; i < m->n_allocs; i++) be->mem_free(m->allocs[i]);
    free(m->allocs);
    for (int i = 0; i < PN_WS_COUNT; i++)
        if (m->ws[i].mem) be->mem_free(m->ws[i].mem);
    free(m->host_noise_fixed);
    free(m->host_stage);
    free(m->host_noise);
    free(m);
}

void pcavs_model_set_stage_callback(pcavs_model *m, pcavs_stage_fn fn, void *user) {
    m->stage_fn = fn;
    m->stage_user = user;
}

size_t pcavs_model_weight_bytes(const pcavs_model *m) { return m->weight_bytes; }

size_t pcavs_model_arena_bytes(const pcavs_model *m) {
    size_t s = 0;
    for (int i = 0; i < PN_WS_COUNT; i++) s += m->ws[i].cap;
    return s;
}

/* ---------------------------------------------------------------- dataflow entry points */

pcavs_status pcavs_encode_identity(pcavs_model *m, int n, const float *images, float *id_feature, float *id_map,
                                   float *ref_pose) {
    if (!m || !images || !id_feature || !id_map || n < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_encode_identity: bad argument (n = %d)", n);
    const size_t map_n = 512 * 7 * 7;
    float *feat = malloc((size_t)n * (PCAVS_ID_DIM + map_n + PCAVS_POSE_DIM) * sizeof(float));
    if (!feat) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_encode_identity: cannot allocate %d images' features", n);
    float *maps = feat + (size_t)n * PCAVS_ID_DIM, *fan = maps + (size_t)n * map_n;
    pcavs_status st = pcavs_v_forward(m, n, images, feat, maps);
    if (st == PCAVS_OK && ref_pose) st = pcavs_e_forward(m, n, images, fan, NULL);
    if (st == PCAVS_OK) {
        /* torch.mean over the images (a copy for n = 1) */
        for (size_t j = 0; j < PCAVS_ID_DIM; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += feat[(size_t)i * PCAVS_ID_DIM + j];
            id_feature[j] = (float)(s / n);
        }
        for (size_t j = 0; j < map_n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += maps[(size_t)i * map_n + j];
            id_map[j] = (float)(s / n);
        }
    }
    if (st == PCAVS_OK && ref_pose) {
        float mean[PCAVS_POSE_DIM];
        for (size_t j = 0; j < PCAVS_POSE_DIM; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += fan[(size_t)i * PCAVS_POSE_DIM + j];
            mean[j] = (float)(s / n);
        }
        st = pcavs_headpose_from_feature(m, 1, mean, ref_pose);
    }
    free(feat);
    return st;
}

pcavs_status pcavs_encode_pose(pcavs_model *m, int b, const float *frames, float *h) {
    if (!m || !frames || !h) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_encode_pose: NULL argument");
    return pcavs_e_forward(m, b, frames, NULL, h);
}

pcavs_status pcavs_encode_audio(pcavs_model *m, int b, const float *mel, float *a) {
    if (!m || !mel || !a) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_encode_audio: NULL argument");
    PCAVS_TRY(pcavs_a_forward(m, b, mel, a));
    for (size_t i = 0; i < (size_t)b * PCAVS_POSE_DIM; i++) a[i] *= PCAVS_MOUTH_WEIGHT;
    return PCAVS_OK;
}
