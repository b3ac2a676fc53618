"""The detector's own hand and face points, carried beside the lifted joints (the lifter's skeleton has neither).

BlazePose gives 33 points; the lifter keeps the 17 of ``h36m17``. Ergonomics needs a few more: the hand
(``wrist``, ``index``, ``pinky``, ``thumb``: BlazePose's knuckle points) for wrist flexion, and the face (``nose``,
``eyes``, ``ears``) for head yaw. They are measured in the detector's own metric 3D (MediaPipe world landmarks),
together with the anchors that put them in a body frame in that same coordinate system (``shoulders``,
``elbows``, ``hips``): mixing them with the lifted joints would mix two coordinate systems.

:class:`DetectorPoints` holds them by registry name (``blazepose33`` joint names, :data:`POINT_NAMES`); nothing
downstream uses indices. Infer's JSON carries them per frame (``detector_points``: ``uv`` px, ``conf``,
``world_mm``; the names in ``metadata.detector_point_names``); infer's CSV does not (a CSV, or a detector without
these points, gives ``None``, and ergo falls back to its documented option defaults).

This module imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import get_skeleton

_HAND = ("wrist", "index", "pinky", "thumb")
_ANCHORS = ("shoulder", "elbow", "hip")
#: the points carried, by ``blazepose33`` name: face, hands, and the body anchors of the same 3D
POINT_NAMES: tuple[str, ...] = ("nose", "left_eye", "right_eye", "left_ear", "right_ear") + tuple(
    f"{s}_{p}" for s in ("left", "right") for p in _HAND + _ANCHORS)


@dataclass
class DetectorPoints:
    """Named detector points of one person over T frames.

    Attributes:
        names: (P,) ``blazepose33`` joint names.
        uv: (T, P, 2) pixels. conf: (T, P) in [0, 1] (0 = missing).
        world: (T, P, 3) mm, the detector's metric 3D (MediaPipe world landmarks: x image right, y down,
            z away from the camera, origin mid-hips); NaN where the detector gave none.
    """

    names: tuple[str, ...]
    uv: np.ndarray
    conf: np.ndarray
    world: np.ndarray

    def point(self, name: str) -> np.ndarray:
        """(T, 3) world mm of the point called ``name``."""
        return self.world[:, self.names.index(name)]

    def confidence(self, name: str) -> np.ndarray:
        """(T,) confidence of the point called ``name``."""
        return self.conf[:, self.names.index(name)]

    def frame(self, t: int) -> dict:
        """The JSON record of frame ``t`` (rounded; NaN → null)."""
        def clean(a, nd):
            return [[None if not np.isfinite(v) else round(float(v), nd) for v in row] for row in a]

        return {"uv": clean(self.uv[t], 2), "conf": [round(float(c), 3) for c in self.conf[t]],
                "world_mm": clean(self.world[t], 1)}


def from_track(uv: np.ndarray, conf: np.ndarray, world: np.ndarray | None, skeleton: str) -> DetectorPoints | None:
    """The :data:`POINT_NAMES` of a detector track (uv (T, J, 2), conf (T, J), world (T, J, 3) or None), by name;
    None when the detector's skeleton lacks them or gave no 3D (e.g. a COCO keypoint file)."""
    sk = get_skeleton(skeleton)
    if world is None or not all(n in sk.joints for n in POINT_NAMES):
        return None
    idx = sk.indices(POINT_NAMES)
    return DetectorPoints(POINT_NAMES, np.asarray(uv, np.float64)[:, idx], np.asarray(conf, np.float64)[:, idx],
                          np.asarray(world, np.float64)[:, idx])


def swap_sides(points: DetectorPoints, frames: np.ndarray) -> DetectorPoints:
    """The same points with left and right exchanged in ``frames`` ((T,) bool), as infer's swap fix does to the
    lifted joints (by name: ``left_x`` ↔ ``right_x``)."""
    def twin(n):
        return n.replace("left_", "right_") if n.startswith("left_") else n.replace("right_", "left_")

    perm = [points.names.index(twin(n)) if twin(n) in points.names else k for k, n in enumerate(points.names)]
    out = DetectorPoints(points.names, points.uv.copy(), points.conf.copy(), points.world.copy())
    for a in (out.uv, out.conf, out.world):
        a[frames] = a[frames][:, perm]
    return out


def from_json_frames(names: list[str] | None, frames: list[dict]) -> DetectorPoints | None:
    """Read back what :meth:`DetectorPoints.frame` wrote (infer JSON frames); None when absent."""
    if not names or not any("detector_points" in f for f in frames):
        return None
    T, P = len(frames), len(names)
    uv, conf, world = np.full((T, P, 2), np.nan), np.zeros((T, P)), np.full((T, P, 3), np.nan)
    for t, f in enumerate(frames):
        d = f.get("detector_points")
        if not d:
            continue
        uv[t] = np.array(d["uv"], dtype=np.float64)
        conf[t] = np.asarray(d["conf"], dtype=np.float64)
        world[t] = np.array(d["world_mm"], dtype=np.float64)
    return DetectorPoints(tuple(names), uv, np.nan_to_num(conf), world)
