"""Score a pose track: the vertical, angles, reliability, smoothing, time rules, RULA, REBA and a summary.

``assess(poses, vertical, ...)`` is the plain function behind ``pose3d ergo``; nothing here reads or writes
files except :func:`write_frames_csv` / :func:`write_summary_json` (atomic).

Per-frame reliability: a body part is scored only when every joint it needs has a 2D confidence of at least
``min_conf`` (0.3, like infer's ``low_conf``); otherwise its cells are empty and ``reason`` names the joints. A
frame without a person has ``reason = "no person detected"``. Group B (neck, trunk, legs) is needed by both
methods, so a frame whose trunk, neck or legs are unreliable gets no score at all; an unreliable arm only
removes its side (the final score is the max of the sides that can be scored). ``near_edge`` flags frames
whose final score changes when any one angle moves by ± ``edge_margin_deg``: there a small angle error would
flip a band; ``near_edge_angles`` names those angles (and the summary counts frames per angle).

Hand and face (:mod:`.hands`): where the input carries the detector's hand/face points and they pass
``hand_min_conf``, the wrist flexion/deviation and head yaw are measured (``wrist_flexion_*_deg`` ...), and RULA/REBA
wrist and neck twist come from them (``measured`` names the items per frame); elsewhere the options' defaults.

Lift spread (from a video, where a second lift without flip averaging is at hand, ``Poses.plain_joints``): per
frame ``lift_spread_deg``, the largest difference of a scored angle between the flip-averaged lift (the one scored)
and the plain lift, ``lift_spread_angle`` which angle, and ``lift_flip`` = 1 where the RULA or REBA final score of
the plain lift differs: there the score hangs on what the lifter cannot decide. Empty for a pose file.
"""

from __future__ import annotations

import io
import csv
import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..atomic import write_text_atomic
from ..body.frame import NEEDS, SIDES, body_angles, camera_azimuth, camera_tilt, neck_neutral_from_face
from ..body.vertical import Vertical, check_vertical_mode, choose_vertical
from ..errors import Pose3dError
from ..skeleton import get_skeleton
from . import reba, rula
from .hands import HAND_ANGLES, measured_angles, measured_items, with_measured
from .io import Poses
from .options import Conventions, Segments, observation_arrays
from .timeline import (RULES, TimeRules, activity_flags, episodes, frame_weights, percent_time, sample_rate,
                       smooth_angles,
                       walking_flags, watched_series, worst_moments)


def resolve_vertical(poses: Poses | list[Poses], up: tuple[float, float, float] | None = None, calib: str | None = None,
                     calib_camera: str | None = None, scene=None, mode: str = "auto",
                     camera_name: str | None = None) -> Vertical:
    """The vertical by order of trust: ``--up``, a calibration, else estimated from the video
    (:func:`pose3d_cli.body.vertical.choose_vertical`: the scene's vertical lines, the body poses, the level camera).

    ``poses``: one person, or every person of one video (a list): one camera has one vertical, so everyone's frames
    are pooled into one estimate (each frame weighted by its 2D confidence, as for one person) and every person is
    scored against the same up. ``scene``: for a video, a function ``prior up (3,) or None → SceneUp``
    (:func:`pose3d_cli.infer.scene.scene_vertical`). ``mode``: ``--vertical`` (auto, lines, body, level)."""
    check_vertical_mode(mode)  # before the --up and --calib returns: a bad mode is refused whatever wins
    people = poses if isinstance(poses, list) else [poses]
    poses = people[0]
    if up is not None:
        v = np.asarray(up, dtype=np.float64)
        n = np.linalg.norm(v)
        if not np.isfinite(n) or n == 0:
            raise Pose3dError(f"--up {up}: give a non-zero direction x,y,z in the camera frame (y down), e.g. 0,-1,0")
        return Vertical(v / n, "--up (given)", note=_overridden(mode, "--up"), requested=mode)
    if calib:
        from ..infer.calibration import load_calibration, pick_camera

        name = camera_name or str(poses.metadata.get("input") or poses.source)  # io.recorded_camera_name's rule
        cam = pick_camera(load_calibration(calib), calib_camera, name)
        v = cam.R @ np.array([0.0, 0.0, 1.0])
        return Vertical(v / np.linalg.norm(v), f"calibration {calib}:{cam.name} (world +Z)",
                        note=_overridden(mode, "--calib"), requested=mode)
    v = choose_vertical([p.joints for p in people], [p.conf for p in people], get_skeleton(poses.skeleton),
                        poses.source, scene, mode)
    v.requested = mode
    lifted_with = str(poses.metadata.get("intrinsics") or "")
    if lifted_with.startswith("calibration"):  # an infer output of a calibrated camera: its vertical is known
        v.note = "; ".join(n for n in (v.note, f"the poses were lifted with {lifted_with}: give it with --calib (and "
                                       "--calib-camera) to score against that camera's vertical") if n)
    return v


