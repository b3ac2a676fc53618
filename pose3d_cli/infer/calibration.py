"""Camera intrinsics for inference: a phone's default field of view, ``--fov``, ``--focal`` or a calibration file.

Without calibration pose3d assumes a phone main camera: ``DEFAULT_FOV_DEG`` = 65° across the image's long
side (phone main cameras are 26-28 mm full-frame equivalents, defined on the 43.3 mm diagonal: 67-63° across a
4:3 sensor's long side, which a 16:9 video crop keeps; stabilisation crops narrow it a little). The lifter's codec only uses the intrinsics to turn pixels into viewing
rays, so a wrong FOV costs accuracy gently, not catastrophically.

Calibration files:
- pose3d rig JSON (see :mod:`pose3d_cli.synth.cameras`): ``{"cameras": [{"name", "K", "dist", "R", "t", "size"}]}``;
- Qualisys ``.qca.txt`` XML: ``K`` from ``focalLength{U,V}/64`` and ``centerPoint{U,V}/64`` minus the
  ``fov_video`` offsets, image size from ``fov_video``, distortion ``(k1, k2, p1, p2, k3)`` as given; when
  the video's width differs from the calibrated one (1080 vs 1088 px), x is scaled to match.
The camera is picked by ``name`` (default: the one whose name appears in the video file name; a name that matches
no camera is an error that lists the names). The readers live in :mod:`pose3d_cli.multiview.calibration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from ..multiview.calibration import (camera_by_name, camera_for_size, camera_for_video, load_calibration,  # noqa: F401
                                    read_qualisys)
from ..synth.cameras import Camera, intrinsics_from_fov

DEFAULT_FOV_DEG = 65.0


@dataclass
class Intrinsics:
    K: np.ndarray  # (3, 3)
    dist: np.ndarray | None  # (5,) or None
    source: str  # how they were chosen, for the output metadata
    up: np.ndarray | None = None  # (3,) world up (+Z) in the camera frame, when a calibration gives it


def pick_camera(cams: list[Camera], name: str | None, video_name: str) -> Camera:
    """The camera called ``name``, else the one whose name appears in the video's file name (a calibration with
    one camera is that camera); no match is an error listing the names (never a silent first camera)."""
    if name is not None:
        return camera_by_name(cams, name)
    return camera_for_video(cams, video_name, option="--calib-camera")


def intrinsics_for(size: tuple[int, int], fov: float | None = None, focal: float | None = None,
                   calib: str | Path | None = None, calib_camera: str | None = None, video_name: str = "") -> Intrinsics:
    """Intrinsics for frames of ``size`` (width, height), by priority: calibration file, focal, FOV, default FOV."""
    w, h = size
    if calib:
        cam = camera_for_size(pick_camera(load_calibration(calib), calib_camera, video_name), (w, h),
                              video_name or str(calib))
        return Intrinsics(cam.K, cam.dist, f"calibration {Path(calib).name}:{cam.name}", cam.R @ np.array([0.0, 0.0, 1.0]))
    if focal:
        return Intrinsics(np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1.0]]), None, f"focal {focal:g} px")
    f = fov or DEFAULT_FOV_DEG
    return Intrinsics(intrinsics_from_fov(f, w, h), None, f"fov {f:g} deg across the long side"
                      + ("" if fov else " (default phone)"))


def check_inputs(inputs: list[str], calib: str | Path | None = None, calib_camera: str | None = None,
                 size: tuple[int, int] | None = None) -> None:
    """What can be checked of every input before any detection: each video, image, folder or camera opens (a later
    one missing or unreadable must not leave the earlier ones' outputs behind) and each keypoint file parses; with a
    calibration, each input names one of its cameras and has that camera's frame shape (a rotated or cropped video,
    or keypoints of other images, are refused, not stretched). ``size``: ``--size``, a keypoint file's image size."""
    from ..detect.keypoint_files import read_keypoints
    from .pipeline import is_keypoint_input
    from .sources import open_source

    cams = load_calibration(calib) if calib else None
    for inp in inputs:
        path, live = Path(inp), str(inp).startswith("camera:")
        cam = pick_camera(cams, calib_camera, str(inp)) if cams is not None else None
        if live and cam is None:
            continue  # a live camera is opened when used; only a calibration needs its frame size now
        if not live and path.exists() and is_keypoint_input(path):
            seq = read_keypoints(path)  # its format and contents, with the reader's one-line errors
            shown = size or seq.image_size
            if shown is not None:  # keypoints of other images than the size says (read_track's own check, earlier)
                from .pipeline import check_keypoints_fit

                check_keypoints_fit(inp, seq.xy, seq.confidence, tuple(shown))
            if cam is not None and shown is not None:
                try:
                    camera_for_size(cam, tuple(shown), str(inp))
                except Pose3dError:
                    raise Pose3dError(f"{inp}: its 2D is of {shown[0]}x{shown[1]} images "
                                      f"({'--size' if size else 'as the file says'}), but camera {cam.name!r} was "
                                      f"calibrated at {cam.size[0]}x{cam.size[1]}; give --size WIDTHxHEIGHT of the "
                                      "footage the keypoints come from, or the right --calib-camera") from None
            continue
        source = open_source(inp)  # one line for a missing, empty or undecodable input (a camera: one frame read)
        if source.kind == "images" and len(source.paths) > 1:  # every photo of a folder, by its header (not decoded)
            import cv2

            for img in source.paths:
                if not cv2.haveImageReader(str(img)):
                    raise Pose3dError(f"{img}: not an image (its bytes are no format OpenCV reads); remove it from "
                                      f"the folder {path.name} or replace it")
        if cam is not None:
            camera_for_size(cam, source.size, str(inp))


def check_calib_camera(calib_camera: str | None, calib: str | Path | None) -> None:
    """``--calib-camera`` names a camera of ``--calib``: without a calibration it would do nothing (refused)."""
    if calib_camera and not calib:
        raise Pose3dError(f"--calib-camera {calib_camera}: names a camera of a calibration; give --calib too (or "
                          "drop --calib-camera)")


def check_intrinsics_options(fov: float | None, focal: float | None, calib: str | Path | None) -> None:
    """One source of intrinsics: ``--calib`` carries them, ``--focal`` and ``--fov`` each say them; two given at
    once is refused (one would be silently ignored)."""
    given = [name for name, v in (("--calib", calib), ("--focal", focal), ("--fov", fov)) if v]
    if len(given) > 1:
        raise Pose3dError(f"{' and '.join(given)}: give one source of the camera's intrinsics (a calibration "
                          "carries them; --focal and --fov each set them)")
