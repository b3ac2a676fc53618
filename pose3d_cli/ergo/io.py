"""Read an infer output (CSV or JSON) for scoring, in the joints of a registered skeleton.

An infer CSV has ``frame, time_s, detected``, ``<joint>_x/_y/_z`` (mm, camera frame) and ``<joint>_conf``
columns for the joints of one registered skeleton (:mod:`pose3d_cli.infer.writers`); an infer JSON has
``metadata`` (``skeleton``, ``joint_names``, ``input``, ``fps``) and ``frames`` with ``joints_3d`` and
``confidence`` (and, from a video, ``detector_points``: the hand/face points,
:mod:`pose3d_cli.infer.detector_points`). Both are read by :mod:`pose3d_cli.infer.readers`; anything else is
refused with one line.

A multi-view reference (``pose3d triangulate ... -o worker.npz``, :mod:`pose3d_cli.multiview.reference`) is read
by :func:`read_reference_poses`: its joints are in the calibration's world frame (Z up), so the vertical is known
exactly and nothing depends on where one camera stood; its triangulated BlazePose points give the hand and face
points in that same 3D.
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
    #: "camera" (one camera's frame: x right, y down, z forward) or "world" (a multi-view reference: Z up)
    coordinates: str = "camera"


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


#: world up of a multi-view reference (``pose3d triangulate`` writes Z-up world coordinates)
WORLD_UP = np.array([0.0, 0.0, 1.0])


def read_reference_poses(path: str | Path, fps: float | None = None) -> Poses:
    """Read a multi-view reference (``pose3d triangulate``'s .npz) as one person's poses in the world frame (Z up).

    A joint is seen (confidence 1) where it was triangulated, unseen (0) where it is NaN (fewer than two views);
    a frame is detected where any joint was triangulated; ``time_s`` is ``frame / fps`` (the file's rate; ``fps``
    only for a file that records none: another rate is refused). The triangulated detector points become the hand/face points (world mm)."""
    from ..infer.detector_points import POINT_NAMES
    from ..multiview.reference import read_reference

    path = Path(path)
    ref = read_reference(path)
    sk = get_skeleton("h36m17")
    missing = [j for j in sk.joints if j not in ref.names]
    if missing:
        raise Pose3dError(f"{path}: a reference of other joints (no {', '.join(missing[:3])}"
                          f"{' ...' if len(missing) > 3 else ''}); give a `pose3d triangulate` output (h36m17 joints)")
    if len(ref.frame) > 1 and (np.diff(ref.frame) <= 0).any():
        raise Pose3dError(f"{path}: its 'frame' numbers do not increase; give an unmodified `pose3d triangulate` output")
    if fps and ref.fps and abs(float(fps) / float(ref.fps) - 1) > 1e-3:
        raise Pose3dError(f"{path}: --fps {fps:g}, but the reference records {ref.fps:g} frames/s (its videos'); "
                          "--fps is for a reference that records none: drop --fps")
    rate = float(fps) if fps else float(ref.fps)
    if not np.isfinite(rate) or rate <= 0:
        raise Pose3dError(f"{path}: the reference has no frame rate; give --fps (the videos' frames per second)")
    joints = ref.joints[:, [ref.names.index(j) for j in sk.joints]]
    seen = np.isfinite(joints).all(-1)
    detected = seen.any(-1)
    points = None
    if ref.source_joints is not None and any(n in ref.source_names for n in POINT_NAMES):
        # the points the source skeleton has (COCO: the face and the anchors, no hands), NaN / unseen the rest
        world = np.full(ref.source_joints.shape[:1] + (len(POINT_NAMES), 3), np.nan)
        for i, n in enumerate(POINT_NAMES):
            if n in ref.source_names:
                world[:, i] = ref.source_joints[:, ref.source_names.index(n)]
        ok = np.isfinite(world).all(-1)
        points = DetectorPoints(POINT_NAMES, np.full(world.shape[:2] + (2,), np.nan), ok.astype(np.float64), world)
    views = [c.name for c in ref.cameras] if ref.cameras else []
    meta = {"input": str(path), "fps": rate, "skeleton": sk.name, "views": views,
            "timestamps": f"frame / fps ({rate:g} fps) of the reference (its first view's frames)"}
    p = Poses(ref.frame.astype(np.int64), ref.frame / rate, detected, joints, seen.astype(np.float64), sk.name, meta,
              str(path), points, coordinates="world")
    p.joints[~p.detected] = np.nan
    return p


def recorded_camera_name(path: str, video: str | None = None) -> str:
    """The name a calibration's camera is picked by for an infer output: ``--video`` when given, else the video the
    output records it came from (an infer JSON's ``metadata.input``), else the output's own file name. One rule for
    the early check and the scoring (a JSON made from phone2.mp4 but named phone1_poses.json was checked against
    phone1 and scored with phone2's vertical)."""
    if video:
        return str(video)
    if str(path).lower().endswith(".json"):
        import json

        try:
            with open(path, encoding="utf-8") as fh:
                recorded = json.load(fh).get("metadata", {}).get("input")
            if recorded:
                return str(recorded)
        except (OSError, ValueError, AttributeError):
            pass
    return str(path)