def require_a_person(people: list[Poses], name: str) -> None:
    """One clear error when no frame of any of ``people`` has a detected person with 3D joints (nothing to score)."""
    if not any((p.detected & np.isfinite(p.joints).any(axis=(1, 2))).any() for p in people):
        if people and people[0].coordinates == "world":
            raise Pose3dError(f"{name}: no joint of any frame was triangulated; nothing to score (check that two or "
                              "more of the views see the worker)")
        raise Pose3dError(f"{name}: no frame has a detected person; nothing to score (check the video shows the "
                          "worker, whole and not too small in the frame)")


def _overridden(mode: str, by: str) -> str:
    return "" if mode == "auto" else f"--vertical {mode} not used: {by} gives the vertical"


@dataclass
class Assessment:
    poses: Poses
    vertical: Vertical
    conventions: Conventions
    segments: Segments
    rules: TimeRules
    min_conf: float
    angles: dict  # name → (T,) smoothed, NaN where unreliable
    raw_angles: dict  # name → (T,) before smoothing
    rula: dict
    reba: dict
    flags: dict
    reason: list[str]
    near_edge: np.ndarray  # (T,) bool
    summary: dict = field(default_factory=dict)


def _reliability(poses: Poses, min_conf: float) -> dict[str, list[str] | np.ndarray]:
    """(T,) bool per body part: every needed joint at least ``min_conf``; and (T,) reason strings."""
    sk = get_skeleton(poses.skeleton)
    ok = {}
    low = {}
    for part, joints in NEEDS.items():
        idx = sk.indices(joints)
        bad = (poses.conf[:, idx] < min_conf) | ~np.isfinite(poses.joints[:, idx]).all(-1)  # (T, n)
        ok[part] = ~bad.any(axis=1) & poses.detected
        low[part] = {int(t): [joints[k] for k in np.flatnonzero(bad[t])] for t in np.flatnonzero(bad.any(axis=1))}
    return ok, low


_ARM_KEYS = ("upper_arm_flexion", "upper_arm_elevation", "upper_arm_abduction", "shoulder_raise", "elbow_flexion",
             "wrist_lateral")
_BODY_KEYS = ("trunk_flexion", "trunk_inclination", "trunk_lean", "trunk_side_bend", "trunk_twist", "neck_flexion",
              "neck_side_bend", "knee_flexion_left", "knee_flexion_right", "foot_raise", "shoulder_half_width")


def observed_neck(obs) -> np.ndarray:
    """(T,) the neck flexion the ergonomist entered (``neck_flexion_deg`` in --observations), NaN where not given."""
    return np.array([np.nan if v is None else float(v) for v in obs["neck_flexion_deg"]])


def with_observed_neck(a: dict, obs) -> dict:
    """The angles with the observed neck (where the video cannot show it) in place of the measured one, in the
    frames whose neck is scored (an entered neck gives no frame without a person a neck)."""
    neck = observed_neck(obs)
    if not np.isfinite(neck).any():
        return a
    return {**a, "neck_flexion": np.where(np.isfinite(neck) & np.isfinite(a["neck_flexion"]), neck, a["neck_flexion"])}


def _scores(a, obs, conv, flags):
    a = with_observed_neck(a, obs)  # also in a perturbed copy: an entered neck is never near a band edge
    obs = with_measured(obs, a, conv)
    r = rula.score(a, obs, conv, flags)
    b = reba.score(a, obs, conv, flags)
    return r, b


#: the angles whose lift spread is reported (those the scores read, by convention)
def _spread_keys(conv: Conventions) -> list[str]:
    ua = conv.upper_arm_key
    return [conv.trunk_key, "trunk_side_bend", "trunk_twist", "neck_flexion", "neck_side_bend",
            *(f"{k}_{s}" for s in SIDES for k in (ua, "upper_arm_abduction", "elbow_flexion", "knee_flexion"))]


def _masked_angles(joints, poses: Poses, vertical: Vertical, conv: Conventions, ok: dict, body_ok: np.ndarray,
                   hand: dict) -> dict[str, np.ndarray]:
    """The body angles of ``joints`` (T, J, 3), NaN where their body part is unreliable, and the hand/face angles."""
    raw = body_angles(joints, vertical.up_at(poses.frame), poses.skeleton, conv.neck_neutral_deg,
                      conv.upper_arm_reference)
    masked = {}
    for k, v in raw.items():
        m = body_ok
        for s in SIDES:
            if k.endswith(f"_{s}") and k.rsplit("_", 1)[0] in _ARM_KEYS:
                m = ok[f"arm_{s}"] & body_ok
        masked[k] = np.where(m, v, np.nan)
    if conv.shoulder_raise_ref == "median":
        for s in SIDES:
            k = f"shoulder_raise_{s}"
            if np.isfinite(masked[k]).any():
                masked[k] = masked[k] - np.nanmedian(masked[k])
    masked.update(hand)
    return masked


