/* image.c: JPEG/PNG decoding, OpenCV-exact INTER_LINEAR resize, upstream crop/normalisation and PNG output.
 * Mirrors upstream data/voxtest_dataset.py load_img/to_Tensor and util/util.py tensor2im; the numerics
 * (libjpeg-turbo defaults, OpenCV resize.cpp fixed point, to_Tensor rounding) are docs/numerics.md §3. */
#include "pcavs_image.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "media_util.h"
#include "status.h"

void pcavs_image_free(pcavs_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

/* ---------------------------------------------------------------- JPEG (libjpeg-turbo) */

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_err_exit(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jb, 1);
}

/* Silences libjpeg's stderr output but keeps counting warnings (corrupt/truncated data are warnings). */
static void jpeg_quiet(j_common_ptr cinfo, int level) {
    if (level < 0) cinfo->err->num_warnings++;
}

static pcavs_status decode_jpeg(const uint8_t *data, size_t size, const char *what, pcavs_image *out) {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    uint8_t *volatile rgb = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_err_exit;
    err.mgr.emit_message = jpeg_quiet; /* warnings (e.g. premature end) are reported below instead */
    err.msg[0] = 0;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        return pcavs_fail(PCAVS_ERR_FORMAT, "image %s: JPEG decoding failed: %s", what, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.num_components == 4) {
        jpeg_destroy_decompress(&cinfo);
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "image %s: CMYK JPEG is not supported (convert it to RGB)", what);
    }
    /* cv2.imread defaults: JDCT_ISLOW and fancy upsampling are libjpeg's defaults; only the colour space is set. */
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 3) {
        jpeg_destroy_decompress(&cinfo);
        return pcavs_fail(PCAVS_ERR_FORMAT, "image %s: JPEG decoder gave %d components, expected 3", what,
                          cinfo.output_components);
    }
    size_t w = cinfo.output_width, h = cinfo.output_height;
    rgb = malloc(w * h * 3);
    if (!rgb) longjmp(err.jb, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.output_scanline * w * 3);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    int truncated = cinfo.err->num_warnings > 0;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (truncated) {
        /* libjpeg pads a truncated file with grey; OpenCV would return it silently. We refuse it. */
        free(rgb);
        return pcavs_fail(PCAVS_ERR_FORMAT, "image %s: corrupt or truncated JPEG data", what);
    }
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = rgb;
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- PNG (libpng) */

typedef struct png_mem {
    const uint8_t *data;
    size_t size, pos;
} png_mem;

static void png_mem_read(png_structp png, png_bytep dst, size_t n) {
    png_mem *m = png_get_io_ptr(png);
    if (m->pos + n > m->size) png_error(png, "unexpected end of file");
    memcpy(dst, m->data + m->pos, n);
    m->pos += n;
}

static void png_err_fn(png_structp png, png_const_charp msg) {
    char *buf = png_get_error_ptr(png);
    snprintf(buf, 256, "%s", msg);
    png_longjmp(png, 1);
}
static void png_warn_fn(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static pcavs_status decode_png(const uint8_t *data, size_t size, const char *what, pcavs_image *out) {
    char msg[256] = "";
    png_mem mem = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, png_err_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile rgb = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return pcavs_fail(PCAVS_ERR_OOM, "image %s: cannot allocate the PNG decoder", what);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rgb);
        free(rows);
        return pcavs_fail(PCAVS_ERR_FORMAT, "image %s: PNG decoding failed: %s", what, msg);
    }
    png_set_read_fn(png, &mem, png_mem_read);
    png_read_info(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    /* cv2.imread(IMREAD_COLOR): expand palette/low-depth gray, keep the high byte of 16-bit samples,
     * drop alpha, replicate gray to three channels. */
    png_set_expand(png);
    if (depth == 16) png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8) png_error(png, "unsupported layout");
    rgb = malloc(w * h * 3);
    rows = malloc(h * sizeof(png_bytep));
    if (!rgb || !rows) png_error(png, "out of memory");
    for (size_t y = 0; y < h; y++) rows[y] = rgb + y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = rgb;
    return PCAVS_OK;
}

