"""A check video: the input frame with the 2D skeleton, side by side with a steady 3D view (cv2 only).

``render_video(frames, uv, conf, joints3d, "h36m17", fps, "check.mp4")`` streams the frames (one at a time,
never the whole video in memory) into an mp4 (``mp4v``), written atomically (temporary file in the same
folder, then ``os.replace``).

Left: the input frame; bones whose two joints have confidence ``>= min_conf`` are drawn, the subject's left
side in orange, right side in blue, the midline in green; low-confidence joints are skipped.

Right (the 3D panel, ``panel_size`` pixels wide, as tall as the frame):

- ground-aligned: the poses are turned upright along the world's vertical when infer knows it (a calibration,
  the scene's vertical lines), else with the clip's mean ``thorax - pelvis`` direction as up
  (:func:`pose3d_cli.infer.bvh_writer.upright_rotation`), so a tilted phone does not tilt the figure;
- one viewpoint for the whole clip: orthographic, ``azimuth`` degrees to the side of the real camera's view
  and ``elevation`` degrees above it (30° and 15° by default);
- one scale for the whole clip, from the median body height (vertical extent of the joints);
- a floor grid (50 cm squares), drawn once; the root-relative pose is set each frame with its lowest joint on
  the floor and its pelvis above the grid's centre. Far bones are drawn before near ones;
- frame number and time; frames without a 3D pose show an empty panel with "no detection".

Drawing runs at several hundred frames per second (the floor grid and the panel background are drawn once);
the mp4 encoder is usually the slower part.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from ..errors import Pose3dError
from ..skeleton import Skeleton, get_skeleton
from .bvh_writer import upright_rotation

#: BGR colours
LEFT = (0, 140, 255)  # orange
RIGHT = (255, 120, 0)  # blue
MID = (60, 200, 60)  # green
BACKGROUND = (32, 32, 32)
GRID = (80, 80, 80)
GRID_AXIS = (110, 110, 110)
TEXT = (235, 235, 235)


class RenderError(Pose3dError, ValueError):
    """The check video cannot be written (bad shapes, codec unavailable, no frames)."""


def bone_colours(sk: Skeleton) -> list[tuple[int, int, int]]:
    """BGR colour of each bone of ``sk.bone_indices``: by the side of its child joint (else its parent)."""
    left, right = set(sk.joints_left), set(sk.joints_right)
    out = []
    for c, p in sk.bone_indices:
        if c in left or (c not in right and p in left):
            out.append(LEFT)
        elif c in right or p in right:
            out.append(RIGHT)
        else:
            out.append(MID)
    return out


def joint_colours(sk: Skeleton) -> list[tuple[int, int, int]]:
    left, right = set(sk.joints_left), set(sk.joints_right)
    return [LEFT if j in left else RIGHT if j in right else MID for j in range(sk.num_joints)]


def view_rotation(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """(3, 3) rows = (screen right, screen up, view direction) in the upright world (Y up, real camera along -Z).

    ``azimuth`` turns the viewer about the vertical axis from the real camera's position (positive: towards
    the world's +X, the subject's left when they face the camera); ``elevation`` raises it and looks down.
    """
    a, e = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    # viewer position direction (from the subject towards the viewer): +Z for the real camera
    back = np.array([np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)])
    fwd = -back
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return np.stack([right, up, fwd])


class Panel3D:
    """Projects upright, root-relative poses into a fixed orthographic view and draws them.

    Args:
        joints3d: (T, J, 3) mm camera frame, root-relative, NaN where undetected (for the up direction, the
            scale and the per-frame placement; kept as (T, J, 2) screen coordinates only).
        skeleton: the joints' skeleton.
        width, height: panel size in pixels.
        up: (3,) the world's vertical in the camera frame when known; None: the clip's mean trunk axis.
    """

    def __init__(self, joints3d: np.ndarray, skeleton: Skeleton, width: int, height: int, *,
                 azimuth: float = 30.0, elevation: float = 15.0, grid_mm: float = 500.0, grid_cells: int = 4,
                 up: np.ndarray | None = None):
        self.sk, self.w, self.h = skeleton, width, height
        T = joints3d.shape[0]
        self.valid = np.all(np.isfinite(joints3d.reshape(T, -1)), axis=1)
        R_up = upright_rotation(joints3d, skeleton, up)
        V = view_rotation(azimuth, elevation)
        world = np.where(self.valid[:, None, None], joints3d, 0.0) @ R_up.T  # (T, J, 3), Y up
        if self.valid.any():
            heights = world[self.valid, :, 1].max(1) - world[self.valid, :, 1].min(1)
            body = float(np.median(heights))
        else:
            body = 1700.0
        body = max(body, 300.0)
        self.scale = min(0.6 * height, 0.9 * width) / body  # px per mm
        # floor origin on screen: centre column, low in the panel
        self.origin = np.array([0.5 * width, 0.82 * height])
        # each frame: lowest joint on the floor, pelvis above the floor's origin
        root = skeleton.index(skeleton.root)
        world = world - world[:, root:root + 1] * np.array([1.0, 0.0, 1.0])
        world[..., 1] -= world[..., 1].min(axis=1, keepdims=True)
        cam = world @ V.T  # (T, J, 3): right, up, depth
        self.screen = np.round(self.origin + self.scale * cam[..., :2] * np.array([1.0, -1.0])).astype(np.int32)
        self.depth = cam[..., 2]
        self.bones = skeleton.bone_indices
        self.bone_colours = bone_colours(skeleton)
        self.joint_colours = joint_colours(skeleton)
        self.view, self.grid = V, (grid_mm, grid_cells)
        self.background = self._background(V, grid_mm, grid_cells)
        self.thickness = max(2, int(round(min(width, height) / 220)))
        self.font_scale = max(0.5, min(width, height) / 750)

    def rescale(self, scale: float, shift_px: int = 0) -> None:
        """Draw at ``scale`` px per mm, the floor grid too, moved ``shift_px`` to the right (several people side by
        side on one panel at one scale)."""
        self.screen = np.round(self.origin + (self.screen - self.origin) * scale / self.scale).astype(np.int32)
        self.screen[..., 0] += int(shift_px)
        self.scale = scale
        self.background = self._background(self.view, *self.grid)

    def _background(self, V: np.ndarray, grid_mm: float, cells: int) -> np.ndarray:
        img = np.empty((self.h, self.w, 3), np.uint8)
        img[:] = BACKGROUND
        ext = grid_mm * cells
        ticks = np.arange(-cells, cells + 1) * grid_mm
        lw = max(1, int(round(min(self.w, self.h) / 700)))
        for k in ticks:
            for a, b in (((k, 0, -ext), (k, 0, ext)), ((-ext, 0, k), (ext, 0, k))):
                p = np.array([a, b], np.float64) @ V.T
                q = np.round(self.origin + self.scale * p[:, :2] * np.array([1.0, -1.0])).astype(np.int32)
                colour = GRID_AXIS if k == 0 else GRID
                cv2.line(img, tuple(int(v) for v in q[0]), tuple(int(v) for v in q[1]), colour, lw, cv2.LINE_AA)
        return img

    def draw(self, out: np.ndarray, t: int, label: str) -> None:
        """Draw frame ``t`` into ``out`` ((h, w, 3) uint8 view), background included."""
        out[:] = self.background
        fs, th = self.font_scale, max(1, int(round(self.font_scale * 2)))
        line_h = int(32 * fs)
        cv2.putText(out, label, (int(12 * fs), line_h), cv2.FONT_HERSHEY_SIMPLEX, fs, TEXT, th, cv2.LINE_AA)
        if t >= len(self.valid) or not self.valid[t]:
            msg = "no detection"
            (tw, tht), _ = cv2.getTextSize(msg, cv2.FONT_HERSHEY_SIMPLEX, 1.4 * fs, th + 1)
            cv2.putText(out, msg, ((self.w - tw) // 2, (self.h + tht) // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.4 * fs,
                        TEXT, th + 1, cv2.LINE_AA)
            return
        s, d = self.screen[t], self.depth[t]
        bd = d[self.bones].mean(axis=1)
        for k in np.argsort(-bd):  # far bones first (depth grows away from the viewer)
            c, p = self.bones[k]
            cv2.line(out, (int(s[c, 0]), int(s[c, 1])), (int(s[p, 0]), int(s[p, 1])), self.bone_colours[k],
                     self.thickness, cv2.LINE_AA)
        r = self.thickness + 1
        for j in range(len(s)):
            cv2.circle(out, (int(s[j, 0]), int(s[j, 1])), r, self.joint_colours[j], -1, cv2.LINE_AA)


def draw_skeleton_2d(img: np.ndarray, uv: np.ndarray, conf: np.ndarray | None, sk: Skeleton, min_conf: float,
                     thickness: int, colours: list | None = None, jcolours: list | None = None) -> None:
    """Draw the bones (and joints) of one (J, 2) pixel pose whose joints are finite and ``conf >= min_conf``."""
    ok = np.all(np.isfinite(uv), axis=-1)
    if conf is not None:
        ok &= np.nan_to_num(conf, nan=0.0) >= min_conf
    if not ok.any():
        return
    colours = colours or bone_colours(sk)
    jcolours = jcolours or joint_colours(sk)
    p = np.round(np.where(ok[:, None], uv, 0)).astype(np.int64)
    for k, (c, q) in enumerate(sk.bone_indices):
        if ok[c] and ok[q]:
            cv2.line(img, (int(p[c, 0]), int(p[c, 1])), (int(p[q, 0]), int(p[q, 1])), colours[k], thickness,
                     cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        cv2.circle(img, (int(p[j, 0]), int(p[j, 1])), thickness + 1, jcolours[j], -1, cv2.LINE_AA)


class _AtomicVideoWriter:
    """cv2.VideoWriter into a temporary file beside ``path``; ``commit()`` renames it into place."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".mp4", dir=path.parent)
        os.close(fd)
        self.tmp, self.path = Path(tmp), path
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), size)
        if not self.writer.isOpened():
            self.abort()
            raise RenderError(f"{path}: cannot open an mp4v video writer (OpenCV built without FFmpeg?); "
                              "write to a .mp4 path or install opencv-python with video support")

    def write(self, img: np.ndarray) -> None:
        self.writer.write(img)

    def commit(self) -> None:
        from ..atomic import default_mode, note_written

        self.writer.release()
        os.chmod(self.tmp, default_mode())  # mkstemp leaves 0600: give the video a normal mode
        os.replace(self.tmp, self.path)
        note_written(self.path)

    def abort(self) -> None:
        try:
            self.writer.release()
        except Exception:
            pass
        try:
            self.tmp.unlink()
        except OSError:
            pass


