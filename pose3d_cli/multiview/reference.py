"""A multi-view 3D reference: triangulate calibrated views into a pose3d array file, and read it back.

The file is a pose3d array ``.npz`` (:mod:`pose3d_cli.mocap.arrays`, so ``pose3d synth`` reads it as mocap):
``joints`` (T, J, 3) world mm (Z up), ``names`` (J,) h36m17 joint names, ``fps``, ``units = "mm"``,
``up = "z"``, ``skeleton = "h36m17"``; and what scoring needs besides:

- ``frame`` (T,): reference frame numbers (the first view's frames);
- ``camera_names`` (V,), ``view_files`` (V,), ``sync_offsets`` (V,) int (view ``v``'s frame ``t + offset``
  shows reference frame ``t``), ``cam_K`` (V, 3, 3), ``cam_dist`` (V, 5), ``cam_R`` (V, 3, 3), ``cam_t`` (V, 3) mm,
  ``cam_size`` (V, 2): the cameras at the views' image size;
- ``swapped_2d`` (V, T) bool: the view's 2D had (part of) its left/right labels swapped, repaired;
- ``source_joints`` (T, Js, 3), ``source_names`` (Js,), ``source_skeleton``: the triangulated detector joints;
- ``reprojection_error_px`` (V, T, Js) (NaN where the view had no detection), ``views_used`` (V, T, Js) bool.

Derived h36m17 joints (pelvis = mid-hips, thorax = mid-shoulders, spine, head = mid-ears) are built from the
triangulated detector joints by name (:func:`pose3d_cli.skeleton.conversion_weights`): they are the detector's
landmarks, not mocap joint centres.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Pose3dError
from ..skeleton import H36M17, conversion_weights, get_skeleton
from ..synth.cameras import Camera
from .calibration import camera_by_name, camera_for_size, camera_for_video, check_places, load_calibration
from .triangulate import Triangulation, overlap, triangulate_views


def convert_with_nan(points: np.ndarray, src, dst) -> np.ndarray:
    """(..., Js, 3) → (..., Jd, 3) by joint name; a joint is NaN only where a joint it is built from is NaN."""
    W = conversion_weights(src, dst)
    out = np.einsum("ds,...sc->...dc", W, np.nan_to_num(points))
    bad = np.isnan(points).any(-1).astype(np.float64) @ (W != 0).T.astype(np.float64)  # (..., Jd)
    out[bad > 0] = np.nan
    return out


@dataclass
class Reference:
    """A 3D reference read back (see module doc). Camera fields are None for a plain mocap array file."""

    joints: np.ndarray  # (T, J, 3) world mm
    names: tuple[str, ...]
    fps: float
    frame: np.ndarray  # (T,) int
    path: str
    cameras: list[Camera] | None = None
    offsets: np.ndarray | None = None  # (V,)
    swapped_2d: np.ndarray | None = None  # (V, T)
    source_joints: np.ndarray | None = None  # (T, Js, 3) world mm: the triangulated detector joints
    source_names: tuple[str, ...] | None = None  # (Js,) their names
    source_skeleton: str | None = None
    views_used: np.ndarray | None = None  # (V, T, Js) bool

    def camera_index(self, name: str) -> int:
        names = [c.name for c in self.cameras or []]
        if name not in names:
            raise Pose3dError(f"{self.path}: the reference has no camera {name!r}; it has "
                              f"{', '.join(names) or 'none (a plain 3D file)'}; pass --calib with the calibration")
        return names.index(name)


def write_reference(path: str | Path, tri: Triangulation, cams: list[Camera], files: list[str], src_skeleton: str,
                    fps: float, frame: np.ndarray) -> None:
    """Write the reference npz atomically (:func:`pose3d_cli.atomic.atomic_target`: a temporary file renamed
    when complete, removed on any error)."""
    src = get_skeleton(src_skeleton)
    joints = convert_with_nan(tri.joints, src, H36M17) if src.name != H36M17.name else tri.joints
    from ..atomic import atomic_target

    with atomic_target(path) as tmp:  # the temporary name ends in .npz: savez_compressed appends none
        np.savez_compressed(
            tmp, joints=joints.astype(np.float32), names=np.array(H36M17.joints), fps=np.float64(fps),
            units=np.array("mm"), up=np.array("z"), skeleton=np.array(H36M17.name), frame=np.asarray(frame, np.int64),
            camera_names=np.array([c.name for c in cams]), view_files=np.array([str(f) for f in files]),
            sync_offsets=tri.offsets.astype(np.int64), cam_K=np.stack([c.K for c in cams]),
            cam_dist=np.stack([c.dist for c in cams]), cam_R=np.stack([c.R for c in cams]),
            cam_t=np.stack([c.t for c in cams]), cam_size=np.array([c.size for c in cams], np.int64),
            swapped_2d=tri.swapped.any(-1), source_joints=tri.joints.astype(np.float32),
            source_names=np.array(src.joints), source_skeleton=np.array(src.name),
            reprojection_error_px=tri.error_px.astype(np.float32), views_used=tri.used)


def read_reference(path: str | Path) -> Reference:
    """Read a reference written by :func:`write_reference`, or any pose3d array npz (joints, names, fps)."""
    path = Path(path)
    if path.is_dir():
        raise Pose3dError(f"{path}: is a folder, not a pose3d reference; {_REFERENCE_HINT}")
    if not path.is_file():
        raise Pose3dError(f"{path}: no such reference file; make one with `pose3d triangulate`")
    try:
        z = np.load(path, allow_pickle=False)
        if not hasattr(z, "files"):  # a single .npy array
            raise ValueError("a .npy array")
        with z:
            f = {k: z[k] for k in z.files}
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, OSError) as e:
        if isinstance(e, OSError) and e.errno is not None:  # permissions, I/O: the OS error says it best
            raise
        raise Pose3dError(f"{path}: not a pose3d reference ({_what_file(path)}); {_REFERENCE_HINT}") from None
    if "joints" not in f or "names" not in f:
        raise Pose3dError(f"{path}: a reference needs 'joints' (T, J, 3) and 'names' (J,); found {sorted(f)}; "
                          f"{_REFERENCE_HINT}")
    try:
        joints = np.asarray(f["joints"], dtype=np.float64)
    except (TypeError, ValueError):
        raise Pose3dError(f"{path}: 'joints' holds {f['joints'].dtype} values, not numbers; "
                          f"{_REFERENCE_HINT}") from None
    names = tuple(str(n) for n in f["names"].ravel())
    if joints.ndim != 3 or joints.shape[1:] != (len(names), 3):
        raise Pose3dError(f"{path}: 'joints' must be (T, {len(names)}, 3), got {joints.shape}")
    if not len(joints):
        raise Pose3dError(f"{path}: the reference holds no frames; {_REFERENCE_HINT}")
    frame = np.asarray(f.get("frame", np.arange(len(joints))))
    whole = frame.dtype.kind in "iu" or (frame.dtype.kind == "f" and np.isfinite(frame).all()
                                         and (frame == np.round(frame)).all())
    if frame.shape != (len(joints),) or not whole:
        raise Pose3dError(f"{path}: 'frame' must hold {len(joints)} whole frame numbers, got {frame.dtype} "
                          f"{frame.shape}; {_REFERENCE_HINT}")
    frame = frame.astype(np.int64)
    units = str(f.get("units", np.array("mm")))
    scale = {"mm": 1.0, "cm": 10.0, "m": 1000.0}.get(units)
    if scale is None:
        raise Pose3dError(f"{path}: unknown units {units!r}; its 'units' must be mm, cm or m; {_REFERENCE_HINT}")
    if str(f.get("up", np.array("z"))).lower() == "y":
        raise Pose3dError(f"{path}: a Y-up reference; scoring needs Z-up world coordinates")
    ref = Reference(joints * scale, names, float(f.get("fps", 0.0)), frame, str(path))
    if "cam_K" in f:
        try:
            ref.cameras = [Camera(K, d, R, t, (int(s[0]), int(s[1])), str(n)) for K, d, R, t, s, n in
                           zip(f["cam_K"], f["cam_dist"], f["cam_R"], f["cam_t"], f["cam_size"], f["camera_names"])]
            ref.offsets = np.asarray(f["sync_offsets"], dtype=np.int64)
            ref.swapped_2d = np.asarray(f["swapped_2d"], dtype=bool) if "swapped_2d" in f else None
            V = len(ref.cameras)
            if ref.offsets.shape != (V,) or (ref.swapped_2d is not None and ref.swapped_2d.shape != (V, len(joints))):
                raise ValueError(f"{V} cameras but sync_offsets {ref.offsets.shape}"
                                 + ("" if ref.swapped_2d is None else f", swapped_2d {ref.swapped_2d.shape}"))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise Pose3dError(f"{path}: its cameras are incomplete or malformed ({type(e).__name__}: {e}); "
                              f"{_REFERENCE_HINT}") from None
    if "source_joints" in f and "source_names" in f:
        src = np.asarray(f["source_joints"], dtype=np.float64) * scale
        src_names = tuple(str(n) for n in f["source_names"].ravel())
        if src.shape != (len(joints), len(src_names), 3):
            raise Pose3dError(f"{path}: 'source_joints' must be ({len(joints)}, {len(src_names)}, 3), got {src.shape}; "
                              f"{_REFERENCE_HINT}")
        ref.source_joints, ref.source_names = src, src_names
        ref.source_skeleton = str(f["source_skeleton"]) if "source_skeleton" in f else None
        if "views_used" in f and ref.cameras is not None:
            used = np.asarray(f["views_used"], dtype=bool)
            if used.shape == (len(ref.cameras), len(joints), len(src_names)):
                ref.views_used = used
    return ref


_REFERENCE_HINT = "give the .npz written by `pose3d triangulate` (or a pose3d array .npz)"


def _what_file(path: Path) -> str:
    """A few words on what a file that is no readable .npz holds (:func:`~pose3d_cli.filekind.file_kind`)."""
    from .. import filekind as fk

    kind = fk.file_kind(path)
    if kind is None:
        return "the file is empty" if path.is_file() and path.stat().st_size == 0 else "unreadable"
    if kind == fk.ZIP:
        return "a damaged or truncated .npz (zip) archive"
    if kind == fk.NPY:
        return "a single .npy array, not an .npz archive"
    if kind == fk.HDF5:
        return "an HDF5 file, such as `pose3d synth` training pairs"
    if kind != fk.TEXT:
        return "binary data of another kind" if kind == fk.BINARY else kind
    with open(path, "rb") as fh:
        head = fh.read(512)
    if path.suffix.lower() in (".csv", ".json") or head.lstrip().startswith((b"frame", b"{")):
        return "a text file: a prediction? the order is `pose3d score PREDICTION REFERENCE`"
    return "a text file"


def match_cameras(inputs: list[str], cams: list[Camera], calib: str, names: list[str] | None = None) -> list[Camera]:
    """One camera per input, by ``names`` (in order) or by the camera name in each file name; one clear error
    when there are more inputs than cameras, a name matches nothing, or two inputs get the same camera."""
    if len(inputs) > len(cams):
        raise Pose3dError(f"{calib}: the calibration has {len(cams)} cameras ({', '.join(c.name for c in cams)}) "
                          f"for {len(inputs)} views; give one video per calibrated camera")
    if names:
        if len(names) != len(inputs):
            raise Pose3dError(f"--cameras names {len(names)} cameras for {len(inputs)} views; give one name per view")
        out = [camera_by_name(cams, n, calib) for n in names]
    else:
        if len(cams) == 1:
            raise Pose3dError(f"{calib}: a calibration with one camera cannot triangulate; it needs two or more")
        out = [camera_for_video(cams, i, calib, option="--cameras", how="--cameras A,B,... (one camera name per view, "
                                "in the order of the views)") for i in inputs]
    seen: dict[str, str] = {}
    for i, c in zip(inputs, out):
        if c.name in seen:
            raise Pose3dError(f"{i}: camera {c.name!r} is already used by {seen[c.name]}; "
                              "give each view its own camera (rename the files or pass --cameras)")
        seen[c.name] = i
    check_places(out, calib)
    return out


def parse_offsets(text: str | None, n: int) -> list[int] | None:
    """``--offsets 0,4,-2`` (one per view, the first 0: view v's frame t + k shows the first view's frame t) →
    the list, refused in one line before any work; None when not given."""
    if text is None:
        return None
    try:
        out = [int(v) for v in str(text).split(",")]
    except ValueError:
        out = []
    if len(out) != n or out[0] != 0:
        raise Pose3dError(f"--offsets {text!r}: give {n} whole numbers of frames, one per view in order, the first 0 "
                          "(view k's frame t + offset shows the first view's frame t), e.g. 0,4")
    return out


def check_offsets(offsets: list[int], T: int) -> None:
    """Known offsets must leave the views as much in common as a searched one (:func:`.triangulate.overlap`)."""
    if any(overlap(T, o) is None for o in offsets):
        raise Pose3dError(f"--offsets {','.join(map(str, offsets))}: the views of {T} frames would share too few "
                          "frames; check the offsets (frames, not seconds)")


def check_distinct(inputs: list[str]) -> None:
    """Refuse one file given for two views (each camera films its own video)."""
    import os

    for k, a in enumerate(inputs):
        for b in inputs[k + 1:]:
            if Path(a).exists() and Path(b).exists() and os.path.samefile(a, b):
                raise Pose3dError(f"{b}: the same file as {a}; give each camera its own video or 2D file")


#: frame rates further apart than this (relative) are different rates, not a container's rounding (29.97 vs 30)
RATE_TOLERANCE = 0.02


def check_rates(inputs: list[str], rates: list[float | None]) -> None:
    """Refuse views filmed at different frame rates (the sync searches a shift of whole frames; a 30 fps view
    beside a 60 fps one would pair instants half a clip apart). ``rates``: fps per input, None where unknown."""
    known = [(i, r) for i, r in zip(inputs, rates) if r]
    for i, r in known[1:]:
        i0, r0 = known[0]
        if abs(r / r0 - 1) > RATE_TOLERANCE:
            raise Pose3dError(f"{i}: {r:g} frames/s, but {i0}: {r0:g}: the views must have the same frame rate; "
                              "film both at one rate, or re-encode one to the other's (e.g. ffmpeg -r)")


def check_lengths(inputs: list[str], lengths: list[int | None], when: str = "") -> None:
    """Refuse views without frames or of different lengths, naming the odd one out: the view whose length
    differs from the most common one (of two views, the shorter), with every view's length.

    ``lengths``: frames per input, None where unknown (a video container that does not say)."""
    known = [(i, n) for i, n in zip(inputs, lengths) if n is not None]
    for i, n in known:
        if n == 0:
            raise Pose3dError(f"{i}: holds no frames{when}; give a video or 2D file with frames for every view")
    counts = {n: sum(m == n for _, m in known) for _, n in known}
    if len(counts) < 2:
        return
    common = max(counts, key=lambda n: (counts[n], n))  # the length of the most views; a tie: the longest
    odd, n = min(((i, m) for i, m in known if m != common), key=lambda x: x[1])
    ref = next(i for i, m in known if m == common)
    listing = ", ".join(f"{Path(i).name}: {m}" for i, m in known)
    raise Pose3dError(f"{odd}: {n} frames{when}, {'fewer' if n < common else 'more'} than {Path(ref).name}'s "
                      f"{common}: the views have different lengths ({listing}); check that {Path(odd).name} is "
                      "complete, or cut the views to the same frames (sync offsets within ±max-offset are estimated)")


@dataclass
class TriangulateSummary:
    tri: Triangulation
    cameras: list[Camera]
    files: list[str]
    source_names: tuple[str, ...]
    frames: int
    fps: float

    def limb_joints(self) -> list[int]:
        """Indices of the detector's limb joints (:data:`LIMB_STEMS`): what the reprojection error is reported on."""
        return [j for j, n in enumerate(self.source_names) if any(n.endswith(st) for st in LIMB_STEMS)]

    def limb_errors_px(self, view: int) -> np.ndarray:
        """(N,) a view's reprojection errors (px) over the limb joints of the frames it was used for."""
        limbs = self.limb_joints()
        e = self.tri.error_px[view][:, limbs][self.tri.used[view][:, limbs]]
        return e[np.isfinite(e)]


