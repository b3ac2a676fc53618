"""Time rules on synthetic angle series with real (irregular) timestamps."""

import numpy as np
import pytest

from pose3d_cli.ergo.timeline import (TimeRules, episodes, held_flags, rapid_flags, repetition_flags, smooth_series,
                                      worst_moments)


def times(duration, fps=30.0, jitter=0.0, seed=0):
    """Variable-frame-rate timestamps (each step fps^-1 × (1 ± jitter))."""
    rng = np.random.default_rng(seed)
    n = int(duration * fps)
    dt = (1.0 / fps) * (1 + jitter * rng.uniform(-1, 1, n))
    return np.concatenate([[0.0], np.cumsum(dt[:-1])])


def test_static_needs_a_full_minute_within_tolerance():
    t = times(90, jitter=0.3)
    x = np.where(t < 70, 30.0 + 3 * np.sin(t), 80.0)  # held 70 s within 6°, then moves
    f = held_flags(x, t, 60.0, 10.0)
    assert f[t < 69].all() and not f[t > 71].any()
    x2 = np.where(t < 50, 30.0, 80.0)  # held only 50 s
    assert not held_flags(x2, t, 60.0, 10.0).any()
    x3 = 30.0 + 8 * np.sin(t)  # 16° range: not static
    assert not held_flags(x3, t, 60.0, 10.0).any()
    x4 = np.full_like(t, 30.0)
    x4[len(t) // 2] = np.nan  # a gap breaks the hold: 45 s + 45 s
    assert not held_flags(x4, t, 60.0, 10.0).any()


@pytest.mark.parametrize("per_min,expect", [(6, True), (3, False)])
def test_repetitions_per_minute(per_min, expect):
    t = times(120, jitter=0.2)
    x = 40 + 20 * np.sin(2 * np.pi * per_min / 60 * t)  # 40° peak to peak
    rep, rate = repetition_flags(x, t, TimeRules())
    assert rep[len(t) // 2] == expect
    assert rate[len(t) // 2] == pytest.approx(per_min, abs=1.01)
    small = 40 + 3 * np.sin(2 * np.pi * 10 / 60 * t)  # 10/min but only 6°: not a repeated action
    assert not repetition_flags(small, t, TimeRules())[0].any()


def test_repetitions_not_assessed_on_short_clips():
    t = times(10)
    rep, rate = repetition_flags(40 + 20 * np.sin(2 * np.pi * t), t, TimeRules())
    assert not rep.any() and np.isnan(rate).all()


def test_rapid_change_flags_only_around_the_change():
    t = times(10, jitter=0.2)
    x = np.where(t < 5, 0.0, 60.0)  # a 60° step
    f = rapid_flags(x, t, 45.0, 1.0)
    assert f[np.argmin(np.abs(t - 5))] and not f[t < 4.4].any() and not f[t > 5.6].any()
    slow = 12.0 * t  # 60° over 5 s: 12°/s, never 45° within 1 s
    assert not rapid_flags(slow, t, 45.0, 1.0).any()


def test_smoothing_is_zero_phase_and_does_not_bridge_gaps():
    t = times(20, fps=60)
    rng = np.random.default_rng(1)
    bump = 40 * np.exp(-((t - 10) ** 2) / (2 * 1.0 ** 2))
    noisy = bump + rng.normal(0, 3, len(t))
    s = smooth_series(noisy, t, 2.0)
    assert abs(t[np.argmax(s)] - 10) < 0.1  # the peak stays where it happened
    assert np.std(s - bump) < 0.5 * np.std(noisy - bump)
    g = noisy.copy()
    g[500:520] = np.nan
    sg = smooth_series(g, t, 2.0)
    assert np.isnan(sg[500:520]).all() and np.isfinite(sg[:500]).all() and np.isfinite(sg[520:]).all()
    assert smooth_series(noisy, t, 0.0) is not noisy and np.array_equal(smooth_series(noisy, t, 0.0), noisy)


def test_worst_moments_are_deduplicated_peaks():
    t = np.arange(0, 20, 0.1)
    s = np.ones_like(t)
    s[(t > 3) & (t < 4)] = 7  # one long peak: one moment
    s[(t > 10) & (t < 10.5)] = 6
    s[150] = 5
    w = worst_moments(s, np.zeros_like(s), t, k=3)
    assert len(w) == 3
    assert 3 < t[w[0]] < 4 and 10 < t[w[1]] < 10.5 and w[2] == 150


def test_episodes_longest_first():
    t = np.arange(0, 10, 0.5)
    m = np.zeros(len(t), bool)
    m[2:4] = True
    m[10:16] = True
    e = episodes(m, t)
    assert e[0]["start_s"] == 5.0 and e[0]["duration_s"] == 3.0 and e[1]["duration_s"] == 1.0
