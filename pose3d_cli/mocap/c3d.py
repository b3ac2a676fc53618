"""C3D motion-capture reader: marker trajectories → ``h36m17`` :class:`Motion` segments.

Reading goes through the pure-Python ``c3d`` package (``c3d.Reader``). What this module adds:

* units: ``POINT:UNITS`` (``mm``, ``cm``, ``m``; NUL/space padding stripped) → millimetres;
* missing data: a point whose residual is < 0 (the writer leaves stale coordinates there), whose coordinates
  are not finite, or which sits exactly at (0, 0, 0) is NaN;
* subjects: labels ``Name:LASI`` are split by prefix, one :class:`Motion` list per subject;
* joints: a marker-set preset (:mod:`.markersets`) or a user mapping builds the 17 ``h36m17`` joint centres;
* world frame: Z up — the vertical axis is the one along which the head is above the ankles on average; a
  file with another vertical axis is rotated (``meta["up_axis"]`` records what it was);
* gaps: short gaps (``<= max_gap_s``) are linearly interpolated, per marker and then per joint; frames still
  missing a joint split the trial into segments, and segments shorter than ``min_segment_s`` are dropped.

Every failure is a :class:`MocapError` with one line: the file, what is wrong, what to do.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..skeleton import H36M17, Skeleton
from .markersets import MARKERSETS, build_partial, detect_markerset
from .motion import MappingEntry, MocapError, Motion, mapping_weights

__all__ = ["MARKERSETS", "read_c3d", "read_c3d_info"]

_UNIT_TO_MM = {"mm": 1.0, "millimeter": 1.0, "millimeters": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0,
               "meter": 1000.0, "meters": 1000.0, "metre": 1000.0, "metres": 1000.0}

#: Proper rotations taking each possible vertical axis of a file to +Z (``new = R @ old``).
_TO_Z_UP: dict[str, np.ndarray] = {
    "+Z": np.eye(3),
    "-Z": np.diag([1.0, -1.0, -1.0]),
    "+Y": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "-Y": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
    "+X": np.array([[0.0, 0, -1], [0, 1, 0], [1, 0, 0]]),
    "-X": np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]]),
}

_MAPPING_HINT = ('pass a mapping file naming a marker (or a list of markers to average) for each h36m17 joint: '
                 '--mapping map.json, e.g. {"pelvis": ["LASI", "RASI", "LPSI", "RPSI"], "left_knee": "LKNE", ...} '
                 f'with joints {", ".join(H36M17.joints)}')


# ----------------------------------------------------------------------------------------------- raw reading

@dataclass
class C3DPoints:
    """The point data of a C3D file.

    Attributes:
        path: the file.
        labels: M stripped point labels (with their subject prefixes).
        points: (T, M, 3) float64 mm in the file's axes, NaN where missing.
        fps: point rate.
        first_frame: file frame number of ``points[0]``.
        units: ``POINT:UNITS`` as stored (stripped).
        analog_channels: number of analog channels.
    """

    path: Path
    labels: list[str]
    points: np.ndarray
    fps: float
    first_frame: int
    units: str
    analog_channels: int


def _error(path: Path | str, what: str, todo: str = "") -> MocapError:
    what = " ".join(str(what).split())  # one line
    return MocapError(f"{path}: {what}" + (f"; {todo}" if todo else ""))


def _open(path: Path):
    """An opened ``c3d.Reader`` and its file handle (the caller closes the handle)."""
    import c3d  # local: the package is only needed for C3D input

    if not path.is_file():
        raise _error(path, "no such file", "check the path")
    try:
        handle = open(path, "rb")
    except OSError as e:
        raise _error(path, f"cannot open ({e.strerror})", "check the file permissions") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return c3d.Reader(handle), handle
    except Exception as e:  # noqa: BLE001 - any parse failure of the header/parameters is one clear line
        handle.close()
        kind = ("empty file" if path.stat().st_size == 0
                else f"not a readable C3D file, or truncated/corrupt ({type(e).__name__}: {e})")
        raise _error(path, kind, "check that it is a complete, uncorrupted .c3d file") from None


def _param_strings(reader, name: str) -> list[str]:
    """A string-array parameter (e.g. ``POINT:LABELS``) as stripped strings, [] when absent."""
    p = reader.get(name)
    if p is None:
        return []
    arr = np.atleast_1d(p.string_array)
    return [str(s).strip(" \x00") for s in arr.ravel()]


def _labels(reader) -> list[str]:
    """POINT:LABELS, LABELS2, ... (files with more than 255 points) joined."""
    labels = _param_strings(reader, "POINT:LABELS")
    k = 2
    while reader.get(f"POINT:LABELS{k}") is not None:
        labels += _param_strings(reader, f"POINT:LABELS{k}")
        k += 1
    return labels


#: a frame's markers spanning less than this many units (median over frames, largest axis) are in metres when the
#: file does not say its units: a body in mm spans hundreds to thousands (a hand-only set still tens)
MAX_METRE_SPREAD = 5.0
#: a body whose joints stand less or more than this tall (mm, median over frames) gets a warning (as BVH's stature)
PLAUSIBLE_HEIGHT_MM = (1000.0, 2300.0)


def _units(reader, path: Path) -> tuple[str, float]:
    """(units as stored, factor to mm). Missing units are taken as mm (C3D's usual unit)."""
    p = reader.get("POINT:UNITS")
    units = p.string_value.strip(" \x00") if p is not None else ""
    if not units:
        return "mm (assumed)", 1.0
    try:
        return units, _UNIT_TO_MM[units.lower()]
    except KeyError:
        raise _error(path, f"unsupported POINT:UNITS {units!r}", "convert the file to mm or m") from None


def _header(reader, path: Path) -> dict:
    """Metadata from the header and parameters (no frame is read)."""
    try:
        n_points = int(reader.point_used) if reader.get("POINT") is not None else 0
        if n_points <= 0:
            other = [g for g in ("ROTATION", "FORCE_PLATFORM") if reader.get(g) is not None]
            other += ["ANALOG"] if reader.get("ANALOG") is not None and int(reader.analog_used) > 0 else []
            held = f" (it holds {', '.join(other)} groups only)" if other else ""
            raise _error(path, f"no point data{held}", "use a C3D file with marker trajectories")
        fps = float(str(np.float32(reader.point_rate)))  # shortest float32 repr: 59.94, not 59.939998...
        first, last = int(reader.first_frame), int(reader.last_frame)
        analog = int(reader.analog_used) if reader.get("ANALOG") is not None else 0
        labels = _labels(reader)
    except MocapError:
        raise
    except Exception as e:  # noqa: BLE001
        raise _error(path, f"corrupt C3D parameters ({type(e).__name__}: {e})",
                     "check that it is a complete, uncorrupted .c3d file") from None
    labels = (labels + [f"*{i}" for i in range(len(labels), n_points)])[:n_points]
    units, scale = _units(reader, path)
    return {"n_points": n_points, "fps": fps, "first_frame": first, "frames": max(0, last - first + 1),
            "labels": labels, "units": units, "scale_to_mm": scale, "analog_channels": analog}


def read_c3d_points(path: str | Path) -> C3DPoints:
    """Read all point trajectories of a C3D file, in mm, NaN where missing (see :class:`C3DPoints`)."""
    path = Path(path)
    reader, handle = _open(path)
    with handle:
        h = _header(reader, path)
        if h["frames"] == 0:
            raise _error(path, "zero frames", "use a file with recorded frames")
        if not np.isfinite(h["fps"]) or h["fps"] <= 0:
            raise _error(path, f"invalid point rate {h['fps']}", "check POINT:RATE in the file")
        buf = np.empty((h["frames"], h["n_points"], 4), dtype=np.float32)
        n = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for n, (_, pts, _) in enumerate(reader.read_frames(copy=False, analog_transform=False), 1):
                    buf[n - 1] = pts[:, :4]
        except Exception as e:  # noqa: BLE001
            raise _error(path, f"corrupt point data at frame {n} ({type(e).__name__}: {e})",
                         "check that it is a complete, uncorrupted .c3d file") from None
    if n < h["frames"]:
        raise _error(path, f"truncated: {n} of {h['frames']} frames could be read",
                     "re-export or re-download the file")
    xyz = buf[..., :3].astype(np.float64)
    missing = (buf[..., 3] < 0) | ~np.isfinite(xyz).all(-1) | (xyz == 0).all(-1)
    xyz[missing] = np.nan
    units = h["units"]
    if units == "mm (assumed)" and np.isfinite(xyz).any():  # blank POINT:UNITS: metres when a body would be tiny
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.nanmedian(np.nanmax(xyz, axis=1) - np.nanmin(xyz, axis=1), axis=0).max()
        if spread < MAX_METRE_SPREAD:
            xyz *= 1000.0
            units = f"m (assumed: POINT:UNITS is blank and the markers span {spread:.2f} units)"
    xyz *= h["scale_to_mm"]
    return C3DPoints(path, h["labels"], xyz, h["fps"], h["first_frame"], units, h["analog_channels"])


# ----------------------------------------------------------------------------------------------- subjects

def split_subjects(labels: list[str], stem: str) -> dict[str, dict[str, int]]:
    """Subject → {marker name without prefix → column}; labels without ``prefix:`` go to subject ``stem``.

    A repeated label keeps its first column. Empty labels are skipped.
    """
    groups: dict[str, dict[str, int]] = {}
    for i, label in enumerate(labels):
        prefix, sep, name = label.rpartition(":")
        subject = prefix.strip() if sep and prefix.strip() else stem
        name = name.strip()
        if name:
            groups.setdefault(subject, {}).setdefault(name, i)
    return groups


# ------------------------------------------------------------------------------------------------ time series

def _runs(mask: np.ndarray) -> np.ndarray:
    """(R, 2) [start, stop) of the runs of True in a (T,) bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)], axis=1)


def fill_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate interior NaN gaps of at most ``max_gap`` frames.

    Args:
        x: (T, N, 3) trajectories, NaN where missing (a point is missing or present as a whole).
        max_gap: longest gap (frames) to fill; gaps at the start or end are never filled.
    Returns:
        (T, N, 3) copy with the short gaps filled.
    """
    x = x.copy()
    if max_gap <= 0 or x.shape[0] < 3:
        return x
    missing = np.isnan(x).any(-1)  # (T, N)
    t = np.arange(x.shape[0])
    for j in np.flatnonzero(missing.any(0) & ~missing.all(0)):
        gaps = _runs(missing[:, j])
        short = gaps[(gaps[:, 0] > 0) & (gaps[:, 1] < x.shape[0]) & (gaps[:, 1] - gaps[:, 0] <= max_gap)]
        if len(short) == 0:
            continue
        fill = np.concatenate([np.arange(a, b) for a, b in short])
        ok = ~missing[:, j]
        for c in range(3):
            x[fill, j, c] = np.interp(fill, t[ok], x[ok, j, c])
    return x


def up_axis(joints: np.ndarray, skeleton: Skeleton = H36M17) -> str:
    """The file axis ("+Z", "-Y" ...) along which the head is above the ankles on average; "+Z" if unknown.

    Args:
        joints: (T, J, 3) joints of ``skeleton`` (NaN allowed).
    """
    head = joints[:, skeleton.index("head")]
    feet = 0.5 * (joints[:, skeleton.index("left_ankle")] + joints[:, skeleton.index("right_ankle")])
    v = head - feet
    v = v[np.isfinite(v).all(-1)]
    if len(v) == 0:
        return "+Z"
    mean = v.mean(0)
    k = int(np.argmax(np.abs(mean)))
    return ("+" if mean[k] > 0 else "-") + "XYZ"[k]


# ------------------------------------------------------------------------------------------------ the joints

def _mapping_joints(markers: dict[str, np.ndarray], mapping: dict[str, MappingEntry],
                    source: str) -> dict[str, np.ndarray]:
    """Joint → (T, 3) for each joint named in a user mapping (NaN where any marker it uses is missing)."""
    unknown = [k for k in mapping if k not in H36M17.joints]
    if unknown:
        raise _error(source, f"mapping names unknown joint(s) {', '.join(map(str, unknown))}",
                     f"use h36m17 joint names: {', '.join(H36M17.joints)}")
    targets = tuple(mapping)
    names = tuple(markers)
    sub = Skeleton("mapping", targets, (None,) * len(targets))
    try:
        W = mapping_weights(names, mapping, sub, source)  # (J, M)
    except MocapError as e:
        detail = str(e).rsplit("cannot build mapping: ", 1)[-1]
        raise _error(source, f"the mapping refers to markers not in the file: {detail}",
                     f"use marker names from the file: {', '.join(names[:40])}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise _error(source, f"malformed mapping entry ({type(e).__name__}: {e})",
                     'entries are "marker", ["m1", "m2"] or {"joints": [...], "weights": [...]}') from None
    X = np.stack([markers[n] for n in names], axis=1)  # (T, M, 3)
    used = W != 0
    out = np.einsum("jm,tmc->tjc", W, np.nan_to_num(X))
    out[(np.isnan(X).any(-1).astype(np.int32) @ used.T.astype(np.int32)) > 0] = np.nan
    return {t: out[:, i] for i, t in enumerate(targets)}


def _resolve_markerset(markerset: str, names: list[str], source: str) -> str | None:
    """The preset to use: the one asked for, or the detected one (None: unknown) for "auto"."""
    if markerset == "auto":
        return detect_markerset(names)
    if markerset not in MARKERSETS:
        raise _error(source, f"unknown marker set preset {markerset!r}", f"use one of: auto, {', '.join(MARKERSETS)}")
    return markerset


def _unknown_set(source: str, names: list[str]) -> MocapError:
    shown = " ".join(names[:40]) + (" ..." if len(names) > 40 else "")
    return _error(source, f"unknown marker set (labels: {shown})", _MAPPING_HINT)


def subject_joints(markers: dict[str, np.ndarray], *, markerset: str = "auto",
                   mapping: dict[str, MappingEntry] | None = None, source: str = "") -> tuple[np.ndarray, str]:
    """Build the h36m17 joints of one subject.

    Args:
        markers: marker name → (T, 3) mm, NaN where missing.
        markerset: preset name or "auto" (detect from the names).
        mapping: user mapping (joint → marker | [markers] | {joints, weights}); its joints take precedence
            over the preset's, and without a preset it must name all 17 joints.
        source: file name for messages.
    Returns:
        ((T, 17, 3) joints in ``H36M17.joints`` order, the name of what built them: preset, "mapping" or
        "mapping+<preset>").
    """
    names = list(markers)
    mapped = _mapping_joints(markers, mapping, source) if mapping else {}
    preset = _resolve_markerset(markerset, names, source)
    rest = [j for j in H36M17.joints if j not in mapped]
    if rest and preset is None:
        if mapped:
            raise _error(source, f"the mapping lacks {', '.join(rest)} and the marker set is unknown",
                         "name all 17 h36m17 joints in the mapping file")
        raise _unknown_set(source, names)
    built, missing = build_partial(markers, preset, rest) if rest else ({}, {})
    if missing:
        labels = ", ".join(dict.fromkeys(m for ms in missing.values() for m in ms))
        first = next(iter(missing))
        raise _error(source, f"marker set {preset}: cannot build {', '.join(missing)} (missing markers: {labels})",
                     f'give these joints in a mapping file: --mapping map.json, e.g. {{"{first}": "<a marker of this '
                     f'file>"}}')
    joints = {**built, **mapped}
    how = preset if not mapped else ("mapping" if not rest else f"mapping+{preset}")
    return np.stack([joints[j] for j in H36M17.joints], axis=1), how


# --------------------------------------------------------------------------------------------------- the API

def read_c3d(path: str | Path, *, markerset: str = "auto", mapping: dict[str, MappingEntry] | None = None,
             subject: str | None = None, max_gap_s: float = 0.25, min_segment_s: float = 0.5) -> list[Motion]:
    """Read a C3D file into ``h36m17`` motions, one per (subject, gap-free segment).

    Args:
        path: the .c3d file.
        markerset: marker-set preset (:data:`MARKERSETS`) or "auto" to detect it from the labels.
        mapping: user joint mapping (see :func:`pose3d_cli.mocap.motion.load_mapping`); takes precedence.
        subject: label prefix of the subject to read (``Derrick`` for ``Derrick:LASI``); default: every
            subject (a file without prefixes has one subject, named after the file stem).
        max_gap_s: gaps up to this long are linearly interpolated.
        min_segment_s: shorter gap-free segments are dropped.
    Returns:
        Motions with (T, 17, 3) joints in mm, Z up, ``skeleton="h36m17"``; ``meta`` holds the markerset, units,
        up axis, segment start frame (file numbering) and index.
    Raises:
        MocapError: unreadable/truncated file, no point data, unknown marker set, missing markers, no segment
            long enough, unknown subject.
    """
    raw = read_c3d_points(path)
    src = str(raw.path)
    groups = split_subjects(raw.labels, raw.path.stem)
    if subject is not None:
        if subject not in groups:
            raise _error(src, f"no subject {subject!r}", f"subjects in this file: {', '.join(groups)}")
        groups = {subject: groups[subject]}
    motions: list[Motion] = []
    errors: list[MocapError] = []
    for name, columns in groups.items():
        try:
            src = str(raw.path) if len(groups) == 1 else f"{raw.path} [subject {name}]"
            motions += _subject_motions(raw, name, columns, src, markerset, mapping, max_gap_s, min_segment_s)
        except MocapError as e:
            if len(groups) == 1 or "unknown marker set" not in str(e):
                raise
            errors.append(e)  # e.g. unlabelled markers without a prefix beside labelled subjects
    if not motions:
        raise errors[0]
    return motions


def _subject_motions(raw: C3DPoints, name: str, columns: dict[str, int], src: str, markerset: str,
                     mapping: dict[str, MappingEntry] | None, max_gap_s: float,
                     min_segment_s: float) -> list[Motion]:
    """The motions of one subject: fill gaps, build joints, turn Z up, cut into segments."""
    max_gap = int(round(max_gap_s * raw.fps))
    cols = list(columns.values())
    filled = fill_gaps(raw.points[:, cols], max_gap)
    markers = {n: filled[:, i] for i, n in enumerate(columns)}
    joints, how = subject_joints(markers, markerset=markerset, mapping=mapping, source=src)
    joints = fill_gaps(joints, max_gap)
    axis = up_axis(joints)
    joints = joints @ _TO_Z_UP[axis].T
    runs = _runs(np.isfinite(joints).all(axis=(1, 2)))
    lengths = runs[:, 1] - runs[:, 0]
    segments = runs[lengths >= max(1, int(np.ceil(min_segment_s * raw.fps - 1e-9)))]
    if len(segments) == 0:
        longest = int(lengths.max(initial=0))
        raise _error(src, f"no gap-free stretch of at least {min_segment_s:g} s with all 17 joints "
                          f"(longest: {longest} frames at {raw.fps:g} fps)",
                     "lower min_segment_s or raise max_gap_s, or fill the gaps in your mocap software")
    meta_common = {"markerset": how, "units": raw.units, "up_axis": axis, "first_frame": raw.first_frame,
                   "num_segments": len(segments), "max_gap_s": max_gap_s, "warnings": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        height = float(np.nanmedian(np.nanmax(joints[..., 2], axis=1) - np.nanmin(joints[..., 2], axis=1)))
    lo, hi = PLAUSIBLE_HEIGHT_MM
    if np.isfinite(height) and not lo <= height <= hi:
        meta_common["warnings"].append(f"{src}: subject {name} stands {height / 1000:.3g} m tall in {raw.units} "
                                       f"(expected {lo / 1000:g}-{hi / 1000:g} m): check the file's POINT:UNITS")
    return [
        Motion(joints[a:b].copy(), H36M17.joints, raw.fps, source=str(raw.path), subject=name, skeleton="h36m17",
               meta={**meta_common, "segment": k, "start_index": int(a), "start_frame": raw.first_frame + int(a)})
        for k, (a, b) in enumerate(segments)
    ]


def read_c3d_info(path: str | Path) -> dict:
    """Describe a C3D file without reading its frames (for ``pose3d info``).

    Returns:
        dict with ``path, format, frames, first_frame, fps, duration_s, units, num_points, labels, subjects,
        markersets`` (subject → detected preset or None), ``markerset`` (the first subject's) and
        ``analog_channels``.
    """
    path = Path(path)
    reader, handle = _open(path)
    with handle:
        h = _header(reader, path)
    groups = split_subjects(h["labels"], path.stem)
    sets = {s: detect_markerset(cols) for s, cols in groups.items()}
    return {
        "path": str(path), "format": "c3d", "frames": h["frames"], "first_frame": h["first_frame"],
        "fps": h["fps"], "duration_s": h["frames"] / h["fps"] if h["fps"] > 0 else float("nan"),
        "units": h["units"], "num_points": h["n_points"], "labels": h["labels"], "subjects": list(groups),
        "markersets": sets, "markerset": next(iter(sets.values()), None),
        "analog_channels": h["analog_channels"],
    }
