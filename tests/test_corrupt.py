"""Detector-like corruption: clean projections, noise scaling, confidence, dropout, occlusion, swaps, seeds."""

import numpy as np
import pytest

from pose3d_cli.geometry import project
from pose3d_cli.skeleton import H36M17
from pose3d_cli.synth.corrupt import (JOINT_NOISE, Corruption, corrupt, facing_away, person_size,
                                      self_occlusion_mask)

#: a standing pose in the subject's body frame: (left, forward, up), mm
BODY = {
    "pelvis": (0, 0, 950), "right_hip": (-100, 0, 920), "right_knee": (-100, 20, 500), "right_ankle": (-100, 0, 80),
    "left_hip": (100, 0, 920), "left_knee": (100, 20, 500), "left_ankle": (100, 0, 80), "spine": (0, 0, 1200),
    "thorax": (0, 0, 1450), "nose": (0, 30, 1580), "head": (0, 0, 1720), "left_shoulder": (180, 0, 1430),
    "left_elbow": (200, 0, 1150), "left_wrist": (210, 40, 900), "right_shoulder": (-180, 0, 1430),
    "right_elbow": (-200, 0, 1150), "right_wrist": (-210, 40, 900),
}
W, H = 1920, 1080
K = np.array([[1200.0, 0, W / 2], [0, 1200.0, H / 2], [0, 0, 1]])
LEFT, RIGHT = H36M17.joints_left, H36M17.joints_right


def J(name):
    return H36M17.index(name)


def body(**moved):
    b = dict(BODY, **moved)
    return np.array([b[n] for n in H36M17.joints], dtype=np.float64)


def to_camera(pose_body, distance=4000.0, facing=True, T=1):
    """Body frame → camera frame (x right, y down, z forward). Facing the camera, the subject's left is image
    right (+x); facing away, image left."""
    l, f, u = pose_body[:, 0], pose_body[:, 1], pose_body[:, 2]
    sign = 1.0 if facing else -1.0
    cam = np.stack([sign * l, -(u - 900.0), distance - sign * f], axis=-1)
    return np.broadcast_to(cam, (T,) + cam.shape).copy()


def only(**kw):
    """Clean corruption with just the given settings on."""
    return Corruption.clean().__class__(**{**Corruption.clean().to_dict(), **kw})


def run(cam, cfg, seed=0):
    uv = project(cam, K)
    kp, conf = corrupt(uv, cam, (W, H), H36M17, cfg, np.random.default_rng(seed))
    return uv, kp, conf


def test_clean_is_exact_inside_the_image_and_missing_outside():
    cam = to_camera(body(), T=3)
    cam[1, :, 0] += 3000.0  # frame 1: the right half of the body leaves the image
    cam[2, J("head"), 2] = -100.0  # frame 2: the head behind the camera
    uv, kp, conf = run(cam, Corruption.clean())
    assert kp.dtype == np.float32 and conf.dtype == np.float32 and kp.shape == (3, 17, 2)
    inside = (uv[..., 0] >= 0) & (uv[..., 0] < W) & (uv[..., 1] >= 0) & (uv[..., 1] < H) & (cam[..., 2] > 1)
    assert inside[0].all() and not inside[1].all() and inside[1].any() and not inside[2, J("head")]
    np.testing.assert_allclose(kp[inside], uv[inside], atol=1e-3)  # float32 pixels
    assert np.all(conf[inside] == 1.0)
    assert np.all(conf[~inside] == 0.0) and np.all(kp[~inside] == 0.0)
    # truncation off: out-of-image joints kept (but not those behind the camera)
    _, kp2, conf2 = run(cam, only(truncation=False))
    assert conf2[1].min() == 1.0 and conf2[2, J("head")] == 0.0


def _noise_error(sigma, distance, T=1500):
    cam = to_camera(body(), distance=distance, T=T)
    uv, kp, conf = run(cam, only(noise_sigma=sigma))
    assert conf.min() > 0  # nothing missing
    size = person_size(uv, np.ones(uv.shape[:2], bool))[0]
    return kp - uv, size, conf


