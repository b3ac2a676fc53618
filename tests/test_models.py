"""Every registered model: forward, backward, missing joints, save/load round trip."""

import numpy as np
import pytest
import torch

from pose3d_cli.lifting.checkpoint import make_checkpoint, model_from_checkpoint, read_checkpoint, save_checkpoint
from pose3d_cli.lifting.models import DEFAULT_ARGS, MODELS, build_model, contract_of
from pose3d_cli.skeleton import H36M17

from conftest import fitted

J = H36M17.num_joints
SMALL = {"mlp": {"width": 64, "blocks": 1}, "temporal": {"channels": 32, "filter_widths": [3, 3]},
         "fused": {"width": 64, "blocks": 1}, "blend": {"width": 64, "blocks": 1},
         "nn": {"k": 4, "library": 300, "chunk": 128}}


def make(name):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    return fitted(build_model(name, J, 0, rng.normal(0, 100, (J, 3)), rng.uniform(50, 200, (J, 3)), **SMALL[name]))


def inputs(model, B=4, T=None):
    T = T or model.receptive_field() + 5
    shape = (B,) if model.receptive_field() == 1 else (B, T)
    g = torch.Generator().manual_seed(1)
    return torch.randn(*shape, J, 2, generator=g) * 0.2, torch.rand(*shape, J, generator=g) * 0.5 + 0.5


def test_registry_has_defaults_for_every_model():
    assert set(MODELS) == set(DEFAULT_ARGS) == set(SMALL)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_shapes_and_root(name):
    m = make(name).eval()
    xy, conf = inputs(m)
    out = m(xy, conf)
    rf = m.receptive_field()
    expected = (4, J, 3) if rf == 1 else (4, xy.shape[1] - rf + 1, J, 3)
    assert out.shape == expected
    assert torch.all(out[..., H36M17.index(H36M17.root), :] == 0)  # root-relative
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_backward_reaches_every_parameter(name):
    m = make(name).train()
    xy, conf = inputs(m)
    if not contract_of(m).gradient_steps:  # a library model: nothing to learn by gradients, filled by fit()
        assert list(m.parameters()) == [] and not m(xy, conf).requires_grad
        empty = build_model(name, J, 0, np.zeros((J, 3)), np.ones((J, 3)), **SMALL[name]).eval()
        assert not torch.allclose(empty(xy, conf), m.eval()(xy, conf))  # fit() changed what it predicts
        return
    extra = ()
    if "det3d" in contract_of(m).inputs:  # every input given: the detector-3D path's parameters learn too
        extra = (torch.randn(*xy.shape[:-1], 3) * 100, torch.ones(xy.shape[:-2]))
    m(xy, conf, *extra).square().mean().backward()
    for pname, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", sorted(MODELS))
def test_missing_joint_coordinates_are_ignored(name):
    m = make(name).eval()
    xy, conf = inputs(m)
    conf[..., 13] = 0.0
    a = m(xy, conf)
    xy2 = xy.clone()
    xy2[..., 13, :] += 5.0
    torch.testing.assert_close(m(xy2, conf), a)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(name, tmp_path):
    m = make(name).eval()
    xy, conf = inputs(m)
    ck = make_checkpoint(m, name, {**DEFAULT_ARGS[name], **SMALL[name]}, "h36m17", "pelvis")
    path = save_checkpoint(ck, tmp_path / "m.pt")
    loaded = model_from_checkpoint(read_checkpoint(path), path)
    assert loaded.name == name and loaded.receptive_field == m.receptive_field()
    torch.testing.assert_close(loaded.model(xy, conf), m(xy, conf), rtol=0, atol=0)


def test_temporal_receptive_fields():
    for widths, rf in (([3, 3, 3], 27), ([3, 3, 3, 3], 81), ([3, 3, 3, 3, 3], 243)):
        m = build_model("temporal", J, 0, np.zeros((J, 3)), np.ones((J, 3)), channels=8, filter_widths=widths)
        assert m.receptive_field() == rf
        out = m(torch.zeros(1, rf + 2, J, 2), torch.ones(1, rf + 2, J))
        assert out.shape[1] == 3


@pytest.mark.parametrize("causal", [True, False])
def test_causal_model_ignores_the_future(causal):
    """Through predict_sequence (padded as the contract says): output t moves with frame t + 1 only when the model is
    not causal (changing the last frame of a raw window, as this test did before, moves nothing earlier either way)."""
    from pose3d_cli.lifting.predict import predict_sequence

    m = build_model("temporal", J, 0, np.zeros((J, 3)), np.ones((J, 3)), channels=16, filter_widths=[3, 3],
                    causal=causal).eval()
    rng = np.random.default_rng(0)
    xy, conf = rng.normal(size=(20, J, 2)).astype(np.float32), np.ones((20, J), np.float32)
    t = 10
    xy2 = xy.copy()
    xy2[t + 1] += 1.0  # change only the frame after t
    a, b = predict_sequence(m, xy, conf), predict_sequence(m, xy2, conf)
    if causal:
        np.testing.assert_allclose(a[:t + 1], b[:t + 1])
    assert np.allclose(a[t], b[t]) == causal  # causal: t unchanged; centred: t sees t + 1
    assert not np.allclose(a[t + 1], b[t + 1])
