"""Per-person skeleton fit (pose3d_cli/infer/skeleton_fit.py) and zero-phase smoothing, on hand-built tracks."""

from __future__ import annotations

import numpy as np
import pytest

from pose3d_cli.errors import Pose3dError
from pose3d_cli.infer.skeleton_fit import (PRIOR_FRACTIONS, arm_candidates, fit_bone_lengths, fit_skeleton, has_prior,
                                           jump_weight_at, resolve_to_lengths, topological_order)
from pose3d_cli.infer.smooth import butter_zero_phase, one_euro
from pose3d_cli.skeleton import get_skeleton

SK = get_skeleton("h36m17")
# hand-chosen symmetric lengths (mm), keyed by the bone's child joint; forearm 250, upper arm 290
TRUE = {"right_hip": 130, "right_knee": 420, "right_ankle": 410, "spine": 200, "thorax": 240, "nose": 140,
        "head": 100, "right_shoulder": 170, "right_elbow": 290, "right_wrist": 250}
TRUE.update({k.replace("right", "left"): v for k, v in TRUE.items() if k.startswith("right")})
LENGTHS = np.array([TRUE[c] for c, _ in SK.bones], float)


def hand_fk(T: int, rng) -> np.ndarray:
    """(T, J, 3) root-relative poses with bone lengths LENGTHS: every bone a random unit direction, built down
    the tree by hand (child = parent + length * direction)."""
    pts = np.zeros((T, SK.num_joints, 3))
    for b in topological_order(SK):
        c, p = SK.bone_indices[b]
        d = rng.normal(size=(T, 3)) + np.array([0.0, 1.0, 0.0])
        pts[:, c] = pts[:, p] + LENGTHS[b] * d / np.linalg.norm(d, axis=-1, keepdims=True)
    return pts


def project(pts_cam: np.ndarray) -> np.ndarray:
    return pts_cam[..., :2] / pts_cam[..., 2:3]


def test_perturbed_lengths_restored_and_2d_kept():
    rng = np.random.default_rng(0)
    T = 200
    root_t = np.array([100.0, -50.0, 3500.0])
    cam = hand_fk(T, rng) + root_t
    xy = project(cam)
    # every non-root joint slid along its own camera ray: the 2D is unchanged, the bone lengths are not
    s = 1 + rng.uniform(-0.015, 0.015, size=(T, SK.num_joints, 1))
    s[:, SK.index("pelvis")] = 1
    noisy = cam * s - root_t
    before = SK.bone_lengths(noisy)
    assert np.abs(before / LENGTHS - 1).max() > 0.1  # the perturbation is not a rounding error
    conf = np.ones((T, SK.num_joints))
    fitted, lengths = fit_skeleton(noisy, conf, SK, xy, prior_weight=0.0, ray_weight=1.0)
    np.testing.assert_allclose(lengths, LENGTHS, rtol=0.03)
    after = SK.bone_lengths(fitted)
    np.testing.assert_allclose(after, np.broadcast_to(lengths, after.shape), rtol=1e-6)
    # reprojection kept: place the fitted pose by its root's ray and depth (the true root) and project
    limbs = [SK.index(n) for n in ("left_wrist", "right_wrist", "left_ankle", "right_ankle", "left_elbow")]
    t = np.linalg.lstsq(np.eye(3), root_t, rcond=None)[0]
    err = np.abs(project(fitted + t)[:, limbs] - xy[:, limbs]).max()
    assert err < 0.01  # < 10 px at a 1000 px focal length, against ±50 mm depth errors of up to 1.5%
    assert np.median(np.abs(project(fitted + t)[:, limbs] - xy[:, limbs])) < 0.002


