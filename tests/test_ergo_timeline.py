"""Time rules on synthetic angle series with real (irregular) timestamps."""

import numpy as np
import pytest

from pose3d_cli.ergo.timeline import (WATCHED, TimeRules, activity_flags, episodes, held_flags, rapid_flags,
                                      repetition_flags, smooth_series, walking_flags, worst_moments)


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


def gait(t, hz=0.9, phase=np.pi):
    """(left, right) knee flexion of a walk: each knee 5-65° at ``hz`` strides/s, the two ``phase`` apart."""
    return tuple(35 + 30 * np.sin(2 * np.pi * hz * t + ph) for ph in (0.0, phase))


def test_walking_is_the_knees_flexing_in_turn():
    t = times(20, jitter=0.2)
    w = walking_flags(*gait(t), t, TimeRules())
    assert w[(t > 1.5) & (t < 18.5)].all()  # from the first knee peak to the last
    assert not walking_flags(*gait(t, phase=0.0), t, TimeRules()).any()  # squats: both knees together
    assert not walking_flags(*gait(t, hz=0.25), t, TimeRules()).any()  # in turn, but 2 s apart: no gait
    bump = lambda c: 5 + 40 * np.exp(-0.5 * ((t - c) / 0.15) ** 2)  # noqa: E731
    assert not walking_flags(bump(5.0), bump(5.6), t, TimeRules()).any()  # one step each: no walk
    two = walking_flags(bump(5.0) + bump(6.2), bump(5.6), t, TimeRules())  # left, right, left: a walk
    assert two[np.argmin(np.abs(t - 5.6))] and not two[t < 4.8].any() and not two[t > 6.4].any()


def test_the_arms_swing_while_walking_is_no_repeated_action():
    t = times(120, jitter=0.2)
    walking = walking_flags(*gait(t), t, TimeRules()) & (t < 60)  # walks for a minute, then works
    arm = np.where(t < 60, 10 + 18 * np.sin(2 * np.pi * 0.9 * t),  # swing: 54/min, 36°
                   30 + 25 * np.sin(2 * np.pi * 6 / 60 * t))  # then lifts the arm 6 times/min
    parts = {p: np.full_like(t, 20.0) for p in WATCHED}
    parts["upper_arm_left"] = arm
    f = activity_flags(parts, t, TimeRules(), walking)
    mid_walk, mid_work = np.argmin(np.abs(t - 30)), np.argmin(np.abs(t - 90))
    assert f["walking"][mid_walk] == 1 and f["walking"][mid_work] == 0
    assert f["repeated"][mid_work] == 1 and f["repeated"][mid_walk] == 0
    assert activity_flags(parts, t, TimeRules())["repeated"][mid_walk] == 1  # counted, were it not walking


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


def test_a_long_plateau_is_one_worst_moment():
    """10 s at the top score is one moment: the 6 and the 5 elsewhere are the next two (picks 2 s apart filled the
    list from the plateau alone)."""
    t = np.arange(0, 30, 0.1)
    s = np.ones_like(t)
    s[(t >= 5) & (t < 15)] = 7
    s[(t >= 20) & (t < 21)] = 6
    s[250] = 5
    w = worst_moments(s, np.zeros_like(s), t, k=3)
    assert [s[i] for i in w] == [7, 6, 5]
    assert 5 <= t[w[0]] < 15 and 20 <= t[w[1]] < 21


@pytest.mark.parametrize("per_min", [4.2, 4.5, 5.5])
def test_a_steady_rhythm_just_over_4_per_minute_is_repeated_wherever_the_window_falls(per_min):
    """Counting whole peaks in a 60 s window read 4.2 cycles/min as 4 or 5 by phase (14% of the frames flagged)."""
    t = times(180)
    rep, rate = repetition_flags(40 + 20 * np.sin(2 * np.pi * per_min / 60 * t), t, TimeRules())
    assert rep.all()
    assert np.allclose(rate, per_min, atol=0.35)


def test_exactly_4_per_minute_is_not_more_than_4():
    t = times(180)
    x = 40 + 20 * np.cos(2 * np.pi * (t - 7.5) / 15.0)  # peaks at 7.5 + 15 k s: 4/min
    rep, rate = repetition_flags(x, t, TimeRules())
    assert not rep.any() and np.nanmax(rate) == pytest.approx(4.0, abs=1e-6)
    two = np.full(900, 10.0)  # 30 s with 2 lifts 15 s apart: a 4/min rhythm, not "more than 4" (it read 4.004:
    tt = np.arange(900) / 30.0  # the count divided by 29.97 s, the first to the last frame, not the clip's 30 s)
    two[150:200] = 60.0
    two[600:650] = 60.0
    rep2, rate2 = repetition_flags(two, tt, TimeRules())
    assert not rep2.any() and np.nanmax(rate2) <= 4.0 + 1e-9


