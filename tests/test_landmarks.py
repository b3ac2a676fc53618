"""Detector landmarks from mocap joint centres (synth/landmarks.py) and training on them (``train --landmarks``).

Expected values come from the hand-built postures of ``ergo_fk`` (X anterior, Y left, Z up; shank 400, upper arm
280, forearm 250 mm, so the body size, shank + forearm, is 650 mm) and the offsets' stated meaning
(anterior, left, up in the body's frame, in body sizes), not from the module's own frame code.
"""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ergo_fk import camera, posture, to_camera
from pose3d_cli.cli.app import app
from pose3d_cli.skeleton import H36M17
from pose3d_cli.synth.landmarks import BLAZEPOSE_OFFSETS, landmark_shift, to_landmarks

SIZE = 400.0 + 250.0
at = H36M17.index


def test_offsets_follow_the_body_upright():
    P = posture()
    L = to_landmarks(P, H36M17)
    for name, (a, l, u) in BLAZEPOSE_OFFSETS.items():
        np.testing.assert_allclose(L[at(name)] - P[at(name)], SIZE * np.array([a, l, u]), atol=1e-6)
    for name in ("pelvis", "left_knee", "right_ankle", "left_elbow", "right_wrist"):  # not listed: unchanged
        np.testing.assert_array_equal(L[at(name)], P[at(name)])


def test_offsets_follow_the_trunk_when_bent_over_not_the_world_up():
    """Bent 90° forward, the trunk's 'up' is the world's anterior X and its anterior the world's down: the thorax
    landmark moves along X and the nose tip downwards (a world-up offset would move them along Z)."""
    P = posture(trunk_flex=90)
    L = to_landmarks(P, H36M17)
    a, l, u = BLAZEPOSE_OFFSETS["thorax"]
    np.testing.assert_allclose(L[at("thorax")] - P[at("thorax")], SIZE * np.array([u, l, -a]), atol=1e-6)
    a, l, u = BLAZEPOSE_OFFSETS["nose"]
    np.testing.assert_allclose(L[at("nose")] - P[at("nose")], SIZE * np.array([u, l, -a]), atol=1e-6)
    a, l, u = BLAZEPOSE_OFFSETS["left_hip"]
    np.testing.assert_allclose(L[at("left_hip")] - P[at("left_hip")], SIZE * np.array([u, l, -a]), atol=1e-6)


def test_landmarks_turn_with_the_camera_and_scale_with_the_body():
    P = np.stack([posture(trunk_flex=30, arm_flex=(90, 0)), posture(trunk_side=20, pelvis_yaw=40)])
    R = camera(35, 20, 5)
    cam, _ = to_camera(P, R)
    np.testing.assert_allclose(to_landmarks(cam, H36M17), to_landmarks(P, H36M17) @ R.T, atol=1e-6)
    np.testing.assert_allclose(to_landmarks(0.5 * P, H36M17), 0.5 * to_landmarks(P, H36M17), atol=1e-6)


def test_landmark_shift_is_the_move_of_the_normalised_image_point():
    cam, _ = to_camera(posture(), camera())
    cam = cam + np.array([0.0, 0.0, 3000.0])  # 3 m in front of a level camera facing the subject
    shift = landmark_shift(cam[None], H36M17, "blazepose")[0]
    L = cam.copy()
    L[at("thorax")] += SIZE * BLAZEPOSE_OFFSETS["thorax"][2] * np.array([0.0, -1.0, 0.0])  # up is the camera's -y
    j = at("thorax")
    expected = L[j, :2] / L[j, 2] - cam[j, :2] / cam[j, 2]
    np.testing.assert_allclose(shift[j], expected, atol=1e-6)
    assert shift[j, 1] < 0 and abs(shift[j, 0]) < 1e-9  # straight up in the image
    np.testing.assert_array_equal(shift[at("left_knee")], 0.0)


