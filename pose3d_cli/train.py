"""``pose3d train``: fit a lifting network on a pose3d HDF5 of 2D/3D pairs.

The whole dataset is encoded once (pixels → normalised camera coordinates, targets → root-relative mm) and
held in RAM as tensors; batches are index gathers, so data loading never stalls the 2 CPU cores.

- Epoch order comes from ``(seed, epoch)``; augmentation and dropout draw from torch's global RNG, whose
  state is saved with the loop position, so an interrupted run resumed with ``resume=True`` ends with the
  same weights as an uninterrupted one.
- Under ``torchrun`` (``WORLD_SIZE`` > 1) every global batch is split between the ranks (gloo backend) and
  DDP averages the gradients: the same optimisation as one process with the same global batch.
- AdamW with a one-cycle schedule (training/optim.py: torch.optim's arithmetic without its ~1 s import of
  torch._dynamo); best checkpoint (lowest validation MPJPE) kept in ``output``, the last
  state in ``<output stem>.last.pt``; metrics as JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .atomic import note_written
from .dataset import PairData, check_finite_3d, load_pairs
from .errors import Pose3dError
from .lifting.blend import output_of_init
from .lifting.checkpoint import make_checkpoint, model_from_checkpoint, read_checkpoint, save_checkpoint
from .lifting.codec import (CODEC_NAME, detector3d_to_network_input, pixels_to_network_input, root_relative,
                            target_statistics)
from .lifting.detector3d_sim import load_error_model, simulate_detector3d
from .lifting.models import DEFAULT_ARGS, ModelContract, build_model, check_trainable, contract_of, probe_model
from .lifting.predict import predict_dataset, torch_fn
from .metrics import mpjpe, p_mpjpe
from .multiview.score import hinge_triples
from .skeleton import get_skeleton
from .training.losses import SHAPE_PRIOR_MODES, Batch, discriminator_loss
from .training.optim import AdamW, OneCycle
from .training.image3d import load_image3d_source
from .training.sources import load_2d_source


#: the discriminator learns only while its LSGAN loss is above this (0.5: it cannot tell real from lifted)
DISC_BALANCE = 0.25


@dataclass
class TrainConfig:
    data: str
    output: str
    val: str | None = None
    model: str = "mlp"
    model_args: dict = field(default_factory=dict)
    epochs: int = 12
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    subsample: int = 1  # use a random 1/subsample of the training frames each epoch
    flip_prob: float = 0.5
    mask_prob: float = 0.05  # per joint, extra random missing joints
    extra_noise: float = 0.0  # extra 2D jitter std, fraction of the person's 2D spread
    clean_prob: float = 0.3  # per sample: replace the detector-like 2D by the exact projection (confidence 1)
    input_landmarks: str | None = None  # train on that detector's 2D semantics (synth/landmarks.py), e.g. "blazepose"
    det3d_dropout: float = 0.5  # fused models: share of samples trained without the detector-3D input (plain path)
    conf_jitter: float = 0.1  # detectors differ in confidence scale: jitter it (and saturate 1 sample in 4)
    window: int = 64  # temporal models: output frames per training window
    bone_weight: float = 0.0  # weight of the bone-length loss term
    flexion_weight: float = 0.0  # weight of the hinge-angle loss term (elbows, knees; degrees)
    patience: int = 0  # early stopping: epochs without val improvement (0 = off)
    max_minutes: float | None = None
    max_val_samples: int = 20000
    threads: int = 2
    log: str | None = None
    init: str | None = None  # start from this checkpoint (its model, weights and output statistics)
    replay: list[str] = field(default_factory=list)  # earlier pairs files mixed into training (rehearsal)
    replay_fraction: float = 1.0  # share of each replay file's training sequences used
    # replay about replay_ratio × the new training pairs, shared equally by the replay files (None: replay_fraction)
    replay_ratio: float | None = None
    # more sources (training/sources.py): [{"path", "kind": "pairs" | "2d", "weight", "fov" ...}]; a sources
    # YAML given as ``data`` fills sources, val and prior
    sources: list[dict] = field(default_factory=list)
    prior: str | None = None  # pairs file whose 3D poses the plausibility prior learns from (default: the pairs)
    # loss weights (training/losses.py); 0 switches a term off
    reproj_weight: float = 0.0  # 2D-only: reprojection of the predicted 3D
    bone_constancy_weight: float = 0.0  # 2D-only: bone lengths constant along a track
    smooth_weight: float = 0.0  # 2D-only: accelerations beyond the mocap's
    view_weight: float = 0.0  # image/3D: the views of one instant predict one world pose
    prior_weight: float = 0.0  # adversarial plausibility prior (Yang et al. 2018)
    shape_prior_weight: float = 0.0  # plausibility prior: the mocap's linear shape space (losses.ShapePrior)
    shape_prior_modes: int = SHAPE_PRIOR_MODES  # its principal modes (chosen on dev files, README)
    distill_weight: float = 0.0  # continual: distance to the frozen --init model's prediction (LwF)
    ewc_weight: float = 0.0  # continual: elastic weight consolidation around the --init weights
    init_share: float = 0.0  # continual: share of the --init weights in the written model (weight interpolation)
    clip: int = 16  # 2D-only and image/3D sources: frames per training track clip
    disc_lr: float = 1e-3
    stop_after_steps: int | None = None  # simulate an interruption (tests)
    started_at: float | None = None  # time.time() when the user's command started (logged wall_s counts from it)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("stop_after_steps")
        d.pop("started_at")
        return d


@dataclass
class Encoded:
    """A dataset encoded for the network: xy (N, J, 2), conf (N, J), target (N, J, 3) root-relative mm,
    and xy_clean (N, J, 2): the exact normalised projection of the 3D (x/z, y/z)."""

    xy: torch.Tensor
    conf: torch.Tensor
    target: torch.Tensor
    ranges: list[tuple[int, int]]
    xy_clean: torch.Tensor
    weight: torch.Tensor | None = None  # (N,) per-row source weight (None: all 1)
    fps: np.ndarray | None = None  # (R,) frame rate of each range's sequence


def range_fps(data: PairData, ranges: list[tuple[int, int]]) -> np.ndarray | None:
    """(R,) the frame rate (frames/s) of the sequence each of ``data``'s row ``ranges`` holds; None without ranges."""
    return np.asarray(data.sequences["fps"], np.float64)[data.sequence_index[[a for a, _ in ranges]]] if ranges else None


def encode_pairs(data: PairData, root: int, landmarks: str | None = None) -> Encoded:
    """Pixels → normalised camera coordinates with each sample's camera; 3D → root-relative. ``landmarks``: move
    the 2D (stored and exact) from the mocap's joint centres to that detector's landmarks."""
    K = data.K[data.camera_index]
    dist = data.dist[data.camera_index] if np.any(data.dist) else None
    xy, conf = pixels_to_network_input(data.keypoints_2d, data.confidence, K, dist)
    target = root_relative(data.joints_3d, root).astype(np.float32)
    z = np.maximum(data.joints_3d[..., 2:3], 1.0)
    xy_clean = (data.joints_3d[..., :2] / z).astype(np.float32)
    if landmarks:  # the detector's 2D semantics (synth/landmarks.py); the 3D target stays the joint centres
        from .synth.landmarks import landmark_shift

        shift = landmark_shift(data.joints_3d, data.skeleton, landmarks)
        xy = np.where(conf[..., None] > 0, xy + shift, xy).astype(np.float32)
        xy_clean = (xy_clean + shift).astype(np.float32)
    ranges = data.sequence_ranges()
    fps = range_fps(data, ranges)
    return Encoded(torch.from_numpy(xy), torch.from_numpy(conf), torch.from_numpy(target), ranges,
                   torch.from_numpy(xy_clean), fps=fps)


