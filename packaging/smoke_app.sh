#!/usr/bin/env bash
# Smoke test of a built app folder: start it offscreen (a screenshot of the main window), then one
# physics-draft generation on the bundled sample, from a directory outside any checkout.
#
#   bash packaging/smoke_app.sh dist/busstudio
set -euo pipefail
APP=$(cd "${1:?usage: smoke_app.sh APP_FOLDER}" && pwd)
run=$(mktemp -d)
cd "$run"  # no source tree to fall back on
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
"$APP/busstudio" --screenshot "$run/window.png"
[ -s "$run/window.png" ] || { echo "smoke_app: no screenshot written" >&2; exit 1; }
"$APP/busstudio" --smoke-generate "$run/generated"
echo "smoke_app: ok (screenshot and one physics generation in $run)"
