"""``pose3d synth``: mocap files → HDF5 of 2D/3D pairs through virtual cameras.

Each file is read into h36m17 motions (mm, Z up), resampled to a common frame rate, centred on the world
origin, then filmed by ``views`` cameras (sampled, or a rig); each (motion, camera) pair becomes one
contiguous sequence of the dataset. Files are processed in parallel (``workers``) but each file draws from
its own random stream (seeded from the global seed and the file's name), so the output does not depend on
the number of workers.
"""

from __future__ import annotations

import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Pose3dError

from ..dataset import PairWriter, SequenceBlock, assign_split
from ..mocap.load import find_mocap_files, load_motions
from ..mocap.motion import MocapError, Motion
from ..skeleton import H36M17
from .cameras import Camera, CameraError, CameraSampling, sample_camera
from .corrupt import Corruption, corrupt


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
    subject: str | None = None  # C3D files with several subjects: keep only this one
    min_frames: int = 8

    def to_dict(self) -> dict:
        return {
            "views": len(self.rig) if self.rig else self.views, "fps": self.fps,
            "cameras": "rig" if self.rig else self.sampling.to_dict(),
            "rig": [c.name for c in self.rig] if self.rig else None,
            "corruption": "clean" if self.clean else self.corruption.to_dict(),
            "seed": self.seed, "split_by": self.split_by, "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction, "units": self.units, "up": self.up,
            "markerset": self.markerset, "mapping": self.mapping, "subject": self.subject,
        }


@dataclass
class FileResult:
    path: str
    blocks: list[SequenceBlock] = field(default_factory=list)
    frames: int = 0
    error: str | None = None
    read_s: float = 0.0
    generate_s: float = 0.0


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
        _, conf = corrupt(uv, joints_cam, camera.size, H36M17, corruption, rng, motion.fps)
        kp = uv.astype(np.float32)
    else:
        kp, conf = corrupt(uv, joints_cam, camera.size, H36M17, corruption, rng, motion.fps)
    R, t = camera.per_frame(T)
    return SequenceBlock(kp, conf, joints_cam.astype(np.float32), R.astype(np.float32), t.astype(np.float32),
                         camera.K, camera.dist, camera.size, motion.source, motion.subject, motion.fps, view, split)


def synth_file(path: Path, key: str, cfg: SynthConfig) -> FileResult:
    """Read one mocap file and film each of its motions ``views`` times. Errors become ``result.error``."""
    res = FileResult(str(path))
    t0 = time.perf_counter()
    try:
        motions = load_motions(path, units=cfg.units, up=cfg.up, mapping=cfg.mapping, markerset=cfg.markerset,
                               subject=cfg.subject)
    except (MocapError, ValueError) as e:
        res.error = str(e)
        return res
    except Exception as e:  # noqa: BLE001 - a reader bug must not kill a 250-file run; report it per file
        res.error = f"{path}: unexpected {type(e).__name__}: {e}"
        return res
    res.read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    rng = file_seed(cfg.seed, key)
    for m_i, motion in enumerate(motions):
        motion = resample(motion, cfg.fps)
        if motion.num_frames < cfg.min_frames:
            continue
        if not np.all(np.isfinite(motion.joints)):
            res.error = f"{path}: motion {m_i} holds NaN joints after gap filling; skipped"
            continue
        motion.joints = centre_on_origin(motion.joints)
        group = key if cfg.split_by == "file" else motion.subject
        split = assign_split(group, cfg.val_fraction, cfg.test_fraction, cfg.seed)
        cameras = cfg.rig if cfg.rig else [None] * cfg.views
        for v, cam in enumerate(cameras):
            try:
                cam = cam if cam is not None else sample_camera(motion.joints, rng, cfg.sampling)
            except CameraError as e:
                res.error = f"{path}: {e}"
                continue
            res.blocks.append(film(motion, cam, cfg, rng, v, split))
        res.frames += motion.num_frames
    res.generate_s = time.perf_counter() - t1
    if not res.blocks and res.error is None:
        res.error = f"{path}: no motion of at least {cfg.min_frames} frames"
    return res


def _synth_job(args: tuple[Path, str, SynthConfig]) -> FileResult:
    return synth_file(*args)


def synthesise(inputs: list[str | Path], output: str | Path, cfg: SynthConfig, workers: int = 1,
               compression: str | None = None,
               on_file: Callable[[FileResult], None] | None = None) -> SynthReport:
    """Synthesise pairs from mocap files/folders into ``output`` (HDF5, written atomically).

    Raises:
        SynthError: no mocap file found, or no pairs could be made (nothing is written then).
    """
    t_start = time.perf_counter()
    output = Path(output)
    files = find_mocap_files([Path(p) for p in inputs])
    if not files:
        raise SynthError(f"{', '.join(map(str, inputs))}: no mocap files (.bvh, .amc, .c3d, .npz, .h5) found; "
                         "point to a folder or file of motion capture")
    if not output.parent.exists():
        raise SynthError(f"{output}: the folder {output.parent} does not exist; create it or choose another path")
    roots = [Path(p) for p in inputs]

    def key_of(f: Path) -> str:
        for r in roots:
            if r.is_dir() and r in f.parents:
                return str(f.relative_to(r.parent))
        return f.name

    jobs = [(f, key_of(f), cfg) for f in files]
    report = SynthReport(output)
    writer = PairWriter(output, H36M17.joints, H36M17.name, cfg.to_dict(), cfg.seed, compression)
    pool = None
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
            if res.blocks:
                report.files += 1
                report.frames += res.frames
                t = time.perf_counter()
                for block in res.blocks:
                    writer.append(block)
                    report.pairs += block.keypoints_2d.shape[0]
                    report.sequences += 1
                    report.split_pairs[block.split] = report.split_pairs.get(block.split, 0) + block.keypoints_2d.shape[0]
                report.write_s += time.perf_counter() - t
            if on_file:
                on_file(res)
        if report.pairs == 0:
            raise SynthError(f"{output}: no pairs could be made from {len(files)} file(s): "
                             + "; ".join(e for _, e in report.skipped[:3]))
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