def test_shortened_forearms_get_their_length_back():
    rng = np.random.default_rng(1)
    T = 60
    size = 3500.0
    frac = np.array([PRIOR_FRACTIONS[c] for c, _ in SK.bones])
    true = frac * size
    pts = np.zeros((T, SK.num_joints, 3))
    short = {"left_wrist": 0.6, "right_wrist": 0.6}  # the lifter's forearms at 0.6 of their length
    for b in topological_order(SK):
        c, p = SK.bone_indices[b]
        d = rng.normal(size=(T, 3))
        pts[:, c] = pts[:, p] + true[b] * short.get(SK.bones[b][0], 1.0) * d / np.linalg.norm(d, axis=-1, keepdims=True)
    conf = np.full((T, SK.num_joints), 0.9)
    fore = [b for b, (c, _) in enumerate(SK.bones) if c.endswith("_wrist")]
    fitted, lengths = fit_skeleton(pts, conf, SK, None, prior_weight=1.0)
    ratio = SK.bone_lengths(fitted)[:, fore] / true[fore]
    np.testing.assert_allclose(ratio, 1.0, atol=0.03)
    half = fit_bone_lengths(pts, conf, SK, prior_weight=0.5, distal_ratio=False)
    assert np.all(half[fore] / true[fore] > 0.75) and np.all(half[fore] / true[fore] < 0.8)  # sqrt(0.6) = 0.77
    # with the distal rule (the default) the forearm follows the upper arm, which the lifter got right
    _, half = fit_skeleton(pts, conf, SK, None, prior_weight=0.5)
    np.testing.assert_allclose(half[fore] / true[fore], 1.0, atol=0.03)
    # the direction of every bone is the lifted one
    b = SK.bone_indices
    u = lambda x: (x[:, b[:, 0]] - x[:, b[:, 1]]) / np.linalg.norm(x[:, b[:, 0]] - x[:, b[:, 1]], axis=-1, keepdims=True)
    np.testing.assert_allclose(u(fitted), u(pts), atol=1e-6)


def test_other_skeleton_refused():
    coco = get_skeleton("coco17")
    T = 5
    with pytest.raises(Pose3dError, match="h36m17"):
        fit_bone_lengths(np.ones((T, coco.num_joints, 3)) * np.arange(coco.num_joints)[:, None], np.ones((T, coco.num_joints)), coco)
    with pytest.raises(Pose3dError, match="bone lengths given"):
        resolve_to_lengths(np.zeros((T, SK.num_joints, 3)), np.ones(len(coco.bones) + 1), SK)
    blaze = get_skeleton("blazepose33")
    with pytest.raises(Pose3dError, match="are not"):
        fit_bone_lengths(np.zeros((T, blaze.num_joints, 3)), np.ones((T, blaze.num_joints)), SK)
    # a model of another skeleton still gets its constant (symmetrised) lengths, without the h36m17 prior
    assert not has_prior(coco) and has_prior(SK)


def test_nan_frames_stay_nan():
    rng = np.random.default_rng(2)
    pts = hand_fk(10, rng)
    pts[3] = np.nan
    fitted, _ = fit_skeleton(pts, np.ones(pts.shape[:2]), SK, None, prior_weight=0.0)
    assert np.isnan(fitted[3]).all() and np.isfinite(np.delete(fitted, 3, 0)).all()


def test_tree_order_of_a_forest_ends():
    """Two trees (two roots): every bone once, after its parent bone (this walk used to loop forever)."""
    from pose3d_cli.skeleton import Skeleton

    forest = Skeleton("forest", ("a", "b", "c", "d", "e"), (None, "a", None, "c", "d"))
    order = [tuple(forest.bone_indices[i]) for i in topological_order(forest)]
    assert sorted(order) == sorted(map(tuple, forest.bone_indices))
    assert order.index((4, 3)) > order.index((3, 2))  # e after d


def test_a_bone_lifted_to_length_zero_still_gets_its_length():
    rng = np.random.default_rng(1)
    pts = hand_fk(4, rng)
    sh, el = SK.index("left_shoulder"), SK.index("left_elbow")
    pts[2, el] = pts[2, sh]  # the upper arm lifted to 0 mm in one frame
    out = resolve_to_lengths(pts, LENGTHS, SK)
    np.testing.assert_allclose(SK.bone_lengths(out), np.broadcast_to(LENGTHS, (4, len(LENGTHS))), rtol=1e-9)


