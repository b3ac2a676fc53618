"""`pose3d calibrate left.mp4 right.mp4 -o rig.json`: two phones calibrated from the worker they film."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app
from .common import check_outputs, option, say, state, user_errors


@app.command()
def calibrate(
    inputs: list[str] = typer.Argument(..., help="Two videos (or 2D keypoint files) of the same worker, one per phone, "
                                                 "filmed at the same time; each camera is named after its file."),
    output: Path = typer.Option(..., "--output", "-o", help="Rig JSON (world mm, Z up) for `pose3d ergo A B --calib` "
                                                              "and `pose3d triangulate`."),
    fov: Optional[float] = option(None, min=20.0, max=120.0, help="Both phones' field of view across the long side, "
                                  "degrees (default: found from the first video's scene lines, else 65: a phone's "
                                  "main camera)."),
    person_height: float = option(170.0, min=100.0, max=250.0, help="The worker's height, cm: sets the scale "
                                                                     "(angles do not depend on it)."),
    max_offset: Optional[int] = typer.Option(None, min=0, help="Largest sync offset searched, frames (default: 3 s "
                                             "of video, at most a quarter of the clip; 0: filmed in sync)."),
    detector: str = typer.Option("full", help="Built-in BlazePose model for videos: full or lite."),
) -> None:
    """Calibrate two phones from the worker's own joints (no board): relative pose, sync, scale, vertical."""
    from ..errors import Pose3dError
    from ..multiview.selfcal_files import calibrate_files

    with user_errors():
        check_outputs(inputs, [output])
        if output.suffix.lower() != ".json":
            raise Pose3dError(f"{output}: -o writes a rig .json; give a file name ending in .json")
        if len(inputs) != 2:
            raise Pose3dError(f"{len(inputs)} input{'s' if len(inputs) != 1 else ''}: calibrate takes two videos, one per "
                              "phone, of the same worker")
        if detector not in ("full", "lite"):
            raise Pose3dError(f"--detector {detector!r}: use full or lite")
        r = calibrate_files(inputs, str(output), fov, person_height * 10.0, max_offset, detector,
                            on_view=lambda p: say(f"detecting {Path(p).name} ...", 1))
    if state.quiet:
        return
    a, b = r.cameras
    say(f"{output}: cameras {a.name} and {b.name}, {r.correspondences} joint correspondences, median epipolar "
        f"distance {r.residual_px:.1f} px, bone-length CV {100 * r.bone_cv:.1f}%; sync: {b.name}'s frame t "
        f"{r.offset:+d} shows {a.name}'s frame t; vertical from {r.up_from}")
    for n in r.notes:
        say(f"note: {n}")
