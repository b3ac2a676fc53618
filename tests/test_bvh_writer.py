"""BVH writer: a round trip through our own BVH reader reproduces the inferred bones and positions."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.geometry import axis_angle_to_matrix, euler_to_matrix, look_at, transform_points
from pose3d_cli.infer.bvh_writer import (BvhWriteError, continuous_euler_zxy, fit_bvh, matrix_to_euler_zxy,
                                         rotation_between, upright_rotation, write_bvh)
from pose3d_cli.mocap.bvh import read_bvh
from pose3d_cli.skeleton import H36M17

BONES = H36M17.bone_indices


def read_back(path) -> np.ndarray:
    """The written file's h36m17 joints, mm, in the writer's Y-up world, root-relative. (T, 17, 3)."""
    m = read_bvh(path, units="cm", up="y")  # → Z up: (x, y, z) → (x, -z, y)
    p = m.joints[:, [m.names.index(n) for n in H36M17.joints]].astype(np.float64)
    p = np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)  # back to the file's Y up
    return p - p[:, :1]


def bone_angles_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between corresponding bones of two (T, 17, 3) poses → (T, 16) degrees."""
    da = a[:, BONES[:, 0]] - a[:, BONES[:, 1]]
    db = b[:, BONES[:, 0]] - b[:, BONES[:, 1]]
    cos = np.sum(da * db, -1) / (np.linalg.norm(da, axis=-1) * np.linalg.norm(db, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def with_fixed_lengths(p: np.ndarray) -> np.ndarray:
    """Rebuild (T, 17, 3) root-relative poses along their own bone directions with median bone lengths."""
    d = p[:, BONES[:, 0]] - p[:, BONES[:, 1]]
    lengths = np.median(np.linalg.norm(d, axis=-1), axis=0)
    out = np.zeros_like(p)
    for k, (c, q) in enumerate(BONES):  # h36m17 stores parents before children
        out[:, c] = out[:, q] + d[:, k] / np.linalg.norm(d[:, k], axis=-1, keepdims=True) * lengths[k]
    return out


def camera_view(name: str) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """A Bandai take seen by a camera 3 m in front of the actor, 1.5 m high, aimed at the mean pelvis.

    Returns root-relative camera-frame joints, the root trajectory (camera frame), fps, cam_from_world R.
    """
    from pose3d_cli.mocap.load import load_motions

    path = need(MOCAP / "bvh" / "bandai_namco_2" / name)
    m = load_motions(path)[0]
    X = m.joints.astype(np.float64)  # mm, Z up
    side = (X[:, H36M17.index("left_hip")] - X[:, H36M17.index("right_hip")]).mean(0)
    fwd = np.cross(side, [0.0, 0.0, 1.0])  # facing = left × up
    fwd[2] = 0
    fwd /= np.linalg.norm(fwd)
    target = X[:, 0].mean(0)
    eye = target + 3000 * fwd
    eye[2] = 1500.0
    R, t = look_at(eye, target)
    cam = transform_points(R, t, X)
    return cam - cam[:, :1], cam[:, 0].copy(), m.fps, R


def synthetic_motion(T: int = 40, seed: int = 0) -> np.ndarray:
    """Root-relative camera-frame h36m17 poses (mm) with constant bone lengths: a standing pose 3 m away,
    every bone swung by a smooth random rotation, the camera rolled 10° and pitched 15°."""
    rng = np.random.default_rng(seed)
    stand = {  # world Y up, facing +Z (towards the camera), left = +X
        "right_hip": (-130, -5, 0), "right_knee": (0, -420, 20), "right_ankle": (0, -410, -30),
        "left_hip": (130, -5, 0), "left_knee": (0, -420, 20), "left_ankle": (0, -410, -30),
        "spine": (0, 230, -10), "thorax": (0, 250, 20), "nose": (0, 130, 60), "head": (0, 110, -20),
        "left_shoulder": (160, -10, -10), "left_elbow": (30, -270, 0), "left_wrist": (20, -240, 60),
        "right_shoulder": (-160, -10, -10), "right_elbow": (-30, -270, 0), "right_wrist": (-20, -240, 60),
    }
    t = np.linspace(0, 1, T)[:, None]
    out = np.zeros((T, 17, 3))
    for c, q in BONES:
        off = np.array(stand[H36M17.joints[c]], dtype=np.float64)
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = 0.6 * np.sin(2 * np.pi * (rng.uniform(0.5, 1.5) * t[:, 0] + rng.uniform()))
        R = axis_angle_to_matrix(np.broadcast_to(axis, (T, 3)), angle)
        out[:, c] = out[:, q] + R @ off
    body_turn = axis_angle_to_matrix(np.broadcast_to([0, 1.0, 0], (T, 3)), 1.2 * t[:, 0])
    out = np.einsum("tij,tnj->tni", body_turn, out)
    # world (Y up, camera looking along -Z) → camera (y down, z forward), then tilt the phone
    flip = np.diag([1.0, -1.0, -1.0])
    tilt = axis_angle_to_matrix(np.array([1.0, 0, 0]), np.deg2rad(15)) @ axis_angle_to_matrix(
        np.array([0, 0, 1.0]), np.deg2rad(10))
    return out @ (tilt @ flip).T


# ------------------------------------------------------------------------------------------------ helpers


def test_euler_zxy_round_trip():
    rng = np.random.default_rng(1)
    a = np.stack([rng.uniform(-180, 180, 500), rng.uniform(-89.9, 89.9, 500), rng.uniform(-180, 180, 500)], -1)
    R = euler_to_matrix(a, "ZXY")
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler_zxy(R), "ZXY"), R, atol=1e-12)
    # gimbal lock still gives the same matrix
    g = euler_to_matrix(np.array([[30.0, 90.0, 20.0], [-50.0, -90.0, 10.0]]), "ZXY")
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler_zxy(g), "ZXY"), g, atol=1e-9)


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
def test_euler_round_trip_and_second_solution_for_every_order(order):
    from pose3d_cli.infer.bvh_writer import continuous_euler, matrix_to_euler

    rng = np.random.default_rng(1)
    a = rng.uniform(-170, 170, (200, 3))
    a[:, 1] = rng.uniform(-89, 89, 200)
    R = euler_to_matrix(a, order)
    np.testing.assert_allclose(matrix_to_euler(R, order), a, atol=1e-9)  # inside the principal range: the same
    g = euler_to_matrix(np.array([[30.0, 90.0, 20.0], [-50.0, -90.0, 10.0]]), order)  # the gimbal
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(g, order), order), g, atol=1e-9)
    other = a + np.array([180.0, 0.0, 180.0])
    other[:, 1] = 180.0 - a[:, 1]
    np.testing.assert_allclose(euler_to_matrix(other, order), R, atol=1e-9)  # the solution continuous_euler uses
    sweep = euler_to_matrix(np.stack([np.zeros(50), np.linspace(0, 170, 50), np.zeros(50)], -1), order)
    e = continuous_euler(matrix_to_euler(sweep, order)[:, None])[:, 0]
    assert np.abs(np.diff(e, axis=0)).max() < 4  # through the middle axis' 90° without a jump


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
@pytest.mark.parametrize("through", [90.0, -90.0])
def test_a_joint_passing_exactly_through_its_gimbal_does_not_spike(order, through):
    """At the gimbal only a + εc is defined; matrix_to_euler sets c to 0, so channels a and c jumped by c for that one
    frame (25° here) and back. Given the order, continuous_euler keeps c and moves a: every channel smooth, the
    rotation unchanged."""
    from pose3d_cli.infer.bvh_writer import continuous_euler, matrix_to_euler

    b = np.linspace(through - 30.0, through + 30.0, 61)  # sample 30 is exactly ±90°
    a = np.linspace(10.0, 40.0, 61)
    truth = np.stack([a, b, np.full(61, 25.0)], -1)
    R = euler_to_matrix(truth, order)
    raw = matrix_to_euler(R, order)[:, None]
    assert np.abs(np.diff(continuous_euler(raw)[:, 0], axis=0)).max() > 20  # without the order: the spike
    e = continuous_euler(raw, order)[:, 0]
    np.testing.assert_allclose(euler_to_matrix(e, order), R, atol=1e-9)
    assert np.abs(np.diff(e, axis=0)).max() < 3


