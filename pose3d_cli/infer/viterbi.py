"""Viterbi decoders vectorised over the track (numpy, no per-frame Python loop): K states (:func:`viterbi`), and
the two-state case of the left/right swap fix (:func:`two_state_viterbi`).

The left/right swap fix (:func:`pose3d_cli.infer.pipeline.fix_left_right_swaps`) labels every detected frame
*as detected* (state 0) or *swapped* (state 1). Between consecutive frames, keeping the state costs ``stay[k]`` and
switching it costs ``cross[k]``; every frame in state 1 costs ``prior``; frame 0 starts at costs ``(0, prior)``.

The forward pass is a prefix product of K × K matrices in the (min, +) semiring, computed by doubling
(Hillis-Steele: ``ceil(log2 N)`` numpy steps over the whole track); the back-pointers then come from the costs in
one vectorised step, and the backtrack (a composition of maps {0..K-1} → {0..K-1}) by doubling too. Ties are broken
as the frame-by-frame recursion does: staying in the state wins. The costs are the same sums added in another
order, so the decoded path can differ from a frame-by-frame loop only where two paths cost the same to the last
bits of a float64.
"""

from __future__ import annotations

import numpy as np


def _min_plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, K, K) ⊗ (N, K, K) in the (min, +) semiring: ``out[n, i, j] = min_l a[n, i, l] + b[n, l, j]``."""
    return np.min(a[:, :, :, None] + b[:, None, :, :], axis=2)


def viterbi(unary: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """The lowest-cost state sequence of a K-state chain.

    Args:
        unary: (N, K) cost of each state at each frame.
        trans: (N-1, K, K) cost ``trans[k, i, j]`` of going from state i at frame k to state j at frame k+1.
    Returns:
        (N,) int8 states. Ties: a frame keeps the state of the next one where that costs no more, else the lowest
        state; the last frame takes the lowest of its cheapest states.
    """
    unary, trans = np.asarray(unary, np.float64), np.asarray(trans, np.float64)
    n, K = unary.shape
    if n == 1:
        return np.argmin(unary[0]).astype(np.int8)[None]
    M = trans + unary[1:, None, :]  # M[k, i, j]: from state i at frame k to j at k+1, plus the unary of j
    P = M.copy()  # inclusive prefix products P[k] = M[0] ⊗ ... ⊗ M[k]
    d = 1
    while d < n - 1:
        P[d:] = _min_plus(P[:-d], P[d:])
        d *= 2
    start = unary[0]
    cost = np.empty((n, K))
    cost[0] = start
    cost[1:] = np.min(start[None, :, None] + P, axis=1)  # (N-1, K) cost of each state at k+1
    # back-pointers of frame k+1: where state j came from (staying wins a tie)
    via = cost[:-1, :, None] + trans  # (N-1, K from, K to)
    back = np.argmin(via, axis=1)
    stay = np.diagonal(via, axis1=1, axis2=2) <= np.min(via, axis=1)
    back = np.where(stay, np.arange(K), back)
    last = int(np.argmin(cost[-1]))
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


def two_state_viterbi(stay: np.ndarray, cross: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """The lowest-cost state sequence (see the module doc): state 1 costs ``prior`` a frame.

    Args:
        stay, cross: (N-1,) cost of keeping / switching the state between frames k and k+1.
        prior: cost of each frame in state 1.
    Returns:
        (N,) int8 states, N = len(stay) + 1.
    """
    stay, cross = np.asarray(stay, np.float64), np.asarray(cross, np.float64)
    n = len(stay) + 1
    unary = np.zeros((n, 2))
    unary[:, 1] = prior
    trans = np.empty((n - 1, 2, 2))
    trans[:, 0, 0] = trans[:, 1, 1] = stay
    trans[:, 0, 1] = trans[:, 1, 0] = cross
    return viterbi(unary, trans)
