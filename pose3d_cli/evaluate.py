"""``pose3d eval``: how well a checkpoint lifts the pairs of a pose3d HDF5.

Conditions (always reported): ``clean`` (exact projections of the stored 3D), ``stored`` (the detector-like 2D
written by synth) and ``occluded20`` (clean 2D with 20% of the joints missing). Breakdowns per joint, per
source file, subject, action and camera elevation band are computed on the ``stored`` 2D. ``sweep`` adds
error versus 2D noise σ and versus the fraction of occluded joints, made with the same corruption code as synth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics
from .dataset import PairData, load_pairs
from .errors import Pose3dError
from .geometry import invert_rigid
from .lifting.checkpoint import LoadedModel, load_model
from .lifting.codec import pixels_to_network_input, root_relative
from .lifting.models import contract_of
from .lifting.predict import torch_fn
from .lifting.sequence import flip_averaged, run_dataset
from .synth.corrupt import Corruption, corrupt

NOISE_LEVELS = (0.0, 0.01, 0.02, 0.04, 0.08)
OCCLUSION_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
ELEVATION_BANDS = ((-90, 0), (0, 15), (15, 30), (30, 45), (45, 90))


@dataclass
class EvalInputs:
    uv: np.ndarray  # (N, J, 2) pixels
    conf: np.ndarray  # (N, J)


def clean_projection(data: PairData) -> EvalInputs:
    """Exact 2D of the stored 3D: (N, J, 2) pixels and confidence 1 inside the image."""
    from .geometry import distortion_folds, project

    K = data.K[data.camera_index]
    dist = data.dist[data.camera_index]
    P = data.joints_3d.astype(np.float64)
    uv = project(P, K, dist if np.any(dist) else None)
    wh = data.image_size[data.camera_index][:, None, :]
    inside = np.all((uv >= 0) & (uv < wh), axis=-1) & (P[..., 2] > 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # beyond the distortion's fold: not in the image
        inside &= ~distortion_folds(P[..., :2] / P[..., 2:3], dist[:, None, :])
    return EvalInputs(uv.astype(np.float32), inside.astype(np.float32))


def corrupted(data: PairData, cfg: Corruption, seed: int) -> EvalInputs:
    """Clean projections corrupted sequence by sequence with ``cfg`` (the synth corruption code)."""
    from .skeleton import get_skeleton

    sk = get_skeleton(data.skeleton)
    clean = clean_projection(data)
    uv = np.zeros_like(clean.uv)
    conf = np.zeros_like(clean.conf)
    rng = np.random.default_rng(seed)
    for s, e in data.sequence_ranges():
        cam = int(data.camera_index[s])
        size = tuple(int(v) for v in data.image_size[cam])
        fps = float(data.sequences["fps"][data.sequence_index[s]])
        uv[s:e], conf[s:e] = corrupt(clean.uv[s:e], data.joints_3d[s:e].astype(np.float64), size, sk, cfg, rng, fps,
                                     data.dist[cam])
    return EvalInputs(uv, conf)


def lift(model: LoadedModel, data: PairData, inputs: EvalInputs, flip_tta: bool = True) -> np.ndarray:
    """Predictions (N, J, 3) root-relative mm for ``inputs`` (sequences kept whole for temporal models), with
    test-time flip averaging as ``pose3d infer`` does by default."""
    K = data.K[data.camera_index]
    dist = data.dist[data.camera_index] if np.any(data.dist) else None
    xy, conf = pixels_to_network_input(inputs.uv, inputs.conf, K, dist)
    landmarks = model.meta.get("codec", {}).get("landmarks")
    if landmarks:  # a model trained on a detector's landmarks sees the synthetic 2D moved to them, as in training
        from .synth.landmarks import landmark_shift

        xy = np.where(conf[..., None] > 0, xy + landmark_shift(data.joints_3d, data.skeleton, landmarks), xy)
    fn = torch_fn(model.model)
    if flip_tta:
        fn = flip_averaged(fn, model.skeleton.flip_permutation)
    return run_dataset(fn, model.receptive_field, contract_of(model.model).causal, xy, conf,
                       data.sequence_ranges())


def _elevation(path: str | Path, data: PairData, root: int) -> np.ndarray:
    """(N,) elevation of the camera seen from the subject's root, degrees (positive: camera above)."""
    import h5py

    with h5py.File(path, "r") as f:
        R = f["cam_from_world_R"][()].astype(np.float64)
        t = f["cam_from_world_t"][()].astype(np.float64)
    rows = data.attrs["_rows"]
    R, t = R[rows], t[rows]
    Rw, tw = invert_rigid(R, t)  # world_from_cam
    cam_centre = tw  # (N, 3) world
    root_w = np.einsum("nij,nj->ni", Rw, data.joints_3d[:, root].astype(np.float64)) + tw
    d = cam_centre - root_w
    return np.degrees(np.arctan2(d[:, 2], np.linalg.norm(d[:, :2], axis=1)))


