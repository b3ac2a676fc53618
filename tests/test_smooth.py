"""Smoothing of lifted tracks in time, not in rows (infer/smooth.py): holes in the timestamps, variable frame rate,
a person seen again after a gap. Expected values derived by hand from the filters' definitions."""

import numpy as np
import pytest

from pose3d_cli.infer.smooth import butter_zero_phase, gaps, one_euro, smooth


def test_a_hole_is_a_step_much_longer_than_the_others():
    t = np.concatenate([np.arange(30) / 30, 10 + np.arange(30) / 30])
    assert gaps(t).tolist() == [False] * 29 + [True] + [False] * 29
    vfr = np.concatenate([np.arange(240) / 60, 4 + np.arange(40) / 10])  # 60 then 10 fps: slow frames, no hole
    assert not gaps(vfr).any()


def test_butter_never_smooths_across_a_hole():
    """A keypoint file listing only the detected images: rows 0-29 (0-1 s) then 30-59 (10-11 s). The pose 9 s later
    must not bleed into the frame before the hole (it moved the last frame by ~230 mm)."""
    t = np.concatenate([np.arange(30) / 30, 10 + np.arange(30) / 30])
    x = np.where((t < 5)[:, None, None], 0.0, 300.0) * np.ones((60, 2, 3))
    out = smooth(x, "butter", 30.0, t)
    assert np.abs(out[:30]).max() < 1e-9 and np.abs(out[30:] - 300).max() < 1e-9
    rows_only = smooth(x, "butter", 30.0)  # without timestamps the rows are adjacent: the step is smoothed
    assert abs(rows_only[29, 0, 0]) > 10


def test_butter_filters_a_variable_frame_rate_in_seconds():
    """A 1 s bend to 70 in the 10 fps stretch of a 60-then-10 fps clip keeps the height it has at a steady 60 fps."""
    t = np.concatenate([np.arange(1200) / 60, 20 + np.arange(100) / 10])
    bump = lambda ts: np.where((ts >= 25.3) & (ts < 26.3), 70.0, 0.0)  # noqa: E731
    out = smooth(bump(t)[:, None, None], "butter", 60.0, t)
    steady_t = np.arange(1800) / 60
    steady = smooth(bump(steady_t)[:, None, None], "butter", 60.0, steady_t)
    assert np.nanmax(out) == pytest.approx(np.nanmax(steady), abs=3.0)


def test_butter_keeps_interpolating_over_a_short_dropout_as_before():
    """Two undetected frames (NaN rows) inside a steady track are no hole: the result equals butter_zero_phase's."""
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0, 5, (90, 3, 3)), axis=0)
    x[40:42] = np.nan
    t = np.arange(90) / 30
    np.testing.assert_allclose(smooth(x, "butter", 30.0, t), butter_zero_phase(x, 30.0), atol=1e-6, equal_nan=True)


def test_one_euro_starts_afresh_after_a_gap_and_steps_by_time():
    """Nobody seen for 2 s, then seen 40 mm away: the first frame back is where they are (it read 20.8 mm, blended
    with where they were); and a frame 0.1 s after the last is a 0.1 s step, not 1/fps."""
    x = np.full((120, 1), np.nan)
    x[:30] = 0.0
    x[90:] = 40.0
    out = one_euro(x, 30.0)
    assert out[90, 0] == pytest.approx(40.0)
    t = np.array([0.0, 0.1, 0.2, 0.3])
    jump = np.array([[0.0], [0.0], [0.0], [10.0]])
    slow = one_euro(jump, 30.0, time_s=t)[3, 0]  # 10 fps rows: a longer step lets the filter follow further
    fast = one_euro(jump, 30.0)[3, 0]  # the same rows read as 30 fps
    assert slow > fast > 0
