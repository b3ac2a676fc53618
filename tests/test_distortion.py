"""Lens distortion with one camera per sample: (S, 5), (S, T, 5), (5,) ... through projection and back, and a
whole synth → train → eval on a rig whose cameras have distortion (it used to allocate 1.38 TiB in eval and fail
with a shape error in train)."""

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.geometry import distort_normalized, look_at, pixels_to_normalized, project, undistort_normalized

from conftest import MOCAP, need

RNG = np.random.default_rng(3)


def _k(n):
    K = np.zeros((n, 3, 3))
    K[:, 0, 0] = RNG.uniform(800, 1600, n)
    K[:, 1, 1] = K[:, 0, 0] * RNG.uniform(0.98, 1.02, n)
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = 640, 360, 1
    return K


def _dist(n):
    return np.column_stack([RNG.uniform(-0.2, 0.1, n), RNG.uniform(-0.05, 0.05, n), RNG.uniform(-2e-3, 2e-3, (n, 2)),
                            RNG.uniform(-0.01, 0.01, n)])


def _points(*lead, J=17):
    z = RNG.uniform(2000, 6000, (*lead, J, 1))
    return np.concatenate([RNG.uniform(-0.4, 0.4, (*lead, J, 2)) * z, z], axis=-1)


def _opencv(points, K, dist):
    """Reference: one cv2.projectPoints call per camera (independent of our broadcasting)."""
    uv, _ = cv2.projectPoints(points.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), K, dist)
    return uv.reshape(points.shape[:-1] + (2,))


@pytest.mark.parametrize("n", [1, 2, 7, 17, 192])
def test_per_sample_distortion_matches_opencv(n):
    """(S, J, 3) points, (S, 3, 3) K, (S, 5) dist: the n == J and n == 192 cases used to broadcast S × S."""
    P, K, D = _points(n), _k(n), _dist(n)
    uv = project(P, K, D)
    assert uv.shape == (n, 17, 2)
    ref = np.stack([_opencv(P[i], K[i], D[i]) for i in range(n)])
    np.testing.assert_allclose(uv, ref, atol=1e-6)
    back = pixels_to_normalized(uv, K, D)
    assert back.shape == (n, 17, 2)
    np.testing.assert_allclose(back, P[..., :2] / P[..., 2:], atol=1e-7)


def test_per_frame_distortion_of_sequences():
    """(S, T, J, 3) points with (S, T, 5) and (S, 1, 5) distortion; one (5,) vector still works."""
    S, T = 3, 4
    P, K = _points(S, T), _k(S)[:, None]
    D = _dist(S * T).reshape(S, T, 5)
    uv = project(P, K, D)
    assert uv.shape == (S, T, 17, 2)
    for s in range(S):
        for t in range(T):
            np.testing.assert_allclose(uv[s, t], _opencv(P[s, t], K[s, 0], D[s, t]), atol=1e-6)
    D1 = _dist(S)[:, None]
    np.testing.assert_allclose(project(P, K, D1)[:, 2], np.stack([_opencv(P[s, 2], K[s, 0], D1[s, 0]) for s in range(S)]),
                               atol=1e-6)
    one = _dist(1)[0]
    np.testing.assert_allclose(project(P[0, 0], K[0, 0], one), _opencv(P[0, 0], K[0, 0], one), atol=1e-6)
    np.testing.assert_allclose(pixels_to_normalized(project(P, K, D), K, D), P[..., :2] / P[..., 2:], atol=1e-7)


def test_distort_normalized_is_element_wise():
    """(N, 2) points with (N, 5) coefficients: point i uses row i (no hidden axis)."""
    xy = RNG.uniform(-0.4, 0.4, (6, 2))
    D = _dist(6)
    out = distort_normalized(xy, D)
    assert out.shape == (6, 2)
    for i in range(6):
        np.testing.assert_allclose(out[i], distort_normalized(xy[i:i + 1], D[i])[0])
    np.testing.assert_allclose(undistort_normalized(out, D), xy, atol=1e-9)


