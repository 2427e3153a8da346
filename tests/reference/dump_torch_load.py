"""dump_torch_load.py: what torch.load returns for PC-AVS checkpoints, as one safetensors file, for the
bit-exact comparison with pcavs-convert (tests/test_convert.c).

  --ckpt DIR --out FILE   torch.load(DIR/latest_net_{G,V,E,A_sync}.pth) and write every tensor of every
                          state_dict (training-only ones included) as "<net>.<key>", float tensors as
                          float32 (the converter's output dtype), int64 as int64, in state_dict order.
  --make-small DIR        writes small hand-made checkpoints exercising what real files may contain
                          beyond plain contiguous float32 tensors (0-d tensors, a storage shared by two
                          tensors, a non-zero storage offset, a transposed (non-contiguous) view, float64,
                          float16, an empty tensor, nn.Parameter values, a long key), each in both formats
                          (DIR/small_legacy.pth, DIR/small_zip.pth), plus DIR/small_expected.safetensors
                          (torch.load of the legacy file, dumped the same way) and a few files the
                          converter must refuse (DIR/bad_*.pth: non-tensor values, an arbitrary global;
                          DIR/bad_keys/latest_net_A_sync.pth: a misshapen, a missing and an unexpected tensor).
Run with /usr/bin/python3 (Debian python3-torch)."""
import argparse
import collections
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NETS = ["G", "V", "E", "A_sync"]


def as_output(t):
    t = t.detach()
    if t.is_floating_point():
        return t.to(torch.float32).contiguous()
    if t.dtype == torch.int64:
        return t.contiguous()
    raise SystemExit("unsupported dtype %s" % t.dtype)


def save_exact(path, tensors, metadata):
    """safetensors writer that keeps 0-d shapes (safetensors_io goes through np.ascontiguousarray,
    which turns 0-d arrays into shape (1,))."""
    header, offset = {"__metadata__": {k: str(v) for k, v in metadata.items()}}, 0
    for name, t in tensors.items():
        n = t.numel() * t.element_size()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors.values():
            f.write(t.reshape(-1).numpy().tobytes())


def dump(paths_by_net, out):
    tensors = collections.OrderedDict()
    for net, path in paths_by_net:
        sd = torch.load(path, map_location="cpu")
        for k, v in sd.items():
            tensors["%s.%s" % (net, k)] = as_output(v)
        print("dump_torch_load: %s: %d tensors" % (path, len(sd)))
    save_exact(out, tensors, {"source": "torch.load", "torch": torch.__version__})
    print("dump_torch_load: wrote %s (%d tensors)" % (out, len(tensors)))


def make_small(d):
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    base = torch.randn(6, 5, generator=g)
    shared = torch.randn(20, generator=g)
    sd = collections.OrderedDict()
    sd["w.weight"] = torch.randn(4, 3, 2, 2, generator=g)
    sd["transposed"] = base.t()                      # stride (1, 5): non-contiguous
    sd["shared.a"] = shared[2:10].view(2, 4)         # storage offset 2
    sd["shared.b"] = shared[5:17]                    # same storage, overlapping, offset 5
    sd["double"] = torch.randn(3, 3, generator=g, dtype=torch.float64)
    sd["half"] = torch.randn(7, generator=g).half()
    sd["scalar"] = torch.tensor(2.5)
    sd["bn.num_batches_tracked"] = torch.tensor(123456789012, dtype=torch.int64)
    sd["long_vec"] = torch.tensor([-1, 0, 2 ** 62], dtype=torch.int64)
    sd["empty"] = torch.zeros(0, 4)
    sd["param"] = torch.nn.Parameter(torch.randn(5, generator=g))
    sd["k" * 300] = torch.ones(2)
    sd["strided"] = torch.randn(4, 6, generator=g)[::2, 1::2]  # stride (12, 2), offset 1
    torch.save(sd, os.path.join(d, "small_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(d, "small_zip.pth"))
    dump([("S", os.path.join(d, "small_legacy.pth"))], os.path.join(d, "small_expected.safetensors"))
    # Files that must be refused.
    torch.save({"epoch": 3, "state_dict": collections.OrderedDict(w=torch.ones(2))},
               os.path.join(d, "bad_nested_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(collections.OrderedDict(w=torch.ones(2), n=5), os.path.join(d, "bad_int_zip.pth"))
    torch.save(collections.OrderedDict(w=torch.ones(2), f=collections.Counter()),
               os.path.join(d, "bad_global_legacy.pth"), _use_new_zipfile_serialization=False)
    # An A_sync state_dict with one misshapen, one missing and one unexpected tensor (validation).
    import pcavs_torch as P
    a = P.AudioSyncEncoder().state_dict()
    a["model.conv1.bias"] = torch.zeros(33)
    del a["model.fc.weight"]
    a["extra.weight"] = torch.zeros(2)
    os.makedirs(os.path.join(d, "bad_keys"), exist_ok=True)
    torch.save(a, os.path.join(d, "bad_keys", "latest_net_A_sync.pth"))
    print("dump_torch_load: small checkpoints in %s" % d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt")
    ap.add_argument("--out")
    ap.add_argument("--make-small")
    a = ap.parse_args()
    if a.make_small:
        make_small(a.make_small)
    if a.ckpt:
        if not a.out:
            ap.error("--ckpt needs --out")
        dump([(n, os.path.join(a.ckpt, "latest_net_%s.pth" % n)) for n in NETS], a.out)
    if not a.make_small and not a.ckpt:
        ap.error("nothing to do")


if __name__ == "__main__":
    main()