def render_video(frames: Iterable[np.ndarray], uv: np.ndarray, conf: np.ndarray | None, joints3d: np.ndarray,
                 skeleton: Skeleton | str, fps: float, path: str | Path, *, panel_size: int | None = None,
                 min_conf: float = 0.3, skeleton_2d: Skeleton | str | None = None, azimuth: float = 30.0,
                 elevation: float = 15.0, up: np.ndarray | None = None, time_s: np.ndarray | None = None) -> int:
    """Write the side-by-side check video (see the module doc).

    Args:
        frames: BGR uint8 frames, consumed one at a time; frames of another size than the first are letterboxed
            into its size (photos), their keypoints with them.
        uv: (T, J2, 2) pixel keypoints (NaN where missing).
        conf: (T, J2) keypoint confidences, or None (all drawn).
        joints3d: (T, J, 3) mm, camera frame, root-relative; NaN rows where nobody was detected.
        skeleton: the 3D joints' skeleton (and the 2D one unless ``skeleton_2d`` is given).
        fps: output frame rate.
        path: the .mp4 file.
        panel_size: width in pixels of the 3D panel (its height is the frame's); default ``min(width, height)``.
        min_conf: 2D joints below this confidence are not drawn.
        skeleton_2d: the 2D keypoints' skeleton when it differs from the 3D one (e.g. ``"coco17"``).
        azimuth, elevation: the 3D view, degrees from the real camera's view.
        time_s: (T,) each frame's own time (the container's timestamps, as infer's CSV and ergo's report give
            it; a variable-frame-rate phone clip), printed on the frame; default ``t / fps``.

    Returns:
        The number of frames written. Frames beyond ``T`` are written with no skeleton ("no detection").
    """
    sk3 = get_skeleton(skeleton)
    sk2 = get_skeleton(skeleton_2d) if skeleton_2d is not None else sk3
    joints3d = np.asarray(joints3d, dtype=np.float64)
    uv = np.asarray(uv, dtype=np.float64)
    if joints3d.ndim != 3 or joints3d.shape[1:] != (sk3.num_joints, 3):
        raise RenderError(f"joints3d must be (T, {sk3.num_joints}, 3) for {sk3.name}, got {joints3d.shape}")
    if uv.ndim != 3 or uv.shape[1:] != (sk2.num_joints, 2):
        raise RenderError(f"uv must be (T, {sk2.num_joints}, 2) for {sk2.name}, got {uv.shape}")
    if conf is not None:
        conf = np.asarray(conf, dtype=np.float64)
        if conf.shape != uv.shape[:2]:
            raise RenderError(f"conf must be {uv.shape[:2]}, got {conf.shape}")
    T2 = uv.shape[0]
    colours2, jcolours2 = bone_colours(sk2), joint_colours(sk2)
    panel: Panel3D | None = None
    thick2 = 2

    def start(W: int, H: int) -> int:
        nonlocal panel, thick2
        P = int(panel_size) if panel_size else min(W, H)
        panel = Panel3D(joints3d, sk3, P, H, azimuth=azimuth, elevation=elevation, up=up)
        thick2 = max(2, int(round(min(W, H) / 300)))
        return P

    def draw(left: np.ndarray, right: np.ndarray, t: int, place: Callable[[np.ndarray], np.ndarray]) -> None:
        if t < T2:
            draw_skeleton_2d(left, place(uv[t]), None if conf is None else conf[t], sk2, min_conf, thick2, colours2,
                             jcolours2)
        panel.draw(right, t, frame_label(t, fps, time_s))

    return render_frames(frames, fps, path, start, draw, time_s)


