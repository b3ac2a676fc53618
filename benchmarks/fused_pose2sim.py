"""Fused lifter vs plain lift vs MediaPipe's own 3D on the pose2sim views, per view and split.

    python benchmarks/fused_pose2sim.py MODEL.pt MULTIVIEW_DIR OUTDIR [--split 50:100]

MULTIVIEW_DIR holds ``ref_pose2sim.npz`` and the ``pose3d_camXX.csv`` / ``mediapipe_camXX.csv`` of
``benchmarks/reference_pose2sim.py``; ``pose3d infer camXX.mp4 --model MODEL.pt`` writes OUTDIR/fused_camXX.csv
(reused when present). Choose settings with ``--split 0:50`` (DEV); report ``50:100`` (REPORT) only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"
CAMS = ("cam01", "cam02", "cam03", "cam04")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model"), ap.add_argument("multiview"), ap.add_argument("out")
    ap.add_argument("--split", default="50:100")
    a = ap.parse_args()
    mv, out = Path(a.multiview), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from pose3d_cli.multiview.score import score_file

    rows = ["| view | method | P-MPJPE | rot-only | forearm L/R | elbow RMSE L/R ° | swapped frames |", "|---|---|---|---|---|---|---|"]
    res = {}
    for c in CAMS:
        fused = out / f"fused_{c}.csv"
        if not fused.exists():
            subprocess.run([sys.executable, "-m", "pose3d_cli", "infer", str(CLIP / f"{c}.mp4"), "--model", a.model,
                            "-o", str(fused)], check=True, cwd=REPO)
        for kind, p in (("fused", fused), ("pose3d", mv / f"pose3d_{c}.csv"), ("mediapipe", mv / f"mediapipe_{c}.csv")):
            r = score_file(str(p), str(mv / "ref_pose2sim.npz"), frames=a.split)
            m, b, ang = r["mpjpe"], r["bone_length_ratio"], r["angle_rmse_deg"]
            res[f"{c}/{kind}"] = {"p_mpjpe": m["p_mpjpe"]["all"], "rot_only": m["mpjpe_rotation"]["all"],
                                  "forearm": [b["forearm_left"], b["forearm_right"]],
                                  "elbow_rmse": [ang["elbow_flexion_left"], ang["elbow_flexion_right"]],
                                  "swapped": r["swapped_frames"]}
            x = res[f"{c}/{kind}"]
            rows.append(f"| {c} | {kind} | {x['p_mpjpe']:.0f} | {x['rot_only']:.0f} | {x['forearm'][0]:.2f}/{x['forearm'][1]:.2f} "
                        f"| {x['elbow_rmse'][0]:.0f}/{x['elbow_rmse'][1]:.0f} | {x['swapped']} |")
    print(f"# split: reference frames {a.split}; 12 limb joints; mm\n")
    print("\n".join(rows))
    (out / f"fused_{a.split.replace(':', '-')}.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