def resolve_neck_neutral(poses: Poses, conv: Conventions) -> tuple[Conventions, dict]:
    """The conventions with ``neck_neutral`` resolved ("face" or "fixed") and ``neck_neutral_deg`` the value
    used, and what the summary says of it (:attr:`Conventions.neck_neutral`). "face" needs the face points in the
    joints' own 3D (a multi-view reference); elsewhere it is refused with one line."""
    mode = conv.neck_neutral
    if mode == "auto":
        mode = "face" if poses.coordinates == "world" else "fixed"
    info = {"source": mode, "deg": conv.neck_neutral_deg}
    if mode == "face":
        if poses.coordinates != "world":
            raise Pose3dError(f"{poses.source}: neck_neutral 'face' needs the face points in the joints' own 3D (a "
                              "`pose3d triangulate` reference); lifted poses have the mocap head: use 'fixed' or 'auto'")
        if poses.points is None:  # a reference without its detector points: no face to read
            deg, n = None, 0
        else:
            pts = {n: poses.points.point(n) for n in poses.points.names}
            deg, n = neck_neutral_from_face(poses.joints, pts, poses.skeleton, conv.face_line_rise_deg)
        if deg is None:
            info = {"source": "fixed", "deg": conv.neck_neutral_deg, "frames": n, "warn": True,
                    "note": ("no face points in this reference" if poses.points is None else
                             f"only {n} frames with a plausible face (10 needed)") + ": the fixed neck_neutral_deg "
                            f"({conv.neck_neutral_deg:g}°, the mocap head top's) is used, but this head joint is the "
                            "ears' mid-point, whose neutral is the person's own (36° on the shared pose2sim worker, "
                            "where 10° read his upright neck as bent 26°): run once with --neck-neutral-deg 0, read "
                            "neck_flexion_deg in a frame where the person holds the head upright, and give it as "
                            "--neck-neutral-deg; or film the face from two cameras"}
            mode = "fixed"
        else:
            info = {"source": "face", "deg": round(deg, 2), "frames": n,
                    "note": f"the person's own neutral: median over {n} frames of the head joint's angle minus the "
                            f"face line's (ears → eyes, rising {conv.face_line_rise_deg:g}° in a neutral head)"}
    return replace(conv, neck_neutral=mode, neck_neutral_deg=float(info["deg"])), info


