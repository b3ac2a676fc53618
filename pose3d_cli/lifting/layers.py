"""The torch half of the codec (see :mod:`pose3d_cli.lifting.codec`): layers that live inside every model."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def confidence_weights(conf: torch.Tensor) -> torch.Tensor:
    """(…, J) confidence → (…, J) joint weights: 0 for a missing joint, else the confidence (at least 0.05)."""
    return (conf > 0).to(conf.dtype) * conf.clamp(min=0.05)


class InputNormalizer(nn.Module):
    """(…, J, 2) normalised coordinates + (…, J) confidence → (…, 3J + 3) features (see module doc): the first
    2J are the centred, unit-spread joints ``(x - c) / s`` (0 where missing)."""

    def forward(self, xy: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        w = confidence_weights(conf).to(xy.dtype)
        wsum = w.sum(-1, keepdim=True).clamp(min=1e-6)  # (…, 1)
        c = (xy * w.unsqueeze(-1)).sum(-2) / wsum  # (…, 2)
        d = (xy - c.unsqueeze(-2)) * (w > 0).to(xy.dtype).unsqueeze(-1)
        s = torch.sqrt(((d ** 2).sum(-1) * w).sum(-1, keepdim=True) / wsum).clamp(min=1e-4)  # (…, 1)
        z = d / s.unsqueeze(-1)
        feats = torch.cat([z.flatten(-2), conf, c, torch.log(s)], dim=-1)
        return feats


class OutputDenormalizer(nn.Module):
    """(…, 3J) standardised output → (…, J, 3) mm, root joint exactly at 0."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, root: int):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("std", torch.as_tensor(np.asarray(std, dtype=np.float32)))
        self.root = root

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        out = y.unflatten(-1, (-1, 3)) * self.std + self.mean
        return out - out[..., self.root:self.root + 1, :]

    def standardise(self, joints_rel: torch.Tensor) -> torch.Tensor:
        """(…, J, 3) root-relative mm → (…, 3J) standardised targets."""
        return ((joints_rel - self.mean) / self.std).flatten(-2)
