"""Seated versions of standing mocap (synth/seated.py, `synth --seated`): expected geometry derived by hand."""

import h5py
import numpy as np
import pytest

from pose3d_cli.skeleton import H36M17
from pose3d_cli.synth.seated import Seat, can_seat, seat

from test_synth import _synth, mocap, read_all, sequences, world_of  # noqa: F401 (fixture)

J = H36M17.index


LEGS = {"left": (450.0, 420.0), "right": (440.0, 430.0)}  # thigh, shank mm: the sides differ


def standing_world(T: int = 30) -> np.ndarray:
    """(T, 17, 3) world mm, Z up: a person standing upright facing -Y (nose towards -Y, left side at +X), ankles
    80 mm above the floor, swaying the arms."""
    p = np.zeros((17, 3))
    for side, s in (("left", 1), ("right", -1)):
        thigh, shank = LEGS[side]
        p[J(f"{side}_hip")] = [s * 90, 0, 950]
        p[J(f"{side}_knee")] = [s * 90, 0, 950 - thigh]
        p[J(f"{side}_ankle")] = [s * 90, 0, 950 - thigh - shank]
        p[J(f"{side}_shoulder")] = [s * 170, 0, 1430]
        p[J(f"{side}_elbow")] = [s * 170, 0, 1130]
        p[J(f"{side}_wrist")] = [s * 170, 0, 880]
    p[J("pelvis")], p[J("spine")], p[J("thorax")] = [0, 0, 950], [0, 0, 1190], [0, 0, 1430]
    p[J("nose")], p[J("head")] = [0, -80, 1560], [0, 0, 1680]
    out = np.repeat(p[None], T, 0)
    out[:, J("left_wrist"), 1] -= 200 * np.sin(np.linspace(0, np.pi, T))  # an arm swinging forward
    return out


