"""Per-person skeleton fit: one person's bones keep their length over a track (numpy, no torch).

1. :func:`fit_bone_lengths`: each bone's length over the track is the confidence-weighted median of the lifted
   lengths, left and right averaged (one body is symmetric), then pulled towards a prior of plausible
   proportions (:data:`PRIOR_FRACTIONS`, measured from the shared mocap by ``benchmarks/skeleton_prior.py``) in
   log space; the prior is scaled to the lifter's overall size (the median over bones of the log ratio of the
   lifted lengths to the prior: robust, so the pull changes mostly the proportions; it does not keep the overall
   size exactly, e.g. 2-4% smaller for mocap-like lengths at the default weight). Then each distal limb bone
   (forearm, shank: :data:`DISTAL_BONES`) takes the prior's ratio to its proximal bone (upper arm, thigh): the
   lifter shortens the distal bones most (on the pose2sim reference, forearms 0.87 and upper arms 0.94 of their
   length), so their length comes from the better-lifted proximal one (this lengthens the person a little).
2. :func:`resolve_to_lengths`: every frame is rebuilt down the kinematic tree with exactly those lengths. The
   pose is first placed in the camera (the translation that best reprojects the root-relative pose onto the 2D,
   linear least squares); each child then sits at its bone's length from its (already solved) parent, in a
   direction blended between the lifted bone direction and the direction that puts the child on its camera ray
   (the ray point at that distance nearest the lifted depth), weighted by the 2D confidence; only limb (left/right)
   joints are pulled onto rays. Batched over frames.
3. An arm (:data:`ARM_JOINTS`: the elbow and its child, the wrist) chooses its ray points jointly and over the
   track (:func:`arm_branches`): a camera ray meets the bone-length sphere at two depths, so the upper arm and the
   forearm give 4 placements a frame; each costs how far its two bone directions turn from the lifted ones, and
   switching between frames costs the jump of elbow and wrist (:data:`BRANCH_JUMP_WEIGHT`), decoded by a
   4-state Viterbi (:func:`.viterbi.viterbi`). The lifter compresses depth, so where a bone lies nearly across
   the ray its lifted depth often sits on the wrong side; the track's confident frames carry the right side over.
"""

from __future__ import annotations

import numpy as np

from ..errors import Pose3dError
from ..skeleton import Skeleton
from .viterbi import viterbi

#: bone length / total bone length of the h36m17 skeleton, keyed by the bone's child joint; median over 13
#: takes (HDM05: one per subject, ASF/AMC; CMU 4 BVH; Bandai Namco 4 BVH), left/right averaged:
#: ``python benchmarks/skeleton_prior.py``
PRIOR_FRACTIONS = {
    "right_hip": 0.0184,
    "right_knee": 0.1096,
    "right_ankle": 0.1057,
    "left_hip": 0.0184,
    "left_knee": 0.1096,
    "left_ankle": 0.1057,
    "spine": 0.0509,
    "thorax": 0.0603,
    "nose": 0.0363,
    "head": 0.0247,
    "left_shoulder": 0.0455,
    "left_elbow": 0.0685,
    "left_wrist": 0.0645,
    "right_shoulder": 0.0455,
    "right_elbow": 0.0685,
    "right_wrist": 0.0645,
}
PRIOR_SKELETON = "h36m17"
#: distal limb bone → its proximal bone (keyed by child joint, as :data:`PRIOR_FRACTIONS`): with a prior, the distal
#: one's length is the proximal one's × their prior ratio (chosen on the pose2sim DEV frames: P-MPJPE 53.9 → 51.8 mm
#: with the default blend, 56.9 → 54.7 with its plain part, 53.9 → 52.4 with a seed-1 blend; angles unchanged)
DISTAL_BONES = {"left_wrist": "left_elbow", "right_wrist": "right_elbow", "left_ankle": "left_knee",
                "right_ankle": "right_knee"}
