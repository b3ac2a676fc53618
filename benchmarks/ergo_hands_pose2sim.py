"""How reliable are BlazePose's hand and face angles? Against the 4-view triangulation of the same points.

    python benchmarks/ergo_hands_pose2sim.py REF.npz [--splits 0:50 50:100] [--min-conf 0.5]

``REF.npz`` is ``benchmarks/reference_pose2sim.py``'s ``ref_pose2sim.npz``: `pose3d triangulate`
(:func:`pose3d_cli.multiview.triangulate.triangulate_views`) of all 33 BlazePose 2D points of the 4 calibrated
views, hands and face included (``source_joints``, world frame). Each view is run through infer's own detection
and lifting (:func:`pose3d_cli.infer.pipeline.detect_video`, ``lift_track``: what `pose3d ergo video.mp4` scores),
and the wrist flexion/deviation and head yaw of :func:`pose3d_cli.body.frame.hand_face_angles` from its
monocular MediaPipe world landmarks are compared with the same function on the triangulated points (view frame
``f + sync offset`` = reference frame ``f``). Prints the RMSE per view and angle over the frames where the
reference has the points, all frames and those whose points pass ``--min-conf`` (ergo's gate), and the share of
frames where the RULA wrist band / neck-twist flag agree: for every gated frame, and for the frames that ergo lets
the points decide (``hand_margin_deg`` from every band edge, :func:`pose3d_cli.ergo.hands.robust_band`). Frames 0-49 are the dev split, 50-99 the report split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ANGLES = ("wrist_flexion_left", "wrist_flexion_right", "wrist_deviation_left", "wrist_deviation_right", "head_yaw")


def main() -> int:
    from pose3d_cli.body.frame import hand_face_angles
    from pose3d_cli.ergo.hands import NEEDS_POINTS, rula_wrist_band, twisted
    from pose3d_cli.ergo.options import Conventions
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, detect_video, lift_track
    from pose3d_cli.infer.sources import open_source
    from pose3d_cli.multiview.score import parse_frames

    ap = argparse.ArgumentParser()
    ap.add_argument("ref", type=Path)
    ap.add_argument("--splits", nargs="+", default=["0:50", "50:100"])
    ap.add_argument("--min-conf", type=float, default=Conventions().hand_min_conf)
    a = ap.parse_args()
    z = np.load(a.ref)
    names = [str(n) for n in z["source_names"]]
    ref = hand_face_angles({n: z["source_joints"][:, names.index(n)] for n in names})
    frames = z["frame"]
    lifter = load_lifter(None, threads=1)
    conv = Conventions()
    views = [lift_track(detect_video(open_source(str(f), None)), lifter, InferOptions()) for f in z["view_files"]]
    for split in a.splits:
        lo, hi = parse_frames(split)
        sel = (frames >= lo) & (frames < hi)
        table(split, sel, z, views, ref, frames, a.min_conf, conv, hand_face_angles, NEEDS_POINTS, rula_wrist_band,
              twisted)
    return 0


def table(split, sel, z, views, ref, frames, min_conf, conv, hand_face_angles, NEEDS_POINTS, rula_wrist_band, twisted):
    print(f"\n# split: reference frames {split}; degrees; gate: every point the angle needs >= {min_conf}\n")
    print("| view | " + " | ".join(ANGLES) + " | RULA wrist band agreement L/R (all; decided with the margin) | neck twist flag agreement |")
    print("|---|" + "---|" * (len(ANGLES) + 2))
    for v, pt in enumerate(views):
        pts = pt.points
        est = hand_face_angles({n: pts.point(n) for n in pts.names})
        rows = {int(fr): k for k, fr in enumerate(pt.frame)}
        idx = np.array([rows.get(int(fr) + int(z["sync_offsets"][v]), -1) for fr in frames])
        have = idx >= 0
        cells, agree = [], []
        for ang in ANGLES:
            e = np.where(have, est[ang][np.clip(idx, 0, None)], np.nan)
            need = NEEDS_POINTS[ang]
            ok = have & np.all([pts.confidence(n)[np.clip(idx, 0, None)] >= min_conf for n in need], axis=0)
            m = sel & np.isfinite(e) & np.isfinite(ref[ang])
            g = m & ok
            rm = lambda mm: np.sqrt(np.mean((e[mm] - ref[ang][mm]) ** 2)) if mm.any() else np.nan  # noqa: E731
            cells.append(f"{rm(m):.1f} all / {rm(g):.1f} gated ({g.sum()}/{m.sum()} fr)")
            if ang.startswith("wrist_flexion") or ang == "head_yaw":
                fn = rula_wrist_band if ang != "head_yaw" else twisted
                plain = 100 * np.mean(fn(e[g], conv) == fn(ref[ang][g], conv)) if g.any() else np.nan
                dec = fn(e[g], conv, conv.hand_margin_deg)
                d = np.isfinite(dec)
                hit = 100 * np.mean(dec[d] == fn(ref[ang][g], conv)[d]) if d.any() else np.nan
                agree.append(f"{plain:.0f}%; decided {d.sum()}/{g.sum()} fr, {hit:.0f}% right")
        print(f"| {z['camera_names'][v]} | " + " | ".join(cells) + f" | {agree[0]} / {agree[1]} | {agree[2]} |")
    print("\nreference (triangulated) on the split: " + ", ".join(
        f"{k} median {np.nanmedian(ref[k][sel]):.0f} (p5 {np.nanpercentile(ref[k][sel], 5):.0f}, "
        f"p95 {np.nanpercentile(ref[k][sel], 95):.0f})" for k in ANGLES))


if __name__ == "__main__":
    raise SystemExit(main())
