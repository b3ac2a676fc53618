"""Inferred 3D joints → a BVH file on a fixed skeleton (Blender, MotionBuilder, game engines).

``write_bvh(joints, "h36m17", fps, "out.bvh")`` fits, frame by frame (vectorised over frames), the joint
rotations of one fixed skeleton to root-relative camera-frame joints, and writes them as BVH.

File conventions
----------------
- **Units: centimetres** (offsets and root positions). BVH has no comment syntax, so the unit is stated
  here only: import with a scale of 0.01 for metres (Blender: "Scale 0.01"), or read back with
  ``pose3d_cli.mocap.bvh.read_bvh(path, units="cm", up="y")``.
- **World: Y up, right-handed.** The camera frame (x right, y down, z forward) is turned upright by
  :func:`upright_rotation`: the up axis is the world's vertical when it is known (``up``: a calibration, or
  the scene's vertical lines, which ``infer`` passes), else the mean over the sequence of ``thorax - pelvis``
  (the person upright on average, whatever the phone's tilt), and the camera's viewing direction, flattened onto the
  ground, becomes **-Z**. A person facing the camera therefore faces **+Z** (the usual BVH facing) with
  their left hand on **+X**.
- Rest pose (all rotations zero): a T-pose facing +Z: legs straight down (-Y), spine, neck and head up
  (+Y), hips and arms out sideways (left +X, right -X). Bone lengths are the median over the valid frames
  of each bone's length, so the skeleton is fixed for the whole clip.
- Channels: ``Xposition Yposition Zposition Zrotation Xrotation Yrotation`` on the root; on every other joint
  three rotations whose middle axis is the rest axis of the bone the joint swings (:func:`swing_order`):
  ``Zrotation Yrotation Xrotation`` for hips, knees, spine and neck (bones along Y), ``Zrotation Xrotation
  Yrotation`` for the arms' joints (bones along X), the thorax and the link joints; intrinsic (``R = Rz @ Ry @ Rx``
  for ZYX, how BVH readers compose them). A swing never twists its bone, so the middle angle stays far from its
  ±90° gimbal: a hip or knee flexed 90° (sitting, running) is smooth in all three channels, where ZXY on a leg
  threw the other two by ~50° a frame. Angles are continuous over time (:func:`continuous_euler`: no ±360° wraps,
  no switch between the two Euler solutions).
- The root (pelvis) position: the root trajectory when given (camera-frame mm, rotated upright), else the
  origin horizontally; vertically the whole clip is shifted so that the lowest joint's median height over
  the clip is 0 (the person stands on the ``y = 0`` floor).

The fit
-------
A joint with one child takes the *minimal* rotation, relative to its parent, that swings the child's rest
direction onto the observed bone direction (hinge-like joints such as knees and elbows come out as a
rotation about the joint's axis). A joint with several children (pelvis, thorax) takes a full orientation
from two directions: the vertical child (spine; neck) exactly, twisted so that the left-right line of its
paired children (hips; shoulders) lies in the rest pose's left-right plane. One rotation cannot in general
place three children exactly (the angle between the spine and the hip line changes as the pose changes,
and an inferred pose's hips need not be symmetric about the pelvis), so each non-vertical child hangs from
a zero-length link joint (``left_pelvis``/``right_pelvis`` before the hips, ``left_collar``/``right_collar``
before the shoulders, as in CMU's ``LHipJoint``/``LeftCollar``): every bone then points exactly where the
inferred pose says, with the fixed bone lengths. Leaf joints (head, wrists, ankles) carry zero rotations
and a short cosmetic ``End Site`` (feet point forward, hands and head continue their bone).

Frames without a detection (NaN) repeat the previous valid frame (the first valid one at the start), so the
file stays playable and keeps one frame per video frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from ..errors import Pose3dError
from ..geometry import axis_angle_to_matrix
from ..skeleton import H36M17, Skeleton, get_skeleton

#: Rest (T-pose) direction of the bone ending at each h36m17 joint, in the Y-up, +Z-facing output world.
REST_DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "left_hip": (1, 0, 0), "right_hip": (-1, 0, 0),
    "left_knee": (0, -1, 0), "right_knee": (0, -1, 0),
    "left_ankle": (0, -1, 0), "right_ankle": (0, -1, 0),
    "spine": (0, 1, 0), "thorax": (0, 1, 0), "nose": (0, 1, 0), "head": (0, 1, 0),
    "left_shoulder": (1, 0, 0), "left_elbow": (1, 0, 0), "left_wrist": (1, 0, 0),
    "right_shoulder": (-1, 0, 0), "right_elbow": (-1, 0, 0), "right_wrist": (-1, 0, 0),
}

#: Names of the zero-length link joints (parent, child) → name; other skeletons get ``<parent>_to_<child>``.
LINK_NAMES: dict[tuple[str, str], str] = {
    ("pelvis", "left_hip"): "left_pelvis", ("pelvis", "right_hip"): "right_pelvis",
    ("thorax", "left_shoulder"): "left_collar", ("thorax", "right_shoulder"): "right_collar",
}

#: Cosmetic End Site of a leaf joint: (direction in the joint's frame, length as a fraction of its bone).
END_SITES: dict[str, tuple[tuple[float, float, float], float]] = {
    "left_ankle": ((0, 0, 1), 0.3), "right_ankle": ((0, 0, 1), 0.3),
    "left_wrist": ((1, 0, 0), 0.35), "right_wrist": ((-1, 0, 0), 0.35),
    "head": ((0, 1, 0), 0.3),
}

MM_PER_CM = 10.0


class BvhWriteError(Pose3dError, ValueError):
    """The joints cannot be written as BVH (no valid frame, wrong shape ...)."""


# --------------------------------------------------------------------------------------------------- helpers


def _normalize(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def _valid_frames(joints: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(joints.reshape(joints.shape[0], -1)), axis=1)


def hold_invalid(x: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Replace invalid frames of (T, ...) ``x`` by the previous valid frame (the first valid one at the start)."""
    T = x.shape[0]
    if valid is None:
        valid = _valid_frames(x)
    if not valid.any():
        raise BvhWriteError("no frame has a complete pose (every frame holds NaN); nothing to write")
    idx = np.where(valid, np.arange(T), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(valid))
    return x[idx]


