"""Read back what ``pose3d infer`` writes (:mod:`.writers`): CSV or JSON → per-frame 3D joints."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..skeleton import SKELETONS
from .detector_points import DetectorPoints, from_json_frames
from .writers import ROOT_COLUMNS


@dataclass
class InferResult:
    """An infer output read back. Arrays are per row (T)."""

    frame: np.ndarray  # (T,) int
    time_s: np.ndarray  # (T,)
    detected: np.ndarray  # (T,) bool
    joints3d: np.ndarray  # (T, J, 3) mm, NaN where not detected
    joint_names: tuple[str, ...]
    skeleton: str | None  # the registered skeleton whose joints these are, if any
    metadata: dict = field(default_factory=dict)
    files: list[str] | None = None  # (T,) each row's photo file name (a folder of photos), else None
    confidence: np.ndarray | None = None  # (T, J) 2D confidence per joint (1 where the file has none, 0 undetected)
    points: "DetectorPoints | None" = None  # the detector's hand/face points (an infer JSON of a video), else None
    root: np.ndarray | None = None  # (T, 3) mm camera-frame pelvis positions (NaN where unknown), if the file has them


def _skeleton_of(names: tuple[str, ...]) -> str | None:
    return next((s.name for s in SKELETONS.values() if s.joints == names), None)


def refuse_short_rows(path, header: list[str], rows: list[list[str]], lines: list[int],
                      error: type[Exception] = Pose3dError) -> None:
    """Refuse the first CSV row with fewer cells than ``header`` (a file cut short, e.g. a partial last row),
    naming ``path`` and the row's line number (``lines``: each row's line in the file, 1 = the first).

    Raises:
        ``error`` (a :class:`Pose3dError`): one line: the file, the line, and what to do.
    """
    for r, n in zip(rows, lines):
        if len(r) < len(header):
            raise error(f"{path}: line {n} has {len(r)} of the header's {len(header)} cells (the file is cut short "
                        "or damaged); write the file again, or delete that line")


def read_csv_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    """The rows of a CSV file and the line number (1-based) on which each row ends; blank lines left out."""
    rows, lines = [], []
    with path.open(newline="", encoding="utf-8-sig") as fh:  # a BOM (a CSV saved again by a spreadsheet) is no cell
        reader = csv.reader(fh)
        for r in reader:
            if r:
                rows.append(r)
                lines.append(reader.line_num)
    return rows, lines


def person_rows(header: list[str], body: list[list[str]], person: int, path) -> list[list[str]]:
    """The rows of one person of a multi-person infer CSV (a ``person`` column); all rows when there is none."""
    if "person" not in header:
        if person != 0:
            raise Pose3dError(f"{path}: has no person column (one person, id 0); --person {person} is not in it")
        return body
    i = header.index("person")
    ids = sorted({int(float(r[i])) for r in body if len(r) > i and r[i] != ""})
    if person not in ids:
        raise Pose3dError(f"{path}: no person {person}; people in the file: {', '.join(map(str, ids)) or 'none'}")
    return [r for r in body if len(r) > i and r[i] != "" and int(float(r[i])) == person]


def person_ids(path: str | Path) -> list[int]:
    """The person ids an infer CSV (``person`` column) or JSON (``people``) holds, ascending; ``[0]`` for a
    single-person output. Unreadable files give ``[0]`` (the reader then says what is wrong)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            return sorted(int(p.get("id", 0)) for p in data["people"]) if "people" in data else [0]
        with path.open(newline="", encoding="utf-8-sig") as fh:  # a BOM (a CSV saved again by a spreadsheet) is no cell
            rows = csv.reader(fh)
            header = next(rows)
            if "person" not in header:
                return [0]
            i = header.index("person")
            return sorted({int(float(r[i])) for r in rows if len(r) > i and r[i] != ""}) or [0]
    except (OSError, ValueError, KeyError, TypeError, StopIteration, UnicodeDecodeError, AttributeError):
        return [0]


def person_frames(data: dict, person: int, path) -> list:
    """The frames of one person of an infer JSON: ``people`` holds every person by id when the file lists them (the
    top-level ``frames`` are then its first person's, whatever its id); a file without ``people`` is person 0's."""
    if "people" not in data:
        if person != 0:
            raise Pose3dError(f"{path}: one person only (id 0); --person {person} is not in it")
        return data["frames"]
    for p in data["people"]:
        if int(p.get("id", -1)) == person:
            return p["frames"]
    raise Pose3dError(f"{path}: no person {person}; people in the file: "
                      + ", ".join(str(p.get("id")) for p in data["people"]))


