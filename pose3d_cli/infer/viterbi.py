"""A two-state Viterbi decoder vectorised over the track (numpy, no per-frame Python loop).

The left/right swap fix (:func:`pose3d_cli.infer.pipeline.fix_left_right_swaps`) labels every detected frame
*as detected* (state 0) or *swapped* (state 1). Between consecutive frames, keeping the state costs ``stay[k]`` and
switching it costs ``cross[k]``; every frame in state 1 costs ``prior``; frame 0 starts at costs ``(0, prior)``.

The forward pass is a prefix product of 2 × 2 matrices in the (min, +) semiring, computed by doubling
(Hillis-Steele: ``ceil(log2 N)`` numpy steps over the whole track); the back-pointers then come from the costs in
one vectorised step, and the backtrack (a composition of maps {0, 1} → {0, 1}) by doubling too. Ties are broken
as the frame-by-frame recursion does: staying in the state wins. The costs are the same sums added in another
order, so the decoded path can differ from a frame-by-frame loop only where two paths cost the same to the last
bits of a float64.
"""

from __future__ import annotations

import numpy as np


def _min_plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 2, 2) ⊗ (N, 2, 2) in the (min, +) semiring: ``out[n, i, j] = min_l a[n, i, l] + b[n, l, j]``."""
    return np.minimum(a[:, :, 0, None] + b[:, 0, None, :], a[:, :, 1, None] + b[:, 1, None, :])


def two_state_viterbi(stay: np.ndarray, cross: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """The lowest-cost state sequence (see the module doc).

    Args:
        stay, cross: (N-1,) cost of keeping / switching the state between frames k and k+1.
        prior: cost of each frame in state 1.
    Returns:
        (N,) int8 states, N = len(stay) + 1.
    """
    stay, cross = np.asarray(stay, np.float64), np.asarray(cross, np.float64)
    n = len(stay) + 1
    if n == 1:
        return np.zeros(1, np.int8)
    # transition k (frame k -> k+1): M[k, i, j] = cost of going from state i to j, plus the prior of j
    M = np.empty((n - 1, 2, 2))
    M[:, 0, 0], M[:, 1, 1] = stay, stay + prior
    M[:, 0, 1], M[:, 1, 0] = cross + prior, cross
    P = M.copy()  # inclusive prefix products P[k] = M[0] ⊗ ... ⊗ M[k]
    d = 1
    while d < n - 1:
        P[d:] = _min_plus(P[:-d], P[d:])
        d *= 2
    start = np.array([0.0, prior])
    cost = np.empty((n, 2))
    cost[0] = start
    cost[1:] = np.minimum(start[0] + P[:, 0, :], start[1] + P[:, 1, :])  # (N-1, 2) cost of each state at k+1
    prev = cost[:-1]  # costs at frame k, for the step k -> k+1
    # back-pointers of frame k+1: state 0 came from 0 unless 1 is strictly cheaper; state 1 from 1 likewise
    back = np.empty((n - 1, 2), np.int64)
    back[:, 0] = np.where(prev[:, 0] + stay <= prev[:, 1] + cross, 0, 1)
    back[:, 1] = np.where(prev[:, 1] + stay <= prev[:, 0] + cross, 1, 0)
    last = int(cost[-1, 1] < cost[-1, 0])
    # state[k] = back[k](back[k+1](...back[N-2](last))): suffix compositions of the maps, by doubling
    F = back.copy()  # F[k] = back[k] ∘ back[k+1] ∘ ... (up to 2^step maps)
    d = 1
    while d < n - 1:
        F[:-d] = np.take_along_axis(F[:-d], F[d:], axis=1)
        d *= 2
    state = np.empty(n, np.int8)
    state[-1] = last
    state[:-1] = F[:, last]
    return state