def assess(poses: Poses, vertical: Vertical, conventions: Conventions | None = None,
           segments: Segments | None = None, rules: TimeRules | None = None, min_conf: float = 0.3) -> Assessment:
    conv = conventions or Conventions()
    segments = segments or Segments()
    rules = rules or TimeRules()
    T = len(poses.frame)
    if T < 2:
        raise Pose3dError(f"{poses.source}: {T} frame; RULA/REBA over time need at least 2 frames (a video, not a photo)")
    require_a_person([poses], poses.source)
    ok, low = _reliability(poses, min_conf)
    conv, neck_neutral = resolve_neck_neutral(poses, conv)
    body_ok = ok["trunk"] & ok["neck"] & ok["legs"]
    hand = measured_angles(poses.points, poses.detected, conv.hand_min_conf)
    masked = _masked_angles(poses.joints, poses, vertical, conv, ok, body_ok, hand)
    obs = observation_arrays(segments, poses.time_s)
    # the neck the ergonomist entered is the neck of every output: scores, bands, time rules, worst moments, CSV
    angles = with_observed_neck(smooth_angles(masked, poses.time_s, rules.cutoff_hz), obs)
    ua_key = conv.upper_arm_key
    walking = walking_flags(angles["knee_flexion_left"], angles["knee_flexion_right"], poses.time_s, rules)
    # an entered neck is a posture, not a movement: the time rules see no neck where it was entered (a constant
    # would read as held for the whole span, and its edges as rapid changes)
    watched = watched_series(angles, ua_key, conv.trunk_key)
    watched["neck"] = np.where(np.isfinite(observed_neck(obs)), np.nan, watched["neck"])
    flags = activity_flags(watched, poses.time_s, rules, walking)
    r, b = _scores(angles, obs, conv, flags)
    spread = None
    if poses.plain_joints is not None:
        plain = with_observed_neck(smooth_angles(_masked_angles(poses.plain_joints, poses, vertical, conv, ok, body_ok,
                                                                hand), poses.time_s, rules.cutoff_hz), obs)
        r2, b2 = _scores(plain, obs, conv, flags)
        keys = _spread_keys(conv)
        with np.errstate(invalid="ignore"):
            d = np.abs(np.stack([angles[k] - plain[k] for k in keys], axis=1))  # (T, K)
        any_ = np.isfinite(d).any(axis=1)
        worst = np.argmax(np.where(np.isfinite(d), d, -1.0), axis=1)
        flip = ((r2["grand"] != r["grand"]) & np.isfinite(r["grand"])) | ((b2["reba"] != b["reba"]) & np.isfinite(b["reba"]))
        spread = {"deg": np.where(any_, d[np.arange(T), worst], np.nan),
                  "angle": [keys[worst[t]] if any_[t] else "" for t in range(T)],
                  "flip": np.where(np.isfinite(r["grand"]), flip.astype(np.float64), np.nan)}
    # near a band edge: does moving any one angle by ±margin change a final score?
    near = np.zeros(T, dtype=bool)
    near_by: dict[str, np.ndarray] = {}
    if conv.edge_margin_deg > 0:
        for k in angles:
            if k in ("foot_raise", "shoulder_half_width") or k.startswith("wrist_lateral") or (
                    k in HAND_ANGLES and conv.hand_points == "off") or (
                    k.startswith("wrist_deviation") and not conv.wrist_deviation_measured) or not np.isfinite(angles[k]).any():
                continue
            for d in (-conv.edge_margin_deg, conv.edge_margin_deg):
                pert = dict(angles)
                pert[k] = angles[k] + d
                r2, b2 = _scores(pert, obs, conv, flags)
                flip = ((r2["grand"] != r["grand"]) & np.isfinite(r["grand"])) | (
                    (b2["reba"] != b["reba"]) & np.isfinite(b["reba"]))
                near_by[k] = near_by.get(k, np.zeros(T, dtype=bool)) | flip
                near |= flip
    reason = []
    for t in range(T):
        if not poses.detected[t]:
            reason.append("no person detected")
            continue
        parts = []
        for part in ("trunk", "neck", "legs", "arm_left", "arm_right"):
            if not ok[part][t]:
                why = "not triangulated" if poses.coordinates == "world" else "unreliable"
                parts.append(f"{part.replace('_', ' ')} {why} ({', '.join(sorted(set(low[part].get(t, []))))})")
        if not body_ok[t]:
            reason.append("not scored: " + "; ".join(parts))
        elif parts:
            reason.append("partly scored: " + "; ".join(parts))
        else:
            reason.append("")
    A = Assessment(poses, vertical, conv, segments, rules, min_conf, angles, masked, r, b, flags, reason, near)
    A.near_by = {k: v for k, v in near_by.items() if v.any()}
    A.spread = spread
    A.neck_neutral = neck_neutral
    A.measured = measured_items(angles, conv)
    A.summary = summarise(A)
    return A


BANDS = {  # name → (angle key or callable, threshold, how)
    "trunk flexion > 20 deg": ("trunk", 20.0),
    "trunk flexion > 60 deg": ("trunk", 60.0),
    "trunk extension > 20 deg": ("trunk_ext", 20.0),
    "trunk side bend > 10 deg": ("trunk_side", 10.0),
    "trunk twist > 10 deg": ("trunk_twist", 10.0),
    "neck flexion > 20 deg": ("neck", 20.0),
    "neck in extension": ("neck_ext", 0.0),
    "upper arm > 45 deg (either)": ("upper_arm", 45.0),
    "upper arm > 90 deg (either)": ("upper_arm", 90.0),
    "knee flexion > 60 deg (either)": ("knee", 60.0),
}


def _band_series(A: Assessment) -> dict[str, np.ndarray]:
    a, conv = A.angles, A.conventions
    ua = conv.upper_arm_key
    tr = a[conv.trunk_key]
    with np.errstate(invalid="ignore"):
        return {"trunk": tr, "trunk_ext": -tr, "trunk_side": np.abs(a["trunk_side_bend"]),
                "trunk_twist": np.abs(a["trunk_twist"]), "neck": a["neck_flexion"],
                "neck_ext": -a["neck_flexion"] - conv.neutral_neck_deg,
                "upper_arm": np.fmax(a[f"{ua}_left"], a[f"{ua}_right"]),
                "knee": np.fmax(a["knee_flexion_left"], a["knee_flexion_right"])}


