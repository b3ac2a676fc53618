"""Robust multi-view triangulation of 2D keypoints from calibrated cameras (numpy only).

The steps, in the order :func:`triangulate_views` runs them (the way Pose2Sim and anipose do it):

1. **Undistortion**: pixels → undistorted normalised coordinates per camera (:func:`undistort`).
2. **Sync offsets** (:func:`estimate_sync_offsets`): the integer frame shifts of all views at once that minimise
   the sum over every pair of views of the median epipolar distance (:func:`epipolar_distance_px`: a point seen at
   the same instant lies on the epipolar line of its twin) at their relative shift. Convention: view ``v``'s frame
   ``t + offset[v]`` shows the instant of reference frame ``t`` (the first view has offset 0), so a camera that
   runs 3 frames ahead gets +3.
3. **Left/right swap repair** (:func:`repair_swaps`): for each frame and each group of left/right pairs (default:
   arms, legs and face, each on its own), the one view (or none) whose labels exchanged lower every view's total
   reprojection error of the DLT most (by 10% at least) is relabelled. Repeated until nothing changes (at most a
   few passes). (Until stop 28 each view was tested in turn against the other views' triangulation, which still
   held the swapped view when it came later in the order: a right view was flipped and the body mirrored.)
4. **Confidence-weighted DLT with view rejection** (:func:`triangulate_robust`): each view's two DLT rows are
   weighted by the joint's 2D confidence and by focal / depth (:func:`dlt`: each view counts by its error in pixels);
   while the worst view's reprojection error exceeds ``threshold_px`` and more than two views remain, that view is
   dropped for that joint and frame.

Two views (e.g. two phones): each view's triangulation needs the other, so step 3 compares the second view's labels
and their mirror by the epipolar distance to the first view's points (a clear win only: two cameras either side of a
symmetric body fit both labellings), and a point whose reprojection error exceeds 1.5 × ``threshold_px`` in either
view is left NaN (nothing can tell which view is wrong). The two views then agree, but both may be swapped (the first view
was): where the two detections disagreed and the 3D faces backwards by its own cues (:func:`relabel_mirrored`: the
nose ahead of the ears, the toes ahead of the heels; BlazePose's 33 points have them), its labels are exchanged.

Defaults (threshold 20 px, swap groups arms/legs/face, min confidence 0.3) were chosen on frames 0-49 of the
shared pose2sim clip by the reference's own bone-length CV; frames 50-99 are the report split.

Shapes: ``V`` views, ``T`` frames, ``J`` joints. 3D in world mm, 2D in pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..geometry import pixels_to_normalized, project, transform_points
from ..skeleton import Skeleton
from ..synth.cameras import Camera

LOWER_BODY = ("hip", "knee", "ankle", "heel", "foot", "toe")
#: two views: a point is dropped where either view's reprojection error exceeds this times ``threshold_px`` (30 px at
#: the default 20; chosen among 20/30/40 px on the dev frames 0-49 of the shared clip's six camera pairs: 36 → 46
#: scored frames of 50 per pair, RULA exact against the four views 51.4 → 52.4%; 40 px: 47.2, 51.4%)
TWO_VIEW_THRESHOLD_FACTOR = 1.5
#: two views: view 2's left/right labels are exchanged only where that lowers the group's median epipolar distance
#: by more than this and by half
SWAP_MARGIN_PX = 0.5
#: the DLT's pixel weighting (:func:`dlt`): no view's rows are weighted less than this against the nearest view's
MIN_DEPTH_WEIGHT = 0.1


def undistort(uv: np.ndarray, cams: list[Camera]) -> np.ndarray:
    """Pixels (V, ..., 2) → undistorted normalised coordinates (V, ..., 2), each view with its camera."""
    out = np.empty(uv.shape, dtype=np.float64)
    for v, cam in enumerate(cams):
        flat = uv[v].reshape(1, -1, 2).astype(np.float64)
        out[v] = pixels_to_normalized(flat, cam.K, cam.dist).reshape(uv[v].shape)
    return out


def _extrinsics(cams: list[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """R (V, 3, 3), t (V, 3) mm of static cameras."""
    for c in cams:
        if c.R.ndim != 2:
            raise ValueError(f"camera {c.name}: triangulation needs static cameras")
    return np.stack([c.R for c in cams]), np.stack([c.t for c in cams])


def dlt(xy: np.ndarray, weight: np.ndarray, R: np.ndarray, t: np.ndarray,
        focal: np.ndarray | None = None, refine: bool = True) -> np.ndarray:
    """Weighted linear triangulation (DLT) from undistorted normalised coordinates.

    A view's two algebraic rows measure its error in normalised coordinates times the point's depth in that view, so
    a plain DLT trusts far views more than near ones. With ``refine`` the rows are weighted again by ``focal / depth``
    from a first solution and solved once more: each view then counts by its error in pixels (times its weight), the
    error the view rejection and the reprojection report use (with 1 px noise and views at 1.5 m and 12 m: 5.2 mm
    without, 1.4 mm with).

    Args:
        xy: (V, ..., 2) normalised coordinates (x/z, y/z) in each camera.
        weight: (V, ...) per-view weight (confidence); 0 = not used.
        R: (V, 3, 3), t: (V, 3) mm, ``cam_from_world``.
        focal: (V,) focal length in px of each view (default: equal).
        refine: weight the rows by ``focal / depth`` of a first solution (see above).
    Returns:
        (..., 3) world mm; NaN where fewer than two views have weight > 0.
    """
    V = xy.shape[0]
    batch = xy.shape[1:-1]
    P = np.concatenate([R, t[:, :, None] / 1000.0], axis=2)  # (V, 3, 4), metres inside for conditioning
    x = xy.reshape(V, -1, 2)
    w = np.where(np.isfinite(weight), weight, 0.0).reshape(V, -1)
    w = np.where(np.isfinite(x).all(-1), w, 0.0)
    x = np.nan_to_num(x)
    rows_x = x[..., 0, None] * P[:, None, 2] - P[:, None, 0]  # (V, N, 4)
    rows_y = x[..., 1, None] * P[:, None, 2] - P[:, None, 1]
    rows = np.stack([rows_x, rows_y], axis=1)  # (V, 2, N, 4)

    def solve(wv: np.ndarray) -> np.ndarray:  # (V, N) row weights → (N, 4) homogeneous, metres
        A = (rows * wv[:, None, :, None]).transpose(2, 0, 1, 3).reshape(-1, 2 * V, 4)  # (N, 2V, 4)
        return np.linalg.svd(A)[2][:, -1]

    h = solve(w)
    if refine and V > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            depth = np.einsum("vk,nk->vn", P[:, 2], h) / h[:, 3]  # (V, N) metres
            f = np.ones(V) if focal is None else np.asarray(focal, np.float64).reshape(V)
            scale = f[:, None] / np.abs(depth)
        valid = np.isfinite(scale) & (depth > 0)
        ok = (valid | (w <= 0)).all(0)  # every used view in front: else the first solution stays
        scale = np.where(valid & (w > 0), scale, 0.0)
        top = scale.max(0)
        scale = np.where(ok & (top > 0), np.clip(scale / np.where(top > 0, top, 1.0), MIN_DEPTH_WEIGHT, 1.0), 1.0)
        h = np.where(ok[:, None], solve(w * scale), h)
    with np.errstate(invalid="ignore", divide="ignore"):
        X = h[:, :3] / h[:, 3:4] * 1000.0
    X[(w > 0).sum(0) < 2] = np.nan
    return X.reshape(batch + (3,))


def focal_px(cams: list[Camera]) -> np.ndarray:
    """(V,) each camera's focal length in pixels (geometric mean of fx, fy): a view's pixel error over its
    normalised error."""
    return np.array([np.sqrt(c.K[0, 0] * c.K[1, 1]) for c in cams])


def essential_matrix(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(3, 3) E = [t]x R of a second camera with ``X_b = R X_a + t``: ``x_b^T E x_a = 0`` for normalised points of one
    3D point; t is made unit length (E is defined up to scale)."""
    t = np.asarray(t, float).ravel()
    t = t / np.linalg.norm(t)
    return np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]]) @ R


