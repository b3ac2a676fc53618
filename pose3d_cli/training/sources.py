"""Training sources: what ``pose3d train`` learns from, each with its kind and weight.

Kinds:
- ``pairs``: 2D/3D pairs (a pose3d HDF5 from ``pose3d synth``): its ``train`` split, 3D-supervised.
- ``2d``: 2D only, no 3D target. Either a pose3d HDF5 whose 3D is never read (its ``train`` split; the
  intrinsics are the file's cameras), or a 2D keypoint file/folder that :func:`pose3d_cli.detect.keypoint_files.read_keypoints`
  reads (OpenPose, COCO, MMPose, pose3d CSV), which then needs intrinsics: ``fov`` (degrees across the long
  side), ``focal`` (px) or ``calib`` (a calibration file, with ``camera``), and ``image_size`` when the file
  does not say it. A 2D source without intrinsics is refused: pixels cannot become viewing rays without them.
- ``image3d``: real detector 2D of calibrated synchronised views with a triangulated 3D target
  (training/image3d.py): ``path`` a ``pose3d triangulate`` reference npz, ``views`` one 2D file per camera,
  optional ``cameras`` (names, one per view) and ``frames`` (``START:STOP`` reference frames, e.g. a dev split),
  and ``det3d``: one ``pose3d infer --detector-3d --with-2d`` file per view (the detector's own 3D, the fused
  lifter's optional input; read only by a model that takes it).

A sources file (YAML or JSON) given as ``pose3d train sources.yaml -o m.pt``::

    sources:
      - {path: bandai1.h5, kind: pairs, weight: 1.0}
      - {path: site_2d.csv, kind: 2d, weight: 0.5, fov: 65}
      - {path: ref.npz, kind: image3d, weight: 1.0, views: [cam01.csv, cam02.csv], frames: "0:50"}
    val: held_out.h5        # pairs to validate on, their 'val' split (default: the 'val' split of every pairs source)
    prior: mocap_pairs.h5   # 3D poses the plausibility prior learns from (default: the pairs sources' targets)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import is_number, read_config
from ..errors import Pose3dError

KINDS = ("pairs", "2d", "image3d")
SOURCES_FILE_SUFFIXES = (".yaml", ".yml", ".json")  # a DATA argument with one of these is a sources file
SOURCE_KEYS = {"path", "kind", "weight", "fov", "focal", "calib", "camera", "image_size", "views", "cameras",
               "frames", "det3d"}
#: the keys each kind reads (a key of another kind is refused: it would be ignored without a word)
KIND_KEYS = {"pairs": {"path", "kind", "weight"},
             "2d": {"path", "kind", "weight", "fov", "focal", "calib", "camera", "image_size"},
             "image3d": {"path", "kind", "weight", "views", "cameras", "frames", "det3d"}}


@dataclass
class SourceSpec:
    path: str
    kind: str = "pairs"
    weight: float = 1.0
    fov: float | None = None
    focal: float | None = None
    calib: str | None = None
    camera: str | None = None
    image_size: tuple[int, int] | None = None
    views: list[str] | None = None  # image3d: one 2D file per camera
    cameras: list[str] | None = None  # image3d: the views' camera names (default: found in the file names)
    frames: str | None = None  # image3d: START:STOP reference frames kept
    det3d: list[str] | None = None  # image3d: the detector's 3D per view (infer --detector-3d --with-2d files)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def input_paths(self) -> list[str]:
        """Every file this source reads (its path, calibration and views): what training must never overwrite."""
        return [p for p in (self.path, self.calib, *(self.views or []), *(self.det3d or [])) if p]


def parse_source(entry: dict, where: str) -> SourceSpec:
    """One source entry (a dict) → :class:`SourceSpec`, with one-line errors naming ``where``."""
    if not isinstance(entry, dict) or "path" not in entry:
        raise Pose3dError(f"{where}: each source needs a 'path' (and 'kind': {', '.join(KINDS)})")
    unknown = set(entry) - SOURCE_KEYS
    if unknown:
        raise Pose3dError(f"{where}: source {entry['path']}: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(SOURCE_KEYS))}")
    kind = str(entry.get("kind", "pairs"))
    if kind not in KINDS:
        raise Pose3dError(f"{where}: source {entry['path']}: kind {kind!r} is not one of {', '.join(KINDS)}")
    foreign = set(entry) - KIND_KEYS[kind]
    if foreign:
        raise Pose3dError(f"{where}: source {entry['path']}: {', '.join(sorted(foreign))} do{'es' if len(foreign) == 1 else ''} "
                          f"not apply to a {kind} source (it reads {', '.join(sorted(KIND_KEYS[kind] - {'path', 'kind'}))}); "
                          "remove it, or give the right kind")
    given = [k for k in ("fov", "focal", "calib") if entry.get(k) is not None]
    if len(given) > 1:
        raise Pose3dError(f"{where}: source {entry['path']}: {' and '.join(given)} both give the intrinsics; give one "
                          "of fov, focal or calib")
    if isinstance(entry.get("weight"), bool):  # float(True) is 1.0: YAML's off/no/yes/on/true/false are booleans
        raise Pose3dError(f"{where}: source {entry['path']}: weight must be a number ≥ 0, got the boolean "
                          f"{entry['weight']!r} (YAML reads off, no, yes, on, true and false as booleans); give a "
                          "number, e.g. weight: 0 or weight: 1")
    try:
        weight = float(entry.get("weight", 1.0))
    except (TypeError, ValueError):
        raise Pose3dError(f"{where}: source {entry['path']}: weight must be a number") from None
    if not np.isfinite(weight) or weight < 0:
        raise Pose3dError(f"{where}: source {entry['path']}: weight must be ≥ 0, got {weight}")
    size = entry.get("image_size")
    if size is not None:
        parts = size.lower().split("x") if isinstance(size, str) else size
        try:
            size = tuple(int(v) for v in parts) if isinstance(parts, (list, tuple)) else None
        except (TypeError, ValueError):
            size = None
        if size is None or len(size) != 2 or min(size) <= 0:
            raise Pose3dError(f"{where}: source {entry['path']}: image_size must be WxH in pixels (e.g. 1920x1080 or "
                              f"[1920, 1080]), got {entry.get('image_size')!r}")
    optics = {}
    for key, low, high, unit in (("fov", 1.0, 179.0, "degrees across the long side"), ("focal", 1.0, None, "px")):
        v = entry.get(key)
        if v is not None:
            ok = is_number(v) and low <= v
            if not ok or (high is not None and v > high):
                raise Pose3dError(f"{where}: source {entry['path']}: {key} must be a number of {unit} in "
                                  f"[{low:g}, {'inf' if high is None else f'{high:g}'}], got {v!r}")
            v = float(v)
        optics[key] = v
    lists = {}
    for key in ("views", "cameras", "det3d"):
        v = entry.get(key)
        if v is not None and (not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v)):
            raise Pose3dError(f"{where}: source {entry['path']}: {key} must be a list of strings")
        lists[key] = [str(x) for x in v] if v is not None else None
    n_views = len(lists["views"] or [])
    if lists["cameras"] is not None and len(lists["cameras"]) != n_views:
        raise Pose3dError(f"{where}: source {entry['path']}: cameras names {len(lists['cameras'])} cameras for "
                          f"{n_views} views; one per view, in the views' order")
    if lists["det3d"] is not None and len(lists["det3d"]) != n_views:
        raise Pose3dError(f"{where}: source {entry['path']}: det3d lists {len(lists['det3d'])} files for "
                          f"{n_views} views; one `pose3d infer --detector-3d --with-2d` output per view")
    frames = entry.get("frames")
    if frames is not None:
        if not isinstance(frames, str):  # YAML 1.1 reads an unquoted 10:50 as the base-60 number 650
            raise Pose3dError(f"{where}: source {entry['path']}: frames must be quoted text START:STOP (e.g. "
                              f"frames: \"10:50\"; unquoted, YAML reads 10:50 as a number), got {frames!r}")
        from .image3d import parse_frame_range

        parse_frame_range(frames, f"{where}: source {entry['path']}")
    return SourceSpec(str(entry["path"]), kind, weight, optics["fov"], optics["focal"], entry.get("calib"),
                      entry.get("camera"), size, lists["views"], lists["cameras"],
                      None if frames is None else str(frames), lists["det3d"])


def read_sources_file(path: str | Path) -> dict:
    """A sources YAML/JSON → {"sources": [SourceSpec], "val": str | None, "prior": str | None}. Relative paths
    are taken from the file's folder."""
    path = Path(path)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such sources file")
    doc = read_config(path, "a sources list")
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list) or not doc["sources"]:
        raise Pose3dError(f"{path}: expected a 'sources:' list (each with path, kind, weight)")
    unknown = set(doc) - {"sources", "val", "prior"}
    if unknown:
        raise Pose3dError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: sources, val, prior")

    def rel(p):
        if p is None:
            return None
        p = Path(str(p))
        return str(p if p.is_absolute() else path.parent / p)

    specs = []
    for i, e in enumerate(doc["sources"]):
        s = parse_source(e, f"{path} (source {i + 1})")
        s.path = rel(s.path)
        if s.calib:
            s.calib = rel(s.calib)
        if s.views:
            s.views = [rel(v) for v in s.views]
        if s.det3d:
            s.det3d = [rel(v) for v in s.det3d]
        specs.append(s)
    return {"sources": specs, "val": rel(doc.get("val")), "prior": rel(doc.get("prior"))}


