"""Batched geometry: projection (against OpenCV), distortion, look-at cameras, Euler angles, Procrustes."""

import numpy as np
import pytest

from pose3d_cli.geometry import (axis_angle_to_matrix, distort_normalized, euler_to_matrix, invert_rigid, look_at,
                                 pixels_to_normalized, procrustes_align, project, transform_points,
                                 undistort_normalized)

K = np.array([[1400.0, 0.0, 960.0], [0.0, 1380.0, 540.0], [0.0, 0.0, 1.0]])
DIST = np.array([-0.12, 0.03, 0.001, -0.0015, -0.004])


def _cam_points(rng, n=200):
    """Points in front of a camera, inside a ~60° field of view."""
    z = rng.uniform(1500, 8000, n)
    xy = rng.uniform(-0.5, 0.5, (n, 2)) * z[:, None]
    return np.column_stack([xy, z])


def _rot(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


@pytest.mark.parametrize("dist", [None, DIST], ids=["pinhole", "distorted"])
def test_project_matches_opencv(dist):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    world = rng.normal(size=(100, 3)) * 500
    R = _rot(rng)
    t = np.array([100.0, -50.0, 5000.0])
    rvec, _ = cv2.Rodrigues(R)
    ref, _ = cv2.projectPoints(world, rvec, t, K, np.zeros(5) if dist is None else dist)
    ours = project(transform_points(R, t, world), K, dist)
    assert ours.shape == (100, 2)
    np.testing.assert_allclose(ours, ref.reshape(-1, 2), atol=1e-6)


def test_project_with_skew_and_batched_cameras():
    rng = np.random.default_rng(1)
    pts = _cam_points(rng, 10)
    Ks = np.stack([K, K * [[1.0, 0, 1], [0, 2, 1], [0, 0, 1]]])  # (2, 3, 3)
    Ks[0, 0, 1] = 5.0  # skew
    out = project(np.stack([pts, pts]), Ks)
    assert out.shape == (2, 10, 2)
    x, y = pts[:, 0] / pts[:, 2], pts[:, 1] / pts[:, 2]
    np.testing.assert_allclose(out[0, :, 0], 1400 * x + 5 * y + 960)
    np.testing.assert_allclose(out[1, :, 1], 2760 * y + 540)


def test_distort_undistort_round_trip():
    rng = np.random.default_rng(2)
    xy = rng.uniform(-0.5, 0.5, (500, 2))
    d = distort_normalized(xy, DIST)
    assert np.abs(d - xy).max() > 1e-3  # distortion does something
    np.testing.assert_allclose(undistort_normalized(d, DIST), xy, atol=1e-9)
    # no distortion: identity, and the same array back
    assert distort_normalized(xy, None) is xy
    assert undistort_normalized(xy, np.zeros(5)) is xy


def test_undistort_finds_the_ray_inside_the_fold_where_newton_from_the_pixel_would_not():
    """k1 > 0, k3 < 0 (a common wide-angle fit): the distorted radius lies beyond the fold, Newton started there
    never came back and in-image pixels with a valid ray were NaN (their joints then dropped)."""
    dist = np.array([0.361, 0.136, 0.0, 0.0, -0.358])
    r = np.linspace(0.05, 0.98, 40)  # radii inside the fold (1.0235 for this lens), found independently:
    s2 = np.linspace(0, 1.2, 100001) ** 2  # the radial derivative stays positive up to the fold
    assert (1 + 3 * 0.361 * s2 + 5 * 0.136 * s2 ** 2 - 7 * 0.358 * s2 ** 3)[np.sqrt(s2) < 0.98].min() > 0
    xy = np.stack([-r, 0.05 * r], axis=-1)
    back = undistort_normalized(distort_normalized(xy, dist), dist)
    np.testing.assert_allclose(back, xy, atol=1e-9)


def test_pixels_to_normalized_inverts_project():
    rng = np.random.default_rng(3)
    pts = _cam_points(rng)
    for dist in (None, DIST):
        uv = project(pts, K, dist)
        xy = pixels_to_normalized(uv, K, dist)
        np.testing.assert_allclose(xy, pts[:, :2] / pts[:, 2:], atol=1e-9)


def test_invert_rigid():
    rng = np.random.default_rng(4)
    R, t = _rot(rng), rng.normal(size=3) * 1000
    Ri, ti = invert_rigid(R, t)
    p = rng.normal(size=(7, 3))
    np.testing.assert_allclose(transform_points(Ri, ti, transform_points(R, t, p)), p, atol=1e-9)


def test_look_at_points_z_at_target_and_image_y_down():
    eye = np.array([0.0, -5000.0, 1500.0])
    target = np.array([200.0, 0.0, 1000.0])
    R, t = look_at(eye, target)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    # the camera sits at eye, the target is straight ahead
    np.testing.assert_allclose(R @ eye + t, 0, atol=1e-9)
    tc = R @ target + t
    np.testing.assert_allclose(tc[:2], 0, atol=1e-9)
    assert tc[2] == pytest.approx(np.linalg.norm(target - eye))
    # world up (+Z) is image up (-y); world +X is image right when looking along +Y
    up = R @ (target + [0, 0, 100]) + t
    right = R @ (target + [100, 0, 0]) + t
    assert up[1] < -50 and abs(up[0]) < 1e-6
    assert right[0] > 50
    # the image of the target is the principal point, a point above it has a smaller v
    uv = project(np.stack([tc, up]), K)
    np.testing.assert_allclose(uv[0], [960, 540], atol=1e-6)
    assert uv[1, 1] < 540


def test_look_at_roll_and_batch():
    eyes = np.array([[0.0, -4000.0, 1000.0], [3000.0, 0.0, 2000.0], [0.0, 0.0, 9000.0]])  # last: straight down
    targets = np.zeros((3, 3))
    R, t = look_at(eyes, targets, roll=np.array([0.0, 0.3, 0.0]))
    assert R.shape == (3, 3, 3) and t.shape == (3, 3)
    for i in range(3):
        np.testing.assert_allclose(R[i] @ R[i].T, np.eye(3), atol=1e-12)
        np.testing.assert_allclose((R[i] @ targets[i] + t[i])[:2], 0, atol=1e-9)
    # roll turns the image about the optical axis: world up is no longer image-vertical
    up = R[1] @ [0, 0, 1.0]
    assert np.arctan2(up[0], -up[1]) == pytest.approx(0.3, abs=1e-9)
    up0 = look_at(eyes[1], targets[1])[0] @ [0, 0, 1.0]
    assert up0[0] == pytest.approx(0.0, abs=1e-12) and up0[1] < 0


def test_euler_single_axes_by_hand():
    x, y, z = np.eye(3)
    np.testing.assert_allclose(euler_to_matrix([90.0], "Z") @ x, y, atol=1e-12)  # 90° about Z: x → y
    np.testing.assert_allclose(euler_to_matrix([90.0], "X") @ y, z, atol=1e-12)  # 90° about X: y → z
    np.testing.assert_allclose(euler_to_matrix([90.0], "Y") @ z, x, atol=1e-12)  # 90° about Y: z → x
    c, s = np.cos(np.deg2rad(30)), np.sin(np.deg2rad(30))
    np.testing.assert_allclose(euler_to_matrix([30.0], "x"), [[1, 0, 0], [0, c, -s], [0, s, c]], atol=1e-12)
    np.testing.assert_allclose(euler_to_matrix([30.0], "Y"), [[c, 0, s], [0, 1, 0], [-s, 0, c]], atol=1e-12)
    np.testing.assert_allclose(euler_to_matrix([30.0], "Z"), [[c, -s, 0], [s, c, 0], [0, 0, 1]], atol=1e-12)


def test_euler_order_zxy_composes_left_to_right():
    a, b, g = 30.0, 45.0, 60.0
    Rz = euler_to_matrix([a], "Z")
    Rx = euler_to_matrix([b], "X")
    Ry = euler_to_matrix([g], "Y")
    np.testing.assert_allclose(euler_to_matrix([a, b, g], "ZXY"), Rz @ Rx @ Ry, atol=1e-12)
    # hand-computed: Rz(90) Rx(90) maps x → y and z → x...; the order matters
    R = euler_to_matrix([90.0, 90.0, 0.0], "ZXY")
    np.testing.assert_allclose(R, [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=1e-12)
    R2 = euler_to_matrix([90.0, 0.0, 90.0], "XYZ")  # Rx(90) Rz(90)
    np.testing.assert_allclose(R2, [[0, -1, 0], [0, 0, -1], [1, 0, 0]], atol=1e-12)
    # batched
    ang = np.random.default_rng(5).uniform(-180, 180, (4, 6, 3))
    Rb = euler_to_matrix(ang, "ZYX")
    assert Rb.shape == (4, 6, 3, 3)
    np.testing.assert_allclose(Rb @ np.swapaxes(Rb, -1, -2), np.broadcast_to(np.eye(3), Rb.shape), atol=1e-12)


def test_axis_angle_matches_euler():
    np.testing.assert_allclose(axis_angle_to_matrix([0, 0, 1.0], np.deg2rad(40)), euler_to_matrix([40.0], "Z"),
                               atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_matrix([1.0, 0, 0], np.deg2rad(-25)), euler_to_matrix([-25.0], "X"),
                               atol=1e-12)


def _rotation_of(aligned, pred):
    """R (with scale) such that aligned - mean = s R (pred - mean), by least squares."""
    a = aligned - aligned.mean(0)
    p = pred - pred.mean(0)
    M, *_ = np.linalg.lstsq(p, a, rcond=None)  # a = p @ M  →  M = s R^T
    return M.T / np.cbrt(np.linalg.det(M))


def test_procrustes_recovers_a_known_similarity():
    rng = np.random.default_rng(6)
    pred = rng.normal(size=(17, 3)) * 300
    R, s, t = _rot(rng), 1.7, np.array([10.0, -400.0, 3000.0])
    target = s * pred @ R.T + t
    np.testing.assert_allclose(procrustes_align(pred, target), target, atol=1e-8)
    # without scale: the best rotation, with the scale left wrong
    no_s = procrustes_align(pred, target, scale=False)
    np.testing.assert_allclose(no_s - no_s.mean(0), (pred - pred.mean(0)) @ R.T, atol=1e-8)


def test_procrustes_never_reflects():
    rng = np.random.default_rng(7)
    pred = rng.normal(size=(17, 3)) * 300
    mirror = pred * [-1.0, 1.0, 1.0]  # a mirror image: no rotation reaches it
    aligned = procrustes_align(pred, mirror)
    R = _rotation_of(aligned, pred)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-8)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-8)
    assert np.linalg.norm(aligned - mirror, axis=-1).mean() > 10.0


def test_procrustes_batched_shapes():
    rng = np.random.default_rng(8)
    pred = rng.normal(size=(4, 6, 17, 3))
    Rs = np.stack([np.stack([_rot(rng) for _ in range(6)]) for _ in range(4)])
    target = np.einsum("bfij,bfnj->bfni", Rs, pred) * 2.0 + 5.0
    out = procrustes_align(pred, target)
    assert out.shape == pred.shape
    np.testing.assert_allclose(out, target, atol=1e-8)
