"""The fused lifter: the measured detector-3D error model, its simulator, the codec's optional input, the model."""

import json

import numpy as np
import pytest
import torch

from pose3d_cli.lifting.codec import detector3d_to_network_input
from pose3d_cli.lifting.detector3d_sim import ERROR_MODEL, Detector3DError, load_error_model, simulate_detector3d
from pose3d_cli.lifting.models import build_model
from pose3d_cli.skeleton import H36M17

J = H36M17.num_joints
I = H36M17.index


def upright_pose() -> np.ndarray:
    """(1, J, 3) camera frame (y down): trunk straight up (−y), shoulders along +x."""
    p = np.zeros((1, J, 3))
    p[0, I("thorax")] = (0, -500, 0)
    p[0, I("left_shoulder")] = (150, -480, 0)
    p[0, I("right_shoulder")] = (-150, -480, 0)
    p[0, I("left_wrist")] = (300, -200, 100)
    return p


def zero_error(**kw) -> Detector3DError:
    e = dict(joints=H36M17.joints, bias=np.zeros((J, 3)), spread=np.zeros((J, 3)), depth_scale=1.0, swap_rate=0.0)
    e.update(kw)
    return Detector3DError(**e)


def test_error_model_file_is_measured_and_documented():
    d = json.loads(ERROR_MODEL.read_text())
    assert "0:50" in d["how"] and "DEV" in d["how"]  # measured on the dev split only
    assert d["frames_used"] > 100 and d["joints"] == list(H36M17.joints)
    e = load_error_model()
    assert e.bias.shape == e.spread.shape == (J, 3)
    assert np.all(e.spread[[I(n) for n in H36M17.joints if n != "pelvis"]] > 5)  # a real detector is noisy
    assert 0.3 < e.depth_scale < 1.5 and 0 <= e.swap_rate < 0.5


def test_the_measured_error_model_gives_back_the_simulated_one():
    """The benchmark's measurement is the simulator's inverse: simulated with a known bias, spread and depth scale, the
    detector 3D measures to the same model. (Bias and spread were measured on the raw error, which holds the depth
    compression already, and the simulator scaled depth again: the simulated slope came out 0.66 for 0.73.)"""
    from pose3d_cli.geometry import axis_angle_to_matrix
    from pose3d_cli.lifting.detector3d_sim import measure_error_model

    rng = np.random.default_rng(0)
    base = upright_pose()[0].copy()
    for n in H36M17.joints:  # a whole body, so every joint has a place (the helper sets a few)
        if not base[I(n)].any() and n != "pelvis":
            base[I(n)] = rng.normal(0, 300, 3)
    N = 4000
    yaw = axis_angle_to_matrix(np.tile([0.0, 1.0, 0.0], (N, 1)), rng.uniform(-np.pi, np.pi, N))  # about camera y
    truth = np.einsum("nij,kj->nki", yaw, base) + rng.normal(0, 30, (N, J, 3))
    truth -= truth[:, :1]
    bias = rng.normal(0, 25, (J, 3))
    bias[0] = 0
    spread = np.full((J, 3), 12.0)
    spread[0] = 0
    model = zero_error(bias=bias, spread=spread, depth_scale=0.7)
    det, _ = simulate_detector3d(truth, np.random.default_rng(1), model, dropout=0)
    got = measure_error_model(det, truth)
    assert got["depth_scale"] == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(got["bias_mm"], bias, atol=2.5)
    np.testing.assert_allclose(got["spread_mm"][1:], spread[1:], atol=2.5)


def test_bias_is_applied_in_the_trunk_frame():
    bias = np.zeros((J, 3))
    bias[I("left_wrist")] = (10, 20, 30)  # anterior, left, up
    det, present = simulate_detector3d(upright_pose(), np.random.default_rng(0), zero_error(bias=bias), dropout=0)
    # by hand: up = −y, left = +x, anterior = left × up = (1,0,0) × (0,−1,0) = (0,0,−1)
    expected = upright_pose()[0, I("left_wrist")] + np.array([20, -30, -10])
    assert present.all()
    np.testing.assert_allclose(det[0, I("left_wrist")], expected, atol=1e-3)
    np.testing.assert_allclose(det[0, I("thorax")], upright_pose()[0, I("thorax")], atol=1e-3)


