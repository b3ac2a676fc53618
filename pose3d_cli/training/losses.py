"""Loss terms of lifter training as small pluggable pieces, each switched on by a weight.

Every term is a callable ``term(batch) -> scalar tensor`` over a :class:`Batch`; :class:`Objective` adds the
terms whose weight is not 0 and reports each term's value. Poses are root-relative camera-frame mm
``(B, [T,] J, 3)``; 2D is normalised camera coordinates ``(B, [T,] J, 2)`` (see lifting/codec.py).

3D-supervised (2D/3D pairs):
- :class:`MPJPE`: mean joint distance to the 3D target (mm).
- :class:`BoneLength`: mean |bone length − target bone length| (mm).
- :class:`FlexionAngle`: mean |flexion − target flexion| of the hinge joints (elbows, knees; degrees). Where the
  depth of a distal bone is uncertain, MPJPE is lowest for the average of its possible positions, which is a
  straighter limb (a shrunk forearm between the two depth branches): this term asks for the angle itself.

2D-only (no 3D target; each is 0 at the truth and grows away from it):
- :class:`Reprojection`: the predicted root-relative pose is placed in the camera by the closed-form root
  position that best explains the observed 2D (:func:`~pose3d_cli.lifting.torch_geometry.solve_root_translation`,
  so no depth head is needed), projected, and compared with the observed 2D, confidence-weighted. Units:
  normalised coordinates × 1000 (≈ pixels of a camera with a 1000 px focal length). It cannot see the
  pose's scale nor the depth order of the joints: that is what the prior is for.
- :class:`BoneConstancy`: within a track (the time axis), each bone's length stays the same: mean |l_t − mean_t l| (mm)
  over the frames someone was detected in (a frame whose confidences are all 0 is no measurement).
- :class:`Smoothness`: joint accelerations beyond ``margin`` mm/frame² (the largest a human shows, measured on the
  mocap) are penalised: mean max(0, |a| − margin), over the frame triples someone was detected in.
- :class:`ViewConsistency`: calibrated synchronised views of the same instant see one pose: each view's
  prediction turned into the world frame (``R_v^T p_v``, root-relative so the translation cancels) should equal
  the views' mean: mean |R_v^T p_v − mean_v R_v^T p_v| (mm). Rows are grouped ``views`` at a time
  (view-major within a group: rows g·V … g·V + V − 1); ``Batch.rotation`` holds each row's ``cam_from_world`` R.
- :class:`Adversarial`: the lifter's poses should look real to a :class:`PoseDiscriminator` trained on mocap poses
  (Yang et al., CVPR 2018, LSGAN form): mean (D(pose) − 1)².
- :class:`ShapePrior`: the lifter's poses, brought onto the mocap's mean pose by a similarity transform, should lie
  in the mocap's linear shape space (a point distribution model: Cootes et al. 1995; Zhou et al. 2015 lift 2D with
  such a basis): Mahalanobis distance inside the first ``modes`` principal components plus the residual outside
  them, per coordinate. Blind to the pose's position, orientation and scale (what the reprojection cannot see
  either), so it only asks for a plausible *shape*: which depth order of the joints is human.

Continual learning:
- :class:`Distillation`: mean joint distance to a frozen teacher's prediction on the same inputs (LwF).
- :class:`EWC`: Σ F_i (θ_i − θ*_i)² over the parameters (elastic weight consolidation, Kirkpatrick et al. 2017).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..lifting.torch_geometry import procrustes_transform, project_normalized, solve_root_translation

REPROJ_SCALE = 1000.0  # normalised units → "pixels at f = 1000"


@dataclass
class Batch:
    """What the terms look at. ``frame_weight`` (B, [T]) marks the frames that count (None: all)."""

    pred: torch.Tensor  # (B, [T,] J, 3) mm
    target: torch.Tensor | None = None  # (B, [T,] J, 3) mm (2D/3D sources)
    xy: torch.Tensor | None = None  # (B, [T,] J, 2) observed normalised 2D of the output frames
    conf: torch.Tensor | None = None  # (B, [T,] J)
    teacher: torch.Tensor | None = None  # (B, [T,] J, 3) frozen model's prediction on the same inputs
    frame_weight: torch.Tensor | None = None
    rotation: torch.Tensor | None = None  # (B, 3, 3) cam_from_world of each row's camera (view consistency)
    fps: float | None = None  # the frame rate of the rows' clips (smoothness), None: unknown


def _mean(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """Mean of per-frame values x (B, [T]) over the frames that count (``w > 0``), each times its weight ``w``: a
    source's weight scales its loss (dividing by the weights' sum cancelled it), a repeated frame (0) counts for
    nothing."""
    if w is None:
        return x.mean()
    w = w.to(x.dtype)
    return (x * w).sum() / (w > 0).sum().clamp(min=1)


def _detected(b: Batch) -> torch.Tensor | None:
    """(B, T) bool: the frames where someone was detected (a joint of confidence > 0); None where the batch has no
    confidences. A frame nobody was detected in (all 0: how ``pose3d infer --with-2d`` and adapt write it) is no
    measurement: the prediction there is a guess from an empty input, so the track terms must not count it."""
    return None if b.conf is None else (b.conf > 0).any(dim=-1)


def _track_frames(b: Batch) -> torch.Tensor | None:
    """(B, T) float 1/0: the frames the track terms count: those :func:`_counted` gives a weight (new: no repeated
    edge frame; detected: :func:`_detected`); None where the batch says neither (every frame counts)."""
    c = _counted(b)
    return None if c is None else (c > 0).to(b.pred.dtype)


def _counted(b: Batch) -> torch.Tensor | None:
    """(B, [T]) the weights :func:`_mean` averages a 2D-only term with: ``frame_weight`` (a source's weight, 0 for a
    repeated edge frame) times 0 for a frame nobody was detected in (:func:`_detected`: its prediction is a guess
    from an empty input, no measurement); None where the batch says neither."""
    detected = _detected(b)
    if detected is None:
        return b.frame_weight
    d = detected.to(b.pred.dtype)
    return d if b.frame_weight is None else b.frame_weight.to(b.pred.dtype) * d


class MPJPE:
    name = "mpjpe"

    def __call__(self, b: Batch) -> torch.Tensor:
        return _mean((b.pred - b.target).norm(dim=-1).mean(-1), b.frame_weight)


class BoneLength:
    name = "bone"

    def __init__(self, bones: torch.Tensor):
        self.bones = bones  # (K, 2) child, parent

    def lengths(self, p: torch.Tensor) -> torch.Tensor:
        return (p[..., self.bones[:, 0], :] - p[..., self.bones[:, 1], :]).norm(dim=-1)

    def __call__(self, b: Batch) -> torch.Tensor:
        return _mean((self.lengths(b.pred) - self.lengths(b.target)).abs().mean(-1), b.frame_weight)


class FlexionAngle:
    name = "flexion"

    def __init__(self, triples: torch.Tensor):
        self.triples = triples  # (K, 3) proximal, hinge, distal joint indices

    def angles(self, p: torch.Tensor) -> torch.Tensor:
        """(..., J, 3) → (..., K) degrees, 0 = straight (the convention of multiview.score.flexion_angles)."""
        a, j, c = (p[..., self.triples[:, i], :] for i in range(3))
        u, w = j - a, c - j
        cross = torch.linalg.cross(u, w, dim=-1)
        sin = (cross * cross).sum(-1).add(1e-6).sqrt()  # eps: a straight limb has a gradient too
        return torch.rad2deg(torch.atan2(sin, (u * w).sum(-1)))

    def __call__(self, b: Batch) -> torch.Tensor:
        return _mean((self.angles(b.pred) - self.angles(b.target)).abs().mean(-1), b.frame_weight)


class Reprojection:
    name = "reprojection"

    def __call__(self, b: Batch) -> torch.Tensor:
        w = b.conf.clamp(min=0)
        t = solve_root_translation(b.pred, b.xy, w)
        cam = b.pred + t.unsqueeze(-2)
        # a joint at or behind the camera projects as if just in front of it (far off its 2D): the pose mirrored
        # behind the camera, which reprojects exactly through negative depths, is then no solution
        uv = project_normalized(torch.cat([cam[..., :2], cam[..., 2:].clamp(min=1.0)], -1), min_depth=1.0)
        err = (uv - b.xy).norm(dim=-1) * REPROJ_SCALE  # (B, [T,] J)
        per_frame = (err * w).sum(-1) / w.sum(-1).clamp(min=1e-6)
        return _mean(per_frame, _counted(b))  # an undetected frame added 0 and still counted in the mean


class BoneConstancy:
    name = "bone_constancy"

    def __init__(self, bones: torch.Tensor):
        self.lengths = BoneLength(bones).lengths

    def __call__(self, b: Batch) -> torch.Tensor:
        if b.pred.dim() < 4 or b.pred.shape[1] < 2:
            return b.pred.sum() * 0.0
        lengths = self.lengths(b.pred)  # (B, T, K)
        w = _track_frames(b)  # a repeated edge frame or an undetected one is no new measurement
        if w is None:
            return (lengths - lengths.mean(dim=1, keepdim=True)).abs().mean()
        w = w.to(lengths.dtype)[..., None]
        mean = (lengths * w).sum(1, keepdim=True) / w.sum(1, keepdim=True).clamp(min=1)
        return ((lengths - mean).abs() * w).sum() / (w.sum() * lengths.shape[-1]).clamp(min=1)


class Smoothness:
    """``margin`` in mm/frame² (``fps`` None: every batch is taken at the margin's own rate), or in mm/s² with
    ``fps`` the rate to assume for a batch that does not say its own (``Batch.fps``): a clip's accelerations per frame
    are brought to seconds by its own rate (a 60 fps clip against a margin measured on 10 fps mocap in frames was
    penalised only beyond ~14× the mocap's accelerations)."""

    name = "smoothness"

    def __init__(self, margin: float, fps: float | None = None):
        self.margin, self.fps = float(margin), fps

    def __call__(self, b: Batch) -> torch.Tensor:
        if b.pred.dim() < 4 or b.pred.shape[1] < 3:
            return b.pred.sum() * 0.0
        p = b.pred
        rate = (b.fps or self.fps) ** 2 if self.fps is not None else 1.0
        acc = torch.relu((p[:, 2:] - 2 * p[:, 1:-1] + p[:, :-2]).norm(dim=-1) * rate - self.margin)  # (B, T-2, J)
        if self.fps is not None:
            acc = acc / rate  # back to mm/frame²: the term's size as before, only where it starts changed
        w = self.triples(b)
        if w is None:
            return acc.mean()
        w = w.to(acc.dtype)[..., None]
        return (acc * w).sum() / (w.sum() * acc.shape[-1]).clamp(min=1)

    @staticmethod
    def triples(b: Batch) -> torch.Tensor | None:
        """(B, T - 2) bool: the frame triples (t, t + 1, t + 2) whose acceleration counts: the middle and last frames
        are new (no edge frame repeated into the triple; a repeated first frame is the same instant, so its
        acceleration is real) and none of the three is a frame nobody was detected in (:func:`_detected`).
        None where the batch says neither (every triple counts)."""
        detected = _detected(b)
        if b.frame_weight is None and detected is None:
            return None
        counts = torch.ones((b.pred.shape[0], b.pred.shape[1] - 2), dtype=torch.bool, device=b.pred.device)
        if b.frame_weight is not None:
            counts = counts & (b.frame_weight[:, 1:-1] > 0) & (b.frame_weight[:, 2:] > 0)
        if detected is not None:
            counts = counts & detected[:, :-2] & detected[:, 1:-1] & detected[:, 2:]
        return counts


class ViewConsistency:
    name = "view_consistency"

    def __init__(self, views: int):
        self.views = int(views)

    def __call__(self, b: Batch) -> torch.Tensor:
        if self.views < 2:
            return b.pred.sum() * 0.0
        R = b.rotation.view(b.rotation.shape[0], *([1] * (b.pred.dim() - 3)), 3, 3)  # (B, [1,] 3, 3)
        world = b.pred @ R  # row vectors: p_world = R^T p_cam  ⇔  p_worldᵀ = p_camᵀ R
        g = world.reshape(-1, self.views, *world.shape[1:])  # (G, V, [T,] J, 3)
        per_frame = (g - g.mean(dim=1, keepdim=True)).norm(dim=-1).mean(-1)  # (G, V, [T]) mm
        return _mean(per_frame.flatten(0, 1), b.frame_weight)  # rows g·V + v, as frame_weight (B, [T]) orders them


def acceleration_margin(joints: torch.Tensor, ranges: list[tuple[int, int]], quantile: float = 0.999,
                        fps=None) -> float:
    """The ``quantile`` of joint accelerations of root-relative mocap joints (N, J, 3) in ``ranges``: mm/frame², or
    mm/s² when ``fps`` gives each range's frame rate (R,)."""
    accs = []
    for k, (s, e) in enumerate(ranges):
        if e - s >= 3:
            p = joints[s:e]
            a = (p[2:] - 2 * p[1:-1] + p[:-2]).norm(dim=-1).flatten()
            accs.append(a * float(fps[k]) ** 2 if fps is not None else a)
    if not accs:
        return 50.0
    a = torch.cat(accs)
    if len(a) > 1_000_000:
        a = a[torch.linspace(0, len(a) - 1, 1_000_000).long()]
    return float(torch.quantile(a.float(), quantile))


class PoseDiscriminator(nn.Module):
    """Real (mocap) or lifted? A small MLP over a root-relative pose (…, J, 3) mm → (…) score.

    Its input is the pose in metres and the kinematic-chain-space Gram matrix of the bone vectors
    (Wandt & Rosenhahn 2019: bone lengths on the diagonal, angles between bones off it), which Yang et al. 2018
    also feed their discriminator beside the joint positions.
    """

    def __init__(self, num_joints: int, bones: torch.Tensor, width: int = 256):
        super().__init__()
        self.register_buffer("bones", bones.clone())
        k = bones.shape[0]
        self.net = nn.Sequential(nn.Linear(num_joints * 3 + k * k, width), nn.LeakyReLU(0.2),
                                 nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        m = pose / 1000.0
        b = m[..., self.bones[:, 0], :] - m[..., self.bones[:, 1], :]  # (…, K, 3)
        kcs = b @ b.transpose(-1, -2)  # (…, K, K)
        return self.net(torch.cat([m.flatten(-2), kcs.flatten(-2) * 4.0], dim=-1)).squeeze(-1)


def discriminator_loss(disc: PoseDiscriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN: real → 1, fake → 0."""
    return ((disc(real) - 1) ** 2).mean() + (disc(fake.detach()) ** 2).mean()


class Adversarial:
    name = "prior"

    def __init__(self, disc: PoseDiscriminator):
        self.disc = disc

    def __call__(self, b: Batch) -> torch.Tensor:
        """Mean over the frames that count (``Batch.frame_weight``) of (D(pose) − 1)², per frame (B, [T])."""
        return _mean((self.disc(b.pred) - 1) ** 2, _counted(b))


SHAPE_PRIOR_MODES = 12  # chosen on a dev set of Bandai 2 files (6 / 12 / 20 × weights 0.3 / 1 / 3; README)
SHAPE_PRIOR_MAX_POSES = 50_000  # the fit uses at most this many poses (a fixed stride): ~1 s, whatever the prior's size


class ShapePrior:
    """A linear shape space of mocap poses, fitted once (deterministic: SVD), as a loss term.

    A pose is centred, turned onto the mean shape by the best rotation (Kabsch; held fixed for the gradient, so no
    SVD is differentiated and degenerate poses get finite gradients) and projected onto the tangent plane of the
    shape space at the mean (scaled so that its projection onto the mean is the mean: Cootes & Taylor's tangent
    projection), which also removes its size. ``mean`` (J, 3) the mocap's generalised-Procrustes mean shape (at the
    poses' mean size, mm); ``basis`` (K, J·3) the first K principal directions of the tangent residuals,
    ``variance`` (K,) their variances, ``residual_variance`` the mean variance of the rest (mm²)."""

    name = "shape_prior"

    def __init__(self, mean: torch.Tensor, basis: torch.Tensor, variance: torch.Tensor, residual_variance: float):
        self.mean, self.basis, self.variance = mean, basis, variance
        self.residual_variance = float(residual_variance)

    @staticmethod
    def _tangent(poses: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """(..., J, 3) → (..., J, 3): centred, rotated onto ``mean`` (rotation without gradient), scaled onto the
        tangent plane at ``mean`` (x · mean = |mean|²)."""
        p = poses - poses.mean(dim=-2, keepdim=True)
        target = mean.to(p).expand_as(p)
        with torch.no_grad():
            _, R, _ = procrustes_transform(p, target, scale=False)
        a = p @ R.transpose(-1, -2)
        m2 = (target * target).sum(dim=(-1, -2), keepdim=True)
        dot = (a * target).sum(dim=(-1, -2), keepdim=True)
        return a * (m2 / dot.clamp(min=1e-6 * m2))

    @classmethod
    def fit(cls, poses: torch.Tensor, modes: int = SHAPE_PRIOR_MODES, iterations: int = 3) -> "ShapePrior":
        """From mocap poses (N, J, 3) mm (any position, orientation, size): generalised Procrustes from the
        average pose, then PCA of the tangent residuals. At most ``SHAPE_PRIOR_MAX_POSES`` poses are used."""
        if not torch.isfinite(poses).all():
            raise ValueError("ShapePrior.fit: the poses hold non-finite values")
        if len(poses) > SHAPE_PRIOR_MAX_POSES:
            poses = poses[torch.linspace(0, len(poses) - 1, SHAPE_PRIOR_MAX_POSES).long()]
        p = poses.double()
        p = p - p.mean(dim=-2, keepdim=True)
        size = p.norm(dim=(-1, -2)).mean()
        if not size > 0:
            raise ValueError("ShapePrior.fit: the poses are single points")
        mean = p.mean(0)
        if not mean.norm() > 1e-3 * size:  # poses that average out (e.g. every orientation): start from one
            mean = p[int(p.norm(dim=(-1, -2)).argmax())]
        for _ in range(iterations):
            mean = cls._tangent(p, mean * size / mean.norm()).mean(0)
        mean = mean * size / mean.norm()
        r = (cls._tangent(p, mean) - mean).flatten(1)
        joints = p.shape[-2]
        modes = max(1, min(int(modes), 3 * joints - 7, len(r) - 1))  # similarity transforms take 7 dimensions
        _, sv, vh = torch.linalg.svd(r, full_matrices=False)
        var = sv ** 2 / len(r)
        rest = var[modes:3 * joints - 7]
        residual = float(rest.mean()) if len(rest) else float(var[modes - 1])
        return cls(mean.float(), vh[:modes].float(), var[:modes].float().clamp(min=1e-6), max(residual, 1e-6))

    def distance(self, poses: torch.Tensor) -> torch.Tensor:
        """(..., J, 3) → (...): squared Mahalanobis distance in the shape space + residual, per coordinate
        (≈ 1 for a typical mocap pose, 0 for the mean shape)."""
        r = (self._tangent(poses, self.mean) - self.mean.to(poses)).flatten(-2)
        basis = self.basis.to(r)
        c = r @ basis.T
        resid = r - c @ basis
        return ((c ** 2 / self.variance.to(r)).sum(-1) + (resid ** 2).sum(-1) / self.residual_variance) / r.shape[-1]

    def __call__(self, b: Batch) -> torch.Tensor:
        return _mean(self.distance(b.pred), b.frame_weight)


class Distillation:
    name = "distill"

    def __call__(self, b: Batch) -> torch.Tensor:
        return _mean((b.pred - b.teacher).norm(dim=-1).mean(-1), _counted(b))


class EWC:
    """Elastic weight consolidation: a penalty on moving the parameters the earlier model's function is
    sensitive to. ``fisher``/``anchor``: name → tensor of the diagonal Fisher information and the earlier weights."""

    name = "ewc"

    def __init__(self, model: nn.Module, fisher: dict[str, torch.Tensor], anchor: dict[str, torch.Tensor]):
        self.model, self.fisher, self.anchor = model, fisher, anchor

    def penalty(self) -> torch.Tensor:
        total = None
        for name, p in self.model.named_parameters():
            if name in self.fisher:
                term = (self.fisher[name] * (p - self.anchor[name]) ** 2).sum()
                total = term if total is None else total + term
        return total if total is not None else torch.zeros(())

    def __call__(self, b: Batch | None = None) -> torch.Tensor:
        return self.penalty()


def diagonal_fisher(model: nn.Module, xy: torch.Tensor, conf: torch.Tensor, batches: int = 64, batch_size: int = 16,
                    sigma_mm: float = 50.0, seed: int = 0) -> dict[str, torch.Tensor]:
    """Diagonal Fisher information of a lifter under a Gaussian output model (σ = ``sigma_mm``), from its own
    predictions (no targets needed): the mean over mini-batches of the squared gradient of the log-likelihood of
    an output sampled from the model. Normalised so its mean over all parameters is 1 (the EWC weight then
    reads as a plain strength). Single-frame inputs ``xy (N, J, 2)``, ``conf (N, J)``."""
    g = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    for _ in range(batches):
        idx = torch.randint(0, len(xy), (batch_size,), generator=g)
        out = model(xy[idx], conf[idx])
        y = (out + sigma_mm * torch.randn(out.shape, generator=g)).detach()
        nll = ((out - y) ** 2).sum() / (2 * sigma_mm ** 2) / batch_size
        model.zero_grad(set_to_none=True)
        nll.backward()
        for n, p in params.items():
            if p.grad is not None:
                fisher[n] += p.grad.detach() ** 2 * batch_size / batches
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    mean = torch.cat([f.flatten() for f in fisher.values()]).mean().clamp(min=1e-20)
    return {n: f / mean for n, f in fisher.items()}


@dataclass
class Objective:
    """Weighted terms: ``total(batch)`` → (loss, {term name: value}). Terms of weight 0 are never evaluated."""

    terms: list[tuple[float, object]] = field(default_factory=list)

    def add(self, weight: float, term) -> "Objective":
        if weight:
            self.terms.append((float(weight), term))
        return self

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __call__(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        total, parts = None, {}
        for w, term in self.terms:
            v = term(batch)
            parts[term.name] = float(v.detach())
            total = w * v if total is None else total + w * v
        return (total if total is not None else batch.pred.sum() * 0.0), parts
