"""The input/output codec of the lifting networks: one place, used by train, eval, infer and export.

Inputs, in two steps:

1. **pixels → normalised camera coordinates** (numpy, outside the network, :func:`pixels_to_network_input`):
   ``(u, v)`` with intrinsics ``K`` and distortion become ``(x/z, y/z)``: image size and focal length are
   gone. When a video's intrinsics are unknown, ``K`` comes from a phone's field of view (infer's ``--fov``).
2. **centre and scale** (torch, *inside* the network, :class:`~pose3d_cli.lifting.layers.InputNormalizer`, so ONNX/TorchScript exports
   carry it): per frame, the confidence-weighted centroid ``c`` of the joints is subtracted and the result is
   divided by their weighted RMS spread ``s``. The network sees ``(x - c) / s``, the confidence, and ``c``
   (the direction of the person's ray, which tells it the viewing angle) and ``log s``. Joints with
   confidence 0 are zeroed, so a missing joint never leaks a coordinate.

Outputs: root-relative 3D joints in the camera frame, millimetres. The network predicts standardised values;
:class:`~pose3d_cli.lifting.layers.OutputDenormalizer` multiplies by the per-joint std and adds the mean measured on the training set
(both stored in the checkpoint), so the exported model outputs millimetres directly.

This module is numpy only (``infer --model x.onnx`` runs without torch); the torch half is in ``layers.py``.
"""

from __future__ import annotations

import numpy as np

from ..geometry import pixels_to_normalized

CODEC_NAME = "camera-centred-v1"
EXTRA_FEATURES = 3  # centroid x, y and log scale


def pixels_to_network_input(uv: np.ndarray, confidence: np.ndarray, K: np.ndarray,
                            dist: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step 1 of the codec.

    Args:
        uv: (..., J, 2) pixels.
        confidence: (..., J).
        K: (3, 3) or (..., 3, 3) intrinsics broadcast over the leading dims; dist: (5,) or None.
    Returns:
        xy (..., J, 2) float32 normalised camera coordinates (0 where confidence is 0), confidence float32.
    """
    xy = pixels_to_normalized(np.asarray(uv, dtype=np.float64), np.asarray(K, dtype=np.float64), dist)
    # a pixel the lens model cannot undistort (beyond its valid range) is a missing joint, not a NaN input
    conf = np.where(np.isfinite(xy).all(-1), np.asarray(confidence, dtype=np.float32), 0.0).astype(np.float32)
    xy = np.where(conf[..., None] > 0, xy, 0.0)
    return xy.astype(np.float32), conf


def num_input_features(num_joints: int) -> int:
    return num_joints * 3 + EXTRA_FEATURES


def target_statistics(joints_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint mean and std (J, 3) of root-relative training targets (N, J, 3) mm; the root's std is 1."""
    mean = joints_rel.mean(axis=0)
    std = joints_rel.std(axis=0)
    std = np.where(std < 1e-3, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def root_relative(joints: np.ndarray, root: int) -> np.ndarray:
    """(…, J, 3) → the same with joint ``root`` moved to the origin."""
    return joints - joints[..., root:root + 1, :]


def detector3d_to_network_input(joints_rel: np.ndarray | None, present: np.ndarray | None,
                                shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The fused lifter's optional input: the detector's own 3D (BlazePose world landmarks).

    Args:
        joints_rel: (..., J, 3) root-relative mm in the camera frame, or None (absent everywhere).
        present: (...,) bool, or None (present wherever ``joints_rel`` is finite).
        shape: the leading dims plus J, ``(..., J)``, used when ``joints_rel`` is None.
    Returns:
        det (..., J, 3) float32 mm (0 where absent, so an absent input never leaks a coordinate) and
        mask (...,) float32 (1 present, 0 absent). Inside the network the coordinates are standardised by the
        model's target statistics (:class:`~pose3d_cli.lifting.models.FusedLifter`).
    """
    if joints_rel is None:
        return np.zeros((*shape, 3), np.float32), np.zeros(shape[:-1], np.float32)
    det = np.asarray(joints_rel, np.float64)
    ok = np.isfinite(det).all(axis=(-1, -2))
    if present is not None:
        ok &= np.asarray(present, bool)
    det = np.where(ok[..., None, None], np.nan_to_num(det), 0.0)
    return det.astype(np.float32), ok.astype(np.float32)
