"""Detector landmarks from mocap joint centres: where a 2D detector's keypoints sit on a body whose joint centres
are known (the joint-semantics gap between training 2D and real 2D).

A mocap ``left_hip`` is the hip joint centre, inside the pelvis; BlazePose's "hip" (and so pose3d's ``left_hip``
derived from it) is a surface landmark, wider apart. pose3d's ``thorax`` from a detector is the mid-point of the
shoulder landmarks, its ``head`` the mid-point of the ears, its ``nose`` the nose tip; in mocap they are the
H36M thorax, head top and neck/nose joints. :func:`to_landmarks` moves each joint by an offset given in the body's
own frame (anterior, left, up; see :func:`pose3d_cli.body.frame.orthonormal_frame`: up from the mid-hips to the
mid-shoulders, left along the hip line), in units of the body's size (the mean over both sides of shank + forearm,
~0.65 m on an adult: bones no offset moves), so the offsets follow the body through any posture and any size.

:data:`BLAZEPOSE_OFFSETS` were measured with ``benchmarks/landmark_offsets.py`` on the **dev** frames 0-49 of the
4-view BlazePose triangulation of the shared pose2sim clip, against the median structure of the shared mocap (the
default recipe's training pairs), keeping the left/right-symmetric part (one subject, who raises an arm in those
frames): hip landmarks 30 mm further out on each side than the hip centres; shoulder landmarks 131 mm higher
(relative to the hips; they are also measured 76 mm further out on each side, but training on a widening made the
arms worse on the dev frames, so it is left out); the mid-shoulders 140 mm above the mocap thorax; the mid-ears 109
mm in front of and 41 mm above the head top (relative to the hips); the nose tip 172 mm in front of and 136 mm above
the H36M neck/nose joint (mm at the mocap's median body size, 630 mm). One subject, one detector: a first model of the gap, not a
measurement of people at large.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Skeleton, get_skeleton

#: joint → (anterior, left, up) offset in body-size units (see the module doc); joints not listed stay put
BLAZEPOSE_OFFSETS: dict[str, tuple[float, float, float]] = {
    "left_hip": (0.0, 0.048, 0.0), "right_hip": (0.0, -0.048, 0.0),
    "left_shoulder": (0.0, 0.0, 0.208), "right_shoulder": (0.0, 0.0, 0.208),
    "thorax": (0.0, 0.0, 0.222), "spine": (0.024, 0.0, 0.137),
    "head": (0.172, 0.0, 0.065), "nose": (0.272, 0.0, 0.215),
}


#: detector name → its offsets (a checkpoint's ``codec.landmarks`` names one)
LANDMARK_OFFSETS: dict[str, dict[str, tuple[float, float, float]]] = {"blazepose": BLAZEPOSE_OFFSETS}


def offsets_named(name: str) -> dict[str, tuple[float, float, float]]:
    """The offsets of :data:`LANDMARK_OFFSETS` called ``name`` (one-line error naming the known ones)."""
    from ..errors import Pose3dError

    if name not in LANDMARK_OFFSETS:
        raise Pose3dError(f"landmarks {name!r}: unknown; known: {', '.join(LANDMARK_OFFSETS)}")
    return LANDMARK_OFFSETS[name]


def body_size(joints: np.ndarray, skeleton: Skeleton | str) -> np.ndarray:
    """(...) mean over both sides of shank + forearm lengths of (..., J, 3) poses (their unit): bones whose ends no
    landmark offset moves, so a pose and its landmarks have the same size (the offsets round-trip)."""
    sk = get_skeleton(skeleton)
    seg = lambda a, b: np.linalg.norm(joints[..., sk.index(a), :] - joints[..., sk.index(b), :], axis=-1)
    return np.mean([seg(f"{s}_knee", f"{s}_ankle") + seg(f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")], axis=0)


def body_frame(joints: np.ndarray, skeleton: Skeleton | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame the offsets are given in, for (..., J, 3) poses: origin (..., 3) the mid-hips, (..., 3, 3) rows
    (anterior, left, up) with up towards the mid-shoulders and left along the hip line, and (...) body sizes."""
    from ..body.frame import orthonormal_frame

    sk = get_skeleton(skeleton)
    P = np.asarray(joints, dtype=np.float64)
    mid = lambda a, b: 0.5 * (P[..., sk.index(a), :] + P[..., sk.index(b), :])  # noqa: E731
    hips = mid("left_hip", "right_hip")
    frame = orthonormal_frame(mid("left_shoulder", "right_shoulder") - hips,
                              P[..., sk.index("left_hip"), :] - P[..., sk.index("right_hip"), :])
    return hips, frame, body_size(P, sk)


def to_landmarks(joints: np.ndarray, skeleton: Skeleton | str,
                 offsets: dict[str, tuple[float, float, float]] = BLAZEPOSE_OFFSETS) -> np.ndarray:
    """(..., J, 3) joint centres → the same poses with each joint of ``offsets`` moved to its landmark."""
    sk = get_skeleton(skeleton)
    P = np.asarray(joints, dtype=np.float64)
    _, frame, size = body_frame(P, sk)
    size = size[..., None]
    out = P.copy()
    for name, off in offsets.items():
        if name in sk.joints:
            out[..., sk.index(name), :] += size * (np.asarray(off) @ frame)
    return out


def landmark_shift(joints_cam: np.ndarray, skeleton: Skeleton | str, name: str) -> np.ndarray:
    """(N, J, 2) float32: how far each joint's normalised image position (x/z, y/z) moves when the (N, J, 3)
    camera-frame joint centres are replaced by the landmarks of detector ``name``: what turns training 2D made
    from mocap into the 2D that detector gives."""
    P = np.asarray(joints_cam, dtype=np.float64)
    L = to_landmarks(P, skeleton, offsets_named(name))
    xy = lambda X: X[..., :2] / np.maximum(X[..., 2:3], 1.0)  # noqa: E731 - as train.encode_pairs's exact projection
    # a pose missing a joint its frame or size needs gets no shift (its 2D stays as it is) rather than NaN
    return np.nan_to_num(xy(L) - xy(P), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
