"""ASF/AMC reader (Acclaim skeleton + motion: CMU's native format, HDM05) with vectorised forward kinematics.

Conventions (Acclaim ASF/AMC, as CMU and HDM05 write them):

- ASF ``:units``: ``length L`` means a length value ``v`` is ``v / L`` inches (CMU and HDM05: ``L = 0.45``);
  ``angle deg | rad``. Root translations in the AMC are in the same length unit.
- Each bone has a rest ``direction`` (unit vector in the *world* frame), a ``length`` and an ``axis a b c ORDER``:
  the bone's local frame ``C`` relative to the world at rest.
- An AMC frame gives, per bone, the values of its ``dof`` line in that order. Rotations compose in the order
  they are listed, the first listed applied first: ``dof rx ry rz`` → ``M = Rz(rz) Ry(ry) Rx(rx)``; the axis
  ``XYZ`` → ``C = Rz(c) Ry(b) Rx(a)``; the root ``order TX TY TZ RX RY RZ`` likewise.
- Forward kinematics: ``L = C M C⁻¹``, ``G_bone = G_parent L``, ``end = start + length · G_bone · direction``;
  the root's ``G`` is ``C_root M_root C_root⁻¹`` and its position the AMC translation.

The Motion holds the root and each bone's *end* point, named after the bone (``lfemur`` is the knee,
``lradius`` the wrist); mm, world Z up (ASF/AMC are Y up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..geometry import euler_to_matrix
from .motion import MocapError, Motion

INCH_MM = 25.4
AMC_FPS = 120.0  # CMU and HDM05 record at 120 Hz; AMC files do not store their rate


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray  # (3,) unit, world frame at rest
    length: float  # file units
    axis: np.ndarray  # (3,) angles, file angle unit
    axis_order: str  # e.g. "XYZ"
    dof: list[str] = field(default_factory=list)  # e.g. ["rx", "ry", "rz"]


@dataclass
class AsfSkeleton:
    """A parsed ASF file. ``bones`` in topological order (each parent before its children)."""

    bones: list[AsfBone]
    parents: list[int]  # index into bones; -1 for a child of the root
    length_unit: float = 1.0  # ``:units length``
    degrees: bool = True
    root_order: list[str] = field(default_factory=lambda: ["tx", "ty", "tz", "rx", "ry", "rz"])
    root_axis_order: str = "XYZ"
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    root_orientation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    name: str = ""

    def mm_per_unit(self) -> float:
        return INCH_MM / self.length_unit


def _floats(tokens: list[str], n: int, what: str, path: str) -> np.ndarray:
    try:
        vals = [float(t) for t in tokens[:n]]
    except ValueError:
        vals = []
    if len(vals) != n:
        raise MocapError(f"{path}: {what} needs {n} numbers, got {' '.join(tokens)!r}; the ASF file is damaged")
    return np.array(vals)


def _ordered_rotation(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotations composed in listed order, first listed applied first: (..., K) angles (rad) → (..., 3, 3).

    ``order="XYZ"`` gives ``Rz @ Ry @ Rx``.
    """
    return euler_to_matrix(np.rad2deg(angles[..., ::-1]), order[::-1])