def augment(xy: torch.Tensor, conf: torch.Tensor, target: torch.Tensor, flip_perm: torch.Tensor,
            cfg: TrainConfig, xy_clean: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random horizontal flip (with left/right swap), confidence jitter, extra joint masking and 2D jitter.
    Shapes (B, [T,] J, ·).

    A flip negates x of the normalised 2D and X of the 3D (camera frame) and swaps left/right joints; it is
    drawn per sample (per window for temporal models, so a sequence stays consistent).
    """
    B = xy.shape[0]
    if cfg.clean_prob > 0 and xy_clean is not None:
        c = (torch.rand(B) < cfg.clean_prob).view(-1, *([1] * (conf.dim() - 1)))
        xy = torch.where(c.unsqueeze(-1), xy_clean, xy)
        conf = torch.where(c, torch.ones_like(conf), conf)
    if cfg.flip_prob > 0:
        f = torch.rand(B) < cfg.flip_prob
        if f.any():
            sign = torch.tensor([-1.0, 1.0])
            xy, conf, target = xy.clone(), conf.clone(), target.clone()
            xy[f] = xy[f][..., flip_perm, :] * sign
            conf[f] = conf[f][..., flip_perm]
            target[f] = target[f][..., flip_perm, :] * torch.tensor([-1.0, 1.0, 1.0])
    if cfg.conf_jitter > 0:
        valid = conf > 0
        saturate = (torch.rand(conf.shape[:1]) < 0.25).view(-1, *([1] * (conf.dim() - 1)))
        jittered = (conf + cfg.conf_jitter * (2 * torch.rand(conf.shape) - 1)).clamp(0.05, 1.0)
        conf = torch.where(valid, torch.where(saturate, torch.ones_like(conf), jittered), conf)
    if cfg.mask_prob > 0:
        keep = (torch.rand(conf.shape) >= cfg.mask_prob).to(conf.dtype)
        conf = conf * keep
        xy = xy * keep.unsqueeze(-1)
    if cfg.extra_noise > 0:
        valid = (conf > 0).to(xy.dtype).unsqueeze(-1)
        spread = ((xy * valid).std(dim=-2, keepdim=True)).mean(-1, keepdim=True)
        xy = xy + cfg.extra_noise * spread * torch.randn_like(xy) * valid
    return xy, conf, target


def new_frames(rows: torch.Tensor) -> torch.Tensor:
    """(B, T) float 1/0: whether each frame of a window of row indices is a new frame, not the edge frame
    :func:`temporal_windows` repeated to fill the window (a repeat counts for nothing in the losses)."""
    fresh = torch.ones(rows.shape, dtype=torch.float32)
    fresh[:, 1:] = (rows[:, 1:] != rows[:, :-1]).float()
    return fresh


def temporal_windows(ranges: list[tuple[int, int]], out_len: int, rf: int, causal: bool,
                     rng: np.random.Generator) -> np.ndarray:
    """Row indices of training windows: (W, rf - 1 + out_len), edges repeated where a window overhangs.

    Each sequence is cut into consecutive blocks of ``out_len`` output frames from a random offset.
    """
    pad = rf - 1
    before = pad if causal else pad // 2
    wins = []
    for s, e in ranges:
        T = e - s
        offset = int(rng.integers(0, out_len)) if T > out_len else 0
        starts = np.arange(-offset, T, out_len)
        starts = starts[starts + out_len > 0]
        for a in starts:
            idx = np.arange(a - before, a - before + pad + out_len)
            wins.append(s + np.clip(idx, 0, T - 1))
    return np.stack(wins) if wins else np.zeros((0, pad + out_len), dtype=np.int64)


class _Dist:
    """torchrun/DDP bookkeeping (no-op in a single process)."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is True on any rank."""
        if self.world == 1:
            return flag
        import torch.distributed as dist

        t = torch.tensor([1.0 if flag else 0.0])
        dist.all_reduce(t)
        return bool(t.item() > 0)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)

    def close(self, finished: bool = True) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                if finished:  # no rank tears the group down while another still talks to it
                    dist.barrier()
                dist.destroy_process_group()


#: the seed of the detector 3D a fused model is validated with: the same simulated 3D at every epoch and run
VAL_DET3D_SEED = 20261208


def _validate(model: torch.nn.Module, val: Encoded, max_samples: int, det_error=None,
              skeleton: str = "h36m17") -> dict[str, float]:
    """Validation MPJPE / P-MPJPE (mm) of ``model`` on the val pairs. A model that takes the detector's 3D (the
    fused lifter, ``det_error`` its error model) is validated as infer runs it, with the detector's 3D: simulated
    from the val targets once per call with :data:`VAL_DET3D_SEED`, every sample present; its 2D-only path (the
    plain fallback) is reported beside it as ``val_mpjpe_2d_only`` (it chose the best epoch before, a path the
    fused training rarely trains)."""
    module = model.module if hasattr(model, "module") else model
    module.eval()
    ranges = val.ranges
    if module.receptive_field() == 1 and len(val.xy) > max_samples:
        idx = np.linspace(0, len(val.xy) - 1, max_samples).astype(np.int64)
        xy, conf, tgt, ranges = val.xy[idx].numpy(), val.conf[idx].numpy(), val.target[idx].numpy(), []
    else:
        xy, conf, tgt = val.xy.numpy(), val.conf.numpy(), val.target.numpy()
    pred = predict_dataset(module, xy, conf, ranges)
    out = {}
    if det_error is not None and contract_of(module).takes_det3d:
        from .lifting.sequence import run_frames

        det, present = simulate_detector3d(tgt, np.random.default_rng(VAL_DET3D_SEED), det_error, skeleton, 0.0)
        det, mask = detector3d_to_network_input(det, present, tuple(xy.shape[:-1]))
        out["val_mpjpe_2d_only"] = float(mpjpe(pred, tgt).mean())
        pred = run_frames(torch_fn(module), xy, conf, 8192, det, mask)
    module.train()
    return {"val_mpjpe": float(mpjpe(pred, tgt).mean()), "val_p_mpjpe": float(p_mpjpe(pred, tgt).mean()), **out}


class InitInterpolation:
    """Weight-space interpolation towards the ``--init`` model (WiSE-FT, Wortsman et al. 2022; in continual learning
    a cheap guard against forgetting): what a run writes and validates is ``(1 - s) · trained + s · init`` for every
    floating-point tensor of the state dict, while training itself (and the resumable ``.last.pt``) goes on from the
    trained weights. ``s = 0``: the model as trained."""

    def __init__(self, model: torch.nn.Module, share: float):
        self.model, self.share = model, float(share)
        self.init = {k: v.detach().clone() for k, v in model.state_dict().items()} if self.share > 0 else None

    @contextlib.contextmanager
    def written(self):
        """Context: inside it ``model`` holds the interpolated weights; on exit the trained ones again."""
        if self.init is None:
            yield
            return
        trained = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        s = self.share
        self.model.load_state_dict({k: (1 - s) * v + s * self.init[k] if v.is_floating_point() else v
                                    for k, v in trained.items()})
        try:
            yield
        finally:
            self.model.load_state_dict(trained)


