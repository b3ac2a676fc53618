"""The `pose3d` typer app: global options and the sub-commands."""

from __future__ import annotations

import typer

from .. import __version__
from .common import state

app = typer.Typer(
    name="pose3d",
    help="3D human pose from a single camera: synthesise training pairs from mocap, train lifting networks, "
         "evaluate them, and lift videos to per-frame 3D joints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pose3d {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More detail (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars or tables."),
) -> None:
    state.verbose = verbose
    state.quiet = quiet


def _register() -> None:
    from . import demo, ergo, evaluate, info, infer, score, synth, train, triangulate  # noqa: F401  (each module adds its command to `app`)
    from . import continual  # noqa: F401  (eval-continual)

    import importlib

    try:
        importlib.import_module(f"{__package__}.export")
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.export":
            raise


_register()


def main() -> None:
    app()
