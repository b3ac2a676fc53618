"""The torch geometry equals the numpy geometry on random inputs, and is differentiable (gradcheck, float64)."""

import numpy as np
import pytest
import torch

from pose3d_cli import geometry as npg
from pose3d_cli.lifting import torch_geometry as tg


def random_rotation(rng, n):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def cameras(rng, n):
    K = np.zeros((n, 3, 3))
    K[:, 0, 0] = rng.uniform(500, 1500, n)
    K[:, 1, 1] = K[:, 0, 0] * rng.uniform(0.98, 1.02, n)
    K[:, 0, 1] = rng.uniform(-2, 2, n)
    K[:, 0, 2], K[:, 1, 2] = rng.uniform(300, 700, n), rng.uniform(200, 500, n)
    K[:, 2, 2] = 1
    dist = np.stack([rng.uniform(-0.3, 0.3, n), rng.uniform(-0.1, 0.1, n), rng.uniform(-0.01, 0.01, n),
                     rng.uniform(-0.01, 0.01, n), rng.uniform(-0.05, 0.05, n)], -1)
    return K, dist


@pytest.mark.parametrize("with_dist", [False, True])
def test_project_equals_numpy(with_dist):
    rng = np.random.default_rng(0)
    B, J = 50, 17
    pts = rng.normal(0, 400, (B, J, 3)) + np.array([0, 0, 4000.0])
    K, dist = cameras(rng, B)
    d = dist if with_dist else None
    ref = npg.project(pts, K, d)
    got = tg.project(torch.from_numpy(pts), torch.from_numpy(K), torch.from_numpy(d) if with_dist else None)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-5)
    # one shared camera broadcast over the batch, float32
    ref1 = npg.project(pts, K[0], dist[0] if with_dist else None)
    got1 = tg.project(torch.from_numpy(pts).float(), torch.from_numpy(K[0]).float(),
                      torch.from_numpy(dist[0]).float() if with_dist else None)
    np.testing.assert_allclose(got1.numpy(), ref1, rtol=1e-5, atol=1e-2)  # float32 pixels: ~1e-4 px


@pytest.mark.parametrize("scale", [True, False])
def test_procrustes_equals_numpy(scale):
    rng = np.random.default_rng(1)
    B, J = 64, 17
    target = rng.normal(0, 300, (B, J, 3))
    R = random_rotation(rng, B)
    pred = 0.8 * np.einsum("bij,bnj->bni", R, target) + rng.normal(0, 40, (B, J, 3)) + rng.normal(0, 100, (B, 1, 3))
    ref = npg.procrustes_align(pred, target, scale=scale)
    got = tg.procrustes_align(torch.from_numpy(pred), torch.from_numpy(target), scale=scale)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-5)
    # leading dims (B, T) work the same
    got2 = tg.procrustes_align(torch.from_numpy(pred).view(8, 8, J, 3), torch.from_numpy(target).view(8, 8, J, 3), scale)
    np.testing.assert_allclose(got2.reshape(B, J, 3).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_procrustes_never_reflects():
    rng = np.random.default_rng(2)
    target = rng.normal(0, 300, (10, 17, 3))
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    got = tg.procrustes_align(torch.from_numpy(mirrored), torch.from_numpy(target))
    np.testing.assert_allclose(got.numpy(), npg.procrustes_align(mirrored, target), atol=1e-6)
    assert (got - torch.from_numpy(target)).norm(dim=-1).mean() > 10  # a mirror image cannot be rotated onto it


def test_p_mpjpe_matches_metrics():
    from pose3d_cli.metrics import p_mpjpe

    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 300, (20, 17, 3)), rng.normal(0, 300, (20, 17, 3))
    np.testing.assert_allclose(tg.p_mpjpe(torch.from_numpy(a), torch.from_numpy(b)).numpy(), p_mpjpe(a, b), rtol=1e-6)