#: defaults chosen on the pose2sim DEV frames 0-49 (grid 0/0.25/0.5/0.75/1 each; README "Accuracy in the wild")
PRIOR_WEIGHT = 0.5  # 0: the track's own symmetrised lengths; 1: the mocap proportions at the track's size
RAY_WEIGHT = 0.5  # how far a confident joint is pulled onto its camera ray (× its 2D confidence)
#: (chosen on the pose2sim DEV frames, 60 fps: plateau 1.0-1.4; 0.7 and below keep most wrong switches, 2 and above
#: hold a wrong branch) cost of a move between frames, × (elbow jump² + wrist jump²) / (upper arm ×
#: forearm length), at :data:`BRANCH_JUMP_FPS` (every move is charged, staying on a branch too: a switch between
#: branches is a large jump); 0 decodes every frame alone. Other frame rates scale it by
#: fps / 60 (:func:`jump_weight_at`): a switch pays the two branches' separation once, whatever the rate, while a
#: wrong branch pays its unary cost every frame, i.e. in proportion to the rate (the same DEV frames decimated to
#: 30 fps: 0.3 and 0.6 best, 1.2 worse, 2.4 and 4.8 worse still)
BRANCH_JUMP_WEIGHT = 1.2
BRANCH_JUMP_FPS = 60.0
ARM_JOINTS = (("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"))  # chosen jointly and over the track


def bone_of_child(sk: Skeleton) -> dict[str, int]:
    """``{child joint name: index of its bone in sk.bones}`` (a joint has one parent, so one bone ends at it)."""
    return {c: b for b, (c, _) in enumerate(sk.bones)}


def mirror_bones(sk: Skeleton) -> np.ndarray:
    """(B,) index of each bone's left/right mirror (itself for central bones), bones indexed as ``sk.bones``."""
    by_child, perm = bone_of_child(sk), sk.flip_permutation
    return np.array([by_child.get(sk.joints[perm[sk.index(c)]], b) for b, (c, _) in enumerate(sk.bones)])


def symmetric_bones(sk: Skeleton, lengths: np.ndarray) -> np.ndarray:
    """(..., B) bone lengths → left and right of each pair replaced by their geometric mean."""
    m = mirror_bones(sk)
    return np.sqrt(lengths * lengths[..., m])


def has_prior(sk: Skeleton) -> bool:
    """Whether :data:`PRIOR_FRACTIONS` was measured on ``sk``'s bones (other skeletons get prior weight 0)."""
    return sk.name == PRIOR_SKELETON and {c for c, _ in sk.bones} == set(PRIOR_FRACTIONS)


def prior_lengths(sk: Skeleton) -> np.ndarray:
    """(B,) prior bone fractions of ``sk`` (fractions of the mocap's summed bone lengths, rounded: they sum to
    ~1); Pose3dError for a skeleton the prior was not measured on."""
    names = [c for c, _ in sk.bones]
    if not has_prior(sk):
        raise Pose3dError(f"skeleton fit: the proportion prior is for {PRIOR_SKELETON} bones, not {sk.name}; "
                          f"use a {PRIOR_SKELETON} model or --skeleton-fit none")
    return np.array([PRIOR_FRACTIONS[n] for n in names])


