"""The image/3D source kind: real detector 2D of calibrated, synchronised views with a triangulated 3D target.

A source entry ``{path: ref.npz, kind: image3d, views: [cam01.csv, cam02.csv, ...], frames: "0:50"}``:

- ``path``: a reference npz written by ``pose3d triangulate`` (:mod:`pose3d_cli.multiview.reference`): world
  joints (T, J, 3) mm, the cameras (K, distortion, ``cam_from_world`` R, t, image size) and each view's sync offset;
- ``views``: per view, the detector's 2D of that camera (a keypoint file :func:`read_keypoints` reads; e.g. the
  CSV of ``pose3d infer --with-2d``, whose ``_u/_v/_conf`` columns are BlazePose's 2D by joint name); its camera
  is found by name in its file name, or given in ``cameras`` (one name per view);
- ``frames``: ``START:STOP`` reference frame numbers kept (half-open), so a dev/report split is honoured;
- ``det3d`` (optional): per view, the detector's own 3D of that camera, a ``pose3d infer --detector-3d --with-2d``
  output (BlazePose's world landmarks, root-relative mm, and the 2D they came with): the fused lifter's optional
  input, read only when the model takes it. Infer's swap fix relabels a view's 2D where BlazePose exchanged left
  and right; the detector's 3D carries the labels of its own 2D, so it is relabelled in the frames where its 2D
  matches the view's 2D better mirrored (as :func:`pose3d_cli.infer.detector3d.detector_world_joints` does in infer).

For reference frame ``f`` view ``v`` shows its frame ``f + offset_v``. A frame is kept when the reference has all
its joints and every view saw the person there; per kept frame and view the source holds the normalised 2D and
confidence in that camera (its K and distortion, scaled to the 2D file's image size when the file states one) and
the target: the reference in that camera's frame (``X_cam = R X_world + t``), root-relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import Pose3dError


@dataclass
class ViewFrames:
    """An image/3D source, synchronised: F kept reference frames × V views (torch tensors).

    xy (F, V, J, 2) normalised camera coordinates, conf (F, V, J), target (F, V, J, 3) root-relative camera-frame
    mm, xy_clean (F, V, J, 2) the exact normalised projection of the reference, R (V, 3, 3) ``cam_from_world``,
    ranges: runs of consecutive reference frames as [start, stop) rows of F; frame (F,) reference frame numbers.
    """

    xy: np.ndarray
    conf: np.ndarray
    target: np.ndarray
    xy_clean: np.ndarray
    R: np.ndarray
    ranges: list[tuple[int, int]]
    frame: np.ndarray
    cameras: list[str]
    weight: float
    name: str
    det: np.ndarray | None = None  # (F, V, J, 3) the detector's root-relative 3D in each camera, NaN = absent
    fps: float | None = None  # the reference's frame rate


def parse_frame_range(text: str | None, where: str) -> tuple[int | None, int | None]:
    """``"START:STOP"`` (either side may be empty) → (start, stop); None → (None, None)."""
    if text is None:
        return None, None
    a, sep, b = str(text).partition(":")
    try:
        if not sep:
            raise ValueError
        return (int(a) if a.strip() else None, int(b) if b.strip() else None)
    except ValueError:
        raise Pose3dError(f"{where}: frames {text!r}: expected START:STOP reference frame numbers, e.g. 0:50") from None


def load_image3d_source(spec, skeleton, with_det3d: bool = False) -> ViewFrames:
    """An ``image3d`` source spec (see module doc) → :class:`ViewFrames` in ``skeleton``'s joints; ``with_det3d``
    (a fused model): the ``det3d`` files are read too (absent: ``det`` stays None, the model's plain path)."""
    from ..detect.keypoint_files import read_keypoints
    from ..geometry import transform_points
    from ..lifting.codec import pixels_to_network_input
    from ..multiview.calibration import camera_by_name, camera_for_size, camera_for_video
    from ..multiview.reference import read_reference
    from ..skeleton import SkeletonError

    ref = read_reference(spec.path)
    if list(ref.names) != list(skeleton.joints):
        raise Pose3dError(f"{spec.path}: the reference's joints are not {skeleton.name}'s (the model's); "
                          f"triangulate into {skeleton.name} or train a model of its skeleton")
    if not ref.cameras:
        raise Pose3dError(f"{spec.path}: the reference holds no cameras (intrinsics, cam_from_world); an image/3D "
                          "source needs a reference written by `pose3d triangulate`")
    views = list(spec.views or [])
    if not views:
        raise Pose3dError(f"{spec.path}: an image/3D source needs views: [one 2D file per camera]")
    names = list(spec.cameras or [])  # one per view, as many det3d files: checked by sources.parse_source
    lo, hi = parse_frame_range(spec.frames, spec.path)
    keep = np.ones(len(ref.frame), bool)
    if lo is not None:
        keep &= ref.frame >= lo
    if hi is not None:
        keep &= ref.frame < hi
    keep &= np.isfinite(ref.joints).all(axis=(1, 2))
    root = skeleton.index(skeleton.root)
    det_files = list(spec.det3d or []) if with_det3d else []
    xy_v, conf_v, tgt_v, clean_v, R_v, cams, det_v = [], [], [], [], [], [], []
    for k, view in enumerate(views):
        cam = camera_by_name(ref.cameras, names[k], spec.path) if names else \
            camera_for_video(ref.cameras, view, spec.path, option="cameras: [NAME, ...] in the source entry")
        if cam.name in cams:
            raise Pose3dError(f"{view}: camera {cam.name!r} is already used by another view of {spec.path}")
        if not (np.all(np.isfinite(cam.K)) and cam.K[0, 0] > 0 and cam.K[1, 1] > 0):
            raise Pose3dError(f"{spec.path}: camera {cam.name!r} has no valid intrinsics (K); re-triangulate with a "
                              "calibration that has them")
        seq = read_keypoints(view)
        try:
            seq = seq.to(skeleton)
        except (SkeletonError, Pose3dError) as e:
            raise Pose3dError(f"{view}: 2D of skeleton {seq.skeleton} cannot be converted to {skeleton.name} "
                              f"({str(e)[:100]}); give the detector's 2D of a convertible skeleton") from None
        if seq.image_size is not None and tuple(seq.image_size) != tuple(cam.size):
            cam = camera_for_size(cam, tuple(seq.image_size), str(view))
        v = [c.name for c in ref.cameras].index(cam.name)
        row_of = {int(f): i for i, f in enumerate(seq.frame_indices)}
        rows = np.array([row_of.get(int(f) + int(ref.offsets[v]), -1) for f in ref.frame])
        present = rows >= 0
        present[present] &= seq.confidence[rows[present]].max(-1) > 0
        keep &= present
        world_cam = transform_points(np.asarray(cam.R)[None], np.asarray(cam.t)[None], ref.joints)  # (T, J, 3)
        xy, conf = pixels_to_network_input(seq.xy[np.maximum(rows, 0)], seq.confidence[np.maximum(rows, 0)],
                                           cam.K, cam.dist if np.any(cam.dist) else None)
        xy_v.append(xy)
        conf_v.append(conf)
        tgt_v.append(world_cam - world_cam[:, root:root + 1])
        clean_v.append(world_cam[..., :2] / np.maximum(world_cam[..., 2:3], 1.0))
        R_v.append(np.asarray(cam.R, np.float64))
        cams.append(cam.name)
        if det_files:
            det_v.append(_detector_3d(det_files[k], skeleton, seq, rows, ref.frame, int(ref.offsets[v])))
    if not keep.any():
        raise Pose3dError(f"{spec.path}: no reference frame in {spec.frames or 'all'} has the full 3D and a detection "
                          "in every view; check frames and the views' files")
    idx = np.flatnonzero(keep)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(ref.frame[idx]) != 1) + 1, [len(idx)]])
    import torch

    def stack(a: list) -> "torch.Tensor":  # (F, V, ...)
        return torch.from_numpy(np.stack([x[idx] for x in a], axis=1).astype(np.float32))

    return ViewFrames(stack(xy_v), stack(conf_v), stack(tgt_v), stack(clean_v),
                      torch.from_numpy(np.stack(R_v).astype(np.float32)),
                      [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a], ref.frame[idx].astype(np.int64),
                      cams, float(spec.weight), str(spec.path), stack(det_v) if det_v else None,
                      float(ref.fps) if ref.fps and np.isfinite(ref.fps) and ref.fps > 0 else None)


