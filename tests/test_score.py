"""Scoring against a reference, on hand-made poses whose figures are derived by hand; the score CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.geometry import axis_angle_to_matrix
from pose3d_cli.infer.readers import read_infer_output
from pose3d_cli.infer.writers import PoseTrack, write_track
from pose3d_cli.multiview.score import (angle_rmse, bone_length_cv, bone_length_ratios, joint_errors,
                                        score_poses, swapped_frames)
from pose3d_cli.skeleton import H36M17

runner = CliRunner()
J = H36M17.index


def tpose() -> np.ndarray:
    """(17, 3) mm, world Z up, facing -Y: a T-pose with straight arms and legs, pelvis at the origin.
    Upper arm 300, forearm 250, thigh 450, shank 420 mm."""
    p = np.zeros((17, 3))
    for side, s in (("left", 1), ("right", -1)):  # the subject's left is +X when facing -Y
        p[J(f"{side}_hip")] = [s * 100, 0, 0]
        p[J(f"{side}_knee")] = [s * 100, 0, -450]
        p[J(f"{side}_ankle")] = [s * 100, 0, -870]
        p[J(f"{side}_shoulder")] = [s * 180, 0, 500]
        p[J(f"{side}_elbow")] = [s * 480, 0, 500]
        p[J(f"{side}_wrist")] = [s * 730, 0, 500]
    p[J("spine")] = [0, 0, 250]
    p[J("thorax")] = [0, 0, 500]
    p[J("nose")] = [0, -50, 600]
    p[J("head")] = [0, 0, 700]
    return p


def test_a_rotated_pose_has_zero_aligned_error_and_a_known_unaligned_one():
    ref = tpose()[None]
    R = axis_angle_to_matrix(np.array([0, 0, 1.0]), np.array(np.deg2rad(30)))
    pred = ref @ R.T  # the same pose turned 30° about the vertical through the pelvis
    limbs = [J(j) for j in ("left_wrist",)]
    assert joint_errors(pred, ref, "procrustes").max() < 1e-9
    assert joint_errors(pred, ref, "rotation", J("pelvis")).max() < 1e-9
    # unaligned (camera = world here): a point at radius r moves by the chord 2 r sin(15°)
    e = joint_errors(pred, ref, "none", J("pelvis"), np.eye(3))
    r = np.hypot(730, 0)
    assert e[0, limbs[0]] == pytest.approx(2 * r * np.sin(np.deg2rad(15)), rel=1e-9)


def test_rotation_only_sees_size_procrustes_does_not():
    ref = tpose()[None]
    pred = 0.8 * ref
    assert joint_errors(pred, ref, "procrustes").max() < 1e-9
    e = joint_errors(pred, ref, "rotation", J("pelvis"))
    # the best rotation of a scaled copy is the identity: each joint is 20% of its distance from the pelvis off
    np.testing.assert_allclose(e[0], 0.2 * np.linalg.norm(ref[0], axis=-1), atol=1e-9)


def test_a_forearm_scaled_by_half_gives_ratio_half():
    ref = np.repeat(tpose()[None], 5, 0)
    pred = ref.copy()
    w, el = J("right_wrist"), J("right_elbow")
    pred[:, w] = pred[:, el] + 0.5 * (pred[:, w] - pred[:, el])
    r = bone_length_ratios(pred, ref, H36M17)
    assert r["forearm_right"] == pytest.approx(0.5) and r["forearm_left"] == pytest.approx(1.0)
    assert r["upper_arm_right"] == pytest.approx(1.0) and r["shank_left"] == pytest.approx(1.0)


def test_bone_length_cv_over_time():
    ref = np.repeat(tpose()[None], 2, 0)
    w, el = J("left_wrist"), J("left_elbow")
    ref[1, w] = ref[1, el] + 1.5 * (ref[1, w] - ref[1, el])  # forearm 250 then 375 mm: mean 312.5, std 62.5
    cv = bone_length_cv(ref, H36M17)
    assert cv["forearm_left"] == pytest.approx(62.5 / 312.5) and cv["forearm_right"] == pytest.approx(0.0)


def test_a_known_elbow_angle_error():
    ref = tpose()[None]
    pred = ref.copy()
    # bend the right elbow by 40°: rotate the forearm about the vertical through the elbow
    el, w = J("right_elbow"), J("right_wrist")
    R = axis_angle_to_matrix(np.array([0, 0, 1.0]), np.array(np.deg2rad(40)))
    pred[0, w] = pred[0, el] + R @ (pred[0, w] - pred[0, el])
    rmse = angle_rmse(pred, ref, H36M17)
    assert rmse["elbow_flexion_right"] == pytest.approx(40.0) and rmse["elbow_flexion_left"] == pytest.approx(0.0)
    assert rmse["knee_flexion_left"] == pytest.approx(0.0)


def test_swapped_sides_are_found_only_where_they_are():
    ref = np.repeat(tpose()[None], 6, 0)
    ref[:, J("left_wrist")] += [0, -200, 0]  # asymmetric, so that a swap is visible
    pred = ref.copy()
    pred[2:4] = pred[2:4][:, H36M17.flip_permutation]
    idx = list(range(17))
    assert list(swapped_frames(pred, ref, H36M17, idx, J("pelvis"), np.eye(3))) == [False, False, True, True, False, False]
    res = score_poses(pred, ref, H36M17, R_cam=np.eye(3))
    assert res["swapped_frames"] == 2 and res["frames_in"]["not_swapped"] == 4
    assert res["mpjpe"]["mpjpe_unaligned"]["not_swapped"] == pytest.approx(0.0, abs=1e-9)
    assert res["mpjpe"]["mpjpe_unaligned"]["all"] > 50


def test_score_poses_leaves_out_missing_frames_and_uses_the_camera():
    ref = np.repeat(tpose()[None], 4, 0)
    R = axis_angle_to_matrix(np.array([1.0, 0, 0]), np.array(np.deg2rad(-90)))  # world Z up → camera -y
    pred = ref @ R.T
    pred[1] = np.nan
    res = score_poses(pred, ref, H36M17, R_cam=R)
    assert res["frames"] == 3 and res["frames_left_out"] == 1
    for k in ("p_mpjpe", "mpjpe_rotation", "mpjpe_unaligned"):
        assert res["mpjpe"][k]["all"] == pytest.approx(0.0, abs=1e-9)
    wrong = score_poses(pred, ref, H36M17, R_cam=np.eye(3))  # the wrong camera: only the unaligned error sees it
    assert wrong["mpjpe"]["mpjpe_unaligned"]["all"] > 100 and wrong["mpjpe"]["p_mpjpe"]["all"] < 1e-6


# ---------------------------------------------------------------------------------------------- files and CLI


def write_reference_files(tmp_path, T=20):
    """A reference npz with one camera 'cam01' (offset +2) and an infer CSV in that camera's frame."""
    ref = np.repeat(tpose()[None], T, 0) + np.array([0, 0, 950.0])
    ref[:, J("left_wrist"), 1] += 10 * np.arange(T)[:, None].ravel()  # moving, so the offset matters
    R = axis_angle_to_matrix(np.array([1.0, 0, 0]), np.array(np.deg2rad(-90)))
    path = tmp_path / "ref.npz"
    np.savez(path, joints=ref.astype(np.float32), names=np.array(H36M17.joints), fps=np.float64(30), units="mm",
             up="z", frame=np.arange(T), camera_names=np.array(["cam01"]), sync_offsets=np.array([2]),
             cam_K=np.eye(3)[None], cam_dist=np.zeros((1, 5)), cam_R=R[None], cam_t=np.zeros((1, 3)),
             cam_size=np.array([[1080, 1920]]), swapped_2d=np.zeros((1, T), bool))
    # the prediction: frame f + 2 of the video shows reference frame f
    pelvis = ref[:, J("pelvis")][:, None]
    cam = (ref - pelvis) @ R.T
    pred = np.full((T, 17, 3), np.nan)
    pred[2:] = cam[:-2]
    det = np.isfinite(pred).all((1, 2))
    track = PoseTrack(np.arange(T), np.arange(T) / 30, det, pred.astype(np.float32), np.zeros((T, 17, 2)),
                      np.ones((T, 17)), H36M17.joints, {"skeleton": "h36m17"})
    csv = tmp_path / "pose3d_cam01.csv"
    write_track(track, csv, "csv")
    js = tmp_path / "pose3d_cam01.json"
    write_track(track, js, "json")
    return path, csv, js


