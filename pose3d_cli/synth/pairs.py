"""``pose3d synth``: mocap files → HDF5 of 2D/3D pairs through virtual cameras.

Each file is read into h36m17 motions (mm, Z up), resampled to a common frame rate (then every ``stride``-th
frame kept), centred on the world origin (sampled cameras) or kept in the mocap's own world frame (a rig: its
extrinsics are in that frame), then filmed by ``views`` cameras (``seated``: that share of the views films the
motion put on a chair, :mod:`.seated`); each (motion, camera) pair becomes one
contiguous sequence of the dataset. Files are processed in parallel (``workers``) but each file draws from
its own random stream (seeded from the global seed and the file's content), so the output does not depend on
the number of workers or on the folder given. Splits are decided once every file is read, from each file's
identity (its bytes' SHA-256; see pose3d_cli/splits.py), never from its path or the seed.
"""

from __future__ import annotations

import os

import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Pose3dError

from ..dataset import SPLITS, PairWriter, SequenceBlock
from ..mocap.load import find_mocap_files, load_motions
from ..mocap.motion import MocapError, Motion
from ..skeleton import H36M17
from ..splits import assign_splits, file_digest
from .cameras import MIN_RIG_VISIBLE, Camera, CameraError, CameraSampling, sample_camera, visible_share
from .corrupt import Corruption, corrupt
from .seated import can_seat, seat

SEAT_STREAM = 0x5EA7  # the third seed word of each file's seating stream


class SynthError(Pose3dError, ValueError):
    """Synthesis cannot start (no input, bad output path ...)."""


@dataclass
class SynthConfig:
    """Everything that decides the synthesised pairs (stored in the HDF5 as ``synth_params``)."""

    views: int = 8
    fps: float | None = 30.0  # resample every motion to this rate; None keeps each file's own
    sampling: CameraSampling = field(default_factory=CameraSampling)
    rig: list[Camera] | None = None
    corruption: Corruption = field(default_factory=Corruption)
    clean: bool = False
    seed: int = 0
    split_by: str = "file"  # file | subject
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    units: str = "auto"
    up: str = "auto"
    markerset: str = "auto"
    mapping: dict | None = None
    subject: str | None = None  # C3D / VideoPose3D files with several subjects: keep only this one
    min_frames: int = 8
    test_subjects: tuple[str, ...] = ()  # these subjects are the test set (e.g. Human3.6M S9, S11)
    stride: int = 1  # keep every stride-th frame after resampling to fps
    keep_world: bool | None = None  # keep the mocap's world frame; None: only with a rig
    seated: float = 0.0  # share of views filmed seated (synth/seated.py), upright motions only; sampled cameras only
    #: file-name patterns (fnmatch) of takes stored more than once with different bytes (trimmed, gaps, another
    #: subject added): the files a pattern matches share one split (by file; the first matching pattern counts)
    same_takes: tuple[str, ...] = ()

    @property
    def keeps_world(self) -> bool:
        return bool(self.rig) if self.keep_world is None else self.keep_world

    def to_dict(self) -> dict:
        return {
            "views": len(self.rig) if self.rig else self.views, "fps": self.fps,
            "cameras": "rig" if self.rig else self.sampling.to_dict(),
            "rig": [c.name for c in self.rig] if self.rig else None,
            "corruption": "clean" if self.clean else self.corruption.to_dict(),
            "seed": self.seed, "split_by": self.split_by, "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction, "units": self.units, "up": self.up,
            "markerset": self.markerset, "mapping": self.mapping, "subject": self.subject,
            "test_subjects": list(self.test_subjects), "stride": self.stride,
            "world": "mocap" if self.keeps_world else "centred", "split_identity": "sha256 of the file's bytes",
            "seated": self.seated, "same_takes": list(self.same_takes),
        }


@dataclass
class FileResult:
    path: str
    blocks: list[SequenceBlock] = field(default_factory=list)
    frames: int = 0
    error: str | None = None
    read_s: float = 0.0
    generate_s: float = 0.0
    groups: list[str] = field(default_factory=list)  # split group of each block
    warnings: list[str] = field(default_factory=list)
    seated: int = 0  # views filmed seated


@dataclass
class SynthReport:
    output: Path
    files: int = 0
    frames: int = 0
    pairs: int = 0
    sequences: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    read_s: float = 0.0
    generate_s: float = 0.0
    write_s: float = 0.0
    wall_s: float = 0.0
    split_pairs: dict[str, int] = field(default_factory=dict)
    split_groups: dict[str, int] = field(default_factory=dict)  # files (or subjects) per split
    split_by: str = "file"
    notes: list[str] = field(default_factory=list)  # why a split stays empty
    warnings: list[str] = field(default_factory=list)  # per-file reader warnings (implausible body height ...)
    seated_sequences: int = 0  # sequences filmed seated (--seated)