def read_asf(path: str | Path) -> AsfSkeleton:
    """Parse an ASF skeleton file."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        raise MocapError(f"{path}: cannot read ({e.strerror}); check the path and permissions") from None
    try:
        return _parse_asf(text, path)
    except (IndexError, ValueError, KeyError) as e:
        if isinstance(e, MocapError):
            raise
        raise MocapError(f"{path}: malformed ASF ({type(e).__name__}: {e}); the file is damaged") from None


def _parse_asf(text: str, path: Path) -> AsfSkeleton:
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            head, _, rest = line[1:].partition(" ")
            current = head.lower()
            sections.setdefault(current, [])
            if rest.strip():
                sections[current].append(rest.split())
            continue
        if current is not None:
            sections[current].append(line.split())
    if "bonedata" not in sections or "hierarchy" not in sections:
        raise MocapError(f"{path}: not an ASF skeleton (no :bonedata or :hierarchy section); "
                         "give the .asf file that goes with the .amc")
    sk = AsfSkeleton([], [], name=" ".join(sections.get("name", [[""]])[0]))
    for toks in sections.get("units", []):
        key = toks[0].lower()
        if key == "length" and len(toks) > 1:
            sk.length_unit = float(_floats(toks[1:], 1, ":units length", str(path))[0])
            if sk.length_unit <= 0:
                raise MocapError(f"{path}: ':units length' must be positive, got {sk.length_unit}")
        elif key == "angle" and len(toks) > 1:
            if toks[1].lower() not in ("deg", "rad"):
                raise MocapError(f"{path}: ':units angle' must be deg or rad, got {toks[1]!r}")
            sk.degrees = toks[1].lower() == "deg"
    for toks in sections.get("root", []):
        key = toks[0].lower()
        if key == "order":
            sk.root_order = [t.lower() for t in toks[1:]]
        elif key == "axis":
            sk.root_axis_order = toks[1].upper() if len(toks) > 1 else "XYZ"
        elif key == "position":
            sk.root_position = _floats(toks[1:], 3, "root position", str(path))
        elif key == "orientation":
            sk.root_orientation = _floats(toks[1:], 3, "root orientation", str(path))
    bad = [c for c in sk.root_order if c not in ("tx", "ty", "tz", "rx", "ry", "rz")]
    if bad:
        raise MocapError(f"{path}: root order holds {bad}; only TX TY TZ RX RY RZ are valid")
    bones: dict[str, AsfBone] = {}
    cur: dict | None = None
    for toks in sections["bonedata"]:
        key = toks[0].lower()
        if key == "begin":
            cur = {}
        elif key == "end":
            if cur is None or "name" not in cur:
                raise MocapError(f"{path}: a bone without a name in :bonedata; the ASF file is damaged")
            bones[cur["name"]] = AsfBone(cur["name"], cur.get("direction", np.zeros(3)), cur.get("length", 0.0),
                                         cur.get("axis", np.zeros(3)), cur.get("axis_order", "XYZ"),
                                         cur.get("dof", []))
            cur = None
        elif cur is None:
            continue
        elif key == "name":
            cur["name"] = toks[1]
        elif key == "direction":
            d = _floats(toks[1:], 3, "bone direction", str(path))
            n = np.linalg.norm(d)
            cur["direction"] = d / n if n > 0 else d
        elif key == "length":
            cur["length"] = float(_floats(toks[1:], 1, "bone length", str(path))[0])
        elif key == "axis":
            cur["axis"] = _floats(toks[1:], 3, "bone axis", str(path))
            order = toks[4].upper() if len(toks) > 4 else "XYZ"
            if sorted(order) != ["X", "Y", "Z"]:
                raise MocapError(f"{path}: bone {cur.get('name')}: axis order {order!r} is not a permutation of XYZ")
            cur["axis_order"] = order
        elif key == "dof":
            dof = [t.lower() for t in toks[1:]]
            bad = [d for d in dof if d not in ("rx", "ry", "rz", "tx", "ty", "tz", "l")]
            if bad:
                raise MocapError(f"{path}: bone {cur.get('name')}: unknown dof {bad}; the ASF file is damaged")
            cur["dof"] = dof
    children: dict[str, list[str]] = {}
    for toks in sections["hierarchy"]:
        if toks[0].lower() in ("begin", "end"):
            continue
        children.setdefault(toks[0], []).extend(toks[1:])
    order: list[str] = []
    parents: list[int] = []
    stack = [(c, -1) for c in reversed(children.get("root", []))]
    while stack:
        name, parent = stack.pop()
        if name not in bones:
            raise MocapError(f"{path}: :hierarchy names bone {name!r} that :bonedata does not define")
        if name in order:
            raise MocapError(f"{path}: bone {name!r} appears twice in :hierarchy; the ASF file is damaged")
        order.append(name)
        parents.append(parent)
        me = len(order) - 1
        stack.extend((c, me) for c in reversed(children.get(name, [])))
    if not order:
        raise MocapError(f"{path}: :hierarchy has no bones under root; the ASF file is damaged")
    sk.bones = [bones[n] for n in order]
    sk.parents = parents
    return sk


def read_amc_frames(path: str | Path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Parse an AMC file → {bone or "root": (T, K) values in file units/angles}, K = its dof count."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        raise MocapError(f"{path}: cannot read ({e.strerror}); check the path and permissions") from None
    try:
        return _parse_amc(text, path, skeleton)
    except (IndexError, ValueError, KeyError) as e:
        if isinstance(e, MocapError):
            raise
        raise MocapError(f"{path}: malformed AMC ({type(e).__name__}: {e}); the file is damaged") from None


def _parse_amc_regular(text: str, width: dict[str, int]) -> dict[str, np.ndarray] | None:
    """Fast path: every frame lists the same bones in the same order (as CMU and HDM05 write them); the values
    are parsed in one numpy call. None when the file is not that regular (the general parser then decides)."""
    m = re.search(r"(?m)^\s*\d+\s*$", text)
    if m is None:
        return None
    body = text[m.start():]
    if re.search(r"(?m)^\s*[#:]", body):
        return None
    names_all = re.findall(r"(?m)^\s*([A-Za-z_]\S*)", body)
    first = re.search(r"(?m)^\s*\d+\s*$", body[m.end() - m.start():])
    n_first = len(re.findall(r"(?m)^\s*([A-Za-z_]\S*)", body[:m.end() - m.start() + first.start()])) \
        if first else len(names_all)
    names = names_all[:n_first]
    if not names or any(n not in width for n in names) or len(set(names)) != len(names):
        return None
    if len(names_all) % len(names) or names_all != names * (len(names_all) // len(names)):
        return None
    T = len(names_all) // len(names)
    try:
        flat = np.array(re.sub(r"(?m)^\s*[A-Za-z_]\S*", " ", body).split(), dtype=np.float64)
    except ValueError:
        return None
    n = sum(width[nm] for nm in names)
    if flat.size != T * (1 + n):
        return None
    flat = flat.reshape(T, 1 + n)
    if not np.array_equal(flat[:, 0], np.arange(flat[0, 0], flat[0, 0] + T)):
        return None
    out, col = {}, 1
    for nm in names:
        out[nm] = flat[:, col:col + width[nm]]
        col += width[nm]
    return out


def _parse_amc(text: str, path: Path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    width = {"root": len(skeleton.root_order), **{b.name: len(b.dof) for b in skeleton.bones}}
    fast = _parse_amc_regular(text, width)
    if fast is not None and all(np.all(np.isfinite(v)) for v in fast.values()):
        return {k: v for k, v in fast.items() if width[k]}
    rows: dict[str, list[list[str]]] = {k: [] for k in width}
    n_frames = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(":"):
            continue
        toks = line.split()
        if len(toks) == 1 and re.fullmatch(r"\d+", toks[0]):
            n_frames += 1
            continue
        if n_frames == 0:
            raise MocapError(f"{path}: values before the first frame number; not an AMC motion file")
        name = toks[0]
        if name not in width:
            raise MocapError(f"{path}: frame {n_frames} names bone {name!r} that the ASF does not define; "
                             "is this the ASF of this AMC?")
        if len(toks) - 1 != width[name]:
            raise MocapError(f"{path}: frame {n_frames}: bone {name} has {len(toks) - 1} values, its ASF dof "
                             f"line declares {width[name]}; is this the ASF of this AMC?")
        rows[name].append(toks[1:])
    if n_frames == 0:
        raise MocapError(f"{path}: the file holds 0 frames; nothing to read")
    out = {}
    for name, r in rows.items():
        if not width[name]:
            continue
        if len(r) != n_frames:
            raise MocapError(f"{path}: bone {name} is given in {len(r)} of {n_frames} frames; the file is "
                             "damaged or truncated")
        try:
            arr = np.array(r, dtype=np.float64)
        except ValueError:
            raise MocapError(f"{path}: bone {name} holds non-numbers; the file is damaged") from None
        if not np.all(np.isfinite(arr)):
            raise MocapError(f"{path}: bone {name} holds NaN or infinite values; clean the file first")
        out[name] = arr
    return out


def forward_kinematics(skeleton: AsfSkeleton, frames: dict[str, np.ndarray]) -> np.ndarray:
    """Root and bone end positions, file units and axes.

    Args:
        skeleton: parsed ASF.
        frames: per bone (and ``"root"``) its (T, K) AMC values in dof order.
    Returns:
        (T, 1 + B, 3): the root, then each bone's end, in ``skeleton.bones`` order.
    """
    to_rad = np.pi / 180.0 if skeleton.degrees else 1.0
    root = frames["root"]
    T = root.shape[0]
    pos = np.tile(skeleton.root_position.astype(np.float64), (T, 1))
    rot_cols = [(c[1].upper(), k) for k, c in enumerate(skeleton.root_order) if c[0] == "r"]
    for k, c in enumerate(skeleton.root_order):
        if c[0] == "t":
            pos[:, "xyz".index(c[1])] = root[:, k]
    C = _ordered_rotation(skeleton.root_orientation * to_rad, skeleton.root_axis_order)
    if rot_cols:
        M = _ordered_rotation(root[:, [k for _, k in rot_cols]] * to_rad, "".join(a for a, _ in rot_cols))
    else:
        M = np.broadcast_to(np.eye(3), (T, 3, 3))
    root_G = C @ M @ C.T
    B = len(skeleton.bones)
    G = np.empty((T, B, 3, 3))
    end = np.empty((T, B, 3))
    for b, bone in enumerate(skeleton.bones):
        p = skeleton.parents[b]
        parent_G = root_G if p < 0 else G[:, p]
        start = pos if p < 0 else end[:, p]
        rots = [(d[1].upper(), k) for k, d in enumerate(bone.dof) if d[0] == "r"]
        moving = [k for k, d in enumerate(bone.dof) if d[0] != "r"]  # tx ty tz l: bones that stretch or slide
        if moving and bone.name in frames and np.any(frames[bone.name][:, moving] != 0):
            raise MocapError(f"bone {bone.name}: its translation/length dofs ({', '.join(bone.dof[k] for k in moving)}) "
                             "move in this clip; only rotations are read (a bone of fixed length): export the clip "
                             "without them, or as BVH")
        Cb = _ordered_rotation(bone.axis * to_rad, bone.axis_order)
        if rots and bone.name in frames:
            vals = frames[bone.name]
            Mb = _ordered_rotation(vals[:, [k for _, k in rots]] * to_rad, "".join(a for a, _ in rots))
            G[:, b] = parent_G @ (Cb @ Mb @ Cb.T)
        else:
            G[:, b] = parent_G
        end[:, b] = start + bone.length * np.einsum("tij,j->ti", G[:, b], bone.direction)
    return np.concatenate([pos[:, None], end], axis=1)


def asf_for(amc_path: Path) -> Path:
    """The ASF that goes with an AMC: same stem, else the only .asf in the folder, else ``HDM_<actor>.asf``."""
    folder = amc_path.parent
    same = amc_path.with_suffix(".asf")
    if same.exists():
        return same
    asfs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".asf")
    if len(asfs) == 1:
        return asfs[0]
    actor = amc_subject(amc_path)
    for p in asfs:  # the actor's own ASF first, over all of them (HDM05: every name starts with HDM_)
        if p.stem in (f"HDM_{actor}", actor):
            return p
    prefix = [p for p in asfs if p.stem.split("_")[0] == amc_path.stem.split("_")[0]]
    if len(prefix) == 1:  # CMU: 07.asf for 07_05.amc
        return prefix[0]
    if not asfs:
        raise MocapError(f"{amc_path}: no .asf skeleton in {folder}; put the ASF beside its AMC files")
    raise MocapError(f"{amc_path}: {len(asfs)} .asf files in {folder} and none named after this clip; "
                     "keep one ASF per folder or name it like the AMC")


def amc_subject(path: Path) -> str:
    """Actor of an AMC clip: HDM05 ``HDM_bd_squat1Reps_001_120.amc`` → ``bd``; CMU ``07_05.amc`` → ``cmu07``;
    else the folder name."""
    parts = path.stem.split("_")
    if parts[0] == "HDM" and len(parts) > 2:
        return parts[1]
    if parts[0].isdigit() and len(parts) == 2:
        return f"cmu{parts[0]}"
    return path.parent.name


def amc_action(path: Path) -> str:
    """Motion name of an AMC clip: HDM05 ``HDM_bd_squat1Reps_001_120`` → ``squat1Reps``; else the stem."""
    parts = path.stem.split("_")
    if parts[0] == "HDM" and len(parts) > 3:
        return parts[2]
    return path.stem


def read_amc(path: str | Path, asf: str | Path | None = None, units: str = "auto", fps: float = AMC_FPS) -> Motion:
    """Read an AMC motion with its ASF skeleton into a :class:`Motion` (root and bone ends), mm, Z up.

    Args:
        path: the .amc file.
        asf: its skeleton; default :func:`asf_for` (found in the same folder).
        units: ``auto`` uses the ASF's ``:units length`` (v / L inches); ``mm | cm | m | in`` override it.
        fps: the capture rate (AMC files do not store it; CMU and HDM05 use 120).
    """
    from .bvh import UNITS_MM, y_up_to_z_up

    path = Path(path)
    asf = Path(asf) if asf is not None else asf_for(path)
    sk = read_asf(asf)
    frames = read_amc_frames(path, sk)
    if "root" not in frames:
        raise MocapError(f"{path}: no root values in the frames; not an AMC motion file")
    try:
        points = forward_kinematics(sk, frames)
    except MocapError as e:
        raise MocapError(f"{path}: {e}") from None
    units = units.lower()
    if units == "auto":
        scale = sk.mm_per_unit()
    elif units in UNITS_MM:
        scale = UNITS_MM[units]
    else:
        raise MocapError(f"{path}: unknown unit {units!r}; use mm, cm, m, in or auto")
    points = y_up_to_z_up(points) * scale
    names = ("root",) + tuple(b.name for b in sk.bones)
    meta = {"format": "amc", "asf": str(asf), "units": units if units != "auto" else f"asf length {sk.length_unit}",
            "up_axis": "y", "action": amc_action(path)}
    return Motion(points.astype(np.float32), names, fps, source=str(path), subject=amc_subject(path), meta=meta)