def test_training_on_landmarks_moves_the_2d_and_is_kept_in_the_checkpoint(small_pairs, tmp_path):
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.lifting.checkpoint import read_checkpoint
    from pose3d_cli.train import encode_pairs

    data = load_pairs(small_pairs).split("train")
    root = H36M17.index(H36M17.root)
    plain, moved = encode_pairs(data, root), encode_pairs(data, root, "blazepose")
    shift = torch.from_numpy(landmark_shift(data.joints_3d, data.skeleton, "blazepose"))
    seen = plain.conf > 0
    torch.testing.assert_close(moved.xy[seen], (plain.xy + shift)[seen])
    torch.testing.assert_close(moved.xy_clean, plain.xy_clean + shift)
    torch.testing.assert_close(moved.target, plain.target)  # the 3D stays the joint centres

    base = ["train", str(small_pairs), "--epochs", "1", "--arg", "width=32", "--arg", "blocks=1", "--threads", "1"]
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "lm.pt"), "--landmarks", "blazepose"])
    assert r.exit_code == 0, r.output
    assert read_checkpoint(tmp_path / "lm.pt")["codec"]["landmarks"] == "blazepose"
    from pose3d_cli.lifting.checkpoint import describe_checkpoint

    assert describe_checkpoint(tmp_path / "lm.pt")["2D input"].startswith("blazepose landmarks")
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "v2.pt"), "--init", str(tmp_path / "lm.pt")])
    assert r.exit_code == 0, r.output
    assert read_checkpoint(tmp_path / "v2.pt")["codec"]["landmarks"] == "blazepose"  # an update keeps its inputs
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "x.pt"), "--landmarks", "openpose"])
    assert r.exit_code == 2 and "openpose" in r.output


def test_eval_feeds_a_landmark_model_the_moved_2d(small_pairs, tmp_path, monkeypatch):
    import pose3d_cli.evaluate as ev
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.train import TrainConfig, train
    from pose3d_cli.lifting.checkpoint import load_model

    train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "lm.pt"), epochs=1, input_landmarks="blazepose",
                      model_args={"width": 32, "blocks": 1}, batch_size=512, threads=1))
    data = load_pairs(small_pairs).split("val")
    seen = {}
    monkeypatch.setattr(ev, "run_dataset", lambda fn, rf, causal, xy, conf, ranges: seen.setdefault("xy", xy))
    ev.lift(load_model(tmp_path / "lm.pt"), data, ev.clean_projection(data))
    exact = ev.clean_projection(data)
    from pose3d_cli.lifting.codec import pixels_to_network_input

    xy, conf = pixels_to_network_input(exact.uv, exact.conf, data.K[data.camera_index], None)
    expected = xy + landmark_shift(data.joints_3d, data.skeleton, "blazepose")
    ok = conf > 0
    np.testing.assert_allclose(seen["xy"][ok], expected[ok], atol=1e-5)


def test_a_synthetic_2d_only_source_is_moved_too_and_a_missing_joint_moves_nothing(small_pairs):
    """Under --landmarks a pairs file given as a 2D-only source is synthetic 2D like the pairs, so it is moved as
    they are; a pose missing a joint its frame needs gets no shift (not NaN)."""
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.training.sources import SourceSpec, load_2d_source

    spec = SourceSpec(str(small_pairs), kind="2d")
    plain, moved = load_2d_source(spec, H36M17), load_2d_source(spec, H36M17, "blazepose")
    data = load_pairs(small_pairs).split("train")
    shift = torch.from_numpy(landmark_shift(data.joints_3d, data.skeleton, "blazepose"))
    seen = plain.conf > 0
    torch.testing.assert_close(moved.xy[seen], (plain.xy + shift)[seen])
    P = posture()[None] + np.array([0.0, 0.0, 3000.0])
    P[0, at("left_wrist")] = np.nan
    assert np.all(landmark_shift(P, H36M17, "blazepose") == 0)
