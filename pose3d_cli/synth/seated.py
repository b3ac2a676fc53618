"""Seated versions of standing mocap: the upper body's motion kept, the legs put on a chair.

The shared mocap has no one sitting on a chair, the posture of most workstation work. A seated pose is built from
each frame of a motion (world frame, Z up, mm): the pelvis, trunk, head and arms keep their motion (all but the
body's height, which the chair holds); each thigh is laid forward along the pelvis' facing direction (its own
length), pitched by the seat's slope and spread a little sideways; each shank hangs from the knee towards the floor,
tilted forward or tucked back; the whole body is then lowered or raised frame by frame so that the lower ankle
stands on the standing take's floor (the median height of its lower ankle) in every frame: a dip of the pelvis or a
walking take's bob is taken out of the seated body's height instead of pushing the feet through the floor. The
chair, the knees' angle and the feet's placement are drawn once per seated film of a motion, and the legs sway
slowly about them (smooth noise, a keyframe every 2 s at 30 fps), so consecutive frames stay consecutive.

It is an augmentation, not mocap: nobody was recorded sitting, the pelvis does not roll back as a real seated pelvis
does, and a walking take becomes a seated person gliding with the walk's root path. A single-frame lifter sees one
frame at a time, so the path does not matter; the legs' shape and their depth order seen from a camera do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import Skeleton
from .noise import smooth_noise

UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Seat:
    """Ranges the chair is drawn from (degrees): thigh pitch below horizontal (a seat sloping down to the knee is
    positive), shank tilt from vertical (feet forward of the knees positive), each thigh's spread out to the side."""

    thigh_pitch_deg: tuple[float, float] = (-10.0, 20.0)
    shank_tilt_deg: tuple[float, float] = (-25.0, 30.0)
    spread_deg: tuple[float, float] = (0.0, 20.0)
    side_deg: float = 3.0  # how much the left and right thigh's pitch differ (std)
    wobble_deg: float = 3.0  # slow sway of each leg's angles over the motion (std)
    frames_per_knot: int = 60  # the sway's keyframe spacing


#: a motion is seated only when its trunk (pelvis → thorax) is within this angle of the vertical in
#: :data:`UPRIGHT_SHARE` of its frames: a crawl or a lie-down on a chair is no posture anyone takes
UPRIGHT_DEG = 60.0
UPRIGHT_SHARE = 0.9
#: ... and only when its pelvis keeps its height (5th to 95th percentile within this, mm): a squat or a sit-down is
#: a standing body's motion (its trunk leans to balance over the feet), not one made on a chair. The feet no longer
#: depend on it (:func:`floor_lift` holds them on the floor frame by frame; before, one height for the whole motion
#: pushed an HDM05 squat's ankles down to −409 mm, and a wave whose pelvis rose 135 mm in its first 6 frames, inside
#: this range, 135 mm)
PELVIS_RANGE_MM = 100.0


def can_seat(joints: np.ndarray, skeleton: Skeleton) -> bool:
    """Whether a (T, J, 3) world motion (Z up, mm) is upright enough to be seated (see :data:`UPRIGHT_DEG`), keeps its
    pelvis height (:data:`PELVIS_RANGE_MM`) and its skeleton has the hips, knees, ankles, pelvis and thorax by name."""
    need = [f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle")] + ["pelvis", "thorax"]
    if any(n not in skeleton.joints for n in need):
        return False
    trunk = _unit(joints[:, skeleton.index("thorax")] - joints[:, skeleton.index("pelvis")])
    height = joints[:, skeleton.index("pelvis"), 2]
    steady = np.subtract(*np.nanpercentile(height, [95, 5])) <= PELVIS_RANGE_MM
    return bool(steady and np.mean(trunk[:, 2] >= np.cos(np.radians(UPRIGHT_DEG))) >= UPRIGHT_SHARE)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def seat(joints: np.ndarray, skeleton: Skeleton, rng: np.random.Generator, seat_cfg: Seat = Seat()) -> np.ndarray:
    """(T, J, 3) world joints (mm, Z up) of a standing motion → the same motion seated (see module doc).

    Needs the skeleton's ``{left,right}_{hip,knee,ankle}`` joints (h36m17 has them); other joints are kept."""
    out = np.asarray(joints, dtype=np.float64).copy()
    T = len(out)
    idx = {f"{s}_{j}": skeleton.index(f"{s}_{j}") for s in ("left", "right") for j in ("hip", "knee", "ankle")}
    hip_l, hip_r = out[:, idx["left_hip"]], out[:, idx["right_hip"]]
    across = hip_l - hip_r
    across[:, 2] = 0.0
    across = _unit(across)  # the subject's right → left, horizontal
    facing = _unit(np.cross(across, UP))  # horizontal, the way the pelvis faces
    floor = float(np.median(np.minimum(out[:, idx["left_ankle"], 2], out[:, idx["right_ankle"], 2])))
    pitch0 = rng.uniform(*seat_cfg.thigh_pitch_deg)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        h, k, a = idx[f"{side}_hip"], idx[f"{side}_knee"], idx[f"{side}_ankle"]
        thigh = np.linalg.norm(joints[:, k] - joints[:, h], axis=-1)[:, None]
        shank = np.linalg.norm(joints[:, a] - joints[:, k], axis=-1)[:, None]
        def wob() -> np.ndarray:  # (T, 1) degrees, slowly varying
            knots = max(2, T // max(seat_cfg.frames_per_knot, 1))
            return seat_cfg.wobble_deg * smooth_noise(rng, T, (1,), knots=knots, unit_variance=True)

        pitch = np.radians(pitch0 + rng.normal(0.0, seat_cfg.side_deg) + wob())
        spread = np.radians(rng.uniform(*seat_cfg.spread_deg) + wob())
        tilt = np.radians(rng.uniform(*seat_cfg.shank_tilt_deg) + wob())
        horiz = np.cos(spread) * facing + np.sin(spread) * sign * across
        d_thigh = np.cos(pitch) * horiz - np.sin(pitch) * UP
        d_shank = np.cos(tilt) * -UP + np.sin(tilt) * facing
        out[:, k] = out[:, h] + thigh * d_thigh
        out[:, a] = out[:, k] + shank * _unit(d_shank)
    lowest = np.minimum(out[:, idx["left_ankle"], 2], out[:, idx["right_ankle"], 2])
    return out - floor_lift(lowest, floor)[:, None, None] * UP


def floor_lift(lowest: np.ndarray, floor: float) -> np.ndarray:
    """(T,) height of the seated body's lower ankle per frame (mm, Z up), the floor's height (mm) → (T,) how much to
    lower the whole body in each frame (mm; negative raises it) so that the lower ankle stands on the floor.

    Per frame, not one height for the motion: a take whose pelvis dips for a few frames keeps its feet on the floor.
    It needs no smoothing: the lower of two ankles is a continuous curve made of the take's hip height and the legs'
    slow sway, so it is as smooth as the take; the pelvis then rides at the chair's height, its bob left out (46
    shared takes: the seated head's vertical frame-to-frame acceleration is that of the standing head about the
    pelvis, no shake added)."""
    return np.asarray(lowest, dtype=np.float64) - float(floor)
