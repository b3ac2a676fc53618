"""A lifter for inference: a pose3d checkpoint (torch) or an exported ONNX model (onnxruntime, no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..lifting.sequence import LiftFn, flip_averaged, run_frames, run_sequence
from ..skeleton import Skeleton, get_skeleton


@dataclass
class Lifter:
    fn: LiftFn
    receptive_field: int
    causal: bool
    skeleton: Skeleton
    name: str
    path: str
    backend: str  # torch | onnxruntime
    takes_det3d: bool = False  # the fused lifter: the detector's own 3D as an optional input

    def lift(self, xy: np.ndarray, conf: np.ndarray, det3d: np.ndarray | None = None) -> np.ndarray:
        """One sequence: (T, J, 2) normalised coordinates, (T, J) confidence [, the detector's root-relative 3D
        (T, J, 3) mm, NaN rows = absent; used by a fused lifter only] → (T, J, 3) root-relative mm."""
        if not self.takes_det3d:
            return run_sequence(self.fn, self.receptive_field, self.causal, xy, conf)
        from ..lifting.codec import detector3d_to_network_input

        det, mask = detector3d_to_network_input(det3d, None, tuple(conf.shape))
        return run_frames(self.fn, xy, conf, 8192, det, mask)


def default_model_path() -> Path:
    return Path(__file__).resolve().parent.parent / "models" / "default.pt"


#: intra-op threads of the lifter in ``infer``: one. Measured on the 2 shared cores here (benchmarks/infer.py
#: ``--only-lifter``): a second thread made a 100-frame track 50x slower (each small op waits for the other thread
#: to be scheduled) and 8192 poses 2.4x slower, whenever other jobs load the cores; lifting is a small part of
#: ``infer`` either way (the detector is the rest).
LIFTER_THREADS = 1


def load_lifter(path: str | Path | None = None, threads: int = LIFTER_THREADS, flip_tta: bool = True) -> Lifter:
    """Load ``path`` (.pt checkpoint or .onnx); None loads the model shipped with pose3d. ``flip_tta`` averages
    each prediction with that of the mirrored input (:func:`~pose3d_cli.lifting.sequence.flip_averaged`);
    ``threads``: torch / onnxruntime intra-op threads."""
    lifter = _load(path, threads)
    if flip_tta:
        lifter.fn = flip_averaged(lifter.fn, lifter.skeleton.flip_permutation)
    return lifter


def _load(path: str | Path | None, threads: int) -> Lifter:
    path = Path(path) if path else default_model_path()
    if not path.is_file():
        hint = "reinstall pose3d or pass --model" if path == default_model_path() else "check --model"
        raise Pose3dError(f"{path}: no such model file; {hint}")
    if path.suffix.lower() == ".onnx":
        from ..lifting.onnx_runtime import OnnxLifter

        m = OnnxLifter(path, threads=threads)
        return Lifter(m, m.receptive_field, m.causal, get_skeleton(m.skeleton), m.meta.get("model", {}).get("name", "onnx"),
                      str(path), "onnxruntime")
    import torch

    from ..lifting.checkpoint import load_model
    from ..lifting.models import contract_of
    from ..lifting.predict import torch_fn

    torch.set_num_threads(threads)
    lm = load_model(path)
    contract = contract_of(lm.model)
    return Lifter(torch_fn(lm.model), lm.receptive_field, contract.causal, lm.skeleton,
                  lm.name, str(path), "torch", contract.takes_det3d)
