"""The body frame and the vertical: one owner for "up", the pelvis/trunk axes and signed joint angles.

``frame`` (this branch) builds the frames and the angles; ``vertical`` (estimating up from the video) is
added separately and is optional here: ``estimate_up`` is ``None`` when it is not installed.
"""

from .frame import (ANGLE_NAMES, NEEDS, SIDES, angle_between, body_angles, level_camera_up, orthonormal_frame,
                    pelvis_frame, planar_angle, trunk_frame)

try:  # the vertical estimator lives in its own module (another branch); optional
    from .vertical import estimate_up
except ImportError:  # pragma: no cover - depends on the merge
    estimate_up = None

__all__ = ["ANGLE_NAMES", "NEEDS", "SIDES", "angle_between", "body_angles", "estimate_up", "level_camera_up",
           "orthonormal_frame", "pelvis_frame", "planar_angle", "trunk_frame"]
