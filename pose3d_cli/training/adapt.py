"""Adapting a lifter to a site from its own unlabelled footage (``pose3d adapt``).

The site's videos (or 2D keypoint files: pose3d CSV, COCO-style JSON, OpenPose, MMPose) become ``2d`` training
sources (training/sources.py): no 3D target, only the 2D-only losses (reprojection with a root/depth solve, bone
constancy along a track, temporal smoothness, the adversarial plausibility prior) plus distillation from the frozen
``--init`` model and replay of synthetic 2D/3D pairs, so the model learns the site's 2D and forgets nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from ..errors import Pose3dError
from ..infer.pipeline import KEYPOINT_SUFFIXES, is_keypoint_input
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
    shape_prior_weight: float = 0.0
    distill_weight: float = 1.0
    init_share: float = 0.0  # the written model interpolated this share back to --init (train's --init-share)
    epochs: int = 3
    subsample: int = 10
    lr: float = 3e-4
    seed: int = 0
    threads: int = 1
    max_minutes: float | None = None
    detector_model: str | None = None
    size: tuple[int, int] | None = None  # keypoint inputs: image WIDTH, HEIGHT (as infer --size)


def site_inputs(inputs: list[str | Path]) -> list[Path]:
    """The videos and keypoint files among ``inputs`` (files, OpenPose folders, or folders searched one level deep:
    their videos, keypoint files and OpenPose folders)."""
    found = []
    for p in map(Path, inputs):
        if p.is_dir() and is_keypoint_input(p):  # an OpenPose folder: one input (one clip's frames)
            found.append(p)
        elif p.is_dir():
            kids = sorted(c for c in p.iterdir() if (c.is_file() and c.suffix.lower() in VIDEO_SUFFIXES | KEYPOINT_SUFFIXES)
                          or (c.is_dir() and is_keypoint_input(c)))
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
    from ..lifting.checkpoint import model_from_checkpoint, read_checkpoint
    from ..lifting.codec import CODEC_NAME

    ck = read_checkpoint(init)
    model_from_checkpoint(ck, init)  # its weights fit its model: a damaged file is refused before any detection
    codec = ck.get("codec", {}).get("name")
    if codec != CODEC_NAME:
        raise Pose3dError(f"{init}: checkpoint codec {codec!r} differs from this pose3d's {CODEC_NAME!r}; adapt a "
                          "checkpoint of this pose3d (or train one)")
    name = (ck.get("model") or {}).get("name")
    if name == "fused":
        raise Pose3dError(f"{init}: a fused model learns with the detector's 3D, which 2D-only site footage lacks; "
                          "adapt the default blend (it trains its plain part) or a plain/temporal model")
    if name == "nn":
        raise Pose3dError(f"{init}: a nearest-neighbour model has no weights to adapt; adapt a trained network "
                          "(the default, or an mlp/temporal checkpoint)")
    return ck


def keypoints_of(path: Path, detector_model: str | None = None):
    """One input as a :class:`~pose3d_cli.detect.keypoint_files.KeypointSequence`: read a keypoint file, or run
    the built-in detector over a video."""
    from ..detect.keypoint_files import KeypointSequence, read_keypoints

    if is_keypoint_input(path):
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


#: the fewest frames of one input adapt learns from: bone constancy and smoothness compare frames along a track
MIN_FRAMES = 2


def check_frames(path: Path, n: int, what: str = "it has") -> None:
    """Refuse an input with fewer than :data:`MIN_FRAMES` frames (after ``--frames``) in one line."""
    if n < MIN_FRAMES:
        raise Pose3dError(f"{path}: {what} {n} frame{'s' if n != 1 else ''} to adapt on; adapt learns from tracks "
                          f"of at least {MIN_FRAMES} frames: give longer footage (or a wider --frames)")


def longest_detected_run(seq) -> int:
    """The most consecutive frame numbers of ``seq`` (a KeypointSequence) in which someone was detected (a joint
    with confidence > 0): what the track losses (bone constancy, smoothness) can learn from."""
    import numpy as np

    seen = seq.frame_indices[np.asarray(seq.confidence).max(-1) > 0] if len(seq) else np.zeros(0, np.int64)
    if not len(seen):
        return 0
    breaks = np.flatnonzero(np.diff(seen) != 1)
    edges = np.concatenate([[-1], breaks, [len(seen) - 1]])
    return int(np.diff(edges).max())


def check_track(path: Path, seq, what: str = "it has") -> None:
    """Refuse an input whose longest run of consecutive frames with someone detected is under :data:`MIN_FRAMES`
    (nobody detected, or 2D kept every other frame): one line, before any training."""
    check_frames(path, len(seq), what)
    run = longest_detected_run(seq)
    if run < MIN_FRAMES:
        who = "no person detected" if run == 0 else "no two consecutive frames with a person detected"
        raise Pose3dError(f"{path}: {who} in its {len(seq)} frames; adapt learns from tracks of at least "
                          f"{MIN_FRAMES} consecutive frames: give footage in which the worker is seen (2D for "
                          "every frame)")


def _written_by_adapt(csv: Path, source: Path) -> bool:
    """Whether ``csv`` is the 2D a previous adapt run wrote for this same input (its ``# source:`` line names it)."""
    try:
        with open(csv, encoding="utf-8", errors="replace") as fh:
            head = [fh.readline() for _ in range(6)]
    except OSError:
        return False
    if not head[0].startswith("# skeleton:"):
        return False
    named = next((line[len("# source:"):].strip() for line in head if line.startswith("# source:")), None)
    if named is None:
        return False
    if named == " ".join(str(source).split()):
        return True
    try:
        return Path(named).resolve() == source.resolve()
    except (OSError, ValueError):
        return False


def _check_overwrite(csv: Path, source: Path) -> None:
    """The work CSV of ``source`` may replace only the 2D an earlier adapt wrote for that same input: a user's file
    of that name is refused before any work."""
    if csv.is_dir() or (csv.exists() and not _written_by_adapt(csv, source)):
        raise Pose3dError(f"{csv}: exists and is not 2D that adapt wrote for {source}; the detected 2D would "
                          "overwrite it; nothing was written: move it away, or give --work-dir another folder")


@dataclass
class SiteInput:
    """One checked input of the site: a keypoint file already read (``seq``) or a video to detect (``seq`` None),
    its camera in ``--calib`` and the pose3d CSV its 2D goes to in the work folder."""

    path: Path
    csv: Path
    seq: object | None = None
    camera: str | None = None


def check_replay(replay: str | Path, init: str | Path, ck: dict, subsample: int = 1) -> str:
    """The ``--replay`` pairs, checked before any detection: a pose3d pairs file with 'train' pairs to replay (at
    least one an epoch at ``subsample``) and 'val' pairs to validate on, of the ``--init`` checkpoint's skeleton,
    with finite 3D (read in chunks; nothing else loaded). Returns the skeleton name."""
    from ..dataset import check_finite_3d_file, describe

    path = Path(replay)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such replay pairs file; give --replay synthetic pairs (pose3d synth)")
    try:
        info = describe(path)
    except Pose3dError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OSError) as e:
        raise Pose3dError(f"{path}: incomplete or damaged pose3d pairs file ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:80] if str(e) else ''}); give --replay pairs made by "
                          "`pose3d synth`") from None
    pairs = info["split pairs"]
    if pairs.get("train", 0) == 0:
        raise Pose3dError(f"{path}: no 'train' split pairs to replay; give --replay pairs made by `pose3d synth` "
                          "with a train split")
    if pairs.get("val", 0) == 0:
        raise Pose3dError(f"{path}: no validation pairs (its 'val' split is empty; adapt validates on it); give "
                          "--replay pairs synthesised with --val > 0")
    if pairs["train"] < subsample:
        raise Pose3dError(f"--subsample {subsample}: {path} has {pairs['train']} 'train' pairs to replay, so an epoch "
                          f"would train on none; give --subsample {pairs['train']} or less")
    skeleton = info["skeleton"]
    theirs = (ck.get("skeleton") or {}).get("name")
    if theirs != skeleton:
        raise Pose3dError(f"{init}: checkpoint skeleton {theirs} differs from the replay pairs' {skeleton} "
                          f"({path}); give --replay pairs synthesised for {theirs}")
    check_finite_3d_file(path, ("train", "val"))
    return skeleton


