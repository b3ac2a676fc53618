"""Virtual cameras: sampled ranges, joints in front, rig files, sampling config files."""

import json

import numpy as np
import pytest

from pose3d_cli.geometry import invert_rigid
from pose3d_cli.synth.cameras import (Camera, CameraError, CameraSampling, intrinsics_from_fov, load_rig,
                                      sample_camera, save_rig)


def standing_motion(T=30):
    """(T, 17, 3) mm, Z up: a 1.7 m box-ish person swaying around (300, -200) on the floor."""
    rng = np.random.default_rng(0)
    base = rng.uniform([-250, -150, 0], [250, 150, 1700], size=(17, 3))
    base[0] = [0, 0, 950]
    base[3, 2] = base[6, 2] = 0.0  # ankles on the floor
    sway = 100 * np.sin(np.linspace(0, 3, T))[:, None, None] * [1, 0, 0]
    return base[None] + sway + [300.0, -200.0, 0.0]


def fov_long_side(cam: Camera) -> float:
    w, h = cam.size
    return float(np.rad2deg(2 * np.arctan(0.5 * max(w, h) / cam.K[0, 0])))


def test_intrinsics_from_fov():
    K = intrinsics_from_fov(90.0, 1920, 1080)
    np.testing.assert_allclose(K, [[960, 0, 960], [0, 960, 540], [0, 0, 1]])
    Kp = intrinsics_from_fov(60.0, 1080, 1920, cx=500, cy=1000)  # portrait: FOV across the height
    assert Kp[0, 0] == pytest.approx(960 / np.tan(np.deg2rad(30)))
    assert (Kp[0, 2], Kp[1, 2]) == (500, 1000)


def test_sampled_cameras_respect_the_ranges():
    joints = standing_motion()
    cfg = CameraSampling(handheld_prob=0.0, distortion_k1=0.1)
    rng = np.random.default_rng(1)
    centre = joints.reshape(-1, 3).mean(0)
    floor = joints[..., 2].min()
    n, portrait, jitter = 300, 0, []
    for _ in range(n):
        cam = sample_camera(joints, rng, cfg)
        assert cam.R.shape == (3, 3) and cam.t.shape == (3,)
        np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(cam.R) == pytest.approx(1.0)
        _, eye = invert_rigid(cam.R, cam.t)
        assert cfg.height_mm[0] - 1e-6 <= eye[2] - floor <= cfg.height_mm[1] + 1e-6
        assert cfg.distance_mm[0] - 1e-6 <= np.linalg.norm(eye[:2] - centre[:2]) <= cfg.distance_mm[1] + 1e-6
        assert cfg.fov_deg[0] - 1e-6 <= fov_long_side(cam) <= cfg.fov_deg[1] + 1e-6
        w, h = cam.size
        assert max(w, h) == cfg.image_long_side and min(w, h) == round(cfg.image_long_side / cfg.image_aspect)
        portrait += h > w
        assert abs(cam.dist[0]) <= 0.1 and not np.any(cam.dist[1:])
        jitter.append((cam.K[0, 2] / w - 0.5, cam.K[1, 2] / h - 0.5))
        # every joint of every frame in front of the camera, and the subject near the image centre
        jc = cam.world_to_cam(joints)
        assert jc[..., 2].min() >= cfg.min_depth_mm
        c = cam.world_to_cam(centre[None, None])[0, 0]
        assert np.hypot(c[0], c[1]) / c[2] < 0.5
    assert abs(portrait / n - cfg.portrait_prob) < 0.1
    assert np.std(jitter) == pytest.approx(cfg.principal_jitter, rel=0.25)


def test_custom_ranges_and_handheld():
    joints = standing_motion(T=60)
    cfg = CameraSampling(fov_deg=(60, 61), height_mm=(1000, 1100), distance_mm=(3000, 3100), portrait_prob=1.0,
                         handheld_prob=1.0, handheld_drift_mm=50.0, roll_deg=0.0)
    rng = np.random.default_rng(2)
    floor = joints[..., 2].min()
    for _ in range(20):
        cam = sample_camera(joints, rng, cfg)
        assert cam.size == (1080, 1920)
        assert 60 <= fov_long_side(cam) <= 61
        # hand-held: one pose per frame, moving slowly around the sampled place
        assert cam.R.shape == (60, 3, 3) and cam.t.shape == (60, 3)
        _, eyes = invert_rigid(cam.R, cam.t)
        assert np.all(np.abs(eyes[:, 2] - floor - 1050) < 50 + 5 * 50)
        assert np.abs(np.diff(eyes, axis=0)).max() < 50  # mm per frame: a drift, not a jump
        assert cam.world_to_cam(joints)[..., 2].min() >= cfg.min_depth_mm
        R, t = cam.per_frame(60)
        assert R.shape == (60, 3, 3)


def test_impossible_placement_raises():
    joints = standing_motion()
    cfg = CameraSampling(distance_mm=(10, 20), height_mm=(900, 1000), min_depth_mm=300)  # inside the body
    with pytest.raises(CameraError, match="widen distance_mm"):
        sample_camera(joints, np.random.default_rng(0), cfg)


