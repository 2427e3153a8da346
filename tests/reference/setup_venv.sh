#!/usr/bin/env bash
# setup_venv.sh: creates the Python venv that runs the real upstream preprocessing libraries
# (lws, librosa + resampy, OpenCV) for tests/reference/preproc_reference.py.
# Usage: setup_venv.sh VENV_DIR      (idempotent: reuses a venv whose pins are already installed)
# The venv sees Debian's numpy 1.24 (--system-site-packages); everything else comes from PyPI.
# Pins: versions that install on Python 3.11 with numpy 1.24 and compute what upstream computed:
#   lws 1.2.8 (the sqrt-Hann/2 analysis window of >= 1.2.6, np.fft), librosa 0.10.1 (mel filterbank
#   identical to 0.7/0.8; called with keywords), resampy 0.2.2 (the 2021 kaiser_best table;
#   >= 0.3 ships a different one), opencv-python-headless
#   4.8.1.78 (bundles libjpeg-turbo: the same JPEG numbers as Debian's libjpeg62-turbo).
set -euo pipefail
VENV=${1:?usage: setup_venv.sh VENV_DIR}
PINS=(numpy==1.24.2 "Cython<3" lws==1.2.8 librosa==0.10.1 resampy==0.2.2 soundfile==0.12.1
      opencv-python-headless==4.8.1.78)
STAMP="$VENV/.pcavs-pins"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${PINS[*]}" ]; then
  echo "setup_venv: $VENV is up to date"
  exit 0
fi
/usr/bin/python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "numpy==1.24.2" "Cython<3" setuptools wheel
# lws ships only as a source distribution whose pre-generated C++ predates Python 3.11: regenerate it
# from lws.pyx with Cython < 3 (LWS_USE_CYTHON=1), building against the venv's numpy without isolation.
LWS_USE_CYTHON=1 "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-build-isolation \
  --no-binary lws lws==1.2.8
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "${PINS[@]}"
"$VENV/bin/python" -c "import lws, librosa, resampy, cv2; print('setup_venv: lws', lws.__version__ if hasattr(lws, '__version__') else '?', 'librosa', librosa.__version__, 'resampy', resampy.__version__, 'cv2', cv2.__version__)"
echo "${PINS[*]}" > "$STAMP"
