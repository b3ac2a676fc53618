"""Writing user-facing outputs completely or not at all.

Every output goes to a temporary file beside its target (``mkstemp``: a unique name, never a guessed one) and is
renamed into place when complete; the file gets the mode a normal ``open()`` would give it (``0666 & ~umask``;
``mkstemp`` alone leaves 0600). An error while writing names the real target, never the temporary file.
Completed outputs are noted in :data:`written` so that an interrupted command can say truthfully what it left.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

#: outputs completed by this process, in order (a command reads it to report what an interruption left)
written: list[Path] = []


def note_written(path: str | Path) -> None:
    """Record a completed output (also for files appended to, such as a training log)."""
    p = Path(path)
    if p not in written:
        written.append(p)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode ``open()`` gives a new file here: ``0666 & ~umask``."""
    return 0o666 & ~_umask()


def _renamed(e: OSError, tmp: Path, path: Path) -> OSError:
    """The same error naming ``path`` instead of the temporary file."""
    if e.filename is None or Path(e.filename) == tmp or Path(str(e.filename)).name.startswith(f".{path.name}."):
        return type(e)(e.errno, e.strerror or str(e), str(path)) if e.errno else OSError(f"{path}: {e}")
    return e


@contextlib.contextmanager
def atomic_target(path: str | Path, keep_suffix: bool = True):
    """Yield a temporary path beside ``path``; when the block completes, rename it to ``path`` with normal file
    permissions; on any error remove it. ``keep_suffix``: the temporary name ends like ``path`` (writers that
    pick the format from the extension: OpenCV, torch.export).

    Raises:
        OSError: naming ``path`` (not the temporary file) when the folder is not writable or the write fails.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".part{path.suffix}" if keep_suffix else ".part",
                                    dir=folder)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            yield tmp
            os.chmod(tmp, default_mode())
            os.replace(tmp, path)
        except OSError as e:
            raise _renamed(e, tmp, path) from None
        note_written(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write ``text`` to ``path`` via a temporary file renamed when complete; ``-`` writes to stdout."""
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with atomic_target(path) as tmp:
        tmp.write_text(text)
