/* test_image_preproc.c: the image front end (pipeline/media/image.c) against OpenCV (cv2.imread, crop,
 * cv2.resize INTER_LINEAR, BGR2RGB, to_Tensor) as run by tests/reference/preproc_reference.py on the
 * example frames: every stage must be bit-exact (max abs 0). Also tensor2im, generic resizes, PNG round
 * trip and the error messages (not 224x224, not an image, missing file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs_image.h"
#include "safetensors.h"
#include "test_util.h"

static const char *const NAMES[] = {"id", "pose0", "pose17", "pose39", "mouth5"};
static const char *const FILES[] = {"Input/517600055/000000.jpg", "Pose_Source/517600078/000000.jpg",
                                    "Pose_Source/517600078/000017.jpg", "Pose_Source/517600078/000039.jpg",
                                    "Mouth_Source/681600002/000005.jpg"};

static const char *examples_path(const char *rel) {
    static char buf[4096];
    const char *src = getenv("PCAVS_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/examples/%s", src ? src : ".", rel);
    return buf;
}

static float *u8_to_f32(const uint8_t *x, size_t n) {
    float *f = pt_alloc(n);
    for (size_t i = 0; i < n; i++) f[i] = x[i];
    return f;
}

static const float *fx(pcavs_st_file *f, const char *name, size_t n_expected) {
    const pcavs_st_entry *e = pcavs_st_find(f, name);
    if (!e || e->nbytes != n_expected * sizeof(float)) {
        pt_check(0, "fixture %s present with %zu floats", name, n_expected);
        return NULL;
    }
    return (const float *)e->t.data;
}

static void check_against_opencv(pcavs_st_file *st) {
    const size_t N = 224 * 224 * 3;
    for (int i = 0; i < 5; i++) {
        char what[128];
        const char *path = examples_path(FILES[i]);
        pcavs_image img;
        if (!pt_check_ok(pcavs_image_load(path, &img), path)) continue;
        if (!pt_check(img.width == 224 && img.height == 224, "%s decoded as 224x224 (%dx%d)", NAMES[i], img.width,
                      img.height)) {
            pcavs_image_free(&img);
            continue;
        }
        float *dec = u8_to_f32(img.rgb, N);
        uint8_t rs[224 * 224 * 3];
        float *tensor = pt_alloc(N);
        pt_check_ok(pcavs_image_crop_resize(&img, path, rs), "crop_resize");
        float *rsf = u8_to_f32(rs, N);
        pt_check_ok(pcavs_image_preprocess_file(path, tensor), "preprocess_file");
        char key[64];
        const float *want;
        snprintf(key, sizeof key, "%s.decoded", NAMES[i]);
        snprintf(what, sizeof what, "%s: JPEG decode vs cv2.imread (uint8 RGB)", NAMES[i]);
        if ((want = fx(st, key, N))) pt_check_max_abs(what, dec, want, N, 0.0);
        snprintf(key, sizeof key, "%s.resized", NAMES[i]);
        snprintf(what, sizeof what, "%s: crop + resize 192->224 vs cv2.resize (uint8)", NAMES[i]);
        if ((want = fx(st, key, N))) pt_check_max_abs(what, rsf, want, N, 0.0);
        snprintf(key, sizeof key, "%s.tensor", NAMES[i]);
        snprintf(what, sizeof what, "%s: [3,224,224] float tensor vs to_Tensor", NAMES[i]);
        if ((want = fx(st, key, N))) pt_check_max_abs(what, tensor, want, N, 0.0);
        pt_free(dec), pt_free(rsf), pt_free(tensor);
        pcavs_image_free(&img);
    }
    /* Generic INTER_LINEAR resizes (up, down, odd sizes) on random images. */
    static const int sizes[4][4] = {{5, 7, 11, 13}, {37, 100, 80, 60}, {192, 192, 224, 224}, {50, 64, 31, 45}};
    for (int i = 0; i < 4; i++) {
        int sh = sizes[i][0], sw = sizes[i][1], dh = sizes[i][2], dw = sizes[i][3];
        char key[64], what[128];
        snprintf(key, sizeof key, "rand%d.src", i);
        const float *srcf = fx(st, key, (size_t)sh * sw * 3);
        snprintf(key, sizeof key, "rand%d.dst", i);
        const float *want = fx(st, key, (size_t)dh * dw * 3);
        if (!srcf || !want) continue;
        uint8_t *src = malloc((size_t)sh * sw * 3), *dst = malloc((size_t)dh * dw * 3);
        for (size_t k = 0; k < (size_t)sh * sw * 3; k++) src[k] = (uint8_t)srcf[k];
        pt_check_ok(pcavs_image_resize_linear_u8(src, sw, sh, (size_t)sw * 3, dst, dw, dh, 3), "resize");
        float *got = u8_to_f32(dst, (size_t)dh * dw * 3);
        snprintf(what, sizeof what, "random %dx%d -> %dx%d resize vs cv2.resize", sw, sh, dw, dh);
        pt_check_max_abs(what, got, want, (size_t)dh * dw * 3, 0.0);
        pt_free(got);
        free(src), free(dst);
    }
    /* tensor2im */
    const size_t nt = 3 * 7 * 11;
    const float *tin = fx(st, "tensor2im.in", nt), *tout = fx(st, "tensor2im.out", nt);
    if (tin && tout) {
        uint8_t u[3 * 7 * 11];
        pcavs_image_from_tensor(tin, 11, 7, u);
        float *got = u8_to_f32(u, nt);
        pt_check_max_abs("tensor2im ((y+1)/2*255, clip, truncate) vs numpy", got, tout, nt, 0.0);
        pt_free(got);
    }
}

