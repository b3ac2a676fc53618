"""The skeleton registry: every joint in pose3d is addressed by name through this module.

A :class:`Skeleton` is an ordered tuple of joint names, the parent of each joint (by name) and the
left/right pairs, in the spirit of VideoPose3D's ``Skeleton(parents, joints_left, joints_right)``.

Joint names are shared between skeletons where they mean the same body part, so converting between
skeletons goes by name (:func:`convert`). A joint that a skeleton lacks can be *derived* from others
through :data:`DERIVED_JOINTS` (e.g. ``pelvis`` = mean of ``left_hip`` and ``right_hip``).

Semantic caveat, documented once here: in ``h36m17`` (built from motion capture) ``left_hip`` is the hip
*joint centre*, inside the pelvis; a 2D detector's COCO/BlazePose "hip" keypoint sits higher and more
lateral, near the greater trochanter. The same name is used because the lifter is trained to absorb the
difference (training 2D is corrupted with a per-joint bias, see :mod:`pose3d_cli.synth.corrupt`). The
same holds for ``h36m17``'s ``nose`` (H36M's "neck/nose" joint, between chin and nose), and ``head`` (top of
the head in mocap, mid-eyes/ears when derived from detector keypoints).

This module imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .errors import Pose3dError


class SkeletonError(Pose3dError, ValueError):
    """A skeleton name is unknown, or a conversion lacks the joints it needs."""


@dataclass(frozen=True)
class Skeleton:
    """An ordered set of named joints with a kinematic tree and left/right pairs.

    Args:
        name: registry key, e.g. ``"h36m17"``.
        joints: joint names, in storage order.
        parents: the parent joint name of each joint (``None`` for the root), same order as ``joints``.
        pairs: ``(left_name, right_name)`` tuples of mirror-image joints.
    """

    name: str
    joints: tuple[str, ...]
    parents: tuple[str | None, ...]
    pairs: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.joints) != len(self.parents):
            raise SkeletonError(f"skeleton {self.name}: {len(self.joints)} joints but {len(self.parents)} parents")
        if len(set(self.joints)) != len(self.joints):
            raise SkeletonError(f"skeleton {self.name}: duplicate joint names")
        known = set(self.joints)
        for p in self.parents:
            if p is not None and p not in known:
                raise SkeletonError(f"skeleton {self.name}: unknown parent {p!r}")
        for a, b in self.pairs:
            if a not in known or b not in known:
                raise SkeletonError(f"skeleton {self.name}: unknown pair ({a}, {b})")
        if all(p is not None for p in self.parents):
            raise SkeletonError(f"skeleton {self.name}: no root (every joint has a parent)")
        parent = dict(zip(self.joints, self.parents))
        for j in self.joints:  # every joint reaches the root: no cycle
            seen, k = set(), j
            while parent[k] is not None:
                if k in seen:
                    raise SkeletonError(f"skeleton {self.name}: the parents of {j!r} form a cycle")
                seen.add(k)
                k = parent[k]

    def __len__(self) -> int:
        return len(self.joints)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, name: str) -> int:
        """Storage index of the joint called ``name``."""
        try:
            return self._index[name]
        except KeyError:
            raise SkeletonError(f"skeleton {self.name} has no joint {name!r}; it has: {', '.join(self.joints)}") from None

    def indices(self, names) -> list[int]:
        return [self.index(n) for n in names]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.joints)}

    @cached_property
    def parent_indices(self) -> np.ndarray:
        """(J,) int: index of each joint's parent, -1 for the root."""
        return np.array([-1 if p is None else self._index[p] for p in self.parents], dtype=np.int64)

    @cached_property
    def root(self) -> str:
        return self.joints[self.parents.index(None)]

    @cached_property
    def joints_left(self) -> list[int]:
        return [self._index[a] for a, _ in self.pairs]

    @cached_property
    def joints_right(self) -> list[int]:
        return [self._index[b] for _, b in self.pairs]

    @cached_property
    def flip_permutation(self) -> np.ndarray:
        """(J,) int: ``x[..., perm, :]`` swaps every left joint with its right twin."""
        perm = np.arange(self.num_joints)
        perm[self.joints_left] = self.joints_right
        perm[self.joints_right] = self.joints_left
        return perm

    @cached_property
    def bones(self) -> list[tuple[str, str]]:
        """(child, parent) name pairs, one per non-root joint."""
        return [(j, p) for j, p in zip(self.joints, self.parents) if p is not None]

    @cached_property
    def bone_indices(self) -> np.ndarray:
        """(J-1, 2) int: (child, parent) index pairs."""
        return np.array([[self._index[c], self._index[p]] for c, p in self.bones], dtype=np.int64).reshape(-1, 2)

    def bone_lengths(self, points: np.ndarray) -> np.ndarray:
        """Bone lengths of ``points`` (..., J, 3) → (..., J-1), in the points' unit."""
        b = self.bone_indices
        return np.linalg.norm(points[..., b[:, 0], :] - points[..., b[:, 1], :], axis=-1)