def resample(motion: Motion, fps: float | None) -> Motion:
    """Linear resampling of (T, J, 3) joints to ``fps`` (None: unchanged)."""
    if fps is None or motion.num_frames < 2:
        return motion
    if abs(motion.fps - fps) < 1e-4 * fps:  # "Frame Time: 0.0333333" is 30 fps: relabel, don't drop a frame
        return Motion(motion.joints, motion.names, fps, motion.source, motion.subject, motion.skeleton,
                      dict(motion.meta, native_fps=motion.fps))
    T = motion.num_frames
    duration = (T - 1) / motion.fps
    n = int(np.floor(duration * fps + 1e-9)) + 1
    src = np.arange(n) * motion.fps / fps
    lo = np.minimum(np.floor(src).astype(int), T - 2)
    w = (src - lo)[:, None, None]
    joints = motion.joints[lo] * (1 - w) + motion.joints[lo + 1] * w
    out = Motion(joints.astype(np.float32), motion.names, fps, motion.source, motion.subject, motion.skeleton,
                 dict(motion.meta, native_fps=motion.fps))
    return out


def centre_on_origin(joints: np.ndarray, skeleton=H36M17) -> np.ndarray:
    """Move (T, J, 3) so the mean root position is above the world origin (height kept)."""
    root = joints[:, skeleton.index(skeleton.root)]
    shift = np.array([root[:, 0].mean(), root[:, 1].mean(), 0.0])
    return joints - shift


