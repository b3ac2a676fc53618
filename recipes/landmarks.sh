#!/usr/bin/env bash
# A lifter trained on BlazePose's landmarks (`pose3d train --landmarks blazepose`, pose3d_cli/synth/landmarks.py),
# against the default recipe, on the pose2sim views (README "Training on the detector's landmarks").
#   bash recipes/landmarks.sh [MOCAP_DIR] [OUT_DIR] [SEED]
# 1. the offsets, measured on the reference's DEV frames 0-49 (benchmarks/landmark_offsets.py; BLAZEPOSE_OFFSETS keeps
#    their symmetric part, without the shoulder widening: see the module doc);
# 2. the default recipe's pairs and training, with --landmarks (~6 min on 2 quiet cores);
# 3. P-MPJPE per view (dev split; re-run with --split 50:100 for the report split, once the choice is made);
# 4. `ergo --calib` on each view (the true vertical: only the lifter differs) and the agreement between views, with
#    each view's trunk angles against the reference's (scripts/ergo_views.py), dev then report frames.
set -euo pipefail
MOCAP=${1:-../shared/data/mocap}
OUT=${2:-out/landmarks}
SEED=${3:-0}
CLIP=${CLIP:-../shared/data/video/pose2sim_single_person}
mkdir -p "$OUT/views"
[ -f "$OUT/ref/ref_pose2sim.npz" ] || python benchmarks/reference_pose2sim.py "$OUT/ref" --split 0:50
[ -f "$OUT/synth.h5" ] || pose3d synth "$MOCAP" "$OUT/synth.h5" --views 8 --fps 30 --seed 0 --split-by file --val 0.1 --test 0.1
python benchmarks/landmark_offsets.py "$OUT/ref/ref_pose2sim.npz" "$OUT/synth.h5"
pose3d train "$OUT/synth.h5" -o "$OUT/landmarks.pt" --landmarks blazepose --model mlp --arg width=384 --arg blocks=2 \
  --arg dropout=0.05 --epochs 12 --batch-size 1024 --lr 3e-3 --seed "$SEED" --threads 2
python benchmarks/reference_pose2sim.py "$OUT/lm" --split 0:50 --model "$OUT/landmarks.pt" --reference "$OUT/ref/ref_pose2sim.npz"
for c in cam01 cam02 cam03 cam04; do
  pose3d -q ergo "$CLIP/$c.mp4" -o "$OUT/views/${c}_landmarks.csv" --calib "$CLIP/Calib.qca.txt" --model "$OUT/landmarks.pt"
  pose3d -q ergo "$CLIP/$c.mp4" -o "$OUT/views/${c}_default.csv" --calib "$CLIP/Calib.qca.txt"
done
for tag in default landmarks; do
  for frames in 0:50 50:100; do
    python scripts/ergo_views.py "$OUT/views" --tag "$tag" --ref "$OUT/ref/ref_pose2sim.npz" --frames "$frames"
  done
done
