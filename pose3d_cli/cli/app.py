"""The `pose3d` typer app: global options and the sub-commands."""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from .. import __version__
from .common import state

#: exit codes: 0 done, 1 internal error (a bug: rerun with -vv), 2 user error (the message says what to fix),
#: 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)
EXIT_INTERNAL, EXIT_USER, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143


class Pose3dGroup(TyperGroup):
    """The top-level group: no exception escapes a command as a traceback (unless -vv)."""

    def invoke(self, ctx):
        from typer.exceptions import Abort, Exit, TyperException

        from .. import atomic
        from ..errors import Pose3dError, Terminated
        from .common import fail, os_error_line

        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        mark = len(atomic.written)
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as e:  # a bad option value: one line, exit 2, like every other user error
            raise fail(usage_line(e, ctx.invoked_subcommand), EXIT_USER) from None
        except (Exit, Abort, TyperException):
            raise
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM through :func:`main`
            left = atomic.written[mark:]
            kept = ("completed before it and kept: " + ", ".join(map(str, left))) if left else "nothing was written"
            what = "terminated" if isinstance(e, Terminated) else "interrupted"
            detail = f" ({e})" if str(e) else ""
            raise fail(f"{what}{detail}; {kept}; no file is half-written",
                       EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED) from None
        except Exception as e:  # noqa: BLE001 - the one place that turns anything left into one line
            if state.verbose >= 2:
                import traceback

                traceback.print_exc()
            if isinstance(e, Pose3dError):
                raise fail(str(e), EXIT_USER) from None
            if isinstance(e, OSError):
                raise fail(os_error_line(e), EXIT_USER) from None
            if isinstance(e, MemoryError):
                raise fail(f"`pose3d {ctx.invoked_subcommand}` ran out of memory; use a smaller input (or fewer "
                           "samples) or a machine with more memory", EXIT_USER) from None
            first = str(e).splitlines()[0][:200] if str(e) else ""
            raise fail(f"internal error in `pose3d {ctx.invoked_subcommand}` ({type(e).__name__}: {first}); this is "
                       "a bug: rerun with -vv for the traceback and report it", EXIT_INTERNAL) from None


def usage_line(e, command: str | None) -> str:
    """A click usage error as one line: what is wrong with which option, and where the help is."""
    msg = " ".join(e.format_message().split())
    msg = msg.replace("Value error, ", "").replace("Input should be ", "must be ")
    where = f"pose3d {command}" if command else "pose3d"
    for flag in ("-q", "--quiet", "-v", "-vv", "--verbose", "--version"):  # the global options, after a command
        if command and msg.rstrip(".").endswith(f"No such option: {flag}"):
            return f"{msg.rstrip('.')}; {flag} is an option of pose3d itself: give it before the command " \
                   f"(`pose3d {flag} {command} ...`)"
    return f"{msg.rstrip('.')}; see `{where} --help`"


app = typer.Typer(
    cls=Pose3dGroup,
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
    native_log_levels(verbose)


def native_log_levels(verbose: int) -> None:
    """Keep the native libraries' own log lines (OpenCV, its FFmpeg backend, MediaPipe's glog) off the terminal
    unless ``-v`` is given; they read these variables when they are first imported (commands import them lazily,
    after this runs). A value the user set in the environment is kept."""
    import os

    if verbose >= 1:
        return
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _register() -> None:
    from . import calibrate, demo, ergo, evaluate, info, infer, score, synth, train, triangulate  # noqa: F401  (each module adds its command to `app`)
    from . import continual  # noqa: F401  (eval-continual)
    from . import adapt  # noqa: F401  (adapt)

    import importlib

    try:
        importlib.import_module(f"{__package__}.export")
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.export":
            raise


_register()


def _terminate(signum, frame):
    from ..errors import Terminated

    raise Terminated("SIGTERM")


def main() -> None:
    """The `pose3d` script: SIGTERM is handled like Ctrl-C (one line, exit 143, nothing half-written)."""
    import signal

    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        pass
    try:
        app()
    except KeyboardInterrupt as e:  # outside a command (while parsing options)
        from ..errors import Terminated

        sys.exit(EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED)
