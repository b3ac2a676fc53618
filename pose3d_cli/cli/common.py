"""What every command shares: consoles, verbosity, and turning user errors into one line and exit code 2."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import Pose3dError
from ..filekind import BINARY, HDF5, TEXT, VIDEO, ZIP, file_kind

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
    err_console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True, emoji=False)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors():
    """Report pose3d errors and OS errors as one line on stderr and exit 2 (no traceback).

    Interruptions (Ctrl-C, SIGTERM) pass through to the app's handler (:mod:`.app`), which says what was left.
    """
    try:
        yield
    except Pose3dError as e:
        if state.verbose >= 2:
            import traceback

            traceback.print_exc()
        raise fail(str(e)) from None
    except OSError as e:
        if state.verbose >= 2:
            import traceback

            traceback.print_exc()
        raise fail(os_error_line(e)) from None


def os_error_line(e: OSError) -> str:
    """One line for an OS error: the file, what is wrong, what to do."""
    where = e.filename or ""
    what = e.strerror or str(e)
    hint = {errno.ENOSPC: "free some disk space or write elsewhere", errno.EACCES: "check the permissions or write elsewhere",
            errno.EROFS: "the file system is read-only; write elsewhere", errno.ENOENT: "check the path",
            errno.EISDIR: "give a file name, not a folder"}.get(e.errno or -1)
    line = f"{where}: {what}" if where else what
    return f"{line}; {hint}" if hint else line


def check_output_path(path: Path) -> None:
    """Fail early (before any work) when ``path`` cannot be written: no such folder, a folder given, or a folder
    where no file can be created (tried for real, so read-only mounts and /proc are caught)."""
    if str(path) == "-":
        return
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if str(path).endswith(os.sep) or path.is_dir():
        raise Pose3dError(f"{path}: is a folder; give a file name")
    if not parent.is_dir():
        raise Pose3dError(f"{path}: the folder {parent} does not exist; create it or choose another output path")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
    except OSError as e:
        raise Pose3dError(f"{path}: cannot write in {parent} ({e.strerror or e}); choose another output path") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise Pose3dError(f"{path}: exists and is not writable; choose another output path")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


#: what each output extension must hold (to refuse replacing, say, a video with a CSV)
_EXPECTED = {**dict.fromkeys((".csv", ".json", ".bvh", ".jsonl", ".txt", ".log", ".yaml", ".yml"), TEXT),
             **dict.fromkeys((".h5", ".hdf5"), HDF5), **dict.fromkeys((".pt", ".pt2", ".ts", ".torchscript"), ZIP),
             ".onnx": BINARY, ".npz": ZIP, **dict.fromkeys((".mp4", ".avi", ".mov", ".mkv"), VIDEO)}


def check_checkpoint_output(path: str | Path, what: str = "checkpoint") -> None:
    """Refuse an output path that is not ``.pt`` (the one checkpoint format), before any work: one line."""
    suffix = Path(path).suffix
    if suffix.lower() != ".pt":
        raise Pose3dError(f"{path}: the {what} is written as .pt (got {suffix or 'no suffix'}); for ONNX or "
                          "TorchScript run `pose3d export` on the .pt afterwards")


def check_outputs(inputs, outputs, force: bool = False, writes: dict | None = None) -> None:
    """Refuse, before any work, outputs that would destroy an input or collide with each other.

    Args:
        inputs: paths the command reads (files or folders; ``None``, ``-`` and ``camera:N`` are ignored).
        outputs: paths the command writes (``None`` and ``-`` are ignored); each is also checked for
            writability with :func:`check_output_path`.
        force: allow replacing an existing file of another kind than the output's extension says (a video
            where a CSV goes); never an input.
        writes: output path → the kind of file written there when not its extension's (``infer --format csv`` into
            ``x.pt``, a ``--log`` of any name: text), so an existing file of another kind is refused all the same.

    Raises:
        Pose3dError: one line naming the output, what is wrong and what to do.
    """
    ins = [Path(p) for p in inputs if p is not None and str(p) != "-" and not str(p).startswith("camera:")]
    outs = [Path(p) for p in outputs if p is not None and str(p) != "-"]
    for o in outs:
        for i in ins:
            inside = i.is_dir() and o.exists() and o.resolve().is_relative_to(i.resolve())
            if _same_file(o, i) or inside:
                raise Pose3dError(f"{o}: is also an input of this command ({i}); nothing was written; "
                                  "choose another output path")
    given = {Path(k): v for k, v in (writes or {}).items() if k is not None}
    for k, o in enumerate(outs):
        for o2 in outs[k + 1:]:
            if _same_file(o, o2):
                raise Pose3dError(f"{o}: given for two outputs; give each output its own path")
        check_output_path(o)
        expected = given.get(o) or _EXPECTED.get(o.suffix.lower())
        if not force and expected and o.is_file():
            kind = file_kind(o)
            if kind is not None and kind != expected:
                raise Pose3dError(f"{o}: exists and holds {kind}, not {expected} as written here; nothing was "
                                  "written; choose another output path (or delete the file first)")


def option(default, *decls, help: str = "", gt: float | None = None, lt: float | None = None, **kw):
    """``typer.Option`` with its range declared in one place: closed bounds through typer's ``min``/``max``
    (``--help`` shows ``[x>=0]``), open bounds (``gt``/``lt``: a learning rate, a frame rate) through a checking
    callback, shown the same way in ``--help``. Out-of-range values are usage errors (exit 2) before any work."""
    if gt is None and lt is None:
        return typer.Option(default, *decls, help=help, **kw)
    lo = f"{gt}<" if gt is not None else (f"{kw['min']}<=" if kw.get("min") is not None else "")
    hi = f"<{lt}" if lt is not None else (f"<={kw['max']}" if kw.get("max") is not None else "")
    text = f"{lo}x{hi}" if lo and hi else (f"x>{gt}" if lo else f"x<{lt}")

    def check(value):
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            if v is None:
                continue
            if (gt is not None and not v > gt) or (lt is not None and not v < lt):
                raise typer.BadParameter(f"{v} is not in the range {text}.")
        return value

    check.pose3d_range = text  # the walk test of every numeric option reads it
    return typer.Option(default, *decls, help=f"{help} \\[{text}]".strip(), callback=check, **kw)


def lazy_progress(*columns, **kw):
    """A rich ``Progress`` on stderr (hidden with --quiet) that is drawn from its first update, not when the ``with``
    block is entered: an input refused before any work leaves its one error line and no bar above it."""
    from rich.progress import Progress

    class LazyProgress(Progress):
        def __enter__(self):
            return self

        def update(self, *a, **k):
            super().update(*a, **k)  # first the values, then the first draw (not a frame of "0/None")
            if not self.disable and not self.live.is_started:
                self.start()

        def stop(self) -> None:
            if self.live.is_started:
                super().stop()

    return LazyProgress(*columns, console=err_console, disable=state.quiet, **kw)


def progress():
    """The progress bar of synth, infer and ergo (:func:`lazy_progress`: drawn from its first update)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return lazy_progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(), transient=False)


__all__ = ["option", "err_console", "out_console", "state", "say", "fail", "user_errors", "check_output_path", "check_outputs", "file_kind", "os_error_line",
           "progress", "lazy_progress"]
