"""Simulated detector 3D (BlazePose world landmarks) for training the fused lifter (numpy only).

The error model ``detector3d_error.json`` (next to this file) was measured on real footage by
``benchmarks/detector3d_error_model.py``: MediaPipe's world landmarks of the 4 pose2sim views against their
4-view triangulation, DEV reference frames 0-49 only. It holds, per h36m17 joint, the bias and spread (mm) of
``detector − reference`` in the reference's trunk frame (:func:`pose3d_cli.body.frame.trunk_frame`, rows
anterior, left, up), the depth scale (slope of the detector's camera-z offsets on the truth's) and the side-swap
rate.

:func:`simulate_detector3d` applies it to true root-relative camera-frame joints: depth scale on z, then the
bias plus Gaussian spread in the body frame (measured after the depth scale: :func:`measure_error_model`), then a left/right label swap with the measured rate, and whole-input
dropout (``present`` False: the input is masked, as when a keypoint file carries no world landmarks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..body.frame import trunk_frame
from ..skeleton import get_skeleton

ERROR_MODEL = Path(__file__).with_name("detector3d_error.json")


@dataclass(frozen=True)
class Detector3DError:
    joints: tuple[str, ...]
    bias: np.ndarray  # (J, 3) mm, trunk frame (anterior, left, up)
    spread: np.ndarray  # (J, 3) mm
    depth_scale: float
    swap_rate: float


def load_error_model(path: str | Path = ERROR_MODEL, skeleton: str = "h36m17") -> Detector3DError:
    """The measured error model, reordered to ``skeleton``'s joints (all of them must be in the file)."""
    d = json.loads(Path(path).read_text())
    sk = get_skeleton(skeleton)
    order = [d["joints"].index(n) for n in sk.joints]
    return Detector3DError(tuple(sk.joints), np.asarray(d["bias_mm"], np.float64)[order],
                           np.asarray(d["spread_mm"], np.float64)[order], float(d["depth_scale"]),
                           float(d["swap_rate"]))


def measure_error_model(pred: np.ndarray, truth: np.ndarray, skeleton: str = "h36m17") -> dict:
    """The error model :func:`simulate_detector3d` applies, measured from pairs: the depth scale (least-squares slope
    of the predicted camera-z offsets on the truth's) and the bias (mean) per joint of the error left after that
    scale, ``pred − truth·(1, 1, scale)``, in the truth's trunk frame, fitted together; then the spread (std). (Until stop 29 the bias and
    spread were measured on ``pred − truth``, which holds the depth compression already, and the simulator applied
    the scale on top: twice; the simulated slope came out 0.66 for a measured 0.73.)

    Args:
        pred, truth: (N, J, 3) root-relative camera-frame mm of the same frames, not side-swapped.
    Returns:
        {"bias_mm": (J, 3), "spread_mm": (J, 3), "depth_scale": float}
    """
    sk = get_skeleton(skeleton)
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    F = trunk_frame(truth, sk)  # (N, 3, 3) rows anterior, left, up
    zr = truth[..., 2].ravel()
    bias = np.zeros(truth.shape[1:])
    for _ in range(20):  # scale and bias fitted together (alternating least squares): a body-frame bias projects
        # onto the camera's z with the body's turn, which a slope fitted alone would absorb
        zp = (pred - np.einsum("nij,ki->nkj", F, bias))[..., 2].ravel()
        scale = float((zp * zr).sum() / (zr * zr).sum())
        E = np.einsum("tij,tkj->tki", F, pred - truth * np.array([1.0, 1.0, scale]))
        bias = E.mean(0)
    return {"bias_mm": bias, "spread_mm": E.std(0), "depth_scale": scale}


def simulate_detector3d(joints_rel: np.ndarray, rng: np.random.Generator,
                        error: Detector3DError | None = None, skeleton: str = "h36m17",
                        dropout: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Detector-like 3D from the truth.

    Args:
        joints_rel: (N, J, 3) true root-relative joints, camera frame, mm.
        dropout: probability that a sample's whole detector input is absent.
    Returns:
        det (N, J, 3) float32 root-relative mm (0 where absent), present (N,) bool.
    """
    error = error or load_error_model(skeleton=skeleton)
    sk = get_skeleton(skeleton)
    x = np.asarray(joints_rel, np.float64).copy()
    n = len(x)
    F = trunk_frame(x, sk)  # (N, 3, 3) rows = body axes in camera coordinates
    root = sk.index(sk.root)
    noise_body = error.bias + rng.standard_normal(x.shape) * error.spread
    noise_body[:, root] = 0.0  # the errors were measured root-relative: the root's is 0 by definition
    x[..., 2] *= error.depth_scale
    x += np.einsum("nij,nki->nkj", F, noise_body)  # body-frame vectors → camera frame (F^T v)
    swap = rng.random(n) < error.swap_rate
    x[swap] = x[swap][:, sk.flip_permutation]
    x -= x[:, root:root + 1]
    present = rng.random(n) >= dropout
    x[~present] = 0.0
    return x.astype(np.float32), present