def _sk(name: str, tree: list[tuple[str, str | None]], pairs: list[tuple[str, str]]) -> Skeleton:
    return Skeleton(name, tuple(j for j, _ in tree), tuple(p for _, p in tree), tuple(pairs))


def _lr(*stems: str) -> list[tuple[str, str]]:
    return [(f"left_{s}", f"right_{s}") for s in stems]


H36M17 = _sk(
    "h36m17",
    [
        ("pelvis", None),
        ("right_hip", "pelvis"),
        ("right_knee", "right_hip"),
        ("right_ankle", "right_knee"),
        ("left_hip", "pelvis"),
        ("left_knee", "left_hip"),
        ("left_ankle", "left_knee"),
        ("spine", "pelvis"),
        ("thorax", "spine"),
        ("nose", "thorax"),  # H36M "Neck/Nose"
        ("head", "nose"),  # top of the head
        ("left_shoulder", "thorax"),
        ("left_elbow", "left_shoulder"),
        ("left_wrist", "left_elbow"),
        ("right_shoulder", "thorax"),
        ("right_elbow", "right_shoulder"),
        ("right_wrist", "right_elbow"),
    ],
    _lr("hip", "knee", "ankle", "shoulder", "elbow", "wrist"),
)

COCO17 = _sk(
    "coco17",
    [
        ("nose", None),
        ("left_eye", "nose"),
        ("right_eye", "nose"),
        ("left_ear", "left_eye"),
        ("right_ear", "right_eye"),
        ("left_shoulder", "nose"),
        ("right_shoulder", "nose"),
        ("left_elbow", "left_shoulder"),
        ("right_elbow", "right_shoulder"),
        ("left_wrist", "left_elbow"),
        ("right_wrist", "right_elbow"),
        ("left_hip", "left_shoulder"),
        ("right_hip", "right_shoulder"),
        ("left_knee", "left_hip"),
        ("right_knee", "right_hip"),
        ("left_ankle", "left_knee"),
        ("right_ankle", "right_knee"),
    ],
    _lr("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"),
)

BLAZEPOSE33 = _sk(
    "blazepose33",
    [
        ("nose", None),
        ("left_eye_inner", "nose"),
        ("left_eye", "left_eye_inner"),
        ("left_eye_outer", "left_eye"),
        ("right_eye_inner", "nose"),
        ("right_eye", "right_eye_inner"),
        ("right_eye_outer", "right_eye"),
        ("left_ear", "left_eye_outer"),
        ("right_ear", "right_eye_outer"),
        ("mouth_left", "nose"),
        ("mouth_right", "nose"),
        ("left_shoulder", "nose"),
        ("right_shoulder", "nose"),
        ("left_elbow", "left_shoulder"),
        ("right_elbow", "right_shoulder"),
        ("left_wrist", "left_elbow"),
        ("right_wrist", "right_elbow"),
        ("left_pinky", "left_wrist"),
        ("right_pinky", "right_wrist"),
        ("left_index", "left_wrist"),
        ("right_index", "right_wrist"),
        ("left_thumb", "left_wrist"),
        ("right_thumb", "right_wrist"),
        ("left_hip", "left_shoulder"),
        ("right_hip", "right_shoulder"),
        ("left_knee", "left_hip"),
        ("right_knee", "right_hip"),
        ("left_ankle", "left_knee"),
        ("right_ankle", "right_knee"),
        ("left_heel", "left_ankle"),
        ("right_heel", "right_ankle"),
        ("left_foot_index", "left_ankle"),
        ("right_foot_index", "right_ankle"),
    ],
    _lr("eye_inner", "eye", "eye_outer", "ear", "shoulder", "elbow", "wrist", "pinky", "index", "thumb", "hip",
        "knee", "ankle", "heel", "foot_index") + [("mouth_left", "mouth_right")],
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (H36M17, COCO17, BLAZEPOSE33)}

