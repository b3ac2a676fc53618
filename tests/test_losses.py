"""Each loss term is 0 at the truth and grows away from it; the objective only evaluates switched-on terms."""

import numpy as np
import pytest
import torch

from pose3d_cli.multiview.score import hinge_triples
from pose3d_cli.skeleton import H36M17
from pose3d_cli.training import losses as L

BONES = torch.from_numpy(H36M17.bone_indices)
ROOT = H36M17.index(H36M17.root)
HINGES = torch.from_numpy(hinge_triples(H36M17))


def true_track(T=12, seed=0):
    """A rigid body pose translating at constant velocity in front of the camera: (T, J, 3) camera frame mm,
    its root-relative form and its exact 2D."""
    g = torch.Generator().manual_seed(seed)
    pose = torch.randn(H36M17.num_joints, 3, generator=g, dtype=torch.float64) * 250
    pose = pose - pose[ROOT]
    t = torch.tensor([100.0, -50.0, 4000.0], dtype=torch.float64) + torch.arange(T, dtype=torch.float64)[:, None] * \
        torch.tensor([8.0, 0.0, -5.0], dtype=torch.float64)
    cam = pose[None] + t[:, None]
    xy = cam[..., :2] / cam[..., 2:]
    return cam - cam[:, ROOT:ROOT + 1], xy


def batch(pred, truth=None, xy=None, teacher=None):
    return L.Batch(pred=pred, target=truth, xy=xy, conf=None if xy is None else torch.ones(xy.shape[:-1], dtype=xy.dtype),
                   teacher=teacher)


def away(truth, k):
    """The truth moved away by ``k`` (0, 1, 2): random per-joint offsets of k × 40 mm, root kept at 0."""
    g = torch.Generator().manual_seed(7)
    off = torch.randn(truth.shape, generator=g, dtype=truth.dtype) * 40 * k
    off[..., ROOT, :] = 0
    return truth + off


TERMS = {
    "mpjpe": lambda rel, xy, p: L.MPJPE()(batch(p, rel)),
    "bone": lambda rel, xy, p: L.BoneLength(BONES)(batch(p, rel)),
    "flexion": lambda rel, xy, p: L.FlexionAngle(HINGES)(batch(p, rel)),
    "reprojection": lambda rel, xy, p: L.Reprojection()(batch(p, xy=xy)),
    "bone_constancy": lambda rel, xy, p: L.BoneConstancy(BONES)(batch(p)),
    "smoothness": lambda rel, xy, p: L.Smoothness(margin=1.0)(batch(p)),
    "distill": lambda rel, xy, p: L.Distillation()(batch(p, teacher=rel)),
}


@pytest.mark.parametrize("name", sorted(TERMS))
def test_zero_at_the_truth_and_growing_away(name):
    rel, xy = true_track()
    rel, xy = rel[None], xy[None]  # (B=1, T, J, ·)
    values = [float(TERMS[name](rel, xy, away(rel, k))) for k in (0, 1, 2)]
    assert values[0] == pytest.approx(0.0, abs=1e-2), values  # reprojection: ~1e-3 px from the solver's regulariser
    assert values[2] > values[1] > values[0] + 1e-3, values


def test_reprojection_ignores_scale_but_not_shape():
    """What the reprojection cannot see (the pose's scale with its depth) and what it can (the shape)."""
    rel, xy = true_track()
    assert float(L.Reprojection()(batch(rel * 1.7, xy=xy))) < 1e-2  # twice as big, twice as far: same 2D
    flat = rel.clone()
    flat[..., 2] = 0  # depth order lost
    assert float(L.Reprojection()(batch(flat, xy=xy))) > 1.0


def test_reprojection_refuses_the_pose_mirrored_behind_the_camera():
    """The negated pose at negative depth projects exactly onto the same 2D (x/z, y/z): it must not reproject."""
    rel, xy = true_track()
    assert float(L.Reprojection()(batch(-rel, xy=xy))) > 1.0
    assert float(L.Reprojection()(batch(rel, xy=xy))) < 1e-2


