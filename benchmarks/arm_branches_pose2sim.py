"""Where the elbow error of a phone video comes from: the lift, the skeleton fit's branch choice, or neither.

    python benchmarks/arm_branches_pose2sim.py OUTDIR [--reference REF.npz] [--model M.pt]

On the four pose2sim views (detected as ``pose3d infer`` does, default options), each arm's elbow flexion against
the 4-view reference (``pose3d triangulate``, built in OUTDIR when not given), RMSE in degrees on the dev (0-49) and
report (50-99) frames, for:

- ``lift``: the lifted pose before the skeleton fit (smoothed, as infer smooths it);
- ``fit``: infer's default output (``--skeleton-fit rays``): the four ray placements of elbow and wrist
  (:func:`pose3d_cli.infer.skeleton_fit.arm_candidates`) decoded over the track;
- ``best of 4``: the candidate nearest the reference in each frame: an optimistic bound (it picks with the answer),
  which says how much a better choice among the same candidates could give, and ``wrong``: the share of frames whose
  chosen candidate is more than 10° further from the reference than the best one;
- ``spread``: the median range of elbow flexion over the four candidates (how much the choice matters).

Measured at stop 27 (default model): the fit's candidates hold a branch within a few degrees of the reference in
most frames where the chosen one is 20-40° off, so the elbow error is mostly the choice, not the 2D or the lengths
(README "Not there yet").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from reference_pose2sim import CAMS, CLIP, add_clip_arguments, clip_reference  # noqa: E402  (benchmarks/ is the script's folder)
SPLITS = {"dev": (0, 50), "report": (50, 100)}
WRONG_DEG = 10.0


def flexion(shoulder: np.ndarray, elbow: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """(...) elbow flexion, degrees (0 = straight), of (..., 3) shoulder, elbow and wrist positions."""
    u = shoulder - elbow
    v = wrist - elbow
    c = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
    return 180.0 - np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def arm_table(track, sk, fps: float) -> dict[str, dict[str, np.ndarray]]:
    """Per side: (T,) flexion of the lift and of the fit, (T, 4) of the fit's candidates (see module doc)."""
    from pose3d_cli.infer.skeleton_fit import (RAY_WEIGHT, arm_candidates, bone_of_child, camera_translation,
                                               fit_bone_lengths, jump_weight_at, resolve_to_lengths)
    from pose3d_cli.lifting.codec import pixels_to_network_input

    lifted = track.joints3d.astype(np.float64)  # lifted with --skeleton-fit none: smoothed, root-relative
    xy, c = pixels_to_network_input(track.uv, track.conf, np.asarray(track.metadata["K"]))
    xy, c = xy.astype(np.float64), c.astype(np.float64)
    lengths = fit_bone_lengths(lifted, c, sk)
    fitted = resolve_to_lengths(lifted, lengths, sk, xy, c, jump_weight=jump_weight_at(fps))
    valid = np.isfinite(lifted).all((1, 2))
    P = np.where(valid[:, None, None], lifted, 0.0)
    w = np.clip(c, 0, 1)
    t = camera_translation(P, xy, w)  # as resolve_to_lengths places the pose
    rays = unit(np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], -1))
    bone = bone_of_child(sk)
    out = {}
    for side in ("left", "right"):
        s, e, h = (sk.index(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist"))
        q = fitted[:, s] + t
        E, W, _ = arm_candidates(q, unit(P[:, e] - P[:, s]), rays[:, e], RAY_WEIGHT * w[:, e], lengths[bone[f"{side}_elbow"]],
                                 unit(P[:, h] - P[:, e]), rays[:, h], RAY_WEIGHT * w[:, h],
                                 lengths[bone[f"{side}_wrist"]])
        out[side] = {"lift": flexion(lifted[:, s], lifted[:, e], lifted[:, h]),
                     "fit": flexion(fitted[:, s], fitted[:, e], fitted[:, h]),
                     "candidates": np.where(valid[:, None], flexion(q[:, None], E, W), np.nan)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    add_clip_arguments(ap)
    a = ap.parse_args()
    ref_path = clip_reference(a)
    if ref_path is None:
        return 0
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, lift_track, tracks_of_input
    from pose3d_cli.multiview.reference import read_reference

    ref = read_reference(str(ref_path))
    lifter = load_lifter(a.model)
    sk = lifter.skeleton
    names = [cam.name for cam in ref.cameras]
    print("| view | arm | split | lift | fit | best of 4 | wrong | spread |")
    print("|---|---|---|---|---|---|---|---|")
    for cam in CAMS:
        tracks, _ = tracks_of_input(str(CLIP / f"{cam}.mp4"), InferOptions())
        track = lift_track(tracks[0], lifter, InferOptions(skeleton_fit="none"))
        arms = arm_table(track, sk, tracks[0].fps)
        offset = int(ref.offsets[names.index(cam)])
        row_of = {int(f): i for i, f in enumerate(ref.frame)}
        instant = np.array([row_of.get(int(f) - offset, -1) for f in track.frame])  # reference row of each frame
        inside = instant >= 0
        for side, arm in arms.items():
            truth = np.full(len(instant), np.nan)
            truth[inside] = flexion(*(ref.joints[instant[inside], sk.index(f"{side}_{j}")]
                                      for j in ("shoulder", "elbow", "wrist")))
            for split, (lo, hi) in SPLITS.items():
                m = inside & (ref.frame[instant] >= lo) & (ref.frame[instant] < hi) & np.isfinite(truth) & np.isfinite(arm["fit"])
                rmse = lambda x: float(np.sqrt(np.mean((x[m] - truth[m]) ** 2)))  # noqa: E731
                off = np.abs(arm["candidates"] - truth[:, None])
                best = np.nanmin(off, 1)
                wrong = np.abs(arm["fit"] - truth) > best + WRONG_DEG
                spread = np.ptp(arm["candidates"], 1)
                print(f"| {cam} | {side} | {split} | {rmse(arm['lift']):.1f} | {rmse(arm['fit']):.1f} | "
                      f"{float(np.sqrt(np.mean(best[m] ** 2))):.1f} | {100 * wrong[m].mean():.0f}% | "
                      f"{np.median(spread[m]):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
