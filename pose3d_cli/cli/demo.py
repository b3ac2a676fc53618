"""`pose3d demo`: the main job on an embedded input, to check an install in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app
from .common import check_outputs, out_console, state, user_errors

DEMO_INPUT = Path(__file__).resolve().parent.parent / "assets" / "demo_cam01_blazepose.csv"


EXAMPLES = """Examples:

  pose3d demo                         # writes demo_poses.csv here

  pose3d demo -o /tmp/demo.json

  pose3d demo --model model.onnx -o check.csv   # check an exported model"""


@app.command(epilog=EXAMPLES)
def demo(
    output: Path = typer.Option(Path("demo_poses.csv"), "--output", "-o", help="Where to write the 3D poses (.csv/.json/.bvh)."),
    model: Optional[str] = typer.Option(None, help="Checkpoint or .onnx (default: the shipped model)."),
) -> None:
    """Lift the embedded sample (real BlazePose 2D of a walking person, 100 frames) with the shipped model."""
    import numpy as np

    from ..infer.pipeline import InferOptions, infer_one

    with user_errors():
        from ..errors import Pose3dError

        if output.suffix.lower() not in (".csv", ".json", ".bvh"):  # demo has no --format to say it otherwise
            raise Pose3dError(f"{output}: the demo writes .csv, .json or .bvh; name the output with one of them")
        check_outputs([DEMO_INPUT, model], [output])
        opts = InferOptions(model=model, fov=None)
        s = infer_one(DEMO_INPUT, output, opts)
    if state.quiet:
        return
    out_console.print(f"[bold]pose3d demo[/]: {s.frames} frames ({s.detected} with a person) lifted in "
                      f"{s.seconds:.2f} s → {output}")
    if output.suffix.lower() == ".csv":
        import csv

        with open(output) as fh:
            rows = [r for r in csv.DictReader(fh) if r["detected"] == "1"]
        if rows:
            def pt(r, j):
                return np.array([float(r[f"{j}_{a}"]) for a in "xyz"])

            thigh = np.array([np.linalg.norm(pt(r, "left_hip") - pt(r, "left_knee")) for r in rows])
            out_console.print(f"left thigh length: {thigh.mean():.0f} mm ± {thigh.std():.0f} "
                              f"(coefficient of variation {100 * thigh.std() / thigh.mean():.1f}%)")
    if output.suffix.lower() in (".csv", ".json"):
        # one command per line, never wrapped (a log at 80 columns must still be copy-pasteable)
        out_console.print("next, the ergonomic risk of these poses:", soft_wrap=True)
        out_console.print(f"  pose3d ergo {output} --report demo_report.html", soft_wrap=True)
        out_console.print("on your own video:", soft_wrap=True)
        out_console.print("  pose3d ergo worker.mp4 --report report.html", soft_wrap=True)
