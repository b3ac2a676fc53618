"""Lifting networks and their registry.

Every model maps ``xy (B, [T,] J, 2)`` normalised camera coordinates and ``confidence (B, [T,] J)`` to
root-relative ``(B, [T',] J, 3)`` millimetres in the camera frame; the codec's input normaliser and output
denormaliser are inside the model (see :mod:`pose3d_cli.lifting.codec`), so an exported model is complete.

- ``mlp``: the residual MLP of Martinez et al. 2017 ("A simple yet effective baseline"), LayerNorm instead of
  BatchNorm (per-sample, identical under DDP and at batch 1).
- ``temporal``: VideoPose3D-style dilated 1D convolutions (Pavllo et al. 2019); ``filter_widths`` (3, 3, 3)
  gives a 27-frame receptive field, (3, 3, 3, 3) 81, (3, 3, 3, 3, 3) 243; ``causal=True`` only looks back.
  Given T input frames it returns T - receptive_field + 1 output frames.
- ``nn``: the nearest-neighbour baseline of Chen & Ramanan 2017 (:mod:`pose3d_cli.lifting.nearest`): no
  parameters; ``pose3d train`` fills its library of 2D projections and 3D from the training pairs in one pass
  (its contract says ``gradient_steps=False``).
- ``fused``: the MLP with the detector's own 3D (BlazePose world landmarks) as an optional input.
- ``blend``: a plain ``mlp`` and a ``fused`` lifter trained apart and averaged where the detector's 3D is present
  (``fused_weight``); made from the two checkpoints by :mod:`pose3d_cli.lifting.blend`, not by ``pose3d train``
  (its contract says ``composed=True``).

Add a model: write an ``nn.Module`` with the same constructor head ``(num_joints, root, target_mean,
target_std, **args)``, ``receptive_field()`` and ``contract()`` (a :class:`ModelContract`), and add it to
:data:`MODELS`. Train, eval, infer and export ask :func:`contract_of` what a model takes and gives; none of
them inspects model attributes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .codec import num_input_features
from .contract import ModelContract, contract_of  # noqa: F401  (re-exported: ask models.py)
from .layers import InputNormalizer, OutputDenormalizer
from .nearest import NearestNeighbourLifter


class _Residual(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU(), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class MLPLifter(nn.Module):
    """Single-frame residual MLP. ``(B, J, 2), (B, J) → (B, J, 3)``; also accepts a time axis ``(B, T, J, ·)``."""

    def __init__(self, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                 width: int = 384, blocks: int = 2, dropout: float = 0.05):
        super().__init__()
        self.num_joints = num_joints
        self.encode = InputNormalizer()
        self.stem = nn.Sequential(nn.Linear(num_input_features(num_joints), width), nn.LayerNorm(width), nn.ReLU(),
                                  nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[_Residual(width, dropout) for _ in range(blocks)])
        self.head = nn.Linear(width, num_joints * 3)
        self.decode = OutputDenormalizer(target_mean, target_std, root)

    @staticmethod
    def receptive_field() -> int:
        return 1

    def contract(self) -> ModelContract:
        return ModelContract(receptive_field=1, causal=False)

    def forward(self, xy: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        return self.decode(self.head(self.blocks(self.stem(self.encode(xy, conf)))))


class _ChannelNorm(nn.Module):
    """LayerNorm over channels of a (B, C, T) tensor, per time step."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2).contiguous()


