"""Metrics on hand-made cases."""

import numpy as np
import pytest

from pose3d_cli import metrics
from pose3d_cli.geometry import axis_angle_to_matrix


@pytest.fixture
def pose():
    rng = np.random.default_rng(0)
    return rng.normal(0, 300, size=(17, 3))


def test_mpjpe_of_a_constant_offset_is_its_length(pose):
    assert metrics.mpjpe(pose + [30.0, 40.0, 0.0], pose) == pytest.approx(50.0)


def test_mpjpe_per_joint_mean():
    a = np.zeros((2, 3))
    b = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    assert metrics.mpjpe(a, b) == pytest.approx(2.5)
    np.testing.assert_allclose(metrics.joint_errors(a, b), [5.0, 0.0])


def test_p_mpjpe_removes_a_similarity(pose):
    R = axis_angle_to_matrix(np.array([0.3, -0.5, 0.81]) / np.linalg.norm([0.3, -0.5, 0.81]), 1.1)
    moved = 1.7 * pose @ R.T + [100.0, -20.0, 3000.0]
    assert metrics.p_mpjpe(moved, pose) == pytest.approx(0.0, abs=1e-6)
    assert metrics.mpjpe(moved, pose) > 100


def test_p_mpjpe_never_reflects(pose):
    mirrored = pose * [-1.0, 1.0, 1.0]
    err = metrics.p_mpjpe(mirrored, pose)
    assert err > 10.0  # a reflection would make it 0


def test_n_mpjpe_removes_scale_only(pose):
    assert metrics.n_mpjpe(0.8 * pose, pose) == pytest.approx(0.0, abs=1e-9)
    R = axis_angle_to_matrix(np.array([0, 0, 1.0]), 0.5)
    assert metrics.n_mpjpe(pose @ R.T, pose) > 1.0


def test_pck_and_auc():
    target = np.zeros((4, 3))
    pred = np.array([[0, 0, 0], [100.0, 0, 0], [149.0, 0, 0], [200.0, 0, 0]])
    assert metrics.pck(pred, target) == pytest.approx(0.75)
    # errors 0, 100, 149, 200 against thresholds 0,5,...,150
    t = metrics.AUC_THRESHOLDS_MM
    expected = np.mean([(e <= t).mean() for e in (0, 100, 149, 200)])
    assert metrics.auc(pred, target) == pytest.approx(expected)


def test_batched_shapes(pose):
    batch = np.stack([pose, pose + 10.0, pose * 2])
    assert metrics.mpjpe(batch, batch).shape == (3,)
    assert metrics.p_mpjpe(batch, batch[::-1]).shape == (3,)
    s = metrics.summary(batch, batch)
    assert s["mpjpe"] == 0 and s["pck150"] == 100.0
