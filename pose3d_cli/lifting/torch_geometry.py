"""Batched, differentiable geometry in torch: the torch twins of :mod:`pose3d_cli.geometry` (numpy).

Same conventions (mm, camera frame x right, y down, z forward; OpenCV distortion ``k1 k2 p1 p2 k3``) and the
same shapes ``(..., N, 3)``; every function is pure and differentiable, so training losses can use them
(reprojection, Procrustes-aligned errors). ``tests/test_torch_geometry.py`` checks each against its numpy
twin on random inputs and with ``torch.autograd.gradcheck``.
"""

from __future__ import annotations

import torch


def distort_normalized(xy: torch.Tensor, dist: torch.Tensor | None) -> torch.Tensor:
    """OpenCV radial/tangential distortion of normalised coordinates.

    Args:
        xy: (..., 2) normalised coordinates (x/z, y/z).
        dist: (5,) or (..., 5) broadcast against ``xy``'s leading dims; None = no distortion.
    Returns:
        (..., 2)
    """
    if dist is None:
        return xy
    k1, k2, p1, p2, k3 = (dist[..., i] for i in range(5))
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return torch.stack([xd, yd], dim=-1)


def project_normalized(points_cam: torch.Tensor, min_depth: float = 1e-9) -> torch.Tensor:
    """Camera-frame points (..., N, 3) → normalised coordinates (x/z, y/z) (..., N, 2).

    Depths below ``min_depth`` are clamped (a point behind the camera has no meaningful projection)."""
    z = points_cam[..., 2:3]
    z = torch.where(z.abs() < min_depth, torch.full_like(z, min_depth), z)
    return points_cam[..., :2] / z


def project(points_cam: torch.Tensor, K: torch.Tensor, dist: torch.Tensor | None = None) -> torch.Tensor:
    """Project camera-frame points to pixels (torch twin of :func:`pose3d_cli.geometry.project`).

    Args:
        points_cam: (..., N, 3) mm, camera frame.
        K: (..., 3, 3) intrinsics broadcast against the points' leading dims.
        dist: optional (..., 5) distortion, broadcast the same way.
    Returns:
        (..., N, 2) pixels.
    """
    xy = project_normalized(points_cam)
    if dist is not None:
        xy = distort_normalized(xy, dist.unsqueeze(-2) if dist.dim() > 1 else dist)
    fx, fy = K[..., 0, 0, None], K[..., 1, 1, None]
    cx, cy = K[..., 0, 2, None], K[..., 1, 2, None]
    s = K[..., 0, 1, None]
    u = fx * xy[..., 0] + s * xy[..., 1] + cx
    v = fy * xy[..., 1] + cy
    return torch.stack([u, v], dim=-1)


def procrustes_transform(pred: torch.Tensor, target: torch.Tensor, scale: bool = True, rotation_grad: bool = True
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The similarity ``target ≈ s R pred + t`` minimising the squared error, never a reflection (Umeyama 1991).

    Args:
        pred, target: (..., J, 3).
        rotation_grad: False holds R fixed for the gradient (s and t keep theirs): the aligned *error*'s gradient
            is then that of the transform held at its optimum (exact for the squared error, by the envelope
            theorem), and finite for degenerate poses (a line, a point, equal singular values), where the SVD's
            own backward is NaN. Keep True to differentiate the aligned pose itself.
    Returns:
        s (...), R (..., 3, 3), t (..., 3).
    """
    mu_p = pred.mean(dim=-2, keepdim=True)
    mu_t = target.mean(dim=-2, keepdim=True)
    p, q = pred - mu_p, target - mu_t
    H = p.transpose(-1, -2) @ q  # (..., 3, 3)
    with torch.set_grad_enabled(rotation_grad and torch.is_grad_enabled()):
        U, S, Vh = torch.linalg.svd(H)
        V, Ut = Vh.transpose(-1, -2), U.transpose(-1, -2)
        d = torch.sign(torch.linalg.det(V @ Ut))
        d = torch.where(d == 0, torch.ones_like(d), d)
        D = torch.cat([torch.ones_like(S)[..., :-1], d.unsqueeze(-1)], dim=-1)
        R = V @ (D.unsqueeze(-1) * Ut)
    if scale:
        var = (p ** 2).sum(dim=(-1, -2))
        s = (R * H.transpose(-1, -2)).sum(dim=(-1, -2)) / var.clamp(min=1e-12)  # trace(R H) = sum(S · D)
    else:
        s = torch.ones(pred.shape[:-2], dtype=pred.dtype, device=pred.device)
    t = mu_t.squeeze(-2) - s.unsqueeze(-1) * (R @ mu_p.squeeze(-2).unsqueeze(-1)).squeeze(-1)
    return s, R, t


def procrustes_align(pred: torch.Tensor, target: torch.Tensor, scale: bool = True) -> torch.Tensor:
    """``pred`` (..., J, 3) aligned to ``target`` by :func:`procrustes_transform` (torch twin of
    :func:`pose3d_cli.geometry.procrustes_align`)."""
    s, R, t = procrustes_transform(pred, target, scale)
    return s[..., None, None] * (pred @ R.transpose(-1, -2)) + t.unsqueeze(-2)


def p_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(..., J, 3) → (...): mean joint error after similarity Procrustes alignment (differentiable, the rotation
    held fixed for the gradient: finite for degenerate poses, see :func:`procrustes_transform`)."""
    s, R, t = procrustes_transform(pred, target, rotation_grad=False)
    aligned = s[..., None, None] * (pred @ R.transpose(-1, -2)) + t.unsqueeze(-2)
    return (aligned - target).norm(dim=-1).mean(dim=-1)


def solve_root_translation(rel: torch.Tensor, xy: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The camera-frame position of a root-relative pose that best explains its observed 2D, in closed form.

    Each joint gives two equations linear in ``t`` (the root position): ``(X_j + t_x) - x_j (Z_j + t_z) = 0`` and
    ``(Y_j + t_y) - y_j (Z_j + t_z) = 0``, weighted by ``weight`` (0 for missing joints); the 3×3 normal
    equations are solved per pose. Differentiable in ``rel``: a reprojection loss needs no depth head.

    Args:
        rel: (..., J, 3) root-relative joints, mm.
        xy: (..., J, 2) observed normalised coordinates.
        weight: (..., J) ≥ 0.
    Returns:
        t (..., 3) mm: ``rel + t`` is the pose in the camera frame.
    """
    w = weight.unsqueeze(-1)
    one, zero = torch.ones_like(xy[..., 0]), torch.zeros_like(xy[..., 0])
    # rows of A (..., J, 2, 3) and right-hand sides b (..., J, 2)
    ax = torch.stack([one, zero, -xy[..., 0]], dim=-1)
    ay = torch.stack([zero, one, -xy[..., 1]], dim=-1)
    A = torch.stack([ax, ay], dim=-2)
    b = torch.stack([xy[..., 0] * rel[..., 2] - rel[..., 0], xy[..., 1] * rel[..., 2] - rel[..., 1]], dim=-1)
    AtA = (A.transpose(-1, -2) @ (A * w.unsqueeze(-1))).sum(dim=-3)  # (..., 3, 3)
    Atb = (A.transpose(-1, -2) @ (b * w).unsqueeze(-1)).sum(dim=-3).squeeze(-1)  # (..., 3)
    eye = torch.eye(3, dtype=rel.dtype, device=rel.device)
    return torch.linalg.solve(AtA + 1e-6 * eye, Atb)  # 1e-6: a frame with no visible joint gives t = 0
