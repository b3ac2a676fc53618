"""`pose3d adapt site_videos/ -o site.pt --init default.pt --replay pairs.h5 --fov 65`: learn a site's footage."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app
from .common import check_checkpoint_output, check_outputs, option, say, user_errors
from .infer import _size  # infer's --size WIDTHxHEIGHT parsing

EXAMPLES = """Examples:

  pose3d adapt site_videos/ -o site.pt --init default.pt --replay pairs.h5 --fov 65

  pose3d adapt cam01.mp4 cam02.mp4 -o site.pt --init default.pt --replay pairs.h5 --calib Calib.qca.txt --frames 0:50"""


def _frames(text: Optional[str]) -> Optional[tuple[int, int]]:
    if text is None:
        return None
    from ..errors import Pose3dError

    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise Pose3dError(f"--frames {text!r}: expected START:STOP, e.g. 0:50") from None
    if a < 0 or b <= a:
        raise Pose3dError(f"--frames {text!r}: need 0 <= START < STOP")
    return a, b


@app.command(epilog=EXAMPLES)
def adapt(
    inputs: list[Path] = typer.Argument(..., help="The site's videos or 2D keypoint files (CSV, COCO-style JSON), or "
                                                  "folders of them: no 3D needed."),
    output: Path = typer.Option(..., "--output", "-o", help="Adapted checkpoint (.pt)."),
    init: Path = typer.Option(..., "--init", help="The model to adapt (e.g. pose3d_cli/models/default.pt)."),
    replay: Path = typer.Option(..., "--replay", help="Synthetic pairs (HDF5) replayed so nothing is forgotten; also "
                                                      "the validation set and the prior's mocap poses."),
    fov: Optional[float] = typer.Option(None, min=1.0, max=179.0, help="Horizontal field of view (degrees across the "
                                                                     "long side)."),
    focal: Optional[float] = typer.Option(None, min=1.0, max=1e6, help="Focal length in px."),
    calib: Optional[Path] = typer.Option(None, "--calib", help="Calibration file; each input's camera is found by its "
                                                               "file name."),
    frames: Optional[str] = typer.Option(None, "--frames", help="START:STOP frames of each input to adapt on (e.g. a "
                                                                "dev split)."),
    size: Optional[str] = typer.Option(None, "--size", help="Image size WIDTHxHEIGHT of keypoint-file inputs (CSV, "
                                                            "JSON) that do not store it."),
    work_dir: Optional[Path] = typer.Option(None, "--work-dir", help="Where the detected 2D (CSV) goes (default: "
                                                                      "<output stem>_2d/)."),
    epochs: int = typer.Option(3, min=1, help="Passes over the replayed training split."),
    subsample: int = typer.Option(10, min=1, help="Use a random 1/N of the replayed frames each epoch."),
    lr: float = option(3e-4, gt=0.0, max=10.0, help="Peak learning rate."),
    site_weight: float = typer.Option(1.0, min=0.0, help="Weight of the site's 2D against the replayed pairs."),
    reproj_weight: float = typer.Option(1.0, min=0.0, help="Reprojection loss (root/depth solved)."),
    bone_constancy_weight: float = typer.Option(0.1, min=0.0, help="Bone lengths constant along a track."),
    smooth_weight: float = typer.Option(0.1, min=0.0, help="Accelerations beyond the mocap's."),
    prior_weight: float = typer.Option(0.05, min=0.0, help="Adversarial pose prior trained on the replayed mocap."),
    shape_prior_weight: float = typer.Option(0.0, min=0.0, help="Pose prior: the replayed mocap's linear shape "
                                             "space (as pose3d train --shape-prior-weight)."),
    distill_weight: float = typer.Option(1.0, min=0.0, help="Distance to the frozen --init model's prediction (LwF)."),
    init_share: float = typer.Option(0.0, min=0.0, max=0.95, help="The written model is (1 - s) x the adapted weights "
                                     "+ s x the --init weights (as pose3d train --init-share)."),
    max_minutes: Optional[float] = option(None, gt=0.0, help="Stop after this many minutes."),
    seed: int = typer.Option(0, min=0, max=2**63 - 1, help="Random seed."),
    threads: int = typer.Option(1, min=1, max=256, help="torch threads."),
    detector_model: Optional[Path] = typer.Option(None, "--detector-model", help="A MediaPipe .task file instead of "
                                                                                  "the shipped BlazePose."),
) -> None:
    """Adapt a lifter to a site from its own unlabelled footage: detect 2D, learn it with the 2D-only losses plus
    distillation from --init and replay of synthetic pairs."""
    from ..training.adapt import AdaptOptions, adapt as run

    with user_errors():
        from ..train import last_path

        wd = work_dir or output.with_name(output.stem + "_2d")
        reads = [*inputs, init, replay, calib, detector_model]
        outputs = [output, output.with_suffix(".jsonl"), last_path(output)]
        # an existing work folder is used as it is (checked below); a new one is checked with the outputs
        check_outputs(reads, outputs + ([] if wd.is_dir() else [wd]))
        _check_work_dir(wd, reads)
        check_checkpoint_output(output, "adapted checkpoint")
        opts = AdaptOptions(init=str(init), replay=str(replay), fov=fov, focal=focal, calib=str(calib) if calib else None,
                            frames=_frames(frames), site_weight=site_weight, reproj_weight=reproj_weight,
                            bone_constancy_weight=bone_constancy_weight, smooth_weight=smooth_weight,
                            prior_weight=prior_weight, shape_prior_weight=shape_prior_weight,
                            distill_weight=distill_weight, init_share=init_share,
                            epochs=epochs, subsample=subsample,
                            lr=lr, seed=seed, threads=threads, max_minutes=max_minutes,
                            detector_model=str(detector_model) if detector_model else None, size=_size(size))
        summary = run(inputs, output, opts, wd)
    say(f"wrote {output} ({summary['epochs_done']} epochs)", 1)


def _check_work_dir(wd: Path, reads: list) -> None:
    """An existing --work-dir folder, before any work: used as it is unless it is an input folder or not writable
    (a new folder is checked with the outputs; a file there is refused by the adapt run itself, before any work)."""
    import os

    from ..errors import Pose3dError

    if not wd.is_dir():
        return
    for r in reads:
        if r is not None and Path(r).is_dir() and os.path.samefile(r, wd):
            raise Pose3dError(f"{wd}: is also an input of this command ({r}); nothing was written; give --work-dir "
                              "another folder")
    if not os.access(wd, os.W_OK | os.X_OK):
        raise Pose3dError(f"{wd}: this folder is not writable; give --work-dir another folder")
