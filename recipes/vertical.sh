#!/usr/bin/env bash
# Retrains the vertical estimator (pose3d_cli/body/vertical.py, per-frame up model) for a given lifter checkpoint
# and measures it on held-out synth (test files of the stable file split, new cameras) and, when given, on the
# pose2sim infer outputs.
#   bash recipes/vertical.sh CKPT [MOCAP_DIR] [OUT_DIR] [POSE2SIM_INFER_DIR]
# CKPT: the lifter the vertical model will read (e.g. pose3d_cli/models/default.pt after it is retrained).
# Then install: cp OUT_DIR/vertical_up.npz pose3d_cli/models/vertical_up.npz and update README "Vertical".
# Budget on 2 cores: synth ~1 min, lifting ~3-5 min, training --minutes 5, eval ~1 min (not yet timed end to end).
set -euo pipefail
CKPT=${1:?usage: bash recipes/vertical.sh CKPT [MOCAP_DIR] [OUT_DIR] [POSE2SIM_INFER_DIR]}
MOCAP=${2:-../shared/data/mocap}
OUT=${3:-out/vertical}
P2S=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
MINUTES=${VERTICAL_MINUTES:-5}
mkdir -p "$OUT"
# same file split as recipes/default.sh (seed 0, by file, val/test 0.1): the test files stay unseen by both nets
SPLIT=(--fps 30 --split-by file --val 0.1 --test 0.1)
python -m pose3d_cli synth "$MOCAP" "$OUT/train.h5" --views 4 --seed 0 "${SPLIT[@]}" \
  --camera-config "$HERE/vertical_cameras.yaml"
python -m pose3d_cli synth "$MOCAP" "$OUT/eval.h5" --views 4 --seed 1 "${SPLIT[@]}"   # new cameras
python scripts/vertical_lift_synth.py "$OUT/train.h5" "$OUT/lifted_train.npz" --model "$CKPT" --every 2
python scripts/vertical_lift_synth.py "$OUT/eval.h5" "$OUT/lifted_eval.npz" --model "$CKPT" --every 2
python scripts/train_vertical.py "$OUT/lifted_train.npz" -o "$OUT/vertical_up.npz" --epochs 12 --minutes "$MINUTES"
EVAL=(--synth "$OUT/lifted_eval.npz" --split test --model "$OUT/vertical_up.npz" --json "$OUT/eval.json")
if [ -n "$P2S" ]; then EVAL+=(--pose2sim "$P2S"); fi
python scripts/vertical_eval.py "${EVAL[@]}"
