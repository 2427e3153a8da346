"""safetensors_io.py: minimal safetensors reader/writer for the PyTorch reference scripts.

The `safetensors` package is not in Debian, so the reference scripts write the format by hand:
8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} plus an
optional "__metadata__" of string values, then the raw little-endian bytes. Tensors are
written in the order given (the C reader keeps file order)."""
import json
import struct

import numpy as np

_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int64"): "I64"}
_NP = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def _to_numpy(value):
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().contiguous().numpy()
    arr = np.asarray(value)  # np.ascontiguousarray would turn a 0-d tensor into shape [1]
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def save(path, tensors, metadata=None):
    """tensors: dict (ordered) name -> numpy array or torch tensor (float32/float16/int64)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        arr = _to_numpy(value)
        if arr.dtype not in _DTYPES:
            arr = arr.astype(np.float32)
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load(path):
    """Returns (dict name -> numpy array, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=_NP[info["dtype"]])
        out[name] = arr.reshape(info["shape"])
    return out, meta
