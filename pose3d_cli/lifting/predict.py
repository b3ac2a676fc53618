"""Run a lifting model over frames or whole sequences (shared by train's validation, eval and infer)."""

from __future__ import annotations

import numpy as np
import torch


def pad_sequence(xy: np.ndarray, conf: np.ndarray, receptive_field: int, causal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Edge-pad (T, J, ·) arrays so a temporal model returns one output per input frame.

    Centred models get (RF-1)/2 frames of each end repeated; causal models RF-1 copies of the first frame.
    """
    pad = receptive_field - 1
    before, after = (pad, 0) if causal else (pad // 2, pad - pad // 2)
    widths = [(before, after)] + [(0, 0)] * (xy.ndim - 1)
    return np.pad(xy, widths, mode="edge"), np.pad(conf, widths[:conf.ndim], mode="edge")


@torch.no_grad()
def predict_frames(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Single-frame model: (N, J, 2), (N, J) → (N, J, 3) mm."""
    out = []
    for i in range(0, len(xy), batch_size):
        out.append(model(torch.from_numpy(np.ascontiguousarray(xy[i:i + batch_size])),
                         torch.from_numpy(np.ascontiguousarray(conf[i:i + batch_size]))).numpy())
    return np.concatenate(out) if out else np.zeros((0, xy.shape[1], 3), dtype=np.float32)


@torch.no_grad()
def predict_sequence(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Any model over one contiguous sequence: (T, J, 2), (T, J) → (T, J, 3) mm.

    Temporal models see the sequence edge-padded (see :func:`pad_sequence`), in chunks of ``chunk`` output
    frames, so memory stays bounded for long videos.
    """
    rf = model.receptive_field()
    if rf == 1:
        return predict_frames(model, xy, conf)
    xp, cp = pad_sequence(xy, conf, rf, getattr(model, "causal", False))
    T = xy.shape[0]
    out = []
    for s in range(0, T, chunk):
        e = min(T, s + chunk)
        x = torch.from_numpy(np.ascontiguousarray(xp[s:e + rf - 1]))[None]
        c = torch.from_numpy(np.ascontiguousarray(cp[s:e + rf - 1]))[None]
        out.append(model(x, c)[0].numpy())
    return np.concatenate(out) if out else np.zeros((0, xy.shape[1], 3), dtype=np.float32)


def predict_dataset(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """(N, J, 2), (N, J) with contiguous sequences at ``ranges`` → (N, J, 3) mm."""
    if model.receptive_field() == 1:
        return predict_frames(model, xy, conf)
    out = np.zeros(xy.shape[:2] + (3,), dtype=np.float32)
    for s, e in ranges:
        out[s:e] = predict_sequence(model, xy[s:e], conf[s:e])
    return out
