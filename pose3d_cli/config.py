"""Reading the small YAML/JSON files users hand to pose3d (mappings, camera ranges, corruption rates)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import Pose3dError


def read_config(path: str | Path, what: str) -> object:
    """Parse ``path`` as YAML (``.yaml``/``.yml``) or JSON; any failure is one :class:`Pose3dError` line
    naming the file and ``what`` it should hold."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise Pose3dError(f"{path}: cannot read {what} ({e.strerror})") from None
    except UnicodeDecodeError:
        from .filekind import BINARY, file_kind

        kind = file_kind(path)
        if kind in (None, BINARY) and b"\0" not in path.read_bytes()[:1024]:  # text in another encoding (Latin-1)
            raise Pose3dError(f"{path}: not UTF-8 text; {what} is YAML/JSON text: save it as UTF-8") from None
        raise Pose3dError(f"{path}: holds {kind}, not {what} (YAML/JSON text); give the YAML/JSON file") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text) or {}
        return json.loads(text)
    except Exception as e:  # noqa: BLE001 - every parse error becomes one clear line
        raise Pose3dError(f"{path}: cannot read {what}: not valid YAML/JSON ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None


def is_number(v) -> bool:
    """A finite real number as a config file gives one (an int or float; not a bool, a string or NaN)."""
    import math

    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
