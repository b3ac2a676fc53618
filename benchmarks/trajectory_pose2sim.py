"""Where the person is: infer's camera-frame pelvis position (``root_*_mm``) against the 4-view reference.

    python benchmarks/trajectory_pose2sim.py OUTDIR [--reference REF.npz]

For each of the shared pose2sim views and three kinds of intrinsics (``--calib``; ``--fov auto``, the field of view
the scene's vertical lines find; the default 65° phone guess) it runs ``pose3d infer camXX.mp4 --person largest``
and scores it with ``pose3d score``'s function on frames 0-49 (dev) and 50-99 (report): the pelvis error (median),
the depth bias (mean, % of the reference depth), the sideways/up-down error and the absolute MPJPE (each joint
placed by the predicted root, camera frame). Then it places the calibrated views' pelvis in the world and prints
how far apart two views put it. Existing outputs in OUTDIR are reused; the reference is built as
``benchmarks/reference_pose2sim.py`` builds it when not given.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from reference_pose2sim import ensure_reference  # noqa: E402  (benchmarks/ is the script's folder)
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"
CAMS = ("cam01", "cam02", "cam03", "cam04")
INTRINSICS = {"calib": ["--calib", str(CLIP / "Calib.qca.txt")], "auto": ["--fov", "auto"], "default": []}


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", *args], check=True, cwd=REPO)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--reference", type=Path, help="an existing reference npz (default: OUTDIR/ref_pose2sim.npz)")
    a = ap.parse_args()
    if not CLIP.is_dir():
        print(f"skipped: {CLIP} is absent (the shared data)")
        return 0
    out = a.outdir
    out.mkdir(parents=True, exist_ok=True)
    ref = ensure_reference(out, a.reference)
    from pose3d_cli.infer.calibration import load_calibration
    from pose3d_cli.infer.readers import read_infer_output
    from pose3d_cli.multiview.reference import read_reference
    from pose3d_cli.multiview.score import score_file

    print("| intrinsics | split | view | pelvis error median mm | depth bias mm (%) | sideways + up/down median mm "
          "| absolute MPJPE mm | P-MPJPE mm |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, extra in INTRINSICS.items():
        for split in ("0:50", "50:100"):
            rows = []
            for c in CAMS:
                p = out / f"{kind}_{c}.csv"
                if not p.exists():
                    run("infer", str(CLIP / f"{c}.mp4"), "-o", str(p), "--person", "largest", *extra)
                res = score_file(str(p), str(ref), str(CLIP / "Calib.qca.txt"), c, split)
                rp = res["root_position"]
                rows.append((rp["error_median_mm"], rp["depth_bias_percent"], rp["lateral_error_median_mm"],
                             res["mpjpe"]["mpjpe_absolute"]["all"], res["mpjpe"]["p_mpjpe"]["all"]))
                print(f"| {kind} | {split} | {c} | {rp['error_median_mm']:.0f} | {rp['depth_bias_mm']:+.0f} "
                      f"({rp['depth_bias_percent']:+.1f}%) | {rp['lateral_error_median_mm']:.0f} | "
                      f"{res['mpjpe']['mpjpe_absolute']['all']:.0f} | {res['mpjpe']['p_mpjpe']['all']:.1f} |")
            m = np.mean(rows, axis=0)
            print(f"| **{kind}** | **{split}** | mean | **{m[0]:.0f}** | ({m[1]:+.1f}%) | {m[2]:.0f} | {m[3]:.0f} | {m[4]:.1f} |")
    # the calibrated views' pelvis in the world, at the same instants (the reference's sync offsets)
    cams = {c.name: c for c in load_calibration(CLIP / "Calib.qca.txt")}
    offsets = dict(zip([c.name for c in read_reference(ref).cameras], read_reference(ref).offsets))
    world = {}
    for c in CAMS:
        r = read_infer_output(out / f"calib_{c}.csv")
        rows = {int(f): i for i, f in enumerate(r.frame)}
        idx = [rows.get(f + int(offsets[c]), -1) for f in range(100)]
        w = (r.root - cams[c].t) @ cams[c].R  # world = R^T (camera - t)
        world[c] = np.array([w[i] if i >= 0 else np.full(3, np.nan) for i in idx])
    for u, v in itertools.combinations(CAMS, 2):
        d = np.linalg.norm(world[u] - world[v], axis=-1)
        print(f"world pelvis {u} vs {v}: median {np.nanmedian(d):.0f} mm apart (max {np.nanmax(d):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