def summarise(A: Assessment) -> dict:
    p = A.poses
    t = p.time_s
    w = frame_weights(t)
    g, rb = A.rula["grand"], A.reba["reba"]
    valid = np.isfinite(g) & np.isfinite(rb)
    bs = _band_series(A)
    with np.errstate(invalid="ignore"):
        bands = {name: percent_time(bs[key] > thr, valid & np.isfinite(bs[key]), w) for name, (key, thr) in BANDS.items()}
    rula_al = {str(k): percent_time(A.rula["action_level"] == k, valid, w) for k in (1, 2, 3, 4)}
    reba_al = {str(k): percent_time(A.reba["action_level"] == k, valid, w) for k in (0, 1, 2, 3, 4)}
    gap = min(2.0, float(t[-1] - t[0]) / 5)  # moments at least 2 s apart (a fifth of a short clip)
    worst = worst_moments(np.where(valid, g, np.nan), rb, t, gap_s=gap)
    worst_reba = worst_moments(np.where(valid, rb, np.nan), g, t, gap_s=gap)

    ua = A.conventions.upper_arm_key

    def moment(i):  # the angles the scores read (the conventions' trunk and upper-arm angles)
        return {"frame": int(p.frame[i]), "time_s": round(float(t[i]), 3), "rula": int(g[i]), "reba": int(rb[i]),
                "trunk_deg": _r(A.angles[A.conventions.trunk_key][i]), "trunk_angle": A.conventions.trunk_key,
                "neck_flexion_deg": _r(A.angles["neck_flexion"][i]),
                "upper_arm_left_deg": _r(A.angles[f"{ua}_left"][i]), "upper_arm_right_deg": _r(A.angles[f"{ua}_right"][i]),
                "upper_arm_angle": ua}

    dur = float(t[-1] - t[0] + w[-1])
    span = float(t[-1] - t[0])  # what the time rules measure a clip by (timeline.repetition_flags, held_flags)
    rep_note = None if span >= A.rules.rep_min_s else (
        f"the frames span {span:.2f} s, less than the {A.rules.rep_min_s:g} s the repetition rule needs: repetition "
        "rates not assessed")
    static_note = None if span >= A.rules.static_s else (
        f"the frames span {span:.2f} s, less than {A.rules.static_s:g} s: no posture can be 'held > 1 min'")
    fs = sample_rate(t)
    smooth_note = None if A.rules.cutoff_hz < fs / 2 or A.rules.cutoff_hz <= 0 else (
        f"--cutoff-hz {A.rules.cutoff_hz:g} is not below half the frame rate ({fs / 2:.0f} Hz): the angles were not "
        "smoothed; give a lower cut-off (2 Hz is the default) or 0 to say so")
    end = float(t[-1] + w[-1])
    span_notes = [f"observations segment {k + 1} ({a:g}-{b:g} s) lies outside the clip ({float(t[0]):.2f}-{end:.2f} s): "
                  "not applied; check its times" for k, (a, b, _) in enumerate(A.segments.spans) if a >= end or b <= t[0]]
    measured = getattr(A, "measured", None) or [[] for _ in t]
    spread = getattr(A, "spread", None)
    hand_face = {"points_in_input": p.points is not None,
                 "frames_measured (scored frames)": {k: int(sum(1 for i in np.flatnonzero(valid) if k in measured[i]))
                                                     for k in ("wrist_left", "wrist_right", "neck_twist")},
                 "reliability": HAND_RELIABILITY}
    lift = None if spread is None else {
        "lift_flip_frames (scored)": int(np.nansum(np.where(valid, spread["flip"], np.nan))),
        "lift_spread_deg_median": _r(np.nanmedian(np.where(valid, spread["deg"], np.nan))) if valid.any() else None,
        "lift_spread_deg_p95": _r(np.nanpercentile(np.where(valid, spread["deg"], np.nan), 95)) if valid.any() else None,
        "note": "flip-averaged (scored) vs plain lift of the same 2D"}
    counts = {"frames": int(len(t)), "detected": int(p.detected.sum()), "scored": int(valid.sum()),
              "partly_scored": int(sum(1 for r in A.reason if r.startswith("partly"))),
              "near_band_edge": int((A.near_edge & valid).sum()),
              "near_band_edge_by_angle": {k: int((v & valid).sum()) for k, v in
                                          sorted(getattr(A, "near_by", {}).items(), key=lambda kv: -kv[1].sum())}}
    return {
        "input": p.source, "skeleton": p.skeleton, "duration_s": round(dur, 3), "counts": counts,
        "timestamps": p.metadata.get("timestamps", "time_s column of the infer output"),
        "coordinates": p.coordinates,
        "vertical": {("up_camera_frame" if p.coordinates == "camera" else "up_world_frame"):
                     np.round(A.vertical.up, 4).tolist(), "source": A.vertical.source,
                     "spread_deg": None if A.vertical.spread_deg is None else round(float(A.vertical.spread_deg), 2),
                     "note": A.vertical.note,
                     "per_frame": A.vertical.per_frame is not None, "requested": A.vertical.requested,
                     "scene_lines": A.vertical.scene},
        "rula": {"max": _i(np.nanmax(np.where(valid, g, np.nan))) if valid.any() else None,
                 "median": _r(np.nanmedian(g[valid])) if valid.any() else None,
                 "percent_time_action_level": rula_al,
                 "action_levels": {str(k): v for k, v in rula.ACTION_LEVELS.items()},
                 "longest_high_risk_episodes (grand >= 5)": episodes(valid & (g >= 5), t)},
        "reba": {"max": _i(np.nanmax(np.where(valid, rb, np.nan))) if valid.any() else None,
                 "median": _r(np.nanmedian(rb[valid])) if valid.any() else None,
                 "percent_time_action_level": reba_al,
                 "action_levels": {str(k): v for k, v in reba.ACTION_LEVELS.items()},
                 "longest_high_risk_episodes (score >= 8)": episodes(valid & (rb >= 8), t)},
        "percent_time_in_band": bands,
        "worst_moments_rula": [moment(i) for i in worst],
        "worst_moments_reba": [moment(i) for i in worst_reba],
        "time_rules": [("smoothing: none (--cutoff-hz 0): the angles are scored as lifted" if r.startswith("smoothing")
                        and A.rules.cutoff_hz <= 0 else r.format(**A.rules.describe())) for r in RULES],
        "time_notes": [n for n in (smooth_note, rep_note, static_note) if n] + span_notes,
        "percent_time_static": percent_time(A.flags["static"] > 0, valid, w),
        "percent_time_repeated": percent_time(A.flags["repeated"] > 0, valid, w),
        "percent_time_rapid": percent_time(A.flags["rapid"] > 0, valid, w),
        "percent_time_walking": percent_time(A.flags["walking"] > 0, valid, w),
        "conventions": asdict(A.conventions),
        "neck_neutral": getattr(A, "neck_neutral", None),
        "observations": A.segments.describe(),
        "not_observable": NOT_OBSERVABLE + ([] if p.points is not None else [NO_POINTS]),
        "hand_face": hand_face,
        "lift_spread": lift,
        "angle_accuracy_measured_deg": ({"rmse_range": {k: list(v) for k, v in MEASURED_ANGLE_RMSE.items()},
                                         "how": ACCURACY_NOTE} if p.coordinates == "camera" else
                                        {"rmse_range": {}, "how": MULTIVIEW_ACCURACY_NOTE}),
        "filming": filming(A, valid),
        "min_conf": A.min_conf,
    }


