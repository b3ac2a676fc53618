"""Write inferred poses: CSV (one row per frame), JSON (the same plus metadata); atomic or to stdout.

CSV columns: ``frame, time_s, detected``, then ``<joint>_x, <joint>_y, <joint>_z`` for every joint (mm, camera
frame: x right, y down, z forward, root-relative: the pelvis is at 0), then ``root_x_mm, root_y_mm, root_z_mm``
(where that pelvis is in the camera frame, :mod:`.trajectory`; empty where it could not be placed), then
``<joint>_conf`` (the 2D confidence of the joint, 0..1), ``low_conf`` (the joints under the confidence threshold, ``;``-separated),
with ``--angles`` the ergonomic angles ``<angle>_deg`` (:mod:`pose3d_cli.angles`), and with ``with_2d`` the
2D input ``<joint>_u, <joint>_v`` in pixels. A frame without a detection has
``detected=0`` and empty cells. For a folder of photos, ``file, width, height, fx, fy, cx, cy`` (the photo's
file name, its size in px and its own intrinsics) follow ``detected`` (:class:`Photos`); videos have no such
columns. JSON frames of photos carry ``file``, ``image_size`` ``[w, h]`` and ``K`` (3x3) the same way.
JSON frames carry the root position as ``root_mm`` [x, y, z] (or null), and the detector's hand and face points when it gave them (``detector_points``: ``uv``,
``conf``, ``world_mm``, names in ``metadata.detector_point_names``; :mod:`.detector_points`); the CSV does not.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from .detector_points import DetectorPoints


PHOTO_COLUMNS = ("file", "width", "height", "fx", "fy", "cx", "cy")
ROOT_COLUMNS = ("root_x_mm", "root_y_mm", "root_z_mm")


@dataclass
class Photos:
    """Per-photo facts of a folder of photos, one per frame (T): each photo is lifted with its own size and K."""

    files: list[str]  # (T,) file names
    sizes: np.ndarray  # (T, 2) width, height px
    K: np.ndarray  # (T, 3, 3) the intrinsics each photo was lifted with

    def cells(self, t: int) -> list:
        """The CSV cells of photo ``t``, in :data:`PHOTO_COLUMNS` order."""
        K = self.K[t]
        return [self.files[t], int(self.sizes[t][0]), int(self.sizes[t][1])] + [
            f"{v:.3f}" for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2])]


@dataclass
class PoseTrack:
    """Everything written for one input. Arrays are per frame (T)."""

    frame: np.ndarray  # (T,) int
    time_s: np.ndarray  # (T,)
    detected: np.ndarray  # (T,) bool
    joints3d: np.ndarray  # (T, J, 3) mm, NaN where not detected
    uv: np.ndarray  # (T, J, 2) px
    conf: np.ndarray  # (T, J)
    joint_names: tuple[str, ...]
    metadata: dict = field(default_factory=dict)
    angles: dict[str, np.ndarray] | None = None  # name → (T,) degrees (``--angles``)
    photos: Photos | None = None  # a folder of photos: each frame's file, size and K
    points: DetectorPoints | None = None  # the detector's hand/face points (JSON only; see .detector_points)
    root: np.ndarray | None = None  # (T, 3) mm: the pelvis in the camera frame (see .trajectory), NaN where unknown


def _block(spec: str, n: int) -> str:
    """A ``%``-format of ``n`` comma-separated ``spec`` cells (one C-level call formats a whole row block)."""
    return ",".join([spec] * n)


def _finite_or_empty(text: str) -> str:
    """Blank the non-finite cells of a comma-joined block (``nan``, ``inf``, ``-inf`` → empty cells)."""
    if "n" not in text:  # no nan/inf in the block: the common case, nothing to do
        return text
    return ",".join("" if c in ("nan", "inf", "-inf") else c for c in text.split(","))


def _quoted(cell) -> str:
    """One CSV cell as ``csv.writer`` writes it (quoted when it holds a comma, quote or newline)."""
    if cell == "" or not isinstance(cell, str):
        return str(cell)  # an empty cell in a longer row is written bare; numbers need no quoting
    if not any(ch in cell for ch in ',"\r\n'):
        return cell
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([cell])
    return buf.getvalue()


def csv_text(track: PoseTrack, with_2d: bool = False, min_conf: float = 0.3) -> str:
    """The CSV text of ``track`` (columns: module docstring), byte-identical to a per-cell ``csv.writer`` loop.
    Each detected row's numbers are formatted by one ``%`` call per block (no per-cell numpy scalar work)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = track.joint_names
    header = ["frame", "time_s", "detected"] + (list(PHOTO_COLUMNS) if track.photos else [])
    header += [f"{j}_{a}" for j in names for a in "xyz"]
    if track.root is not None:
        header += list(ROOT_COLUMNS)
    header += [f"{j}_conf" for j in names] + ["low_conf"]
    angle_names = list(track.angles) if track.angles else []
    header += [f"{a}_deg" for a in angle_names]
    if with_2d:
        header += [f"{j}_{a}" for j in names for a in "uv"]
    w.writerow(header)
    T, J = len(track.frame), len(names)
    frames = np.asarray(track.frame).astype(int).tolist()
    times = np.asarray(track.time_s, dtype=float).tolist()
    detected = np.asarray(track.detected).astype(bool).tolist()
    conf_arr = np.asarray(track.conf, dtype=float)  # (T, J)
    xyz = [tuple(r) for r in np.asarray(track.joints3d, dtype=float).reshape(T, 3 * J).tolist()]  # joint-major
    root = None if track.root is None else [tuple(r) for r in np.asarray(track.root, dtype=float).tolist()]
    conf = [tuple(r) for r in conf_arr.tolist()]
    ang = (np.stack([np.asarray(track.angles[a], dtype=float) for a in angle_names], axis=1).tolist()
           if angle_names else None)  # (T, A)
    if with_2d:  # 2D of a zero-confidence joint is blank: NaN there, blanked with the other non-finite cells
        uv_arr = np.asarray(track.uv, dtype=float).reshape(T, J, 2).copy()
        uv_arr[~(conf_arr > 0)] = np.nan
        uv = [tuple(r) for r in uv_arr.reshape(T, 2 * J).tolist()]
    f_xyz, f_conf, f_uv = _block("%.2f", 3 * J), _block("%.3f", J), _block("%.2f", 2 * J)
    f_ang, f_root = _block("%.1f", len(angle_names)), _block("%.1f", 3)
    low = np.asarray(conf_arr < min_conf)
    name_cells = list(names)
    empty = "," * (len(header) - 3 - (len(PHOTO_COLUMNS) if track.photos else 0))
    lines = []
    for t in range(T):
        head = f"{frames[t]},{times[t]:.4f},{int(detected[t])}"
        if track.photos:
            head += "," + ",".join(_quoted(c) for c in track.photos.cells(t))
        if not detected[t]:
            lines.append(head + empty)
            continue
        parts = [head, _finite_or_empty(f_xyz % xyz[t])] + (
            [_finite_or_empty(f_root % root[t])] if root is not None else []) + [f_conf % conf[t],
                 _quoted(";".join(n for n, m in zip(name_cells, low[t]) if m))]
        if ang is not None:
            parts.append(_finite_or_empty(f_ang % tuple(ang[t])))
        if with_2d:
            parts.append(_finite_or_empty(f_uv % uv[t]))
        lines.append(",".join(parts))
    buf.write("\n".join(lines))
    if lines:
        buf.write("\n")
    return buf.getvalue()


