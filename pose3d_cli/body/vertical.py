"""The vertical: world up in the camera frame, estimated from a video's lifted 3D poses (numpy only).

pose3d's 3D joints are in the camera frame (x right, y down, z forward), so every angle measured against
gravity (trunk flexion, upper arm against the vertical ...) needs "up" in that frame. In order of trust, up
comes from ``--up x,y,z`` or a calibration (:func:`given_up`), from the video itself (:func:`estimate_up`),
or, as a stated last resort, from the level-camera assumption (:func:`level_camera_up`: up = camera −y; on
the shared pose2sim cameras that is 18–33° off).

:func:`estimate_up` works in two steps:

1. **Per frame**, a small network (:class:`UpModel`, numpy inference, weights in
   ``pose3d_cli/models/vertical_up.npz``, trained by ``scripts/train_vertical.py`` on synth pairs, where the
   camera's ``cam_from_world`` gives the true up for free) reads the lifter's root-relative pose and predicts a
   direction ``mu`` and a concentration ``kappa`` (a von Mises–Fisher distribution: large ``kappa`` for frames
   whose posture pins gravity down, e.g. standing, small for a lunge or a bend). Input and output are mirrored
   and averaged (left/right symmetry). Without the model file, a geometric fallback uses the mid-ankle → mid-hip
   line of frames with straight legs.
2. **Over the video**, the per-frame directions are combined on the sphere: starting from the weighted medoid,
   the ``kappa``-weighted (times the frame's mean 2D confidence when given) mean direction, re-weighted (Huber),
   with frames further
   than ``max(3 × median deviation, 10°)`` dropped, until stable. ``spread_deg`` is the median angle between
   the kept per-frame directions and the estimate: a robust spread over frames (not an error bound: frames of
   one video share the lifter's bias, see README "vertical" for measured errors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..geometry import axis_angle_to_matrix
from ..skeleton import H36M17, Skeleton
from .frame import camera_tilt

LEVEL_UP = np.array([0.0, -1.0, 0.0])  # camera −y: a level (or upright-held) camera
MODEL_FORMAT = "pose3d-vertical-up"
MODEL_VERSION = 1
FEATURE_VERSION = "rootrel-rms-v1"  # 3D only
FEATURE_VERSION_2D = "rootrel-rms-v1+2d-centred-v1"  # 3D and the normalised 2D (needs keypoints and K)
OPTICAL_AXIS = np.array([0.0, 0.0, 1.0])  # the camera's z: a roll turns the image about it
GEOMETRIC_KAPPA = 30.0  # the geometric fallback's weight of a frame with straight legs
#: straight-leg frames a video needs for its camera roll to be taken from the legs before the learned model reads it,
#: and how consistent their ankles → hips lines must be (:func:`body_roll`; chosen on the val split of held-out synth
#: clips: with 1 frame and no spread limit, a few clips lying or tumbling with straight legs took a wrong roll, mean
#: error 4.53 → 6.28°; with these, 4.55° at natural rolls and every roll of a standing person)
ROLL_SUPPORT = 5
ROLL_MAX_SPREAD_DEG = 5.0


def default_model_path() -> Path:
    return Path(__file__).resolve().parent.parent / "models" / "vertical_up.npz"


@dataclass
class UpEstimate:
    """World up in the camera frame, with how it was obtained.

    Attributes:
        up: (3,) unit vector, camera frame (x right, y down, z forward); a level camera has up ≈ (0, -1, 0).
        spread_deg: median angle (degrees) between the per-frame estimates used and ``up`` (0 when given).
        per_frame: (T, 3) per-frame unit estimates (NaN where a frame was unusable), or None.
        method: how ``up`` was obtained: "given (...)", "estimated: ..." or "level camera (assumed)".
        n_frames_used: frames that contributed to ``up`` after outlier rejection.
        used: (T,) bool, frames kept, or None.
    """

    up: np.ndarray
    spread_deg: float
    per_frame: np.ndarray | None
    method: str
    n_frames_used: int
    used: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (no per-frame arrays)."""
        return {"up": [round(float(v), 5) for v in self.up], "spread_deg": round(float(self.spread_deg), 2),
                "method": self.method, "n_frames_used": int(self.n_frames_used),
                "angle_from_level_camera_deg": round(float(angle_deg(self.up, LEVEL_UP)), 2)}


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between (..., 3) and (..., 3) directions (any length) → (...)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def parse_up(text: str) -> np.ndarray:
    """``"x,y,z"`` (``--up``) → (3,) unit vector in the camera frame; one clear error otherwise."""
    try:
        v = np.array([float(p) for p in str(text).split(",")])
    except ValueError:
        v = np.zeros(0)
    if v.shape == (3,) and np.all(np.isfinite(v)) and np.abs(v).max() > 0:
        v = v / np.abs(v).max()  # 1e200,1e200,0 has an infinite norm: scaled first, it keeps its direction
    if v.shape != (3,) or not np.all(np.isfinite(v)) or np.linalg.norm(v) < 1e-9:
        raise Pose3dError(f"--up {text!r}: expected a non-zero direction of three finite numbers x,y,z (world up in "
                          "the camera frame: x right, y down, z forward; a level camera is 0,-1,0)")
    return v / np.linalg.norm(v)


