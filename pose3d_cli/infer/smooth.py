"""Temporal smoothing of per-frame 3D joints for single-frame models, in time (seconds), not in rows.

One-Euro (causal: live cameras), Savitzky–Golay, and zero-phase Butterworth (``butter``: a 2nd-order low-pass run
forwards and backwards, cut-off :data:`BUTTER_CUTOFF_HZ`; files only: it needs the whole track).

Rows carry timestamps (``time_s``; without them, index / fps). A **hole** in them (:func:`gaps`: a step longer than
:data:`GAP_STEPS` median steps and :data:`GAP_MIN_S`, e.g. frames a keypoint file does not list, or a person out of
view) ends a run: nothing is smoothed across it, and One-Euro starts afresh after it. Within a run the Butterworth
filters on a uniform grid at the run's median step (a variable-frame-rate stretch is filtered in seconds) and
One-Euro steps by the real time between rows. The same rule serves the ergonomic time series
(:mod:`pose3d_cli.ergo.timeline`).
"""

from __future__ import annotations

import numpy as np

#: a step between two timestamps longer than this many median steps, and than GAP_MIN_S, is a hole in the video
#: (frames missing), not a slow frame of a variable-frame-rate recording
GAP_STEPS = 5.0
GAP_MIN_S = 0.5


def gap_seconds(time_s: np.ndarray) -> float:
    """The longest step of ``time_s`` that is no hole: :data:`GAP_STEPS` median steps, at least :data:`GAP_MIN_S`."""
    dt = np.diff(np.asarray(time_s, dtype=np.float64))
    pos = dt[dt > 0]
    return max(GAP_STEPS * (float(np.median(pos)) if len(pos) else 1 / 30), GAP_MIN_S)


def gaps(time_s: np.ndarray) -> np.ndarray:
    """(T - 1,) bool: the steps of ``time_s`` that are holes in the video (see :data:`GAP_STEPS`)."""
    return np.diff(np.asarray(time_s, dtype=np.float64)) > gap_seconds(time_s)


def filter_on_time_grid(ts: np.ndarray, values: np.ndarray, filt) -> np.ndarray:
    """(n, C) ``values`` at the timestamps ``ts`` (n,) of one run, filtered in seconds: ``filt(uniform (m, C), fs)``
    on the samples themselves when their steps are even (within 2% of the median: a steady rate, timestamps rounded
    to the ms), else on a uniform grid at the median step, read back at ``ts`` (a variable frame rate). ``values``
    are returned as they are when the steps give no rate or ``filt`` returns None (the filter does not apply)."""
    ts = np.asarray(ts, dtype=np.float64)
    steps = np.diff(ts)
    step = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    if step <= 0:
        return values
    if np.all(np.abs(steps - step) <= 0.02 * step):
        sm = filt(values, 1.0 / step)
        return values if sm is None else sm
    n = int(np.ceil((ts[-1] - ts[0]) / step - 1e-9)) + 1
    grid = np.linspace(ts[0], ts[-1], n)
    uniform = np.stack([np.interp(grid, ts, values[:, c]) for c in range(values.shape[1])], axis=1)
    sm = filt(uniform, (n - 1) / (ts[-1] - ts[0]))
    if sm is None:
        return values
    return np.stack([np.interp(ts, grid, sm[:, c]) for c in range(values.shape[1])], axis=1)


def time_runs(valid: np.ndarray, time_s: np.ndarray | None = None) -> list[tuple[int, int]]:
    """[start, end) index runs where ``valid`` (T,) is true; with ``time_s``, also split at holes (:func:`gaps`)."""
    m = np.asarray(valid, dtype=bool)
    hole = np.zeros(len(m), dtype=bool)  # hole[i]: frames are missing between i - 1 and i
    if time_s is not None and len(m) > 1:
        hole[1:] = gaps(time_s)
    prev = np.concatenate([[False], m[:-1]])
    starts = np.flatnonzero(m & (~prev | hole))
    ends = np.concatenate([np.flatnonzero(prev & (~m | hole)), [len(m)] if len(m) and m[-1] else []]).astype(np.int64)
    return list(zip(starts.tolist(), ends.tolist()))


