"""The plain-torch AdamW + one-cycle schedule equals torch.optim.AdamW + OneCycleLR bit for bit (training, the
learning rate logged, resume from either's state dict), and skips parameters without a gradient as torch does."""

import numpy as np
import pytest
import torch

from pose3d_cli.lifting.models import build_model
from pose3d_cli.skeleton import H36M17
from pose3d_cli.training.optim import AdamW, OneCycle

J = H36M17.num_joints


def _model(seed=0):
    torch.manual_seed(seed)
    m = build_model("mlp", J, 0, np.zeros((J, 3)), np.full((J, 3), 100.0), width=32, blocks=1, dropout=0.1)
    m.extra = torch.nn.Parameter(torch.ones(3))  # never in the loss: no gradient, no state
    return m


def _data(steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(64, J, 2, generator=g) * 0.2, torch.rand(64, J, generator=g),
             torch.randn(64, J, 3, generator=g) * 200) for _ in range(steps)]


def _run(model, opt, sched, data, seed=5):
    torch.manual_seed(seed)  # dropout draws
    lrs = []
    for xy, conf, target in data:
        opt.zero_grad(set_to_none=True)
        loss = (model(xy, conf) - target).norm(dim=-1).mean()
        loss.backward()
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return lrs


def _torch_pair(model, lr, total, wd):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.15,
                                                    div_factor=10.0, final_div_factor=100.0)


def _ours(model, lr, total, wd):
    opt = AdamW(model.parameters(), lr=lr, weight_decay=wd)
    return opt, OneCycle(opt, max_lr=lr, total_steps=total, pct_start=0.15, div_factor=10.0, final_div_factor=100.0)


@pytest.mark.parametrize("total,wd", [(40, 1e-4), (7, 0.0), (1, 1e-2)])
def test_bit_identical_to_torch(total, wd):
    data = _data(total)
    a, b = _model(), _model()
    lr_a = _run(a, *_torch_pair(a, 3e-3, total, wd), data)
    lr_b = _run(b, *_ours(b, 3e-3, total, wd), data)
    assert lr_a == lr_b
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(pa, pb), name
    assert torch.equal(b.extra, torch.ones(3))  # no gradient: untouched (weight decay too)


def test_resume_from_ours_and_from_torchs_state_dicts():
    total, data = 30, _data(30)
    ref = _model()
    _run(ref, *_ours(ref, 2e-3, total, 1e-4), data)
    for first in (_torch_pair, _ours):  # a .last.pt written before this module holds torch's state dicts
        m = _model()
        opt, sched = first(m, 2e-3, total, 1e-4)
        _run(m, opt, sched, data[:12])
        o, s = opt.state_dict(), sched.state_dict()
        m2 = _model(seed=9)
        m2.load_state_dict(m.state_dict())
        opt2, sched2 = _ours(m2, 2e-3, total, 1e-4)
        opt2.load_state_dict(o)
        sched2.load_state_dict(s)
        torch.manual_seed(0)
        _run(m2, opt2, sched2, data[12:], seed=77)
        # the same remaining steps from the uninterrupted run's point of view: replay it with the same dropout seed
        m3 = _model()
        opt3, sched3 = _ours(m3, 2e-3, total, 1e-4)
        _run(m3, opt3, sched3, data[:12])
        _run(m3, opt3, sched3, data[12:], seed=77)
        for p2, p3 in zip(m2.parameters(), m3.parameters()):
            assert torch.equal(p2, p3), first.__name__


def test_schedule_refuses_steps_beyond_its_end_and_another_length():
    m = _model()
    opt, sched = _ours(m, 1e-3, 3, 0.0)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError):
        sched.step()
    other = OneCycle(AdamW(m.parameters(), lr=1e-3), max_lr=1e-3, total_steps=5)
    with pytest.raises(ValueError):
        other.load_state_dict(sched.state_dict())


def test_state_survives_a_weights_only_round_trip_and_zero_grad_keeps_buffers(tmp_path):
    """What a .last.pt holds is read back with torch.load(weights_only=True) (no pickle of code); the
    discriminator's torch.optim.Adam state (older files) loads too; zero_grad(set_to_none=False) zeroes in place."""
    total, data = 10, _data(10)
    m = _model()
    opt, sched = _ours(m, 1e-3, total, 1e-4)
    _run(m, opt, sched, data[:4])
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.pt")
    back = torch.load(tmp_path / "s.pt", weights_only=True)
    opt2 = AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4)
    opt2.load_state_dict(back["opt"])
    assert opt2.state.keys() == opt.state.keys() and opt2.lr == opt.lr and opt2.betas == opt.betas
    assert all(torch.equal(opt2.state[i][k], opt.state[i][k]) for i in opt.state for k in ("exp_avg", "exp_avg_sq"))
    disc = torch.nn.Linear(4, 2)
    adam = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    disc(torch.randn(3, 4)).sum().backward()
    adam.step()
    ours = AdamW(disc.parameters(), lr=1e-3, betas=(0.5, 0.999), weight_decay=0.0)
    ours.load_state_dict(adam.state_dict())
    assert ours.state[0]["step"] == 1.0 and ours.betas == (0.5, 0.999)
    with pytest.raises(ValueError, match="parameters"):
        AdamW(m.parameters(), lr=1e-3).load_state_dict(adam.state_dict())
    ours.zero_grad(set_to_none=False)
    assert disc.weight.grad is not None and not disc.weight.grad.any()
