"""Run a torch lifting model over frames or whole sequences (train's validation and eval)."""

from __future__ import annotations

import numpy as np
import torch

from .models import contract_of
from .sequence import pad_sequence, run_dataset, run_frames, run_sequence  # noqa: F401  (pad_sequence re-exported)


def torch_fn(model: torch.nn.Module):
    """A torch model as a numpy → numpy function (no grad)."""

    @torch.no_grad()
    def fn(xy: np.ndarray, conf: np.ndarray, *extra: np.ndarray) -> np.ndarray:
        return model(torch.from_numpy(xy), torch.from_numpy(conf), *(torch.from_numpy(a) for a in extra)).numpy()

    return fn


def predict_frames(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Single-frame model: (N, J, 2), (N, J) → (N, J, 3) mm."""
    return run_frames(torch_fn(model), xy, conf, batch_size)


def predict_sequence(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Any model over one contiguous sequence: (T, J, 2), (T, J) → (T, J, 3) mm (temporal: edge-padded)."""
    return run_sequence(torch_fn(model), contract_of(model).receptive_field, contract_of(model).causal, xy, conf, chunk)


def predict_dataset(model: torch.nn.Module, xy: np.ndarray, conf: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """(N, J, 2), (N, J) with contiguous sequences at ``ranges`` → (N, J, 3) mm."""
    return run_dataset(torch_fn(model), contract_of(model).receptive_field, contract_of(model).causal, xy, conf, ranges)