def action_of(source: str) -> str:
    """The action label of a sequence source: the one a reader stored (VideoPose3D ``file#S9/Walking 1`` →
    ``Walking``), else from the file name: Bandai ``dataset-1_walk_happy_001`` → ``walk``; else the stem."""
    if "#" in source and "/" in source.split("#", 1)[1]:
        action = source.split("#", 1)[1].split("/", 1)[1].strip()
        return re.sub(r"[ _.]\d+$", "", action) or action  # Human3.6M repetitions: "Walking 1" → "Walking"
    stem = Path(source.split("#")[0]).stem
    m = re.match(r"dataset-\d+_([^_]+)_", stem)
    return m.group(1) if m else stem


def _group(names: np.ndarray, per_sample: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    out = {}
    for g in sorted(set(names.tolist())):
        m = names == g
        out[str(g)] = {k: float(v[m].mean()) for k, v in per_sample.items()} | {"samples": int(m.sum())}
    return out


def stored_2d_kind(data: PairData) -> str:
    """What the file's stored 2D is: ``exact`` (``synth --clean``) or ``detector-like`` (corrupted)."""
    import json

    try:
        params = json.loads(data.attrs.get("synth_params") or "{}")
    except (TypeError, ValueError):
        params = {}
    return "exact" if params.get("corruption") == "clean" else "detector-like"


def evaluate(model_path: str | Path, data_path: str | Path, split: str = "test", sweep: bool = False,
             seed: int = 0, max_samples: int | None = None, flip_tta: bool = True) -> dict:
    """Evaluate a checkpoint on one split of a pose3d HDF5 (``all`` for every pair). Returns a JSON-able report."""
    model = load_model(model_path)
    data = load_pairs(data_path)
    if list(data.joint_names) != list(model.skeleton.joints):
        raise Pose3dError(f"{data_path}: skeleton {data.skeleton} does not match the model's {model.skeleton.name}")
    if split != "all":
        keep = data.sequences["split"] == split
        if not keep.any():
            raise Pose3dError(f"{data_path}: no sequences in split {split!r}; use --split all or another split")
        rows = np.flatnonzero(keep[data.sequence_index])
        data = data.select_sequences(keep)
    else:
        rows = np.arange(len(data))
    if max_samples and len(data) > max_samples:  # whole sequences, evenly spread
        ranges = data.sequence_ranges()
        keep_seq = np.zeros(len(data.sequences["start"]), dtype=bool)
        step = max(1, int(np.ceil(len(data) / max_samples)))
        for s, _ in ranges[::step]:
            keep_seq[data.sequence_index[s]] = True
        sel = keep_seq[data.sequence_index]
        rows = rows[sel]
        data = data.select_sequences(keep_seq)
    data.attrs["_rows"] = rows
    root = model.skeleton.index(model.meta["codec"]["root"])
    target = root_relative(data.joints_3d.astype(np.float64), root)

    conditions = {
        "clean": clean_projection(data),
        "stored": EvalInputs(data.keypoints_2d, data.confidence),
        "occluded20": corrupted(data, Corruption.clean().scaled(occlusion=0.2), seed),
    }
    report: dict = {"model": str(model_path), "data": str(data_path), "split": split, "flip_tta": flip_tta,
                    "stored_2d": stored_2d_kind(data),
                    "samples": len(data),
                    "sequences": len(data.sequence_ranges()), "skeleton": model.skeleton.name, "conditions": {}}
    if contract_of(model.model).takes_det3d:  # pairs carry no detector 3D: the model's 2D-only path runs
        report["note"] = (f"model {model.name!r} also takes the detector's 3D (BlazePose world landmarks), which "
                          "pairs do not carry: these figures are its plain 2D path")
    stored_pred = None
    for name, inp in conditions.items():
        pred = lift(model, data, inp, flip_tta)
        report["conditions"][name] = metrics.summary(pred, target)
        if name == "stored":
            stored_pred = pred

    per_mpjpe = metrics.mpjpe(stored_pred, target)
    per_pmpjpe = metrics.p_mpjpe(stored_pred, target)
    joint_err = metrics.joint_errors(stored_pred, target)
    joint_perr = metrics.p_mpjpe_joints(stored_pred, target)
    report["per_joint"] = {j: {"mpjpe": float(joint_err[:, i].mean()), "p_mpjpe": float(joint_perr[:, i].mean())}
                           for i, j in enumerate(model.skeleton.joints)}
    per = {"mpjpe": per_mpjpe, "p_mpjpe": per_pmpjpe}
    seq = data.sequence_index
    sources = data.sequences["source"][seq]
    report["per_source"] = _group(np.array([Path(s.split("#")[0]).name for s in sources]), per)
    report["per_subject"] = _group(data.sequences["subject"][seq], per)
    report["per_action"] = _group(np.array([action_of(s) for s in sources]), per)
    elev = _elevation(data_path, data, root)
    bands = np.array([next(f"{lo}..{hi} deg" for lo, hi in ELEVATION_BANDS if lo <= e < hi or (hi == 90 and e >= 90))
                      for e in np.clip(elev, -89.9, 89.9)])
    report["per_elevation"] = _group(bands, per)
    if sweep:
        report["sweep"] = {"noise": [], "occlusion": []}
        for sigma in NOISE_LEVELS:
            pred = lift(model, data, corrupted(data, Corruption.clean().scaled(noise=sigma), seed), flip_tta)
            report["sweep"]["noise"].append({"sigma": sigma, **metrics.summary(pred, target)})
        for frac in OCCLUSION_LEVELS:
            pred = lift(model, data, corrupted(data, Corruption.clean().scaled(occlusion=frac), seed), flip_tta)
            report["sweep"]["occlusion"].append({"fraction": frac, **metrics.summary(pred, target)})
    return report


#: the files :func:`write_plots` writes into its folder (the CLI checks them before any work)
PLOT_FILES = ("per_joint.png", "error_vs_noise.png", "error_vs_occlusion.png")


def _save(fig, path: Path) -> None:
    from .atomic import atomic_target

    with atomic_target(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")


def write_plots(report: dict, folder: str | Path) -> list[Path]:
    """PNG plots: per-joint error, and (with a sweep) error vs noise and vs occlusion."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    joints = list(report["per_joint"])
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(joints))
    ax.bar(x - 0.2, [report["per_joint"][j]["mpjpe"] for j in joints], 0.4, label="MPJPE")
    ax.bar(x + 0.2, [report["per_joint"][j]["p_mpjpe"] for j in joints], 0.4, label="P-MPJPE")
    ax.set_xticks(x, joints, rotation=60, ha="right")
    ax.set_ylabel("error (mm)")
    ax.set_title(f"per-joint error ({report.get('stored_2d', 'detector-like')} 2D)")
    ax.legend()
    fig.tight_layout()
    out.append(folder / "per_joint.png")
    _save(fig, out[-1])
    plt.close(fig)
    for key, xkey, label in (("noise", "sigma", "2D noise σ (fraction of person size)"),
                             ("occlusion", "fraction", "fraction of occluded joints")):
        rows = report.get("sweep", {}).get(key)
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(5, 4))
        xs = [r[xkey] for r in rows]
        ax.plot(xs, [r["mpjpe"] for r in rows], "o-", label="MPJPE")
        ax.plot(xs, [r["p_mpjpe"] for r in rows], "s-", label="P-MPJPE")
        ax.set_xlabel(label)
        ax.set_ylabel("error (mm)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out.append(folder / f"error_vs_{key}.png")
        _save(fig, out[-1])
        plt.close(fig)
    return out
