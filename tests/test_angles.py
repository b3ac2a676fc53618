"""Ergonomic joint angles on hand-made poses with known angles."""

import numpy as np
import pytest

from pose3d_cli.angles import ANGLE_NAMES, angle_between, joint_angles
from pose3d_cli.skeleton import H36M17


def standing() -> np.ndarray:
    """An upright person facing the camera, arms hanging, legs straight (camera frame: y down, mm)."""
    p = {
        "pelvis": (0, 0, 0), "right_hip": (-100, 0, 0), "left_hip": (100, 0, 0),
        "right_knee": (-100, 450, 0), "left_knee": (100, 450, 0), "right_ankle": (-100, 900, 0),
        "left_ankle": (100, 900, 0), "spine": (0, -250, 0), "thorax": (0, -500, 0), "nose": (0, -650, 0),
        "head": (0, -750, 0), "left_shoulder": (180, -480, 0), "right_shoulder": (-180, -480, 0),
        "left_elbow": (180, -180, 0), "right_elbow": (-180, -180, 0), "left_wrist": (180, 70, 0),
        "right_wrist": (-180, 70, 0),
    }
    return np.array([p[n] for n in H36M17.joints], dtype=np.float64)


def set_joint(pose, name, xyz):
    pose = pose.copy()
    pose[H36M17.index(name)] = xyz
    return pose


def test_angle_between():
    assert angle_between(np.array([1.0, 0, 0]), np.array([0, 1.0, 0])) == pytest.approx(90)
    assert angle_between(np.array([1.0, 0, 0]), np.array([-2.0, 0, 0])) == pytest.approx(180)
    assert np.isnan(angle_between(np.zeros(3), np.array([1.0, 0, 0])))


def test_neutral_standing_pose_is_all_zero():
    a = joint_angles(standing())
    assert list(a) == list(ANGLE_NAMES)
    for name, v in a.items():
        assert v == pytest.approx(0, abs=4), name  # shoulders are slightly lower than the thorax


def test_known_angles():
    p = standing()
    # left forearm horizontal, pointing forward (towards the camera: -z): elbow flexed 90 degrees
    p = set_joint(p, "left_wrist", (180, -180, -250))
    # right arm raised sideways to horizontal: shoulder elevation 90, elbow straight
    p = set_joint(p, "right_elbow", (-480, -480, 0))
    p = set_joint(p, "right_wrist", (-730, -480, 0))
    # left knee bent 90 degrees (shank backwards)
    p = set_joint(p, "left_ankle", (100, 450, 450))
    a = joint_angles(p)
    assert a["elbow_flexion_left"] == pytest.approx(90, abs=0.1)
    assert a["shoulder_elevation_right"] == pytest.approx(90, abs=3)
    assert a["elbow_flexion_right"] == pytest.approx(0, abs=0.1)
    assert a["knee_flexion_left"] == pytest.approx(90, abs=0.1)
    assert a["knee_flexion_right"] == pytest.approx(0, abs=0.1)


def test_trunk_flexion_bending_forward_and_batched():
    base = standing()
    poses = []
    for deg in (0, 30, 60, 90):
        r = np.radians(deg)
        R = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])  # lean towards -z
        upper = [H36M17.index(n) for n in ("spine", "thorax", "nose", "head", "left_shoulder", "right_shoulder",
                                           "left_elbow", "right_elbow", "left_wrist", "right_wrist")]
        p = base.copy()
        p[upper] = p[upper] @ R.T
        poses.append(p)
    a = joint_angles(np.stack(poses))
    np.testing.assert_allclose(a["trunk_flexion"], [0, 30, 60, 90], atol=0.01)
    np.testing.assert_allclose(a["neck_flexion"], 0, atol=0.01)  # the head moves with the trunk
    # a tilted camera: give 'up' explicitly
    a = joint_angles(poses[1], up=np.array([0.0, -np.cos(np.radians(30)), -np.sin(np.radians(30))]))
    assert a["trunk_flexion"] == pytest.approx(0, abs=0.01)
