"""``pose3d infer``: video, images or 2D keypoint files → per-frame root-relative 3D joints.

1. 2D: the built-in BlazePose detector streams the frames (VIDEO mode: it tracks the most prominent person),
   or a keypoint file from another detector is read (no detector runs). Frames are never all in memory.
2. The detector's skeleton is converted to the lifter's by joint name (:func:`pose3d_cli.skeleton.convert`).
3. Pixels become normalised camera coordinates with the intrinsics (:mod:`.calibration`): the same codec
   step as training.
4. The lifter runs over the whole sequence (temporal models: edge-padded); frames without a detection
   are filled from the nearest detected frame for the lifter's context, and written as ``detected=0``.
5. Single-frame models get optional smoothing (zero-phase Butterworth for files, One-Euro for cameras).
6. Each person's skeleton is fitted over the track (:mod:`.skeleton_fit`: constant bone lengths, kept on the
   2D camera rays), unless ``--skeleton-fit none``.
7. Each frame's pose is placed in the camera (:mod:`.trajectory`: the root position that makes it project onto
   its 2D), smoothed like the poses; ``--person-height`` rescales pose and position to the person's height.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from ..errors import Pose3dError
from ..lifting.codec import CODEC_NAME
from ..skeleton import convert, get_skeleton
from .calibration import intrinsics_for
from .detector_points import from_track, swap_sides
from .lifter import Lifter, load_lifter
from .smooth import smooth as smooth_poses
from .sources import FrameSource, detector_frames, open_source
from .viterbi import two_state_viterbi
from .writers import Photos, PoseTrack, format_of

MIN_JOINTS = 6  # a frame counts as detected when at least this many lifter joints have confidence > 0


@dataclass
class InferOptions:
    model: str | None = None
    fov: float | None = None
    focal: float | None = None
    calib: str | None = None
    calib_camera: str | None = None
    smooth: str = "auto"  # auto: single-frame models: butter (files), one-euro (cameras); temporal models: none
    skeleton_fit: str = "rays"  # rays | lengths | none: constant bone lengths per person (infer/skeleton_fit.py)
    detector_model: str | None = None
    fps: float | None = None
    size: tuple[int, int] | None = None  # image size for keypoint files that do not say it
    min_conf: float = 0.3
    with_2d: bool = False
    fmt: str | None = None
    render: str | None = None
    detect_width: int | None = None  # downscale wider frames to this width for the detector (speed)
    fix_swaps: bool = True  # undo whole-body left/right label swaps of the detector
    angles: bool = False  # add ergonomic joint angles (see pose3d_cli/angles.py)
    detector: str = "full"  # shipped BlazePose bundle: full, or lite (faster, a little less accurate)
    detector_3d: bool = False  # write the detector's own 3D (MediaPipe world landmarks) instead of lifting
    person: str | int = "all"  # which people to write: all, largest (id 0) or one id (see infer/people.py)
    max_people: int = 4  # people per frame for the built-in detector; 1 = the single-person BlazePose path
    person_height: float | None = None  # cm: rescale 3D and root position to this standing height (trajectory.py)
    fov_auto: bool = False  # a video's field of view from its scene's vertical lines (infer_one; --fov auto)


@dataclass
class Track2D:
    frame: np.ndarray  # (T,)
    time_s: np.ndarray  # (T,)
    uv: np.ndarray  # (T, J, 2) px, source skeleton
    conf: np.ndarray  # (T, J)
    skeleton: str
    fps: float
    size: tuple[int, int]
    name: str
    detector: str
    world: np.ndarray | None = None  # (T, J, 3) mm: the detector's own 3D (BlazePose world landmarks), if any
    independent: bool = False  # frames are unrelated photos: no smoothing, swap fix or temporal context
    sizes: np.ndarray | None = None  # (T, 2) width, height of each photo when they differ
    person: int = 0  # the person's track id (0 = the most prominent; see infer/tracking.py)
    files: list[str] | None = None  # (T,) the file name of each photo (a folder of photos)
    fps_given: bool = True  # False: a keypoint file that does not say its frame rate (``fps`` is then a default)
    size_guessed: bool = False  # True: a keypoint file that does not say its image size (bounded by its keypoints)


@dataclass
class InferSummary:
    input: str
    output: str
    frames: int
    detected: int
    seconds: float
    detect_seconds: float = 0.0
    lift_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


KEYPOINT_SUFFIXES = {".json", ".csv"}


def is_keypoint_input(path: Path) -> bool:
    """A 2D keypoint file (JSON/CSV) or an OpenPose folder of ``*_keypoints.json``."""
    if path.is_dir():  # photos with .json sidecars (IMG.jpg.json) are a photo folder, not OpenPose's
        return any(path.glob("*_keypoints.json"))
    return path.suffix.lower() in KEYPOINT_SUFFIXES


def detect_video(source: FrameSource, detector_model: str | None = None,
                 on_frame: Callable[[int], None] | None = None, detect_width: int | None = None,
                 detector: str = "full") -> Track2D:
    """Run the built-in detector (``detector``: the shipped BlazePose variant, full or lite, unless
    ``detector_model`` is given) over every frame (streamed); frames wider than ``detect_width`` are
    downscaled for the detector and its keypoints scaled back to the original pixels."""
    from ..detect.mediapipe import BlazePoseDetector

    mode = "video" if source.kind in ("video", "camera") else "image"
    frames, times, uvs, confs, worlds, sizes = [], [], [], [], [], []
    J = get_skeleton("blazepose33").num_joints
    frames_in = detector_frames(source, detect_width, rgb=True)  # decoding starts while the detector loads
    with BlazePoseDetector(detector_model, mode=mode, variant=detector) as det:
        for i, t, img, scale in frames_in:
            sizes.append((int(round(img.shape[1] / scale)), int(round(img.shape[0] / scale))))
            kp = det(img, int(round(t * 1000)) if mode == "video" else None, rgb=True)
            if kp is not None and scale != 1.0:
                kp.xy /= scale
            frames.append(i)
            times.append(t)
            if kp is None:
                uvs.append(np.zeros((J, 2), np.float32))
                confs.append(np.zeros(J, np.float32))
                worlds.append(np.full((J, 3), np.nan, np.float32))
            else:
                uvs.append(kp.xy)
                confs.append(kp.confidence)
                worlds.append(kp.world_mm if kp.world_mm is not None else np.full((J, 3), np.nan, np.float32))
            if on_frame:
                on_frame(i)
    if not frames:
        raise Pose3dError(f"{source.name}: no frame could be read")
    name = f"mediapipe-blazepose-{detector}" if detector_model is None else f"mediapipe-blazepose:{detector_model}"
    return Track2D(np.array(frames), np.array(times), np.stack(uvs), np.stack(confs), "blazepose33", source.fps,
                   source.size, source.name, name, np.stack(worlds), independent=source.kind == "images",
                   sizes=np.array(sizes) if source.kind == "images" else None, files=photo_files(source, frames))


def photo_files(source: FrameSource, frames: list[int]) -> list[str] | None:
    """The file name of each frame of a folder of photos (None for a video or camera)."""
    return [source.paths[i].name for i in frames] if source.kind == "images" else None


def frame_intrinsics(track: Track2D, opts: InferOptions, K: np.ndarray) -> np.ndarray:
    """``K`` (3, 3) of ``track.size``, or (T, 3, 3) for photos of different sizes: each photo gets the same camera
    model at its own size; with ``--calib``, the calibrated camera scaled to each photo's size, and a photo of
    another shape (turned upright, cropped) refused naming it (every photo was lifted with the first one's K)."""
    if track.sizes is None or len(set(map(tuple, track.sizes))) <= 1:
        return K
    if not opts.calib:
        return np.stack([intrinsics_for(tuple(sz), opts.fov, opts.focal).K for sz in track.sizes])
    from ..multiview.calibration import camera_for_size
    from .calibration import load_calibration, pick_camera

    cam = pick_camera(load_calibration(opts.calib), opts.calib_camera, track.name)  # as intrinsics_for picks it
    names = track.files or [track.name] * len(track.sizes)
    return np.stack([camera_for_size(cam, tuple(int(v) for v in sz), str(name)).K
                     for sz, name in zip(track.sizes, names)])


def photos_of(track: Track2D, K: np.ndarray) -> Photos | None:
    """Each photo's file name, size and the intrinsics ``K`` ((3, 3) or (T, 3, 3)) it was lifted with."""
    if track.files is None or track.sizes is None:
        return None
    T = len(track.frame)
    return Photos(list(track.files), np.asarray(track.sizes), np.broadcast_to(K, (T, 3, 3)))


def read_track(path: Path, opts: InferOptions) -> Track2D:
    """2D keypoints from another detector's file (OpenPose, COCO, MMPose, pose3d CSV)."""
    from ..detect.keypoint_files import read_keypoints

    seq = read_keypoints(path)
    fps = opts.fps or seq.fps or 30.0
    size = opts.size or seq.image_size
    if size is not None:
        check_keypoints_fit(path, seq.xy, seq.confidence, tuple(size))
    if size is None and opts.calib:  # the calibrated camera's frames (as triangulate reads 2D files)
        from .calibration import load_calibration, pick_camera

        size = pick_camera(load_calibration(opts.calib), opts.calib_camera, str(path)).size
    if size is None:  # no image size anywhere: bound it by the keypoints (documented; --size to override)
        valid = seq.confidence > 0
        mx = seq.xy[valid].max(axis=0) if valid.any() else np.array([1920.0, 1080.0])
        size = (int(np.ceil(mx[0] * 1.05)), int(np.ceil(mx[1] * 1.05)))
    frame = seq.frame_indices
    return Track2D(frame, frame / fps, seq.xy, seq.confidence, seq.skeleton, fps, tuple(size), str(path),
                   f"file ({Path(path).name})", fps_given=bool(opts.fps or seq.fps),
                   size_guessed=not (opts.size or seq.image_size or opts.calib))


#: a declared image size is wrong when more than this share of the confident keypoints lie outside it (by more than a
#: tenth of the image: a detector places a joint beyond the border now and then, and a person may step partly out)
OUTSIDE_SHARE = 0.5
#: ... or when more than this share do while the width and height exchanged would hold them (a rotated video)
OUTSIDE_SHARE_ROTATED = 0.2


def outside_share(xy: np.ndarray, size: tuple[int, int]) -> float:
    """The share of (N, 2) px points more than a tenth of the image outside a ``size`` (width, height) image."""
    w, h = size
    out = (xy[:, 0] < -0.1 * w) | (xy[:, 0] > 1.1 * w) | (xy[:, 1] < -0.1 * h) | (xy[:, 1] > 1.1 * h)
    return float(out.mean())


def check_keypoints_fit(path, xy: np.ndarray, conf: np.ndarray, size: tuple[int, int]) -> None:
    """Refuse 2D keypoints (T, J, 2) px whose declared image size ``size`` (width, height) cannot be theirs: a
    landscape size for portrait frames, another resolution (the intrinsics would be silently wrong)."""
    pts = xy[(conf >= 0.5) & np.isfinite(xy).all(-1)]
    if len(pts) < 10:
        return
    share = outside_share(pts, size)
    rotated = share > OUTSIDE_SHARE_ROTATED and outside_share(pts, size[::-1]) < 0.05
    if share > OUTSIDE_SHARE or rotated:
        span = pts.max(0)
        raise Pose3dError(f"{path}: {100 * share:.0f}% of its confident keypoints lie outside its {size[0]}x{size[1]} "
                          f"image (they reach x {span[0]:.0f}, y {span[1]:.0f} px): the image size does not match the "
                          f"2D ({'rotated: they fit ' + f'{size[1]}x{size[0]}' if rotated else 'another resolution?'}); "
                          "correct '# image_size' (or --size), or give the video")


def fill_undetected(x: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """(T, ...) → the same with undetected frames copied from the nearest detected frame."""
    if detected.all() or not detected.any():
        return x
    idx = np.flatnonzero(detected)
    pos = np.searchsorted(idx, np.arange(len(detected)))
    left = idx[np.clip(pos - 1, 0, len(idx) - 1)]
    right = idx[np.clip(pos, 0, len(idx) - 1)]
    t = np.arange(len(detected))
    nearest = np.where(np.abs(t - left) <= np.abs(right - t), left, right)
    return x[nearest]


def fix_left_right_swaps(uv: np.ndarray, conf: np.ndarray, detected: np.ndarray, skeleton,
                         ratio: float = 0.5) -> tuple[np.ndarray, np.ndarray, int]:
    """Undo whole-body left/right label swaps of the 2D detector (BlazePose swaps sides in about a quarter of
    the frames where the subject shows its back), decoding the whole track at once.

    Two states per detected frame, *as detected* or *swapped*; a two-state Viterbi finds the labelling of the
    whole track with the lowest cost:

    - continuity between consecutive detected frames: the squared 2D displacement of the left/right joints
      (visible in both frames) under the two labellings, in units of the track's typical frame-to-frame motion
      (the median displacement, at least 0.5% of the person's size), so a label jump costs ``(jump / motion)^2``;
    - a prior of one such unit per swapped frame: the detector is right more often than not, which settles the
      one thing continuity cannot (relabelling *every* frame costs the same continuity as relabelling none).

    A track that starts swapped is repaired when the swapped start is the shorter part (the first frames are
    relabelled, not the rest); a track swapped for most of its length is relabelled the other way, all wrong,
    since continuity cannot tell which labelling is right and the prior counts frames (an absolute cue, e.g. the
    facing direction, is not used). A real turn (left and right joints crossing over continuously) is kept: it has
    no jump to remove.

    Args:
        uv: (T, J, 2) pixels; conf: (T, J); detected: (T,) bool.
        ratio: kept for compatibility; unused.
    Returns:
        uv, conf with swaps undone, and the number of frames swapped back.
    """
    del ratio
    left, right = np.array(skeleton.joints_left), np.array(skeleton.joints_right)
    perm = skeleton.flip_permutation
    uv, conf = uv.copy(), conf.copy()
    idx = np.flatnonzero(detected)
    if len(idx) < 2 or len(left) == 0:
        return uv, conf, 0
    a, b = idx[:-1], idx[1:]  # consecutive detected frames
    vis = (conf[a][:, left] > 0) & (conf[a][:, right] > 0) & (conf[b][:, left] > 0) & (conf[b][:, right] > 0)
    L0, R0, L1, R1 = uv[a][:, left], uv[a][:, right], uv[b][:, left], uv[b][:, right]  # (N-1, P, 2)
    keep = np.where(vis, ((L1 - L0) ** 2).sum(-1) + ((R1 - R0) ** 2).sum(-1), 0.0).sum(-1)  # (N-1,)
    swap = np.where(vis, ((L1 - R0) ** 2).sum(-1) + ((R1 - L0) ** 2).sum(-1), 0.0).sum(-1)
    informative = vis.sum(-1) >= 3
    keep, swap = np.where(informative, keep, 0.0), np.where(informative, swap, 0.0)
    pts = np.where(conf[idx][..., None] > 0, uv[idx], np.nan)
    size = float(np.nanmedian(np.linalg.norm(np.nanmax(pts, 1) - np.nanmin(pts, 1), axis=-1)))
    per_joint = np.sqrt(np.minimum(keep, swap) / np.maximum(2 * vis.sum(-1), 1))[informative]
    motion = max(float(np.median(per_joint)) if per_joint.size else 0.0, 0.005 * size, 1e-6)
    unit = 2 * len(left) * motion ** 2  # one frame's squared displacement of all pairs at the typical motion
    keep, swap = keep / unit, swap / unit
    # Viterbi over the detected frames; state 0 = as detected, 1 = swapped; switching state costs `swap`
    state = two_state_viterbi(keep, swap, prior=1.0)
    flip = idx[state == 1]
    uv[flip], conf[flip] = uv[flip][:, perm], conf[flip][:, perm]
    return uv, conf, len(flip)


def lift_track(track: Track2D, lifter: Lifter, opts: InferOptions) -> PoseTrack:
    """2D track → 3D poses (see module doc)."""
    from ..lifting.codec import pixels_to_network_input

    sk = lifter.skeleton
    uv, conf = convert(track.uv, track.skeleton, sk, track.conf)
    detected = (conf > 0).sum(axis=1) >= MIN_JOINTS
    swaps_fixed = 0
    swapped = np.zeros(len(uv), bool)  # frames whose left/right labels the swap fix exchanged
    points = from_track(track.uv, track.conf, track.world, track.skeleton)
    if opts.fix_swaps and not track.independent:
        before = uv
        uv, conf, swaps_fixed = fix_left_right_swaps(uv, conf, detected, sk)
        swapped = (uv != before).any(axis=(1, 2))
        if points is not None and swaps_fixed:
            points = swap_sides(points, swapped)
    intr = intrinsics_for(track.size, opts.fov, opts.focal, opts.calib, opts.calib_camera, track.name)
    K = frame_intrinsics(track, opts, intr.K)
    xy, c = pixels_to_network_input(uv, conf, K, intr.dist)
    det = None
    if lifter.takes_det3d:  # the fused lifter: BlazePose's world landmarks when the track has them, else masked
        from .detector3d import detector_world_joints

        det = detector_world_joints(track, sk.name, swapped)
        if det is not None:
            det = np.where(detected[:, None, None], det, np.nan)
        joints = lifter.lift(xy, c, det).astype(np.float32)
    elif track.independent:  # photos: each one alone (a temporal model sees it repeated by edge padding)
        joints = np.concatenate([lifter.lift(xy[t:t + 1], c[t:t + 1]) for t in range(len(xy))]).astype(np.float32)
    else:
        xy_f, c_f = fill_undetected(xy, detected), fill_undetected(c, detected)
        joints = lifter.lift(xy_f, c_f).astype(np.float32)
    method = opts.smooth
    if method == "auto":
        live = track.name.startswith("camera:")
        method = ("one-euro" if live else "butter") if lifter.receptive_field == 1 and not track.independent else "none"
    joints[~detected] = np.nan
    joints = smooth_poses(joints, method, track.fps, track.time_s)
    fit = {"method": opts.skeleton_fit}
    lengths_mm = None  # the track's bone lengths (one person's skeleton): what --person-height scales
    if opts.skeleton_fit != "none" and detected.any():
        from .skeleton_fit import fit_skeleton, jump_weight_at

        ray_xy = xy if opts.skeleton_fit == "rays" else None
        if track.independent:  # photos are no track: each photo its own bones and arm branches (one shared set of
            # lengths fitted unrelated people to one body, and a photo's 3D depended on the others in the folder)
            for t in np.flatnonzero(detected):
                joints[t:t + 1] = fit_skeleton(joints[t:t + 1], c[t:t + 1], sk,
                                               None if ray_xy is None else ray_xy[t:t + 1], jump_weight=0.0)[0]
            fit["bone_lengths_mm"] = "per photo (each photo fitted alone)"
        else:
            joints, lengths = fit_skeleton(joints, c, sk, ray_xy, jump_weight=jump_weight_at(track.fps))
            lengths_mm = fit["bone_lengths_mm"] = {ch: round(float(v), 1) for (ch, _), v in zip(sk.bones, lengths)}
    joints, root, placed = place_in_camera(joints, xy, c, sk, lengths_mm, opts.person_height,
                                           method, track.fps, track.time_s)
    if lengths_mm and placed["scale_factor"] != 1.0:  # the lengths of the bones as written
        fit["bone_lengths_mm"] = {k: round(v * placed["scale_factor"], 1) for k, v in lengths_mm.items()}
    meta = {
        "pose3d_version": __version__, "input": track.name, "model": lifter.path, "model_name": lifter.name,
        "backend": lifter.backend, "receptive_field": lifter.receptive_field, "skeleton": sk.name,
        "codec": CODEC_NAME, "fps": track.fps, "image_size": list(track.size), "intrinsics": intr.source,
        "K": np.round(intr.K, 3).tolist(), "detector": track.detector, "smoothing": method,
        "image_size_from": (SIZE_GUESSED if track.size_guessed else "the input"),
        "skeleton_fit": fit, "left_right_swaps_fixed": swaps_fixed,
        "detector_3d_input": ("the detector's world landmarks (fused / blend model)" if det is not None else
                              "none: lifted from 2D alone"), "independent_frames": track.independent, "person": track.person,
        "units": "mm (3D), pixels (2D)",
        "coordinate_frame": "camera: x right, y down, z forward; root-relative (pelvis at 0)",
        "root_position": placed,
    }
    angles = None
    if opts.angles:
        angles, meta["angles"] = first_angles(joints, sk, intr.up)
    return PoseTrack(track.frame, track.time_s, detected, joints, uv, conf, sk.joints, meta, angles,
                     photos_of(track, K), points, root)


def place_in_camera(joints: np.ndarray, xy: np.ndarray, conf: np.ndarray, sk, bone_lengths: dict | None,
                    person_height_cm: float | None, smoothing: str, fps: float,
                    time_s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Root-relative poses (T, J, 3) mm → (the poses, rescaled to ``person_height_cm`` when given; the root's
    camera-frame positions (T, 3) mm, smoothed by ``smoothing`` over ``time_s``; what the metadata says of them)."""
    from .trajectory import root_positions, standing_height

    lifted = standing_height(bone_lengths or {}) if bone_lengths else None
    if lifted is None:  # no skeleton fit: the median bone lengths of the track
        lens = np.nanmedian(sk.bone_lengths(joints), axis=0) if np.isfinite(joints).any() else None
        lifted = standing_height({ch: float(v) for (ch, _), v in zip(sk.bones, lens)}) if lens is not None else None
    scale = 1.0
    if person_height_cm is not None and lifted:
        scale = 10.0 * person_height_cm / lifted
        joints = (joints * scale).astype(joints.dtype)
    root = root_positions(joints, xy, conf)
    if not np.isnan(root).all():
        root = smooth_poses(root[:, None], smoothing, fps, time_s)[:, 0]
    info = {
        "columns": "root_x_mm, root_y_mm, root_z_mm: the pelvis in the camera frame (x right, y down, z forward)",
        "lifted_standing_height_mm": None if lifted is None else round(lifted, 1),
        "scale": (f"rescaled x{scale:.3f} to --person-height {person_height_cm:g} cm" if scale != 1.0 else
                  "the lifted body's size (give --person-height for this person's; depth scales with it)"),
        "scale_factor": round(scale, 6),
        "smoothing": smoothing,
    }
    return joints, root.astype(np.float32), info


def tracks_of_input(input_path: str | Path, opts: InferOptions, on_frame: Callable[[int], None] | None = None,
                    on_start: Callable[[int | None], None] | None = None) -> tuple[list[Track2D], FrameSource | None]:
    """The 2D track of every person ``opts.person`` chooses: a keypoint file is read (its people tracked), a video,
    photos or a camera are detected (``opts.max_people`` 1: the single-person BlazePose path). Returns the tracks
    and the frame source (None for a keypoint file); an unknown person id is a Pose3dError listing the ids found."""
    from .people import detect_people, read_people, select_people

    path = Path(input_path)
    source = None
    if not str(input_path).startswith("camera:") and path.exists() and is_keypoint_input(path):
        if on_start:
            on_start(None)
        tracks = read_people(path, opts)
    else:
        source = open_source(input_path, opts.fps)
        if on_start:
            on_start(source.num_frames)
        if opts.max_people == 1:
            tracks = [detect_video(source, opts.detector_model, on_frame, opts.detect_width, opts.detector)]
        else:
            tracks = detect_people(source, opts, on_frame)
    return select_people(tracks, opts.person, str(input_path)), source


def infer_one(input_path: str | Path, output: str | Path, opts: InferOptions, lifter: Lifter | None = None,
              on_frame: Callable[[int], None] | None = None, on_start: Callable[[int | None], None] | None = None) -> InferSummary:
    """Infer one input and write ``output``; returns a summary."""
    t0 = time.perf_counter()
    lifter = lifter or load_lifter(opts.model)
    fmt = format_of(output, opts.fmt)
    from .people_writers import write_people

    tracks, source = tracks_of_input(input_path, opts, on_frame, on_start)
    t1 = time.perf_counter()
    if opts.detector_3d:
        from .detector3d import detector_world_track

        people = [detector_world_track(track, lifter.skeleton.name) for track in tracks]
        for p, track in zip(people, tracks):
            p.metadata["person"] = track.person
            intr = intrinsics_for(track.size, opts.fov, opts.focal, opts.calib, opts.calib_camera, track.name)
            p.photos = photos_of(track, frame_intrinsics(track, opts, intr.K))
            if opts.angles:  # as lift_track does (they were silently left out): the world landmarks are camera-aligned
                p.angles, p.metadata["angles"] = first_angles(p.joints3d, lifter.skeleton, intr.up)
    else:
        people = [lift_track(track, lifter, opts) for track in tracks]
    a_video = source is not None and source.kind == "video"
    vertical = None  # the video's own vertical, found once for the field of view, the angles and the BVH world
    if opts.fov_auto and a_video and not opts.detector_3d:
        people, vertical = relift_with_scene_fov(people, tracks, source, lifter, opts, str(input_path))
    angles = opts.angles and not opts.calib and not tracks[0].independent and (source is None or a_video)
    world = (fmt == "bvh" or opts.render) and not opts.detector_3d
    if vertical is None and (angles or (world and not opts.calib and a_video)):
        vertical = video_vertical(people, source, opts, lifter.skeleton, str(input_path))
    if angles:
        angles_against(people, vertical, lifter.skeleton)
    if world:
        known_world_vertical(people, tracks, opts, vertical)
    t2 = time.perf_counter()
    if opts.render:  # the video first: when it fails, no CSV/JSON is left behind either
        if source is None:
            raise Pose3dError("--render needs a video or images as input (a keypoint file has no frames)")
        from .render_people import render_people

        render_people((f for _, _, f in source.frames()), [(p.metadata["person"], p.uv, p.conf, p.joints3d)
                                                           for p in people], lifter.skeleton, tracks[0].fps,
                      opts.render, up=people[0].metadata.get("vertical", {}).get("up_camera_frame"),
                      time_s=people[0].time_s)
    write_people(people, output, fmt, opts.with_2d, opts.min_conf, inputs=[input_path, opts.calib])
    poses = people[0]
    return InferSummary(str(input_path), str(output), len(poses.frame), int(poses.detected.sum()),
                        time.perf_counter() - t0, t1 - t0, t2 - t1, {"people": [p.metadata["person"] for p in people],
                                                                     **({"fov_auto": poses.metadata["fov_auto"]}
                                                                        if "fov_auto" in poses.metadata else {}),
                                                                     **placement_summary(poses)})


#: what infer says of an image size it had to guess (a keypoint file without one, no --size or --calib)
SIZE_GUESSED = ("guessed from the keypoints' extent (the file does not say it): the principal point, the default "
                "field of view's focal length and so the person's distance are guesses too; give --size WIDTHxHEIGHT")


def placement_summary(track: PoseTrack) -> dict:
    """``{"placement": ...}`` for the terminal: how far the person is from the camera and at which height (none
    when no frame was placed)."""
    info = track.metadata.get("root_position") or {}
    depth = None if track.root is None else track.root[:, 2]
    if depth is None or not np.isfinite(depth).any() or not info.get("lifted_standing_height_mm"):
        return {}
    height = info["lifted_standing_height_mm"] * info.get("scale_factor", 1.0) / 1000.0
    near, median, far = np.nanpercentile(depth, [5, 50, 95]) / 1000.0
    scale = ("--person-height" if info.get("scale_factor", 1.0) != 1.0 else
             "the lifted body's; --person-height sets it")
    return {"placement": {"near_m": float(near), "median_m": float(median), "far_m": float(far),
                          "height_m": float(height), "scale": scale,
                          "guessed": track.metadata.get("image_size_from") == SIZE_GUESSED}}


def relift_with_scene_fov(people: list[PoseTrack], tracks: list[Track2D], source: FrameSource, lifter: Lifter,
                          opts: InferOptions, name: str):
    """``--fov auto``: the video's vertical found from its scene's lines with the field of view searched
    (:mod:`pose3d_cli.body.scene_lines`, the first lift's body poses as prior); when the lines are used, every person
    is lifted again with the field of view they found. Returns (people, the vertical); each person's metadata says
    what happened (``fov_auto``)."""
    from dataclasses import replace

    vertical = video_vertical(people, source, replace(opts, fov=None, focal=None), lifter.skeleton, name)
    scene = vertical.scene or {}
    used = bool(scene.get("accepted")) and bool(scene.get("focal_searched"))  # auto mode: accepted lines are used
    if used:
        fov = round(float(scene["fov_deg"]), 1)
        people = [lift_track(track, lifter, replace(opts, fov=fov)) for track in tracks]
        info = {"used": True, "fov_deg": fov, "note": f"found from the scene's vertical lines ({scene.get('reason', '')})"}
    else:
        why = scene.get("reason") or "no frame of the video could be read for its lines"
        info = {"used": False, "fov_deg": None, "note": f"the scene's lines were not used ({why}); the default "
                                                       "phone field of view stands: give --fov or --calib for distances"}
    for p in people:
        p.metadata["fov_auto"] = info
    return people, vertical


def video_vertical(people: list[PoseTrack], source: FrameSource | None, opts: InferOptions, sk, name: str):
    """The video's own vertical (:func:`pose3d_cli.body.vertical.choose_vertical`, as ``ergo`` finds it): the scene's
    vertical lines of a video, else every person's body poses, else the level camera."""
    from ..body.vertical import choose_vertical
    from .scene import scene_vertical

    scene = scene_vertical(source, people, opts.fov, opts.focal, min_conf=opts.min_conf) if source is not None else None
    return choose_vertical([p.joints3d.astype(np.float64) for p in people], [np.asarray(p.conf) for p in people],
                           sk, name, scene)


def first_angles(joints: np.ndarray, sk, up: np.ndarray | None) -> tuple[dict, dict]:
    """``--angles`` of (T, J, 3) poses against a calibration's ``up`` or, None, the camera's −y, with their metadata
    (a video's own vertical replaces them later: :func:`angles_against`)."""
    from ..angles import joint_angles

    return joint_angles(joints.astype(np.float64), sk, up), {
        "unit": "degrees", "up": "calibration (world +Z)" if up is not None else "camera -y (phone upright or level)"}


def angles_against(people: list[PoseTrack], vertical, sk) -> None:
    """``--angles`` without a calibration: the trunk angle against the video's own ``vertical`` instead of the
    camera's −y; the angles and their metadata are replaced in place. Photos (each its own camera) and live
    cameras keep camera −y (the caller does not call this for them)."""
    from ..angles import joint_angles

    for p in people:
        p.angles = joint_angles(p.joints3d.astype(np.float64), sk, vertical.up_at(p.frame))
        p.metadata["angles"] = {"unit": "degrees", "up": vertical.source,
                                "up_camera_frame": np.round(vertical.up, 4).tolist(), "note": vertical.note,
                                "per_frame_up": vertical.per_frame is not None}


def known_world_vertical(people: list[PoseTrack], tracks: list[Track2D], opts: InferOptions, vertical=None) -> None:
    """The BVH world and the render's 3D panel stand on the world's vertical when it is known: a calibration's,
    or the scene's vertical lines of a video (``vertical``, their mean for a moving camera); else they keep the
    body-mean up (the person upright on average). Stored as ``metadata["vertical"]`` (the BVH writer reads it)."""
    if opts.calib:
        up = intrinsics_for(tracks[0].size, opts.fov, opts.focal, opts.calib, opts.calib_camera, tracks[0].name).up
        how = "calibration (world +Z)"
    elif vertical is not None and vertical.source == "estimated from the scene's vertical lines":
        up, how = vertical.up, vertical.source
    else:
        return
    for p in people:
        p.metadata["vertical"] = {"up_camera_frame": np.round(np.asarray(up, float), 5).tolist(), "source": how}


def output_for(input_path: str, output: str, n_inputs: int, fmt: str | None) -> str:
    """Output path for one of several inputs: ``-o outdir/`` gets ``outdir/<stem>.<fmt>``."""
    out = Path(output)
    if output == "-" or (n_inputs == 1 and not output.endswith("/") and not out.is_dir()):
        return output
    if not out.is_dir():
        if n_inputs == 1:
            raise Pose3dError(f"{output}: no such folder; create it first, or give a file name such as poses.csv")
        raise Pose3dError(f"{output}: several inputs need -o to be an existing folder")
    stem = Path(str(input_path).rstrip("/")).stem.replace("camera:", "camera")
    return str(out / f"{stem}.{fmt or 'csv'}")
