"""Continual-learning metrics, after Lopez-Paz & Ranzato 2017 (GEM) and Chaudhry et al. 2018 (RWalk), with two
stated differences: ``AF`` is GEM's backward transfer (error terms, sign flipped), measured from the error just
after learning a task, not Chaudhry's forgetting (from the *best* error reached before the last task, which is
never lower); ``IM`` compares each task with one joint model of *all* tasks (Chaudhry's reference for task k learns
tasks 1..k only, so its task 1 term is 0).

A sequence of models ``m_1 … m_N``, where ``m_i`` has learnt tasks ``1 … i`` (each task a pose3d HDF5), is
evaluated on every task's held-out split: the **accuracy matrix** ``M[i, j]`` = P-MPJPE (mm, lower is better) of
``m_i`` on task ``j``. From it (errors, so a positive number is worse):

- average forgetting ``AF = mean_{j < N} (M[N, j] − M[j, j])``: how much worse the final model is on each earlier
  task than just after learning it (the last task cannot be forgotten yet, so it is left out of the mean);
- intransigence ``IM = mean_j (M[j, j] − J[j])`` against one model ``J`` trained jointly on all tasks at once:
  how much the sequence's learning of each new task falls short of joint training;
- ``final_gap = mean_j (M[N, j] − J[j])``: the final model against joint training, on all tasks;
- the wall time of each update against a full retrain (the joint model's), read from each model's training log.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import Pose3dError


def average_forgetting(M: np.ndarray) -> float:
    """``mean_{j < N} (M[N, j] − M[j, j])`` of an (N, N) error matrix (0 for a single task)."""
    M = np.asarray(M, dtype=np.float64)
    N = M.shape[0]
    if M.shape != (N, N):
        raise ValueError(f"accuracy matrix must be square (models × tasks), got {M.shape}")
    if N < 2:
        return 0.0
    return float(np.mean([M[N - 1, j] - M[j, j] for j in range(N - 1)]))


def intransigence(M: np.ndarray, joint: np.ndarray) -> float:
    """``mean_j (M[j, j] − J[j])``: (N, N) errors of the sequence, (N,) errors of the joint model."""
    M, joint = np.asarray(M, dtype=np.float64), np.asarray(joint, dtype=np.float64)
    return float(np.mean(np.diag(M) - joint))


def final_gap(M: np.ndarray, joint: np.ndarray) -> float:
    """``mean_j (M[N, j] − J[j])``."""
    M, joint = np.asarray(M, dtype=np.float64), np.asarray(joint, dtype=np.float64)
    return float(np.mean(M[-1] - joint))


def training_seconds(model_path: str | Path, key: str = "wall_s") -> float | None:
    """Wall time (``wall_s``: what the user waited for, from the ``pose3d train`` process's start, so interpreter
    start, imports, data loading and validation count; logs without it fall back to ``elapsed_s``) or CPU time
    (``cpu_s``: steadier on a shared machine) of the run that wrote ``model_path``: the last record of its
    JSON-lines log ``<stem>.jsonl`` beside it; None when there is no log."""
    log = Path(model_path).with_suffix(".jsonl")
    if not log.is_file():
        return None
    last = None
    for line in log.read_text().splitlines():
        if line.strip():
            last = json.loads(line)
    if last and key == "wall_s" and key not in last:
        key = "elapsed_s"
    return float(last[key]) if last and key in last else None


def task_error(model, data, flip_tta: bool = True) -> float:
    """P-MPJPE (mm) of a loaded model on a split's stored (detector-like) 2D, as ``pose3d eval`` reports it."""
    from ..evaluate import EvalInputs, lift
    from ..lifting.codec import root_relative
    from ..metrics import p_mpjpe

    root = model.skeleton.index(model.meta["codec"]["root"])
    pred = lift(model, data, EvalInputs(data.keypoints_2d, data.confidence), flip_tta)
    return float(p_mpjpe(pred, root_relative(data.joints_3d.astype(np.float64), root)).mean())


def load_task(path: str | Path, split: str, skeleton):
    from ..dataset import check_finite_3d, load_pairs

    data = load_pairs(path)
    if list(data.joint_names) != list(skeleton.joints):
        raise Pose3dError(f"{path}: task skeleton {data.skeleton} does not match the models' {skeleton.name}")
    if split != "all":
        data = data.split(split)
        if len(data) == 0:
            raise Pose3dError(f"{path}: no sequences in split {split!r}; synthesise the task with a {split} split")
    check_finite_3d(data, path, split)
    return data


def error_matrix(models: list[str | Path], tasks: list, flip_tta: bool = True) -> np.ndarray:
    """(len(models), len(tasks)) P-MPJPE of each model on each loaded task split."""
    from ..lifting.checkpoint import load_model

    out = np.zeros((len(models), len(tasks)))
    for i, m in enumerate(models):
        lm = load_model(m)
        for j, data in enumerate(tasks):
            out[i, j] = task_error(lm, data, flip_tta)
    return out


