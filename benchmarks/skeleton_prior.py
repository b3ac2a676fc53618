"""Measure the bone-proportion prior of :mod:`pose3d_cli.infer.skeleton_fit` from the shared mocap.

Usage: ``python benchmarks/skeleton_prior.py [MOCAP_ROOT]`` (default ../shared/data/mocap). For one file per
subject of every source (HDM05 ASF/AMC, CMU and Bandai Namco BVH), each bone's median length over the take is
divided by the take's total bone length; the prior is the median of those fractions over the takes, left and
right averaged. Prints the table pasted into ``skeleton_fit.PRIOR_FRACTIONS``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pose3d_cli.infer.skeleton_fit import symmetric_bones
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.skeleton import get_skeleton


def takes(root: Path) -> list[Path]:
    out = []
    for sub in sorted((root / "amc" / "hdm05").glob("*/")):
        out += sorted(sub.glob("*.amc"))[:1]
    out += sorted((root / "bvh" / "cmu").glob("*.bvh"))
    for d in ("bandai_namco_1", "bandai_namco_2"):
        out += sorted((root / "bvh" / d).glob("*.bvh"))[:2]
    return out


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mocap")
    sk = get_skeleton("h36m17")
    fractions = []
    for path in takes(root):
        for m in load_motions(path):
            lengths = np.nanmedian(sk.bone_lengths(m.joints), axis=0)  # (B,)
            fractions.append(lengths / lengths.sum())
            print(f"{path.name}: total {lengths.sum():.0f} mm", file=sys.stderr)
    frac = np.median(np.stack(fractions), axis=0)
    frac = symmetric_bones(sk, frac[None])[0]
    print(f"# {len(fractions)} takes")
    for (child, parent), f in zip(sk.bones, frac):
        print(f'    "{child}": {f:.4f},')


if __name__ == "__main__":
    main()
