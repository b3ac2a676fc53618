"""BVH reader with vectorised forward kinematics.

- Any channel count and order per joint; ``End Site`` blocks become joints named ``<parent>_end``.
- A joint's local translation is its position channels when it has them, else its ``OFFSET`` (BVH files
  with 6 channels on every joint, like Bandai Namco's, store the offset again in the position channels).
- Rotation channels compose intrinsically in the order they are listed (``Zrotation Xrotation Yrotation`` →
  ``R = Rz @ Rx @ Ry``).
- FK loops over joints only; every frame is solved at once with batched matrix products.
- Units: ``mm | cm | m | in | cmu | auto``. ``auto`` decides from the *skeleton*, not the motion (a take that
  crouches throughout must not read as inches): the stature is estimated as 1.15 × the bone-length path from
  ankle to head (joints found by name, naming.py; 1.0-1.05 × the standing extent on the shared CMU and Bandai
  Namco files), and the unit that brings it closest to 1.7 m wins (CMU's converted BVH use a unit of about
  56.4 mm, one of the candidates). Skeletons whose ankles/head cannot be found fall back to the body's extent
  in the motion. A stature outside 1.2-2.2 m adds a one-line warning to ``meta["warnings"]``.
- Up axis: ``y | z | auto``; the output world is always Z up (Y-up data is rotated +90° about X). ``auto``: the
  rest pose's ankle → head direction when it lies along +Y or +Z (a T-pose rest), else (rest poses that lie
  along another axis, like Bandai Namco's) the axis along which the body is tallest in the motion.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import euler_to_matrix
from .motion import MocapError, Motion

#: millimetres per file unit
UNITS_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "cmu": 56.444}
TYPICAL_HEIGHT_MM = 1700.0


@dataclass
class BvhHierarchy:
    """The static part of a BVH file. Arrays are indexed by joint (End Sites included)."""

    names: list[str]
    parents: list[int]  # -1 for the root
    offsets: np.ndarray  # (J, 3) file units
    channels: list[list[str]]  # per joint, e.g. ["Xposition", ..., "Zrotation"]; [] for End Sites

    @property
    def num_channels(self) -> int:
        return sum(len(c) for c in self.channels)


#: stands for a space inside a joint name while the hierarchy is split into tokens
_SPACE = "\x00"


def _hierarchy_tokens(text: str) -> list[str]:
    """The hierarchy's whitespace tokens, a joint name with spaces kept as one (3ds Max Biped ``Bip01 L Thigh``,
    Blender bone names): the rest of its ROOT/JOINT line (a brace at its end is its own token)."""
    def keep(m: re.Match) -> str:
        return m.group(1) + re.sub(r"\s+", _SPACE, m.group(2)) + (m.group(3) or "")

    return re.sub(r"(?im)^(\s*(?:ROOT|JOINT)\s+)(.*?\S)(\s*\{)?[ \t]*$", keep, text).split()


def _parse_hierarchy(tokens: list[str], path: str) -> tuple[BvhHierarchy, int]:
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i = 0
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise MocapError(f"{path}: not a BVH file (no HIERARCHY header); give a .bvh motion file")
    i = 1
    pending: int | None = None
    try:
        while i < len(tokens):
            tok = tokens[i]
            up = tok.upper()
            if up in ("ROOT", "JOINT"):
                names.append(tokens[i + 1].replace(_SPACE, " "))
                parents.append(stack[-1] if stack else -1)
                offsets.append([0.0, 0.0, 0.0])
                channels.append([])
                pending = len(names) - 1
                i += 2
            elif up == "END":  # End Site
                parent = stack[-1]
                names.append(f"{names[parent]}_end")
                parents.append(parent)
                offsets.append([0.0, 0.0, 0.0])
                channels.append([])
                pending = len(names) - 1
                i += 2
            elif tok == "{":
                stack.append(pending)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif up == "OFFSET":
                offsets[stack[-1]] = [float(t) for t in tokens[i + 1:i + 4]]
                i += 4
            elif up == "CHANNELS":
                n = int(tokens[i + 1])
                chans = tokens[i + 2:i + 2 + n]
                bad = [c for c in chans if c[1:].lower() not in ("position", "rotation") or c[0].upper() not in "XYZ"]
                if bad or len(chans) != n:
                    raise MocapError(f"{path}: joint {names[stack[-1]]}: bad CHANNELS line {chans}; fix the file")
                channels[stack[-1]] = chans
                i += 2 + n
            elif up == "MOTION":
                if stack:
                    raise MocapError(f"{path}: unbalanced braces in HIERARCHY; the file is damaged")
                return BvhHierarchy(names, parents, np.array(offsets, dtype=np.float64), channels), i + 1
            else:
                raise MocapError(f"{path}: unexpected token {tok!r} in HIERARCHY; the file is damaged")
    except (IndexError, ValueError) as e:
        if isinstance(e, MocapError):
            raise
        raise MocapError(f"{path}: malformed HIERARCHY near token {i} ({e}); the file is damaged") from None
    raise MocapError(f"{path}: no MOTION section; the file is truncated or not a BVH file")


def _parse_motion(header: list[str], body: str, hierarchy: BvhHierarchy, path: str):
    """Parse the MOTION header tokens (``Frames: N Frame Time: dt``) and the data body → ((T, C), fps)."""
    try:
        assert header[0].lower() == "frames:"
        n_frames = int(header[1])
        assert header[2].lower() == "frame" and header[3].lower() == "time:"
        frame_time = float(header[4])
    except (IndexError, ValueError, AssertionError):
        raise MocapError(f"{path}: MOTION header must be 'Frames: N' and 'Frame Time: dt'; the file is damaged") from None
    if frame_time <= 0:
        raise MocapError(f"{path}: Frame Time must be positive, got {frame_time}")
    n_chan = hierarchy.num_channels
    if n_frames == 0:
        return np.zeros((0, n_chan)), 1.0 / frame_time
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = np.loadtxt(io.StringIO(body), dtype=np.float64, ndmin=2, max_rows=n_frames)
    except ValueError:
        counts = sorted({len(r.split()) for r in body.splitlines() if r.strip()})
        raise MocapError(f"{path}: the hierarchy declares {n_chan} channels per frame but frames hold "
                         f"{counts[:5]} values (or non-numbers); the file is damaged or truncated") from None
    if data.shape[0] < n_frames:
        raise MocapError(f"{path}: header says {n_frames} frames but only {data.shape[0]} are present; "
                         "the file is truncated")
    if data.shape[1] != n_chan:
        raise MocapError(f"{path}: the hierarchy declares {n_chan} channels per frame but frames hold "
                         f"{data.shape[1]} values; the file is damaged")
    if not np.all(np.isfinite(data)):
        raise MocapError(f"{path}: the MOTION data holds NaN or infinite values; clean the file first")
    return data, 1.0 / frame_time


def forward_kinematics(hierarchy: BvhHierarchy, data: np.ndarray) -> np.ndarray:
    """Global joint positions from channel data.

    Args:
        hierarchy: parsed hierarchy.
        data: (T, C) channel values in file order (positions in file units, rotations in degrees).
    Returns:
        (T, J, 3) positions in file units, in the file's own axes.
    """
    T = data.shape[0]
    J = len(hierarchy.names)
    glob_R = np.empty((T, J, 3, 3))
    glob_p = np.empty((T, J, 3))
    col = 0
    for j in range(J):
        chans = hierarchy.channels[j]
        idx = np.arange(col, col + len(chans))
        col += len(chans)
        pos_cols = [(c[0].upper(), k) for c, k in zip(chans, idx) if c[1:].lower() == "position"]
        rot_cols = [(c[0].upper(), k) for c, k in zip(chans, idx) if c[1:].lower() == "rotation"]
        local_t = np.broadcast_to(hierarchy.offsets[j], (T, 3)).copy()
        for axis, k in pos_cols:
            local_t[:, "XYZ".index(axis)] = data[:, k]
        if rot_cols:
            order = "".join(a for a, _ in rot_cols)
            local_R = euler_to_matrix(data[:, [k for _, k in rot_cols]], order)
        else:
            local_R = np.broadcast_to(np.eye(3), (T, 3, 3))
        p = hierarchy.parents[j]
        if p < 0:
            glob_R[:, j] = local_R
            glob_p[:, j] = local_t
        else:
            glob_R[:, j] = glob_R[:, p] @ local_R
            glob_p[:, j] = glob_p[:, p] + np.einsum("tij,tj->ti", glob_R[:, p], local_t)
    return glob_p


def body_joint_indices(hierarchy: BvhHierarchy) -> np.ndarray:
    """Indices of the joints that lie on the body: all but the single-child chain above the first branching
    joint. Some exports (Bandai Namco's ``joint_Root``) put a root on the floor that stays at the origin while
    the body walks away from it; measuring the body's extent with it would mistake travel for height."""
    children = [[] for _ in hierarchy.names]
    for j, p in enumerate(hierarchy.parents):
        if p >= 0:
            children[p].append(j)
    skip, j = [], hierarchy.parents.index(-1)
    while len(children[j]) == 1:
        skip.append(j)
        j = children[j][0]
    if not children[j]:  # a plain chain, no branching joint: keep everything
        skip = []
    return np.array([i for i in range(len(hierarchy.names)) if i not in skip], dtype=np.int64)


def detect_up_axis(points: np.ndarray) -> str:
    """'y' or 'z': the axis along which the root-relative body is tallest, in the median frame. (T, J, 3) → str."""
    rel = points - points[:, :1]
    extent = np.median(rel.max(axis=1) - rel.min(axis=1), axis=0)  # (3,)
    return "z" if extent[2] > extent[1] else "y"


def y_up_to_z_up(points: np.ndarray) -> np.ndarray:
    """Rotate +90° about X: (x, y, z) Y-up → (x, -z, y) Z-up. (..., 3) → (..., 3)."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def body_height(points_z_up: np.ndarray) -> float:
    """Median over frames of the vertical extent of all joints (file units). (T, J, 3) → float."""
    z = points_z_up[..., 2]
    return float(np.median(z.max(axis=1) - z.min(axis=1)))


def detect_unit(points_z_up: np.ndarray) -> str:
    """The unit (key of :data:`UNITS_MM`) that makes the body height closest to 1.7 m (log scale)."""
    h = max(body_height(points_z_up), 1e-9)
    return min(UNITS_MM, key=lambda u: abs(np.log(h * UNITS_MM[u] / TYPICAL_HEIGHT_MM)))


#: stature ≈ this × the bone-length path from ankle to head joint (skull base)
STATURE_PER_ANKLE_HEAD_PATH = 1.15
PLAUSIBLE_STATURE_MM = (1200.0, 2200.0)


def rest_landmarks(hierarchy: BvhHierarchy) -> tuple[np.ndarray, dict[str, int]]:
    """The rest pose (every rotation zero; (J, 3) file units) and the body landmarks found in it (naming.py)."""
    from .naming import find_roles, rest_pose

    rest = rest_pose(hierarchy.parents, hierarchy.offsets)
    return rest, find_roles(hierarchy.names, hierarchy.parents, rest)


def stature_from_rest(hierarchy: BvhHierarchy) -> float | None:
    """Estimated standing height in file units from bone lengths (ankle → head path), or None if not found."""
    from .naming import path_length

    rest, roles = rest_landmarks(hierarchy)
    ankles = [roles[k] for k in ("left_ankle", "right_ankle") if k in roles]
    if not ankles or "head" not in roles:
        return None
    path = np.mean([path_length(a, roles["head"], hierarchy.parents, rest) for a in ankles])
    return float(path) * STATURE_PER_ANKLE_HEAD_PATH if path > 0 else None


def up_from_rest(hierarchy: BvhHierarchy) -> str | None:
    """'y' or 'z' when the rest pose stands along +Y or +Z (ankles → head), else None."""
    rest, roles = rest_landmarks(hierarchy)
    ankles = [roles[k] for k in ("left_ankle", "right_ankle") if k in roles]
    if not ankles or "head" not in roles:
        return None
    v = rest[roles["head"]] - rest[ankles].mean(axis=0)
    n = np.linalg.norm(v)
    if n == 0:
        return None
    axis = int(np.argmax(np.abs(v)))
    if axis == 0 or v[axis] / n < 0.9:
        return None
    return "yz"[axis - 1]


def unit_for_stature(stature: float) -> str:
    """The unit (key of :data:`UNITS_MM`) that brings ``stature`` (file units) closest to 1.7 m (log scale)."""
    return min(UNITS_MM, key=lambda u: abs(np.log(max(stature, 1e-9) * UNITS_MM[u] / TYPICAL_HEIGHT_MM)))


def read_bvh(path: str | Path, units: str = "auto", up: str = "auto") -> Motion:
    """Read a BVH file into a :class:`Motion` of all its joints (End Sites included), mm, Z up.

    Args:
        path: the .bvh file.
        units: ``mm | cm | m | in | cmu | auto``.
        up: ``y | z | auto``: the file's vertical axis.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")  # a BOM (some exporters) is no token
    except OSError as e:
        raise MocapError(f"{path}: cannot read ({e.strerror}); check the path and permissions") from None
    m = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE | re.IGNORECASE)
    if m is None:
        _parse_hierarchy(_hierarchy_tokens(text), str(path))  # names the problem precisely when it can
        raise MocapError(f"{path}: no MOTION section; the file is truncated or not a BVH file")
    hierarchy, _ = _parse_hierarchy(_hierarchy_tokens(text[:m.end()]), str(path))
    rest = text[m.end():].lstrip("\r\n")
    lines = rest.split("\n", 2)
    header = " ".join(lines[:2]).split()
    data, fps = _parse_motion(header, lines[2] if len(lines) > 2 else "", hierarchy, str(path))
    if data.shape[0] == 0:
        raise MocapError(f"{path}: the file holds 0 frames; nothing to synthesise from")
    points = forward_kinematics(hierarchy, data)
    up = up.lower()
    meta: dict = {"format": "bvh", "channels": hierarchy.num_channels, "warnings": []}
    if up == "auto":
        up = up_from_rest(hierarchy)
        meta["up_from"] = "rest pose" if up else "motion"
        up = up or detect_up_axis(points[:, body_joint_indices(hierarchy)])
    if up not in ("y", "z"):
        raise MocapError(f"{path}: --up must be y, z or auto, got {up!r}")
    if up == "y":
        points = y_up_to_z_up(points)
    units = units.lower()
    stature = stature_from_rest(hierarchy)
    if units == "auto":
        meta["units_from"] = "rest pose" if stature else "motion"
        units = unit_for_stature(stature) if stature else detect_unit(points)
    if units not in UNITS_MM:
        raise MocapError(f"{path}: unknown unit {units!r}; use one of {', '.join(UNITS_MM)} or auto")
    points = points * UNITS_MM[units]
    height_mm = stature * UNITS_MM[units] if stature else body_height(points)
    lo, hi = PLAUSIBLE_STATURE_MM
    if not lo <= height_mm <= hi:
        meta["warnings"].append(f"{path}: the body is {height_mm / 1000:.2f} m tall in {units} (expected "
                                f"{lo / 1000:.1f}-{hi / 1000:.1f} m); check --units")
    meta.update(units=units, up_axis=up, stature_mm=round(float(height_mm), 1),
                parents=list(hierarchy.parents), offsets_mm=hierarchy.offsets * UNITS_MM[units])
    return Motion(points.astype(np.float32), tuple(hierarchy.names), fps, source=str(path), meta=meta)
