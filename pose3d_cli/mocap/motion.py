"""`Motion`: what every mocap reader returns.

A Motion is a sequence of named 3D points in the *world* frame: millimetres, right-handed, **Z up**
(readers convert Y-up sources), with a frame rate. Readers return their native joints or markers; a name
mapping (:func:`map_joints`) turns them into a registered skeleton such as ``h36m17``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..config import read_config
from ..errors import Pose3dError

from ..skeleton import Skeleton, get_skeleton


class MocapError(Pose3dError, ValueError):
    """A mocap file cannot be used; the message says which file, what is wrong and what to do."""


@dataclass
class Motion:
    """Named 3D points over time.

    Attributes:
        joints: (T, J, 3) float, mm, world frame (Z up). NaN marks a missing point.
        names: J names, one per joint/marker.
        fps: frames per second.
        source: file the motion came from.
        subject: subject/actor id (used for train/val splits).
        skeleton: registry name when ``names`` are exactly that skeleton's joints, else None.
        meta: free-form provenance (units detected, up axis, marker preset ...).
    """

    joints: np.ndarray
    names: tuple[str, ...]
    fps: float
    source: str = ""
    subject: str = ""
    skeleton: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = tuple(self.names)
        if self.joints.ndim != 3 or self.joints.shape[2] != 3:
            raise MocapError(f"{self.source}: joints must be (T, J, 3), got {self.joints.shape}")
        if self.joints.shape[1] != len(self.names):
            raise MocapError(f"{self.source}: {self.joints.shape[1]} joints but {len(self.names)} names")

    @property
    def num_frames(self) -> int:
        return self.joints.shape[0]

    def index(self, name: str) -> int:
        return self.names.index(name)

    def slice(self, start: int, stop: int) -> "Motion":
        return replace(self, joints=self.joints[start:stop])


#: A mapping entry: a source name; a list of names (their mean); or {"joints": [...], "weights": [...]}.
MappingEntry = str | list | dict


def load_mapping(path: str | Path) -> dict[str, MappingEntry]:
    """Read a user joint mapping (JSON or YAML): ``{target_joint: source_name | [names] | {joints, weights}}``."""
    path = Path(path)
    try:
        data = read_config(path, "mapping file")
    except Pose3dError as e:
        raise MocapError(str(e)) from None
    if not isinstance(data, dict):
        raise MocapError(f"{path}: a mapping file must hold an object {{target_joint: source_name}}")
    return data


def mapping_weights(names: tuple[str, ...], mapping: dict[str, MappingEntry], skeleton: Skeleton,
                    source: str = "") -> np.ndarray:
    """(J_dst, J_src) weights that build ``skeleton``'s joints from ``names`` through ``mapping``."""
    idx = {n: i for i, n in enumerate(names)}
    W = np.zeros((skeleton.num_joints, len(names)))
    missing = []
    for j, target in enumerate(skeleton.joints):
        entry = mapping.get(target)
        if entry is None:
            missing.append(f"{target} (not in mapping)")
            continue
        if isinstance(entry, str):
            parts, weights = [entry], [1.0]
        elif isinstance(entry, list):
            parts, weights = entry, [1.0 / len(entry)] * len(entry)
        else:
            parts, weights = entry["joints"], entry.get("weights", [1.0 / len(entry["joints"])] * len(entry["joints"]))
        absent = [p for p in parts if p not in idx]
        if absent:
            missing.append(f"{target} (needs {', '.join(absent)})")
            continue
        for p, w in zip(parts, weights):
            W[j, idx[p]] += w
    if missing:
        raise MocapError(f"{source}: cannot build {skeleton.name}: {'; '.join(missing)}")
    return W


def map_joints(motion: Motion, mapping: dict[str, MappingEntry], skeleton: Skeleton | str = "h36m17") -> Motion:
    """Build a registered skeleton's joints from a motion's named points.

    Args:
        motion: source motion with (T, J_src, 3) points.
        mapping: target joint name → source name, list of names (mean), or ``{"joints": [...], "weights": [...]}``.
        skeleton: target skeleton.
    Returns:
        Motion with (T, J_dst, 3) joints named as ``skeleton``.
    """
    skeleton = get_skeleton(skeleton)
    W = mapping_weights(motion.names, mapping, skeleton, motion.source)
    joints = np.einsum("ds,tsc->tdc", W, motion.joints)
    return replace(motion, joints=joints, names=skeleton.joints, skeleton=skeleton.name)
