"""CSV writer speed: the vectorised ``csv_text`` against the pre-change per-cell writer, same data, same run.

Usage: ``python benchmarks/writers.py [FRAMES]`` (default 18000 frames of the h36m17 skeleton, with angles and 2D).
The baseline is the per-cell loop (numpy scalars through ``np.isfinite``), re-implemented here; the two texts must
be identical. Prints seconds for both and the speed-up ratio.
"""

from __future__ import annotations

import csv
import io
import sys
import time

import numpy as np

from pose3d_cli.infer.writers import PoseTrack, csv_text
from pose3d_cli.skeleton import get_skeleton


def _fmt(v, digits=2):
    return "" if not np.isfinite(v) else f"{v:.{digits}f}"


def baseline_csv(track: PoseTrack, with_2d: bool, min_conf: float = 0.3) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = track.joint_names
    angle_names = list(track.angles or {})
    header = ["frame", "time_s", "detected"] + [f"{j}_{a}" for j in names for a in "xyz"]
    header += [f"{j}_conf" for j in names] + ["low_conf"] + [f"{a}_deg" for a in angle_names]
    header += [f"{j}_{a}" for j in names for a in "uv"] if with_2d else []
    w.writerow(header)
    for t in range(len(track.frame)):
        det = bool(track.detected[t])
        row = [int(track.frame[t]), f"{track.time_s[t]:.4f}", int(det)]
        if det:
            row += [_fmt(v) for v in track.joints3d[t].reshape(-1)]
            row += [f"{c:.3f}" for c in track.conf[t]]
            row.append(";".join(j for j, c in zip(names, track.conf[t]) if c < min_conf))
            row += [_fmt(track.angles[a][t], 1) for a in angle_names]
            if with_2d:
                row += [_fmt(v) if c > 0 else "" for v, c in zip(track.uv[t].reshape(-1), np.repeat(track.conf[t], 2))]
        else:
            row += [""] * (len(header) - len(row))
        w.writerow(row)
    return buf.getvalue()


def main(T: int = 18000) -> None:
    names = tuple(get_skeleton("h36m17").joints)
    rng = np.random.default_rng(0)
    J = len(names)
    det = rng.random(T) > 0.05
    j3 = rng.normal(0, 300, (T, J, 3))
    j3[~det] = np.nan
    angles = {f"a{i}": rng.normal(30, 10, T) for i in range(6)}
    tr = PoseTrack(np.arange(T), np.arange(T) / 30, det, j3, rng.normal(500, 100, (T, J, 2)), rng.random((T, J)),
                   names, {}, angles)
    t0 = time.perf_counter()
    ref = baseline_csv(tr, True)
    t1 = time.perf_counter()
    new = csv_text(tr, True)
    t2 = time.perf_counter()
    assert new == ref, "vectorised CSV differs from the baseline"
    print(f"csv {T} frames, {J} joints, 6 angles, 2D: baseline {t1 - t0:.2f} s, vectorised {t2 - t1:.2f} s, "
          f"speed-up x{(t1 - t0) / (t2 - t1):.1f} (identical text)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 18000)