#: the joints whose reprojection error ``pose3d triangulate`` and ``ergo`` report (by the end of their names)
LIMB_STEMS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


#: the sync search by default: this many seconds either way (cameras started by hand)...
AUTO_SYNC_SECONDS = 3.0


def auto_max_offset(fps: float, frames: int) -> int:
    """The default sync search, frames: :data:`AUTO_SYNC_SECONDS` of video, but at most a quarter of the clip (the
    views then overlap on at least three quarters of it), and at least 1. 10 frames until stop 26: too short for
    phones started by hand (on the shared 100-frame clip 10, 25 and 40 find the same offsets)."""
    rate = fps if fps and np.isfinite(fps) and fps > 0 else 30.0
    return int(max(1, min(round(AUTO_SYNC_SECONDS * rate), frames // 4)))


def triangulate_files(inputs: list[str], calib: str, output: str, camera_names: list[str] | None = None,
                      threshold_px: float = 20.0, min_conf: float = 0.3, max_offset: int | None = None,
                      fix_swaps: bool = True, detector: str = "full",
                      on_view: Callable[[str], None] | None = None,
                      offsets: list[int] | None = None) -> TriangulateSummary:
    """Videos (BlazePose runs on each) or 2D keypoint files of calibrated views → a reference npz at ``output``.
    ``max_offset``: the sync search in frames (None: :func:`auto_max_offset`; 0: taken as synchronised).

    Every check that needs no detection (calibration, camera names, view lengths) runs before any detection.
    """
    from ..infer.pipeline import InferOptions, detect_video, is_keypoint_input, read_track
    from ..infer.sources import open_source

    if len(inputs) < 2:
        raise Pose3dError("triangulation needs two or more views; give one video or 2D file per camera")
    check_distinct(inputs)
    cams = match_cameras(inputs, load_calibration(calib), calib, camera_names)
    keypoint = [Path(i).exists() and is_keypoint_input(Path(i)) for i in inputs]
    tracks: list = [None] * len(inputs)
    sources: list = [None] * len(inputs)
    lengths, rates = [], []
    for k, inp in enumerate(inputs):
        if keypoint[k]:  # its own image size where it says one, else the calibrated camera's
            tracks[k] = read_track(Path(inp), InferOptions(calib=calib, calib_camera=cams[k].name))
            lengths.append(len(tracks[k].frame))
            rates.append(tracks[k].fps if tracks[k].fps_given else None)
            camera_for_size(cams[k], tracks[k].size, inp)  # 2D of rotated or cropped frames: refused
        else:
            sources[k] = open_source(inp)
            lengths.append(sources[k].num_frames)
            rates.append(sources[k].fps)
            camera_for_size(cams[k], sources[k].size, inp)  # a rotated or cropped video: refused before detection
    check_lengths(inputs, lengths)
    check_rates(inputs, rates)
    if offsets is not None and lengths[0] is not None:  # before any detection
        check_offsets(offsets, lengths[0])
    for k, inp in enumerate(inputs):
        if tracks[k] is None:
            if on_view:
                on_view(inp)
            tracks[k] = detect_video(sources[k], detector=detector)
    check_lengths(inputs, [len(t.frame) for t in tracks], " after decoding")  # a misreported frame count
    skels = {t.skeleton for t in tracks}
    if len(skels) > 1:
        which = ", ".join(f"{Path(i).name}: {t.skeleton}" for i, t in zip(inputs, tracks))
        raise Pose3dError(f"the views' 2D come in different skeletons ({which}); give every view from the same "
                          "detector")
    sk = get_skeleton(tracks[0].skeleton)
    cams = [camera_for_size(c, t.size, t.name) for c, t in zip(cams, tracks)]
    uv = np.stack([t.uv for t in tracks]).astype(np.float64)
    conf = np.stack([t.conf for t in tracks]).astype(np.float64)
    if max_offset is None:
        max_offset = auto_max_offset(tracks[0].fps, len(tracks[0].frame))
    if offsets is not None and lengths[0] is None:  # the container did not say: checked once decoded
        check_offsets(offsets, len(tracks[0].frame))
    tri = triangulate_views(uv, conf, cams, sk, threshold_px, min_conf, max_offset, fix_swaps,
                            offsets=None if offsets is None else np.asarray(offsets))
    if not np.isfinite(tri.joints).any():
        raise Pose3dError(f"no joint of any frame could be triangulated from {', '.join(Path(i).name for i in inputs)} "
                          f"(each needs two views with confidence >= --min-conf {min_conf}); nothing was written; "
                          "check that the views' 2D holds detections, or lower --min-conf")
    write_reference(output, tri, cams, inputs, sk.name, tracks[0].fps, tracks[0].frame)
    return TriangulateSummary(tri, cams, inputs, sk.joints, len(tracks[0].frame), tracks[0].fps)
