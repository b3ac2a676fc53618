"""How much of the error in the wild is the detector's 2D, and how much the lifter's: the same views lifted from
BlazePose's 2D and from exact 2D.

    python benchmarks/exact2d_pose2sim.py OUTDIR [--reference REF.npz] [--model M.pt] [--virtual-pitch DEG]

On the four pose2sim views, each view is lifted (``lift_track``, ``pose3d infer``'s default options) three ways and
scored against the 4-view reference (``pose3d triangulate``, built in OUTDIR when not given) on the dev (0-49) and
report (50-99) frames:

- ``detected``: BlazePose's 2D and, for a model that takes it, its 3D (what ``pose3d infer`` writes);
- ``detected, 2D only``: the same 2D without the detector's 3D (a blend then runs its plain part);
- ``exact 2D``: the reference's own triangulated landmarks (all 33) projected through the view's calibration
  (distortion included), confidence 1, no detector 3D. The 2D is then exact and has the detector's semantics
  (landmarks, not joint centres), so what is left is the lifter's: its prior, depth ambiguity and the landmark gap.

``--virtual-pitch DEG`` films the exact 2D from a virtual camera instead: the view's azimuth and distance to the
person, looking down DEG at the mean pelvis (0 = a level camera), to tell the viewpoint from the posture.

Measured at stop 28 (the default model's plain part, default intrinsics): exact 2D leaves most of the lifter's error
(README "Not there yet").
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from reference_pose2sim import CAMS, CLIP, add_clip_arguments, clip_reference  # noqa: E402  (benchmarks/ is the script's folder)
SPLITS = {"dev": "0:50", "report": "50:100"}


def look_at(centre: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, t) cam_from_world of a camera at ``centre`` (3,) looking at ``target`` (3,) with no roll; world Z up."""
    f = (target - centre) / np.linalg.norm(target - centre)
    down = np.array([0.0, 0.0, -1.0]) + f[2] * f  # world down, made orthogonal to the optical axis
    down /= np.linalg.norm(down)
    R = np.stack([np.cross(down, f), down, f])  # rows: x right = y × z, y down, z forward
    return R, -R @ centre


def virtual_camera(R: np.ndarray, t: np.ndarray, target: np.ndarray, pitch_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The camera (R, t) moved on its sphere around ``target`` to look down ``pitch_deg`` at it, same azimuth."""
    centre = -R.T @ t
    d = centre - target
    h = np.array([d[0], d[1], 0.0]) / np.linalg.norm(d[:2])
    a = np.radians(pitch_deg)
    return look_at(target + np.linalg.norm(d) * (np.cos(a) * h + np.sin(a) * np.array([0.0, 0.0, 1.0])), target)


def exact_track(track, ref, view: int, pitch: float | None):
    """A copy of ``track`` whose 2D is the reference's landmarks projected into the view (confidence 1, no 3D)."""
    from pose3d_cli.geometry import project
    from pose3d_cli.skeleton import convert

    cam = ref.cameras[view]
    R, t, dist = cam.R, cam.t, cam.dist
    if pitch is not None:
        R, t = virtual_camera(R, t, np.nanmean(ref.joints[:, 0], axis=0), pitch)
        dist = None
    src, _ = convert(ref.source_joints, ref.source_skeleton, track.skeleton)
    uv = project(src @ R.T + t, cam.K, dist)
    out = copy.deepcopy(track)
    row_of = {int(f): i for i, f in enumerate(ref.frame)}
    for i, f in enumerate(out.frame):
        r = row_of.get(int(f) - int(ref.offsets[view]))
        if r is not None and np.isfinite(uv[r]).all():
            out.uv[i], out.conf[i] = uv[r], 1.0
    out.world = None
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    add_clip_arguments(ap)
    ap.add_argument("--virtual-pitch", type=float, help="film the exact 2D from a virtual camera looking down DEG")
    a = ap.parse_args()
    ref_path = clip_reference(a)
    if ref_path is None:
        return 0
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.people_writers import write_people
    from pose3d_cli.infer.pipeline import InferOptions, lift_track, tracks_of_input
    from pose3d_cli.multiview.reference import read_reference
    from pose3d_cli.multiview.score import score_file

    ref = read_reference(str(ref_path))
    lifter = load_lifter(a.model)
    names = [cam.name for cam in ref.cameras]
    exact = "exact 2D" + (f", virtual camera {a.virtual_pitch:g}° down" if a.virtual_pitch is not None else "")
    print("| view | 2D | split | P-MPJPE mm | elbow RMSE L/R ° | knee RMSE L/R ° |")
    print("|---|---|---|---|---|---|")
    means: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cam in CAMS:
            track = tracks_of_input(str(CLIP / f"{cam}.mp4"), InferOptions())[0][0]
            plain = copy.deepcopy(track)
            plain.world = None
            for kind, tr in (("detected", track), ("detected, 2D only", plain),
                             (exact, exact_track(track, ref, names.index(cam), a.virtual_pitch))):
                out = Path(tmp) / f"{cam}.csv"  # the camera's name in the file name: score finds its calibration
                out.unlink(missing_ok=True)
                write_people([lift_track(tr, lifter, InferOptions())], out, "csv")
                for split, frames in SPLITS.items():
                    r = score_file(str(out), str(ref_path), frames=frames)
                    p, ang = r["mpjpe"]["p_mpjpe"]["all"], r["angle_rmse_deg"]
                    means.setdefault((kind, split), []).append(p)
                    print(f"| {cam} | {kind} | {split} | {p:.1f} | {ang['elbow_flexion_left']:.0f}/"
                          f"{ang['elbow_flexion_right']:.0f} | {ang['knee_flexion_left']:.0f}/{ang['knee_flexion_right']:.0f} |")
    print("\nmean P-MPJPE over the views: " + "; ".join(f"{k} {s} {np.mean(v):.1f}" for (k, s), v in means.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
