"""The detector's own 3D (MediaPipe BlazePose "world landmarks") as an infer result, so that it can be written
and scored exactly like the lifter's output (``pose3d infer --detector-3d``).

The world landmarks are metric (mm here), centred between BlazePose's hips, with MediaPipe's axes (x to the
image's right, y down, z away from the camera, roughly the camera's orientation). They are mapped to the
output skeleton by joint name and made root-relative (the pelvis at 0), like the lifter's output.
"""

from __future__ import annotations

import numpy as np

from .. import __version__
from ..errors import Pose3dError
from ..skeleton import convert, get_skeleton
from .writers import PoseTrack


def detector_world_joints(track, skeleton: str = "h36m17", swapped: np.ndarray | None = None) -> np.ndarray | None:
    """The track's world landmarks in ``skeleton``, root-relative mm (T, J, 3) (NaN rows where undetected), or
    None when the 2D input carries none (a keypoint file): the fused lifter's optional input.

    ``swapped`` (T,) bool: frames whose 2D left/right labels infer's swap fix exchanged; the detector's 3D carries
    the labels of its 2D, so its left and right are exchanged there too."""
    if track.world is None:
        return None
    sk = get_skeleton(skeleton)
    world, _ = convert(track.world.astype(np.float64), track.skeleton, sk)
    root = sk.index(sk.root)
    out = (world - world[:, root:root + 1]).astype(np.float32)
    if swapped is not None and np.any(swapped):
        out[swapped] = out[swapped][:, sk.flip_permutation]
    return out


def detector_world_track(track, skeleton: str = "h36m17", min_joints: int = 6) -> PoseTrack:
    """A :class:`~pose3d_cli.infer.pipeline.Track2D` with detector world landmarks → PoseTrack in ``skeleton``."""
    if track.world is None:
        raise Pose3dError(f"{track.name}: this 2D input carries no detector 3D (world landmarks come only with the "
                          "built-in BlazePose detector on a video or images)")
    sk = get_skeleton(skeleton)
    uv, conf = convert(track.uv, track.skeleton, sk, track.conf)
    world, _ = convert(track.world.astype(np.float64), track.skeleton, sk)
    detected = ((conf > 0).sum(axis=1) >= min_joints) & np.isfinite(world).all(axis=(1, 2))
    root = sk.index(sk.root)
    joints = (world - world[:, root:root + 1]).astype(np.float32)
    joints[~detected] = np.nan
    meta = {"pose3d_version": __version__, "input": track.name, "model": "detector world landmarks",
            "model_name": f"{track.detector} world landmarks", "skeleton": sk.name, "fps": track.fps,
            "image_size": list(track.size), "detector": track.detector, "smoothing": "none",
            "units": "mm (3D), pixels (2D)",
            "coordinate_frame": "MediaPipe world: x right, y down, z away from the camera; root-relative (pelvis at 0)"}
    return PoseTrack(track.frame, track.time_s, detected, joints, uv, conf, sk.joints, meta)
