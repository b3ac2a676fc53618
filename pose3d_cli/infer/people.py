"""Several people: detect or read every person per frame, track them (:mod:`.tracking`), one Track2D each.

``detect_people`` streams a video/photos through :class:`pose3d_cli.detect.multi.MultiPersonDetector`;
``read_people`` takes every person a keypoint file lists (:attr:`KeypointSequence.people`). Both return one
:class:`~.pipeline.Track2D` per person (``person`` = its id, 0 = the most prominent over the input), which the
pipeline lifts, smooths and swap-fixes on its own. ``select_people`` applies ``--person ID|largest|all``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Pose3dError
from ..skeleton import get_skeleton
from .sources import FrameSource, detector_frames
from .tracking import People, track_people


#: a person out of view (or hidden) for up to this long is re-identified by appearance (:mod:`.appearance`)
REID_SECONDS = 5.0
#: a video track whose mean joint confidence is lower is a pose hallucinated on clutter (measured: pose2sim cam04's
#: treadmill foot 0.57; real people 0.82-0.97 on sports2d and pose2sim)
MIN_TRACK_CONFIDENCE = 0.7


def parse_person(text: str | int | None) -> str | int:
    """``--person``: ``all``, ``largest`` or a non-negative id; Pose3dError otherwise."""
    if text is None:
        return "all"
    if isinstance(text, int) or (str(text).strip().isascii() and str(text).strip().isdigit()):  # not '²'
        return int(text)
    t = str(text).strip().lower()
    if t in ("all", "largest"):
        return t
    raise Pose3dError(f"--person {text!r}: expected all, largest or a person id (0, 1, ...)")


def _tracks_of(people: People, base, skeleton: str) -> list:
    """People → one Track2D per person, sharing ``base``'s frames and metadata."""
    J = get_skeleton(skeleton).num_joints
    if len(people) == 0:  # nobody anywhere: one empty person, as the single-person path writes it
        T = len(base.frame)
        return [replace(base, uv=np.zeros((T, J, 2), np.float32), conf=np.zeros((T, J), np.float32),
                        world=None if base.world is None else np.full((T, J, 3), np.nan, np.float32), person=0)]
    return [replace(base, uv=people.xy[p], conf=people.conf[p],
                    world=None if people.world is None else people.world[p], person=int(people.ids[p]))
            for p in range(len(people))]


def detect_people(source: FrameSource, opts, on_frame: Callable[[int], None] | None = None) -> list:
    """Run the multi-person detector over every frame (streamed) and track the people (see module doc)."""
    from ..detect.multi import MultiPersonDetector
    from .pipeline import Track2D, photo_files

    mode = "video" if source.kind in ("video", "camera") else "image"
    from .appearance import appearance_descriptor

    frames, times, sizes, poses, worlds, apps = [], [], [], [], [], []
    width = opts.detect_width
    frames_in = detector_frames(source, width, rgb=True)  # decoding starts while the detector loads
    with MultiPersonDetector(opts.detector_model, mode=mode, variant=opts.detector,
                             max_people=opts.max_people) as det:
        for i, t, img, scale in frames_in:
            sizes.append((int(round(img.shape[1] / scale)), int(round(img.shape[0] / scale))))
            found = det.detect_all(img, rgb=True)
            # appearance before rescaling: the descriptor reads the detector's image
            apps.append([appearance_descriptor(img, kp.xy, kp.confidence, rgb=True) for kp in found])
            for kp in found:
                kp.xy /= scale
            frames.append(i)
            times.append(t)
            poses.append([(kp.xy, kp.confidence) for kp in found])
            worlds.append([kp.world_mm for kp in found])
            if on_frame:
                on_frame(i)
    if not frames:
        raise Pose3dError(f"{source.name}: no frame could be read")
    J = get_skeleton("blazepose33").num_joints
    independent = source.kind == "images"
    # tracks shorter than half a second are detector blips (BlazePose hallucinates poses on clutter for a few
    # frames); a lost person keeps its id for up to one second by position, up to REID_SECONDS by appearance
    people = track_people(poses, J, worlds, independent=independent, max_lost=int(round(source.fps)),
                          min_frames=min_track_frames(source.fps, len(frames)), appearances=apps,
                          min_confidence=MIN_TRACK_CONFIDENCE,
                          reid_window=int(round(REID_SECONDS * source.fps)))
    name = (f"mediapipe-blazepose-{opts.detector}" if opts.detector_model is None
            else f"mediapipe-blazepose:{opts.detector_model}") + " (multi-person)"
    base = Track2D(np.array(frames), np.array(times), np.zeros((len(frames), J, 2), np.float32),
                   np.zeros((len(frames), J), np.float32), "blazepose33", source.fps, source.size, source.name,
                   name, None, independent=independent, sizes=np.array(sizes) if independent else None,
                   files=photo_files(source, frames))
    return _tracks_of(people, base, "blazepose33")


def min_track_frames(fps: float, n_frames: int) -> int:
    """Frames a track needs to count as a person: half a second (shorter tracks are detector blips: BlazePose
    hallucinates poses on clutter for a few frames), at least 3, but never more than half the clip (a clip shorter
    than a second would otherwise have nobody in it)."""
    return max(1, min(max(3, int(round(0.5 * fps))), n_frames // 2))


def read_people(path: Path, opts) -> list:
    """Every person of a keypoint file (OpenPose, COCO, MMPose), tracked; a file of one person gives one."""
    from .pipeline import read_track

    base = read_track(path, opts)
    from ..detect.keypoint_files import read_keypoints

    seq = read_keypoints(path)
    if seq.people is None:
        return [replace(base, person=0)]
    J = get_skeleton(seq.skeleton).num_joints
    if seq.person_ids is not None:  # the file names its people (pose3d's own CSV): its ids are kept
        return _tracks_of(_people_by_id(seq.people, seq.person_ids, J), base, seq.skeleton)
    people = track_people(seq.people, J, max_lost=int(round(base.fps)),
                          min_frames=min_track_frames(base.fps, len(seq.people)))
    return _tracks_of(people, base, seq.skeleton)


def _people_by_id(frames: list[list[tuple[np.ndarray, np.ndarray]]], ids: list[list[int]], J: int) -> People:
    """Per-frame people with given ids → dense :class:`People` (ids ascending), no tracking."""
    all_ids = sorted({i for row in ids for i in row})
    slot = {pid: k for k, pid in enumerate(all_ids)}
    xy = np.zeros((len(all_ids), len(frames), J, 2), np.float32)
    conf = np.zeros((len(all_ids), len(frames), J), np.float32)
    for t, (row, row_ids) in enumerate(zip(frames, ids)):
        for (pxy, pc), pid in zip(row, row_ids):
            xy[slot[pid], t], conf[slot[pid], t] = pxy, pc
    return People(np.array(all_ids, np.int64), xy, conf)


def select_people(tracks: list, person: str | int, name: str) -> list:
    """``all`` → every track; ``largest`` → id 0; an id → that track, or Pose3dError listing the ids found."""
    if person == "all":
        return tracks
    if person == "largest":
        return tracks[:1]
    chosen = [t for t in tracks if t.person == person]
    if not chosen:
        ids = ", ".join(str(t.person) for t in tracks)
        raise Pose3dError(f"{name}: --person {person}: no such person; people found: {ids} "
                          f"(give one of these ids, largest or all)")
    return chosen
