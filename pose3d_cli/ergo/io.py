"""Read an infer output (CSV or JSON) for scoring; write the per-frame CSV and the summary JSON (atomically).

An infer CSV has ``frame, time_s, detected``, ``<joint>_x/_y/_z`` (mm, camera frame) and ``<joint>_conf``
columns for the joints of one registered skeleton (:mod:`pose3d_cli.infer.writers`); an infer JSON has
``metadata`` (``skeleton``, ``joint_names``, ``input``, ``fps``) and ``frames`` with ``joints_3d`` and
``confidence`` (and, from a video, ``detector_points``: the hand/face points,
:mod:`pose3d_cli.infer.detector_points`). Anything else is refused with one line.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..infer.detector_points import DetectorPoints, from_json_frames
from ..infer.readers import person_frames, person_rows
from ..skeleton import SKELETONS, get_skeleton


@dataclass
class Poses:
    """Per-frame 3D joints to score. Arrays are (T, ...)."""

    frame: np.ndarray  # (T,) int
    time_s: np.ndarray  # (T,)
    detected: np.ndarray  # (T,) bool
    joints: np.ndarray  # (T, J, 3) mm, NaN where unknown
    conf: np.ndarray  # (T, J) 0..1 (1 where the file has none)
    skeleton: str
    metadata: dict = field(default_factory=dict)
    source: str = ""
    points: DetectorPoints | None = None  # the detector's hand/face points (a video or an infer JSON), else None
    plain_joints: np.ndarray | None = None  # (T, J, 3) the same frames lifted without flip averaging (a video)


def _skeleton_of(names: list[str], where: str) -> str:
    for sk in SKELETONS.values():
        if all(j in names for j in sk.joints) and sk.name == "h36m17":
            return sk.name
    for sk in SKELETONS.values():
        if all(j in names for j in sk.joints):
            return sk.name
    raise Pose3dError(f"{where}: its joints are not those of a pose3d skeleton ({', '.join(SKELETONS)}); "
                      "give a `pose3d infer` output")


def _num(v: str) -> float:
    return float(v) if v not in ("", None) else np.nan


def read_csv(path: Path, person: int = 0) -> Poses:
    from ..infer.readers import read_csv_rows, refuse_short_rows

    try:
        rows, lines = read_csv_rows(path)
    except (UnicodeDecodeError, csv.Error):
        raise Pose3dError(f"{path}: not a text CSV; give a `pose3d infer` output (.csv or .json)") from None
    if not rows:
        raise Pose3dError(f"{path}: empty file; give a `pose3d infer` output")
    header = rows[0]
    need = ("frame", "time_s", "detected")
    missing = [c for c in need if c not in header]
    if missing:
        raise Pose3dError(f"{path}: not a pose3d infer CSV (no {', '.join(missing)} column); "
                          "run `pose3d infer video.mp4 -o poses.csv` first, or give the video")
    names = [c[:-2] for c in header if c.endswith("_x") and f"{c[:-2]}_y" in header and f"{c[:-2]}_z" in header]
    sk = get_skeleton(_skeleton_of(names, str(path)))
    col = {c: i for i, c in enumerate(header)}
    body = rows[1:]  # read_csv_rows leaves blank lines out
    refuse_short_rows(path, header, body, lines[1:])
    if not body:
        raise Pose3dError(f"{path}: the CSV has a header but no frames")
    body = person_rows(header, body, person, path)
    try:
        frame = np.array([int(float(r[col["frame"]])) for r in body])
        time_s = np.array([_num(r[col["time_s"]]) for r in body])
        detected = np.array([r[col["detected"]].strip() in ("1", "True", "true") for r in body])
        xyz = np.array([[[_num(r[col[f"{j}_{a}"]]) for a in "xyz"] for j in sk.joints] for r in body])
        conf = np.array([[_num(r[col[f"{j}_conf"]]) if f"{j}_conf" in col else 1.0 for j in sk.joints] for r in body])
    except (ValueError, IndexError) as e:
        raise Pose3dError(f"{path}: a row is malformed ({e}); give an unmodified `pose3d infer` CSV") from None
    return Poses(frame, time_s, detected, xyz, np.nan_to_num(conf, nan=0.0), sk.name, {}, str(path))


def read_json(path: Path, person: int = 0) -> Poses:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Pose3dError(f"{path}: not valid JSON ({e}); give a `pose3d infer` output") from None
    if not isinstance(data, dict) or "frames" not in data or "metadata" not in data:
        raise Pose3dError(f"{path}: not a pose3d infer JSON (needs metadata and frames); run `pose3d infer` first")
    meta = data["metadata"]
    names = meta.get("joint_names") or []
    sk = get_skeleton(_skeleton_of(names, str(path)))
    order = [names.index(j) for j in sk.joints]
    frames = person_frames(data, person, path)
    if not frames:
        raise Pose3dError(f"{path}: no frames")
    T, J = len(frames), sk.num_joints
    xyz = np.full((T, J, 3), np.nan)
    conf = np.zeros((T, J))
    try:
        frame = np.array([int(f["frame"]) for f in frames])
        time_s = np.array([float(f["time_s"]) for f in frames])
        detected = np.array([bool(f["detected"]) for f in frames])
        for t, f in enumerate(frames):
            if f["detected"]:
                xyz[t] = np.asarray(f["joints_3d"], dtype=np.float64)[order]
                conf[t] = np.asarray(f.get("confidence", [1.0] * len(names)), dtype=np.float64)[order]
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise Pose3dError(f"{path}: a frame is malformed ({e}); give an unmodified `pose3d infer` JSON") from None
    return Poses(frame, time_s, detected, xyz, conf, sk.name, meta, str(path),
                 from_json_frames(meta.get("detector_point_names"), frames))


def read_poses(path: str | Path, person: int = 0) -> Poses:
    """Read and check an infer output; one-line :class:`Pose3dError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext == ".csv":
        p = read_csv(path, person)
    elif ext == ".json":
        p = read_json(path, person)
    else:
        raise Pose3dError(f"{path}: give a video or a `pose3d infer` output (.csv or .json)")
    bad_t = ~np.isfinite(p.time_s)
    if bad_t.any():
        raise Pose3dError(f"{path}: frame {int(p.frame[bad_t][0])} has no time_s; give an unmodified infer output")
    if len(p.time_s) > 1 and np.any(np.diff(p.time_s) < 0):
        raise Pose3dError(f"{path}: time_s goes backwards; give an unmodified infer output")
    p.joints[~p.detected] = np.nan
    return p
