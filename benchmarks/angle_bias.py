"""Elbow and knee flexion and upper-arm elevation bias of a lifter by true angle, on held-out synthetic pairs (no
video, no fit).

    python benchmarks/angle_bias.py PAIRS.h5 [--model M.pt] [--split test] [--every 5]

Lifts the split's stored (detector-like) and exact 2D with the model alone (flip averaging on, as infer; no
smoothing, no skeleton fit) and prints, per joint angle and band of true flexion, the mean and RMSE of predicted
minus true flexion (degrees). A lifter that averages the two depth branches of a forearm pointing at the camera
bends strongly bent elbows less than they are: this separates that shrinkage (the network's, on its own domain)
from what the real detector's 2D adds. The upper arm's elevation relative to the trunk (RULA's upper-arm angle) is
banded like the flexions (0-30° is an arm hanging down).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: degrees of the true angle; below 0: an upper arm behind the trunk (its elevation is signed; these pairs were left
#: out of every band before stop 30, and they carry the largest errors)
BANDS = ((-90, 0), (0, 30), (30, 60), (60, 90), (90, 120), (120, 180))
ANGLES = ("elbow_flexion_left", "elbow_flexion_right", "knee_flexion_left", "knee_flexion_right",
          "upper_arm_elevation_left", "upper_arm_elevation_right")


def angles_of(poses: np.ndarray, sk) -> dict[str, np.ndarray]:
    """Elbow and knee flexion (:func:`~pose3d_cli.multiview.score.flexion_angles`) and the upper arm's elevation
    relative to the trunk (:func:`~pose3d_cli.body.frame.body_angles`, RULA's upper-arm angle; the vertical does not
    enter it) of (N, J, 3) poses, degrees."""
    from pose3d_cli.body.frame import body_angles
    from pose3d_cli.multiview.score import flexion_angles

    out = flexion_angles(poses, sk)
    arm = body_angles(poses, np.array([0.0, -1.0, 0.0]), sk, upper_arm_reference="trunk")
    out.update({k: arm[k] for k in ANGLES if k.startswith("upper_arm")})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--model", default=str(REPO / "pose3d_cli" / "models" / "default.pt"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--every", type=int, default=5, help="score every N-th pair")
    a = ap.parse_args()
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.evaluate import EvalInputs, clean_projection, lift
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.lifting.codec import root_relative

    model = load_model(a.model)
    data = load_pairs(a.pairs)
    data = data.select_sequences(data.sequences["split"] == a.split)
    sk = model.skeleton
    rows = np.arange(0, len(data), a.every)
    truth = angles_of(root_relative(data.joints_3d.astype(np.float64), sk.index(sk.root))[rows], sk)
    print(f"# {Path(a.model).name} on {Path(a.pairs).name} [{a.split}: {len(rows)} pairs]: predicted − true angle, "
          "mean / RMSE degrees (pairs in the band)\n")
    print("| 2D | angle | " + " | ".join(f"{lo}-{hi}°" for lo, hi in BANDS) + " |")
    print("|---|---|" + "---|" * len(BANDS))
    for name, inputs in (("stored", EvalInputs(data.keypoints_2d, data.confidence)), ("exact", clean_projection(data))):
        pred = angles_of(lift(model, data, inputs, True)[rows].astype(np.float64), sk)
        for k in ANGLES:
            cells = []
            for lo, hi in BANDS:
                s = (truth[k] >= lo) & (truth[k] < hi)
                e = pred[k][s] - truth[k][s]
                cells.append(f"{e.mean():+.1f} / {np.sqrt((e ** 2).mean()):.1f} ({s.sum()})" if s.any() else "-")
            outside = int((~np.any([(truth[k] >= lo) & (truth[k] < hi) for lo, hi in BANDS], axis=0)).sum())
            print(f"| {name} | {k} | " + " | ".join(cells) + " |" + (f" ({outside} outside every band)" if outside else ""))


if __name__ == "__main__":
    main()
