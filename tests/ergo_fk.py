"""Forward kinematics for hand-built h36m17 postures (test helper, independent of pose3d_cli.body/ergo).

World frame: X anterior (the subject faces +X), Y the subject's left, Z up; mm; pelvis at the origin.
Angles in degrees. Each posture parameter is a rotation of a body segment, built with explicit rotation
matrices here, so a test's expected angle is the parameter itself.
"""

from __future__ import annotations

import numpy as np

JOINTS = ("pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
          "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
          "right_wrist")


def rx(d):
    c, s = np.cos(np.radians(d)), np.sin(np.radians(d))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def ry(d):
    c, s = np.cos(np.radians(d)), np.sin(np.radians(d))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rz(d):
    c, s = np.cos(np.radians(d)), np.sin(np.radians(d))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rodrigues(v, k, deg):
    k = k / np.linalg.norm(k)
    t = np.radians(deg)
    return v * np.cos(t) + np.cross(k, v) * np.sin(t) + k * (k @ v) * (1 - np.cos(t))


def posture(trunk_flex=0.0, trunk_side=0.0, trunk_twist=0.0, neck_flex=0.0, neck_side=0.0,
            arm_flex=(0.0, 0.0), arm_abd=(0.0, 0.0), elbow=(80.0, 80.0), shoulder_up=(0.0, 0.0),
            thigh_fwd=(0.0, 0.0), shank_back=(0.0, 0.0), pelvis_yaw=0.0) -> np.ndarray:
    """(17, 3) world joints. Tuples are (left, right). ``arm_flex``: sagittal flexion of the upper arm from the
    trunk's downward axis (+ forward); ``arm_abd``: rotation outwards in the frontal plane; ``elbow``: forearm
    bent forwards from the upper arm's line; ``shoulder_up``: mm the shoulder is lifted along the trunk axis;
    ``thigh_fwd``/``shank_back``: thigh swung forward, shank bent back (knee flexion = their sum)."""
    P = rz(pelvis_yaw)
    Rt = P @ ry(trunk_flex) @ rx(-trunk_side) @ rz(trunk_twist)
    j = {"pelvis": np.zeros(3)}
    for side, sgn, i in (("left", 1, 0), ("right", -1, 1)):
        hip = P @ np.array([0, sgn * 100.0, 0])
        # thigh forward: (0,0,-1) rotated about Y by -a is (sin a, 0, -cos a); shank back: by +b, (-sin b, 0, -cos b)
        knee = hip + P @ (ry(-thigh_fwd[i]) @ np.array([0, 0, -420.0]))
        shank_dir = P @ (ry(shank_back[i]) @ np.array([0, 0, -1.0]))
        ankle = knee + 400.0 * shank_dir
        j[f"{side}_hip"], j[f"{side}_knee"], j[f"{side}_ankle"] = hip, knee, ankle
    j["spine"] = Rt @ np.array([0, 0, 250.0])
    j["thorax"] = Rt @ np.array([0, 0, 500.0])
    Rn = Rt @ ry(neck_flex) @ rx(-neck_side)
    j["nose"] = j["thorax"] + Rn @ np.array([70.0, 0, 160.0])
    j["head"] = j["thorax"] + Rn @ np.array([0, 0, 260.0])
    ant, lat, up = Rt[:, 0], Rt[:, 1], Rt[:, 2]
    for side, sgn, i in (("left", 1, 0), ("right", -1, 1)):
        sh = j["thorax"] + Rt @ np.array([0, sgn * 170.0, shoulder_up[i]])
        d = Rt @ (rx(sgn * arm_abd[i]) @ ry(-arm_flex[i]) @ np.array([0, 0, -1.0]))
        el = sh + 280.0 * d
        k = np.cross(d, ant)
        if np.linalg.norm(k) < 1e-6:
            k = -lat  # arm along the anterior axis: the limit of d × ant as the arm comes up to it (both sides)
        fore = rodrigues(d, k, elbow[i])
        j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"] = sh, el, el + 250.0 * fore
    return np.stack([j[n] for n in JOINTS])