def check_inputs(files: list[Path], workdir: Path, opts: AdaptOptions, skeleton: str,
                 reads: list[str | Path | None] = ()) -> list[SiteInput]:
    """Everything about the site's inputs that can be checked without detecting, each refused in one line naming
    the user's file: keypoint files are read (image size, ``--frames``, skeleton), videos opened (``--frames``
    within them), each input's camera found in ``--calib``, ``--detector-model`` loaded, and no two inputs (nor an
    input of the run) mapped to one work CSV."""
    from dataclasses import replace

    from ..detect.keypoint_files import read_keypoints
    from ..skeleton import SkeletonError, get_skeleton

    cams = None
    if opts.calib:
        from ..multiview.calibration import camera_for_size, camera_for_video, load_calibration

        cams = load_calibration(opts.calib)
    planned: dict[Path, Path] = {}
    read_files = {Path(r).resolve() for r in [*files, *reads] if r is not None and Path(r).is_file()}
    out, videos = [], []
    for p in files:
        csv = workdir / f"{p.stem}.csv"
        key = csv.resolve()
        if key in planned:
            raise Pose3dError(f"{p}: its 2D would go to {csv} like that of {planned[key]}; give inputs with distinct "
                              "file names")
        if key in read_files:
            raise Pose3dError(f"{csv}: the 2D of {p} would overwrite this input of the run; choose another "
                              "--work-dir")
        planned[key] = p
        _check_overwrite(csv, p)
        item, cam = SiteInput(p, csv), None
        if cams is not None:
            try:
                cam = camera_for_video(cams, p.name, where=str(opts.calib))
                item.camera = cam.name
            except Pose3dError:
                names = ", ".join(c.name for c in cams)
                raise Pose3dError(f"{p}: its file name names no camera of {opts.calib} ({names}); rename it after "
                                  f"its camera (e.g. {cams[0].name}{p.suffix})") from None
        if is_keypoint_input(p):
            seq = read_keypoints(p)
            if seq.person_ids is not None and len({i for ids in seq.person_ids for i in ids}) > 1:
                ids = sorted({i for ids in seq.person_ids for i in ids})
                raise Pose3dError(f"{p}: holds people {', '.join(map(str, ids[:6]))}{' ...' if len(ids) > 6 else ''}; "
                                  "adapt learns one person's track per input: keep one person's rows (or give one "
                                  "file per person)")
            seq = replace(seq, image_size=tuple(opts.size) if opts.size else seq.image_size, source=str(p))
            if seq.image_size is None:
                raise Pose3dError(f"{p}: image size unknown (the file does not say it); pass --size WIDTHxHEIGHT "
                                  "(the footage's frame size in pixels)")
            if cam is not None:  # keypoints of other images than the calibrated camera's: refused, not stretched
                camera_for_size(cam, tuple(seq.image_size), str(p))
            seq = cut_frames(seq, opts.frames)
            check_track(p, seq)
            try:
                seq.to(get_skeleton(skeleton))
            except (SkeletonError, Pose3dError) as e:
                raise Pose3dError(f"{p}: 2D of skeleton {seq.skeleton} cannot be converted to the model's {skeleton} "
                                  f"({str(e).splitlines()[0][:100] if str(e) else type(e).__name__}); give "
                                  "keypoints of a skeleton that has its joints") from None
            item.seq = seq
        else:
            from ..infer.sources import open_source

            src = open_source(p)  # reads one frame: a broken video is refused before any detection
            if cam is not None:  # a rotated or cropped video does not fit its camera: refused before detection
                camera_for_size(cam, src.size, str(p))
            if opts.frames and src.num_frames and opts.frames[0] >= src.num_frames:
                raise Pose3dError(f"{p}: the video has {src.num_frames} frames, none in --frames "
                                  f"{opts.frames[0]}:{opts.frames[1]}; give START below {src.num_frames}")
            if src.num_frames:  # a frame count the container states (else the detected track is checked)
                a, b = opts.frames or (0, src.num_frames)
                check_frames(p, min(b, src.num_frames) - a, "the video has")
            videos.append(p)
        out.append(item)
    if opts.detector_model and not videos:
        raise Pose3dError(f"--detector-model {opts.detector_model}: the detector runs on videos; these inputs are "
                          "keypoint files (their 2D is used as it is): drop --detector-model")
    if videos and opts.detector_model:
        from ..detect.mediapipe import BlazePoseDetector

        BlazePoseDetector(opts.detector_model).close()  # a bad .task is refused before detecting any video
    return out