def test_depth_scale_swaps_and_dropout():
    p = upright_pose()
    det, _ = simulate_detector3d(p, np.random.default_rng(0), zero_error(depth_scale=0.5), dropout=0)
    assert det[0, I("left_wrist"), 2] == pytest.approx(50.0) and det[0, I("left_wrist"), 0] == pytest.approx(300.0)
    many = np.repeat(p, 2000, axis=0)
    det, present = simulate_detector3d(many, np.random.default_rng(1), zero_error(swap_rate=1.0), dropout=0.25)
    assert abs((~present).mean() - 0.25) < 0.04
    assert np.all(det[~present] == 0)
    np.testing.assert_allclose(det[present][:, I("right_shoulder")], np.tile(p[0, I("left_shoulder")], (present.sum(), 1)),
                               atol=1e-3)  # every present sample swapped sides
    rng = np.random.default_rng(2)
    det, _ = simulate_detector3d(many, rng, zero_error(spread=np.full((J, 3), 40.0)), dropout=0)
    err = det[:, I("left_wrist")] - p[0, I("left_wrist")]
    assert 35 < err.std(0).mean() < 45  # the root gets no noise (errors are root-relative), so none is added twice


def test_codec_masks_absent_and_nan_rows():
    det, mask = detector3d_to_network_input(None, None, (4, J))
    assert det.shape == (4, J, 3) and np.all(det == 0) and np.all(mask == 0)
    x = np.ones((3, J, 3))
    x[1, 5] = np.nan
    det, mask = detector3d_to_network_input(x, np.array([True, True, False]), (3, J))
    assert mask.tolist() == [1, 0, 0] and np.all(det[1:] == 0) and np.all(det[0] == 1)


def test_fused_model_uses_the_detector_input_only_when_present():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    m = build_model("fused", J, 0, rng.normal(0, 100, (J, 3)), rng.uniform(50, 200, (J, 3)), width=64, blocks=1).eval()
    xy, conf = torch.randn(5, J, 2) * 0.2, torch.ones(5, J)
    det = torch.randn(5, J, 3) * 200
    none = m(xy, conf)
    masked = m(xy, conf, det, torch.zeros(5))
    torch.testing.assert_close(none, masked)  # absent = masked: masked coordinates never leak
    present = m(xy, conf, det, torch.ones(5))
    assert (present - none).abs().max() > 1.0
    assert "det3d" in m.contract().inputs


def test_detector_3d_follows_the_swap_fix():
    """Frames whose 2D the swap fix relabels get the detector's 3D relabelled too (it carries its 2D's labels):
    a fused lifter must not see a 2D and a 3D that disagree on which arm is the left one."""
    from pose3d_cli.infer.detector3d import detector_world_joints
    from pose3d_cli.infer.pipeline import Track2D, fix_left_right_swaps
    from pose3d_cli.skeleton import get_skeleton

    bp = get_skeleton("blazepose33")
    T = 12
    rng = np.random.default_rng(3)
    base = rng.normal(0, 1, (bp.num_joints, 3))
    base[[bp.index(n) for n in bp.joints if n.startswith("left_")], 0] += 300.0  # left is +x in the world
    world = np.repeat(base[None], T, 0) * 10 + np.linspace(0, 5, T)[:, None, None]
    uv = np.repeat(rng.uniform(100, 200, (bp.num_joints, 2))[None], T, 0)
    uv[:, [bp.index(n) for n in bp.joints if n.startswith("left_")], 0] += 150.0  # left is +u in the image
    uv += np.linspace(0, 3, T)[:, None, None]
    perm = bp.flip_permutation
    uv[4:7] = uv[4:7][:, perm]  # the detector swapped sides in frames 4-6 (2D and 3D alike)
    world[4:7] = world[4:7][:, perm]
    conf = np.ones((T, bp.num_joints), np.float32)
    track = Track2D(np.arange(T), np.arange(T) / 30.0, uv.astype(np.float32), conf, "blazepose33", 30.0, (640, 480),
                    "clip.mp4", "test", world.astype(np.float32))
    sk = get_skeleton("h36m17")
    from pose3d_cli.skeleton import convert

    uv17, c17 = convert(track.uv, "blazepose33", sk, conf)
    fixed, _, n = fix_left_right_swaps(uv17, c17, np.ones(T, bool), sk)
    swapped = (fixed != uv17).any(axis=(1, 2))
    assert n == 3 and swapped.tolist() == [False] * 4 + [True] * 3 + [False] * 5
    det = detector_world_joints(track, "h36m17", swapped)
    lw, rw = sk.index("left_wrist"), sk.index("right_wrist")
    assert np.all(det[:, lw, 0] > det[:, rw, 0])  # every frame: the left wrist on the left (+x) again
    raw = detector_world_joints(track, "h36m17")
    assert np.all(raw[4:7, lw, 0] < raw[4:7, rw, 0])  # without the relabelling those frames disagree