def test_continuous_euler_through_wraps_and_past_90_degrees():
    T = 200
    spin = np.linspace(0, 4 * np.pi, T)  # two full turns about Y (the last ZXY channel)
    bend = np.linspace(0, np.deg2rad(170), T)  # a hinge about X bent past 90° (the gimbal of ZXY)
    R = np.stack([axis_angle_to_matrix(np.broadcast_to([0, 1.0, 0], (T, 3)), spin),
                  axis_angle_to_matrix(np.broadcast_to([1.0, 0, 0], (T, 3)), bend)], axis=1)  # (T, 2, 3, 3)
    e = continuous_euler_zxy(matrix_to_euler_zxy(R))
    np.testing.assert_allclose(euler_to_matrix(e, "ZXY"), R, atol=1e-9)
    assert np.abs(np.diff(e, axis=0)).max() < 5
    assert e[-1, 0, 2] == pytest.approx(720.0, abs=1e-6)
    assert e[-1, 1, 1] == pytest.approx(170.0, abs=1e-6) and np.abs(e[:, 1, [0, 2]]).max() < 1e-6


def test_rotation_between_handles_opposite_vectors():
    a = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.6, 0.8, 0], [0, 0, 1.0]])
    b = np.array([[-1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 0.6, 0.8]])
    R = rotation_between(a, b)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", R, a), b, atol=1e-12)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)