def frame_label(t: int, fps: float, time_s: np.ndarray | None = None) -> str:
    """The check video's label of frame ``t``: its own time where ``time_s`` gives it (a variable-frame-rate clip's
    frame 19 read 1.17 s as t / fps where infer's CSV says 0.63 s), else ``t / fps``."""
    sec = float(time_s[t]) if time_s is not None and t < len(time_s) and np.isfinite(time_s[t]) else t / fps
    return f"frame {t}  {sec:.2f} s"


def letterbox(shape: tuple[int, int], W: int, H: int) -> tuple[float, int, int]:
    """How a frame of ``shape`` (h, w) fits a W × H view with its aspect kept: (scale, x offset, y offset), the
    frame's pixel ``p`` drawn at ``p * scale + offset``."""
    h, w = shape
    s = min(W / w, H / h)
    return s, (W - int(round(w * s))) // 2, (H - int(round(h * s))) // 2


def playback_copies(time_s: np.ndarray, fps: float) -> np.ndarray:
    """(T,) how many times each frame is written so that a video at ``fps`` plays the frames at their own times
    ``time_s`` (T,) s: frame t fills the output ticks from its time to the next frame's (a variable-frame-rate
    phone clip's 10 fps stretch played 3x too fast at a constant 30 fps; a burst faster than ``fps`` drops frames:
    0 copies). A steady clip at ``fps`` gives 1 for every frame; the last frame 1."""
    t = np.asarray(time_s, np.float64)
    if len(t) == 0 or not np.isfinite(t).all():  # no times to follow (photos): each frame once
        return np.ones(len(t), np.int64)
    ticks = np.floor((t - t[0]) * fps + 0.5).astype(np.int64)  # the output tick each frame starts at
    shown = ticks >= np.maximum.accumulate(ticks)  # a frame whose time goes back behind an earlier one: 0 copies
    idx = np.flatnonzero(shown)
    out = np.zeros(len(t), np.int64)
    out[idx] = np.concatenate([np.diff(ticks[idx]), [1]])  # each shown frame until the next shown one
    return out


