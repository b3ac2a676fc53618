"""Two phones calibrated from the worker they film (`pose3d calibrate`), on hand-made bodies seen by known cameras."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.infer.trajectory import standing_height
from pose3d_cli.multiview.calibration import load_calibration
from pose3d_cli.multiview.selfcal import calibrate_pair
from pose3d_cli.skeleton import get_skeleton
from test_triangulate import blazepose_walk, two_phones

runner = CliRunner()
BP = get_skeleton("blazepose33")


def rotation_deg(R):
    return np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1)))


def relative(ca, cb):
    R = cb.R @ ca.R.T
    return R, cb.t - R @ ca.t


def true_height(X):
    bones = {f"{s}_{c}": float(np.nanmedian(np.linalg.norm(X[:, BP.index(f"{s}_{a}")] - X[:, BP.index(f"{s}_{b}")],
                                                           axis=-1)))
             for s in ("left", "right") for a, b, c in (("hip", "knee", "knee"), ("knee", "ankle", "ankle"),
                                                       ("shoulder", "elbow", "elbow"), ("elbow", "wrist", "wrist"))}
    return standing_height(bones)


def noisy_views(X, rng, late=0, swapped=()):
    cams, uv, conf = two_phones(X)
    uv = uv + rng.normal(0, 2.0, uv.shape)  # a detector's jitter, px
    for t in swapped:  # the second view's labels exchanged in these frames
        uv[1, t] = uv[1, t][BP.flip_permutation]
    if late:
        uv[1] = uv[1][np.clip(np.arange(uv.shape[1]) - late, 0, uv.shape[1] - 1)]
    return cams, uv, conf


def test_the_relative_pose_scale_and_vertical_of_two_phones_come_back():
    """Two phones 80° apart filming a walk (2 px noise, the second view's labels swapped in 6 frames), told the true
    field of view and height: rotation within 1°, baseline direction within 1° and length within 3%; with the
    scene's up given, both cameras' up within 1°. A wrong convention (X_a = R X_b: tried, 1 failure) or a scale from
    the wrong bones would miss these by far; the swapped frames show they do not pull the pose (RANSAC alone already
    drops 10% of mirrored frames)."""
    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(0), swapped=(5, 6, 7, 30, 31, 32))
    up_a = cams[0].R @ np.array([0, 0, 1.0])
    r = calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=0,
                       height_mm=true_height(X), scene_up=lambda K: up_a)
    R, t = relative(*r.cameras)
    Rt, tt = relative(*cams)
    assert rotation_deg(R @ Rt.T) < 1.0
    assert np.degrees(np.arccos(t @ tt / np.linalg.norm(t) / np.linalg.norm(tt))) < 1.0
    assert abs(np.linalg.norm(t) / np.linalg.norm(tt) - 1) < 0.03
    for est, cam in zip(r.cameras, cams):
        up_est, up_true = est.R @ np.array([0, 0, 1.0]), cam.R @ np.array([0, 0, 1.0])
        assert np.degrees(np.arccos(np.clip(up_est @ up_true, -1, 1))) < 1.0
    assert r.offset == 0 and r.bone_cv < 0.05 and "scene lines" in r.up_from


def test_a_second_phone_started_late_is_synchronised():
    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(1), late=3)
    r = calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=8)
    assert r.offset == 3
    R, _ = relative(*r.cameras)
    assert rotation_deg(R @ relative(*cams)[0].T) < 1.5
    assert "body" in r.up_from  # no scene given: the vertical from the triangulated body


def write_views(tmp_path, X, names=("phoneA", "phoneB")):
    cams, uv, conf = noisy_views(X, np.random.default_rng(2))
    files = []
    for k, name in enumerate(names):
        f = tmp_path / f"{name}.csv"
        write_keypoints_csv(KeypointSequence(uv[k], conf[k], "blazepose33", np.arange(len(X)), 30.0, cams[k].size), f)
        files.append(f)
    return cams, files


def test_cli_writes_a_rig_that_triangulate_and_ergo_read(tmp_path):
    X = blazepose_walk(60)
    cams, files = write_views(tmp_path, X)
    rig = tmp_path / "rig.json"
    res = runner.invoke(app, ["calibrate", *map(str, files), "-o", str(rig), "--fov", "65"])
    assert res.exit_code == 0, res.output
    got = load_calibration(rig)
    assert [c.name for c in got] == ["phoneA", "phoneB"]
    assert rotation_deg(relative(*got)[0] @ relative(*cams)[0].T) < 1.5
    meta = json.loads(rig.read_text())
    assert meta["fov_deg"] == 65.0 and "body" in meta["vertical_from"] and meta["sync_offset_frames"] == 0
    out, js = tmp_path / "f.csv", tmp_path / "s.json"
    res = runner.invoke(app, ["ergo", *map(str, files), "--calib", str(rig), "-o", str(out), "--json", str(js)])
    assert res.exit_code == 0 and out.exists(), res.output
    assert any("self-calibration from the worker" in n for n in json.loads(js.read_text())["camera_notes"])


@pytest.mark.parametrize("case, msg", [
    ("three", "calibrate takes two videos"),
    ("txt", "give a file name ending in .json"),
    ("same_name", "both inputs are called"),
    ("input_out", "also an input"),
])
def test_cli_refusals_one_line_nothing_written(tmp_path, case, msg):
    X = blazepose_walk(20)
    _, files = write_views(tmp_path, X)
    out = tmp_path / "rig.json"
    args = [*map(str, files)]
    if case == "three":
        args.append(str(files[0]))
    if case == "txt":
        out = tmp_path / "rig.txt"
    if case == "same_name":
        (tmp_path / "b").mkdir()
        other = tmp_path / "b" / files[0].name
        other.write_bytes(files[1].read_bytes())
        args = [str(files[0]), str(other)]
    if case == "input_out":
        out = files[0]
    before = files[0].read_bytes()
    res = runner.invoke(app, ["calibrate", *args, "-o", str(out)])
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
    assert files[0].read_bytes() == before and (case == "input_out" or not out.exists())


def test_the_body_vertical_points_up_and_the_origin_is_below_the_feet():
    """No scene: up from the body must point up (not down) and the world origin sit at the ankles' height."""
    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(3))
    r = calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=0,
                       height_mm=true_height(X))
    up_est, up_true = r.cameras[0].R[:, 2], cams[0].R[:, 2]
    assert np.degrees(np.arccos(np.clip(up_est @ up_true, -1, 1))) < 10.0  # the walk leans 5°
    ankles = np.concatenate([X[:, BP.index("left_ankle")], X[:, BP.index("right_ankle")]])
    cam_a = r.cameras[0]
    feet_cam = cams[0].R @ np.nanmedian(ankles, axis=0) + cams[0].t  # the true ankles in camera A's frame
    feet_world = cam_a.R.T @ (feet_cam - cam_a.t)  # ... in the estimated world
    assert abs(feet_world[2]) < 50 and np.hypot(*feet_world[:2]) < 300