def _up_joints(sk: Skeleton) -> tuple[int, int]:
    """(lower, upper) joint indices whose difference, averaged over time, is the body's up direction."""
    lower = sk.index("pelvis") if "pelvis" in sk.joints else sk.index(sk.root)
    for name in ("thorax", "neck", "spine", "nose", "head"):
        if name in sk.joints and sk.index(name) != lower:
            return lower, sk.index(name)
    if {"left_shoulder", "right_shoulder", "left_hip", "right_hip"} <= set(sk.joints):
        return -1, -1  # handled by the caller with mid-points
    raise BvhWriteError(f"skeleton {sk.name}: no thorax/neck/head joint to tell which way is up")


def body_up(joints: np.ndarray, skeleton: Skeleton | str) -> np.ndarray:
    """The mean ``thorax - pelvis`` direction over the valid frames of (T, J, 3) joints → (3,) unit vector.

    Falls back to the camera's up (``-y``) when no frame is valid or the mean vanishes.
    """
    sk = get_skeleton(skeleton)
    valid = _valid_frames(joints)
    if not valid.any():
        return np.array([0.0, -1.0, 0.0])
    j = joints[valid].astype(np.float64)
    lo, hi = _up_joints(sk)
    if lo < 0:
        s = j[:, sk.indices(["left_shoulder", "right_shoulder"])].mean(1)
        h = j[:, sk.indices(["left_hip", "right_hip"])].mean(1)
        v = (s - h).mean(0)
    else:
        v = (j[:, hi] - j[:, lo]).mean(0)
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else np.array([0.0, -1.0, 0.0])


