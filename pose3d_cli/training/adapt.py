"""Adapting a lifter to a site from its own unlabelled footage (``pose3d adapt``).

The site's videos (or 2D keypoint files: pose3d CSV, COCO-style JSON, OpenPose, MMPose) become ``2d`` training
sources (training/sources.py): no 3D target, only the 2D-only losses (reprojection with a root/depth solve, bone
constancy along a track, temporal smoothness, the adversarial plausibility prior) plus distillation from the frozen
``--init`` model and replay of synthetic 2D/3D pairs, so the model learns the site's 2D and forgets nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..infer.pipeline import KEYPOINT_SUFFIXES
from ..infer.sources import VIDEO_EXT as VIDEO_SUFFIXES


@dataclass
class AdaptOptions:
    """What ``pose3d adapt`` needs besides the site's inputs; weights 0 switch a term off."""

    init: str
    replay: str  # synthetic pairs (HDF5): replayed, validated on, and the prior's mocap poses
    fov: float | None = None
    focal: float | None = None
    calib: str | None = None
    frames: tuple[int, int] | None = None  # [start, stop) of each input used for adapting (e.g. a DEV split)
    site_weight: float = 1.0
    reproj_weight: float = 1.0
    bone_constancy_weight: float = 0.1
    smooth_weight: float = 0.1
    prior_weight: float = 0.05
    distill_weight: float = 1.0
    epochs: int = 3
    subsample: int = 10
    lr: float = 3e-4
    seed: int = 0
    threads: int = 1
    max_minutes: float | None = None
    detector_model: str | None = None


def site_inputs(inputs: list[str | Path]) -> list[Path]:
    """The videos and keypoint files among ``inputs`` (files, or folders searched one level deep)."""
    found = []
    for p in map(Path, inputs):
        if p.is_dir():
            kids = sorted(c for c in p.iterdir() if c.is_file() and c.suffix.lower() in VIDEO_SUFFIXES | KEYPOINT_SUFFIXES)
            if not kids:
                raise Pose3dError(f"{p}: no video ({', '.join(sorted(VIDEO_SUFFIXES))}) or keypoint file (.csv, .json) "
                                  "in this folder; give the site's videos")
            found += kids
        elif p.is_file():
            if p.suffix.lower() not in VIDEO_SUFFIXES | KEYPOINT_SUFFIXES:
                raise Pose3dError(f"{p}: not a video or a 2D keypoint file; give .mp4/.mov/... or .csv/.json")
            found.append(p)
        else:
            raise Pose3dError(f"{p}: no such file or folder")
    return found


def check_init(init: str | Path) -> dict:
    """The ``--init`` checkpoint, refused in one line when its codec is not this pose3d's (its inputs would mean
    something else)."""
    from ..lifting.checkpoint import read_checkpoint
    from ..lifting.codec import CODEC_NAME

    ck = read_checkpoint(init)
    codec = ck.get("codec", {}).get("name")
    if codec != CODEC_NAME:
        raise Pose3dError(f"{init}: checkpoint codec {codec!r} differs from this pose3d's {CODEC_NAME!r}; adapt a "
                          "checkpoint of this pose3d (or train one)")
    return ck


def keypoints_of(path: Path, detector_model: str | None = None):
    """One input as a :class:`~pose3d_cli.detect.keypoint_files.KeypointSequence`: read a keypoint file, or run
    the built-in detector over a video."""
    from ..detect.keypoint_files import KeypointSequence, read_keypoints

    if path.suffix.lower() in KEYPOINT_SUFFIXES:
        return read_keypoints(path)
    from ..infer.pipeline import detect_video
    from ..infer.sources import open_source

    track = detect_video(open_source(path), detector_model)
    return KeypointSequence(track.uv, track.conf, track.skeleton, track.frame, track.fps, tuple(track.size), str(path))


def cut_frames(seq, frames: tuple[int, int] | None):
    """Keep rows whose frame number is in [start, stop) (None: all); refuse an empty result."""
    from dataclasses import replace

    if frames is None:
        return seq
    keep = (seq.frame_indices >= frames[0]) & (seq.frame_indices < frames[1])
    if not keep.any():
        raise Pose3dError(f"{seq.source}: no frame in {frames[0]}:{frames[1]}; check --frames")
    return replace(seq, xy=seq.xy[keep], confidence=seq.confidence[keep], frame_indices=seq.frame_indices[keep],
                   people=None)


def site_sources(inputs: list[Path], workdir: Path, opts: AdaptOptions) -> list[dict]:
    """Detect/read each input, keep ``opts.frames``, write its 2D as a pose3d CSV in ``workdir`` (named after the
    input, so a calibration finds its camera by name) and return the ``2d`` source entries."""
    from ..detect.keypoint_files import write_keypoints_csv

    workdir.mkdir(parents=True, exist_ok=True)
    out = []
    for p in inputs:
        seq = cut_frames(keypoints_of(p, opts.detector_model), opts.frames)
        csv = workdir / f"{p.stem}.csv"
        write_keypoints_csv(seq, csv)
        entry = {"path": str(csv), "kind": "2d", "weight": opts.site_weight}
        for k in ("fov", "focal", "calib"):
            if getattr(opts, k) is not None:
                entry[k] = getattr(opts, k)
        if opts.calib:
            entry["camera"] = p.stem
        out.append(entry)
    return out


def adapt(inputs: list[str | Path], output: str | Path, opts: AdaptOptions, workdir: str | Path,
          log: str | None = None) -> dict:
    """Adapt ``opts.init`` to the site's ``inputs``; writes ``output`` (a checkpoint) and returns train's summary.

    Refuses before any detection: no intrinsics, a bad ``--init`` codec, a missing replay file."""
    from ..train import TrainConfig, train

    if not (opts.fov or opts.focal or opts.calib):
        raise Pose3dError(f"{inputs[0]}: 2D-only site footage needs intrinsics to turn pixels into rays; give --fov "
                          "<degrees across the long side>, --focal <px> or --calib <file>")
    if not Path(opts.replay).is_file():
        raise Pose3dError(f"{opts.replay}: no such replay pairs file; give --replay synthetic pairs (pose3d synth)")
    check_init(opts.init)
    files = site_inputs(inputs)
    sources = site_sources(files, Path(workdir), opts)
    cfg = TrainConfig(data=str(opts.replay), output=str(output), init=opts.init, sources=sources, prior=str(opts.replay),
                      epochs=opts.epochs, subsample=opts.subsample, lr=opts.lr, seed=opts.seed, threads=opts.threads,
                      max_minutes=opts.max_minutes, log=log, reproj_weight=opts.reproj_weight,
                      bone_constancy_weight=opts.bone_constancy_weight, smooth_weight=opts.smooth_weight,
                      prior_weight=opts.prior_weight, distill_weight=opts.distill_weight)
    return train(cfg)
