"""Two phones calibrated from the worker they film (no board): relative pose, sync, scale and the vertical.

An ergonomist with two phones has no calibration rig. The worker's own joints, seen by both phones at the same
instants, are the calibration target. Steps (:func:`calibrate_pair`; numpy, OpenCV, scipy):

1. **Relative pose** (:func:`relative_pose`), the views taken as synchronised: intrinsics from the field of view
   (``--fov``, default 65°: a phone's main camera), the essential matrix of the joints seen confidently in both
   views (OpenCV's RANSAC), each frame's left/right labels of the second view chosen against it (a detector swaps
   them, mostly from behind), over several RANSAC thresholds and seeds; the candidate whose triangulated body keeps
   its bone lengths best (the median coefficient of variation of its limb bones over the clip) wins, its rotation
   and baseline direction then refined by a robust (soft-L1) least-squares fit of the Sampson distances.
2. **Sync**: with that geometry, the shift with the lowest median epipolar distance (as ``pose3d triangulate``
   synchronises two views); when it is not 0, step 1 runs again on the shifted views.
3. **Scale**: the baseline is set so that the triangulated body's standing height (its limb bones over Winter's /
   Drillis-Contini's fractions, :func:`pose3d_cli.infer.trajectory.standing_height`) is ``--person-height``
   (default 170 cm). Angles, and so RULA/REBA, do not depend on it.
4. **World frame**: Z up from the first video's scene lines when they are accepted (the caller's ``scene_up``), else
   from the triangulated body (the median mid-ankles → mid-shoulders direction: a worker who leans throughout tilts
   it: 10-12° on the shared clip's balance exercise); origin at the ankles' height below the body's median position,
   X along the first camera's view.

Measured on the shared clip's six camera pairs against the Qualisys calibration (README "Two phones without a
board"). One subject, one room: a first version, stated as such in every output.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import Pose3dError
from ..geometry import pixels_to_normalized
from ..skeleton import Skeleton, get_skeleton
from ..synth.cameras import Camera, intrinsics_from_fov
from .triangulate import dlt, essential_matrix, overlap

#: RANSAC thresholds (px) and seeds tried for the essential matrix (step 1)
THRESHOLDS_PX = (3.0, 5.0, 8.0, 12.0)
SEEDS = (0, 1, 2)
#: a joint is a correspondence where both views see it at least this confidently
CORR_CONF = 0.5
#: frames in which both views must see the worker (at least MIN_JOINTS_SEEN correspondences) at the offset returned:
#: a clip's length alone let 1 seen frame of 100 calibrate (8.9° off; its bone-length check cannot fail on one frame)
MIN_SEEN_FRAMES = 30
MIN_JOINTS_SEEN = 8
#: a rig whose triangulated body's median limb-bone CV exceeds this is refused (real pairs 3-4%, synthetic 1-2%)
MAX_BONE_CV = 0.15
DEFAULT_HEIGHT_MM = 1700.0
_LIMBS = (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"), ("shoulder", "hip"))


@dataclass
class PairCalibration:
    """Two cameras in a Z-up world (mm) and how they were found."""

    cameras: list[Camera]
    offset: int  # frames: the second view's frame t + offset shows the first view's frame t
    bone_cv: float  # median coefficient of variation of the limb bones of the triangulated body
    residual_px: float  # median Sampson distance of the correspondences, px
    correspondences: int
    up_from: str
    notes: list[str] = field(default_factory=list)


def _sampson(E: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Squared Sampson distance (...) of normalised points xa, xb (..., 2) under the essential matrix E."""
    ha = np.concatenate([xa, np.ones(xa.shape[:-1] + (1,))], -1)
    hb = np.concatenate([xb, np.ones(xb.shape[:-1] + (1,))], -1)
    Ex, Etx = ha @ E.T, hb @ E
    with np.errstate(invalid="ignore", divide="ignore"):
        return (hb * Ex).sum(-1) ** 2 / (Ex[..., 0] ** 2 + Ex[..., 1] ** 2 + Etx[..., 0] ** 2 + Etx[..., 1] ** 2)