def gradients_finite(model: torch.nn.Module) -> bool:
    """True unless a gradient holds NaN or inf (or squares past float range): one total norm, not a check per
    tensor (22 synchronising checks cost ~1 ms of a ~30 ms step on 2 cores)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return not grads or bool(torch.isfinite(torch.nn.utils.get_total_norm(grads)))


def last_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".last.pt")


def train(cfg: TrainConfig, on_step: Callable[[dict], None] | None = None,
          on_epoch: Callable[[dict], None] | None = None, resume: bool = False) -> dict:
    """Train a lifting model; returns the final summary (best metrics, epochs, samples/s, paths)."""
    check_config(cfg)
    torch.set_num_threads(cfg.threads)
    init_ck = read_checkpoint(cfg.init) if cfg.init else None  # read once: landmarks, model, det3d, output
    if init_ck is not None:  # its weights fit its model (a damaged file is refused before the data is read)
        model_from_checkpoint(init_ck, cfg.init)
    cfg = _with_init_landmarks(cfg, init_ck)
    dist = _Dist()
    try:
        summary = _train(cfg, dist, on_step, on_epoch, resume, init_ck)
    except BaseException:
        dist.close(finished=False)  # a failed rank must not wait for the others at a barrier
        raise
    dist.close()
    return summary


#: TrainConfig fields named otherwise on the command line
_OPTION = {"flip_prob": "--flip", "mask_prob": "--mask", "disc_lr": "disc_lr"}


def _option(name: str) -> str:
    return _OPTION.get(name, "--" + name.replace("_", "-"))


def check_config(cfg: TrainConfig) -> None:
    """Refuse, before any data is read, settings that cannot train: a rate or weight that is not a finite number in
    its range (an infinite --lr runs an epoch of NaN), and options that need another one to mean anything."""
    def need(name: str, low: float, high: float = math.inf, open_low: bool = False, open_high: bool = False,
             optional: bool = False) -> None:
        v = getattr(cfg, name)
        if v is None and optional:
            return
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and \
            (v > low if open_low else v >= low) and (v < high if open_high else v <= high)
        if not ok:
            lo, hi = ("> " if open_low else ">= ") + f"{low:g}", ("< " if open_high else "<= ") + f"{high:g}"
            where = f"a finite number {lo}" + ("" if math.isinf(high) else f" and {hi}")
            raise Pose3dError(f"{_option(name)} {v}: must be {where}")

    need("lr", 0.0, open_low=True)
    need("disc_lr", 0.0, open_low=True)
    need("weight_decay", 0.0)
    for name in ("bone_weight", "flexion_weight", "reproj_weight", "bone_constancy_weight", "smooth_weight",
                 "view_weight", "prior_weight", "shape_prior_weight", "distill_weight", "ewc_weight"):
        need(name, 0.0)
    for name in ("flip_prob", "mask_prob", "clean_prob", "det3d_dropout", "conf_jitter", "extra_noise"):
        need(name, 0.0, 1.0)
    need("init_share", 0.0, 1.0, open_high=True)
    need("replay_fraction", 0.0, 1.0, open_low=True)
    need("replay_ratio", 0.0, open_low=True, optional=True)
    need("max_minutes", 0.0, open_low=True, optional=True)
    for name, low in (("epochs", 1), ("batch_size", 1), ("subsample", 1), ("window", 1), ("clip", 1), ("threads", 1),
                      ("shape_prior_modes", 1)):
        v = getattr(cfg, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise Pose3dError(f"{_option(name)} {v}: must be a whole number >= {low}")
    if not cfg.replay:
        given = [opt for opt, on in (("--replay-ratio", cfg.replay_ratio is not None),
                                     ("--replay-fraction", cfg.replay_fraction != 1.0)) if on]
        if given:
            raise Pose3dError(f"{given[0]} sizes the replayed earlier data: give it with --replay earlier.h5 (or "
                              f"leave {given[0]} out)")
    from .training.sources import SOURCES_FILE_SUFFIXES

    readers = ("prior_weight", "shape_prior_weight", "smooth_weight")
    if cfg.prior and not any(getattr(cfg, n) > 0 for n in readers) and \
            Path(cfg.data).suffix.lower() not in SOURCES_FILE_SUFFIXES:  # a sources file may be 2D only: stats
        raise Pose3dError(f"--prior {cfg.prior}: its poses serve {', '.join(map(_option, readers))}, all 0 here; "
                          "give one of them a weight, or leave --prior out")
    if not cfg.init:
        if cfg.distill_weight > 0 or cfg.ewc_weight > 0:
            raise Pose3dError("--distill-weight and --ewc-weight keep what an earlier model knew: give it with --init")
        if cfg.init_share > 0:
            raise Pose3dError("--init-share interpolates towards an earlier model's weights: give it with --init")


def check_init_architecture(ck: dict, init: str | Path, model: str | None, model_args: dict) -> None:
    """``--init`` keeps the checkpoint's own architecture: a ``--model`` or ``--arg`` given beside it that differs
    from the checkpoint's is refused (it would be silently ignored); one that repeats it is accepted."""
    name, args = ck["model"]["name"], ck["model"]["args"]
    if model is not None and model != name:
        raise Pose3dError(f"{init}: --init keeps its own model ({name}), not --model {model}; leave --model out, or "
                          "train from scratch without --init")
    differ = [k for k, v in model_args.items() if args.get(k) != v]
    if differ:
        k = differ[0]
        theirs = f"{args[k]!r}" if k in args else "not an argument of it"
        raise Pose3dError(f"{init}: --init keeps its own architecture ({name}: {k} {theirs}), not {k}={model_args[k]!r}; "
                          "leave --arg (and --receptive-field, --causal) out, or train from scratch without --init")


def concat_encoded(parts: list[Encoded]) -> Encoded:
    """One training set from several (sequence ranges shifted to the concatenated rows)."""
    if len(parts) == 1:
        return parts[0]
    ranges, offset = [], 0
    for p in parts:
        ranges += [(s + offset, e + offset) for s, e in p.ranges]
        offset += len(p.xy)
    weight = None
    if any(p.weight is not None for p in parts):
        weight = torch.cat([p.weight if p.weight is not None else torch.ones(len(p.xy)) for p in parts])
    fps = np.concatenate([p.fps for p in parts]) if all(p.fps is not None for p in parts) else None
    return Encoded(torch.cat([p.xy for p in parts]), torch.cat([p.conf for p in parts]),
                   torch.cat([p.target for p in parts]), ranges, torch.cat([p.xy_clean for p in parts]), weight, fps)


def replay_subset(data: PairData, fraction: float, seed: int, pairs: int | None = None, stream: int = 0) -> PairData:
    """Whole training sequences of an earlier dataset (rehearsal): about ``fraction`` of them or, given ``pairs``,
    sequences drawn in a random order (``stream`` tells the files apart) until they hold about that many pairs."""
    train = data.split("train")
    if pairs is None and fraction >= 1.0:
        return train
    present = np.unique(train.sequence_index)
    keep = np.zeros(len(data.sequences["start"]), dtype=bool)
    if pairs is None:
        rng = np.random.default_rng([seed, 7])
        keep[rng.permutation(present)[: max(1, int(round(fraction * len(present))))]] = True
        return train.select_sequences(keep)
    if pairs >= len(train):
        return train
    order = np.random.default_rng([seed, 7, stream]).permutation(present)
    lengths = np.bincount(train.sequence_index, minlength=len(keep))[order]
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # pairs already drawn when each sequence comes up
    keep[order[before < pairs]] = True  # stop with the sequence that reaches the budget
    return train.select_sequences(keep)


def replay_budgets(sizes: list[int], total: int) -> list[int]:
    """Pairs replayed from each earlier file: ``total`` shared equally, a file smaller than its share given whole
    and the rest shared by the others (water filling). ``sizes``: each file's training pairs."""
    budgets, left, open_ = [0] * len(sizes), int(total), sorted(range(len(sizes)), key=lambda k: sizes[k])
    while open_:
        share = left // len(open_)
        k = open_[0]
        if sizes[k] > share:  # every remaining file is at least this big: split the rest equally
            for j, k in enumerate(open_):
                budgets[k] = share + (1 if j < left - share * len(open_) else 0)
            break
        budgets[k], left = sizes[k], left - sizes[k]
        open_.pop(0)
    return budgets


def resolve_sources(cfg: TrainConfig) -> list:
    """The run's sources: ``cfg.data`` (a pairs file, or a sources YAML that also sets val and prior) and
    ``cfg.sources``. Fills ``cfg.val``/``cfg.prior`` from a YAML when they are not set."""
    from .training.sources import SOURCES_FILE_SUFFIXES, SourceSpec, parse_source, read_sources_file

    specs = []
    if Path(cfg.data).suffix.lower() in SOURCES_FILE_SUFFIXES:
        doc = read_sources_file(cfg.data)
        specs += doc["sources"]
        cfg.val = cfg.val or doc["val"]
        cfg.prior = cfg.prior or doc["prior"]
    else:
        specs.append(SourceSpec(cfg.data, "pairs", 1.0))
    specs += [parse_source(e, "--source") for e in cfg.sources]
    return specs


#: a validation MPJPE beyond this (100 m), or not a number, means the run diverged: refused, not kept as "best"
DIVERGED_MM = 1e5


