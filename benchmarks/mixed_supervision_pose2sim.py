"""Mixed supervision on real footage, honest split, and the per-term ablation (issue 10).

    python benchmarks/mixed_supervision_pose2sim.py OUTDIR REPLAY.h5 REF.npz 2D_DIR [--kinds image3d image2d]
        [--seeds 0 1 2]

Every run fine-tunes the shipped default (``--init pose3d_cli/models/default.pt``) for the same short schedule
(2 epochs, 1/10 of the replayed synthetic pairs per epoch, lr 3e-4, 1 thread; each seed of ``--seeds``) on pose2sim frames 0-49
(DEV) of the 4 views: ``image3d`` = the views' BlazePose 2D (``2D_DIR/camXX.csv``, from ``pose3d infer --with-2d``,
with a first line ``# image_size: WxH`` added: the video's size, which ``pose3d adapt`` needs for the 2D files; and
only the worker's rows, ``person`` 0: adapt learns one person's track per file, and cam01 also films a woman behind)
with the 4-view triangulated reference as target; ``image2d`` = the same 2D only (``pose3d adapt``). Terms
(reprojection, bone constancy, smoothness, prior, distillation and, image/3D only, view consistency) all on at
their default weight, then each switched off in turn. Reported: P-MPJPE on REPORT frames 50-99 per view
(``pose3d infer`` on the 2D files with ``--calib``, ``pose3d score --frames 50:100``) and the synthetic held-out
P-MPJPE (``pose3d eval REPLAY --split test``, stored 2D). Markdown table on stdout (with several seeds: the mean over
seeds, and the range of the per-view mean), figures per seed in OUTDIR/ablation.json.
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
INIT = REPO / "pose3d_cli" / "models" / "default.pt"
WEIGHTS = {"reproj": 1.0, "bone_constancy": 0.1, "smooth": 0.1, "prior": 0.05, "distill": 1.0, "view": 0.1}
SCHEDULE = ["--epochs", "2", "--subsample", "10", "--lr", "3e-4", "--threads", "1"]


def run(*args) -> None:
    subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", *map(str, args)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)


def weights(off: str | None, kind: str) -> list[str]:
    out = []
    for k, w in WEIGHTS.items():
        if k == "view" and kind != "image3d":
            continue
        out += [f"--{k.replace('_', '-')}-weight", str(0.0 if k == off else w)]
    return out


def tag(kind: str, off: str | None, seed: int) -> str:
    return f"{kind}_{off or 'all'}" + (f"_s{seed}" if seed else "")  # seed 0 keeps the earlier runs' names


def fit(kind: str, off: str | None, out: Path, replay: Path, ref: Path, two_d: Path, seed: int = 0) -> Path:
    ck = out / f"{tag(kind, off, seed)}.pt"
    if ck.exists():
        return ck
    if kind == "image3d":
        yaml = out / "image3d_dev.yaml"
        views = ", ".join(str(two_d / f"{c}.csv") for c in CAMS)
        yaml.write_text(f"sources:\n  - {{path: {replay}, kind: pairs}}\n  - {{path: {ref}, kind: image3d, "
                        f"views: [{views}], frames: '0:50'}}\n")
        run("train", yaml, "-o", ck, "--init", INIT, "--prior", replay, *weights(off, kind), *SCHEDULE,
            "--seed", seed)
    else:
        run("adapt", *[two_d / f"{c}.csv" for c in CAMS], "-o", ck, "--init", INIT, "--replay", replay, "--calib",
            CLIP / "Calib.qca.txt", "--frames", "0:50", "--work-dir", out / f"work_{tag(kind, off, seed)}",
            *weights(off, kind), *SCHEDULE, "--seed", seed)
    return ck


def measure(ck: Path, name: str, out: Path, replay: Path, ref: Path, two_d: Path) -> dict:
    from pose3d_cli.multiview.score import score_file

    res = {}
    for c in CAMS:
        p = out / f"{name}_{c}.csv"
        if not p.exists():
            run("infer", two_d / f"{c}.csv", "-o", p, "--model", ck, "--calib", CLIP / "Calib.qca.txt")
        res[c] = score_file(str(p), str(ref), frames="50:100")["mpjpe"]["p_mpjpe"]["all"]
    ev = out / f"eval_{name}.json"
    if not ev.exists():
        run("eval", ck, replay, "--split", "test", "--json", ev)
    res["synth"] = json.loads(ev.read_text())["conditions"]["stored"]["p_mpjpe"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("replay", type=Path)
    ap.add_argument("ref", type=Path)
    ap.add_argument("two_d", type=Path)
    ap.add_argument("--kinds", nargs="+", default=["image3d", "image2d"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    a = ap.parse_args()
    out, replay, ref, two_d = a.outdir.resolve(), a.replay.resolve(), a.ref.resolve(), a.two_d.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = {"default": [measure(INIT, "default", out, replay, ref, two_d)]}  # no training: one row for every seed
    for kind in a.kinds:
        for off in [None] + [k for k in WEIGHTS if k != "view" or kind == "image3d"]:
            rows[f"{kind}_{off or 'all'}"] = [
                measure(fit(kind, off, out, replay, ref, two_d, seed), tag(kind, off, seed), out, replay, ref, two_d)
                for seed in a.seeds]
            (out / "ablation.json").write_text(json.dumps({"seeds": a.seeds, "rows": rows}, indent=1))
    several = len(a.seeds) > 1
    print(f"seeds {', '.join(map(str, a.seeds))}" + (": mean over seeds; mean column: mean (min-max over seeds)"
                                                       if several else ""))
    print("| run | " + " | ".join(CAMS) + " | mean (50-99) | synth held-out |")
    print("|---|" + "---|" * (len(CAMS) + 2))
    for name, runs in rows.items():
        avg = lambda key: sum(r[key] for r in runs) / len(runs)  # noqa: E731
        means = [sum(r[c] for c in CAMS) / len(CAMS) for r in runs]
        spread = f" ({min(means):.1f}-{max(means):.1f})" if several and len(runs) > 1 else ""
        print(f"| {name} | " + " | ".join(f"{avg(c):.1f}" for c in CAMS)
              + f" | {sum(means) / len(means):.1f}{spread} | {avg('synth'):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
