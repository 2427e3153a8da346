// landmarks_dlib.cpp: the C-callable bridge to dlib (Debian libdlib-dev): the HOG frontal face detector
// (get_frontal_face_detector) and the 68-point shape predictor (shape_predictor_68_face_landmarks.dat from
// libdlib-data). Stands in for upstream's face_alignment.FaceAlignment(LandmarksType._2D) in
// scripts/align_68.py. Built as a small shared library so that C consumers link with the C linker.
// Every entry point catches all C++ exceptions and reports them as a nonzero return plus a message.
//
// The shape predictor is dlib::shape_predictor::operator() (the same cascade, the same model file) except
// that the landmarks are returned as floats: dlib's full_object_detection stores integer points, rounding
// every landmark to the pixel. With `refine`, the landmarks are the mean of 18 predictions: the face box
// shifted on a 3x3 grid by 3% of its width, each on the frame and on its mirror image (landmarks mapped back
// with the 68-point left/right permutation). test_align checks the sub-pixel precision this gives on
// shifted demo frames.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include "landmarks_bridge.h"

namespace {
// dlib::shape_predictor's members (private there), read from the model file in the same order as
// dlib::deserialize(shape_predictor&) reads them; predict() is its operator() without the final rounding.
struct float_predictor {
    dlib::matrix<float, 0, 1> initial_shape;
    std::vector<std::vector<dlib::impl::regression_tree>> forests;
    std::vector<std::vector<unsigned long>> anchor_idx;
    std::vector<std::vector<dlib::vector<float, 2>>> deltas;

    void load(const char *path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw dlib::serialization_error("cannot open the file");
        int version = 0;
        dlib::deserialize(version, in);
        if (version != 1)
            throw dlib::serialization_error("not a dlib shape_predictor (version " + std::to_string(version) + ")");
        dlib::deserialize(initial_shape, in);
        dlib::deserialize(forests, in);
        dlib::deserialize(anchor_idx, in);
        dlib::deserialize(deltas, in);
        if (anchor_idx.size() != forests.size() || deltas.size() != forests.size())
            throw dlib::serialization_error("inconsistent shape_predictor cascade");
    }
    unsigned long num_parts() const { return initial_shape.size() / 2; }

    // pts [num_parts, 2] in image pixels
    template <typename image_type> void predict(const image_type &img, const dlib::rectangle &rect, double *pts) const {
        using namespace dlib::impl;
        dlib::matrix<float, 0, 1> current = initial_shape;
        std::vector<float> feats;
        for (unsigned long iter = 0; iter < forests.size(); ++iter) {
            extract_feature_pixel_values(img, rect, current, initial_shape, anchor_idx[iter], deltas[iter], feats);
            unsigned long leaf;
            for (unsigned long i = 0; i < forests[iter].size(); ++i) current += forests[iter][i](feats, leaf);
        }
        const dlib::point_transform_affine to_img = unnormalizing_tform(rect);
        for (unsigned long i = 0; i < num_parts(); ++i) {
            dlib::dpoint p = to_img(location(current, i));
            pts[2 * i] = p.x(), pts[2 * i + 1] = p.y();
        }
    }
};

struct bridge {
    dlib::frontal_face_detector detector;
    float_predictor predictor;
};

// The 68-point (iBUG 300-W) index of each landmark's mirror image: jaw 0..16, brows 17..26, nose 27..35,
// eyes 36..47, outer lips 48..59, inner lips 60..67.
const int mirror68[68] = {16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0,  26, 25, 24, 23, 22, 21,
                          20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36,
                          41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65};

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
        b->predictor.load(model);
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

extern "C" int pcavs_dlib_shape(void *h, const uint8_t *rgb, int w, int hh, const double rect[4], int refine,
                                double *pts, char *err, size_t cap) {
    try {
        bridge *b = static_cast<bridge *>(h);
        dlib::array2d<dlib::rgb_pixel> img;
        to_dlib(rgb, w, hh, img);
        dlib::rectangle r(std::lround(rect[0]), std::lround(rect[1]), std::lround(rect[2]), std::lround(rect[3]));
        if (!refine) {
            b->predictor.predict(img, r, pts);
            return 0;
        }
        dlib::array2d<dlib::rgb_pixel> mirror;
        dlib::flip_image_left_right(img, mirror);
        const long step = std::lround(0.03 * (double)r.width()), W = img.nc();
        double sum[136] = {0}, one[136];
        int n = 0;
        for (long dy = -1; dy <= 1; dy++)
            for (long dx = -1; dx <= 1; dx++) {
                const dlib::rectangle s = dlib::translate_rect(r, dlib::point(dx * step, dy * step));
                b->predictor.predict(img, s, one);
                for (int k = 0; k < 136; k++) sum[k] += one[k];
                const dlib::rectangle m(W - 1 - s.right(), s.top(), W - 1 - s.left(), s.bottom());
                b->predictor.predict(mirror, m, one);
                for (int i = 0; i < 68; i++) {
                    const int j = mirror68[i];
                    sum[2 * i] += (double)(W - 1) - one[2 * j];
                    sum[2 * i + 1] += one[2 * j + 1];
                }
                n += 2;
            }
        for (int k = 0; k < 136; k++) pts[k] = sum[k] / n;
        return 0;
    } catch (const std::exception &e) {
        set_err(err, cap, "dlib shape predictor", e.what());
    } catch (...) {
        set_err(err, cap, "dlib shape predictor", "unknown error");
    }
    return 1;
}