static void check_errors_and_png(void) {
    /* A non-224 image is refused with a message that points to alignment. */
    pcavs_image small = {100, 80, calloc(100 * 80 * 3, 1)};
    uint8_t out[224 * 224 * 3];
    int st = pcavs_image_crop_resize(&small, "small.png", out);
    pt_check(st == PCAVS_ERR_SHAPE && strstr(pcavs_last_error(), "224x224") && strstr(pcavs_last_error(), "align"),
             "100x80 image refused: \"%s\"", pcavs_last_error());
    pcavs_image_free(&small);
    pcavs_image img;
    st = pcavs_image_load("/nonexistent/frame.jpg", &img);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/frame.jpg"), "missing file: \"%s\"",
             pcavs_last_error());
    const uint8_t junk[] = "this is not an image at all";
    st = pcavs_image_decode(junk, sizeof junk, "junk.jpg", &img);
    pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "junk.jpg"), "not an image: \"%s\"",
             pcavs_last_error());
    /* A truncated JPEG is an error, not a grey-padded frame. */
    uint8_t *data = NULL;
    FILE *f = fopen(examples_path(FILES[0]), "rb");
    if (f) {
        data = malloc(1 << 16);
        size_t n = fread(data, 1, 1 << 16, f);
        fclose(f);
        st = pcavs_image_decode(data, n / 2, "half.jpg", &img);
        pt_check(st == PCAVS_ERR_FORMAT, "truncated JPEG refused: \"%s\"", pcavs_last_error());
        if (st == PCAVS_OK) pcavs_image_free(&img);
        free(data);
    }
    /* PNG write + read back is lossless, and the PNG path of the preprocessing gives the JPEG's numbers. */
    pcavs_image a;
    if (!pt_check_ok(pcavs_image_load(examples_path(FILES[0]), &a), "load id image")) return;
    char path[4096];
    const char *bin = getenv("PCAVS_BINARY_DIR");
    snprintf(path, sizeof path, "%s/test_image_preproc_roundtrip.png", bin ? bin : "/tmp");
    pt_check_ok(pcavs_image_write_png(path, a.rgb, a.width, a.height), "write PNG");
    pcavs_image b;
    if (pt_check_ok(pcavs_image_load(path, &b), "read PNG back")) {
        size_t n = (size_t)a.width * a.height * 3;
        float *fa = u8_to_f32(a.rgb, n), *fb = u8_to_f32(b.rgb, n);
        pt_check(b.width == a.width && b.height == a.height, "PNG size %dx%d", b.width, b.height);
        pt_check_max_abs("PNG write/read round trip", fb, fa, n, 0.0);
        float *t1 = pt_alloc(3 * 224 * 224), *t2 = pt_alloc(3 * 224 * 224);
        pt_check_ok(pcavs_image_preprocess_file(path, t1), "preprocess PNG");
        pt_check_ok(pcavs_image_preprocess(&a, "id", t2), "preprocess decoded");
        pt_check_max_abs("preprocess(PNG) == preprocess(same pixels)", t1, t2, 3 * 224 * 224, 0.0);
        pt_free(fa), pt_free(fb), pt_free(t1), pt_free(t2);
        pcavs_image_free(&b);
    }
    remove(path);
    pcavs_image_free(&a);
}

int main(void) {
    check_errors_and_png();
    const char *fix = pt_fixtures_dir();
    pcavs_st_file *st = NULL;
    if (!fix || pcavs_st_open(pt_path(fix, "preproc/image.safetensors"), &st) != PCAVS_OK) {
        pt_skip("OpenCV comparison: no %s/preproc/image.safetensors (run tests/reference/setup_venv.sh and "
                "preproc_reference.py; needs PyPI)",
                fix ? fix : "$PCAVS_FIXTURES");
    } else {
        check_against_opencv(st);
        pcavs_st_close(st);
    }
    return pt_finish();
}
