"""A monocular 3D result scored against a reference (numpy only). Pure batched functions.

Both poses are (T, J, 3) mm over the same joints (by name, the same skeleton), frame by frame. Alignments:

- **P-MPJPE**: per frame, the similarity (rotation, translation, scale) that best maps the prediction onto the
  reference (:func:`pose3d_cli.geometry.procrustes_align`), then the mean joint distance;
- **rotation-only MPJPE**: both root-centred, per frame the best rotation about the root (no scale, no
  translation), then the mean joint distance: a wrong bone length or body size counts;
- **unaligned MPJPE**: both root-centred, the reference rotated into the calibrated camera's frame
  (``R_cam_from_world``), no fit at all: a wrong facing direction or lean counts too.

- **root position** (an infer output that has ``root_*_mm`` and a calibrated camera): the prediction's pelvis in
  the camera frame against the reference's (:func:`root_position_errors`), and the **absolute MPJPE**: each joint
  placed by that root, no fit at all, in the camera frame (where the person is counts too).

Besides: bone-length ratios pred/ref per bone (median over frames of each), the coefficient of variation of each
bone's length over time, joint-angle RMSE (elbow and knee flexion: the angle between the two bones, 0 = straight)
and frames with swapped sides (the prediction with its left/right labels exchanged is closer to the reference).
"""

from __future__ import annotations

import numpy as np

from ..geometry import procrustes_align
from ..skeleton import Skeleton

#: the 12 limb joints scored by default (h36m17 names)
LIMB_JOINTS = tuple(f"{s}_{j}" for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for s in ("left", "right"))
#: joint angles: name → (proximal, joint, distal) joint names; the angle between the two bones, 0 = straight
FLEXION_ANGLES = {f"{j}_flexion_{s}": (f"{s}_{a}", f"{s}_{j}", f"{s}_{b}")
                  for j, a, b in (("elbow", "shoulder", "wrist"), ("knee", "hip", "ankle")) for s in ("left", "right")}


def hinge_triples(skeleton: Skeleton, angles: dict = FLEXION_ANGLES) -> np.ndarray:
    """(K, 3) int64 joint indices (proximal, hinge, distal) of the ``angles`` whose joints ``skeleton`` has."""
    rows = [[skeleton.index(n) for n in t] for t in angles.values() if all(n in skeleton.joints for n in t)]
    return np.asarray(rows, np.int64).reshape(-1, 3)


#: bones reported as ratios: name → (joint, joint)
RATIO_BONES = {f"{b}_{s}": (f"{s}_{p}", f"{s}_{c}") for b, p, c in (
    ("upper_arm", "shoulder", "elbow"), ("forearm", "elbow", "wrist"), ("thigh", "hip", "knee"),
    ("shank", "knee", "ankle")) for s in ("left", "right")}


