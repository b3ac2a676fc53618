"""Frame sources for inference: a video file, a folder of images, one image, or a camera index.

Frames are streamed one at a time (never all held in memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import itertools
import queue
import threading
import weakref
from typing import Callable, Iterator

import numpy as np

from ..errors import Pose3dError

VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class FrameSource:
    """Where frames come from. ``frames()`` yields ``(index, time_s, frame_bgr (H, W, 3) uint8)``."""

    name: str
    kind: str  # video | images | camera
    fps: float
    size: tuple[int, int]  # width, height of the first frame
    num_frames: int | None
    paths: list[Path] = field(default_factory=list)
    camera: int | None = None
    #: videos: time each frame by the container's presentation timestamps (phones record variable frame rate);
    #: False (``--fps`` given, images, cameras): frame index / fps
    container_times: bool = False

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        import cv2

        if self.kind == "images":
            for i, p in enumerate(self.paths):
                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is None:
                    raise Pose3dError(f"{p}: cannot decode this image; check the file")
                yield i, i / self.fps, img
            return
        cap = cv2.VideoCapture(self.camera if self.kind == "camera" else self.name)
        try:
            i, last = 0, -np.inf
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                t = i / self.fps
                if self.container_times:
                    ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                    # a usable timestamp is finite and increasing; otherwise one nominal step after the last frame
                    t = ms / 1000.0 if np.isfinite(ms) and ms / 1000.0 > last and (i == 0 or ms > 0) else (
                        last + 1.0 / self.fps if i else t)
                last = t
                yield i, t, frame
                i += 1
        finally:
            cap.release()


def sample_frames(source: FrameSource, n: int = 8) -> list[tuple[int, np.ndarray]]:
    """``n`` frames spread evenly over a video, as ``(index, frame_bgr (H, W, 3) uint8)`` (seeking, not decoding
    the whole video; OpenCV applies the container's rotation, as :meth:`FrameSource.frames` does). Frames that
    cannot be read are left out; images and cameras give ``[]``."""
    import cv2

    if source.kind != "video" or not source.num_frames:
        return []
    idx = np.unique(np.linspace(0, source.num_frames - 1, min(n, source.num_frames)).round().astype(int))
    cap = cv2.VideoCapture(source.name)
    out = []
    try:
        for i in idx:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
            ok, frame = cap.read()
            if ok and frame is not None:
                out.append((int(i), frame))
    finally:
        cap.release()
    return out


def prefetched(items: Iterator, transform: Callable | None = None, depth: int = 4) -> Iterator:
    """Consume ``items`` (decoding frames) and apply ``transform`` (e.g. resizing) in a background thread, up to
    ``depth`` items ahead, so decoding overlaps detection; OpenCV releases the GIL while it decodes. Memory stays
    bounded by ``depth`` frames. An exception in the thread is raised in the consumer.

    The thread starts at once (not at the first ``next``), so the first frames are decoded while the caller still
    loads its detector; it stops when the returned iterator is exhausted, closed or garbage-collected."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            for item in items:
                item = transform(item) if transform else item
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(end)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    def drain() -> Iterator:
        try:
            while True:
                item = q.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=5)

    thread = threading.Thread(target=work, daemon=True, name="pose3d-frames")
    thread.start()
    out = drain()
    weakref.finalize(out, stop.set)  # never iterated: the generator's finally does not run, this does
    return out


