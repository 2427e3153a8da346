/* audio.c: audio decoding (libsndfile, or the ffmpeg program like audioread), resampy kaiser_best
 * resampling, and upstream's mel spectrogram: config/AudioConfig.py read_audio + audio_to_spectrogram
 * (lws STFT, librosa Slaney mel, dB, normalisation) and the data/voxtest_dataset.py window slicing and
 * util.calc_loop_idx. Numerics: docs/numerics.md §2. The FFT is a small mixed-radix one in double. */
#include "pcavs_audio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "media_util.h"
#include "status.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---------------------------------------------------------------- decoding */

/* np.mean(y.reshape(n, C).T, axis=0): sequential float32 sum over channels, then a float32 division. */
static void mix_to_mono(const float *inter /* [n, C] */, size_t n, int C, float *mono /* [n] */) {
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int c = 0; c < C; c++) s += inter[i * C + c];
        mono[i] = C == 1 ? s : s / (float)C;
    }
}

static pcavs_status load_sndfile(SNDFILE *sf, const SF_INFO *info, const char *path, float **out, size_t *n) {
    size_t frames = (size_t)info->frames, C = (size_t)info->channels;
    float *inter = malloc(sizeof(float) * (frames * C + 1));
    float *mono = malloc(sizeof(float) * (frames + 1));
    if (!inter || !mono) {
        free(inter), free(mono);
        return pcavs_fail(PCAVS_ERR_OOM, "audio %s: out of memory for %zu samples", path, frames);
    }
    /* float output of PCM16 is x * (1/0x8000) (libsndfile pcm.c, normalisation on by default) */
    sf_count_t got = sf_readf_float(sf, inter, (sf_count_t)frames);
    if (got < 0 || (size_t)got != frames) {
        free(inter), free(mono);
        return pcavs_fail(PCAVS_ERR_FORMAT, "audio %s: truncated or corrupt (read %lld of %zu frames)", path,
                          (long long)got, frames);
    }
    mix_to_mono(inter, frames, (int)C, mono);
    free(inter);
    *out = mono;
    *n = frames;
    return PCAVS_OK;
}

/* Runs `ffprobe` for the first audio stream's sample rate and channel count. */
static pcavs_status probe_audio(const char *path, int *rate, int *channels) {
    static const char *const first_audio[] = {"-select_streams", "a:0", NULL};
    char buf[512], err[300];
    int code = 0;
    PCAVS_TRY(
        pcavs_media_ffprobe(path, "stream=sample_rate,channels", first_audio, buf, sizeof buf, &code, err, sizeof err));
    *rate = *channels = 0;
    const char *r = strstr(buf, "sample_rate="), *c = strstr(buf, "channels=");
    if (r) *rate = atoi(r + 12);
    if (c) *channels = atoi(c + 9);
    if (code != 0 || *rate <= 0 || *channels <= 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "audio %s: no decodable audio stream (ffprobe: %s)", path,
                          err[0] ? err : "no audio stream");
    return PCAVS_OK;
}

