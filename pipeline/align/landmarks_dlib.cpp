// landmarks_dlib.cpp: the C-callable bridge to dlib (Debian libdlib-dev): the HOG frontal face detector
// (get_frontal_face_detector) and the 68-point shape predictor (shape_predictor_68_face_landmarks.dat from
// libdlib-data). Stands in for upstream's face_alignment.FaceAlignment(LandmarksType._2D) in
// scripts/align_68.py. Built as a small shared library so that C consumers link with the C linker.
// Every entry point catches all C++ exceptions and reports them as a nonzero return plus a message.
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include "landmarks_bridge.h"

namespace {
struct bridge {
    dlib::frontal_face_detector detector;
    dlib::shape_predictor predictor;
};

void set_err(char *err, size_t cap, const char *what, const char *msg) {
    if (err && cap) std::snprintf(err, cap, "%s: %s", what, msg);
}

void to_dlib(const uint8_t *rgb, int w, int h, dlib::array2d<dlib::rgb_pixel> &img) {
    img.set_size(h, w);
    for (int y = 0; y < h; y++) {
        const uint8_t *r = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) img[y][x] = dlib::rgb_pixel(r[3 * x], r[3 * x + 1], r[3 * x + 2]);
    }
}
} // namespace

extern "C" int pcavs_dlib_open(const char *model, void **out, char *err, size_t cap) {
    *out = nullptr;
    bridge *b = nullptr;
    try {
        b = new bridge;
        b->detector = dlib::get_frontal_face_detector();
        dlib::deserialize(model) >> b->predictor;
        if (b->predictor.num_parts() != 68) {
            set_err(err, cap, model, "not a 68-point shape predictor");
            delete b;
            return 2;
        }
        *out = b;
        return 0;
    } catch (const std::exception &e) {
        set_err(err, cap, model, e.what());
    } catch (...) {
        set_err(err, cap, model, "unknown dlib error");
    }
    delete b;
    return 1;
}

extern "C" void pcavs_dlib_close(void *h) { delete static_cast<bridge *>(h); }

extern "C" int pcavs_dlib_detect(void *h, const uint8_t *rgb, int w, int hh, int upsample, double *rects, int max_rects,
                                 int *n, char *err, size_t cap) {
    *n = 0;
    try {
        bridge *b = static_cast<bridge *>(h);
        dlib::array2d<dlib::rgb_pixel> img;
        to_dlib(rgb, w, hh, img);
        std::vector<dlib::rectangle> dets;
        if (upsample > 0) {
            dlib::pyramid_up(img);
            dets = b->detector(img);
            for (auto &r : dets) r = dlib::pyramid_down<2>().rect_down(r);
        } else {
            dets = b->detector(img);
        }
        *n = (int)dets.size();
        for (int i = 0; i < *n && i < max_rects; i++) {
            rects[4 * i] = dets[i].left(), rects[4 * i + 1] = dets[i].top();
            rects[4 * i + 2] = dets[i].right(), rects[4 * i + 3] = dets[i].bottom();
        }
        return 0;
    } catch (const std::exception &e) {
        set_err(err, cap, "dlib face detector", e.what());
    } catch (...) {
        set_err(err, cap, "dlib face detector", "unknown error");
    }
    return 1;
}

extern "C" int pcavs_dlib_shape(void *h, const uint8_t *rgb, int w, int hh, const double rect[4], double *pts,
                                char *err, size_t cap) {
    try {
        bridge *b = static_cast<bridge *>(h);
        dlib::array2d<dlib::rgb_pixel> img;
        to_dlib(rgb, w, hh, img);
        dlib::rectangle r((long)rect[0], (long)rect[1], (long)rect[2], (long)rect[3]);
        dlib::full_object_detection s = b->predictor(img, r);
        for (unsigned i = 0; i < 68; i++) pts[2 * i] = s.part(i).x(), pts[2 * i + 1] = s.part(i).y();
        return 0;
    } catch (const std::exception &e) {
        set_err(err, cap, "dlib shape predictor", e.what());
    } catch (...) {
        set_err(err, cap, "dlib shape predictor", "unknown error");
    }
    return 1;
}