def test_a_seated_person_keeps_the_upper_body_and_bone_lengths_and_puts_the_knees_forward():
    W = standing_world()
    S = seat(W, H36M17, np.random.default_rng(0))
    upper = [J(n) for n in ("pelvis", "spine", "thorax", "nose", "head", "left_wrist", "right_elbow")]
    shift = S[:, J("pelvis")] - W[:, J("pelvis")]
    assert np.allclose(shift[:, :2], 0) and (shift[:, 2] < -200).all()  # only lowered, by a seat's worth
    np.testing.assert_allclose(S[:, upper] - shift[:, None], W[:, upper], atol=1e-9)  # the motion is kept
    for side in ("left", "right"):
        h, k, a = (J(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        np.testing.assert_allclose(np.linalg.norm(S[:, k] - S[:, h], axis=-1), LEGS[side][0], rtol=1e-9)
        np.testing.assert_allclose(np.linalg.norm(S[:, a] - S[:, k], axis=-1), LEGS[side][1], rtol=1e-9)
        # consecutive frames stay consecutive: the legs sway slowly (a few mm a frame), they do not shake
        assert np.linalg.norm(np.diff(S[:, a], axis=0), axis=-1).max() < 15
        # forward is where the nose points (-Y): a thigh laid backwards is the plausible wrong sign
        assert (S[:, k, 1] - S[:, h, 1] < -300).all()
        thigh, shank = S[:, k] - S[:, h], S[:, a] - S[:, k]
        flexion = np.degrees(np.arccos((thigh * shank).sum(-1) / LEGS[side][0] / LEGS[side][1]))
        lo, hi = 90 - 20 - 30 - 10, 90 + 10 + 25 + 10  # pitch and tilt ranges of Seat(), plus wobble
        assert ((flexion > lo) & (flexion < hi)).all(), flexion
        assert (S[:, a, 2] - S[:, h, 2] < -250).all()  # the feet hang below the hips
    ankles = np.minimum(S[:, J("left_ankle"), 2], S[:, J("right_ankle"), 2])
    assert abs(np.median(ankles) - 80.0) < 1e-6 and np.ptp(ankles) < 40  # on the same floor, the legs swaying


def test_the_chair_is_drawn_once_per_motion_and_its_ranges_are_respected():
    W = standing_world(200)
    narrow = Seat(thigh_pitch_deg=(0.0, 0.0), shank_tilt_deg=(0.0, 0.0), spread_deg=(0.0, 0.0), side_deg=0.0,
                  wobble_deg=0.0)
    S = seat(W, H36M17, np.random.default_rng(1), narrow)
    # pitch 0, tilt 0, no spread: thighs level and straight ahead (-Y), shanks vertical, the same in every frame
    for side in ("left", "right"):
        thigh = S[:, J(f"{side}_knee")] - S[:, J(f"{side}_hip")]
        np.testing.assert_allclose(thigh, [[0, -LEGS[side][0], 0]] * 200, atol=1e-6)
        shank = S[:, J(f"{side}_ankle")] - S[:, J(f"{side}_knee")]
        np.testing.assert_allclose(shank, [[0, 0, -LEGS[side][1]]] * 200, atol=1e-6)
    # a seat sloping down to the knee (positive pitch) puts the knees below the hips, not above
    down = Seat(thigh_pitch_deg=(15.0, 15.0), shank_tilt_deg=(0.0, 0.0), spread_deg=(0.0, 0.0), side_deg=0.0,
                wobble_deg=0.0)
    S = seat(W, H36M17, np.random.default_rng(1), down)
    drop = S[:, J("left_hip"), 2] - S[:, J("left_knee"), 2]
    np.testing.assert_allclose(drop, LEGS["left"][0] * np.sin(np.radians(15.0)), atol=1e-6)


def test_the_feet_stay_on_the_floor_when_the_pelvis_dips_for_a_few_frames():
    """Like the Bandai Namco wave (pelvis 758 mm rising to 893 in 6 frames): the whole standing body is 135, 100, 60
    and 25 mm lower in its first 4 of 90 frames. The 5th-95th percentile of the pelvis height is 950-950 mm (the 5th
    lies between the 5th and 6th lowest frames, both 950), so the take is seated. Standing floor: both lower ankles at
    950 - 450 - 420 = 950 - 440 - 430 = 80 mm. On a level chair (pitch, tilt, spread 0) each ankle hangs its shank
    below its hip, the right one (430 mm) lowest. Lowering the body by one height for the motion (the median frame's
    950 - 430 - 80 = 440 mm) left frame 0's ankle at 815 - 430 - 440 = -55 mm, 135 mm under the floor; held on the
    floor, the ankle is at 80 mm and the pelvis at 80 + 430 = 510 mm in every frame."""
    W = standing_world(90)
    W[:4, :, 2] -= np.array([135.0, 100.0, 60.0, 25.0])[:, None]
    assert can_seat(W, H36M17)
    level = Seat(thigh_pitch_deg=(0.0, 0.0), shank_tilt_deg=(0.0, 0.0), spread_deg=(0.0, 0.0), side_deg=0.0,
                 wobble_deg=0.0)
    S = seat(W, H36M17, np.random.default_rng(2), level)
    lowest = np.minimum(S[:, J("left_ankle"), 2], S[:, J("right_ankle"), 2])
    np.testing.assert_allclose(lowest, 80.0, atol=1e-6)
    np.testing.assert_allclose(S[:, J("pelvis"), 2], 510.0, atol=1e-6)
    upper = [J(n) for n in ("spine", "thorax", "nose", "head", "left_wrist", "right_elbow")]
    np.testing.assert_allclose(S[:, upper] - S[:, J("pelvis")][:, None], W[:, upper] - W[:, J("pelvis")][:, None],
                               atol=1e-9)  # the upper body's motion about the pelvis is kept
    for seed in range(5):  # any chair, the legs swaying: the lower ankle within a few cm of the floor in every frame
        S = seat(W, H36M17, np.random.default_rng(seed))
        lowest = np.minimum(S[:, J("left_ankle"), 2], S[:, J("right_ankle"), 2])
        assert np.abs(lowest - 80.0).max() < 20.0, np.abs(lowest - 80.0).max()


def test_only_upright_motions_are_seated():
    W = standing_world()
    assert can_seat(W, H36M17)
    lying = W.copy()
    lying[..., [1, 2]] = lying[..., [2, 1]]  # the body turned to lie along Y
    assert not can_seat(lying, H36M17)
    squat = W.copy()  # upright all along, but the pelvis goes down 300 mm and up: seated, the feet would go
    squat[..., 2] -= 300 * np.sin(np.linspace(0, np.pi, len(W)))[:, None]  # through the floor
    assert not can_seat(squat, H36M17)
    sway = W.copy()  # a standing sway of 40 mm is seated
    sway[..., 2] -= 40 * np.sin(np.linspace(0, np.pi, len(W)))[:, None]
    assert can_seat(sway, H36M17)


def test_synth_seated_zero_changes_nothing_and_one_seats_every_upright_view(mocap, tmp_path_factory):  # noqa: F811
    plain = read_all(_synth(mocap, tmp_path_factory, "p.h5", "--clean", "--workers", 1))
    zero = read_all(_synth(mocap, tmp_path_factory, "z.h5", "--clean", "--workers", 1, "--seated", 0))
    for k in ("keypoints_2d", "joints_3d", "cam_from_world_R"):
        assert np.array_equal(plain[k], zero[k])
    seated_file = _synth(mocap, tmp_path_factory, "s.h5", "--clean", "--workers", 1, "--seated", 1)
    with h5py.File(seated_file) as f:
        assert '"seated": 1.0' in f.attrs["synth_params"]
    d = read_all(seated_file)
    W, W0 = world_of(d), world_of(plain)
    kinds = set()
    for _, rows in sequences(d):  # the walking and dashing takes are upright and level: every view seated, knees
        w, w0 = W[rows], W0[rows]  # near hip height; CMU 131_01's pelvis moves 384 mm up and down: left standing
        knee_drop = w[:, J("left_hip"), 2] - w[:, J("left_knee"), 2]
        level = np.subtract(*np.percentile(w0[:, J("pelvis"), 2], [95, 5])) <= 100
        assert (np.median(knee_drop) < 250) == level, (np.median(knee_drop), level)
        kinds.add(bool(level))
    assert kinds == {True, False}
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(plain["joints_3d"], d["joints_3d"])


def test_seated_with_a_rig_is_refused_before_any_work(mocap, tmp_path):  # noqa: F811
    from test_synth import cli

    rig = tmp_path / "rig.json"
    from pose3d_cli.synth.cameras import Camera, intrinsics_from_fov, save_rig

    save_rig([Camera(intrinsics_from_fov(60, 1920, 1080), np.zeros(5), np.eye(3), np.array([0, 0, 4000.0]),
                     (1920, 1080), "cam1")], rig)
    out = tmp_path / "x.h5"
    r = cli("synth", mocap, out, "--cameras", rig, "--seated", 0.5)
    assert r.exit_code == 2 and "--seated with --cameras" in r.output and "Traceback" not in r.output
    assert not out.exists()
