#!/usr/bin/env bash
# Reproduces the default model shipped in pose3d_cli/models/default.pt from the shared mocap: a blend of a plain
# MLP and a fused MLP (BlazePose's own 3D as an extra input, simulated in training), both trained on the same pairs.
#   bash recipes/default.sh [MOCAP_DIR] [OUT_DIR]
# Expected on 2 CPU cores: ~20 s synth (543 files, 536k pairs), ~4-15 min per model (12 epochs; 4.2 and 6 min on a
# quiet machine), ~1 min eval; held-out metrics in README (model card: they are the plain part's).
set -euo pipefail
MOCAP=${1:-../shared/data/mocap}
OUT=${2:-out/default}
mkdir -p "$OUT"
pose3d synth "$MOCAP" "$OUT/synth.h5" --views 8 --fps 30 --seed 0 --split-by file --val 0.1 --test 0.1
for MODEL in mlp fused; do
  pose3d train "$OUT/synth.h5" -o "$OUT/$MODEL.pt" --model $MODEL --arg width=384 --arg blocks=2 --arg dropout=0.05 \
    --epochs 12 --batch-size 1024 --lr 3e-3 --seed 0 --threads 2
done
python -m pose3d_cli.lifting.blend "$OUT/mlp.pt" "$OUT/fused.pt" -o "$OUT/default.pt" --weight 0.3
pose3d eval "$OUT/default.pt" "$OUT/synth.h5" --split test --sweep --json "$OUT/eval.json" --plots "$OUT/plots"
