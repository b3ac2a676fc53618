"""Camera calibration files → :class:`pose3d_cli.synth.cameras.Camera` (intrinsics px, distortion,
``cam_from_world`` in mm), one reader for every format pose3d takes (numpy only):

- **Qualisys** ``.qca.txt`` (XML): ``K`` from ``focalLength{U,V}/64`` and ``centerPoint{U,V}/64`` minus the
  ``fov_video`` left/top offsets, image size from ``fov_video``, distortion ``(k1, k2, p1, p2, k3)`` as given,
  ``R = Rx(pi) @ M`` with ``M`` the row-major ``r11..r33``, camera centre ``C = (x, y, z)`` mm, ``t = -R C``
  (checked by reprojection across the 4 views of the shared pose2sim clip). Camera name: ``serial``.
- **pose3d rig JSON** (:func:`pose3d_cli.synth.cameras.load_rig`).
- **anipose / Pose2Sim TOML**: one table per camera with ``name``, ``size = [w, h]``, ``matrix`` (3x3),
  ``distortions`` (4 or 5 OpenCV values), ``rotation`` (a Rodrigues vector, ``cam_from_world``) and
  ``translation``. Units of ``translation``: Pose2Sim writes metres; anipose writes the unit of its calibration
  board. ``units="auto"`` reads a file as metres when every camera centre lies within 100 units of the origin (no
  real camera sits within 100 mm of the world origin, nor 100 m from it), else as millimetres; pass ``units`` to
  decide. A fisheye camera (``fisheye = true``, OpenCV's fisheye model) and more than five distortion
  coefficients are refused (pose3d models pinhole cameras with k1 k2 p1 p2 k3).

A video is matched to its camera by name (:func:`camera_for_video`): the camera whose name appears in the file
name as a whole word; a file that names no camera, or two, is an error that lists the names (never a silent first
camera). Every camera is checked (:func:`check_cameras`) before any video is read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..geometry import axis_angle_to_matrix
from ..synth.cameras import Camera, five_coefficients, load_rig

UNITS_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


def read_qualisys(path: str | Path) -> list[Camera]:
    """Cameras of a Qualisys ``.qca.txt`` calibration (intrinsics, distortion, ``cam_from_world`` in mm)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise Pose3dError(f"{path}: not a readable Qualisys calibration ({e})") from None
    cams = []
    for c in root.iter("camera"):
        missing = [e for e in ("fov_video", "intrinsic", "transform") if c.find(e) is None]
        if missing:
            raise Pose3dError(f"{path}: camera {len(cams)} ({c.attrib.get('serial', 'no serial')}) has no <{missing[0]}>; "
                              "is this a complete Qualisys .qca.txt?")
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


def rodrigues(rvec: np.ndarray) -> np.ndarray:
    """Rodrigues vector (..., 3) (axis × angle, radians) → rotation matrix (..., 3, 3)."""
    rvec = np.asarray(rvec, dtype=np.float64)
    angle = np.linalg.norm(rvec, axis=-1)
    axis = np.where(angle[..., None] > 1e-12, rvec / np.maximum(angle, 1e-12)[..., None], [0.0, 0.0, 1.0])
    return axis_angle_to_matrix(axis, angle)


