"""Does one camera read a bent neck? The lifter's neck flexion by where the camera stands, on held-out synthetic pairs.

    python benchmarks/neck_views.py PAIRS.h5 [--model M.pt] [--split test] [--every 3]

The shared pose2sim worker never bends his neck (stop 31: the reference's "30°" was its own neutral's error), so
the real clip cannot say whether a neck bent forward and filmed head-on is read; mocap can. Each held-out pair's
true and lifted neck flexion (``body.frame.body_angles``: head − thorax against the trunk axis, neutral 0: the
mocap skeleton's own neutral cancels in the difference) is compared by the camera's azimuth around the person
(``body.frame.camera_azimuth``: head-on = within 30° of the front or the back, profile = 60-120°, oblique between)
and by the true flexion above the skeleton's neutral (ergo's ``neck_neutral_deg`` 10°), in RULA's neck bands
(≤ 10°, 10-20°, > 20°). Printed: mean / RMSE of lifted − true (degrees), the share of pairs whose RULA neck band
(flexion bands only; extension is scored from −5°) is the true one, and the pair counts. Stored (detector-like) and
exact 2D, the model alone with flip averaging (as infer; no smoothing, no skeleton fit). Synthetic pairs are the
lifter's own domain: in the wild it does no better.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VIEWS = (("head-on", lambda a: (a < 30) | (a > 150)), ("oblique", lambda a: ((a >= 30) & (a < 60)) | ((a > 120) & (a <= 150))),
         ("profile", lambda a: (a >= 60) & (a <= 120)))
BANDS = ((-90.0, 10.0), (10.0, 20.0), (20.0, 180.0))  # true flexion above the neutral, RULA's neck bands
NEUTRAL = 10.0  # ergo's neck_neutral_deg for the mocap head top


def rula_band(flexion: np.ndarray) -> np.ndarray:
    """RULA neck band 1/2/3 of flexion above the neutral (extension, below −5°, is 4)."""
    return np.where(flexion < -5, 4, np.where(flexion <= 10, 1, np.where(flexion <= 20, 2, 3)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--model", default=str(REPO / "pose3d_cli" / "models" / "default.pt"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--every", type=int, default=3, help="score every N-th pair")
    a = ap.parse_args()
    import h5py

    from pose3d_cli.body.frame import body_angles, camera_azimuth
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.evaluate import EvalInputs, clean_projection, lift
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.lifting.codec import root_relative

    model = load_model(a.model)
    data = load_pairs(a.pairs)
    keep = data.sequences["split"] == a.split
    with h5py.File(a.pairs, "r") as f:  # the camera of each pair: world Z up in its frame
        R_all = f["cam_from_world_R"][()].astype(np.float64)
    up = R_all[keep[data.sequence_index]][:, :, 2]  # (N, 3): R @ (0, 0, 1), the split's rows
    data = data.select_sequences(keep)
    sk = model.skeleton
    rows = np.arange(0, len(data), a.every)
    truth_poses = root_relative(data.joints_3d.astype(np.float64), sk.index(sk.root))
    truth = body_angles(truth_poses[rows], up[rows], sk)["neck_flexion"] - NEUTRAL
    az = camera_azimuth(truth_poses[rows], up[rows], sk)
    print(f"# {Path(a.model).name} on {Path(a.pairs).name} [{a.split}: {len(rows)} pairs]: lifted − true neck flexion, "
          f"mean / RMSE degrees; RULA neck band right, %; (pairs)\n")
    print("| 2D | camera | " + " | ".join(f"true {lo:g}-{hi:g}°" if lo > -90 else f"true ≤ {hi:g}°" for lo, hi in BANDS)
          + " |")
    print("|---|---|" + "---|" * len(BANDS))
    for name, inputs in (("stored", EvalInputs(data.keypoints_2d, data.confidence)), ("exact", clean_projection(data))):
        pred_poses = lift(model, data, inputs, True)[rows].astype(np.float64)
        pred = body_angles(pred_poses, up[rows], sk)["neck_flexion"] - NEUTRAL
        for view, where in VIEWS:
            cells = []
            for lo, hi in BANDS:
                s = where(az) & (truth > lo) & (truth <= hi)
                e = pred[s] - truth[s]
                right = 100 * np.mean(rula_band(pred[s]) == rula_band(truth[s])) if s.any() else np.nan
                cells.append(f"{e.mean():+.1f} / {np.sqrt((e ** 2).mean()):.1f}; {right:.0f}% ({s.sum()})" if s.any()
                             else "-")
            print(f"| {name} | {view} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
