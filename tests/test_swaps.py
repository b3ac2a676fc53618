"""The whole-track left/right swap decoder of infer (a two-state Viterbi) on projections of real mocap."""

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.geometry import axis_angle_to_matrix, look_at
from pose3d_cli.infer.pipeline import fix_left_right_swaps
from pose3d_cli.skeleton import H36M17
from pose3d_cli.synth.cameras import Camera, intrinsics_from_fov

PERM = H36M17.flip_permutation


@pytest.fixture(scope="module")
def walk():
    from pose3d_cli.mocap.load import load_motions

    m = load_motions(need(MOCAP / "bvh" / "bandai_namco_2" / "dataset-2_walk_normal_001.bvh"))[0]
    return m.joints[::2][:60].astype(np.float64)  # (60, 17, 3) mm, 30 fps


def film(X):
    c = X.reshape(-1, 3).mean(0)
    R, t = look_at(c + [0.0, -5000.0, 300.0], c)
    cam = Camera(intrinsics_from_fov(60, 1080, 1920), np.zeros(5), R, t, (1080, 1920))
    uv = cam.project(cam.world_to_cam(X)).astype(np.float32)
    return uv, np.ones(uv.shape[:2], np.float32)


def facing_camera(X):
    """The walk turned in place so that its pelvis-to-left-hip axis faces the camera's x axis (frontal view)."""
    pelvis = X[:, H36M17.index("pelvis")].mean(0)
    lr = (X[:, H36M17.index("left_hip")] - X[:, H36M17.index("right_hip")]).mean(0)
    ang = np.arctan2(lr[1], lr[0])
    R = axis_angle_to_matrix(np.array([0, 0, 1.0]), np.array(-ang))
    return (X - pelvis) @ R.T + pelvis


def test_a_track_that_starts_swapped_is_repaired(walk):
    uv, conf = film(facing_camera(walk))
    bad = uv.copy()
    bad[:10] = bad[:10][:, PERM]
    fixed, _, n = fix_left_right_swaps(bad, conf, np.ones(60, bool), H36M17)
    assert n == 10
    np.testing.assert_allclose(fixed, uv)


def test_isolated_swaps_and_undetected_frames(walk):
    uv, conf = film(facing_camera(walk))
    bad = uv.copy()
    flips = [5, 6, 30, 31, 32, 50]
    bad[flips] = bad[flips][:, PERM]
    detected = np.ones(60, bool)
    detected[[20, 21, 40]] = False
    fixed, _, n = fix_left_right_swaps(bad, conf, detected, H36M17)
    assert n == len(flips)
    np.testing.assert_allclose(fixed[detected], uv[detected])


def test_a_crossing_during_a_turn_is_kept(walk):
    """The subject turns 180° about the vertical over the clip: left and right cross over in the image."""
    X = facing_camera(walk)
    pelvis = X[:, H36M17.index("pelvis")][:, None]
    ang = np.linspace(0, np.pi, len(X))
    R = axis_angle_to_matrix(np.broadcast_to([0, 0, 1.0], (len(X), 3)), ang)
    turned = np.einsum("tij,tnj->tni", R, X - pelvis) + pelvis
    uv, conf = film(turned)
    lx = uv[:, H36M17.index("left_shoulder"), 0] - uv[:, H36M17.index("right_shoulder"), 0]
    assert np.sign(lx[0]) != np.sign(lx[-1])  # the labels do cross over in the image
    kept, _, n = fix_left_right_swaps(uv, conf, np.ones(60, bool), H36M17)
    assert n == 0
    np.testing.assert_allclose(kept, uv)
