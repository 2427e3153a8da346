/* test_audio_preproc.c: the audio front end (pipeline/media/audio.c) against the real librosa.load,
 * lws STFT, librosa mel filterbank and resampy (tests/reference/preproc_reference.py) on the example
 * audio: decoded samples and RMS normalisation bit-exact, mel filterbank bit-exact, spectrogram max abs
 * <= 1e-5, resampling rel L2 <= 1e-6. Without fixtures: the window slicing, the ping-pong pose index
 * (vs upstream's calc_loop_idx formula), the frame count, the .npy reader and error messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs_audio.h"
#include "safetensors.h"
#include "test_util.h"

static const char *examples_path(const char *rel) {
    static char buf[4096];
    const char *src = getenv("PCAVS_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/examples/%s", src ? src : ".", rel);
    return buf;
}

static const float *fx(pcavs_st_file *f, const char *name, size_t *n) {
    const pcavs_st_entry *e = pcavs_st_find(f, name);
    if (!e) {
        pt_check(0, "fixture %s present", name);
        return NULL;
    }
    *n = e->nbytes / sizeof(float);
    return (const float *)e->t.data;
}

/* upstream util.calc_loop_idx, transcribed with Python's floor division / modulo (all values >= 0 here
 * except the intermediate, handled with floor semantics). */
static long py_floordiv(long a, long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static long calc_loop_idx(long idx, long loop_num) {
    long flag = -1 * ((py_floordiv(idx, loop_num) % 2) * 2 - 1);
    long new_idx = py_floordiv(-flag * (flag - 1), 2) + flag * (idx % loop_num);
    return ((new_idx + loop_num) % loop_num + loop_num) % loop_num;
}

static void check_no_fixture_parts(void) {
    int ok = 1;
    for (long P = 1; P <= 9 && ok; P++)
        for (long k = 0; k < 60; k++)
            if ((long)pcavs_pose_loop_index((size_t)k, (size_t)P) != calc_loop_idx(k, P)) {
                ok = 0;
                printf("  P=%ld k=%ld: got %zu want %ld\n", P, k, pcavs_pose_loop_index((size_t)k, (size_t)P),
                       calc_loop_idx(k, P));
                break;
            }
    pt_check(ok, "ping-pong pose index == upstream calc_loop_idx for P = 1..9, k = 0..59");
    pt_check(pcavs_pose_loop_index(5, 4) == 2 && pcavs_pose_loop_index(8, 4) == 0, "pose index 5,8 over 4 -> 2,0");
    pt_check(pcavs_audio_num_mel_frames(232448) == 1460 && pcavs_audio_num_mel_frames(51200) == 327 &&
                 pcavs_audio_num_mel_frames(51201) == 328,
             "lws frame counts (232448 -> 1460, 51200 -> 327, 51201 -> 328)");
    pt_check(pcavs_audio_num_output_frames(1460) == 361 && pcavs_audio_num_output_frames(15) == 0,
             "output frames: 1460 mel rows -> 361 (k = 2..362), 15 -> 0");
    /* windows: mel[m][j] = m*1000 + j, frame k -> out[j][t] = mel[4k-8+t][j] */
    size_t M = 40;
    float *mel = pt_alloc(M * 80), win[80 * 20];
    for (size_t m = 0; m < M; m++)
        for (int j = 0; j < 80; j++) mel[m * 80 + j] = (float)(m * 1000 + j);
    int wok = pcavs_audio_window(mel, M, 2, win) == PCAVS_OK && win[0] == 0.0f && win[19] == 19000.0f &&
              win[79 * 20 + 3] == 3079.0f;
    wok &= pcavs_audio_window(mel, M, 7, win) == PCAVS_OK && win[0] == 20000.0f && win[80 * 20 - 1] == 39079.0f;
    pt_check(wok, "window(k) = mel rows [4k-8, 4k+12) transposed to [80, 20]");
    int st = pcavs_audio_window(mel, M, 8, win);
    pt_check(st == PCAVS_ERR_INVALID_ARG, "window beyond the spectrogram refused: \"%s\"", pcavs_last_error());
    /* .npy round trip (float32 and float64, the upstream precomputed-spectrogram format) */
    const char *bin = getenv("PCAVS_BINARY_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/test_audio_preproc.npy", bin ? bin : "/tmp");
    for (int mode = 0; mode < 3; mode++) { /* 0: float32 C order, 1: float64, 2: float32 Fortran order */
        int f64 = mode == 1, fortran = mode == 2;
        FILE *f = fopen(path, "wb");
        char hdr[118];
        snprintf(hdr, sizeof hdr, "{'descr': '<f%d', 'fortran_order': %s, 'shape': (%zu, 80), }", f64 ? 8 : 4,
                 fortran ? "True" : "False", M);
        size_t hl = strlen(hdr);
        memset(hdr + hl, ' ', sizeof hdr - 1 - hl);
        hdr[sizeof hdr - 1] = '\n';
        fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f);
        fwrite(hdr, 1, sizeof hdr, f);
        for (size_t i = 0; i < M * 80; i++) {
            size_t src = fortran ? (i % M) * 80 + i / M : i;
            double d = mel[src];
            if (f64)
                fwrite(&d, 8, 1, f);
            else
                fwrite(&mel[src], 4, 1, f);
        }
        fclose(f);
        float *back = NULL;
        size_t T = 0;
        static const char *const what[3] = {".npy float32 round trip", ".npy float64 round trip",
                                            ".npy float32 Fortran-order round trip"};
        if (pt_check_ok(pcavs_audio_load_npy(path, &back, &T), what[mode])) {
            pt_check(T == M, ".npy rows %zu == %zu", T, M);
            pt_check_max_abs(what[mode], back, mel, M * 80, 0.0);
            free(back);
        }
    }
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (40, 81), }   \n", 1, 74, f);
    fclose(f);
    float *bad = NULL;
    size_t T = 0;
    st = pcavs_audio_load_npy(path, &bad, &T);
    pt_check(st != PCAVS_OK && strstr(pcavs_last_error(), "(T, 80)"), "npy of shape (40, 81) refused: \"%s\"",
             pcavs_last_error());
    remove(path);
    pt_free(mel);
    float *y = NULL;
    size_t n = 0;
    st = pcavs_audio_load("/nonexistent/audio.wav", &y, &n);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/audio.wav"), "missing audio: \"%s\"",
             pcavs_last_error());
}

