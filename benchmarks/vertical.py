"""Benchmark: `estimate_up` on a 10-minute 30 fps video's lifted poses (18,000 frames), against the baseline of
one pass of the lifter-sized work it follows (here: reading the poses array once, `np.nanmean`), same run.

    python benchmarks/vertical.py [--frames 18000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pose3d_cli.body.vertical import estimate_up, load_up_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=18000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    base = rng.normal(0, 300, (17, 3))
    poses = base[None] + rng.normal(0, 20, (a.frames, 17, 3))
    poses[:, 0] = 0
    load_up_model()  # loading the model once is not per-video work
    best = {}
    for name, fn in (("estimate_up", lambda: estimate_up(poses)), ("baseline nanmean", lambda: np.nanmean(poses, 0))):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        best[name] = min(ts)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    for k, v in best.items():
        print(f"{k}: {v * 1000:.1f} ms for {a.frames} frames ({a.frames / 30 / 60:.0f} min at 30 fps)")
    print(f"ratio estimate_up / baseline: {best['estimate_up'] / best['baseline nanmean']:.0f}x; "
          f"real-time factor: {a.frames / 30 / best['estimate_up']:.0f}x")


if __name__ == "__main__":
    main()