class TemporalLifter(nn.Module):
    """Dilated temporal convolutions. ``(B, T, J, 2), (B, T, J) → (B, T - RF + 1, J, 3)``."""

    def __init__(self, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                 channels: int = 256, filter_widths: tuple[int, ...] = (3, 3, 3), dropout: float = 0.1,
                 causal: bool = False):
        super().__init__()
        self.num_joints = num_joints
        self.filter_widths = tuple(int(w) for w in filter_widths)
        self.causal = causal
        self.encode = InputNormalizer()
        act = [nn.ReLU(), nn.Dropout(dropout)]
        self.expand = nn.Sequential(nn.Conv1d(num_input_features(num_joints), channels, self.filter_widths[0]),
                                    _ChannelNorm(channels), *act)
        layers = []
        self.pads = []
        dilation = self.filter_widths[0]
        for w in self.filter_widths[1:]:
            self.pads.append((w - 1) * dilation)
            layers.append(nn.Sequential(
                nn.Conv1d(channels, channels, w, dilation=dilation), _ChannelNorm(channels), nn.ReLU(), nn.Dropout(dropout),
                nn.Conv1d(channels, channels, 1), _ChannelNorm(channels), nn.ReLU(), nn.Dropout(dropout)))
            dilation *= w
        self.layers = nn.ModuleList(layers)
        self.shrink = nn.Conv1d(channels, num_joints * 3, 1)
        self.decode = OutputDenormalizer(target_mean, target_std, root)

    def receptive_field(self) -> int:
        rf, d = 1, 1
        for w in self.filter_widths:
            rf += (w - 1) * d
            d *= w
        return rf

    def contract(self) -> ModelContract:
        return ModelContract(receptive_field=self.receptive_field(), causal=bool(self.causal))

    def forward(self, xy: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        x = self.encode(xy, conf).transpose(1, 2)  # (B, F, T)
        x = self.expand(x)
        for pad, layer in zip(self.pads, self.layers):
            # the residual is the centre (or, causal, the end) of the input window
            res = x[:, :, pad:] if self.causal else x[:, :, pad // 2: x.shape[2] - pad + pad // 2]
            x = res + layer(x)
        return self.decode(self.shrink(x).transpose(1, 2))


class FusedLifter(MLPLifter):
    """Single-frame residual MLP with the detector's own 3D as an optional input.

    ``(B, J, 2), (B, J)[, (B, J, 3), (B,)] → (B, J, 3)``: ``det`` root-relative camera-frame mm (the codec's
    :func:`~pose3d_cli.lifting.codec.detector3d_to_network_input`) and ``det_mask`` (1 present, 0 absent); both
    omitted = absent. The detector joints are standardised by the target statistics and zeroed when absent, and
    the mask is a feature, so the plain 2D path is the same network with the detector input masked.
    """

    def __init__(self, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                 width: int = 384, blocks: int = 2, dropout: float = 0.05):
        super().__init__(num_joints, root, target_mean, target_std, width, blocks, dropout)
        self.stem = nn.Sequential(nn.Linear(num_input_features(num_joints) + num_joints * 3 + 1, width),
                                  nn.LayerNorm(width), nn.ReLU(), nn.Dropout(dropout))

    def contract(self) -> ModelContract:
        return ModelContract(receptive_field=1, causal=False, inputs=("xy", "confidence", "det3d", "det3d_mask"))

    def forward(self, xy: torch.Tensor, conf: torch.Tensor, det: torch.Tensor | None = None,
                det_mask: torch.Tensor | None = None) -> torch.Tensor:
        if det is None:
            det = torch.zeros(*xy.shape[:-1], 3, dtype=xy.dtype, device=xy.device)
            det_mask = torch.zeros(xy.shape[:-2], dtype=xy.dtype, device=xy.device)
        m = det_mask.to(xy.dtype).unsqueeze(-1)
        d = self.decode.standardise(det)
        d = torch.where(m > 0, d, torch.zeros_like(d))  # absent: zero, whatever it holds (NaN * 0 is NaN)
        feats = torch.cat([self.encode(xy, conf), d, m], dim=-1)
        return self.decode(self.head(self.blocks(self.stem(feats))))


class BlendLifter(nn.Module):
    """A plain MLP and a fused lifter, trained apart, averaged where the detector's 3D is present.

    ``(B, J, 2), (B, J)[, (B, J, 3), (B,)] → (B, J, 3)``: ``plain(xy, conf)`` where ``det_mask`` is 0 or ``det``
    is omitted (the plain 2D path is exactly the plain model), ``(1 - w)·plain + w·fused`` where it is 1, with
    ``w = fused_weight``. Measured on the shared pose2sim clip (README): the average beats both of its inputs,
    which err in different ways (the fused one leans on the detector's 3D, the plain one on the 2D alone).
    """

    def __init__(self, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                 width: int = 384, blocks: int = 2, dropout: float = 0.05, fused_weight: float = 0.3):
        super().__init__()
        self.num_joints = num_joints
        self.fused_weight = float(fused_weight)
        self.part_args = {"width": width, "blocks": blocks, "dropout": dropout}
        self.plain = MLPLifter(num_joints, root, target_mean, target_std, width, blocks, dropout)
        self.fused = FusedLifter(num_joints, root, target_mean, target_std, width, blocks, dropout)

    @staticmethod
    def receptive_field() -> int:
        return 1

    def contract(self) -> ModelContract:
        return ModelContract(receptive_field=1, causal=False, inputs=("xy", "confidence", "det3d", "det3d_mask"),
                             composed=True)

    def continued_part(self) -> tuple[nn.Module, str, dict]:
        """What ``pose3d train --init`` / ``pose3d adapt`` continue from a blend: its plain MLP (the fused one
        trains apart, on pairs and image/3D sources: split it with ``lifting/blend.py --parts``), with its registry
        name and arguments; the run's output
        is blended again with this fused part (:func:`pose3d_cli.lifting.blend.output_of_init`)."""
        return self.plain, "mlp", dict(self.part_args)

    def forward(self, xy: torch.Tensor, conf: torch.Tensor, det: torch.Tensor | None = None,
                det_mask: torch.Tensor | None = None) -> torch.Tensor:
        plain = self.plain(xy, conf)
        if det is None:
            return plain
        w = self.fused_weight * det_mask.to(xy.dtype)[..., None, None]
        return plain + w * (self.fused(xy, conf, det, det_mask) - plain)


MODELS: dict[str, type[nn.Module]] = {"mlp": MLPLifter, "temporal": TemporalLifter, "fused": FusedLifter,
                                      "blend": BlendLifter, "nn": NearestNeighbourLifter}

#: the defaults each model is built with when no argument is given
DEFAULT_ARGS: dict[str, dict] = {
    "mlp": {"width": 384, "blocks": 2, "dropout": 0.05},  # the shipped model (README: model card)
    "temporal": {"channels": 256, "filter_widths": [3, 3, 3], "dropout": 0.1, "causal": False},
    "fused": {"width": 384, "blocks": 2, "dropout": 0.05},
    "blend": {"width": 384, "blocks": 2, "dropout": 0.05, "fused_weight": 0.3},  # chosen on the dev frames (README)
    "nn": {"k": 8, "library": 100_000, "chunk": 1024},  # the Chen & Ramanan baseline (README: measured figures)
}


def check_model_args(name: str, args: dict) -> None:
    """Refuse, in one line, an unregistered model or an argument it does not take or of the wrong kind (before
    any work: ``pose3d train`` calls it on ``--model``/``--arg``)."""
    from ..errors import Pose3dError

    if name not in MODELS:
        raise Pose3dError(f"unknown model {name!r}; registered: {', '.join(MODELS)}")
    unknown = set(args) - set(DEFAULT_ARGS[name])
    if unknown:
        raise Pose3dError(f"model {name!r} has no argument {', '.join(sorted(unknown))}; it takes "
                          f"{', '.join(f'{k}={v}' for k, v in DEFAULT_ARGS[name].items())}")
    for key, value in args.items():
        default = DEFAULT_ARGS[name][key]
        if isinstance(default, bool):
            ok, want = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, want = isinstance(value, int) and not isinstance(value, bool) and value >= 1, "a whole number >= 1"
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1
            want = "a number in [0, 1)"
        else:
            ok = isinstance(value, (list, tuple)) and len(value) > 0 and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value) and any(v > 1 for v in value)
            # all 1: a receptive field of one frame, which the contract then calls single-frame (no time axis)
            want = "a list of whole numbers >= 1, not all 1 (one frame: use --model mlp), e.g. [3,3,3]"
        if not ok:
            raise Pose3dError(f"model {name!r}: {key}={value!r} is not valid; {key} must be {want} "
                              f"(default {default})")


def probe_model(name: str, args: dict) -> nn.Module:
    """A throwaway one-joint instance of a registered model, built only to ask its contract (no weights loaded)."""
    return build_model(name, 1, 0, np.zeros((1, 3)), np.ones((1, 3)), **args)


def check_trainable(name: str, args: dict) -> None:
    """:func:`check_model_args`, and refuse in one line a model ``pose3d train`` cannot train as a whole (a
    composed one: the blend is made from two trained checkpoints)."""
    from ..errors import Pose3dError

    check_model_args(name, args)
    if contract_of(probe_model(name, args)).composed:
        raise Pose3dError(f"model {name!r} is made from two trained checkpoints, not trained: train an mlp and a "
                          "fused model, then `python -m pose3d_cli.lifting.blend PLAIN.pt FUSED.pt -o OUT.pt` "
                          "(recipes/default.sh); to continue a blend, give it with --init")


def build_model(name: str, num_joints: int, root: int, target_mean: np.ndarray, target_std: np.ndarray,
                **args) -> nn.Module:
    """Instantiate a registered model; ``args`` override :data:`DEFAULT_ARGS`."""
    from ..errors import Pose3dError

    check_model_args(name, args)
    full = {**DEFAULT_ARGS[name], **args}
    try:
        if name == "temporal":
            full["filter_widths"] = tuple(int(w) for w in full["filter_widths"])
        return MODELS[name](num_joints, root, target_mean, target_std, **full)
    except (TypeError, ValueError, RuntimeError) as e:
        raise Pose3dError(f"model {name!r}: invalid arguments {args} ({str(e).splitlines()[0][:100]})") from None


def receptive_field_widths(frames: int) -> list[int]:
    """Filter widths of 3 that give a receptive field of ``frames`` (27, 81, 243 ...)."""
    widths, rf = [3], 3
    while rf < frames:
        widths.append(3)
        rf *= 3
    if rf != frames:
        from ..errors import Pose3dError

        raise Pose3dError(f"receptive field must be a power of 3 (27, 81, 243), got {frames}")
    return widths