def sources_file_inputs(path: str | Path) -> list[str]:
    """Every file a sources YAML/JSON makes training read (sources, their calibrations and views, val, prior),
    validated on the way (one-line errors)."""
    doc = read_sources_file(path)
    return [p for s in doc["sources"] for p in s.input_paths()] + [p for p in (doc["val"], doc["prior"]) if p]


@dataclass
class Clips2D:
    """A 2D-only training set: xy (N, J, 2) normalised, conf (N, J), contiguous tracks at ``ranges``."""

    xy: "object"
    conf: "object"
    ranges: list[tuple[int, int]]
    weight: float
    name: str
    fps: float | None = None  # the tracks' frame rate (None: the file does not say)


def is_pairs_file(path: str | Path) -> bool:
    p = Path(path)
    return p.suffix.lower() in (".h5", ".hdf5")


def load_2d_source(spec: SourceSpec, skeleton, landmarks: str | None = None) -> Clips2D:
    """A ``2d`` source as normalised 2D tracks in ``skeleton``'s joints (see the module doc). ``landmarks``: a
    synthetic (pairs-file) source's 2D is moved to that detector's landmarks, as the pairs are in training; a
    detector's own 2D already is."""
    import torch

    from ..lifting.codec import pixels_to_network_input

    if is_pairs_file(spec.path):
        from ..dataset import load_pairs

        data = load_pairs(spec.path)
        if list(data.joint_names) != list(skeleton.joints):
            raise Pose3dError(f"{spec.path}: 2D source has skeleton {data.skeleton}, the model needs {skeleton.name}; "
                              "synthesise it for that skeleton")
        data = data.split("train")
        if len(data) == 0:
            raise Pose3dError(f"{spec.path}: 2D source has no 'train' split pairs")
        if not np.all(np.isfinite(data.K)) or np.any(data.K[:, 0, 0] <= 0):
            raise Pose3dError(f"{spec.path}: 2D source has no valid intrinsics (cameras/K); give a file with cameras")
        K = data.K[data.camera_index]
        dist = data.dist[data.camera_index] if np.any(data.dist) else None
        xy, conf = pixels_to_network_input(data.keypoints_2d, data.confidence, K, dist)
        if landmarks:
            from ..synth.landmarks import landmark_shift

            shift = landmark_shift(data.joints_3d, data.skeleton, landmarks)
            xy = np.where(conf[..., None] > 0, xy + shift, xy).astype(np.float32)
        ranges = data.sequence_ranges()
        fps = float(np.median(data.sequences["fps"])) if len(data.sequences["fps"]) else None
    else:
        from ..detect.keypoint_files import read_keypoints
        from ..skeleton import SkeletonError

        seq = read_keypoints(spec.path)
        if not (spec.fov or spec.focal or spec.calib):
            raise Pose3dError(f"{spec.path}: 2D-only source has no intrinsics; add fov: <degrees across the long "
                              "side>, focal: <px> or calib: <file> to its entry")
        size = spec.image_size or seq.image_size
        if size is None:
            raise Pose3dError(f"{spec.path}: image size unknown (the file does not say it); add image_size: WxH")
        try:
            seq = seq.to(skeleton)
        except (SkeletonError, Pose3dError) as e:
            raise Pose3dError(f"{spec.path}: 2D source of skeleton {seq.skeleton} cannot be converted to "
                              f"{skeleton.name} ({str(e)[:100]})") from None
        from ..infer.calibration import intrinsics_for

        intr = intrinsics_for(tuple(size), spec.fov, spec.focal, spec.calib, spec.camera, Path(spec.path).name)
        xy, conf = pixels_to_network_input(seq.xy, seq.confidence, intr.K, intr.dist)
        gaps = np.flatnonzero(np.diff(seq.frame_indices) != 1) + 1  # a gap in frame numbers cuts the track
        cuts = np.concatenate([[0], gaps, [len(seq)]])
        ranges = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        fps = seq.fps
    return Clips2D(torch.from_numpy(xy), torch.from_numpy(conf), ranges, spec.weight, spec.path, fps)
