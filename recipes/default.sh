#!/usr/bin/env bash
# Reproduces the default model shipped in pose3d_cli/models/default.pt from the shared mocap.
#   bash recipes/default.sh [MOCAP_DIR] [OUT_DIR]
# Expected on 2 CPU cores: ~20 s synth (543 files, 536k pairs), ~15 min training (12 epochs), ~1 min eval;
# held-out metrics in README (model card).
set -euo pipefail
MOCAP=${1:-../shared/data/mocap}
OUT=${2:-out/default}
mkdir -p "$OUT"
pose3d synth "$MOCAP" "$OUT/synth.h5" --views 8 --fps 30 --seed 0 --split-by file --val 0.1 --test 0.1
pose3d train "$OUT/synth.h5" -o "$OUT/default.pt" --model mlp --arg width=384 --arg blocks=2 --arg dropout=0.05 \
  --epochs 12 --batch-size 1024 --lr 3e-3 --seed 0 --threads 2
pose3d eval "$OUT/default.pt" "$OUT/synth.h5" --split test --sweep --json "$OUT/eval.json" --plots "$OUT/plots"
