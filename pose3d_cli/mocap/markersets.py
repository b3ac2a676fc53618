"""Marker-set presets: motion-capture marker trajectories → ``h36m17`` joint centres.

A preset knows which marker labels identify it (:func:`detect_markerset`) and how to build each of the 17
``h36m17`` joints from them (:func:`build_joints`). All inputs and outputs are in millimetres; a marker is a
``(T, 3)`` array with NaN where it is missing, and NaN propagates to every joint built from it. The geometry
uses local (segment) frames only, so it does not depend on which world axis is vertical.

Presets
-------
``plug_in_gait``
    Vicon Plug-in Gait (full body): ``LASI RASI LPSI RPSI`` (or ``SACR``), ``LTHI LKNE LTIB LANK``,
    ``C7 T10 CLAV STRN``, ``LFHD RFHD LBHD RBHD``, ``LSHO LUPA LELB LWRA LWRB`` (and right side).
``cmu41``
    The CMU 41-marker set: as Plug-in Gait with the waist markers ``LFWT RFWT`` standing for the ASIS and
    ``LBWT RBWT`` for the PSIS, and ``LSHN`` (shin) for ``LTIB``.
``joint_centres``
    Files that store the lower-limb joint centres as points (``LHJC LKJC LAJC RHJC RKJC RAJC``, e.g. OpenSim
    example data); the upper body is built from Plug-in Gait trunk, head and arm markers.

Joint-centre formulas (the same code serves ``plug_in_gait`` and ``cmu41``)
---------------------------------------------------------------------------
* **Hip** — Harrington et al. (2007), "Prediction of the hip joint centre in adults, children, and patients
  with cerebral palsy based on magnetic resonance imaging", J. Biomech. 40(3):595–602. In the pelvic frame
  (origin mid-ASIS; x anterior, y superior, z to the side of the hip), with pelvis width PW = |RASI − LASI| and
  pelvis depth PD = |mid-ASIS − mid-PSIS| (mm)::

      x = −0.24 PD − 9.9      y = −0.30 PW − 10.9      z = ±(0.33 PW + 7.3)

  PW and PD are per-subject medians over the trial, so the two hip centres stay a constant distance apart.
* **Knee, ankle, elbow** — the Plug-in Gait "chord function" (Davis et al. 1991, "A gait analysis data
  collection and reduction technique", Hum. Mov. Sci. 10:575–587; Vicon Plug-in Gait reference guide): the
  joint centre J lies at distance ``d = width / 2 + marker radius`` medial to the lateral joint marker M, with
  (J − M) ⟂ (P − J), P the proximal joint centre (hip for the knee, knee for the ankle, shoulder for the
  elbow). The medial direction: for the knee and ankle, in the plane of P, M and the lateral segment marker
  ``THI`` / ``TIB`` (``SHN`` for CMU), away from it; for the elbow, the normal of the arm plane (shoulder,
  elbow marker, wrist), whose sense is fixed because the elbow flexes one way only, blended near full
  extension (where that plane is undefined) into "away from ``UPA``". Plug-in Gait measures the knee, ankle
  and elbow widths with callipers; C3D files rarely carry them, so we use proportions of the adjacent
  segment's marker distance (medians over the trial), chosen so that typical adult segment lengths give the
  typical adult widths Plug-in Gait users enter (knee ≈ 100 mm, ankle ≈ 70 mm, elbow ≈ 70 mm):
  ``knee width = 0.24 |HJC − KNE|``, ``ankle width = 0.17 |KJC − ANK|``, ``elbow width = 0.22 |SHO − ELB|``;
  marker radius 7 mm (14 mm markers). These are estimates, not a published regression. On the pyCGM trials,
  which store Plug-in Gait's own centres (``LFEO`` knee, ``LTIO`` ankle, ``LHUO`` elbow), ours are 10–25 mm
  away from them.
* **Shoulder** — Rab, Petuskey & Bagley (2002), "A method for determination of upper extremity kinematics",
  Gait & Posture 15(2):113–119: the glenohumeral centre lies below the acromion marker ``SHO`` by 17% of the
  acromion–elbow distance, along the thorax's inferior axis (thorax up = mid(C7, CLAV) − mid(T10, STRN)).
* **Wrist** — mid-point of the wrist bar markers ``WRA`` and ``WRB`` (radial and ulnar styloids).
* **Pelvis** — mid-point of the two hip centres (H36M's root).
* **Thorax** — mid-point of ``C7`` and ``CLAV`` (jugular notch): the base of the neck, H36M's "Thorax".
* **Spine** — half-way between pelvis and thorax (H36M's "Spine": its mean pelvis→spine and spine→thorax bone
  lengths, about 233 and 254 mm, put it at 0.48 of the way; :data:`pose3d_cli.skeleton.DERIVED_JOINTS` uses 0.5).
* **Head** and **nose** — from the four head-band markers: head frame with forward = mid-front − mid-back,
  left = mid-left − mid-right, up = forward × left, and head-band size S = mean of the median front–back and
  left–right distances (≈ 140 mm; labs place the four markers differently, some wide, some deep, and the mean
  of the two is stable across them). ``head`` (H36M's head top) = centre of the four markers + 0.6 S up
  (≈ 85 mm: the band sits at the forehead, some 8–10 cm below the vertex); ``nose`` (H36M's "Neck/Nose",
  between nose and chin) = mid-front − 0.6 S up (≈ 85 mm below the front markers, which sit at the temples).
  Documented approximations: on these data thorax→nose comes out at 160–195 mm and nose→head at 180–195 mm,
  longer than H36M's mean bone lengths (≈ 120 and 115 mm), whose "Head" sits below the vertex.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..skeleton import H36M17

#: label → (T, 3) marker trajectory in mm, NaN where missing.
Markers = Mapping[str, np.ndarray]

MARKER_RADIUS_MM = 7.0
KNEE_WIDTH_PER_THIGH = 0.24
ANKLE_WIDTH_PER_SHANK = 0.17
ELBOW_WIDTH_PER_UPPER_ARM = 0.22
SHOULDER_DROP_PER_UPPER_ARM = 0.17  # Rab et al. 2002
HEAD_TOP_RAISE_PER_SIZE = 0.6
NOSE_DROP_PER_SIZE = 0.6
SPINE_FRACTION = 0.5  # pelvis → thorax


# --------------------------------------------------------------------------------------------------- geometry

def _unit(v: np.ndarray) -> np.ndarray:
    """(..., 3) → unit vectors; NaN where the norm is (near) zero."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-9, v / n, np.nan)