def sequence_summary(M: np.ndarray, joint: np.ndarray | None, models: list[str], joint_path: str | None) -> dict:
    """The metrics of one model sequence (see the module doc); wall times from the training logs."""
    times = [training_seconds(m) for m in models]
    full = training_seconds(joint_path) if joint_path else None
    rec = {"models": [str(m) for m in models], "matrix": M.round(3).tolist(), "average_forgetting": average_forgetting(M),
           "wall_s": times}
    if joint is not None:
        rec["intransigence"] = intransigence(M, joint)
        rec["final_gap"] = final_gap(M, joint)
    if full:
        rec["update_over_full_retrain"] = [None if t is None else t / full for t in times[1:]]
    cpu = [training_seconds(m, "cpu_s") for m in models]
    full_cpu = training_seconds(joint_path, "cpu_s") if joint_path else None
    rec["cpu_s"] = cpu
    if full_cpu:
        rec["update_cpu_over_full_retrain"] = [None if t is None else t / full_cpu for t in cpu[1:]]
    return rec


def continual_report(models: list[str], tasks: list[str], joint: str | None = None,
                     baseline: list[str] | None = None, split: str = "test", flip_tta: bool = True) -> dict:
    """Evaluate a sequence (and optionally a baseline sequence, e.g. naive fine-tuning, and a joint model) on
    every task's ``split``. ``models[i]`` must have learnt tasks ``0..i``."""
    from ..lifting.checkpoint import load_model

    if len(models) != len(tasks):
        raise Pose3dError(f"{len(models)} models for {len(tasks)} tasks: give one model per task, in learning order")
    if baseline and len(baseline) != len(tasks):
        raise Pose3dError(f"--baseline: {len(baseline)} models for {len(tasks)} tasks; give one per task")
    sk = load_model(models[0]).skeleton
    for m in [*models[1:], *(baseline or []), *([joint] if joint else [])]:
        other = load_model(m).skeleton  # every checkpoint readable (weights that fit, finite) before the tasks are read
        if list(other.joints) != list(sk.joints):
            raise Pose3dError(f"{m}: a model of skeleton {other.name}, where {models[0]} (and the tasks) are "
                              f"{sk.name}; give models of one skeleton")
    data = [load_task(t, split, sk) for t in tasks]
    J = error_matrix([joint], data, flip_tta)[0] if joint else None
    report = {"tasks": [str(t) for t in tasks], "split": split, "flip_tta": flip_tta,
              "metric": "P-MPJPE mm on the stored (detector-like) 2D", "task_pairs": [len(d) for d in data],
              "joint": None if joint is None else {"model": str(joint), "errors": J.round(3).tolist(),
                                                   "wall_s": training_seconds(joint),
                                                   "cpu_s": training_seconds(joint, "cpu_s")},
              "sequences": {"method": sequence_summary(error_matrix(models, data, flip_tta), J, models, joint)}}
    if baseline:
        report["sequences"]["baseline"] = sequence_summary(error_matrix(baseline, data, flip_tta), J, baseline, joint)
    return report


def report_table(report: dict) -> list[list[str]]:
    """Rows (header first) of the summary table: one row per sequence."""
    head = ["sequence", "AF mm", "intransigence mm", "final − joint mm", "M[N, ·] mm", "update / full retrain"]
    rows = [head]
    for name, s in report["sequences"].items():
        ratios = s.get("update_over_full_retrain") or []
        rows.append([name, f"{s['average_forgetting']:.2f}",  # two decimals: 1.04 printed as 1.0 looked met
                     f"{s['intransigence']:.2f}" if "intransigence" in s else "-",
                     f"{s['final_gap']:.2f}" if "final_gap" in s else "-",
                     " ".join(f"{v:.1f}" for v in s["matrix"][-1]),
                     " ".join("-" if r is None else f"{100 * r:.1f}%" for r in ratios) or "-"])
    return rows


def write_plot(report: dict, path: str | Path) -> Path:
    """PNG: the error matrix of each sequence as a heat map, and the final errors per task beside joint training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seqs = report["sequences"]
    n = len(report["tasks"])
    names = [Path(t).stem for t in report["tasks"]]
    fig, axes = plt.subplots(1, len(seqs) + 1, figsize=(4.2 * (len(seqs) + 1), 3.8))
    vmax = max(max(max(r) for r in s["matrix"]) for s in seqs.values())
    vmin = min(min(min(r) for r in s["matrix"]) for s in seqs.values())
    for ax, (name, s) in zip(axes, seqs.items()):
        M = np.array(s["matrix"])
        im = ax.imshow(M, cmap="viridis_r", vmin=vmin, vmax=vmax)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{M[i, j]:.0f}", ha="center", va="center", color="w", fontsize=8)
        ax.set_xticks(range(n), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(n), [f"after {k + 1}" for k in range(n)], fontsize=7)
        ax.set_title(f"{name}: AF {s['average_forgetting']:.1f} mm", fontsize=9)
    fig.colorbar(im, ax=axes[:-1], shrink=0.8, label="P-MPJPE (mm)")
    ax = axes[-1]
    x = np.arange(n)
    width = 0.8 / (len(seqs) + 1)
    for k, (name, s) in enumerate(seqs.items()):
        ax.bar(x + k * width, s["matrix"][-1], width, label=f"{name} (final)")
    if report.get("joint"):
        ax.bar(x + len(seqs) * width, report["joint"]["errors"], width, label="joint training")
    ax.set_xticks(x + 0.4 - width / 2, names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("P-MPJPE (mm)")
    ax.legend(fontsize=7)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
        tmp.replace(path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path
