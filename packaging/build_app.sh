#!/usr/bin/env bash
# PyInstaller one-folder build of the app with the default model, then a smoke test of the result.
#
#   bash packaging/build_app.sh [--python PYTHON] [--dist DIR]
#
# PYTHON: an environment with BUS Studio installed (default: .venv/bin/python; a wheelhouse install
# such as packaging/offline_install.sh's venv works too). PyInstaller is installed into it when absent
# (a build tool: needs the package index once). Output: DIR/busstudio/ (default dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python DIST=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --python) PY=$2; shift 2 ;;
        --dist) DIST=$2; shift 2 ;;
        *) echo "build_app: unknown option $1" >&2; exit 2 ;;
    esac
done
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install -q "pyinstaller>=6.10"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" \
    packaging/pyinstaller/busstudio.spec
echo "build_app: built $DIST/busstudio in $(( $(date +%s) - start )) s, $(du -sh "$DIST/busstudio" | cut -f1)"
bash packaging/smoke_app.sh "$DIST/busstudio"
