"""Follow one person per MediaPipe ``PoseLandmarker`` in VIDEO mode: BlazePose's own ROI tracking, no detector.

In VIDEO mode the landmarker crops each frame around the region its previous landmarks span and runs only the
landmark model there; its person detector runs only when it tracks nobody (the first call, or after the person
was lost). One landmarker follows one person (``num_poses=1``), so following a known person costs what the
single-person path costs per frame, about half of an IMAGE-mode call (detector + landmarks; measured in
``benchmarks/multiperson.py``). A :class:`Follower` is *clean* when its landmarker tracks nobody: its next call
runs the detector, on an image the caller masks to the one person it should lock onto.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import numpy as np

from pose3d_cli.detect.mediapipe import (
    DEFAULT_STEP_MS,
    _close_quietly,
    _create_landmarker,
    _native_stderr_silenced,
)


class Follower:
    """One VIDEO-mode landmarker (``num_poses=1``) and the box of the person it follows (None when idle)."""

    def __init__(self, mp: Any, model_path: Path, min_confidence: float) -> None:
        self._mp = mp
        with _native_stderr_silenced():
            self._landmarker = _create_landmarker(mp, model_path, "video", min_confidence, num_poses=1)
        self._finalizer = weakref.finalize(self, _close_quietly, self._landmarker)
        self._last_ms = -1
        self.box: np.ndarray | None = None
        self.clean = True  # tracks nobody: the next call runs BlazePose's detector

    def detect(self, rgb: np.ndarray, frame: int) -> Any:
        """The landmarker's result on one (H, W, 3) uint8 RGB frame (frame index ``frame`` of the video)."""
        ts = max(frame * DEFAULT_STEP_MS, self._last_ms + 1)  # strictly increasing, as VIDEO mode wants
        self._last_ms = ts
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        with _native_stderr_silenced():
            result = self._landmarker.detect_for_video(image, ts)
        self.clean = not result.pose_landmarks
        return result

    def reset(self, shape: tuple, frame: int) -> None:
        """Make the landmarker forget its person (one call on a grey frame: no landmarks → no ROI)."""
        if not self.clean:
            self.detect(np.full(shape, 127, np.uint8), frame)
        self.box = None

    def close(self) -> None:
        self._finalizer()
