"""pcavs: Python binding of the pcavs C API (include/pcavs.h) through ctypes: no compiled extension.

Takes and returns numpy arrays:
    images / frames   uint8  [n, 224, 224, 3] RGB (224x224 VoxCeleb2-style crops)
    pcm               float32 [n] mono
    spectrogram       float32 [rows, 80]
    Identity          id_feature [2048], id_map [512, 7, 7], ref_pose [512] (float32, editable)
    pose / audio      float32 [n, 512]

The library is found through $PCAVS_LIBRARY (a path to libpcavs.so) when set, else inside this package
(pcavs/lib: `pip install .` or a wheel builds and ships it there), else next to it (../lib, the
`cmake --install` layout), else the system's loader paths.

    import pcavs
    with pcavs.Context("model.safetensors", max_batch=4) as ctx:
        ident = ctx.encode_identity(pcavs.read_image("face.jpg")[None])
        pcm, rate = pcavs.read_audio("speech.wav")
        mel = pcavs.spectrogram(pcm, rate)
        audio = ctx.encode_audio(mel)
        frames = ctx.generate(ident, audio, pose=None, noise="fixed")   # uint8 [n, 224, 224, 3]

Re-voicing footage that is not a 224x224 crop (dlib landmarks; see align, paste_back, paste_clip):
    al = pcavs.align("talk.mp4", "aligned/")          # .transforms [n, 6], .landmarks [n, 68, 2]
    out = pcavs.paste_back(frame, face, al.transforms[i], al.landmarks[i], mask="mouth", blend="multiband")
"""
import ctypes
import ctypes.util
import os

import numpy as np

__all__ = ["Error", "Context", "Identity", "Stream", "read_image", "write_image", "read_audio", "read_video",
           "spectrogram", "spectrogram_rows", "num_frames", "rms_gain", "version", "FRAME_SIDE",
           "ID_FEATURE_SIZE", "ID_MAP_SHAPE", "POSE_SIZE", "AUDIO_SIZE", "SAMPLE_RATE", "SAMPLES_PER_FRAME",
           "stream_ready_samples", "STREAM_LOOKAHEAD_MS", "Alignment", "align", "paste_back", "paste_mask_distance",
           "smooth_landmarks", "paste_clip", "landmarks_available", "PASTE_MASKS", "BLENDS"]

FRAME_SIDE = 224
ID_FEATURE_SIZE = 2048
ID_MAP_SHAPE = (512, 7, 7)
POSE_SIZE = 512
AUDIO_SIZE = 512
MEL_BANDS = 80
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = 640
STREAM_LOOKAHEAD_MS = 120

_NOISE = {"random": 0, "fixed": 1, "none": 2}
_FORMAT = {"rgb8": 0, "f32": 1}
_GAIN_CLIP_RMS, _GAIN_FIXED = 0, 1
_POSE_REFERENCE, _POSE_PUSHED = 0, 1
PASTE_MASKS = ("mouth", "face", "full")  # pcavs_paste_mask order
BLENDS = ("multiband", "feather")  # pcavs_paste_blend order
N_LANDMARKS = 68


def stream_ready_samples(j):
    """Samples a stream needs before output frame j is ready: 640 * (j + 5) (pcavs.h)."""
    return SAMPLES_PER_FRAME * (j + 5)


# ---------------------------------------------------------------- C declarations (mirror pcavs.h)

_u8p = ctypes.POINTER(ctypes.c_uint8)
_f32p = ctypes.POINTER(ctypes.c_float)
_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class _ExecParams(ctypes.Structure):
    _fields_ = [("device", ctypes.c_int), ("n_threads", ctypes.c_int), ("scratch_bytes", ctypes.c_size_t),
                ("debug_nan_poison", ctypes.c_int), ("log", _LOG_FN), ("log_user", ctypes.c_void_p),
                ("log_level", ctypes.c_int), ("precision", ctypes.c_int)]


class _ContextParams(ctypes.Structure):
    _fields_ = [("exec", _ExecParams), ("max_batch", ctypes.c_int)]