def _times(T: int, fps: float, time_s: np.ndarray | None) -> np.ndarray:
    return np.arange(T) / fps if time_s is None else np.asarray(time_s, dtype=np.float64)


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.02, d_cutoff: float = 1.0,
             time_s: np.ndarray | None = None) -> np.ndarray:
    """One-Euro filter (Casiez et al. 2012) along axis 0 of (T, ...) data; NaN frames are skipped and kept NaN.

    ``min_cutoff`` (Hz) sets the smoothing of slow motion, ``beta`` how fast the cutoff rises with speed
    (units: the data's, here mm/s). Each step uses the real time since the last filtered row (``time_s``, else
    index / fps); after a hole (longer than :func:`gap_seconds` since the last finite row: frames missing, or a
    person out of view) the filter starts afresh, so a person seen again is not blended with where they were.
    """
    out = np.full_like(x, np.nan, dtype=np.float64)
    t_s = _times(x.shape[0], fps, time_s)
    hole = gap_seconds(t_s)

    def alpha(cutoff, dt):
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    prev, last = None, None
    dprev = np.zeros(x.shape[1:])
    for t in range(x.shape[0]):
        cur = x[t]
        if not np.all(np.isfinite(cur)):
            continue
        dt = t_s[t] - t_s[last] if last is not None else 0.0
        if prev is None or dt <= 0 or dt > hole:
            prev, dprev, last = cur.astype(np.float64), np.zeros(x.shape[1:]), t
            out[t] = prev
            continue
        dx = (cur - prev) / dt
        dprev = alpha(d_cutoff, dt) * dx + (1 - alpha(d_cutoff, dt)) * dprev
        a = alpha(min_cutoff + beta * np.abs(dprev), dt)
        prev = a * cur + (1 - a) * prev
        out[t], last = prev, t
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


def butter_in_time(x: np.ndarray, time_s: np.ndarray, cutoff: float = BUTTER_CUTOFF_HZ) -> np.ndarray:
    """:func:`butter_zero_phase` of (T, ...) data over time. The finite rows are cut into runs at holes
    (:func:`gaps` between consecutive finite rows: missing timestamps, or a stretch without a finite row as long
    as a hole); each run is resampled on a uniform grid at its median step (variable frame rate filtered in
    seconds; a short stretch of NaN rows inside it is interpolated over, as ``butter_zero_phase`` does), filtered,
    and read back at its own timestamps. NaN rows stay NaN; a run of fewer than 4 rows is left as it is."""
    T = x.shape[0]
    flat = x.reshape(T, -1).astype(np.float64)
    out = flat.copy()
    t = np.asarray(time_s, dtype=np.float64)
    idx = np.flatnonzero(np.isfinite(flat).all(axis=1))
    if len(idx) < 4:
        return x.copy()
    cut = np.concatenate([[0], np.flatnonzero(gaps(t[idx])) + 1, [len(idx)]])
    for a, b in zip(cut[:-1], cut[1:]):
        rows = idx[a:b]
        if len(rows) >= 4:
            out[rows] = filter_on_time_grid(t[rows], flat[rows], lambda u, fs: butter_zero_phase(u, fs, cutoff))
    return out.reshape(x.shape).astype(x.dtype)


def smooth(x: np.ndarray, method: str, fps: float, time_s: np.ndarray | None = None) -> np.ndarray:
    """``none`` | ``one-euro`` | ``savgol`` | ``butter`` over (T, J, 3) rows at ``time_s`` (else index / fps): never
    across a hole in the timestamps (see the module doc)."""
    if method == "none":
        return x
    if method == "one-euro":
        return one_euro(x, fps, time_s=time_s)
    t = _times(x.shape[0], fps, time_s)
    if method == "savgol":
        out = x.astype(np.float64).copy()
        for s, e in time_runs(np.ones(x.shape[0], bool), t):  # split at holes in the timestamps
            out[s:e] = savgol(x[s:e], window=max(5, int(round(fps / 4)) | 1))
        return out.astype(x.dtype)
    if method == "butter":
        return butter_in_time(x, t)
    from ..errors import Pose3dError

    raise Pose3dError(f"--smooth must be none, one-euro, savgol or butter, got {method!r}")
