"""RULA (Rapid Upper Limb Assessment), McAtamney & Corlett, Applied Ergonomics 24(2) 91-99, 1993; per frame,
vectorised over frames, both sides.

Steps (the paper's Figures 1-2 and score sheet; our angle names from :mod:`pose3d_cli.body.frame`):

1. upper arm: 20° extension to 20° flexion 1; >20° extension 2; 20–45° flexion 2; 45–90° 3; >90° 4;
   +1 shoulder raised, +1 upper arm abducted, −1 arm supported or person leaning (never below 1).
2. lower arm: 60–100° flexion 1; 0–60° or >100° 2; +1 working across the midline or out to the side.
3. wrist: 1 neutral, 2 0–15° flexion/extension, 3 >15°; +1 bent from the midline — from the hand points where
   reliable (``obs["wrist_{side}"]``, :mod:`.hands`), else the option (:class:`~.options.Observations`). 4. wrist twist: 1 mid-range, 2 at or near the end (not observable).
5. Table A → posture score A; + muscle use (+1: mainly static, e.g. held > 1 min, or repeated > 4 times/min;
   from the timeline) + force/load (0: < 2 kg intermittent; 1: 2–10 kg intermittent; 2: 2–10 kg static or
   repeated, or > 10 kg intermittent; 3: > 10 kg static or repeated, or shocks/rapid build-up) = score C.
9. neck (relative to the trunk): 0–10° flexion 1; 10–20° 2; >20° 3; in extension 4; +1 twisted (head
   yaw from the face points where reliable, else the option), +1 side bending. 10. trunk: 1 upright (or seated
   and well supported: the ``back_supported`` observation); 0–20° flexion 2;
   20–60° 3; >60° 4; +1 twisted, +1 side bending. 11. legs: 1 supported and balanced, 2 if not.
12. Table B → posture score B; + muscle use + force = score D. Table C (C capped at 8, D at 7) → grand score
   1–7; action levels: 1–2 → 1 (acceptable), 3–4 → 2 (investigate further), 5–6 → 3 (investigate
   further and change soon), 7 → 4 (investigate and change immediately).

Tables: transcribed from the 1993 paper's Tables A, B and C as reproduced in McAtamney & Corlett's
chapter in *Handbook of Human Factors and Ergonomics Methods* (2004). Tables B and C, and REBA's three tables,
were checked cell by cell against scanned worksheets by an independent review (stop 28). Public copies of Table A
disagree: one independent implementation agrees with every cell below, a Cornell-style worksheet copy carries a
lower table (about 30 cells differ, all of upper arm 2-4), and another implementation's table is garbled. The
scanned paper's Table A could not be read cell by cell here, so Table A is the one part of the transcription
checked against copies, not against the original.
"""

from __future__ import annotations

import numpy as np

from ..body.frame import SIDES
from .options import Conventions, band, lookup

# Table A: [upper arm 1-6][lower arm 1-3][wrist 1-4][wrist twist 1-2]
TABLE_A = np.array([
    [[[1, 2], [2, 2], [2, 3], [3, 3]], [[2, 2], [2, 2], [3, 3], [3, 3]], [[2, 3], [3, 3], [3, 3], [4, 4]]],
    [[[2, 3], [3, 3], [3, 4], [4, 4]], [[3, 3], [3, 3], [3, 4], [4, 4]], [[3, 4], [4, 4], [4, 4], [5, 5]]],
    [[[3, 3], [4, 4], [4, 4], [5, 5]], [[3, 4], [4, 4], [4, 4], [5, 5]], [[4, 4], [4, 4], [4, 5], [5, 5]]],
    [[[4, 4], [4, 4], [4, 5], [5, 5]], [[4, 4], [4, 4], [4, 5], [5, 5]], [[4, 4], [4, 5], [5, 5], [6, 6]]],
    [[[5, 5], [5, 5], [5, 6], [6, 7]], [[5, 6], [6, 6], [6, 7], [7, 7]], [[6, 6], [6, 7], [7, 7], [7, 8]]],
    [[[7, 7], [7, 7], [7, 8], [8, 9]], [[8, 8], [8, 8], [8, 9], [9, 9]], [[9, 9], [9, 9], [9, 9], [9, 9]]],
])
# Table B: [neck 1-6][trunk 1-6][legs 1-2]
TABLE_B = np.array([
    [[1, 3], [2, 3], [3, 4], [5, 5], [6, 6], [7, 7]],
    [[2, 3], [2, 3], [4, 5], [5, 5], [6, 7], [7, 7]],
    [[3, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 7]],
    [[5, 5], [5, 6], [6, 7], [7, 7], [7, 7], [8, 8]],
    [[7, 7], [7, 7], [7, 8], [8, 8], [8, 8], [8, 8]],
    [[8, 8], [8, 8], [8, 8], [8, 9], [9, 9], [9, 9]],
])
# Table C: [score C 1-8+][score D 1-7+]
TABLE_C = np.array([
    [1, 2, 3, 3, 4, 5, 5],
    [2, 2, 3, 4, 4, 5, 5],
    [3, 3, 3, 4, 4, 5, 6],
    [3, 3, 3, 4, 5, 6, 6],
    [4, 4, 4, 5, 6, 7, 7],
    [4, 4, 5, 6, 6, 7, 7],
    [5, 5, 6, 6, 7, 7, 7],
    [5, 5, 6, 7, 7, 7, 7],
])

