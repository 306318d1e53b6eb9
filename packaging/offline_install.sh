#!/usr/bin/env bash
# On an offline workstation: install BUS Studio from a wheelhouse folder alone (no index, no network),
# then verify the install by running the main job on the bundled sample study.
#
#   bash packaging/offline_install.sh WHEELHOUSE [VENV]
set -euo pipefail
WHEELHOUSE=$(cd "${1:?usage: offline_install.sh WHEELHOUSE [VENV]}" && pwd)
VENV=$(realpath -m "${2:-$HOME/.local/share/busstudio/venv}")
# Ignore every pip configuration file and inherited PIP_* variable (site indexes, find-links,
# constraints): only the wheelhouse counts.
for var in $(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/\1/p'); do unset "$var"; done
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
(cd "$WHEELHOUSE" && sha256sum --quiet -c SHA256SUMS) || { echo "offline_install: wheelhouse checksums do not match" >&2; exit 1; }
TARGET=$(sed -n 's/.*target=\([a-z]*\).*/\1/p' "$WHEELHOUSE/TARGET")
TORCH=$(sed -n 's/.*torch=\([^ ]*\).*/\1/p' "$WHEELHOUSE/TARGET")
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --no-index --find-links "$WHEELHOUSE" "torch==$TORCH"
"$VENV/bin/python" -m pip install -q --no-index --find-links "$WHEELHOUSE" "busstudio[$TARGET]"
echo "offline_install: installed into $VENV; verifying with the main job on the bundled sample"
out=$(mktemp -d)
cd "$out"  # outside any source checkout: only the installed wheel can answer
# The installed engine must read its resources from the wheel's data files.
model_dir=$("$VENV/bin/bus-engine" settings | sed -n 's/^model_dir  *//p')
case "$model_dir" in
    "$VENV"/share/busstudio/resources/*) ;;
    *) echo "offline_install: the engine reads its model from $model_dir, not $VENV/share/busstudio" >&2; exit 1 ;;
esac
HF_HUB_OFFLINE=1 "$VENV/bin/bus-engine" synthesize --method physics \
    --text "irregular hypoechoic mass with posterior shadowing, 12 mm" --out "$out/job"
[ -s "$out/job/record.json" ] || { echo "offline_install: the main job wrote no record" >&2; exit 1; }
echo "offline_install: ok, the main job wrote $(ls "$out/job" | wc -l) files to $out/job"
