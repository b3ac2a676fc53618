"""The one checkpoint format: a self-describing file that rebuilds the model with nothing else.

A checkpoint is a ``torch.save`` of plain data (dicts, lists, numbers, strings, tensors) and is always read
with ``torch.load(weights_only=True)``: a file carrying pickled code is refused, never executed.

Keys::

    format: "pose3d-checkpoint", format_version: 1, pose3d_version
    model: {name, args}                         registry name and constructor arguments
    skeleton: {name, joints}                    output (and input) joints, by name
    codec: {name, root, input}                  see lifting/codec.py
    state_dict                                  weights, including the output mean/std buffers
    receptive_field                             frames the model needs per output frame
    train: {...}  data: {...}  metrics: {...}   training config, data provenance, held-out metrics
    resume: {...}                               optional: optimiser, scheduler, RNG and loop position
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..errors import Pose3dError
from ..skeleton import get_skeleton
from .codec import CODEC_NAME
from .contract import contract_of
from .models import build_model

FORMAT = "pose3d-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(Pose3dError):
    """A checkpoint file is missing, damaged, foreign or unsafe."""


@dataclass
class LoadedModel:
    """A model rebuilt from a checkpoint, in eval mode, with its metadata."""

    model: torch.nn.Module
    meta: dict
    path: str = ""
    skeleton: object = field(default=None)

    @property
    def name(self) -> str:
        return self.meta["model"]["name"]

    @property
    def receptive_field(self) -> int:
        return int(self.meta.get("receptive_field", 1))


def make_checkpoint(model: torch.nn.Module, model_name: str, model_args: dict, skeleton: str, root: str,
                    train: dict | None = None, data: dict | None = None, metrics: dict | None = None,
                    resume: dict | None = None) -> dict:
    sk = get_skeleton(skeleton)
    module = model.module if hasattr(model, "module") else model
    ck = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "pose3d_version": __version__,
        "model": {"name": model_name, "args": _plain(model_args)},
        "skeleton": {"name": sk.name, "joints": list(sk.joints)},
        "codec": {"name": CODEC_NAME, "root": root,
                  "input": "normalised camera coordinates (x/z, y/z) + confidence, per joint of the skeleton",
                  "output": "root-relative joints, camera frame (x right, y down, z forward), mm"},
        "state_dict": {k: v.detach().clone() for k, v in module.state_dict().items()},
        "receptive_field": int(module.receptive_field()),
        "train": _plain(train or {}), "data": _plain(data or {}), "metrics": _plain(metrics or {}),
    }
    if (train or {}).get("input_landmarks"):  # its 2D input is that detector's landmarks (synth/landmarks.py)
        ck["codec"]["landmarks"] = train["input_landmarks"]
    if resume is not None:
        ck["resume"] = resume
    return ck


def _plain(obj):
    """Only builtin types survive ``weights_only`` loading: turn numpy and paths into them."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_checkpoint(ck: dict, path: str | Path) -> Path:
    """Write atomically: a temporary file in the same folder, renamed when complete."""
    from ..atomic import atomic_target

    path = Path(path)
    with atomic_target(path) as tmp:
        torch.save(ck, tmp)
    return path


def read_checkpoint(path: str | Path) -> dict:
    """Read and validate a checkpoint dict (weights_only: no code from the file runs)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; check the path (checkpoints are written by `pose3d train`)")
    try:
        with warnings.catch_warnings():  # torch warns about TorchScript archives before refusing them: one line
            warnings.simplefilter("ignore", UserWarning)
            ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds; all mean the same to a user
        text = str(e)
        from ..filekind import exported_model_kind

        exported = exported_model_kind(path)
        if exported is not None:
            raise CheckpointError(f"{path}: an exported {exported} model, not a pose3d checkpoint; give the .pt that "
                                  "`pose3d train` wrote (infer also runs ONNX exports named .onnx)") from None
        if "GLOBAL" in text or "Unsupported global" in text:
            raise CheckpointError(f"{path}: refused: the file holds Python objects beyond plain weights "
                                  "(loading it could run code); only pose3d checkpoints are accepted") from None
        raise CheckpointError(f"{path}: not a readable pose3d checkpoint (damaged, truncated or another kind of "
                              "file); give a .pt written by `pose3d train`") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a pose3d checkpoint (no 'format: {FORMAT}'); "
                              "give a file written by `pose3d train`")
    version = ck.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise CheckpointError(f"{path}: damaged checkpoint: format_version {version!r} is no version number; give a "
                              ".pt written by `pose3d train`")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version} is newer than this pose3d; upgrade")
    codec = ck.get("codec", {}).get("name") if isinstance(ck.get("codec"), dict) else None
    if codec != CODEC_NAME:
        raise CheckpointError(f"{path}: codec {codec!r}: this pose3d reads its inputs as {CODEC_NAME!r} only; give a "
                              "model trained by this pose3d (or upgrade)")
    check_weights(ck, path)
    return ck


def check_weights(ck: dict, path: str | Path) -> None:
    """Refuse, in one line, a checkpoint whose model or weights are missing or not numbers (a NaN weight makes every
    prediction NaN, found late as an SVD that does not converge)."""
    model, sd = ck.get("model"), ck.get("state_dict")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not isinstance(model.get("args"), dict):
        raise CheckpointError(f"{path}: damaged checkpoint: no model name and arguments; give a .pt written by "
                              "`pose3d train`")
    if not isinstance(sd, dict) or not sd or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                     for k, v in sd.items()):
        raise CheckpointError(f"{path}: damaged checkpoint: no weights (state_dict); give a .pt written by "
                              "`pose3d train`")
    bad = [k for k, v in sd.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f"{path}: damaged checkpoint: non-finite weights (NaN or inf) in {len(bad)} of its "
                              f"{len(sd)} tensors (e.g. {bad[0]}); give a .pt written by `pose3d train` (a run that "
                              "diverged: train again with a lower --lr)")


def load_weights(model: torch.nn.Module, state_dict: dict, path: str | Path) -> None:
    """``model.load_state_dict`` refused in one line when the checkpoint's weights do not fit its model."""
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint: its weights do not fit its model "
                              f"({_misfit(model, state_dict, e)}); give a .pt written by `pose3d train`") from None


