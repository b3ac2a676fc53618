"""World up from the scene's straight lines: the vertical vanishing direction of a Manhattan frame.

Workshops are built of walls, door frames, shelves, machine housings: edges that are vertical in the world.
Their images all pass through one vanishing point, and the direction of that point in the camera frame is the
world's up (or down). This module finds it from a few frames of the video, independently of the person:

1. **Segments**: OpenCV's line segment detector (LSD, von Gioi et al. 2012) on each frame, downscaled to
   ``long_side`` px; segments shorter than ``min_length`` × the image diagonal are dropped, and so are those
   whose midpoint lies on a person (within a capsule around one of their 2D bones), whose limbs are straight
   lines too.
2. **Interpretation planes**: segment ``(u1, v1) → (u2, v2)`` and the camera centre span a plane with unit normal
   ``n = K⁻¹p1 × K⁻¹p2``; a 3D direction ``d`` can be the segment's direction only if ``n · d = 0``.
3. **A Manhattan frame** (Coughlan & Yuille 1999; here by sampling, as in most vanishing-point RANSACs):
   vertical hypotheses ``d = n_i × n_j`` from segment pairs within ``window_deg`` of a prior (the body's estimate
   or the level camera); for the best of them, a horizontal direction ``h1 = d × n_k`` from one more segment and
   ``h2 = d × h1``. Score = Σ length × (1 − (residual / inlier)²) over the segments within ``inlier_deg`` of
   one of the three directions, each counted once (MSAC-style: it peaks at the exact fit). Scoring all three matters: a floor edge running away from the camera passes close
   to a pitched camera's vertical vanishing point too, and a vertical-only fit is pulled by such edges (by 4-7°
   on the shared pose2sim cam02). The winner is refined by least squares on its own segments.
4. **The focal length**, when no calibration or ``--fov``/``--focal`` gives it: the three directions are
   orthogonal only at the right focal length, so the frame is fitted over a grid of fields of view (every 5°
   from 40° to 90°, then every 1° around the best) and the best-scoring one is kept (on the shared pose2sim
   views: 60° found, 59.4-59.7° calibrated; the default 65° put the vertical 2-2.5° off).
5. **A camera that moves** (a hand-held phone): each frame is also fitted on its own, near the joint fit; when
   those verticals spread more than :data:`MOVING_SPREAD_DEG`, the focal length is searched again for the best
   sum of the frames' own fits (one focal length, one rotation per frame), ``up`` is their mean and
   ``frame_up`` holds each frame's (the caller samples more frames, :func:`frame_ups`, 3-point median, and
   interpolates between them).

Accepted only when the scene shows enough vertical structure (:data:`MIN_VERTICAL_PER_FRAME` segments per frame,
spread over :data:`MIN_COVERAGE` of the image across them) and, when the prior is an independent estimate (the body
poses'), within :data:`MAX_FROM_BODY_DEG` of it; otherwise the body estimate is used and the reason is stated. ``spread_deg``: the frames' own verticals' median
angle to ``up``.

Conventions: camera frame x right, y down, z forward; segments in pixels of the frame given; ``up`` points away
from gravity (its sign chosen by the prior). Shapes in the docstrings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..synth.cameras import intrinsics_from_fov
from .frame import camera_tilt

MIN_VERTICAL_PER_FRAME = 15.0  # vertical segments per sampled frame
MIN_COVERAGE = 0.3  # the vertical segments spread across this share of the image (10th-90th pct; line_coverage)
FOV_COARSE = tuple(range(40, 91, 5))  # degrees across the long side
#: the searched field of view counts as found only when every field of view 10° or more away scores below this
#: fraction of the best: a level camera facing a wall sees its lines nearly parallel, and every focal length
#: explains them (synthetic rooms, 1 px noise, pitch 0 / 1.5 / 3 / 5°: 1.000 / 0.995 / 0.987 / 0.963; facing 20° off
#: a wall, level: 0.999, found 70° for 60°); the pose2sim views peak clearly (0.42-0.71)
FOV_PEAK_RATIO = 0.99
#: a camera whose frames' own verticals spread more than this (median angle to their mean) is taken as moving
MOVING_SPREAD_DEG = 1.0
#: each frame's own vertical is searched this close to the video's, and needs this many vertical lines
FRAME_WINDOW_DEG = 20.0
FRAME_MIN_VERTICAL = 6
#: the body-pose estimate is 5-11 deg off on pose2sim and 11-14 deg at its 95th percentile on synth; the lines, when
#: they fail, fail grossly (a floor direction taken for the vertical): further apart than this, the lines are refused
MAX_FROM_BODY_DEG = 25.0


@dataclass
class SceneUp:
    """The scene's vertical and how far to trust it.

    Attributes:
        up: (3,) unit, camera frame, pointing up; NaN when no frame could be fitted.
        accepted: whether the scene showed enough vertical structure to use ``up``.
        reason: why it was accepted or not (one line).
        fov_deg: field of view across the long side used (found by the focal search, or from the given K).
        focal_searched: True when the focal length was found from the lines (no K given, and the lines' score
            peaks: :data:`FOV_PEAK_RATIO`); False with a K given or where the lines cannot tell the focal length
            (then ``fov_deg`` is only the one the vertical was fitted with).
        n_vertical: segments supporting the vertical; n_segments: all segments used; n_frames: frames used.
        coverage: share of the image spanned by the vertical segments across their direction (10th to 90th
            percentile, :func:`line_coverage`).
        spread_deg: median angle between each frame's own vertical and ``up`` (NaN with one frame).
        prior_angle_deg: angle between ``up`` and the prior it was searched around.
        moving: the frames' own verticals differ by more than :data:`MOVING_SPREAD_DEG` (a hand-held phone):
            ``frame_up`` holds them and ``up`` is their mean.
        frame_up: (n_frames, 3) each frame's own vertical (NaN where a frame could not be fitted), or None.
        frame_index: (n_frames,) the video frame of each row of ``frame_up`` (set by the caller), or None.
    """

    up: np.ndarray
    accepted: bool
    reason: str
    fov_deg: float
    focal_searched: bool
    n_vertical: int
    n_segments: int
    n_frames: int
    coverage: float
    spread_deg: float
    prior_angle_deg: float
    moving: bool = False
    frame_up: np.ndarray | None = None
    frame_index: np.ndarray | None = None

    def to_dict(self) -> dict:
        r = lambda v: None if not np.isfinite(v) else round(float(v), 2)  # noqa: E731
        return {"up": [round(float(v), 5) if np.isfinite(v) else None for v in self.up],
                "accepted": bool(self.accepted), "reason": self.reason, "fov_deg": r(self.fov_deg),
                "focal_searched": bool(self.focal_searched), "n_vertical": int(self.n_vertical),
                "n_segments": int(self.n_segments), "n_frames": int(self.n_frames), "coverage": r(self.coverage),
                "spread_deg": r(self.spread_deg), "prior_angle_deg": r(self.prior_angle_deg),
                "moving_camera": bool(self.moving),
                "frames_fitted": None if self.frame_up is None else int(np.isfinite(self.frame_up).all(1).sum())}


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def line_coverage(seg: np.ndarray, up: np.ndarray, w: int, h: int) -> float:
    """How widely (N, 4) segments ``x0, y0, x1, y1`` px spread across the image, measured across the direction in
    which ``up`` (3,) camera frame runs in the image: the 10-90 percentile range of their midpoints along that
    perpendicular, as a share of the image's extent along it (a phone rolled 90° has its vertical lines spread down
    the image, not across it: their x alone said 23% of a width they covered whole). 0 for fewer than 2 segments."""
    if len(seg) < 2:
        return 0.0
    roll = np.radians(camera_tilt(up)[1])  # the image direction of up, from −y, + towards +x
    across = np.array([np.cos(roll), np.sin(roll)])  # perpendicular to it in the image (x right, y down)
    mid = 0.5 * (seg[:, :2] + seg[:, 2:4])
    along = mid @ across
    return float(np.subtract(*np.percentile(along, [90, 10])) / (abs(w * across[0]) + abs(h * across[1])))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(_unit(a), _unit(b)), -1.0, 1.0))))


def detect_segments(image: np.ndarray, long_side: int = 960, min_length: float = 0.02) -> np.ndarray:
    """Straight segments of one frame (OpenCV LSD).

    Args:
        image: (H, W, 3) BGR or (H, W) grey uint8.
        long_side: the frame is downscaled to this many pixels on its long side first (not upscaled).
        min_length: drop segments shorter than this fraction of the image diagonal.
    Returns:
        (N, 4) segments ``x1, y1, x2, y2`` in the pixels of ``image``.
    """
    import cv2

    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    s = min(1.0, long_side / max(grey.shape[:2]))
    if s < 1.0:
        grey = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    found = cv2.createLineSegmentDetector().detect(grey)[0]
    if found is None:
        return np.zeros((0, 4))
    seg = found.reshape(-1, 4).astype(np.float64) / s
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return seg[length >= min_length * np.hypot(*image.shape[:2])]


#: one person's 2D limbs as capsules: bone start points (B, 2) px, end points (B, 2) px, radius px
Limbs = tuple[np.ndarray, np.ndarray, float]


def drop_near_limbs(segments: np.ndarray, people: list[Limbs] | None) -> np.ndarray:
    """Segments (N, 4) whose midpoint lies within no person's limb capsule (distance to a bone < its radius).

    A person's outline makes long straight segments along the limbs and trunk, which are no scene lines; a capsule
    around each 2D bone drops them while keeping the scene behind and beside the person (a box around a person in
    the background hides the door frames and shelves around her: on pose2sim cam01 it left too few lines)."""
    if not people or len(segments) == 0:
        return segments
    mid = 0.5 * (segments[:, :2] + segments[:, 2:])
    near = np.zeros(len(mid), bool)
    for start, end, radius in people:
        if len(start) == 0:
            continue
        d = end - start  # (B, 2)
        t = np.clip(((mid[:, None] - start[None]) * d[None]).sum(-1) / np.maximum((d * d).sum(-1), 1e-9)[None], 0, 1)
        dist = np.linalg.norm(mid[:, None] - (start[None] + t[..., None] * d[None]), axis=-1)  # (N, B)
        near |= (dist < radius).any(1)
    return segments[~near]


def segment_normals(segments: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 4) pixel segments, (3, 3) intrinsics → (N, 3) unit normals of their interpretation planes (camera
    frame): a direction ``d`` is the 3D direction of segment i only if ``normals[i] · d = 0``."""
    Kinv = np.linalg.inv(K)
    ones = np.ones((len(segments), 1))
    p1 = np.concatenate([segments[:, :2], ones], 1) @ Kinv.T
    p2 = np.concatenate([segments[:, 2:], ones], 1) @ Kinv.T
    return _unit(np.cross(p1, p2))


