"""Joint angles for ergonomics, from root-relative ``h36m17`` poses (numpy only).

Angles in degrees, batched over ``(..., J, 3)`` (joints by name through the skeleton registry):

- ``elbow_flexion_{left,right}``: 0 with the arm straight (angle between upper arm and forearm, from straight);
- ``knee_flexion_{left,right}``: 0 with the leg straight;
- ``shoulder_elevation_{left,right}``: angle between the upper arm and the trunk's downward axis (0 = arm
  hanging along the trunk, 90 = raised to horizontal, 180 = overhead), whatever its direction (RULA's upper-arm
  position uses this magnitude);
- ``trunk_flexion``: angle between the trunk axis (pelvis → thorax) and the vertical (0 = upright);
- ``neck_flexion``: angle between the neck/head axis (thorax → head) and the trunk axis.

``trunk_flexion`` needs "up". pose3d's poses are in the camera frame, so up is not known exactly: by default it
is the camera's −y axis (a phone held upright or on a level tripod), or give ``up`` (a calibrated world
direction in the camera frame). Relative angles (elbow, knee, shoulder, neck) need no up.

These five unsigned angles stay for ``infer --angles``; the signed, RULA/REBA-ready decomposition (flexion vs
extension, side bend, twist, abduction) is :func:`pose3d_cli.body.frame.body_angles`.
"""

from __future__ import annotations

import numpy as np

from .body.frame import angle_between  # noqa: F401  (re-exported: one implementation of the math)
from .skeleton import H36M17, Skeleton

ANGLE_NAMES = ("trunk_flexion", "neck_flexion", "shoulder_elevation_left", "shoulder_elevation_right",
               "elbow_flexion_left", "elbow_flexion_right", "knee_flexion_left", "knee_flexion_right")


def joint_angles(poses: np.ndarray, skeleton: Skeleton = H36M17, up: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Ergonomic angles (see module doc) of poses (..., J, 3) → {name: (...) degrees}.

    Args:
        poses: (..., J, 3) joints, any consistent unit, camera frame (x right, y down, z forward).
        up: (3,) direction of "up" in the same frame; default camera −y.
    """
    def j(name: str) -> np.ndarray:
        return poses[..., skeleton.index(name), :]

    up = np.array([0.0, -1.0, 0.0]) if up is None else np.asarray(up, dtype=np.float64)
    trunk = j("thorax") - j("pelvis")
    out = {
        "trunk_flexion": angle_between(trunk, np.broadcast_to(up, trunk.shape)),
        "neck_flexion": angle_between(j("head") - j("thorax"), trunk),
    }
    for side in ("left", "right"):
        upper = j(f"{side}_elbow") - j(f"{side}_shoulder")
        fore = j(f"{side}_wrist") - j(f"{side}_elbow")
        thigh = j(f"{side}_knee") - j(f"{side}_hip")
        shank = j(f"{side}_ankle") - j(f"{side}_knee")
        out[f"shoulder_elevation_{side}"] = angle_between(upper, -trunk)
        out[f"elbow_flexion_{side}"] = angle_between(upper, fore)
        out[f"knee_flexion_{side}"] = angle_between(thigh, shank)
    return {k: out[k] for k in ANGLE_NAMES}
