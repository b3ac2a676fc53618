"""The scene's vertical of a video for the commands that measure angles (``ergo``, ``infer --angles``).

:func:`scene_vertical` samples a video's frames (:func:`~pose3d_cli.infer.sources.sample_frames`), leaves out each
line segment along a tracked person's 2D limbs (:func:`~pose3d_cli.body.scene_lines.drop_near_limbs`) and returns
the function :func:`pose3d_cli.body.vertical.choose_vertical` calls with the body estimate as prior; the geometry
is :mod:`pose3d_cli.body.scene_lines`.
"""

from __future__ import annotations

import numpy as np

MAX_MOVING_FRAMES = 600  # a moving camera's vertical: 4 samples a second, at most this many per video
#: radius of the capsule around each 2D bone whose segments are left out, × the person's 2D size (the larger side
#: of its keypoints' box): about a limb's half-width plus clothing. Set once, not tuned (README "Vertical")
LIMB_MASK_FRACTION = 0.1


def scene_vertical(source, tracks: list, fov: float | None = None, focal: float | None = None, n_frames: int = 8,
                   min_conf: float = 0.3):
    """A function ``prior up → SceneUp`` for :func:`pose3d_cli.body.vertical.choose_vertical`: the scene's lines in
    ``n_frames`` frames spread over the video, each tracked person's limbs left out (a capsule around each 2D bone,
    :data:`LIMB_MASK_FRACTION` of the person's size). When those
    frames show a moving camera (a hand-held phone), its vertical is measured 4 times a second (at most
    :data:`MAX_MOVING_FRAMES` frames) with the focal length found, for ``Vertical.up_at`` to interpolate.

    Args:
        source: the video's :class:`~pose3d_cli.infer.sources.FrameSource`; tracks: infer's ``PoseTrack`` of every
            person (their 2D keypoints give the boxes); fov/focal: the user's intrinsics (``--fov``/``--focal``),
            else the field of view is searched from the lines.
    Returns:
        the function, or None when the source is not a video or no frame could be read.
    """
    from ..body.scene_lines import MAX_FROM_BODY_DEG, frame_ups, scene_up
    from ..synth.cameras import intrinsics_from_fov
    from .calibration import intrinsics_for
    from .sources import sample_frames

    if source is None or source.kind != "video":
        return None
    frames = sample_frames(source, n_frames)
    if not frames:
        return None
    size = frames[0][1].shape[1::-1]
    frames = [(i, img) for i, img in frames if img.shape[1::-1] == size]
    limbs = [_person_limbs(tracks, i, min_conf) for i, _ in frames]
    K = intrinsics_for(tuple(size), fov, focal).K if (fov or focal) else None

    def estimate(prior):  # prior: the body poses' estimate (or None: the level camera, no agreement check)
        s = scene_up([img for _, img in frames], K, prior, limbs,
                     max_from_prior_deg=None if prior is None else MAX_FROM_BODY_DEG)
        s.frame_index = np.array([i for i, _ in frames])
        if s.accepted and s.moving:  # a hand-held phone: its vertical 4 times a second, interpolated in between
            n = int(min(MAX_MOVING_FRAMES, max(2 * n_frames, round(source.num_frames / source.fps * 4))))
            dense = [(i, img) for i, img in sample_frames(source, n) if img.shape[1::-1] == size]
            Kd = K if K is not None else intrinsics_from_fov(s.fov_deg, *size)
            s.frame_up = frame_ups([img for _, img in dense], Kd, s.up,
                                   [_person_limbs(tracks, i, min_conf) for i, _ in dense])
            s.frame_index = np.array([i for i, _ in dense])
        return s

    return estimate


def _person_limbs(tracks: list, frame: int, min_conf: float) -> list:
    """Every person detected at ``frame``: the capsules (:data:`pose3d_cli.body.scene_lines.Limbs`) around the 2D
    bones whose two joints are confident, radius :data:`LIMB_MASK_FRACTION` × the person's 2D size."""
    from ..skeleton import get_skeleton

    out = []
    for pt in tracks:
        rows = np.flatnonzero((np.asarray(pt.frame) == frame) & np.asarray(pt.detected, bool))
        if not len(rows):
            continue
        uv, c = pt.uv[rows[0]].astype(np.float64), pt.conf[rows[0]]
        ok = np.isfinite(uv).all(1) & (c >= min_conf)
        if ok.sum() < 2:
            continue
        bones = get_skeleton(pt.metadata.get("skeleton", "h36m17")).bone_indices
        both = ok[bones[:, 0]] & ok[bones[:, 1]]
        size = float(np.ptp(uv[ok], axis=0).max())
        out.append((uv[bones[both, 0]], uv[bones[both, 1]], LIMB_MASK_FRACTION * size))
    return out
