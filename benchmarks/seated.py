"""Seated poses: how a lifter does on the held-out files' motions put on a chair, against the same motions standing.

    python -m pose3d_cli synth ../shared/data/mocap clean.h5 --clean --views 2 --seed 3
    python benchmarks/seated.py clean.h5 MODEL.pt [MODEL2.pt ...] [--split test] [--every 3]

An accuracy measurement on synthetic data (nobody in the shared mocap sits on a chair): every sequence of the split
is taken back to the world through its stored extrinsics, seated by ``pose3d_cli.synth.seated.seat`` (its own seed,
so not the draws of a training set made with ``synth --seated``), filmed again by the same camera, and lifted from
the exact 2D (flip averaging on, as ``infer``). Prints P-MPJPE over all joints and over the knees and ankles, standing
and seated, per model. The split's files are unseen by a model trained on the same file split (by file content).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.geometry import procrustes_align
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.lifting.codec import pixels_to_network_input, root_relative
    from pose3d_cli.lifting.sequence import run_frames
    from pose3d_cli.skeleton import H36M17 as sk
    from pose3d_cli.synth.seated import can_seat, seat

    ap = argparse.ArgumentParser()
    ap.add_argument("pairs", help="a synth --clean HDF5")
    ap.add_argument("models", nargs="+", help="checkpoints ('default': the shipped model)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--every", type=int, default=3, help="lift every N-th pair")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    d = load_pairs(a.pairs)
    with h5py.File(a.pairs, "r") as f:
        R, t = f["cam_from_world_R"][()].astype(np.float64), f["cam_from_world_t"][()].astype(np.float64)
    split = d.sequences["split"].astype(str)
    rng = np.random.default_rng(a.seed)
    stand, seated, K = [], [], []
    for start, stop in d.sequence_ranges():
        if split[d.sequence_index[start]] != a.split:
            continue
        X = d.joints_3d[start:stop].astype(np.float64)
        W = np.einsum("tji,tkj->tki", R[start:stop], X - t[start:stop, None])  # world = R^T (x - t)
        if not can_seat(W, sk):
            continue  # lying, crawling: no chair
        Ws = seat(W, sk, rng)
        stand.append(X)
        seated.append(np.einsum("tij,tkj->tki", R[start:stop], Ws) + t[start:stop, None])
        K.append(d.K[d.camera_index[start:stop]])
    X, Xs, K = (np.concatenate(v)[::a.every] for v in (stand, seated, K))
    root = sk.index(sk.root)
    legs = [sk.index(f"{s}_{j}") for s in ("left", "right") for j in ("knee", "ankle")]
    print(f"{a.pairs} [{a.split}]: {len(X)} poses of upright sequences, each standing and seated")
    print("| model | standing P-MPJPE (knees+ankles) mm | seated P-MPJPE (knees+ankles) mm |")
    print("|---|---|---|")
    for m in a.models:
        lifter = load_lifter(None if m == "default" else m)
        cells = []
        for P in (X, Xs):
            uv = P[..., :2] / P[..., 2:3] * K[:, None, [0, 1], [0, 1]] + K[:, None, [0, 1], [2, 2]]
            ok = (P[..., 2] > 100).all(1)
            xy, c = pixels_to_network_input(uv[ok], np.ones(uv.shape[:2], np.float32)[ok], K[ok])
            gt = root_relative(P[ok], root)
            al = procrustes_align(run_frames(lifter.fn, xy, c).astype(np.float64), gt)
            err = np.linalg.norm(al - gt, axis=-1)
            cells.append(f"{err.mean():.1f} ({err[:, legs].mean():.1f})")
        print(f"| {m} | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