class _NoiseParams(ctypes.Structure):
    _fields_ = [("mode", ctypes.c_int), ("seed", ctypes.c_uint64), ("first_frame", ctypes.c_int64)]


class _AudioParams(ctypes.Structure):
    _fields_ = [("sample_rate", ctypes.c_int), ("gain_mode", ctypes.c_int), ("gain", ctypes.c_float)]


class _Identity(ctypes.Structure):
    _fields_ = [("id_feature", ctypes.c_float * ID_FEATURE_SIZE), ("id_map", ctypes.c_float * (512 * 7 * 7)),
                ("ref_pose", ctypes.c_float * POSE_SIZE)]


class _StreamParams(ctypes.Structure):
    _fields_ = [("sample_rate", ctypes.c_int), ("gain", ctypes.c_float), ("pose_source", ctypes.c_int),
                ("noise", _NoiseParams), ("format", ctypes.c_int)]


class _AlignParams(ctypes.Structure):
    _fields_ = [("model", ctypes.c_char_p), ("size", ctypes.c_int), ("smooth_prev", ctypes.c_double),
                ("log", ctypes.c_void_p), ("max_frames", ctypes.c_int)]


class _AlignResult(ctypes.Structure):
    _fields_ = [("n_frames", ctypes.c_long), ("n_detected", ctypes.c_long), ("n_interpolated", ctypes.c_long),
                ("n_multi", ctypes.c_long), ("src_width", ctypes.c_int), ("src_height", ctypes.c_int),
                ("fps", ctypes.c_double), ("has_audio", ctypes.c_int), ("m_clip", ctypes.c_double * 6),
                ("transforms", ctypes.POINTER(ctypes.c_double)), ("three", ctypes.POINTER(ctypes.c_double)),
                ("detected", ctypes.POINTER(ctypes.c_uint8)), ("landmarks", ctypes.POINTER(ctypes.c_double))]


class _PasteParams(ctypes.Structure):
    _fields_ = [("mask", ctypes.c_int), ("blend", ctypes.c_int), ("blend_margin", ctypes.c_double),
                ("grow", ctypes.c_double), ("smooth_frames", ctypes.c_double), ("upstream_crop", ctypes.c_int),
                ("back_project", ctypes.c_int)]


def _find_library():
    env = os.environ.get("PCAVS_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "lib", "libpcavs.so"), os.path.join(here, "..", "lib", "libpcavs.so"),
                 os.path.join(here, "..", "..", "lib", "libpcavs.so"), "/usr/local/lib/libpcavs.so", "/usr/lib/libpcavs.so"):
        if os.path.exists(cand):
            return cand
    found = ctypes.util.find_library("pcavs")
    if found:
        return found
    raise OSError("libpcavs not found: set PCAVS_LIBRARY to the path of libpcavs.so")


