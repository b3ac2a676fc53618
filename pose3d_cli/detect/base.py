"""The 2D detector interface: a frame in, the people's named 2D keypoints out (a list, most prominent first).

Every source of 2D keypoints (the built-in BlazePose detector, files written by other detectors) gives
:class:`Keypoints2D` in the detector's own skeleton; mapping to the lifter's input skeleton goes through
the skeleton registry by joint name (:meth:`Keypoints2D.to`, :func:`pose3d_cli.skeleton.convert`).

This module imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from pose3d_cli.errors import Pose3dError
from pose3d_cli.skeleton import Skeleton, convert, get_skeleton


class DetectorError(Pose3dError, RuntimeError):
    """A detector or keypoint file cannot be used; the message is one line saying why."""


@dataclass
class Keypoints2D:
    """One person's 2D keypoints in one frame.

    Attributes:
        xy: (J, 2) float32 pixels, x right, y down, origin at the top-left corner of the image.
        confidence: (J,) float32 in [0, 1]; 0 means missing (its ``xy`` is then meaningless).
        skeleton: registry name of the joint order, e.g. ``"blazepose33"``, ``"coco17"``.
        world_mm: optional (J, 3) float32 metric 3D joints from the detector itself (BlazePose "world
            landmarks": mm, origin at the hip mid-point, MediaPipe axes: x to the image's right,
            y down, z away from the camera), a free baseline to compare a lifter against.
    """

    xy: np.ndarray
    confidence: np.ndarray
    skeleton: str
    world_mm: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        j = get_skeleton(self.skeleton).num_joints
        if self.xy.shape != (j, 2) or self.confidence.shape != (j,):
            raise DetectorError(f"{self.skeleton} keypoints need xy ({j}, 2) and confidence ({j},), "
                                f"got {self.xy.shape} and {self.confidence.shape}")
        if self.world_mm is not None:
            self.world_mm = np.asarray(self.world_mm, dtype=np.float32).reshape(j, 3)

    @property
    def num_joints(self) -> int:
        return self.xy.shape[0]

    def to(self, skeleton: str | Skeleton) -> Keypoints2D:
        """The same keypoints in another registered skeleton (by joint name; see :func:`convert`)."""
        dst = get_skeleton(skeleton)
        xy, conf = convert(self.xy, self.skeleton, dst, self.confidence)
        world = None if self.world_mm is None else convert(self.world_mm, self.skeleton, dst)[0]
        return Keypoints2D(xy, conf, dst.name, world)


@runtime_checkable
class Detector(Protocol):
    """A 2D pose detector: ``detector.detect_all(frame_bgr, timestamp_ms)`` → every person found, most prominent
    first (possibly empty); ``detector(frame_bgr, timestamp_ms)`` → the most prominent person, or None."""

    skeleton: str

    def __call__(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None) -> Keypoints2D | None:
        """Detect on one (H, W, 3) uint8 BGR frame; None when no person is found."""
        ...

    def detect_all(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None) -> list[Keypoints2D]:
        """Every person in one (H, W, 3) uint8 BGR frame, most prominent first; [] when nobody is found."""
        ...

    def close(self) -> None:
        """Release the detector's resources."""
        ...


def prominence(xy: np.ndarray, confidence: np.ndarray) -> float:
    """How prominent a person is: area of the bounding box of its found joints × their mean confidence.

    Args:
        xy: (J, 2) pixels.
        confidence: (J,) in [0, 1]; joints with confidence 0 are ignored.
    """
    found = confidence > 0
    if found.sum() < 2:
        return 0.0
    pts = xy[found]
    w, h = pts.max(axis=0) - pts.min(axis=0)
    return float(w * h * confidence[found].mean())
