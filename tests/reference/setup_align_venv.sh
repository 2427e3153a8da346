#!/usr/bin/env bash
# setup_align_venv.sh: makes VENV_DIR able to run tests/reference/align_reference.py: OpenCV (cv2.warpAffine)
# and scikit-image (SimilarityTransform.estimate, as upstream scripts/align_68.py). Reuses the venv of
# setup_venv.sh when given its path (only the missing packages are installed; its pins are not touched).
# Usage: setup_align_venv.sh VENV_DIR     (idempotent)
# Pins: opencv-python-headless 4.8.1.78 (as setup_venv.sh), scikit-image 0.21.0 (installs on Python 3.11
# with numpy 1.24; _umeyama unchanged since 0.13), numpy 1.24.2 (Debian's, as setup_venv.sh).
set -euo pipefail
VENV=${1:?usage: setup_align_venv.sh VENV_DIR}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import cv2, skimage" 2>/dev/null; then
  echo "setup_align_venv: $VENV is up to date"
  exit 0
fi
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q numpy==1.24.2 opencv-python-headless==4.8.1.78 \
  scikit-image==0.21.0
"$VENV/bin/python" -c "import cv2, skimage; print('setup_align_venv: cv2', cv2.__version__, 'skimage', skimage.__version__)"