def prepare_data(cfg: TrainConfig):
    """Load and encode the training set (new data plus any replayed earlier data) and the validation set.

    With only 2D sources the training pairs are None and ``cfg.val`` must name pairs to validate on."""
    specs = resolve_sources(cfg)
    if specs and not cfg.replay and not any(s.weight > 0 for s in specs):
        raise Pose3dError(f"{cfg.data}: every source has weight 0, so nothing would be learnt; give at least one "
                          "source a weight > 0")
    pair_specs = [s for s in specs if s.kind == "pairs"]
    first = pair_specs[0].path if pair_specs else cfg.val
    if first is None:
        raise Pose3dError(f"{cfg.data}: a run with only 2D sources needs val: a pairs file to validate on "
                          "(and prior: mocap pairs for the plausibility prior)")
    data = load_pairs(first)
    sk = get_skeleton(data.skeleton)
    if list(sk.joints) != list(data.joint_names):
        raise Pose3dError(f"{first}: joint names differ from skeleton {sk.name}")
    root = sk.index(sk.root)
    datas = [data] + [load_pairs(spec.path) for spec in pair_specs[1:]]
    for spec, d in zip(pair_specs, datas):
        if list(d.joint_names) != list(sk.joints):
            raise Pose3dError(f"{spec.path}: source has skeleton {d.skeleton}, the others {sk.name}; "
                              "synthesise every source for one skeleton")
    if cfg.val:  # its 'val' split only: the whole file held its test split, chosen on (eval-continual reports it)
        given = load_pairs(cfg.val)
        vals = [(cfg.val, given.split("val"))]
        if not len(vals[0][1]):
            raise Pose3dError(f"{cfg.val}: no 'val' split to validate on (validation never reads a file's train or "
                              "test pairs); synthesise it with --val > 0")
    else:  # every pairs source's own val split: a run on several sources was chosen on the first one's alone
        vals = [(spec.path, d.split("val")) for spec, d in zip(pair_specs, datas)]
        vals = [(path, v) for path, v in vals if len(v)]
    for path, v in vals:
        if list(v.joint_names) != list(sk.joints):
            raise Pose3dError(f"{path}: validation data has another skeleton than {first}")
    if not vals:
        raise Pose3dError(f"{first}: no validation pairs; give --val other.h5 or synthesise with --val > 0")
    parts = []
    for spec, d in zip(pair_specs, datas):
        train_data = d.split("train")
        if len(train_data) == 0:
            raise Pose3dError(f"{spec.path}: no training pairs (split 'train' is empty); synthesise more data")
        check_finite_3d(train_data, spec.path, "train")
        enc = encode_pairs(train_data, root, cfg.input_landmarks)
        if spec.weight != 1.0:
            enc.weight = torch.full((len(enc.xy),), float(spec.weight))
        parts.append(enc)
    for path, v in vals:
        check_finite_3d(v, path, "val")
    olds = [load_pairs(path) for path in cfg.replay]
    for path, old in zip(cfg.replay, olds):
        if list(old.joint_names) != list(sk.joints):
            raise Pose3dError(f"{path}: replay data has another skeleton than {cfg.data}")
        check_finite_3d(old.split("train"), path, "train")
    budgets = [None] * len(olds)
    if cfg.replay_ratio is not None and olds:
        if cfg.replay_fraction != 1.0:
            raise Pose3dError("--replay-ratio and --replay-fraction both size the replay: give one of them")
        new_pairs = sum(len(p.xy) for p in parts)
        if new_pairs == 0:
            raise Pose3dError("--replay-ratio sizes the replay by the new training pairs: give a pairs source")
        budgets = replay_budgets([len(o.split("train")) for o in olds], round(cfg.replay_ratio * new_pairs))
    for k, (old, budget) in enumerate(zip(olds, budgets)):
        parts.append(encode_pairs(replay_subset(old, cfg.replay_fraction, cfg.seed, budget, k), root,
                                  cfg.input_landmarks))
    if not parts and cfg.replay:
        raise Pose3dError("--replay needs a pairs source to learn beside")
    tr = concat_encoded(parts) if parts else None
    va = concat_encoded([encode_pairs(v, root, cfg.input_landmarks) for _, v in vals])
    info = {"path": str(cfg.data), "val": f"split 'val' of {cfg.val}" if cfg.val else (
                "split 'val' of data" if len(vals) == 1 else f"split 'val' of each of the {len(vals)} pairs sources"),
            "replay": [str(p) for p in cfg.replay], "train_pairs": len(tr.xy) if tr else 0,
            "new_pairs": len(parts[0].xy) if parts else 0,
            "replay_pairs": [len(p.xy) for p in parts[len(parts) - len(olds):]] if olds else [],
            "val_pairs": len(va.xy), "synth_params": data.attrs.get("synth_params"), "seed": data.attrs.get("seed"),
            "sources": [s.to_dict() for s in specs]}
    return sk, tr, va, info


def _with_init_landmarks(cfg: TrainConfig, init_ck: dict | None) -> TrainConfig:
    """An ``--init`` model (its checkpoint dict ``init_ck``) trained on a detector's landmarks keeps learning on
    them (its inputs mean that); asking for other landmarks than it was trained on is refused."""
    from .synth.landmarks import offsets_named

    if cfg.input_landmarks:
        offsets_named(cfg.input_landmarks)  # a known name, before any work
    if init_ck is None:
        return cfg
    theirs = init_ck.get("codec", {}).get("landmarks")
    if theirs and cfg.input_landmarks and theirs != cfg.input_landmarks:
        raise Pose3dError(f"{cfg.init}: trained on {theirs!r} landmarks, not {cfg.input_landmarks!r}; leave "
                          "--landmarks out to keep its inputs, or train from scratch")
    return replace(cfg, input_landmarks=cfg.input_landmarks or theirs)


def takes_det3d(cfg: TrainConfig, init_ck: dict | None = None) -> bool:
    """Whether the run's model takes the detector's 3D (the fused lifter; with ``--init``, that checkpoint's model
    (``init_ck``: its dict, read here when not given), whose trained part a blend hands on): image/3D sources then
    read their ``det3d`` files."""
    if cfg.init:
        ck = init_ck if init_ck is not None else read_checkpoint(cfg.init)
        name, args = ck["model"]["name"], ck["model"]["args"]
    else:
        name, args = cfg.model, cfg.model_args
    model = probe_model(name, args)
    if contract_of(model).composed:
        model = model.continued_part()[0]
    return contract_of(model).takes_det3d


def build_or_init_model(cfg: TrainConfig, sk, tr: Encoded | None, prior_poses: torch.Tensor | None = None,
                        init_ck: dict | None = None) -> tuple[torch.nn.Module, str, dict]:
    """A fresh model (output statistics from the training targets, or in a 2D-only run from the prior's mocap
    poses) or, with ``cfg.init``, the model of a checkpoint (``init_ck``: its dict, read here when not given) with
    its weights and statistics, to continue learning on new data."""
    root = sk.index(sk.root)
    torch.manual_seed(cfg.seed)
    if cfg.init:
        ck = init_ck if init_ck is not None else read_checkpoint(cfg.init)
        if ck["skeleton"]["name"] != sk.name:
            raise Pose3dError(f"{cfg.init}: checkpoint skeleton {ck['skeleton']['name']} differs from the data's {sk.name}")
        codec = ck.get("codec", {}).get("name")
        if codec != CODEC_NAME:
            raise Pose3dError(f"{cfg.init}: checkpoint codec {codec!r} differs from this pose3d's {CODEC_NAME!r}; "
                              "its inputs mean something else: train from scratch or use a matching checkpoint")
        name, args = ck["model"]["name"], dict(ck["model"]["args"])
        model = model_from_checkpoint(ck, cfg.init).model.train()  # weights and statistics; trained from here
        if contract_of(model).composed:  # a blend: its plain part learns on (see BlendLifter.continued_part)
            return model.continued_part()
        return model, name, args
    stats_from = tr.target if tr is not None else prior_poses
    if stats_from is None:
        raise Pose3dError(f"{cfg.data}: a run with only 2D sources has no 3D targets to take the output statistics "
                          "from; give --init model.pt, prior: mocap pairs, or a pairs source")
    mean, std = target_statistics(stats_from.numpy())
    args = {**DEFAULT_ARGS.get(cfg.model, {}), **cfg.model_args}
    check_trainable(cfg.model, cfg.model_args)
    return build_model(cfg.model, sk.num_joints, root, mean, std, **args), cfg.model, args


