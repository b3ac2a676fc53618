"""Writing user-facing text outputs completely or not at all."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write ``text`` to ``path`` via a temporary file renamed when complete; ``-`` writes to stdout."""
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
