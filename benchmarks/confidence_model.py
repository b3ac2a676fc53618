"""Calibrate synth's confidence model on real BlazePose detections against the 4-view pose2sim reference.

    python benchmarks/confidence_model.py OUTDIR [--frames 0:50] [--write]

OUTDIR is a `benchmarks/reference_pose2sim.py` output folder (it holds ``ref_pose2sim.npz``); the per-view 2D
(``2d_camXX.csv``, `pose3d infer camXX.mp4 --with-2d --max-people 1`) is made there when absent. Only the **dev
frames 0-49** are used, so the report frames 50-99 stay unseen by anything trained on the result.

Per view and frame, the reference's h36m17 joints are projected into the camera (with its distortion) and
compared with the detector's 2D: the error is in units of the person's size (bounding-box diagonal of the
projected reference), and a joint is *hidden* when the body's own volume covers it in that camera
(:func:`pose3d_cli.synth.corrupt.self_occlusion_mask` on the reference). Printed: per joint, the confidence
quantiles for visible and hidden joints and the Spearman correlation of confidence with error, next to what
synth's previous, error-driven confidence gives on the same errors. ``--write`` stores the quantiles and the
pooled rank correlation in ``pose3d_cli/synth/confidence_blazepose.json``, which
:func:`pose3d_cli.synth.corrupt.corrupt` samples from.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"
OUT_JSON = REPO / "pose3d_cli" / "synth" / "confidence_blazepose.json"
LEVELS = np.linspace(0.0, 1.0, 21)
ERROR_BINS = 5


def read_2d(path: Path, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An infer CSV with --with-2d → frame (T,), uv (T, J, 2) px (NaN missing), conf (T, J)."""
    rows = list(csv.reader(path.open()))
    col = {c: i for i, c in enumerate(rows[0])}
    body = [r for r in rows[1:] if r[col["person"]] == "0"]

    def num(r, c):
        v = r[col[c]]
        return float(v) if v else np.nan

    frame = np.array([int(r[col["frame"]]) for r in body])
    uv = np.array([[[num(r, f"{j}_u"), num(r, f"{j}_v")] for j in names] for r in body])
    conf = np.nan_to_num(np.array([[num(r, f"{j}_conf") for j in names] for r in body]))
    return frame, uv, conf


def view_against_reference(outdir: Path, ref, v: int, lo: int, hi: int):
    """View ``v``'s BlazePose 2D (``outdir/2d_<camera>.csv``, made by `pose3d infer --with-2d` when absent) beside
    the reference at the same instants (its sync offset), reference frames in [lo, hi): the reference's joints in
    that camera (T, J, 3) mm, their projection (T, J, 2) px, the detector's 2D (T, J, 2) px (NaN where missing)
    and its confidence (T, J)."""
    cam = ref.cameras[v]
    path = outdir / f"2d_{cam.name}.csv"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", "infer", str(CLIP / f"{cam.name}.mp4"),
                        "--with-2d", "--max-people", "1", "-o", str(path)], check=True, cwd=REPO)
    frame, uv, conf = read_2d(path, ref.names)
    row_of = {int(f): i for i, f in enumerate(frame)}
    keep = [(i, row_of[int(f) + int(ref.offsets[v])]) for i, f in enumerate(ref.frame)
            if lo <= f < hi and int(f) + int(ref.offsets[v]) in row_of]
    ri, pi = np.array([k[0] for k in keep]), np.array([k[1] for k in keep])
    X = cam.world_to_cam(ref.joints[ri])
    return X, cam.project(X), uv[pi], conf[pi]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 2 else float("nan")