@dataclass
class PriorPoses:
    """The mocap poses the plausibility priors learn from, with their sequences (a 2D-only run's smoothness
    threshold is measured within each sequence, as a pairs source's is)."""

    poses: torch.Tensor  # (N, J, 3) root-relative mm, camera frame
    ranges: list[tuple[int, int]]  # (start, stop) rows of each sequence
    fps: np.ndarray | None  # (R,) frames/s of each range's sequence (None: unknown)


def load_prior_poses(cfg: TrainConfig, sk, tr: Encoded | None) -> PriorPoses | None:
    """The mocap poses the plausibility prior learns from: the 'train' split of ``cfg.prior``, else the run's 3D
    targets (None in a 2D-only run without ``prior:``)."""
    if cfg.prior:
        d = load_pairs(cfg.prior)
        if list(d.joint_names) != list(sk.joints):
            raise Pose3dError(f"{cfg.prior}: prior poses have skeleton {d.skeleton}, the model needs {sk.name}")
        d = d.split("train")
        if len(d) == 0:
            raise Pose3dError(f"{cfg.prior}: no 'train' split poses for the prior")
        check_finite_3d(d, cfg.prior, "train")
        ranges = d.sequence_ranges()
        return PriorPoses(torch.from_numpy(root_relative(d.joints_3d, sk.index(sk.root)).astype(np.float32)), ranges,
                          range_fps(d, ranges))
    return PriorPoses(tr.target, tr.ranges, tr.fps) if tr is not None else None


def smoothness_term(tr: Encoded | None, prior: PriorPoses | None):
    """The :class:`~pose3d_cli.training.losses.Smoothness` term, its threshold measured within the sequences of the
    run's 3D targets (else of the prior's poses): in mm/s² where their rates are known (each clip is then compared
    at its own), else in mm/frame²; 50 mm/frame² without any 3D."""
    from .training import losses as L

    motion = (tr.target, tr.ranges, tr.fps) if tr is not None else \
        (prior.poses, prior.ranges, prior.fps) if prior is not None else None
    if motion is None:
        return L.Smoothness(50.0)
    poses, ranges, fps = motion
    if fps is not None and len(fps):
        return L.Smoothness(L.acceleration_margin(poses, ranges, fps=fps), float(np.median(fps)))
    return L.Smoothness(L.acceleration_margin(poses, ranges))


def build_terms(cfg: TrainConfig, model: torch.nn.Module, sk, tr: Encoded | None, clips: list,
                prior_poses: torch.Tensor | None, views: list | None = None, prior: PriorPoses | None = None) -> dict:
    """The run's objectives (training/losses.py): one for 2D/3D batches, one for 2D-only batches, one for
    image/3D batches (the 3D target plus the 2D-only terms and view consistency), the EWC penalty (anchored at the
    model's weights as given: the --init weights), the frozen teacher (distillation) and the prior's discriminator
    with its optimiser. ``prior_poses`` (N, J, 3) mm: what the priors learn from; ``prior`` (from
    :func:`load_prior_poses`): the same poses with their sequences, for a 2D-only run's smoothness threshold (None:
    ``prior_poses`` taken as one sequence of unknown rate)."""
    import copy

    from .training import losses as L

    bones = torch.from_numpy(sk.bone_indices)
    teacher = None  # only distillation reads it: an EWC-only run paid a teacher pass a step for nothing
    if cfg.distill_weight > 0:
        teacher = copy.deepcopy(model).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    for weight, option in ((cfg.prior_weight, "--prior-weight"), (cfg.shape_prior_weight, "--shape-prior-weight")):
        if weight > 0 and prior_poses is None:
            raise Pose3dError(f"{cfg.data}: {option} needs mocap poses: a pairs source or prior: pairs.h5")
    priors = []  # (weight, term): the pose priors learnt from the mocap poses
    disc = disc_opt = None
    if cfg.prior_weight > 0:
        disc = L.PoseDiscriminator(sk.num_joints, bones)
        disc_opt = AdamW(disc.parameters(), lr=cfg.disc_lr, betas=(0.5, 0.999), weight_decay=0.0)
        priors.append((cfg.prior_weight, L.Adversarial(disc)))
    if cfg.shape_prior_weight > 0:
        priors.append((cfg.shape_prior_weight, L.ShapePrior.fit(prior_poses, cfg.shape_prior_modes)))
    pairs = L.Objective().add(1.0, L.MPJPE()).add(cfg.bone_weight, L.BoneLength(bones))
    pairs.add(cfg.flexion_weight, L.FlexionAngle(torch.from_numpy(hinge_triples(sk))))
    pairs.add(cfg.distill_weight, L.Distillation())
    if prior is None and prior_poses is not None:
        prior = PriorPoses(prior_poses, [(0, len(prior_poses))], None)
    smooth = smoothness_term(tr, prior) if cfg.smooth_weight else None

    def unsupervised(objective: L.Objective) -> L.Objective:  # the terms that need no 3D target
        objective.add(cfg.reproj_weight, L.Reprojection()).add(cfg.bone_constancy_weight, L.BoneConstancy(bones))
        if smooth is not None:
            objective.add(cfg.smooth_weight, smooth)
        return objective.add(cfg.distill_weight, L.Distillation())

    two_d = unsupervised(L.Objective())
    image3d = [unsupervised(L.Objective().add(1.0, L.MPJPE())).add(cfg.view_weight, L.ViewConsistency(v.R.shape[0]))
               for v in views or []]
    for weight, term in priors:  # on the 2D-only batches (else the pairs') and the image/3D ones
        for objective in [two_d if clips else pairs, *image3d]:
            objective.add(weight, term)
    if clips and not two_d:
        raise Pose3dError(f"{clips[0].name}: a 2D-only source needs a 2D loss: set --reproj-weight (and "
                          "--prior-weight or --shape-prior-weight, --bone-constancy-weight, --smooth-weight)")
    ewc = None
    if cfg.ewc_weight > 0:
        if contract_of(model).temporal:
            raise Pose3dError(f"{cfg.init}: --ewc-weight supports single-frame models for now; use --distill-weight")
        data = tr if tr is not None else clips[0]
        frames = data.xy if data.xy.dim() == 3 else data.xy.flatten(0, 1)
        conf = data.conf if data.conf.dim() == 2 else data.conf.flatten(0, 1)
        fisher = L.diagonal_fisher(model, frames, conf, seed=cfg.seed)  # still the --init weights here
        anchor = {n: p.detach().clone() for n, p in model.named_parameters()}  # the --init weights (not yet trained)
        ewc = L.EWC(model, fisher, anchor)
    return {"pairs": pairs, "2d": two_d, "image3d": image3d, "ewc": ewc, "teacher": teacher, "disc": disc,
            "disc_opt": disc_opt}


def _fit_in_one_pass(cfg: TrainConfig, dist: _Dist, model: torch.nn.Module, model_name: str, model_args: dict, sk,
                     tr: Encoded | None, va: Encoded, data_info: dict, two_d: bool, resume: bool, on_epoch,
                     t_start: float) -> dict:
    """A model whose contract takes no gradient steps (the nearest-neighbour baseline): ``model.fit`` fills it
    from the training pairs' exact 2D projections (a mocap library of 2D and 3D, as Chen & Ramanan match
    against) in one pass; it is validated and saved like one epoch (no resume state: there is no loop)."""
    refused = [what for what, on in (("--resume", resume), ("--init", bool(cfg.init)), ("2D-only sources", two_d),
                                     ("torchrun", dist.world > 1), ("no pairs source", tr is None)) if on]
    if refused:
        raise Pose3dError(f"{cfg.data}: model {model_name!r} is filled from the training pairs in one pass (no "
                          f"gradient steps); it cannot use {', '.join(refused)}: run plain `pose3d train` on pairs")
    t0 = time.perf_counter()
    size = model.fit(tr.xy_clean, torch.ones_like(tr.conf), tr.target, seed=cfg.seed)
    fit_s = time.perf_counter() - t0
    metrics = _validate(model, va, cfg.max_val_samples)
    rec = {"epoch": 1, "library": size, **metrics, "fit_s": round(fit_s, 2),
           "elapsed_s": round(time.perf_counter() - t_start, 2)}
    save_checkpoint(make_checkpoint(model, model_name, model_args, sk.name, sk.root, cfg.to_dict(), data_info,
                                    {**metrics, "history": [rec]}), cfg.output)
    log_path = Path(cfg.log) if cfg.log else Path(cfg.output).with_suffix(".jsonl")
    with open(log_path, "w") as fh:
        fh.write(json.dumps(rec) + "\n")
    note_written(log_path)
    if on_epoch:
        on_epoch(rec)
    return {"output": str(cfg.output), "last": None, "epochs_done": 1, "best_val_mpjpe": metrics["val_mpjpe"],
            "best_epoch": 1, "stopped": "done", "train_seconds": fit_s, "samples_per_s": len(tr.xy) / max(fit_s, 1e-9),
            "history": [rec], "parameters": 0}


