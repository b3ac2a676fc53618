"""The built-in 2D detector: MediaPipe BlazePose (full or lite) through the Tasks API ``PoseLandmarker``.

The model is one of the ``.task`` bundles shipped in ``pose3d_cli/assets`` (built from registry packages by
``scripts/build_blazepose_task.py``; Apache-2.0, see ``assets/NOTICE-mediapipe.txt``). Nothing is downloaded.

Output per frame: the most prominent person's 33 BlazePose keypoints (skeleton ``blazepose33``) in pixels,
a per-joint confidence, and BlazePose's own metric 3D "world landmarks" in mm (:class:`Keypoints2D`).

Confidence of a joint = ``visibility × presence`` (MediaPipe's two sigmoid scores: presence = the joint is
inside the image, visibility = it is inside and not occluded), set to 0 when the joint lies outside the
image by more than ``outside_margin`` (a fraction of the image width/height): BlazePose extrapolates the
whole body even when the legs are cut off, and those guesses must not be trusted.

``mediapipe`` is imported when a detector is made, so ``import pose3d_cli.detect`` stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pose3d_cli.detect.base import DetectorError, Keypoints2D

#: the BlazePose bundles shipped with the package, by variant (lite: faster, a little less accurate)
MODELS = {v: Path(__file__).resolve().parents[1] / "assets" / f"pose_landmarker_{v}.task" for v in ("full", "lite")}
#: the default bundle
DEFAULT_MODEL = MODELS["full"]
#: the frame step assumed in VIDEO mode when no timestamp is given (30 fps)
DEFAULT_STEP_MS = 33

_BUILD_HINT = "rebuild it with `python scripts/build_blazepose_task.py`"


class BlazePoseDetector:
    """MediaPipe BlazePose 2D detector (33 joints, one person per frame).

    Args:
        model_path: a MediaPipe pose ``.task`` bundle; default: the shipped bundle of ``variant``.
        mode: ``"video"`` (tracks between frames; timestamps must increase) or ``"image"`` (every frame
            independent, slower).
        min_confidence: MediaPipe's minimum pose detection, presence and tracking confidence.
        outside_margin: joints farther than this fraction of the image size outside it get confidence 0.
        variant: which shipped bundle to use when ``model_path`` is None: ``"full"`` (default) or
            ``"lite"`` (faster, a little less accurate).

    Call it on (H, W, 3) uint8 BGR frames (as cv2 reads them); it returns :class:`Keypoints2D` or None
    when there is no person. In VIDEO mode a timestamp that does not increase is bumped to 1 ms after
    the previous one; no timestamp means ``DEFAULT_STEP_MS`` after the previous one. Use it as a context
    manager, or call :meth:`close`.

    Raises:
        DetectorError: the model file is missing or is not a loadable pose ``.task`` bundle, the variant is
            unknown, or mediapipe is not installed.
    """

    skeleton = "blazepose33"

    def __init__(self, model_path: str | Path | None = None, mode: Literal["video", "image"] = "video",
                 min_confidence: float = 0.5, outside_margin: float = 0.05,
                 variant: Literal["full", "lite"] = "full") -> None:
        if mode not in ("video", "image"):
            raise DetectorError(f"BlazePose mode must be 'video' or 'image', not {mode!r}")
        if variant not in MODELS:
            raise DetectorError(f"BlazePose variant must be one of {', '.join(map(repr, MODELS))}, not {variant!r}")
        self.variant = variant
        self.model_path = Path(model_path) if model_path is not None else MODELS[variant]
        self.mode = mode
        self.outside_margin = outside_margin
        self._mp = _import_mediapipe()
        with _native_stderr_silenced():
            self._landmarker = _create_landmarker(self._mp, self.model_path, mode, min_confidence)
        self._finalizer = weakref.finalize(self, _close_quietly, self._landmarker)
        self._last_ms: int | None = None

    def __call__(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None, *,
                 rgb: bool = False) -> Keypoints2D | None:
        """Detect the most prominent person in one (H, W, 3) uint8 BGR frame (grey (H, W) and BGRA accepted);
        ``rgb=True``: the frame is already (H, W, 3) RGB (converted by the caller, e.g. in a decoding thread)."""
        if not self._finalizer.alive:
            raise DetectorError("BlazePoseDetector is closed")
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=as_rgb(frame_bgr, rgb))
        with _native_stderr_silenced(self._last_ms is None):  # the graph logs warnings on its first frame
            if self.mode == "video":
                result = self._landmarker.detect_for_video(image, self._next_timestamp(timestamp_ms))
            else:
                result = self._landmarker.detect(image)
        if not result.pose_landmarks:
            return None
        h, w = frame_bgr.shape[:2]
        return _to_keypoints(result.pose_landmarks[0], result.pose_world_landmarks[0], w, h,
                             self.outside_margin)

    def detect_all(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None, *,
                   rgb: bool = False) -> list[Keypoints2D]:
        """The people found in one frame as a list (this detector finds at most one; see
        :class:`pose3d_cli.detect.multi.MultiPersonDetector` for several)."""
        kp = self(frame_bgr, timestamp_ms, rgb=rgb)
        return [] if kp is None else [kp]

    def _next_timestamp(self, timestamp_ms: int | None) -> int:
        """A strictly increasing ms timestamp for VIDEO mode."""
        if timestamp_ms is None:
            ts = 0 if self._last_ms is None else self._last_ms + DEFAULT_STEP_MS
        else:
            ts = int(timestamp_ms)
            if self._last_ms is not None and ts <= self._last_ms:
                ts = self._last_ms + 1
        self._last_ms = ts
        return ts

    def close(self) -> None:
        """Release the MediaPipe graph (idempotent)."""
        self._finalizer()

    def __enter__(self) -> BlazePoseDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _native_stderr_silenced(active: bool = True):
    """Silence what MediaPipe's C++ code writes to file descriptor 2 (TFLite/glog INFO and warnings that
    pose3d's users cannot act on); Python exceptions still propagate normally."""
    if not active or os.environ.get("POSE3D_DEBUG_MEDIAPIPE"):
        yield
        return
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_mediapipe() -> Any:
    try:
        import mediapipe
    except ImportError as e:
        raise DetectorError(f"the BlazePose detector needs the mediapipe package ({e})") from None
    return mediapipe


