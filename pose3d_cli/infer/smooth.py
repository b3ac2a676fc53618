"""Temporal smoothing of per-frame 3D joints for single-frame models.

One-Euro (causal: live cameras), Savitzky–Golay, and zero-phase Butterworth (``butter``: a 2nd-order low-pass run
forwards and backwards, cut-off :data:`BUTTER_CUTOFF_HZ`; files only: it needs the
whole track)."""

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


#: zero-phase low-pass cut-off (Hz), chosen on the pose2sim DEV frames 0-49 among 3, 4, 6 and 8 Hz
BUTTER_CUTOFF_HZ = 6.0


def _biquad(x: np.ndarray, b: tuple, a: tuple) -> np.ndarray:
    """Direct-form IIR (2nd order) along axis 0 of (T, C), started at rest on ``x[0]`` (no start-up transient)."""
    y = np.empty_like(x)
    x1 = x2 = y1 = y2 = x[0]
    for t in range(len(x)):
        y[t] = b[0] * x[t] + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        x2, x1, y2, y1 = x1, x[t], y1, y[t]
    return y


def butter_zero_phase(x: np.ndarray, fps: float, cutoff: float = BUTTER_CUTOFF_HZ) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass along axis 0 of (T, ...) data (no lag): the bilinear-transform
    biquad run forwards then backwards over the track padded by odd reflection (as ``scipy.signal.filtfilt``;
    numpy only, so the torch-free ONNX path needs no scipy). NaN rows are interpolated for the filter and stay
    NaN. Tracks of fewer than 4 valid frames, or a cut-off at or above Nyquist, are returned as is."""
    T = x.shape[0]
    flat = x.reshape(T, -1).astype(np.float64)
    valid = np.all(np.isfinite(flat), axis=1)
    if valid.sum() < 4 or cutoff >= fps / 2:
        return x.copy()
    idx = np.arange(T)
    filled = np.stack([np.interp(idx, idx[valid], flat[valid, c]) for c in range(flat.shape[1])], 1)
    k = np.tan(np.pi * cutoff / fps)
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    b = (k * k * norm, 2 * k * k * norm, k * k * norm)
    a = (1.0, 2 * (k * k - 1) * norm, (1 - np.sqrt(2.0) * k + k * k) * norm)
    n = min(T - 1, max(9, int(round(fps / cutoff))))
    padded = np.concatenate([2 * filled[0] - filled[n:0:-1], filled, 2 * filled[-1] - filled[-2:-n - 2:-1]])
    y = _biquad(_biquad(padded, b, a)[::-1], b, a)[::-1][n:n + T]
    out = y.reshape(x.shape)
    out[~valid] = np.nan
    return out.astype(x.dtype)


def smooth(x: np.ndarray, method: str, fps: float) -> np.ndarray:
    """``none`` | ``one-euro`` | ``savgol`` | ``butter`` over (T, J, 3)."""
    if method == "none":
        return x
    if method == "one-euro":
        return one_euro(x, fps)
    if method == "savgol":
        return savgol(x, window=max(5, int(round(fps / 4)) | 1))
    if method == "butter":
        return butter_zero_phase(x, fps)
    from ..errors import Pose3dError

    raise Pose3dError(f"--smooth must be none, one-euro, savgol or butter, got {method!r}")
