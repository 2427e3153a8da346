#!/usr/bin/env python3
"""check_layers.py: fails on an #include that points up or sideways in the layer order
core/ <- kernels/ <- backend/ <- pipeline/, with weights_tools/ on core/ beside them and the programs
(pipeline/cli, pipeline/server) on the public header alone. Kernel-internal headers (the CPU forms'
engines: everything in kernels/ that backend/backend.h does not itself include) are private to kernels/.
Usage: check_layers.py SOURCE_DIR   Prints every violation, then 'N passed, N failed'."""
import os
import re
import sys

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# What each folder may include, by the folder that defines the header.
ALLOWED = {
    "include": {"include"},
    "core": {"include", "core"},
    "kernels": {"include", "core", "kernels"},
    "backend": {"include", "core", "kernels", "backend"},
    "pipeline": {"include", "core", "kernels-public", "backend", "pipeline"},
    "weights_tools": {"include", "core", "weights_tools"},
    "programs": {"include", "programs"},
}
PROGRAM_DIRS = ("pipeline/cli", "pipeline/server")


def layer_of(rel):
    if rel.startswith(PROGRAM_DIRS):
        return "programs"
    top = rel.split("/", 1)[0]
    return top if top in ALLOWED else None


def sources():
    for top in ("include", "core", "kernels", "backend", "pipeline", "weights_tools"):
        for root, _, files in os.walk(os.path.join(SRC, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h", ".cu", ".cpp")):
                    yield os.path.relpath(os.path.join(root, f), SRC)


def main():
    files = list(sources())
    defined = {}  # header basename -> [layer]
    for rel in files:
        if rel.endswith(".h"):
            defined.setdefault(os.path.basename(rel), []).append(layer_of(rel))
    # kernels' public headers: those backend.h includes, their own includes, and kctx.h
    public = {"kctx.h"}
    todo = INCLUDE.findall(open(os.path.join(SRC, "backend", "backend.h")).read())
    while todo:
        h = todo.pop()
        if h in public or "kernels" not in defined.get(h, []):
            continue
        public.add(h)
        todo += INCLUDE.findall(open(os.path.join(SRC, "kernels", h)).read())
    passed = failed = 0
    for rel in files:
        me = layer_of(rel)
        text = open(os.path.join(SRC, rel), errors="replace").read()
        for h in INCLUDE.findall(text):
            owners = defined.get(os.path.basename(h))
            if owners is None:
                continue  # generated or a same-folder private header of a program
            owner = owners[0]
            if owner == "kernels" and os.path.basename(h) in public:
                owner = "kernels-public"
            ok = owner in ALLOWED[me] or (owner == "kernels-public" and "kernels" in ALLOWED[me])
            if me == "programs" and owner == "programs":
                ok = os.path.dirname(rel) == os.path.dirname(
                    next(r for r in files if os.path.basename(r) == os.path.basename(h)))
            if ok:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {rel}: includes \"{h}\" of layer {owner}, which {me}/ may not see")
    print(f"layering: {len(files)} files, {passed + failed} project includes checked")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
