"""`pose3d eval model.pt test.h5`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.table import Table

from .app import app
from .common import check_outputs, out_console, say, state, user_errors


def _table(title: str, rows: dict[str, dict], cols: list[str]) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("")
    for c in cols:
        t.add_column(c, justify="right")
    for name, r in rows.items():
        t.add_row(name, *[f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in cols])
    return t


EXAMPLES = """Examples:

  pose3d eval model.pt pairs.h5                      # the test split: tables on the terminal

  pose3d eval model.pt pairs.h5 --split val --json report.json --plots plots/

  pose3d eval model.pt pairs.h5 --sweep --max-samples 20000   # error vs 2D noise and occlusion"""


@app.command("eval", epilog=EXAMPLES)
def eval_cmd(
    model: Path = typer.Argument(..., help="Checkpoint (.pt)."),
    data: Path = typer.Argument(..., help="pose3d HDF5 of pairs."),
    split: Literal["test", "val", "train", "all"] = typer.Option("test", help="Which split of DATA."),
    sweep: bool = typer.Option(False, "--sweep", help="Error vs 2D noise and vs occluded-joint fraction."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full report as JSON ('-' for stdout)."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Folder for PNG plots."),
    max_samples: Optional[int] = typer.Option(None, min=1, help="Evaluate on about this many samples (whole "
                                                                "sequences; default: all)."),
    seed: int = typer.Option(0, min=0, help="Seed of the corruption used for occlusion and sweeps."),
    flip_tta: bool = typer.Option(True, "--flip-tta/--no-flip-tta", help="Average with the mirrored input (as infer does)."),
) -> None:
    """Evaluate a model: MPJPE, P-MPJPE, N-MPJPE, PCK3D@150 mm, AUC, with breakdowns."""
    from ..atomic import write_text_atomic
    from ..errors import Pose3dError
    from ..evaluate import evaluate, write_plots

    with user_errors():
        from ..evaluate import PLOT_FILES

        if plots is not None and plots.exists() and not plots.is_dir():
            raise Pose3dError(f"{plots}: --plots takes a folder (PNG files are written into it); give a folder")
        check_outputs([model, data], [json_out, *([plots / f for f in PLOT_FILES] if plots and plots.is_dir() else [])])
        if plots is not None and not plots.exists():  # a new folder: its parent must be writable
            check_outputs([model, data], [plots])
        report = evaluate(model, data, split=split, sweep=sweep, seed=seed, max_samples=max_samples,
                          flip_tta=flip_tta)
        if json_out:
            write_text_atomic(json.dumps(report, indent=2) + "\n", json_out)
        if plots:
            for p in write_plots(report, plots):
                say(f"wrote {p}", 1)
    if state.quiet or str(json_out) == "-":
        return
    cols = ["mpjpe", "p_mpjpe", "n_mpjpe", "pck150", "auc"]
    if report.get("note"):
        say(f"note: {report['note']}", 0)
    out_console.print(_table(f"{model.name} on {data.name} [{split}: {report['samples']} pairs] (mm; PCK/AUC %)",
                             report["conditions"], cols))
    out_console.print(_table(f"per joint ({report['stored_2d']} 2D stored in the file)", report["per_joint"],
                             ["mpjpe", "p_mpjpe"]))
    for key in ("per_action", "per_elevation", "per_subject"):
        out_console.print(_table(f"{key.replace('_', ' ')} ({report['stored_2d']} 2D)", report[key],
                                 ["mpjpe", "p_mpjpe", "samples"]))
    if sweep:
        out_console.print(_table("error vs 2D noise σ", {f"{r['sigma']:.2f}": r for r in report["sweep"]["noise"]}, cols))
        out_console.print(_table("error vs occluded fraction",
                                 {f"{r['fraction']:.1f}": r for r in report["sweep"]["occlusion"]}, cols))
