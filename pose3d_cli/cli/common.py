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


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_outputs(inputs, outputs, force: bool = False) -> None:
    """Refuse, before any work, outputs that would destroy an input or collide with each other.

    Args:
        inputs: paths the command reads (files or folders; ``None`` and ``-`` are ignored).
        outputs: paths the command writes (``None`` and ``-`` are ignored); each is also checked for
            writability with :func:`check_output_path`.
        force: allow replacing an existing output file (never an input).

    Raises:
        Pose3dError: one line naming the output, what is wrong and what to do.
    """
    ins = [Path(p) for p in inputs if p is not None and str(p) != "-"]
    outs = [Path(p) for p in outputs if p is not None and str(p) != "-"]
    for o in outs:
        for i in ins:
            if _same_file(o, i) or (i.is_dir() and o.resolve().is_relative_to(i.resolve()) and o.exists()):
                raise Pose3dError(f"{o}: is also an input of this command ({i}); choose another output path")
    for k, o in enumerate(outs):
        for o2 in outs[k + 1:]:
            if _same_file(o, o2):
                raise Pose3dError(f"{o}: given for two outputs; give each output its own path")
        check_output_path(o)
    del force  # reserved: commands that refuse to replace existing outputs check it themselves


def progress():
    """A rich progress bar on stderr (hidden with --quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=state.quiet, transient=False)


__all__ = ["err_console", "out_console", "state", "say", "fail", "user_errors", "check_output_path", "check_outputs", "progress"]