ACTION_LEVELS = {1: "acceptable if not maintained or repeated for long periods", 2: "investigate further",
                 3: "investigate further and change soon", 4: "investigate and change immediately"}


def action_level(grand: np.ndarray) -> np.ndarray:
    """RULA grand score 1-7 → action level 1-4 (NaN stays NaN)."""
    return band(grand, [2, 4, 6], [1, 2, 3, 4])


def force_score(load_kg: np.ndarray, load_mode: np.ndarray, shock: np.ndarray, edges: str = "le") -> np.ndarray:
    """RULA force/load score 0-3 (see module doc); arrays (T,)."""
    load = np.asarray(load_kg, dtype=np.float64)
    sustained = np.isin(np.asarray(load_mode, dtype=object), ["static", "repeated"])
    if edges == "le":  # "<2 kg" | "2–10 kg" (both edges inside) | ">10 kg"
        cls = np.where(load < 2.0, 0, np.where(load <= 10.0, 1, 2))
    else:
        cls = np.where(load <= 2.0, 0, np.where(load < 10.0, 1, 2))
    score = np.select([cls == 0, (cls == 1) & ~sustained, cls == 1, ~sustained], [0, 1, 2, 2], 3).astype(np.float64)
    return np.where(np.asarray(shock, dtype=bool), 3.0, score)


def upper_arm_base(angle: np.ndarray, edges: str = "le") -> np.ndarray:
    """RULA/REBA upper arm position 1-4 from the signed flexion(+)/extension(−) angle."""
    flex = band(angle, [20.0, 45.0, 90.0], [1, 2, 3, 4], edges)
    ext = band(-angle, [20.0], [1, 2], edges)
    return np.where(angle < 0, ext, flex)


def lower_arm_base(elbow: np.ndarray, edges: str = "le") -> np.ndarray:
    """RULA/REBA lower arm 1 (60–100° flexion) or 2 (below 60° or above 100°)."""
    inside = (elbow >= 60) & (elbow <= 100) if edges == "le" else (elbow > 60) & (elbow < 100)
    return np.where(np.isnan(elbow), np.nan, np.where(inside, 1.0, 2.0))


def _upper_arm_angle(a: dict, side: str, conv: Conventions) -> np.ndarray:
    return a[f"{conv.upper_arm_key}_{side}"]


def _trunk_angle(a: dict, conv: Conventions) -> np.ndarray:
    return a[conv.trunk_key]


def neck_base(neck: np.ndarray, conv: Conventions) -> np.ndarray:
    flex = band(np.maximum(neck, 0.0), [10.0, 20.0], [1, 2, 3], conv.edges)
    return np.where(neck < -conv.neutral_neck_deg, 4.0, flex)


def trunk_base(trunk: np.ndarray, conv: Conventions) -> np.ndarray:
    up = conv.upright_deg
    flex = band(trunk, [20.0, 60.0], [2, 3, 4], conv.edges)
    if conv.rula_trunk_extension == "magnitude":
        ext = band(-trunk, [20.0, 60.0], [2, 3, 4], conv.edges)
    elif conv.rula_trunk_extension == "upright":
        ext = np.ones_like(trunk)
    else:
        ext = np.full_like(trunk, 2.0)
    upright = (np.abs(trunk) <= up) if conv.edges == "le" else (np.abs(trunk) < up)
    return np.where(np.isnan(trunk), np.nan, np.where(upright, 1.0, np.where(trunk > 0, flex, ext)))


def _beyond(x: np.ndarray, thr: float, conv: Conventions) -> np.ndarray:
    """|x| beyond a threshold (0/1 float, NaN kept) with the edge convention."""
    b = (np.abs(x) > thr) if conv.edges == "le" else (np.abs(x) >= thr)
    return np.where(np.isnan(x), np.nan, b.astype(np.float64))


def _above(x: np.ndarray, thr: float, conv: Conventions) -> np.ndarray:
    b = (x > thr) if conv.edges == "le" else (x >= thr)
    return np.where(np.isnan(x), np.nan, b.astype(np.float64))


def lower_arm_adjustment(a: dict, side: str, conv: Conventions) -> np.ndarray:
    if conv.lower_arm_adjust in ("0", "1"):
        return np.full_like(a[f"elbow_flexion_{side}"], float(conv.lower_arm_adjust))
    lat, half = a[f"wrist_lateral_{side}"], a["shoulder_half_width"]
    adj = ((lat < 0) | (lat > 2.0 * half)).astype(np.float64)
    return np.where(np.isnan(lat) | np.isnan(half), np.nan, adj)