def site_sources(inputs: list[SiteInput], workdir: Path, opts: AdaptOptions,
                 written: list[Path] | None = None) -> list[dict]:
    """Detect each video (keypoint files were read by :func:`check_inputs`), keep ``opts.frames``, write its 2D as
    a pose3d CSV in ``workdir`` and return the ``2d`` source entries; each CSV written is appended to ``written``."""
    from ..detect.keypoint_files import write_keypoints_csv

    out = []
    for item in inputs:
        seq = item.seq if item.seq is not None else cut_frames(keypoints_of(item.path, opts.detector_model),
                                                               opts.frames)
        check_track(item.path, seq, "its detected track has")
        if written is not None and not item.csv.exists():
            written.append(item.csv)
        write_keypoints_csv(seq, item.csv)
        out.append(source_entry(item, opts))
    return out


def source_entry(item: SiteInput, opts: AdaptOptions) -> dict:
    """The ``2d`` source entry train reads back for one site input (its work CSV, weight and intrinsics)."""
    entry = {"path": str(item.csv), "kind": "2d", "weight": opts.site_weight,
             **{k: getattr(opts, k) for k in ("fov", "focal", "calib") if getattr(opts, k) is not None}}
    if item.camera is not None:
        entry["camera"] = item.camera
    return entry


