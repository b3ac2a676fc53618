"""The blend (default model) vs its two parts (plain lift, fused lifter) vs MediaPipe's own 3D, per view and split.

    python benchmarks/fused_pose2sim.py MULTIVIEW_DIR OUTDIR [--model BLEND.pt] [--split 50:100]

MULTIVIEW_DIR holds ``ref_pose2sim.npz`` and the ``mediapipe_camXX.csv`` of ``benchmarks/reference_pose2sim.py``.
The blend's parts are written to OUTDIR/parts (``python -m pose3d_cli.lifting.blend --parts``) and each of the
three models lifts every view with `pose3d infer` default options (OUTDIR/{blend,plain,fused}_camXX.csv, reused
when present). Choose settings with ``--split 0:50`` (DEV); report ``50:100`` (REPORT) only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person"
CAMS = ("cam01", "cam02", "cam03", "cam04")
KINDS = ("blend", "plain", "fused", "mediapipe")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("multiview"), ap.add_argument("out")
    ap.add_argument("--model", default=str(REPO / "pose3d_cli" / "models" / "default.pt"))
    ap.add_argument("--split", default="50:100")
    a = ap.parse_args()
    if not CLIP.is_dir():
        sys.exit(f"skipped: {CLIP} is absent (the shared pose2sim clip)")
    mv, out = Path(a.multiview), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = out / "parts"
    if not (parts / "fused.pt").exists():
        subprocess.run([sys.executable, "-m", "pose3d_cli.lifting.blend", "--parts", a.model, "-o", str(parts)], check=True)
    models = {"blend": a.model, "plain": str(parts / "plain.pt"), "fused": str(parts / "fused.pt")}
    from pose3d_cli.multiview.score import score_file

    rows = ["| view | method | P-MPJPE | P-MPJPE no 2D swap | rot-only | forearm L/R | elbow RMSE L/R ° | swapped frames |",
            "|---|---|---|---|---|---|---|---|"]
    res = {}
    for c in CAMS:
        files = {"mediapipe": mv / f"mediapipe_{c}.csv"}
        for kind, model in models.items():
            files[kind] = out / f"{kind}_{c}.csv"
            if not files[kind].exists():
                subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", "infer", str(CLIP / f"{c}.mp4"), "--model", model,
                                "-o", str(files[kind])], check=True, cwd=REPO)
        for kind in KINDS:
            r = score_file(str(files[kind]), str(mv / "ref_pose2sim.npz"), frames=a.split)
            m, b, ang = r["mpjpe"], r["bone_length_ratio"], r["angle_rmse_deg"]
            res[f"{c}/{kind}"] = x = {
                "p_mpjpe": m["p_mpjpe"]["all"], "p_mpjpe_no_swap": m["p_mpjpe"].get("no_2d_swap"),
                "rot_only": m["mpjpe_rotation"]["all"], "forearm": [b["forearm_left"], b["forearm_right"]],
                "elbow_rmse": [ang["elbow_flexion_left"], ang["elbow_flexion_right"]], "swapped": r["swapped_frames"]}
            ns = f"{x['p_mpjpe_no_swap']:.0f}" if x["p_mpjpe_no_swap"] is not None else "-"
            rows.append(f"| {c} | {kind} | {x['p_mpjpe']:.0f} | {ns} | {x['rot_only']:.0f} | "
                        f"{x['forearm'][0]:.2f}/{x['forearm'][1]:.2f} | {x['elbow_rmse'][0]:.0f}/{x['elbow_rmse'][1]:.0f} "
                        f"| {x['swapped']} |")
    means = {k: sum(res[f"{c}/{k}"]["p_mpjpe"] for c in CAMS) / len(CAMS) for k in KINDS}
    beats = all(res[f"{c}/blend"]["p_mpjpe"] < min(res[f"{c}/{k}"]["p_mpjpe"] for k in KINDS[1:]) for c in CAMS)
    print(f"# split: reference frames {a.split}; 12 limb joints; mm\n")
    print("\n".join(rows))
    print("\nmean P-MPJPE: " + ", ".join(f"{k} {v:.1f}" for k, v in means.items()))
    print(f"blend below its two parts and MediaPipe on every view: {'yes' if beats else 'no'}")
    (out / f"blend_{a.split.replace(':', '-')}.json").write_text(json.dumps({"views": res, "mean": means,
                                                                               "blend_beats_all": beats}, indent=1))


if __name__ == "__main__":
    main()
