"""Batched geometry over ``(..., 3)`` arrays (numpy only).

Conventions (everywhere in pose3d):
- 3D in millimetres, 2D in pixels.
- Camera frame: x right, y down, z forward (OpenCV). World frame: right-handed, Z up.
- A rigid transform ``cam_from_world`` is ``(R, t)`` with ``X_cam = R @ X_world + t``.
- Distortion follows OpenCV's 5-parameter model ``(k1, k2, p1, p2, k3)``.
"""

from __future__ import annotations

import numpy as np


def transform_points(R: np.ndarray, t: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply ``X' = R X + t``.

    Args:
        R: (..., 3, 3) rotation, broadcast against the points' leading dims.
        t: (..., 3) translation.
        points: (..., N, 3).
    Returns:
        (..., N, 3)
    """
    return np.einsum("...ij,...nj->...ni", R, points) + t[..., None, :]


def invert_rigid(R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of a rigid transform: ``world_from_cam`` from ``cam_from_world`` (or back)."""
    Rt = np.swapaxes(R, -1, -2)
    return Rt, -np.einsum("...ij,...j->...i", Rt, t)


def distort_normalized(xy: np.ndarray, dist: np.ndarray | None) -> np.ndarray:
    """Apply OpenCV radial/tangential distortion to normalised image coordinates.

    Args:
        xy: (..., 2) normalised coordinates (x/z, y/z).
        dist: (5,) or (..., 5) ``k1, k2, p1, p2, k3``, broadcast element-wise against ``xy``'s leading dims
            (one point per leading index: for points (S, J, 2) and one camera per sample give (S, 1, 5));
            None or zeros = no distortion.
    Returns:
        (..., 2)
    """
    if dist is None:
        return xy
    dist = np.asarray(dist, dtype=np.float64)
    if not np.any(dist):
        return xy
    k1, k2, p1, p2, k3 = (dist[..., i] for i in range(5))
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def distortion_folds(xy: np.ndarray, dist: np.ndarray | None) -> np.ndarray:
    """(...) bool: normalised points (..., 2) beyond the radius where the radial distortion turns over (its
    derivative ``1 + 3 k1 r² + 5 k2 r⁴ + 7 k3 r⁶`` is no longer positive). There the model folds back: a point far
    outside the field of view lands inside the image, and undistorting its pixel gives another point. ``dist``
    broadcast as in :func:`distort_normalized`; all False without distortion."""
    xy = np.asarray(xy, dtype=np.float64)
    if dist is None or not np.any(dist):
        return np.zeros(xy.shape[:-1], dtype=bool)
    dist = np.asarray(dist, dtype=np.float64)
    k1, k2, k3 = dist[..., 0], dist[..., 1], dist[..., 4]
    r2 = (xy * xy).sum(-1)
    return 1 + 3 * k1 * r2 + 5 * k2 * r2 * r2 + 7 * k3 * r2 * r2 * r2 <= 0


def undistort_normalized(xy: np.ndarray, dist: np.ndarray | None, iterations: int = 20) -> np.ndarray:
    """Invert :func:`distort_normalized` by Newton's method on the model's 2×2 Jacobian. (..., 2) → (..., 2);
    ``dist`` (5,) or (..., 5) broadcast as in :func:`distort_normalized`. NaN where no point inside the model's
    valid range (:func:`distortion_folds`) distorts to ``xy`` within 1e-9 (a fixed-point iteration used to diverge
    for strong lenses: 826 px off at a 1920×1080 image's corner, or NaN, silently)."""
    if dist is None or not np.any(dist):
        return xy
    xy = np.asarray(xy, dtype=np.float64)
    dist = np.asarray(dist, dtype=np.float64)
    und = _newton_undistort(xy, dist, np.array(xy, dtype=np.float64, copy=True), iterations)
    bad = np.isnan(und).any(-1)
    if bad.any():  # started from the distorted point, Newton can cross the fold and never come back (k1 > 0,
        # k3 < 0): start those again from the radial model inverted inside the fold
        d = np.broadcast_to(dist, xy.shape[:-1] + (5,))[bad]
        again = _newton_undistort(xy[bad], d, _radial_start(xy[bad], d), iterations)
        und[bad] = again
    return und


def _radial_start(xy: np.ndarray, dist: np.ndarray, max_radius: float = 4.0, samples: int = 64) -> np.ndarray:
    """(N, 2) a start for Newton: ``xy`` (N, 2) scaled to the radius ``r`` whose radial distortion ``r (1 + k1 r² +
    k2 r⁴ + k3 r⁶)`` equals its own, found by bisection inside the radial model's fold (``dist`` (N, 5))."""
    k1, k2, k3 = dist[:, 0], dist[:, 1], dist[:, 4]
    rd = np.linalg.norm(xy, axis=-1)
    grid = np.linspace(0.0, max_radius, samples)
    g2 = grid[None] ** 2
    folded = 1 + 3 * k1[:, None] * g2 + 5 * k2[:, None] * g2 ** 2 + 7 * k3[:, None] * g2 ** 3 <= 0
    first = np.where(folded.any(-1), folded.argmax(-1), samples)
    lo, hi = np.zeros_like(rd), grid[np.maximum(first - 1, 0)]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        m2 = mid * mid
        over = mid * (1 + k1 * m2 + k2 * m2 * m2 + k3 * m2 * m2 * m2) > rd
        lo, hi = np.where(over, lo, mid), np.where(over, mid, hi)
    r = 0.5 * (lo + hi)
    return xy * np.where(rd > 0, r / np.where(rd > 0, rd, 1.0), 1.0)[:, None]


def _newton_undistort(xy: np.ndarray, dist: np.ndarray, und: np.ndarray, iterations: int) -> np.ndarray:
    """Newton on the distortion model's 2×2 Jacobian from ``und``; NaN where it did not land inside the fold."""
    k1, k2, p1, p2, k3 = (dist[..., i] for i in range(5))
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            x, y = und[..., 0], und[..., 1]
            r2 = x * x + y * y
            radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
            g = 2 * k1 + 4 * k2 * r2 + 6 * k3 * r2 * r2  # d radial / d x = g x
            a = radial + g * x * x + 2 * p1 * y + 6 * p2 * x  # d xd / d x
            b = g * x * y + 2 * p1 * x + 2 * p2 * y  # d xd / d y = d yd / d x
            d = radial + g * y * y + 6 * p1 * y + 2 * p2 * x  # d yd / d y
            ex, ey = (distort_normalized(und, dist) - xy)[..., 0], (distort_normalized(und, dist) - xy)[..., 1]
            det = a * d - b * b
            det = np.where(np.abs(det) < 1e-12, np.nan, det)
            und = und - np.stack([(d * ex - b * ey) / det, (a * ey - b * ex) / det], axis=-1)
        bad = ~(np.linalg.norm(distort_normalized(und, dist) - xy, axis=-1) < 1e-9) | distortion_folds(und, dist)
    return np.where(bad[..., None], np.nan, und)


def project(points_cam: np.ndarray, K: np.ndarray, dist: np.ndarray | None = None) -> np.ndarray:
    """Project camera-frame points to pixels.

    Args:
        points_cam: (..., N, 3) mm in the camera frame (z forward, must be > 0 to be meaningful).
        K: (..., 3, 3) intrinsics, broadcast against the points' leading dims.
        dist: optional (5,) or (..., 5) distortion, one per camera: its leading dims broadcast against the
            points' leading dims (not the N axis), like ``K``'s.
    Returns:
        (..., N, 2) pixels.
    """
    z = points_cam[..., 2:3]
    xy = points_cam[..., :2] / np.where(np.abs(z) < 1e-9, 1e-9, z)
    if dist is not None:
        xy = distort_normalized(xy, _per_point(dist))
    fx, fy = K[..., 0, 0, None], K[..., 1, 1, None]
    cx, cy = K[..., 0, 2, None], K[..., 1, 2, None]
    s = K[..., 0, 1, None]
    u = fx * xy[..., 0] + s * xy[..., 1] + cx
    v = fy * xy[..., 1] + cy
    return np.stack([u, v], axis=-1)


def pixels_to_normalized(uv: np.ndarray, K: np.ndarray, dist: np.ndarray | None = None) -> np.ndarray:
    """Pixels (..., N, 2) → undistorted normalised coordinates (x/z, y/z), (..., N, 2); ``K`` (..., 3, 3) and
    ``dist`` (5,) or (..., 5) broadcast against the leading dims as in :func:`project`."""
    fx, fy = K[..., 0, 0, None], K[..., 1, 1, None]
    cx, cy = K[..., 0, 2, None], K[..., 1, 2, None]
    s = K[..., 0, 1, None]
    y = (uv[..., 1] - cy) / fy
    x = (uv[..., 0] - cx - s * y) / fx
    xy = np.stack([x, y], axis=-1)
    if dist is not None and np.any(dist):
        xy = undistort_normalized(xy, _per_point(dist))
    return xy


def _per_point(dist) -> np.ndarray:
    """A per-camera distortion (5,) or (..., 5) → broadcastable over the points axis: (5,) or (..., 1, 5)."""
    d = np.asarray(dist, dtype=np.float64)
    if d.shape[-1:] != (5,):
        raise ValueError(f"distortion must have 5 coefficients (k1, k2, p1, p2, k3) in its last axis, got shape {d.shape}")
    return d if d.ndim == 1 else d[..., None, :]


def axis_angle_to_matrix(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues: unit axis (..., 3) and angle (...) in radians → (..., 3, 3)."""
    axis = np.asarray(axis, dtype=np.float64)
    angle = np.asarray(angle, dtype=np.float64)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    C = 1 - c
    return np.stack([
        np.stack([c + x * x * C, x * y * C - z * s, x * z * C + y * s], -1),
        np.stack([y * x * C + z * s, c + y * y * C, y * z * C - x * s], -1),
        np.stack([z * x * C - y * s, z * y * C + x * s, c + z * z * C], -1),
    ], -2)


def _elementary_rotation(axis: str, rad: np.ndarray) -> np.ndarray:
    """Rotation by ``rad`` (...) about the X, Y or Z axis → (..., 3, 3)."""
    c, s = np.cos(rad), np.sin(rad)
    R = np.zeros(rad.shape + (3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    R[..., i, i] = 1.0
    R[..., j, j] = c
    R[..., k, k] = c
    R[..., j, k] = -s
    R[..., k, j] = s
    return R


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler angles (BVH convention) → rotation matrices.

    ``order`` names the axes in the order the angles are given, e.g. ``"ZXY"``; the matrix is
    ``R = R_order[0](a0) @ R_order[1](a1) @ R_order[2](a2)`` (rotations applied to a column vector, last first),
    which is how BVH channels compose.

    Args:
        angles_deg: (..., K) angles in degrees, in ``order`` (K = len(order)).
    Returns:
        (..., 3, 3)
    """
    rad = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    R = None
    for i, ax in enumerate(order.upper()):
        Ri = _elementary_rotation(ax, rad[..., i])
        R = Ri if R is None else R @ Ri
    return R


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, 0.0, 1.0]),
            roll: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``cam_from_world`` of a camera at ``eye`` looking at ``target`` (x right, y down, z forward).

    Args:
        eye, target: (..., 3) world positions, mm.
        up: (3,) world up direction.
        roll: (...) radians, rotation about the optical axis.
    Returns:
        R (..., 3, 3), t (..., 3)
    """
    eye = np.asarray(eye, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - eye
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(z, np.broadcast_to(up, z.shape))
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    # looking straight up/down: any x works
    x = np.where(n < 1e-9, np.broadcast_to([1.0, 0, 0], z.shape), x / np.maximum(n, 1e-12))
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=-2)  # rows: camera axes in world coordinates
    roll = np.asarray(roll, dtype=np.float64)
    if np.any(roll):
        Rz = axis_angle_to_matrix(np.broadcast_to([0, 0, 1.0], roll.shape + (3,)), roll)
        R = Rz @ R
    t = -np.einsum("...ij,...j->...i", R, eye)
    return R, t


def procrustes_align(pred: np.ndarray, target: np.ndarray, scale: bool = True) -> np.ndarray:
    """Align ``pred`` to ``target`` by the similarity (rotation, translation, optional scale) that minimises
    the squared error, never a reflection (Umeyama 1991).

    Args:
        pred, target: (..., J, 3).
    Returns:
        (..., J, 3) aligned ``pred``.
    """
    mu_p = pred.mean(axis=-2, keepdims=True)
    mu_t = target.mean(axis=-2, keepdims=True)
    p, t = pred - mu_p, target - mu_t
    H = np.swapaxes(p, -1, -2) @ t  # (..., 3, 3)
    U, S, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.swapaxes(Vt, -1, -2) @ np.swapaxes(U, -1, -2)))
    D = np.ones(S.shape)
    D[..., -1] = d
    R = np.swapaxes(Vt, -1, -2) @ (D[..., :, None] * np.swapaxes(U, -1, -2))  # (..., 3, 3)
    if scale:
        var = (p ** 2).sum(axis=(-1, -2))
        s = (S * D).sum(axis=-1) / np.maximum(var, 1e-12)
    else:
        s = np.ones(pred.shape[:-2])
    return s[..., None, None] * np.einsum("...ij,...nj->...ni", R, p) + mu_t