@dataclass
class _StepContext:
    """What the per-step loss functions read; fixed for a run."""

    cfg: TrainConfig
    model: torch.nn.Module  # the model as trained (DDP-wrapped under torchrun)
    contract: ModelContract  # its contract: temporal, fused (takes_det3d), receptive field, frames before the output
    terms: dict  # build_terms: the objectives, the frozen teacher, the prior's discriminator
    flip_perm: torch.Tensor
    skeleton: str
    det_error: object | None  # the detector-3D error model (fused models only)
    view_cfg: TrainConfig  # image/3D views' augmentation: no flip (it would break their shared world pose), no clean 2D

    def taught(self, *inputs) -> torch.Tensor | None:
        """The frozen --init model's prediction for what the model sees (None without a teacher)."""
        teacher = self.terms["teacher"]
        with torch.no_grad():
            return teacher(*inputs) if teacher is not None else None


def _pairs_loss(ctx: _StepContext, tr: Encoded, batch: np.ndarray, epoch: int, s: int):
    """One step's loss on a batch of 2D/3D pairs (``batch``: this rank's frame indices, or windows of them for a
    temporal model). Augments (torch RNG), simulates the detector's 3D for a fused model (numpy RNG seeded by
    ``(seed, epoch, s)``), lifts, asks the teacher, applies ``terms["pairs"]``.

    Returns ``(loss, step_terms, pred, frames)``: ``pred`` the lifted poses (what the prior's discriminator sees as
    fake), ``frames`` the output frames per unit (a temporal window's, else 1)."""
    cfg, contract = ctx.cfg, ctx.contract
    rf, before = contract.receptive_field, contract.frames_before
    idx = torch.from_numpy(np.ascontiguousarray(batch))
    xy, conf, tgt, xy_clean = tr.xy[idx], tr.conf[idx], tr.target[idx], tr.xy_clean[idx]
    weight = None
    out_rows = idx
    if contract.temporal:  # targets of the output frames only; a frame repeated by edge clipping counts once
        tgt = tgt[:, before:before + tgt.shape[1] - (rf - 1)]
        out_rows = idx[:, before:before + tgt.shape[1]]
        weight = new_frames(out_rows).bool()
    if tr.weight is not None:  # per-source weights
        weight = tr.weight[out_rows] * (weight if weight is not None else 1.0)
    xy, conf, tgt = augment(xy, conf, tgt, ctx.flip_perm, cfg, xy_clean)
    if contract.takes_det3d:  # the detector's 3D simulated from the (augmented) truth with the measured error model
        det, present = simulate_detector3d(tgt.numpy(), np.random.default_rng((cfg.seed, epoch, s)),
                                           ctx.det_error, ctx.skeleton, cfg.det3d_dropout)
        det, mask = detector3d_to_network_input(det, present, tuple(xy.shape[:-1]))
        extra = (torch.from_numpy(det), torch.from_numpy(mask))
    else:
        extra = ()
    pred = ctx.model(xy, conf, *extra)
    step_terms: dict[str, float] = {}
    if len(batch) == 0:  # DDP: this rank got nothing from the epoch's last, short batch
        loss = pred.sum() * 0.0
    else:  # the frozen --init sees what the model sees (a fused one: its 3D too)
        loss, step_terms = ctx.terms["pairs"](Batch(pred, tgt, teacher=ctx.taught(xy, conf, *extra),
                                                    frame_weight=weight))
    return loss, step_terms, pred, tgt.shape[1] if contract.temporal else 1


def _clip_losses(ctx: _StepContext, clips: list, units: list[np.ndarray], s: int, clip_batch: int,
                 loss: torch.Tensor | None):
    """One step's 2D-only terms (``terms["2d"]``, no 3D target): ``clip_batch`` clips of each 2D source, in order,
    each augmented (torch RNG) and lifted; ``c.weight`` times each source's loss is added to ``loss`` (the step's
    loss so far, None in a 2D-only run).

    Returns ``(loss, step_terms, fake, rows)``: ``fake`` the first source's lifted poses (the prior's fake poses),
    ``rows`` its number of clips (a 2D-only run's global batch)."""
    before = ctx.contract.frames_before
    step_terms: dict[str, float] = {}
    fake, n_rows = None, 0
    for k, c in enumerate(clips):
        rows = torch.from_numpy(np.take(units[k], np.arange(s * clip_batch, (s + 1) * clip_batch), axis=0, mode="wrap"))
        xy2, conf2 = c.xy[rows], c.conf[rows]
        xy2, conf2, _ = augment(xy2, conf2, torch.zeros(xy2.shape[:-1] + (3,)), ctx.flip_perm, ctx.cfg)
        pred2 = ctx.model(xy2, conf2)
        T_out = pred2.shape[1]
        taught = ctx.taught(xy2, conf2)
        l2, p2 = ctx.terms["2d"](Batch(pred2, None, xy2[:, before:before + T_out], conf2[:, before:before + T_out],
                                       taught, frame_weight=new_frames(rows[:, before:before + T_out]), fps=c.fps))
        loss = c.weight * l2 if loss is None else loss + c.weight * l2
        step_terms |= {f"2d_{name}": v for name, v in p2.items()}
        if k == 0:
            fake, n_rows = pred2, len(rows)
    return loss, step_terms, fake, n_rows


