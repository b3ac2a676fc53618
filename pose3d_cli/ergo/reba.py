"""REBA (Rapid Entire Body Assessment), Hignett & McAtamney, Applied Ergonomics 31(2) 201-205, 2000; per frame,
vectorised over frames, both sides (Group B per side; Group A shared).

Group A: trunk: upright 1; 0–20° flexion or 0–20° extension 2; 20–60° flexion or > 20° extension 3; > 60°
flexion 4; +1 if twisting or side flexed (one +1 for either). Neck: 0–20° flexion 1; > 20° flexion or in
extension 2; +1 if twisting or side flexed. Legs: bilateral weight bearing, walking or sitting 1; unilateral
weight bearing, feather weight bearing or unstable 2; +1 knee(s) 30–60° flexion, +2 knee(s) > 60° (not for
sitting). Table A → + load/force (< 5 kg 0; 5–10 kg 1; > 10 kg 2; +1 shock or rapid build-up) = score A.

Group B: upper arm as RULA (1–4) +1 abducted or rotated, +1 shoulder raised, −1 leaning, supporting the arm's
weight or gravity-assisted (never below 1); lower arm 60–100° 1, < 60° or > 100° 2; wrist 0–15° 1, > 15°
2, +1 deviated or twisted. Table B → + coupling (good 0, fair 1, poor 2, unacceptable 3) = score B.

Table C (score A × score B) + activity (+1 one or more body parts static, e.g. held > 1 min; +1 repeated
small range actions, > 4 times/min; +1 rapid large range changes in posture or an unstable base) = REBA score.
Action levels: 1 → 0 negligible (none necessary); 2–3 → 1 low (may be necessary); 4–7 → 2 medium (necessary);
8–10 → 3 high (necessary soon); 11–15 → 4 very high (necessary now).

REBA's wrist is derived from the RULA wrist (measured from the hand points per side where reliable, else the option,
:mod:`.hands`) (1 or 2 → 1: 0–15°; 3 → 2)
and "deviated or twisted" from ``wrist_deviated`` or ``wrist_twist == 2``. Upper arm rotation is not observable.

Tables A, B, C transcribed from the paper's Tables (Hignett & McAtamney 2000, Tables 2 and 3 and the Table C
grid); the same values appear in every public copy we compared (four implementations and two worksheets).
"""

from __future__ import annotations

import numpy as np

from ..body.frame import SIDES
from .options import COUPLING, Conventions, band, lookup
from .rula import _above, _beyond, _trunk_angle, _upper_arm_angle, lower_arm_base, upper_arm_base

# Table A: [neck 1-3][trunk 1-5][legs 1-4]
TABLE_A = np.array([
    [[1, 2, 3, 4], [2, 3, 4, 5], [2, 4, 5, 6], [3, 5, 6, 7], [4, 6, 7, 8]],
    [[1, 2, 3, 4], [3, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]],
    [[3, 3, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9], [7, 8, 9, 9]],
])
# Table B: [lower arm 1-2][upper arm 1-6][wrist 1-3]
TABLE_B = np.array([
    [[1, 2, 2], [1, 2, 3], [3, 4, 5], [4, 5, 5], [6, 7, 8], [7, 8, 8]],
    [[1, 2, 3], [2, 3, 4], [4, 5, 5], [5, 6, 7], [7, 8, 8], [8, 9, 9]],
])
# Table C: [score A 1-12][score B 1-12]
TABLE_C = np.array([
    [1, 1, 1, 2, 3, 3, 4, 5, 6, 7, 7, 7],
    [1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 7, 8],
    [2, 3, 3, 3, 4, 5, 6, 7, 7, 8, 8, 8],
    [3, 4, 4, 4, 5, 6, 7, 8, 8, 9, 9, 9],
    [4, 4, 4, 5, 6, 7, 8, 8, 9, 9, 9, 9],
    [6, 6, 6, 7, 8, 8, 9, 9, 10, 10, 10, 10],
    [7, 7, 7, 8, 9, 9, 9, 10, 10, 11, 11, 11],
    [8, 8, 8, 9, 10, 10, 10, 10, 10, 11, 11, 11],
    [9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12],
    [10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 12],
    [11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12],
    [12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12],
])

ACTION_LEVELS = {0: "negligible: none necessary", 1: "low: may be necessary", 2: "medium: necessary",
                 3: "high: necessary soon", 4: "very high: necessary now"}


def action_level(score: np.ndarray) -> np.ndarray:
    """REBA score 1-15 → action level 0-4."""
    return band(score, [1, 3, 7, 10], [0, 1, 2, 3, 4])


def load_score(load_kg: np.ndarray, shock: np.ndarray, edges: str = "le") -> np.ndarray:
    load = np.asarray(load_kg, dtype=np.float64)
    if edges == "le":  # "< 5 kg" | "5–10 kg" (both edges inside) | "> 10 kg"
        s = np.where(load < 5.0, 0.0, np.where(load <= 10.0, 1.0, 2.0))
    else:
        s = np.where(load <= 5.0, 0.0, np.where(load < 10.0, 1.0, 2.0))
    return s + np.asarray(shock, dtype=np.float64)


def trunk_base(trunk: np.ndarray, conv: Conventions) -> np.ndarray:
    up = conv.upright_deg
    flex = band(trunk, [20.0, 60.0], [2, 3, 4], conv.edges)
    ext = band(-trunk, [20.0], [2, 3], conv.edges)
    upright = (np.abs(trunk) <= up) if conv.edges == "le" else (np.abs(trunk) < up)
    return np.where(np.isnan(trunk), np.nan, np.where(upright, 1.0, np.where(trunk > 0, flex, ext)))


