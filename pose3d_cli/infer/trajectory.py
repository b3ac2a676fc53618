"""Where the person is: the root's (pelvis') position in the camera frame, per frame.

The lifter gives root-relative poses in the camera frame (mm). Placed at the right translation ``t`` they project
onto the 2D keypoints; ``t`` is the root's position. Per frame it is the confidence-weighted least-squares
solution of the projection equations (:func:`pose3d_cli.infer.skeleton_fit.camera_translation`: linear in ``t``,
two equations per joint), then smoothed over the track like the poses (zero-phase for files, One-Euro live).

What sets its accuracy:

- **Scale.** A single view cannot tell a small person near the camera from a tall one further away: the depth
  comes out at the lifted body's size, which is the size the lifter learned (its mocap's bodies) after the
  per-person skeleton fit. ``infer --person-height`` rescales pose and position to the person's standing height, which a
  user usually knows; :func:`standing_height` says what height the lifted body has.
- **Intrinsics.** Depth scales with the focal length: without ``--calib``/``--fov``/``--focal`` it is the
  default phone field of view's (``calibration.DEFAULT_FOV_DEG``).

Functions are numpy only (the ONNX path has no torch). Shapes: T frames, J joints.
"""

from __future__ import annotations

import numpy as np

from .skeleton_fit import camera_translation

#: Joints with a detected 2D needed to place a frame's root (fewer leave the frame's position NaN).
MIN_PLACED_JOINTS = 6

#: Segment lengths as fractions of standing height (Winter, *Biomechanics and Motor Control of Human Movement*,
#: 4th ed., Fig. 4.1, after Drillis & Contini 1966): joint centre to joint centre, the limbs only, which every
#: mocap source defines alike (a "head" joint is a head top in one file and a skull base in another).
HEIGHT_FRACTIONS = {"knee": 0.245, "ankle": 0.246, "elbow": 0.186, "wrist": 0.146}  # thigh, shank, upper arm, forearm


def root_positions(joints: np.ndarray, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T, 3) camera-frame root positions, mm, of root-relative ``joints`` (T, J, 3) mm seen at normalised 2D
    ``xy`` (T, J, 2) with confidences ``conf`` (T, J). NaN for frames whose pose is NaN or that have fewer than
    :data:`MIN_PLACED_JOINTS` joints with confidence > 0, or whose solution lies behind the camera."""
    P = np.asarray(joints, dtype=np.float64)
    w = np.clip(np.asarray(conf, dtype=np.float64), 0.0, 1.0)
    valid = np.isfinite(P).all(axis=(1, 2)) & ((w > 0).sum(axis=1) >= MIN_PLACED_JOINTS)
    out = np.full((len(P), 3), np.nan)
    if valid.any():
        t = camera_translation(P[valid], np.asarray(xy, dtype=np.float64)[valid], w[valid])
        out[valid] = np.where((t[:, 2] > 0)[:, None], t, np.nan)
    return out


def standing_height(lengths: dict[str, float]) -> float | None:
    """Standing height (mm) of a body with bone ``lengths`` (child joint name → mm, as ``infer``'s skeleton fit
    reports them, e.g. ``left_knee`` for the left thigh): the summed limb bones over the summed
    :data:`HEIGHT_FRACTIONS` of both sides. None without any such bone."""
    got = [(v, HEIGHT_FRACTIONS[j.split("_", 1)[1]]) for j, v in lengths.items()
           if "_" in j and j.split("_", 1)[1] in HEIGHT_FRACTIONS and np.isfinite(v) and v > 0]
    if not got:
        return None
    return float(sum(v for v, _ in got) / sum(f for _, f in got))
