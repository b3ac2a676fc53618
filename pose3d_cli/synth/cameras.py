"""Virtual cameras: pinhole + optional OpenCV distortion, ``cam_from_world`` extrinsics, image size.

Sampling mimics a phone filming a worker: a tripod (static for the whole sequence) or a slowly drifting
hand-held camera, placed 0.5–2.5 m high and 1.5–10 m from the subject, looking at the subject with jitter
and a little roll, portrait or landscape, with a phone's field of view. Every range is a field of
:class:`CameraSampling` (CLI options and a YAML/JSON config file set them).

``fov_deg`` is the field of view across the image's *long* side (how phone makers state it).

Rig files (``--cameras rig.json``) reproduce real cameras exactly::

    {"cameras": [{"name": "cam01", "K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                  "dist": [k1, k2, p1, p2, k3], "R": [[...3x3...]], "t": [tx, ty, tz], "size": [width, height]}]}

``R``/``t`` are ``cam_from_world`` with ``t`` in millimetres, in the mocap's own world frame (Z up, mm: synth keeps
it when a rig is given, so a real rig's calibration and its mocap line up). ``dist`` holds OpenCV's first five
coefficients (k1, k2, p1, p2, k3); a rational or thin-prism model (more, non-zero) is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from ..config import read_config, setting_problem
from ..errors import Pose3dError

from ..geometry import look_at, project, transform_points
from .noise import smooth_noise


class CameraError(Pose3dError, ValueError):
    """A camera file or sampling setting is invalid."""


@dataclass
class Camera:
    """One camera, possibly moving.

    Attributes:
        K: (3, 3) intrinsics, pixels.
        dist: (5,) OpenCV distortion ``k1, k2, p1, p2, k3``.
        R: (3, 3) or (T, 3, 3) ``cam_from_world`` rotation.
        t: (3,) or (T, 3) ``cam_from_world`` translation, mm.
        size: (width, height) pixels.
        name: label (rig camera name or ``"virtual"``).
    """

    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray
    size: tuple[int, int]
    name: str = "virtual"

    def world_to_cam(self, points: np.ndarray) -> np.ndarray:
        """(T, J, 3) world mm → (T, J, 3) camera-frame mm (per-frame extrinsics when the camera moves)."""
        R = self.R if self.R.ndim == 3 else self.R[None]
        t = self.t if self.t.ndim == 2 else self.t[None]
        return transform_points(R, t, points)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., J, 3) camera-frame mm → (..., J, 2) pixels."""
        return project(points_cam, self.K, self.dist)

    def per_frame(self, T: int) -> tuple[np.ndarray, np.ndarray]:
        """Extrinsics for each of T frames: R (T, 3, 3), t (T, 3)."""
        R = self.R if self.R.ndim == 3 else np.broadcast_to(self.R, (T, 3, 3))
        t = self.t if self.t.ndim == 2 else np.broadcast_to(self.t, (T, 3))
        return R, t


@dataclass
class CameraSampling:
    """Ranges for random phone-like cameras (defaults documented in README)."""

    fov_deg: tuple[float, float] = (50.0, 80.0)  # across the long side; phone main cameras ~65-75
    portrait_prob: float = 0.5
    image_long_side: int = 1920
    image_aspect: float = 16 / 9
    height_mm: tuple[float, float] = (500.0, 2500.0)
    distance_mm: tuple[float, float] = (1500.0, 10000.0)
    look_jitter_mm: float = 300.0  # look-at point jitter around the subject (std)
    roll_deg: float = 5.0  # std of roll about the optical axis
    principal_jitter: float = 0.02  # std of principal point offset, fraction of image size
    distortion_k1: float = 0.0  # max |k1| (phones mostly deliver undistorted video)
    handheld_prob: float = 0.3  # fraction of sequences filmed hand-held (slow drift)
    handheld_drift_mm: float = 150.0  # std of the hand-held position drift over a sequence
    min_depth_mm: float = 300.0  # every joint at least this far in front of the camera

    @classmethod
    def from_file(cls, path: str | Path) -> "CameraSampling":
        """Read ranges from a YAML/JSON file: ``{fov_deg: [50, 80], height_mm: [500, 2500], ...}``."""
        path = Path(path)
        try:
            data = read_config(path, "camera config")
        except Pose3dError as e:
            raise CameraError(str(e)) from None
        data = data.get("cameras", data) if isinstance(data, dict) else data
        if not isinstance(data, dict):
            raise CameraError(f"{path}: camera config must be an object of ranges")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise CameraError(f"{path}: unknown camera settings {sorted(unknown)}; known: {sorted(known)}")
        out = cls()
        for k, v in data.items():
            setattr(out, k, tuple(v) if isinstance(v, list) else v)
        out.validate(str(path))
        return out

    def validate(self, where: str = "camera sampling") -> None:
        for f in fields(self):  # each setting of the type its default has (a range: two numbers, maybe negative)
            v = getattr(self, f.name)
            want = setting_problem(f.name, v, f.default, ranges_non_negative=False)
            if want is not None:
                raise CameraError(f"{where}: {f.name} must be {want}, got {v!r}")
        if self.image_long_side < 16 or self.image_aspect <= 0:
            raise CameraError(f"{where}: image_long_side must be at least 16 px and image_aspect positive, got "
                              f"{self.image_long_side!r}, {self.image_aspect!r}")
        for name in ("fov_deg", "height_mm", "distance_mm"):
            lo, hi = getattr(self, name)
            if not (0 < lo <= hi):
                raise CameraError(f"{where}: {name} must be a range 0 < lo <= hi, got {(lo, hi)}")
        if self.fov_deg[1] >= 170:
            raise CameraError(f"{where}: fov_deg must stay below 170 degrees")

    def to_dict(self) -> dict:
        return asdict(self)


