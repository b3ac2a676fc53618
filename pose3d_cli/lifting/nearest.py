"""The nearest-neighbour baseline (Chen & Ramanan, CVPR 2017, "3D Human Pose Estimation = 2D Pose Estimation +
Matching"): a 2D pose is matched against a library of 2D projections of mocap poses, and the 3D of the best
matches is returned.

- The library holds exact 2D projections of training poses, encoded like every network input (normalised
  camera coordinates, then centred and scaled to unit spread by the codec's
  :class:`~pose3d_cli.lifting.layers.InputNormalizer`: C&R's translation and scale normalisation), and their
  root-relative camera-frame 3D, as buffers: the one checkpoint format carries it, exports carry it too.
- Distance of a query to a library pose: the confidence-weighted squared 2D distance over the query's present
  joints (missing joints masked) after the best translation and scale of the library pose onto them, divided by
  the query's own weighted spread: ``1 - ρ²`` of the weighted centred coordinates, in [0, 1], 0 for an exact
  match up to translation and scale. With every joint present it is C&R's distance between normalised poses;
  with some missing the library pose is re-aligned on the joints the query has.
- Output: the k nearest library poses' 3D averaged with weights ``1 / (distance + 1e-6)`` (an exact match
  dominates), root at 0.

Everything is batched matmuls + ``topk`` over library chunks of ``chunk`` poses (a static loop, so ONNX,
TorchScript and torch.export all carry it), so memory is ``(B, chunk)`` whatever the library size.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .codec import root_relative
from .contract import ModelContract
from .layers import InputNormalizer, confidence_weights

#: added to the distance before inverting it into a neighbour weight
WEIGHT_EPS = 1e-6


class NearestNeighbourLifter(nn.Module):
    """k-NN matching in a library of 2D projections. ``(B, [T,] J, 2), (B, [T,] J) → (B, [T,] J, 3)``.

    ``target_std`` is unused (kept for the registry's constructor head); ``target_mean`` is what an empty
    (never fitted) library returns. ``library``: the most poses :meth:`fit` keeps (a random sample); ``k``:
    neighbours averaged; ``chunk``: library poses compared at once.
    """

    def __init__(self, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                 k: int = 8, library: int = 100_000, chunk: int = 1024):
        super().__init__()
        if k < 1 or library < 1 or chunk < 1:
            raise ValueError(f"k, library and chunk must be >= 1, got {k}, {library}, {chunk}")
        self.num_joints, self.root = num_joints, root
        self.k, self.library_size, self.chunk = int(k), int(library), int(chunk)
        self.encode = InputNormalizer()
        mean = root_relative(np.asarray(target_mean, dtype=np.float32), root)
        self.register_buffer("mean_pose", torch.as_tensor(mean))
        self.register_buffer("library_2d", torch.zeros(0, num_joints, 2))  # (L, J, 2) normalised, unit spread
        self.register_buffer("library_3d", torch.zeros(0, num_joints, 3))  # (L, J, 3) root-relative mm

    @staticmethod
    def receptive_field() -> int:
        return 1

    def contract(self) -> ModelContract:
        return ModelContract(receptive_field=1, causal=False, gradient_steps=False)

    def normalised(self, xy: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        """(N, J, 2), (N, J) → (N, J, 2) centred, unit-spread 2D (the codec's first 2J features)."""
        J = self.num_joints
        return self.encode(xy, conf)[..., :2 * J].unflatten(-1, (J, 2))

    @torch.no_grad()
    def fit(self, xy: torch.Tensor, conf: torch.Tensor, target: torch.Tensor, seed: int = 0) -> int:
        """Fill the library from pairs: xy (N, J, 2) network inputs, conf (N, J), target (N, J, 3) mm.

        Keeps a random ``library`` of the N pairs (all when N is smaller); returns the library size."""
        g = torch.Generator().manual_seed(int(seed))
        take = torch.randperm(len(xy), generator=g)[: self.library_size].sort().values
        self.library_2d = self.normalised(xy[take].float(), conf[take].float()).contiguous()
        self.library_3d = (target[take] - target[take][:, self.root:self.root + 1]).float().contiguous()
        return len(take)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the library's size is data, not an argument: take the stored one
        for name in ("library_2d", "library_3d"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        L2, L3, J = tuple(self.library_2d.shape), tuple(self.library_3d.shape), self.num_joints
        if len(L2) != 3 or L2[1:] != (J, 2) or len(L3) != 3 or L3[1:] != (J, 3) or L2[0] != L3[0]:
            raise RuntimeError(f"library shapes {list(L2)} / {list(L3)} are not (L, {J}, 2) / (L, {J}, 3)")

    def distances(self, xy: torch.Tensor, conf: torch.Tensor, library_2d: torch.Tensor) -> torch.Tensor:
        """(B, J, 2), (B, J) queries vs (C, J, 2) normalised library poses → (B, C) distances in [0, 1]."""
        q = self.normalised(xy, conf)
        w = confidence_weights(conf).to(q.dtype)  # (B, J)
        W = w.sum(-1, keepdim=True).clamp(min=1e-6)
        qc = q - ((w.unsqueeze(-1) * q).sum(-2) / W).unsqueeze(-2)  # centred on the weighted centroid
        qq = (w * (qc ** 2).sum(-1)).sum(-1, keepdim=True).clamp(min=1e-9)  # (B, 1)
        lib = library_2d
        cross = (w.unsqueeze(-1) * qc).flatten(1) @ lib.flatten(1).T  # Σ w <qc, l>  (B, C)
        # Σ w |l|², Σ w lx, Σ w ly in one matmul: (B, J) @ (J, 3C)
        sums = (w @ torch.cat([(lib ** 2).sum(-1), lib[..., 0], lib[..., 1]], dim=0).T.contiguous()).unflatten(-1, (3, -1))
        ll = (sums[:, 0] - (sums[:, 1] ** 2 + sums[:, 2] ** 2) / W).clamp(min=1e-9)  # weighted spread of l
        return (1.0 - cross.clamp(min=0) ** 2 / (ll * qq)).clamp(min=0.0)

    def forward(self, xy: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        J = self.num_joints
        L = int(self.library_2d.shape[0])
        if L == 0:  # never fitted: the training mean pose
            return self.mean_pose.expand(*xy.shape[:-1], 3)
        q, c = xy.reshape(-1, J, 2), conf.reshape(-1, J)
        dists, index = [], []
        for s in range(0, L, self.chunk):  # static loop: exported as is
            d = self.distances(q, c, self.library_2d[s:s + self.chunk])
            d, i = torch.topk(d, min(self.k, d.shape[1]), dim=1, largest=False)
            dists.append(d)
            index.append(i + s)
        d, pick = torch.topk(torch.cat(dists, 1), min(self.k, L), dim=1, largest=False)
        index = torch.gather(torch.cat(index, 1), 1, pick)  # (B, k) library rows
        weight = 1.0 / (d + WEIGHT_EPS)
        weight = weight / weight.sum(1, keepdim=True)
        out = (self.library_3d[index] * weight[..., None, None]).sum(1)  # (B, J, 3)
        out = out - out[:, self.root:self.root + 1]
        return out.reshape(xy.shape[:-1] + (3,))
