"""The vertical (world up in the camera frame) on hand-built poses seen by cameras of known pitch and roll."""

import numpy as np
import pytest

from pose3d_cli.body.vertical import (LEVEL_UP, UpModel, angle_deg, combine_directions, estimate_up, given_up,
                                      level_camera_up, parse_up)
from pose3d_cli.errors import Pose3dError
from pose3d_cli.skeleton import H36M17


def standing_world() -> np.ndarray:
    """An upright person, world frame (mm, Z up, facing -Y), arms hanging: my own joint positions."""
    p = {"pelvis": (0, 0, 950), "right_hip": (-100, 0, 950), "left_hip": (100, 0, 950),
         "right_knee": (-100, -10, 500), "left_knee": (100, -10, 500), "right_ankle": (-100, 0, 80),
         "left_ankle": (100, 0, 80), "spine": (0, 0, 1200), "thorax": (0, 0, 1450), "nose": (0, -60, 1560),
         "head": (0, 0, 1700), "left_shoulder": (180, 0, 1420), "right_shoulder": (-180, 0, 1420),
         "left_elbow": (200, 0, 1130), "right_elbow": (-200, 0, 1130), "left_wrist": (210, -20, 880),
         "right_wrist": (-210, -20, 880)}
    return np.array([p[n] for n in H36M17.joints], dtype=np.float64)


def cam_from_world(pitch_deg: float, roll_deg: float, yaw_deg: float = 0.0) -> np.ndarray:
    """A camera looking along world +Y (at the person's front), pitched down by ``pitch``, rolled by ``roll``."""
    base = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # level camera looking along +Y: x→x, y→-Z, z→Y
    p, r, y = np.radians([pitch_deg, roll_deg, yaw_deg])
    Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])  # pitch down (about cam x)
    Rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return Rz @ Rx @ Ry @ base


