#!/usr/bin/env bash
# Site adaptation on real footage with an honest split: adapt the default model on pose2sim frames 0-49 (DEV) of
# the 4 views, 2D only, then score frames 50-99 (REPORT) of each view against the 4-view triangulated reference,
# and the synthetic held-out split before/after.
#   bash recipes/adapt.sh [DATA_DIR] [REF_NPZ] [OUT_DIR]     (~5 min on 2 shared CPU cores)
set -euo pipefail
DATA=$(realpath "${1:-../shared/data}")
REF=${2:-../notes/multiview/ref_pose2sim.npz}
OUT=${3:-out/adapt}
P=${POSE3D:-pose3d}
V="$DATA/video/pose2sim_single_person"
INIT=${INIT:-pose3d_cli/models/default.pt}
mkdir -p "$OUT"
[ -f "$OUT/replay.h5" ] || $P -q synth "$DATA/mocap/bvh/bandai_namco_1" "$OUT/replay.h5" --views 2 --fps 10 --seed 0 \
  --split-by file --test 0.2 --val 0.1
[ -f "$OUT/site.pt" ] || $P adapt "$V"/cam0{1,2,3,4}.mp4 -o "$OUT/site.pt" --init "$INIT" --replay "$OUT/replay.h5" \
  --calib "$V/Calib.qca.txt" --frames 0:50 --epochs 2 --subsample 10
for m in default site; do
  ck=$INIT; [ $m = site ] && ck="$OUT/site.pt"
  $P -q eval "$ck" "$OUT/replay.h5" --split test --json "$OUT/eval_$m.json"
  for c in 01 02 03 04; do
    [ -f "$OUT/${m}_cam$c.csv" ] || $P -q infer "$V/cam$c.mp4" -o "$OUT/${m}_cam$c.csv" --model "$ck" --calib "$V/Calib.qca.txt"
    $P score "$OUT/${m}_cam$c.csv" "$REF" --frames 50:100 --json "$OUT/score_${m}_cam$c.json" > /dev/null
  done
done
python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| view | default P-MPJPE (50-99) | adapted |")
for c in ("01", "02", "03", "04"):
    a, b = (json.load(open(f"{out}/score_{m}_cam{c}.json")) for m in ("default", "site"))
    pa, pb = (d["mpjpe"]["p_mpjpe"]["all"] for d in (a, b))
    print(f"| cam{c} | {pa:.1f} | {pb:.1f} |")
for m in ("default", "site"):
    e = json.load(open(f"{out}/eval_{m}.json"))["conditions"]
    print(f"synthetic held-out {m}: stored {e['stored']['p_mpjpe']:.1f} mm, clean {e['clean']['p_mpjpe']:.1f} mm")
PY
