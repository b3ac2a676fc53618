"""`pose3d eval-continual v1.pt v2.pt … --task t1.h5 --task t2.h5 …`: forgetting, measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.table import Table

from .app import app
from .common import check_outputs, out_console, say, state, user_errors


@app.command("eval-continual")
def eval_continual(
    models: list[Path] = typer.Argument(..., help="Checkpoints in learning order: the i-th has learnt tasks 1..i."),
    task: list[Path] = typer.Option(..., "--task", help="Task pairs file (repeatable, in learning order)."),
    baseline: list[Path] = typer.Option([], "--baseline", help="A second sequence (e.g. naive fine-tuning), one "
                                                               "model per task, for the same table."),
    joint: Optional[Path] = typer.Option(None, "--joint", help="One model trained on all tasks at once (intransigence, "
                                                               "full-retrain wall time)."),
    split: Literal["test", "val", "train", "all"] = typer.Option("test", help="Held-out split of each task: test, val, train or all."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the report as JSON ('-' for stdout)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="PNG of the accuracy matrices."),
    flip_tta: bool = typer.Option(True, "--flip-tta/--no-flip-tta", help="Average with the mirrored input (as infer does)."),
) -> None:
    """Continual learning: accuracy matrix M[i, j] (P-MPJPE on task j after learning task i), average forgetting,
    intransigence against joint training, and the wall time of each update against a full retrain."""
    from ..atomic import write_text_atomic
    from ..training.continual import continual_report, report_table, write_plot

    with user_errors():
        check_outputs([*models, *task, *baseline, joint], [json_out, plot])
        if plot is not None and plot.suffix.lower() != ".png":
            from ..errors import Pose3dError

            raise Pose3dError(f"{plot}: --plot writes a PNG image; give a file name ending in .png")
        report = continual_report([str(m) for m in models], [str(t) for t in task], str(joint) if joint else None,
                                  [str(b) for b in baseline] or None, split, flip_tta)
        if json_out:
            write_text_atomic(json.dumps(report, indent=2) + "\n", json_out)
        if plot:
            say(f"wrote {write_plot(report, plot)}", 1)
    if state.quiet or str(json_out) == "-":
        return
    names = [t.stem for t in task]
    for name, s in report["sequences"].items():
        t = Table(title=f"{name}: P-MPJPE (mm) on each task's {split} split after learning task i", title_justify="left")
        t.add_column("after")
        for n in names:
            t.add_column(n, justify="right")
        t.add_column("wall s", justify="right")
        for i, row in enumerate(s["matrix"]):
            w = s["wall_s"][i]
            t.add_row(f"{i + 1}", *[f"{v:.1f}" for v in row], "-" if w is None else f"{w:.0f}")
        if report.get("joint"):
            w = report["joint"]["wall_s"]
            t.add_row("joint", *[f"{v:.1f}" for v in report["joint"]["errors"]], "-" if w is None else f"{w:.0f}")
        out_console.print(t)
    rows = report_table(report)
    t = Table(title="continual learning summary", title_justify="left")
    for c in rows[0]:
        t.add_column(c, justify="right")
    for r in rows[1:]:
        t.add_row(*r)
    out_console.print(t)