def given_up(up: np.ndarray, source: str) -> UpEstimate:
    """An up direction that is known (``--up``, a calibration): ``source`` says where it came from."""
    return UpEstimate(_unit(np.asarray(up, dtype=np.float64)), 0.0, None, f"given ({source})", 0)


def level_camera_up() -> UpEstimate:
    """The last resort: the camera is assumed level (up = camera −y). Say so wherever it is used."""
    return UpEstimate(LEVEL_UP.copy(), float("nan"), None, "level camera (assumed)", 0)


# ---------------------------------------------------------------- per-frame signal

def pose_features(poses: np.ndarray, skeleton: Skeleton = H36M17) -> np.ndarray:
    """(N, J, 3) root-relative camera-frame poses (any unit) → (N, J*3) network input: each pose divided by its
    RMS joint distance from the root (scale-free). NaN poses give NaN rows."""
    root = skeleton.index(skeleton.root)
    x = poses - poses[:, root:root + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt((x ** 2).sum(-1).mean(-1))
        x = x / s[:, None, None]
    return x.reshape(len(x), -1).astype(np.float32)


def image_features(xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(N, J, 2) normalised camera coordinates (x/z, y/z), (N, J) confidence → (N, J*3 + 3): the joints centred on
    their confidence-weighted centroid ``c`` and divided by their weighted RMS spread ``s`` (as the lifter's codec),
    the confidence, then ``c`` (the person's viewing ray) and ``log s``. Missing joints (conf 0) are zeroed."""
    conf = np.clip(np.nan_to_num(conf), 0.0, 1.0)
    xy = np.where(conf[..., None] > 0, np.nan_to_num(xy), 0.0)
    wsum = np.maximum(conf.sum(-1, keepdims=True), 1e-6)
    c = (conf[..., None] * xy).sum(-2) / wsum
    d = xy - c[..., None, :]
    s = np.sqrt(np.maximum((conf * (d ** 2).sum(-1)).sum(-1, keepdims=True) / wsum, 1e-8))
    z = np.where(conf[..., None] > 0, d / s[..., None], 0.0)
    return np.concatenate([z.reshape(len(z), -1), conf, c, np.log(s)], axis=1).astype(np.float32)


def mirror_image(xy: np.ndarray, conf: np.ndarray, skeleton: Skeleton = H36M17) -> tuple[np.ndarray, np.ndarray]:
    """Mirror normalised 2D (x → −x, left/right swapped), as :func:`mirror_poses` does in 3D."""
    perm = skeleton.flip_permutation
    return xy[..., perm, :] * np.array([-1.0, 1.0], dtype=xy.dtype), conf[..., perm]


def mirror_poses(poses: np.ndarray, skeleton: Skeleton = H36M17) -> np.ndarray:
    """(…, J, 3) → the mirror image (x → −x, left/right joints swapped)."""
    return poses[..., skeleton.flip_permutation, :] * np.array([-1.0, 1.0, 1.0], dtype=poses.dtype)


class UpModel:
    """The per-frame up predictor: an MLP (ReLU hidden layers) in numpy, read from an ``.npz`` of plain arrays
    (``W0, b0, W1, b1, ...`` and a JSON ``meta``); no pickle, no torch."""

    def __init__(self, path: str | Path):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise Pose3dError(f"{path}: not a readable vertical model ({e}); reinstall pose3d") from None
        try:
            self.meta = json.loads(str(arrays.pop("meta")))
        except (KeyError, ValueError):
            raise Pose3dError(f"{path}: vertical model without metadata; reinstall pose3d") from None
        if self.meta.get("format") != MODEL_FORMAT or self.meta.get("feature_version") != FEATURE_VERSION:
            raise Pose3dError(f"{path}: not a {MODEL_FORMAT} model of features {FEATURE_VERSION}")
        n = len([k for k in arrays if k.startswith("W")])
        self.layers = [(arrays[f"W{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32)) for i in range(n)]
        self.joints = tuple(self.meta["joints"])
        self.path = str(path)

    def __call__(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, F) features → mu (N, 3) unit directions, kappa (N,) concentrations."""
        h = feats
        for i, (W, b) in enumerate(self.layers):
            h = h @ W + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        mu = _unit(h[:, :3].astype(np.float64))
        kappa = 1.0 + np.logaddexp(0.0, h[:, 3].astype(np.float64))  # softplus + 1 (as in training)
        return mu, kappa


@lru_cache(maxsize=4)
def load_up_model(path: str | None = None) -> UpModel | None:
    """The shipped model (None when its file is absent: the geometric fallback is used)."""
    p = Path(path) if path else default_model_path()
    if not p.is_file():
        if path:
            raise Pose3dError(f"{p}: no such vertical model file")
        return None
    return UpModel(p)


def learned_per_frame(poses: np.ndarray, model: UpModel, skeleton: Skeleton = H36M17,
                      roll: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) → per-frame mu (T, 3), kappa (T,), averaged with the mirrored pose's (mirrored back).

    The poses are first turned about the optical axis by ``-roll`` radians and the answers turned back, so that the
    model reads a camera near the rolls it was trained on (about ±12°): ``roll`` None takes the camera's roll from
    the poses themselves (:func:`body_roll`; one camera: a video's poses, not several videos'), 0 reads them as
    they are. Without it a standing person filmed by a camera rolled 30° gave 9°, rolled 60° 44°, 90° 81°."""
    if tuple(skeleton.joints) != model.joints:
        raise Pose3dError(f"vertical model expects {len(model.joints)} joints of its skeleton; got {skeleton.name}")
    turn = axis_angle_to_matrix(OPTICAL_AXIS, body_roll(poses, skeleton) if roll is None else roll)
    poses = poses @ turn  # each pose turned by -roll (row vectors: p @ R(roll) = R(-roll) p)
    m1, k1 = model(pose_features(poses, skeleton))
    m2, k2 = model(pose_features(mirror_poses(poses, skeleton), skeleton))
    m2 = m2 * np.array([-1.0, 1.0, 1.0])
    mu = _unit(k1[:, None] * m1 + k2[:, None] * m2)
    return mu @ turn.T, 0.5 * (k1 + k2)


def body_roll(poses: np.ndarray, skeleton: Skeleton = H36M17) -> float:
    """The camera's roll (radians) from one video's straight-leg frames (:func:`geometric_per_frame` weight over half
    its maximum: knees within ~20° of straight): the roll (:func:`.frame.camera_tilt`) of their ankles → hips lines' robust mean, which is
    vertical whatever the camera. 0 (read the poses as they are) with fewer than :data:`ROLL_SUPPORT` such frames or
    where their lines spread more than :data:`ROLL_MAX_SPREAD_DEG` (a seated or kneeling worker, or one lying with
    straight legs: the legs do not show the vertical)."""
    mu, kappa = geometric_per_frame(poses, skeleton)
    ok = np.all(np.isfinite(mu), axis=1) & (kappa > 0.5 * GEOMETRIC_KAPPA)
    if ok.sum() < ROLL_SUPPORT:
        return 0.0
    legs, spread, _ = combine_directions(mu[ok], kappa[ok])
    return float(np.radians(camera_tilt(legs)[1])) if spread <= ROLL_MAX_SPREAD_DEG else 0.0


def geometric_per_frame(poses: np.ndarray, skeleton: Skeleton = H36M17) -> tuple[np.ndarray, np.ndarray]:
    """The fallback: mid-ankle → mid-hip direction, weighted by how straight the legs are (T, 3), (T,)."""
    j = lambda n: poses[:, skeleton.index(n)]  # noqa: E731
    hips = (j("left_hip") + j("right_hip")) / 2
    ankles = (j("left_ankle") + j("right_ankle")) / 2
    mu = _unit(hips - ankles)
    bend = np.maximum(angle_deg(j("left_knee") - j("left_hip"), j("left_ankle") - j("left_knee")),
                      angle_deg(j("right_knee") - j("right_hip"), j("right_ankle") - j("right_knee")))
    kappa = GEOMETRIC_KAPPA * np.exp(-((bend / 25.0) ** 2))
    return mu, kappa


# ---------------------------------------------------------------- over the video

def combine_directions(dirs: np.ndarray, weights: np.ndarray | None = None, iters: int = 10,
                       min_reject_deg: float = 10.0) -> tuple[np.ndarray, float, np.ndarray]:
    """Robust weighted mean of unit directions on the sphere.

    Args:
        dirs: (N, 3) directions (NaN rows ignored); weights: (N,) ≥ 0 (default 1).
        min_reject_deg: frames are dropped only beyond max(3 × median deviation, this).
    Returns:
        up (3,), spread_deg (median deviation of the kept directions), kept (N,) bool.
    """
    dirs = np.asarray(dirs, dtype=np.float64)
    w = np.ones(len(dirs)) if weights is None else np.asarray(weights, dtype=np.float64).copy()
    ok = np.all(np.isfinite(dirs), axis=1) & np.isfinite(w) & (w > 0)
    if not ok.any():
        raise Pose3dError("no usable frame to estimate the vertical from")
    d = np.zeros_like(dirs)
    d[ok] = _unit(dirs[ok])
    kept = ok.copy()
    # start from the weighted medoid (of at most 300 frames): a plain mean would start pulled by the outliers
    idx = np.flatnonzero(ok)
    sub = idx[np.linspace(0, len(idx) - 1, min(len(idx), 300)).round().astype(int)]
    cost = (w[sub][None, :] * np.arccos(np.clip(d[sub] @ d[sub].T, -1.0, 1.0))).sum(1)
    up = d[sub[int(np.argmin(cost))]]
    for _ in range(iters):
        dev = angle_deg(d, up)
        med = float(np.median(dev[kept])) if kept.any() else float(np.median(dev[ok]))
        new_kept = ok & (dev <= max(3.0 * med, min_reject_deg))
        huber = np.minimum(1.0, max(med, 1.0) * 2.0 / np.maximum(dev, 1e-6))
        ww = np.where(new_kept, w * huber, 0.0)
        total = (ww[:, None] * d).sum(0)
        # directions that cancel (e.g. two opposite ones of equal weight) have no mean: keep the medoid's side
        new_up = _unit(total) if ww.sum() > 0 and np.linalg.norm(total) > 1e-6 * ww.sum() else up
        done = angle_deg(new_up, up) < 1e-3 and np.array_equal(new_kept, kept)
        up, kept = new_up, new_kept
        if done:
            break
    dev = angle_deg(d, up)
    if not kept.any():  # every direction rejected around a mean that moved: the medoid is the robust answer
        kept = ok & (dev <= max(3.0 * float(np.median(dev[ok])), min_reject_deg))
    return up, float(np.median(dev[kept])) if kept.any() else float("nan"), kept


def estimate_up(poses_cam: np.ndarray, keypoints_2d: np.ndarray | None = None, confidence: np.ndarray | None = None,
                K: np.ndarray | None = None, timestamps: np.ndarray | None = None, skeleton: Skeleton = H36M17,
                model: UpModel | str | None = None, method: str = "auto") -> UpEstimate:
    """World up in the camera frame, estimated from one video's lifted poses (see module doc).

    Args:
        poses_cam: (T, J, 3) root-relative camera-frame joints, mm (NaN rows: frames without a person).
        keypoints_2d: (T, J, 2) px; not used yet (accepted so callers pass what they have).
        confidence: (T, J) 2D confidences: frames are weighted by the mean confidence of the body joints.
        K, timestamps: accepted, not used yet.
        model: an :class:`UpModel`, a path to one, or None for the shipped model (geometric fallback without it).
        method: "auto" (the learned model when present), "learned" or "geometric".
    Returns:
        :class:`UpEstimate` with ``method`` "estimated: ...".
    Raises:
        Pose3dError: no frame, wrong shape, or no frame with a finite pose.
    """
    poses = np.asarray(poses_cam, dtype=np.float64)
    J = skeleton.num_joints
    if poses.ndim != 3 or poses.shape[1:] != (J, 3):
        raise Pose3dError(f"poses: expected (T, {J}, 3) {skeleton.name} joints, got shape {poses.shape}")
    if len(poses) == 0:
        raise Pose3dError("poses: no frame; the vertical cannot be estimated (give --up x,y,z or --calib)")
    finite = np.all(np.isfinite(poses), axis=(1, 2))
    if not finite.any():
        raise Pose3dError("poses: no frame with a complete 3D pose (all NaN); the vertical cannot be estimated "
                          "(give --up x,y,z or --calib)")
    if method not in ("auto", "learned", "geometric"):
        raise Pose3dError(f"vertical method {method!r}: use auto, learned or geometric")
    if method == "geometric":
        model = None
    elif not isinstance(model, UpModel):
        model = load_up_model(str(model) if model else None)
        if model is None and method == "learned":
            raise Pose3dError(f"{default_model_path()}: the vertical model file is missing; reinstall pose3d")
    mu = np.full((len(poses), 3), np.nan)
    kappa = np.zeros(len(poses))
    if model is not None:
        mu[finite], kappa[finite] = learned_per_frame(poses[finite], model, skeleton)
        how = "learned per-frame up (vertical_up model)"
    else:
        mu[finite], kappa[finite] = geometric_per_frame(poses[finite], skeleton)
        how = "geometric (ankles to hips of straight-leg frames; vertical model file absent)"
    w = kappa.copy()
    if confidence is not None:
        conf = np.asarray(confidence, dtype=np.float64)
        if conf.shape != poses.shape[:2]:
            raise Pose3dError(f"confidence: expected shape {poses.shape[:2]}, got {conf.shape}")
        w *= np.clip(np.nan_to_num(conf).mean(axis=1), 0.0, 1.0)
    w[~finite] = 0.0
    if not (w > 0).any():
        raise Pose3dError("poses: no frame with a usable pose and confidence; the vertical cannot be estimated "
                          "(give --up x,y,z or --calib)")
    up, spread, kept = combine_directions(mu, w)
    return UpEstimate(up, spread, mu, f"estimated: {how}, robust mean over {int(kept.sum())} frames",
                      int(kept.sum()), kept)


# ---------------------------------------------------------------- the floor plane

def floor_normal(feet_cam: np.ndarray, hint_up: np.ndarray = LEVEL_UP, trim: float = 0.2,
                 iters: int = 5) -> tuple[np.ndarray, float]:
    """World up as the normal of the floor plane through the feet's absolute camera-frame positions over time.

    The feet (ankles/heels/toes of support phases) of a person moving about lie on the floor; their positions
    over a video span a plane whose normal is the vertical. Least-squares plane (SVD of the centred points),
    then refit on the ``1 - trim`` closest points (a lifted foot, a detector miss) ``iters`` times.

    Args:
        feet_cam: (N, 3) absolute camera-frame foot positions, mm (NaN rows ignored); needs a spread over the
            floor in two directions: a person standing still gives a line or a blob, refused only when the points
            do not span a plane at all (otherwise read ``flatness``: a blob's plane is arbitrary).
        hint_up: (3,) the side the normal is oriented to (default camera −y; any up within 90° works).
        trim: fraction of points dropped as outliers at each refit, in [0, 0.5).
    Returns:
        up (3,) unit normal, flatness (second/third singular value ratio of the last fit: how well the points
        pin the plane; < ~3 means the points are nearly a line or a blob).
    Raises:
        Pose3dError: fewer than 3 finite points, or points that do not span a plane.
    """
    pts = np.asarray(feet_cam, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise Pose3dError(f"feet positions: expected (N, 3), got shape {pts.shape}")
    if not 0.0 <= trim < 0.5:
        raise Pose3dError(f"floor fit trim {trim}: use a fraction in [0, 0.5)")
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) < 3:
        raise Pose3dError(f"floor fit: {len(pts)} finite foot positions; need at least 3 spread over the floor")
    use = pts
    for i in range(iters + 1):
        c = use.mean(axis=0)
        _, s, vt = np.linalg.svd(use - c, full_matrices=False)
        if s[1] < 1e-6 * max(s[0], 1e-12):
            raise Pose3dError("floor fit: the foot positions lie on a line; a floor plane needs feet moving in "
                              "two directions (give --up x,y,z or --calib)")
        n = vt[2]
        if i == iters or trim == 0.0:
            break
        dist = np.abs((pts - c) @ n)
        use = pts[dist <= np.quantile(dist, 1.0 - trim)]
        if len(use) < 3:
            break
    n = n if n @ np.asarray(hint_up, dtype=np.float64) >= 0 else -n
    return _unit(n), float(s[1] / max(s[2], 1e-12))


# ---------------------------------------------------------------- the vertical a video is measured against

VERTICAL_MODES = ("auto", "lines", "body", "level")


def check_vertical_mode(mode: str) -> None:
    """Refuse an unknown ``--vertical`` mode in one line (callers check before their work starts)."""
    if mode not in VERTICAL_MODES:
        raise Pose3dError(f"--vertical {mode!r}: use one of {', '.join(VERTICAL_MODES)}")


@dataclass
class Vertical:
    """The up every angle of one video is measured against, and where it came from.

    Attributes:
        up: (3,) unit, camera frame (for a moving camera: the mean of its per-frame verticals).
        source: "--up (given)", "calibration <file>:<camera>", "estimated from the scene's vertical lines",
            "estimated from the body poses", "level camera ...".
        spread_deg: the estimate's spread over frames (None when given).
        note: how it was obtained and why the other sources were not used.
        scene: the scene-lines estimate (``SceneUp.to_dict``), used or not, when one was made.
        per_frame: a moving camera: (video frames (n,), up (n, 3)) measured on those frames.
        requested: the ``--vertical`` mode asked for (``source`` says what was used).
    """

    up: np.ndarray
    source: str
    spread_deg: float | None = None
    note: str = ""
    scene: dict | None = None
    per_frame: tuple[np.ndarray, np.ndarray] | None = None
    requested: str = "auto"  # the --vertical mode asked for

    def up_at(self, frames: np.ndarray) -> np.ndarray:
        """(T, 3) unit up at video ``frames`` (T,): ``up`` for a still camera; a moving camera's per-frame
        verticals interpolated linearly between the frames they were measured on (held beyond the ends)."""
        frames = np.asarray(frames, dtype=np.float64)
        if self.per_frame is None:
            return np.broadcast_to(self.up, (len(frames), 3)).copy()
        at, ups = self.per_frame
        ok = np.isfinite(ups).all(1)
        out = np.stack([np.interp(frames, at[ok], ups[ok, k]) for k in range(3)], -1)
        return out / np.linalg.norm(out, axis=-1, keepdims=True)


def choose_vertical(joints: list[np.ndarray], confidence: list[np.ndarray], skeleton: Skeleton, name: str,
                    scene: Callable | None = None, mode: str = "auto") -> Vertical:
    """The vertical of one video estimated from itself (``--up`` and calibrations are the caller's).

    Args:
        joints, confidence: each person's (T_i, J, 3) root-relative camera-frame joints and (T_i, J) 2D
            confidences: one camera has one vertical, so every person's frames are pooled.
        name: the input, for messages.
        scene: for a video, a function ``prior up (3,) or None → SceneUp`` (:mod:`.scene_lines`, see
            :func:`pose3d_cli.infer.scene.scene_vertical`), called with the body estimate as its prior.
        mode: ``auto`` (the scene's lines when the video shows enough of them, else the body poses, else the
            level camera), ``lines`` (the lines or an error), ``body``, ``level``.
    """
    check_vertical_mode(mode)
    level = LEVEL_UP.copy()
    if mode == "level":
        return Vertical(level, "level camera (--vertical level: camera -y)", None,
                        "trunk angles may be off by the phone's tilt (give --calib or --up, or --vertical auto)")
    if mode == "lines" and scene is None:
        raise Pose3dError(f"{name}: --vertical lines needs a video (the scene's lines in its frames); this input is "
                          "not one: give the video (or --video for an infer output), or --vertical body / --up / "
                          "--calib")
    body, note = _body_vertical(joints, confidence, skeleton)
    scene_note, scene_dict = "", None
    if scene is not None and mode in ("auto", "lines"):
        s = scene(None if body is None else body.up)
        if s is not None:
            scene_dict = s.to_dict()
            if s.accepted:
                cross = "" if body is None else f"; {float(angle_deg(s.up, body.up)):.1f} deg from the body poses' own estimate of up"
                spread = None if not np.isfinite(s.spread_deg) else float(s.spread_deg)
                per_frame = None
                if s.moving and s.frame_up is not None and np.isfinite(s.frame_up).all(1).sum() >= 2:
                    per_frame = (np.asarray(s.frame_index), np.asarray(s.frame_up))
                return Vertical(_unit(s.up), "estimated from the scene's vertical lines", spread,
                                f"{s.reason}{cross}", scene_dict, per_frame)
            if mode == "lines":
                raise Pose3dError(f"{name}: --vertical lines: {s.reason}; use --vertical auto or body, or give --up / "
                                  "--calib")
            scene_note = f"scene lines not used: {s.reason}"
    if body is not None:
        body.note = "; ".join(x for x in (body.note, scene_note) if x)
        body.scene = scene_dict
        return body
    return Vertical(level, "level camera (assumed: camera -y; last resort)", None,
                    "; ".join(x for x in (note, scene_note) if x)
                    + "; trunk angles may be off by the phone's tilt (give --calib or --up)", scene_dict)


def _body_vertical(joints: list[np.ndarray], confidence: list[np.ndarray],
                   skeleton: Skeleton) -> tuple[Vertical | None, str]:
    """The vertical from every person's lifted poses (:func:`estimate_up`), or None and why not."""
    try:
        res = estimate_up(np.concatenate(joints), confidence=np.concatenate(confidence), skeleton=skeleton)
    except Pose3dError as e:
        return None, f"the body-pose estimate failed ({e})"
    v = np.asarray(res.up, dtype=np.float64)
    if v.shape != (3,) or not np.isfinite(v).all() or np.linalg.norm(v) == 0:
        return None, "the body-pose estimate found no usable frame"
    how = res.method  # e.g. "estimated: learned per-frame up ..., over 97 frames"
    if len(joints) > 1:
        how += f" (the {len(joints)} people of the video pooled)"
    spread = None if not np.isfinite(res.spread_deg) else float(res.spread_deg)
    return Vertical(_unit(v), "estimated from the body poses", spread, how), ""