def test_2d_without_a_value_pulls_nothing():
    """A joint whose 2D (or confidence) is NaN in one frame is fitted as if its confidence were 0, in that frame only:
    no NaN spreads into the frame or, through the arms' decoder, into later frames."""
    rng = np.random.default_rng(3)
    root_t = np.array([0.0, 0.0, 3500.0])
    cam = hand_fk(30, rng) + root_t
    xy, conf = project(cam), np.ones((30, SK.num_joints))
    lifted = cam - root_t
    head, elbow = SK.index("head"), SK.index("left_elbow")
    bad_xy, bad_conf = xy.copy(), conf.copy()
    bad_xy[5, head], bad_conf[8, elbow] = np.nan, np.nan
    zero = conf.copy()
    zero[5, head] = zero[8, elbow] = 0.0
    got = resolve_to_lengths(lifted, LENGTHS, SK, bad_xy, bad_conf)
    want = resolve_to_lengths(lifted, LENGTHS, SK, np.where(np.isfinite(bad_xy), bad_xy, 0.0), zero)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_butterworth_zero_phase_vs_one_euro_lag():
    fps = 60.0
    t = np.arange(300) / fps
    slow = 100 * np.sin(2 * np.pi * 1.0 * t)
    x = (slow + 20 * np.sin(2 * np.pi * 20.0 * t))[:, None, None].repeat(3, 2)
    y = butter_zero_phase(x, fps)[:, 0, 0]
    mid = slice(60, 240)
    # 20 Hz is 3.3x the 6 Hz cut-off: 2nd order leaves (6/20)^4 ≈ 1% of it; 1 Hz passes unchanged, without lag
    assert np.abs(y[mid] - slow[mid]).max() < 3.0
    lag = lambda a: np.argmax([np.dot(a[60 + k:240 + k], slow[60:240]) for k in range(0, 10)])
    assert lag(y) == 0
    assert lag(one_euro(x, fps)[:, 0, 0]) > 0  # the causal filter lags: what zero-phase is for
    x[100] = np.nan
    y = butter_zero_phase(x, fps)
    assert np.isnan(y[100]).all() and np.isfinite(y[101]).all()


def test_infer_cli_fits_every_track_and_can_be_switched_off(tmp_path):
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from pose3d_cli.cli.app import app

    demo = Path(__file__).resolve().parents[1] / "pose3d_cli/assets/demo_cam01_blazepose.csv"
    cv = {}
    for fit in ("rays", "none"):
        out = tmp_path / f"{fit}.json"
        r = CliRunner().invoke(app, ["-q", "infer", str(demo), "-o", str(out), "--skeleton-fit", fit])
        assert r.exit_code == 0, r.output
        d = json.loads(out.read_text())
        assert d["metadata"]["skeleton_fit"]["method"] == fit
        j = np.array([f["joints_3d"] for f in d["frames"] if f.get("detected", True)], float)
        L = SK.bone_lengths(j)
        cv[fit] = np.nanmedian(np.nanstd(L, 0) / np.nanmean(L, 0))
    assert cv["rays"] < 1e-4 < 0.01 < cv["none"]


def _arm_track(T: int, flipped: slice):
    """A still body (fixed random bone directions) whose right upper arm points 45° towards a camera 3 m away
    and sweeps 1° a frame, the forearm bent off it; the 'lifted' copy has the upper arm's depth compressed to a
    small wrong-signed value on ``flipped`` frames (the forearm offset kept). Returns (true, lifted) (T, J, 3)
    root-relative and the camera translation of the root."""
    rng = np.random.default_rng(5)
    true = np.repeat(hand_fk(1, rng), T, axis=0)
    sh, el, wr = (SK.index(n) for n in ("right_shoulder", "right_elbow", "right_wrist"))
    th = np.radians(-20 + np.arange(T))
    u = np.stack([np.cos(th), 0.3 * np.ones(T), -np.ones(T)], -1)  # z < 0: towards the camera
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    v = np.array([0.2, 1.0, 0.3]) / np.linalg.norm([0.2, 1.0, 0.3])
    true[:, el] = true[:, sh] + TRUE["right_elbow"] * u
    true[:, wr] = true[:, el] + TRUE["right_wrist"] * v
    lifted = true.copy()
    w = u[flipped].copy()
    w[:, 2] = 0.15  # compressed depth, on the far side
    lifted[flipped, el] = true[flipped, sh] + TRUE["right_elbow"] * w / np.linalg.norm(w, axis=-1, keepdims=True)
    lifted[flipped, wr] = lifted[flipped, el] + TRUE["right_wrist"] * v
    return true, lifted, np.array([150.0, -100.0, 3000.0])


