"""Read an infer output (CSV or JSON) for scoring, in the joints of a registered skeleton.

An infer CSV has ``frame, time_s, detected``, ``<joint>_x/_y/_z`` (mm, camera frame) and ``<joint>_conf``
columns for the joints of one registered skeleton (:mod:`pose3d_cli.infer.writers`); an infer JSON has
``metadata`` (``skeleton``, ``joint_names``, ``input``, ``fps``) and ``frames`` with ``joints_3d`` and
``confidence`` (and, from a video, ``detector_points``: the hand/face points,
:mod:`pose3d_cli.infer.detector_points`). Both are read by :mod:`pose3d_cli.infer.readers`; anything else is
refused with one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..infer.detector_points import DetectorPoints
from ..infer.readers import read_infer_output
from ..skeleton import SKELETONS, get_skeleton


@dataclass
class Poses:
    """Per-frame 3D joints to score. Arrays are (T, ...)."""

    frame: np.ndarray  # (T,) int
    time_s: np.ndarray  # (T,)
    detected: np.ndarray  # (T,) bool
    joints: np.ndarray  # (T, J, 3) mm, NaN where unknown
    conf: np.ndarray  # (T, J) 0..1 (1 where the file has none)
    skeleton: str
    metadata: dict = field(default_factory=dict)
    source: str = ""
    points: DetectorPoints | None = None  # the detector's hand/face points (a video or an infer JSON), else None
    plain_joints: np.ndarray | None = None  # (T, J, 3) the same frames lifted without flip averaging (a video)


def _skeleton_of(names: list[str], where: str) -> str:
    for sk in SKELETONS.values():
        if all(j in names for j in sk.joints) and sk.name == "h36m17":
            return sk.name
    for sk in SKELETONS.values():
        if all(j in names for j in sk.joints):
            return sk.name
    raise Pose3dError(f"{where}: its joints are not those of a pose3d skeleton ({', '.join(SKELETONS)}); "
                      "give a `pose3d infer` output")


def read_poses(path: str | Path, person: int = 0) -> Poses:
    """Read and check an infer output (:func:`~pose3d_cli.infer.readers.read_infer_output`, the one reader of
    what infer writes) in the joints of a registered skeleton; one-line :class:`Pose3dError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such file")
    if path.suffix.lower() not in (".csv", ".json"):
        raise Pose3dError(f"{path}: give a video or a `pose3d infer` output (.csv or .json)")
    res = read_infer_output(path, person)
    sk = get_skeleton(_skeleton_of(list(res.joint_names), str(path)))
    order = [res.joint_names.index(j) for j in sk.joints]
    p = Poses(res.frame, res.time_s, res.detected, res.joints3d[:, order], res.confidence[:, order], sk.name,
              res.metadata, str(path), res.points)
    bad_t = ~np.isfinite(p.time_s)
    if bad_t.any():
        raise Pose3dError(f"{path}: frame {int(p.frame[bad_t][0])} has no time_s; give an unmodified infer output")
    if len(p.time_s) > 1 and np.any(np.diff(p.time_s) < 0):
        raise Pose3dError(f"{path}: time_s goes backwards; give an unmodified infer output")
    p.joints[~p.detected] = np.nan
    return p