def test_rig_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    joints = standing_motion()
    cams = [sample_camera(joints, rng, CameraSampling(handheld_prob=0, distortion_k1=0.2)) for _ in range(3)]
    for i, c in enumerate(cams):
        c.name = f"cam{i:02d}"
    p = tmp_path / "rig.json"
    save_rig(cams, p)
    back = load_rig(p)
    assert [c.name for c in back] == ["cam00", "cam01", "cam02"]
    for a, b in zip(cams, back):
        for k in ("K", "dist", "R", "t"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
        assert a.size == b.size
        np.testing.assert_array_equal(a.project(a.world_to_cam(joints)), b.project(b.world_to_cam(joints)))


def test_rig_defaults(tmp_path):
    p = tmp_path / "rig.json"
    p.write_text(json.dumps([{"K": np.eye(3).tolist(), "R": np.eye(3).tolist(), "t": [0, 0, 0], "size": [640, 480],
                              "dist": [0.1, 0.01]}]))  # a bare list, short dist
    (cam,) = load_rig(p)
    assert cam.name == "cam0" and cam.size == (640, 480)
    np.testing.assert_array_equal(cam.dist, [0.1, 0.01, 0, 0, 0])


GOOD = {"K": [[1000, 0, 960], [0, 1000, 540], [0, 0, 1]], "R": np.eye(3).tolist(), "t": [0, 0, 3000],
        "size": [1920, 1080]}


@pytest.mark.parametrize("content,match", [
    ("{not json", "not a valid rig file"),
    (json.dumps({"cameras": []}), "holds no camera"),
    (json.dumps({"cameras": [{k: v for k, v in GOOD.items() if k != "K"}]}), "no 'K' entry"),
    (json.dumps({"cameras": [dict(GOOD, R=[[1, 0, 0], [0, 1, 0], [0, 0, -1]])]}), "not a rotation"),
    (json.dumps({"cameras": [dict(GOOD, R=[[2, 0, 0], [0, 1, 0], [0, 0, 1]])]}), "not a rotation"),
    (json.dumps({"cameras": [dict(GOOD, K=[1, 2, 3])]}), "not a valid rig file"),
    (json.dumps({"cameras": [dict(GOOD, size="big")]}), "not a valid rig file"),
    (json.dumps({"cameras": "nope"}), "'cameras' must be a list of camera objects"),
    (json.dumps([1, 2]), "'cameras' must be a list of camera objects"),
])
def test_bad_rig(tmp_path, content, match):
    p = tmp_path / "rig.json"
    p.write_text(content)
    with pytest.raises(CameraError, match=match) as e:
        load_rig(p)
    assert str(p) in str(e.value)


def test_missing_rig(tmp_path):
    with pytest.raises(CameraError, match="not a valid rig file"):
        load_rig(tmp_path / "nope.json")
    from pose3d_cli.multiview.calibration import load_calibration

    with pytest.raises(Exception, match="a folder, not a calibration file"):
        load_calibration(tmp_path)


def test_sampling_from_file(tmp_path):
    p = tmp_path / "cams.json"
    p.write_text(json.dumps({"cameras": {"fov_deg": [55, 70], "height_mm": [800, 1600], "handheld_prob": 0.0}}))
    cfg = CameraSampling.from_file(p)
    assert cfg.fov_deg == (55, 70) and cfg.height_mm == (800, 1600) and cfg.handheld_prob == 0.0
    assert cfg.distance_mm == CameraSampling().distance_mm
    y = tmp_path / "cams.yaml"
    y.write_text("fov_deg: [40, 50]\nportrait_prob: 1.0\n")
    cfg = CameraSampling.from_file(y)
    assert cfg.fov_deg == (40, 50) and cfg.portrait_prob == 1.0
    assert cfg.to_dict()["fov_deg"] == (40, 50)


@pytest.mark.parametrize("content,match", [
    ({"fov_deg": [50, 60], "zoom": 2}, r"unknown camera settings \['zoom'\]"),
    ({"height_mm": [2000, 1000]}, "height_mm must be a range"),
    ({"distance_mm": [0, 1000]}, "distance_mm must be a range"),
    ({"fov_deg": [100, 175]}, "below 170"),
    ([1, 2], "must be an object"),
])
def test_bad_sampling_file(tmp_path, content, match):
    p = tmp_path / "cams.json"
    p.write_text(json.dumps(content))
    with pytest.raises(CameraError, match=match) as e:
        CameraSampling.from_file(p)
    assert str(p) in str(e.value)
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    with pytest.raises(CameraError, match="cannot read camera config"):
        CameraSampling.from_file(bad)


def test_a_hand_held_camera_drifts_at_one_pace_whatever_the_clips_length():
    """Keyframes every HANDHELD_KEYFRAME_S seconds: the same mean speed for a 4 s and a 60 s clip (a fixed 4
    keyframes per clip made short clips shake and long ones stand still: 15x apart at these lengths)."""
    subject = np.zeros((1, 17, 3)) + [0.0, 0.0, 900.0]

    def speed(T: int, fps: float = 30.0) -> float:
        rng = np.random.default_rng(0)
        out = []
        for _ in range(40):
            cam = sample_camera(np.repeat(subject, T, 0), rng, CameraSampling(handheld_prob=1.0), fps=fps)
            R, t = cam.per_frame(T)
            centre = -np.einsum("tji,tj->ti", R, t)
            out.append(np.linalg.norm(np.diff(centre, axis=0), axis=-1).sum() / (T / fps))
        return float(np.mean(out))

    short, long = speed(120), speed(1800)
    assert 0.5 < short / long < 2.0, (short, long)
    assert speed(240, fps=60.0) == pytest.approx(short, rel=0.5)  # the same 4 s at 60 fps: the same pace
