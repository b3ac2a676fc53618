"""Wrist posture and neck twist from the detector's hand and face points, where they are present and reliable.

The angles are :func:`pose3d_cli.body.frame.hand_face_angles` of the detector's own 3D points
(:class:`pose3d_cli.infer.detector_points.DetectorPoints`, MediaPipe world landmarks). An angle counts for a frame
only when the person is detected and every point it needs (:data:`NEEDS_POINTS`) has a 2D confidence of at least
``Conventions.hand_min_conf``; elsewhere (a 17-joint CSV, a keypoint file without hands, occluded hands) it is NaN
and the score uses the observation option instead (``wrist``, ``wrist_deviated``, ``neck_twist``: the documented
least-risk defaults unless set). ``Conventions.hand_points`` is ``"off"`` by default (the angles are measured and
written, the scores use the options): see the README for why; ``"auto"`` scores from them as below.

From a measured angle (``Conventions``):

- RULA wrist (per side): ``|wrist_flexion| ≤ wrist_neutral_deg`` → 1 (neutral), up to 15° → 2, beyond → 3;
  REBA's wrist follows from it as for the option (RULA 1–2 → 0–15° → 1; RULA 3 → 2).
- wrist "bent from the midline" (+1 both methods) from ``|wrist_deviation| > wrist_deviation_deg`` only with
  ``wrist_deviation_measured`` (off by default: see the README's reliability table).
- neck twisted (+1 both methods) when ``|head_yaw| > neck_twist_deg``.

*Reliable* also means the band does not hang on the angle's error: a measured band is used only where moving the
angle by ± ``hand_margin_deg`` (default 20°, the typical error of these monocular angles against a 4-view
triangulation on the dev split) keeps it in the same band (:func:`robust_band`). With the defaults the points can
only *raise* a score (a wrist flexed or extended beyond 35°, a head turned beyond 30°); nearer the edges the option
decides, as without points.
"""

from __future__ import annotations

import numpy as np

from ..body.frame import SIDES, hand_face_angles
from .options import Conventions, band

#: the detector points each hand/face angle needs (``blazepose33`` names)
NEEDS_POINTS: dict[str, tuple[str, ...]] = {
    **{f"wrist_{k}_{s}": (f"{s}_elbow", f"{s}_wrist", f"{s}_index", f"{s}_pinky")
       for s in SIDES for k in ("flexion", "deviation")},
    "head_yaw": ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),  # and both ears, or else both eyes
}
HAND_ANGLES = tuple(NEEDS_POINTS)
EARS, EYES = ("left_ear", "right_ear"), ("left_eye", "right_eye")


def measured_angles(points, detected: np.ndarray, min_conf: float) -> dict[str, np.ndarray]:
    """{angle: (T,) degrees} of :data:`HAND_ANGLES`, NaN where unreliable (module doc); all NaN without points."""
    T = len(detected)
    if points is None:
        return {k: np.full(T, np.nan) for k in HAND_ANGLES}
    sure = lambda names: np.all([points.confidence(n) >= min_conf for n in names], axis=0)  # noqa: E731
    pts = {n: points.point(n) for n in points.names}
    ears = sure(EARS)
    for n in EARS:  # a far ear hidden by the turned head: the eye line gives the yaw (hand_face_angles' fallback)
        pts[n] = np.where(ears[:, None], pts[n], np.nan)
    raw = hand_face_angles(pts)
    out = {}
    for k in HAND_ANGLES:
        ok = detected & sure(NEEDS_POINTS[k])
        if k == "head_yaw":
            ok &= ears | sure(EYES)
        out[k] = np.where(ok, raw[k], np.nan)
    return out


def robust_band(x: np.ndarray, edges: list[float], scores: list[int], margin: float, mode: str) -> np.ndarray:
    """:func:`~.options.band` of ``x`` where ``x ± margin`` falls in the same band, NaN elsewhere (and for NaN)."""
    b = band(x, edges, scores, mode)
    same = (band(x - margin, edges, scores, mode) == b) & (band(x + margin, edges, scores, mode) == b)
    return np.where(same, b, np.nan)


def rula_wrist_band(flexion: np.ndarray, conv: Conventions, margin: float = 0.0) -> np.ndarray:
    """RULA wrist posture 1/2/3 of a signed flexion (degrees; NaN → NaN; undecided within ``margin`` of an edge)."""
    return robust_band(np.abs(flexion), [conv.wrist_neutral_deg, 15.0], [1, 2, 3], margin, conv.edges)


def twisted(yaw: np.ndarray, conv: Conventions, margin: float = 0.0) -> np.ndarray:
    """1.0 where ``|yaw|`` is beyond ``neck_twist_deg``, 0.0 within, NaN where unknown (or within ``margin``)."""
    return robust_band(np.abs(yaw), [conv.neck_twist_deg], [0, 1], margin, conv.edges)


def with_measured(obs: dict, a: dict, conv: Conventions) -> dict:
    """The observation arrays with per-side ``wrist_{side}``, ``wrist_deviated_{side}`` and ``neck_twist`` taken
    from the measured angles in ``a`` where they are finite, else from the options (module doc)."""
    out = dict(obs)
    T = len(obs["wrist"])
    use = conv.hand_points == "auto"

    def pick(measured, fallback):
        m = measured if use else np.full(T, np.nan)
        return np.where(np.isfinite(m), m, np.asarray(fallback, dtype=np.float64))

    for s in SIDES:
        out[f"wrist_{s}"] = pick(rula_wrist_band(a.get(f"wrist_flexion_{s}", np.full(T, np.nan)), conv,
                                                 conv.hand_margin_deg), obs["wrist"])
        dev = a.get(f"wrist_deviation_{s}", np.full(T, np.nan))
        dev = robust_band(np.abs(dev), [conv.wrist_deviation_deg], [0, 1], conv.hand_margin_deg, conv.edges) \
            if conv.wrist_deviation_measured else np.full(T, np.nan)
        out[f"wrist_deviated_{s}"] = pick(dev, np.asarray(obs["wrist_deviated"], dtype=bool))
    out["neck_twist"] = pick(twisted(a.get("head_yaw", np.full(T, np.nan)), conv, conv.hand_margin_deg),
                             np.asarray(obs["neck_twist"], dtype=bool))
    return out


def measured_items(a: dict, conv: Conventions) -> list[list[str]]:
    """Per frame, which items the points decided (``wrist_left``, ``wrist_right``, ``neck_twist``)."""
    T = len(a["trunk_flexion"])
    if conv.hand_points != "auto":
        return [[] for _ in range(T)]
    nan = np.full(T, np.nan)
    fin = {f"wrist_{s}": np.isfinite(rula_wrist_band(a.get(f"wrist_flexion_{s}", nan), conv, conv.hand_margin_deg))
           for s in SIDES}
    fin["neck_twist"] = np.isfinite(twisted(a.get("head_yaw", nan), conv, conv.hand_margin_deg))
    return [[item for item in fin if fin[item][t]] for t in range(T)]