pcavs_status pcavs_image_decode(const uint8_t *data, size_t size, const char *what_name, pcavs_image *out) {
    if (!data || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_decode: NULL argument");
    const char *what = what_name ? what_name : "(memory)";
    out->rgb = NULL;
    out->width = out->height = 0;
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return decode_jpeg(data, size, what, out);
    if (size >= 8 && !png_sig_cmp(data, 0, 8)) return decode_png(data, size, what, out);
    return pcavs_fail(PCAVS_ERR_FORMAT, "image %s: neither JPEG nor PNG (unrecognised header)", what);
}

pcavs_status pcavs_image_load(const char *path, pcavs_image *out) {
    if (!path || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_load: NULL argument");
    uint8_t *data = NULL;
    size_t size = 0;
    PCAVS_TRY(pcavs_media_read_file(path, &data, &size));
    pcavs_status st = pcavs_image_decode(data, size, path, out);
    free(data);
    return st;
}

/* ---------------------------------------------------------------- OpenCV INTER_LINEAR resize (8U) */

/* One axis of OpenCV's resize coefficients (resize.cpp, resizeGeneric setup for INTER_LINEAR):
 * f = (float)((d+0.5)*scale - 0.5), s = floor(f), f -= s; on the x axis the source index is clamped with
 * f = 0 at both borders; y keeps s and f (the rows are clipped when read). Coefficients are
 * saturate_cast<short>(w*2048) with cvRound's half-to-even. */
static void linear_coeffs(int ssize, int dsize, int clamp, int *idx, short *a0, short *a1) {
    double scale = 1.0 / ((double)dsize / ssize);
    for (int d = 0; d < dsize; d++) {
        float f = (float)((d + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        if (clamp) {
            if (s < 0) f = 0, s = 0;
            if (s >= ssize - 1) f = 0, s = ssize - 1;
        }
        idx[d] = s;
        a0[d] = (short)lrintf((1.f - f) * 2048.f);
        a1[d] = (short)lrintf(f * 2048.f);
    }
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

pcavs_status pcavs_image_resize_linear_u8(const uint8_t *src, int sw, int sh, size_t src_stride, uint8_t *dst, int dw,
                                          int dh, int channels) {
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || channels <= 0 || src_stride < (size_t)sw * channels)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_resize_linear_u8: bad sizes %dx%d -> %dx%d", sw, sh, dw,
                          dh);
    size_t rowlen = (size_t)dw * channels;
    int *xi = malloc(sizeof(int) * dw), *yi = malloc(sizeof(int) * dh);
    short *ax0 = malloc(sizeof(short) * dw), *ax1 = malloc(sizeof(short) * dw);
    short *by0 = malloc(sizeof(short) * dh), *by1 = malloc(sizeof(short) * dh);
    int32_t *rows = malloc(sizeof(int32_t) * rowlen * (size_t)sh); /* [sh, dw*c] horizontally resized rows */
    if (!xi || !yi || !ax0 || !ax1 || !by0 || !by1 || !rows) {
        free(xi), free(yi), free(ax0), free(ax1), free(by0), free(by1), free(rows);
        return pcavs_fail(PCAVS_ERR_OOM, "pcavs_image_resize_linear_u8: out of memory");
    }
    linear_coeffs(sw, dw, 1, xi, ax0, ax1);
    linear_coeffs(sh, dh, 0, yi, by0, by1);
    /* H pass (exact int32): T = S[sx]*a0 + S[sx+1]*a1; at the right border (sx = W-1) T = S[sx]*2048. */
    for (int r = 0; r < sh; r++) {
        const uint8_t *S = src + (size_t)r * src_stride;
        int32_t *T = rows + (size_t)r * rowlen;
        for (int dx = 0; dx < dw; dx++) {
            int sx = xi[dx];
            for (int c = 0; c < channels; c++) {
                int32_t v0 = S[(size_t)sx * channels + c];
                T[(size_t)dx * channels + c] =
                    sx + 1 < sw ? v0 * ax0[dx] + (int32_t)S[(size_t)(sx + 1) * channels + c] * ax1[dx] : v0 * 2048;
            }
        }
    }
    /* V pass, OpenCV's VResizeLinearVec_32s8u rounding: ((b0*(T0>>4))>>16) + ((b1*(T1>>4))>>16) + 2) >> 2. */
    for (int dy = 0; dy < dh; dy++) {
        const int32_t *T0 = rows + (size_t)clampi(yi[dy], 0, sh - 1) * rowlen;
        const int32_t *T1 = rows + (size_t)clampi(yi[dy] + 1, 0, sh - 1) * rowlen;
        int32_t b0 = by0[dy], b1 = by1[dy];
        uint8_t *D = dst + (size_t)dy * rowlen;
        for (size_t i = 0; i < rowlen; i++) {
            int32_t v = (((b0 * (T0[i] >> 4)) >> 16) + ((b1 * (T1[i] >> 4)) >> 16) + 2) >> 2;
            D[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(xi), free(yi), free(ax0), free(ax1), free(by0), free(by1), free(rows);
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- upstream crop + tensor conversion */

pcavs_status pcavs_image_crop_resize(const pcavs_image *img, const char *what_name, uint8_t *out) {
    const char *what = what_name ? what_name : "(image)";
    if (!img || !img->rgb || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "image %s: NULL argument", what);
    if (img->width != PCAVS_IMAGE_SIZE || img->height != PCAVS_IMAGE_SIZE)
        return pcavs_fail(PCAVS_ERR_SHAPE,
                          "image %s: %dx%d is not a VoxCeleb2-style 224x224 face crop; align it first "
                          "(pcavs-align, or the upstream alignment script)",
                          what, img->width, img->height);
    const int n = PCAVS_IMAGE_SIZE - 2 * PCAVS_IMAGE_CROP;         /* 192 */
    const uint8_t *crop = img->rgb + (size_t)PCAVS_IMAGE_CROP * 3; /* row 0, column 16 */
    return pcavs_image_resize_linear_u8(crop, n, n, (size_t)img->width * 3, out, PCAVS_IMAGE_SIZE, PCAVS_IMAGE_SIZE, 3);
}

void pcavs_image_to_tensor(const uint8_t *rgb, int width, int height, float *out) {
    float lut[256];
    for (int x = 0; x < 256; x++) lut[x] = 2.0f * (float)(x / 255.0) - 1.0f; /* float32(2*float32(x/255.0) - 1) */
    size_t plane = (size_t)width * height;
    for (size_t p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++) out[c * plane + p] = lut[rgb[p * 3 + c]];
}

pcavs_status pcavs_image_preprocess(const pcavs_image *img, const char *what_name, float *out) {
    uint8_t *rgb = malloc((size_t)PCAVS_IMAGE_SIZE * PCAVS_IMAGE_SIZE * 3);
    if (!rgb) return pcavs_fail(PCAVS_ERR_OOM, "image %s: out of memory", what_name ? what_name : "(image)");
    pcavs_status st = pcavs_image_crop_resize(img, what_name, rgb);
    if (st == PCAVS_OK) pcavs_image_to_tensor(rgb, PCAVS_IMAGE_SIZE, PCAVS_IMAGE_SIZE, out);
    free(rgb);
    return st;
}

pcavs_status pcavs_image_preprocess_file(const char *path, float *out) {
    pcavs_image img;
    PCAVS_TRY(pcavs_image_load(path, &img));
    pcavs_status st = pcavs_image_preprocess(&img, path, out);
    pcavs_image_free(&img);
    return st;
}

void pcavs_image_from_tensor(const float *chw, int width, int height, uint8_t *rgb) {
    size_t plane = (size_t)width * height;
    for (size_t p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++) {
            float v = (chw[c * plane + p] + 1.0f) / 2.0f * 255.0f; /* float32 like numpy on a float32 array */
            if (!(v > 0.0f)) v = 0.0f;                             /* also maps NaN to 0 */
            if (v > 255.0f) v = 255.0f;
            rgb[p * 3 + c] = (uint8_t)v; /* astype(uint8) truncates */
        }
}

/* ---------------------------------------------------------------- PNG output */

pcavs_status pcavs_image_write_png(const char *path, const uint8_t *rgb, int width, int height) {
    if (!path || !rgb || width <= 0 || height <= 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_write_png: bad arguments");
    char *tmp = NULL;
    FILE *f = NULL;
    PCAVS_TRY(pcavs_media_temp_beside(path, &tmp, &f));
    char msg[256] = "";
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, msg, png_err_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        unlink(tmp);
        free(tmp);
        return pcavs_fail(PCAVS_ERR_IO, "image %s: PNG writing failed: %s", path, msg[0] ? msg : "out of memory");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return pcavs_media_commit_temp(f, tmp, path);
}
