"""Video (or 2D keypoint file) → :class:`~.io.Poses`, through the infer pipeline's own functions.

Nothing of infer is re-implemented: :func:`pose3d_cli.infer.pipeline.detect_video` / ``read_track`` and
``lift_track`` do the work; this module only adapts their ``PoseTrack`` for scoring and keeps the 2D keypoints
for the report's thumbnails, the detector's hand/face points (``PoseTrack.points``) and a second lift of the same
2D without flip averaging (``Poses.plain_joints``: the per-frame lift spread of :mod:`.assess`).

Timestamps: infer's frame sources give each video frame its container presentation timestamp (a
variable-frame-rate phone video keeps its real times; ``--fps`` overrides with index / fps); this is stated in the
summary (``timestamps``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import Pose3dError
from .io import Poses

TIMESTAMPS_NOTE = "the video container's per-frame presentation timestamps (infer's time_s)"


def check_video_input(path: str, fps: float | None = None):
    """Open the source early (before the model loads): refuse unreadable inputs and 1-frame inputs."""
    from ..infer.sources import open_source

    src = open_source(path, fps)
    if src.num_frames is not None and src.num_frames < 2:
        raise Pose3dError(f"{path}: {src.num_frames} frame; RULA/REBA over time need a video of at least 2 frames")
    return src


def people_from_input(input_path: str, opts, lifter=None, on_frame: Callable[[int], None] | None = None,
                      on_start: Callable[[int | None], None] | None = None):
    """Run infer's detection (or keypoint-file reading), tracking and lifting of every chosen person.

    Args:
        opts: :class:`pose3d_cli.infer.pipeline.InferOptions`; ``opts.person`` (all, largest or an id) chooses
            the people and ``opts.max_people`` the detector path (1: the single-person BlazePose path).
    Returns:
        ([(person id, Poses, PoseTrack)], FrameSource or None); an unknown ``opts.person`` is a Pose3dError
        listing the ids found (nothing written).
    """
    from ..infer.lifter import load_lifter
    from ..infer.pipeline import lift_track, tracks_of_input

    lifter = lifter or load_lifter(opts.model)
    tracks, source = tracks_of_input(input_path, opts, on_frame, on_start)
    plain_lifter = load_lifter(lifter.path or opts.model, flip_tta=False)  # the lift spread
    people = []
    for track in tracks:
        pt = lift_track(track, lifter, opts)
        plain = lift_track(track, plain_lifter, opts)
        meta = dict(pt.metadata)
        meta["timestamps"] = TIMESTAMPS_NOTE if source is not None else "frame index / fps of the keypoint file"
        poses = Poses(np.asarray(pt.frame), np.asarray(pt.time_s, dtype=np.float64), np.asarray(pt.detected, bool),
                      pt.joints3d.astype(np.float64), np.asarray(pt.conf, dtype=np.float64), meta["skeleton"], meta,
                      str(input_path), pt.points, plain.joints3d.astype(np.float64))
        poses.joints[~poses.detected] = np.nan
        poses.plain_joints[~poses.detected] = np.nan
        people.append((track.person, poses, pt))
    return people, source


MAX_MOVING_FRAMES = 600  # a moving camera's vertical: 4 samples a second, at most this many per video


def scene_vertical(source, tracks: list, fov: float | None = None, focal: float | None = None, n_frames: int = 8,
                   min_conf: float = 0.3):
    """A function ``prior up → SceneUp`` for :func:`.assess.resolve_vertical`: the scene's vertical lines in
    ``n_frames`` frames spread over the video, each tracked person's 2D box (widened by 15%) left out. When those
    frames show a moving camera (a hand-held phone), its vertical is measured 4 times a second (at most
    :data:`MAX_MOVING_FRAMES` frames) with the focal length found, for :meth:`.assess.Vertical.up_at` to interpolate.

    Args:
        source: the video's :class:`~pose3d_cli.infer.sources.FrameSource`; tracks: infer's ``PoseTrack`` of every
            person (their 2D keypoints give the boxes); fov/focal: the user's intrinsics (``--fov``/``--focal``),
            else the field of view is searched from the lines.
    Returns:
        the function, or None when the source is not a video or no frame could be read.
    """
    from ..body.scene_lines import MAX_FROM_BODY_DEG, frame_ups, scene_up
    from ..synth.cameras import intrinsics_from_fov
    from ..infer.calibration import intrinsics_for
    from ..infer.sources import sample_frames

    if source is None or source.kind != "video":
        return None
    frames = sample_frames(source, n_frames)
    if not frames:
        return None
    size = frames[0][1].shape[1::-1]
    frames = [(i, img) for i, img in frames if img.shape[1::-1] == size]
    boxes = [_person_boxes(tracks, i, min_conf) for i, _ in frames]
    K = intrinsics_for(tuple(size), fov, focal).K if (fov or focal) else None

    def estimate(prior):  # prior: the body poses' estimate (or None: the level camera, no agreement check)
        s = scene_up([img for _, img in frames], K, prior, boxes,
                     max_from_prior_deg=None if prior is None else MAX_FROM_BODY_DEG)
        s.frame_index = np.array([i for i, _ in frames])
        if s.accepted and s.moving:  # a hand-held phone: its vertical 4 times a second, interpolated in between
            n = int(min(MAX_MOVING_FRAMES, max(2 * n_frames, round(source.num_frames / source.fps * 4))))
            dense = [(i, img) for i, img in sample_frames(source, n) if img.shape[1::-1] == size]
            Kd = K if K is not None else intrinsics_from_fov(s.fov_deg, *size)
            s.frame_up = frame_ups([img for _, img in dense], Kd, s.up,
                                   [_person_boxes(tracks, i, min_conf) for i, _ in dense])
            s.frame_index = np.array([i for i, _ in dense])
        return s

    return estimate


def _person_boxes(tracks: list, frame: int, min_conf: float, grow: float = 0.15) -> np.ndarray:
    """(M, 4) boxes ``x0, y0, x1, y1`` px of every person detected at ``frame`` (their confident 2D keypoints),
    widened by ``grow`` × the box size on each side."""
    out = []
    for pt in tracks:
        rows = np.flatnonzero((np.asarray(pt.frame) == frame) & np.asarray(pt.detected, bool))
        if not len(rows):
            continue
        uv, c = pt.uv[rows[0]], pt.conf[rows[0]]
        ok = np.isfinite(uv).all(1) & (c >= min_conf)
        if ok.sum() < 2:
            continue
        lo, hi = uv[ok].min(0), uv[ok].max(0)
        pad = grow * (hi - lo)
        out.append(np.concatenate([lo - pad, hi + pad]))
    return np.array(out).reshape(-1, 4)