def test_upright_rotation_of_a_level_camera_is_the_x_flip():
    p = synthetic_motion()
    flat = p @ np.linalg.inv(axis_angle_to_matrix(np.array([1.0, 0, 0]), np.deg2rad(15))
                             @ axis_angle_to_matrix(np.array([0, 0, 1.0]), np.deg2rad(10))).T
    R = upright_rotation(flat, "h36m17")
    # mean thorax-pelvis of the synthetic person leans a little; Y must be close to the camera's -y
    assert np.degrees(np.arccos(R[1] @ np.array([0, -1.0, 0]))) < 10
    assert np.linalg.det(R) == pytest.approx(1.0)
    # viewing direction flattened on the floor is -Z exactly
    fwd = R @ np.array([0, 0, 1.0])
    assert abs(fwd[0]) < 1e-9 and fwd[2] < 0


# ---------------------------------------------------------------------------------------------- synthetic


def test_round_trip_synthetic_constant_lengths(tmp_path):
    p = synthetic_motion()
    out = tmp_path / "synth.bvh"
    write_bvh(p, "h36m17", 30.0, out)
    back = read_back(out)
    R = upright_rotation(p, "h36m17")
    ref = (p - p[:, :1]) @ R.T
    assert bone_angles_deg(back, ref).max() < 0.01
    assert np.linalg.norm(back - ref, axis=-1).max() < 0.5  # mm
    # the tilted phone is undone: the person's mean up is +Y
    up = (back[:, H36M17.index("thorax")] - back[:, 0]).mean(0)
    assert np.degrees(np.arccos(up[1] / np.linalg.norm(up))) < 1e-6


def test_root_trajectory_and_floor(tmp_path):
    p = synthetic_motion(T=20)
    traj = np.stack([np.linspace(-500, 500, 20), np.full(20, 200.0), np.linspace(3000, 4000, 20)], -1)
    out = tmp_path / "traj.bvh"
    write_bvh(p, "h36m17", 25.0, out, root_trajectory=traj)
    m = read_bvh(out, units="cm", up="y")
    pelvis = m.joints[:, m.names.index("pelvis")].astype(np.float64)  # Z up
    R = upright_rotation(p, "h36m17")
    moved = (traj - traj[0]) @ R.T  # Y up
    got = pelvis - pelvis[0]
    np.testing.assert_allclose(np.stack([got[:, 0], got[:, 2], -got[:, 1]], -1), moved, atol=0.05)
    # the lowest joint's median height is the floor (z = 0 after read_bvh's Y→Z turn)
    body = m.joints[:, [m.names.index(n) for n in H36M17.joints], 2]
    assert abs(np.median(body.min(axis=1))) < 0.5


def test_nan_frames_are_held(tmp_path):
    p = synthetic_motion(T=30)
    q = p.copy()
    q[0:3] = np.nan  # leading gap: first valid frame (3)
    q[10:13] = np.nan  # inner gap: previous valid frame (9)
    q[29, 5] = np.nan  # one NaN joint makes the frame invalid too
    out = tmp_path / "gaps.bvh"
    write_bvh(q, "h36m17", 30.0, out)
    back = read_back(out)
    assert back.shape[0] == 30 and np.all(np.isfinite(back))
    for t, src in [(0, 3), (1, 3), (2, 3), (10, 9), (11, 9), (12, 9), (29, 28)]:
        np.testing.assert_allclose(back[t], back[src], atol=1e-3)
    R = upright_rotation(q, "h36m17")
    ref = p @ R.T
    ok = np.r_[3:10, 13:29]
    assert bone_angles_deg(back[ok], ref[ok]).max() < 0.01


