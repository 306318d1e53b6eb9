#!/usr/bin/env bash
# On a connected machine: download every wheel BUS Studio needs for one target into a folder that can
# be carried to an offline workstation (see packaging/offline_install.sh).
#
#   bash packaging/wheelhouse.sh --out wheelhouse [--target cpu|cuda] [--platform linux|windows] [--python 3.11]
#                                [--torch-version 2.13.0] [--torch-index URL]
#
# --torch-index: where torch comes from. For a Linux CPU target use https://download.pytorch.org/whl/cpu
# (PyPI's Linux torch is the CUDA build); for CUDA the index of your CUDA version, e.g. .../whl/cu126.
# Without it, pip's configured indexes are used.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=wheelhouse TARGET=cpu PLATFORM=linux PY=3.11 TORCH_VERSION=2.13.0 TORCH_INDEX=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        --target) TARGET=$2; shift 2 ;;
        --platform) PLATFORM=$2; shift 2 ;;
        --python) PY=$2; shift 2 ;;
        --torch-version) TORCH_VERSION=$2; shift 2 ;;
        --torch-index) TORCH_INDEX=$2; shift 2 ;;
        *) echo "wheelhouse: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$TARGET" in cpu|cuda) ;; *) echo "wheelhouse: --target is cpu or cuda" >&2; exit 2 ;; esac
case "$PLATFORM" in
    linux) PLATS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform linux_x86_64) ;;
    windows) PLATS=(--platform win_amd64) ;;
    *) echo "wheelhouse: --platform is linux or windows" >&2; exit 2 ;;
esac
PYV=${PY/./}
mkdir -p "$OUT"
PIP=(python3 -m pip download --only-binary=:all: --python-version "$PYV" --implementation cp "${PLATS[@]}" -d "$OUT")
torch_args=()
[ -n "$TORCH_INDEX" ] && torch_args=(--index-url "$TORCH_INDEX")
"${PIP[@]}" "${torch_args[@]}" "torch==$TORCH_VERSION"
# The project's own wheel, then its dependencies for the target (torch is already satisfied above).
python3 -m pip wheel --no-deps -w "$OUT" .
"${PIP[@]}" "busstudio[$TARGET]" --find-links "$OUT" "torch==$TORCH_VERSION"
# Record what the folder holds, for the workstation's IT and for verification.
(cd "$OUT" && sha256sum ./*.whl > SHA256SUMS && echo "target=$TARGET platform=$PLATFORM python=$PY torch=$TORCH_VERSION" > TARGET)
echo "wheelhouse: $(ls "$OUT"/*.whl | wc -l) wheels, $(du -sh "$OUT" | cut -f1) in $OUT"