def _view_losses(ctx: _StepContext, views: list, units: list[np.ndarray], epoch: int, s: int,
                 loss: torch.Tensor):
    """One step's image/3D terms (``terms["image3d"][k]``): the real 2D of every view of each source, the
    triangulated 3D as target, view consistency across the views of an instant. A fused model gets each view's
    real detector 3D where the source has it, dropped per sample (numpy RNG seeded by ``(seed, epoch, s, 301 + k)``)
    as the simulated one is. ``vf.weight`` times each source's loss is added to ``loss``.

    Returns ``(loss, step_terms)``."""
    cfg = ctx.cfg
    step_terms: dict[str, float] = {}
    for k, vf in enumerate(views):
        u, V = units[k], vf.R.shape[0]
        G = min(len(u), max(1, cfg.batch_size // (cfg.clip * V)))
        rows = torch.from_numpy(np.take(u, np.arange(s * G, (s + 1) * G), axis=0, mode="wrap"))  # (G, T)

        def by_view(x: torch.Tensor) -> torch.Tensor:  # (G, T, V, ...) → (G·V, T, ...), view-major per group
            return x[rows].transpose(1, 2).flatten(0, 1)

        xy3, conf3, tgt3 = augment(by_view(vf.xy), by_view(vf.conf), by_view(vf.target), ctx.flip_perm, ctx.view_cfg)
        if ctx.contract.takes_det3d:
            det3 = by_view(vf.det) if vf.det is not None else torch.full(tgt3.shape, float("nan"))
            keep = torch.from_numpy(np.random.default_rng((cfg.seed, epoch, s, 301 + k)).random(
                det3.shape[:2]) >= cfg.det3d_dropout)
            mask3 = (torch.isfinite(det3).all(-1).all(-1) & keep).float()
            extra3 = (torch.nan_to_num(det3) * mask3[..., None, None], mask3)
        else:
            extra3 = ()
        pred3 = ctx.model(xy3, conf3, *extra3)
        taught = ctx.taught(xy3, conf3, *extra3)
        fresh = new_frames(rows)[:, None].expand(-1, V, -1).flatten(0, 1)  # (G·V, T), as by_view orders rows
        l3, p3 = ctx.terms["image3d"][k](Batch(pred3, tgt3, xy3, conf3, taught, fresh, rotation=vf.R.repeat(G, 1, 1),
                                               fps=vf.fps))
        loss = loss + vf.weight * l3
        step_terms |= {f"image3d_{name}": v for name, v in p3.items()}
    return loss, step_terms


def _optimiser_step(loss: torch.Tensor, report_loss: float, model: torch.nn.Module, opt, sched, dist: _Dist,
                    terms: dict, prior_poses: torch.Tensor | None,
                    fake: torch.Tensor | None) -> tuple[bool, float | None]:
    """Backpropagate ``loss`` and step the lifter unless a gradient or the loss is non-finite on any rank (a
    non-finite step would poison the weights); then the prior's discriminator learns real (mocap, drawn with the
    torch RNG) from lifted (``fake``) poses, and the schedule advances (also for a skipped step).

    Returns ``(stepped, discriminator loss or None without a prior)``."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    stepped = not dist.any(not (gradients_finite(model) and math.isfinite(report_loss)))
    if stepped:
        opt.step()
    d_value = None
    disc, disc_opt = terms["disc"], terms["disc_opt"]
    if disc is not None:
        fake = fake.detach().reshape(-1, *fake.shape[-2:])
        real = prior_poses[torch.randint(0, len(prior_poses), (len(fake),))]
        d_loss = discriminator_loss(disc, real, fake)
        disc_opt.zero_grad(set_to_none=True)
        if float(d_loss.detach()) > DISC_BALANCE:  # a prior that already wins gives the lifter no gradient: let it catch up
            d_loss.backward()
            disc_opt.step()
        d_value = float(d_loss.detach())
    sched.step()  # a skipped (non-finite) step is counted
    return stepped, d_value


def _train(cfg: TrainConfig, dist: _Dist, on_step, on_epoch, resume: bool, init_ck: dict | None) -> dict:
    t_start, cpu_start = time.perf_counter(), time.process_time()
    waited_from = cfg.started_at if cfg.started_at is not None else time.time()
    sk, tr, va, data_info = prepare_data(cfg)
    root_name = sk.root
    clips = [load_2d_source(s, sk, cfg.input_landmarks) for s in resolve_sources(cfg) if s.kind == "2d"]
    with_det3d = takes_det3d(cfg, init_ck)
    for spec in resolve_sources(cfg):
        if spec.kind == "image3d" and spec.det3d and not with_det3d:
            raise Pose3dError(f"{spec.path}: det3d files are given but the model trained here does not take the "
                              "detector's 3D (a blend's --init trains its plain part); drop det3d, or train the fused "
                              "part (python -m pose3d_cli.lifting.blend --parts) with --init fused.pt")
    views = [load_image3d_source(s, sk, with_det3d=with_det3d) for s in resolve_sources(cfg) if s.kind == "image3d"]
    if (clips or views) and dist.world > 1:
        raise Pose3dError(f"{cfg.data}: 2D-only and image/3D sources train in one process for now; run without torchrun")
    if views and tr is None:
        raise Pose3dError(f"{views[0].name}: an image/3D source trains beside a pairs source (it sets the epoch); add "
                          "synthetic pairs (e.g. the replay file) as a pairs source")
    prior = load_prior_poses(cfg, sk, tr)
    prior_poses = prior.poses if prior is not None else None
    model, model_name, model_args = build_or_init_model(cfg, sk, tr, prior_poses, init_ck)
    towards_init = InitInterpolation(model, cfg.init_share)  # the --init weights, before any step (or resume)
    written_as = output_of_init(cfg.init, init_ck)  # --init of a blend: its plain part trains, the output is a blend again
    contract = contract_of(model)
    if not contract.gradient_steps:
        return _fit_in_one_pass(cfg, dist, model, model_name, model_args, sk, tr, va, data_info, bool(clips), resume,
                                on_epoch, t_start)
    rf, causal, temporal = contract.receptive_field, contract.causal, contract.temporal
    fused = contract.takes_det3d
    if fused and (temporal or clips):
        raise Pose3dError(f"{cfg.data}: the fused model trains on pairs and image/3D sources only (no 2D-only sources)")
    if views and temporal:
        raise Pose3dError(f"{views[0].name}: image/3D sources train single-frame models for now (--model mlp)")
    det_error = load_error_model(skeleton=sk.name) if fused else None
    ddp_model = dist.wrap(model)
    terms = build_terms(cfg, model, sk, tr, clips, prior_poses, views, prior)
    disc, disc_opt = terms["disc"], terms["disc_opt"]
    ctx = _StepContext(cfg, ddp_model, contract, terms, torch.from_numpy(sk.flip_permutation), sk.name, det_error,
                       replace(cfg, flip_prob=0.0, clean_prob=0.0))

    # one epoch's units: frames (MLP) or windows (temporal)
    def epoch_units(epoch: int) -> np.ndarray:
        rng = np.random.default_rng([cfg.seed, epoch])
        if tr is None:  # 2D-only run: the first 2D source sets the epoch
            return clip_units(epoch, 0)
        if temporal:  # --subsample keeps a random 1/N of the windows, as it keeps 1/N of the frames below
            wins = temporal_windows(tr.ranges, cfg.window, rf, causal, rng)
            return wins[rng.permutation(len(wins))][: len(wins) // max(cfg.subsample, 1)]
        n = len(tr.xy)
        perm = rng.permutation(n)
        return perm[: n // max(cfg.subsample, 1)]

    # 2D-only sources: clips of ``cfg.clip`` output frames (with the model's context), about batch_size frames a step
    def clip_units(epoch: int, k: int) -> np.ndarray:
        rng = np.random.default_rng([cfg.seed, epoch, 101 + k])
        wins = temporal_windows(clips[k].ranges, cfg.clip, rf, causal, rng)
        return wins[rng.permutation(len(wins))]

    clip_batch = max(1, cfg.batch_size // cfg.clip)

    def view_units(epoch: int, k: int) -> np.ndarray:  # image/3D: clips of reference frames (all views each)
        rng = np.random.default_rng([cfg.seed, epoch, 201 + k])
        wins = temporal_windows(views[k].ranges, cfg.clip, 1, False, rng)
        return wins[rng.permutation(len(wins))]
    global_batch = clip_batch if tr is None else max(1, cfg.batch_size // (cfg.window if temporal else 1))
    units_per_epoch = len(epoch_units(0))
    if units_per_epoch == 0:
        if tr is not None and cfg.subsample > 1:
            what = "training windows" if temporal else "training pairs"
            n = len(temporal_windows(tr.ranges, cfg.window, rf, causal, np.random.default_rng(0))) if temporal else len(tr.xy)
            raise Pose3dError(f"--subsample {cfg.subsample}: {cfg.data} has {n:,} {what}, so an epoch would train on "
                              f"none; give --subsample {n} or less")
        raise Pose3dError(f"{cfg.data}: an epoch would train on no sample (no training window or clip); give more "
                          "training data")
    steps_per_epoch = math.ceil(units_per_epoch / global_batch)
    total_steps = steps_per_epoch * cfg.epochs
    opt = AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)  # torch.optim's arithmetic
    sched = OneCycle(opt, max_lr=cfg.lr, total_steps=max(total_steps, 1), pct_start=0.15, div_factor=10.0,
                     final_div_factor=100.0)
    state = {"epoch": 0, "step": 0, "best": float("inf"), "best_epoch": -1, "bad_epochs": 0, "history": [],
             "samples": 0, "train_seconds": 0.0, "skipped_steps": 0}
    def loop_signature() -> dict:
        return {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "window": cfg.window, "subsample": cfg.subsample,
                "model": model_name, "model_args": model_args, "lr": cfg.lr, "seed": cfg.seed,
                "input_landmarks": cfg.input_landmarks, "init": cfg.init, "init_share": cfg.init_share}  # a blend --init decides what is written

    if resume:
        lp = last_path(cfg.output)
        ck = read_checkpoint(lp)
        if "resume" not in ck:
            raise Pose3dError(f"{lp}: holds no resume state")
        r = ck["resume"]
        changed = [k for k, v in loop_signature().items() if r.get("signature", {}).get(k, v) != v]
        if changed:
            raise Pose3dError(f"{lp}: cannot resume with different {', '.join(changed)} (the schedule and data order "
                              "depend on them); use the original values, or --init to start a new run from it")
        model.load_state_dict(ck["state_dict"])
        try:
            opt.load_state_dict(r["optimizer"])
            sched.load_state_dict(r["scheduler"])
            if disc is not None:
                disc.load_state_dict(r["disc"])
                disc_opt.load_state_dict(r["disc_opt"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise Pose3dError(f"{lp}: its optimiser state does not fit this run ({e}); the training data may have "
                              "changed size: use --init to start a new run from it") from None
        torch.set_rng_state(r["torch_rng"])
        state.update({k: r[k] for k in state if k in r})
    log_path = Path(cfg.log) if cfg.log else Path(cfg.output).with_suffix(".jsonl")
    world, rank = dist.world, dist.rank
    if not resume and dist.main and log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    if world > 1:  # decorrelate augmentation and dropout across ranks (weights stay in sync through DDP)
        torch.manual_seed(cfg.seed * 1000 + rank)

    def checkpoint(metrics: dict, with_resume: bool) -> dict:
        resume_state = None
        if with_resume:
            resume_state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                            "torch_rng": torch.get_rng_state(), "signature": loop_signature(),
                            **{k: state[k] for k in state}}
            if disc is not None:
                resume_state |= {"disc": disc.state_dict(), "disc_opt": disc_opt.state_dict()}
        return make_checkpoint(model, model_name, model_args, sk.name, root_name, cfg.to_dict(), data_info,
                               {**metrics, "history": state["history"]}, resume_state)

    def log(rec: dict) -> None:
        if dist.main:
            with open(log_path, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            note_written(log_path)

    def end_epoch(epoch: int, ep_loss: float, ep_n: int, ep_terms: dict, step_t0: float) -> float:
        """Validate, keep the best, save the resumable state, log. What is validated and written is the model
        interpolated towards --init when --init-share asks it, the resumable state the trained weights. Returns the
        time validation ended (training time counts from it again)."""
        with towards_init.written():
            try:
                metrics = _validate(ddp_model, va, cfg.max_val_samples, ctx.det_error, ctx.skeleton) if dist.main else {}
            except np.linalg.LinAlgError:  # non-finite predictions: the Procrustes SVD does not converge
                metrics = {"val_mpjpe": float("nan")}
            if dist.main and not metrics["val_mpjpe"] < DIVERGED_MM:  # NaN too
                raise Pose3dError(f"{cfg.output}: training diverged at epoch {epoch + 1} (validation MPJPE "
                                  f"{metrics['val_mpjpe']:.3g} mm); this epoch wrote nothing; lower --lr (it was "
                                  f"{cfg.lr:g}) or check the data")
            validated_at = time.perf_counter()
            rec = {"epoch": epoch + 1, "train_loss": ep_loss / max(ep_n, 1), **metrics,
                   **({"terms": {k: v / max(ep_n, 1) for k, v in ep_terms.items()}} if ep_terms else {}),
                   "skipped_steps": state["skipped_steps"],
                   "samples_per_s": ep_n / max(time.perf_counter() - step_t0, 1e-9), "lr": sched.get_last_lr()[0],
                   "elapsed_s": round(time.perf_counter() - t_start, 2), "cpu_s": round(time.process_time() - cpu_start, 2),
                   "wall_s": round(time.time() - waited_from, 2)}
            state["history"].append(rec)
            state["epoch"] += 1
            state["step"] = 0
            improved = dist.main and metrics["val_mpjpe"] < state["best"]
            if improved:
                state["best"], state["best_epoch"], state["bad_epochs"] = metrics["val_mpjpe"], epoch + 1, 0
                save_checkpoint(written_as(checkpoint(metrics, with_resume=False)), cfg.output)
            elif dist.main:
                state["bad_epochs"] += 1
        if dist.main:
            save_checkpoint(checkpoint(metrics, with_resume=True), last_path(cfg.output))
            log(rec)
            if on_epoch:
                on_epoch(rec)
        return validated_at

    model.train()
    interrupted = None
    epoch_t0 = time.perf_counter()
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        units = epoch_units(epoch)
        units2 = [units] if tr is None else [clip_units(epoch, k) for k in range(len(clips))]
        if tr is None:
            units2 += [clip_units(epoch, k) for k in range(1, len(clips))]
        units3 = [view_units(epoch, k) for k in range(len(views))]
        ep_loss, ep_n = 0.0, 0
        ep_terms: dict[str, float] = {}
        step_t0 = time.perf_counter()
        while state["step"] < steps_per_epoch:
            s = state["step"]
            loss, step_terms, fake, frames = None, {}, None, 1
            if tr is not None:
                batch = units[s * global_batch:(s + 1) * global_batch]
                n_global = len(batch)
                if world > 1:
                    batch = np.array_split(batch, world)[rank]
                loss, step_terms, fake, frames = _pairs_loss(ctx, tr, batch, epoch, s)
            if clips:
                loss, clip_terms, fake, rows = _clip_losses(ctx, clips, units2, s, clip_batch, loss)
                step_terms |= clip_terms
                if tr is None:
                    n_global = rows
            if views:
                loss, view_terms = _view_losses(ctx, views, units3, epoch, s, loss)
                step_terms |= view_terms
            if terms["ewc"] is not None:
                penalty = terms["ewc"].penalty()
                step_terms["ewc"] = float(penalty.detach())
                loss = loss + cfg.ewc_weight * penalty
            report_loss = float(loss.detach())
            if world > 1:  # DDP averages gradients over ranks: weight each by its share of the global batch
                loss = loss * (len(batch) * world / n_global)
            stepped, d_loss = _optimiser_step(loss, report_loss, model, opt, sched, dist, terms, prior_poses, fake)
            if not stepped:
                state["skipped_steps"] += 1  # a non-finite step would poison the weights: skipped, counted
            if d_loss is not None:
                step_terms["disc"] = d_loss
            state["step"] += 1
            n = n_global * frames
            state["samples"] += n
            if math.isfinite(report_loss):
                ep_loss += report_loss * n
                ep_n += n
                for name, v in step_terms.items():
                    ep_terms[name] = ep_terms.get(name, 0.0) + v * n
            if on_step and dist.main:
                elapsed = time.perf_counter() - step_t0
                on_step({"epoch": epoch, "step": state["step"], "steps": steps_per_epoch, "loss": report_loss,
                         "samples_per_s": ep_n / max(elapsed, 1e-9), "lr": sched.get_last_lr()[0]})
            stop = cfg.stop_after_steps is not None and epoch * steps_per_epoch + state["step"] >= cfg.stop_after_steps
            timeout = cfg.max_minutes is not None and \
                state["train_seconds"] + (time.perf_counter() - epoch_t0) > cfg.max_minutes * 60
            if dist.any(stop or timeout):
                interrupted = "stop_after_steps" if stop else "max_minutes"
                break
        state["train_seconds"] += time.perf_counter() - epoch_t0
        epoch_t0 = time.perf_counter()
        if interrupted and state["step"] < steps_per_epoch:
            break
        epoch_t0 = end_epoch(epoch, ep_loss, ep_n, ep_terms, step_t0)
        early = cfg.patience > 0 and state["bad_epochs"] >= cfg.patience
        if dist.any(early):
            interrupted = "early_stopping"
            break
        if interrupted:
            break
    if interrupted in ("stop_after_steps", "max_minutes") and dist.main:
        save_checkpoint(checkpoint({}, with_resume=True), last_path(cfg.output))
    summary = {"output": str(cfg.output), "last": str(last_path(cfg.output)), "epochs_done": state["epoch"],
               "best_val_mpjpe": state["best"], "best_epoch": state["best_epoch"], "stopped": interrupted or "done",
               "train_seconds": state["train_seconds"],
               "samples_per_s": state["samples"] / max(state["train_seconds"], 1e-9), "history": state["history"],
               "parameters": sum(p.numel() for p in model.parameters())}
    return summary