def test_noise_scales_with_sigma_and_person_size():
    err1, size1, _ = _noise_error(0.01, 4000.0)
    err2, _, _ = _noise_error(0.02, 4000.0)
    err3, size3, _ = _noise_error(0.01, 2000.0)
    assert size3 == pytest.approx(2 * size1, rel=0.02)  # half the distance, twice the size in pixels
    s1, s2, s3 = err1.std(), err2.std(), err3.std()
    assert s2 / s1 == pytest.approx(2.0, rel=0.08)
    assert s3 / s1 == pytest.approx(size3 / size1, rel=0.08)
    # per joint: std = sigma × size × the joint's factor (wrists noisier than the thorax)
    per_joint = err1.std(axis=(0, 2)) / (0.01 * size1)
    factor = np.array([JOINT_NOISE.get(n.split("_")[-1], 1.0) for n in H36M17.joints])
    np.testing.assert_allclose(per_joint, factor, rtol=0.1)
    assert abs(err1.mean()) < 0.1 * s1  # unbiased


def test_per_joint_noise_factors_come_from_the_config(tmp_path):
    """``joint_noise`` (a corruption config's per-stem factors, e.g. measured by benchmarks/detector2d_error.py)
    replaces the built-in ones; stems it does not name get 1."""
    path = tmp_path / "c.yaml"
    path.write_text("noise_sigma: 0.01\njoint_noise: {wrist: 3.0, hip: 0.5}\n")
    cfg = Corruption.from_file(path)
    cam = to_camera(body(), distance=4000.0, T=1500)
    uv, kp, _ = run(cam, only(noise_sigma=cfg.noise_sigma, joint_noise=cfg.joint_noise))
    size = person_size(uv, np.ones(uv.shape[:2], bool))[0]
    per_joint = (kp - uv).std(axis=(0, 2)) / (0.01 * size)
    expected = np.array([{"wrist": 3.0, "hip": 0.5}.get(n.split("_")[-1], 1.0) for n in H36M17.joints])
    np.testing.assert_allclose(per_joint, expected, rtol=0.1)


@pytest.mark.parametrize("value", ["3", "[1, 2]", "{wrist: fast}", "{wrist: -1}", "{wrist: .inf}", "{wrist: true}"])
def test_a_bad_joint_noise_is_refused_when_the_config_is_read(tmp_path, value):
    from pose3d_cli.errors import Pose3dError

    path = tmp_path / "c.yaml"
    path.write_text(f"joint_noise: {value}\n")
    with pytest.raises(Pose3dError, match="joint_noise must map joint-name stems to factors"):
        Corruption.from_file(path)


#: H36M17's joint names without their side, sorted (pelvis, left_hip → hip, ..., head): the keys joint_noise takes
H36M17_STEMS = "ankle, elbow, head, hip, knee, nose, pelvis, shoulder, spine, thorax, wrist"


@pytest.mark.parametrize("table, named", [("{left_wrist: 3.0}", "key left_wrist is not a joint-name stem"),
                                          ("{wrist: 2.0, wrists: 3, right_ankle: 1}",
                                           "keys right_ankle, wrists are not joint-name stems")])