def best_rotation(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Rotation R (..., 3, 3) minimising ``sum_j |R p_j - r_j|^2`` (Kabsch, no reflection, no centring).

    Args:
        pred, ref: (..., J, 3), already centred on the same point (e.g. the root).
    """
    H = np.swapaxes(pred, -1, -2) @ ref  # (..., 3, 3)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.swapaxes(Vt, -1, -2) @ np.swapaxes(U, -1, -2)))
    D = np.ones(U.shape[:-1])
    D[..., -1] = d
    return np.swapaxes(Vt, -1, -2) @ (D[..., :, None] * np.swapaxes(U, -1, -2))


def root_centred(x: np.ndarray, root: int) -> np.ndarray:
    """(..., J, 3) → the same minus joint ``root``."""
    return x - x[..., root:root + 1, :]


def joint_errors(pred: np.ndarray, ref: np.ndarray, mode: str, root: int | None = None,
                 R_cam: np.ndarray | None = None) -> np.ndarray:
    """Per-joint error (T, J) mm of ``pred`` (T, J, 3) against ``ref`` (T, J, 3).

    ``mode``: ``"procrustes"`` (similarity fit over the J joints), ``"rotation"`` (root-centred, best rotation
    about the root), ``"none"`` (root-centred, ``ref`` rotated by ``R_cam`` (3, 3) into the camera frame).
    ``root`` is the root joint's index among the J (rotation, none).
    """
    if mode == "procrustes":
        return np.linalg.norm(procrustes_align(pred, ref) - ref, axis=-1)
    p, r = root_centred(pred, root), root_centred(ref, root)
    if mode == "rotation":
        R = best_rotation(p, r)
        return np.linalg.norm(np.einsum("...ij,...nj->...ni", R, p) - r, axis=-1)
    if mode == "none":
        return np.linalg.norm(p - r @ np.asarray(R_cam).T, axis=-1)
    raise ValueError(f"unknown alignment {mode!r}")


def bone_length_ratios(pred: np.ndarray, ref: np.ndarray, skeleton: Skeleton,
                       bones: dict[str, tuple[str, str]] = RATIO_BONES) -> dict[str, float]:
    """``{bone: median over frames of pred length / median of ref length}`` for (T, J, 3) poses."""
    out = {}
    for name, (a, b) in bones.items():
        ia, ib = skeleton.index(a), skeleton.index(b)
        lp = np.linalg.norm(pred[:, ia] - pred[:, ib], axis=-1)
        lr = np.linalg.norm(ref[:, ia] - ref[:, ib], axis=-1)
        out[name] = float(np.nanmedian(lp) / np.nanmedian(lr))
    return out


def bone_length_cv(poses: np.ndarray, skeleton: Skeleton, bones: dict[str, tuple[str, str]] = RATIO_BONES) -> dict[str, float]:
    """``{bone: std / mean of its length over frames}`` (a fraction) of (T, J, 3) poses."""
    out = {}
    for name, (a, b) in bones.items():
        length = np.linalg.norm(poses[:, skeleton.index(a)] - poses[:, skeleton.index(b)], axis=-1)
        out[name] = float(np.nanstd(length) / np.nanmean(length))
    return out


def flexion_angles(poses: np.ndarray, skeleton: Skeleton, angles: dict = FLEXION_ANGLES) -> dict[str, np.ndarray]:
    """``{angle: (T,) degrees}``: the angle between the proximal and the distal bone (0 = straight)."""
    out = {}
    for name, (a, j, b) in angles.items():
        u = poses[..., skeleton.index(j), :] - poses[..., skeleton.index(a), :]
        w = poses[..., skeleton.index(b), :] - poses[..., skeleton.index(j), :]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1))
        out[name] = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out


def angle_rmse(pred: np.ndarray, ref: np.ndarray, skeleton: Skeleton) -> dict[str, float]:
    """``{angle: RMSE in degrees over frames}`` of the flexion angles of (T, J, 3) poses."""
    a, b = flexion_angles(pred, skeleton), flexion_angles(ref, skeleton)
    return {k: float(np.sqrt(np.nanmean((a[k] - b[k]) ** 2))) for k in a}


def swapped_frames(pred: np.ndarray, ref: np.ndarray, skeleton: Skeleton, joints: list[int], root: int,
                   R_cam: np.ndarray | None = None) -> np.ndarray:
    """(T,) bool: the prediction with left and right exchanged is closer to the reference.

    Measured without alignment in the camera frame when ``R_cam`` is given (a rotation can partly undo a
    mirror-like label swap), else after the rotation-only alignment; ``joints`` are the indices scored.
    """
    mode = "none" if R_cam is not None else "rotation"
    flipped = pred[:, skeleton.flip_permutation]
    e = joint_errors(pred[:, joints], ref[:, joints], mode, joints.index(root), R_cam).mean(-1)
    f = joint_errors(flipped[:, joints], ref[:, joints], mode, joints.index(root), R_cam).mean(-1)
    return f < e


def score_poses(pred: np.ndarray, ref: np.ndarray, skeleton: Skeleton, joints: tuple[str, ...] = LIMB_JOINTS,
                R_cam: np.ndarray | None = None, subsets: dict[str, np.ndarray] | None = None,
                t_cam: np.ndarray | None = None, pred_root: np.ndarray | None = None) -> dict:
    """Every figure of the module doc for (T, J, 3) predictions against (T, J, 3) references.

    Frames where either pose has a NaN among the scored joints are left out. Alignments are fitted on
    ``joints`` plus the root (rotation-only, unaligned), and the errors averaged over ``joints``.

    Args:
        R_cam: (3, 3) ``cam_from_world`` rotation of the prediction's camera (enables the unaligned MPJPE and
            the camera-frame swap test).
        subsets: optional ``{name: (T,) bool}`` frame subsets to report the MPJPEs on besides all frames.
        t_cam: (3,) the camera's ``cam_from_world`` translation, mm, and pred_root: (T, 3) the prediction's root in
            that camera's frame (NaN where unknown): with ``R_cam``, enable the absolute MPJPE and ``root_position``.
    Returns:
        a JSON-ready dict.
    """
    root = skeleton.index(skeleton.root)
    idx = [skeleton.index(j) for j in joints]
    with_root = idx if root in idx else idx + [root]
    ok = np.isfinite(pred[:, with_root]).all((1, 2)) & np.isfinite(ref[:, with_root]).all((1, 2))
    P, Rf = pred[ok], ref[ok]
    res: dict = {"frames": int(ok.sum()), "frames_left_out": int((~ok).sum()), "joints": list(joints)}
    if not ok.any():
        return res
    r = with_root.index(root)
    keep = slice(0, len(idx))  # the scored joints come first in with_root
    errs = {"p_mpjpe": joint_errors(P[:, idx], Rf[:, idx], "procrustes"),
            "mpjpe_rotation": joint_errors(P[:, with_root], Rf[:, with_root], "rotation", r)[:, keep]}
    if R_cam is not None:
        errs["mpjpe_unaligned"] = joint_errors(P[:, with_root], Rf[:, with_root], "none", r, R_cam)[:, keep]
    placed = R_cam is not None and t_cam is not None and pred_root is not None
    if placed:
        ref_cam = Rf @ R_cam.T + t_cam
        pr = np.asarray(pred_root, dtype=np.float64)[ok]
        errs["mpjpe_absolute"] = np.linalg.norm(P[:, idx] + pr[:, None] - ref_cam[:, idx], axis=-1)
        res["root_position"] = root_position_errors(pr, ref_cam[:, root])
    swapped = swapped_frames(P, Rf, skeleton, with_root, root, R_cam)
    sets = {"all": np.ones(len(P), bool), "not_swapped": ~swapped}
    for name, mask in (subsets or {}).items():
        sets[name] = np.asarray(mask, bool)[ok]
    res["mpjpe"] = {k: {s: (float(np.nanmean(e[m])) if np.isfinite(e[m]).any() else None) for s, m in sets.items()}
                    for k, e in errs.items()}
    res["frames_in"] = {s: int(m.sum()) for s, m in sets.items()}
    if placed:  # the absolute MPJPE counts only the frames with a root position
        res["frames_in_absolute"] = {s: int(np.isfinite(errs["mpjpe_absolute"][m]).all(-1).sum()) for s, m in sets.items()}
    res["per_joint"] = {k: dict(zip(joints, np.nanmean(e, 0).round(2).tolist())) for k, e in errs.items()
                        if np.isfinite(e).any()}
    res["swapped_frames"] = int(swapped.sum())
    res["bone_length_ratio"] = bone_length_ratios(P, Rf, skeleton)
    res["bone_length_cv"] = bone_length_cv(P, skeleton)
    res["bone_length_cv_reference"] = bone_length_cv(Rf, skeleton)
    res["angle_rmse_deg"] = angle_rmse(P, Rf, skeleton)
    return res


def root_position_errors(pred: np.ndarray, ref: np.ndarray) -> dict:
    """Camera-frame root positions (T, 3) mm, prediction against reference (frames with a NaN in either left out):
    the 3D distance (median, mean), the depth error ``pred_z - ref_z`` (mean: a bias, in mm and in % of the
    reference's mean depth, and its median absolute value), the image-plane (x, y) distance (median); only
    ``{"frames": 0}`` without a common frame."""
    ok = np.isfinite(pred).all(-1) & np.isfinite(ref).all(-1)
    if not ok.any():
        return {"frames": 0}
    p, r = pred[ok], ref[ok]
    d, dz = np.linalg.norm(p - r, axis=-1), p[:, 2] - r[:, 2]
    return {"frames": int(ok.sum()), "error_median_mm": float(np.median(d)), "error_mean_mm": float(d.mean()),
            "depth_bias_mm": float(dz.mean()), "depth_bias_percent": float(100 * dz.mean() / r[:, 2].mean()),
            "depth_error_median_abs_mm": float(np.median(np.abs(dz))),
            "lateral_error_median_mm": float(np.median(np.linalg.norm(p[:, :2] - r[:, :2], axis=-1))),
            "reference_depth_mean_mm": float(r[:, 2].mean())}


def parse_frames(text: str | None) -> tuple[int | None, int | None]:
    """``"a:b"`` → (a, b) reference frame numbers, half-open like Python slices (either may be empty)."""
    from ..errors import Pose3dError

    if not text:
        return None, None
    a, sep, b = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = (int(a) if a.strip() else None), (int(b) if b.strip() else None)
    except ValueError:
        raise Pose3dError(f"--frames {text!r}: expected START:STOP reference frame numbers, e.g. 50:100") from None
    if (lo is not None and lo < 0) or (hi is not None and hi < 0):
        raise Pose3dError(f"--frames {text!r}: frame numbers start at 0 (no negative numbers); give START:STOP, "
                          "e.g. 50:100")
    if lo is not None and hi is not None and lo >= hi:
        raise Pose3dError(f"--frames {text!r}: START must be below STOP (STOP is not scored: half-open, like "
                          f"Python slices); e.g. {lo}:{lo + 50}")
    return lo, hi


def score_file(pred_path: str, ref_path: str, calib: str | None = None, camera: str | None = None,
               frames: str | None = None, joints: tuple[str, ...] = LIMB_JOINTS) -> dict:
    """Score an infer output (CSV/JSON, camera frame, root-relative) against a reference npz.

    The prediction's camera is ``camera``, else the camera named in its file name (a reference that holds
    cameras and a file name that names none is an error). Its rows are matched to the reference by frame
    number and the camera's sync offset (prediction frame ``f + offset`` = reference frame ``f``). With a
    camera, the unaligned MPJPE is reported, and the subset ``no_2d_swap`` (frames whose 2D in that view the
    triangulation did not have to relabel).
    """
    from ..errors import Pose3dError
    from ..infer.readers import read_infer_output
    from ..skeleton import get_skeleton
    from .calibration import camera_by_name, camera_for_video, load_calibration
    from .reference import read_reference

    ref = read_reference(ref_path)
    pred = read_infer_output(pred_path)
    if tuple(pred.joint_names) != tuple(ref.names):
        ref_sk = next((s for s in ("h36m17", "coco17", "blazepose33") if get_skeleton(s).joints == ref.names), None)
        lacking = [j for j in ref.names if j not in pred.joint_names]
        if pred.skeleton is None and lacking and set(pred.joint_names) < set(ref.names):
            raise Pose3dError(f"{pred_path}: lacks joint{'s' if len(lacking) > 1 else ''} {', '.join(lacking[:4])}"
                              f"{' ...' if len(lacking) > 4 else ''} of the reference's "
                              f"{ref_sk or 'skeleton'}; give an unmodified `pose3d infer` output")
        raise Pose3dError(f"{ref_path}: the reference's joints ({ref_sk or f'{len(ref.names)} joints: ' + ', '.join(ref.names[:4]) + ' ...'}) "
                          f"are not the prediction's ({pred.skeleton or len(pred.joint_names)}); "
                          f"give a reference of the prediction's skeleton")
    sk = get_skeleton(pred.skeleton) if pred.skeleton else None
    if sk is None:
        raise Pose3dError(f"{pred_path}: its joints are no registered skeleton; scoring needs one (h36m17)")
    cams = load_calibration(calib) if calib else ref.cameras
    cam = None
    if cams:
        cam = camera_by_name(cams, camera, calib or ref_path) if camera else \
            camera_for_video(cams, pred_path, calib or ref_path, option="--camera")
    offset = 0
    v = None
    if cam is not None and ref.cameras:
        names = [c.name for c in ref.cameras]
        if cam.name in names:
            v = names.index(cam.name)
            offset = int(ref.offsets[v])
        elif ref.offsets is not None and np.any(np.asarray(ref.offsets) != 0):
            raise Pose3dError(f"{calib}: camera {cam.name!r} is not one of {ref_path}'s ({', '.join(names)}), whose "
                              "views were synchronised with offsets; its offset is unknown: name the camera as the "
                              "reference does (or leave --calib out)")
    lo, hi = parse_frames(frames)
    span = repr(frames) if frames else "all"
    sel = np.ones(len(ref.frame), bool)
    if lo is not None:
        sel &= ref.frame >= lo
    if hi is not None:
        sel &= ref.frame < hi
    if not sel.any():
        raise Pose3dError(f"--frames {frames!r}: {ref_path} holds reference frames {int(ref.frame.min())}:"
                          f"{int(ref.frame.max()) + 1} only; choose frames within them")
    need = sorted({sk.index(j) for j in joints} | {sk.index(sk.root)})  # what score_poses needs in a frame
    usable_pred = np.isfinite(pred.joints3d[:, need]).all((1, 2))
    if not usable_pred.any():
        raise Pose3dError(f"{pred_path}: no usable frame: none of its {len(usable_pred)} frames has the scored "
                          f"joints ({int(pred.detected.sum())} detected); nothing to score; check that `pose3d "
                          "infer` found the person in this video")
    usable_ref = np.isfinite(ref.joints[:, need]).all((1, 2))
    if not usable_ref[sel].any():
        raise Pose3dError(f"{ref_path}: no usable frame: none of its {int(sel.sum())} frames"
                          f"{f' in --frames {frames!r}' if frames else ''} has the scored joints triangulated (NaN); "
                          "nothing to score; triangulate again (check the 2D views and --min-conf) or choose "
                          "other --frames")
    frames_seen, counts = np.unique(np.asarray(pred.frame, dtype=np.int64), return_counts=True)
    if (counts > 1).any():
        raise Pose3dError(f"{pred_path}: frame {int(frames_seen[counts > 1][0])} appears "
                          f"{int(counts[counts > 1][0])} times ({int((counts > 1).sum())} repeated frame numbers); "
                          "score one person's frames, each once (an unmodified `pose3d infer` output)")
    row_of = {int(f): i for i, f in enumerate(pred.frame)}
    rows = np.array([row_of.get(int(f) + offset, -1) for f in ref.frame])
    missing = int((sel & (rows < 0)).sum())  # reference frames (in --frames) the prediction has no row for
    sel &= rows >= 0
    if not sel.any():
        raise Pose3dError(f"{pred_path}: no frame in common with {ref_path} (frames {span}, "
                          f"sync offset {offset:+d}); check the files and --frames")
    P = pred.joints3d[rows[sel]]
    Rf = ref.joints[sel]
    if not (usable_pred[rows[sel]] & usable_ref[sel]).any():
        raise Pose3dError(f"{pred_path}: no frame where both it and {ref_path} have the scored joints "
                          f"(reference frames {span}, sync offset {offset:+d}); nothing to score; "
                          "check the files and --frames")
    subsets = {}
    if v is not None and ref.swapped_2d is not None:
        subsets["no_2d_swap"] = ~ref.swapped_2d[v][sel]
    res = score_poses(P, Rf, sk, joints, None if cam is None else cam.R, subsets,
                      None if cam is None else np.asarray(cam.t, dtype=np.float64),
                      None if pred.root is None else pred.root[rows[sel]])
    from ..infer.readers import person_ids

    res.update({"person": 0, "people_in_prediction": len(person_ids(pred_path)),
                "prediction": str(pred_path), "reference": str(ref_path), "camera": None if cam is None else cam.name,
                "sync_offset": offset, "reference_frames": [int(ref.frame[sel][0]), int(ref.frame[sel][-1]) + 1],
                "reference_frames_without_prediction": missing})
    return res
