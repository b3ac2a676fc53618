"""Reading the small YAML/JSON files users hand to pose3d (mappings, camera ranges, corruption rates)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
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

            return yaml.load(text, Loader=yaml_loader()) or {}
        return json.loads(text)
    except Exception as e:  # noqa: BLE001 - every parse error becomes one clear line
        raise Pose3dError(f"{path}: cannot read {what}: not valid YAML/JSON ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None


#: a plain scalar in exponent form that YAML 1.2 (and JSON) reads as a float but PyYAML's YAML 1.1 rules leave a
#: string: 5e-3, 5E+2, -2e-3, 1.5e3, .5e-1 (YAML 1.1 wants a dot and a signed exponent: 5.0e-3)
EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


@lru_cache(maxsize=1)
def yaml_loader() -> type:
    """PyYAML's safe loader that also reads :data:`EXPONENT_FLOAT` plain scalars as floats (``noise_sigma: 5e-3`` →
    0.005, as in YAML 1.2 and JSON). Quoted scalars stay strings (``'5e-3'``); every other rule is the safe loader's."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789."))
    return Loader


def is_number(v) -> bool:
    """A finite real number as a config file gives one (an int or float; not a bool, a string or NaN)."""
    import math

    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def setting_problem(name: str, value, default, ranges_non_negative: bool = True) -> str | None:
    """What a config file's setting ``name`` must be when ``value`` is not of its dataclass default's kind and
    range (``None`` when it is): a bool for a bool; ``[low, high]`` for a tuple (two numbers, >= 0 and low <= high
    with ``ranges_non_negative``); a probability in [0, 1] for a ``*_rate`` / ``*_prob`` number; else a number >= 0.
    One rule for every config dataclass (synth's corruption and camera sampling)."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, tuple):
        ok = isinstance(value, (list, tuple)) and len(value) == len(default) and all(is_number(x) for x in value)
        if ok and ranges_non_negative:
            ok = all(x >= 0 for x in value) and value[0] <= value[1]
        return None if ok else ("[low, high] (two numbers >= 0)" if ranges_non_negative else "[low, high] (two numbers)")
    if isinstance(default, (int, float)):
        if name.endswith(("_rate", "_prob")):
            return None if is_number(value) and 0 <= value <= 1 else "a probability in [0, 1]"
        return None if is_number(value) and value >= 0 else "a number >= 0"
    return None