def test_joint_noise_keys_that_are_not_stems_are_refused_naming_the_stems(tmp_path, table, named):
    """``left_wrist`` is a joint, not a stem: the lookup by stem never found it, so the wrists kept 1.0 (not 3.0)
    and every other joint lost its default factor, without a word. Refused in one line naming the valid stems."""
    from pose3d_cli.errors import Pose3dError

    path = tmp_path / "c.yaml"
    path.write_text(f"joint_noise: {table}\n")
    with pytest.raises(Pose3dError) as e:
        Corruption.from_file(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: joint_noise {named} of h36m17; use stems among {H36M17_STEMS} ")
    assert "\n" not in msg
    cam = to_camera(body(), T=2)  # a Corruption built in code is refused too, not corrupted with 1.0 everywhere
    with pytest.raises(Pose3dError, match=f"joint_noise key left_wrist .*{H36M17_STEMS}"):
        run(cam, only(noise_sigma=0.01, joint_noise={"left_wrist": 3.0}))


def test_yaml_numbers_in_exponent_form_are_numbers_and_quoted_ones_strings(tmp_path):
    """PyYAML reads YAML 1.1, where 5e-3 (no dot, no exponent sign) is a string, so ``noise_sigma: 5e-3`` was
    refused as "must be a number"; YAML 1.2 and JSON read it as 0.005. A quoted '5e-3' stays a string."""
    from pose3d_cli.errors import Pose3dError

    path = tmp_path / "c.yaml"
    path.write_text("noise_sigma: 5e-3\nnoise_slow_sigma: 2E+0\nbox_size: [1e-1, 5.0e-1]\ndropout_rate: 0\n")
    c = Corruption.from_file(path)
    assert (c.noise_sigma, c.noise_slow_sigma, c.box_size, c.dropout_rate) == (0.005, 2.0, (0.1, 0.5), 0)
    assert isinstance(c.dropout_rate, int)  # integers stay integers
    path.write_text("noise_sigma: -2e-3\n")  # a number, then refused for its sign
    with pytest.raises(Pose3dError, match=r"noise_sigma must be a number >= 0, not -0\.002$"):
        Corruption.from_file(path)
    path.write_text("noise_sigma: '5e-3'\n")
    with pytest.raises(Pose3dError, match=r"noise_sigma must be a number >= 0, not '5e-3'$"):
        Corruption.from_file(path)


def test_slow_noise_is_smooth():
    cam = to_camera(body(), T=300)
    uv, kp, _ = run(cam, only(noise_slow_sigma=0.02))
    err = kp - uv
    assert err.std() > 1.0
    assert np.abs(np.diff(err, axis=0)).std() < 0.2 * err.std()  # varies slowly over frames


def _noise_error_conf(sigma, distance, confidence, T=1500):
    cam = to_camera(body(), distance=distance, T=T)
    uv, kp, conf = run(cam, only(noise_sigma=sigma, confidence=confidence))
    return kp - uv, conf


def _spearman_per_joint(e, c):
    rank = lambda a: np.argsort(np.argsort(a, axis=0), axis=0)
    return np.array([np.corrcoef(rank(e)[:, j], rank(c)[:, j])[0, 1] for j in range(e.shape[1])])


def test_earlier_confidence_model_falls_with_error():
    err, conf = _noise_error_conf(0.03, 4000.0, "error")
    e = np.linalg.norm(err, axis=-1).ravel()
    c = conf.ravel()
    assert np.corrcoef(e, c)[0, 1] < -0.5
    assert 0.3 <= c.min() and c.max() <= 1.0
    small, big = e < np.percentile(e, 20), e > np.percentile(e, 80)
    assert c[small].mean() > c[big].mean() + 0.05


def test_calibrated_confidence_matches_blazepose_and_barely_tracks_error():
    """Measured on real detections (benchmarks/confidence_model.py, pose2sim dev frames): BlazePose's confidence is
    near 1 on shoulders and hips whatever the error, with a lower tail on knees, ankles, elbows and wrists, and a
    within-joint rank correlation with the 2D error of about -0.18. The earlier model (confidence = 1 - 2 error)
    gives -1 and would fail here; confidence independent of the error gives 0 and fails too."""
    err, conf = _noise_error_conf(0.03, 4000.0, "blazepose", T=3000)
    e = np.linalg.norm(err, axis=-1)
    rho = _spearman_per_joint(e, conf).mean()
    assert -0.26 < rho < -0.10
    assert conf.min() >= 0.0 and conf.max() <= 1.0
    shoulders = conf[:, [J("left_shoulder"), J("right_shoulder")]]
    knees = conf[:, [J("left_knee"), J("right_knee")]]
    assert np.median(shoulders) > 0.99  # saturated, as measured (0.999)
    assert np.percentile(knees, 10) < 0.9 and 0.95 < np.median(knees) < 0.995  # measured: p10 0.85, p50 0.978
    # the low tail sits on the worst fifth of each joint's errors (measured: 15% under 0.8 there, 1-3% elsewhere)
    worst = e >= np.percentile(e, 80, axis=0)
    best = e <= np.percentile(e, 20, axis=0)
    assert (conf[worst] < 0.8).mean() > 3 * max((conf[best] < 0.8).mean(), 0.01)
    # errors five times larger leave the confidence distribution almost where it was (not so when it leaks)
    err5, conf5 = _noise_error_conf(0.15, 4000.0, "blazepose", T=3000)
    assert abs(np.median(conf5) - np.median(conf)) < 0.01


def test_confidence_model_defaults_to_error_and_is_chosen_by_file(tmp_path):
    old = Corruption().to_dict()
    del old["confidence"]
    assert Corruption.from_dict(old).confidence == "error"
    (tmp_path / "c.json").write_text('{"noise_sigma": 0.02}')
    assert Corruption.from_file(tmp_path / "c.json").confidence == "error"
    (tmp_path / "b.json").write_text('{"confidence": "blazepose"}')
    assert Corruption.from_file(tmp_path / "b.json").confidence == "blazepose"
    (tmp_path / "bad.json").write_text('{"confidence": "made-up"}')
    from pose3d_cli.errors import Pose3dError

    with pytest.raises(Pose3dError, match="confidence must be one of blazepose, error"):
        Corruption.from_file(tmp_path / "bad.json")


def test_dropout_rate_and_missing_joints():
    cam = to_camera(body(), T=2000)
    uv, kp, conf = run(cam, only(dropout_rate=0.1))
    missing = conf == 0
    assert missing.mean() == pytest.approx(0.1, abs=0.01)
    assert np.all(kp[missing] == 0.0)
    np.testing.assert_allclose(kp[~missing], uv[~missing], atol=1e-3)
    assert np.all(conf[~missing] == 1.0)


def test_frame_drop():
    cam = to_camera(body(), T=2000)
    _, kp, conf = run(cam, only(frame_drop_rate=0.2))
    dropped = (conf == 0).all(axis=1)
    assert dropped.mean() == pytest.approx(0.2, abs=0.03)
    assert ((conf == 0).any(axis=1) == dropped).all()  # whole frames, nothing partial


def test_outliers_land_far_with_low_confidence_in_the_earlier_model_and_high_in_blazepose():
    cam = to_camera(body(), T=2000)
    uv, kp, conf = run(cam, only(outlier_rate=0.05, confidence="error"))
    moved = np.linalg.norm(kp - uv, axis=-1) > 1e-3
    assert moved.mean() == pytest.approx(0.05, abs=0.01)
    assert conf[moved].max() <= 0.6 and np.all(conf[~moved] == 1.0)
    uv, kp, conf = run(cam, only(outlier_rate=0.05, confidence="blazepose"))
    moved = np.linalg.norm(kp - uv, axis=-1) > 1e-3
    assert np.median(conf[moved]) > 0.9 and np.all(conf[~moved] == 1.0)  # BlazePose does not flag its outliers


def test_self_occlusion_hand_behind_or_in_front_of_the_back():
    behind = body(right_wrist=(0, -250, 1100), right_elbow=(-300, -100, 1150))
    front = body(right_wrist=(0, 250, 1100), right_elbow=(-300, 100, 1150))
    rw = J("right_wrist")
    assert self_occlusion_mask(to_camera(behind), H36M17)[0, rw]
    assert not self_occlusion_mask(to_camera(front), H36M17)[0, rw]
    # from behind, the hand at the chest is hidden and the one at the back visible
    assert self_occlusion_mask(to_camera(front, facing=False), H36M17)[0, rw]
    assert not self_occlusion_mask(to_camera(behind, facing=False), H36M17)[0, rw]
    # the standing pose seen from the front hides nothing; its own capsules never hide a joint
    assert not self_occlusion_mask(to_camera(body()), H36M17).any()


def test_self_occlusion_drops_or_guesses_hidden_joints():
    cam = to_camera(body(right_wrist=(0, -250, 1100), right_elbow=(-300, -100, 1150)), T=400)
    uv, kp, conf = run(cam, only(self_occlusion=True, occluded_guess_prob=0.5, occluded_noise=0.05,
                                 confidence="error"))
    rw = J("right_wrist")
    dropped = conf[:, rw] == 0
    assert dropped.mean() == pytest.approx(0.5, abs=0.08)
    guessed = ~dropped
    assert conf[guessed, rw].max() <= 0.5  # guesses: low confidence, big error
    assert np.linalg.norm(kp[guessed, rw] - uv[guessed, rw], axis=-1).mean() > 5.0
    others = np.delete(np.arange(17), rw)
    assert np.all(conf[:, others] == 1.0)
    # calibrated model: a guessed hidden joint gets what BlazePose gave joints the body hid (the table's median)
    import json

    from pose3d_cli.synth.corrupt import CONFIDENCE_TABLE

    table = json.loads(CONFIDENCE_TABLE.read_text())
    hidden_median = np.interp(0.5, table["levels"], table["hidden"])
    uv, kp, conf = run(cam, only(self_occlusion=True, occluded_guess_prob=1.0, occluded_noise=0.05,
                                 confidence="blazepose"))
    assert abs(np.median(conf[:, rw]) - hidden_median) < 0.05 and np.all(conf[:, others] == 1.0)


def test_box_occlusion_hides_a_stretch_of_frames():
    cam = to_camera(body(), T=200)
    hits = 0
    for seed in range(10):
        _, _, conf = run(cam, only(box_prob=1.0, box_size=(0.5, 0.6)), seed=seed)
        hidden_frames = np.flatnonzero((conf == 0).any(axis=1))
        if hidden_frames.size:
            hits += 1
            # one contiguous stretch
            assert hidden_frames[-1] - hidden_frames[0] + 1 == hidden_frames.size
    assert hits >= 5


def test_facing_away():
    assert not facing_away(to_camera(body(), facing=True), H36M17)[0]
    assert facing_away(to_camera(body(), facing=False), H36M17)[0]
    # turning about the vertical axis: away from the camera once past side-on (90°)
    for deg in (0, 30, 60, 80, 100, 120, 150, 180, 210, 260, 280, 330):
        a = np.deg2rad(deg)
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])  # about "up"
        turned = to_camera(body() @ rot.T)
        assert facing_away(turned, H36M17)[0] == (np.cos(a) < 0), deg


