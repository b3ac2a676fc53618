"""The body frame and signed, named joint angles for ergonomics (numpy only).

Every function is batched over ``(..., J, 3)`` joints (any consistent unit, e.g. mm, in the camera frame:
x right, y down, z forward) with joints addressed by name through :mod:`pose3d_cli.skeleton`. "Up" is a
direction in the same frame, ``(3,)`` or ``(..., 3)``: give it from a calibration, an estimate or (last
resort) the level camera's −y.

Frames (all orthonormal, right-handed ``(anterior, left, up)`` like x forward, y left, z up):

- **pelvis frame** (``pelvis_frame``): ``up`` = the given vertical; ``left`` = the hip line
  (``left_hip − right_hip``) made horizontal; ``anterior`` = ``left × up``. It is the reference of trunk
  angles: RULA/REBA measure the trunk against the vertical, in the body's own sagittal plane.
- **trunk frame** (``trunk_frame``): ``up`` = the trunk axis (``thorax − pelvis``); ``left`` = the shoulder
  line orthogonalised against it; ``anterior`` = ``left × up``. It is the reference of the neck and the upper
  arms (RULA/REBA measure them relative to the trunk).

Angle conventions (degrees, signed):

- ``trunk_flexion``: the trunk axis in the pelvis frame's sagittal plane (anterior, up), from the vertical;
  + flexion (forward), − extension. ``trunk_inclination``: the 3D angle between trunk axis and vertical,
  negative only when the trunk leans backwards more than sideways (the "3D inclination" convention).
  ``trunk_lean``: the angle of the trunk axis out of the pelvis frame's frontal plane (left, up), + forwards:
  equal to ``trunk_flexion`` for a trunk bent in the sagittal plane (continued past 90° for a trunk bent past the
  horizontal: 110° reads 110°, not 70°); under a side bend ``s`` the sagittal projection
  divides the trunk's forward component by about ``cos s``, and with it any forward/backward depth error of a
  monocular lift, which ``trunk_lean`` does not.
- ``trunk_side_bend``: the angle of the trunk axis out of the pelvis frame's sagittal plane (anterior, up), + towards
  the subject's left: the lateral bending of the flexion-then-lateral-bending Cardan sequence (ISB, Wu et al. 2005),
  so a trunk flexed 80° and tilted 3° sideways reads 3° (its frontal-plane projection, used before stop 30, read
  ~17°); equal to the frontal-plane angle for an upright trunk.
- ``trunk_twist``: the shoulder line against the hip line, both projected on the plane normal to the trunk
  axis; + shoulders turned to the subject's left (counter-clockwise seen from above).
- ``neck_flexion``: ``head − thorax`` in the trunk frame's sagittal plane, from the trunk axis, minus
  ``neck_neutral_deg``; + flexion, − extension. ``neck_side_bend``: out of the trunk frame's
  sagittal plane (as the trunk's side bend), + left.
- ``upper_arm_flexion_{side}``: ``elbow − shoulder`` in the sagittal plane of the reference frame (trunk, or
  pelvis/vertical with ``upper_arm_reference="vertical"``), from the reference's downward axis; + flexion
  (forward), − extension (down to −90°: beyond, an arm past vertical overhead, it reads as flexion over 180°).
  ``upper_arm_elevation_{side}``: the 3D angle between upper arm and the downward
  axis, negative only when the arm points backwards more than sideways and below the horizontal (the "3D"
  convention). ``upper_arm_abduction_{side}``: the angle of the arm out of the sagittal plane (−90..90), + away
  from the body (outwards), − across it (equal to the frontal-plane abduction for an arm in the frontal plane, and
  well defined when the arm points forwards); an arm raised above the shoulder more sideways than forwards goes on
  past 90° (120° raised sideways reads 120°, not 60°).
- ``shoulder_raise_{side}``: the angle of ``shoulder − thorax`` above the plane normal to the trunk axis
  (+ raised). A symmetric shrug moves both shoulders and the thorax estimate together and is not seen.
- ``elbow_flexion_{side}``, ``knee_flexion_{side}``: 0 with the limb straight.
- ``foot_raise``: ``(left_ankle − right_ankle) · up`` in the poses' unit (+ left foot higher); a large value
  means one foot is off the ground (REBA/RULA leg support).
- ``wrist_lateral_{side}``: ``wrist − thorax`` along the trunk's outward lateral axis, in the poses' unit
  (negative: the hand works across the body midline); ``shoulder_half_width``.

How the camera films the body (the conditions an ergonomist can change; the lifter is trained on some and not others):

- :func:`camera_tilt`: from up in the camera frame, ``down`` = the optical axis below the horizontal (negative:
  looking up) and ``roll`` = the true vertical's direction in the image against the image's upward axis (−y),
  + where the vertical leans to the image's right; both 0 for a level camera.
- :func:`camera_azimuth`: about the vertical, the angle between the pelvis frame's anterior axis and the
  horizontal direction from the body to the camera: 0 the person faces the camera, 90 profile, 180 from behind.

Hand and face angles (:func:`hand_face_angles`, from a detector's hand/face points, ``blazepose33`` names):

- ``wrist_flexion_{side}``: the hand axis (wrist → mid-knuckles of index and pinky) against the forearm axis
  (elbow → wrist), in the plane normal to the hand's knuckle line (``index − pinky``, made orthogonal to the
  forearm); + flexion (towards the palm), − extension. The palm side is the hand's own: ``forearm × knuckles``
  for the left hand, ``knuckles × forearm`` for the right (in anatomical position both point anteriorly), so
  the sign does not depend on pronation or on the camera.
- ``wrist_deviation_{side}``: the same hand axis towards the knuckle line; + radial (thumb side), − ulnar.
- ``head_yaw``: the ear line (``left_ear − right_ear``; the eye line where an ear is missing) against the
  shoulder line, both projected on the plane normal to the trunk axis (the trunk frame above, built from the
  same points); + face turned to the subject's left (counter-clockwise seen from above), like ``trunk_twist``.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import H36M17, Skeleton, get_skeleton

SIDES = ("left", "right")

#: joints each angle needs (for "missing joint" reasons)
NEEDS: dict[str, tuple[str, ...]] = {
    "trunk": ("pelvis", "thorax", "left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    "neck": ("pelvis", "thorax", "head", "left_shoulder", "right_shoulder"),
    "legs": ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
    **{f"arm_{s}": ("pelvis", "thorax", "left_shoulder", "right_shoulder", "left_hip", "right_hip",
                    f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist") for s in SIDES},
}


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors (..., 3) and (..., 3) → (...); NaN where either is zero or NaN."""
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(-1) / (na * nb)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def planar_angle(v: np.ndarray, zero: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Signed angle (degrees) of ``v`` projected on the plane spanned by the unit axes ``zero`` (0°) and
    ``positive`` (+90°); all (..., 3) → (...), in (−180, 180]."""
    return np.degrees(np.arctan2(_dot(v, positive), _dot(v, zero)))


def out_of_plane(v: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Signed angle (degrees, −90..90) of ``v`` out of the plane whose unit normal is ``normal`` (both (..., 3)
    → (...)), + towards the normal; NaN where ``v`` is zero or NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arcsin(np.clip(_dot(v, normal) / np.linalg.norm(v, axis=-1), -1, 1)))


def orthonormal_frame(up: np.ndarray, lateral: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rows (anterior, left, up) from an up axis and an approximate left axis (both (..., 3))."""
    u = _unit(up)
    l = _unit(lateral - _dot(lateral, u)[..., None] * u)
    a = np.cross(l, u)
    return np.stack([a, l, u], axis=-2)


def _joint(poses: np.ndarray, sk: Skeleton, name: str) -> np.ndarray:
    return poses[..., sk.index(name), :]


def pelvis_frame(poses: np.ndarray, up: np.ndarray, skeleton: Skeleton | str = H36M17) -> np.ndarray:
    """(..., 3, 3) rows (anterior, left, up): the vertical and the horizontal hip line (see module doc)."""
    sk = get_skeleton(skeleton)
    hips = _joint(poses, sk, "left_hip") - _joint(poses, sk, "right_hip")
    up = np.broadcast_to(np.asarray(up, dtype=np.float64), hips.shape)
    return orthonormal_frame(up, hips)


def trunk_frame(poses: np.ndarray, skeleton: Skeleton | str = H36M17) -> np.ndarray:
    """(..., 3, 3) rows (anterior, left, up): the trunk axis and the shoulder line (see module doc)."""
    sk = get_skeleton(skeleton)
    return orthonormal_frame(_joint(poses, sk, "thorax") - _joint(poses, sk, "pelvis"),
                             _joint(poses, sk, "left_shoulder") - _joint(poses, sk, "right_shoulder"))


def _signed_3d(v: np.ndarray, down: np.ndarray, anterior: np.ndarray, outward: np.ndarray) -> np.ndarray:
    """3D angle between ``v`` and ``down``, negative when ``v`` points backwards more than sideways, on the ``down``
    side of the horizontal (an arm just past vertical overhead, a little behind, is raised 179°, not extended)."""
    mag = angle_between(v, down)
    back = (_dot(v, anterior) < 0) & (np.abs(_dot(v, anterior)) > np.abs(_dot(v, outward))) & (_dot(v, down) > 0)
    return np.where(back, -mag, mag)


def _past_horizontal(angle: np.ndarray, v: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """An arcsin angle (−90..90, of ``v`` out of a plane containing the axis ``zero``) continued past 90° where ``v``
    has turned past the plane normal to ``zero`` (``v · zero < 0``): 70 → 110 for a trunk bent 110° forwards."""
    return np.where(_dot(v, zero) < 0, np.where(angle >= 0, 180.0, -180.0) - angle, angle)


def body_angles(poses: np.ndarray, up: np.ndarray, skeleton: Skeleton | str = H36M17,
                neck_neutral_deg: float = 0.0, upper_arm_reference: str = "trunk") -> dict[str, np.ndarray]:
    """All signed angles of the module doc for poses (..., J, 3) → {name: (...)}; NaN where a joint is NaN.

    Args:
        poses: (..., J, 3) joints of ``skeleton`` (needs pelvis, thorax, head, hips, knees, ankles,
            shoulders, elbows, wrists).
        up: (3,) or (..., 3) the vertical in the poses' frame (need not be unit length).
        neck_neutral_deg: the neck flexion (head − thorax against the trunk axis) of this skeleton's neutral
            upright posture; subtracted so that neutral reads 0.
        upper_arm_reference: ``trunk`` (RULA/REBA: the arm relative to the trunk) or ``vertical`` (relative to
            the gravity-aligned pelvis frame).
    """
    if upper_arm_reference not in ("trunk", "vertical"):
        raise ValueError(f"upper_arm_reference must be trunk or vertical, not {upper_arm_reference!r}")
    sk = get_skeleton(skeleton)
    poses = np.asarray(poses, dtype=np.float64)
    j = {n: _joint(poses, sk, n) for n in ("pelvis", "thorax", "head", *(f"{s}_{p}" for s in SIDES for p in (
        "hip", "knee", "ankle", "shoulder", "elbow", "wrist")))}
    P = pelvis_frame(poses, up, sk)
    T = trunk_frame(poses, sk)
    pa, pl, pu = P[..., 0, :], P[..., 1, :], P[..., 2, :]
    ta, tl, tu = T[..., 0, :], T[..., 1, :], T[..., 2, :]
    trunk = j["thorax"] - j["pelvis"]
    out: dict[str, np.ndarray] = {}
    out["trunk_flexion"] = planar_angle(trunk, pu, pa)
    out["trunk_inclination"] = _signed_3d(trunk, pu, pa, pl)
    out["trunk_lean"] = _past_horizontal(out_of_plane(trunk, pa), trunk, pu)
    # side bend: the angle out of the sagittal plane, the lateral bending of a flexion-then-lateral-bending
    # Cardan sequence (ISB, Wu et al. 2005); the frontal-plane projection it replaces amplified a small
    # lateral tilt under a forward bend (3° read ~17° at 80° of flexion) and flipped past the horizontal
    out["trunk_side_bend"] = out_of_plane(trunk, pl)
    # twist: shoulder line against hip line, about the trunk axis (+ = counter-clockwise seen from above)
    sh = j["left_shoulder"] - j["right_shoulder"]
    hp = j["left_hip"] - j["right_hip"]
    shp = sh - _dot(sh, tu)[..., None] * tu
    hpp = hp - _dot(hp, tu)[..., None] * tu
    out["trunk_twist"] = np.degrees(np.arctan2(_dot(np.cross(hpp, shp), tu), _dot(hpp, shp)))
    neck = j["head"] - j["thorax"]
    out["neck_flexion"] = planar_angle(neck, tu, ta) - neck_neutral_deg
    out["neck_side_bend"] = out_of_plane(neck, tl)
    ra, rl, ru = (ta, tl, tu) if upper_arm_reference == "trunk" else (pa, pl, pu)
    half = []
    for s in SIDES:
        sign = 1.0 if s == "left" else -1.0
        outward = sign * rl
        upper = j[f"{s}_elbow"] - j[f"{s}_shoulder"]
        fore = j[f"{s}_wrist"] - j[f"{s}_elbow"]
        flexion = planar_angle(upper, -ru, ra)
        # past vertical overhead (below −90° in the sagittal plane: no shoulder extends that far) is flexion
        out[f"upper_arm_flexion_{s}"] = np.where(flexion < -90.0, flexion + 360.0, flexion)
        out[f"upper_arm_elevation_{s}"] = _signed_3d(upper, -ru, ra, outward)
        abduction = out_of_plane(upper, outward)
        # raised above the shoulder more sideways than forwards, the arm keeps growing in abduction (120° raised
        # sideways read 60°, 170° read 10°: the RULA/REBA "abducted" +1 was lost)
        sideways = (_dot(upper, ru) > 0) & (np.abs(_dot(upper, outward)) > np.abs(_dot(upper, ra)))
        out[f"upper_arm_abduction_{s}"] = np.where(sideways, _past_horizontal(abduction, upper, -ru), abduction)
        d = j[f"{s}_shoulder"] - j["thorax"]
        du = _dot(d, tu)
        out[f"shoulder_raise_{s}"] = np.degrees(np.arctan2(du, np.linalg.norm(d - du[..., None] * tu, axis=-1)))
        out[f"elbow_flexion_{s}"] = angle_between(upper, fore)
        out[f"knee_flexion_{s}"] = angle_between(j[f"{s}_knee"] - j[f"{s}_hip"], j[f"{s}_ankle"] - j[f"{s}_knee"])
        out[f"wrist_lateral_{s}"] = _dot(j[f"{s}_wrist"] - j["thorax"], sign * tl)
        half.append(np.abs(_dot(j[f"{s}_shoulder"] - j["thorax"], tl)))
    out["shoulder_half_width"] = 0.5 * (half[0] + half[1])
    out["foot_raise"] = _dot(j["left_ankle"] - j["right_ankle"], pu)
    return out


#: angles in degrees that the scores read (used for "near a band edge" checks and the timeline)
ANGLE_NAMES = ("trunk_flexion", "trunk_inclination", "trunk_lean", "trunk_side_bend", "trunk_twist", "neck_flexion",
               "neck_side_bend", *(f"{p}_{s}" for s in SIDES for p in (
                   "upper_arm_flexion", "upper_arm_elevation", "upper_arm_abduction", "shoulder_raise",
                   "elbow_flexion", "knee_flexion")))


def camera_tilt(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(down, roll)`` degrees (...,) of a camera whose frame holds the world's ``up`` (..., 3) (module doc)."""
    u = _unit(np.asarray(up, dtype=np.float64))
    down = np.degrees(np.arcsin(np.clip(-u[..., 2], -1.0, 1.0)))
    return down, np.degrees(np.arctan2(u[..., 0], -u[..., 1]))


def camera_azimuth(poses: np.ndarray, up: np.ndarray, skeleton: Skeleton | str = H36M17) -> np.ndarray:
    """(...,) degrees in [0, 180], where the camera stands around the person (module doc), from root-relative
    camera-frame ``poses`` (..., J, 3): the camera is taken to lie along −z from the body (its image centre; a
    person at the image's edge is seen up to half the field of view more from the side)."""
    F = pelvis_frame(poses, up, skeleton)
    anterior, vertical = F[..., 0, :], F[..., 2, :]
    to_camera = np.broadcast_to(np.array([0.0, 0.0, -1.0]), anterior.shape)
    level = to_camera - _dot(to_camera, vertical)[..., None] * vertical
    return angle_between(anterior, level)


def level_camera_up() -> np.ndarray:
    """The last-resort vertical: the camera's −y (a phone held upright and level)."""
    return np.array([0.0, -1.0, 0.0])


def _hand_angles(elbow: np.ndarray, wrist: np.ndarray, index: np.ndarray, pinky: np.ndarray,
                 side: str) -> tuple[np.ndarray, np.ndarray]:
    """(flexion, deviation) degrees of one hand from (..., 3) points (see module doc)."""
    fore = _unit(wrist - elbow)
    hand = 0.5 * (index + pinky) - wrist
    knuckles = index - pinky
    radial = _unit(knuckles - _dot(knuckles, fore)[..., None] * fore)
    palm = np.cross(fore, radial) if side == "left" else np.cross(radial, fore)
    return planar_angle(hand, fore, palm), planar_angle(hand, fore, radial)


#: how far the line from the ears' mid-point to the eyes' rises above the Frankfort horizontal (porion-orbitale)
#: in a neutral head, degrees: the orbitomeatal line (eye corner to ear canal) is ~7 deg steeper than the
#: infraorbitomeatal line, which is the Frankfort plane to within a degree (the standard radiographic positioning
#: angle); BlazePose's "ear" and "eye" are not exactly those landmarks, so it is an option (ergo's
#: ``face_line_rise_deg``), not a measurement
FACE_LINE_RISE_DEG = 7.0
#: a frame's face is plausible where each face distance is within this fraction of its median over the clip
FACE_TOLERANCE = 0.25


def points_trunk_frame(points: dict[str, np.ndarray]) -> np.ndarray:
    """(..., 3, 3) rows (anterior, left, up): :func:`trunk_frame` of named detector points (the shoulders' and hips'
    mid-points, the shoulder line), each (..., 3) by ``blazepose33`` name."""
    p = points
    return orthonormal_frame(0.5 * (p["left_shoulder"] + p["right_shoulder"]) - 0.5 * (p["left_hip"] + p["right_hip"]),
                             p["left_shoulder"] - p["right_shoulder"])


def face_line_flexion(points: dict[str, np.ndarray], rise_deg: float = FACE_LINE_RISE_DEG) -> np.ndarray:
    """(...,) head flexion relative to the trunk read from the face, degrees (+ flexion, the face turned down).

    The head's own axes: the ear line (right → left), the face line (the ears' mid-point → the eyes' mid-point,
    made perpendicular to it) turned down by ``rise_deg`` about the ear line (level in a neutral head), and up =
    level face × ear line. Up's angle in the trunk frame's sagittal plane (from the trunk axis ``thorax − pelvis``,
    + towards the anterior) is the flexion: a head turned about its own vertical (yaw), bent or not, reads the same
    (the face line's elevation alone read a 30° bend turned 45° as 21°). Points (..., 3) by ``blazepose33`` name, all in
    one coordinate system: ``left/right_`` ``ear``, ``eye``, ``shoulder``, ``hip``. NaN where a point is NaN or the
    head's up axis points below the trunk's horizontal plane (ears swapped).

    Unlike ``neck_flexion`` (``head − thorax``, where the head joint's offset from the trunk line is the
    skeleton's and, for an ear mid-point, the person's own), it needs no neutral of the skeleton, only of the face.
    """
    p = points
    F = points_trunk_frame(p)
    ta, tu = F[..., 0, :], F[..., 2, :]
    ears = _unit(p["left_ear"] - p["right_ear"])
    face = 0.5 * (p["left_eye"] + p["right_eye"]) - 0.5 * (p["left_ear"] + p["right_ear"])
    face = _unit(face - _dot(face, ears)[..., None] * ears)
    r = np.radians(rise_deg)
    level = face * np.cos(r) + np.cross(ears, face) * np.sin(r)  # the face line turned down about the ear line
    head_up = np.cross(level, ears)
    flexion = planar_angle(head_up, tu, ta)
    with np.errstate(invalid="ignore"):
        return np.where(_dot(head_up, tu) > 0, flexion, np.nan)


def plausible_faces(points: dict[str, np.ndarray], tolerance: float = FACE_TOLERANCE) -> np.ndarray:
    """(T,) True where a frame's face points have the clip's own proportions: each of the ear-to-ear, eye-to-eye,
    ears' to eyes' mid-points and ears' mid-point to nose distances within ``tolerance`` of its median over the
    (T, ...) frames. A face triangulated or detected wrongly (a turned head's hidden eye placed on the visible one,
    the nose collapsed onto the ears) changes them; a turning or nodding head does not."""
    p = points
    ears = 0.5 * (p["left_ear"] + p["right_ear"])
    dist = np.stack([np.linalg.norm(a, axis=-1) for a in (
        p["left_ear"] - p["right_ear"], p["left_eye"] - p["right_eye"],
        0.5 * (p["left_eye"] + p["right_eye"]) - ears, p["nose"] - ears)], axis=-1)  # (T, 4)
    ok = np.isfinite(dist).all(-1)
    if not ok.any():
        return ok
    med = np.median(dist[ok], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ok & (np.abs(dist / med - 1.0) <= tolerance).all(-1)


def neck_neutral_from_face(poses: np.ndarray, points: dict[str, np.ndarray], skeleton: Skeleton | str = H36M17,
                           rise_deg: float = FACE_LINE_RISE_DEG, min_frames: int = 10) -> tuple[float | None, int]:
    """(neutral, frames): the neck flexion of a person's neutral head for ``neck_flexion``'s ``head − thorax``,
    from their own face: the median over the frames with plausible faces (:func:`plausible_faces`) of
    ``neck_flexion`` (neutral 0) minus :func:`face_line_flexion`, or ``None`` where fewer than ``min_frames``
    frames have one. ``poses`` (T, J, 3) and ``points`` (T, 3) per name must share one coordinate system (a
    multi-view triangulation of the detector's points): the head joint is then the ears' mid-point, whose offset
    from the trunk line is the person's (36 deg on the shared pose2sim worker, whose head is upright), not the
    mocap head top's ~10 deg."""
    sk = get_skeleton(skeleton)
    tf = trunk_frame(poses, sk)
    raw = planar_angle(_joint(poses, sk, "head") - _joint(poses, sk, "thorax"), tf[..., 2, :], tf[..., 0, :])
    face = face_line_flexion(points, rise_deg)
    use = plausible_faces(points) & np.isfinite(raw) & np.isfinite(face)
    n = int(use.sum())
    return (float(np.median(raw[use] - face[use])) if n >= min_frames else None), n


def hand_face_angles(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Wrist flexion/deviation of both hands and head yaw (module doc) from named points, each (..., 3) in one
    coordinate system (e.g. MediaPipe world landmarks): ``left/right_`` ``shoulder``, ``hip``, ``elbow``,
    ``wrist``, ``index``, ``pinky``, ``ear``, ``eye``. NaN where a needed point is NaN."""
    p = points
    tu = points_trunk_frame(p)[..., 2, :]
    out: dict[str, np.ndarray] = {}
    for s in SIDES:
        out[f"wrist_flexion_{s}"], out[f"wrist_deviation_{s}"] = _hand_angles(
            p[f"{s}_elbow"], p[f"{s}_wrist"], p[f"{s}_index"], p[f"{s}_pinky"], s)
    ears = p["left_ear"] - p["right_ear"]
    eyes = p["left_eye"] - p["right_eye"]
    head = np.where(np.isfinite(ears).all(-1, keepdims=True), ears, eyes)
    sh = p["left_shoulder"] - p["right_shoulder"]
    shp = sh - _dot(sh, tu)[..., None] * tu
    hdp = head - _dot(head, tu)[..., None] * tu
    out["head_yaw"] = np.degrees(np.arctan2(_dot(np.cross(shp, hdp), tu), _dot(shp, hdp)))
    return out
