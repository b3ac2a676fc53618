"""The pose3d HDF5 dataset of 2D/3D pairs: schema, writer, reader, splits and windows (h5py).

Schema ``pose3d-pairs`` version 1. N samples, J joints, C cameras, S sequences::

    /                      attrs: schema, schema_version, pose3d_version, skeleton, joint_names (J,),
                                  synth_params (JSON), seed, created
    keypoints_2d           (N, J, 2) float32  pixels, detector-like (0 where confidence is 0; --clean: the exact
                                              projection everywhere, off-image joints too)
    confidence             (N, J)    float32  [0, 1]; 0 = missing
    joints_3d              (N, J, 3) float32  camera frame, mm (x right, y down, z forward); not root-relative
    cam_from_world_R       (N, 3, 3) float32  extrinsics of the frame's camera (world Z up, mm)
    cam_from_world_t       (N, 3)    float32  mm
    camera_index           (N,)      int32    row of /cameras
    sequence_index         (N,)      int32    row of /sequences
    frame_index            (N,)      int32    frame within the sequence (0..length-1)
    cameras/K              (C, 3, 3) float64  intrinsics, pixels
    cameras/dist           (C, 5)    float64  OpenCV k1 k2 p1 p2 k3
    cameras/image_size     (C, 2)    int32    width, height
    sequences/start        (S,)      int64    first sample of the sequence (sequences are contiguous)
    sequences/length       (S,)      int64
    sequences/source       (S,)      str      mocap file (and segment)
    sequences/subject      (S,)      str
    sequences/fps          (S,)      float32
    sequences/view         (S,)      int32    camera number for this motion (0..views-1)
    sequences/split        (S,)      str      train | val | test, by subject or by file, never by frame
                                              (a stable function of the file's bytes: pose3d_cli/splits.py)

Keypoint arrays are chunked (4096 rows); compression is optional (training loads the arrays into RAM).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import Pose3dError

from . import __version__

SCHEMA = "pose3d-pairs"
SCHEMA_VERSION = 1
CHUNK_ROWS = 4096
SPLITS = ("train", "val", "test")

_PER_SAMPLE = {
    "keypoints_2d": ("f4", (2,)),
    "confidence": ("f4", ()),
    "joints_3d": ("f4", (3,)),
    "cam_from_world_R": ("f4", (3, 3)),
    "cam_from_world_t": ("f4", (3,)),
    "camera_index": ("i4", None),
    "sequence_index": ("i4", None),
    "frame_index": ("i4", None),
}


class DatasetError(Pose3dError, ValueError):
    """A dataset file is missing, damaged or of another kind."""


@dataclass
class SequenceBlock:
    """One motion seen by one camera: the rows to append.

    Arrays: keypoints_2d (T, J, 2), confidence (T, J), joints_3d (T, J, 3), R (T, 3, 3), t (T, 3).
    """

    keypoints_2d: np.ndarray
    confidence: np.ndarray
    joints_3d: np.ndarray
    R: np.ndarray
    t: np.ndarray
    K: np.ndarray
    dist: np.ndarray
    image_size: tuple[int, int]
    source: str
    subject: str
    fps: float
    view: int
    split: str = "train"


class PairWriter:
    """Streams :class:`SequenceBlock` rows into a new HDF5 file, written atomically.

    Rows go to a temporary file beside ``path``; :meth:`close` renames it to ``path`` only when complete, and
    :meth:`abort` (or an exception inside ``with``) removes it.
    """

    def __init__(self, path: str | Path, joint_names: tuple[str, ...], skeleton: str, synth_params: dict,
                 seed: int, compression: str | None = None):
        import h5py

        self.path = Path(path)
        import tempfile

        try:  # mkstemp: a unique temporary name beside the target (its mode is fixed on close)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
            os.close(fd)
            self.tmp = Path(tmp)
            self.f = h5py.File(self.tmp, "w")
        except OSError as e:
            if getattr(self, "tmp", None) is not None:
                self.tmp.unlink(missing_ok=True)
            why = e.strerror or "not writable"
            raise DatasetError(f"{self.path}: cannot write here ({why}); choose a writable output path") from None
        J = len(joint_names)
        comp = {} if compression in (None, "none") else (
            {"compression": "gzip", "compression_opts": 1, "shuffle": True} if compression == "gzip"
            else {"compression": compression})
        for name, (dtype, tail) in _PER_SAMPLE.items():
            shape = (0,) if tail is None else ((0, J) + tail if name in ("keypoints_2d", "confidence", "joints_3d")
                                               else (0,) + tail)
            self.f.create_dataset(name, shape=shape, maxshape=(None,) + shape[1:], dtype=dtype,
                                  chunks=(CHUNK_ROWS,) + shape[1:], **comp)
        a = self.f.attrs
        a["schema"] = SCHEMA
        a["schema_version"] = SCHEMA_VERSION
        a["pose3d_version"] = __version__
        a["skeleton"] = skeleton
        a["joint_names"] = list(joint_names)
        a["synth_params"] = json.dumps(synth_params, sort_keys=True, default=str)
        a["seed"] = seed
        import datetime

        a["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.n = 0
        self.buffered = 0
        self.buffer: dict[str, list[np.ndarray]] = {name: [] for name in _PER_SAMPLE}
        self.cams: dict[str, list] = {"K": [], "dist": [], "image_size": []}
        self.seqs: dict[str, list] = {k: [] for k in ("start", "length", "source", "subject", "fps", "view", "split")}

    def append(self, block: SequenceBlock) -> None:
        T = block.keypoints_2d.shape[0]
        if T == 0:
            return
        cam = len(self.cams["K"])
        self.cams["K"].append(block.K)
        self.cams["dist"].append(block.dist)
        self.cams["image_size"].append(block.image_size)
        seq = len(self.seqs["start"])
        for k, v in (("start", self.n), ("length", T), ("source", block.source), ("subject", block.subject),
                     ("fps", block.fps), ("view", block.view), ("split", block.split)):
            self.seqs[k].append(v)
        rows = {
            "keypoints_2d": block.keypoints_2d, "confidence": block.confidence, "joints_3d": block.joints_3d,
            "cam_from_world_R": block.R, "cam_from_world_t": block.t,
            "camera_index": np.full(T, cam), "sequence_index": np.full(T, seq), "frame_index": np.arange(T),
        }
        for name, arr in rows.items():
            self.buffer[name].append(arr)
        self.buffered += T
        self.n += T
        if self.buffered >= 16 * CHUNK_ROWS:
            self._flush()

    def set_splits(self, splits: list[str]) -> None:
        """Replace the split of every sequence appended so far (synth decides splits once every file is read)."""
        if len(splits) != len(self.seqs["split"]) or not set(splits) <= set(SPLITS):
            raise ValueError(f"set_splits: {len(splits)} splits for {len(self.seqs['split'])} sequences")
        self.seqs["split"] = list(splits)

    def _flush(self) -> None:
        """Write buffered rows in one resize per dataset (small appends would rewrite chunks many times)."""
        if not self.buffered:
            return
        start = self.n - self.buffered
        for name, parts in self.buffer.items():
            ds = self.f[name]
            ds.resize(self.n, axis=0)
            ds[start:self.n] = np.concatenate(parts).astype(ds.dtype, copy=False)
            parts.clear()
        self.buffered = 0

    def close(self) -> Path:
        import h5py

        self._flush()
        str_t = h5py.string_dtype()
        g = self.f.create_group("cameras")
        g["K"] = np.array(self.cams["K"], dtype=np.float64).reshape(-1, 3, 3)
        g["dist"] = np.array(self.cams["dist"], dtype=np.float64).reshape(-1, 5)
        g["image_size"] = np.array(self.cams["image_size"], dtype=np.int32).reshape(-1, 2)
        g = self.f.create_group("sequences")
        for k in ("start", "length"):
            g[k] = np.array(self.seqs[k], dtype=np.int64)
        g["fps"] = np.array(self.seqs["fps"], dtype=np.float32)
        g["view"] = np.array(self.seqs["view"], dtype=np.int32)
        for k in ("source", "subject", "split"):
            g.create_dataset(k, data=np.array(self.seqs[k], dtype=object), dtype=str_t)
        self.f.close()
        from .atomic import default_mode, note_written

        os.chmod(self.tmp, default_mode())
        os.replace(self.tmp, self.path)
        note_written(self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.f.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "PairWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is not None:
            self.abort()


@dataclass
class PairData:
    """A dataset loaded into memory (or a split of it). Arrays as in the schema."""

    keypoints_2d: np.ndarray  # (N, J, 2)
    confidence: np.ndarray  # (N, J)
    joints_3d: np.ndarray  # (N, J, 3)
    camera_index: np.ndarray  # (N,)
    sequence_index: np.ndarray  # (N,)
    frame_index: np.ndarray  # (N,)
    K: np.ndarray  # (C, 3, 3)
    dist: np.ndarray  # (C, 5)
    image_size: np.ndarray  # (C, 2)
    sequences: dict[str, np.ndarray]  # start, length, source, subject, fps, view, split (S,)
    joint_names: tuple[str, ...]
    skeleton: str
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.keypoints_2d.shape[0]

    def sequence_ranges(self) -> list[tuple[int, int]]:
        """(start, stop) sample rows of each sequence present, in order (rows of a sequence are contiguous)."""
        seq = self.sequence_index
        if len(seq) == 0:
            return []
        cut = np.flatnonzero(np.diff(seq)) + 1
        starts = np.concatenate([[0], cut])
        stops = np.concatenate([cut, [len(seq)]])
        return list(zip(starts.tolist(), stops.tolist()))

    def select_sequences(self, keep: np.ndarray) -> "PairData":
        """The samples of the sequences where ``keep`` (S,) is True."""
        rows = keep[self.sequence_index]
        return PairData(self.keypoints_2d[rows], self.confidence[rows], self.joints_3d[rows],
                        self.camera_index[rows], self.sequence_index[rows], self.frame_index[rows],
                        self.K, self.dist, self.image_size, self.sequences, self.joint_names, self.skeleton,
                        self.attrs)

    def split(self, name: str) -> "PairData":
        """Samples of one split (``train``, ``val`` or ``test``)."""
        return self.select_sequences(self.sequences["split"] == name)


def open_checked(path: str | Path):
    """Open a pose3d HDF5 for reading, with one clear error for anything else."""
    import h5py

    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.h5"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise DatasetError(f"{path}: a folder, not a pairs file; give the .h5 file made by `pose3d synth`{hint}")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; run `pose3d synth` to make one")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise DatasetError(f"{path}: not an HDF5 file (or damaged); give a file made by `pose3d synth`") from None
    if f.attrs.get("schema") != SCHEMA:
        f.close()
        raise DatasetError(f"{path}: not a pose3d pairs file (schema {SCHEMA!r} missing); make it with `pose3d synth`")
    version = f.attrs.get("schema_version", 0)
    try:
        version = int(version)
    except (TypeError, ValueError):
        f.close()
        raise DatasetError(f"{path}: schema version {version!r} is not a number (damaged file); make it again "
                           "with `pose3d synth`") from None
    if version > SCHEMA_VERSION:
        f.close()  # the attributes cannot be read once closed: the version was read above
        raise DatasetError(f"{path}: the file's schema version {version} is newer than this pose3d reads "
                           f"({SCHEMA_VERSION}); upgrade pose3d")
    missing = next((name for name in REQUIRED if name not in f), None)
    if missing is not None:
        f.close()
        raise DatasetError(f"{path}: not a pose3d pairs file: no {missing!r} dataset; give pairs written by "
                           "`pose3d synth`")
    return f


#: what every reader of a pairs file reads (cam_from_world_* are written but read by no one)
REQUIRED = ("keypoints_2d", "confidence", "joints_3d", "camera_index", "sequence_index", "frame_index", "cameras/K",
            "cameras/dist", "cameras/image_size", "sequences/start", "sequences/length", "sequences/source",
            "sequences/subject", "sequences/split")


def nonfinite_3d_rows(joints_3d: np.ndarray) -> int:
    """Rows (samples) of ``joints_3d`` (N, J, 3) holding a NaN or an infinity."""
    return int((~np.isfinite(joints_3d).reshape(len(joints_3d), -1).all(axis=1)).sum())


def check_finite_3d(data: PairData, path: str | Path, split: str) -> None:
    """Refuse (one line) a split whose 3D joints hold NaN or inf: a loss or a metric on them is NaN, found only
    after an epoch (or as an SVD that does not converge)."""
    bad = nonfinite_3d_rows(data.joints_3d)
    if bad:
        raise DatasetError(f"{path}: {bad:,} of the {len(data):,} pairs of the {split!r} split have non-finite "
                           "joints_3d (NaN or inf); make the pairs again with `pose3d synth` from clean mocap")


def check_finite_3d_file(path: str | Path, splits: tuple[str, ...] = ("train", "val")) -> None:
    """:func:`check_finite_3d` on a file's ``splits``, read in chunks (nothing else is loaded): for a check before
    long work (``pose3d adapt``'s replay pairs, before any detection)."""
    with open_checked(path) as f:
        split = np.array([s.decode() if isinstance(s, bytes) else str(s) for s in f["sequences/split"][()]])
        ds, seq = f["joints_3d"], f["sequence_index"]
        bad, total = dict.fromkeys(splits, 0), dict.fromkeys(splits, 0)
        step = 16 * CHUNK_ROWS
        for a in range(0, ds.shape[0], step):
            of_row = split[np.clip(seq[a:a + step], 0, len(split) - 1)]
            rows = ds[a:a + step]
            for name in splits:
                keep = of_row == name
                bad[name] += nonfinite_3d_rows(rows[keep])
                total[name] += int(keep.sum())
    for name in splits:
        if bad[name]:
            raise DatasetError(f"{path}: {bad[name]:,} of the {total[name]:,} pairs of the {name!r} split have "
                               "non-finite joints_3d (NaN or inf); make the pairs again with `pose3d synth` from "
                               "clean mocap")


def load_pairs(path: str | Path) -> PairData:
    """Read a whole pose3d HDF5 into memory."""
    with open_checked(path) as f:
        try:
            seqs = {k: f["sequences"][k][()] for k in f["sequences"].keys()}
            for k in ("source", "subject", "split"):
                seqs[k] = np.array([s.decode() if isinstance(s, bytes) else str(s) for s in seqs[k]], dtype=object)
            data = PairData(
                f["keypoints_2d"][()], f["confidence"][()], f["joints_3d"][()], f["camera_index"][()],
                f["sequence_index"][()], f["frame_index"][()], f["cameras/K"][()], f["cameras/dist"][()],
                f["cameras/image_size"][()], seqs, tuple(str(n) for n in f.attrs["joint_names"]),
                str(f.attrs["skeleton"]), {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()
                                           if k != "joint_names"})
        except KeyError as e:
            raise DatasetError(f"{path}: incomplete pose3d file (missing {e}); re-run `pose3d synth`") from None
    return data


def describe(path: str | Path) -> dict:
    """Summary of a pose3d HDF5 for ``pose3d info`` (reads metadata only)."""
    with open_checked(path) as f:
        split = [s.decode() if isinstance(s, bytes) else str(s) for s in f["sequences/split"][()]]
        length = f["sequences/length"][()]
        subjects = sorted({s.decode() if isinstance(s, bytes) else str(s) for s in f["sequences/subject"][()]})
        sources = {s.decode() if isinstance(s, bytes) else str(s) for s in f["sequences/source"][()]}
        fps = sorted({float(x) for x in f["sequences/fps"][()]})
        return {
            "kind": "pose3d pairs (HDF5)", "schema_version": int(f.attrs["schema_version"]),
            "skeleton": str(f.attrs["skeleton"]), "joints": len(f.attrs["joint_names"]),
            "pairs": int(f["keypoints_2d"].shape[0]), "sequences": int(len(length)),
            "cameras": int(f["cameras/K"].shape[0]), "mocap files": len({s.split("#")[0] for s in sources}),
            "subjects": len(subjects), "fps": fps, "units": "3D mm (camera frame), 2D pixels",
            "split pairs": {s: int(length[np.array(split) == s].sum()) for s in SPLITS},
            "seed": int(f.attrs["seed"]), "created": str(f.attrs["created"]),
            "pose3d version": str(f.attrs["pose3d_version"]),
        }


def assign_split(key: str, val_fraction: float, test_fraction: float) -> str:
    """Split of a group key (a file identity or a subject) by its hash alone: same key, same split, whatever the
    order, seed or worker count. synth repairs empty splits of small sets on top (:mod:`pose3d_cli.splits`)."""
    from .splits import split_of

    return split_of(key, val_fraction, test_fraction)