def test_a_source_weight_scales_its_loss():
    """Frame weights 0.3 give 0.3 x the loss of weights 1 (dividing by the weights' sum cancelled them); a 0
    (a repeated frame) does not count in the mean."""
    rel, _ = true_track()
    wrong = away(rel, 1)
    ones = torch.ones(rel.shape[0], dtype=rel.dtype)
    full = float(L.MPJPE()(L.Batch(pred=wrong, target=rel, frame_weight=ones)))
    assert float(L.MPJPE()(L.Batch(pred=wrong, target=rel, frame_weight=0.3 * ones))) == pytest.approx(0.3 * full)
    half = ones.clone()
    half[6:] = 0
    per_frame = (wrong - rel).norm(dim=-1).mean(-1)
    assert float(L.MPJPE()(L.Batch(pred=wrong, target=rel, frame_weight=half))) == pytest.approx(float(per_frame[:6].mean()))


def test_repeated_edge_frames_are_no_motion_and_no_measurement():
    """A window padded by repeating its edge frames (train.temporal_windows): a constant-velocity track, right
    everywhere, is smooth and of constant bones once the repeats are marked (train.new_frames)."""
    from pose3d_cli.train import new_frames

    rel, _ = true_track()
    moving = rel + torch.arange(12, dtype=rel.dtype)[:, None, None] * torch.tensor([30.0, 0, 0], dtype=rel.dtype)
    rows = torch.tensor([[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7]])
    pred = moving[rows[0].clamp(max=11)][None]
    fresh = new_frames(rows)
    assert fresh.tolist() == [[1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]]
    smooth = L.Smoothness(margin=1.0)
    assert float(smooth(L.Batch(pred=pred))) > 1.0  # the repeats read as a stop and a jump
    assert float(smooth(L.Batch(pred=pred, frame_weight=fresh))) == pytest.approx(0.0, abs=1e-9)
    stretched = pred.clone()
    stretched[:, :3, 4] += 200.0  # the first frame (repeated twice) off: measured once, not three times
    c = L.BoneConstancy(BONES)
    assert float(c(L.Batch(pred=stretched, frame_weight=fresh))) < float(c(L.Batch(pred=stretched)))


def test_missing_joints_do_not_count_in_reprojection():
    rel, xy = true_track()
    wrong = rel.clone()
    wrong[:, 5] += 300.0
    conf = torch.ones(xy.shape[:-1], dtype=xy.dtype)
    conf[:, 5] = 0
    b = L.Batch(pred=wrong, xy=xy, conf=conf)
    assert float(L.Reprojection()(b)) < 1e-2


def test_ewc_zero_at_the_anchor_and_growing_away():
    model = torch.nn.Linear(4, 3)
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    fisher = {n: torch.ones_like(p) for n, p in model.named_parameters()}
    ewc = L.EWC(model, fisher, anchor)
    assert float(ewc.penalty().detach()) == 0.0
    with torch.no_grad():
        model.weight += 0.1
    a = float(ewc.penalty().detach())
    with torch.no_grad():
        model.weight += 0.1
    assert float(ewc.penalty().detach()) > a > 0


def test_fisher_is_larger_for_parameters_the_output_depends_on():
    from pose3d_cli.lifting.models import build_model

    torch.manual_seed(0)
    J = H36M17.num_joints
    m = build_model("mlp", J, ROOT, np.zeros((J, 3)), np.full((J, 3), 100.0), width=32, blocks=1, dropout=0.0)
    xy, conf = torch.randn(200, J, 2) * 0.1, torch.ones(200, J)
    f = L.diagonal_fisher(m, xy, conf, batches=8)
    assert set(f) == {n for n, _ in m.named_parameters()}
    assert all(torch.isfinite(v).all() and (v >= 0).all() for v in f.values())
    assert f["head.weight"].mean() > 0


def test_prior_scores_mocap_poses_above_collapsed_ones():
    """The discriminator, trained a little on real poses against mean-shrunk and flattened ones, tells them apart."""
    from pose3d_cli.dataset import load_pairs

    from conftest import MOCAP, need  # noqa: F401

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    base, _ = true_track(T=1)
    real = base + torch.randn(512, H36M17.num_joints, 3, generator=g, dtype=torch.float64) * 30
    real = (real - real[:, ROOT:ROOT + 1]).float()
    flat = real.clone()
    flat[..., 2] = 0
    disc = L.PoseDiscriminator(H36M17.num_joints, BONES, width=64)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    for _ in range(150):
        loss = L.discriminator_loss(disc, real, flat)
        opt.zero_grad()
        loss.backward()
        opt.step()
    adv = L.Adversarial(disc)
    assert float(adv(L.Batch(pred=real)).detach()) < 0.2 < float(adv(L.Batch(pred=flat)).detach())
    del load_pairs


