"""Detector-like corruption of exact 2D projections.

Real 2D detectors fail in recognisable ways; each is modelled here, and every rate is a field of
:class:`Corruption`. The same code serves ``pose3d synth``, training augmentation and ``pose3d eval --sweep``.

Per frame and joint, in this order:

1. **truncation**: joints outside the image (or behind the camera) are missing;
2. **self-occlusion**: the body is a set of capsules (torso, limbs, head sphere); a joint whose line of sight
   passes through a capsule in front of it is hidden;
3. **box occlusion**: with ``box_prob`` per sequence a box (a table, a machine, a passer-by) covers part of
   the person for a stretch of frames;
4. hidden joints are either *guessed* by the detector (probability ``occluded_guess_prob``: big error, low
   confidence) or *dropped* (confidence 0); plus random **dropouts**;
5. **jitter**: per-frame Gaussian noise plus a slowly varying per-joint offset, both scaled with the person's
   size in pixels and a per-joint factor (:data:`JOINT_NOISE`, or a config's ``joint_noise``: a table by joint-name
   stem, ``wrist`` for ``left_wrist`` and ``right_wrist``, that *replaces* the default table, so a stem it does not
   name gets 1.0, not its :data:`JOINT_NOISE` factor; a key that is no stem of the skeleton is refused). The default
   level is set against BlazePose's real 2D error (``benchmarks/detector2d_error.py``: the 4-view pose2sim reference
   reprojected into each view, dev frames): 0.71x its median, chosen by retraining the default lifter at
   1.76x / 1.06x / 0.71x / 0.35x and comparing them in the wild on the dev frames (README);
6. **outliers**: a joint lands somewhere else on the person;
7. **left/right swaps**: single pairs for a few frames, and whole-body swaps when the subject turns its back
   to the camera (seen with BlazePose on the shared videos);
8. **confidence**: ``confidence="error"`` (default) falls with each joint's error and is low for guesses,
   which leaks the injected error to the network. ``confidence="blazepose"`` draws it instead from
   BlazePose's own confidence measured on
   real detections against the 4-view pose2sim reference (``confidence_blazepose.json``, made by
   ``benchmarks/confidence_model.py`` on the dev frames): saturated near 1, a lower tail on knees, ankles,
   elbows and wrists, hardly lower for joints the body hides, and tied to the joint's error only as measured
   (the confidence's rank drawn given the error's rank: rank correlation about −0.18, the low tail mostly on
   the worst fifth). It is the more faithful model, but a lifter trained on it was worse in the wild on the
   pose2sim dev frames (66.4 vs 61.7 mm P-MPJPE, same data and seed), so it is an option, not the default.
   Missing joints get 0 and coordinates 0.

``Corruption.clean()`` turns everything off except truncation: exact projections, confidence 1 inside
the image.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..geometry import distortion_folds
from ..skeleton import H36M17, Skeleton
from .noise import random_runs, smooth_noise

#: per-joint noise factor by joint-name stem (others: 1.0); a config's ``joint_noise`` replaces this whole table
JOINT_NOISE = {"wrist": 1.6, "elbow": 1.3, "ankle": 1.4, "knee": 1.2, "hip": 1.2, "head": 1.3, "nose": 1.0,
               "pelvis": 1.0, "spine": 1.1, "thorax": 0.9, "shoulder": 0.9}

#: body capsules for the self-occlusion test: (joint a, joint b, radius mm). A sphere when a == b.
CAPSULES = [
    ("pelvis", "thorax", 130.0), ("left_hip", "left_shoulder", 90.0), ("right_hip", "right_shoulder", 90.0),
    ("left_hip", "left_knee", 75.0), ("left_knee", "left_ankle", 55.0),
    ("right_hip", "right_knee", 75.0), ("right_knee", "right_ankle", 55.0),
    ("left_shoulder", "left_elbow", 50.0), ("left_elbow", "left_wrist", 40.0),
    ("right_shoulder", "right_elbow", 50.0), ("right_elbow", "right_wrist", 40.0),
    ("head", "nose", 95.0),
]


@dataclass
class Corruption:
    """Rates and scales of detector-like 2D corruption (see module doc)."""

    # jitter: together 0.71x the median error of BlazePose's 2D against the 4-view pose2sim reference (dev frames,
    # benchmarks/detector2d_error.py); 0.012 each (1.76x) was the default until the lifter was retrained on 0.0048
    noise_sigma: float = 0.0048  # per-frame jitter std, fraction of person size (bbox diagonal)
    noise_slow_sigma: float = 0.0048  # slowly varying offset std, same unit
    outlier_rate: float = 0.005
    dropout_rate: float = 0.02
    self_occlusion: bool = True
    box_prob: float = 0.25  # per sequence
    box_size: tuple[float, float] = (0.25, 0.6)  # box side, fraction of the person's bbox
    occluded_guess_prob: float = 0.6
    occluded_noise: float = 0.05  # error std of a guessed hidden joint, fraction of person size
    # Swaps are kept rare: a swapped training pair teaches the network a front/back average (measured: with
    # ~40% of back-facing frames swapped, held-out MPJPE rose from 75 to 115 mm); swaps in real detections are
    # better handled at inference time (temporal consistency).
    swap_rate: float = 0.001  # per frame and left/right pair: start of a swapped run
    back_swap_rate: float = 0.005  # per frame facing away from the camera: start of a whole-body swap
    frame_drop_rate: float = 0.0  # whole frames with no detection
    truncation: bool = True
    confidence: str = "error"  # "error" (falls with the error) or "blazepose" (calibrated on real detections)
    joint_noise: dict | None = None  # per-joint jitter factor by joint-name stem, replacing JOINT_NOISE (unnamed
    # stems get 1.0); None: JOINT_NOISE

    @classmethod
    def clean(cls) -> "Corruption":
        """Exact projections: nothing but truncation."""
        return cls(noise_sigma=0, noise_slow_sigma=0, outlier_rate=0, dropout_rate=0, self_occlusion=False,
                   box_prob=0, occluded_guess_prob=0, swap_rate=0, back_swap_rate=0, frame_drop_rate=0)

    def scaled(self, noise: float | None = None, occlusion: float | None = None) -> "Corruption":
        """A copy with the jitter std (fraction of person size) and/or the random-dropout rate set."""
        out = replace(self)
        if noise is not None:
            out.noise_sigma = noise
            out.noise_slow_sigma = noise
        if occlusion is not None:
            out.dropout_rate = occlusion
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_file(cls, path, skeleton: Skeleton | None = None) -> "Corruption":
        """Read rates from a YAML/JSON file ``{noise_sigma: 0.01, dropout_rate: 0.05, ...}``; ``joint_noise``'s keys
        must be joint-name stems of ``skeleton`` (default h36m17, the skeleton ``synth`` corrupts)."""
        from ..config import read_config
        from ..errors import Pose3dError

        data = read_config(path, "corruption config")
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            raise Pose3dError(f"{path}: corruption config must be an object with keys among {sorted(known)}")
        jn = data.get("joint_noise")
        if jn is not None and not (isinstance(jn, dict) and all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf")
                for k, v in jn.items())):
            raise Pose3dError(f"{path}: joint_noise must map joint-name stems to factors >= 0, e.g. "
                              f"{{wrist: 1.6, hip: 1.2}}, not {jn!r}")
        if jn is not None and (bad := unknown_stems(jn, skeleton or H36M17)):
            raise Pose3dError(f"{path}: {joint_noise_problem(bad, skeleton or H36M17)}")
        if data.get("confidence", "error") not in CONFIDENCES:
            raise Pose3dError(f"{path}: confidence must be one of {', '.join(CONFIDENCES)}, "
                              f"not {data['confidence']!r}")
        from ..config import setting_problem

        for f in fields(cls):  # each setting of its default's type and range (a negative sigma, a rate of 5 gave
            if f.name not in data or f.name in ("joint_noise", "confidence"):  # a file of nothing but zeros)
                continue
            want = setting_problem(f.name, data[f.name], f.default)
            if want is not None:
                raise Pose3dError(f"{path}: {f.name} must be {want}, not {data[f.name]!r}")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, d: dict) -> "Corruption":
        known = {f.name for f in fields(cls)}
        d = {"confidence": "error", **d}  # the default; also what every file written before the key meant
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})


def joint_stems(skeleton: Skeleton) -> list[str]:
    """The skeleton's joint-name stems, sorted: the last ``_`` part of each name (``left_wrist`` → ``wrist``), the
    keys of :data:`JOINT_NOISE` and of a config's ``joint_noise``."""
    return sorted({n.split("_")[-1] for n in skeleton.joints})