def epipolar_distance_px(xy_a: np.ndarray, xy_b: np.ndarray, cam_a: Camera, cam_b: Camera) -> np.ndarray:
    """Symmetric epipolar distance (...) in pixels between undistorted normalised points ``xy_a`` (..., 2) of
    camera ``a`` and ``xy_b`` (..., 2) of camera ``b``: the mean of each point's distance to the epipolar line of
    the other, each scaled by its camera's focal length. 0 for two images of one 3D point."""
    (Ra, Rb), (ta, tb) = _extrinsics([cam_a, cam_b])
    R = Rb @ Ra.T  # b_from_a
    t = tb - R @ ta
    E = essential_matrix(R, t)  # x_b^T E x_a = 0
    ha = np.concatenate([xy_a, np.ones(xy_a.shape[:-1] + (1,))], -1)
    hb = np.concatenate([xy_b, np.ones(xy_b.shape[:-1] + (1,))], -1)
    line_b = ha @ E.T  # (..., 3) epipolar lines in b
    line_a = hb @ E  # (..., 3) in a
    r = (hb * line_b).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_b = np.abs(r) / np.linalg.norm(line_b[..., :2], axis=-1) * np.sqrt(cam_b.K[0, 0] * cam_b.K[1, 1])
        d_a = np.abs(r) / np.linalg.norm(line_a[..., :2], axis=-1) * np.sqrt(cam_a.K[0, 0] * cam_a.K[1, 1])
    return 0.5 * (d_a + d_b)