def _mocap_poses(folder: str, step: int, count: int) -> torch.Tensor:
    """Real poses (N, J, 3) mm, world frame, every 4th frame of ``count`` BVH files of ``folder`` (skips without data)."""
    from pose3d_cli.mocap.load import load_motions

    from conftest import MOCAP, need

    files = sorted(need(MOCAP / "bvh" / folder).glob("*.bvh"))[::step][:count]
    return torch.from_numpy(np.concatenate([m.joints[::4] for f in files for m in load_motions(f)])).float()


@pytest.fixture(scope="module")
def shape_prior_and_held_out():
    """A shape prior fitted on Bandai Namco 1 poses and other people's poses (Bandai Namco 2) to score."""
    fit = _mocap_poses("bandai_namco_1", 3, 40)
    held = _mocap_poses("bandai_namco_2", 15, 6)
    return L.ShapePrior.fit(fit), held[~torch.isnan(held).any(dim=(-1, -2))]


def _turn(p: torch.Tensor, deg: float, axis: int) -> torch.Tensor:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [k for k in range(3) if k != axis]
    R = torch.eye(3, dtype=p.dtype)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return p @ R.T


def test_shape_prior_sees_the_shape_only(shape_prior_and_held_out):
    """Position, orientation and size of a pose do not change its distance (Procrustes first); a typical
    pose of other people sits at ~1 (the distance is normalised by the mocap's own variances), the mean at 0."""
    prior, held = shape_prior_and_held_out
    d = prior.distance(held)
    moved = _turn(_turn(held, 70.0, 2), -35.0, 0) * 0.6 + torch.tensor([300.0, -2000.0, 4000.0])
    assert torch.allclose(prior.distance(moved), d, rtol=1e-3, atol=1e-3)
    assert float(prior.distance(prior.mean[None])) < 1e-4
    assert 0.5 < float(d.median()) < 2.0


def test_shape_prior_distance_along_its_modes_and_outside_them(shape_prior_and_held_out):
    """The mean shape moved by c standard deviations along principal mode k scores c²/(3J) (the Mahalanobis part);
    moved as far along a direction outside the modes, it scores by the residual variance instead."""
    prior, _ = shape_prior_and_held_out
    n = prior.mean.numel()
    for k in (0, 3, 11):
        for c in (1.0, 2.0):
            moved = prior.mean + c * prior.variance[k].sqrt() * prior.basis[k].reshape(prior.mean.shape)
            assert float(prior.distance(moved[None])) == pytest.approx(c * c / n, rel=0.15), (k, c)
    g = torch.Generator().manual_seed(3)
    d = torch.randn(n, generator=g, dtype=torch.float64)
    m = prior.mean.double().flatten()
    d -= (d @ m) / (m @ m) * m  # in the tangent plane
    d -= prior.basis.double().T @ (prior.basis.double() @ d)  # outside the modes
    step = 0.5 * (prior.residual_variance ** 0.5) * d / d.norm() * n ** 0.5 / 3
    got = float(prior.distance((m + step).reshape(prior.mean.shape)[None].float()))
    expected = float((step @ step) / prior.residual_variance / n)
    assert got == pytest.approx(expected, rel=0.3)  # not the modes' variance: the residual's


def test_shape_prior_gradients_are_finite_and_lead_to_plausible_shapes(shape_prior_and_held_out):
    """Collapsed poses (a point, a line, a plane) have finite gradients; descending the distance from noise
    reaches a shape the prior finds typical; frames of weight 0 do not count."""
    prior, held = shape_prior_and_held_out
    J = prior.mean.shape[0]
    line = torch.zeros(J, 3)
    line[:, 1] = torch.linspace(-800, 800, J)
    flat = held[0].clone()
    flat[:, 2] = 0
    for pose in (torch.zeros(J, 3), line, flat, held[1]):
        x = pose.clone().requires_grad_(True)
        prior.distance(x[None]).sum().backward()
        assert torch.isfinite(x.grad).all()
    x = (torch.randn(J, 3, generator=torch.Generator().manual_seed(0)) * 300).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=10.0)
    start = float(prior.distance(x[None]).detach())
    for _ in range(1000):
        opt.zero_grad()
        prior.distance(x[None]).sum().backward()
        opt.step()
    assert float(prior.distance(x[None]).detach()) < min(0.01 * start, 1.5)  # a typical held-out pose: ~1
    clips = torch.stack([held[:4], held[4:8] * 0 + torch.randn(4, J, 3) * 500])  # (B=2, T=4, J, 3)
    w = torch.tensor([[1.0] * 4, [0.0] * 4])
    assert float(prior(L.Batch(pred=clips, frame_weight=w))) == pytest.approx(float(prior.distance(held[:4]).mean()),
                                                                              rel=1e-5)