def _detector_3d(path: str, skeleton, view_2d, rows: np.ndarray, ref_frames: np.ndarray, offset: int) -> np.ndarray:
    """(T_ref, J, 3) the detector's root-relative 3D of one view at the reference frames (NaN where absent),
    relabelled left/right where the view's (swap-fixed) 2D matches the detector's own 2D better mirrored."""
    from ..detect.keypoint_files import read_keypoints
    from ..infer.readers import read_infer_output

    det = read_infer_output(path)
    if list(det.joint_names) != list(skeleton.joints):
        raise Pose3dError(f"{path}: its 3D joints are not {skeleton.name}'s; give `pose3d infer --detector-3d "
                          f"--with-2d` output for a {skeleton.name} model")
    try:
        own_2d = read_keypoints(path).to(skeleton)
    except Pose3dError:
        raise Pose3dError(f"{path}: holds no 2D beside the detector's 3D, so its left/right labels cannot be matched "
                          "to the view's; write it with `pose3d infer --detector-3d --with-2d`") from None
    at = {int(f): i for i, f in enumerate(det.frame)}
    at_2d = {int(f): i for i, f in enumerate(own_2d.frame_indices)}
    out = np.full((len(ref_frames), skeleton.num_joints, 3), np.nan)
    perm = skeleton.flip_permutation
    apart = []  # per compared frame: the detector's own 2D from the view's, mean px over the body's size
    for t, f in enumerate(ref_frames):
        i, j = at.get(int(f) + offset, -1), at_2d.get(int(f) + offset, -1)
        if i < 0 or j < 0 or rows[t] < 0 or not np.isfinite(det.joints3d[i]).all():
            continue
        mine, theirs = view_2d.xy[rows[t]], own_2d.xy[j]
        seen = (view_2d.confidence[rows[t]] > 0) & (own_2d.confidence[j] > 0) & (own_2d.confidence[j][perm] > 0)
        keep = np.nansum(np.linalg.norm(mine - theirs, axis=-1)[seen])
        swap = np.nansum(np.linalg.norm(mine - theirs[perm], axis=-1)[seen])
        out[t] = det.joints3d[i][perm] if swap < keep else det.joints3d[i]
        if seen.sum() >= 2:
            size = np.linalg.norm(np.ptp(mine[seen], axis=0))
            apart.append(min(keep, swap) / seen.sum() / max(size, 1.0))
    if apart and np.median(apart) > DET3D_MAX_APART:
        raise Pose3dError(f"{path}: its 2D is not the view's it is listed with ({100 * np.median(apart):.0f}% of the "
                          "body's size apart, direct or mirrored): list det3d files in the order of the views, each "
                          "written by `pose3d infer --detector-3d --with-2d` from that view's video")
    return out


#: a det3d file's own 2D must match its view's 2D (direct or mirrored, the swap fix may relabel) within this share of
#: the body's size (the bounding box diagonal), median over frames: the same detector run gives ~0; another camera's
#: file, at the same instants, another image
DET3D_MAX_APART = 0.1