def main() -> int:
    from pose3d_cli.multiview.reference import read_reference
    from pose3d_cli.multiview.score import parse_frames
    from pose3d_cli.skeleton import get_skeleton
    from pose3d_cli.synth.corrupt import person_size, self_occlusion_mask

    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--frames", default="0:50", help="reference frames used (half-open); keep to the dev split")
    ap.add_argument("--write", action="store_true", help=f"write {OUT_JSON.relative_to(REPO)}")
    a = ap.parse_args()
    ref = read_reference(a.outdir / "ref_pose2sim.npz")
    sk = get_skeleton("h36m17")
    lo, hi = parse_frames(a.frames)
    err_all, conf_all, hid_all, joint_all = [], [], [], []
    for v, cam in enumerate(ref.cameras):
        X, uv_ref, uv, conf = view_against_reference(a.outdir, ref, v, lo, hi)
        ok = np.isfinite(X).all(-1) & np.isfinite(uv).all(-1)
        size = person_size(np.nan_to_num(uv_ref), np.isfinite(uv_ref).all(-1))[:, None]
        err = np.linalg.norm(uv - uv_ref, axis=-1) / size
        hidden = self_occlusion_mask(np.nan_to_num(X), sk)
        J = len(ref.names)
        err_all.append(err[ok])
        conf_all.append(conf[ok])
        hid_all.append(hidden[ok])
        joint_all.append(np.broadcast_to(np.arange(J), ok.shape)[ok])
    err, conf = np.concatenate(err_all), np.concatenate(conf_all)
    hidden, joint = np.concatenate(hid_all), np.concatenate(joint_all)
    legacy = np.clip(1.0 - 2.0 * err, 0.3, 1.0)  # synth's previous confidence on the same errors (noise-free)

    print(f"# frames {a.frames}, {len(ref.cameras)} views, {len(err)} joint detections, "
          f"{hidden.mean():.1%} hidden by the body (reference, self-occlusion)\n")
    print("| joint | n vis / hid | conf visible p10/p50/p90 | conf hidden p10/p50/p90 | error p50 % size "
          "| Spearman(conf, error) real | synth (previous model) |")
    print("|---|---|---|---|---|---|---|")
    stem = np.array([n.split("_")[-1] for n in ref.names])[joint]  # left and right pooled: one person, one clip
    q_hidden = np.quantile(conf[hidden], LEVELS)  # pooled over all joints (a few hundred detections)
    per_stem = {}
    for j, name in enumerate(ref.names):
        m = joint == j
        vis, hid = m & ~hidden, m & hidden
        qv = np.quantile(conf[vis], LEVELS)
        fh = f"{np.quantile(conf[hid], 0.1):.2f}/{np.median(conf[hid]):.2f}/{np.quantile(conf[hid], 0.9):.2f}" \
            if hid.sum() >= 10 else "-"
        print(f"| {name} | {vis.sum()} / {hid.sum()} | {qv[2]:.2f}/{qv[10]:.2f}/{qv[18]:.2f} | {fh} "
              f"| {100 * np.median(err[m]):.1f} | {spearman(conf[m], err[m]):+.2f} | {spearman(legacy[m], err[m]):+.2f} |")
        s = name.split("_")[-1]
        if s not in per_stem:
            sel = (stem == s) & ~hidden
            per_stem[s] = {"visible": [round(float(x), 4) for x in np.quantile(conf[sel], LEVELS)],
                           "n": int(sel.sum())}
    rho = spearman(conf, err)
    # the within-joint correlation (what a copula per joint should reproduce): mean over joints, weighted by n
    within = np.nansum([spearman(conf[joint == j], err[joint == j]) * (joint == j).sum()
                        for j in range(len(ref.names))]) / len(err)
    print(f"\npooled Spearman(conf, error): real {rho:+.2f}, previous synth model {spearman(legacy, err):+.2f}; "
          f"within-joint mean {within:+.2f}")
    print(f"visible joints: median conf {np.median(conf[~hidden]):.3f}; hidden: {np.median(conf[hidden]):.3f}")
    # the dependence itself, non-parametric: the confidence's rank within its stem, given the error's rank bin
    # within its joint (ties in the saturated confidence get their average rank)
    from scipy.stats import rankdata

    u_err, u_conf = np.empty(len(err)), np.empty(len(err))
    for j in range(len(ref.names)):
        m = joint == j
        u_err[m] = (rankdata(err[m]) - 0.5) / m.sum()
    for s_ in np.unique(stem):
        m = stem == s_
        u_conf[m] = (rankdata(conf[m]) - 0.5) / m.sum()
    bins = np.minimum((u_err * ERROR_BINS).astype(int), ERROR_BINS - 1)
    rank_given_error = [np.quantile(u_conf[bins == b], LEVELS) for b in range(ERROR_BINS)]
    print("\n| error rank bin | n | median error % size | median confidence | conf < 0.8 |")
    print("|---|---|---|---|---|")
    for b in range(ERROR_BINS):
        m = bins == b
        print(f"| {b + 1}/{ERROR_BINS} | {m.sum()} | {100 * np.median(err[m]):.1f} | {np.median(conf[m]):.3f} "
              f"| {(conf[m] < 0.8).mean():.1%} |")
    if a.write:
        out = {"what": "BlazePose (full) confidence = visibility x presence, quantiles at 'levels' per "
                       "joint-name stem (left and right pooled) for visible joints, and pooled for joints hidden "
                       "by the body in the camera (self-occlusion of the 4-view reference); 'rank_correlation' = within-joint Spearman(confidence, 2D error); 'rank_given_error'[b] = quantiles "
                       "of the confidence's rank within its stem (0..1) for 2D errors in rank bin b of 5 within their joint",
               "source": "shared pose2sim clip, 4 views, reference frames " + a.frames + " (dev split), "
                         "benchmarks/confidence_model.py",
               "levels": [round(float(x), 4) for x in LEVELS], "rank_correlation": round(float(within), 3),
               "hidden": [round(float(x), 4) for x in q_hidden], "n_hidden": int(hidden.sum()),
               "rank_given_error": [[round(float(x), 4) for x in q] for q in rank_given_error],
               "visible_by_stem": per_stem}
        OUT_JSON.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {OUT_JSON.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