static void check_against_librosa(pcavs_st_file *st) {
    const char *wav = examples_path("Audio_Source/681600002.mp3");
    size_t nw = 0, nyn = 0, nspec = 0, nb = 0;
    const float *want_y = fx(st, "wav.y", &nw), *want_yn = fx(st, "wav.ynorm", &nyn);
    const float *want_spec = fx(st, "wav.spec", &nspec), *want_basis = fx(st, "mel_basis", &nb);
    if (!want_y || !want_yn || !want_spec || !want_basis) return;
    float *basis = pt_alloc(80 * 641);
    pcavs_audio_mel_basis(basis);
    pt_check(nb == 80 * 641, "mel basis size %zu", nb);
    pt_check_max_abs("mel filterbank vs librosa.filters.mel (float32 weights)", basis, want_basis, 80 * 641, 0.0);
    pt_free(basis);

    float *y = NULL;
    size_t n = 0;
    if (!pt_check_ok(pcavs_audio_load(wav, &y, &n), "load example WAV")) return;
    pt_check(n == nw, "WAV samples %zu == librosa %zu", n, nw);
    if (n != nw) return;
    pt_check_max_abs("WAV samples vs librosa.load (int16/32768)", y, want_y, n, 0.0);
    pcavs_audio_rms_normalize(y, n);
    pt_check_max_abs("RMS-normalised samples vs numpy float32 (mean/sqrt/gain)", y, want_yn, n, 0.0);
    size_t M = pcavs_audio_num_mel_frames(n);
    pt_check(M * 80 == nspec, "spectrogram rows %zu == lws %zu", M, nspec / 80);
    float *spec = pt_alloc(M * 80);
    pt_check_ok(pcavs_audio_melspectrogram(y, n, spec), "melspectrogram");
    pt_check_max_abs("spectrogram vs lws + librosa (max abs)", spec, want_spec, M * 80, 1e-5);
    pt_check_rel_l2("spectrogram vs lws + librosa (rel L2)", spec, want_spec, M * 80, 1e-6);
    float *spec2 = NULL;
    size_t M2 = 0;
    if (pt_check_ok(pcavs_audio_spectrogram_file(wav, &spec2, &M2), "spectrogram_file")) {
        pt_check(M2 == M, "spectrogram_file rows %zu", M2);
        pt_check_max_abs("spectrogram_file == load+normalize+melspectrogram", spec2, spec, M * 80, 0.0);
        free(spec2);
    }
    pt_free(spec);
    free(y);

    /* AAC inside an MP4: decoded by the ffmpeg program like audioread's FFmpeg backend. */
    size_t n4 = 0, ns4 = 0;
    const float *want4 = fx(st, "mp4.y", &n4), *want4s = fx(st, "mp4.spec", &ns4);
    if (want4 && want4s) {
        float *y4 = NULL, *s4 = NULL;
        size_t m4 = 0, M4 = 0;
        int rs = pcavs_audio_load(examples_path("Audio_Source/00015.mp4"), &y4, &m4);
        if (rs == PCAVS_ERR_UNSUPPORTED) {
            pt_skip("MP4 audio: %s", pcavs_last_error());
        } else if (pt_check_ok(rs, "load MP4 audio via ffmpeg")) {
            pt_check(m4 == n4, "MP4 samples %zu == librosa/audioread %zu", m4, n4);
            if (m4 == n4) pt_check_max_abs("MP4 samples vs librosa.load (audioread ffmpeg s16le)", y4, want4, m4, 0.0);
            free(y4);
            if (pt_check_ok(pcavs_audio_spectrogram_file(examples_path("Audio_Source/00015.mp4"), &s4, &M4),
                            "MP4 spectrogram") &&
                M4 * 80 == ns4)
                pt_check_max_abs("MP4 spectrogram vs lws + librosa", s4, want4s, ns4, 1e-5);
            free(s4);
        }
    }
}