_lib = ctypes.CDLL(_find_library())
_S = ctypes.c_int  # pcavs_status
_P = ctypes.c_void_p
_sz = ctypes.c_size_t
_SIGS = {
    "pcavs_last_error": (ctypes.c_char_p, []),
    "pcavs_status_name": (ctypes.c_char_p, [_S]),
    "pcavs_version": (ctypes.c_char_p, []),
    "pcavs_exec_params_init": (None, [ctypes.POINTER(_ExecParams)]),
    "pcavs_context_params_init": (None, [ctypes.POINTER(_ContextParams)]),
    "pcavs_context_create": (_S, [ctypes.c_char_p, ctypes.POINTER(_ContextParams), ctypes.POINTER(_P)]),
    "pcavs_context_free": (None, [_P]),
    "pcavs_context_backend_name": (ctypes.c_char_p, [_P]),
    "pcavs_context_precision_name": (ctypes.c_char_p, [_P]),
    "pcavs_free": (None, [_P]),
    "pcavs_image_read": (_S, [ctypes.c_char_p, ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_int),
                              ctypes.POINTER(ctypes.c_int)]),
    "pcavs_image_write": (_S, [ctypes.c_char_p, _P, ctypes.c_int, ctypes.c_int]),
    "pcavs_audio_read": (_S, [ctypes.c_char_p, ctypes.POINTER(_f32p), ctypes.POINTER(_sz),
                              ctypes.POINTER(ctypes.c_int)]),
    "pcavs_video_read_frames": (_S, [ctypes.c_char_p, _sz, ctypes.POINTER(_u8p), ctypes.POINTER(_sz),
                                     ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]),
    "pcavs_audio_params_init": (None, [ctypes.POINTER(_AudioParams)]),
    "pcavs_audio_rms_gain": (ctypes.c_float, [_P, _sz]),
    "pcavs_spectrogram_rows": (_sz, [_sz, ctypes.c_int]),
    "pcavs_num_frames": (_sz, [_sz]),
    "pcavs_spectrogram": (_S, [_P, _sz, ctypes.POINTER(_AudioParams), _P, _sz, ctypes.POINTER(_sz)]),
    "pcavs_identity_encode": (_S, [_P, ctypes.c_int, _P, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Identity)]),
    "pcavs_pose_encode": (_S, [_P, ctypes.c_int, _P, ctypes.c_int, ctypes.c_int, _P]),
    "pcavs_audio_encode": (_S, [_P, _P, _sz, _sz, _sz, _P]),
    "pcavs_frame_bytes": (_sz, [ctypes.c_int, _sz]),
    "pcavs_generate_frames": (_S, [_P, ctypes.POINTER(_Identity), ctypes.c_int, _P, _P,
                                   ctypes.POINTER(_NoiseParams), ctypes.c_int, _P, _sz]),
    "pcavs_stream_params_init": (None, [ctypes.POINTER(_StreamParams)]),
    "pcavs_stream_create": (_S, [_P, ctypes.POINTER(_Identity), ctypes.POINTER(_StreamParams), ctypes.POINTER(_P)]),
    "pcavs_stream_push_pcm": (_S, [_P, _P, _sz]),
    "pcavs_stream_push_pose": (_S, [_P, _P, ctypes.c_int, ctypes.c_int]),
    "pcavs_stream_push_pose_feature": (_S, [_P, _P]),
    "pcavs_stream_pull_frame": (_S, [_P, _P, _sz, ctypes.POINTER(ctypes.c_int)]),
    "pcavs_stream_finish": (_S, [_P]),
    "pcavs_stream_frames_pulled": (_sz, [_P]),
    "pcavs_stream_free": (None, [_P]),
    "pcavs_landmarks_available": (ctypes.c_int, []),
    "pcavs_align_clip": (_S, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_AlignParams),
                              ctypes.POINTER(_AlignResult)]),
    "pcavs_align_result_free": (None, [ctypes.POINTER(_AlignResult)]),
    "pcavs_paste_params_init": (None, [ctypes.POINTER(_PasteParams)]),
    "pcavs_paste_frame": (_S, [_P, ctypes.c_int, ctypes.c_int, _P, ctypes.c_int, _P, _P,
                               ctypes.POINTER(_PasteParams)]),
    "pcavs_paste_mask_distance": (_S, [ctypes.c_int, ctypes.c_int, ctypes.c_int, _P, _P,
                                       ctypes.POINTER(_PasteParams), _P]),
    "pcavs_paste_smooth_landmarks": (_S, [_P, ctypes.c_long, ctypes.c_double, _P]),
    "pcavs_align_paste_clip_masked": (_S, [ctypes.c_char_p, ctypes.POINTER(_AlignResult), ctypes.c_char_p,
                                           ctypes.POINTER(_PasteParams), ctypes.c_long, ctypes.c_char_p,
                                           ctypes.c_char_p, _P]),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(_lib, _name)
    _f.restype = _res
    _f.argtypes = _args


class Error(RuntimeError):
    """A pcavs call failed: .status is the code name ("invalid argument", ...), the message is pcavs_last_error()."""

    def __init__(self, status, message):
        super().__init__(f"{message} [{status}]")
        self.status = status
        self.code = None


