"""Scoring throughput of `pose3d ergo` on a synthetic 10-minute 30 fps infer CSV, and the report's build time.

    python benchmarks/ergo.py [--minutes 10] [--fps 30] [--keep /tmp/bench_ergo]

The CSV is a real infer-format file (pose3d_cli.infer.writers) of a smoothly varying hand-built posture (trunk,
arms, knees moving through every band) with 2% undetected frames and some low-confidence joints. Printed:
reading the CSV, scoring (vertical, angles, reliability, smoothing, time rules, RULA, REBA, near-edge checks,
summary; scipy.signal is imported beforehand: its one-off import takes 1-3 s here), the per-frame CSV text, the JSON, the HTML report (without video thumbnails); each as seconds and as
× real time (video duration / seconds). Baseline in the same run: numpy's body_angles alone (the floor of any
scorer). Target: scoring ≥ 50× real time on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic_track(minutes: float, fps: float):
    from ergo_fk import camera, posture, to_camera
    from pose3d_cli.infer.writers import PoseTrack
    from pose3d_cli.skeleton import H36M17

    T = int(minutes * 60 * fps)
    t = np.arange(T) / fps
    # a few hundred distinct key postures, interpolated (FK per frame would dominate the set-up time)
    keys = np.arange(0, t[-1] + 2, 2.0)
    rng = np.random.default_rng(0)
    kp = np.stack([posture(trunk_flex=rng.uniform(-10, 70), trunk_side=rng.uniform(-20, 20),
                           trunk_twist=rng.uniform(-25, 25), neck_flex=rng.uniform(-15, 35),
                           arm_flex=tuple(rng.uniform(-30, 140, 2)), arm_abd=tuple(rng.uniform(0, 40, 2)),
                           elbow=tuple(rng.uniform(20, 140, 2)), thigh_fwd=tuple(rng.uniform(0, 60, 2)))
                   for _ in keys])
    w = np.stack([np.stack([np.interp(t, keys, kp[:, j, a]) for a in range(3)], -1) for j in range(17)], 1)
    R = camera(35, 20)
    p, up = to_camera(w, R)
    det = rng.uniform(size=T) > 0.02
    conf = np.full((T, 17), 0.9, np.float32)
    conf[rng.uniform(size=(T, 17)) < 0.01] = 0.1
    p = p.astype(np.float32)
    p[~det] = np.nan
    return PoseTrack(np.arange(T), t, det, p, np.zeros((T, 17, 2), np.float32), conf, H36M17.joints,
                     {"skeleton": "h36m17", "fps": fps}), up


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    from pose3d_cli.body import body_angles
    from pose3d_cli.ergo.assess import assess, frames_csv_text, resolve_vertical, summary_json_text
    from pose3d_cli.ergo.io import read_poses
    from pose3d_cli.ergo.report import build_report
    from pose3d_cli.infer.writers import write_track

    import scipy.signal  # noqa: F401  (a one-off ~1-3 s import, not part of the per-frame cost)

    out = args.keep or Path(tempfile.mkdtemp(prefix="bench_ergo_"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    track, up = synthetic_track(args.minutes, args.fps)
    csv_path = out / "poses.csv"
    write_track(track, csv_path, "csv")
    dur = args.minutes * 60
    print(f"machine: {os.cpu_count()} CPUs ({_cpu()}); video: {args.minutes:g} min at {args.fps:g} fps = "
          f"{len(track.frame)} frames; set-up {time.perf_counter() - t0:.1f} s; CSV {csv_path.stat().st_size / 1e6:.1f} MB")

    def timed(name, fn):
        t = time.perf_counter()
        r = fn()
        s = time.perf_counter() - t
        print(f"{name:<34} {s:7.2f} s   {dur / s:8.0f}x real time")
        return r

    poses = timed("read infer CSV", lambda: read_poses(csv_path))
    timed("baseline: body_angles alone", lambda: body_angles(poses.joints, up))
    A = timed("score (angles..RULA/REBA..summary)", lambda: assess(poses, resolve_vertical(poses, tuple(up))))
    timed("per-frame CSV text", lambda: frames_csv_text(A))
    timed("summary JSON text", lambda: summary_json_text(A))
    html, _ = timed("HTML report (no video)", lambda: build_report(A))
    print(f"report size {len(html) / 1e6:.2f} MB; RULA max {A.summary['rula']['max']}, REBA max {A.summary['reba']['max']}")


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