def test_pair_swaps_exchange_left_and_right():
    cam = to_camera(body(), T=500)
    uv, kp, conf = run(cam, only(swap_rate=0.02))
    swapped = np.isclose(kp[:, LEFT], uv[:, RIGHT], atol=1e-3).all(-1)  # (T, 6)
    kept = np.isclose(kp[:, LEFT], uv[:, LEFT], atol=1e-3).all(-1)
    assert np.all(swapped ^ kept)  # every pair either exactly kept or exactly swapped
    assert 0.02 < swapped.mean() < 0.3
    np.testing.assert_allclose(kp[:, RIGHT][swapped], uv[:, LEFT][swapped], atol=1e-3)
    np.testing.assert_allclose(kp[:, [0, 7, 8, 9, 10]], uv[:, [0, 7, 8, 9, 10]], atol=1e-3)  # centre joints stay


def test_whole_body_swaps_only_when_facing_away():
    facing = to_camera(body(), T=400)
    away = to_camera(body(), facing=False, T=400)
    cfg = only(back_swap_rate=0.2)
    uv, kp, _ = run(facing, cfg)
    np.testing.assert_allclose(kp, uv, atol=1e-3)
    uv, kp, _ = run(away, cfg)
    whole = np.isclose(kp[:, LEFT], uv[:, RIGHT], atol=1e-3).all(axis=(-1, -2))
    kept = np.isclose(kp, uv, atol=1e-3).all(axis=(-1, -2))
    assert np.all(whole ^ kept) and whole.mean() > 0.3