def json_text(track: PoseTrack, with_2d: bool = True, min_conf: float = 0.3) -> str:
    frames = []
    for t in range(len(track.frame)):
        det = bool(track.detected[t])
        rec = {"frame": int(track.frame[t]), "time_s": round(float(track.time_s[t]), 4), "detected": det}
        if track.photos:
            rec["file"] = track.photos.files[t]
            rec["image_size"] = [int(v) for v in track.photos.sizes[t]]
            rec["K"] = np.round(track.photos.K[t], 3).tolist()
        if det:
            rec["joints_3d"] = np.round(track.joints3d[t], 2).tolist()
            if track.root is not None:
                r = track.root[t]
                rec["root_mm"] = np.round(r, 1).tolist() if np.isfinite(r).all() else None
            rec["confidence"] = np.round(track.conf[t], 3).tolist()
            rec["low_conf"] = [j for j, c in zip(track.joint_names, track.conf[t]) if c < min_conf]
            if track.angles:
                rec["angles_deg"] = {a: round(float(v[t]), 1) for a, v in track.angles.items()}
            if with_2d:
                rec["keypoints_2d"] = np.round(track.uv[t], 2).tolist()
            if track.points is not None:
                rec["detector_points"] = track.points.frame(t)
        frames.append(rec)
    meta = {**track.metadata, "joint_names": list(track.joint_names)}
    if track.points is not None:
        meta["detector_point_names"] = list(track.points.names)
    return json.dumps({"metadata": meta, "frames": frames})