def test_time_without_the_person_is_not_time_without_cycles():
    """6 cycles/min, nobody 60-100 s: every frame where the worker is seen is repeated (the unseen time had
    lowered the windows around it to 3-4/min)."""
    t = times(180)
    x = 40 + 20 * np.sin(2 * np.pi * 6 / 60 * t)
    x[(t > 60) & (t < 100)] = np.nan
    rep, rate = repetition_flags(x, t, TimeRules())
    seen = np.isfinite(x)
    assert rep[seen].all()
    assert np.allclose(rate[seen], 6.0, atol=0.7)


def test_smoothing_does_not_overshoot_a_held_posture():
    """An arm raised to 88° and held never reads over 90° (the filter's overshoot put it in the > 90° band)."""
    t = np.arange(0, 20, 1 / 30)
    x = np.where((t > 5) & (t < 10), 88.0, 0.0)
    sm = smooth_series(x, t, 2.0)
    assert sm.max() <= 88.0 + 1e-9 and sm.min() >= -1e-9
    assert 0 < sm[np.searchsorted(t, 5.05)] < 88  # still smoothed at the step


def test_a_hole_in_the_video_breaks_a_hold():
    """Constant 30° seen 0-30 s and 50-85 s (the rows between missing): no 60 s hold was seen."""
    t = np.concatenate([np.arange(0, 30, 1 / 30), np.arange(50, 85, 1 / 30)])
    assert not held_flags(np.full(len(t), 30.0), t, 60.0, 10.0).any()
    t2 = np.arange(0, 85, 1 / 30)
    assert held_flags(np.full(len(t2), 30.0), t2, 60.0, 10.0).all()


def test_peaks_across_a_short_gap_are_not_counted_twice():
    """A burst of 4 lifts 3 s apart, 0.6 s without the person, then a lift every 20 s: the first lift after the gap
    borrowed its 10 s right half back over the burst, the spans overlapped and the window at 60 s (3 lifts in
    [30, 90)) read 4.03/min, 'repeated'. Each lift's span now ends where its neighbour's begins: the rate is the
    spans' sum, computed here by hand over every peak."""
    from pose3d_cli.ergo import timeline as tl

    ts = np.arange(0, 120, 0.1)
    peaks = [20, 23, 26, 29, 31.5, 51.5, 71.5, 91.5, 111.5]
    x = sum(30.0 * np.exp(-0.5 * ((ts - p) / 0.4) ** 2) for p in peaks)
    x[(ts > 30.0) & (ts < 30.6)] = np.nan
    rep, rate = repetition_flags(x, ts, TimeRules())
    i = int(np.searchsorted(ts, 60.0))
    assert not rep[i] and rate[i] < 4.0

    def by_hand(tp, left, right, t):  # every peak's share of its own span, no order assumed
        s, e = tp - left, tp + right
        return np.clip((t[:, None] - s) / (e - s), 0, 1).sum(1)

    real = tl._cycles_before
    try:
        tl._cycles_before = by_hand
        _, want = repetition_flags(x, ts, TimeRules())
    finally:
        tl._cycles_before = real
    assert np.allclose(np.nan_to_num(rate), np.nan_to_num(want), atol=1e-9)


def test_a_moment_without_the_person_does_not_split_a_top_score_stretch():
    """10 s at score 7 with 0.3 s unscored inside: one moment; a hole in the video still splits it."""
    t = np.arange(0, 30, 0.1)
    s = np.full(len(t), 3.0)
    s[:100] = 7
    s[40:43] = np.nan
    w = worst_moments(s, np.zeros(len(t)), t, k=3)
    assert [s[i] for i in w].count(7) == 1
    th = np.concatenate([np.arange(0, 5, 0.1), np.arange(8, 30, 0.1)])  # 3 s of the video missing
    sh = np.where(th < 10, 7.0, 3.0)
    assert [sh[i] for i in worst_moments(sh, np.zeros(len(th)), th, k=3)].count(7) == 2