def test_a_short_baseline_is_never_turned_around():
    """Two phones only 6° apart (1 px noise): the Sampson distance cannot tell t from −t, and the refinement once
    turned the baseline round (found by a review: the body then lay behind both phones with every bone intact, the
    vertical upside down). Whatever comes out must face the truth: the baseline within 5° of its true direction,
    the body in front of both phones, up within 10° — or a refusal, never a reversed rig."""
    from pose3d_cli.errors import Pose3dError

    X = blazepose_walk(60)
    cams, uv, conf = two_phones(X, apart=6.0)
    uv = uv + np.random.default_rng(0).normal(0, 1.0, uv.shape)
    try:
        r = calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=0,
                           height_mm=true_height(X))
    except Pose3dError as e:
        assert "in front of both phones" in str(e)
        return
    R, t = relative(*r.cameras)
    Rt, tt = relative(*cams)
    assert np.degrees(np.arccos(np.clip(t @ tt / np.linalg.norm(t) / np.linalg.norm(tt), -1, 1))) < 5.0
    body = np.nanmedian(X.reshape(-1, 3), axis=0)  # the true body centre, in the estimated world via camera A
    centre_a = cams[0].R @ body + cams[0].t
    for est in r.cameras:
        centre = est.R @ (r.cameras[0].R.T @ (centre_a - r.cameras[0].t)) + est.t
        assert centre[2] > 1000  # in front of each phone (it stands 3.5 m away)
    assert np.degrees(np.arccos(np.clip(r.cameras[0].R[:, 2] @ cams[0].R[:, 2], -1, 1))) < 10.0


