"""Time, as RULA and REBA need it: smoothing, static holds, repetitions, rapid changes, and per-video summaries.

Timestamps are the ``time_s`` of the infer output. Rules (printed in the report, :data:`RULES`):

- **smoothing**: each angle series is low-pass filtered forward and backward (``scipy.signal.filtfilt``,
  2nd-order Butterworth, ``cutoff_hz`` = 2 Hz by default: slower than work movements of interest are kept,
  frame-to-frame jitter of a monocular lift is removed; zero phase, so peaks stay where they happened). Each
  run of consecutive scored frames is filtered on its own (gaps are never bridged); runs too short for the
  filter are left as they are. The sampling rate is the median of the time steps.
- **static** (RULA muscle use, REBA activity): a body-part angle stays within ``static_tol_deg`` (10°) over a
  window of at least ``static_s`` (60 s): every frame of such a window is "static".
- **repeated** (RULA muscle use, REBA activity): the angle goes through more than ``reps_per_min`` (4)
  cycles per minute, a cycle being a peak of prominence ≥ ``rep_amplitude_deg`` (15°), counted over a
  centred window of ``rep_window_s`` (60 s; the whole clip when shorter, but at least ``rep_min_s`` = 20 s of
  video is needed, else nothing is flagged and the summary says so).
- **rapid** (REBA activity): the angle changes by ≥ ``rapid_deg`` (45°) within a window of ``rapid_s`` (1 s)
  centred on the frame.
- **walking**: the two knees flex in turn, i.e. at least ``walk_steps`` (3) knee-flexion peaks of prominence
  ≥ ``walk_knee_deg`` (15°), alternating left/right, each ``walk_min_step_s`` (0.25 s) to ``walk_step_s`` (1.2 s)
  after the previous: the frames from the first to the last of them. REBA's repeated actions exclude walking
  ("not including walking"), so peaks inside it are not counted as cycles for any body part (the arms' swing is
  no work action; RULA is given the same rule), and REBA scores walking legs 1 ("bilateral weight bearing,
  walking or sitting") with the knee adjustment of the weight-bearing leg (the swing knee's flexion is no held
  posture). A squat is not walking: its two knees peak together, less than a step apart.

Body parts watched: trunk flexion, neck flexion, each upper arm (the scored angle) and elbow. RULA muscle use:
the arm of that side (group A), trunk or neck (group B). REBA: any part.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from ..infer.smooth import filter_on_time_grid, gaps, time_runs as runs  # noqa: F401  (one owner: infer/smooth)


@dataclass(frozen=True)
class TimeRules:
    cutoff_hz: float = 2.0
    static_s: float = 60.0
    static_tol_deg: float = 10.0
    reps_per_min: float = 4.0
    rep_amplitude_deg: float = 15.0
    rep_window_s: float = 60.0
    rep_min_s: float = 20.0
    rapid_deg: float = 45.0
    rapid_s: float = 1.0
    walk_knee_deg: float = 15.0
    walk_step_s: float = 1.2
    walk_min_step_s: float = 0.25
    walk_steps: int = 3

    def describe(self) -> dict:
        return asdict(self)


RULES = (
    "smoothing: zero-phase 2nd-order Butterworth low-pass (filtfilt) at {cutoff_hz:g} Hz on each angle, per run of scored frames, kept within the raw angle's range over +-1/(2 x cut-off) s (no overshoot)",
    "static: a body-part angle within {static_tol_deg:g} deg for at least {static_s:g} s (RULA muscle use +1, REBA activity +1)",
    "repeated: more than {reps_per_min:g} cycles/min (peaks of prominence >= {rep_amplitude_deg:g} deg, centred {rep_window_s:g} s window, needs >= {rep_min_s:g} s of video) (RULA muscle use +1, REBA activity +1)",
    "rapid: an angle change >= {rapid_deg:g} deg within a {rapid_s:g} s window centred on the frame (REBA activity +1)",
    "walking: >= {walk_steps} knee-flexion peaks (prominence >= {walk_knee_deg:g} deg) alternating left/right, each "
    "{walk_min_step_s:g}-{walk_step_s:g} s after the last: no repeated-action cycles counted there; REBA legs 1 + the weight-bearing knee's adjustment",
)


def sample_rate(time_s: np.ndarray) -> float:
    dt = np.diff(time_s)
    dt = dt[dt > 0]
    return float(1.0 / np.median(dt)) if len(dt) else 30.0


def _filter_runs(X: np.ndarray, time_s: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass of (T, K) columns sharing one finite mask, per run of finite rows without a hole in
    time. Each run is resampled on a uniform grid at its median step (a variable-frame-rate run is filtered in
    seconds, not in samples), filtered there and read back at its own timestamps."""
    from scipy.signal import filtfilt

    out = X.astype(np.float64).copy()
    if cutoff_hz <= 0 or cutoff_hz >= sample_rate(time_s) / 2:
        return out
    def filt(uniform: np.ndarray, fs: float) -> np.ndarray | None:
        if cutoff_hz >= fs / 2:
            return None
        b, a = _butter2(cutoff_hz / (fs / 2))
        return filtfilt(b, a, uniform, axis=0) if len(uniform) > 3 * max(len(a), len(b)) else None

    for s, e in runs(np.isfinite(X).all(axis=1), time_s):
        if e - s > 1:
            out[s:e] = _within_local_range(filter_on_time_grid(time_s[s:e], out[s:e], filt), X[s:e], time_s[s:e],
                                           0.5 / cutoff_hz)
    return out


