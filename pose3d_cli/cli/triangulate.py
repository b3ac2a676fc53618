"""`pose3d triangulate cam01.mp4 cam02.mp4 ... --calib Calib.qca.txt -o ref.npz`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import numpy as np
import typer
from rich.table import Table

from .app import app
from .common import check_outputs, err_console, say, state, user_errors


@app.command()
def triangulate(
    inputs: list[str] = typer.Argument(..., help="One video or 2D keypoint file per calibrated camera (the camera "
                                                 "is the one whose name is in the file name, or --cameras)."),
    calib: Path = typer.Option(..., "--calib", help="Calibration: Qualisys .qca.txt, pose3d rig JSON, or "
                                                    "anipose/Pose2Sim .toml."),
    output: Path = typer.Option(..., "--output", "-o", help="Reference .npz (world mm, Z up; `pose3d synth` and "
                                                              "`pose3d score` read it)."),
    cameras: Optional[str] = typer.Option(None, "--cameras", help="Camera names for the inputs, in order, "
                                                                  "comma-separated (default: from the file names)."),
    threshold: float = typer.Option(20.0, min=0.1, help="View rejection: drop a view whose reprojection error "
                                                         "exceeds this (px) while more than two remain."),
    min_conf: float = typer.Option(0.3, min=0.0, max=1.0, help="2D confidence below which a joint is not used."),
    max_offset: Optional[int] = typer.Option(None, min=0, help="Largest sync offset searched between views, frames "
                                             "(default: 3 s of video, at most a quarter of the clip; 0: the views "
                                             "are synchronised)."),
    offsets: Optional[str] = typer.Option(None, "--offsets", help="Known sync offsets, frames, one per view, the first 0 "
                                           "(view k's frame t + offset shows the first view's frame t; e.g. from a "
                                           "clap): used as given, not searched."),
    fix_swaps: bool = typer.Option(True, "--fix-swaps/--no-fix-swaps", help="Repair per-view left/right swaps."),
    detector: Literal["full", "lite"] = typer.Option("full", help="Built-in BlazePose model for videos: full or lite."),
) -> None:
    """Triangulate calibrated views into a 3D reference (robust DLT, swap repair, view rejection, sync offsets)."""
    from ..errors import Pose3dError
    from ..multiview.reference import triangulate_files
    from ..multiview.triangulate import TWO_VIEW_THRESHOLD_FACTOR, sync_notes

    with user_errors():
        check_outputs([*inputs, calib], [output])
        if output.suffix.lower() != ".npz":
            raise Pose3dError(f"{output}: -o writes a reference .npz; give a file name ending in .npz")
        names = [c.strip() for c in cameras.split(",")] if cameras else None
        from ..multiview.reference import parse_offsets

        known = parse_offsets(offsets, len(inputs))
        s = triangulate_files(inputs, str(calib), str(output), names, threshold, min_conf, max_offset, fix_swaps,
                              detector, on_view=lambda p: say(f"detecting {Path(p).name} ...", 1), offsets=known)
    if state.quiet:
        return
    tri = s.tri
    limbs = s.limb_joints()
    t = Table(title=f"pose3d triangulate → {output} ({s.frames} frames, reprojection error in px over the "
                    f"{len(limbs)} limb joints)", title_justify="left")
    for c in ("view", "camera", "sync offset", "swapped frames", "median px", "mean px", "rejected"):
        t.add_column(c, justify="left" if c in ("view", "camera") else "right")
    for v, (f, cam) in enumerate(zip(s.files, s.cameras)):
        det = np.isfinite(tri.error_px[v][:, limbs])
        rej = det & ~tri.used[v][:, limbs]
        used = s.limb_errors_px(v)
        t.add_row(Path(f).name, cam.name, f"{int(tri.offsets[v]):+d}", str(int(tri.swapped[v].any(-1).sum())),
                  f"{np.median(used):.1f}" if used.size else "-", f"{used.mean():.1f}" if used.size else "-",
                  f"{100 * rej.sum() / max(det.sum(), 1):.0f}%")
    err_console.print(t)
    j = Table(title="reprojection error per joint (px, mean over frames; views used only)", title_justify="left")
    j.add_column("joint")
    for cam in s.cameras:
        j.add_column(cam.name, justify="right")
    for k in limbs:
        cells = []
        for v in range(len(s.cameras)):
            e = tri.error_px[v][:, k][tri.used[v][:, k]]
            e = e[np.isfinite(e)]  # a frame beyond the other view's end (a sync offset) has no error
            cells.append(f"{e.mean():.1f}" if e.size else "-")
        j.add_row(s.source_names[k], *cells)
    err_console.print(j)
    missing = np.isnan(tri.joints[:, limbs]).any(-1).sum()
    if missing:
        say(f"{missing} limb joint-frames could not be triangulated (fewer than two views"
            + (f", or two that disagree by more than {TWO_VIEW_THRESHOLD_FACTOR:g} x --threshold" if len(s.cameras) == 2
               else "") + f"): NaN in {output}")
    for note in sync_notes(tri, [c.name for c in s.cameras]):
        say(note)
