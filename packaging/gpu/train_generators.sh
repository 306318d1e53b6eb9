#!/usr/bin/env bash
# Train the tumor generator's models on one GPU machine in one call, several runs side by side.
#
#   MINUTES=7 OUT=/path/to/out bash packaging/gpu/train_generators.sh
#
# Each run is `bus-engine train` (engine/generator/train.py) with a wall-time budget; they share the
# GPU. What comes back is one .tgz per run (EMA model at the end and at its best validation loss,
# log.csv, loss.png, summary.json) plus run.log. Expects, beside the checkout (ignored by git):
#   .whl/        wheels the GPU image lacks (diffusers, importlib_metadata), installed to /tmp/site
#   gpu_carry/   the training caches (generator-windows-v2-s64.npz, -s128.npz) built here on CPU
# Nothing is downloaded; the data itself never travels, only the preprocessed windows.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:?set OUT to the folder that comes back}
MINUTES=${MINUTES:-7}
STEPS=${STEPS:-1000000}
BATCH=${BATCH:-128}
RUNS=${RUNS:-all64 all128 busi64 breast64 busi128 breast128}
PY=${PY:-python3}
mkdir -p "$OUT" /tmp/runs
exec > >(tee -a "$OUT/run.log") 2>&1

if [ -d .whl ] && ! $PY -c "import diffusers" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export XDG_CACHE_HOME=/tmp/xdg
mkdir -p "$XDG_CACHE_HOME/bus-studio"
cp gpu_carry/generator-windows-v2-s*.npz "$XDG_CACHE_HOME/bus-studio/" || exit 1
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
$PY -c "import torch, diffusers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'diffusers', diffusers.__version__)"

args_for() {
  case "$1" in
    *64) echo "--size 64 --patch 2" ;;
    *128) echo "--size 128 --patch 4" ;;
  esac
  case "$1" in
    busi*) echo "--train-datasets busi" ;;
    breast*) echo "--train-datasets breast" ;;
  esac
}

pids=()
for run in $RUNS; do
  # shellcheck disable=SC2046
  $PY -m engine.cli.main train --out "/tmp/runs/$run" $(args_for "$run") \
    --split resources/models/default/split.json --steps "$STEPS" --minutes "$MINUTES" \
    --batch "$BATCH" --lr 5e-4 --ema-decay 0.999 --threads 2 \
    --save-every 5000 --val-every "${VAL_EVERY:-250}" --log-every "${LOG_EVERY:-50}" > "/tmp/runs/$run.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"; echo "run $(echo $RUNS | cut -d' ' -f$((i + 1))) exited $?"
done
for run in $RUNS; do
  echo "== $run"; tail -n 4 "/tmp/runs/$run.log"
  cp "/tmp/runs/$run.log" "/tmp/runs/$run/stdout.log" 2>/dev/null
  keep="model_best log.csv loss.png summary.json stdout.log"
  case "$run" in all*) keep="model $keep" ;; esac
  # shellcheck disable=SC2086
  (cd "/tmp/runs/$run" && tar -czf "$OUT/$run.tgz" $(ls -d $keep 2>/dev/null))
done
ls -la "$OUT"
