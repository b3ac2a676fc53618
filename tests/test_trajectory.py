"""Where the person is (infer/trajectory.py): the root's camera-frame position, the body's height, and how infer,
the writers, the BVH and score carry them. Expected values are derived by hand, not from the code."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.geometry import axis_angle_to_matrix
from pose3d_cli.infer.pipeline import place_in_camera
from pose3d_cli.infer.readers import read_infer_output
from pose3d_cli.infer.trajectory import HEIGHT_FRACTIONS, root_positions, standing_height
from pose3d_cli.multiview.score import root_position_errors, score_poses
from pose3d_cli.skeleton import H36M17

from conftest import DATA, need

runner = CliRunner()
J = H36M17.index
VIDEO = DATA / "video" / "pose2sim_single_person"
DEMO_2D = Path(__file__).resolve().parents[1] / "pose3d_cli/assets/demo_cam01_blazepose.csv"


def standing(height: float = 1750.0) -> np.ndarray:
    """(17, 3) mm, camera frame (y down), root-relative: a person standing with arms hanging, limbs at Winter's
    fractions of ``height``."""
    f = {k: v * height for k, v in HEIGHT_FRACTIONS.items()}
    p = np.zeros((17, 3))
    for side, s in (("left", 1), ("right", -1)):
        p[J(f"{side}_hip")] = [s * 90, 0, 0]
        p[J(f"{side}_knee")] = [s * 90, f["knee"], 0]
        p[J(f"{side}_ankle")] = [s * 90, f["knee"] + f["ankle"], 0]
        p[J(f"{side}_shoulder")] = [s * 170, -480, 0]
        p[J(f"{side}_elbow")] = [s * 170, -480 + f["elbow"], 0]
        p[J(f"{side}_wrist")] = [s * 170, -480 + f["elbow"] + f["wrist"], 0]
    p[J("spine")], p[J("thorax")], p[J("nose")], p[J("head")] = [0, -240, 0], [0, -480, 0], [0, -600, -60], [0, -700, 0]
    return p


def project(points: np.ndarray) -> np.ndarray:
    return points[..., :2] / points[..., 2:3]


def test_a_pose_placed_anywhere_in_front_of_the_camera_is_found_there():
    rng = np.random.default_rng(0)
    T = 6
    R = axis_angle_to_matrix(rng.normal(size=(T, 3)), rng.uniform(0, np.pi, T))
    joints = np.einsum("tij,kj->tki", R, standing())  # turned every which way, root-relative
    t = np.stack([rng.uniform(-1500, 1500, T), rng.uniform(-800, 800, T), rng.uniform(2000, 9000, T)], -1)
    xy = project(joints + t[:, None])
    conf = np.ones((T, 17))
    np.testing.assert_allclose(root_positions(joints, xy, conf), t, atol=1e-6)
    # a joint with confidence 0 does not count, whatever its 2D says
    xy_bad, conf_bad = xy.copy(), conf.copy()
    xy_bad[:, J("left_wrist")] = 5.0
    conf_bad[:, J("left_wrist")] = 0.0
    np.testing.assert_allclose(root_positions(joints, xy_bad, conf_bad), t, atol=1e-6)
    # too few joints, a NaN pose, a solution behind the camera: unknown, not made up
    few = np.zeros((T, 17))
    few[:, :5] = 1.0
    assert np.isnan(root_positions(joints, xy, few)).all()
    nan = joints.copy()
    nan[2] = np.nan
    got = root_positions(nan, xy, conf)
    assert np.isnan(got[2]).all() and np.isfinite(got[[0, 1, 3]]).all()
    behind = root_positions(joints, project(joints + t[:, None]), conf)  # sanity: in front
    assert (behind[:, 2] > 0).all()
    mirrored = -(joints + t[:, None])  # the point reflection through the camera centre projects to the same 2D
    assert np.isnan(root_positions(-joints, project(mirrored), conf)).all()


def test_standing_height_follows_winters_fractions_and_ignores_other_bones():
    body = standing(1620.0)
    lengths = {c: float(np.linalg.norm(body[J(c)] - body[J(p)])) for c, p in H36M17.bones}
    assert standing_height(lengths) == pytest.approx(1620.0, rel=1e-9)
    lengths["head"] = 5000.0  # the trunk and head chain is not used (sources disagree on where a head joint is)
    assert standing_height(lengths) == pytest.approx(1620.0, rel=1e-9)
    legs = {k: v for k, v in lengths.items() if k.endswith(("knee", "ankle"))}
    assert standing_height(legs) == pytest.approx(1620.0, rel=1e-9)
    long_arms = dict(lengths, left_wrist=lengths["left_wrist"] * 1.5)  # one longer bone raises the estimate
    assert standing_height(long_arms) > 1620.0
    assert standing_height({"head": 100.0}) is None


def test_a_given_height_scales_pose_and_depth_by_the_same_factor():
    T = 40
    rng = np.random.default_rng(1)
    body = standing(1700.0)
    joints = np.repeat(body[None], T, 0) + rng.normal(0, 2, (T, 17, 3))
    joints -= joints[:, :1]
    t = np.stack([np.linspace(-500, 500, T), np.full(T, 300.0), np.linspace(3000, 4000, T)], -1)
    xy = project(joints + t[:, None])
    conf = np.ones((T, 17))
    lengths = {c: float(np.linalg.norm(body[J(c)] - body[J(p)])) for c, p in H36M17.bones}
    P0, r0, info0 = place_in_camera(joints, xy, conf, H36M17, lengths, None, "butter", 30.0)
    assert info0["lifted_standing_height_mm"] == pytest.approx(1700.0, rel=1e-6)
    np.testing.assert_allclose(r0, t, atol=15)  # zero-phase smoothing of a noisy straight line
    P1, r1, info1 = place_in_camera(joints, xy, conf, H36M17, lengths, 190.0, "butter", 30.0)
    k = 1900.0 / 1700.0  # the same 2D, a body k times as large: k times as far
    np.testing.assert_allclose(P1, joints * k, rtol=1e-5)
    np.testing.assert_allclose(r1, r0 * k, rtol=1e-4)
    assert "190 cm" in info1["scale"]


def test_score_reports_root_error_and_absolute_mpjpe_by_hand():
    R = axis_angle_to_matrix(np.array([1.0, 0, 0]), np.array(np.deg2rad(-90)))  # world Z up → camera -y
    t_cam = np.array([100.0, 200.0, 3000.0])
    T = 5
    world = np.repeat((standing() @ R)[None], T, 0) + np.array([0, 0, 950.0])  # standing() is camera-frame
    ref_cam = world @ R.T + t_cam
    pred = ref_cam - ref_cam[:, :1]
    root = ref_cam[:, 0] + np.array([0.0, 0.0, 150.0])  # 150 mm too far
    root[1] += np.array([40.0, -30.0, 0.0])  # frame 1 also 50 mm off sideways
    res = score_poses(pred, world, H36M17, R_cam=R, t_cam=t_cam, pred_root=root)
    rp = res["root_position"]
    assert rp["frames"] == T and rp["depth_bias_mm"] == pytest.approx(150.0)
    assert rp["error_median_mm"] == pytest.approx(150.0)
    assert rp["error_mean_mm"] == pytest.approx((4 * 150.0 + np.hypot(150, 50)) / 5)
    assert rp["lateral_error_median_mm"] == pytest.approx(0.0, abs=1e-9)
    depth = ref_cam[0, 0, 2]
    assert rp["depth_bias_percent"] == pytest.approx(100 * 150.0 / depth)
    # every joint moves with the root: the absolute MPJPE is the root's error, the aligned ones stay 0
    assert res["mpjpe"]["mpjpe_absolute"]["all"] == pytest.approx((4 * 150.0 + np.hypot(150, 50)) / 5)
    assert res["mpjpe"]["p_mpjpe"]["all"] < 1e-6 and res["mpjpe"]["mpjpe_unaligned"]["all"] < 1e-6
    assert root_position_errors(np.full((2, 3), np.nan), ref_cam[:2, 0]) == {"frames": 0}


def test_infer_writes_the_root_to_csv_json_and_bvh_and_person_height_scales_it(tmp_path):
    from pose3d_cli.mocap.bvh import read_bvh

    outs = {}
    for name, extra in (("a.csv", []), ("a.json", []), ("b.csv", ["--person-height", "190"]),
                        ("c.csv", ["--person-height", "150"]), ("c.json", ["--person-height", "150"]), ("a.bvh", [])):
        r = runner.invoke(app, ["-q", "infer", str(DEMO_2D), "-o", str(tmp_path / name), "--person", "largest", *extra])
        assert r.exit_code == 0, r.output
        outs[name] = tmp_path / name
    a, aj = read_infer_output(outs["a.csv"]), read_infer_output(outs["a.json"])
    ok = a.detected
    assert ok.all() and a.root is not None and np.isfinite(a.root[ok]).all()
    np.testing.assert_allclose(a.root, aj.root, atol=0.06)  # CSV keeps 0.1 mm
    assert (2000 < a.root[:, 2]).all() and (a.root[:, 2] < 15000).all()  # a person a few metres away
    meta = json.loads(outs["a.json"].read_text())["metadata"]["root_position"]
    lifted = meta["lifted_standing_height_mm"]
    assert 1400 < lifted < 2000
    b, c = read_infer_output(outs["b.csv"]), read_infer_output(outs["c.csv"])
    np.testing.assert_allclose(b.root[:, 2] / c.root[:, 2], 190 / 150, rtol=2e-3)
    np.testing.assert_allclose(b.joints3d, c.joints3d * 190 / 150, atol=0.02)  # CSV cells of 0.01 mm
    # the metadata's bone lengths are those of the bones written
    fit = json.loads(outs["c.json"].read_text())["metadata"]["skeleton_fit"]["bone_lengths_mm"]
    cj = read_infer_output(outs["c.json"]).joints3d
    thigh = np.linalg.norm(cj[:, J("left_knee")] - cj[:, J("left_hip")], axis=-1)
    assert np.nanmedian(thigh) == pytest.approx(fit["left_knee"], abs=0.5)
    # the BVH's root follows the trajectory: its horizontal path spans what the camera-frame one spans
    m = read_bvh(outs["a.bvh"], units="cm", up="y")  # read back in mm
    bvh_root = m.joints[:, m.names.index("pelvis")]
    span = np.ptp(bvh_root, axis=0)
    cam_span = np.ptp(a.root, axis=0)
    assert np.linalg.norm(span) == pytest.approx(np.linalg.norm(cam_span), rel=0.05)


@pytest.mark.parametrize("args,msg", [
    (["--person-height", "20", "--person", "largest"], "centimetres"),
    (["--person-height", "1.75", "--person", "largest"], "centimetres"),  # metres
    (["--person-height", "400", "--person", "largest"], "centimetres"),
    (["--person-height", "tall", "--person", "largest"], "person-height"),
    (["--person-height", "175"], "one person's height"),  # --person all (the default) writes everyone
    (["--fov", "wide"], "--fov 'wide'"),
    (["--fov", "0.5"], "between 1 and 170"),
    (["--fov", "auto"], "not a video file"),  # a keypoint file has no frames to find lines in
    (["--fov", "auto", "--focal", "1400"], "one source of the camera's intrinsics"),
])
def test_height_and_fov_mistakes_are_refused_before_any_work(tmp_path, args, msg):
    out = tmp_path / "x.csv"
    r = runner.invoke(app, ["infer", str(DEMO_2D), "-o", str(out), *args])
    assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output, r.output
    assert not out.exists()


@pytest.mark.slow
def test_two_calibrated_views_place_the_person_at_the_same_spot_in_the_world(tmp_path):
    """Consistency between views needs the depth right in metres: a constant, a wrong scale or a wrong frame
    would put the two views' person metres apart (the cameras are ~4 m from the person and from each other)."""
    calib = need(VIDEO / "Calib.qca.txt")
    from pose3d_cli.infer.calibration import load_calibration

    cams = {c.name: c for c in load_calibration(calib)}
    world = {}
    for name in ("cam01", "cam02"):
        out = tmp_path / f"{name}.csv"
        r = runner.invoke(app, ["-q", "infer", str(need(VIDEO / f"{name}.mp4")), "-o", str(out), "--calib", str(calib),
                                "--max-people", "1"])
        assert r.exit_code == 0, r.output
        root = read_infer_output(out).root
        world[name] = (root - cams[name].t) @ cams[name].R  # world = R^T (camera - t)
    d = np.linalg.norm(world["cam01"] - world["cam02"], axis=-1)
    apart = np.linalg.norm((-cams["cam01"].R.T @ cams["cam01"].t) - (-cams["cam02"].R.T @ cams["cam02"].t))
    assert apart > 2000 and np.nanmedian(d) < 300, (np.nanmedian(d), apart)


