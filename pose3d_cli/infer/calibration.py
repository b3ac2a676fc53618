"""Camera intrinsics for inference: a phone's default field of view, ``--fov``, ``--focal`` or a calibration file.

Without calibration pose3d assumes a phone main camera: ``DEFAULT_FOV_DEG`` = 65° across the image's long
side (phone main cameras are 26-28 mm full-frame equivalents: about 69-73° across the 4:3 sensor's long side,
65° once cropped to 16:9 video). The lifter's codec only uses the intrinsics to turn pixels into viewing
rays, so a wrong FOV costs accuracy gently, not catastrophically.

Calibration files:
- pose3d rig JSON (see :mod:`pose3d_cli.synth.cameras`): ``{"cameras": [{"name", "K", "dist", "R", "t", "size"}]}``;
- Qualisys ``.qca.txt`` XML: ``K`` from ``focalLength{U,V}/64`` and ``centerPoint{U,V}/64`` minus the
  ``fov_video`` offsets, image size from ``fov_video``, distortion ``(k1, k2, p1, p2, k3)`` as given; when
  the video's width differs from the calibrated one (1080 vs 1088 px), x is scaled to match.
The camera is picked by ``name`` (default: the one whose name appears in the video file name, else the first).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..synth.cameras import Camera, intrinsics_from_fov, load_rig

DEFAULT_FOV_DEG = 65.0


@dataclass
class Intrinsics:
    K: np.ndarray  # (3, 3)
    dist: np.ndarray | None  # (5,) or None
    source: str  # how they were chosen, for the output metadata
    up: np.ndarray | None = None  # (3,) world up (+Z) in the camera frame, when a calibration gives it


def read_qualisys(path: str | Path) -> list[Camera]:
    """Cameras of a Qualisys ``.qca.txt`` calibration (intrinsics, distortion, ``cam_from_world`` in mm)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise Pose3dError(f"{path}: not a readable Qualisys calibration ({e})") from None
    cams = []
    for c in root.iter("camera"):
        try:
            fov = c.find("fov_video").attrib
            left, top = float(fov["left"]), float(fov["top"])
            w, h = int(float(fov["right"]) - left + 1), int(float(fov["bottom"]) - top + 1)
            i = c.find("intrinsic").attrib
            K = np.array([[float(i["focalLengthU"]) / 64, 0, float(i["centerPointU"]) / 64 - left],
                          [0, float(i["focalLengthV"]) / 64, float(i["centerPointV"]) / 64 - top], [0, 0, 1.0]])
            dist = np.array([float(i["radialDistortion1"]), float(i["radialDistortion2"]), float(i["tangentalDistortion1"]),
                             float(i["tangentalDistortion2"]), float(i["radialDistortion3"])])
            tr = c.find("transform").attrib
            M = np.array([[float(tr[f"r{a}{b}"]) for b in "123"] for a in "123"])
            R = np.diag([1.0, -1.0, -1.0]) @ M  # Rx(pi) @ M
            C = np.array([float(tr["x"]), float(tr["y"]), float(tr["z"])])
            cams.append(Camera(K, dist, R, -R @ C, (w, h), name=c.attrib.get("serial", f"cam{len(cams)}")))
        except (AttributeError, KeyError, ValueError) as e:
            raise Pose3dError(f"{path}: camera {len(cams)} is incomplete ({e}); is this a Qualisys .qca.txt?") from None
    if not cams:
        raise Pose3dError(f"{path}: no <camera> in this calibration file")
    return cams


def load_calibration(path: str | Path) -> list[Camera]:
    path = Path(path)
    if not path.is_file():
        raise Pose3dError(f"{path}: no such calibration file")
    if path.name.lower().endswith((".qca.txt", ".qca", ".xml")):
        return read_qualisys(path)
    return load_rig(path)


def pick_camera(cams: list[Camera], name: str | None, video_name: str) -> Camera:
    if name is not None:
        for c in cams:
            if c.name == name:
                return c
        raise Pose3dError(f"calibration has no camera {name!r}; it has {', '.join(c.name for c in cams)}")
    stem = Path(video_name).stem.lower()
    for c in cams:
        if c.name.lower() and c.name.lower() in stem:
            return c
    return cams[0]


def intrinsics_for(size: tuple[int, int], fov: float | None = None, focal: float | None = None,
                   calib: str | Path | None = None, calib_camera: str | None = None, video_name: str = "") -> Intrinsics:
    """Intrinsics for frames of ``size`` (width, height), by priority: calibration file, focal, FOV, default FOV."""
    w, h = size
    if calib:
        cam = pick_camera(load_calibration(calib), calib_camera, video_name)
        K = cam.K.copy()
        cw, ch = cam.size
        if (cw, ch) != (w, h):
            K[0] *= w / cw
            K[1] *= h / ch
        return Intrinsics(K, cam.dist, f"calibration {Path(calib).name}:{cam.name}", cam.R @ np.array([0.0, 0.0, 1.0]))
    if focal:
        return Intrinsics(np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1.0]]), None, f"focal {focal:g} px")
    f = fov or DEFAULT_FOV_DEG
    return Intrinsics(intrinsics_from_fov(f, w, h), None, f"fov {f:g} deg across the long side"
                      + ("" if fov else " (default phone)"))