/* audioread's FFmpeg backend: `ffmpeg -i FILE -f s16le -` (native rate and channels), then x/32768. */
static pcavs_status load_ffmpeg(const char *path, float **out, size_t *n, int *rate) {
    int channels = 0;
    PCAVS_TRY(probe_audio(path, rate, &channels));
    const char *argv[] = {"ffmpeg", "-nostdin", "-v",    "error",   "-i",        path, "-map",
                          "0:a:0",  "-f",       "s16le", "-acodec", "pcm_s16le", "-",  NULL};
    pcavs_proc p;
    PCAVS_TRY(pcavs_proc_spawn(argv, 0, 1, &p));
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    pcavs_status st = PCAVS_OK;
    for (;;) {
        if (!buf) {
            st = pcavs_fail(PCAVS_ERR_OOM, "audio %s: out of memory while decoding", path);
            break;
        }
        size_t got = 0;
        st = pcavs_proc_read(&p, buf + len, cap - len, &got);
        len += got;
        if (st != PCAVS_OK || len < cap) break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) free(buf);
        buf = nb;
        cap *= 2;
    }
    char err[300];
    int code = st == PCAVS_OK ? pcavs_proc_finish(&p, err, sizeof err) : (pcavs_proc_kill(&p), 0);
    if (st != PCAVS_OK) {
        free(buf);
        return st;
    }
    if (code != 0) {
        free(buf);
        return pcavs_fail(PCAVS_ERR_FORMAT, "audio %s: ffmpeg could not decode it (exit %d): %s", path, code, err);
    }
    size_t frames = len / 2 / (size_t)channels;
    if (frames == 0) {
        free(buf);
        return pcavs_fail(PCAVS_ERR_FORMAT, "audio %s: decoded to no samples", path);
    }
    float *inter = malloc(sizeof(float) * frames * channels), *mono = malloc(sizeof(float) * frames);
    if (!inter || !mono) {
        free(buf), free(inter), free(mono);
        return pcavs_fail(PCAVS_ERR_OOM, "audio %s: out of memory", path);
    }
    for (size_t i = 0; i < frames * (size_t)channels; i++) {
        int16_t v = (int16_t)(buf[2 * i] | (buf[2 * i + 1] << 8));
        inter[i] = (1.0f / 32768.0f) * (float)v; /* librosa buf_to_float */
    }
    free(buf);
    mix_to_mono(inter, frames, channels, mono);
    free(inter);
    *out = mono;
    *n = frames;
    return PCAVS_OK;
}

pcavs_status pcavs_audio_load_native(const char *path, float **samples, size_t *n, int *rate) {
    if (!path || !samples || !n || !rate) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_load_native: NULL");
    *samples = NULL;
    *n = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe) return pcavs_fail(PCAVS_ERR_IO, "audio %s: cannot open (missing or unreadable)", path);
    fclose(probe);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (sf) {
        /* MPEG through libsndfile >= 1.1 (mpg123) is not what the 2021 stack did (audioread + ffmpeg). */
        int is_mpeg = (info.format & SF_FORMAT_TYPEMASK) == 0x230000 /* SF_FORMAT_MPEG */;
        if (!is_mpeg && info.frames > 0 && info.channels > 0 && info.samplerate > 0) {
            *rate = info.samplerate;
            pcavs_status st = load_sndfile(sf, &info, path, samples, n);
            sf_close(sf);
            return st;
        }
        sf_close(sf);
    }
    return load_ffmpeg(path, samples, n, rate);
}

/* ---------------------------------------------------------------- resampy kaiser_best */

/* Modified Bessel function I0 (power series, double; converges fast for x <= 20). */
static double bessel_i0(double x) {
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 500; k++) {
        term *= q / ((double)k * k);
        sum += term;
        if (term < sum * 1e-18) break;
    }
    return sum;
}