static void check_resample(pcavs_st_file *st) {
    size_t nx = 0, nu = 0, nd = 0;
    const float *x = fx(st, "resample.x", &nx), *up = fx(st, "resample.up", &nu), *down = fx(st, "resample.down", &nd);
    if (!x || !up || !down) return;
    float *y = NULL;
    size_t n = 0;
    if (pt_check_ok(pcavs_audio_resample(x, nx, 16000, 22050, &y, &n), "resample 16000 -> 22050")) {
        pt_check(n == nu, "length %zu == %zu", n, nu);
        if (n == nu) pt_check_rel_l2("resample 16000 -> 22050 vs resampy kaiser_best", y, up, n, 1e-6);
        free(y);
    }
    if (pt_check_ok(pcavs_audio_resample(x, nx, 44100, 16000, &y, &n), "resample 44100 -> 16000")) {
        pt_check(n == nd, "length %zu == %zu", n, nd);
        if (n == nd) pt_check_rel_l2("resample 44100 -> 16000 vs resampy kaiser_best", y, down, n, 1e-6);
        free(y);
    }
}

int main(void) {
    check_no_fixture_parts();
    const char *fix = pt_fixtures_dir();
    pcavs_st_file *a = NULL, *r = NULL;
    if (!fix || pcavs_st_open(pt_path(fix, "preproc/audio.safetensors"), &a) != PCAVS_OK) {
        pt_skip("librosa/lws comparison: no %s/preproc/audio.safetensors (run tests/reference/setup_venv.sh and "
                "preproc_reference.py; needs PyPI)",
                fix ? fix : "$PCAVS_FIXTURES");
    } else {
        check_against_librosa(a);
        pcavs_st_close(a);
    }
    if (fix && pcavs_st_open(pt_path(fix, "preproc/resample.safetensors"), &r) == PCAVS_OK) {
        check_resample(r);
        pcavs_st_close(r);
    } else {
        pt_skip("resampy comparison: no preproc/resample.safetensors fixture");
    }
    return pt_finish();
}
