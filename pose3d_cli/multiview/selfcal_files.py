"""Files in, rig out for :mod:`.selfcal`: read or detect two views, find the first view's scene vertical, write the
rig JSON atomically (the plain function behind ``pose3d calibrate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Pose3dError
from .selfcal import MIN_SEEN_FRAMES, PairCalibration, calibrate_pair


#: the field of view taken when neither ``--fov`` nor the first video's scene lines give it (a phone's main camera)
DEFAULT_FOV_DEG = 65.0
#: fewer frames than this are refused before any detection (a photo, a clip cut too short); calibrate_pair then
#: needs as many frames in which both views see the worker
MIN_FRAMES = MIN_SEEN_FRAMES


def calibrate_files(inputs: list[str], output: str, fov_deg: float | None = None, height_mm: float = 1700.0,
                    max_offset: int | None = None, detector: str = "full",
                    on_view: Callable[[str], None] | None = None) -> PairCalibration:
    """Two videos or 2D keypoint files of one worker → a rig JSON at ``output`` (:func:`.selfcal.calibrate_pair`).
    Every check that needs no detection (readable inputs, equal lengths) runs before any detection. ``fov_deg``
    None: the first video's scene lines find it (their focal search) where they are accepted, else
    :data:`DEFAULT_FOV_DEG`; the lines' vertical then sets the world's up."""
    from ..atomic import write_text_atomic
    from ..detect.keypoint_files import read_keypoints
    from ..infer.pipeline import InferOptions, detect_video, is_keypoint_input, read_track
    from ..infer.sources import open_source
    from .reference import auto_max_offset, check_distinct, check_lengths, check_rates

    check_distinct(inputs)
    names = [Path(i).stem for i in inputs]
    if names[0].lower() == names[1].lower():  # videos are matched to cameras by name, letter case aside
        raise Pose3dError(f"both inputs are called {names[0]!r}: the cameras are named after their files; rename one")
    keypoint = [Path(i).exists() and is_keypoint_input(Path(i)) for i in inputs]
    sources: list = [None, None]
    tracks: list = [None, None]
    for k, inp in enumerate(inputs):
        if keypoint[k]:
            tracks[k] = read_track(Path(inp), InferOptions())
            if read_keypoints(Path(inp)).image_size is None:
                raise Pose3dError(f"{inp}: the 2D file does not give its image size, which the intrinsics need; "
                                  "write it (pose3d CSV '# image_size: WxH') or give the videos")
        else:
            sources[k] = open_source(inp)
    lengths = [len(tracks[k].frame) if keypoint[k] else sources[k].num_frames for k in range(2)]
    check_lengths(inputs, lengths)
    check_rates(inputs, [(tracks[k].fps if tracks[k].fps_given else None) if keypoint[k] else sources[k].fps
                         for k in range(2)])
    if any(n is not None and n < MIN_FRAMES for n in lengths):
        raise Pose3dError(f"{min(n for n in lengths if n is not None)} frames: calibrate needs videos of the worker "
                          f"moving, at least {MIN_FRAMES} frames (a few seconds is better)")
    for k, inp in enumerate(inputs):
        if tracks[k] is None:
            if on_view:
                on_view(inp)
            tracks[k] = detect_video(sources[k], detector=detector)
    check_lengths(inputs, [len(t.frame) for t in tracks], " after decoding")
    if tracks[0].skeleton != tracks[1].skeleton:
        raise Pose3dError(f"the two views' 2D come in different skeletons ({tracks[0].skeleton}, "
                          f"{tracks[1].skeleton}); give both from the same detector")
    T = len(tracks[0].frame)
    if max_offset is None:
        max_offset = auto_max_offset(tracks[0].fps, T)
    scene = None
    if sources[0] is not None:
        from types import SimpleNamespace

        from ..infer.scene import scene_vertical

        t0 = tracks[0]  # the person's limbs are left out of the line search (scene_vertical reads these fields)
        person = SimpleNamespace(frame=t0.frame, detected=(np.asarray(t0.conf) > 0).sum(1) >= 4, uv=t0.uv,
                                 conf=t0.conf, metadata={"skeleton": t0.skeleton})
        def lines_at(fov):  # the first video's scene lines, fitted at ``fov`` (None: searched)
            fn = scene_vertical(sources[0], [person], fov)
            found = fn(None) if fn is not None else None
            return found if found is not None and found.accepted else None

        scene = lines_at(fov_deg)
        if scene is not None and fov_deg is None and not scene.focal_searched:
            # the lines did not find the field of view, so the cameras get the default: their vertical is refitted
            # at it (fitted at the search's best guess, 40° where the truth was 65°, it was 12° off)
            scene = lines_at(DEFAULT_FOV_DEG)
    moving = scene is not None and bool(getattr(scene, "moving", False))
    fov_from = "given (--fov)" if fov_deg else "found from the first video's scene lines" if scene is not None and \
        scene.focal_searched else f"assumed ({DEFAULT_FOV_DEG:g}°: a phone's main camera; give --fov)"
    if fov_deg is None:
        fov_deg = float(scene.fov_deg) if scene is not None and scene.focal_searched else DEFAULT_FOV_DEG
    scene_up = (lambda K: np.asarray(scene.up, float)) if scene is not None else None
    uv = np.stack([t.uv for t in tracks]).astype(np.float64)
    conf = np.stack([t.conf for t in tracks]).astype(np.float64)
    r = calibrate_pair(uv, conf, [tuple(t.size) for t in tracks], tracks[0].skeleton, names, fov_deg, max_offset,
                       height_mm, scene_up)
    r.notes[:0] = [f"field of view {fov_deg:.1f}° {fov_from}", f"vertical from {r.up_from}"]
    if moving:
        r.notes.append(f"{inputs[0]}: its scene lines show a moving camera, and the calibration assumes both phones "
                       "still (on a stand or set down): recalibrate with still phones")
    from ..synth.cameras import rig_json

    write_text_atomic(rig_json(r.cameras, calibrated_by="pose3d calibrate (self-calibration from the worker's joints)",
                               sync_offset_frames=r.offset, fov_deg=round(fov_deg, 2), vertical_from=r.up_from,
                               notes=r.notes), output)
    return r