def seen(R: np.ndarray, world: np.ndarray, T: int = 30, noise_mm: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cam = world @ R.T
    cam = cam - cam[H36M17.index("pelvis")]
    return np.repeat(cam[None], T, 0) + noise_mm * rng.standard_normal((T,) + cam.shape)


def test_camera_helper_is_a_rotation_with_the_stated_up():
    R = cam_from_world(0, 0)
    assert np.allclose(R @ [0, 0, 1.0], LEVEL_UP)
    R = cam_from_world(25, 10)
    assert np.allclose(R @ R.T, np.eye(3)) and np.linalg.det(R) == pytest.approx(1)
    assert angle_deg(R @ [0, 0, 1.0], LEVEL_UP) == pytest.approx(np.degrees(np.arccos(np.cos(np.radians(25)) * np.cos(np.radians(10)))), abs=1e-6)


@pytest.mark.parametrize("pitch,roll,yaw", [(25, 0, 0), (30, 12, 40), (15, -20, -60), (0, 0, 90), (35, 5, 180)])
@pytest.mark.parametrize("method", ["learned", "geometric"])
def test_standing_person_gives_the_known_up(pitch, roll, yaw, method):
    R = cam_from_world(pitch, roll, yaw)
    true = R @ [0, 0, 1.0]
    est = estimate_up(seen(R, standing_world(), noise_mm=5), method=method)
    assert angle_deg(est.up, true) < 5.0, (method, est.up, true)
    assert est.method.startswith("estimated")
    if pitch or roll:  # the level-camera baseline fails the same test
        assert angle_deg(level_camera_up().up, true) > 10.0


@pytest.mark.parametrize("roll", [45, 90, -90, 180])
def test_a_strongly_rolled_camera_gives_the_known_up(roll):
    """The learned model was trained on rolls of about ±12°: a phone held sideways (90°) read 81° off, with a spread
    of 0.3° that said all was well. The camera's roll is taken from the straight legs first (body_roll)."""
    R = cam_from_world(10, roll, 30)
    true = R @ [0, 0, 1.0]
    est = estimate_up(seen(R, standing_world(), noise_mm=5), method="learned")
    assert angle_deg(est.up, true) < 5.0, (roll, est.up, true)


def test_body_roll_needs_straight_legs():
    from pose3d_cli.body.vertical import body_roll

    R = cam_from_world(10, 40, 30)
    assert np.degrees(body_roll(seen(R, standing_world()))) == pytest.approx(40, abs=0.5)
    crouch = standing_world()
    for side in ("left", "right"):  # knees forward and down: 90° of knee flexion, the legs show no vertical
        crouch[H36M17.index(f"{side}_knee")] = crouch[H36M17.index(f"{side}_hip")] + (0, -450, 0)
        crouch[H36M17.index(f"{side}_ankle")] = crouch[H36M17.index(f"{side}_knee")] + (0, 0, -450)
    assert body_roll(seen(R, crouch)) == 0.0


def test_robust_combination_ignores_a_minority_of_wrong_frames():
    R = cam_from_world(25, 10)
    true = R @ [0, 0, 1.0]
    good = seen(R, standing_world(), T=70, noise_mm=5)
    bad = seen(cam_from_world(-20, -30), standing_world(), T=30, noise_mm=5, seed=1)  # 30% tilted 50°+ away
    est = estimate_up(np.concatenate([good, bad]))
    assert angle_deg(est.up, true) < 5.0
    assert est.n_frames_used <= 75
    assert not est.used[70:].any()
    mean_of_all = estimate_up(good).per_frame.mean(0) * 0.7 + estimate_up(bad).per_frame.mean(0) * 0.3
    assert angle_deg(mean_of_all, true) > 10.0  # a plain mean would have been pulled off


def test_combine_directions_directly():
    rng = np.random.default_rng(0)
    true = np.array([0.2, -0.9, -0.35])
    true /= np.linalg.norm(true)
    d = true + 0.03 * rng.standard_normal((80, 3))
    wrong = np.tile([1.0, 0, 0], (20, 1))
    up, spread, kept = combine_directions(np.concatenate([d, wrong]))
    assert angle_deg(up, true) < 1.0
    assert not kept[80:].any() and kept[:80].mean() > 0.9
    assert spread < 5


def test_spread_grows_with_inconsistent_input():
    rng = np.random.default_rng(0)
    consistent = seen(cam_from_world(25, 5), standing_world(), T=40, noise_mm=3)
    mixed = np.concatenate([seen(cam_from_world(rng.uniform(5, 45), rng.uniform(-25, 25)), standing_world(), T=2)
                            for _ in range(20)])
    a, b = estimate_up(consistent), estimate_up(mixed)
    assert b.spread_deg > a.spread_deg + 5


def test_nan_frames_are_skipped_and_confidence_weights():
    R = cam_from_world(25, 10)
    poses = seen(R, standing_world(), T=20)
    poses[::2] = np.nan
    est = estimate_up(poses, confidence=np.ones(poses.shape[:2]))
    assert angle_deg(est.up, R @ [0, 0, 1.0]) < 5
    assert np.isnan(est.per_frame[0]).all() and est.n_frames_used <= 10


@pytest.mark.parametrize("poses,msg", [(np.zeros((0, 17, 3)), "no frame"), (np.full((10, 17, 3), np.nan), "all NaN"),
                                       (np.zeros((10, 16, 3)), "expected"), (np.zeros((17, 3)), "expected")])
def test_bad_input_is_a_clear_error(poses, msg):
    with pytest.raises(Pose3dError, match=msg):
        estimate_up(poses)


def test_zero_confidence_everywhere_is_a_clear_error():
    with pytest.raises(Pose3dError, match="confidence"):
        estimate_up(seen(cam_from_world(20, 0), standing_world(), T=5), confidence=np.zeros((5, 17)))


def test_parse_and_given_up():
    assert np.allclose(parse_up("0,-2,0"), LEVEL_UP)
    assert np.allclose(parse_up("1e200,1e200,0"), [0.5 ** 0.5, 0.5 ** 0.5, 0])  # its norm overflows: was (0, 0, 0)
    for bad in ("1,2", "a,b,c", "0,0,0", "nan,1,0"):
        with pytest.raises(Pose3dError, match="--up"):
            parse_up(bad)
    g = given_up(np.array([0, -2.0, -1]), "calibration Calib.qca.txt:cam01")
    assert np.linalg.norm(g.up) == pytest.approx(1) and g.method.startswith("given") and g.spread_deg == 0
    assert level_camera_up().method == "level camera (assumed)"


def test_model_file_is_not_unpickled(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, W0=np.array([object()], dtype=object), meta=np.array("{}"))
    with pytest.raises(Pose3dError):
        UpModel(p)


def test_floor_plane_recovers_a_known_tilt():
    """Feet on a floor seen by a camera pitched 25° down and rolled 8°: the plane normal is the true up."""
    from pose3d_cli.body.vertical import floor_normal
    rng = np.random.default_rng(3)
    # floor points in the world (Z up): a person walking over a 3 m x 2 m area, plus 10% lifted feet (swing)
    xy = rng.uniform([-1500, 2000], [1500, 4000], (200, 2))
    z = np.zeros(200)
    z[:20] = rng.uniform(100, 300, 20)  # swing-phase feet well above the floor
    world = np.column_stack([xy, z + rng.normal(0, 5, 200)])
    # camera 1.4 m high: world → camera by my own rotation (camera x right, y down, z forward)
    p, r = np.deg2rad(25.0), np.deg2rad(8.0)
    base = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # level camera looking along world +Y
    Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    Rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    R = Rz @ Rx @ base
    cam = (world - np.array([0, 0, 1400.0])) @ R.T
    true_up = R @ np.array([0, 0, 1.0])
    assert angle_deg(LEVEL_UP, true_up) > 20  # the level-camera answer is wrong here
    up, flat = floor_normal(cam)
    assert angle_deg(up, true_up) < 1.0
    assert flat > 3
    # without outlier trimming the swing feet tilt the plane more than with it
    up0, _ = floor_normal(cam, trim=0.0)
    assert angle_deg(up0, true_up) > angle_deg(up, true_up)


def test_floor_plane_refuses_a_line():
    from pose3d_cli.body.vertical import floor_normal
    t = np.linspace(0, 1, 50)[:, None]
    with pytest.raises(Pose3dError, match="line"):
        floor_normal(t * np.array([1000.0, 0, 3000]) + np.array([0, 800.0, 2000]))
    with pytest.raises(Pose3dError, match="at least 3"):
        floor_normal(np.full((5, 3), np.nan))


def test_directions_that_cancel_give_a_finite_up_and_say_how_spread_they_are():
    """Two opposite directions of equal weight (or three 120 deg apart) have no mean: the answer is the medoid, a unit
    vector among the inputs, and the spread says the frames disagree (it was NaN, or rounding noise)."""
    from pose3d_cli.body.vertical import combine_directions

    up, spread, kept = combine_directions(np.array([[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]]))
    assert np.isfinite(up).all() and abs(np.linalg.norm(up) - 1) < 1e-12 and spread == pytest.approx(90.0)
    a = np.radians([0.0, 120.0, 240.0])
    up3, spread3, _ = combine_directions(np.stack([np.cos(a), np.sin(a), 0 * a], 1))
    assert min(np.linalg.norm(up3 - np.array([np.cos(x), np.sin(x), 0])) for x in a) < 1e-9 and spread3 > 100