def upright_rotation(joints: np.ndarray, skeleton: Skeleton | str, up: np.ndarray | None = None) -> np.ndarray:
    """``world_from_camera`` rotation (3, 3) of the BVH world: Y up along ``up`` (3,) camera frame, the world's
    vertical when known, else the body's mean up direction (:func:`body_up`: a person bent all clip long comes
    out upright), the camera's viewing direction flattened onto the floor along -Z, X = Y × Z.

    For a level camera this is the 180° turn about x: ``(x, y, z)_cam → (x, -y, -z)_world``.
    """
    up = body_up(joints, skeleton) if up is None else _normalize(np.asarray(up, dtype=np.float64))
    fwd = np.array([0.0, 0.0, 1.0])
    h = fwd - fwd.dot(up) * up
    if np.linalg.norm(h) < 1e-6:  # camera looking straight along the body axis: keep the camera's x as X
        x = np.array([1.0, 0.0, 0.0])
        x = _normalize(x - x.dot(up) * up)
        z = np.cross(x, up)
    else:
        z = -_normalize(h)
        x = np.cross(up, z)
    return np.stack([x, up, z])  # rows: world axes in camera coordinates


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The minimal rotation taking unit vectors ``a`` to ``b`` (both (..., 3)) → (..., 3, 3).

    Opposite vectors turn 180° about an axis perpendicular to ``a``.
    """
    a, b = np.broadcast_arrays(_normalize(np.asarray(a, np.float64)), _normalize(np.asarray(b, np.float64)))
    v = np.cross(a, b)
    s = np.linalg.norm(v, axis=-1)
    c = np.sum(a * b, axis=-1)
    angle = np.arctan2(s, c)
    # any axis perpendicular to a, used when a and b are (anti)parallel
    helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    perp = _normalize(np.cross(a, helper))
    axis = np.where(s[..., None] > 1e-12, v / np.maximum(s[..., None], 1e-300), perp)
    return axis_angle_to_matrix(axis, angle)


def frame_from_two(primary: np.ndarray, secondary: np.ndarray, rest_primary: np.ndarray,
                   rest_secondary: np.ndarray) -> np.ndarray:
    """Rotation (..., 3, 3) taking ``rest_primary`` exactly onto ``primary`` and ``rest_secondary`` into the
    plane of (``primary``, ``secondary``) on ``secondary``'s side. Falls back to the minimal rotation of the
    primary direction where the secondary is parallel to it."""

    def basis(p, s):
        e1 = _normalize(p)
        s_perp = s - np.sum(s * e1, -1, keepdims=True) * e1
        ok = np.linalg.norm(s_perp, axis=-1) > 1e-6 * np.maximum(np.linalg.norm(s, axis=-1), 1e-12)
        e2 = _normalize(s_perp)
        return np.stack([e1, e2, np.cross(e1, e2)], axis=-1), ok  # columns

    B_obs, ok_obs = basis(primary, secondary)
    B_rest, ok_rest = basis(np.broadcast_to(rest_primary, primary.shape), np.broadcast_to(rest_secondary, primary.shape))
    R = B_obs @ np.swapaxes(B_rest, -1, -2)
    ok = ok_obs & ok_rest
    if not np.all(ok):
        R = np.where(ok[..., None, None], R, rotation_between(rest_primary, primary))
    return R


def matrix_to_euler(R: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) → (..., 3) degrees ``(a, b, c)`` with ``R = R_order[0](a) @ R_order[1](b) @ R_order[2](c)`` for
    a Tait-Bryan ``order`` of three different axes (e.g. ``"ZXY"``, BVH channel order; inverse of
    :func:`pose3d_cli.geometry.euler_to_matrix`). At the gimbal (middle angle ±90°) the last angle is set to 0."""
    i, j, k = ("XYZ".index(a) for a in order.upper())
    s = 1.0 if (i, j, k) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0  # an even permutation of XYZ or not
    sb = np.clip(s * R[..., i, k], -1.0, 1.0)
    b = np.arcsin(sb)
    gimbal = np.abs(sb) > 1 - 1e-9
    a = np.where(gimbal, np.arctan2(s * R[..., k, j], R[..., j, j]), np.arctan2(-s * R[..., j, k], R[..., k, k]))
    c = np.where(gimbal, 0.0, np.arctan2(-s * R[..., i, j], R[..., i, i]))
    return np.rad2deg(np.stack([a, b, c], axis=-1))