def intrinsics_from_fov(fov_deg: float, width: int, height: int, cx: float | None = None,
                        cy: float | None = None) -> np.ndarray:
    """(3, 3) K of a square-pixel camera whose FOV across the long side is ``fov_deg``."""
    f = 0.5 * max(width, height) / np.tan(np.deg2rad(fov_deg) / 2)
    return np.array([[f, 0, width / 2 if cx is None else cx], [0, f, height / 2 if cy is None else cy], [0, 0, 1.0]])


#: a hand-held camera's drift passes through a new random keyframe every this many seconds, whatever the clip's
#: length (with 4 keyframes per clip, a 0.3 s clip shook at 3.8 m/s and a 60 s one drifted at 17 mm/s)
HANDHELD_KEYFRAME_S = 2.0


def sample_camera(joints_world: np.ndarray, rng: np.random.Generator, cfg: CameraSampling,
                  max_tries: int = 20, fps: float = 30.0) -> Camera:
    """A random phone-like camera filming ``joints_world`` (T, J, 3), mm, Z up, at ``fps`` frames/s.

    The camera aims at the subject's mean position (with jitter); it is resampled until every joint of every
    frame is at least ``cfg.min_depth_mm`` in front of it. A hand-held one drifts slowly: position, aim and roll
    through keyframes :data:`HANDHELD_KEYFRAME_S` apart.
    """
    T = joints_world.shape[0]
    centre = joints_world.reshape(-1, 3).mean(axis=0)
    floor_z = float(np.nanmin(joints_world[..., 2]))
    for _ in range(max_tries):
        portrait = rng.random() < cfg.portrait_prob
        long_side = cfg.image_long_side
        short_side = int(round(long_side / cfg.image_aspect))
        w, h = (short_side, long_side) if portrait else (long_side, short_side)
        fov = rng.uniform(*cfg.fov_deg)
        pj = cfg.principal_jitter * rng.standard_normal(2)
        K = intrinsics_from_fov(fov, w, h, w / 2 + pj[0] * w, h / 2 + pj[1] * h)
        dist = np.zeros(5)
        if cfg.distortion_k1 > 0:
            dist[0] = rng.uniform(-cfg.distortion_k1, cfg.distortion_k1)
        azimuth = rng.uniform(0, 2 * np.pi)
        distance = rng.uniform(*cfg.distance_mm)
        eye = np.array([centre[0] + distance * np.cos(azimuth), centre[1] + distance * np.sin(azimuth),
                        floor_z + rng.uniform(*cfg.height_mm)])
        target = centre + cfg.look_jitter_mm * rng.standard_normal(3)
        roll = np.deg2rad(cfg.roll_deg) * rng.standard_normal()
        if rng.random() < cfg.handheld_prob and T > 1:
            knots = 1 + max(1, int(round(T / fps / HANDHELD_KEYFRAME_S)))
            eye = eye + cfg.handheld_drift_mm * smooth_noise(rng, T, (3,), knots)
            target = target + 0.5 * cfg.look_jitter_mm * smooth_noise(rng, T, (3,), knots)
            roll = roll + np.deg2rad(cfg.roll_deg) * 0.5 * smooth_noise(rng, T, (), knots)
        R, t = look_at(eye, target, roll=roll)
        cam = Camera(K, dist, R, t, (w, h))
        if cam.world_to_cam(joints_world)[..., 2].min() >= cfg.min_depth_mm:
            return cam
    raise CameraError("could not place a camera in front of the subject; widen distance_mm")


