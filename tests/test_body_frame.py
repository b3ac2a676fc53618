"""Signed body-frame angles on hand-built postures (tests/ergo_fk.py), in several camera views."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergo_fk import JOINTS, camera, posture, to_camera
from pose3d_cli.angles import joint_angles
from pose3d_cli.body import body_angles, estimate_up  # noqa: F401  (estimate_up: None unless installed)
from pose3d_cli.skeleton import H36M17

assert JOINTS == H36M17.joints

VIEWS = [camera(), camera(90), camera(-90), camera(180), camera(35, 25, 8), camera(-120, -15, -20)]


def angles_of(world, R=None, up=None):
    R = camera() if R is None else R
    p, u = to_camera(world, R)
    return body_angles(p, u if up is None else up)


@pytest.mark.parametrize("R", VIEWS, ids=["front", "profile-left", "profile-right", "back", "pitched", "low-rolled"])
@pytest.mark.parametrize("kw,expect", [
    ({"trunk_flex": 35}, {"trunk_flexion": 35, "trunk_inclination": 35, "trunk_side_bend": 0}),
    ({"trunk_flex": -15}, {"trunk_flexion": -15, "trunk_inclination": -15}),
    ({"trunk_side": 20}, {"trunk_side_bend": 20, "trunk_flexion": 0, "trunk_inclination": 20}),
    ({"trunk_side": -20}, {"trunk_side_bend": -20}),
    ({"trunk_twist": 25}, {"trunk_twist": 25, "trunk_flexion": 0}),
    ({"trunk_twist": -25}, {"trunk_twist": -25}),
    ({"neck_flex": 30}, {"neck_flexion": 30, "neck_side_bend": 0}),
    ({"neck_flex": -20}, {"neck_flexion": -20}),
    ({"trunk_flex": 40, "neck_flex": 15}, {"neck_flexion": 15, "trunk_flexion": 40}),  # neck relative to trunk
    ({"neck_side": 15}, {"neck_side_bend": 15}),
    # side bends under a forward bend (flexion, then lateral bending: ISB's Cardan order, as ergo_fk composes them);
    # the frontal-plane projection read 16.8° and 9.9°
    ({"trunk_flex": 80, "trunk_side": 3}, {"trunk_side_bend": 3, "trunk_flexion": 80}),
    ({"neck_flex": 60, "neck_side": 5}, {"neck_side_bend": 5, "neck_flexion": 60}),
    ({"arm_flex": (60, -30)}, {"upper_arm_flexion_left": 60, "upper_arm_flexion_right": -30,
                               "upper_arm_elevation_left": 60, "upper_arm_elevation_right": -30}),
    ({"arm_flex": (150, 0)}, {"upper_arm_flexion_left": 150, "upper_arm_elevation_left": 150}),
    ({"arm_abd": (70, 0)}, {"upper_arm_abduction_left": 70, "upper_arm_elevation_left": 70,
                            "upper_arm_flexion_left": 0}),
    ({"arm_abd": (0, 40)}, {"upper_arm_abduction_right": 40, "upper_arm_abduction_left": 0}),
    ({"arm_abd": (-30, 0)}, {"upper_arm_abduction_left": -30}),
    ({"trunk_flex": 50, "arm_flex": (50, 0)}, {"upper_arm_flexion_left": 50, "trunk_flexion": 50}),
    ({"elbow": (130, 20)}, {"elbow_flexion_left": 130, "elbow_flexion_right": 20}),
    ({"thigh_fwd": (45, 10)}, {"knee_flexion_left": 45, "knee_flexion_right": 10}),
    ({"shank_back": (0, 60)}, {"knee_flexion_right": 60, "foot_raise": -(420 + 400 - 420 - 400 * np.cos(np.radians(60)))}),
    ({"shoulder_up": (40, 0)}, {"shoulder_raise_left": np.degrees(np.arctan2(40, 170)), "shoulder_raise_right": 0}),
    ({"pelvis_yaw": 70, "trunk_flex": 30}, {"trunk_flexion": 30, "trunk_twist": 0}),
])
def test_signed_angles_in_every_view(kw, expect, R):
    a = angles_of(posture(**kw), R)
    for k, v in expect.items():
        assert a[k] == pytest.approx(v, abs=1e-6), k


def test_trunk_flexion_needs_the_vertical():
    """A camera pitched down 25°: with its true up the trunk reads upright; assuming a level camera reads 25° off."""
    R = camera(0, 25)
    p, up = to_camera(posture(), R)
    assert body_angles(p, up)["trunk_flexion"] == pytest.approx(0, abs=1e-6)
    assert abs(body_angles(p, np.array([0, -1.0, 0]))["trunk_flexion"]) == pytest.approx(25, abs=1e-6)


def test_neck_neutral_offset_and_vertical_reference():
    p, up = to_camera(posture(neck_flex=12), camera())
    assert body_angles(p, up, neck_neutral_deg=12)["neck_flexion"] == pytest.approx(0, abs=1e-6)
    # trunk flexed 40, arm hanging straight down (40 forward of the trunk's down axis): trunk ref 40, vertical 0
    p, up = to_camera(posture(trunk_flex=40, arm_flex=(40, 40)), camera(30))
    assert body_angles(p, up)["upper_arm_flexion_left"] == pytest.approx(40, abs=1e-6)
    assert body_angles(p, up, upper_arm_reference="vertical")["upper_arm_flexion_left"] == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError):
        body_angles(p, up, upper_arm_reference="world")


def test_batched_and_nan():
    w = np.stack([posture(trunk_flex=10), posture(trunk_flex=20), posture(trunk_flex=30)])
    p, up = to_camera(w, camera(60))
    p = p.reshape(3, 1, 17, 3)
    a = body_angles(p, up)
    assert a["trunk_flexion"].shape == (3, 1)
    np.testing.assert_allclose(a["trunk_flexion"][:, 0], [10, 20, 30], atol=1e-6)
    p[1, 0, H36M17.index("left_elbow")] = np.nan
    a = body_angles(p, up)
    assert np.isnan(a["elbow_flexion_left"][1, 0]) and np.isfinite(a["elbow_flexion_right"][1, 0])


def test_angles_module_shares_the_math():
    p, up = to_camera(posture(trunk_flex=30, elbow=(100, 40)), camera(45))
    old = joint_angles(p, up=up)
    new = body_angles(p, up)
    assert old["trunk_flexion"] == pytest.approx(abs(new["trunk_inclination"]))
    assert old["elbow_flexion_left"] == pytest.approx(new["elbow_flexion_left"])


def _rotation(q):
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


postures = st.fixed_dictionaries({
    "trunk_flex": st.floats(-30, 80), "trunk_side": st.floats(-30, 30), "trunk_twist": st.floats(-40, 40),
    "neck_flex": st.floats(-30, 45), "neck_side": st.floats(-25, 25),
    "arm_flex": st.tuples(st.floats(-40, 170), st.floats(-40, 170)),
    "arm_abd": st.tuples(st.floats(-20, 80), st.floats(-20, 80)),
    "elbow": st.tuples(st.floats(5, 150), st.floats(5, 150)),
    "thigh_fwd": st.tuples(st.floats(0, 80), st.floats(0, 80)), "shank_back": st.tuples(st.floats(0, 60), st.floats(0, 60)),
})
quats = st.tuples(*[st.floats(-1, 1) for _ in range(4)]).filter(lambda q: np.linalg.norm(q) > 0.1)


@settings(max_examples=60, deadline=None)
@given(postures, quats)
def test_rotating_scene_and_up_together_changes_nothing(kw, q):
    p, up = to_camera(posture(**kw), camera())
    a = body_angles(p, up)
    R = _rotation(q)
    b = body_angles(p @ R.T, R @ up)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], atol=1e-3, err_msg=k)


@settings(max_examples=60, deadline=None)
@given(postures, quats)
def test_mirroring_swaps_left_and_right(kw, q):
    p, up = to_camera(posture(**kw), _rotation(q) @ camera())
    M = np.diag([-1.0, 1, 1])  # a mirror in the camera frame
    pm = (p @ M.T)[H36M17.flip_permutation]
    a, b = body_angles(p, up), body_angles(pm, M @ up)
    for k in a:
        if k.endswith("_left"):
            np.testing.assert_allclose(b[k.replace("_left", "_right")], a[k], atol=1e-4, err_msg=k)
        elif k in ("trunk_side_bend", "trunk_twist", "neck_side_bend", "foot_raise"):
            np.testing.assert_allclose(b[k], -a[k], atol=1e-4, err_msg=k)
        elif not k.endswith("_right"):
            np.testing.assert_allclose(b[k], a[k], atol=1e-4, err_msg=k)


@pytest.mark.parametrize("yaw,pitch,roll,pelvis_yaw,azimuth", [
    (0, 0, 0, 0, 0), (90, 20, 0, 0, 90), (-90, 0, 15, 0, 90), (180, 25, -26, 0, 180), (145, 22, -26, 0, 145),
    (30, 10, 5, 30, 0), (0, 30, 0, 120, 120)])
def test_camera_tilt_and_azimuth_of_hand_placed_cameras(yaw, pitch, roll, pelvis_yaw, azimuth):
    """A camera moved ``yaw`` round the subject, pitched down and rolled by known angles (ergo_fk.camera, its own
    rotations) gives those angles back; the azimuth is where it stands from the pelvis's facing direction, whatever
    the posture (trunk bent, one arm up) and the camera's tilt."""
    from pose3d_cli.body.frame import camera_azimuth, camera_tilt

    world = np.stack([posture(pelvis_yaw=pelvis_yaw), posture(trunk_flex=40, arm_flex=(90, 0), pelvis_yaw=pelvis_yaw)])
    poses, up = to_camera(world, camera(yaw, pitch, roll))
    down, r = camera_tilt(up)
    assert float(down) == pytest.approx(pitch, abs=1e-6) and float(r) == pytest.approx(roll, abs=1e-6)
    assert camera_azimuth(poses, up, H36M17) == pytest.approx([azimuth, azimuth], abs=1e-6)
