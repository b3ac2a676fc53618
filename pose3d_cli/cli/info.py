"""`pose3d info FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .app import app
from .common import out_console, user_errors


EXAMPLES = """Examples:

  pose3d info walk.bvh                 # skeleton, frames, fps, units

  pose3d info pairs.h5 model.pt        # a dataset's splits, a model's card

  pose3d info model.onnx --json"""


@app.command(epilog=EXAMPLES)
def info(
    files: list[Path] = typer.Argument(..., help="BVH, C3D, 3D-array (.npz/.h5), pose3d HDF5 or checkpoint (.pt) files."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Describe mocap, dataset and model files: skeleton/markers, frames, fps, units."""
    from ..describe import describe_file, jsonable

    with user_errors():
        results = {str(f): jsonable(describe_file(f)) for f in files}
    if as_json:
        typer.echo(json.dumps(results if len(files) > 1 else next(iter(results.values())), indent=2))
        return
    for name, d in results.items():
        table = Table(title=escape(name), show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for k, v in d.items():
            table.add_row(escape(k), escape(json.dumps(v) if isinstance(v, (dict, list)) else str(v)))
        out_console.print(table)