def test_no_ankles_in_view_puts_the_origin_at_the_body_not_nan():
    """Filmed from the knees up (ankles, heels and toes never confident) with the scene's up given: the rig must be
    finite (the origin on the floor needs the ankles; it was NaN, and triangulating with that rig crashed)."""
    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(1))
    for n in ("ankle", "heel", "foot_index"):
        for s in ("left", "right"):
            conf[:, :, BP.index(f"{s}_{n}")] = 0.1
    up_a = cams[0].R @ np.array([0, 0, 1.0])
    r = calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=0,
                       height_mm=true_height(X), scene_up=lambda K: up_a)
    for cam in r.cameras:
        assert np.isfinite(cam.R).all() and np.isfinite(cam.t).all()
    assert any("origin" in n for n in r.notes)
    R, t = relative(*r.cameras)
    Rt, tt = relative(*cams)
    assert rotation_deg(R @ Rt.T) < 3.0  # fewer joints than with the feet (1.4° here), still the same pose


def test_a_worker_seen_in_too_few_frames_is_refused():
    """A clip's length counted, not the frames where both views see the worker: 3 seen frames of 60 gave a rig
    (8.9° off on the shared clip) whose bone-length check cannot fail."""
    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(2))
    conf = conf.copy()
    conf[:, 3:] = 0.0  # the worker seen in the first 3 frames only
    with pytest.raises(Exception, match=r"seen by both views in 3 frame\(s\)"):
        calibrate_pair(uv, conf, [c.size for c in cams], BP, ["a", "b"], fov_deg=65.0, max_offset=0)


def test_a_rig_of_videos_named_by_digits_matches_them():
    """calibrate names the cameras after the files: 3.mp4 and 4.mp4 made cameras '3' and '4', and '3.mp4' then
    matched both (the 4 of .mp4)."""
    from pose3d_cli.multiview.calibration import camera_for_video

    cams = [cam for cam in two_phones(blazepose_walk(5))[0]]
    cams[0].name, cams[1].name = "3", "4"
    assert camera_for_video(cams, "clips/3.mp4", "rig.json").name == "3"
    assert camera_for_video(cams, "4.mp4", "rig.json").name == "4"


def test_an_offset_counts_as_clear_only_when_it_beats_no_shift_by_10_percent_in_pixels():
    """The costs are squared distances: 0.9 of the squared cost was a 5% margin in pixels."""
    from pose3d_cli.multiview import selfcal

    X = blazepose_walk(60)
    cams, uv, conf = noisy_views(X, np.random.default_rng(3), late=2)
    K = [selfcal.intrinsics_from_fov(65.0, *c.size) for c in cams]
    xs = [selfcal.pixels_to_normalized(uv[v], K[v]) for v in range(2)]
    R, t = relative(*cams)
    best, clear = selfcal._epipolar_sync(R, t / np.linalg.norm(t), xs[0], xs[1], conf[0], conf[1], 4, K[0][0, 0],
                                         BP.flip_permutation)
    assert best == 2 and clear  # a walk pins the offset down
    still = np.repeat(X[:1], 60, axis=0)  # a worker standing still: no shift fits better than another but by noise
    hits = []
    for seed in range(20):
        cams, uv, conf = noisy_views(still, np.random.default_rng(seed))
        xs = [selfcal.pixels_to_normalized(uv[v], K[v]) for v in range(2)]
        hits.append(selfcal._epipolar_sync(R, t / np.linalg.norm(t), xs[0], xs[1], conf[0], conf[1], 4, K[0][0, 0],
                                           BP.flip_permutation))
    assert sum(b != 0 and c for b, c in hits) == 0, hits  # no noise-made shift passes as clear