def neck_base(neck: np.ndarray, conv: Conventions) -> np.ndarray:
    flex = band(np.maximum(neck, 0.0), [20.0], [1, 2], conv.edges)
    return np.where(neck < -conv.neutral_neck_deg, 2.0, flex)


def knee_adjustment(knee: np.ndarray, conv: Conventions) -> np.ndarray:
    """+1 for 30–60° knee flexion, +2 beyond 60°."""
    return band(knee, [30.0, 60.0], [0, 1, 2], conv.edges)


def score(a: dict, obs: dict, conv: Conventions, activity: dict | None = None) -> dict[str, np.ndarray]:
    """REBA of every frame (arguments as :func:`pose3d_cli.ergo.rula.score`; ``activity``: (T,) 0/1 flags
    ``static``, ``repeated``, ``rapid``, ``walking``). Returns step scores (``trunk``, ``neck``, ``legs``, ``posture_a``,
    ``load``, ``score_a``, per side ``upper_arm_*``, ``lower_arm_*``, ``wrist_*``, ``posture_b_*``,
    ``score_b_*``, ``score_c_*``, ``reba_*``), ``activity``, ``reba`` (max of the scorable sides) and
    ``action_level``."""
    T = len(a["trunk_flexion"])
    activity = activity or {}
    zeros = np.zeros(T)
    sitting = np.asarray(obs["sitting"], dtype=bool)
    trunk_adj = np.fmax(_beyond(a["trunk_twist"], conv.twist_deg, conv),
                        _beyond(a["trunk_side_bend"], conv.side_bend_deg, conv))
    trunk_adj = np.where(np.isnan(a["trunk_twist"]) | np.isnan(a["trunk_side_bend"]), np.nan, trunk_adj)
    trunk = np.minimum(trunk_base(_trunk_angle(a, conv), conv) + trunk_adj, 5)
    neck_adj = np.maximum(np.asarray(obs["neck_twist"], dtype=np.float64),
                          _beyond(a["neck_side_bend"], conv.side_bend_deg, conv))
    neck = np.minimum(neck_base(a["neck_flexion"], conv) + neck_adj, 3)
    # walking (timeline.walking_flags) is bilateral weight bearing for REBA, its knee the weight-bearing one
    walking = np.asarray(activity.get("walking", zeros), dtype=np.float64) > 0
    unilateral = np.where(walking, 0.0, _beyond(a["foot_raise"], conv.foot_raise_mm, conv))
    kl, kr = a["knee_flexion_left"], a["knee_flexion_right"]
    # the weight-bearing knee: the leg whose ankle is lower (foot_raise > 0: the left foot is higher)
    support = np.where(np.isnan(a["foot_raise"]), np.nan, np.where(a["foot_raise"] > 0, kr, kl))
    if conv.knee == "max":
        knee = np.where(np.isnan(kl) | np.isnan(kr), np.nan, np.fmax(kl, kr))
        knee = np.where(walking, support, knee)
    else:
        knee = support
    legs = np.where(sitting, 1.0, 1.0 + unilateral + knee_adjustment(knee, conv))
    legs = np.minimum(legs, 4)
    posture_a = lookup(TABLE_A, neck, trunk, legs)
    load = load_score(obs["load_kg"], obs["shock"], conv.edges)
    score_a = posture_a + load
    act = np.asarray(activity.get("static", zeros), dtype=np.float64) \
        + np.asarray(activity.get("repeated", zeros), dtype=np.float64) \
        + np.maximum(np.asarray(activity.get("rapid", zeros), dtype=np.float64),
                     np.asarray(obs["unstable_base"], dtype=np.float64))
    coupling = np.array([COUPLING[c] for c in obs["coupling"]], dtype=np.float64)
    out = {"trunk": trunk, "neck": neck, "legs": legs, "posture_a": posture_a, "load": load, "score_a": score_a,
           "coupling": coupling, "activity": act}
    finals = []
    for s in SIDES:
        ua = upper_arm_base(_upper_arm_angle(a, s, conv), conv.edges) \
            + _above(a[f"shoulder_raise_{s}"], conv.shoulder_raise_deg, conv) \
            + _above(a[f"upper_arm_abduction_{s}"], conv.abduction_deg, conv) \
            - np.asarray(obs["arm_supported"], dtype=np.float64)
        ua = np.clip(ua, 1, 6)
        la = lower_arm_base(a[f"elbow_flexion_{s}"], conv.edges)
        rula_wrist = np.asarray(obs.get(f"wrist_{s}", obs["wrist"]), dtype=np.float64)
        deviated = np.asarray(obs.get(f"wrist_deviated_{s}", obs["wrist_deviated"]), dtype=np.float64) > 0
        wr = np.where(rula_wrist >= 3, 2.0, 1.0) + (deviated | (np.asarray(obs["wrist_twist"]) == 2)).astype(np.float64)
        wr = wr + 0 * ua
        pb = lookup(TABLE_B, la, ua, wr)
        sb = pb + coupling
        sc = lookup(TABLE_C, np.minimum(score_a, 12), np.minimum(sb, 12))
        r = sc + act
        out.update({f"upper_arm_{s}": ua, f"lower_arm_{s}": la, f"wrist_{s}": wr, f"posture_b_{s}": pb,
                    f"score_b_{s}": sb, f"score_c_{s}": sc, f"reba_{s}": r})
        finals.append(r)
    f = np.stack(finals)
    out["reba"] = np.where(np.isnan(f).all(0), np.nan, np.max(np.where(np.isnan(f), -np.inf, f), axis=0))
    out["action_level"] = action_level(out["reba"])
    return out