def matrix_to_euler_zxy(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) → (..., 3) degrees ``(z, x, y)`` with ``R = Rz(z) @ Rx(x) @ Ry(y)`` (BVH ZXY channels)."""
    return matrix_to_euler(R, "ZXY")


def swing_order(rest_direction: np.ndarray) -> str:
    """The channel order of a joint that swings one bone whose rest direction is ``rest_direction`` (3,): the
    bone's own axis in the middle. A swing never twists the bone, so the middle angle (±90° is the gimbal) stays
    small however far the bone swings: a knee or hip flexed 90° (sitting) is then smooth in every channel, where a
    middle axis across the bone (ZXY for a leg) would sit exactly at its gimbal."""
    axis = int(np.argmax(np.abs(rest_direction)))
    return ("ZXY", "ZYX", "XZY")[axis]


def continuous_euler(euler: np.ndarray, order: str | None = None) -> np.ndarray:
    """Make (T, ..., 3) Euler angles (degrees, any Tait-Bryan order) continuous over axis 0, rotations unchanged.

    Every rotation has two solutions, ``(a, b, c)`` and ``(a + 180, 180 - b, c + 180)`` (for every order of
    three different axes); frame by frame, the one nearer the previous frame is kept and each angle is moved by
    multiples of 360° next to it. A joint swung past 90° about its middle axis then keeps counting up instead of
    jumping to the other solution. Greedy and sequential over frames (vectorised over joints).

    With the channel ``order`` (as :func:`matrix_to_euler`'s): a frame exactly at the gimbal (middle angle ±90°),
    where only ``a + ε c`` is defined and :func:`matrix_to_euler` set ``c`` to 0, keeps the previous frame's ``c``
    and moves ``a`` by as much (ε = ±1 by the order's parity and the middle angle's sign): the channels do not spike
    for that one frame.
    """
    alt = euler + np.array([180.0, 0.0, 180.0])
    alt[..., 1] = 180.0 - euler[..., 1]
    out = np.empty_like(euler)
    if len(euler) == 0:
        return out
    out[0] = euler[0]

    def wrap(d):
        return (d + 180.0) % 360.0 - 180.0

    parity = None
    if order is not None:
        i, j, k = ("XYZ".index(a) for a in order.upper())
        parity = 1.0 if (i, j, k) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
    for t in range(1, len(euler)):
        now, other = euler[t], alt[t]
        if parity is not None:  # at the gimbal: c from the previous frame, a moved to keep a + ε c
            at = np.abs(np.abs(now[..., 1]) - 90.0) < 1e-6
            if at.any():
                eps = parity * np.sign(now[..., 1])
                shift = np.where(at, out[t - 1][..., 2] - now[..., 2], 0.0)
                now = now + np.stack([-eps * shift, np.zeros_like(shift), shift], -1)
                other = now  # the other solution is the same family at the gimbal
        da = wrap(now - out[t - 1])
        db = wrap(other - out[t - 1])
        use_b = np.abs(db).sum(-1, keepdims=True) < np.abs(da).sum(-1, keepdims=True)
        out[t] = out[t - 1] + np.where(use_b, db, da)
    return out


continuous_euler_zxy = continuous_euler  # the same for ZXY (the name earlier code and tests use)


# ------------------------------------------------------------------------------------------------------ fit


@dataclass
class BvhFit:
    """A BVH skeleton and its motion.

    Attributes:
        names: BVH joint names in file (depth-first) order; skeleton joints keep their names, link joints are
            added (see the module doc).
        parents: parent index of each BVH joint (-1 for the root), into ``names``.
        offsets: (N, 3) cm, each joint's offset in its parent's frame.
        end_sites: (N, 3) cm End Site offset of each leaf joint, NaN for joints with children.
        rotations: (T, N, 3) degrees, Euler angles of each joint's local rotation, in its channel order.
        root_position: (T, 3) cm.
        fps: frames per second.
        world_from_camera: (3, 3) the upright rotation used (:func:`upright_rotation`).
        bone_lengths_mm: skeleton joint name → the fixed length (mm) of the bone ending at it.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    end_sites: np.ndarray
    rotations: np.ndarray
    root_position: np.ndarray
    fps: float
    world_from_camera: np.ndarray
    bone_lengths_mm: dict[str, float]
    orders: list[str] | None = None  # (N,) each joint's rotation channel order (None: ZXY everywhere)


def _rest_direction(sk: Skeleton, c: int, world: np.ndarray) -> np.ndarray:
    """Rest direction of the bone ending at joint ``c``: the table for h36m17 bones, else the bone's mean
    direction in the upright world."""
    name, parent = sk.joints[c], sk.parents[c]
    if name in REST_DIRECTIONS and parent == H36M17.parents[H36M17.index(name)]:
        return np.array(REST_DIRECTIONS[name], dtype=np.float64)
    p = sk.index(parent)
    d = np.mean(_normalize(world[:, c] - world[:, p]), axis=0)
    n = np.linalg.norm(d)
    return d / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])


