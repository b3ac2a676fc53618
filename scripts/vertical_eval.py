"""Measure :func:`pose3d_cli.body.vertical.estimate_up` against the truth.

    python scripts/vertical_eval.py --synth lifted_eval.npz [...] --pose2sim DIR_OF_INFER_JSON [--model m.npz]

- synth (npz from ``scripts/vertical_lift_synth.py``): per-frame error of the per-frame estimates, and per clip
  (one clip = one mocap sequence seen by one camera) the error of the video estimate against the clip's mean
  true up, for the level-camera baseline and the estimator.
- pose2sim: ``camXX.json`` infer outputs of the shared videos; the truth is the Qualisys calibration
  (``Calib.qca.txt``: world +Z in each camera). Frames 0-49 are the dev half, 50-99 the report half (fixed
  before looking), and all frames.
Prints a JSON report (``--json`` to save it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pose3d_cli.body.vertical import LEVEL_UP, UpModel, angle_deg, estimate_up, learned_per_frame, load_up_model
from pose3d_cli.infer.calibration import load_calibration

POSE2SIM = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "pose2sim_single_person"


def stats(e: np.ndarray) -> dict:
    e = np.asarray(e, dtype=np.float64)
    return {"n": int(e.size), "median": round(float(np.median(e)), 2), "p95": round(float(np.percentile(e, 95)), 2),
            "mean": round(float(e.mean()), 2)}


def eval_synth(path: str, model, split: str | None = None) -> dict:
    d = np.load(path)
    P, up, seq = d["pred"], d["up"].astype(np.float64), d["seq"]
    if split:  # keep only the sequences of that file split (held-out files: "test")
        m = d["split"][seq] == split
        if not m.any():
            raise SystemExit(f"{path}: no sequence of split {split!r}")
        P, up, seq = P[m], up[m], seq[m]
    mu = None
    if model:  # per clip: the camera's roll is taken from each clip's own poses (body_roll)
        mu = np.full(P.shape[:1] + (3,), np.nan)
        for s in np.unique(seq):
            mu[seq == s] = learned_per_frame(P[seq == s].astype(np.float64), model)[0]
    frame_err = angle_deg(mu, up) if mu is not None else None
    clip_est, clip_lvl, spreads, times = [], [], [], []
    for s in np.unique(seq):
        m = seq == s
        true = up[m].mean(0)
        t0 = time.perf_counter()
        est = estimate_up(P[m], model=model, method="learned" if model else "geometric")
        times.append((time.perf_counter() - t0) / max(m.sum(), 1))
        clip_est.append(float(angle_deg(est.up, true)))
        clip_lvl.append(float(angle_deg(LEVEL_UP, true)))
        spreads.append(est.spread_deg)
    out = {"file": path, "split": split or "all", "frames": int(len(P)), "clips": int(len(clip_est)),
           "level_camera": {"per_frame": stats(angle_deg(LEVEL_UP, up)), "per_clip": stats(clip_lvl)},
           "estimate": {"per_clip": stats(clip_est), "spread_median_deg": round(float(np.median(spreads)), 2)},
           "estimate_seconds_per_frame": float(np.median(times))}
    if frame_err is not None:
        out["estimate"]["per_frame"] = stats(frame_err)
    return out


def eval_pose2sim(folder: str, model, calib: Path) -> dict:
    cams = {c.name: c for c in load_calibration(calib)}
    out = {}
    for js in sorted(Path(folder).glob("cam*.json")):
        d = json.loads(js.read_text())
        fr = [f for f in d["frames"] if f["detected"]]
        P = np.array([f["joints_3d"] for f in fr], dtype=np.float64)
        C = np.array([f["confidence"] for f in fr], dtype=np.float64)
        idx = np.array([f["frame"] for f in fr])
        true = cams[js.stem].R[:, 2]
        rec = {"true_up": np.round(true, 4).tolist(), "level_camera_err_deg": round(float(angle_deg(LEVEL_UP, true)), 2)}
        for name, m in (("frames_0_49_dev", idx < 50), ("frames_50_99_report", idx >= 50), ("all", idx >= 0)):
            est = estimate_up(P[m], confidence=C[m], model=model, method="learned" if model else "geometric")
            pf = angle_deg(est.per_frame, true)
            rec[name] = {"err_deg": round(float(angle_deg(est.up, true)), 2), "spread_deg": round(est.spread_deg, 2),
                         "per_frame_median_deg": round(float(np.nanmedian(pf)), 2), "n_frames_used": est.n_frames_used,
                         "up": np.round(est.up, 4).tolist()}
        out[js.stem] = rec
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", nargs="*", default=[])
    ap.add_argument("--pose2sim", default=None, help="folder of camXX.json infer outputs")
    ap.add_argument("--calib", default=str(POSE2SIM / "Calib.qca.txt"))
    ap.add_argument("--model", default=None, help="vertical model .npz (default: the shipped one); 'none': geometric")
    ap.add_argument("--json", default=None)
    ap.add_argument("--split", default=None, help="synth: only sequences of this file split (e.g. test)")
    a = ap.parse_args()
    model = None if a.model == "none" else (UpModel(a.model) if a.model else load_up_model())
    rep = {"model": getattr(model, "path", "geometric fallback"), "synth": [eval_synth(p, model, a.split) for p in a.synth]}
    if a.pose2sim:
        rep["pose2sim"] = eval_pose2sim(a.pose2sim, model, Path(a.calib))
    text = json.dumps(rep, indent=1)
    print(text)
    if a.json:
        Path(a.json).write_text(text)


if __name__ == "__main__":
    main()