def _check(st):
    if st != 0:
        e = Error(_lib.pcavs_status_name(st).decode(), _lib.pcavs_last_error().decode(errors="replace"))
        e.code = st
        raise e


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _frames_u8(a, what):
    a = np.ascontiguousarray(a, dtype=np.uint8)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[3] != 3:
        raise ValueError(f"{what}: expected uint8 [n, h, w, 3] RGB, got shape {a.shape}")
    return a


def _f32(a, shape_tail, what):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if a.ndim == len(shape_tail):
        a = a[None]
    if a.ndim != len(shape_tail) + 1 or tuple(a.shape[1:]) != tuple(shape_tail):
        raise ValueError(f"{what}: expected float32 [n, {', '.join(map(str, shape_tail))}], got shape {a.shape}")
    return a


def _noise(noise, seed, first_frame):
    if noise not in _NOISE:
        raise ValueError(f"noise must be one of {sorted(_NOISE)}, got {noise!r}")
    return _NoiseParams(_NOISE[noise], seed, first_frame)


def version():
    return _lib.pcavs_version().decode()


# ---------------------------------------------------------------- media helpers

def read_image(path):
    """JPEG/PNG -> uint8 [h, w, 3] RGB (no cropping)."""
    p, w, h = _u8p(), ctypes.c_int(), ctypes.c_int()
    _check(_lib.pcavs_image_read(os.fsencode(path), ctypes.byref(p), ctypes.byref(w), ctypes.byref(h)))
    try:
        return np.ctypeslib.as_array(p, shape=(h.value, w.value, 3)).copy()
    finally:
        _lib.pcavs_free(p)


def write_image(path, rgb):
    """uint8 [h, w, 3] RGB -> lossless PNG."""
    a = _frames_u8(rgb, "write_image")[0]
    _check(_lib.pcavs_image_write(os.fsencode(path), _ptr(a), a.shape[1], a.shape[0]))


def read_audio(path):
    """Any audio file -> (float32 [n] mono PCM at its native rate, rate)."""
    p, n, r = _f32p(), _sz(), ctypes.c_int()
    _check(_lib.pcavs_audio_read(os.fsencode(path), ctypes.byref(p), ctypes.byref(n), ctypes.byref(r)))
    try:
        return np.ctypeslib.as_array(p, shape=(n.value,)).copy(), r.value
    finally:
        _lib.pcavs_free(p)


def read_video(path, max_frames=0):
    """Video file or %06d.jpg frames folder -> uint8 [n, h, w, 3]."""
    p, n, w, h = _u8p(), _sz(), ctypes.c_int(), ctypes.c_int()
    _check(_lib.pcavs_video_read_frames(os.fsencode(path), max_frames, ctypes.byref(p), ctypes.byref(n),
                                        ctypes.byref(w), ctypes.byref(h)))
    try:
        return np.ctypeslib.as_array(p, shape=(n.value, h.value, w.value, 3)).copy()
    finally:
        _lib.pcavs_free(p)


# ---------------------------------------------------------------- audio

def rms_gain(pcm):
    """Upstream's whole-clip normalising gain (float32) of 16 kHz PCM."""
    a = np.ascontiguousarray(pcm, dtype=np.float32)
    return float(_lib.pcavs_audio_rms_gain(_ptr(a), a.size))


def spectrogram_rows(n, sample_rate=SAMPLE_RATE):
    return int(_lib.pcavs_spectrogram_rows(n, sample_rate))


def num_frames(n_rows):
    return int(_lib.pcavs_num_frames(n_rows))


