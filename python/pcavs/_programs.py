"""pcavs._programs: the `pcavs-infer`, `pcavs-convert` and `pcavs-align` commands of the installed package
(pyproject.toml's [project.scripts]): each replaces itself with the native program shipped in the package
(pcavs/bin, built by CMake with libpcavs in pcavs/lib), passing the arguments through."""
import os
import sys

_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def _run(name):
    exe = os.path.join(_BIN, name)
    if not os.access(exe, os.X_OK):
        sys.exit(f"{name}: {exe} is missing: this pcavs package was installed without its programs")
    os.execv(exe, [name] + sys.argv[1:])


def infer():
    _run("pcavs-infer")


def convert():
    _run("pcavs-convert")


def align():
    _run("pcavs-align")