def test_all_nan_is_an_error(tmp_path):
    with pytest.raises(BvhWriteError, match="no frame"):
        write_bvh(np.full((5, 17, 3), np.nan), "h36m17", 30.0, tmp_path / "x.bvh")
    assert not list(tmp_path.iterdir())
    with pytest.raises(BvhWriteError, match=r"\(T, 17, 3\)"):
        write_bvh(np.zeros((5, 16, 3)), "h36m17", 30.0, tmp_path / "x.bvh")


def test_file_layout(tmp_path):
    p = synthetic_motion(T=12)
    out = tmp_path / "sub" / "layout.bvh"
    write_bvh(p, H36M17, 24.0, out)
    assert [f.name for f in out.parent.iterdir()] == ["layout.bvh"]  # atomic: no temporary left behind
    text = out.read_text()
    lines = text.splitlines()
    assert lines[0] == "HIERARCHY" and lines[1] == "ROOT pelvis"
    assert "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" in text
    # joints that swing one bone put that bone's rest axis in the middle: hips, knees, spine, nose (bones along Y)
    assert text.count("CHANNELS 3 Zrotation Yrotation Xrotation") == 6
    assert text.count("CHANNELS 3 Zrotation Xrotation Yrotation") == 16 + 4 - 6  # the rest, and 4 link joints
    assert text.count("End Site") == 5  # head, wrists, ankles
    i = lines.index("MOTION")
    assert lines[i + 1] == "Frames: 12"
    assert lines[i + 2].startswith("Frame Time:") and float(lines[i + 2].split()[-1]) == pytest.approx(1 / 24, abs=1e-8)
    data = np.loadtxt(lines[i + 3:])
    assert data.shape == (12, 6 + 3 * 20)
    m = read_bvh(out, units="cm", up="y")
    assert m.fps == pytest.approx(24.0, rel=1e-6) and m.num_frames == 12
    for name in H36M17.joints + ("left_collar", "right_collar", "left_pelvis", "right_pelvis", "head_end"):
        assert name in m.names
    # rest pose = T-pose: all rotations zero puts the left arm along +X, legs down, spine up
    fit = fit_bvh(p, "h36m17", 24.0)
    off = dict(zip(fit.names, fit.offsets))
    assert off["left_elbow"][0] > 0 and off["right_elbow"][0] < 0
    assert off["left_knee"][1] < 0 and off["spine"][1] > 0
    lengths = H36M17.bone_lengths(p)
    assert np.linalg.norm(off["left_knee"]) * 10 == pytest.approx(np.median(lengths[:, 4]), rel=1e-9)


# -------------------------------------------------------------------------------------------------- real


@pytest.mark.parametrize("take", ["dataset-2_wave-both-hands_normal_001.bvh",
                                  "dataset-2_walk-turn-left_normal_001.bvh"])
def test_round_trip_bandai(tmp_path, take):
    joints, _, fps, cam_from_world = camera_view(take)
    out = tmp_path / "take.bvh"
    write_bvh(joints, "h36m17", fps, out)
    back = read_back(out)
    assert back.shape == joints.shape
    R = upright_rotation(joints, "h36m17")
    ref = joints @ R.T
    ang = bone_angles_deg(back, ref)
    assert ang.max() < 0.05, f"worst bone direction error {ang.max():.3f}°"
    # positions: exact against the input rebuilt with the fixed (median) bone lengths ...
    assert np.linalg.norm(back - with_fixed_lengths(ref), axis=-1).max() < 1.0
    # ... and within a few mm of the raw input (mocap-derived bone lengths vary a little)
    assert np.linalg.norm(back - ref, axis=-1).max() < 10.0
    # the camera looked down at the actor; the BVH world is level again: the true vertical (mocap +Z) is
    # within the lean of the mean spine of +Y
    true_up = R @ cam_from_world @ np.array([0, 0, 1.0])
    assert np.degrees(np.arccos(true_up[1])) < 10


def test_euler_channels_are_continuous_on_a_walk():
    joints, _, fps, _ = camera_view("dataset-2_walk-turn-left_normal_001.bvh")  # the pelvis turns ~110°
    fit = fit_bvh(joints, "h36m17", fps)
    assert np.abs(np.diff(fit.rotations, axis=0)).max() < 30


