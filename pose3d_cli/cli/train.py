"""`pose3d train data.h5 -o model.pt`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

import typer

from .app import app
from ..errors import Pose3dError
from .common import check_checkpoint_output, check_outputs, err_console, lazy_progress, option, state, user_errors


def _parse_model_args(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise Pose3dError(f"--arg {item!r}: expected NAME=VALUE, e.g. --arg width=512")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _parse_source(item: str) -> dict:
    """``PATH[:KIND][:WEIGHT]`` → a source entry (KIND pairs or 2d; a path may itself hold ':')."""
    parts = item.split(":")
    cut = next((k for k in range(len(parts), 0, -1) if Path(":".join(parts[:k])).exists()), None)
    if cut is None:  # no such file: the reader says so, about the path without its kind and weight
        cut = len(parts)
        while cut > 1 and (parts[cut - 1] in ("pairs", "2d") or parts[cut - 1].replace(".", "", 1).isdigit()):
            cut -= 1
    entry: dict = {"path": ":".join(parts[:cut])}
    for tail in parts[cut:]:
        if tail in ("pairs", "2d") and "kind" not in entry and "weight" not in entry:
            entry["kind"] = tail
            continue
        try:
            weight = float(tail)
        except ValueError:
            weight = None
        if weight is None or "weight" in entry or not weight >= 0 or weight == float("inf"):
            raise Pose3dError(f"--source {item}: {tail!r} is neither a kind (pairs, 2d) nor a weight >= 0; "
                              "expected PATH[:KIND][:WEIGHT], e.g. site.csv:2d:0.5")
        entry["weight"] = tail
    return entry


def _process_started_at() -> float | None:
    """time.time() when this process started (Linux /proc: interpreter start and imports count), else None."""
    import os
    import time

    try:
        ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        # the process's age on the boot-time clock its start is counted in (/proc/stat's btime is whole seconds:
        # up to 1 s too early, which inflated every update's wall time against a retrain's)
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        started = time.time() - age
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return started if 0 <= time.time() - started < 3600 else None  # a long-lived host (tests) is not one command


EXAMPLES = """Examples:

  pose3d train pairs.h5 -o model.pt                     # the shipped recipe: MLP width 384, 12 epochs

  pose3d train pairs.h5 -o t.pt --model temporal --receptive-field 81

  pose3d train new.h5 -o m2.pt --init model.pt --replay pairs.h5 --epochs 4   # learn new data, keep the old

  pose3d train t3.h5 -o m3.pt --init m2.pt --replay t1.h5 --replay t2.h5 --replay-ratio 1   # replay as many pairs as t3 has

  pose3d train t2.h5 -o m2.pt --init m1.pt --replay t1.h5 --replay-ratio 2.5 --init-share 0.4 --lr 2e-3   # forgets ~1 mm (recipes/continual.sh)

  pose3d train pairs.h5 -o nn.pt --model nn --arg k=8 --arg library=100000      # Chen & Ramanan baseline"""