def read_infer_output(path: str | Path, person: int = 0) -> InferResult:
    """Read an infer CSV (``frame[, person], time_s, detected, <joint>_x/_y/_z ...``) or JSON
    (``{"metadata", "frames"[, "people"]}``); ``person`` picks one person of a multi-person output (0 = the most
    prominent, the single-person layout)."""
    path = Path(path)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such file; give a CSV or JSON written by `pose3d infer`")
    ext = path.suffix.lower()
    if ext == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            names = tuple(data["metadata"]["joint_names"])
            frames = person_frames(data, person, path)
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
            raise Pose3dError(f"{path}: not a pose3d infer JSON ({type(e).__name__}: {e}); expected "
                              '{"metadata": {"joint_names": [...]}, "frames": [...]}') from None
        if not names:
            raise Pose3dError(f"{path}: its metadata names no joints (joint_names is empty); give a JSON written "
                              "by `pose3d infer`")
        if not frames:
            raise Pose3dError(f"{path}: holds no frames; give a `pose3d infer` output of a video with frames")
        T, J = len(frames), len(names)
        joints, conf = np.full((T, J, 3), np.nan), np.zeros((T, J))
        frame, time_s, detected = np.zeros(T, np.int64), np.full(T, np.nan), np.zeros(T, bool)
        with_files = isinstance(frames[0], dict) and "file" in frames[0]
        files = []
        root = np.full((T, 3), np.nan) if any(isinstance(f, dict) and "root_mm" in f for f in frames) else None
        for t, f in enumerate(frames):
            try:
                frame[t], time_s[t] = int(f["frame"]), float(f.get("time_s", np.nan))
                detected[t] = bool(f["detected"])
                if detected[t]:  # a detected frame holds its joints (NaN where unknown)
                    joints[t] = np.asarray(f["joints_3d"], dtype=np.float64).reshape(J, 3)
                    conf[t] = np.asarray(f.get("confidence", [1.0] * J), dtype=np.float64).reshape(J)
                    if root is not None and f.get("root_mm") is not None:
                        root[t] = np.asarray(f["root_mm"], dtype=np.float64).reshape(3)
                if with_files:
                    files.append(f["file"])
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise Pose3dError(f"{path}: frame entry {t} is malformed ({type(e).__name__}: {e}); give an "
                                  "unmodified `pose3d infer` JSON") from None
        return InferResult(frame, time_s, detected, joints, names, _skeleton_of(names), data["metadata"],
                           files if with_files else None, np.nan_to_num(conf, nan=0.0),
                           from_json_frames(data["metadata"].get("detector_point_names"), frames), root)
    if ext != ".csv":
        raise Pose3dError(f"{path}: cannot read {ext or 'a file without suffix'!r}; give a CSV or JSON written by `pose3d infer`")
    try:
        rows, lines = read_csv_rows(path)
    except (UnicodeDecodeError, csv.Error):
        raise Pose3dError(f"{path}: not a text CSV file; give a CSV or JSON written by `pose3d infer`") from None
    if not rows or [h for h in rows[0][:4] if h != "person"][:3] != ["frame", "time_s", "detected"]:
        raise Pose3dError(f"{path}: not a pose3d infer CSV (it must start with frame,[person,]time_s,detected)")
    header = rows[0]
    names = tuple(h[:-2] for h in header if h.endswith("_x") and f"{h[:-2]}_y" in header and f"{h[:-2]}_z" in header)
    if not names:
        raise Pose3dError(f"{path}: no <joint>_x,_y,_z columns; is this the 3D output of `pose3d infer`?")
    col = {h: i for i, h in enumerate(header)}
    cols = np.array([[col[f"{j}_{a}"] for a in "xyz"] for j in names])
    conf_cols = [col.get(f"{j}_conf") for j in names]  # None: the file has no confidence for that joint
    refuse_short_rows(path, header, rows[1:], lines[1:])
    if len(rows) < 2:
        raise Pose3dError(f"{path}: the CSV has a header but no frames; give a `pose3d infer` output of a video "
                          "with frames")
    body = person_rows(header, rows[1:], person, path)
    col_t, col_d = col["time_s"], col["detected"]
    line_of = {id(r): n for r, n in zip(rows, lines)}
    table, conf, frame, time_s = [], [], [], []
    for r in body:
        try:
            table.append([float(r[i]) if r[i] != "" else np.nan for i in cols.ravel()])
            conf.append([1.0 if i is None else float(r[i]) if r[i] != "" else 0.0 for i in conf_cols])
            frame.append(int(float(r[col["frame"]])))
            time_s.append(float(r[col_t]) if r[col_t] else np.nan)
        except ValueError as e:
            raise Pose3dError(f"{path}: line {line_of[id(r)]}: bad value ({e}); give an unmodified `pose3d infer` "
                              "CSV") from None
    table, frame, time_s = np.array(table, np.float64), np.array(frame, np.int64), np.array(time_s)
    detected = np.array([r[col_d].strip() in ("1", "True", "true") for r in body])
    joints = table.reshape(len(body), len(names), 3)
    joints[~detected] = np.nan
    conf = np.nan_to_num(np.array(conf, np.float64).reshape(len(body), len(names)), nan=0.0)
    conf[~detected] = 0.0
    files = [r[col["file"]] for r in body] if "file" in col else None
    root = None
    if all(c in col for c in ROOT_COLUMNS):
        try:
            root = np.array([[float(r[col[c]]) if r[col[c]] != "" else np.nan for c in ROOT_COLUMNS] for r in body])
        except ValueError as e:
            raise Pose3dError(f"{path}: bad root position value ({e}); give an unmodified `pose3d infer` CSV") from None
        root[~detected] = np.nan
    return InferResult(frame, time_s, detected, joints, names, _skeleton_of(names), files=files, confidence=conf,
                       root=root)
