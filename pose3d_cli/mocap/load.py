"""One entry point for every mocap source: file or folder → h36m17 :class:`Motion` list."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ..skeleton import H36M17
from .motion import MappingEntry, MocapError, Motion, map_joints

BVH_EXT = {".bvh"}
C3D_EXT = {".c3d"}
ARRAY_EXT = {".npz", ".h5", ".hdf5"}
AMC_EXT = {".amc"}  # each with its .asf skeleton in the same folder
MOCAP_EXT = BVH_EXT | C3D_EXT | ARRAY_EXT | AMC_EXT


def find_mocap_files(paths: list[Path]) -> list[Path]:
    """Expand folders (recursively) into the sorted mocap files they hold; files are kept as given."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MOCAP_EXT))
        elif p.exists():
            out.append(p)
        else:
            raise MocapError(f"{p}: no such file or folder; check the path")
    return out


_SUBJECT_TOKEN = re.compile(r"^(s|subject|subj|sub|actor|performer|p)[-_]?(\d+)$", re.IGNORECASE)


def subject_of(path: Path) -> str:
    """A subject id from a file name: CMU ``01_02`` → ``cmu01``; HDM05 ``HDM_bd_...`` → ``bd``; a leading or
    folder token such as ``S9``, ``subject03``, ``sub-01``, ``actor2`` → itself; else the parent folder name."""
    stem = path.stem
    parts = re.split(r"[_ .]", stem)
    head = parts[0]
    if head.isdigit() and len(stem.split("_")) == 2:
        return f"cmu{head}"
    if head == "HDM" and len(parts) > 2:
        return parts[1]
    for token in (head, path.parent.name):
        if _SUBJECT_TOKEN.match(token):
            return token
    return path.parent.name


def load_motions(path: str | Path, *, units: str = "auto", up: str = "auto",
                 mapping: dict[str, MappingEntry] | None = None, markerset: str = "auto",
                 subject: str | None = None) -> list[Motion]:
    """Read one mocap file into h36m17 Motions (mm, Z up).

    BVH, AMC and array files give one Motion (VideoPose3D files one per subject/action); C3D files one per
    subject and gap-free segment. ``subject`` keeps only that subject (C3D label prefixes, VideoPose3D and
    pose3d array files).
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in BVH_EXT:
        from .bvh import read_bvh
        from .presets import PRESETS, detect_preset

        motion = read_bvh(path, units=units, up=up)
        if mapping is None:
            try:
                preset = detect_preset(motion.names, str(path))
                mapping = PRESETS[preset]
            except MocapError:  # no preset fits: find the joints by topology and fuzzy names
                from .naming import fuzzy_mapping

                preset = "fuzzy"
                mapping = fuzzy_mapping(motion.names, motion.meta["parents"], motion.meta["offsets_mm"], str(path))
                motion.meta["mapping"] = mapping
            motion.meta["preset"] = preset
        out = map_joints(motion, mapping, H36M17)
        return [replace(out, subject=subject_of(path))]
    if ext in AMC_EXT:
        from .amc import read_amc
        from .presets import PRESETS, detect_preset

        motion = read_amc(path, units=units)
        if mapping is None:
            preset = detect_preset(motion.names, str(path))
            mapping = PRESETS[preset]
            motion.meta["preset"] = preset
        return [map_joints(motion, mapping, H36M17)]
    if ext in C3D_EXT:
        from .c3d import read_c3d

        # label prefixes are often generic ("Male"): qualify them with the file's subject (CMU 135_02 → cmu135)
        return [replace(m, subject=f"{subject_of(path)}:{m.subject}")
                for m in read_c3d(path, markerset=markerset, mapping=mapping, subject=subject)]
    if ext in ARRAY_EXT:
        from .arrays import read_array_file

        motions = read_array_file(path)
        if subject is not None:  # VideoPose3D files hold every subject: keep the one asked for
            found = sorted({m.subject for m in motions})
            motions = [m for m in motions if m.subject == subject]
            if not motions:
                raise MocapError(f"{path}: no subject {subject!r} in this file (subjects: {', '.join(found)}); "
                                 "give one of them to --subject")
        if motions and motions[0].skeleton != H36M17.name:
            if mapping is None and set(H36M17.joints) <= set(motions[0].names):
                mapping = {j: j for j in H36M17.joints}
            if mapping is None:
                raise MocapError(f"{path}: joints are not h36m17 names; give --mapping map.json")
            motions = [map_joints(m, mapping, H36M17) for m in motions]
        return motions
    raise MocapError(f"{path}: unsupported file type {ext!r}; give .bvh, .amc (with its .asf), .c3d, .npz or .h5 mocap")
