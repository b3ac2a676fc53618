"""Benchmark `pose3d synth`: all shared BVH × N virtual cameras, and BVH forward kinematics alone.

    python benchmarks/synth.py [--views 8] [--workers 2] [--out DIR] [--speedup] [--skip-synth]

Prints files, frames (native and resampled), pairs, wall time, pairs/s, the split of time between reading mocap,
generating pairs and writing HDF5, peak memory and output size; a baseline measured in the same run (reading the
same BVH files alone, and with --speedup the same synth on 1 worker); then FK on a synthetic 10k-frame ×
30-joint motion. Targets (benchmarks/README.md): synth < 60 s on 2 cores, peak memory < 2 GB; FK < 1 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pose3d_cli.mocap.bvh import BvhHierarchy, forward_kinematics, read_bvh  # noqa: E402
from pose3d_cli.mocap.load import find_mocap_files  # noqa: E402
from pose3d_cli.synth.pairs import SynthConfig, synthesise  # noqa: E402

BVH_DIR = REPO.parent / "shared" / "data" / "mocap" / "bvh"
SYNTH_TARGET_S = 60.0
MEMORY_TARGET_MB = 2048.0
FK_TARGET_S = 1.0


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest waited-for child (Linux: ru_maxrss in KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def read_baseline(files: list[Path]) -> tuple[float, int]:
    """Seconds to read (parse + FK) every BVH file once, sequentially; total native frames."""
    t = time.perf_counter()
    frames = sum(read_bvh(f).num_frames for f in files)
    return time.perf_counter() - t, frames


def run_synth(files_root: Path, out: Path, views: int, workers: int):
    cfg = SynthConfig(views=views, seed=0)
    t = time.perf_counter()
    report = synthesise([files_root], out, cfg, workers=workers)
    return report, time.perf_counter() - t


def synth_benchmark(args) -> int:
    if not BVH_DIR.is_dir():
        print(f"skipped: shared mocap not found at {BVH_DIR} (clone the repo beside ../shared/data)")
        return 0
    files = find_mocap_files([BVH_DIR])
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="pose3d-bench-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "synth_bench.h5"
    print(f"synth: {len(files)} BVH files under {BVH_DIR} × {args.views} views, {args.workers} workers → {out}")

    report, wall = run_synth(BVH_DIR, out, args.views, args.workers)
    own_mb, child_mb = peak_memory_mb()
    size_mb = out.stat().st_size / 2**20
    busy = report.read_s + report.generate_s + report.write_s

    read_s, native_frames = read_baseline(files)

    rows = [
        ("files used / skipped", f"{report.files} / {len(report.skipped)}"),
        ("frames native (BVH)", f"{native_frames:,}"),
        ("frames resampled (30 fps)", f"{report.frames:,}"),
        ("sequences", f"{report.sequences:,}"),
        ("pairs", f"{report.pairs:,}"),
        ("wall time", f"{wall:.2f} s"),
        ("pairs/s", f"{report.pairs / wall:,.0f}"),
        ("time read / generate / write",
         f"{report.read_s:.2f} / {report.generate_s:.2f} / {report.write_s:.2f} s ({100 * report.read_s / busy:.0f}% / "
         f"{100 * report.generate_s / busy:.0f}% / {100 * report.write_s / busy:.0f}%; "
         "read and generate summed over workers)"),
        ("peak memory", f"{own_mb:.0f} MB main + {child_mb:.0f} MB largest worker = {own_mb + child_mb:.0f} MB"),
        ("output size", f"{size_mb:.1f} MB ({size_mb * 2**20 / max(report.pairs, 1):.0f} B/pair)"),
        ("baseline: read all BVH alone (1 process)", f"{read_s:.2f} s → synth wall / read-only = {wall / read_s:.2f}×"),
    ]
    if args.speedup:
        out1 = out_dir / "synth_bench_1worker.h5"
        report1, wall1 = run_synth(BVH_DIR, out1, args.views, 1)
        assert report1.pairs == report.pairs
        rows.append(("baseline: same synth, 1 worker", f"{wall1:.2f} s → speed-up with {args.workers} workers = "
                                                        f"{wall1 / wall:.2f}×"))
        out1.unlink()
    for k, v in rows:
        print(f"  {k:<42} {v}")
    for f, why in report.skipped:
        print(f"  skipped {f}: {why}")
    ok_time = wall < SYNTH_TARGET_S
    ok_mem = own_mb + child_mb < MEMORY_TARGET_MB
    print(f"  target wall < {SYNTH_TARGET_S:.0f} s: {'PASS' if ok_time else 'FAIL'}; "
          f"peak memory < {MEMORY_TARGET_MB / 1024:.0f} GB: {'PASS' if ok_mem else 'FAIL'}")
    if not args.out:
        out.unlink()
        out_dir.rmdir()
    return 0 if ok_time and ok_mem else 1


def synthetic_hierarchy(J: int = 30) -> BvhHierarchy:
    """A 30-joint body-like tree: a spine chain with two arms and two legs, 6 root channels, 3 per joint."""
    names, parents = ["root"], [-1]
    chains = [(0, 6), (0, 5), (0, 5), (4, 6), (4, 7)]  # (attach to, length): spine, legs, arms on the spine
    for attach, length in chains:
        parent = attach
        for _ in range(length):
            if len(names) == J:
                break
            names.append(f"j{len(names)}")
            parents.append(parent)
            parent = len(names) - 1
    while len(names) < J:
        names.append(f"j{len(names)}")
        parents.append(len(names) - 2)
    rng = np.random.default_rng(0)
    offsets = rng.normal(size=(J, 3)) * 10
    rot = ["Zrotation", "Xrotation", "Yrotation"]
    channels = [["Xposition", "Yposition", "Zposition"] + rot] + [list(rot) for _ in range(J - 1)]
    return BvhHierarchy(names, parents, offsets, channels)


def fk_benchmark(T: int = 10_000, J: int = 30) -> int:
    h = synthetic_hierarchy(J)
    data = np.random.default_rng(1).uniform(-180, 180, size=(T, h.num_channels))
    forward_kinematics(h, data[:10])  # warm-up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        pos = forward_kinematics(h, data)
        times.append(time.perf_counter() - t)
    assert pos.shape == (T, J, 3)
    best = min(times)
    print(f"fk: {T:,} frames × {J} joints ({h.num_channels} channels): best of 3 {best * 1000:.0f} ms "
          f"({T * J / best / 1e6:.1f} M joint-frames/s); target < {FK_TARGET_S:.0f} s: "
          f"{'PASS' if best < FK_TARGET_S else 'FAIL'}")
    return 0 if best < FK_TARGET_S else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--views", type=int, default=8, help="virtual cameras per motion (default 8)")
    ap.add_argument("--workers", type=int, default=2, help="processes across files (default 2)")
    ap.add_argument("--out", default=None, help="folder for the output HDF5 (kept); default: a temp folder, deleted")
    ap.add_argument("--speedup", action="store_true", help="also run the same synth on 1 worker (speed-up ratio)")
    ap.add_argument("--skip-synth", action="store_true", help="only the FK benchmark")
    args = ap.parse_args(argv)
    rc = 0 if args.skip_synth else synth_benchmark(args)
    return fk_benchmark() or rc


if __name__ == "__main__":
    sys.exit(main())
