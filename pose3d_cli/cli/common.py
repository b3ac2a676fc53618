"""What every command shares: consoles, verbosity, and turning user errors into one line and exit code 2."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import Pose3dError

#: messages, progress and tables go to stderr; data (CSV on `-o -`, JSON) goes to stdout
err_console = Console(stderr=True)
out_console = Console()


class State:
    verbose: int = 0
    quiet: bool = False


state = State()


def say(msg: str, level: int = 0) -> None:
    """Print a message on stderr unless --quiet (level 1 needs -v)."""
    if not state.quiet and state.verbose >= level:
        err_console.print(msg)


def fail(msg: str, code: int = 2) -> typer.Exit:
    # escape: a path such as walk[fast].bvh must not be read as rich markup (it would print walk.bvh)
    err_console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors():
    """Report pose3d errors and OS errors as one line on stderr and exit 2 (no traceback)."""
    try:
        yield
    except Pose3dError as e:
        raise fail(str(e)) from None
    except OSError as e:
        where = e.filename or ""
        raise fail(f"{where}: {e.strerror or e}" if where else str(e)) from None
    except KeyboardInterrupt:
        raise fail("interrupted; nothing was written", code=130) from None


def check_output_path(path: Path) -> None:
    """Fail early (before any work) when ``path`` cannot be written."""
    if str(path) == "-":
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise Pose3dError(f"{path}: the folder {parent} does not exist; create it or choose another output path")
    if not os.access(parent, os.W_OK):
        raise Pose3dError(f"{path}: the folder {parent} is not writable; choose another output path")
    if path.is_dir():
        raise Pose3dError(f"{path}: is a folder; give a file name")


def progress():
    """A rich progress bar on stderr (hidden with --quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=state.quiet, transient=False)


__all__ = ["err_console", "out_console", "state", "say", "fail", "user_errors", "check_output_path", "progress"]