def test_sitting_down_keeps_every_leg_channel_smooth(tmp_path):
    """Hips and knees flexed from 0 to 110° (sitting down) with a little abduction and twist on the way: the bone's
    rest axis (Y) in the middle of the channels keeps every channel smooth, where ZXY (X, the flexion axis, in the
    middle) sits at its gimbal at 90° and swings the other two angles."""
    from pose3d_cli.infer.bvh_writer import matrix_to_euler, swing_order

    T = 120
    flex = np.deg2rad(np.linspace(0, 110, T))
    wobble = np.deg2rad(4) * np.sin(np.linspace(0, 6 * np.pi, T))
    up = np.array([0.0, 1.0, 0.0])
    p = np.zeros((T, 17, 3))  # world Y up, facing +Z, left +X (the writer's rest frame), root-relative
    for side, s in (("left", 1), ("right", -1)):
        hip = np.array([s * 100.0, 0, 0])
        thigh = np.stack([s * np.sin(wobble), -np.cos(flex) * np.cos(wobble), np.sin(flex) * np.cos(wobble)], -1)
        p[:, H36M17.index(f"{side}_hip")] = hip
        knee = hip + 450 * thigh
        p[:, H36M17.index(f"{side}_knee")] = knee
        shank_angle = flex - np.deg2rad(np.linspace(0, 100, T))  # the shank ends near vertical
        shank = np.stack([np.zeros(T), -np.cos(shank_angle), np.sin(shank_angle)], -1)
        p[:, H36M17.index(f"{side}_ankle")] = knee + 420 * shank
    for name, y in (("spine", 250), ("thorax", 500), ("nose", 620), ("head", 720)):
        p[:, H36M17.index(name)] = [0, y, 30 if name == "nose" else 0]
    for side, s in (("left", 1), ("right", -1)):
        for name, x in (("shoulder", 180), ("elbow", 480), ("wrist", 730)):
            p[:, H36M17.index(f"{side}_{name}")] = [s * x, 500, 0]
    cam = p * np.array([1.0, -1.0, -1.0])  # into a camera frame (y down) looking at the person's front
    out = tmp_path / "sit.bvh"
    write_bvh(cam, H36M17, 30.0, out, up=-up)
    fit = fit_bvh(cam, "h36m17", 30.0, up=-up)
    for name in ("left_hip", "right_hip", "left_knee", "right_knee"):
        j = fit.names.index(name)
        assert fit.orders[j] == swing_order(np.array([0, -1.0, 0])) == "ZYX"
        steps = np.abs(np.diff(fit.rotations[:, j], axis=0)).max()
        assert steps < 3.0, (name, steps)  # 110° over 120 frames: ~1° a frame
    # the same rotations as ZXY: at 90° of hip flexion the gimbal throws the other two channels around
    G = fit.rotations[:, fit.names.index("left_hip")]
    from pose3d_cli.geometry import euler_to_matrix

    zxy = continuous_euler_zxy(matrix_to_euler(euler_to_matrix(G, "ZYX"), "ZXY"))
    assert np.abs(np.diff(zxy, axis=0)).max() > 10
    back = read_back(out)  # every frame's pose is exact in the file
    ref = with_fixed_lengths(p - p[:, :1])
    assert bone_angles_deg(back, ref).max() < 0.5


def test_other_skeletons_round_trip(tmp_path):
    """coco17 (root: nose, no pelvis/thorax): rest directions from the data, links for the extra children."""
    from pose3d_cli.skeleton import COCO17

    rng = np.random.default_rng(3)
    T, J = 20, COCO17.num_joints
    offsets = rng.normal(size=(J, 3)) * 150
    p = np.zeros((T, J, 3))
    for j in range(J):  # coco17 stores parents before children
        q = COCO17.parent_indices[j]
        if q >= 0:
            axis = rng.normal(size=3)
            R = axis_angle_to_matrix(np.broadcast_to(axis / np.linalg.norm(axis), (T, 3)), np.linspace(0, 1, T))
            p[:, j] = p[:, q] + R @ offsets[j]
    out = tmp_path / "coco.bvh"
    write_bvh(p, "coco17", 30.0, out)
    m = read_bvh(out, units="cm", up="y")
    back = m.joints[:, [m.names.index(n) for n in COCO17.joints]].astype(np.float64)
    back = np.stack([back[..., 0], back[..., 2], -back[..., 1]], -1)
    ref = p @ upright_rotation(p, "coco17").T
    assert np.linalg.norm((back - back[:, :1]) - ref, axis=-1).max() < 0.5