#: the cameras synth trains the lifter on (synth/cameras.py, README "Vertical"): 90% rolled within ±9° and 95% looking
#: down less than 27°; beyond these a phone films views the lifter rarely saw
TRAINED_ROLL_DEG, TRAINED_DOWN_DEG = 10.0, 27.0
#: a worker seen from further round than this is filmed from behind (camera_azimuth, degrees)
BEHIND_DEG = 120.0
#: within this of the front or the back (camera_azimuth, degrees), the neck's forward bend is mostly depth
HEAD_ON_DEG = 30.0


def filming(A: Assessment, valid: np.ndarray) -> dict:
    """How the phone filmed the worker, and the warnings an ergonomist can act on when refilming: the camera's
    roll and downward tilt (from the vertical; not known under the level-camera assumption) against the cameras the
    lifter was trained on, and the share of scored frames filmed from the front, the side and behind. The biases
    quoted were measured on the shared pose2sim clip (README "pose3d ergo"): one subject, a first guide."""
    p = A.poses
    if p.coordinates == "world":  # several calibrated cameras: no one phone's tilt or point of view to warn about
        views = p.metadata.get("views") or []
        return {"camera_down_deg": None, "camera_roll_deg": None,
                "tilt_from": (f"not applicable: 3D triangulated from {len(views)} calibrated views (world frame)"
                              if views else "not applicable: 3D in a world frame (a pose3d array without cameras)"),
                "percent_time_seen_from": {}, "camera_warnings": [], "view_warnings": []}
    ups = A.vertical.up_at(p.frame)
    measured = not A.vertical.source.startswith("level camera")
    # the body poses' vertical is 5-12° off on real views (README "Vertical"): its tilt is shown, not warned about
    precise = measured and A.vertical.source != "estimated from the body poses"
    down, roll = camera_tilt(ups)
    down, roll = (float(np.median(down)), float(np.median(roll))) if measured else (None, None)
    az = camera_azimuth(p.joints, ups, p.skeleton)
    ok = valid & np.isfinite(az)
    w = frame_weights(p.time_s)
    share = {name: percent_time(m, ok, w) for name, m in
             (("front", az < 60), ("side", (az >= 60) & (az <= BEHIND_DEG)), ("behind", az > BEHIND_DEG))}
    camera, view = [], []  # the camera's warnings hold for everyone it films; the view is each person's own
    if precise and round(abs(roll)) > TRAINED_ROLL_DEG:  # as printed: a 10.2° roll reads 10°, no warning
        camera.append(f"the phone is rolled {abs(roll):.0f}° about its axis (the lifter was trained on cameras rolled "
                        f"less than ~{TRAINED_ROLL_DEG:.0f}°; on the measured clip a 26° roll leaned the trunk forward by up to 11°"
                        "): hold the phone with its edges level")
    if precise and round(down) > TRAINED_DOWN_DEG:
        camera.append(f"the camera looks {down:.0f}° down (the lifter was trained mostly below {TRAINED_DOWN_DEG:.0f}°): "
                        "film from about chest height")
    entered = np.isfinite(observed_neck(observation_arrays(A.segments, p.time_s)))
    head_on = percent_time(((az < HEAD_ON_DEG) | (az > 180.0 - HEAD_ON_DEG)) & ~entered, ok, w)  # entered: seen
    if head_on is not None and head_on > 50:
        view.append(f"the worker is filmed within {HEAD_ON_DEG:.0f}° of head-on (from the front or behind) in "
                    f"{head_on:.0f}% of the scored time: a forward bend of the neck is then mostly depth, which one "
                    "camera barely sees (on held-out mocap, necks bent more than 20° read 17° less than they are filmed "
                    "head-on, 15° in profile): film from the side for the neck, use two calibrated cameras, or set "
                    "neck_flexion_deg in --observations")
    if share["behind"] is not None and share["behind"] > 50:
        view.append(f"the worker is filmed from behind in {share['behind']:.0f}% of the scored time (from behind, "
                        "the trunk's forward lean was 8° too large on the measured clip): film from the front or "
                        "the side")
    return {"camera_down_deg": _r(down), "camera_roll_deg": _r(roll),
            "tilt_from": (A.vertical.source + ("" if precise else " (5-12° uncertain: no tilt warning)") if measured
                          else "not measured (level-camera assumption)"),
            "percent_time_seen_from": share, "camera_warnings": camera, "view_warnings": view}