def _median_dist(a: np.ndarray, b: np.ndarray) -> float:
    """Median over frames of |a − b|, a and b (T, 3); NaN when no frame has both."""
    d = np.linalg.norm(a - b, axis=-1)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")


def _mid(*points: np.ndarray) -> np.ndarray:
    return np.mean(np.stack(points), axis=0)


def hip_centres_harrington(lasi: np.ndarray, rasi: np.ndarray, lpsi: np.ndarray,
                           rpsi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right hip joint centres (T, 3) from the pelvis markers (T, 3), Harrington et al. 2007.

    The pelvic frame: z towards the right ASIS, x anterior (mid-PSIS → mid-ASIS made ⟂ z), y = z × x superior.
    """
    o = _mid(lasi, rasi)
    back = _mid(lpsi, rpsi)
    z = _unit(rasi - lasi)
    y = _unit(np.cross(z, o - back))
    x = np.cross(y, z)
    pw = _median_dist(rasi, lasi)
    pd = _median_dist(o, back)
    ax, ay, az = -0.24 * pd - 9.9, -0.30 * pw - 10.9, 0.33 * pw + 7.3
    right = o + ax * x + ay * y + az * z
    left = o + ax * x + ay * y - az * z
    return left, right


def chord_centre(proximal: np.ndarray, marker: np.ndarray, medial: np.ndarray, offset: float) -> np.ndarray:
    """Plug-in Gait chord function: the joint centre (T, 3) medial to a lateral joint marker.

    Args:
        proximal: (T, 3) centre of the joint above (hip for the knee, knee for the ankle, shoulder for the elbow).
        marker: (T, 3) lateral marker on the joint (KNE, ANK, ELB).
        medial: (T, 3) any vector pointing medially; only its part ⟂ (proximal − marker) is used. With a lateral
            segment marker S (THI, TIB) it is ``marker − S``: the centre lies in the plane (proximal, marker, S),
            on the side away from S.
        offset: |centre − marker| in mm (half the joint width plus the marker radius).
    Returns:
        (T, 3) J with |J − marker| = offset and (J − marker) ⟂ (proximal − J); NaN where degenerate.
    """
    u = _unit(proximal - marker)
    length = np.linalg.norm(proximal - marker, axis=-1, keepdims=True)
    w = _unit(_perp(medial, u))
    with np.errstate(invalid="ignore"):
        cos_a = np.where(length > offset, offset / length, np.nan)
    sin_a = np.sqrt(1.0 - cos_a**2)
    return marker + offset * (cos_a * u + sin_a * w)


def _perp(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Part of v (..., 3) perpendicular to the unit vectors u (..., 3)."""
    return v - np.sum(v * u, axis=-1, keepdims=True) * u


def elbow_medial(sjc: np.ndarray, elb: np.ndarray, wjc: np.ndarray, upa: np.ndarray, side: str) -> np.ndarray:
    """Medial direction (T, 3) of the elbow flexion axis, for :func:`chord_centre`.

    When the elbow is flexed, the flexion axis is the normal of the arm plane (SJC, ELB, WJC); the elbow only
    flexes one way, so its medial sense is fixed: ``(S − E) × (W − E)`` for the right arm, the opposite for the
    left. Near full extension that normal is undefined, so the direction blends (by sin of the flexion angle,
    from 0.15 to 0.35) into "away from the upper-arm marker UPA" (a lateral marker, like THI for the knee).
    """
    u = _unit(sjc - elb)
    fore = wjc - elb
    sin_flex = np.linalg.norm(_perp(fore, u), axis=-1, keepdims=True) / np.linalg.norm(fore, axis=-1, keepdims=True)
    normal = _unit(np.cross(sjc - elb, fore)) * (1.0 if side == "R" else -1.0)
    away_from_upa = _unit(_perp(elb - upa, u))
    a = np.clip((sin_flex - 0.15) / 0.2, 0.0, 1.0)
    return np.where(a > 0, a * normal, 0.0) + np.where(a < 1, (1.0 - a) * away_from_upa, 0.0)


def shoulder_centre_rab(sho: np.ndarray, elb: np.ndarray, thorax_up: np.ndarray) -> np.ndarray:
    """Glenohumeral centre (T, 3): SHO lowered along the thorax by 0.17 × median |SHO − ELB| (Rab et al. 2002)."""
    return sho - SHOULDER_DROP_PER_UPPER_ARM * _median_dist(sho, elb) * thorax_up


def head_points(lfhd: np.ndarray, rfhd: np.ndarray, lbhd: np.ndarray,
                rbhd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(head top, neck/nose), each (T, 3), from the four head-band markers (see the module notes)."""
    front, back = _mid(lfhd, rfhd), _mid(lbhd, rbhd)
    left_mid, right_mid = _mid(lfhd, lbhd), _mid(rfhd, rbhd)
    forward = _unit(front - back)
    up = _unit(np.cross(forward, _unit(left_mid - right_mid)))
    size = 0.5 * (_median_dist(front, back) + _median_dist(left_mid, right_mid))
    centre = _mid(front, back)
    return centre + HEAD_TOP_RAISE_PER_SIZE * size * up, front - NOSE_DROP_PER_SIZE * size * up


# ---------------------------------------------------------------------------------------------- the builders

class MissingMarkers(KeyError):
    """A builder needs marker labels that the data lacks."""


class _Markers:
    """Marker lookup by role, through a preset's aliases (role → candidate labels, first present wins)."""

    def __init__(self, markers: Markers, aliases: Mapping[str, tuple[str, ...]]):
        self._markers = markers
        self._aliases = aliases

    def label(self, role: str) -> str | None:
        for name in self._aliases.get(role, (role,)):
            if name in self._markers:
                return name
        return None

    def __call__(self, role: str) -> np.ndarray:
        name = self.label(role)
        if name is None:
            raise MissingMarkers(role)
        return np.asarray(self._markers[name], dtype=np.float64)


def _thorax(m: _Markers) -> np.ndarray:
    return _mid(m("C7"), m("CLAV"))


def _thorax_up(m: _Markers) -> np.ndarray:
    return _unit(_thorax(m) - _mid(m("T10"), m("STRN")))


def _upper_body(m: _Markers) -> dict[str, Callable[[], np.ndarray]]:
    """Lazy builders of the trunk, head and arm joints from Plug-in Gait roles."""
    cache: dict[str, np.ndarray] = {}

    def head_pair() -> tuple[np.ndarray, np.ndarray]:
        if "head" not in cache:
            cache["head"], cache["nose"] = head_points(m("LFHD"), m("RFHD"), m("LBHD"), m("RBHD"))
        return cache["head"], cache["nose"]

    def shoulder(s: str) -> np.ndarray:
        key = f"{s}SJC"
        if key not in cache:
            cache[key] = shoulder_centre_rab(m(f"{s}SHO"), m(f"{s}ELB"), _thorax_up(m))
        return cache[key]

    def elbow(s: str) -> np.ndarray:
        sjc, elb, wjc = shoulder(s), m(f"{s}ELB"), wrist(s)
        d = 0.5 * ELBOW_WIDTH_PER_UPPER_ARM * _median_dist(m(f"{s}SHO"), elb) + MARKER_RADIUS_MM
        return chord_centre(sjc, elb, elbow_medial(sjc, elb, wjc, m(f"{s}UPA"), s), d)

    def wrist(s: str) -> np.ndarray:
        return _mid(m(f"{s}WRA"), m(f"{s}WRB"))

    out: dict[str, Callable[[], np.ndarray]] = {
        "thorax": lambda: _thorax(m),
        "head": lambda: head_pair()[0],
        "nose": lambda: head_pair()[1],
    }
    for s, side in (("L", "left"), ("R", "right")):
        out[f"{side}_shoulder"] = lambda s=s: shoulder(s)
        out[f"{side}_elbow"] = lambda s=s: elbow(s)
        out[f"{side}_wrist"] = lambda s=s: wrist(s)
    return out


def _with_pelvis_and_spine(joints: dict[str, Callable[[], np.ndarray]]) -> dict[str, Callable[[], np.ndarray]]:
    """Add the pelvis (mid-hips) and spine (pelvis → thorax) builders to the hip and thorax builders."""

    def pelvis() -> np.ndarray:
        return _mid(joints["left_hip"](), joints["right_hip"]())

    def spine() -> np.ndarray:
        p = pelvis()
        return p + SPINE_FRACTION * (joints["thorax"]() - p)

    joints["pelvis"], joints["spine"] = pelvis, spine
    return joints


def _marker_builders(m: _Markers) -> dict[str, Callable[[], np.ndarray]]:
    """Lazy builders of all 17 joints from Plug-in Gait roles (hip, knee, ankle by regression and chords)."""
    cache: dict[str, np.ndarray] = {}

    def hips() -> tuple[np.ndarray, np.ndarray]:
        if "L" not in cache:
            cache["L"], cache["R"] = hip_centres_harrington(m("LASI"), m("RASI"), m("LPSI"), m("RPSI"))
        return cache["L"], cache["R"]

    def hip(s: str) -> np.ndarray:
        return hips()[0 if s == "L" else 1]

    def knee(s: str) -> np.ndarray:
        key = f"{s}KJC"
        if key not in cache:
            h, kne = hip(s), m(f"{s}KNE")
            d = 0.5 * KNEE_WIDTH_PER_THIGH * _median_dist(h, kne) + MARKER_RADIUS_MM
            cache[key] = chord_centre(h, kne, kne - m(f"{s}THI"), d)
        return cache[key]

    def ankle(s: str) -> np.ndarray:
        k, ank = knee(s), m(f"{s}ANK")
        d = 0.5 * ANKLE_WIDTH_PER_SHANK * _median_dist(k, ank) + MARKER_RADIUS_MM
        return chord_centre(k, ank, ank - m(f"{s}TIB"), d)

    joints = _upper_body(m)
    for s, side in (("L", "left"), ("R", "right")):
        joints[f"{side}_hip"] = lambda s=s: hip(s)
        joints[f"{side}_knee"] = lambda s=s: knee(s)
        joints[f"{side}_ankle"] = lambda s=s: ankle(s)
    return _with_pelvis_and_spine(joints)


def _stored_centre_builders(m: _Markers) -> dict[str, Callable[[], np.ndarray]]:
    """Lazy builders: stored hip/knee/ankle centres (``LHJC`` ...) plus the Plug-in Gait upper body."""
    joints = _upper_body(m)
    for s, side in (("L", "left"), ("R", "right")):
        joints[f"{side}_hip"] = lambda s=s: m(f"{s}HJC")
        joints[f"{side}_knee"] = lambda s=s: m(f"{s}KJC")
        joints[f"{side}_ankle"] = lambda s=s: m(f"{s}AJC")
    return _with_pelvis_and_spine(joints)


# ----------------------------------------------------------------------------------------------- the presets

_PELVIS = ("LASI", "RASI", "LPSI", "RPSI")
_TRUNK = ("C7", "CLAV")
_HEAD = ("LFHD", "RFHD", "LBHD", "RBHD")


def _sides(*stems: str) -> dict[str, tuple[str, ...]]:
    return {side: tuple(f"{s}{stem}" for stem in stems) for s, side in (("L", "left"), ("R", "right"))}


def _marker_requirements(hip: tuple[str, ...], knee: dict[str, tuple[str, ...]],
                         ankle: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Joint → the roles it is built from (directly or through the joints it depends on)."""
    arm_sho = _sides("SHO", "ELB")
    req: dict[str, tuple[str, ...]] = {"pelvis": hip, "thorax": _TRUNK, "head": _HEAD, "nose": _HEAD,
                                       "spine": hip + _TRUNK}
    for side in ("left", "right"):
        req[f"{side}_hip"] = hip
        req[f"{side}_knee"] = hip + knee[side]
        req[f"{side}_ankle"] = hip + knee[side] + ankle[side]
        req[f"{side}_shoulder"] = arm_sho[side] + _TRUNK + ("T10", "STRN")
        req[f"{side}_elbow"] = req[f"{side}_shoulder"] + _sides("UPA", "WRA", "WRB")[side]
        req[f"{side}_wrist"] = _sides("WRA", "WRB")[side]
    return req


@dataclass(frozen=True)
class MarkerSet:
    """A marker-set preset.

    Attributes:
        name: registry key.
        description: one line for ``pose3d info``.
        signature: roles that must all be present for :func:`detect_markerset` to pick this preset.
        aliases: role → candidate labels in this set (first present wins); roles not listed are labels.
        requires: h36m17 joint → roles it is built from.
        builders: makes the lazy joint builders from a role lookup.
    """

    name: str
    description: str
    signature: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    requires: Mapping[str, tuple[str, ...]]
    builders: Callable[[_Markers], dict[str, Callable[[], np.ndarray]]] = field(repr=False)

    def lookup(self, markers: Markers) -> _Markers:
        return _Markers(markers, self.aliases)

    def matches(self, labels: Iterable[str]) -> bool:
        lookup = self.lookup(dict.fromkeys(labels))
        return all(lookup.label(r) is not None for r in self.signature)


_PIG_ALIASES = {"LPSI": ("LPSI", "SACR"), "RPSI": ("RPSI", "SACR")}
_CMU_ALIASES = {"LASI": ("LFWT",), "RASI": ("RFWT",), "LPSI": ("LBWT",), "RPSI": ("RBWT",),
                "LTIB": ("LSHN",), "RTIB": ("RSHN",)}
_JC = ("LHJC", "RHJC", "LKJC", "RKJC", "LAJC", "RAJC")

_MARKER_REQ = _marker_requirements(_PELVIS, _sides("KNE", "THI"), _sides("ANK", "TIB"))
_JC_REQ = {**_marker_requirements((), {"left": (), "right": ()}, {"left": (), "right": ()}),
           "pelvis": ("LHJC", "RHJC"), "spine": ("LHJC", "RHJC") + _TRUNK,
           "left_hip": ("LHJC",), "right_hip": ("RHJC",), "left_knee": ("LKJC",), "right_knee": ("RKJC",),
           "left_ankle": ("LAJC",), "right_ankle": ("RAJC",)}

#: Preset name → :class:`MarkerSet`, in detection order.
MARKERSETS: dict[str, MarkerSet] = {
    ms.name: ms
    for ms in (
        MarkerSet("joint_centres", "stored hip/knee/ankle centres (LHJC LKJC LAJC ...) + Plug-in Gait upper body",
                  _JC, {}, _JC_REQ, _stored_centre_builders),
        MarkerSet("plug_in_gait", "Vicon Plug-in Gait full body (LASI RASI LPSI/SACR LTHI LKNE LTIB LANK ...)",
                  _PELVIS + ("LKNE", "RKNE", "LANK", "RANK", "LTHI", "RTHI", "LTIB", "RTIB"),
                  _PIG_ALIASES, _MARKER_REQ, _marker_builders),
        MarkerSet("cmu41", "CMU 41-marker set (LFWT RFWT LBWT RBWT LTHI LKNE LSHN LANK ...)",
                  _PELVIS + ("LKNE", "RKNE", "LANK", "RANK", "LTHI", "RTHI", "LTIB", "RTIB"),
                  _CMU_ALIASES, _MARKER_REQ, _marker_builders),
    )
}


def get_markerset(name: str) -> MarkerSet:
    """The preset called ``name`` (KeyError with the known names otherwise)."""
    try:
        return MARKERSETS[name]
    except KeyError:
        raise KeyError(f"unknown marker set {name!r}; known: {', '.join(MARKERSETS)}") from None


def detect_markerset(labels: Iterable[str]) -> str | None:
    """Name of the first preset whose signature labels are all in ``labels``, else None."""
    labels = set(labels)
    for ms in MARKERSETS.values():
        if ms.matches(labels):
            return ms.name
    return None


def missing_markers(markers: Markers | Iterable[str], markerset: str | MarkerSet,
                    joints: Iterable[str] = H36M17.joints) -> dict[str, tuple[str, ...]]:
    """Joint → the marker labels it needs that ``markers`` lacks (``A/B``: either); empty when all can be built."""
    ms = markerset if isinstance(markerset, MarkerSet) else get_markerset(markerset)
    lookup = ms.lookup(markers if isinstance(markers, Mapping) else dict.fromkeys(markers))
    out = {}
    for j in joints:
        absent = tuple(dict.fromkeys("/".join(ms.aliases.get(r, (r,))) for r in ms.requires[j]
                                     if lookup.label(r) is None))
        if absent:
            out[j] = absent
    return out


def build_partial(markers: Markers, markerset: str | MarkerSet,
                  joints: Iterable[str] = H36M17.joints) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
    """Build the joints the markers allow.

    Args:
        markers: label → (T, 3) mm, NaN where missing.
        markerset: preset name or object.
        joints: h36m17 joint names to build.
    Returns:
        (joint → (T, 3) centre, joint → missing roles) — each requested joint is in exactly one of the two.
    """
    ms = markerset if isinstance(markerset, MarkerSet) else get_markerset(markerset)
    missing = missing_markers(markers, ms, joints)
    builders = ms.builders(ms.lookup(markers))
    built = {j: builders[j]() for j in joints if j not in missing}
    return built, missing


def build_joints(markers: Markers, markerset: str | MarkerSet) -> np.ndarray:
    """All 17 h36m17 joints, (T, 17, 3) mm in ``H36M17.joints`` order.

    Raises:
        MissingMarkers: with the dict joint → missing roles as its argument, when some joint cannot be built.
    """
    built, missing = build_partial(markers, markerset)
    if missing:
        raise MissingMarkers(missing)
    return np.stack([built[j] for j in H36M17.joints], axis=1)
