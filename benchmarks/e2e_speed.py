"""End to end vs the detector alone, side by side in one run, and before/after against another checkout.

    python benchmarks/e2e_speed.py [--baseline-tree /work/main] [--repeats 2] [--widths native,640] [--loops 6]

For each shared clip (pose2sim cam01 1080x1920, sports2d 1768x994) and detector width, each in its own
subprocess, interleaved, best of ``--repeats``:

- **detector alone**: BlazePose full on frames decoded, resized and converted to RGB beforehand (only the
  detector call is timed), VIDEO mode (what ``--max-people 1`` runs) and the multi-person detector (what the
  default ``--max-people 4`` runs; one landmarker call per person followed plus a search every 10 frames);
- **end to end**: ``infer_one`` with the lifter loaded (as the CLI has it): open, decode, resize, colour, detect,
  track, swap fix, lift (flip-averaged), smooth, skeleton fit, CSV; the detector's start-up included;
- the same end to end with the package of ``--baseline-tree`` (the code before a change), when given.

``--loops N`` plays each clip N times back to back (re-encoded once as H.264, libx264 through PyAV, same size and
rate): the shared clips last 1.7 s and 7.7 s, so the detector's start-up (~0.6 s, paid once per video) weighs on
their end-to-end ratio as it does not on a minutes-long phone video.

Prints fps and the ratio end to end / detector alone of the same path (target >= 0.9), and the CPU time per
frame (all threads) with the ratio detector / end to end: the speed ratio a fully loaded machine would show
(the cores here are shared, so wall-clock ratios move with the other jobs; CPU time much less).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "video"
CLIPS = {"pose2sim cam01": DATA / "pose2sim_single_person" / "cam01.mp4", "sports2d": DATA / "sports2d" / "demo.mp4"}


def detector_alone(clip: Path, width: int | None, max_people: int) -> float:
    from pose3d_cli.infer.sources import detector_frames, open_source

    src = open_source(clip)
    frames = [(t, img) for _, t, img, _ in detector_frames(src, width, rgb=True)]
    if max_people == 1:
        from pose3d_cli.detect.mediapipe import BlazePoseDetector

        det = BlazePoseDetector(mode="video")
        call = lambda t, img: det(img, int(round(t * 1000)), rgb=True)  # noqa: E731
    else:
        from pose3d_cli.detect.multi import MultiPersonDetector

        det = MultiPersonDetector(mode="video", max_people=max_people)
        call = lambda t, img: det.detect_all(img, rgb=True)  # noqa: E731
    with det:
        t0, c0 = time.perf_counter(), time.process_time()
        for t, img in frames:
            call(t, img)
        return len(frames) / (time.perf_counter() - t0), (time.process_time() - c0) / len(frames)


def end_to_end(clip: Path, width: int | None, max_people: int) -> float:
    import torch

    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, infer_one

    torch.set_num_threads(2)
    lifter = load_lifter(None)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        s = infer_one(clip, Path(tmp) / "out.csv", InferOptions(detect_width=width, max_people=max_people), lifter)
        return s.frames / (time.perf_counter() - t0), (time.process_time() - c0) / s.frames


def looped(clip: Path, n: int, folder: Path) -> Path:
    """``clip`` played ``n`` times back to back, as an H.264 MP4 in ``folder`` (made once per run)."""
    import av

    out = folder / f"{clip.stem}_x{n}.mp4"
    with av.open(str(clip)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
        rate = src.streams.video[0].average_rate
    with av.open(str(out), "w") as dst:
        stream = dst.add_stream("libx264", rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt, stream.options = "yuv420p", {"preset": "veryfast", "crf": "20"}
        for _ in range(n):
            for img in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return out


def worker(args: list[str]) -> None:
    kind, clip, width, mp = args[0], Path(args[1]), int(args[2]) or None, int(args[3])
    fps, cpu = (detector_alone if kind == "detector" else end_to_end)(clip, width, mp)
    import pose3d_cli

    print(json.dumps({"fps": fps, "cpu_ms": 1000 * cpu, "package": pose3d_cli.__file__}))


def run(tree: Path, kind: str, clip: Path, width: int | None, mp: int) -> tuple[float, float]:
    """(fps, CPU ms per frame, all threads) of one measurement in a fresh process of ``tree``'s package."""
    code = (f"import sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(0, {str(REPO / 'benchmarks')!r}); "
            f"import e2e_speed; e2e_speed.worker(sys.argv[1:])")
    out = subprocess.run([sys.executable, "-c", code, kind, str(clip), str(width or 0), str(mp)], cwd=tree,
                         capture_output=True, text=True, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    if not Path(res["package"]).resolve().is_relative_to(tree):
        raise SystemExit(f"{tree}: the worker imported {res['package']} instead of this tree's package")
    return res["fps"], res["cpu_ms"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-tree", type=Path, default=None, help="a checkout whose infer_one is 'before'")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--widths", default="native,640")
    ap.add_argument("--max-people", default="1,4")
    ap.add_argument("--loops", type=int, default=1, help="play each clip this many times back to back")
    a = ap.parse_args()
    missing = [p for p in CLIPS.values() if not p.exists()]
    if missing:
        print(f"skipped: {missing[0]} not found")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        clips = CLIPS if a.loops <= 1 else {f"{k} x{a.loops}": looped(v, a.loops, Path(tmp)) for k, v in CLIPS.items()}
        return measure(a, clips)


def measure(a: argparse.Namespace, clips: dict[str, Path]) -> int:
    widths = [None if w == "native" else int(w) for w in a.widths.split(",")]
    trees = {"after": REPO} | ({"before": a.baseline_tree.resolve()} if a.baseline_tree else {})
    print(f"# fps, best of {a.repeats}; ratio = end to end / detector alone (same path, same run)")
    for mp in map(int, a.max_people.split(",")):
        for label, clip in clips.items():
            for width in widths:
                best: dict[str, tuple[float, float]] = {}
                for _ in range(a.repeats):  # interleaved, so a load change hits every column alike
                    for name, tree, kind in [("detector", REPO, "detector")] + [(n, t, "e2e") for n, t in trees.items()]:
                        fps, cpu = run(tree, kind, clip, width, mp)
                        old = best.get(name, (0.0, np.inf))
                        best[name] = (max(old[0], fps), min(old[1], cpu))
                d, dc = best["detector"]
                cols = "  ".join(f"end to end {n} {best[n][0]:5.1f} fps ({best[n][0] / d:.2f}x), "
                                 f"{best[n][1]:5.1f} CPU ms ({dc / best[n][1]:.2f}x)" for n in trees)
                print(f"--max-people {mp} {label:18s} {'native' if width is None else f'{width} px':7s}: "
                      f"detector alone {d:5.1f} fps, {dc:5.1f} CPU ms/frame;  {cols}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