@pytest.mark.slow
def test_fov_auto_finds_the_calibrated_field_of_view_from_the_scene(tmp_path):
    """pose2sim cam02 was calibrated at 59.7 deg across its long side; the default guess is 65."""
    calib = need(VIDEO / "Calib.qca.txt")
    from pose3d_cli.infer.calibration import load_calibration

    cam = next(c for c in load_calibration(calib) if c.name == "cam02")
    long_side = max(cam.size)
    true_fov = np.degrees(2 * np.arctan(long_side / 2 / (cam.K[0, 0] if cam.size[0] >= cam.size[1] else cam.K[1, 1])))
    out = tmp_path / "cam02.json"
    r = runner.invoke(app, ["infer", str(need(VIDEO / "cam02.mp4")), "-o", str(out), "--fov", "auto",
                            "--max-people", "1"])
    assert r.exit_code == 0, r.output
    meta = json.loads(out.read_text())["metadata"]
    assert meta["fov_auto"]["used"] and abs(meta["fov_auto"]["fov_deg"] - true_fov) < 2.0, (meta["fov_auto"], true_fov)
    assert meta["intrinsics"].startswith(f"fov {meta['fov_auto']['fov_deg']:g} deg")
    said = " ".join(r.output.split())  # the terminal wraps at 80 columns
    assert "--fov auto: field of view" in said
    assert "person 0 is" in said and "m from the camera" in said and "standing height of 1." in said