def manhattan_frame(normals: np.ndarray, weights: np.ndarray, prior: np.ndarray, window_deg: float = 40.0,
                    inlier_deg: float = 1.0, hypotheses: int = 600, keep: int = 30, horizontal_tries: int = 300,
                    max_scored: int = 1000, seed: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """The vertical of a Manhattan frame fitted to interpretation-plane normals.

    Args:
        normals: (N, 3) unit normals (:func:`segment_normals`); weights: (N,) e.g. segment lengths.
        prior: (3,) rough up; the vertical is searched within ``window_deg`` of it and signed like it.
        inlier_deg: a segment supports a direction when its plane is within this angle of it.
        hypotheses / keep / horizontal_tries: vertical pairs drawn / best of them completed with a horizontal /
            segments tried for the horizontal direction.
        max_scored: hypotheses are scored on at most this many segments (a random subset; the refinement and the
            returned score use all).
    Returns:
        up (3,) unit (NaN when nothing fits), score (the segments' weights times their soft support
        :func:`_soft`, summed over the three directions: an MSAC score), vertical (N,) bool:
        the segments assigned to the vertical.
    """
    n = np.asarray(normals, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    prior = _unit(np.asarray(prior, dtype=np.float64))
    nothing = (np.full(3, np.nan), 0.0, np.zeros(len(n), bool))
    s = np.sin(np.radians(inlier_deg))
    usable = np.isfinite(n).all(1) & np.isfinite(w) & (w > 0)  # a zero-length segment has no line and no weight
    near = np.flatnonzero(usable & (np.abs(n @ prior) < np.sin(np.radians(window_deg))))
    if len(near) < 2 or usable.sum() < 3:
        return nothing
    w = np.where(usable, w, 0.0)
    n = np.where(usable[:, None], n, 0.0)
    rng = np.random.default_rng(seed)
    pairs = rng.choice(near, (hypotheses, 2), p=w[near] / w[near].sum())
    d = np.cross(n[pairs[:, 0]], n[pairs[:, 1]])
    ok = np.linalg.norm(d, axis=1) > 1e-9
    d = _unit(d[ok])
    d *= np.sign(d @ prior)[:, None]
    d = d[d @ prior > np.cos(np.radians(window_deg))]
    if not len(d):
        return nothing
    pool = np.flatnonzero(usable)
    sub = rng.choice(pool, max_scored, replace=False) if len(pool) > max_scored else pool
    ns, ws = n[sub], w[sub]
    vertical_score = _soft(d @ ns.T, s) @ ws
    cands = d[np.argsort(-vertical_score)[:keep]]
    tries = n[rng.choice(pool, min(horizontal_tries, len(pool)), replace=False, p=w[pool] / w[pool].sum())]
    best = (-1.0, None, None)
    for di in cands:
        vin = np.abs(ns @ di) < s
        h1 = np.cross(di, tries)
        h1 = _unit(h1[np.linalg.norm(h1, axis=1) > 1e-9])
        h2 = np.cross(di, h1)
        hs = (np.maximum(_soft(h1 @ ns.T, s), _soft(h2 @ ns.T, s)) * ~vin) @ ws
        score = float(_soft(ns @ di, s) @ ws + hs.max(initial=0.0))
        if score > best[0]:
            best = (score, di, h1[hs.argmax()] if len(hs) else None)
    score, up, h1 = best
    if h1 is None:
        h1 = _unit(np.cross(up, [1.0, 0.0, 0.0]))
    for _ in range(3):  # refine: each segment to its nearest direction, the vertical re-fitted on its own
        h2 = np.cross(up, h1)
        r = np.abs(n @ np.stack([up, h1, h2]).T)
        vertical = (r.argmin(1) == 0) & (r.min(1) < s) & usable
        if vertical.sum() < 2:
            break
        m = (n[vertical] * w[vertical, None]).T @ n[vertical]
        v = np.linalg.eigh(m)[1][:, 0]
        up = v * np.sign(v @ prior)
        h1 = _unit(h1 - (h1 @ up) * up)
    r = np.abs(n @ np.stack([up, h1, np.cross(up, h1)]).T)
    vertical = (r.argmin(1) == 0) & (r.min(1) < s) & usable
    return up, float(_soft(r.min(1), s) @ w), vertical


def _soft(r: np.ndarray, s: float) -> np.ndarray:
    """Support of a segment whose plane is ``r`` (sine of the angle) from a direction: 1 − (r/s)² within the
    inlier angle, 0 outside (an MSAC-style score: it peaks at the exact fit, which the focal search needs)."""
    return np.maximum(0.0, 1.0 - (r * r) * (1.0 / (s * s)))


def scene_up(images: list[np.ndarray], K: np.ndarray | None = None, prior: np.ndarray | None = None,
             people: list[list[Limbs] | None] | None = None, window_deg: float = 40.0,
             inlier_deg: float = 1.0, long_side: int = 960, seed: int = 0,
             max_from_prior_deg: float | None = None) -> SceneUp:
    """World up from a few frames of one (static) camera: :func:`detect_segments` on each frame, the people's
    segments dropped, then :func:`scene_up_from_segments`.

    Args:
        images: frames (H, W, 3) BGR uint8, all the same size (a handful spread over the video is enough).
        K: (3, 3) intrinsics of those frames; None: the field of view is searched (see the module doc).
        prior: (3,) rough up (the body estimate); None: the level camera (0, -1, 0).
        people: per image, the people's limb capsules (:data:`Limbs`) whose segments are ignored, or None.
        max_from_prior_deg: refuse a result further than this from ``prior`` (given an independent estimate, e.g.
            the body poses': two estimates that far apart mean one is wrong, and the lines' failures are gross).
    """
    segments = [drop_near_limbs(detect_segments(img, long_side), people[i] if people else None)
                for i, img in enumerate(images)]
    h, w = images[0].shape[:2]
    return scene_up_from_segments(segments, (w, h), K, prior, window_deg, inlier_deg, seed, max_from_prior_deg)


def scene_up_from_segments(segments: list[np.ndarray], size: tuple[int, int], K: np.ndarray | None = None,
                           prior: np.ndarray | None = None, window_deg: float = 40.0, inlier_deg: float = 1.0,
                           seed: int = 0, max_from_prior_deg: float | None = None) -> SceneUp:
    """World up from the straight segments of a few frames of one camera.

    Args:
        segments: per frame, (N_i, 4) segments ``x1, y1, x2, y2`` px.
        size: (width, height) of the frames.
        K: (3, 3) intrinsics; None: the field of view (square pixels, centred principal point) is searched.
        prior: (3,) rough up; None: the level camera (0, -1, 0).
        max_from_prior_deg: see :func:`scene_up`.
    Returns:
        :class:`SceneUp` (``accepted`` says whether to use it).
    """
    prior = _unit(np.array([0.0, -1.0, 0.0]) if prior is None else np.asarray(prior, dtype=np.float64))
    w, h = size
    n_frames = len(segments)
    seg = np.concatenate(segments).reshape(-1, 4) if segments else np.zeros((0, 4))
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])

    def fit(Km):
        return manhattan_frame(segment_normals(seg, Km), length, prior, window_deg, inlier_deg, seed=seed)

    searched = K is None
    if searched:
        fits = {fov: fit(intrinsics_from_fov(fov, w, h)) for fov in FOV_COARSE}
        best = max(fits, key=lambda f: fits[f][1])
        for fov in range(max(FOV_COARSE[0], best - 4), min(FOV_COARSE[-1], best + 4) + 1):
            if fov not in fits:
                fits[fov] = fit(intrinsics_from_fov(fov, w, h))
        best = max(fits, key=lambda f: fits[f][1])
        fov, K = float(best), intrinsics_from_fov(best, w, h)
        up, _, vertical = fits[best]
        far = [score for f, (_, score, _) in fits.items() if abs(f - best) >= 10]
        fov_found = bool(far) and max(far) < FOV_PEAK_RATIO * fits[best][1]
    else:
        K = np.asarray(K, dtype=np.float64)
        fov = float(np.degrees(2 * np.arctan(0.5 * max(w, h) / K[0, 0])))
        up, _, vertical = fit(K)
        fov_found = False
    if not np.isfinite(up).all():
        # no field of view was found either: a searched one is no answer (NaN), a given one stays
        return SceneUp(np.full(3, np.nan), False, f"no vertical lines found in {n_frames} frame(s) "
                       f"({len(seg)} segments)", float("nan") if searched else fov, False, 0, len(seg), n_frames,
                       0.0, float("nan"), float("nan"))
    # each frame on its own, with the same K, near the joint fit: a camera that moves has no single vertical
    frame_up, frame_score, frame_vertical = frame_fits(segments, K, up, inlier_deg, seed)
    spread = _median_angle(frame_up, up) if n_frames > 1 else float("nan")
    moving = n_frames > 1 and spread > MOVING_SPREAD_DEG
    if moving:  # each frame its own rotation, searched as widely as the joint fit (which a moving camera misleads)
        def fits_at(Km):
            return frame_fits(segments, Km, prior, inlier_deg, seed, window_deg)

        def summary(f_up):
            ok_rows = np.isfinite(f_up).all(1)
            up_m = _unit(f_up[ok_rows].sum(0)) if ok_rows.any() else up
            return up_m, _median_angle(f_up, up_m)

        fov_m, K_m = fov, K
        f_up, _, f_vertical = fits_at(K)  # at the joint fit's focal length first: a still camera stops here
        up_m, spread_m = summary(f_up)
        if searched and spread_m > MOVING_SPREAD_DEG:  # the focal length that best explains every frame's own fit
            per_fov = {f: fits_at(intrinsics_from_fov(f, w, h)) for f in FOV_COARSE}
            best = max(per_fov, key=lambda f: per_fov[f][1].sum())
            for f in range(max(FOV_COARSE[0], best - 4), min(FOV_COARSE[-1], best + 4) + 1):
                if f not in per_fov:
                    per_fov[f] = fits_at(intrinsics_from_fov(f, w, h))
            best = max(per_fov, key=lambda f: per_fov[f][1].sum())
            fov_m, K_m = float(best), intrinsics_from_fov(best, w, h)
            f_up, _, f_vertical = per_fov[best]
            up_m, spread_m = summary(f_up)
        moving = spread_m > MOVING_SPREAD_DEG  # confirmed by the frames' own fits, else a still camera after all
        spread = spread_m
        if moving:
            fov, K, up, spread, frame_up = fov_m, K_m, up_m, spread_m, f_up
            vertical = np.concatenate(f_vertical)
    coverage = line_coverage(seg[vertical], up, w, h)
    nv = int(vertical.sum())
    off = _angle_deg(up, prior)
    if max_from_prior_deg is not None and off > max_from_prior_deg:
        ok, why = False, (f"the lines' vertical is {off:.0f} deg from the independent estimate it was searched "
                          f"around (more than {max_from_prior_deg:.0f}): one of them is wrong")
    elif nv < MIN_VERTICAL_PER_FRAME * n_frames:
        ok, why = False, (f"too few vertical lines ({nv / n_frames:.0f} per frame, need "
                          f"{MIN_VERTICAL_PER_FRAME:.0f}): the scene shows little vertical structure")
    elif coverage < MIN_COVERAGE:
        ok, why = False, (f"the vertical lines cover {coverage:.0%} of the image across them (need {MIN_COVERAGE:.0%}): "
                          "they may all belong to one slanted object")
    else:
        ok, why = True, (f"{nv / n_frames:.0f} vertical lines per frame over {coverage:.0%} of the image, "
                         f"{n_frames} frame(s)" + (f", field of view {fov:.0f} deg found from the lines"
                                                   if fov_found else ", field of view not found from the lines (they "
                                                   "are nearly parallel in the image: a level camera)" if searched
                                                   else ""))
    if moving and ok:
        why += f"; the camera moves (its frames' verticals spread {spread:.1f} deg): followed frame by frame"
    return SceneUp(up, ok, why, fov, fov_found, nv, len(seg), n_frames, coverage, spread, off, moving,
                   frame_up if moving else None)