def test_infer_outputs_read_back(tmp_path):
    _, csv, js = write_reference_files(tmp_path)
    a, b = read_infer_output(csv), read_infer_output(js)
    assert a.skeleton == b.skeleton == "h36m17" and a.joints3d.shape == (20, 17, 3)
    np.testing.assert_allclose(a.joints3d, b.joints3d, atol=0.01, equal_nan=True)
    assert not a.detected[:2].any() and a.detected[2:].all()
    bom = tmp_path / "saved_by_a_spreadsheet.csv"  # a UTF-8 BOM before 'frame' made it 'not a pose3d infer CSV'
    bom.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    np.testing.assert_array_equal(read_infer_output(bom).joints3d, a.joints3d)


def test_cli_score_aligns_by_the_sync_offset_and_writes_json(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    out = tmp_path / "s.json"
    r = runner.invoke(app, ["score", str(csv), str(ref), "--json", str(out), "--frames", "0:15"])
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert res["camera"] == "cam01" and res["sync_offset"] == 2 and res["frames"] == 15
    assert res["mpjpe"]["mpjpe_unaligned"]["all"] < 0.05 and res["mpjpe"]["p_mpjpe"]["all"] < 0.05
    assert "P-MPJPE" in r.output


def test_cli_score_refuses_another_skeleton_and_unknown_cameras(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    other = tmp_path / "coco.npz"
    np.savez(other, joints=np.zeros((20, 17, 3)), names=np.array([f"j{i}" for i in range(17)]), fps=30.0)
    out = tmp_path / "s.json"
    for args, want in (([str(csv), str(other)], "not the prediction's"),
                       ([str(csv), str(ref), "--camera", "cam09"], "no camera 'cam09'")):
        r = runner.invoke(app, ["score", *args, "--json", str(out)])
        assert r.exit_code == 2, r.output
        assert want in r.output and "Traceback" not in r.output
        assert not out.exists()
    renamed = tmp_path / "worker.csv"
    renamed.write_text(csv.read_text())
    r = runner.invoke(app, ["score", str(renamed), str(ref)])
    assert r.exit_code == 0, r.output  # a reference with a single camera: that camera


def test_cli_score_refuses_what_would_score_the_wrong_rows(tmp_path):
    """A frame number written twice (the last row silently won), and a --calib camera the synchronised reference
    does not know (its offset silently became 0: 74 mm where the truth is 0)."""
    import json as js

    ref, csv, _ = write_reference_files(tmp_path)
    lines = csv.read_text().splitlines()
    twice = tmp_path / "pose3d_cam01_twice.csv"
    twice.write_text("\n".join(lines + [lines[-1]]) + "\n")
    r = runner.invoke(app, ["score", str(twice), str(ref)])
    assert r.exit_code == 2 and "appears 2 times" in r.output, r.output
    R = axis_angle_to_matrix(np.array([1.0, 0, 0]), np.array(np.deg2rad(-90)))
    rig = tmp_path / "rig.json"
    rig.write_text(js.dumps({"cameras": [{"name": "camB", "K": np.eye(3).tolist(), "R": R.tolist(), "t": [0, 0, 0],
                                          "size": [1080, 1920]}]}))
    r = runner.invoke(app, ["score", str(csv), str(ref), "--calib", str(rig), "--camera", "camB"])
    assert r.exit_code == 2 and "offset is unknown" in r.output, r.output


def test_cli_score_says_which_reference_frames_the_prediction_lacks(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)  # offset +2: reference frames 18, 19 are past the video's end
    lines = csv.read_text().splitlines()
    short = tmp_path / "pose3d_cam01_short.csv"  # and the last 5 frames cut off
    short.write_text("\n".join(lines[:len(lines) - 5]) + "\n")
    out = tmp_path / "s.json"
    for pred, lacking in ((csv, 2), (short, 7)):
        r = runner.invoke(app, ["score", str(pred), str(ref), "--json", str(out)])
        assert r.exit_code == 0, r.output
        assert json.loads(out.read_text())["reference_frames_without_prediction"] == lacking
        assert f"{lacking} reference frames" in r.output and "have no row" in r.output


def test_infer_detector_3d_writes_mediapipe_world_landmarks_that_score_reads(tmp_path):
    from conftest import DATA, need

    video = need(DATA / "video" / "pose2sim_single_person" / "cam01.mp4")
    out = tmp_path / "mediapipe_cam01.csv"
    r = runner.invoke(app, ["-q", "infer", str(video), "--detector-3d", "--angles", "-o", str(out)])
    assert r.exit_code == 0, r.output
    res = read_infer_output(out)
    ok = res.detected
    # --angles with --detector-3d wrote none (exit 0): against the video's own vertical, as for the lift
    import csv as csv_module

    with open(out, newline="") as fh:
        rows = [r for r in csv_module.DictReader(fh) if r["person"] == "0"]
    trunk = np.array([float(r["trunk_flexion_deg"] or "nan") for r in rows])
    assert np.isfinite(trunk[ok]).mean() > 0.9, trunk
    assert ok.sum() >= 95 and res.skeleton == "h36m17"
    np.testing.assert_allclose(res.joints3d[ok][:, J("pelvis")], 0.0, atol=0.01)
    thigh = np.linalg.norm(res.joints3d[ok][:, J("left_hip")] - res.joints3d[ok][:, J("left_knee")], axis=-1)
    assert 250 < np.median(thigh) < 600  # metric: MediaPipe's world landmarks are in metres, written in mm


def test_cli_score_of_a_two_person_output_scores_person_0_and_says_so(tmp_path):
    """An infer CSV of two people (the worker, id 0, and a bystander, id 1, 1 m off and bent): person 0 is the one
    scored (its error stays ~0 where the bystander's would not) and the terminal says which person of how many."""
    from dataclasses import replace

    from pose3d_cli.infer.people_writers import write_people
    from pose3d_cli.infer.readers import read_infer_output as read

    ref, csv1, _ = write_reference_files(tmp_path)
    worker = read(csv1)
    T = len(worker.frame)
    track = PoseTrack(worker.frame, worker.time_s, worker.detected, worker.joints3d, np.zeros((T, 17, 2)),
                      np.ones((T, 17)), H36M17.joints, {"skeleton": "h36m17", "person": 0})
    other = replace(track, joints3d=track.joints3d * np.array([1.0, 0.6, 1.4], np.float32),
                    metadata={"skeleton": "h36m17", "person": 1})
    two = tmp_path / "two" / "pose3d_cam01.csv"
    two.parent.mkdir()
    write_people([track, other], two, "csv")
    out = tmp_path / "s.json"
    r = runner.invoke(app, ["score", str(two), str(ref), "--json", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert res["person"] == 0 and res["people_in_prediction"] == 2
    assert res["mpjpe"]["p_mpjpe"]["all"] < 0.05 and "person 0" in r.output and "2 people" in r.output