def legs_supported_score(a: dict, obs: dict, conv: Conventions) -> np.ndarray:
    """1 when both feet carry the weight (or seated), 2 when one foot is raised (unilateral)."""
    raised = _beyond(a["foot_raise"], conv.foot_raise_mm, conv)
    return np.where(np.asarray(obs["sitting"], dtype=bool), 1.0, 1.0 + raised)


def score(a: dict, obs: dict, conv: Conventions, muscle: dict | None = None) -> dict[str, np.ndarray]:
    """RULA of every frame.

    Args:
        a: angles from :func:`pose3d_cli.body.frame.body_angles` (each (T,); NaN where unknown).
        obs: (T,) observation arrays (:func:`~.options.observation_arrays`).
        conv: conventions.
        muscle: (T,) 0/1 muscle-use flags ``arm_left``, ``arm_right``, ``body`` (from the timeline); 0 if None.

    Returns:
        {step name: (T,) float, NaN where not scorable}: ``upper_arm_{side}``, ``lower_arm_{side}``,
        ``wrist_{side}``, ``wrist_twist_{side}``, ``posture_a_{side}``, ``score_c_{side}``, ``grand_{side}``,
        ``neck``, ``trunk``, ``legs``, ``posture_b``, ``score_d``, ``muscle_*``, ``force``, ``grand`` (max of the
        scorable sides) and ``action_level``.
    """
    T = len(a["trunk_flexion"])
    muscle = muscle or {}
    zeros = np.zeros(T)
    force = force_score(obs["load_kg"], obs["load_mode"], obs["shock"], conv.edges)
    out: dict[str, np.ndarray] = {"force": force}
    # group B: neck, trunk, legs
    neck = neck_base(a["neck_flexion"], conv) + np.asarray(obs["neck_twist"], dtype=np.float64) \
        + _beyond(a["neck_side_bend"], conv.side_bend_deg, conv)
    t = _trunk_angle(a, conv)
    # seated and well supported, hip-trunk angle >= 90 deg: 1, however far the trunk reclines
    supported = np.asarray(obs["back_supported"], dtype=bool) & np.asarray(obs["sitting"], dtype=bool) & (
        t <= conv.upright_deg if conv.edges == "le" else t < conv.upright_deg)
    trunk = np.where(supported, 1.0, trunk_base(t, conv)) + _beyond(a["trunk_twist"], conv.twist_deg, conv) \
        + _beyond(a["trunk_side_bend"], conv.side_bend_deg, conv)
    legs = legs_supported_score(a, obs, conv)
    out.update(neck=np.minimum(neck, 6), trunk=np.minimum(trunk, 6), legs=legs)
    out["posture_b"] = lookup(TABLE_B, out["neck"], out["trunk"], legs)
    out["muscle_body"] = np.asarray(muscle.get("body", zeros), dtype=np.float64)
    out["score_d"] = out["posture_b"] + out["muscle_body"] + force
    grands = []
    for s in SIDES:
        ua = upper_arm_base(_upper_arm_angle(a, s, conv), conv.edges) \
            + _above(a[f"shoulder_raise_{s}"], conv.shoulder_raise_deg, conv) \
            + _above(a[f"upper_arm_abduction_{s}"], conv.abduction_deg, conv) \
            - np.asarray(obs["arm_supported"], dtype=np.float64)
        ua = np.clip(ua, 1, 6)
        la = np.minimum(lower_arm_base(a[f"elbow_flexion_{s}"], conv.edges) + lower_arm_adjustment(a, s, conv), 3)
        wr = np.asarray(obs.get(f"wrist_{s}", obs["wrist"]), dtype=np.float64) \
            + np.asarray(obs.get(f"wrist_deviated_{s}", obs["wrist_deviated"]), dtype=np.float64)
        tw = np.asarray(obs["wrist_twist"], dtype=np.float64)
        pa = lookup(TABLE_A, ua, la, np.minimum(wr, 4), tw)
        m = np.asarray(muscle.get(f"arm_{s}", zeros), dtype=np.float64)
        c = pa + m + force
        g = lookup(TABLE_C, np.minimum(c, 8), np.minimum(out["score_d"], 7))
        out.update({f"upper_arm_{s}": ua, f"lower_arm_{s}": la, f"wrist_{s}": np.minimum(wr, 4) + 0 * ua,
                    f"wrist_twist_{s}": tw + 0 * ua, f"posture_a_{s}": pa, f"muscle_arm_{s}": m,
                    f"score_c_{s}": c, f"grand_{s}": g})
        grands.append(g)
    with np.errstate(invalid="ignore"):
        g = np.stack(grands)
        out["grand"] = np.where(np.isnan(g).all(0), np.nan, np.nanmax(np.where(np.isnan(g), -np.inf, g), axis=0))
    out["action_level"] = action_level(out["grand"])
    return out