#: cam_from_world rotation of a level camera in front of the subject (subject faces the camera)
FRONT = np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]])


def camera(yaw=0.0, pitch=0.0, roll=0.0) -> np.ndarray:
    """cam_from_world rotation: the front camera moved ``yaw`` degrees around the subject (90: profile,
    looking at the subject's left side), pitched down by ``pitch`` and rolled by ``roll``."""
    return rz(roll) @ rx(pitch) @ FRONT @ rz(-yaw)


def to_camera(world: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(…, 17, 3) camera-frame joints (root-relative) and the camera-frame up (3,)."""
    return world @ R.T, R @ np.array([0, 0, 1.0])


def hand_face(world17: np.ndarray, wrist_flex=(0.0, 0.0), wrist_dev=(0.0, 0.0), pronation=(0.0, 0.0),
                head_yaw=0.0) -> dict[str, np.ndarray]:
    """BlazePose-named hand, face and anchor points ((3,) world mm) for a :func:`posture`'s (17, 3) joints.
    Tuples are (left, right).

    The hand in anatomical position (``pronation`` 0): palm facing the forearm's anterior side, thumb/index on
    the lateral side (radial = the subject's left for the left hand, right for the right). ``pronation`` turns
    palm and knuckles about the forearm (180: palm facing backwards). ``wrist_flex``: the hand turned towards the
    palm (+) or the back of the hand (−) about the knuckle line; ``wrist_dev``: towards the thumb side (+, radial)
    with zero flexion. ``head_yaw``: the head turned about the trunk axis, + towards the subject's left.
    """
    j = dict(zip(JOINTS, world17))
    up = _unit(j["thorax"] - j["pelvis"])
    left = _unit(j["left_shoulder"] - j["right_shoulder"])
    ant = np.cross(left, up)  # the trunk's anterior axis
    out = {n: j[n] for n in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                             "right_wrist", "left_hip", "right_hip")}
    for side, sgn, i in (("left", 1, 0), ("right", -1, 1)):
        d = _unit(j[f"{side}_wrist"] - j[f"{side}_elbow"])
        n0 = _unit(ant - (ant @ d) * d)  # palm normal: the forearm's anterior side
        if side == "left":  # radial side: lateral in anatomical position; r0 = n0 x d (left) or d x n0 (right)
            r0 = _unit(np.cross(n0, d))
        else:
            r0 = _unit(np.cross(d, n0))
        n = rodrigues(n0, d, sgn * pronation[i])
        r = rodrigues(r0, d, sgn * pronation[i])
        t, dv = np.radians(wrist_flex[i]), np.radians(wrist_dev[i])
        h = np.cos(dv) * (np.cos(t) * d + np.sin(t) * n) + np.sin(dv) * r
        k = _unit(np.cross(h, np.cross(r, h)))  # the knuckle line, kept perpendicular to the hand axis
        w = j[f"{side}_wrist"]
        out[f"{side}_index"] = w + 80.0 * h + 20.0 * k
        out[f"{side}_pinky"] = w + 80.0 * h - 20.0 * k
        out[f"{side}_thumb"] = w + 30.0 * h + 40.0 * k + 10.0 * n
    c = j["head"]  # the head: ears and eyes turned about the trunk axis
    lat, fw = rodrigues(left, up, head_yaw), rodrigues(ant, up, head_yaw)
    out["left_ear"], out["right_ear"] = c + 75.0 * lat, c - 75.0 * lat
    rise = 80.0 * np.tan(np.radians(7.0))  # a neutral head's ears → eyes line rises 7° (body.frame's default)
    out["left_eye"], out["right_eye"] = c + 80.0 * fw + 30.0 * lat + rise * up, c + 80.0 * fw - 30.0 * lat + rise * up
    out["nose"] = c + 100.0 * fw - 20.0 * up
    return out


def _unit(v):
    return v / np.linalg.norm(v)