def test_shape_prior_tells_the_depth_order_apart(shape_prior_and_held_out):
    """What reprojection alone cannot see: a limb turned back through its hinge (the distal joint mirrored in depth
    about the elbow or knee: the 2D does not change) and the whole pose mirrored in depth (its chirality flipped),
    for other people's poses than the prior was fitted on. (A pose squeezed in depth is *closer* to the mean
    shape: this prior does not push depth out; the reprojection keeps the pose's own shape.)"""
    prior, held = shape_prior_and_held_out
    cam = _turn(held, 90.0, 0)  # world Z up → camera y down, looking horizontally along world Y
    real = prior.distance(cam)
    mirrored = cam * torch.tensor([1.0, 1.0, -1.0])
    assert float((prior.distance(mirrored) > real).float().mean()) > 0.95
    for proximal, distal, share in (("elbow", "wrist", 0.9), ("knee", "ankle", 0.7)):
        for side in ("left", "right"):
            h, d = H36M17.index(f"{side}_{proximal}"), H36M17.index(f"{side}_{distal}")
            back = cam.clone()
            back[:, d, 2] = 2 * cam[:, h, 2] - cam[:, d, 2]
            seen = (cam[:, d, 2] - cam[:, h, 2]).abs() > 150  # a clear depth: the mirror changes the limb
            assert seen.sum() > 20
            worse = float((prior.distance(back)[seen] > real[seen]).float().mean())
            assert worse > share, (side, proximal, worse)


def test_objective_only_runs_switched_on_terms():
    calls = []

    class Spy:
        name = "spy"

        def __call__(self, b):
            calls.append(1)
            return b.pred.sum()

    rel, _ = true_track()
    o = L.Objective().add(0.0, Spy()).add(2.0, L.MPJPE())
    loss, parts = o(batch(away(rel, 1), rel))
    assert calls == [] and set(parts) == {"mpjpe"}
    assert float(loss) == pytest.approx(2 * parts["mpjpe"])


def test_flexion_angle_of_hand_built_limbs_and_a_gradient_when_straight():
    """Elbows and knees bent by known angles (built here, not by the scoring code): 0 (straight), 90 and 135
    degrees; the straight limb, where atan2's magnitude has no derivative, still gives a finite gradient."""
    pose = torch.zeros(H36M17.num_joints, 3, dtype=torch.float64)
    want = {}
    for k, (deg, (a, j, c)) in enumerate(zip((0.0, 90.0, 135.0, 60.0), HINGES.tolist())):
        pose[a] = torch.tensor([100.0 * k, 0.0, 0.0], dtype=torch.float64)
        pose[j] = pose[a] + torch.tensor([0.0, 300.0, 0.0], dtype=torch.float64)  # proximal bone points down (+y)
        r = np.deg2rad(deg)  # distal bone turned by deg from straight down, towards +z
        pose[c] = pose[j] + 250.0 * torch.tensor([0.0, np.cos(r), np.sin(r)], dtype=torch.float64)
        want[k] = deg
    term = L.FlexionAngle(HINGES)
    got = term.angles(pose)
    assert got.tolist() == pytest.approx([want[k] for k in range(4)], abs=1e-3)
    pred = pose.clone().requires_grad_(True)
    loss = term(batch(pred[None], pose[None] + 0.0))
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_smoothness_compares_accelerations_per_second_at_each_clip_s_own_rate():
    """The margin (mm/frame² of the mocap at its rate) was applied to clips at theirs: on 60 fps site video against
    10 fps mocap it only acted beyond ~14× the mocap's accelerations."""
    T = 12
    t = torch.arange(T, dtype=torch.float64)
    for fps in (10.0, 60.0):  # the same motion, 2000 mm/s² along x, filmed at two rates
        pred = torch.zeros(1, T, 17, 3, dtype=torch.float64)
        pred[..., 0] = (0.5 * 2000.0 * (t / fps) ** 2)[None, :, None]
        b = L.Batch(pred=pred, fps=fps)
        assert float(L.Smoothness(1000.0, fps=30.0)(b)) > 0  # beyond 1000 mm/s² at either rate
        assert float(L.Smoothness(3000.0, fps=30.0)(b)) == 0
        margin = L.acceleration_margin(pred[0], [(0, T)], quantile=0.5, fps=[fps])
        assert margin == pytest.approx(2000.0, rel=1e-6)  # per second, whatever the rate
    assert float(L.Smoothness(1000.0, fps=60.0)(L.Batch(pred=pred))) > 0  # a clip without a rate: the pairs' rate