@lru_cache(maxsize=64)
def _butter2(wn: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of a 2nd-order Butterworth low-pass at ``wn`` (of Nyquist), computed once per rate (a clip with many
    short runs of detected frames designed the same filter thousands of times: 2.3 s of 4 on 10 min)."""
    from scipy.signal import butter

    return butter(2, wn)


def _within_local_range(smooth: np.ndarray, raw: np.ndarray, ts: np.ndarray, half_s: float) -> np.ndarray:
    """(n, C) ``smooth`` kept within the (n, C) ``raw`` values' min and max over ±``half_s`` seconds of each frame
    (timestamps ``ts`` (n,)): a Butterworth filter overshoots a step by ~4% (an arm held at 88° read 91°, over the
    90° band edge, and the worst moment landed there); it smooths noise but invents no posture."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    span = float(ts[-1] - ts[0])
    if span <= 0:
        return smooth
    size = 2 * int(round(half_s * (len(ts) - 1) / span)) + 1  # the run's mean rate: a window of ±half_s
    return np.clip(smooth, minimum_filter1d(raw, size, axis=0, mode="nearest"),
                   maximum_filter1d(raw, size, axis=0, mode="nearest"))


def smooth_series(x: np.ndarray, time_s: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass of (T,) ``x`` per run of finite values (see module doc)."""
    return _filter_runs(np.asarray(x)[:, None], time_s, cutoff_hz)[:, 0]


def smooth_angles(angles: dict[str, np.ndarray], time_s: np.ndarray, cutoff_hz: float) -> dict[str, np.ndarray]:
    """:func:`smooth_series` of every series; series with the same missing frames are filtered together."""
    groups: dict[bytes, list[str]] = {}
    for k, v in angles.items():
        groups.setdefault(np.isfinite(v).tobytes(), []).append(k)
    out = {}
    for keys in groups.values():
        Y = _filter_runs(np.stack([angles[k] for k in keys], axis=1), time_s, cutoff_hz)
        out.update({k: Y[:, i] for i, k in enumerate(keys)})
    return {k: out[k] for k in angles}


class _RangeTable:
    """Sparse tables for O(1) max/min over index ranges of (T,) (NaN counts as a break: max=+inf, min=-inf)."""

    def __init__(self, x: np.ndarray):
        hi = np.where(np.isfinite(x), x, np.inf)
        lo = np.where(np.isfinite(x), x, -np.inf)
        self.hi, self.lo = [hi], [lo]
        k = 1
        while 2 * k <= len(x):
            self.hi.append(np.maximum(self.hi[-1][:-k], self.hi[-1][k:]))
            self.lo.append(np.minimum(self.lo[-1][:-k], self.lo[-1][k:]))
            k *= 2

    def span(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """max − min over inclusive ranges [i, j] (arrays)."""
        n = j - i + 1
        lev = np.floor(np.log2(np.maximum(n, 1))).astype(np.int64)
        out = np.empty(len(i))
        for L in np.unique(lev):
            m = lev == L
            w = 1 << L
            a, b = i[m], j[m] - w + 1
            out[m] = np.maximum(self.hi[L][a], self.hi[L][b]) - np.minimum(self.lo[L][a], self.lo[L][b])
        return out


def _mark(T: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(T,) bool: union of inclusive index ranges."""
    d = np.zeros(T + 1, dtype=np.int64)
    np.add.at(d, starts, 1)
    np.add.at(d, ends + 1, -1)
    return np.cumsum(d[:-1]) > 0


def held_flags(x: np.ndarray, time_s: np.ndarray, hold_s: float, tol: float) -> np.ndarray:
    """Frames inside a window of >= ``hold_s`` seconds over which ``x`` stays within ``tol`` (max − min); a
    window never spans a hole in the video (the posture there was not seen held)."""
    T = len(x)
    out = np.zeros(T, dtype=bool)
    for s, e in runs(np.ones(T, dtype=bool), time_s):
        out[s:e] = _held_in_run(np.asarray(x[s:e]), time_s[s:e], hold_s, tol)
    return out


def _held_in_run(x: np.ndarray, time_s: np.ndarray, hold_s: float, tol: float) -> np.ndarray:
    T = len(x)
    if T < 2 or time_s[-1] - time_s[0] < hold_s:
        return np.zeros(T, dtype=bool)
    i = np.arange(T)
    j = np.searchsorted(time_s, time_s + hold_s, side="left")
    ok = j < T
    i, j = i[ok], j[ok]
    good = _RangeTable(x).span(i, j) <= tol
    return _mark(T, i[good], j[good])


def rapid_flags(x: np.ndarray, time_s: np.ndarray, change: float, within_s: float) -> np.ndarray:
    """Frames at the centre of a window of ``within_s`` seconds over which ``x`` changes by >= ``change``
    (windows with a missing value do not count)."""
    T = len(x)
    if T < 2:
        return np.zeros(T, dtype=bool)
    i = np.searchsorted(time_s, time_s - within_s / 2, side="left")
    j = np.searchsorted(time_s, time_s + within_s / 2, side="right") - 1
    span = _RangeTable(x).span(i, np.maximum(j, i))
    return np.isfinite(span) & (span >= change) & (j > i)


def _peaks(x: np.ndarray, prominence: float) -> np.ndarray:
    """Indices of the peaks of (T,) ``x`` with at least ``prominence``, missing values interpolated over (a peak
    never sits on a missing frame); empty with fewer than 3 finite values."""
    from scipy.signal import find_peaks

    fin = np.isfinite(x)
    if fin.sum() < 3:
        return np.zeros(0, dtype=np.int64)
    filled = np.asarray(x, dtype=np.float64).copy()
    filled[~fin] = np.interp(np.flatnonzero(~fin), np.flatnonzero(fin), filled[fin])
    peaks, _ = find_peaks(filled, prominence=prominence)
    return peaks[fin[peaks]]


def walking_flags(knee_left: np.ndarray, knee_right: np.ndarray, time_s: np.ndarray, rules: TimeRules) -> np.ndarray:
    """(T,) bool: frames inside a walk, from the (T,) knee flexions (degrees; see the module doc)."""
    T = len(time_s)
    out = np.zeros(T, dtype=bool)
    marks = sorted((float(time_s[i]), side, int(i)) for side, x in enumerate((knee_left, knee_right))
                   for i in _peaks(np.asarray(x, dtype=np.float64), rules.walk_knee_deg))
    run: list[tuple[float, int, int]] = []
    for m in marks + [(np.inf, -1, -1)]:  # a sentinel closes the last run
        if run and m[1] != run[-1][1] and rules.walk_min_step_s <= m[0] - run[-1][0] <= rules.walk_step_s:
            run.append(m)
            continue
        if len(run) >= rules.walk_steps:
            out[run[0][2]:run[-1][2] + 1] = True
        run = [m]
    return out


def _cycles_before(peaks_t: np.ndarray, left: np.ndarray, right: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(N,) how many cycles lie before each time ``t`` (N,): each peak at ``peaks_t`` (P,) stands for the time from
    ``left`` seconds before it to ``right`` after it (adjacent, not overlapping), counted in proportion."""
    if len(peaks_t) == 0:
        return np.zeros(len(t))
    starts, ends = peaks_t - left, peaks_t + right
    done = np.searchsorted(ends, t, side="right")
    j = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip((t - starts[j]) / (ends[j] - starts[j]), 0.0, 1.0)
    return done + np.where(j >= done, frac, 0.0)


def repetition_flags(x: np.ndarray, time_s: np.ndarray, rules: TimeRules,
                     exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T,) bool "repeated" and (T,) cycles per minute (NaN where the window saw the angle less than
    ``rep_min_s``); peaks on frames where ``exclude`` (T,) is true (walking) are not counted.

    The rate of a frame's window is its cycles over the time the angle was seen in it (frames without the person,
    walking or a hole in the video are not time without cycles). Each peak stands for the time half-way to its
    neighbours (a neighbour across unseen time is none: its other side's half is used; a lone peak stands for
    1 s), so a steady rhythm reads its own rate wherever the window falls (counting whole peaks in a 60 s window
    read 4.2 cycles/min as 4 or 5 by phase), and a burst of n actions counts n."""
    T = len(x)
    rate = np.full(T, np.nan)
    if T < 3 or np.isfinite(x).sum() < 3:
        return np.zeros(T, dtype=bool), rate
    w = frame_weights(time_s)
    seen = np.isfinite(x)
    if exclude is not None:
        seen &= ~np.asarray(exclude, dtype=bool)
    peaks = _peaks(x, rules.rep_amplitude_deg)
    peaks = peaks[seen[peaks]]
    brk = ~seen
    brk[1:] |= gaps(time_s)  # brk[i]: frame i unseen, or a hole just before it
    cum = np.cumsum(brk)
    tp = time_s[peaks]
    joined = cum[peaks[1:]] == cum[peaks[:-1]]  # consecutive peaks with nothing unseen between them
    gap = np.diff(tp) / 2
    left = np.concatenate([[np.nan], np.where(joined, gap, np.nan)])
    right = np.concatenate([np.where(joined, gap, np.nan), [np.nan]])
    left, right = np.where(np.isfinite(left), left, right), np.where(np.isfinite(right), right, left)
    left, right = np.nan_to_num(left, nan=0.5), np.nan_to_num(right, nan=0.5)
    # a half borrowed across unseen time must not overlap the neighbour's: consecutive peaks' spans meet at most at
    # their mid-point (a peak after a short gap borrowed 10 s back over a burst and counted it twice)
    mid = (tp[1:] + tp[:-1]) / 2
    right[:-1] = np.minimum(right[:-1], mid - tp[:-1])
    left[1:] = np.minimum(left[1:], tp[1:] - mid)
    t_end = float(time_s[-1] + w[-1])
    half = min(rules.rep_window_s, t_end - float(time_s[0])) / 2
    lo = np.clip(time_s - half, time_s[0], t_end - 2 * half)
    hi = lo + 2 * half
    i0, i1 = np.searchsorted(time_s, lo, side="left"), np.searchsorted(time_s, hi, side="left")
    edges = np.concatenate([time_s, [t_end]])  # the window as its frames cover it: [t_i0, t_i1)
    cycles = _cycles_before(tp, left, right, edges[i1]) - _cycles_before(tp, left, right, edges[i0])
    seen_s = np.concatenate([[0.0], np.cumsum(np.where(seen, w, 0.0))])
    observed = seen_s[i1] - seen_s[i0]
    ok = observed >= rules.rep_min_s
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(ok, cycles / (observed / 60.0), np.nan)
    return np.nan_to_num(rate, nan=0.0) > rules.reps_per_min + 1e-9, rate


WATCHED = ("trunk", "neck", "upper_arm_left", "upper_arm_right", "elbow_left", "elbow_right")


def watched_series(angles: dict[str, np.ndarray], upper_arm_key: str, trunk_key: str) -> dict[str, np.ndarray]:
    return {"trunk": angles[trunk_key], "neck": angles["neck_flexion"],
            "upper_arm_left": angles[f"{upper_arm_key}_left"], "upper_arm_right": angles[f"{upper_arm_key}_right"],
            "elbow_left": angles["elbow_flexion_left"], "elbow_right": angles["elbow_flexion_right"]}


def activity_flags(series: dict[str, np.ndarray], time_s: np.ndarray, rules: TimeRules,
                   walking: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per part: ``static_<part>``, ``repeated_<part>``, ``rapid_<part>``, ``rate_<part>``; then the RULA muscle
    flags ``arm_left``, ``arm_right``, ``body``, the REBA flags ``static``, ``repeated``, ``rapid`` and
    ``walking`` (0/1; ``walking`` (T,) bool from :func:`walking_flags`, whose peaks are not repetitions)."""
    out: dict[str, np.ndarray] = {}
    for p, x in series.items():
        out[f"static_{p}"] = held_flags(x, time_s, rules.static_s, rules.static_tol_deg)
        rep, rate = repetition_flags(x, time_s, rules, walking)
        out[f"repeated_{p}"], out[f"rate_{p}"] = rep, rate
        if not p.startswith("elbow"):
            out[f"rapid_{p}"] = rapid_flags(x, time_s, rules.rapid_deg, rules.rapid_s)
    any_of = lambda kind, parts: np.any([out[f"{kind}_{p}"] for p in parts], axis=0)  # noqa: E731
    for s in ("left", "right"):
        arm = (f"upper_arm_{s}", f"elbow_{s}")
        out[f"arm_{s}"] = (any_of("static", arm) | any_of("repeated", arm)).astype(np.float64)
    out["body"] = (any_of("static", ("trunk", "neck")) | any_of("repeated", ("trunk", "neck"))).astype(np.float64)
    out["static"] = any_of("static", WATCHED).astype(np.float64)
    out["repeated"] = any_of("repeated", WATCHED).astype(np.float64)
    out["rapid"] = any_of("rapid", ("trunk", "neck", "upper_arm_left", "upper_arm_right")).astype(np.float64)
    out["walking"] = (np.zeros(len(time_s)) if walking is None else np.asarray(walking, dtype=np.float64))
    return out


def frame_weights(time_s: np.ndarray) -> np.ndarray:
    """Seconds each frame stands for: its step to the next frame (the last frame: the step before it); before a
    hole in the video (:func:`gaps`), the median step."""
    if len(time_s) < 2:
        return np.ones(len(time_s)) / 30.0
    dt = np.diff(time_s)
    med = float(np.median(dt)) if np.median(dt) > 0 else 1 / 30
    w = np.where(gaps(time_s), med, np.clip(dt, 0, None))
    return np.concatenate([w, w[-1:]])


def percent_time(mask: np.ndarray, valid: np.ndarray, w: np.ndarray) -> float | None:
    tot = float(w[valid].sum())
    return None if tot <= 0 else round(100.0 * float(w[valid & mask].sum()) / tot, 1)


def worst_moments(score: np.ndarray, tie: np.ndarray, time_s: np.ndarray, k: int = 5, gap_s: float = 2.0) -> list[int]:
    """Indices of the ``k`` highest-scoring frames (ties broken by ``tie``), one per peak: a chosen frame takes its
    whole plateau (the run of frames around it scoring at least as much, over unscored runs shorter than ``gap_s``,
    to a hole in the video), and no other moment is chosen within ``gap_s`` seconds of that plateau (a 10 s stretch at the
    top score is one moment, not five picks 2 s apart)."""
    ok = np.flatnonzero(np.isfinite(score))
    order = ok[np.lexsort((-np.nan_to_num(tie[ok], nan=-1), -score[ok]))]
    hole = np.concatenate([gaps(time_s), [True]]) if len(time_s) > 1 else np.ones(len(time_s), dtype=bool)
    taken: list[tuple[float, float]] = []  # the chosen plateaus, (start, end) seconds
    chosen: list[int] = []
    for i in order:
        t = time_s[i]
        if any(a - gap_s < t < b + gap_s for a, b in taken):
            continue
        lo = hi = int(i)
        while (nxt := _plateau_step(score, time_s, hole, lo, -1, score[i], gap_s)) is not None:
            lo = nxt
        while (nxt := _plateau_step(score, time_s, hole, hi, +1, score[i], gap_s)) is not None:
            hi = nxt
        taken.append((float(time_s[lo]), float(time_s[hi])))
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def _plateau_step(score: np.ndarray, time_s: np.ndarray, hole: np.ndarray, at: int, step: int, level: float,
                  gap_s: float) -> int | None:
    """The next frame of the plateau from ``at`` in direction ``step`` (±1): the next scored frame, over a run of
    unscored ones shorter than ``gap_s`` (a moment the person was not scored does not split a stretch at the top
    score), if it scores at least ``level`` and no hole in the video lies between; else None."""
    k = at + step
    while 0 <= k < len(score) and not np.isfinite(score[k]):
        if hole[min(k, k - step)] or abs(time_s[k] - time_s[at]) >= gap_s:
            return None
        k += step
    if not 0 <= k < len(score) or hole[min(k, k - step)] or score[k] < level:
        return None
    return k


def episodes(mask: np.ndarray, time_s: np.ndarray, k: int = 3) -> list[dict]:
    """The ``k`` longest runs of consecutive frames where ``mask`` holds (a hole in the video ends a run): start,
    end (s) and duration (s)."""
    w = frame_weights(time_s)
    out = [{"start_s": round(float(time_s[s]), 3), "end_s": round(float(time_s[e - 1] + w[e - 1]), 3),
            "duration_s": round(float(w[s:e].sum()), 3), "frames": e - s} for s, e in runs(mask, time_s)]
    return sorted(out, key=lambda d: -d["duration_s"])[:k]