def _misfit(model: torch.nn.Module, state_dict: dict, e: Exception) -> str:
    """The first weight that does not fit, in a few words (torch's message runs over many lines)."""
    want = model.state_dict()
    for k, v in want.items():
        if k not in state_dict:
            return f"{k} missing"
        if isinstance(state_dict[k], torch.Tensor) and tuple(state_dict[k].shape) != tuple(v.shape):
            return f"{k} has shape {list(state_dict[k].shape)}, its model needs {list(v.shape)}"
    extra = next((k for k in state_dict if k not in want), None)
    if extra is not None:
        return f"unexpected {extra}"
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return (lines[1] if len(lines) > 1 else lines[0] if lines else type(e).__name__)[:100]


def _model_of(ck: dict, path: str | Path = ""):
    """(the checkpoint's model built without its weights, its skeleton); CheckpointError in one line where the
    checkpoint's skeleton, root or model cannot be built."""
    try:
        sk = get_skeleton(ck["skeleton"]["name"])
        if list(sk.joints) != list(ck["skeleton"]["joints"]):
            raise CheckpointError(f"{path}: skeleton {sk.name} joints differ from this pose3d's registry")
        J = sk.num_joints
        return build_model(ck["model"]["name"], J, sk.index(ck["codec"]["root"]), np.zeros((J, 3)),
                           np.ones((J, 3)), **ck["model"]["args"]), sk
    except CheckpointError:
        raise
    except (KeyError, RuntimeError, TypeError, Pose3dError) as e:
        text = str(e).splitlines()[0][:160] if str(e) else ""
        raise CheckpointError(f"{path}: damaged or incompatible checkpoint ({type(e).__name__}: {text})") from None


def model_from_checkpoint(ck: dict, path: str | Path = "") -> LoadedModel:
    """Rebuild the model of a checkpoint dict (eval mode)."""
    model, sk = _model_of(ck, path)
    load_weights(model, ck["state_dict"], path)  # read_checkpoint checked there is one (check_weights)
    rf = contract_of(model).receptive_field
    if ck.get("receptive_field", 1) != rf:  # infer and eval pad by it: the model's own, never the file's word
        raise CheckpointError(f"{path}: damaged checkpoint: it says receptive field "
                              f"{ck.get('receptive_field')!r}, its model needs {rf}")
    model.eval()
    meta = {k: v for k, v in ck.items() if k not in ("state_dict", "resume")}
    return LoadedModel(model, meta, str(path), sk)


def load_model(path: str | Path) -> LoadedModel:
    return model_from_checkpoint(read_checkpoint(path), path)


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "models" / "default.pt"


def _detector_3d_input(ck: dict) -> str:
    """Whether the model also takes the detector's own 3D (the fused lifter, the blend), in words: from the
    model's registry name and arguments alone (its weights are not loaded: a damaged file is still described)."""
    from .models import contract_of, probe_model

    try:
        model = probe_model(ck["model"]["name"], ck["model"]["args"])
    except (KeyError, TypeError, Pose3dError):
        return "? (the model is not one this pose3d knows)"
    if not contract_of(model).takes_det3d:
        return "no (2D only)"
    if contract_of(model).composed:
        return (f"yes: BlazePose world landmarks, where present, blended in at weight {model.fused_weight:g}; "
                "2D only where absent (keypoint files, exports)")
    return "yes: BlazePose world landmarks where present; 2D only where absent (keypoint files, exports)"


