"""Accuracy in the wild against a multi-view reference: the shared pose2sim clip (4 calibrated views).

    python benchmarks/reference_pose2sim.py OUTDIR [--split 50:100] [--model M.pt] [--reference REF.npz]

1. `pose3d triangulate cam01..04.mp4 --calib Calib.qca.txt -o OUTDIR/ref_pose2sim.npz` (defaults);
2. `pose3d infer camXX.mp4 -o OUTDIR/pose3d_camXX.csv` (default options, as a new user would) and
   `pose3d infer camXX.mp4 --detector-3d -o OUTDIR/mediapipe_camXX.csv` (MediaPipe's own world landmarks);
3. `score` of each against the reference on the report split (frames 50-99; frames 0-49 are the dev split:
   anything tuned is tuned there), printed as a markdown table. Existing outputs in OUTDIR are reused.

``--model`` lifts with another model (to compare candidates on the dev split: ``--split 0:50``), ``--reference``
reuses a reference built before (it is not rebuilt), ``--infer-arg`` passes an option to every `pose3d infer`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"
CAMS = ("cam01", "cam02", "cam03", "cam04")


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", *args], check=True, cwd=REPO)


def add_clip_arguments(ap: argparse.ArgumentParser) -> None:
    """OUTDIR, --reference and --model: the arguments of the benchmarks that lift the clip's views."""
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--reference", type=Path, help="an existing reference npz (default: OUTDIR/ref_pose2sim.npz)")
    ap.add_argument("--model", help="lifter (default: the shipped model)")


def clip_reference(a: argparse.Namespace) -> Path | None:
    """The reference of :func:`add_clip_arguments`' namespace (built when missing), or None (said) without the clip."""
    if not CLIP.exists():
        print(f"skipped: {CLIP} not found (the shared pose2sim clip)")
        return None
    a.outdir.mkdir(parents=True, exist_ok=True)
    return ensure_reference(a.outdir, a.reference)


def ensure_reference(outdir: Path, given: Path | None = None) -> Path:
    """The 4-view reference: ``given``, else OUTDIR/ref_pose2sim.npz, triangulated (`pose3d triangulate`, defaults)
    when it does not exist yet. The benchmarks that score against the clip share it."""
    ref = given or outdir / "ref_pose2sim.npz"
    if not ref.exists():
        run("triangulate", *[str(CLIP / f"{c}.mp4") for c in CAMS], "--calib", str(CLIP / "Calib.qca.txt"), "-o", str(ref))
    return ref


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--split", default="50:100", help="reference frames reported (half-open)")
    ap.add_argument("--model", help="lifter for the pose3d rows (default: the shipped model)")
    ap.add_argument("--reference", type=Path, help="an existing reference npz (default: OUTDIR/ref_pose2sim.npz)")
    ap.add_argument("--infer-arg", action="append", default=[], help="extra `pose3d infer` option (repeatable)")
    a = ap.parse_args()
    out = a.outdir
    out.mkdir(parents=True, exist_ok=True)
    ref = ensure_reference(out, a.reference)
    def output(kind: str, cam: str) -> Path:  # MediaPipe's rows do not depend on the model: reuse the reference's
        shared = ref.parent / f"{kind}_{cam}.csv"
        return shared if kind == "mediapipe" and shared.exists() else out / f"{kind}_{cam}.csv"

    for c in CAMS:
        for kind, extra in (("pose3d", ["--model", a.model] if a.model else []), ("mediapipe", ["--detector-3d"])):
            p = output(kind, c)
            if not p.exists():
                run("infer", str(CLIP / f"{c}.mp4"), "-o", str(p), *extra, *a.infer_arg)

    from pose3d_cli.multiview.score import parse_frames, score_file

    z = np.load(ref)
    lo, hi = parse_frames(a.split)
    sel = (z["frame"] >= (lo if lo is not None else -np.inf)) & (z["frame"] < (hi if hi is not None else np.inf))
    limbs = [i for i, n in enumerate(z["source_names"]) if n.split("_", 1)[-1] in
             ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
    print(f"# split: reference frames {a.split}; 12 limb joints; mm unless said\n")
    print("| view | method | P-MPJPE all (frames) | P-MPJPE no 2D swap | rot-only all | rot-only no 2D swap | unaligned all "
          "| forearm L/R | upper arm L/R | elbow RMSE L/R ° | knee RMSE L/R ° | bone CV median % | pred swapped frames |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    mean = {"pose3d": [], "mediapipe": []}
    for v, c in enumerate(CAMS):
        for kind in ("pose3d", "mediapipe"):
            r = score_file(str(output(kind, c)), str(ref), frames=a.split)
            mean[kind].append(r["mpjpe"]["p_mpjpe"]["all"])
            m, br, ar = r["mpjpe"], r["bone_length_ratio"], r["angle_rmse_deg"]
            cv = 100 * np.median(list(r["bone_length_cv"].values()))
            # each row leaves out its own NaN frames: the count says when pose3d and MediaPipe differ in frames
            print(f"| {c} | {kind} | {m['p_mpjpe']['all']:.0f} ({r['frames_in']['all']}) | "
                  f"{m['p_mpjpe']['no_2d_swap'] or float('nan'):.0f} "
                  f"({r['frames_in']['no_2d_swap']}) | {m['mpjpe_rotation']['all']:.0f} | "
                  f"{m['mpjpe_rotation']['no_2d_swap'] or float('nan'):.0f} | {m['mpjpe_unaligned']['all']:.0f} | "
                  f"{br['forearm_left']:.2f}/{br['forearm_right']:.2f} | {br['upper_arm_left']:.2f}/{br['upper_arm_right']:.2f} | "
                  f"{ar['elbow_flexion_left']:.0f}/{ar['elbow_flexion_right']:.0f} | "
                  f"{ar['knee_flexion_left']:.0f}/{ar['knee_flexion_right']:.0f} | {cv:.1f} | {r['swapped_frames']} |")
    print("\nmean P-MPJPE over the views: " + ", ".join(f"{k} {np.mean(v):.1f}" for k, v in mean.items()))
    print("\n# the reference itself on the same frames (limb joints)\n")
    print("| view | sync offset | 2D swaps repaired (frames) | reprojection error median / mean px (views used) | rejected |")
    print("|---|---|---|---|---|")
    for v, c in enumerate(CAMS):
        e = z["reprojection_error_px"][v][sel][:, limbs]
        used = z["views_used"][v][sel][:, limbs]
        det = np.isfinite(e)
        print(f"| {c} | {int(z['sync_offsets'][v]):+d} | {int(z['swapped_2d'][v][sel].sum())} | "
              f"{np.median(e[used]):.1f} / {e[used].mean():.1f} | {100 * (det & ~used).sum() / det.sum():.0f}% |")
    J = z["joints"][sel]
    from pose3d_cli.multiview.score import bone_length_cv
    from pose3d_cli.skeleton import H36M17

    cv = bone_length_cv(J, H36M17)
    print(f"\nreference bone-length CV (%): " + ", ".join(f"{k} {100 * v:.1f}" for k, v in cv.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