def test_same_seed_same_output_and_default_corruption():
    cam = to_camera(body(right_wrist=(0, -250, 1100)), T=300)
    cam[:, :, 0] += np.linspace(0, 3000, 300)[:, None]  # walks out of the image
    cfg = Corruption()
    a = run(cam, cfg, seed=7)
    b = run(cam, cfg, seed=7)
    c = run(cam, cfg, seed=8)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert not np.array_equal(a[1], c[1])
    uv, kp, conf = a
    assert np.all((conf >= 0) & (conf <= 1))
    assert np.all(kp[conf == 0] == 0)
    assert np.all(np.isfinite(kp))


def test_scaled_and_config_files(tmp_path):
    c = Corruption().scaled(noise=0.03, occlusion=0.2)
    assert (c.noise_sigma, c.noise_slow_sigma, c.dropout_rate) == (0.03, 0.03, 0.2)
    assert Corruption().noise_sigma != 0.03  # a copy
    p = tmp_path / "c.yaml"
    p.write_text("noise_sigma: 0.02\nbox_size: [0.1, 0.2]\n")
    c = Corruption.from_file(p)
    assert c.noise_sigma == 0.02 and c.box_size == (0.1, 0.2)
    from pose3d_cli.errors import Pose3dError

    bad = tmp_path / "bad.json"
    bad.write_text('{"noise": 1}')
    with pytest.raises(Pose3dError, match="keys among"):
        Corruption.from_file(bad)
    assert Corruption.from_dict(Corruption.clean().to_dict()) == Corruption.clean()