def reproject(X: np.ndarray, cams: list[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """World points (..., 3) → pixels (V, ..., 2) in every camera, and depth (V, ...) (z in the camera frame)."""
    shape = X.shape[:-1]
    flat = X.reshape(1, -1, 3)
    uv, z = [], []
    for cam in cams:
        pc = transform_points(cam.R[None], cam.t[None], flat)
        z.append(pc[0, :, 2].reshape(shape))
        uv.append(project(pc, cam.K, cam.dist)[0].reshape(shape + (2,)))
    return np.stack(uv), np.stack(z)


def reprojection_error(X: np.ndarray, uv: np.ndarray, cams: list[Camera]) -> np.ndarray:
    """Pixel distance (V, ...) between observed ``uv`` (V, ..., 2) and the projection of ``X`` (..., 3);
    inf where the point is behind a camera, NaN where ``X`` is NaN."""
    proj, z = reproject(X, cams)
    err = np.linalg.norm(proj - uv, axis=-1)
    return np.where(z > 0, err, np.where(np.isnan(z), np.nan, np.inf))


def triangulate_robust(xy: np.ndarray, uv: np.ndarray, weight: np.ndarray, cams: list[Camera],
                       threshold_px: float = 20.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence-weighted DLT with view rejection.

    While the worst used view's reprojection error exceeds ``threshold_px`` and more than two views are used,
    that view is dropped for that point and the point is triangulated again. The DLT weighs views by their error
    in pixels (:func:`dlt`'s ``refine``; since stop 29: the reference's bone-length CV on the dev frames 0-49 of the
    shared clip, median / mean over bones, 3.45 / 5.97% → 3.16 / 4.77%). Measured worse there: trying every subset
    of views, largest first (two views always nearly agree, so wrong pairs were kept; CV up to 27% instead of 13%);
    deciding the drops on the plain DLT and weighting only the final point (3.19 / 5.88%); dropping the view with
    the largest error against the others' triangulation (leave-one-out: 4.31 / 7.82%, though it rejects a
    confident wrong view that the plain rule keeps).

    Args:
        xy: (V, ..., 2) undistorted normalised coordinates; uv: (V, ..., 2) the same in pixels;
        weight: (V, ...) confidences (0 = missing); cams: V cameras.
    Returns:
        X (..., 3) world mm (NaN with fewer than two usable views), used (V, ...) bool, err (V, ...) px of every
        view with a detection (NaN where missing), including the rejected views.
    """
    R, t = _extrinsics(cams)
    focal = focal_px(cams)
    used = weight > 0
    V = len(cams)
    for _ in range(V):
        X = dlt(xy, np.where(used, weight, 0.0), R, t, focal)
        err = reprojection_error(X, uv, cams)
        e = np.where(used, np.nan_to_num(err, nan=np.inf), -np.inf)
        drop = (e.max(axis=0) > threshold_px) & (used.sum(axis=0) > 2)
        if not drop.any():
            break
        worst = e.argmax(axis=0)
        idx = np.nonzero(drop)
        used[(worst[idx],) + idx] = False
    err = np.where(weight > 0, err, np.nan)
    return X, used, err


SWAP_GROUPS = {"arms": ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
               "legs": ("hip", "knee", "ankle", "heel", "foot", "toe")}


def limb_of(name: str) -> str:
    """``arms``, ``legs`` or ``face``: the swap group of a sided joint (by its name's stem)."""
    for g, stems in SWAP_GROUPS.items():
        if any(st in name for st in stems):
            return g
    return "face"


def swap_groups(skeleton: Skeleton, groups: str = "limbs") -> list[np.ndarray]:
    """Left/right permutations (J,) int, one per group tested on its own: ``"body"`` (one group), ``"halves"``
    (upper body with the face / lower body), or ``"limbs"`` (arms, legs, face: BlazePose also swaps one limb
    pair alone)."""
    return list(_named_swap_groups(skeleton, groups).values())


def _named_swap_groups(skeleton: Skeleton, groups: str = "limbs") -> dict[str, np.ndarray]:
    names = {"body": lambda n: "body", "halves": lambda n: "lower" if limb_of(n) == "legs" else "upper",
             "limbs": limb_of}[groups]
    perms: dict[str, np.ndarray] = {}
    for li, ri in zip(skeleton.joints_left, skeleton.joints_right):
        perm = perms.setdefault(names(skeleton.joints[li]), np.arange(skeleton.num_joints))
        perm[li], perm[ri] = ri, li
    return perms


#: per limb group, which way the body faces in 3D (world Z up), by joints whose mean does not depend on the
#: group's labels: (the group's left and right joint, the front points, the back points). Left − right crossed with
#: up points forward when the labels are right: the nose ahead of the ears; the toes ahead of the heels.
FACING = {"arms": (("left_shoulder", "right_shoulder"), ("nose",), ("left_ear", "right_ear")),
          "face": (("left_ear", "right_ear"), ("nose",), ("left_ear", "right_ear")),
          "legs": (("left_hip", "right_hip"), ("left_foot_index", "right_foot_index"), ("left_heel", "right_heel"))}


def relabel_mirrored(X: np.ndarray, skeleton: Skeleton, groups: str = "limbs") -> np.ndarray:
    """(T, G) bool: the frames and limb groups (:func:`swap_groups` order) whose triangulated 3D ``X`` (T, J, 3,
    world Z up) has left and right exchanged: its left-right axis faces backwards (:data:`FACING`). Two views
    that agree can both be swapped (the second view's labels are made to agree with the first's): their 3D is in
    the right places with the labels exchanged. False where a skeleton lacks the cues or a frame lacks a point."""
    named = _named_swap_groups(skeleton, groups)
    out = np.zeros((len(X), len(named)), dtype=bool)
    if groups != "limbs":
        return out
    for h, g in enumerate(named):
        if g not in FACING or not all(n in skeleton.joints for part in FACING[g] for n in part):
            continue
        (left, right), front, back = FACING[g]
        J = skeleton.index
        ant = np.cross(X[:, J(left)] - X[:, J(right)], np.array([0.0, 0.0, 1.0]))
        fwd = X[:, [J(n) for n in front]].mean(1) - X[:, [J(n) for n in back]].mean(1)
        with np.errstate(invalid="ignore"):
            out[:, h] = (ant * fwd).sum(-1) < 0
    return out


def repair_swaps(xy: np.ndarray, uv: np.ndarray, conf: np.ndarray, cams: list[Camera], skeleton: Skeleton,
                 passes: int = 3, groups: str = "limbs") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Undo per-view left/right label swaps (see module doc, step 3).

    Args:
        xy: (V, T, J, 2) normalised; uv: (V, T, J, 2) px; conf: (V, T, J).
    Returns:
        xy, uv, conf with the swaps undone, and swapped (V, T, G) bool: which group (:func:`swap_groups`)
        of which view and frame was relabelled.
    """
    xy, uv, conf = xy.copy(), uv.copy(), conf.copy()
    halves = swap_groups(skeleton, groups)
    V, T = conf.shape[:2]
    swapped = np.zeros((V, T, len(halves)), dtype=bool)
    if V < 2:
        return xy, uv, conf, swapped
    if V == 2:  # each view's triangulation needs the other: the epipolar distance tests the labels instead
        return _repair_two_views(xy, uv, conf, cams, skeleton, groups, swapped)
    R, t = _extrinsics(cams)
    focal = focal_px(cams)

    def total_error(xy_, uv_, conf_):  # (T,) every view's reprojection error of each frame's group, px, summed
        e = reprojection_error(dlt(xy_, conf_, R, t, focal), uv_, cams)
        return np.where(conf_ > 0, np.nan_to_num(e, nan=1e6, posinf=1e6), 0.0).sum((0, 2))

    # per frame and group, the single view whose labels exchanged lower every view's total reprojection error most
    # (by 10% at least), or none; views are never tested one after another against a 3D that still holds the
    # swapped view (that flipped a right view and mirrored the body when the swapped one came later: 490-570 mm)
    for _ in range(passes):
        changed = False
        for h, perm in enumerate(halves):
            cost = [total_error(xy, uv, conf)]
            for v in range(V):
                a, b, c = xy.copy(), uv.copy(), conf.copy()
                a[v], b[v], c[v] = a[v][:, perm], b[v][:, perm], c[v][:, perm]
                cost.append(total_error(a, b, c))
            cost = np.array(cost)
            best = cost.argmin(0)
            for f in np.flatnonzero((best > 0) & (cost.min(0) < 0.9 * cost[0])):
                v = int(best[f]) - 1
                changed = True
                for arr in (xy, uv):
                    arr[v, f] = arr[v, f][perm]
                conf[v, f] = conf[v, f][perm]
                swapped[v, f, h] ^= True
        if not changed:
            break
    return xy, uv, conf, swapped


def _repair_two_views(xy: np.ndarray, uv: np.ndarray, conf: np.ndarray, cams: list[Camera], skeleton: Skeleton,
                      groups: str, swapped: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`repair_swaps` for two views: the second view's labels, per group, made to agree with the first's.

    A limb group is exchanged where that lowers its median epipolar distance clearly (:data:`SWAP_MARGIN_PX` and by
    half: with the cameras either side of a symmetric body both labellings meet, the swapped one on the body's
    mid-plane; a tie keeps the labels as detected). The face's points are too close together for that: its labels
    follow the shoulders (a head does not turn more than 90° from them), by triangulating the ears both ways."""
    named = list(_named_swap_groups(skeleton, groups).items())
    for h in sorted(range(len(named)), key=lambda k: named[k][0] == "face"):  # the face after the shoulders
        g, perm = named[h]
        moved = np.flatnonzero(perm != np.arange(len(perm)))
        if g == "face" and all(n in skeleton.joints for n in ("left_ear", "right_ear", "left_shoulder",
                                                                 "right_shoulder")):
            f = _face_against_shoulders(xy, conf, cams, skeleton)
        else:
            ok = (conf[0][:, moved] > 0) & (conf[1][:, moved] > 0) & (conf[1][:, perm[moved]] > 0)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():  # the group's median: one wrong point
                warnings.simplefilter("ignore", RuntimeWarning)  # does not decide; frames without a pair: NaN
                keep = np.nanmedian(np.where(ok, epipolar_distance_px(xy[0][:, moved], xy[1][:, moved], cams[0],
                                                                      cams[1]), np.nan), axis=1)
                swap = np.nanmedian(np.where(ok, epipolar_distance_px(xy[0][:, moved], xy[1][:, perm[moved]],
                                                                      cams[0], cams[1]), np.nan), axis=1)
            f = np.flatnonzero((ok.sum(1) >= 4) & (swap < np.minimum(keep - SWAP_MARGIN_PX, 0.5 * keep)))
        for arr in (xy, uv):
            arr[1, f] = arr[1][f][:, perm]
        conf[1, f] = conf[1][f][:, perm]
        swapped[1, f, h] = True
    return xy, uv, conf, swapped


def _face_against_shoulders(xy: np.ndarray, conf: np.ndarray, cams: list[Camera], skeleton: Skeleton) -> np.ndarray:
    """Frames where the second view's ears, exchanged, triangulate to a left-right axis along the shoulders' (the
    shoulders as labelled now) and as labelled, against it."""
    R, t = _extrinsics(cams)
    J = skeleton.index
    ears, shoulders = [J("left_ear"), J("right_ear")], [J("left_shoulder"), J("right_shoulder")]
    focal = focal_px(cams)
    S = dlt(xy[:, :, shoulders], conf[:, :, shoulders], R, t, focal)  # (T, 2, 3)
    axis = S[:, 0] - S[:, 1]
    dots = []
    for order in (ears, ears[::-1]):
        both = np.stack([xy[0][:, ears], xy[1][:, order]])
        w = np.stack([conf[0][:, ears], conf[1][:, order]])
        E = dlt(both, w, R, t, focal)
        dots.append(((E[:, 0] - E[:, 1]) * axis).sum(-1))
    with np.errstate(invalid="ignore"):
        return np.flatnonzero((dots[0] < 0) & (dots[1] > 0))


def uncertain_offsets(offsets: np.ndarray, cost: np.ndarray, margin: float = 0.1) -> list[tuple[int, int, float, float]]:
    """Views whose non-zero sync offset does not clearly beat no shift: (view, offset, its cost px, shift 0's cost px)
    where the cost at the offset is within ``margin`` (a fraction) of the cost at 0 (``cost``: (V, 2 m + 1), shift
    ``-m..m``, as :func:`estimate_sync_offsets` returns). A still or slow clip does not pin the offset down."""
    out = []
    if cost.ndim != 2 or cost.shape[1] == 0:
        return out
    m = cost.shape[1] // 2
    for v, o in enumerate(np.asarray(offsets)):
        if o == 0 or not np.isfinite(cost[v, m]) or not np.isfinite(cost[v, m + o]):
            continue
        if cost[v, m + o] > (1.0 - margin) * cost[v, m]:
            out.append((v, int(o), float(cost[v, m + o]), float(cost[v, m])))
    return out


def sync_notes(tri: "Triangulation", names: list[str]) -> list[str]:
    """One line per view after the first with its sync offset (zero too: the user sees that the views were
    synchronised), and per offset that barely beats none (:func:`uncertain_offsets`), for the terminal and ergo's
    notes."""
    out = [f"sync offset of {names[v]}: {int(o):+d} frames against {names[0]} (its frame t {int(o):+d} shows "
           f"{names[0]}'s frame t)" for v, o in enumerate(tri.offsets) if v]
    out += [f"sync offset of {names[v]} ({o:+d} frames) fits barely better than none ({c:.2f} vs {c0:.2f} px): the "
            "clip's motion does not pin it down; check it (e.g. a clap both cameras film) and give it with --offsets, "
            "or --max-offset 0 if the cameras were started together"
            for v, o, c, c0 in uncertain_offsets(tri.offsets, tri.sync_cost)]
    return out


def overlap(T: int, shift: int, min_frames: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Where two views of ``T`` frames meet at ``shift`` (the second view's frame t + shift shows the first's frame
    t): the first view's frames (T,) bool and the second view's frame of each; None where they share fewer than
    ``min_frames`` (default: a quarter of the clip, at least 5: a shift any shorter overlap fits is no evidence)."""
    src = np.arange(T) + shift
    inside = (src >= 0) & (src < T)
    need = max(5, T // 4) if min_frames is None else min_frames
    return (inside, src[inside]) if inside.sum() >= need else None


def shift_views(arrays: list[np.ndarray], conf: np.ndarray, offsets: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Resample every view to the reference time base: row ``t`` of view ``v`` becomes its frame
    ``t + offsets[v]``; rows outside the view get confidence 0.

    Args:
        arrays: each (V, T, ...); conf: (V, T, J); offsets: (V,) int.
    """
    V, T = conf.shape[:2]
    src = np.arange(T)[None, :] + np.asarray(offsets)[:, None]  # (V, T)
    inside = (src >= 0) & (src < T)
    src = np.clip(src, 0, T - 1)
    vi = np.arange(V)[:, None]
    out = [a[vi, src] for a in arrays]
    return out, np.where(inside[..., None], conf[vi, src], 0.0)


def shift_cost(xy: np.ndarray, conf: np.ndarray, cams: list[Camera], a: int, b: int,
               shifts: np.ndarray) -> np.ndarray:
    """(S,) median symmetric epipolar distance in px (:func:`epipolar_distance_px`) between view ``a``'s frame ``t``
    and view ``b``'s frame ``t + s``, for each shift ``s`` of ``shifts``; NaN where the two share too few frames
    (:func:`overlap`) or no joint seen in both.

    Args:
        xy: (V, T, J, 2) undistorted normalised; conf: (V, T, J).
    """
    T = conf.shape[1]
    out = np.full(len(shifts), np.nan)
    for k, s in enumerate(shifts):
        if (meet := overlap(T, int(s))) is None:
            continue
        inside, src = meet
        e = epipolar_distance_px(xy[a, inside], xy[b, src], cams[a], cams[b])
        e = e[(conf[a, inside] > 0) & (conf[b, src] > 0) & np.isfinite(e)]
        out[k] = np.median(e) if e.size else np.nan
    return out


def _least_shift(cost: np.ndarray, shifts: np.ndarray) -> int:
    """The shift of the smallest cost, the smallest |shift| among costs equal to it (a still scene fits any shift);
    0 where no cost is finite."""
    if not np.isfinite(cost).any():
        return 0
    best = np.nanmin(cost)
    tied = np.flatnonzero(cost <= best + 1e-6 + 1e-3 * best)
    return int(shifts[tied[np.argmin(np.abs(shifts[tied]))]])


def estimate_sync_offsets(xy: np.ndarray, conf: np.ndarray, cams: list[Camera], max_offset: int = 10,
                          passes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Integer frame offsets between views (see module doc, step 2), all views at once.

    Every pair of views ``(a, b)`` gets a cost per relative shift: the median epipolar distance of b's frames shifted
    by ``s`` against a's (:func:`shift_cost`; a point seen at the same instant lies on the epipolar line of its twin,
    and no third view is needed, so a late view cannot pull another view's estimate). The offsets (the first view's
    is 0, the others within ``±max_offset``) minimise the sum over all pairs of the cost at their relative shift:
    found by moving one view at a time to its best shift against the others, from several starts (all zero, and each
    view's pairwise best shifts taken as true), keeping the lowest sum; among equal costs the smallest shift (a still
    body fits any). (Until stop 29 each view was searched against the triangulation of the others at their current
    offsets: a late view then misplaced another: a view late by 7 of three gave offsets 6 and -3.)

    Args:
        xy: (V, T, J, 2) undistorted normalised; conf: (V, T, J).
    Returns:
        offsets (V,) int, and cost (V, 2 * max_offset + 1): for each view after the first, the mean epipolar distance
        in px against the other views (at their offsets) of each of its shifts ``-max_offset..max_offset``.
    """
    V = conf.shape[0]
    m = int(max_offset)
    shifts = np.arange(-m, m + 1)
    offsets = np.zeros(V, dtype=np.int64)
    cost = np.full((V, len(shifts)), np.nan)
    if V < 2:
        return offsets, cost
    rel = np.arange(-2 * m, 2 * m + 1)  # relative shifts between two views, each within ±m
    pair = {(a, b): shift_cost(xy, conf, cams, a, b, rel) for a in range(V) for b in range(a + 1, V)}

    def pair_cost(a: int, b: int, s) -> np.ndarray:  # cost of view b at shift s relative to view a (any order)
        s = np.asarray(s)
        return pair[(a, b)][s + 2 * m] if a < b else pair[(b, a)][-s + 2 * m]

    def profile(v: int, o: np.ndarray) -> np.ndarray:  # (2m+1,) view v's mean cost against the others
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean([pair_cost(u, v, shifts - o[u]) for u in range(V) if u != v], axis=0)

    worst = {k: np.nanmax(c) if np.isfinite(c).any() else 0.0 for k, c in pair.items()}  # a pair without overlap

    def total(o: np.ndarray) -> float:
        c = {(a, b): pair_cost(a, b, o[b] - o[a]) for a, b in pair}
        return float(sum(c[k] if np.isfinite(c[k]) else 2.0 * worst[k] for k in pair))

    best_pair = {(a, b): _least_shift(pair_cost(a, b, rel), rel) for a in range(V) for b in range(V) if a != b}
    starts = [np.zeros(V, dtype=np.int64)]
    for r in range(1, V):  # view r's pairwise shifts taken as true, placed against the first view
        o = np.array([0 if v == r else best_pair[(r, v)] for v in range(V)]) - best_pair[(r, 0)]
        starts.append(np.clip(o - o[0], -m, m))
    results = []
    for o in starts:
        o = o.copy()
        for _ in range(passes):
            before = o.copy()
            for v in range(1, V):
                o[v] = _least_shift(profile(v, o), shifts)
            if np.array_equal(before, o):
                break
        results.append((total(o), int(np.abs(o).sum()), o))
    lowest = min(r[0] for r in results)
    offsets = min((r for r in results if r[0] <= lowest + 1e-6 + 1e-3 * lowest), key=lambda r: r[1])[2]
    for v in range(1, V):
        cost[v] = profile(v, offsets)
    return offsets, cost


@dataclass
class Triangulation:
    """What :func:`triangulate_views` returns (``T`` reference frames = the first view's frames)."""

    joints: np.ndarray  # (T, J, 3) world mm, NaN where fewer than two views could be used
    error_px: np.ndarray  # (V, T, J) reprojection error of every view with a detection (NaN: none)
    used: np.ndarray  # (V, T, J) bool: the view took part in the joint's final triangulation
    swapped: np.ndarray  # (V, T, G) bool: swap group relabelled left/right by the swap repair
    offsets: np.ndarray  # (V,) int sync offsets (view v's frame t + offsets[v] = reference frame t)
    sync_cost: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (V, 2 * max_offset + 1) px


def triangulate_views(uv: np.ndarray, conf: np.ndarray, cams: list[Camera], skeleton: Skeleton,
                      threshold_px: float = 20.0, min_conf: float = 0.3, max_offset: int | None = 10,
                      fix_swaps: bool = True, swap_groups: str = "limbs",
                      offsets: np.ndarray | None = None) -> Triangulation:
    """2D keypoints of V synchronised-ish calibrated views → 3D joints (see module doc).

    Args:
        uv: (V, T, J, 2) pixels; conf: (V, T, J) in [0, 1]; cams: V cameras (intrinsics at the views' image size);
        skeleton: the 2D joints' skeleton (for the left/right pairs).
        threshold_px: view rejection threshold; min_conf: confidences below it are not used;
        max_offset: largest sync offset searched (None or 0: the views are taken as synchronised).
        offsets: (V,) known sync offsets (view v's frame t + offsets[v] shows the first view's frame t; e.g. from a
            clap both cameras filmed): used as given, nothing searched.
    """
    V = len(cams)
    if uv.shape[0] != V or conf.shape[0] != V:
        raise ValueError(f"{uv.shape[0]} views of 2D for {V} cameras")
    conf = np.where(conf >= min_conf, conf, 0.0).astype(np.float64)
    uv = uv.astype(np.float64)
    xy = undistort(uv, cams)
    if offsets is not None:
        offsets, cost = np.asarray(offsets, dtype=np.int64).reshape(V), np.zeros((V, 0))
    elif max_offset:
        offsets, cost = estimate_sync_offsets(xy, conf, cams, max_offset)
    else:
        offsets, cost = np.zeros(V, dtype=np.int64), np.zeros((V, 0))
    (xy, uv), conf = shift_views([xy, uv], conf, offsets)
    if fix_swaps:
        xy, uv, conf, swapped = repair_swaps(xy, uv, conf, cams, skeleton, groups=swap_groups)
    else:
        swapped = np.zeros(conf.shape[:2] + (1,), dtype=bool)
    X, used, err = triangulate_robust(xy, uv, conf, cams, threshold_px)
    if V == 2:  # no third view to reject: two views that disagree beyond the threshold give no point
        bad = used.all(0) & ~(err <= TWO_VIEW_THRESHOLD_FACTOR * threshold_px).all(0)
        X[bad] = np.nan
        used[:, bad] = False
        if fix_swaps:  # the two agree but both may be swapped (the first view was): put the labels right in 3D,
            # only where the two detections disagreed (the second was relabelled): two detections that agree as
            # detected are not overruled by a cue that a deep bend or a kneel turns backwards
            mirrored = relabel_mirrored(X, skeleton, swap_groups) & swapped[1]
            for h, perm in enumerate(_named_swap_groups(skeleton, swap_groups).values()):
                f = np.flatnonzero(mirrored[:, h])
                X[f] = X[f][:, perm]
                err[:, f] = err[:, f][:, :, perm]
                used[:, f] = used[:, f][:, :, perm]
                swapped[:, f, h] ^= True
    return Triangulation(X, err, used, swapped, offsets, cost)