def test_arm_branch_held_over_frames_where_the_lifted_depth_is_on_the_wrong_side():
    T, flipped = 40, slice(15, 25)
    true, lifted, root_t = _arm_track(T, flipped)
    cam = true + root_t
    xy = project(cam)
    conf = np.ones((T, SK.num_joints))
    sh, el = SK.index("right_shoulder"), SK.index("right_elbow")
    # the per-bone nearest-depth rule picks the ray point on the side of the lifted bone along the ray: the
    # lifted upper arm points away from the camera there, the true one towards it
    ray = cam[:, el] / np.linalg.norm(cam[:, el], axis=-1, keepdims=True)
    side = lambda pts: np.sign(((pts[:, el] - pts[:, sh]) * ray).sum(-1))
    assert np.all(side(lifted)[flipped] > 0) and np.all(side(true) < 0)
    fitted = resolve_to_lengths(lifted, LENGTHS, SK, xy, conf, ray_weight=1.0)
    rest = np.delete(np.arange(T), np.arange(T)[flipped])
    err = np.linalg.norm(fitted[:, el] - true[:, el], axis=-1)
    assert np.all(err[rest] < 1e-3)
    # on the flipped frames the whole pose sits a little off (its camera translation is fitted to the lifted pose),
    # but the upper arm stays on the camera side: a few mm off, not the ~350 mm of the far branch
    assert np.all(side(fitted) < 0) and np.all(err[flipped] < 30)
    # frame by frame (no switch cost) the flipped frames take the far branch: the track is what carries them
    alone = resolve_to_lengths(lifted, LENGTHS, SK, xy, conf, ray_weight=1.0, jump_weight=0.0)
    err = np.linalg.norm(alone[:, el] - true[:, el], axis=-1)
    assert np.all(err[flipped] > 300) and np.all(err[rest] < 1e-3)


def _excursion_track(fps: float, seconds: float = 1.0, away=(0.4, 0.6)):
    """The right upper arm points 45° towards a camera 3 m away, except from ``away[0]`` to ``away[1]`` s where it
    really swings to 45° away from it (0.2 s), sampled at ``fps``; the lift is exact. Returns (true, time_s)."""
    rng = np.random.default_rng(7)
    t = np.arange(int(round(seconds * fps))) / fps
    true = np.repeat(hand_fk(1, rng), len(t), axis=0)
    sh, el, wr = (SK.index(n) for n in ("right_shoulder", "right_elbow", "right_wrist"))
    behind = (t >= away[0]) & (t < away[1])
    u = np.stack([np.full(len(t), 0.6), np.full(len(t), 0.3), np.where(behind, 0.75, -0.75)], -1)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    v = np.array([0.2, 1.0, 0.3]) / np.linalg.norm([0.2, 1.0, 0.3])
    true[:, el] = true[:, sh] + TRUE["right_elbow"] * u
    true[:, wr] = true[:, el] + TRUE["right_wrist"] * v
    return true, behind


@pytest.mark.parametrize("fps", [60.0, 30.0, 15.0])
def test_a_real_short_arm_swing_is_followed_at_any_frame_rate(fps):
    """The branch-switch weight scales with the frame rate (jump_weight_at): a real 0.2 s swing of the arm through
    the image plane is 12 frames at 60 fps and 3 at 15 fps; both are followed. With the 60 fps weight unscaled, the
    two switches outweigh 3 frames of the right branch and the swing is smoothed away at 15 fps."""
    true, behind = _excursion_track(fps)
    cam = true + np.array([150.0, -100.0, 3000.0])
    conf = np.ones(true.shape[:2])
    el = SK.index("right_elbow")
    fitted = resolve_to_lengths(true, LENGTHS, SK, project(cam), conf, ray_weight=1.0, jump_weight=jump_weight_at(fps))
    assert np.linalg.norm(fitted[:, el] - true[:, el], axis=-1).max() < 1e-3
    if fps == 15.0:
        held = resolve_to_lengths(true, LENGTHS, SK, project(cam), conf, ray_weight=1.0, jump_weight=jump_weight_at(60.0))
        assert np.linalg.norm(held[behind, el] - true[behind, el], axis=-1).min() > 100