def adapt(inputs: list[str | Path], output: str | Path, opts: AdaptOptions, workdir: str | Path,
          log: str | None = None) -> dict:
    """Adapt ``opts.init`` to the site's ``inputs``; writes ``output`` (a checkpoint) and returns train's summary.

    Refuses before any detection, in one line naming the file: no intrinsics, a bad ``--init``, bad replay pairs,
    a bad calibration or an input naming none of its cameras, a keypoint file without image size (``--size``),
    ``--frames`` outside an input, a bad ``--detector-model``, a work folder that is a file. When the run fails
    the work folder it created is removed (a folder that was already there keeps all but the CSVs this run added).
    """
    import shutil
    from dataclasses import replace

    from ..train import TrainConfig, check_config, train
    from ..training.sources import parse_source

    if not (opts.fov or opts.focal or opts.calib):
        raise Pose3dError(f"{inputs[0]}: 2D-only site footage needs intrinsics to turn pixels into rays; give --fov "
                          "<degrees across the long side>, --focal <px> or --calib <file>")
    from ..infer.calibration import check_intrinsics_options

    check_intrinsics_options(opts.fov, opts.focal, opts.calib)  # one source of intrinsics (infer's rule)
    priors = opts.prior_weight > 0 or opts.shape_prior_weight > 0 or opts.smooth_weight > 0  # what reads --prior
    base = TrainConfig(data=str(opts.replay), output=str(output), init=opts.init,
                       prior=str(opts.replay) if priors else None,
                       epochs=opts.epochs, subsample=opts.subsample, lr=opts.lr, seed=opts.seed, threads=opts.threads,
                       max_minutes=opts.max_minutes, log=log, reproj_weight=opts.reproj_weight,
                       bone_constancy_weight=opts.bone_constancy_weight, smooth_weight=opts.smooth_weight,
                       prior_weight=opts.prior_weight, shape_prior_weight=opts.shape_prior_weight,
                       distill_weight=opts.distill_weight,
                       init_share=opts.init_share)
    check_config(base)  # rates and weights, before any detection (the site's weight: parse_source below)
    workdir = Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise Pose3dError(f"{workdir}: exists and is a file, not a folder; give --work-dir a folder (new or existing) "
                          "for the detected 2D")
    ck = check_init(opts.init)
    skeleton = check_replay(opts.replay, opts.init, ck, opts.subsample)
    files = site_inputs(inputs)
    plan = check_inputs(files, workdir, opts, skeleton, [opts.init, opts.replay, opts.calib, opts.detector_model])
    for item in plan:  # the entries train reads back, checked as train will (not after detecting)
        parse_source(source_entry(item, opts), str(item.path))
    created = not workdir.exists()
    written: list[Path] = []
    try:
        workdir.mkdir(exist_ok=True)
        sources = site_sources(plan, workdir, opts, written)
        summary = train(replace(base, sources=sources))
        if summary["best_epoch"] < 0:  # stopped inside the first epoch: no model, and adapt has no --resume
            from ..train import last_path

            last_path(Path(output)).unlink(missing_ok=True)
            raise Pose3dError(f"{output}: the run stopped ({summary['stopped'].replace('_', ' ')}) before its first "
                              "epoch ended; no model was written: raise --max-minutes (or lower --subsample's "
                              "epoch size)")
        return summary
    except BaseException:
        if created:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for f in written:
                f.unlink(missing_ok=True)
        raise
