"""Readers for 2D keypoints written by other detectors, so that no detector has to run.

:func:`read_keypoints` recognises the format from the path and its content:

- **OpenPose JSON folder**: a folder of ``*_keypoints.json`` files, one per frame (frame index = the
  number before ``_keypoints.json``), each ``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}]}``; a single
  such file is read as one frame. Layouts by joint count: BODY_25 (25), COCO-18 (18), and the layouts that
  Pose2Sim's RTMPose writes in the same JSON: COCO-17 (17), HALPE-26 (26), COCO-WholeBody (133).
- **COCO keypoint results JSON**: ``[{"image_id", "category_id", "keypoints": [x, y, s] * 17, "score"}]``
  (frame index = ``image_id``; the best ``score`` per image is kept); a COCO annotation file
  (``{"annotations": [...]}``, visibility flags 0/1/2 → confidence 0/1) is read the same way.
- **MMPose / RTMPose predictions JSON** (the inferencer's ``instance_info``):
  ``[{"frame_id", "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...]}]}]``, optionally
  wrapped as ``{"meta_info": {...}, "instance_info": [...]}``; COCO-17, HALPE-26 and COCO-WholeBody
  layouts (or any layout whose ``meta_info.keypoint_id2name`` names the 17 COCO joints).
- **pose3d CSV** (written by :func:`write_keypoints_csv`)::

      # skeleton: coco17          (optional comment lines "# key: value": skeleton, fps, image_size, source)
      # fps: 60
      # image_size: 1080x1920
      frame,nose_x,nose_y,nose_conf,left_eye_x,left_eye_y,left_eye_conf,...
      0,512.3,201.7,0.98,...

  one row per frame; columns ``<joint>_x``, ``<joint>_y``, ``<joint>_conf`` (pixels, confidence in [0, 1])
  for every joint of a registered skeleton (any column order); an empty cell means missing (confidence 0).
  Without a ``# skeleton:`` line the skeleton is the registered one whose joint names the columns hold.
- **pose3d infer's own outputs**: the CSV written with ``--with-2d`` (its ``<joint>_u/_v`` columns) and the JSON
  (each frame's ``keypoints_2d`` and ``confidence``, always written; its metadata gives the skeleton, fps and image
  size, so a JSON needs no ``--size`` where the CSV does); several people (a ``person`` column, a JSON ``people``
  list) keep their ids.

When a frame holds several people, the arrays hold the most prominent (bounding box of its joints × mean
confidence, :func:`pose3d_cli.detect.base.prominence`), except in COCO results (best ``score``), and
``KeypointSequence.people`` keeps all of them (for :mod:`pose3d_cli.infer.tracking`).
A frame that lists nobody is kept with confidence 0 (and xy 0) everywhere. Confidences are clipped to
[0, 1] (RTMPose's SimCC scores can exceed 1). OpenPose layouts, which the registry does not hold
(yet), are converted to ``coco17`` by joint name; :data:`OPENPOSE25` and :data:`OPENPOSE18` define them.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pose3d_cli.detect.base import DetectorError, Keypoints2D, prominence
from pose3d_cli.skeleton import COCO17, SKELETONS, Skeleton, SkeletonError, convert, get_skeleton

#: infer's output of a folder of photos read back as 2D: each photo had its own size and camera, and the photos are
#: no sequence (read as one, they were smoothed together at the first photo's intrinsics)
PHOTOS_RELIFT = ("{path}: pose3d infer's output of a folder of photos (each photo its own size and camera); its 2D "
                 "cannot be lifted again as one sequence: lift the photos themselves (pose3d infer FOLDER)")
ACCEPTED = ("accepted: an OpenPose JSON folder (*_keypoints.json), COCO keypoint results JSON, "
            "MMPose/RTMPose predictions JSON (instance_info), or a pose3d keypoints CSV")


def _skeleton(name: str, tree: list[tuple[str, str | None]]) -> Skeleton:
    names = {j for j, _ in tree}
    pairs = tuple((j, "right_" + j[5:]) for j, _ in tree if j.startswith("left_") and "right_" + j[5:] in names)
    return Skeleton(name, tuple(j for j, _ in tree), tuple(p for _, p in tree), pairs)


#: OpenPose BODY_25, joint names shared with the registry (``neck`` and ``mid_hip`` are OpenPose's own)
OPENPOSE25 = _skeleton("openpose25", [
    ("nose", "neck"), ("neck", "mid_hip"), ("right_shoulder", "neck"), ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"), ("left_shoulder", "neck"), ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"), ("mid_hip", None), ("right_hip", "mid_hip"), ("right_knee", "right_hip"),
    ("right_ankle", "right_knee"), ("left_hip", "mid_hip"), ("left_knee", "left_hip"),
    ("left_ankle", "left_knee"), ("right_eye", "nose"), ("left_eye", "nose"), ("right_ear", "right_eye"),
    ("left_ear", "left_eye"), ("left_big_toe", "left_ankle"), ("left_small_toe", "left_ankle"),
    ("left_heel", "left_ankle"), ("right_big_toe", "right_ankle"), ("right_small_toe", "right_ankle"),
    ("right_heel", "right_ankle"),
])

#: OpenPose COCO-18 (the COCO 17 with a ``neck``, in OpenPose's order)
OPENPOSE18 = _skeleton("openpose18", [
    ("nose", "neck"), ("neck", None), ("right_shoulder", "neck"), ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"), ("left_shoulder", "neck"), ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"), ("right_hip", "neck"), ("right_knee", "right_hip"),
    ("right_ankle", "right_knee"), ("left_hip", "neck"), ("left_knee", "left_hip"),
    ("left_ankle", "left_knee"), ("right_eye", "nose"), ("left_eye", "nose"), ("right_ear", "right_eye"),
    ("left_ear", "left_eye"),
])

#: joint count → layout, for OpenPose-style JSON; HALPE-26 and COCO-WholeBody start with the COCO 17
_OPENPOSE_LAYOUTS: dict[int, Skeleton] = {25: OPENPOSE25, 18: OPENPOSE18, 17: COCO17, 26: COCO17, 133: COCO17}
_COCO_PREFIX_SIZES = (17, 26, 133)

#: one person: (J, 2) xy, (J,) confidence, and an optional score of the whole person
Person = tuple[np.ndarray, np.ndarray, float | None]


@dataclass
class KeypointSequence:
    """2D keypoints of one person over a sequence of frames.

    Attributes:
        xy: (T, J, 2) float32 pixels, x right, y down.
        confidence: (T, J) float32 in [0, 1]; 0 = missing.
        skeleton: registry name of the joint order.
        frame_indices: (T,) int64 frame number of each row (increasing; may have gaps).
        fps: frame rate, when the source says it.
        image_size: (width, height) in pixels, when the source says it.
        source: where the keypoints came from (a path or a description).
        people: per row, every person the file lists in that frame ((J, 2) xy, (J,) confidence each, in
            ``skeleton``); the arrays above hold the most prominent one. None for sources of one person.
        person_ids: per row, the id of each entry of ``people`` when the file names its people (a CSV with a
            ``person`` column, e.g. pose3d infer's own multi-person output): kept as they are, not re-tracked;
            the arrays above then hold the lowest id of the row (pose3d's id 0 is the most prominent person).
    """

    xy: np.ndarray
    confidence: np.ndarray
    skeleton: str
    frame_indices: np.ndarray
    fps: float | None = None
    image_size: tuple[int, int] | None = None
    source: str = field(default="")
    people: list[list[tuple[np.ndarray, np.ndarray]]] | None = None
    person_ids: list[list[int]] | None = None

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        self.frame_indices = np.asarray(self.frame_indices, dtype=np.int64)
        t, j = len(self.frame_indices), get_skeleton(self.skeleton).num_joints
        if self.xy.shape != (t, j, 2) or self.confidence.shape != (t, j):
            raise DetectorError(f"{self.skeleton} sequence of {t} frames needs xy ({t}, {j}, 2) and "
                                f"confidence ({t}, {j}), got {self.xy.shape} and {self.confidence.shape}")

    def __len__(self) -> int:
        return len(self.frame_indices)

    def __getitem__(self, t: int) -> Keypoints2D:
        """Row ``t`` (not frame number ``t``) as :class:`Keypoints2D`."""
        return Keypoints2D(self.xy[t], self.confidence[t], self.skeleton)

    def to(self, skeleton: str | Skeleton) -> KeypointSequence:
        """The same sequence in another registered skeleton (by joint name)."""
        dst = get_skeleton(skeleton)
        xy, conf = convert(self.xy, self.skeleton, dst, self.confidence)
        return KeypointSequence(xy, conf, dst.name, self.frame_indices, self.fps, self.image_size, self.source)


def read_keypoints(path: str | Path) -> KeypointSequence:
    """Read 2D keypoints of the most prominent person per frame from a file or folder (see module doc).

    Raises:
        DetectorError: one line: the path, what is wrong, and which formats are accepted.
    """
    path = Path(path)
    if not path.exists():
        raise DetectorError(f"{path}: no such file or folder; {ACCEPTED}")
    if path.is_dir():
        return _read_openpose_folder(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    if path.suffix.lower() == ".json":
        return _read_json(path, _load_json(path))
    raise DetectorError(f"{path}: unknown file type {path.suffix or '(no suffix)'!r}; {ACCEPTED}")


# ---------------------------------------------------------------------------------------------- JSON


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DetectorError(f"{path}: not valid JSON ({e}); {ACCEPTED}") from None


def _read_json(path: Path, data: Any) -> KeypointSequence:
    """Dispatch one JSON document on its shape."""
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    if isinstance(data, dict) and "metadata" in data and "frames" in data:  # before "people": infer's own JSON
        return _read_pose3d_json(path, data)
    if isinstance(data, dict) and "people" in data:
        return _read_openpose_files([path])
    if isinstance(data, dict) and "instance_info" in data:
        return _read_mmpose(path, data["instance_info"], data.get("meta_info") or {})
    if isinstance(data, dict) and "annotations" in data:
        return _read_coco(path, data["annotations"], data.get("images"))
    if "instances" in first:
        return _read_mmpose(path, data, {})
    if "keypoints" in first and "image_id" in first:
        return _read_coco(path, data)
    if "keypoints" in first and "keypoint_scores" in first:
        return _read_mmpose(path, [{"frame_id": 0, "instances": data}], {})
    raise DetectorError(f"{path}: {_describe(data)} is no known 2D keypoint format; {ACCEPTED}")


def _read_pose3d_json(path: Path, data: dict) -> KeypointSequence:
    """pose3d infer's JSON (``{"metadata", "frames"[, "people"]}``) read back as its 2D input; its people and their
    frames as :func:`pose3d_cli.infer.readers.person_frames` (the infer outputs' reader) finds them."""
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.infer.readers import person_frames

    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    try:
        sk = get_skeleton(str(meta.get("skeleton")))
        ids = [int(p["id"]) for p in data["people"]] if isinstance(data.get("people"), list) else [0]
        groups = [(pid, person_frames(data, pid, path)) for pid in ids]
    except (KeyError, TypeError, ValueError, Pose3dError) as e:
        raise DetectorError(f"{path}: a pose3d infer JSON with an unreadable skeleton or people ({e}); write it "
                            "again with `pose3d infer --with-2d`") from None
    rows = [(pid, f) for pid, frames in groups for f in (frames or []) if isinstance(f, dict)]
    if any("file" in f and "image_size" in f for _, f in rows):
        raise DetectorError(PHOTOS_RELIFT.format(path=path))
    if not any(f.get("detected") for _, f in rows):
        raise DetectorError(f"{path}: no frame has a detected person; nothing to read as 2D (infer found nobody in "
                            "the footage)")
    if not any("keypoints_2d" in f for _, f in rows):
        raise DetectorError(f"{path}: a pose3d 3D result without its 2D; write it with `pose3d infer --with-2d` to "
                            "read it back as 2D keypoints")
    J = sk.num_joints
    xy, conf = np.zeros((len(rows), J, 2), np.float32), np.zeros((len(rows), J), np.float32)
    frames, ids = np.zeros(len(rows), np.int64), np.zeros(len(rows), np.int64)
    try:
        for k, (pid, f) in enumerate(rows):
            frames[k], ids[k] = int(f["frame"]), pid
            if not f.get("detected") or f.get("keypoints_2d") is None:
                continue
            uv = np.array([[np.nan, np.nan] if p is None else p for p in f["keypoints_2d"]], np.float64)
            c = np.array([0.0 if v is None else v for v in f.get("confidence") or [1.0] * J], np.float64)
            ok = np.isfinite(uv).all(-1) & np.isfinite(c)
            xy[k] = np.where(ok[:, None], uv, 0.0)
            conf[k] = np.where(ok, np.clip(c, 0.0, 1.0), 0.0)
    except (KeyError, TypeError, ValueError) as e:
        raise DetectorError(f"{path}: frame {k}: unreadable 2D ({type(e).__name__}: {e}); write it again with "
                            "`pose3d infer --with-2d`") from None
    size = meta.get("image_size")
    size = (int(size[0]), int(size[1])) if isinstance(size, (list, tuple)) and len(size) == 2 else None
    fps = float(meta["fps"]) if isinstance(meta.get("fps"), (int, float)) and meta["fps"] > 0 else None
    source = str(meta.get("input") or path)
    if len(groups) == 1:
        return KeypointSequence(xy, conf, sk.name, frames, fps, size, source)
    return _by_person_column(path, xy, conf, frames, ids, sk.name, fps, size, source)


def _describe(data: Any) -> str:
    """A few words on what a JSON document is, for error messages."""
    if isinstance(data, dict):
        return f"a JSON object with keys {sorted(data)[:6]}"
    if isinstance(data, list) and data:
        first = data[0]
        keys = f" with keys {sorted(first)[:6]}" if isinstance(first, dict) else ""
        return f"a JSON list of {type(first).__name__}{keys}"
    return "an empty JSON list" if isinstance(data, list) else f"a JSON {type(data).__name__}"


def _read_openpose_folder(folder: Path) -> KeypointSequence:
    files = list(folder.glob("*_keypoints.json"))
    if not files:
        raise DetectorError(f"{folder}: folder holds no *_keypoints.json files; {ACCEPTED}")
    return _read_openpose_files(files, source=str(folder))


def _openpose_frame_index(path: Path) -> int | None:
    m = re.search(r"(\d+)_keypoints\.json$", path.name)
    return int(m.group(1)) if m else None


def _read_openpose_files(files: list[Path], source: str | None = None) -> KeypointSequence:
    """OpenPose per-frame JSON files → sequence (frames ordered by the number in the file name)."""
    numbers = [_openpose_frame_index(f) for f in files]
    if None not in numbers and len(set(numbers)) != len(numbers):
        stems = sorted({re.sub(r"\d+_keypoints\.json$", "", f.name) for f in files})
        if len(stems) > 1:
            raise DetectorError(f"{source or files[0]}: holds {len(stems)} sequences ({', '.join(s + '*' for s in stems[:3])}"
                                f"{' ...' if len(stems) > 3 else ''}) numbered alike; give one folder per video")
    if any(n is None for n in numbers) or len(set(numbers)) != len(numbers):
        order = sorted(range(len(files)), key=lambda i: files[i].name)
        for rank, i in enumerate(order):  # frame numbers by the names' order (not the folder listing's)
            numbers[i] = rank
    else:
        order = sorted(range(len(files)), key=lambda i: numbers[i])
    frames = []
    for i in order:
        data = _load_json(files[i])
        if not isinstance(data, dict) or not isinstance(data.get("people"), list):
            raise DetectorError(f"{files[i]}: OpenPose JSON needs a 'people' list; {ACCEPTED}")
        frames.append((numbers[i], [_openpose_person(files[i], p) for p in data["people"]]))
    sizes = {len(c) for _, people in frames for _, c, _ in people}
    if len(sizes) > 1:
        raise DetectorError(f"{source or files[0]}: people with different joint counts {sorted(sizes)}; {ACCEPTED}")
    if not sizes:
        raise DetectorError(f"{source or files[0]}: holds no person keypoints; {ACCEPTED}")
    n = sizes.pop()
    if n not in _OPENPOSE_LAYOUTS:
        raise DetectorError(f"{source or files[0]}: pose_keypoints_2d holds {n} joints, not one of "
                            f"{sorted(_OPENPOSE_LAYOUTS)} (BODY_25, COCO-18, COCO-17, HALPE-26, WholeBody)")
    frames = [(f, [_coco_prefix(p) if n in (26, 133) else p for p in people]) for f, people in frames]
    return _assemble(frames, _OPENPOSE_LAYOUTS[n], source or str(files[0]))


def _openpose_person(path: Path, person: Any) -> Person:
    flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
    if not isinstance(flat, list) or len(flat) % 3:
        raise DetectorError(f"{path}: a person lacks a pose_keypoints_2d list of x, y, c triples; {ACCEPTED}")
    try:
        arr = np.asarray(flat, dtype=np.float32).reshape(-1, 3)
    except (TypeError, ValueError) as e:
        raise DetectorError(f"{path}: unreadable pose_keypoints_2d ({e}); {ACCEPTED}") from None
    return arr[:, :2], arr[:, 2], None


def _read_coco(path: Path, entries: Any, images: Any = None) -> KeypointSequence:
    """COCO results (or annotations): best-scoring person per image_id. An annotation file's ``images`` give the
    image size (one size for all: a file of images of several sizes is refused, infer lifts one camera's frames);
    an ``image_id`` that is a file name (AlphaPose: ``"0.jpg"``) is numbered by the number in it, else by order of
    first appearance."""
    from dataclasses import replace

    ids: dict[Any, int] = {}

    def frame_of(k: int, image_id: Any) -> int:
        if isinstance(image_id, bool) or image_id is None:
            raise DetectorError(f"{path}: entry {k}: image_id {image_id!r} is not an id; {ACCEPTED}")
        if isinstance(image_id, (int, float)) and float(image_id).is_integer():
            return int(image_id)
        if isinstance(image_id, str):
            m = re.fullmatch(r"\D*?(\d+)(\.\w+)?", image_id.strip())
            return int(m.group(1)) if m else ids.setdefault(image_id, len(ids))
        raise DetectorError(f"{path}: entry {k}: image_id {image_id!r} is not an id; {ACCEPTED}")

    by_image: dict[int, list[Person]] = {}
    for k, e in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(e, dict) or "keypoints" not in e or "image_id" not in e:
            raise DetectorError(f"{path}: COCO entries need 'image_id' and 'keypoints'; {ACCEPTED}")
        if e.get("category_id", 1) != 1:
            continue
        try:
            kp = np.asarray(e["keypoints"], dtype=np.float32)
            score = None if e.get("score") is None else float(e["score"])
        except (TypeError, ValueError) as err:
            raise DetectorError(f"{path}: entry {k}: unreadable keypoints or score ({err}); {ACCEPTED}") from None
        if kp.size == 0 and e.get("num_keypoints", 1) == 0:
            continue  # an annotation without keypoints (a crowd, a small person)
        if kp.ndim != 1 or kp.size % 3 or kp.size // 3 not in _COCO_PREFIX_SIZES:
            raise DetectorError(f"{path}: COCO 'keypoints' of {kp.size} values is not 3 × 17 (or 3 × 26, 3 × 133)")
        kp = kp.reshape(-1, 3)[:17]
        flags = np.isin(kp[:, 2], (0, 1, 2)).all() and kp[:, 2].max() == 2
        conf = (kp[:, 2] > 0).astype(np.float32) if flags else kp[:, 2]
        by_image.setdefault(frame_of(k, e["image_id"]), []).append((kp[:, :2], conf, score))
    frames = sorted(by_image.items())
    seq = _assemble(frames, COCO17, str(path), by_score=True)
    sizes = set()
    for im in images if isinstance(images, list) else []:
        if isinstance(im, dict) and isinstance(im.get("width"), (int, float)) and isinstance(im.get("height"), (int, float)):
            sizes.add((int(im["width"]), int(im["height"])))
    if len(sizes) > 1:
        raise DetectorError(f"{path}: its images come in {len(sizes)} sizes ({', '.join(f'{w}x{h}' for w, h in sorted(sizes)[:3])}"
                            f"{' ...' if len(sizes) > 3 else ''}); infer lifts one camera's frames: split the file by "
                            "image size (or lift the photos themselves, pose3d infer FOLDER)")
    if sizes and min(next(iter(sizes))) > 0:
        seq = replace(seq, image_size=next(iter(sizes)))
    return seq


def _read_mmpose(path: Path, frames_in: Any, meta: dict) -> KeypointSequence:
    """MMPose inferencer predictions (instance_info) → sequence."""
    if not isinstance(frames_in, list):
        raise DetectorError(f"{path}: MMPose 'instance_info' must be a list of frames; {ACCEPTED}")
    names = _mmpose_names(path, meta)
    frames = []
    for t, fr in enumerate(frames_in):
        if not isinstance(fr, dict) or not isinstance(fr.get("instances"), list):
            raise DetectorError(f"{path}: MMPose frames need an 'instances' list; {ACCEPTED}")
        people = [_mmpose_person(path, inst, names) for inst in fr["instances"]]
        try:
            number = int(fr.get("frame_id", t))
        except (TypeError, ValueError):
            raise DetectorError(f"{path}: frame {t}: frame_id {fr.get('frame_id')!r} is not a whole number; "
                                f"{ACCEPTED}") from None
        frames.append((number, people))
    return _assemble(frames, COCO17, str(path))


def _mmpose_names(path: Path, meta: dict) -> list[str] | None:
    id2name = meta.get("keypoint_id2name") if isinstance(meta, dict) else None
    if not isinstance(id2name, dict):
        return None
    try:
        return [id2name[k] for k in sorted(id2name, key=int)]
    except (TypeError, ValueError):
        raise DetectorError(f"{path}: meta_info.keypoint_id2name maps keypoint numbers to names; its keys "
                            f"{sorted(map(str, id2name))[:3]} are not numbers") from None


def _mmpose_person(path: Path, inst: Any, names: list[str] | None) -> Person:
    try:
        xy = np.asarray(inst["keypoints"], dtype=np.float32).reshape(-1, 2)
        conf = np.asarray(inst["keypoint_scores"], dtype=np.float32).reshape(-1)
    except (KeyError, TypeError, ValueError):
        raise DetectorError(f"{path}: MMPose instances need 'keypoints' [[x, y], ...] and "
                            f"'keypoint_scores'; {ACCEPTED}") from None
    if len(conf) != len(xy):
        raise DetectorError(f"{path}: MMPose instance has {len(xy)} keypoints but {len(conf)} scores")
    if names is not None and len(names) == len(xy) and set(COCO17.joints) <= set(names):
        idx = [names.index(j) for j in COCO17.joints]
        return xy[idx], conf[idx], None
    if len(xy) not in _COCO_PREFIX_SIZES:
        raise DetectorError(f"{path}: MMPose instances of {len(xy)} keypoints: only COCO-17, HALPE-26 and "
                            f"COCO-WholeBody (133) layouts are known (or meta_info naming the COCO joints)")
    return _coco_prefix((xy, conf, None))


def _coco_prefix(person: Person) -> Person:
    """The COCO-17 body joints that HALPE-26 and COCO-WholeBody start with."""
    xy, conf, score = person
    return xy[:17], conf[:17], score


# ----------------------------------------------------------------------------------------------- CSV


def _read_csv(path: Path) -> KeypointSequence:
    from pose3d_cli.infer.readers import refuse_short_rows

    meta, rows, lines = _csv_meta_and_rows(path)
    if not rows or not rows[0] or rows[0][0].strip() != "frame":
        raise DetectorError(f"{path}: CSV must start with a 'frame' column header; {ACCEPTED}")
    kept = [k for k in range(1, len(rows)) if any(c.strip() for c in rows[k])]
    header, body = [h.strip() for h in rows[0]], [rows[k] for k in kept]
    refuse_short_rows(path, header, body, [lines[k] for k in kept], error=DetectorError)
    if not body:
        raise DetectorError(f"{path}: the CSV has a header but no frames; give a keypoint file with at least one "
                            "frame")
    # pose3d infer's own CSV: 3D in <joint>_x/_y/_z, the 2D input (--with-2d) in <joint>_u/_v
    own = any(h.endswith("_z") for h in header) and any(h.endswith("_u") for h in header)
    if any(h.endswith("_z") for h in header) and not own:
        raise DetectorError(f"{path}: a pose3d 3D result without its 2D columns; write it with `pose3d infer "
                            "--with-2d` to read it back as 2D keypoints")
    if own and {"file", "width", "height"} <= set(header):
        raise DetectorError(PHOTOS_RELIFT.format(path=path))
    q2d = ("u", "v", "conf") if own else ("x", "y", "conf")
    skeleton = _csv_skeleton(path, header, meta.get("skeleton"), q2d)
    col = {h: i for i, h in enumerate(header)}
    cols = [[col[f"{j}_{q}"] for q in q2d] for j in skeleton.joints]  # (J, 3)
    try:
        frames = np.array([int(float(r[0])) for r in body], dtype=np.int64)
        table = np.array([[[_cell(r, c) for c in jc] for jc in cols] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as e:
        raise DetectorError(f"{path}: bad CSV value ({e}); {ACCEPTED}") from None
    table = table.reshape(len(body), skeleton.num_joints, 3)
    missing = ~np.isfinite(table).all(axis=-1)  # empty, NaN or ±inf: missing
    conf = np.where(missing, 0.0, np.clip(table[..., 2], 0.0, 1.0)).astype(np.float32)
    xy = np.where(missing[..., None], 0.0, table[..., :2]).astype(np.float32)
    fps, size, source = _meta_fps(path, meta), _meta_size(path, meta), meta.get("source") or str(path)
    if fps is None and "time_s" in col:  # infer's own CSV says its times, not its rate
        fps = _fps_from_times(path, body, col["time_s"], frames)
    if "person" not in col:
        order = np.argsort(frames, kind="stable")
        frames, xy, conf = frames[order], xy[order], conf[order]
        _refuse_repeated_frames(path, frames, "in more than one row",
                                "one row per frame (several people need a 'person' column)")
        return KeypointSequence(xy, conf, skeleton.name, frames, fps, size, source)
    try:
        ids = np.array([int(float(r[col["person"]])) for r in body], dtype=np.int64)
    except (ValueError, IndexError) as e:
        raise DetectorError(f"{path}: bad person id ({e}); the 'person' column holds integer ids") from None
    return _by_person_column(path, xy, conf, frames, ids, skeleton.name, fps, size, source)


def _by_person_column(path: Path, xy: np.ndarray, conf: np.ndarray, frames: np.ndarray, ids: np.ndarray,
                      skeleton: str, fps: float | None, size: tuple[int, int] | None, source: str) -> KeypointSequence:
    """Rows of (frame, person) → one row per frame with every person found in it, ids kept.

    Args:
        xy: (N, J, 2); conf: (N, J); frames, ids: (N,) the frame number and person id of each CSV row.
    """
    pairs = set(zip(frames.tolist(), ids.tolist()))
    if len(pairs) < len(frames):
        raise DetectorError(f"{path}: the same frame and person appear in more than one row; one row per person "
                            "and frame")
    unique = np.unique(frames)
    row = np.searchsorted(unique, frames)
    people: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in unique]
    person_ids: list[list[int]] = [[] for _ in unique]
    for k in np.lexsort((ids, frames)):  # by frame, then id
        if conf[k].any():
            people[row[k]].append((xy[k], conf[k]))
            person_ids[row[k]].append(int(ids[k]))
    J = xy.shape[1]
    first_xy, first_conf = np.zeros((len(unique), J, 2), np.float32), np.zeros((len(unique), J), np.float32)
    for t, ps in enumerate(people):
        if ps:
            first_xy[t], first_conf[t] = ps[0]
    return KeypointSequence(first_xy, first_conf, skeleton, unique, fps, size, source, people, person_ids)


def _csv_meta_and_rows(path: Path) -> tuple[dict[str, str], list[list[str]], list[int]]:
    """Leading ``# key: value`` comment lines, the CSV rows after them, and the line of the file (1-based) on
    which each row ends."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise DetectorError(f"{path}: not a text CSV file; {ACCEPTED}") from None
    meta = {}
    skipped = 0
    while lines and lines[0].lstrip().startswith("#"):
        key, sep, value = lines.pop(0).lstrip()[1:].partition(":")
        skipped += 1
        if sep:
            meta[key.strip().lower()] = value.strip()
    rows, numbers = [], []
    reader = csv.reader(lines)
    try:
        for r in reader:
            rows.append(r)
            numbers.append(skipped + reader.line_num)
    except csv.Error as e:
        raise DetectorError(f"{path}: line {skipped + reader.line_num}: not a readable CSV row ({e}); "
                            f"{ACCEPTED}") from None
    return meta, rows, numbers


def _csv_skeleton(path: Path, header: list[str], name: str | None,
                  q2d: tuple[str, ...] = ("x", "y", "conf")) -> Skeleton:
    """The skeleton that the CSV's ``<joint>_x/_y/_conf`` (or ``_u/_v/_conf``) columns describe."""
    joints = {h.rsplit("_", 1)[0] for h in header[1:] if h.rsplit("_", 1)[-1] in q2d and h != "low_conf"}
    try:
        candidates = [get_skeleton(name)] if name else [s for s in SKELETONS.values() if set(s.joints) == joints]
    except SkeletonError as e:
        raise DetectorError(f"{path}: {e}") from None
    if not candidates:
        raise DetectorError(f"{path}: CSV columns name no registered skeleton's joints (known: "
                            f"{', '.join(SKELETONS)}); expected frame,<joint>_x,<joint>_y,<joint>_conf,...")
    skeleton = candidates[0]
    need = [f"{j}_{q}" for j in skeleton.joints for q in q2d]
    lacking = [c for c in need if c not in header]
    if lacking:
        raise DetectorError(f"{path}: CSV for {skeleton.name} lacks columns {', '.join(lacking[:4])}"
                            f"{' ...' if len(lacking) > 4 else ''}")
    return skeleton


def _cell(row: list[str], i: int) -> float:
    text = row[i].strip() if i < len(row) else ""
    return float(text) if text else float("nan")


def _meta_fps(path: Path, meta: dict[str, str]) -> float | None:
    try:
        fps = float(meta["fps"]) if meta.get("fps") else None
    except ValueError:
        fps = float("nan")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise DetectorError(f"{path}: '# fps:' must be a positive number of frames per second, not {meta['fps']!r}")
    return fps


def _fps_from_times(path: Path, body: list[list[str]], column: int, frames: np.ndarray) -> float | None:
    """The frame rate that a ``time_s`` column (pose3d infer's CSV) gives: the median of frame steps over time
    steps; None where the times do not say (one frame, empty cells)."""
    try:
        t = np.array([_cell(r, column) for r in body], np.float64)
    except ValueError:
        raise DetectorError(f"{path}: bad time_s value; the column holds seconds") from None
    order = np.argsort(frames, kind="stable")
    dt, df = np.diff(t[order]), np.diff(frames[order]).astype(np.float64)
    ok = np.isfinite(dt) & (dt > 0) & (df > 0)
    return float(np.median(df[ok] / dt[ok])) if ok.any() else None


def _meta_size(path: Path, meta: dict[str, str]) -> tuple[int, int] | None:
    if not meta.get("image_size"):
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[x,× ]\s*(\d+)\s*", meta["image_size"])
    if not m:
        raise DetectorError(f"{path}: '# image_size:' must be WIDTHxHEIGHT, not {meta['image_size']!r}")
    if min(int(m.group(1)), int(m.group(2))) <= 0:
        raise DetectorError(f"{path}: '# image_size:' {meta['image_size']!r} has a zero side; give the frames' "
                            "WIDTHxHEIGHT in pixels")
    return int(m.group(1)), int(m.group(2))


def write_keypoints_csv(seq: KeypointSequence, path: str | Path) -> None:
    """Write ``seq`` in the pose3d CSV format (see module doc); missing joints (confidence 0) as empty cells."""
    skeleton = get_skeleton(seq.skeleton)
    lines = [f"# skeleton: {skeleton.name}"]
    if seq.fps is not None:
        lines.append(f"# fps: {seq.fps:g}")
    if seq.image_size is not None:
        lines.append(f"# image_size: {seq.image_size[0]}x{seq.image_size[1]}")
    if seq.source:
        lines.append(f"# source: {' '.join(seq.source.split())}")
    header = ["frame"] + [f"{j}_{q}" for j in skeleton.joints for q in ("x", "y", "conf")]
    lines.append(",".join(header))
    for f, xy, conf in zip(seq.frame_indices, seq.xy, seq.confidence):
        cells = [str(int(f))]
        for (x, y), c in zip(xy, conf):
            cells += [f"{x:.3f}", f"{y:.3f}", f"{c:.4f}"] if c > 0 else ["", "", ""]
        lines.append(",".join(cells))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------- assembly


def _assemble(frames: list[tuple[int, list[Person]]], layout: Skeleton, source: str,
              by_score: bool = False) -> KeypointSequence:
    """Keep one person per frame and stack; layouts the registry lacks are converted to ``coco17``.

    Args:
        frames: (frame index, people) per frame; each person (J, 2) xy, (J,) confidence, optional score.
        layout: the people's joint order.
        by_score: keep the person with the best score (else the most prominent, see module doc).
    """
    if not any(people for _, people in frames):
        raise DetectorError(f"{source}: holds no person keypoints; {ACCEPTED}")
    frames = sorted(frames, key=lambda f: f[0])  # stable: the file's order within a frame number
    _refuse_repeated_frames(source, np.array([f for f, _ in frames]), "more than once",
                            "one entry per frame (several people go in one frame's list)")
    frames = [(f, [_finite_person(p) for p in ps]) for f, ps in frames]
    j = layout.num_joints
    xy = np.zeros((len(frames), j, 2), np.float32)
    conf = np.zeros((len(frames), j), np.float32)
    for t, (_, people) in enumerate(frames):
        if people:
            xy[t], c, _ = _pick(people, by_score)
            conf[t] = np.clip(np.nan_to_num(c), 0.0, 1.0)
    xy = np.nan_to_num(xy)
    indices = np.array([f for f, _ in frames], dtype=np.int64)
    people = [[(np.nan_to_num(np.asarray(p[0], np.float32)), np.clip(np.nan_to_num(p[1]), 0.0, 1.0).astype(np.float32))
               for p in ps] for _, ps in frames]
    if SKELETONS.get(layout.name) is not layout:
        xy, conf = convert(xy, layout, COCO17, conf)
        people = [[convert(pxy, layout, COCO17, pc) for pxy, pc in ps] for ps in people]
        layout = COCO17
    return KeypointSequence(xy, conf, layout.name, indices, source=source, people=people)


def _refuse_repeated_frames(source, numbers: np.ndarray, how: str, hint: str) -> None:
    """One line naming the first frame number that ``numbers`` (sorted) repeats, and how many others repeat."""
    repeated = np.unique(numbers[1:][np.diff(numbers) == 0]) if len(numbers) > 1 else numbers[:0]
    if len(repeated):
        more = f" (and {len(repeated) - 1} more)" if len(repeated) > 1 else ""
        raise DetectorError(f"{source}: frame {int(repeated[0])} appears {how}{more}; {hint}")


def _finite_person(person: Person) -> Person:
    """A point with a non-finite coordinate or confidence (NaN, ±inf) is missing: confidence 0, xy 0."""
    xy, c, score = person
    xy, c = np.asarray(xy, np.float32), np.asarray(c, np.float32)
    ok = np.isfinite(xy).all(-1) & np.isfinite(c)
    return np.where(ok[:, None], xy, 0.0), np.where(ok, c, 0.0), score


def _pick(people: list[Person], by_score: bool) -> Person:
    """The best-scoring person (when asked and scores exist), else the most prominent."""
    def key(p: Person) -> tuple[float, float]:
        xy, c, score = p
        clipped = np.clip(np.nan_to_num(c), 0.0, 1.0)
        return (float(score) if by_score and score is not None else 0.0, prominence(xy, clipped))
    return max(people, key=key)