@app.command(epilog=EXAMPLES)
def train(
    data: Path = typer.Argument(..., help="pose3d HDF5 from `pose3d synth` (its 'train' split is used)."),
    output: Path = typer.Option(..., "--output", "-o", help="Best checkpoint (.pt); the last state goes to "
                                                            "<stem>.last.pt, the metrics to <stem>.jsonl."),
    val: Optional[Path] = typer.Option(None, help="Validation HDF5: its 'val' split (default: the 'val' split of DATA, of every pairs source)."),
    model: Optional[str] = typer.Option(None, help="Registered model: mlp (the default), temporal, fused or nn (nearest-neighbour baseline: filled in one pass, no epochs); a blend is made from a trained mlp and fused model (python -m pose3d_cli.lifting.blend). Not with --init (it keeps its own)."),
    arg: list[str] = typer.Option([], "--arg", help="Model argument NAME=VALUE (repeatable), e.g. width=512 "
                                                    "(default mlp: width=384 blocks=2 dropout=0.05)."),
    receptive_field: Optional[int] = typer.Option(None, "--receptive-field", min=1, help="Temporal model: 27, 81 or 243 "
                                                                                  "frames (default 27)."),
    causal: bool = typer.Option(False, "--causal", help="Temporal model looks only at past frames (live use)."),
    epochs: int = typer.Option(12, min=1, help="Passes over the training split."),
    batch_size: int = typer.Option(1024, min=1, help="Samples (frames) per optimiser step, over all processes."),
    lr: float = option(3e-3, gt=0.0, max=10.0, help="Peak learning rate of the one-cycle schedule."),
    weight_decay: float = typer.Option(1e-4, min=0.0, help="AdamW weight decay."),
    subsample: int = typer.Option(1, min=1, help="Use a random 1/N of the training frames each epoch."),
    flip: float = typer.Option(0.5, min=0.0, max=1.0, help="Probability of a horizontal flip with left/right swap."),
    mask: float = typer.Option(0.05, min=0.0, max=1.0, help="Extra probability of masking each joint."),
    extra_noise: float = typer.Option(0.0, min=0.0, max=1.0, help="Extra 2D jitter std, fraction of the person's 2D spread."),
    clean_prob: float = typer.Option(0.3, min=0.0, max=1.0, help="Probability of training a sample on its exact 2D projection."),
    landmarks: Optional[Literal["blazepose"]] = typer.Option(
        None, "--landmarks", help="Train on that detector's 2D semantics: the pairs' 2D moved from the mocap's joint "
                                  "centres to its landmarks (hips wider, shoulders higher, ears, nose tip; "
                                  "synth/landmarks.py); the 3D stays the joint centres. Kept from an --init model."),
    det3d_dropout: float = typer.Option(0.5, "--det3d-dropout", min=0.0, max=1.0, help="--model fused: share of samples without the simulated detector 3D (the plain 2D path)."),
    conf_jitter: float = typer.Option(0.1, min=0.0, max=1.0, help="Random change of the 2D confidences (detectors differ in scale)."),
    bone_weight: float = typer.Option(0.0, min=0.0, help="Weight of the bone-length loss term."),
    flexion_weight: float = typer.Option(0.0, min=0.0, help="Weight of the elbow and knee flexion loss term (degrees)."),
    window: int = typer.Option(64, min=1, help="Temporal models: output frames per training window."),
    patience: int = typer.Option(0, min=0, help="Early stopping after N epochs without improvement (0: off)."),
    max_minutes: Optional[float] = option(None, gt=0.0, help="Stop (resumable) after this many minutes (default: no "
                                                            "limit)."),
    seed: int = typer.Option(0, min=0, max=2**63 - 1, help="Random seed (weights, data order, augmentation)."),
    threads: int = typer.Option(2, min=1, max=256, help="torch threads per process."),
    resume: bool = typer.Option(False, "--resume", help="Continue from <stem>.last.pt, bit-identically."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from this checkpoint (model, weights, output "
                                                             "statistics): learn new data incrementally."),
    replay: list[Path] = typer.Option([], "--replay", help="Earlier pairs file mixed into training so the model does "
                                                           "not forget it (repeatable)."),
    replay_fraction: float = option(1.0, gt=0.0, max=1.0, help="Share of each --replay file's training sequences used."),
    replay_ratio: Optional[float] = option(None, gt=0.0, max=100.0, help="Replay about R × the new training pairs, "
                                           "shared equally by the --replay files (whole sequences), so an update "
                                           "costs in proportion to the new data, not the history."),
    log: Optional[Path] = typer.Option(None, help="JSON-lines metrics file (default: <output>.jsonl)."),
    source: list[str] = typer.Option([], "--source", help="Another source PATH[:KIND[:WEIGHT]] (repeatable); KIND pairs "
                                                          "or 2d (2D only: no 3D target). Several sources with intrinsics "
                                                          "etc.: give a sources YAML as DATA (see training/sources.py)."),
    prior: Optional[Path] = typer.Option(None, "--prior", help="Pairs file whose 3D poses the plausibility prior learns "
                                                               "from (default: the pairs sources)."),
    reproj_weight: float = typer.Option(0.0, min=0.0, help="2D-only sources: weight of the reprojection loss."),
    bone_constancy_weight: float = typer.Option(0.0, min=0.0, help="2D-only sources: bone lengths constant along a track."),
    smooth_weight: float = typer.Option(0.0, min=0.0, help="2D-only sources: accelerations beyond the mocap's."),
    view_weight: float = typer.Option(0.0, min=0.0, help="image/3D sources: the calibrated views of one instant "
                                                         "predict one world pose (view consistency)."),
    prior_weight: float = typer.Option(0.0, min=0.0, help="Adversarial pose prior trained on mocap (Yang et al. 2018)."),
    shape_prior_weight: float = typer.Option(0.0, min=0.0, help="Pose prior: the mocap's linear shape space "
                                             "(Procrustes-aligned PCA); what keeps 2D-only training from "
                                             "inhuman depths."),
    shape_prior_modes: int = typer.Option(12, min=1, help="Principal modes of the shape prior's linear shape space."),
    distill_weight: float = typer.Option(0.0, min=0.0, help="With --init: distil the frozen initial model on new and replayed "
                                                   "inputs (LwF)."),
    ewc_weight: float = typer.Option(0.0, min=0.0, help="With --init: elastic weight consolidation around its weights."),
    init_share: float = typer.Option(0.0, min=0.0, max=0.95, help="With --init: the written model is (1 - s) x the "
                                     "trained weights + s x the --init weights (weight-space interpolation against "
                                     "forgetting; validated as written; training and --resume go on from the trained ones)."),
    clip: int = typer.Option(16, min=2, help="2D-only and image/3D sources: frames per training clip."),
    stop_after_steps: Optional[int] = typer.Option(None, min=1, hidden=True),
) -> None:
    """Train a 2D-to-3D lifting network (single-frame MLP or temporal convolutions)."""
    from ..lifting.models import receptive_field_widths
    from ..train import TrainConfig, train as run

    from ..train import last_path

    with user_errors():
        from ..filekind import TEXT

        log_out = log if log else output.with_suffix(".jsonl")
        # --resume reads and rewrites <stem>.last.pt (that is its job); everything else read is never written
        from ..training.sources import SOURCES_FILE_SUFFIXES, sources_file_inputs

        listed = sources_file_inputs(data) if data.suffix.lower() in SOURCES_FILE_SUFFIXES else []
        check_outputs([data, val, init, *replay, prior, *listed, *(_parse_source(x)["path"] for x in source)]
                      + ([last_path(output)] if resume else []),
                      [output, log_out] + ([] if resume else [last_path(output)]),
                      writes={log_out: TEXT})  # JSON lines, whatever the --log name (a checkpoint was overwritten)
        check_checkpoint_output(output)
        model_args = _parse_model_args(arg)
        # --init keeps the checkpoint's own architecture: --model/--arg are only what it is (None: not given)
        name = model if model is not None or init is not None else "mlp"
        shaped = [opt for opt, on in (("--receptive-field", receptive_field is not None), ("--causal", causal)) if on]
        if shaped and name not in ("temporal", None):
            raise Pose3dError(f"{shaped[0]}: for temporal models only (--model temporal), not --model {name}; leave "
                              f"{shaped[0]} out or give --model temporal")
        if receptive_field:
            model_args["filter_widths"] = receptive_field_widths(receptive_field)
        if causal:
            model_args["causal"] = True
        if init is None:
            from ..lifting.models import check_trainable

            check_trainable(name, model_args)
        elif model is not None or model_args:
            from ..lifting.checkpoint import read_checkpoint
            from ..train import check_init_architecture

            check_init_architecture(read_checkpoint(init), init, model, model_args)
        cfg = TrainConfig(data=str(data), output=str(output), val=str(val) if val else None, model=name or "mlp",
                          model_args=model_args, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                          seed=seed, subsample=subsample, flip_prob=flip, mask_prob=mask, extra_noise=extra_noise,
                          clean_prob=clean_prob, input_landmarks=landmarks, det3d_dropout=det3d_dropout,
                          conf_jitter=conf_jitter,
                          window=window, bone_weight=bone_weight, flexion_weight=flexion_weight, patience=patience, max_minutes=max_minutes,
                          threads=threads, log=str(log) if log else None, stop_after_steps=stop_after_steps,
                          init=str(init) if init else None, replay=[str(r) for r in replay],
                          replay_fraction=replay_fraction, replay_ratio=replay_ratio, sources=[_parse_source(x) for x in source],
                          prior=str(prior) if prior else None, reproj_weight=reproj_weight,
                          bone_constancy_weight=bone_constancy_weight, smooth_weight=smooth_weight, view_weight=view_weight,
                          prior_weight=prior_weight, shape_prior_weight=shape_prior_weight,
                          shape_prior_modes=shape_prior_modes,
                          distill_weight=distill_weight, ewc_weight=ewc_weight,
                          init_share=init_share, clip=clip, started_at=_process_started_at())
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

        bar = lazy_progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total}"),
                            TextColumn("loss {task.fields[loss]:.1f} mm · {task.fields[sps]:,.0f} samples/s · "
                                       "val {task.fields[val]}"), TimeElapsedColumn())
        last_val = {"v": "-"}
        # until the first step: a transient spinner while the data is read (gone without a trace if refused)
        status = err_console.status("reading the training data …")
        if not state.quiet:
            status.start()
        with bar:
            task = bar.add_task("train", total=None, epoch=1, loss=0.0, sps=0.0, val="-")

            def on_step(r):
                status.stop()
                bar.update(task, completed=r["step"], total=r["steps"], epoch=r["epoch"] + 1, loss=r["loss"],
                           sps=r["samples_per_s"], val=last_val["v"])

            def on_epoch(r):
                last_val["v"] = f"MPJPE {r['val_mpjpe']:.1f} / P-MPJPE {r['val_p_mpjpe']:.1f} mm"
                bar.update(task, val=last_val["v"])
                if state.verbose:
                    bar.console.print(json.dumps(r))

            try:
                summary = run(cfg, on_step=on_step, on_epoch=on_epoch, resume=resume)
            finally:
                status.stop()
    if summary["best_epoch"] < 0:  # stopped before the first epoch ended: no model yet, only the resume state
        from .common import say

        say(f"[bold yellow]stopped[/] ({summary['stopped']}) before the first epoch ended: no model written yet; "
            f"the resumable state is in {last_path(output)} (continue with --resume)")
        return
    if not state.quiet:
        how = "" if summary["stopped"] == "done" else f" ({summary['stopped'].replace('_', ' ')})"
        err_console.print(f"[bold]done[/]{how}: {summary['epochs_done']} epochs, best val MPJPE "
                          f"{summary['best_val_mpjpe']:.1f} mm at epoch {summary['best_epoch']}, "
                          f"{summary['samples_per_s']:,.0f} samples/s → {output}")
