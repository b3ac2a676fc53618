"""The body frame and the vertical: one owner for "up", the pelvis/trunk axes and signed joint angles.

``frame`` builds the frames and the angles; ``vertical`` estimates up from the lifted poses; ``scene_lines``
from the scene's vertical lines (the video's frames).
"""

from .frame import (ANGLE_NAMES, NEEDS, SIDES, angle_between, body_angles, level_camera_up, orthonormal_frame,
                    pelvis_frame, planar_angle, trunk_frame)

from .scene_lines import SceneUp, scene_up
from .vertical import estimate_up

__all__ = ["ANGLE_NAMES", "NEEDS", "SIDES", "SceneUp", "angle_between", "body_angles", "estimate_up",
           "level_camera_up", "orthonormal_frame", "pelvis_frame", "planar_angle", "scene_up", "trunk_frame"]