def frame_fits(segments: list[np.ndarray], K: np.ndarray, near: np.ndarray, inlier_deg: float = 1.0, seed: int = 0,
               window_deg: float = FRAME_WINDOW_DEG) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Each frame's own Manhattan frame, searched within ``window_deg`` of ``near`` (3,).

    Returns:
        up (n, 3) (NaN for a frame with too few segments), score (n,) and, per frame, its (N_i,) vertical mask.
    """
    ups, scores, masks = [], [], []
    for s in segments:
        length = np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1])
        u, score, v = manhattan_frame(segment_normals(s, K), length, near, window_deg, inlier_deg, seed=seed)
        ups.append(u)
        scores.append(score)
        masks.append(v)
    return np.array(ups).reshape(-1, 3), np.array(scores), masks


def frame_ups(images: list[np.ndarray], K: np.ndarray, near: np.ndarray,
              people: list[list[Limbs] | None] | None = None, long_side: int = 960, seed: int = 0) -> np.ndarray:
    """(n, 3) each image's own vertical near ``near`` (a moving camera, its K known): NaN where one cannot be
    fitted or has fewer than :data:`FRAME_MIN_VERTICAL` vertical lines (the scene's structure was established on
    the video's sample first; one frame's fit, searched near it, needs fewer)."""
    segments = [drop_near_limbs(detect_segments(img, long_side), people[i] if people else None)
                for i, img in enumerate(images)]
    up, _, vertical = frame_fits(segments, K, near, seed=seed)
    up[np.array([m.sum() < FRAME_MIN_VERTICAL for m in vertical], bool)] = np.nan
    return median3(up)


#: a sampled vertical is a lone outlier when it is further than this (degrees) from both its neighbours (a
#: hand-held sway of ±7° at 1.2 s, sampled 4 times a second, turns by ~5° between samples at its peaks)
LONE_OUTLIER_DEG = 8.0


def median3(ups: np.ndarray) -> np.ndarray:
    """(n, 3) a series of sampled directions with each lone outlier replaced by the component-wise median of it and
    its two neighbours (renormalised). A lone outlier is further than :data:`LONE_OUTLIER_DEG` from both of its
    immediate neighbours and further from each than they are from each other: one frame's poor fit does not
    survive, while the samples of a smooth motion (each between its neighbours) are kept as fitted (a median of
    every triple flattened a hand-held phone's turning points). A NaN row (a frame that could not be fitted) is no
    neighbour: samples next to it are kept."""
    out = ups.copy()
    if len(ups) < 3:
        return out
    a, m, b = ups[:-2], ups[1:-1], ups[2:]
    ang = lambda x, y: np.degrees(np.arccos(np.clip((_unit(x) * _unit(y)).sum(-1), -1.0, 1.0)))  # noqa: E731
    with np.errstate(invalid="ignore"):
        near = np.minimum(ang(m, a), ang(m, b))
        lone = np.isfinite(np.stack([a, m, b])).all((0, 2)) & (near > LONE_OUTLIER_DEG) & (near > ang(a, b))
    idx = np.flatnonzero(lone) + 1
    out[idx] = _unit(np.median(np.stack([a[lone], m[lone], b[lone]]), axis=0))
    return out


def _median_angle(ups: np.ndarray, up: np.ndarray) -> float:
    ok = np.isfinite(ups).all(1)
    if not ok.any():
        return float("nan")
    return float(np.median(np.degrees(np.arccos(np.clip(_unit(ups[ok]) @ _unit(up), -1.0, 1.0)))))
