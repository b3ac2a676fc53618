"""Limb proportions per mocap source (and of a 3D reference): forearm/upper arm, shank/thigh, upper arm (mm).

Medians over a source's frames, per side, as the h36m17 joints the presets build; the 4-view BlazePose
reference of the shared clip is the in-the-wild comparison (its DEV frames 0-49 only).

    python benchmarks/proportions.py [MOCAP_DIR] [--ref ref.npz] [--max-files 40]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from pose3d_cli.mocap.load import find_mocap_files, load_motions
from pose3d_cli.mocap.motion import MocapError
from pose3d_cli.skeleton import H36M17

RATIOS = {"forearm/upper arm": (("elbow", "wrist"), ("shoulder", "elbow")),
          "shank/thigh": (("knee", "ankle"), ("hip", "knee"))}


def _length(poses: np.ndarray, a: str, b: str) -> np.ndarray:
    """(T, J, 3) → (T,) distance between two h36m17 joints."""
    return np.linalg.norm(poses[:, H36M17.index(a)] - poses[:, H36M17.index(b)], axis=-1)


def proportions(poses: np.ndarray) -> dict[str, float]:
    """Median proportions of (T, J, 3) h36m17 poses, per side."""
    out: dict[str, float] = {}
    for side in ("left", "right"):
        for label, ((a, b), (c, d)) in RATIOS.items():
            r = _length(poses, f"{side}_{a}", f"{side}_{b}") / _length(poses, f"{side}_{c}", f"{side}_{d}")
            out[f"{label} {side[0]}"] = float(np.nanmedian(r))
        out[f"upper arm {side[0]} mm"] = float(np.nanmedian(_length(poses, f"{side}_shoulder", f"{side}_elbow")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mocap", nargs="?", default="../shared/data/mocap")
    ap.add_argument("--ref", default=None, help="a pose3d 3D reference .npz (h36m17), DEV frames 0-49")
    ap.add_argument("--max-files", type=int, default=40, help="files per source folder (evenly spaced)")
    a = ap.parse_args()
    by_source: dict[str, list[Path]] = defaultdict(list)
    root = Path(a.mocap)
    for f in find_mocap_files([root]):
        by_source[str(f.parent.relative_to(root))].append(f)
    rows = {}
    for source, files in sorted(by_source.items()):
        pick = files[:: max(1, len(files) // a.max_files)][: a.max_files]
        per_file = []
        for f in pick:
            try:
                per_file += [proportions(m.joints.astype(np.float64)) for m in load_motions(f)]
            except MocapError:
                continue  # a file the readers refuse (no arms, unknown markers) has no proportions
        if per_file:
            rows[f"{source} ({len(per_file)})"] = {k: float(np.median([p[k] for p in per_file])) for k in per_file[0]}
    if a.ref:
        z = np.load(a.ref)
        rows["reference DEV 0-49"] = proportions(z["joints"][:50].astype(np.float64))
    keys = next(iter(rows.values())).keys()
    print("| source | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(f"{r[k]:.2f}" if "mm" not in k else f"{r[k]:.0f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