def fit_bvh(joints: np.ndarray, skeleton: Skeleton | str, fps: float, *,
            root_trajectory: np.ndarray | None = None, up: np.ndarray | None = None) -> BvhFit:
    """Fit BVH joint rotations to (T, J, 3) root-relative camera-frame joints (mm); ``up`` (3,): the world's
    vertical in the camera frame when known (see :func:`upright_rotation`); see the module doc."""
    sk = get_skeleton(skeleton)
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (sk.num_joints, 3):
        raise BvhWriteError(f"joints must be (T, {sk.num_joints}, 3) for skeleton {sk.name}, got {joints.shape}")
    if joints.shape[0] == 0:
        raise BvhWriteError("no frames to write")
    if not fps > 0:
        raise BvhWriteError(f"fps must be positive, got {fps}")
    T, J = joints.shape[:2]
    valid = _valid_frames(joints)
    filled = hold_invalid(joints, valid)
    R_up = upright_rotation(joints, sk, up)
    world = filled @ R_up.T  # (T, J, 3) mm, Y up
    root = sk.index(sk.root)
    world = world - world[:, root:root + 1]

    # fixed bone lengths: median over valid frames
    children: list[list[int]] = [[] for _ in range(J)]
    par = sk.parent_indices
    for c in range(J):
        if par[c] >= 0:
            children[par[c]].append(c)
    length = np.zeros(J)
    direction = np.zeros((T, J, 3))
    rest = np.zeros((J, 3))
    wv = world[valid]
    for c in range(J):
        p = par[c]
        if p < 0:
            continue
        bone = world[:, c] - world[:, p]
        length[c] = float(np.median(np.linalg.norm(wv[:, c] - wv[:, p], axis=-1)))
        direction[:, c] = _normalize(bone)
        rest[c] = _rest_direction(sk, c, wv)
    # a zero-length bone (degenerate input) keeps its rest direction
    zero = np.linalg.norm(world - world[:, par.clip(0)], axis=-1) < 1e-9  # (T, J)
    direction = np.where(zero[..., None], rest[None], direction)

    # topological order of the skeleton (parents first), then the depth-first BVH order
    order: list[int] = []
    stack = [root]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children[j]))

    pair_of = {}
    for a, b in sk.pairs:
        pair_of[sk.index(a)] = (sk.index(a), sk.index(b))
        pair_of[sk.index(b)] = (sk.index(a), sk.index(b))

    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    end_sites: list[np.ndarray] = []
    glob: list[np.ndarray] = []  # (T, 3, 3) global rotation of each BVH joint
    orders: list[str] = []  # each BVH joint's channel order (swing_order for a joint that swings one bone)
    node_of: dict[int, int] = {}  # skeleton joint → BVH index
    eye = np.broadcast_to(np.eye(3), (T, 3, 3))

    def add(name, parent, offset_mm, G, end=None, swings=None):
        orders.append("ZXY" if swings is None else swing_order(swings))
        names.append(name)
        parents.append(parent)
        offsets.append(np.asarray(offset_mm, np.float64) / MM_PER_CM)
        end_sites.append(np.full(3, np.nan) if end is None else np.asarray(end, np.float64) / MM_PER_CM)
        glob.append(G)
        return len(names) - 1

    def visit(j: int, parent_node: int, offset_mm: np.ndarray):
        G_parent = eye if parent_node < 0 else glob[parent_node]
        kids = children[j]
        if not kids:  # leaf: no rotation of its own, a cosmetic End Site
            d, frac = END_SITES.get(sk.joints[j], (tuple(rest[j]), 0.3))
            end = np.asarray(d, np.float64) * frac * length[j]
            node_of[j] = add(sk.joints[j], parent_node, offset_mm, G_parent, end)
            return
        if len(kids) == 1:
            c = kids[0]
            local_dir = np.einsum("tji,tj->ti", G_parent, direction[:, c])  # G_parent^T v
            G = G_parent @ rotation_between(rest[c], local_dir)
            node_of[j] = me = add(sk.joints[j], parent_node, offset_mm, G, swings=rest[c])
            visit(c, me, rest[c] * length[c])
            return
        # several children: the most vertical one (rest) is primary, a left/right pair gives the twist
        primary = max(kids, key=lambda k: (abs(rest[k][1]), -kids.index(k)))
        pair = next((pair_of[k] for k in kids if k in pair_of and set(pair_of[k]) <= set(kids)), None)
        if pair is not None:
            left, right = pair
            sec = world[:, left] - world[:, right]
            rest_sec = rest[left] * length[left] - rest[right] * length[right]
        else:
            other = next(k for k in kids if k != primary)
            sec, rest_sec = direction[:, other], rest[other]
        G = frame_from_two(direction[:, primary], sec, rest[primary], rest_sec)
        node_of[j] = me = add(sk.joints[j], parent_node, offset_mm, G)
        for c in kids:
            if c == primary:
                visit(c, me, rest[c] * length[c])
                continue
            local_dir = np.einsum("tji,tj->ti", G, direction[:, c])
            G_link = G @ rotation_between(rest[c], local_dir)
            link_name = LINK_NAMES.get((sk.joints[j], sk.joints[c]), f"{sk.joints[j]}_to_{sk.joints[c]}")
            link = add(link_name, me, np.zeros(3), G_link, swings=rest[c])
            visit(c, link, rest[c] * length[c])

    visit(root, -1, np.zeros(3))
    if len(set(names)) != len(names):
        raise BvhWriteError(f"skeleton {sk.name}: link joint names clash with joint names; rename the joints")

    G_all = np.stack(glob, axis=1)  # (T, N, 3, 3)
    P = np.array(parents)
    G_par = np.where((P >= 0)[None, :, None, None], G_all[:, P.clip(0)], np.eye(3))
    local = np.swapaxes(G_par, -1, -2) @ G_all
    euler = np.zeros(local.shape[:2] + (3,))
    for o in sorted(set(orders)):
        cols = [n for n, x in enumerate(orders) if x == o]
        euler[:, cols] = continuous_euler(matrix_to_euler(local[:, cols], o), o)

    # root position: trajectory (upright) or the origin; lowest joint's median height at y = 0
    if root_trajectory is not None:
        traj = np.asarray(root_trajectory, dtype=np.float64)
        if traj.shape != (T, 3):
            raise BvhWriteError(f"root_trajectory must be ({T}, 3), got {traj.shape}")
        tv = np.all(np.isfinite(traj), axis=1) & valid
        if not tv.any():
            tv = np.all(np.isfinite(traj), axis=1)
        root_pos = (hold_invalid(traj, tv) if tv.any() else np.zeros((T, 3))) @ R_up.T
    else:
        root_pos = np.zeros((T, 3))
    # rebuild positions from the fit (fixed lengths) to find the floor
    fk = direction * length[None, :, None]
    pos = np.zeros((T, J, 3))
    for j in order:
        if par[j] >= 0:
            pos[:, j] = pos[:, par[j]] + fk[:, j]
    floor = np.median((root_pos[:, None, 1] + pos[..., 1]).min(axis=1)[valid])
    root_pos = root_pos - np.array([0.0, floor, 0.0])

    return BvhFit(names=names, parents=parents, offsets=np.array(offsets), end_sites=np.array(end_sites),
                  rotations=euler, root_position=root_pos / MM_PER_CM, fps=float(fps), world_from_camera=R_up,
                  bone_lengths_mm={sk.joints[c]: float(length[c]) for c in range(J) if par[c] >= 0}, orders=orders)


