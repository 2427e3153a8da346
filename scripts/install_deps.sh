#!/usr/bin/env bash
# install_deps.sh: installs the Debian 12 packages pcavs needs to build, test and run its demo.
# Runs apt-get as root, or through sudo; installs only what is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libopenblas-dev libcjson-dev libzip-dev
      libjpeg62-turbo-dev libpng-dev libsndfile1-dev ffmpeg
      python3 python3-dev python3-numpy python3-pil python3-torch python3-venv python3-pip
      clang libclang-rt-14-dev gnuplot-nox g++ libdlib-dev libdlib-data)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all Debian packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