def render_frames(frames: Iterable[np.ndarray], fps: float, path: str | Path, start: Callable[[int, int], int],
                  draw: Callable[[np.ndarray, np.ndarray, int, Callable[[np.ndarray], np.ndarray]], None],
                  time_s: np.ndarray | None = None) -> int:
    """The one writer lifecycle of the check videos: each frame (grey → BGR) is copied into the left of a
    (H, W + P) canvas, a frame of another size than the first (W × H; photos) letterboxed into it, ``draw(left,
    right, t, place)`` draws on both halves (``place`` maps the frame's pixel coordinates (..., 2) to the left
    view's), and the canvas is written; the .mp4 appears only when every frame is written (atomic), else nothing is
    left. An odd canvas side gets one black row or column (the encoder would drop it).

    Args:
        frames: BGR (or grey) uint8 frames, consumed one at a time.
        start: called once with the first frame's W, H; returns the right panel's width P (set up state there).
        draw: draws frame ``t`` on the (H, W, 3) left view (the frame) and the (H, P, 3) right panel (unset).
        time_s: (T,) the frames' own times: each is written :func:`playback_copies` times, so the video plays in
            real time (a variable-frame-rate clip); default: each frame once.
    Returns:
        The number of frames written.
    """
    copies = None if time_s is None else playback_copies(time_s, fps)
    if not fps > 0:
        raise RenderError(f"fps must be positive, got {fps}")
    path = Path(path)
    writer: _AtomicVideoWriter | None = None
    canvas = None
    n = 0
    same = lambda uv: uv  # noqa: E731
    try:
        for t, frame in enumerate(frames):
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            if writer is None:
                H, W = frame.shape[:2]
                P = int(start(W, H))
                canvas = np.zeros((H + H % 2, W + P + (W + P) % 2, 3), np.uint8)
                writer = _AtomicVideoWriter(path, fps, (canvas.shape[1], canvas.shape[0]))
            place = same
            if frame.shape[:2] != (H, W):
                s, ox, oy = letterbox(frame.shape[:2], W, H)
                small = cv2.resize(frame, (int(round(frame.shape[1] * s)), int(round(frame.shape[0] * s))),
                                   interpolation=cv2.INTER_AREA)
                canvas[:H, :W] = 0
                canvas[oy:oy + small.shape[0], ox:ox + small.shape[1]] = small
                place = lambda uv, s=s, o=np.array([ox, oy], np.float64): np.asarray(uv, np.float64) * s + o  # noqa: E731
            else:
                canvas[:H, :W] = frame
            draw(canvas[:H, :W], canvas[:H, W:W + P], t, place)
            for _ in range(1 if copies is None or t >= len(copies) else int(copies[t])):
                writer.write(canvas)
                n += 1
        if writer is None:
            raise RenderError(f"{path}: no frames to render (the frame source is empty)")
        writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return n