# ---------------------------------------------------------------------------------------------------- write


def format_bvh(fit: BvhFit) -> str:
    """The BVH text of a :class:`BvhFit`."""
    N = len(fit.names)
    children: list[list[int]] = [[] for _ in range(N)]
    for j, p in enumerate(fit.parents):
        if p >= 0:
            children[p].append(j)
    out = io.StringIO()
    out.write("HIERARCHY\n")

    def fmt(v):
        return " ".join(f"{x:.6f}" for x in v)

    def block(j: int, depth: int):
        ind = "\t" * depth
        if fit.parents[j] < 0:
            out.write(f"ROOT {fit.names[j]}\n{ind}{{\n")
            out.write(f"{ind}\tOFFSET {fmt(fit.offsets[j])}\n")
            order = fit.orders[j] if fit.orders else "ZXY"  # the order its angles were computed in
            out.write(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition {' '.join(f'{a}rotation' for a in order)}\n")
        else:
            out.write(f"{ind}JOINT {fit.names[j]}\n{ind}{{\n")
            out.write(f"{ind}\tOFFSET {fmt(fit.offsets[j])}\n")
            order = fit.orders[j] if fit.orders else "ZXY"
            out.write(f"{ind}\tCHANNELS 3 {' '.join(f'{a}rotation' for a in order)}\n")
        for c in children[j]:
            block(c, depth + 1)
        if not children[j]:
            end = fit.end_sites[j]
            end = np.zeros(3) if not np.all(np.isfinite(end)) else end
            out.write(f"{ind}\tEnd Site\n{ind}\t{{\n{ind}\t\tOFFSET {fmt(end)}\n{ind}\t}}\n")
        out.write(f"{ind}}}\n")

    block(fit.parents.index(-1), 0)
    # depth-first order of the file = order of fit.names (built depth first); keep it explicit anyway
    dfs: list[int] = []
    stack = [fit.parents.index(-1)]
    while stack:
        j = stack.pop()
        dfs.append(j)
        stack.extend(reversed(children[j]))
    T = fit.rotations.shape[0]
    data = np.concatenate([fit.root_position, fit.rotations[:, dfs].reshape(T, -1)], axis=1)
    data = np.where(np.abs(data) < 5e-7, 0.0, data)  # no "-0.000000"
    out.write(f"MOTION\nFrames: {T}\nFrame Time: {1.0 / fit.fps:.8f}\n")
    np.savetxt(out, data, fmt="%.6f", delimiter=" ")
    return out.getvalue()


def write_bvh(joints: np.ndarray, skeleton: Skeleton | str, fps: float, path: str | Path, *,
              root_trajectory: np.ndarray | None = None, up: np.ndarray | None = None) -> None:
    """Write inferred joints as a BVH file on a fixed skeleton (centimetres, Y up; see the module doc).

    Args:
        joints: (T, J, 3) mm, camera frame (x right, y down, z forward), root-relative; NaN rows for frames
            without a detection (they repeat the previous valid frame).
        skeleton: the joints' skeleton (or registry name), e.g. ``"h36m17"``.
        fps: frame rate; ``Frame Time`` is ``1 / fps``.
        path: the .bvh file, written atomically.
        root_trajectory: optional (T, 3) mm camera-frame root positions; without it the root stays above the
            origin.
        up: (3,) the world's vertical in the camera frame when known; None: the body's mean up.
    """
    fit = fit_bvh(joints, skeleton, fps, root_trajectory=root_trajectory, up=up)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(format_bvh(fit), path)