def test_wrong_number_of_coefficients_is_refused():
    with pytest.raises(ValueError, match="5 coefficients"):
        project(_points(2), _k(2), np.zeros((2, 4)) + 0.1)


@pytest.mark.slow
def test_synth_train_eval_on_a_distorted_rig(tmp_path):
    files = sorted(need(MOCAP / "bvh" / "bandai_namco_2").glob("*.bvh"))[:6]
    cams = []
    for i, a in enumerate((0.0, 1.6, 3.2)):
        R, t = look_at(np.array([3200 * np.cos(a), 3200 * np.sin(a), 1400.0]), np.array([0, 0, 1000.0]))
        cams.append({"name": f"c{i}", "K": [[1000, 0, 640], [0, 1000, 360], [0, 0, 1]], "size": [1280, 720],
                     "dist": [-0.15 + 0.05 * i, 0.02, 1e-3, -1e-3, 0.0], "R": R.tolist(), "t": t.tolist()})
    rig = tmp_path / "rig.json"
    rig.write_text(json.dumps({"cameras": cams}))
    run = CliRunner()
    data, model, rep = tmp_path / "d.h5", tmp_path / "m.pt", tmp_path / "r.json"
    r = run.invoke(app, ["-q", "synth", *map(str, files), str(data), "--cameras", str(rig), "--val", "0.34",
                         "--test", "0.34", "--workers", "1"])
    assert r.exit_code == 0, r.output
    r = run.invoke(app, ["-q", "train", str(data), "-o", str(model), "--epochs", "1", "--arg", "width=32",
                         "--arg", "blocks=1"])
    assert r.exit_code == 0, r.output
    r = run.invoke(app, ["-q", "eval", str(model), str(data), "--json", str(rep), "--sweep", "--max-samples", "300"])
    assert r.exit_code == 0, r.output
    report = json.loads(rep.read_text())
    assert 20 < report["conditions"]["clean"]["mpjpe"] < 400


@pytest.mark.parametrize("dist", [[-0.1, 0.4, 0, 0, 0], [0.15, 0.25, 0, 0, 0], [0.5, 0, 0, 0, 0],
                                  [0.2, 0.3, 0.001, -0.002, 0.05]])
def test_strong_lenses_undistort_to_the_corner(dist):
    """Points out to a 1920x1080 image's corner at f = 900 (r ~ 1.2), through monotone strong distortions: the
    fixed-point iteration was up to 826 px off there, or NaN; Newton's method comes back to 1e-9."""
    from pose3d_cli.geometry import distort_normalized, undistort_normalized

    g = np.stack(np.meshgrid(np.linspace(-1.07, 1.07, 9), np.linspace(-0.6, 0.6, 7)), -1).reshape(-1, 2)
    back = undistort_normalized(distort_normalized(g, np.array(dist)), np.array(dist))
    np.testing.assert_allclose(back, g, atol=1e-9)


def test_a_pixel_the_lens_model_cannot_undistort_is_a_missing_joint():
    """Barrel k1 = -0.3 folds back at r = 1.05: a pixel beyond the fold's image radius has no undistortion; the codec
    gives it confidence 0 (it fed NaN with confidence 1 to the lifter, which blanked the frame)."""
    from pose3d_cli.lifting.codec import pixels_to_network_input

    K = np.array([[500.0, 0, 960], [0, 500, 540], [0, 0, 1]])
    uv = np.array([[[960.0 + 500 * 0.75, 540.0], [960.0 + 500 * 0.2, 540.0]]])  # r_d 0.75 > the fold's 0.70
    xy, conf = pixels_to_network_input(uv, np.ones((1, 2)), K, np.array([-0.3, 0, 0, 0, 0]))
    assert conf.tolist() == [[0.0, 1.0]] and np.isfinite(xy).all()
