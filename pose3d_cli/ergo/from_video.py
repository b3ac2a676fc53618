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

from pathlib import Path

from typing import Callable

import numpy as np

from ..errors import Pose3dError
from .io import Poses

TIMESTAMPS_NOTE = "the video container's per-frame presentation timestamps (infer's time_s)"


def check_input_kind(path: str) -> None:
    """Refuse, by name alone (nothing decoded), what ergo does not score: a file of another kind (in ergo's words:
    its inputs are not infer's) and a folder of photos (unrelated photos are no clip of one camera over time)."""
    from ..infer.sources import IMAGE_EXT, VIDEO_EXT

    p = Path(path)
    if p.is_file() and p.suffix.lower() not in VIDEO_EXT | IMAGE_EXT | {".csv", ".json", ".npz"}:
        raise Pose3dError(f"{path}: not something pose3d ergo scores; give a video, a pose3d infer output "
                          "(.csv/.json), a pose3d triangulate reference (.npz), or several calibrated videos")
    if p.is_dir() and sum(1 for c in p.iterdir() if c.suffix.lower() in IMAGE_EXT) > 1:
        raise Pose3dError(f"{path}: a folder of photos; pose3d ergo scores a video of one worker over time (the "
                          "photos would be taken for one clip's frames and one camera's): give the video (scoring "
                          "still photos one by one is not supported yet)")


def check_video_input(path: str, fps: float | None = None):
    """Open the source early (before the model loads): refuse unreadable inputs and 1-frame inputs."""
    from ..infer.sources import open_source

    check_input_kind(path)
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
        meta["timestamps"] = (TIMESTAMPS_NOTE if source is not None and source.container_times else
                              f"frame index / {source.fps:g} fps (--fps, or a folder of images)" if source is not None
                              else "frame index / fps of the keypoint file")
        poses = Poses(np.asarray(pt.frame), np.asarray(pt.time_s, dtype=np.float64), np.asarray(pt.detected, bool),
                      pt.joints3d.astype(np.float64), np.asarray(pt.conf, dtype=np.float64), meta["skeleton"], meta,
                      str(input_path), pt.points, plain.joints3d.astype(np.float64))
        poses.joints[~poses.detected] = np.nan
        poses.plain_joints[~poses.detected] = np.nan
        people.append((track.person, poses, pt))
    return people, source