def spectrogram(pcm, sample_rate=SAMPLE_RATE, gain=None):
    """Upstream spectrogram float32 [rows, 80]. gain None: whole-clip RMS normalisation (upstream);
    a number: a fixed gain (what a stream with that gain computes)."""
    a = np.ascontiguousarray(pcm, dtype=np.float32).ravel()
    p = _AudioParams()
    _lib.pcavs_audio_params_init(ctypes.byref(p))
    p.sample_rate = sample_rate
    if gain is not None:
        p.gain_mode, p.gain = _GAIN_FIXED, gain
    rows = _sz()
    _check(_lib.pcavs_spectrogram(_ptr(a), a.size, ctypes.byref(p), None, 0, ctypes.byref(rows)))
    out = np.empty((rows.value, MEL_BANDS), np.float32)
    _check(_lib.pcavs_spectrogram(_ptr(a), a.size, ctypes.byref(p), _ptr(out), rows.value, ctypes.byref(rows)))
    return out


# ---------------------------------------------------------------- identity

class Identity:
    """id_feature [2048], id_map [512, 7, 7], ref_pose [512]: float32 arrays, free to edit or mix."""

    def __init__(self, id_feature, id_map, ref_pose):
        self.id_feature = np.asarray(id_feature, np.float32).reshape(ID_FEATURE_SIZE)
        self.id_map = np.asarray(id_map, np.float32).reshape(ID_MAP_SHAPE)
        self.ref_pose = np.asarray(ref_pose, np.float32).reshape(POSE_SIZE)

    def _c(self):
        c = _Identity()
        ctypes.memmove(c.id_feature, _ptr(np.ascontiguousarray(self.id_feature)), 4 * ID_FEATURE_SIZE)
        ctypes.memmove(c.id_map, _ptr(np.ascontiguousarray(self.id_map)), 4 * 512 * 49)
        ctypes.memmove(c.ref_pose, _ptr(np.ascontiguousarray(self.ref_pose)), 4 * POSE_SIZE)
        return c

    @staticmethod
    def _from_c(c):
        return Identity(np.ctypeslib.as_array(c.id_feature).copy(), np.ctypeslib.as_array(c.id_map).copy(),
                        np.ctypeslib.as_array(c.ref_pose).copy())


# ---------------------------------------------------------------- context