NOT_OBSERVABLE = [
    "wrist flexion/extension (RULA/REBA wrist) where the hand points are absent or under hand_min_conf: set 'wrist'",
    "wrist deviation (measured, but not scored by default: wrist_deviation_measured): set 'wrist_deviated'",
    "wrist twist (pronation/supination): set 'wrist_twist'",
    "load/force and shocks: set 'load_kg', 'load_mode', 'shock'",
    "coupling (REBA): set 'coupling'",
    "arm supported or person leaning: set 'arm_supported'",
    "sitting: set 'sitting'; a seated trunk well supported by a backrest (RULA trunk 1): set 'back_supported'",
    "neck twist where the face points are absent or under hand_min_conf: set 'neck_twist'",
    "neck flexion from a phone facing the worker head-on (it is depth there; ergo warns): set 'neck_flexion_deg'",
    "upper arm rotation (REBA +1 'abducted or rotated': only abduction is measured)",
    "a symmetric shoulder shrug (both shoulders and the thorax move together)",
]
NO_POINTS = ("this input has no hand/face points (an infer CSV, or a detector without them): wrist and neck twist "
             "are the option values (least-risk defaults unless set); score the video or infer's JSON to measure them")
#: measured on pose2sim (README "pose3d ergo"): monocular MediaPipe angles vs the 4-view triangulation
HAND_RELIABILITY = "see README 'pose3d ergo' (hand/face angles vs 4-view triangulation, report split)"
#: how far the angles of the shipped model were from a 4-view reference (README "pose3d ergo"): RMSE range over the
#: 4 pose2sim views, degrees, report frames 50-99, calibrated vertical, `pose3d ergo` on the videos with the default
#: model of stop 26 against `pose3d ergo` on the triangulation (`scripts/ergo_views.py --ref-ergo`). The neck is the
#: lifted mocap-style neck against the triangulated landmarks' (mid-shoulders to mid-ears): their neutrals differ
#: by a few degrees, the rest is the lift reading a bent neck as neutral. One subject, one clip: a guide to how much a
#: band edge can be trusted, not a validation.
#: re-measured at stop 31 against the reference scored with the person's own neck neutral (--neck-neutral auto)
MEASURED_ANGLE_RMSE = {"trunk flexion / lean": (3, 13), "trunk side bend": (5, 8), "neck flexion": (5, 8),
                       "upper arm elevation": (4, 13), "elbow flexion": (8, 34), "knee flexion": (3, 15)}
