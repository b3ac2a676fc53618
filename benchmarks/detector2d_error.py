"""Synth's 2D error model against real BlazePose errors (the 4-view pose2sim reference, dev frames only).

    python benchmarks/detector2d_error.py OUTDIR [--frames 0:50] [--config a.yaml ...]

OUTDIR is a `benchmarks/reference_pose2sim.py` output folder (``ref_pose2sim.npz``); the per-view 2D
(``2d_camXX.csv``) is made there when absent, as `benchmarks/confidence_model.py` does. Per view and frame the
reference's joints are projected into the camera and compared with the detector's 2D, in units of the person's
size (bounding-box diagonal of the projected reference): the *real* error. The same projections are then run
through :func:`pose3d_cli.synth.corrupt.corrupt` with synth's default corruption and with each ``--config``
(seeded, 8 draws), and their errors are measured the same way on the joints both kept: what the lifter is trained
to expect. Printed per joint stem (left and right pooled): median and 90th percentile, real vs each model.

The reference is BlazePose triangulated, so the real error is each view's departure from the 4 views' consensus:
a lower bound of the error against the true joints (what the views share, e.g. the landmarks' own offsets from
the joint centres, cancels; independent errors shrink by about sqrt(3/4)).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"  # skip when absent
DRAWS = 8


def main() -> int:
    from confidence_model import view_against_reference
    from pose3d_cli.multiview.reference import read_reference
    from pose3d_cli.multiview.score import parse_frames
    from pose3d_cli.skeleton import get_skeleton
    from pose3d_cli.synth.corrupt import Corruption, corrupt, person_size

    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--frames", default="0:50", help="reference frames used (half-open); keep to the dev split")
    ap.add_argument("--config", type=Path, action="append", default=[], help="corruption YAML/JSON to compare")
    a = ap.parse_args()
    if not CLIP.exists():
        print(f"skipped: {CLIP} is absent")
        return 0
    ref = read_reference(a.outdir / "ref_pose2sim.npz")
    sk = get_skeleton("h36m17")
    lo, hi = parse_frames(a.frames)
    models = {"synth default": Corruption(), **{p.stem: Corruption.from_file(p) for p in a.config}}
    real, synth = [], {k: [] for k in models}
    for v, cam in enumerate(ref.cameras):
        X, uv_ref, det, _ = view_against_reference(a.outdir, ref, v, lo, hi)  # (T, J, 3) mm, (T, J, 2) px x2
        whole = np.isfinite(X).all((-2, -1))
        X, uv_ref, det = X[whole], uv_ref[whole], det[whole]
        size = person_size(uv_ref, np.ones(uv_ref.shape[:2], bool))[:, None]
        ok = np.isfinite(det).all(-1)
        real.append(np.where(ok, np.linalg.norm(det - uv_ref, axis=-1) / size, np.nan))
        for name, cfg in models.items():
            for d in range(DRAWS):
                out, conf = corrupt(uv_ref, X, cam.size, sk, cfg, np.random.default_rng([v, d]), fps=ref.fps)
                e = np.linalg.norm(out - uv_ref, axis=-1) / size
                synth[name].append(np.where(conf > 0, e, np.nan))
    real_e = np.concatenate(real)
    synth_e = {k: np.concatenate(v) for k, v in synth.items()}
    stems = list(dict.fromkeys(n.split("_")[-1] for n in ref.names if n != sk.root))
    print(f"# frames {a.frames}, {len(ref.cameras)} views, {len(real_e)} view-frames; 2D error, % of the person's "
          f"size (bbox diagonal), median / p90; synth: {DRAWS} draws each\n")
    print("| joint | real | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    ratios = {k: [] for k in models}
    for s in stems:
        cols = [j for j, n in enumerate(ref.names) if n.split("_")[-1] == s]
        r = real_e[:, cols].ravel()
        r = r[np.isfinite(r)]
        cells = []
        for k, e in synth_e.items():
            x = e[:, cols].ravel()
            x = x[np.isfinite(x)]
            cells.append(f"{100 * np.median(x):.1f} / {100 * np.quantile(x, 0.9):.1f}")
            ratios[k].append(np.median(x) / np.median(r))
        print(f"| {s} | {100 * np.median(r):.1f} / {100 * np.quantile(r, 0.9):.1f} | " + " | ".join(cells) + " |")
    print("\nmedian synth / real, over the joints: " + ", ".join(f"{k} {np.median(v):.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