def weighted_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted median over axis 0 of (T, B) values with (T, B) weights ≥ 0 (NaN values get weight 0)."""
    w = np.where(np.isfinite(x), w, 0.0)
    x = np.where(np.isfinite(x), x, np.inf)
    order = np.argsort(x, axis=0)
    xs, ws = np.take_along_axis(x, order, 0), np.take_along_axis(w, order, 0)
    cw = np.cumsum(ws, axis=0)
    half = cw[-1] / 2
    k = np.argmax(cw >= half[None], axis=0)
    out = xs[k, np.arange(x.shape[1])]
    return np.where(cw[-1] > 0, out, np.nan)


def fit_bone_lengths(joints: np.ndarray, conf: np.ndarray, sk: Skeleton, prior_weight: float = PRIOR_WEIGHT,
                     distal_ratio: bool = True) -> np.ndarray:
    """Constant bone lengths (B,) mm of one person's track.

    Args:
        joints: (T, J, 3) mm lifted poses (NaN frames ignored); conf: (T, J) 2D confidence in [0, 1].
        prior_weight: 0 = the track's own (symmetrised) lengths, 1 = the prior proportions at the track's size.
        distal_ratio: with a prior (``prior_weight > 0``), forearms and shanks keep the prior's ratio to the upper
            arm and thigh (:data:`DISTAL_BONES`).
    """
    if joints.shape[1:] != (sk.num_joints, 3) or conf.shape != joints.shape[:2]:
        raise Pose3dError(f"skeleton fit: poses {joints.shape} / confidences {conf.shape} are not (T, "
                          f"{sk.num_joints}, 3) / (T, {sk.num_joints}) joints of {sk.name}")
    b = sk.bone_indices
    L = sk.bone_lengths(joints.astype(np.float64))  # (T, B)
    w = np.minimum(conf[:, b[:, 0]], conf[:, b[:, 1]]).astype(np.float64) + 1e-3
    med = weighted_median(L, w)
    if not np.all(np.isfinite(med)) or np.any(med <= 0):
        raise Pose3dError("skeleton fit: the track has no frame with every bone measured")
    med = symmetric_bones(sk, med)
    if prior_weight <= 0:
        return med
    frac = prior_lengths(sk)
    ok = frac > 0
    log_scale = np.median(np.log(med[ok]) - np.log(frac[ok]))
    prior = np.where(ok, frac * np.exp(log_scale), med)
    out = np.exp((1 - prior_weight) * np.log(med) + prior_weight * np.log(prior))
    if distal_ratio:
        index = bone_of_child(sk)
        for distal, proximal in DISTAL_BONES.items():
            out[index[distal]] = out[index[proximal]] * PRIOR_FRACTIONS[distal] / PRIOR_FRACTIONS[proximal]
    return out


def camera_translation(joints: np.ndarray, xy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(T, 3) translation t placing root-relative ``joints`` (T, J, 3) so that ``joints + t`` best projects onto
    the normalised 2D ``xy`` (T, J, 2) with weights ``w`` (T, J): linear least squares of
    ``tx - x tz = x Z - X``, ``ty - y tz = y Z - Y``."""
    X, Y, Z = joints[..., 0], joints[..., 1], joints[..., 2]
    x, y = xy[..., 0], xy[..., 1]
    zero, one = np.zeros_like(x), np.ones_like(x)
    A = np.stack([np.stack([one, zero, -x], -1), np.stack([zero, one, -y], -1)], -2)  # (T, J, 2, 3)
    rhs = np.stack([x * Z - X, y * Z - Y], -1)  # (T, J, 2)
    Aw = A * w[..., None, None]
    AtA = np.einsum("tjki,tjkl->til", Aw, A) + 1e-9 * np.eye(3)
    Atb = np.einsum("tjki,tjk->ti", Aw, rhs)
    return np.linalg.solve(AtA, Atb[..., None])[..., 0]


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def _bone_direction(child: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """(T, 3) unit directions parent → child; a frame where the two coincide (a bone lifted to length 0) takes the
    bone's mean direction over the other frames (else straight down the image), so it still gets its length."""
    d = _unit(child - parent)
    zero = np.linalg.norm(d, axis=-1) < 0.5
    if zero.any():
        mean = d[~zero].sum(0) if (~zero).any() else np.zeros(3)
        d[zero] = _unit(mean) if np.linalg.norm(mean) > 1e-9 else np.array([0.0, 1.0, 0.0])
    return d


def jump_weight_at(fps: float, weight: float = BRANCH_JUMP_WEIGHT) -> float:
    """The arms' branch-switch weight for a track at ``fps`` frames/s (``weight`` is set at
    :data:`BRANCH_JUMP_FPS`): a branch switch then weighs the same against the same time on a wrong branch at any
    rate; 0 for a non-positive rate."""
    return weight * fps / BRANCH_JUMP_FPS if fps > 0 else 0.0


def ray_depths(q: np.ndarray, r: np.ndarray, L: float) -> np.ndarray:
    """(..., 2) distances along unit rays ``r`` (..., 3) from the camera of the two points at ``L`` from ``q`` (...,
    3), nearer first (both the ray's point nearest ``q`` where the ray misses the sphere)."""
    rq = (r * q).sum(-1)
    s = np.sqrt(np.maximum(rq ** 2 - (q * q).sum(-1) + L ** 2, 0.0))
    return np.stack([rq - s, rq + s], -1)


def place_child(q: np.ndarray, d: np.ndarray, r: np.ndarray, L: float, a: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(..., 3) a child at ``L`` from its parent ``q`` (..., 3), its direction blended by ``a`` (...) between the
    lifted unit direction ``d`` (..., 3) and the ray point ``depth`` (...) along the unit ray ``r`` (..., 3)."""
    d_ray = _unit(depth[..., None] * r - q)
    return q + L * _unit(a[..., None] * d_ray + (1 - a[..., None]) * d)


def arm_candidates(q: np.ndarray, d1: np.ndarray, r1: np.ndarray, a1: np.ndarray, L1: float, d2: np.ndarray,
                   r2: np.ndarray, a2: np.ndarray, L2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 4 ray-branch placements of an elbow and its wrist, and the cost of each (module doc, step 3).

    Args:
        q: (..., 3) the placed shoulder; d1, d2: (..., 3) lifted unit directions of upper arm and forearm; r1, r2:
        (..., 3) unit camera rays of elbow and wrist; a1, a2: (...) ray weights; L1, L2: the bone lengths.
    Returns:
        elbows (..., 4, 3), wrists (..., 4, 3) and their costs (..., 4): how far the two bone directions turn from
        the lifted ones (−(cos₁ + cos₂)); branch ``2 i + k`` is the elbow's ray depth ``i`` and the wrist's ``k``
        (0 the nearer).
    """
    E = place_child(q[..., None, :], d1[..., None, :], r1[..., None, :], L1, a1[..., None], ray_depths(q, r1, L1))
    W = place_child(E[..., :, None, :], d2[..., None, None, :], r2[..., None, None, :], L2, a2[..., None, None],
                    ray_depths(E, r2[..., None, :], L2))  # (..., 2 elbow branches, 2 wrist branches, 3)
    E = np.broadcast_to(E[..., :, None, :], W.shape)
    cos1 = (_unit(E - q[..., None, None, :]) * d1[..., None, None, :]).sum(-1)
    cos2 = (_unit(W - E) * d2[..., None, None, :]).sum(-1)
    lead = q.shape[:-1]
    return E.reshape(lead + (4, 3)), W.reshape(lead + (4, 3)), -(cos1 + cos2).reshape(lead + (4,))


def arm_branches(q: np.ndarray, d1: np.ndarray, r1: np.ndarray, a1: np.ndarray, L1: float, d2: np.ndarray,
                 r2: np.ndarray, a2: np.ndarray, L2: float, valid: np.ndarray,
                 jump_weight: float = BRANCH_JUMP_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """Elbow and wrist (each (T, 3)) of the 4 ray-branch pairs (:func:`arm_candidates`) decoded over the track.

    Args:
        q, d1, r1, d2, r2: (T, 3), a1, a2: (T,), L1, L2: as :func:`arm_candidates`; valid: (T,) frames with a
        pose (no switch cost into or out of the others).
    """
    T = len(q)
    E, W, unary = arm_candidates(q, d1, r1, a1, L1, d2, r2, a2, L2)
    jump = ((E[1:, None] - E[:-1, :, None]) ** 2).sum(-1) + ((W[1:, None] - W[:-1, :, None]) ** 2).sum(-1)
    both = (valid[1:] & valid[:-1])[:, None, None]
    pick = viterbi(unary, np.where(both, jump_weight * jump / (L1 * L2), 0.0))
    t = np.arange(T)
    return E[t, pick], W[t, pick]


def resolve_to_lengths(joints: np.ndarray, lengths: np.ndarray, sk: Skeleton, xy: np.ndarray | None = None,
                       conf: np.ndarray | None = None, ray_weight: float = RAY_WEIGHT,
                       jump_weight: float = BRANCH_JUMP_WEIGHT) -> np.ndarray:
    """Rebuild (T, J, 3) root-relative poses with bone lengths ``lengths`` (B,) (see module doc).

    ``xy`` (T, J, 2) normalised camera coordinates and ``conf`` (T, J) pull each child onto its camera ray by
    ``ray_weight * conf``; without them only the lifted directions are kept. ``jump_weight``: the arms' branch
    switch cost (:data:`BRANCH_JUMP_WEIGHT`; 0 for frames that are no track, e.g. photos). NaN frames stay NaN.
    """
    if lengths.shape != (len(sk.bones),):
        raise Pose3dError(f"skeleton fit: {lengths.shape[0]} bone lengths given, {sk.name} has {len(sk.bones)} "
                          f"bones ({', '.join(c for c, _ in sk.bones)})")
    P = joints.astype(np.float64)
    valid = np.all(np.isfinite(P.reshape(len(P), -1)), axis=1)
    P = np.where(valid[:, None, None], P, 0.0)
    root = sk.index(sk.root)
    P = P - P[:, root:root + 1]
    use_rays = xy is not None and conf is not None and ray_weight > 0
    arm = {}  # elbow bone -> its forearm bone, decoded together
    if use_rays:
        # a joint without finite 2D (or confidence) pulls nothing: weight 0, never NaN into the solves
        seen = np.isfinite(xy).all(-1) & np.isfinite(conf)
        xy = np.where(seen[..., None], xy, 0.0).astype(np.float64)
        w = np.where(seen, np.clip(conf.astype(np.float64), 0, 1), 0.0)
        P = P + camera_translation(P, xy, w)[:, None]
        rays = _unit(np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], -1))
        # only sided (limb) joints are pulled onto their rays: a central joint's 2D (a head top or spine derived
        # from face and shoulder landmarks) is no landmark of that joint, and its ray tips the head into depth
        limb = np.zeros(sk.num_joints)
        limb[list(sk.joints_left) + list(sk.joints_right)] = 1.0
        bone_of = bone_of_child(sk)
        arm = {bone_of[e]: bone_of[h] for e, h in ARM_JOINTS
               if e in bone_of and h in bone_of and sk.bones[bone_of[h]][1] == e}
    out = P.copy()
    done = set()
    for bi in topological_order(sk):
        c, p = sk.bone_indices[bi]
        if bi in done:
            continue
        L = lengths[bi]
        d = _bone_direction(P[:, c], P[:, p])  # lifted direction
        q = out[:, p]
        if bi in arm:
            h = sk.bone_indices[arm[bi]][0]
            a1, a2 = ray_weight * w[:, c] * limb[c], ray_weight * w[:, h] * limb[h]
            fore = _bone_direction(P[:, h], P[:, c])
            out[:, c], out[:, h] = arm_branches(q, d, rays[:, c], a1, L, fore, rays[:, h], a2,
                                                lengths[arm[bi]], valid, jump_weight)
            done.add(arm[bi])
        elif use_rays:
            r = rays[:, c]
            cand = ray_depths(q, r, L)
            depth_lift = (r * (q + L * d)).sum(-1)
            pick = cand[np.arange(len(cand)), np.argmin(np.abs(cand - depth_lift[:, None]), -1)]
            out[:, c] = place_child(q, d, r, L, ray_weight * w[:, c] * limb[c], pick)
        else:
            out[:, c] = q + L * d
    out = out - out[:, root:root + 1]
    out[~valid] = np.nan
    return out.astype(joints.dtype)


def topological_order(sk: Skeleton) -> np.ndarray:
    """Bone indices ordered so that every bone comes after its parent bone."""
    b = sk.bone_indices
    done = {int(j) for j in np.flatnonzero(sk.parent_indices < 0)}  # every root (a forest is walked tree by tree)
    order: list[int] = []
    while len(order) < len(b):
        before = len(order)
        for i, (c, p) in enumerate(b):  # storage order, a child as soon as its parent is placed
            if i not in order and int(p) in done:
                order.append(i)
                done.add(int(c))
        if len(order) == before:  # unreachable from a root (the Skeleton's checks make this impossible)
            raise Pose3dError(f"skeleton fit: {sk.name}'s bones do not hang from a root")
    return np.array(order, dtype=np.int64)


def fit_skeleton(joints: np.ndarray, conf: np.ndarray, sk: Skeleton, xy: np.ndarray | None = None,
                 prior_weight: float = PRIOR_WEIGHT, ray_weight: float = RAY_WEIGHT,
                 jump_weight: float = BRANCH_JUMP_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """One person's track (T, J, 3) → (the same rebuilt with constant bone lengths, the lengths (B,) mm).

    A skeleton without a measured prior (:func:`has_prior`) keeps its own symmetrised lengths (weight 0)."""
    lengths = fit_bone_lengths(joints, conf, sk, prior_weight if has_prior(sk) else 0.0)
    return resolve_to_lengths(joints, lengths, sk, xy, conf, ray_weight, jump_weight), lengths