def test_distal_bones_take_the_prior_ratio_to_their_proximal_bone_only_with_a_prior():
    """Forearms and shanks lifted at 0.7 and upper arms and thighs at 1.1 of their length: with a prior the distal
    bones come back to their proximal bone × the mocap ratio (1.1 × their length here, derived from the prior
    fractions by hand); without one (weight 0) the track keeps its own lengths."""
    rng = np.random.default_rng(3)
    T = 40
    frac = {c: PRIOR_FRACTIONS[c] for c, _ in SK.bones}
    scale = {"left_wrist": 0.7, "right_wrist": 0.7, "left_ankle": 0.7, "right_ankle": 0.7,
             "left_elbow": 1.1, "right_elbow": 1.1, "left_knee": 1.1, "right_knee": 1.1}
    true = np.array([frac[c] * 3500.0 for c, _ in SK.bones])
    pts = np.zeros((T, SK.num_joints, 3))
    for b in topological_order(SK):
        c, p = SK.bone_indices[b]
        d = rng.normal(size=(T, 3))
        pts[:, c] = pts[:, p] + true[b] * scale.get(SK.bones[b][0], 1.0) * d / np.linalg.norm(d, axis=-1, keepdims=True)
    conf = np.full((T, SK.num_joints), 0.9)
    idx = {c: b for b, (c, _) in enumerate(SK.bones)}
    own = fit_bone_lengths(pts, conf, SK, prior_weight=0.0)
    np.testing.assert_allclose(own[idx["left_wrist"]] / true[idx["left_wrist"]], 0.7, rtol=1e-6)
    fit = fit_bone_lengths(pts, conf, SK, prior_weight=0.5)
    for distal, proximal in (("left_wrist", "left_elbow"), ("right_ankle", "right_knee")):
        assert fit[idx[distal]] / fit[idx[proximal]] == pytest.approx(frac[distal] / frac[proximal], rel=1e-9)
        # proximal: sqrt(1.1 × 1) of its length (half-way in log space to the prior at the track's size) …
        assert fit[idx[proximal]] / true[idx[proximal]] == pytest.approx(np.sqrt(1.1), rel=0.02)
        # … and the distal bone the same multiple of its own, far from the 0.84 = sqrt(0.7) of the plain prior pull
        assert fit[idx[distal]] / true[idx[distal]] == pytest.approx(np.sqrt(1.1), rel=0.02)


def test_arm_candidates_are_the_four_ray_placements_and_the_lifted_side_costs_least():
    # a shoulder 2 m in front of the camera; the upper arm (300 mm) points 60° from the ray towards the camera, the
    # forearm (250 mm) 60° away from its ray: elbow and wrist each lie on their ray at two depths, by hand
    q = np.array([0.0, 0.0, 2000.0])
    u = np.array([np.sin(np.pi / 3), 0.0, -np.cos(np.pi / 3)])
    E_true = q + 300 * u
    v = np.array([0.0, np.sin(np.pi / 3), np.cos(np.pi / 3)])
    W_true = E_true + 250 * v
    r1, r2 = E_true / np.linalg.norm(E_true), W_true / np.linalg.norm(W_true)
    one = np.ones(())
    E, W, cost = arm_candidates(q, u, r1, one, 300.0, v, r2, one, 250.0)
    assert E.shape == (4, 3) and W.shape == (4, 3) and cost.shape == (4,)
    # every candidate keeps both lengths and sits on its rays
    assert np.allclose(np.linalg.norm(E - q, axis=-1), 300) and np.allclose(np.linalg.norm(W - E, axis=-1), 250)
    assert np.allclose(np.cross(E, r1), 0, atol=1e-6) and np.allclose(np.cross(W, r2), 0, atol=1e-6)
    # the elbow's near branch (0, 1) is the true one (towards the camera); the wrist's far branch given it (k = 1)
    assert np.allclose(E[0], E_true) and np.allclose(W[1], W_true)
    # the other elbow depth on the same ray: the sphere of radius 300 about q cut by the ray, by hand
    rq = r1 @ q
    far = (rq + np.sqrt(rq ** 2 - q @ q + 300 ** 2)) * r1
    assert np.allclose(E[2], far) and np.allclose(E[3], far)
    # lifted directions exact: the true pair costs -2 (both cosines 1) and least
    assert np.isclose(cost[1], -2.0) and np.argmin(cost) == 1
    # lifted directions with their depth mirrored (upper arm away from the camera, forearm towards it): the far
    # elbow with the near wrist (branch 2 * 1 + 0) now costs least
    mirror = np.array([1.0, 1.0, -1.0])
    _, _, cost_m = arm_candidates(q, u * mirror, r1, one, 300.0, v * mirror, r2, one, 250.0)
    assert np.argmin(cost_m) == 2
    # batched over leading dimensions like the rest of the module
    Eb, Wb, cb = arm_candidates(np.stack([q, q]), np.stack([u, u]), np.stack([r1, r1]), np.ones(2), 300.0,
                                np.stack([v, v]), np.stack([r2, r2]), np.ones(2), 250.0)
    assert Eb.shape == (2, 4, 3) and np.allclose(Eb[1], E) and np.allclose(cb[0], cost)
