"""Bad multi-view inputs found by a sweep (stop 27): each refused in one line, exit 2, before any work, nothing
written — calibration values no camera can have, camera names matched inside other words, one file given for two
views, views at different frame rates, 2D whose declared image size is rotated, an existing file of another kind
as the output, and options that cannot apply to a reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.errors import Pose3dError
from pose3d_cli.multiview.calibration import camera_for_video, load_calibration, names_in
from pose3d_cli.synth.cameras import save_rig
from test_triangulate import keypoint_files, ring, walk  # noqa: F401  (walk is a fixture)

runner = CliRunner()


def one_line_refusal(r, want: str, out) -> None:
    assert r.exit_code == 2, r.output
    assert want in r.output and "Traceback" not in r.output, r.output
    assert len([ln for ln in r.output.strip().splitlines() if ln.strip()]) <= 3  # one message (rich may wrap it)
    assert not out.exists()


def edit_rig(rig, camera: int, key: str, value) -> None:
    data = json.loads(rig.read_text())
    data["cameras"][camera][key] = value
    rig.write_text(json.dumps(data))


NAN = float("nan")
BAD_CAMERAS = {  # key, value for the second camera, what the message says
    "K_nan": ("K", [[NAN, 0, 540], [0, 1500, 960], [0, 0, 1]], "not a number"),
    "focal_zero": ("K", [[0, 0, 540], [0, 0, 960], [0, 0, 1]], "focal lengths must be positive"),
    "K_last_row": ("K", [[1500, 0, 540], [0, 1500, 960], [0, 1, 1]], "not an intrinsic matrix"),
    "dist_nan": ("dist", [NAN, 0, 0, 0, 0], "distortion"),
    "R_not_rotation": ("R", [[5, 0, 0], [0, 1, 0], [0, 0, 1]], "not a rotation"),
    "t_nan": ("t", [NAN, 0, 4000], "translation"),
    "size_zero": ("size", [0, 0], "image size must be positive"),
    "same_name": ("name", "cam01", "both called 'cam01'"),
}


@pytest.mark.parametrize("case", [*BAD_CAMERAS, "same_place"])
def test_a_calibration_with_impossible_values_is_refused_naming_the_camera(tmp_path, walk, case):
    rig, files = keypoint_files(tmp_path, walk)
    if case == "same_place":
        data = json.loads(rig.read_text())
        data["cameras"][1]["R"], data["cameras"][1]["t"] = data["cameras"][0]["R"], data["cameras"][0]["t"]
        rig.write_text(json.dumps(data))
        want = "sit at the same place"
    else:
        key, value, want = BAD_CAMERAS[case]
        edit_rig(rig, 1, key, value)
    out = tmp_path / "ref.npz"
    one_line_refusal(runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)]), want, out)
    if case not in ("same_place", "same_name"):
        assert "'cam02'" in runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)]).output


def test_camera_names_match_whole_words_only():
    """A camera called A is not in 'cam02' (it was: substring matching scored a view with the wrong camera), cam1 is
    not in cam10, and a file naming two cameras is refused rather than given one of them."""
    assert names_in("cam1", "worker_cam1.mp4") and names_in("cam02", "cam02b_2d.csv")
    assert not names_in("a", "cam02.csv") and not names_in("cam1", "cam10.mp4")
    cams = ring(np.zeros((2, 17, 3)) + np.array([0, 0, 1000.0]), 4)
    for c, n in zip(cams, "ABCD"):
        c.name = n
    with pytest.raises(Pose3dError, match="matches no camera"):
        camera_for_video(cams, "cam02.csv")
    for c, n in zip(cams, ("cam01", "cam02", "cam03", "cam04")):
        c.name = n
    assert camera_for_video(cams, "pose3d_cam02.csv").name == "cam02"
    with pytest.raises(Pose3dError, match="matches cameras"):
        camera_for_video(cams, "cam02_cam03.csv")


def test_one_file_for_two_views_is_refused(tmp_path, walk):
    rig, files = keypoint_files(tmp_path, walk)
    out = tmp_path / "ref.npz"
    r = runner.invoke(app, ["triangulate", files[0], files[0], "--cameras", "cam01,cam02", "--calib", str(rig),
                            "-o", str(out)])
    one_line_refusal(r, "the same file as", out)


def test_views_at_different_frame_rates_are_refused(tmp_path, walk):
    rig, files = keypoint_files(tmp_path, walk)  # 50 fps each
    cams = load_calibration(rig)
    uv = np.stack([c.project(c.world_to_cam(walk)) for c in cams])
    write_keypoints_csv(KeypointSequence(uv[1], np.ones(uv.shape[1:3]), "h36m17", np.arange(len(walk)), 25.0,
                                         cams[1].size), files[1])
    out = tmp_path / "ref.npz"
    one_line_refusal(runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)]),
                     "the same frame rate", out)


def test_2d_whose_declared_size_is_rotated_is_refused(tmp_path, walk):
    """The calibration says portrait 1080x1920; a 2D file that says landscape 1920x1080 over portrait keypoints was
    triangulated as if its size were right (its own header was overridden by the calibration's)."""
    rig, files = keypoint_files(tmp_path, walk)
    cams = load_calibration(rig)
    uv = cams[0].project(cams[0].world_to_cam(walk))
    write_keypoints_csv(KeypointSequence(uv, np.ones(uv.shape[:2]), "h36m17", np.arange(len(walk)), 50.0,
                                         (1920, 1080)), files[0])
    out = tmp_path / "ref.npz"
    r = runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert ("outside its 1920x1080 image" in r.output or "calibrated at" in r.output) and not out.exists()


def test_an_existing_file_of_another_kind_is_not_overwritten(tmp_path, walk):
    rig, files = keypoint_files(tmp_path, walk)
    out = tmp_path / "ref.npz"
    out.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))  # an mp4 renamed .npz
    before = out.read_bytes()
    r = runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)])
    assert r.exit_code == 2 and "holds a video" in r.output, r.output
    assert out.read_bytes() == before


def test_ergo_refuses_options_a_reference_has_no_use_for(tmp_path, walk):
    rig, files = keypoint_files(tmp_path, walk)
    ref = tmp_path / "ref.npz"
    assert runner.invoke(app, ["-q", "triangulate", *files, "--calib", str(rig), "-o", str(ref)]).exit_code == 0
    out = tmp_path / "frames.csv"
    one_line_refusal(runner.invoke(app, ["ergo", str(ref), "-o", str(out), "--max-people", "2"]), "--max-people",
                     out)
    one_line_refusal(runner.invoke(app, ["ergo", str(ref), "-o", str(out), "--fps", "30"]), "records 50", out)
    r = runner.invoke(app, ["-q", "ergo", str(ref), "-o", str(out), "--fps", "50"])  # the same rate: nothing to refuse
    assert r.exit_code == 0, r.output


def test_the_saved_rig_round_trips_through_the_checks(tmp_path, walk):
    """Every camera a rig can legitimately hold passes (the checks refuse only impossible values)."""
    cams = ring(walk, 4)
    save_rig(cams, tmp_path / "rig.json")
    assert [c.name for c in load_calibration(tmp_path / "rig.json")] == [c.name for c in cams]