def _create_landmarker(mp: Any, model_path: Path, mode: str, min_confidence: float, num_poses: int = 1) -> Any:
    """A MediaPipe ``PoseLandmarker`` for ``model_path``, or DetectorError with one clear line."""
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    if not model_path.is_file():
        raise DetectorError(f"BlazePose model not found: {model_path} ({_BUILD_HINT})")
    options = PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=RunningMode.VIDEO if mode == "video" else RunningMode.IMAGE,
        num_poses=num_poses,
        min_pose_detection_confidence=min_confidence,
        min_pose_presence_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
    )
    try:
        return PoseLandmarker.create_from_options(options)
    except Exception as e:  # mediapipe raises ValueError/RuntimeError with C++ status text
        reason = " ".join(str(e).split()) or type(e).__name__
        raise DetectorError(f"cannot load BlazePose model {model_path}: {reason} "
                            f"(expected a MediaPipe pose .task bundle; {_BUILD_HINT})") from None


def _close_quietly(landmarker: Any) -> None:
    """Close a PoseLandmarker; at interpreter exit (detector never closed) mediapipe's dispatcher is
    already shut down, so forget the handle instead of letting mediapipe's ``__del__`` print tracebacks."""
    try:
        landmarker.close()
    except Exception:
        landmarker._handle = None


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR, (H, W, 4) BGRA or (H, W) grey uint8 → contiguous (H, W, 3) RGB uint8."""
    import cv2  # a mediapipe dependency; cvtColor is ~3x faster than a numpy channel flip + copy

    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise DetectorError(f"frames must be uint8 images, got dtype {frame.dtype}")
    codes = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    channels = 1 if frame.ndim == 2 else frame.shape[2] if frame.ndim == 3 else 0
    if channels not in codes:
        raise DetectorError(f"frames must be (H, W, 3) BGR images, got shape {frame.shape}")
    return cv2.cvtColor(frame, codes[channels])


def as_rgb(frame: np.ndarray, rgb: bool) -> np.ndarray:
    """A detector's input as contiguous (H, W, 3) RGB uint8: converted from BGR/BGRA/grey (:func:`_to_rgb`), or,
    with ``rgb=True``, checked and passed through without a copy."""
    if not rgb:
        return _to_rgb(frame)
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise DetectorError(f"rgb frames must be (H, W, 3) uint8 images, got {frame.dtype} {frame.shape}")
    return np.ascontiguousarray(frame)


def _to_keypoints(landmarks: list, world: list, width: int, height: int, margin: float) -> Keypoints2D:
    """MediaPipe normalised landmarks (33) + world landmarks (33, metres) → pixel :class:`Keypoints2D`."""
    norm = np.array([[lm.x, lm.y] for lm in landmarks], dtype=np.float32)  # (33, 2) in [0, 1] inside
    vis = np.array([_score(lm.visibility) * _score(lm.presence) for lm in landmarks], dtype=np.float32)
    outside = ((norm < -margin) | (norm > 1 + margin)).any(axis=1)
    confidence = np.where(outside, 0.0, np.clip(vis, 0.0, 1.0)).astype(np.float32)
    xy = norm * np.array([width, height], dtype=np.float32)
    world_mm = np.array([[lm.x, lm.y, lm.z] for lm in world], dtype=np.float32) * 1000.0  # (33, 3)
    return Keypoints2D(xy, confidence, "blazepose33", world_mm)


def _score(value: float | None) -> float:
    """A MediaPipe landmark score (already a probability in mediapipe 1.x); 1 when the model gives none."""
    return 1.0 if value is None else float(value)