def test_root_translation_recovers_the_camera_position():
    rng = np.random.default_rng(4)
    rel = rng.normal(0, 300, (30, 17, 3))
    rel -= rel[:, :1]
    t = np.stack([rng.uniform(-500, 500, 30), rng.uniform(-300, 300, 30), rng.uniform(2500, 6000, 30)], -1)
    cam = rel + t[:, None]
    xy = cam[..., :2] / cam[..., 2:]
    got = tg.solve_root_translation(torch.from_numpy(rel), torch.from_numpy(xy), torch.ones(30, 17, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), t, rtol=1e-4, atol=0.5)  # the 1e-6 ridge costs ~0.1 mm at 6 m


def test_gradients_finite_and_gradcheck():
    rng = np.random.default_rng(5)
    pts = torch.tensor(rng.normal(0, 300, (3, 6, 3)) + [0, 0, 3000.0], requires_grad=True)
    K, dist = cameras(rng, 3)
    Kt = torch.tensor(K, requires_grad=True)
    dt = torch.tensor(dist, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, k, d: tg.project(p, k, d), (pts, Kt, dt))
    target = torch.tensor(rng.normal(0, 300, (3, 6, 3)))
    pred = (target + torch.tensor(rng.normal(0, 50, (3, 6, 3)))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: tg.procrustes_align(p, target), (pred,))
    xy = torch.tensor(rng.normal(0, 0.1, (3, 6, 2)))
    assert torch.autograd.gradcheck(lambda r: tg.solve_root_translation(r, xy, torch.ones(3, 6, dtype=torch.float64)),
                                    (pred,))
    loss = tg.p_mpjpe(pred.float(), target.float()).sum() + tg.project(pts.float(), Kt.float(), dt.float()).sum()
    loss.backward()
    assert torch.isfinite(pred.grad).all() and torch.isfinite(pts.grad).all()


def test_p_mpjpe_gradient_finite_for_degenerate_poses():
    """A line, a point, and a pose equal to its target (three equal singular values of a symmetric pose) made the
    SVD's backward NaN; the rotation is held fixed for the gradient, so it is finite, and the aligned error's
    gradient matches finite differences of the aligned squared error (envelope theorem)."""
    line = torch.zeros(1, 6, 3, dtype=torch.float64)
    line[..., 0] = torch.arange(6.0)
    cube = torch.tensor([[[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]], dtype=torch.float64)
    for pred, target in ((line, line.flip(-2) * 2), (torch.zeros(1, 6, 3, dtype=torch.float64), cube), (cube, cube)):
        p = pred.clone().requires_grad_(True)
        tg.p_mpjpe(p, target).sum().backward()
        assert torch.isfinite(p.grad).all()
    rng = np.random.default_rng(7)
    target = torch.tensor(rng.normal(0, 300, (1, 8, 3)))
    pred = (target + torch.tensor(rng.normal(0, 40, (1, 8, 3)))).requires_grad_(True)

    def sq(p):
        s, R, t = tg.procrustes_transform(p, target, rotation_grad=False)
        return ((s[..., None, None] * (p @ R.transpose(-1, -2)) + t.unsqueeze(-2) - target) ** 2).sum()

    sq(pred).backward()
    eps, i = 1e-4, (0, 3, 1)
    bumped = pred.detach().clone()
    bumped[i] += eps
    lower = pred.detach().clone()
    lower[i] -= eps
    numeric = (float(sq(bumped)) - float(sq(lower))) / (2 * eps)
    assert float(pred.grad[i]) == pytest.approx(numeric, rel=1e-4)


def test_numpy_projection_with_one_distortion_per_sample():
    """(N, J, 3) points with (N, 5) distortions: each sample with its own (this once broadcast to (N, N, J))."""
    rng = np.random.default_rng(6)
    pts = rng.normal(0, 400, (5, 17, 3)) + np.array([0, 0, 4000.0])
    K, dist = cameras(rng, 5)
    batched = npg.project(pts, K, dist)
    one_by_one = np.stack([npg.project(pts[i], K[i], dist[i]) for i in range(5)])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12)
    np.testing.assert_allclose(npg.pixels_to_normalized(batched, K, dist), pts[..., :2] / pts[..., 2:], atol=1e-9)
