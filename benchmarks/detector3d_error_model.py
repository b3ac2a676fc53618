"""Measure the error model of MediaPipe's world landmarks against the 4-view reference (DEV frames only).

    python benchmarks/detector3d_error_model.py /work/notes/multiview OUT.json [--frames 0:50]

For each view: the world landmarks (``mediapipe_camXX.csv``, ``pose3d infer --detector-3d``) and the reference
(``ref_pose2sim.npz``, world frame, rotated into the camera by its ``cam_from_world``), both root-relative and
matched by frame and sync offset, as ``score`` matches them. On frames that are not side-swapped (the scorer's
camera-frame swap test): depth scale = least-squares slope of the predicted camera-z offsets (joint − pelvis) on
the reference's; then the error left after it, ``pred − ref·(1, 1, scale)``, of each joint in the reference's trunk
frame (body/frame.py trunk_frame, rows anterior, left, up: needs no camera, so training can apply it to any pose) →
per-joint bias (mean) and spread (std), pooled over the views (``lifting/detector3d_sim.measure_error_model``, the
inverse of the simulator); swap rate = swapped frames / frames. Writes the JSON the fused model's simulator reads.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from pose3d_cli.infer.readers import read_infer_output
from pose3d_cli.lifting.detector3d_sim import measure_error_model
from pose3d_cli.multiview.reference import read_reference
from pose3d_cli.multiview.score import parse_frames, swapped_frames
from pose3d_cli.skeleton import get_skeleton


def main(folder: str, out: str, frames: str = "0:50") -> None:
    sk = get_skeleton("h36m17")
    root = sk.index(sk.root)
    ref = read_reference(Path(folder) / "ref_pose2sim.npz")
    lo, hi = parse_frames(frames)
    preds, truths, n_swap, n_all, per_view = [], [], 0, 0, {}
    for v, cam in enumerate(ref.cameras):
        pred = read_infer_output(str(Path(folder) / f"mediapipe_{cam.name}.csv"))
        row_of = {int(f): i for i, f in enumerate(pred.frame)}
        sel = (ref.frame >= lo) & (ref.frame < hi)
        rows = np.array([row_of.get(int(f) + int(ref.offsets[v]), -1) for f in ref.frame])
        sel &= rows >= 0
        P = pred.joints3d[rows[sel]].astype(np.float64)
        R = ref.joints[sel] @ np.asarray(cam.R).T  # world → camera rotation
        ok = np.isfinite(P).all((1, 2)) & np.isfinite(R).all((1, 2))
        P, R = P[ok] - P[ok][:, root:root + 1], R[ok] - R[ok][:, root:root + 1]
        sw = swapped_frames(P, R, sk, list(range(sk.num_joints)), root, np.eye(3))
        n_swap += int(sw.sum()); n_all += len(sw)
        P, R = P[~sw], R[~sw]
        preds.append(P)
        truths.append(R)
        per_view[cam.name] = {"frames": int(len(sw)), "swapped": int(sw.sum())}
    fit = measure_error_model(np.concatenate(preds), np.concatenate(truths), sk.name)  # depth scale, then the rest
    model = {
        "what": "error model of MediaPipe BlazePose world landmarks (mapped to h36m17, root-relative, mm) against "
                "a 4-view triangulated reference; error = detector - reference in the reference's trunk frame "
                "(rows anterior, left, up; pose3d_cli.body.frame.trunk_frame)",
        "how": "benchmarks/detector3d_error_model.py on /work/shared/data/video/pose2sim_single_person cam01..04, "
               f"DEV reference frames {frames} only; bias/spread on frames not side-swapped",
        "skeleton": sk.name, "joints": list(sk.joints), "frames_used": int(sum(len(p) for p in preds)),
        "bias_mm": np.round(fit["bias_mm"], 1).tolist(), "spread_mm": np.round(fit["spread_mm"], 1).tolist(),
        "depth_scale": round(fit["depth_scale"], 3),
        "swap_rate": round(n_swap / max(n_all, 1), 3), "per_view": per_view,
    }
    Path(out).write_text(json.dumps(model, indent=1))
    print(json.dumps({k: model[k] for k in ("frames_used", "depth_scale", "swap_rate", "per_view")}))
    print("spread norm per joint:", dict(zip(sk.joints, np.round(np.linalg.norm(model["spread_mm"], axis=1)))))
    print("bias norm per joint:", dict(zip(sk.joints, np.round(np.linalg.norm(model["bias_mm"], axis=1)))))


if __name__ == "__main__":
    main(*sys.argv[1:])
