"""What a lifter takes and gives: :class:`ModelContract`, asked through :func:`contract_of` (re-exported by
:mod:`pose3d_cli.lifting.models`, the registry)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ModelContract:
    """What a lifter takes and gives (one owner for the questions train/eval/infer/export ask of a model).

    - inputs: ``xy (B, [T,] J, 2)`` normalised camera coordinates and ``confidence (B, [T,] J)``
      (0 = missing), in this order;
    - receptive_field: input frames per output frame (1: single frame; the time axis is optional);
    - causal: the output frame is the *last* of its window (live use); otherwise its centre;
    - outputs: root-relative joints ``(B, [T - receptive_field + 1,] J, 3)`` mm, camera frame;
    - gradient_steps: True: trained by gradient steps on its parameters (``pose3d train``'s loop); False: it has
      no parameters and is fitted in one pass by ``model.fit(xy, conf, target, seed)`` from the training pairs
      (the nearest-neighbour baseline), so train calls that instead of an optimiser;
    - composed: made from trained checkpoints (the blend: :mod:`pose3d_cli.lifting.blend`), not trained as a whole:
      ``pose3d train --model`` refuses it, and ``--init`` continues its ``continued_part()`` (the output is blended
      again: :func:`pose3d_cli.lifting.blend.output_of_init`).
    """

    receptive_field: int = 1
    causal: bool = False
    inputs: tuple[str, ...] = ("xy", "confidence")
    outputs: str = "root-relative joints (B, [T - receptive_field + 1,] J, 3) mm, camera frame"
    gradient_steps: bool = True
    composed: bool = False

    @property
    def takes_det3d(self) -> bool:
        """Whether the detector's own 3D is an (optional) input: the fused lifter and the blend."""
        return "det3d" in self.inputs

    @property
    def temporal(self) -> bool:
        return self.receptive_field > 1

    @property
    def frames_before(self) -> int:
        """Input frames before the first output frame of a window."""
        pad = self.receptive_field - 1
        return pad if self.causal else pad // 2

    def output_frames(self, input_frames: int) -> int:
        return input_frames - self.receptive_field + 1


def contract_of(model: nn.Module) -> ModelContract:
    """The contract of a model (a DDP wrapper is looked through)."""
    module = model.module if hasattr(model, "module") else model
    return module.contract()