class Context:
    """A loaded model. device: "cpu", "cuda" or "ref"; threads 0 = all cores; max_batch: frames per call;
    precision: "fp32", "bf16" (CPU with AVX512-BF16 or AMX, or CUDA) or "tf32" (CUDA only); where the device
    cannot run it, float32, with a warning."""

    def __init__(self, model_path, device="cpu", threads=0, max_batch=4, precision="fp32"):
        p = _ContextParams()
        _lib.pcavs_context_params_init(ctypes.byref(p))
        p.exec.device = {"cpu": 0, "cuda": 1, "ref": 2}[device]
        p.exec.n_threads = threads
        p.exec.precision = {"fp32": 0, "bf16": 1, "tf32": 2}[precision]
        p.max_batch = max_batch
        h = _P()
        _check(_lib.pcavs_context_create(os.fsencode(model_path), ctypes.byref(p), ctypes.byref(h)))
        self._h = h

    @property
    def handle(self):
        if self._h is None:
            raise Error("invalid argument", "the context was closed")
        return self._h

    def close(self):
        if getattr(self, "_h", None) is not None:
            _lib.pcavs_context_free(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def backend(self):
        return _lib.pcavs_context_backend_name(self.handle).decode()

    @property
    def precision(self):
        """The precision in effect: "fp32", "bf16 (AMX-BF16)", "bf16 (AVX512-BF16)", "bf16 (tensor cores)" or
        "tf32 (tensor cores)"."""
        return _lib.pcavs_context_precision_name(self.handle).decode()

    def encode_identity(self, images):
        """uint8 [n, 224, 224, 3] (or one [224, 224, 3]) -> Identity averaged over the images."""
        a = _frames_u8(images, "encode_identity")
        c = _Identity()
        _check(_lib.pcavs_identity_encode(self.handle, a.shape[0], _ptr(a), a.shape[2], a.shape[1], ctypes.byref(c)))
        return Identity._from_c(c)

    def encode_pose(self, frames):
        """uint8 [n, 224, 224, 3] -> head poses float32 [n, 512]."""
        a = _frames_u8(frames, "encode_pose")
        out = np.empty((a.shape[0], POSE_SIZE), np.float32)
        _check(_lib.pcavs_pose_encode(self.handle, a.shape[0], _ptr(a), a.shape[2], a.shape[1], _ptr(out)))
        return out

    def encode_audio(self, mel, first=0, count=None):
        """spectrogram float32 [rows, 80] -> mouth features float32 [count, 512] of frames first.."""
        m = np.ascontiguousarray(mel, dtype=np.float32)
        if m.ndim != 2 or m.shape[1] != MEL_BANDS:
            raise ValueError(f"encode_audio: expected float32 [rows, 80], got shape {m.shape}")
        if count is None:
            count = num_frames(m.shape[0]) - first
        out = np.empty((max(count, 0), AUDIO_SIZE), np.float32)
        _check(_lib.pcavs_audio_encode(self.handle, _ptr(m), m.shape[0], first, count, _ptr(out)))
        return out

    def generate(self, identity, audio, pose=None, noise="random", seed=0, first_frame=0, output="rgb8"):
        """Frames from features: audio [n, 512], pose [n, 512] or None (identity.ref_pose).
        output "rgb8": uint8 [n, 224, 224, 3]; "f32": float32 [n, 3, 224, 224] in [-1, 1]."""
        a = _f32(audio, (AUDIO_SIZE,), "generate: audio")
        n = a.shape[0]
        pp = None
        if pose is not None:
            p = _f32(pose, (POSE_SIZE,), "generate: pose")
            if p.shape[0] != n:
                raise ValueError(f"generate: {p.shape[0]} poses for {n} audio features")
            pp = _ptr(p)
        out = (np.empty((n, FRAME_SIDE, FRAME_SIDE, 3), np.uint8) if output == "rgb8"
               else np.empty((n, 3, FRAME_SIDE, FRAME_SIDE), np.float32))
        np_ = _noise(noise, seed, first_frame)
        c = identity._c()
        _check(_lib.pcavs_generate_frames(self.handle, ctypes.byref(c), n, pp, _ptr(a), ctypes.byref(np_),
                                          _FORMAT[output], _ptr(out), out.nbytes))
        return out

    def stream(self, identity, gain=1.0, pushed_poses=False, noise="random", seed=0, first_frame=0, output="rgb8"):
        return Stream(self, identity, gain, pushed_poses, noise, seed, first_frame, output)


class Stream:
    """Push 16 kHz PCM (and poses), pull frames as soon as their audio window is complete.
    Frame j is ready once stream_ready_samples(j) = 640*(j+5) samples were pushed (120 ms lookahead)."""

    def __init__(self, ctx, identity, gain=1.0, pushed_poses=False, noise="random", seed=0, first_frame=0,
                 output="rgb8"):
        p = _StreamParams()
        _lib.pcavs_stream_params_init(ctypes.byref(p))
        p.gain = gain
        p.pose_source = _POSE_PUSHED if pushed_poses else _POSE_REFERENCE
        p.noise = _noise(noise, seed, first_frame)
        p.format = _FORMAT[output]
        self._ctx = ctx  # keeps the context alive
        self._output = output
        h = _P()
        c = identity._c()
        _check(_lib.pcavs_stream_create(ctx.handle, ctypes.byref(c), ctypes.byref(p), ctypes.byref(h)))
        self._h = h

    @property
    def handle(self):
        if self._h is None:
            raise Error("invalid argument", "the stream was closed")
        return self._h

    def close(self):
        if getattr(self, "_h", None) is not None:
            _lib.pcavs_stream_free(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def push_pcm(self, pcm):
        a = np.ascontiguousarray(pcm, dtype=np.float32).ravel()
        _check(_lib.pcavs_stream_push_pcm(self.handle, _ptr(a), a.size))

    def push_pose(self, frame):
        """The next output frame's pose: a uint8 [224, 224, 3] crop, or a float32 [512] pose feature."""
        a = np.asarray(frame)
        if a.dtype == np.uint8:
            a = _frames_u8(a, "push_pose")[0]
            _check(_lib.pcavs_stream_push_pose(self.handle, _ptr(a), a.shape[1], a.shape[0]))
        else:
            a = np.ascontiguousarray(a, dtype=np.float32).ravel()
            if a.size != POSE_SIZE:
                raise ValueError(f"push_pose: a pose feature has {POSE_SIZE} floats, got {a.size}")
            _check(_lib.pcavs_stream_push_pose_feature(self.handle, _ptr(a)))

    def pull(self):
        """The next frame if ready, else None (more input needed, or the finished stream is drained)."""
        out = (np.empty((FRAME_SIDE, FRAME_SIDE, 3), np.uint8) if self._output == "rgb8"
               else np.empty((3, FRAME_SIDE, FRAME_SIDE), np.float32))
        ready = ctypes.c_int()
        _check(_lib.pcavs_stream_pull_frame(self.handle, _ptr(out), out.nbytes, ctypes.byref(ready)))
        return out if ready.value == 1 else None

    def pull_all(self):
        frames = []
        while (f := self.pull()) is not None:
            frames.append(f)
        return frames

    def finish(self):
        _check(_lib.pcavs_stream_finish(self.handle))

    @property
    def frames_pulled(self):
        return int(_lib.pcavs_stream_frames_pulled(self.handle))


# ---------------------------------------------------------------- alignment and re-voicing paste-back

def landmarks_available():
    """True when this libpcavs has dlib's landmark detector (alignment needs it)."""
    return bool(_lib.pcavs_landmarks_available())


class Alignment:
    """pcavs_align_result: per frame the alignment transform M_i (transforms [n, 6]: x' = a x + b y + c,
    y' = d x + e y + f, original frame pixels -> 224x224 aligned crop) and dlib's 68 landmarks (landmarks
    [n, 68, 2], original frame pixels; interpolated on frames without a face: detected[i] == 0)."""

    def __init__(self, res):
        self._res = res
        n = res.n_frames
        self.n_frames = n
        self.fps = res.fps
        self.size = (res.src_width, res.src_height)
        self.transforms = np.ctypeslib.as_array(res.transforms, shape=(n, 6)).copy()
        self.landmarks = np.ctypeslib.as_array(res.landmarks, shape=(n, N_LANDMARKS, 2)).copy()
        self.detected = np.ctypeslib.as_array(res.detected, shape=(n,)).copy()

    def close(self):
        if getattr(self, "_res", None) is not None:
            _lib.pcavs_align_result_free(ctypes.byref(self._res))
            self._res = None

    __del__ = close


def align(input, output, max_frames=0, model=None):
    """Aligns an image, a folder of images or a video into `output` (a folder of 224x224 %06d.png crops, or a
    video file) like upstream's preprocessing; returns an Alignment."""
    p = _AlignParams(model.encode() if model else None, 0, -1.0, None, max_frames)
    r = _AlignResult()
    _check(_lib.pcavs_align_clip(os.fsencode(input), os.fsencode(output), ctypes.byref(p), ctypes.byref(r)))
    return Alignment(r)


def _paste_params(mask, blend, blend_margin, grow, smooth_frames, upstream_crop, back_project=None):
    if mask not in PASTE_MASKS:
        raise ValueError(f"mask must be one of {PASTE_MASKS}, got {mask!r}")
    if blend not in BLENDS:
        raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
    p = _PasteParams()
    _lib.pcavs_paste_params_init(ctypes.byref(p))
    p.mask, p.blend = PASTE_MASKS.index(mask), BLENDS.index(blend)
    if blend_margin is not None:
        p.blend_margin = blend_margin
    if grow is not None:
        p.grow = grow
    if smooth_frames is not None:
        p.smooth_frames = smooth_frames
    p.upstream_crop = 1 if upstream_crop else 0
    if back_project is not None:
        p.back_project = int(back_project)
    return p


def _transform(t):
    t = np.ascontiguousarray(t, dtype=np.float64).reshape(-1)
    if t.size != 6:
        raise ValueError(f"transform: expected 6 numbers (2x3 affine), got {t.size}")
    return t


def _landmarks(lm):
    if lm is None:
        return None
    lm = np.ascontiguousarray(lm, dtype=np.float64)
    if lm.size != 2 * N_LANDMARKS:
        raise ValueError(f"landmarks: expected [68, 2], got shape {lm.shape}")
    return lm


def paste_back(frame, face, transform, landmarks=None, mask="mouth", blend="multiband", blend_margin=None,
               grow=None, upstream_crop=True, back_project=None):
    """Pastes a generated face (uint8 [s, s, 3]; upstream_crop: the network's view of the upstream crop of the
    aligned frame, as pcavs-infer renders; False: the aligned frame itself) into a copy of frame (uint8
    [h, w, 3]) through the frame's alignment transform, inside `mask` ("mouth", "face", "full"; mouth and face
    need the frame's landmarks [68, 2]) with `blend` ("multiband" or "feather"). back_project: passes (0-4, default
    1) that give back the detail the alignment's warp took from the face; 0 = a plain bicubic paste. Returns the
    new frame."""
    out = np.array(_frames_u8(frame, "paste_back frame")[0], copy=True)
    f = _frames_u8(face, "paste_back face")[0]
    if f.shape[0] != f.shape[1]:
        raise ValueError(f"paste_back face: expected a square image, got {f.shape}")
    t, lm = _transform(transform), _landmarks(landmarks)
    p = _paste_params(mask, blend, blend_margin, grow, None, upstream_crop, back_project)
    _check(_lib.pcavs_paste_frame(_ptr(out), out.shape[1], out.shape[0], _ptr(f), f.shape[0], _ptr(t),
                                  _ptr(lm) if lm is not None else None, ctypes.byref(p)))
    return out


def paste_mask_distance(shape, transform, landmarks=None, mask="mouth", face_size=FRAME_SIDE, blend_margin=None,
                        grow=None, upstream_crop=True):
    """The geometry paste_back uses: float32 [h, w] signed distance (aligned-crop pixels, > 0 inside) to the
    boundary of the grown mask; pixels below -blend_margin are never written. shape: (h, w) of the frame."""
    h, w = int(shape[0]), int(shape[1])
    t, lm = _transform(transform), _landmarks(landmarks)
    p = _paste_params(mask, "multiband", blend_margin, grow, None, upstream_crop)
    out = np.empty((h, w), np.float32)
    _check(_lib.pcavs_paste_mask_distance(w, h, face_size, _ptr(t), _ptr(lm) if lm is not None else None,
                                          ctypes.byref(p), _ptr(out)))
    return out


def smooth_landmarks(landmarks, sigma=1.5):
    """Landmarks [n, 68, 2] smoothed over time by a centred Gaussian of sigma frames (as paste_clip does)."""
    lm = np.ascontiguousarray(landmarks, dtype=np.float64).reshape(-1, N_LANDMARKS, 2)
    out = np.empty_like(lm)
    _check(_lib.pcavs_paste_smooth_landmarks(_ptr(lm), lm.shape[0], sigma, _ptr(out)))
    return out


def paste_clip(original, alignment, generated, output, mask="mouth", blend="multiband", pose_period=0, audio=None,
               blend_margin=None, grow=None, smooth_frames=None, upstream_crop=True, back_project=None):
    """pcavs_align_paste_clip_masked: the generated faces (folder or video) pasted back into the original
    clip's frames (alignment = align(original, ...)); output: a video (audio muxed in) or a PNG folder."""
    if not isinstance(alignment, Alignment) or alignment._res is None:
        raise ValueError("paste_clip: alignment must be an open pcavs.Alignment")
    p = _paste_params(mask, blend, blend_margin, grow, smooth_frames, upstream_crop, back_project)
    _check(_lib.pcavs_align_paste_clip_masked(os.fsencode(original), ctypes.byref(alignment._res),
                                              os.fsencode(generated), ctypes.byref(p), pose_period,
                                              os.fsencode(audio) if audio else None, os.fsencode(output), None))