def file_seed(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def film(motion: Motion, camera: Camera, cfg: SynthConfig, rng: np.random.Generator, view: int,
         split: str) -> SequenceBlock:
    """One motion seen by one camera → a block of pairs (3D in the camera frame, corrupted 2D)."""
    T = motion.num_frames
    joints_cam = camera.world_to_cam(motion.joints.astype(np.float64))
    uv = camera.project(joints_cam)
    corruption = Corruption.clean() if cfg.clean else cfg.corruption
    if cfg.clean:
        # exact projections everywhere (so they reproject exactly); confidence 0 outside the image
        _, conf = corrupt(uv, joints_cam, camera.size, H36M17, corruption, rng, motion.fps, camera.dist)
        kp = uv.astype(np.float32)
    else:
        kp, conf = corrupt(uv, joints_cam, camera.size, H36M17, corruption, rng, motion.fps, camera.dist)
    R, t = camera.per_frame(T)
    return SequenceBlock(kp, conf, joints_cam.astype(np.float32), R.astype(np.float32), t.astype(np.float32),
                         camera.K, camera.dist, camera.size, motion.source, motion.subject, motion.fps, view, split)


def stride_frames(motion: Motion, stride: int) -> Motion:
    """Every ``stride``-th frame (the rate divided by ``stride``)."""
    if stride <= 1:
        return motion
    return Motion(motion.joints[::stride], motion.names, motion.fps / stride, motion.source, motion.subject,
                  motion.skeleton, dict(motion.meta, stride=stride))


def split_group(motion: Motion, digest: str, cfg: SynthConfig) -> str:
    """The key a motion's split is decided by: its file's identity (plus the take's name inside a container
    file such as VideoPose3D's), or its subject."""
    if cfg.split_by == "subject":
        return motion.subject
    inner = motion.source.split("#", 1)[1] if "#" in motion.source else ""
    take = same_take(motion.source.split("#", 1)[0], cfg.same_takes)
    key = digest if take is None else f"take:{take}"
    return f"{key}#{inner}" if inner else key


def same_take(path: str, patterns: tuple[str, ...]) -> str | None:
    """The first of ``patterns`` (fnmatch, on the file's name) that ``path`` matches, else None."""
    from fnmatch import fnmatch

    name = Path(path).name
    return next((p for p in patterns if fnmatch(name, p)), None)


def synth_file(path: Path, cfg: SynthConfig) -> FileResult:
    """Read one mocap file and film each of its motions ``views`` times. Errors become ``result.error``.

    Blocks carry a placeholder split: :func:`synthesise` decides splits once every file is read.
    """
    res = FileResult(str(path))
    t0 = time.perf_counter()
    try:
        digest = file_digest(path)
        motions = load_motions(path, units=cfg.units, up=cfg.up, mapping=cfg.mapping, markerset=cfg.markerset,
                               subject=cfg.subject)
    except (MocapError, ValueError) as e:
        res.error = str(e)
        return res
    except OSError as e:
        res.error = f"{path}: cannot read ({e.strerror}); check the path and permissions"
        return res
    except Exception as e:  # noqa: BLE001 - a reader bug must not kill a 250-file run; report it per file
        res.error = f"{path}: unexpected {type(e).__name__}: {e}"
        return res
    res.read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    rng = file_seed(cfg.seed, digest)
    # seating draws from its own stream, so --seated 0 leaves every other draw (and the file) as it was
    seat_rng = np.random.default_rng([cfg.seed, zlib.crc32(digest.encode()), SEAT_STREAM]) if cfg.seated > 0 else None
    for m_i, motion in enumerate(motions):
        for w in motion.meta.get("warnings", []):
            if w not in res.warnings:
                res.warnings.append(w)
        motion = stride_frames(resample(motion, cfg.fps), cfg.stride)
        if motion.num_frames < cfg.min_frames:
            continue
        if not np.all(np.isfinite(motion.joints)):
            res.error = f"{path}: motion {m_i} holds NaN joints after gap filling; skipped"
            continue
        if not cfg.keeps_world:
            motion.joints = centre_on_origin(motion.joints)
        group = split_group(motion, digest, cfg)
        cameras = cfg.rig if cfg.rig else [None] * cfg.views
        seatable = seat_rng is not None and motion.skeleton == H36M17.name and can_seat(motion.joints, H36M17)
        for v, cam in enumerate(cameras):
            filmed = motion
            if seatable and seat_rng.random() < cfg.seated:
                filmed = replace(motion, joints=seat(motion.joints, H36M17, seat_rng))
            try:
                cam = cam if cam is not None else sample_camera(filmed.joints, rng, cfg.sampling, fps=filmed.fps)
            except CameraError as e:
                res.error = f"{path}: {e}"
                continue
            if cfg.rig and (share := visible_share(cam, filmed.joints)) < MIN_RIG_VISIBLE:
                res.error = (f"{path}: rig camera {cam.name} sees {100 * share:.0f}% of the body (in front of it and "
                             "inside its image); not filmed: check that the rig and the mocap share one world frame "
                             "(mm, Z up) and that the camera faces the subject")
                continue
            res.blocks.append(film(filmed, cam, cfg, rng, v, "train"))
            res.groups.append(group)
            res.seated += filmed is not motion
        res.frames += motion.num_frames
    res.generate_s = time.perf_counter() - t1
    if not res.blocks and res.error is None:
        res.error = f"{path}: no motion of at least {cfg.min_frames} frames"
    return res


def _synth_job(args: tuple[Path, SynthConfig]) -> FileResult:
    return synth_file(*args)


def named_subject(f: Path) -> str | None:
    """The subject of a mocap file known from its name alone (BVH and AMC: ``mocap/load.py`` names them so), or
    None where the file names its subjects inside (C3D label prefixes, array files)."""
    from ..mocap.amc import amc_subject
    from ..mocap.load import AMC_EXT, BVH_EXT, subject_of

    ext = f.suffix.lower()
    return subject_of(f) if ext in BVH_EXT else amc_subject(f) if ext in AMC_EXT else None


def known_subjects(files: list[Path]) -> set[str] | None:
    """The subjects of ``files`` known from their names alone (:func:`named_subject`), or None where a file names
    its subjects inside."""
    named = [named_subject(f) for f in files]
    return None if None in named else set(named)


def keep_subject(files: list[Path], subject: str | None) -> list[Path]:
    """``files`` without those whose name gives another subject than ``subject`` (files naming their subjects
    inside are kept: their reader keeps the subject); SynthError where no file is left."""
    if subject is None:
        return files
    kept = [f for f in files if named_subject(f) in (None, subject)]
    if not kept:
        named = sorted({named_subject(f) for f in files})
        raise SynthError(f"--subject {subject}: no file of that subject (subjects from the file names: "
                         f"{', '.join(named[:20])}{' ...' if len(named) > 20 else ''}); name one of them")
    return kept


def decide_splits(groups: list[str], subjects: list[str], cfg: SynthConfig,
                  sources: list[str] | None = None) -> tuple[list[str], dict[str, int], list[str]]:
    """Split of each sequence from its group (and subject); ({split: groups}, notes). See pose3d_cli/splits.py.

    ``sources``: each sequence's file; by file, small sets are repaired per source folder first.
    """
    test_subjects = set(cfg.test_subjects)
    what = "subject" if cfg.split_by == "subject" else "file"
    is_test = [sub in test_subjects for sub in subjects]
    free = sorted({g for g, t in zip(groups, is_test) if not t})
    strata = None
    if sources is not None and cfg.split_by == "file":
        strata = {}
        for g, src in zip(groups, sources):  # a file in several folders: the first by name, whatever the order given
            folder = str(Path(src.split("#", 1)[0]).resolve().parent)
            strata[g] = min(strata.get(g, folder), folder)
    by_group, notes = assign_splits(free, cfg.val_fraction, 0.0 if test_subjects else cfg.test_fraction, what=what,
                                    strata=strata)
    splits = ["test" if t else by_group[g] for g, t in zip(groups, is_test)]
    counted: dict[str, set] = {s: set() for s in SPLITS}
    for g, s, sub in zip(groups, splits, subjects):
        counted[s].add(("subject", sub) if s == "test" and test_subjects else g)
    return splits, {s: len(v) for s, v in counted.items()}, notes


def synthesise(inputs: list[str | Path], output: str | Path, cfg: SynthConfig, workers: int = 1,
               compression: str | None = None,
               on_file: Callable[[FileResult], None] | None = None) -> SynthReport:
    """Synthesise pairs from mocap files/folders into ``output`` (HDF5, written atomically).

    Raises:
        SynthError: no mocap file found, or no pairs could be made (nothing is written then).
    """
    t_start = time.perf_counter()
    output = Path(output)
    if cfg.rig and cfg.seated > 0:
        raise SynthError("--seated with --cameras: a rig's views film one motion together, and seating is drawn per "
                         "view; use sampled cameras for seated pairs, or drop --seated")
    if not 0.0 <= cfg.seated <= 1.0:
        raise SynthError(f"--seated {cfg.seated}: a share of the views, between 0 and 1")
    files = find_mocap_files([Path(p) for p in inputs])
    if not files:
        raise SynthError(f"{', '.join(map(str, inputs))}: no mocap files (.bvh, .amc, .c3d, .npz, .h5) found; "
                         "point to a folder or file of motion capture")
    if not output.parent.exists():
        raise SynthError(f"{output}: the folder {output.parent} does not exist; create it or choose another path")
    files = keep_subject(files, cfg.subject)
    for pattern in cfg.same_takes:  # a pattern that names no file is a typo: said before any file is read
        if not any(same_take(str(f), (pattern,)) for f in files):
            raise SynthError(f"--same-take {pattern!r}: no mocap file's name matches it; give a file-name pattern "
                             "such as 'kinematics_tennis_serve*'")
    named = known_subjects(files)
    if cfg.test_subjects and named is not None and not set(cfg.test_subjects) & named:  # before any file is filmed
        raise SynthError(f"--test-subjects: {', '.join(cfg.test_subjects)} not among the subjects of the data "
                         f"({', '.join(sorted(named)[:20])}{' ...' if len(named) > 20 else ''}); name subjects it has")
    jobs = [(f, cfg) for f in files]
    report = SynthReport(output, split_by=cfg.split_by)
    groups: list[str] = []
    subjects: list[str] = []
    sources: list[str] = []
    writer = PairWriter(output, H36M17.joints, H36M17.name, cfg.to_dict(), cfg.seed, compression)
    pool = None
    # no more processes than files, nor than a few per core (-j 100000 forked 100000 interpreters at once: the
    # machine ran out of memory)
    workers = max(1, min(int(workers), len(jobs), 4 * (os.cpu_count() or 1)))
    try:
        if workers > 1:
            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(_synth_job, jobs, chunksize=1)
        else:
            results = map(_synth_job, jobs)
        for res in results:
            report.read_s += res.read_s
            report.generate_s += res.generate_s
            if res.error:
                report.skipped.append((res.path, res.error))
            report.warnings.extend(res.warnings)
            if res.blocks:
                report.files += 1
                report.frames += res.frames
                report.seated_sequences += res.seated
                t = time.perf_counter()
                for block, group in zip(res.blocks, res.groups):
                    if block.keypoints_2d.shape[0] == 0:
                        continue
                    writer.append(block)
                    groups.append(group)
                    subjects.append(block.subject)
                    sources.append(block.source)
                    report.pairs += block.keypoints_2d.shape[0]
                    report.sequences += 1
                report.write_s += time.perf_counter() - t
            if on_file:
                on_file(res)
        if report.pairs == 0:
            raise SynthError(f"{output}: no pairs could be made from {len(files)} file(s): "
                             + "; ".join(e for _, e in report.skipped[:3]))
        missing = sorted(set(cfg.test_subjects) - set(subjects))
        if missing:
            found = sorted(set(subjects))
            raise SynthError(f"--test-subjects: {', '.join(missing)} not among the subjects of the data "
                             f"({', '.join(found[:20])}{' ...' if len(found) > 20 else ''}); name subjects it has")
        splits, report.split_groups, report.notes = decide_splits(groups, subjects, cfg, sources)
        writer.set_splits(splits)
        lengths = writer.seqs["length"]
        report.split_pairs = {s: int(sum(n for n, sp in zip(lengths, splits) if sp == s)) for s in SPLITS}
        t = time.perf_counter()
        writer.close()
        report.write_s += time.perf_counter() - t
    except BaseException:
        writer.abort()
        raise
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    report.wall_s = time.perf_counter() - t_start
    return report