pcavs_status pcavs_audio_resample(const float *in, size_t n_in, int sr_in, int sr_out, float **out, size_t *n_out) {
    if (!in || !out || !n_out || sr_in <= 0 || sr_out <= 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_resample: bad arguments");
    double ratio = (double)sr_out / sr_in;
    size_t n_res = (size_t)((double)n_in * ratio);     /* resampy 0.2.2: int(n * sample_ratio) */
    size_t n_fix = (size_t)ceil((double)n_in * ratio); /* librosa fix_length */
    if (n_res < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "audio: %zu samples are too few to resample", n_in);
    /* kaiser_best: 64 zero crossings x 512 steps, rolloff 0.9475937167399596, Kaiser beta 14.769656459379492:
     * h[j] = rolloff * sinc(rolloff * j/512) * I0(beta*sqrt(1-(j/32768)^2)) / I0(beta) (resampy's stored table). */
    enum { NUM_TABLE = 512, NWIN = 64 * 512 + 1 };
    const double rolloff = 0.9475937167399596, beta = 14.769656459379492;
    double *win = malloc(sizeof(double) * NWIN), *delta = malloc(sizeof(double) * NWIN);
    float *y = calloc(n_fix > n_res ? n_fix : n_res, sizeof(float));
    if (!win || !delta || !y) {
        free(win), free(delta), free(y);
        return pcavs_fail(PCAVS_ERR_OOM, "audio: out of memory while resampling");
    }
    double i0b = bessel_i0(beta);
    for (int j = 0; j < NWIN; j++) {
        double x = rolloff * ((double)j / 512.0), r = (double)j / 32768.0;
        double sinc = j == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
        win[j] = rolloff * sinc * (bessel_i0(beta * sqrt(1.0 - r * r)) / i0b);
        if (ratio < 1) win[j] *= ratio;
    }
    for (int j = 0; j + 1 < NWIN; j++) delta[j] = win[j + 1] - win[j];
    delta[NWIN - 1] = 0.0;
    double scale = ratio < 1.0 ? ratio : 1.0, step = 1.0 / ratio;
    int index_step = (int)(scale * NUM_TABLE);
    double tr = 0.0; /* resampy 0.2.2: time_register accumulates += 1/ratio (>= 0.3 uses t/ratio) */
    for (size_t t = 0; t < n_res; t++, tr += step) {
        long n = (long)tr;
        double frac = scale * (tr - (double)n), index_frac = frac * NUM_TABLE;
        long offset = (long)index_frac;
        double eta = index_frac - (double)offset;
        float acc = 0.0f; /* numba: y[t] += weight*x stores float32 after every step */
        long i_max = (NWIN - offset) / index_step;
        if (n + 1 < i_max) i_max = n + 1;
        for (long i = 0; i < i_max; i++) {
            long o = offset + i * index_step;
            acc = (float)((double)acc + (win[o] + eta * delta[o]) * (double)in[n - i]);
        }
        frac = scale - frac;
        index_frac = frac * NUM_TABLE;
        offset = (long)index_frac;
        eta = index_frac - (double)offset;
        long k_max = (NWIN - offset) / index_step;
        if ((long)n_in - n - 1 < k_max) k_max = (long)n_in - n - 1;
        for (long k = 0; k < k_max; k++) {
            long o = offset + k * index_step;
            acc = (float)((double)acc + (win[o] + eta * delta[o]) * (double)in[n + k + 1]);
        }
        y[t] = acc;
    }
    free(win), free(delta);
    *out = y; /* zero padded (calloc) or trimmed to n_fix */
    *n_out = n_fix;
    return PCAVS_OK;
}

pcavs_status pcavs_audio_load(const char *path, float **samples, size_t *n) {
    float *raw = NULL;
    size_t nraw = 0;
    int rate = 0;
    PCAVS_TRY(pcavs_audio_load_native(path, &raw, &nraw, &rate));
    if (rate == PCAVS_AUDIO_RATE) {
        *samples = raw;
        *n = nraw;
        return PCAVS_OK;
    }
    pcavs_status st = pcavs_audio_resample(raw, nraw, rate, PCAVS_AUDIO_RATE, samples, n);
    free(raw);
    if (st != PCAVS_OK) return pcavs_fail_context(st, path);
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- RMS normalisation */

/* numpy's float32 pairwise_sum (loops_utils.h.src): < 8 sequential, <= 128 eight accumulators, else halves. */
static float pairwise_sum_f32(const float *a, size_t n) {
    if (n < 8) {
        float r = 0.0f;
        for (size_t i = 0; i < n; i++) r += a[i];
        return r;
    }
    if (n <= 128) {
        float r[8];
        size_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum_f32(a, n2) + pairwise_sum_f32(a + n2, n - n2);
}

/* Upstream's gain 0.1 / max(1e-4, rms) with numpy's float32 semantics (public in pcavs.h; 0 for no samples). */
float pcavs_audio_rms_gain(const float *y, size_t n) {
    if (!y || n == 0) return 0.0f;
    /* np.mean(y**2): add.reduce over 8192-element buffers (sequential float32 accumulation of pairwise sums),
     * then a float32 division by n (correctly rounded, so computed via double). */
    enum { BUF = 8192 };
    float sq[BUF], acc = 0.0f;
    for (size_t s = 0; s < n; s += BUF) {
        size_t m = n - s < BUF ? n - s : BUF;
        for (size_t i = 0; i < m; i++) sq[i] = y[s + i] * y[s + i];
        acc += pairwise_sum_f32(sq, m);
    }
    float ms = (float)((double)acc / (double)n);
    float rms32 = sqrtf(ms);
    double rms = rms32 > 1e-4 ? (double)rms32 : 1e-4; /* np.maximum(1e-4, float32) -> float64 */
    return (float)(0.1 / rms);                        /* float32 array * float64 scalar -> float32 */
}

void pcavs_audio_rms_normalize(float *y, size_t n) {
    if (!y || n == 0) return;
    const float gain = pcavs_audio_rms_gain(y, n);
    for (size_t i = 0; i < n; i++) y[i] *= gain;
}

/* ---------------------------------------------------------------- FFT (mixed radix, double) */

typedef struct cplx {
    double re, im;
} cplx;

/* Recursive decimation in time for n = 2^a * 5^b * ... ; tw[j] = exp(-2 pi i j / N) for the top size N,
 * tw_stride = N / n. Butterflies use the direct p-point DFT (p = 2, 5 here). */
static void fft_rec(const cplx *in, size_t istride, cplx *out, size_t n, const cplx *tw, size_t tw_stride, size_t N,
                    cplx *tmp) {
    if (n == 1) {
        out[0] = in[0];
        return;
    }
    size_t p = n % 4 == 0 ? 2 : n % 2 == 0 ? 2 : n % 3 == 0 ? 3 : n % 5 == 0 ? 5 : n;
    size_t m = n / p;
    for (size_t r = 0; r < p; r++) fft_rec(in + r * istride, istride * p, out + r * m, m, tw, tw_stride * p, N, tmp);
    for (size_t k = 0; k < m; k++) {
        for (size_t r = 0; r < p; r++) { /* twiddle the r-th sub-transform's k-th output: W_n^(r*k) */
            cplx a = out[r * m + k], w = tw[(r * k * tw_stride) % N];
            tmp[r].re = a.re * w.re - a.im * w.im;
            tmp[r].im = a.re * w.im + a.im * w.re;
        }
        for (size_t q = 0; q < p; q++) { /* X[k + q*m] = sum_r tmp[r] * W_p^(r*q) */
            double re = 0.0, im = 0.0;
            for (size_t r = 0; r < p; r++) {
                cplx w = tw[((r * q) % p) * (N / p)];
                re += tmp[r].re * w.re - tmp[r].im * w.im;
                im += tmp[r].re * w.im + tmp[r].im * w.re;
            }
            out[q * m + k].re = re;
            out[q * m + k].im = im;
        }
    }
}

/* ---------------------------------------------------------------- mel filterbank (librosa Slaney) */

static double hz_to_mel(double f) {
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = log(6.4) / 27.0;
    return f >= min_log_hz ? min_log_mel + log(f / min_log_hz) / logstep : f / f_sp;
}

static double mel_to_hz(double m) {
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = log(6.4) / 27.0;
    return m >= min_log_mel ? min_log_hz * exp(logstep * (m - min_log_mel)) : 0.0 + f_sp * m;
}

void pcavs_audio_mel_basis(float *w) {
    enum { NM = PCAVS_AUDIO_NMELS, NB = PCAVS_AUDIO_NBINS };
    double mel_f[NM + 2];
    double lo = hz_to_mel(125.0), hi = hz_to_mel(7600.0), step = (hi - lo) / (NM + 1);
    for (int i = 0; i < NM + 2; i++) mel_f[i] = mel_to_hz(i == NM + 1 ? hi : (double)i * step + lo); /* np.linspace */
    for (int i = 0; i < NM; i++) {
        double d0 = mel_f[i + 1] - mel_f[i], d1 = mel_f[i + 2] - mel_f[i + 1];
        double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (int k = 0; k < NB; k++) {
            double fk = (double)k * 12.5; /* rfftfreq(1280, 1/16000) == k*12.5 exactly */
            double lower = -(mel_f[i] - fk) / d0, upper = (mel_f[i + 2] - fk) / d1;
            double t = lower < upper ? lower : upper;
            float w32 = (float)(t > 0.0 ? t : 0.0);       /* weights[i] = ... into a float32 array */
            w[i * NB + k] = (float)((double)w32 * enorm); /* weights *= enorm[:, None]: double, then float32 */
        }
    }
}

/* ---------------------------------------------------------------- spectrogram */

size_t pcavs_audio_num_mel_frames(size_t n) { return (n + PCAVS_AUDIO_HOP - 1) / PCAVS_AUDIO_HOP + 7; }

pcavs_status pcavs_audio_melspectrogram(const float *y, size_t n, float *out) {
    enum { N = PCAVS_AUDIO_NFFT, H = PCAVS_AUDIO_HOP, NB = PCAVS_AUDIO_NBINS, NM = PCAVS_AUDIO_NMELS };
    if (!y || !out || n == 0) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_melspectrogram: empty input");
    size_t M = pcavs_audio_num_mel_frames(n);
    double *awin = malloc(sizeof(double) * N), *a = malloc(sizeof(double) * N), *mag = malloc(sizeof(double) * NB);
    float *W = malloc(sizeof(float) * NM * NB);
    cplx *tw = malloc(sizeof(cplx) * N), *fin = malloc(sizeof(cplx) * N), *fout = malloc(sizeof(cplx) * N);
    if (!awin || !a || !mag || !W || !tw || !fin || !fout) {
        free(awin), free(a), free(mag), free(W), free(tw), free(fin), free(fout);
        return pcavs_fail(PCAVS_ERR_OOM, "pcavs_audio_melspectrogram: out of memory");
    }
    /* lws (>= 1.2.6) window, computed exactly as lws does in double: a = sqrt(hann_sym_halfsample),
     * w = sum of the 8 overlapping a^2 rows (sequentially), swin = a/w, awin = sqrt(a*swin). */
    for (int k = 0; k < N; k++) a[k] = sqrt(0.5 * (1.0 - cos(2.0 * M_PI * (double)(2 * k + 1) / (2.0 * N))));
    double wsum[H];
    for (int h = 0; h < H; h++) {
        double s = 0.0;
        for (int q = 0; q < N / H; q++) s += a[q * H + h] * a[q * H + h];
        wsum[h] = s;
    }
    for (int k = 0; k < N; k++) awin[k] = sqrt(a[k] * (a[k] / wsum[k % H]));
    for (int j = 0; j < N; j++) tw[j].re = cos(2.0 * M_PI * j / N), tw[j].im = -sin(2.0 * M_PI * j / N);
    pcavs_audio_mel_basis(W);
    const double min_level = exp(-100.0 / 20.0 * log(10.0));
    cplx tmp[8];
    for (size_t m = 0; m < M; m++) {
        /* frame m covers original samples [160m - 1120, 160m + 160), zeros outside the signal */
        long start = (long)(m * H) - (N - H);
        for (int k = 0; k < N; k++) {
            long s = start + k;
            double v = (s >= 0 && (size_t)s < n) ? (double)y[s] : 0.0;
            fin[k].re = v * awin[k];
            fin[k].im = 0.0;
        }
        fft_rec(fin, 1, fout, N, tw, 1, N, tmp);
        for (int b = 0; b < NB; b++) mag[b] = hypot(fout[b].re, fout[b].im);
        for (int j = 0; j < NM; j++) {
            double s = 0.0;
            const float *wr = W + (size_t)j * NB;
            for (int b = 0; b < NB; b++) s += (double)wr[b] * mag[b];
            double db = 20.0 * log10(s > min_level ? s : min_level) - 20.0;
            double v = (db - -100.0) / 100.0;
            out[m * NM + j] = (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
        }
    }
    free(awin), free(a), free(mag), free(W), free(tw), free(fin), free(fout);
    return PCAVS_OK;
}

pcavs_status pcavs_audio_spectrogram_file(const char *path, float **mel, size_t *M) {
    if (!path || !mel || !M) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_spectrogram_file: NULL");
    float *y = NULL;
    size_t n = 0;
    PCAVS_TRY(pcavs_audio_load(path, &y, &n));
    pcavs_audio_rms_normalize(y, n);
    size_t m = pcavs_audio_num_mel_frames(n);
    float *out = malloc(sizeof(float) * m * PCAVS_AUDIO_NMELS);
    if (!out) {
        free(y);
        return pcavs_fail(PCAVS_ERR_OOM, "audio %s: out of memory for the spectrogram", path);
    }
    pcavs_status st = pcavs_audio_melspectrogram(y, n, out);
    free(y);
    if (st != PCAVS_OK) {
        free(out);
        return pcavs_fail_context(st, path);
    }
    *mel = out;
    *M = m;
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- .npy, windows, pose index */

pcavs_status pcavs_audio_load_npy(const char *path, float **mel, size_t *T) {
    uint8_t *data = NULL;
    size_t size = 0;
    PCAVS_TRY(pcavs_media_read_file(path, &data, &size));
    pcavs_status st = PCAVS_OK;
    if (size < 10 || memcmp(data, "\x93NUMPY", 6) != 0) {
        st = pcavs_fail(PCAVS_ERR_FORMAT, "spectrogram %s: not a .npy file", path);
        goto done;
    }
    int major = data[6];
    size_t hlen = major == 1 ? (size_t)(data[8] | data[9] << 8)
                             : (size_t)(data[8] | data[9] << 8 | data[10] << 16 | (size_t)data[11] << 24);
    size_t hoff = major == 1 ? 10 : 12;
    if (hoff + hlen > size) {
        st = pcavs_fail(PCAVS_ERR_FORMAT, "spectrogram %s: truncated .npy header", path);
        goto done;
    }
    char hdr[1024];
    size_t hl = hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1;
    memcpy(hdr, data + hoff, hl);
    hdr[hl] = 0;
    int is_f4 = strstr(hdr, "'<f4'") != NULL, is_f8 = strstr(hdr, "'<f8'") != NULL;
    const char *sh = strstr(hdr, "'shape':");
    /* np.save of `S.astype(float32).T` (what upstream computes) writes fortran_order True: both are read. */
    int fortran = strstr(hdr, "'fortran_order': True") != NULL;
    if ((!is_f4 && !is_f8) || !sh) {
        st = pcavs_fail(PCAVS_ERR_FORMAT, "spectrogram %s: need a little-endian float32/float64 array, header %s", path,
                        hdr);
        goto done;
    }
    long rows = 0, cols = 0;
    if (sscanf(sh, "'shape': (%ld, %ld)", &rows, &cols) != 2 || rows <= 0 || cols != PCAVS_AUDIO_NMELS) {
        st = pcavs_fail(PCAVS_ERR_SHAPE, "spectrogram %s: shape must be (T, 80), header %s", path, hdr);
        goto done;
    }
    size_t count = (size_t)rows * cols, esz = is_f4 ? 4 : 8;
    if (hoff + hlen + count * esz > size) {
        st = pcavs_fail(PCAVS_ERR_FORMAT, "spectrogram %s: truncated data (%zu bytes for %ld x %ld)", path,
                        size - hoff - hlen, rows, cols);
        goto done;
    }
    float *out = malloc(sizeof(float) * count);
    if (!out) {
        st = pcavs_fail(PCAVS_ERR_OOM, "spectrogram %s: out of memory", path);
        goto done;
    }
    const uint8_t *p = data + hoff + hlen;
    for (size_t i = 0; i < count; i++) {
        size_t dst = fortran ? (i % (size_t)rows) * (size_t)cols + i / (size_t)rows : i; /* column-major source */
        if (is_f4) {
            memcpy(&out[dst], p + 4 * i, 4);
        } else {
            double d;
            memcpy(&d, p + 8 * i, 8);
            out[dst] = (float)d; /* np.array(...).astype('float32') */
        }
    }
    *mel = out;
    *T = (size_t)rows;
done:
    free(data);
    return st;
}

size_t pcavs_audio_num_output_frames(size_t M) { return M / 4 >= 4 ? M / 4 - 4 : 0; }

pcavs_status pcavs_audio_window(const float *mel, size_t M, size_t k, float *out) {
    if (k < 2 || 4 * k + 12 > M)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "audio window: frame %zu needs mel rows [%zu, %zu) of %zu", k,
                          k >= 2 ? 4 * k - 8 : 0, 4 * k + 12, M);
    const float *src = mel + (4 * k - 8) * PCAVS_AUDIO_NMELS;
    for (int t = 0; t < PCAVS_AUDIO_WIN_T; t++)
        for (int j = 0; j < PCAVS_AUDIO_NMELS; j++) out[j * PCAVS_AUDIO_WIN_T + t] = src[t * PCAVS_AUDIO_NMELS + j];
    return PCAVS_OK;
}

size_t pcavs_pose_loop_index(size_t k, size_t P) {
    if (P == 0) return 0;
    size_t lap = k / P, r = k % P;
    return lap % 2 == 0 ? r : P - 1 - r;
}