def _trained_on(data: dict) -> str:
    """Where the training pairs came from: the file as it was named then (a path on the trainer's machine), its pair
    counts and the synth settings it records (a user can remake the pairs from them, e.g. with recipes/default.sh)."""
    import json

    out = f"{Path(str(data.get('path', '?'))).name}"
    if data.get("train_pairs"):
        out += f": {int(data['train_pairs']):,} training pairs" + (f", {int(data['val_pairs']):,} val" if data.get("val_pairs") else "")
    try:
        sp = json.loads(data["synth_params"])
        out += (f"; synth: {sp['views']} views, {sp['fps']:g} fps, split by {sp['split_by']}, seed {sp['seed']}, "
                f"2D noise {sp['corruption']['noise_sigma']:g}")
    except (KeyError, TypeError, ValueError):
        pass
    return out


def _continued(train: dict, data: dict) -> str | None:
    """How an ``--init`` run went on from an earlier model: which one, the replayed pairs, and the forgetting guards
    (distillation, EWC, interpolation back to it); None for a model trained from scratch."""
    if not train.get("init"):
        return None
    out = f"from {Path(str(train['init'])).name}"
    new, replayed = data.get("new_pairs"), data.get("replay_pairs") or []
    if data.get("replay"):
        names = ", ".join(Path(str(p)).name for p in data["replay"])
        out += f"; {int(new or 0):,} new pairs + {sum(int(n) for n in replayed):,} replayed from {names}"
    guards = _switched_on(train, (("distill_weight", "distillation"), ("ewc_weight", "EWC"),
                                  ("init_share", "interpolated back")))
    return out + (f"; {', '.join(guards)}" if guards else "")


def _switched_on(train: dict, table: tuple[tuple[str, str], ...]) -> list[str]:
    """``"<label> <weight>"`` for each (training setting, label) of ``table`` that the run set above 0."""
    return [f"{label} {train[key]:g}" for key, label in table
            if isinstance(train.get(key), (int, float)) and train[key] > 0]


#: training loss weights (``TrainConfig``) → how ``pose3d info`` names them
_LOSS_TERMS = (("bone_weight", "bone length"), ("flexion_weight", "flexion"), ("reproj_weight", "reprojection"),
               ("bone_constancy_weight", "bone constancy"), ("smooth_weight", "smoothness"),
               ("view_weight", "view consistency"), ("prior_weight", "adversarial prior"),
               ("shape_prior_weight", "shape prior"))


def _losses(train: dict, data: dict) -> str | None:
    """The loss terms a run switched on beside the pairs' MPJPE, with their weights (and the 2D-only and image/3D
    sources they apply to); None when the checkpoint does not record its training settings."""
    if not train:
        return None
    terms = [t + (f" ({train.get('shape_prior_modes', '?')} modes)" if t.startswith("shape prior") else "")
             for t in _switched_on(train, _LOSS_TERMS)]
    kinds = [s.get("kind") for s in data.get("sources") or train.get("sources") or [] if isinstance(s, dict)]
    out = "MPJPE on 2D/3D pairs" if data.get("train_pairs") else "no 2D/3D pairs"
    extra = [f"{kinds.count(k)} {k} source{'s' if kinds.count(k) > 1 else ''}" for k in ("2d", "image3d") if k in kinds]
    return out + (f" + {', '.join(terms)}" if terms else "") + (f"; {', '.join(extra)}" if extra else "")


def describe_checkpoint(path: str | Path) -> dict:
    ck = read_checkpoint(path)
    model = _model_of(ck, path)[0]  # its fields checked as infer checks them; a misfit weight is still described
    n_params = sum(int(p.numel()) for k, p in model.named_parameters()  # the output statistics and a nearest-
                   if not (k.startswith("decode.") or ".decode." in k))  # neighbour library are no parameters
    for key in ("data", "train", "metrics"):  # what infer never reads: a damaged entry reads as absent
        if not isinstance(ck.get(key, {}), dict):
            ck[key] = {}
    return {
        "kind": "pose3d checkpoint", "pose3d version": ck.get("pose3d_version"), "model": ck["model"]["name"],
        "model args": ck["model"]["args"], "parameters": n_params, "receptive field": ck.get("receptive_field", 1),
        "skeleton": ck["skeleton"]["name"], "codec": ck["codec"]["name"], "root": ck["codec"]["root"],
        "2D input": (f"{ck['codec']['landmarks']} landmarks (trained with --landmarks)" if ck["codec"].get("landmarks")
                     else "mocap joint centres (synthetic 2D as projected)"),
        "detector 3D input": _detector_3d_input(ck),
        "trained on": _trained_on(ck.get("data", {}) or {}),
        **({"continued": c} if (c := _continued(ck.get("train", {}) or {}, ck.get("data", {}) or {})) else {}),
        **({"losses": c} if (c := _losses(ck.get("train", {}) or {}, ck.get("data", {}) or {})) else {}),
        "epochs": len(ck.get("metrics", {}).get("history", [])) or "?",
        "metrics": {k: v for k, v in ck.get("metrics", {}).items() if k != "history"},
        "resumable": "resume" in ck,
    }