#: How a joint missing from a source skeleton is built from others: name → alternatives, each a list of
#: (joint name, weight). The first alternative whose joints are all available (directly or derived) wins.
DERIVED_JOINTS: dict[str, list[list[tuple[str, float]]]] = {
    # pelvis: mid-point of the two hips (detector hips are higher than mocap hip centres; see module doc)
    "pelvis": [[("left_hip", 0.5), ("right_hip", 0.5)]],
    # thorax: mid-point of the two shoulders (H36M "Thorax" sits there)
    "thorax": [[("left_shoulder", 0.5), ("right_shoulder", 0.5)]],
    # spine: H36M "Spine" is half-way between pelvis and thorax
    "spine": [[("pelvis", 0.5), ("thorax", 0.5)]],
    # head: from detector keypoints, the mid-point of the ears (else of the eyes); H36M "Head" is the head top,
    # which no detector gives; the lifter learns the offset
    "head": [[("left_ear", 0.5), ("right_ear", 0.5)], [("left_eye", 0.5), ("right_eye", 0.5)]],
}


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """The registered skeleton called ``name`` (a Skeleton is returned as is)."""
    if isinstance(name, Skeleton):
        return name
    try:
        return SKELETONS[name]
    except KeyError:
        raise SkeletonError(f"unknown skeleton {name!r}; known: {', '.join(SKELETONS)}") from None


def conversion_weights(src: Skeleton | str, dst: Skeleton | str) -> np.ndarray:
    """(J_dst, J_src) matrix W such that ``dst_points = W @ src_points`` (by joint name, with derivations)."""
    src, dst = get_skeleton(src), get_skeleton(dst)

    def resolve(name: str, depth: int = 0) -> dict[int, float] | None:
        if name in src._index:
            return {src._index[name]: 1.0}
        if depth > 4:
            return None
        for alternative in DERIVED_JOINTS.get(name, []):
            acc: dict[int, float] = {}
            for part, w in alternative:
                sub = resolve(part, depth + 1)
                if sub is None:
                    break
                for k, v in sub.items():
                    acc[k] = acc.get(k, 0.0) + w * v
            else:
                return acc
        return None

    W = np.zeros((dst.num_joints, src.num_joints), dtype=np.float64)
    missing = []
    for i, name in enumerate(dst.joints):
        r = resolve(name)
        if r is None:
            missing.append(name)
            continue
        for k, v in r.items():
            W[i, k] = v
    if missing:
        raise SkeletonError(f"cannot build {dst.name} from {src.name}: no source for {', '.join(missing)}")
    return W


def convert(points: np.ndarray, src: Skeleton | str, dst: Skeleton | str,
            confidence: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Convert joints between skeletons by name.

    Args:
        points: (..., J_src, D) joint positions (any D: 2D pixels or 3D mm).
        src, dst: skeletons (or registry names).
        confidence: optional (..., J_src) per-joint confidence.

    Returns:
        (..., J_dst, D) points, and (..., J_dst) confidence (a derived joint gets the minimum confidence of
        the joints it is built from) or None.
    """
    W = conversion_weights(src, dst)
    out = np.einsum("ds,...sc->...dc", W, points).astype(points.dtype, copy=False)
    conf_out = None
    if confidence is not None:
        used = W != 0  # (J_dst, J_src)
        c = np.where(used, confidence[..., None, :], np.inf)
        conf_out = c.min(axis=-1).astype(confidence.dtype, copy=False)
    return out, conf_out
