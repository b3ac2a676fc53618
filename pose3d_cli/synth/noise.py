"""Random signals shared by camera sampling and 2D corruption."""

from __future__ import annotations

import numpy as np


def smooth_noise(rng: np.random.Generator, T: int, shape: tuple[int, ...], knots: int = 4,
                 unit_variance: bool = False) -> np.ndarray:
    """(T, *shape) slowly varying noise: unit-std values at ``knots`` evenly spaced keyframes, linearly
    interpolated in between (a keyframe noise model like MotionBERT's). Between keyframes the std dips (to
    √½ half-way); ``unit_variance`` rescales every frame to std 1."""
    k = max(2, min(knots, T))
    vals = rng.standard_normal((k,) + tuple(shape))
    pos = np.linspace(0, k - 1, T)
    lo = np.minimum(np.floor(pos).astype(int), k - 2)
    w = (pos - lo).reshape((T,) + (1,) * len(shape))
    out = vals[lo] * (1 - w) + vals[lo + 1] * w
    return out / np.sqrt((1 - w) ** 2 + w ** 2) if unit_variance else out


def random_runs(rng: np.random.Generator, T: int, rate: float, mean_length: float, shape: tuple[int, ...] = ()) -> np.ndarray:
    """(T, *shape) bool: runs of True that start with probability ``rate`` per frame and last about
    ``mean_length`` frames (geometric), so about ``rate * mean_length`` of frames are True."""
    if rate <= 0:
        return np.zeros((T,) + tuple(shape), dtype=bool)
    starts = rng.random((T,) + tuple(shape)) < rate
    lengths = rng.geometric(1.0 / max(mean_length, 1.0), size=(T,) + tuple(shape))
    end = np.where(starts, np.arange(T).reshape((T,) + (1,) * len(shape)) + lengths, 0)
    # a frame is inside a run when some start at or before it ends after it
    return np.maximum.accumulate(end, axis=0) > np.arange(T).reshape((T,) + (1,) * len(shape))