ACCURACY_NOTE = ("RMSE range over 4 camera views against a 4-view triangulated reference (the shared pose2sim clip, "
                 "frames 50-99, calibrated vertical, the shipped model): one subject, one clip; README 'pose3d ergo'")


#: a multi-view reference is what the monocular figures above are measured against: they do not apply to it
MULTIVIEW_ACCURACY_NOTE = ("3D triangulated from calibrated views (pose3d triangulate): the monocular RMSE figures do "
                           "not apply; its own error is its reprojection error (printed by triangulate and ergo), and it "
                           "triangulates the detector's landmarks, not joint centres")


def _r(v) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 1)


def _i(v) -> int | None:
    return None if v is None or not np.isfinite(v) else int(v)


FRAME_ANGLES = ("trunk_flexion", "trunk_inclination", "trunk_lean", "trunk_side_bend", "trunk_twist", "neck_flexion",
                "neck_side_bend", *(f"{k}_{s}" for s in SIDES for k in (
                    "upper_arm_flexion", "upper_arm_elevation", "upper_arm_abduction", "shoulder_raise",
                    "elbow_flexion", "knee_flexion")))
RULA_COLS = ("upper_arm_left", "upper_arm_right", "lower_arm_left", "lower_arm_right", "wrist_left", "wrist_right",
             "posture_a_left", "posture_a_right", "score_c_left", "score_c_right", "neck", "trunk", "legs",
             "posture_b", "score_d", "grand_left", "grand_right", "grand", "action_level")
REBA_COLS = ("trunk", "neck", "legs", "posture_a", "score_a", "upper_arm_left", "upper_arm_right", "lower_arm_left",
             "lower_arm_right", "wrist_left", "wrist_right", "score_b_left", "score_b_right", "activity",
             "reba_left", "reba_right", "reba", "action_level")


def frames_csv_text(A: Assessment, person_column: bool = False) -> str:
    """One row per frame: time, angles (deg, smoothed), RULA and REBA steps, flags, reason; empty = not scored.
    ``person_column``: a ``person`` column (``A.person``) after ``frame``, for files of several people."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    who = ["person"] if person_column else []
    header = ["frame", *who, "time_s", "detected", *(f"{a}_deg" for a in FRAME_ANGLES + HAND_ANGLES), "foot_raise_mm",
              *(f"rula_{c}" for c in RULA_COLS), *(f"reba_{c}" for c in REBA_COLS),
              "static", "repeated", "rapid", "walking", "near_edge", "near_edge_angles", "measured", "lift_spread_deg",
              "lift_spread_angle", "lift_flip", "reason"]
    wr.writerow(header)
    p = A.poses
    ang = np.stack([A.angles[a] for a in FRAME_ANGLES + HAND_ANGLES], axis=1)
    spread, measured = getattr(A, "spread", None), getattr(A, "measured", None) or [[] for _ in p.frame]
    rul = np.stack([A.rula[c] for c in RULA_COLS], axis=1)
    reb = np.stack([A.reba[c] for c in REBA_COLS], axis=1)
    scored = np.isfinite(A.rula["grand"])
    near_by = getattr(A, "near_by", {})
    for t in range(len(p.frame)):
        row = [int(p.frame[t]), *([A.person] if person_column else []), f"{p.time_s[t]:.4f}", int(p.detected[t])]
        row += ["" if not np.isfinite(v) else f"{v:.1f}" for v in ang[t]]
        fr = A.angles["foot_raise"][t]
        row.append("" if not np.isfinite(fr) else f"{fr:.0f}")
        row += ["" if not np.isfinite(v) else str(int(v)) for v in rul[t]]
        row += ["" if not np.isfinite(v) else str(int(v)) for v in reb[t]]
        if scored[t]:
            row += [int(A.flags["static"][t]), int(A.flags["repeated"][t]), int(A.flags["rapid"][t]),
                    int(A.flags["walking"][t]), int(A.near_edge[t]), ";".join(k for k, v in near_by.items() if v[t])]
        else:
            row += ["", "", "", "", "", ""]
        row.append(";".join(measured[t]))
        if spread is not None and np.isfinite(spread["deg"][t]):
            row += [f"{spread['deg'][t]:.1f}", spread["angle"][t],
                    "" if not np.isfinite(spread["flip"][t]) else int(spread["flip"][t])]
        else:
            row += ["", "", ""]
        row.append(A.reason[t])
        wr.writerow(row)
    return buf.getvalue()


def write_frames_csv(A: Assessment, path) -> None:
    write_text_atomic(frames_csv_text(A), path)


def summary_json_text(A: Assessment) -> str:
    return json.dumps(A.summary, indent=2, default=_json_default)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


def write_summary_json(A: Assessment, path) -> None:
    write_text_atomic(summary_json_text(A), path)
