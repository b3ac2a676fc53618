"""Pose error metrics: plain batched numpy functions over ``(..., J, 3)`` millimetres.

- MPJPE (Protocol 1): mean per-joint position error after aligning the roots (inputs are root-relative).
- P-MPJPE (Protocol 2): after the similarity (rotation, translation, scale) Procrustes alignment, no reflection.
- N-MPJPE: after the optimal scale alone (Rhodin et al. 2018).
- PCK3D@150 mm and its AUC over thresholds 0..150 mm (Mehta et al. 2017).
"""

from __future__ import annotations

import numpy as np

from .geometry import procrustes_align

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0, 150, 31)


def joint_errors(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Euclidean error per joint: (..., J, 3), (..., J, 3) → (..., J) mm."""
    return np.linalg.norm(pred - target, axis=-1)


def mpjpe(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., J, 3) → (...): mean joint error (align the roots first: pass root-relative poses)."""
    return joint_errors(pred, target).mean(axis=-1)


def p_mpjpe_joints(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-joint error after rigid + scale Procrustes alignment: (..., J, 3) → (..., J)."""
    return joint_errors(procrustes_align(pred, target, scale=True), target)


def p_mpjpe(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., J, 3) → (...): MPJPE after Procrustes alignment (rotation, translation, scale)."""
    return p_mpjpe_joints(pred, target).mean(axis=-1)


def n_mpjpe(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., J, 3) → (...): MPJPE after the least-squares scale of ``pred`` (root-relative poses)."""
    num = (pred * target).sum(axis=(-1, -2))
    den = np.maximum((pred * pred).sum(axis=(-1, -2)), 1e-12)
    return mpjpe((num / den)[..., None, None] * pred, target)


def pck(pred: np.ndarray, target: np.ndarray, threshold: float = PCK_THRESHOLD_MM) -> np.ndarray:
    """(..., J, 3) → (...): fraction of joints within ``threshold`` mm."""
    return (joint_errors(pred, target) <= threshold).mean(axis=-1)


def auc(pred: np.ndarray, target: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS_MM) -> np.ndarray:
    """(..., J, 3) → (...): mean PCK over ``thresholds`` (0..150 mm)."""
    err = joint_errors(pred, target)[..., None]
    return (err <= thresholds).mean(axis=(-1, -2))


def summary(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """All metrics, averaged over samples: (N, J, 3) root-relative pred and target → dict (mm, %)."""
    return {
        "mpjpe": float(mpjpe(pred, target).mean()),
        "p_mpjpe": float(p_mpjpe(pred, target).mean()),
        "n_mpjpe": float(n_mpjpe(pred, target).mean()),
        "pck150": float(100 * pck(pred, target).mean()),
        "auc": float(100 * auc(pred, target).mean()),
    }
