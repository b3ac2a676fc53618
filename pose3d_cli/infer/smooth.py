"""Temporal smoothing of per-frame 3D joints for single-frame models: One-Euro or Savitzky–Golay."""

from __future__ import annotations

import numpy as np


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.02, d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter (Casiez et al. 2012) along axis 0 of (T, ...) data; NaN frames are skipped and kept NaN.

    ``min_cutoff`` (Hz) sets the smoothing of slow motion, ``beta`` how fast the cutoff rises with speed
    (units: the data's, here mm/s).
    """
    out = np.full_like(x, np.nan, dtype=np.float64)
    dt = 1.0 / fps

    def alpha(cutoff):
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    prev = None
    dprev = np.zeros(x.shape[1:])
    a_d = alpha(d_cutoff)
    for t in range(x.shape[0]):
        cur = x[t]
        if not np.all(np.isfinite(cur)):
            continue
        if prev is None:
            prev = cur.astype(np.float64)
            out[t] = prev
            continue
        dx = (cur - prev) / dt
        dprev = a_d * dx + (1 - a_d) * dprev
        a = alpha(min_cutoff + beta * np.abs(dprev))
        prev = a * cur + (1 - a) * prev
        out[t] = prev
    return out.astype(x.dtype)


def savgol(x: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Savitzky–Golay smoothing along axis 0 (numpy least-squares kernel; edges use shorter fits). NaN rows kept."""
    T = x.shape[0]
    if T < 3:
        return x.copy()
    window = min(window if window % 2 else window + 1, T if T % 2 else T - 1)
    half = window // 2
    order = min(order, window - 1)
    k = np.arange(-half, half + 1)
    A = np.vander(k, order + 1, increasing=True)
    coeff = np.linalg.pinv(A)[0]  # value at the centre
    valid = np.all(np.isfinite(x.reshape(T, -1)), axis=1)
    filled = x.copy()
    if not valid.any():
        return filled
    idx = np.arange(T)
    flat = filled.reshape(T, -1)
    for c in range(flat.shape[1]):
        flat[~valid, c] = np.interp(idx[~valid], idx[valid], flat[valid, c])
    padded = np.pad(flat, ((half, half), (0, 0)), mode="reflect")
    sm = np.stack([coeff @ padded[t:t + window] for t in range(T)])
    out = sm.reshape(x.shape)
    out[~valid] = np.nan
    return out.astype(x.dtype)


def smooth(x: np.ndarray, method: str, fps: float) -> np.ndarray:
    """``none`` | ``one-euro`` | ``savgol`` over (T, J, 3)."""
    if method == "none":
        return x
    if method == "one-euro":
        return one_euro(x, fps)
    if method == "savgol":
        return savgol(x, window=max(5, int(round(fps / 4)) | 1))
    from ..errors import Pose3dError

    raise Pose3dError(f"--smooth must be none, one-euro or savgol, got {method!r}")
