#!/usr/bin/env bash
# install_deps.sh: installs the Debian 12 packages pcavs needs to build, test and run its demo.
# Runs apt-get as root, or through sudo; installs only what is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libopenblas-dev libcjson-dev libzip-dev
      libjpeg62-turbo-dev libpng-dev libsndfile1-dev ffmpeg
      python3 python3-dev python3-numpy python3-pil python3-torch python3-venv python3-pip
      clang libclang-rt-14-dev gnuplot-nox g++ libdlib-dev libdlib-data)
# Each area's further packages: scripts/deps/<area>.txt (required) and <area>.optional.txt (tests that
# need them skip, saying why, when they cannot be installed). One package a line, '#' comments.
OPTIONAL=()
for f in scripts/deps/*.txt; do
  [ -e "$f" ] || continue
  case "$f" in *.pip.txt) continue ;; esac # PyPI wheels, below
  while read -r p _; do
    [ -z "$p" ] || [ "${p#\#}" != "$p" ] && continue
    case "$f" in *.optional.txt) OPTIONAL+=("$p") ;; *) PKGS+=("$p") ;; esac
  done < "$f"
done
# Python build tools from PyPI that Debian lacks: scripts/deps/<area>.pip.txt (pinned) are downloaded as wheels
# into the wheelhouse, once per change of the list; tests install them from there with --no-index.
WHEELHOUSE=${PCAVS_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcavs/wheelhouse}
for f in scripts/deps/*.pip.txt; do
  [ -e "$f" ] || continue
  stamp="$WHEELHOUSE/$(basename "$f")"
  cmp -s "$f" "$stamp" 2>/dev/null && continue
  if mkdir -p "$WHEELHOUSE" && /usr/bin/python3 -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$WHEELHOUSE" -r "$f"; then
    cp "$f" "$stamp"
  else
    echo "install_deps: could not download the wheels of $f into $WHEELHOUSE; the tests that need them will skip" >&2
  fi
done
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=() missing_optional=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${OPTIONAL[@]}"; do installed "$p" || missing_optional+=("$p"); done
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ]; then
  echo "install_deps: all Debian packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]} ${missing_optional[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
# Packages of another architecture (name:arm64, cross builds) need it added to dpkg before apt-get update.
for p in "${missing[@]}" "${missing_optional[@]}"; do
  case "$p" in *:*) a=${p##*:}
    dpkg --print-foreign-architectures | grep -qx "$a" || [ "$a" = "$(dpkg --print-architecture)" ] ||
      $SUDO dpkg --add-architecture "$a" || echo "install_deps: cannot add architecture $a" >&2 ;;
  esac
done
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for p in "${missing_optional[@]}"; do # one at a time: one that cannot be had leaves the others
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p" ||
    echo "install_deps: optional package $p could not be installed; the tests that need it will skip" >&2
done
