"""`pose3d adapt`: bad inputs are refused in one line (exit 2) before any detection or training."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.lifting.checkpoint import default_model_path, read_checkpoint, save_checkpoint
from pose3d_cli.training.adapt import cut_frames
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.skeleton import get_skeleton

runner = CliRunner()


def _site(tmp_path):
    csv = tmp_path / "cam01.csv"
    J = get_skeleton("blazepose33").num_joints
    write_keypoints_csv(KeypointSequence(np.full((3, J, 2), 100.0), np.ones((3, J)), "blazepose33", np.arange(3),
                                         image_size=(640, 480)), csv)
    replay = tmp_path / "r.h5"
    replay.write_bytes(b"")
    return csv, replay


def _one_line_exit_2(r):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert len([l for l in r.output.strip().splitlines() if l.strip()]) == 1, r.output


def test_site_footage_without_intrinsics_is_refused(tmp_path):
    csv, replay = _site(tmp_path)
    r = runner.invoke(app, ["adapt", str(csv), "-o", str(tmp_path / "s.pt"), "--init", str(default_model_path()),
                            "--replay", str(replay)])
    _one_line_exit_2(r)
    assert "intrinsics" in r.output
    assert not (tmp_path / "s.pt").exists() and not (tmp_path / "s_2d").exists()


def test_init_of_another_codec_is_refused(tmp_path):
    csv, replay = _site(tmp_path)
    ck = read_checkpoint(default_model_path())
    ck["codec"] = {**ck.get("codec", {}), "name": "some-other-codec"}
    other = tmp_path / "other.pt"
    save_checkpoint(ck, other)
    r = runner.invoke(app, ["adapt", str(csv), "-o", str(tmp_path / "s.pt"), "--init", str(other),
                            "--replay", str(replay), "--fov", "60"])
    _one_line_exit_2(r)
    assert "codec" in r.output and "some-other-codec" in r.output
    assert not (tmp_path / "s.pt").exists()


def test_frames_keep_the_dev_half_only():
    J = get_skeleton("blazepose33").num_joints
    seq = KeypointSequence(np.zeros((100, J, 2)), np.ones((100, J)), "blazepose33", np.arange(100))
    dev = cut_frames(seq, (0, 50))
    assert dev.frame_indices.tolist() == list(range(50)) and dev.xy.shape[0] == 50
    assert cut_frames(seq, None) is seq