def read_toml(path: str | Path, units: str = "auto") -> list[Camera]:
    """Cameras of an anipose / Pose2Sim calibration TOML (see module doc for the units)."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
        raise Pose3dError(f"{path}: not a readable TOML calibration ({e})") from None
    tables = [(k, v) for k, v in data.items() if isinstance(v, dict) and "matrix" in v]
    if not tables:
        raise Pose3dError(f"{path}: no camera table (with 'matrix', 'rotation', 'translation') in this TOML file")
    cams, centres = [], []
    for key, c in tables:
        try:
            K = np.asarray(c["matrix"], dtype=np.float64).reshape(3, 3)
            if c.get("fisheye") is True:  # anipose's fisheye cameras: OpenCV's fisheye model, 4 other coefficients
                raise Pose3dError(f"{path}: camera [{key}] is a fisheye camera (fisheye = true); pose3d models "
                                  "pinhole cameras with OpenCV's k1 k2 p1 p2 k3: calibrate with the pinhole model")
            dist = five_coefficients(c.get("distortions", []), f"{path}: camera [{key}]")
            R = rodrigues(np.asarray(c["rotation"], dtype=np.float64).reshape(3))
            t = np.asarray(c["translation"], dtype=np.float64).reshape(3)
            w, h = (int(round(float(v))) for v in c["size"])
        except Pose3dError:
            raise
        except (KeyError, ValueError, TypeError) as e:
            raise Pose3dError(f"{path}: camera [{key}] is incomplete ({type(e).__name__}: {e}); expected name, size, "
                              "matrix, distortions, rotation, translation") from None
        centres.append(-R.T @ t)
        cams.append(Camera(K, dist, R, t, (w, h), name=str(c.get("name", key))))
    if units == "auto":
        units = "m" if max(np.linalg.norm(c) for c in centres) < 100 else "mm"  # no camera stands 100 m away
    if units not in UNITS_MM:
        raise Pose3dError(f"{path}: unknown calibration units {units!r}; use one of {', '.join(UNITS_MM)}")
    for cam in cams:
        cam.t = cam.t * UNITS_MM[units]
    return cams


def load_calibration(path: str | Path, units: str = "auto") -> list[Camera]:
    """Every camera of a calibration file (format from the name: ``.qca.txt``/``.xml``, ``.toml``, else rig JSON)."""
    path = Path(path)
    if path.is_dir():
        raise Pose3dError(f"{path}: a folder, not a calibration file; give the file (.qca.txt, .toml or rig .json)")
    if not path.is_file():
        raise Pose3dError(f"{path}: no such calibration file")
    name = path.name.lower()
    if name.endswith((".qca.txt", ".qca", ".xml")):
        cams = read_qualisys(path)
    elif name.endswith(".toml"):
        cams = read_toml(path, units)
    else:
        cams = load_rig(path)
    check_cameras(cams, path)
    return cams


#: two cameras whose centres are closer than this (mm) are one place: no baseline to triangulate from
SAME_PLACE_MM = 1.0


def check_cameras(cams: list[Camera], path: str | Path) -> None:
    """Refuse, in one line naming the file and the camera, values no camera can have: a non-finite or
    non-positive focal length, a singular or non-finite ``K``, non-finite distortion, a ``R`` that is no rotation,
    a non-finite ``t``, a non-positive image size, two cameras of one name (every format's reader ends here, before
    any video is read; :func:`check_places` for the cameras of a triangulation)."""
    names: dict[str, int] = {}
    for i, c in enumerate(cams):
        what = f"{path}: camera {c.name!r}" if c.name else f"{path}: camera {i}"
        K, R = np.asarray(c.K, float), np.asarray(c.R, float)
        bad = None
        if not np.isfinite(K).all():
            bad = "K holds a value that is not a number"
        elif not (K[0, 0] > 0 and K[1, 1] > 0):
            bad = f"its focal lengths must be positive (K gives {K[0, 0]:g}, {K[1, 1]:g} px)"
        elif abs(np.linalg.det(K)) < 1e-9 or not np.allclose(K[2], [0, 0, 1], atol=1e-6):
            bad = "K is not an intrinsic matrix (its last row must be 0 0 1)"
        elif not np.isfinite(np.asarray(c.dist, float)).all():
            bad = "its distortion holds a value that is not a number"
        elif not np.isfinite(R).all() or not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
            bad = "its rotation R is not a rotation matrix"
        elif not np.isfinite(np.asarray(c.t, float)).all():
            bad = "its translation holds a value that is not a number"
        elif not (int(c.size[0]) > 0 and int(c.size[1]) > 0):
            bad = f"its image size must be positive (got {c.size[0]}x{c.size[1]})"
        if bad:
            raise Pose3dError(f"{what}: {bad}; check the calibration file")
        if c.name in names:
            raise Pose3dError(f"{path}: cameras {names[c.name]} and {i} are both called {c.name!r}; give each camera "
                              "its own name (videos are matched to cameras by name)")
        names[c.name] = i


def check_places(cams: list[Camera], path: str | Path) -> None:
    """Refuse two of the cameras a triangulation uses at one place: no baseline between them (one camera's pose
    copied for another?). A single-camera use (``infer --calib``) does not need it."""
    centres = [-np.asarray(c.R, float).T @ np.asarray(c.t, float) for c in cams]
    for i in range(len(cams)):
        for j in range(i + 1, len(cams)):
            if np.linalg.norm(centres[i] - centres[j]) < SAME_PLACE_MM:
                raise Pose3dError(f"{path}: cameras {cams[i].name!r} and {cams[j].name!r} sit at the same place "
                                  "(no baseline between them to triangulate from); check the calibration file")


def camera_by_name(cams: list[Camera], name: str, where: str = "calibration") -> Camera:
    """The camera called ``name`` (exact), or one clear error listing the names."""
    for c in cams:
        if c.name == name:
            return c
    raise Pose3dError(f"{where}: no camera {name!r}; it has {', '.join(c.name for c in cams)}")


def camera_for_video(cams: list[Camera], video_name: str, where: str = "calibration",
                     option: str = "--calib-camera", how: str | None = None) -> Camera:
    """The camera whose name appears in ``video_name``'s file name (the longest such name wins).

    A calibration with a single camera is that camera. Otherwise no match is an error that lists the names
    and says to pass ``option`` (``how``: how to give it, default ``option NAME``).
    """
    how = how or f"{option} NAME"
    if len(cams) == 1:
        return cams[0]
    # the name without its extension: '3.mp4' matched the cameras '3' and '4' (calibrate names cameras by their file)
    stem = Path(Path(str(video_name).rstrip("/")).name.lower()).stem
    exact = [c for c in cams if c.name and c.name.lower() == stem]
    if len(exact) == 1:
        return exact[0]
    hits = [c for c in cams if c.name and names_in(c.name.lower(), stem)]
    if not hits:
        raise Pose3dError(f"{video_name}: its name matches no camera of {where} ({', '.join(c.name for c in cams)}); "
                          f"rename the file or pass {how}")
    best = max(hits, key=lambda c: len(c.name))
    others = [c.name for c in hits if c is not best and not names_in(c.name.lower(), best.name.lower())]
    if others:
        raise Pose3dError(f"{video_name}: its name matches cameras {best.name!r} and {others[0]!r} of {where}; "
                          f"rename the file or pass {how}")
    return best


def names_in(name: str, text: str) -> bool:
    """Whether camera ``name`` appears in ``text`` as a word of its own: not run on into a letter where it starts or
    ends with a letter, nor into a digit where it starts or ends with a digit (``cam1`` is in ``worker_cam1.mp4``
    and ``cam1b.mp4``, not in ``cam10.mp4``; a camera ``A`` is not in ``cam02``)."""
    def same(a: str, b: str) -> bool:
        return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())

    for m in re.finditer(re.escape(name), text):
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if not same(before, name[0]) and not same(after, name[-1]):
            return True
    return False


#: frames whose aspect ratio differs from the calibration's by more than this are another geometry (rotated, cropped)
MAX_ASPECT_CHANGE = 0.02


def camera_for_size(cam: Camera, size: tuple[int, int], what: str = "") -> Camera:
    """``cam`` with its intrinsics scaled to frames of ``size`` (width, height) when it was calibrated at another
    size (the shared Qualisys file says 1088 px wide; two of its videos are 1080). Frames of another aspect ratio
    (a video rotated to landscape, a crop) are refused: stretching K would be silently wrong. ``what`` names the
    frames' source in that message."""
    cw, ch = cam.size
    if (cw, ch) == tuple(size):
        return cam
    if abs((size[0] / size[1]) / (cw / ch) - 1) > MAX_ASPECT_CHANGE:
        raise Pose3dError(f"{what or 'frames'}: {size[0]}x{size[1]} frames, but camera {cam.name!r} was calibrated at "
                          f"{cw}x{ch} (another shape: rotated or cropped?); use the video as the camera recorded it, "
                          "or calibrate at this size")
    K = cam.K.copy()
    K[0] *= size[0] / cw
    K[1] *= size[1] / ch
    return Camera(K, cam.dist, cam.R, cam.t, tuple(size), cam.name)
