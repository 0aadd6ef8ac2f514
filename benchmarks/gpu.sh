#!/usr/bin/env bash
# The prepared GPU check (run on a lent accelerator machine, from the repo root, with .venv set up):
# the same pipeline on CUDA, half precision in the scorer, for 1, 4 and 8 sources batched together.
# Prints one table per run and writes $OUT/bench-*.json when $OUT is set.
set -euo pipefail
clip=${1:-assets/demo/demo.mp4}
out=${OUT:-/tmp}
export PAINMON_SCORING__DEVICE=cuda
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
for n in 1 4 8; do
  echo "== $n source(s) =="
  .venv/bin/painmon bench --source "$clip" --sources "$n" --json "$out/bench-$n.json"
done
echo "== baseline on the same GPU =="
.venv/bin/painmon bench --source "$clip" --baseline --json "$out/bench-baseline.json"
