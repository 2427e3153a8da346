/* pcavs_audio.h: audio decoding and the exact upstream mel-spectrogram front end.
 *
 * Mirrors upstream config/AudioConfig.py (read_audio, audio_to_spectrogram) and the slicing of
 * data/voxtest_dataset.py (docs/numerics.md §2):
 *   librosa.load(sr=16000)  -> y float32 mono 16 kHz
 *   audio_normalize         -> y * float32(0.1 / max(1e-4, sqrt(mean(y^2))))   (numpy float32 mean)
 *   lws.lws(1280,160).stft  -> |X| (M x 641, double), sqrt-Hann/2 window, 1120 zeros each side
 *   librosa Slaney mel 80   -> mel = W(80x641, float32 weights) . |X| in double
 *   dB/normalise            -> clip((20*log10(max(1e-5, mel)) - 20 + 100)/100, 0, 1) as float32
 *   result                  -> [M, 80] float32, one row per 10 ms step.
 * Output frame k (k = 2 .. M/4-3) uses rows [4k-8, 4k+12) transposed to [1, 80, 20]. */
#ifndef PCAVS_MEDIA_AUDIO_H
#define PCAVS_MEDIA_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_AUDIO_RATE 16000
#define PCAVS_AUDIO_NFFT 1280
#define PCAVS_AUDIO_HOP 160
#define PCAVS_AUDIO_NBINS 641 /* NFFT/2 + 1 */
#define PCAVS_AUDIO_NMELS 80
#define PCAVS_AUDIO_WIN_T 20 /* mel steps per output frame window (5 video frames x 4) */

/* Decodes any audio to mono float32 at its native rate, like librosa.load(sr=None) of the 2021 stack:
 * formats libsndfile recognises by content (WAV/FLAC/OGG/...) are read with it (PCM16 -> x/32768 exactly);
 * anything else (MP3, AAC in MP4, ...) is decoded by the ffmpeg program to interleaved s16le at the native
 * rate and channel count (audioread's FFmpeg backend) and divided by 32768. Several channels are averaged
 * in float32 (np.mean(axis=0)). *samples is malloc'ed (free with free()). */
pcavs_status pcavs_audio_load_native(const char *path, float **samples /* [n] */, size_t *n, int *rate);

/* resampy.resample(y, sr_in, sr_out, filter='kaiser_best') with resampy 0.2.2 (the 2021 stack): its
 * kaiser_best table (64 zero crossings x 512, rolloff 0.9476, Kaiser beta 14.77, regenerated here in
 * double), accumulated time register, output length int(n*ratio), float32 accumulation; then librosa's
 * fix_length to ceil(n*sr_out/sr_in). resampy >= 0.3 ships a different kaiser_best (50 x 8192) and
 * gives different numbers.
 * *out is malloc'ed. */
pcavs_status pcavs_audio_resample(const float *in /* [n_in] */, size_t n_in, int sr_in, int sr_out,
                                  float **out /* [n_out] */, size_t *n_out);

/* librosa.load(path, sr=16000): pcavs_audio_load_native + pcavs_audio_resample when the rate differs. */
pcavs_status pcavs_audio_load(const char *path, float **samples /* [n] */, size_t *n);

/* AudioConfig.audio_normalize in place: y *= float32(0.1 / max(1e-4, sqrt(mean(y^2)))) where the mean is
 * numpy's float32 reduction (8192-element buffers, pairwise sums). */
void pcavs_audio_rms_normalize(float *y, size_t n);

/* Number of lws frames for n samples: ceil(n/160) + 7. */
size_t pcavs_audio_num_mel_frames(size_t n);

/* The 80 x 641 Slaney mel filterbank of librosa.filters.mel(16000, 1280, fmin=125, fmax=7600, n_mels=80)
 * (float32 with librosa's double rounding). */
void pcavs_audio_mel_basis(float *w /* [80, 641] */);

/* The spectrogram of already normalised samples: out must hold pcavs_audio_num_mel_frames(n) * 80 floats. */
pcavs_status pcavs_audio_melspectrogram(const float *y /* [n] */, size_t n, float *out /* [M, 80] */);

/* The whole upstream chain for one file (load, normalise, melspectrogram). *mel is malloc'ed. */
pcavs_status pcavs_audio_spectrogram_file(const char *path, float **mel /* [M, 80] */, size_t *M);

/* Loads an upstream precomputed spectrogram (.npy, little-endian float32 or float64 [T, 80], C or Fortran
 * order); *mel is malloc'ed, C order. */
pcavs_status pcavs_audio_load_npy(const char *path, float **mel /* [T, 80] */, size_t *T);

/* Output frames for a spectrogram of M rows: k = 2 .. M/4-3, i.e. max(0, M/4 - 4) frames. */
size_t pcavs_audio_num_output_frames(size_t M);
/* The window of output frame k (>= 2): rows [4k-8, 4k+12) of mel transposed to [80, 20]
 * (mel band major). PCAVS_ERR_INVALID_ARG when the rows fall outside the spectrogram. */
pcavs_status pcavs_audio_window(const float *mel /* [M, 80] */, size_t M, size_t k, float *out /* [80, 20] */);

/* util.calc_loop_idx: the ping-pong pose frame index for output frame k over P pose frames
 * (forward on even laps k/P, backward on odd laps). P >= 1. */
size_t pcavs_pose_loop_index(size_t k, size_t P);

#ifdef __cplusplus
}
#endif
#endif