def _undetected_at(T: int, frames: list[int], dtype=torch.float64) -> torch.Tensor:
    """(1, T, J) confidences: 1 everywhere but 0 for every joint of ``frames`` (nobody detected there, as
    ``pose3d infer --with-2d`` and adapt's work CSVs write such a frame)."""
    conf = torch.ones(1, T, H36M17.num_joints, dtype=dtype)
    conf[:, frames] = 0
    return conf


def test_a_frame_nobody_was_detected_in_counts_in_no_track_term():
    """A track exact on every detected frame, frame 6 undetected (its prediction a guess from an empty input: here
    the pose shrunk to 0.8 and moved 1 m): bone constancy and smoothness are 0, as where frame 6 is exact. Before,
    frame 6 counted like a measurement (7.6 mm and 31 mm/frame² in the reviewer's case)."""
    rel, _ = true_track()
    moving = rel + torch.arange(12, dtype=rel.dtype)[:, None, None] * torch.tensor([30.0, 0, 0], dtype=rel.dtype)
    pred = moving[None].clone()
    pred[:, 6] = pred[:, 6] * 0.8 + 1000.0
    fresh = torch.ones(1, 12, dtype=rel.dtype)
    for term in (L.BoneConstancy(BONES), L.Smoothness(margin=1.0)):
        assert float(term(L.Batch(pred=pred, conf=_undetected_at(12, [6]), frame_weight=fresh))) == \
            pytest.approx(0.0, abs=1e-9), term.name
        assert float(term(L.Batch(pred=pred, conf=_undetected_at(12, []), frame_weight=fresh))) > 1.0, term.name
        assert float(term(L.Batch(pred=pred, conf=_undetected_at(12, [6])))) == pytest.approx(0.0, abs=1e-9), \
            term.name  # without frame weights too


def test_smoothness_without_the_triples_around_an_undetected_frame_by_hand():
    """Every joint still, but +10 mm in x on frame 2 and +1000 mm on frame 6 (undetected). Accelerations along x
    (triples named by their middle frame, margin 1): 1 → 10, 2 → −20, 3 → 10, 4 → 0, 5 → 1000, 6 → −2000,
    7 → 1000, 8 → 0. The triples touching frame 6 (middle 5, 6, 7) do not count: (9 + 19 + 9 + 0 + 0) / 5 = 7.4
    (before: all 8 counted, (37 + 999 + 1999 + 999) / 8 = 504.25)."""
    pred = torch.zeros(1, 10, H36M17.num_joints, 3, dtype=torch.float64)
    pred[:, 2, :, 0] = 10.0
    pred[:, 6, :, 0] = 1000.0
    b = L.Batch(pred=pred, conf=_undetected_at(10, [6]), frame_weight=torch.ones(1, 10, dtype=torch.float64))
    assert float(L.Smoothness(margin=1.0)(b)) == pytest.approx(7.4)


def test_bone_constancy_without_an_undetected_frame_by_hand():
    """Frames 0, 1 the pose, frame 2 the pose scaled by 1.1 about its root, frame 3 undetected (garbage). Each bone
    l, l, 1.1 l on the counted frames: mean (l + l + 1.1 l) / 3 = (3.1 / 3) l, deviations (0.1 / 3) l, (0.1 / 3) l,
    (0.2 / 3) l, their mean (0.4 / 9) l; over the bones (0.4 / 9) × the mean bone length."""
    rel, _ = true_track(T=1)
    pose = rel[0]
    pred = torch.stack([pose, pose, 1.1 * pose, 5.0 * pose + 300.0])[None]
    mean_bone = float((pose[BONES[:, 0]] - pose[BONES[:, 1]]).norm(dim=-1).mean())
    b = L.Batch(pred=pred, conf=_undetected_at(4, [3]), frame_weight=torch.ones(1, 4, dtype=torch.float64))
    assert float(L.BoneConstancy(BONES)(b)) == pytest.approx(0.4 / 9 * mean_bone)