def test_person_size():
    uv = np.array([[[0.0, 0.0], [30.0, 40.0], [1000.0, 1000.0]]])
    assert person_size(uv, np.array([[True, True, False]]))[0] == pytest.approx(50.0)
    assert person_size(uv, np.zeros((1, 3), bool))[0] == 1.0


def test_a_joint_beyond_the_distortions_fold_is_outside_the_image():
    """k1 < 0 turns over at r^2 = 1 / (3 |k1|): a person 70 deg off-axis of an 80 deg camera (x/z ~ 2.7) lands back
    inside the image once distorted; it must count as outside (it was kept, confidence 1, 2D thousands of px off)."""
    from pose3d_cli.geometry import distortion_folds, project
    from pose3d_cli.synth.cameras import intrinsics_from_fov
    from pose3d_cli.synth.corrupt import Corruption, corrupt
    from pose3d_cli.skeleton import H36M17

    dist = np.array([-0.1, 0.0, 0.0, 0.0, 0.0])
    r = np.sqrt(1 / 0.3)
    assert not distortion_folds(np.array([0.99 * r, 0.0]), dist) and distortion_folds(np.array([0.0, 1.01 * r]), dist)
    W, H = 1920, 1080
    K = intrinsics_from_fov(80, W, H)
    rng = np.random.default_rng(0)
    body = rng.uniform([-250, -900, -100], [250, 800, 100], size=(1, 17, 3))
    off_axis = body + [np.tan(np.radians(70)) * 3000, 0, 3000.0]
    uv = project(off_axis, K, dist)
    assert ((uv[..., 0] >= 0) & (uv[..., 0] < W)).mean() > 0.5  # folded back into the frame
    _, conf = corrupt(uv, off_axis, (W, H), H36M17, Corruption.clean(), rng, dist=dist)
    assert (conf == 0).all()
    centred = body + [0, 0, 3000.0]
    _, conf = corrupt(project(centred, K, dist), centred, (W, H), H36M17, Corruption.clean(), rng, dist=dist)
    assert (conf > 0).all()


@pytest.mark.parametrize("name, value, default, want", [
    ("flip", 1, True, "true or false"),  # 1 is no bool
    ("noise_sigma", -0.1, 0.01, "a number >= 0"),
    ("dropout_rate", 1.5, 0.05, "a probability in [0, 1]"),
    ("portrait_prob", True, 0.5, "a probability in [0, 1]"),  # a YAML yes is no probability
    ("scale", [2.0, 1.0], (1.0, 2.0), "[low, high] (two numbers >= 0)"),
    ("scale", [1.0], (1.0, 2.0), "[low, high] (two numbers >= 0)"),
    ("noise_sigma", 0.0, 0.01, None),
    ("dropout_rate", 1, 0.05, None),
    ("scale", [0.5, 0.5], (1.0, 2.0), None),
])
def test_one_rule_for_every_config_setting(name, value, default, want):
    """config.setting_problem, shared by the corruption and camera-sampling files (the two had their own loops)."""
    from pose3d_cli.config import setting_problem

    assert setting_problem(name, value, default) == want


def test_camera_ranges_may_be_negative_but_must_be_two_numbers():
    from pose3d_cli.config import setting_problem

    assert setting_problem("pitch_deg", [-30.0, 10.0], (0.0, 1.0), ranges_non_negative=False) is None
    assert setting_problem("pitch_deg", ["a", 1], (0.0, 1.0), ranges_non_negative=False) == "[low, high] (two numbers)"
