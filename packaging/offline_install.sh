#!/usr/bin/env bash
# On an offline workstation: install BUS Studio from a wheelhouse folder alone (no index, no network),
# then verify the install by running the main job on the bundled sample study.
#
#   bash packaging/offline_install.sh WHEELHOUSE [VENV]
set -euo pipefail
WHEELHOUSE=$(cd "${1:?usage: offline_install.sh WHEELHOUSE [VENV]}" && pwd)
VENV=${2:-$HOME/.local/share/busstudio/venv}
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
HF_HUB_OFFLINE=1 "$VENV/bin/bus-engine" synthesize --method physics \
    --text "irregular hypoechoic mass with posterior shadowing, 12 mm" --out "$out"
echo "offline_install: ok, the main job wrote $(ls "$out" | wc -l) files to $out"