def unknown_stems(table: dict, skeleton: Skeleton) -> list[str]:
    """The keys of a ``joint_noise`` table that are no joint-name stem of ``skeleton`` (sorted; [] when all are)."""
    return sorted(set(map(str, table)) - set(joint_stems(skeleton)))


def joint_noise_problem(bad: list[str], skeleton: Skeleton) -> str:
    """One line: which ``joint_noise`` keys are no stem, the valid stems, and what to write instead."""
    what = (f"key {bad[0]} is not a joint-name stem" if len(bad) == 1
            else f"keys {', '.join(bad)} are not joint-name stems")
    return (f"joint_noise {what} of {skeleton.name}; use stems among "
            f"{', '.join(joint_stems(skeleton))} (wrist sets left_wrist and right_wrist; the table replaces the "
            f"default one, so stems it leaves out get 1.0)")


def self_occlusion_mask(joints_cam: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Which joints are hidden behind the body's own volume.

    Args:
        joints_cam: (T, J, 3) camera frame, mm (z forward).
    Returns:
        (T, J) bool, True where a capsule not attached to the joint lies in front of it on its line of sight.
    """
    caps = [(skeleton.index(a), skeleton.index(b), r) for a, b, r in CAPSULES
            if a in skeleton.joints and b in skeleton.joints]
    if not caps:
        return np.zeros(joints_cam.shape[:2], dtype=bool)
    ia = np.array([c[0] for c in caps])
    ib = np.array([c[1] for c in caps])
    rad = np.array([c[2] for c in caps])  # (B,)
    P = joints_cam.astype(np.float32)
    z = np.maximum(P[..., 2], 1e-3)
    x, y = P[..., 0] / z, P[..., 1] / z  # (T, J) normalised image coordinates
    ax, ay, bx, by = x[:, ia], y[:, ia], x[:, ib], y[:, ib]  # (T, B)
    za, zb = z[:, ia], z[:, ib]
    dx, dy = bx - ax, by - ay
    inv = 1.0 / np.maximum(dx * dx + dy * dy, 1e-12)
    px = x[:, :, None] - ax[:, None]  # (T, J, B)
    py = y[:, :, None] - ay[:, None]
    s = np.clip((px * dx[:, None] + py * dy[:, None]) * inv[:, None], 0.0, 1.0)
    ex = px - s * dx[:, None]
    ey = py - s * dy[:, None]
    z_s = za[:, None] + s * (zb - za)[:, None]  # depth of the capsule axis there
    r = rad.astype(np.float32)
    r_img2 = (r / np.maximum(z_s, 1e-3)) ** 2  # projected radius, squared
    J = joints_cam.shape[1]
    attached = (np.arange(J)[:, None] == ia[None]) | (np.arange(J)[:, None] == ib[None])  # (J, B)
    hidden = (ex * ex + ey * ey < r_img2) & (z_s + 0.5 * r < z[:, :, None]) & ~attached[None]
    return hidden.any(-1)


def facing_away(joints_cam: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, J, 3) camera-frame joints → (T,) bool: the subject's chest points away from the camera."""
    lh, rh = joints_cam[:, skeleton.index("left_hip")], joints_cam[:, skeleton.index("right_hip")]
    ls, rs = joints_cam[:, skeleton.index("left_shoulder")], joints_cam[:, skeleton.index("right_shoulder")]
    across = (lh - rh) + (ls - rs)  # towards the subject's left
    up = (ls + rs - lh - rh) / 2  # towards the head
    forward = np.cross(across, up)  # right-handed: left × up = forward... sign checked in tests
    return forward[:, 2] > 0


def person_size(uv: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Bounding-box diagonal of the valid joints per frame. (T, J, 2), (T, J) → (T,) pixels (≥ 1)."""
    import warnings

    big = np.where(valid[..., None], uv, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no valid joint: size 1
        lo, hi = np.nanmin(big, axis=1), np.nanmax(big, axis=1)
    diag = np.linalg.norm(np.nan_to_num(hi - lo), axis=-1)
    return np.maximum(diag, 1.0)


def _swap_pairs(arr: np.ndarray, mask: np.ndarray, left: list[int], right: list[int]) -> None:
    """In place: for frames/pairs where ``mask`` (T, P) is True, exchange ``arr[:, left[p]]`` and ``arr[:, right[p]]``."""
    for p, (li, ri) in enumerate(zip(left, right)):
        m = mask[:, p]
        if m.any():
            tmp = arr[m, li].copy()
            arr[m, li] = arr[m, ri]
            arr[m, ri] = tmp


def corrupt(uv_clean: np.ndarray, joints_cam: np.ndarray, image_size: tuple[int, int], skeleton: Skeleton,
            cfg: Corruption, rng: np.random.Generator, fps: float = 30.0,
            dist: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Turn exact projections into detector-like 2D.

    Args:
        uv_clean: (T, J, 2) exact projections, pixels.
        joints_cam: (T, J, 3) the same joints in the camera frame, mm.
        image_size: (width, height).
        skeleton: the joints' skeleton (names drive per-joint noise, capsules and swaps).
        cfg: rates and scales.
        rng: random generator (the only source of randomness: same seed, same output).
        fps: frame rate, for time-based noise.
        dist: (5,) the camera's distortion, when ``uv_clean`` was distorted with it: a joint beyond the radius
            where it folds back (:func:`pose3d_cli.geometry.distortion_folds`) is outside the image, wherever
            its pixel landed.
    Returns:
        uv (T, J, 2) float32 pixels (0 where missing) and confidence (T, J) float32 in [0, 1].
    """
    T, J, _ = uv_clean.shape
    w, h = image_size
    uv = uv_clean.astype(np.float64).copy()
    in_image = (joints_cam[..., 2] > 1.0) & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
    if dist is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            in_image &= ~distortion_folds(joints_cam[..., :2] / joints_cam[..., 2:3], dist)
    visible = in_image if cfg.truncation else (joints_cam[..., 2] > 1.0)
    size = person_size(uv_clean, joints_cam[..., 2] > 1.0)[:, None]  # (T, 1)

    hidden = np.zeros((T, J), dtype=bool)
    if cfg.self_occlusion:
        hidden |= self_occlusion_mask(joints_cam, skeleton)
    if cfg.box_prob > 0 and rng.random() < cfg.box_prob:
        hidden |= _box_mask(uv_clean, rng, cfg, T)
    guessed = hidden & visible & (rng.random((T, J)) < cfg.occluded_guess_prob)
    dropped = (hidden & ~guessed) | (rng.random((T, J)) < cfg.dropout_rate)

    noise_of = JOINT_NOISE if cfg.joint_noise is None else cfg.joint_noise
    if cfg.joint_noise is not None and (bad := unknown_stems(cfg.joint_noise, skeleton)):
        from ..errors import Pose3dError

        raise Pose3dError(joint_noise_problem(bad, skeleton))
    factor = np.array([noise_of.get(n.split("_")[-1], 1.0) for n in skeleton.joints])  # (J,)
    err = np.zeros((T, J, 2))
    if cfg.noise_sigma > 0:
        err += cfg.noise_sigma * size[..., None] * factor[None, :, None] * rng.standard_normal((T, J, 2))
    if cfg.noise_slow_sigma > 0:
        knots = max(2, int(T / max(fps, 1.0) * 2))  # a new offset about every half second
        err += cfg.noise_slow_sigma * size[..., None] * factor[None, :, None] * smooth_noise(rng, T, (J, 2), knots)
    if guessed.any():
        err[guessed] += cfg.occluded_noise * (size[..., None] * rng.standard_normal((T, J, 2)))[guessed]
    outlier = rng.random((T, J)) < cfg.outlier_rate
    if outlier.any():
        err[outlier] += 0.25 * (size[..., None] * rng.standard_normal((T, J, 2)))[outlier]
    uv += err

    rel_err = np.linalg.norm(err, axis=-1) / size
    noisy = cfg.noise_sigma > 0 or cfg.noise_slow_sigma > 0
    if cfg.confidence == "error":
        conf = np.clip(1.0 - 2.0 * rel_err + 0.03 * rng.standard_normal((T, J)), 0.3, 1.0) if noisy else np.ones((T, J))
        conf[guessed] = rng.uniform(0.05, 0.5, size=int(guessed.sum()))
        conf[outlier] = np.minimum(conf[outlier], rng.uniform(0.1, 0.6, size=int(outlier.sum())))
    elif noisy or guessed.any() or outlier.any():
        drawn = calibrated_confidence(rel_err, hidden, skeleton, rng, fps)
        conf = drawn if noisy else np.where(guessed | outlier, drawn, 1.0)
    else:
        conf = np.ones((T, J))

    # left/right confusions: swap coordinates and confidences together
    left, right = skeleton.joints_left, skeleton.joints_right
    if cfg.swap_rate > 0 and left:
        pair_swap = random_runs(rng, T, cfg.swap_rate, 4.0, (len(left),))
        _swap_pairs(uv, pair_swap, left, right)
        _swap_pairs(conf, pair_swap, left, right)
        _swap_pairs(visible, pair_swap, left, right)
        _swap_pairs(dropped, pair_swap, left, right)
    if cfg.back_swap_rate > 0 and left:
        body_swap = random_runs(rng, T, cfg.back_swap_rate, 8.0) & facing_away(joints_cam, skeleton)
        full = np.repeat(body_swap[:, None], len(left), axis=1)
        for arr in (uv, conf, visible, dropped):
            _swap_pairs(arr, full, left, right)

    missing = ~visible | dropped
    if cfg.frame_drop_rate > 0:
        missing |= (rng.random(T) < cfg.frame_drop_rate)[:, None]
    conf[missing] = 0.0
    uv[missing] = 0.0
    return uv.astype(np.float32), conf.astype(np.float32)


CONFIDENCE_TABLE = Path(__file__).with_name("confidence_blazepose.json")
CONFIDENCES = ("blazepose", "error")


@lru_cache(maxsize=1)
def _confidence_table() -> dict:
    return json.loads(CONFIDENCE_TABLE.read_text())


def calibrated_confidence(rel_err: np.ndarray, hidden: np.ndarray, skeleton: Skeleton, rng: np.random.Generator,
                          fps: float = 30.0) -> np.ndarray:
    """Confidence drawn from BlazePose's measured distribution, tied to the 2D error as measured.

    Per joint, each frame's error gets its rank among that joint's frames (one of 5 bins); the confidence's rank
    within its joint stem is drawn from what was measured for that error bin (``rank_given_error``: real
    detections are saturated near 1 whatever their error, but 15% of the worst fifth fall under 0.8 against 1-3%
    of the others), through a uniform that is half white, half slowly varying noise (real confidence drifts over
    a clip); that rank becomes a confidence through the measured quantiles of the stem (visible joints) or of
    joints the body hides (``hidden``).

    Args:
        rel_err: (T, J) 2D error in units of the person's size.
        hidden: (T, J) bool, the body's volume or an occluder covers the joint.
    Returns:
        (T, J) confidence in [0, 1].
    """
    from scipy.special import ndtr

    table = _confidence_table()
    T, J = rel_err.shape
    levels = np.asarray(table["levels"])
    given = np.asarray(table["rank_given_error"])  # (bins, levels)
    rank = np.argsort(np.argsort(rel_err, axis=0, kind="stable"), axis=0)
    err_bin = np.minimum(rank * len(given) // T, len(given) - 1)  # (T, J)
    knots = max(2, int(T / max(fps, 1.0) * 2))
    v = ndtr((rng.standard_normal((T, J)) + smooth_noise(rng, T, (J,), knots, unit_variance=True)) / np.sqrt(2.0))
    u = np.empty((T, J))
    for b, q in enumerate(given):
        m = err_bin == b
        u[m] = np.interp(v[m], levels, q)
    stems = table["visible_by_stem"]
    conf = np.empty((T, J))
    for j, name in enumerate(skeleton.joints):
        conf[:, j] = np.interp(u[:, j], levels, stems.get(name.split("_")[-1], stems["thorax"])["visible"])
    if hidden.any():
        conf[hidden] = np.interp(u[hidden], levels, table["hidden"])
    return np.clip(conf, 0.0, 1.0)


def _box_mask(uv_clean: np.ndarray, rng: np.random.Generator, cfg: Corruption, T: int) -> np.ndarray:
    """(T, J) bool: joints inside an occluding box that covers part of the person for a stretch of frames."""
    lo = np.median(uv_clean.min(axis=1), axis=0)
    hi = np.median(uv_clean.max(axis=1), axis=0)
    extent = np.maximum(hi - lo, 1.0)
    side = rng.uniform(*cfg.box_size, size=2) * extent
    centre = lo + rng.uniform(0, 1, size=2) * extent
    b0, b1 = centre - side / 2, centre + side / 2
    start = int(rng.integers(0, max(T // 2, 1)))
    stop = int(rng.integers(start + 1, T + 1))
    inside = np.all((uv_clean >= b0) & (uv_clean <= b1), axis=-1)
    active = np.zeros(T, dtype=bool)
    active[start:stop] = True
    return inside & active[:, None]