def test_all_frames_detected_changes_no_track_term():
    """Confidences that detect someone on every frame give the values the frame weights alone give (repeated edge
    frames: a repeated first frame of a triple is the same instant and still counts)."""
    rel, _ = true_track()
    g = torch.Generator().manual_seed(4)
    pred = (rel + torch.randn(rel.shape, generator=g, dtype=rel.dtype) * 40)[None]
    fresh = torch.tensor([[1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]], dtype=rel.dtype)
    for term in (L.BoneConstancy(BONES), L.Smoothness(margin=1.0)):
        alone = float(term(L.Batch(pred=pred, frame_weight=fresh)))
        assert float(term(L.Batch(pred=pred, conf=_undetected_at(12, []), frame_weight=fresh))) == \
            pytest.approx(alone, rel=1e-12), term.name


def test_view_consistency_counts_each_new_frame_once():
    """Two views (R = I, one group), a clip of rows [0, 1, 1, 1] (frame weights [1, 1, 0, 0]: the last reference
    frame repeated to fill it). Frame 0: the views at x = ±10 mm (10 mm from their mean); frame 1 and its repeats:
    ±30 mm. Over the new frames (10 + 30) / 2 = 20 mm, as MPJPE on the same batch (before: (10 + 3 × 30) / 4 = 25)."""
    V, J = 2, 3
    pred = torch.zeros(V, 4, J, 3)
    pred[0, 0, :, 0], pred[1, 0, :, 0] = 10.0, -10.0
    pred[0, 1:, :, 0], pred[1, 1:, :, 0] = 30.0, -30.0
    w = torch.tensor([[1.0, 1.0, 0.0, 0.0]]).expand(V, -1)
    b = L.Batch(pred=pred, frame_weight=w, rotation=torch.eye(3).repeat(V, 1, 1))
    assert float(L.ViewConsistency(V)(b)) == pytest.approx(20.0)
    assert float(L.ViewConsistency(V)(L.Batch(pred=pred, rotation=b.rotation))) == pytest.approx(25.0)  # no weights


def test_adversarial_counts_each_new_frame_once():
    """A stand-in discriminator scoring a pose by its first joint's x: frames x = 1, 3, 3, 3 (the last two repeat
    frame 1, weights [1, 1, 0, 0]) score (D − 1)² = 0, 4, 4, 4. Over the new frames (0 + 4) / 2 = 2 (before: 12 / 4
    = 3)."""
    pred = torch.zeros(1, 4, H36M17.num_joints, 3)
    pred[0, :, 0, 0] = torch.tensor([1.0, 3.0, 3.0, 3.0])
    adv = L.Adversarial(lambda pose: pose[..., 0, 0])
    assert float(adv(L.Batch(pred=pred, frame_weight=torch.tensor([[1.0, 1.0, 0.0, 0.0]])))) == pytest.approx(2.0)
    assert float(adv(L.Batch(pred=pred))) == pytest.approx(3.0)  # no weights: every frame


def test_the_frame_terms_average_over_the_detected_frames_only():
    """Reprojection, distillation and the adversarial prior average per frame over the frames someone was detected
    in: with frame 6 of 12 undetected, each equals its value over the other 11 frames (reprojection had added 0
    for frame 6 and still divided by 12; distillation and the prior counted a guess from an empty input)."""
    rel, xy = true_track()
    off = rel.clone()
    off[..., 3, 0] += 40.0  # one joint 40 mm off in x on every frame: a reprojection error no translation removes
    conf = _undetected_at(12, [6])[0]
    keep = [t for t in range(12) if t != 6]
    teacher = rel + torch.arange(12, dtype=rel.dtype)[:, None, None]  # frame t's teacher t mm away (in x, y, z)

    class Disc(torch.nn.Module):  # a stand-in scorer: a frame's score is its index / 10
        def forward(self, pose):
            return torch.arange(pose.shape[0], dtype=pose.dtype) / 10

    terms = {"reprojection": L.Reprojection(), "distill": L.Distillation(), "adversarial": L.Adversarial(Disc())}
    for name, term in terms.items():
        got = float(term(L.Batch(pred=off, xy=xy, conf=conf, teacher=teacher)))
        if name == "adversarial":  # (t/10 − 1)² over the detected frames, by hand
            want = sum((t / 10 - 1) ** 2 for t in keep) / 11
        elif name == "distill":  # frame t: the mean joint distance to its teacher, averaged over the detected frames
            want = float(np.mean([(off[t] - teacher[t]).norm(dim=-1).mean() for t in keep]))
        else:  # the same frames alone, all detected
            want = float(term(L.Batch(pred=off[keep], xy=xy[keep], conf=torch.ones_like(conf[keep]))))
        assert got == pytest.approx(want, rel=1e-6), name