def detector_frames(source: FrameSource, width: int | None,
                    rgb: bool = False) -> Iterator[tuple[int, float, np.ndarray, float]]:
    """``source``'s frames for a detector, decoded in a background thread: ``(index, time_s, image, scale)``,
    frames wider than ``width`` downscaled to it (``scale`` = new / original width; 1.0 when not downscaled).

    ``rgb=True``: RGB images (what MediaPipe takes; the detector then skips its own conversion:
    ``detector(image, t, rgb=True)``). A video file is then decoded with PyAV when it is installed, straight to
    RGB at the detector's width in one pass of FFmpeg's scaler (about half the CPU of OpenCV's decode to BGR +
    ``INTER_AREA`` resize + conversion; at native size the pixels are the same as OpenCV's), so decoding keeps
    ahead of the detector on a shared core. Otherwise (images, cameras, BGR asked, no PyAV, a rotated video):
    OpenCV, resized with ``INTER_AREA`` and converted in the same thread."""
    if rgb and source.kind == "video":
        frames = _pyav_frames(source, width)
        if frames is not None:
            return prefetched(frames)
    import cv2

    def prepare(item):
        i, t, img = item
        scale = 1.0
        if width and img.shape[1] > width:
            scale = width / img.shape[1]
            img = cv2.resize(img, (width, int(round(img.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        if rgb:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        return i, t, img, scale

    return prefetched(source.frames(), prepare)


def _pyav_frames(source: FrameSource, width: int | None) -> Iterator[tuple[int, float, np.ndarray, float]] | None:
    """A video's frames as RGB via PyAV, timed as :meth:`FrameSource.frames` times them; None when PyAV is not
    installed, cannot open the file, or the video carries a rotation (OpenCV applies it; this path does not)."""
    try:
        import av
    except ImportError:
        return None
    try:
        container = av.open(source.name)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        decoded = container.decode(stream)
        first = next(decoded)
    except (av.FFmpegError, IndexError, StopIteration, OSError):
        return None
    if getattr(first, "rotation", 0):
        container.close()
        return None
    W, H = first.width, first.height
    scale = width / W if width and W > width else 1.0
    size = (width, int(round(H * scale))) if scale != 1.0 else (W, H)
    start = stream.start_time or 0
    base = float(stream.time_base) if stream.time_base is not None else 0.0

    def frames() -> Iterator[tuple[int, float, np.ndarray, float]]:
        try:
            i, last = 0, -np.inf
            for frame in itertools.chain([first], decoded):
                t = i / source.fps
                if source.container_times:  # a usable timestamp is finite and increasing (as OpenCV's path)
                    ms = (frame.pts - start) * base * 1000.0 if frame.pts is not None and base > 0 else np.nan
                    t = ms / 1000.0 if np.isfinite(ms) and ms / 1000.0 > last and (i == 0 or ms > 0) else (
                        last + 1.0 / source.fps if i else t)
                last = t
                if scale != 1.0:
                    img = frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="AREA")
                else:
                    img = frame.reformat(format="rgb24")
                yield i, t, img.to_ndarray(), scale
                i += 1
        finally:
            container.close()

    return frames()


def _probe_video(path: Path) -> FrameSource:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise Pose3dError(f"{path}: cannot open this video (corrupt, truncated or an unsupported codec); "
                              "re-encode it as H.264 mp4")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise Pose3dError(f"{path}: the video holds no readable frame (empty, corrupt or truncated)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    finally:
        cap.release()
    if not 0 < fps < 1000:
        fps = 30.0
    h, w = frame.shape[:2]
    return FrameSource(str(path), "video", float(fps), (w, h), n, container_times=True)


def open_source(spec: str | Path, fps: float | None = None) -> FrameSource:
    """Open a video file, an image, a folder of images, or ``camera:N`` (a camera index)."""
    import cv2

    s = str(spec)
    if s.startswith("camera:"):
        try:
            idx = int(s.split(":", 1)[1])
        except ValueError:
            raise Pose3dError(f"{s}: a camera is camera:N with N a number (or --camera N)") from None
        cap = cv2.VideoCapture(idx)
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        cap.release()
        if not ok:
            raise Pose3dError(f"camera {idx}: cannot read from this camera; check --camera")
        return FrameSource(s, "camera", fps or 30.0, (frame.shape[1], frame.shape[0]), None, camera=idx)
    path = Path(spec)
    if not path.exists():
        raise Pose3dError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXT)
        if not images:
            raise Pose3dError(f"{path}: no images ({', '.join(sorted(IMAGE_EXT))}) in this folder")
        first = cv2.imread(str(images[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise Pose3dError(f"{images[0]}: cannot decode this image")
        return FrameSource(str(path), "images", fps or 30.0, (first.shape[1], first.shape[0]), len(images), images)
    ext = path.suffix.lower()
    if ext in IMAGE_EXT:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise Pose3dError(f"{path}: cannot decode this image (corrupt or not an image)")
        return FrameSource(str(path), "images", fps or 30.0, (img.shape[1], img.shape[0]), 1, [path])
    if ext in VIDEO_EXT:
        with open(path, "rb") as fh:
            head = fh.read(8)
        # a photo with a video's name (an .avi may be a raw MJPEG stream, which starts the same way: let it through)
        if ext != ".avi" and head.startswith((b"\xff\xd8\xff", b"\x89PNG")):
            raise Pose3dError(f"{path}: holds a {'JPEG' if head[0] == 0xFF else 'PNG'} photo, not a video; rename it "
                              f"{'.jpg' if head[0] == 0xFF else '.png'} to run it as a photo")
        src = _probe_video(path)
        if fps:  # an explicit rate overrides the container's clock: frame index / fps
            src.fps, src.container_times = fps, False
        return src
    raise Pose3dError(f"{path}: unsupported input {ext!r}; give a video (mp4/avi/mov), images, a folder of images, "
                      "or a 2D keypoint file (OpenPose folder, COCO/MMPose JSON, pose3d CSV)")