def five_coefficients(coefficients, where: str) -> np.ndarray:
    """(5,) OpenCV ``(k1, k2, p1, p2, k3)`` from a calibration's distortion list (fewer: zeros after them);
    CameraError naming ``where`` (file and camera) for a non-zero sixth or later coefficient: pose3d does not model
    those (the rational and thin-prism terms)."""
    d = np.asarray(coefficients, dtype=np.float64).ravel()
    if d.size > 5 and np.any(d[5:] != 0):
        raise CameraError(f"{where} has {d.size} distortion coefficients; pose3d models OpenCV's first five (k1, k2, "
                          "p1, p2, k3): calibrate with that model")
    dist = np.zeros(5)
    dist[:min(5, d.size)] = d[:5]
    return dist


def load_rig(path: str | Path) -> list[Camera]:
    """Read a rig JSON file (see module doc) into cameras."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        cams = data["cameras"] if isinstance(data, dict) else data
        if not isinstance(cams, list) or not all(isinstance(c, dict) for c in cams):
            raise ValueError("'cameras' must be a list of camera objects")
        out = []
        for i, c in enumerate(cams):
            K = np.asarray(c["K"], dtype=np.float64).reshape(3, 3)
            dist = five_coefficients(c.get("dist", []), f"{path}: camera {str(c.get('name', i))!r}")
            R = np.asarray(c["R"], dtype=np.float64).reshape(3, 3)
            t = np.asarray(c["t"], dtype=np.float64).reshape(3)
            w, h = (int(v) for v in c["size"])
            if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
                raise CameraError(f"{path}: camera {str(c.get('name', i))!r}: its rotation R is not a rotation "
                                  "matrix; check the calibration file")
            out.append(Camera(K, dist, R, t, (w, h), name=str(c.get("name", f"cam{i}"))))
    except CameraError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as e:
        what = (f"not JSON ({e.msg} at line {e.lineno} column {e.colno})" if isinstance(e, json.JSONDecodeError)
                else f"no {e} entry" if isinstance(e, KeyError) else str(e))
        raise CameraError(f"{path}: not a valid rig file: {what}; expected {{\"cameras\": [{{\"K\": 3x3, "
                          '"dist": [5], "R": 3x3, "t": [3] mm, "size": [w, h]}]} (or a Qualisys .qca.txt or a '
                          'Pose2Sim/anipose .toml where a calibration is read)') from None
    if not out:
        raise CameraError(f"{path}: the rig holds no camera")
    return out


#: a rig camera must see at least this share of a motion's joints (in front, inside its image) to film it
MIN_RIG_VISIBLE = 0.1


def visible_share(cam: Camera, joints: np.ndarray, min_depth_mm: float = 300.0) -> float:
    """Share of the joints (T, J, 3) world mm that ``cam`` sees: at least ``min_depth_mm`` in front of it and
    projected inside its image."""
    pc = cam.world_to_cam(np.asarray(joints, np.float64))
    front = pc[..., 2] >= min_depth_mm
    uv = cam.project(np.where(front[..., None], pc, np.array([0.0, 0.0, 1000.0])))
    w, h = cam.size
    inside = front & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
    return float(inside.mean()) if inside.size else 0.0


def rig_json(cameras: list[Camera], **extra) -> str:
    """Static cameras as rig JSON text (:func:`load_rig` reads it; ``extra`` top-level keys are kept beside).
    Cameras of one name (sampled ones are all "virtual") are written numbered (``virtual1``, ``virtual2``): a
    calibration names its cameras apart, and pose3d's calibration reader refuses two of one name."""
    names = [c.name for c in cameras]
    names = [f"{n}{names[:k].count(n) + 1}" if names.count(n) > 1 else n for k, n in enumerate(names)]
    return json.dumps({"cameras": [{"name": n, "K": c.K.tolist(), "dist": c.dist.tolist(), "R": c.R.tolist(),
                                    "t": c.t.tolist(), "size": list(c.size)} for n, c in zip(names, cameras)],
                       **extra}, indent=2)


def save_rig(cameras: list[Camera], path: str | Path) -> None:
    """Write static cameras as a rig JSON file (the inverse of :func:`load_rig`)."""
    Path(path).write_text(rig_json(cameras))
