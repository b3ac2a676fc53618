"""The vectorised two-state Viterbi of the swap fix: against brute force, a hand-made track that starts swapped,
and the frame-by-frame loop it replaced (copied here as the reference, ties included)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pose3d_cli.infer.viterbi import two_state_viterbi, viterbi


def loop_viterbi(keep: np.ndarray, swap: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """The decoder as ``fix_left_right_swaps`` ran it before (one Python step per frame)."""
    n = len(keep) + 1
    cost = np.array([0.0, prior])
    back = np.zeros((n, 2), dtype=np.int8)
    for k in range(1, n):
        stay, cross = keep[k - 1], swap[k - 1]
        c0 = (cost[0] + stay, cost[1] + cross)
        c1 = (cost[1] + stay, cost[0] + cross)
        back[k, 0] = 0 if c0[0] <= c0[1] else 1
        back[k, 1] = 1 if c1[0] <= c1[1] else 0
        cost = np.array([min(c0), min(c1) + prior])
    state = np.zeros(n, dtype=np.int8)
    state[-1] = int(cost[1] < cost[0])
    for k in range(n - 1, 0, -1):
        state[k - 1] = back[k, state[k]]
    return state


def path_cost(states, keep, swap, prior=1.0) -> float:
    s = np.asarray(states)
    return float(prior * s.sum() + np.where(s[1:] == s[:-1], keep, swap).sum())


def test_a_track_that_starts_swapped_relabels_its_first_frames():
    # 10 frames, the detector's labels swapped on frames 0-2: keeping them costs a 100-unit jump between frames 2
    # and 3, relabelling frames 0-2 costs their prior (3) and nothing else; relabelling 3-9 would cost 7
    keep, swap = np.zeros(9), np.full(9, 100.0)
    keep[2], swap[2] = 100.0, 0.0
    assert two_state_viterbi(keep, swap).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    # the same jump after frame 6: the last 3 frames are the swapped ones
    keep, swap = np.zeros(9), np.full(9, 100.0)
    keep[6], swap[6] = 100.0, 0.0
    assert two_state_viterbi(keep, swap).tolist() == [0] * 7 + [1] * 3


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9])
def test_matches_brute_force(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        keep, swap = rng.exponential(1.0, n - 1), rng.exponential(1.0, n - 1)
        best = min(path_cost(p, keep, swap) for p in itertools.product((0, 1), repeat=n))
        got = two_state_viterbi(keep, swap)
        assert got.shape == (n,) and got.dtype == np.int8
        assert path_cost(got, keep, swap) == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 16, 17, 33, 100, 257, 1000])
def test_identical_to_the_frame_by_frame_loop(n):
    rng = np.random.default_rng(100 + n)
    for trial in range(10):
        if trial % 2:  # real-valued costs, some frames with a jump
            keep, swap = rng.exponential(0.5, n - 1), rng.exponential(3.0, n - 1)
            jumps = rng.random(n - 1) < 0.05
            keep[jumps], swap[jumps] = swap[jumps] * 30, keep[jumps]
        else:  # small integers: many exact ties, which both must break the same way (stay)
            keep, swap = rng.integers(0, 3, n - 1).astype(float), rng.integers(0, 3, n - 1).astype(float)
        assert np.array_equal(two_state_viterbi(keep, swap), loop_viterbi(keep, swap)), (n, trial)


def test_uninformative_track_keeps_the_detector_labels():
    assert not two_state_viterbi(np.zeros(50), np.zeros(50)).any()


@pytest.mark.parametrize("n,k", [(1, 4), (2, 3), (4, 4), (6, 3), (9, 2)])
def test_k_states_match_brute_force(n, k):
    rng = np.random.default_rng(10 * n + k)
    for _ in range(10):
        unary, trans = rng.exponential(1.0, (n, k)), rng.exponential(1.0, (n - 1, k, k))
        cost = lambda s: unary[np.arange(n), s].sum() + trans[np.arange(n - 1), s[:-1], s[1:]].sum()
        best = min(cost(np.array(p)) for p in itertools.product(range(k), repeat=n))
        got = viterbi(unary, trans)
        assert got.shape == (n,) and cost(got.astype(int)) == pytest.approx(best, abs=1e-12)
