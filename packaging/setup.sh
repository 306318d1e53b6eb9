#!/usr/bin/env bash
# One-command setup on a fresh CPU machine: system tools, a virtual environment, torch (pinned,
# first, so nothing pulls a CUDA build), then the project with its development extras.
#   bash packaging/setup.sh            # CPU (onnxruntime)
#   bash packaging/setup.sh --cuda     # CUDA workstation (onnxruntime-gpu, torch CUDA build)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BUS_VENV:-.venv}
TORCH_VERSION=${BUS_TORCH_VERSION:-2.13.0}
TARGET=cpu
[ "${1:-}" = "--cuda" ] && TARGET=cuda

# System tools the tests use: dciodvfy (dicom3tools) validates written DICOM; Xvfb for GUI screenshots.
if ! command -v dciodvfy >/dev/null 2>&1 || ! command -v Xvfb >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq dicom3tools xvfb libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null
    else
        echo "setup: note: install dicom3tools and xvfb with your package manager (needs root)" >&2
    fi
fi

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "torch==$TORCH_VERSION"
"$VENV/bin/python" -m pip install -q -e ".[$TARGET,dev]"
"$VENV/bin/python" -c "import engine, torch; print('setup: ok, engine', engine.__version__, 'torch', torch.__version__)"