def _nanmedian(x: np.ndarray, axis=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=axis)


def _bones(sk: Skeleton) -> list[tuple[int, int]]:
    return [(sk.index(f"{s}_{a}"), sk.index(f"{s}_{b}")) for s in ("left", "right") for a, b in _LIMBS
            if f"{s}_{a}" in sk.joints and f"{s}_{b}" in sk.joints]


def _triangulate(R: np.ndarray, t: np.ndarray, xa, xb, wa, wb) -> np.ndarray:
    """(T, J, 3) in the first camera's frame, the baseline |t| taken in metres → mm."""
    return dlt(np.stack([xa, xb]), np.stack([wa, wb]), np.stack([np.eye(3), R]),
               np.stack([np.zeros(3), np.asarray(t, float).ravel() * 1000.0]))


def _bone_cv(X: np.ndarray, bones) -> float:
    L = np.stack([np.linalg.norm(X[:, i] - X[:, j], axis=-1) for i, j in bones], axis=1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        cv = np.nanstd(L, axis=0) / np.nanmean(L, axis=0)
    return float(np.nanmedian(cv)) if np.isfinite(cv).any() else np.inf


def _seen(c: np.ndarray) -> np.ndarray:
    return np.where(c >= CORR_CONF, 1.0, 0.0)


def relative_pose(xa: np.ndarray, xb: np.ndarray, ca: np.ndarray, cb: np.ndarray, sk: Skeleton,
                  focal_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Step 1 on normalised coordinates xa, xb (T, J, 2) and confidences ca, cb (T, J) of the same instants →
    R (3, 3), unit t (3,) (``X_b = R X_a + t``), the frames whose second-view labels are mirrored (T,) bool, and
    the triangulated body's bone CV."""
    import cv2

    perm = sk.flip_permutation
    bones = _bones(sk)
    best, why = None, "too few joints seen confidently in both views"
    for thr in THRESHOLDS_PX:
        for seed in SEEDS:
            cv2.setRNGSeed(seed)
            flip = np.zeros(len(xa), bool)
            E = None
            for _ in range(3):
                xbb = np.where(flip[:, None, None], xb[:, perm], xb)
                cbb = np.where(flip[:, None], cb[:, perm], cb)
                ok = (ca >= CORR_CONF) & (cbb >= CORR_CONF)
                if ok.sum() < 20:
                    E = None
                    break
                try:  # degenerate correspondences (identical views, one frame) trip OpenCV's solver
                    E, inl = cv2.findEssentialMat(xa[ok], xbb[ok], np.eye(3), method=cv2.RANSAC, prob=0.999,
                                                  threshold=thr / focal_px)
                except cv2.error:
                    E = None
                why = "no essential matrix fits the joints"
                if E is None or E.shape != (3, 3):
                    E = None
                    break
                keep = np.where((ca >= CORR_CONF) & (cb >= CORR_CONF), _sampson(E, xa, xb), np.nan)
                swap = np.where((ca >= CORR_CONF) & (cb[:, perm] >= CORR_CONF), _sampson(E, xa, xb[:, perm]), np.nan)
                flip = _nanmedian(swap, axis=1) < 0.5 * _nanmedian(keep, axis=1)
            if E is None:
                continue
            _, R, t, _ = cv2.recoverPose(E, xa[ok], xbb[ok], np.eye(3), mask=inl)
            X = _triangulate(R, t, xa, xbb, _seen(ca), _seen(cbb))
            if _in_front(X, R, t) < MIN_IN_FRONT:
                why = NOT_IN_FRONT
                continue
            cv = _bone_cv(X, bones)
            if best is None or cv < best[3]:
                best = (R, t.ravel(), flip.copy(), cv)
    if best is None:
        raise Pose3dError(f"no relative pose of the two phones: {why}; film the worker whole in both, at the same "
                          "time, from directions at least ~20 degrees apart")
    R, t, flip, _ = best
    xbb = np.where(flip[:, None, None], xb[:, perm], xb)
    cbb = np.where(flip[:, None], cb[:, perm], cb)
    R, t = _refine(R, t, xa, xbb, ca, cbb, focal_px)
    # the Sampson distance is the same for t and -t: the refinement can turn a short baseline around (found on a
    # synthetic pair 6 degrees apart: the body then lies behind both phones, bones intact); keep the sign that puts
    # the body in front of both, and refuse when neither does
    X, X_flip = (_triangulate(R, s * t, xa, xbb, _seen(ca), _seen(cbb)) for s in (1.0, -1.0))
    if _in_front(X_flip, R, -t) > _in_front(X, R, t):
        t, X = -t, X_flip
    if _in_front(X, R, t) < MIN_IN_FRONT:
        raise Pose3dError(f"no relative pose of the two phones: {NOT_IN_FRONT}; film the worker whole in both, at "
                          "the same time, from directions at least ~20 degrees apart")
    return R, t, flip, _bone_cv(X, bones)


#: a relative pose must put at least this share of the triangulated joints in front of both phones
MIN_IN_FRONT = 0.9
NOT_IN_FRONT = "the body does not triangulate in front of both phones (too short a baseline?)"


def _in_front(X: np.ndarray, R: np.ndarray, t: np.ndarray) -> float:
    """The smaller of the shares of the finite points X (T, J, 3) (first camera's frame, mm) in front of the first
    and of the second camera (``X_b = R X + 1000 t``); 0 without a finite point."""
    fin = np.isfinite(X[..., 2])
    if not fin.any():
        return 0.0
    return min(float(np.mean(X[..., 2][fin] > 0)),
               float(np.mean((X @ R.T + np.asarray(t, float).ravel() * 1000.0)[..., 2][fin] > 0)))


def _refine(R, t, xa, xb, ca, cb, focal_px):
    """Robust least squares of the Sampson distances (px) over the rotation and the baseline direction."""
    import cv2
    from scipy.optimize import least_squares

    ok = (ca >= CORR_CONF) & (cb >= CORR_CONF)
    pa, pb = xa[ok], xb[ok]

    def resid(p):
        return np.sqrt(np.nan_to_num(_sampson(essential_matrix(cv2.Rodrigues(p[:3])[0], p[3:]), pa, pb))) * focal_px

    p = least_squares(resid, np.r_[cv2.Rodrigues(R)[0].ravel(), t / np.linalg.norm(t)], loss="soft_l1",
                      f_scale=10.0).x
    return cv2.Rodrigues(p[:3])[0], p[3:] / np.linalg.norm(p[3:])


def _epipolar_sync(R, t, xa_all, xb_all, ca_all, cb_all, max_offset, focal_px, perm) -> tuple[int, bool]:
    """Step 2: the shift of the second view with the lowest median Sampson distance under (R, t) (either labelling
    of each frame counts: the better one), and whether it clearly beats no shift (by 10%: else a still or slow clip
    does not pin it down, :func:`pose3d_cli.multiview.triangulate.uncertain_offsets`)."""
    E = essential_matrix(R, t)
    T = xa_all.shape[0]
    best, best_c, zero_c = 0, np.inf, np.nan
    for s in range(-max_offset, max_offset + 1):
        if (meet := overlap(T, s)) is None:
            continue
        ins, src = meet
        xa, ca = xa_all[ins], ca_all[ins]
        d = []
        for P in (np.arange(xb_all.shape[1]), perm):
            xb, cb = xb_all[src][:, P], cb_all[src][:, P]
            d.append(_nanmedian(np.where((ca >= CORR_CONF) & (cb >= CORR_CONF), _sampson(E, xa, xb), np.nan), axis=1))
        c = _nanmedian(np.fmin(d[0], d[1]))
        if s == 0:
            zero_c = c
        if np.isfinite(c) and (c < best_c - 1e-12 or (abs(c - best_c) <= 1e-12 and abs(s) < abs(best))):
            best, best_c = s, c
    # the costs are squared distances: beating no shift by 10% in pixels is 0.81 of its cost (0.9 was 5%)
    clear = best == 0 or not np.isfinite(zero_c) or best_c <= 0.9 ** 2 * zero_c
    return int(best), bool(clear)


def calibrate_pair(uv: np.ndarray, conf: np.ndarray, sizes: list[tuple[int, int]], skeleton: Skeleton | str,
                   names: list[str], fov_deg: float = 65.0, max_offset: int = 10,
                   height_mm: float = DEFAULT_HEIGHT_MM, scene_up=None) -> PairCalibration:
    """Two views' 2D of one worker → two cameras in a Z-up world (module doc).

    Args:
        uv: (2, T, J, 2) px; conf: (2, T, J); sizes: each view's (width, height); names: the cameras' names.
        scene_up: optional function ``K (3, 3) → up (3,) in the first camera's frame, or None`` (its scene lines).
    """
    sk = get_skeleton(skeleton)
    perm = sk.flip_permutation
    notes: list[str] = []
    Ks = [intrinsics_from_fov(fov_deg, *sizes[v]) for v in range(2)]
    f = 0.5 * (Ks[0][0, 0] + Ks[1][0, 0])
    xs = [pixels_to_normalized(uv[v].astype(np.float64), Ks[v]) for v in range(2)]
    offset, clear, fits = 0, True, {}  # offset → (frames of view 1, of view 2, geometry) estimated at it
    for it in range(4):
        ins, src = overlap(uv.shape[1], offset, min_frames=0)
        fits[offset] = (ins, src, relative_pose(xs[0][ins], xs[1][src], conf[0, ins], conf[1, src], sk, f))
        if not max_offset:
            break
        new, clear = _epipolar_sync(*fits[offset][2][:2], xs[0], xs[1], conf[0], conf[1], max_offset, f, perm)
        if new == offset:
            break
        if new in fits or it == 3:  # no fixed point (0 → +3 → +1 → +4 on a real pair; reversed, 0 → −3 → −1 → 0): of
            offset = min(fits, key=lambda o: fits[o][2][3])  # the offsets visited, the most rigid body's, as unclear
            clear = False
            break
        offset = new
    ins, src, (R, t, flip, cv) = fits[offset]  # the geometry is always the one estimated at the offset returned
    xa, xb, ca, cb = xs[0][ins], xs[1][src], conf[0, ins], conf[1, src]
    seen_both = ((ca >= CORR_CONF) & (cb >= CORR_CONF)).sum(1) >= MIN_JOINTS_SEEN
    if seen_both.sum() < MIN_SEEN_FRAMES:
        raise Pose3dError(f"the worker is seen by both views in {int(seen_both.sum())} frame(s) at the sync offset "
                          f"{offset:+d} (at least {MIN_SEEN_FRAMES} with {MIN_JOINTS_SEEN}+ confident joints are "
                          "needed): film the worker whole in both views for a few seconds; nothing was written")
    xbb = np.where(flip[:, None, None], xb[:, perm], xb)
    cbb = np.where(flip[:, None], cb[:, perm], cb)
    X = _triangulate(R, t, xa, xbb, _seen(ca), _seen(cbb))  # first camera's frame, unit baseline (1 m)
    from ..infer.trajectory import standing_height

    lengths = {}
    for s in ("left", "right"):
        for (a, b), child in zip((("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist")),
                                 ("knee", "ankle", "elbow", "wrist")):
            if f"{s}_{a}" in sk.joints and f"{s}_{b}" in sk.joints:
                lengths[f"{s}_{child}"] = float(_nanmedian(np.linalg.norm(
                    X[:, sk.index(f"{s}_{a}")] - X[:, sk.index(f"{s}_{b}")], axis=-1)))
    if cv > MAX_BONE_CV:
        raise Pose3dError(f"the triangulated body's bone lengths vary by {100 * cv:.0f}% over the clip (at most "
                          f"{100 * MAX_BONE_CV:.0f}% for a usable rig): the views are not of the same instants (a sync "
                          "offset beyond --max-offset?), the phones are too close together, or the field of view is "
                          "wrong; nothing was written")
    if not clear:
        notes.append(f"the sync offset ({offset:+d} frames) fits barely better than none: the clip's motion does not "
                     "pin it down; check it (e.g. a clap both phones film), and give ergo the right one with --offsets")
    if max_offset and abs(offset) >= max_offset:
        notes.append(f"the sync offset ({offset:+d}) is at the edge of the search (±{max_offset}): give a larger "
                     "--max-offset, or cut the videos to start together")
    stand = standing_height(lengths)
    if not stand:
        raise Pose3dError("the triangulated body has no limb bones to scale the two cameras by; film the worker whole")
    scale = height_mm / stand
    X = X * scale
    tb = t * 1000.0 * scale  # mm
    notes += [f"self-calibrated from the worker's joints (height {height_mm / 10:g} cm taken for the scale: angles do "
             "not depend on it); measured on one subject and room (README 'Two phones without a board')"]
    up, up_from = None, ""
    if scene_up is not None:
        up = scene_up(Ks[0])
        up_from = "the first video's scene lines"
    if up is None:
        need = ("left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
        if not all(n in sk.joints for n in need):
            raise Pose3dError(f"skeleton {sk.name}: no ankles and shoulders to find the vertical from")
        J = sk.index
        axis = 0.5 * (X[:, J("left_shoulder")] + X[:, J("right_shoulder")]) - 0.5 * (
            X[:, J("left_ankle")] + X[:, J("right_ankle")])
        axis = axis[np.isfinite(axis).all(1)]
        if not len(axis):
            raise Pose3dError("no frame shows the worker's ankles and shoulders in both views; the vertical cannot "
                              "be found")
        up = np.median(axis / np.linalg.norm(axis, axis=1, keepdims=True), axis=0)
        up_from = "the triangulated body (mid-ankles to mid-shoulders, median over the clip)"
        notes.append("vertical from the body: a worker who leans throughout tilts it")
    z = np.asarray(up, float) / np.linalg.norm(up)
    x = np.array([0.0, 0.0, 1.0]) - z * z[2]
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-6 else np.array([1.0, 0.0, 0.0])
    y = np.cross(z, x)
    R_a = np.stack([x, y, z]).T  # cam_from_world of the first camera: its columns are the world axes
    body = _nanmedian(X.reshape(-1, 3), axis=0)
    feet = _nanmedian(np.concatenate([X[:, sk.index(n)] for n in ("left_ankle", "right_ankle") if n in sk.joints]),
                      axis=0)
    if np.isfinite(feet).all():
        t_a = body - z * ((body - feet) @ z)  # the world origin (on the floor below the body) in camera-A coordinates
    else:  # framed from the knees up: no floor to put the origin on (angles do not depend on it)
        t_a = body
        notes.append("no ankles seen in both views: the world origin is at the body's centre, not on the floor")
    cams = [Camera(Ks[0], np.zeros(5), R_a, t_a, tuple(sizes[0]), names[0]),
            Camera(Ks[1], np.zeros(5), R @ R_a, R @ t_a + tb, tuple(sizes[1]), names[1])]
    seen = (ca >= CORR_CONF) & (cbb >= CORR_CONF)
    res = np.sqrt(np.nan_to_num(_sampson(essential_matrix(R, t), xa, xbb)[seen])) * f
    return PairCalibration(cams, offset, cv, float(np.median(res)), int(seen.sum()), up_from, notes)