def test_a_known_vertical_keeps_a_bent_worker_bent(tmp_path):
    """A worker bent 45° forward all clip, filmed by a pitched phone: with the world's vertical given (``up``, as
    infer passes a calibration's or the scene lines'), the BVH's trunk leans 45° from +Y; without it the writer's
    body-mean up makes the same worker stand upright (0°)."""
    from ergo_fk import camera, posture, to_camera

    cam, up = to_camera(np.stack([posture(trunk_flex=45.0)] * 12), camera(30, 25))
    for given, expected in ((up, 45.0), (None, 0.0)):
        out = tmp_path / f"bent_{given is None}.bvh"
        write_bvh(cam, "h36m17", 30.0, out, up=given)
        p = read_back(out)
        trunk = p[:, H36M17.index("thorax")] - p[:, H36M17.index("pelvis")]
        lean = np.degrees(np.arccos(trunk[:, 1] / np.linalg.norm(trunk, axis=-1)))
        assert np.allclose(lean, expected, atol=1.0), (given is None, lean[:3])


def test_infer_output_carries_the_vertical_to_the_bvh(tmp_path):
    """``write_track`` (infer's writer) uses ``metadata["vertical"]`` for the BVH world."""
    from ergo_fk import camera, posture, to_camera
    from pose3d_cli.infer.writers import PoseTrack, write_track

    cam, up = to_camera(np.stack([posture(trunk_flex=45.0)] * 12), camera(30, 25))
    T = len(cam)
    track = PoseTrack(np.arange(T), np.arange(T) / 30.0, np.ones(T, bool), cam.astype(np.float32),
                      np.zeros((T, 17, 2), np.float32), np.ones((T, 17), np.float32), H36M17.joints,
                      {"skeleton": "h36m17", "fps": 30.0, "vertical": {"up_camera_frame": up.tolist()}})
    write_track(track, tmp_path / "t.bvh", "bvh")
    p = read_back(tmp_path / "t.bvh")
    trunk = p[:, H36M17.index("thorax")] - p[:, H36M17.index("pelvis")]
    assert np.allclose(np.degrees(np.arccos(trunk[:, 1] / np.linalg.norm(trunk, axis=-1))), 45.0, atol=1.0)


@pytest.mark.slow
def test_infer_bvh_world_follows_the_scene_vertical():
    """A video without --calib: infer finds the scene's vertical lines for the BVH world (cam04: within 1.5° of
    the calibration's up)."""
    from conftest import DATA, need
    from pose3d_cli.infer.calibration import load_calibration
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import (InferOptions, known_world_vertical, lift_track, tracks_of_input,
                                           video_vertical)

    folder = need(DATA / "video" / "pose2sim_single_person")
    truth = {c.name: c.R @ np.array([0, 0, 1.0]) for c in load_calibration(folder / "Calib.qca.txt")}["cam04"]
    opts = InferOptions(max_people=1, detect_width=480)
    tracks, source = tracks_of_input(folder / "cam04.mp4", opts)
    lifter = load_lifter()
    people = [lift_track(t, lifter, opts) for t in tracks]
    known_world_vertical(people, tracks, opts, video_vertical(people, source, opts, lifter.skeleton, "cam04.mp4"))
    v = people[0].metadata["vertical"]
    assert v["source"] == "estimated from the scene's vertical lines"
    assert np.degrees(np.arccos(np.clip(np.array(v["up_camera_frame"]) @ truth, -1, 1))) < 1.5


def test_a_track_that_skips_frames_keeps_its_duration(tmp_path):
    """Rows for frames 0-9 and 300-309 of a 30 fps video (a keypoint file lists the detected images only): the BVH
    has one frame time, so it gets a frame for every 1/30 s of the track, the missing ones held (it played 20 frames,
    0.67 s, for 10.3 s)."""
    from pose3d_cli.infer.writers import PoseTrack, write_track

    p = synthetic_motion(T=20)
    frames = np.r_[0:10, 300:310]
    track = PoseTrack(frames, frames / 30.0, np.ones(20, bool), p.astype(np.float32), np.zeros((20, 17, 2)),
                      np.ones((20, 17)), H36M17.joints, {"skeleton": "h36m17", "fps": 30.0})
    out = tmp_path / "gap.bvh"
    write_track(track, out, "bvh")
    back = read_back(out)
    assert back.shape[0] == 310
    np.testing.assert_allclose(back[150], back[9], atol=1e-3)  # held through the hole
    R = upright_rotation(p, "h36m17")
    assert bone_angles_deg(back[[0, 9, 300, 309]], (p @ R.T)[[0, 9, 10, 19]]).max() < 0.01