FORMATS = ("csv", "json", "bvh")


def format_of(path: str | Path, fmt: str | None) -> str:
    """The output format of ``path``: ``fmt`` (``--format``) when given, else its extension; a ``--format`` that
    contradicts a known extension (JSON into ``poses.csv``) is refused."""
    from ..errors import Pose3dError

    ext = Path(path).suffix.lower().lstrip(".") if str(path) != "-" else ""
    if fmt:
        if ext in FORMATS and ext != fmt:
            raise Pose3dError(f"{path}: --format {fmt} would write {fmt.upper()} into a .{ext} file; name it "
                              f"{Path(path).with_suffix('.' + fmt).name} or leave --format out")
        return fmt
    if str(path) == "-":
        return "csv"
    if ext not in FORMATS:
        raise Pose3dError(f"{path}: cannot tell the output format from {ext!r}; use .csv, .json or .bvh, or --format")
    return ext


def rows_on_time_grid(time_s: np.ndarray, fps: float) -> np.ndarray:
    """(K,) the row of ``time_s`` (T,) shown at each step of a uniform grid at ``fps`` from the first to the last
    timestamp (the nearest row within half a step), -1 where no row is (frames a keypoint file left out). A BVH
    file has one frame time: rows that skip frames or come at a variable rate would squash or stretch the motion
    (frames 0-9 and 300-309 played as 0.67 s)."""
    t = np.asarray(time_s, dtype=np.float64)
    if len(t) < 2 or not np.isfinite(t).all() or fps <= 0:
        return np.arange(len(t))
    k = int(round((t[-1] - t[0]) * fps)) + 1
    grid = t[0] + np.arange(k) / fps
    pos = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
    near = np.where(np.abs(t[pos - 1] - grid) <= np.abs(t[pos] - grid), pos - 1, pos)
    return np.where(np.abs(t[near] - grid) <= 0.5 / fps + 1e-9, near, -1)


def write_track(track: PoseTrack, path: str | Path, fmt: str, with_2d: bool = False, min_conf: float = 0.3) -> None:
    if fmt == "csv":
        write_text_atomic(csv_text(track, with_2d, min_conf), path)
    elif fmt == "json":
        write_text_atomic(json_text(track, True, min_conf), path)
    elif fmt == "bvh":
        from ..errors import Pose3dError
        from .bvh_writer import write_bvh

        if str(path) == "-":
            raise Pose3dError("BVH cannot go to stdout; give -o file.bvh")
        fps = float(track.metadata.get("fps", 30.0))
        up = track.metadata.get("vertical", {}).get("up_camera_frame")  # the world's vertical, when infer knows it
        rows = rows_on_time_grid(track.time_s, fps)  # one BVH frame per 1/fps of the track's time
        joints = np.where((rows >= 0)[:, None, None], track.joints3d[np.maximum(rows, 0)], np.nan)
        root = None if track.root is None else np.where((rows >= 0)[:, None], track.root[np.maximum(rows, 0)], np.nan)
        write_bvh(joints, track.metadata.get("skeleton", "h36m17"), fps, path, up=up, root_trajectory=root)
    else:
        from ..errors import Pose3dError

        raise Pose3dError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
