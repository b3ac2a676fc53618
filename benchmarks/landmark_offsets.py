"""Measure the joint-semantics offsets of synth/landmarks.py: where BlazePose's landmarks sit against mocap joint
centres, in the body's frame (anterior, left, up; up from the mid-hips to the mid-shoulders) and in body sizes
(shank + forearm, mean of both sides: bones no offset moves, so the measurement round-trips).

    python benchmarks/landmark_offsets.py REF.npz PAIRS.h5 [--frames 0:50]

REF.npz: the 4-view BlazePose triangulation of ``benchmarks/reference_pose2sim.py`` (landmark semantics); only its
**dev** frames (default 0:50) are read. PAIRS.h5: synthetic pairs of the shared mocap (joint centres), e.g. the
default recipe's. Prints, per joint, the median body-frame position in each and their difference (body sizes and
mm at the mocap's median size), and the distances that do not depend on the frame (hip and shoulder widths).
The difference mixes semantics with this one subject's build and posture (an arm raised in the dev frames moves
that shoulder): BLAZEPOSE_OFFSETS keeps the symmetric part only (see the module doc).
"""

from __future__ import annotations

import argparse

import numpy as np


def body_coordinates(P: np.ndarray, sk) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) poses → (T, J, 3) positions in the body frame (anterior, left, up) in body sizes, and (T,) sizes."""
    from pose3d_cli.synth.landmarks import body_frame

    hips, frame, size = body_frame(P, sk)
    return np.einsum("tij,tkj->tki", frame, P - hips[:, None]) / size[:, None, None], size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reference"), ap.add_argument("pairs")
    ap.add_argument("--frames", default="0:50", help="reference frames used (half-open; the dev split)")
    a = ap.parse_args()
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.multiview.reference import read_reference
    from pose3d_cli.skeleton import get_skeleton

    sk = get_skeleton("h36m17")
    lo, hi = (int(v) for v in a.frames.split(":"))
    ref = read_reference(a.reference)
    R = ref.joints[(ref.frame >= lo) & (ref.frame < hi)].astype(np.float64)
    R = R[np.isfinite(R).all(axis=(1, 2))]
    data = load_pairs(a.pairs).split("train")
    M = data.joints_3d[:: max(1, len(data) // 20000)].astype(np.float64)
    (br, sr), (bm, sm) = body_coordinates(R, sk), body_coordinates(M, sk)
    mr, mm, size = np.median(br, 0), np.median(bm, 0), float(np.median(sm))
    print(f"# {len(R)} reference frames {a.frames}, {len(M)} mocap poses; body size {np.median(sr):.0f} mm (reference), "
          f"{size:.0f} mm (mocap)\n")
    print("| joint | reference (ant, left, up) | mocap | difference, body sizes | difference, mm |")
    print("|---|---|---|---|---|")
    for j, name in enumerate(sk.joints):
        d = mr[j] - mm[j]
        f = lambda v: ", ".join(f"{x:+.3f}" for x in v)  # noqa: E731
        print(f"| {name} | {f(mr[j])} | {f(mm[j])} | {f(d)} | {', '.join(f'{x:+.0f}' for x in d * size)} |")
    for a_, b_ in (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")):
        w = lambda P, s: np.median(np.linalg.norm(P[:, sk.index(a_)] - P[:, sk.index(b_)], axis=-1) / s)  # noqa: E731
        print(f"\n{a_}-{b_} width: reference {w(R, sr):.3f}, mocap {w(M, sm):.3f} body sizes "
              f"(each side {0.5 * (w(R, sr) - w(M, sm)) * size:+.0f} mm)")


if __name__ == "__main__":
    main()
