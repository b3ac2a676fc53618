"""Every convention RULA/REBA leave open, and what 17 joints cannot see, as named options with defaults.

Two kinds of settings:

- **conventions** (:class:`Conventions`): how an angle is turned into a band. The methods draw postures and
  give ranges ("0–20°"), not geometry; each choice here is stated, with its default, and printed in outputs.
- **observations** (:class:`Observations`): what a 17-joint skeleton does not show (wrist, wrist twist,
  load, coupling, arm support, sitting, neck twist ...). The defaults assume the *least* risk (neutral wrist,
  no load, good coupling ...), so a score is a **lower bound** with respect to these factors: set them per
  video and per time span in a YAML file (:func:`load_segments`).

Segments YAML (``--observations obs.yaml``)::

    # per video (defaults for the whole clip)
    wrist: 2            # RULA wrist posture score 1..3 (REBA wrist is derived: 1 if RULA 1-2, else 2)
    neck_flexion_deg: 25  # the neck as the ergonomist sees it, where the phone faced the worker head-on
    load_kg: 4
    segments:           # per time span (seconds, [start, end)), overriding the keys they give
      - {start: 12.0, end: 30.5, load_kg: 12, load_mode: repeated, coupling: poor}
      - {start: 40, end: 55, sitting: true}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..errors import Pose3dError


#: the body angle each ``trunk_angle`` convention scores
TRUNK_KEYS = {"sagittal": "trunk_flexion", "3d": "trunk_inclination", "lean": "trunk_lean"}


@dataclass(frozen=True)
class Conventions:
    """How angles become bands (see module doc). Defaults in brackets are printed in every output."""

    #: the upper arm angle scored: "3d" [default] = elevation of the arm from the trunk whatever the plane,
    #: signed extension only when the arm points backwards more than sideways (an arm raised sideways is
    #: raised); "sagittal" = the flexion/extension component only (the literal drawing of the methods).
    upper_arm_angle: str = "3d"
    #: the upper arm relative to the "trunk" [default, as RULA/REBA] or to the "vertical".
    upper_arm_reference: str = "trunk"
    #: the trunk angle scored: "lean" [default] = the angle out of the pelvis' frontal plane (the same as the
    #: sagittal flexion for a sagittal bend; less amplified by a large side bend, body/frame.py); "sagittal" =
    #: flexion/extension in the pelvis' sagittal plane (side bending is its own adjustment); "3d" = the full
    #: inclination from the vertical.
    trunk_angle: str = "lean"
    #: REBA leg knee adjustment from the "max" [default] (the more flexed knee: "knee(s)") or the "support"
    #: knee (the weight-bearing leg: the lower ankle).
    knee: str = "max"
    #: band edges: "le" [default] = an edge value gets the lesser score ("0–20°" includes 20°, ">20°" starts
    #: above; the lower arm's "60–100°" includes both 60° and 100°); "lt" = it gets the greater score (the
    #: conservative reading: 20° is ">20°"'s, 60° and 100° are outside the lower arm's neutral range).
    edges: str = "le"
    #: dead band around 0 for an "upright" trunk (degrees) [5]
    upright_deg: float = 5.0
    #: dead band around 0 for a "neutral" neck: extension counts only beyond it (degrees) [5]
    neutral_neck_deg: float = 5.0
    #: neck neutral offset of the skeleton (head − thorax vs the trunk axis when upright) [10]: the h36m17
    #: head joint sits in front of the trunk line; measured medians on upright, arms-down frames of mocap
    #: converted to h36m17: 11.4° (4 Bandai Namco walks), 6.9° (3 CMU takes) — not on any video we report
    neck_neutral_deg: float = 10.0
    #: where the neck's neutral comes from: "auto" [default] = "face" for a multi-view reference (its head joint is
    #: the detector's ears' mid-point, whose offset from the trunk line is the person's own: 36 deg on the shared
    #: pose2sim worker, whose head is upright), "fixed" for lifted poses (their head is the mocap head top);
    #: "fixed" = ``neck_neutral_deg``; "face" = per person, from the face points in the joints' own 3D
    #: (:func:`pose3d_cli.body.frame.neck_neutral_from_face`; ``neck_neutral_deg`` where fewer than 10 frames
    #: have a plausible face)
    neck_neutral: str = "auto"
    #: the ears → eyes line's rise above the Frankfort horizontal in a neutral head (degrees) [7], for "face"
    face_line_rise_deg: float = 7.0
    #: twisting and side bending count as "twisted"/"side bent" beyond these (degrees) [10, 10]
    twist_deg: float = 10.0
    side_bend_deg: float = 10.0
    #: upper arm "abducted" beyond this abduction (degrees) [20]; shoulder "raised" beyond this raise [10]
    abduction_deg: float = 20.0
    shoulder_raise_deg: float = 10.0
    #: shoulder raise measured from "median" [default] (the clip's own median for that side: the shoulder's
    #: rest height relative to the thorax differs between skeletons and lifts, from −12° to +12° on what we saw;
    #: a shoulder held raised for the whole clip is then not seen) or from "zero" (the plane normal to the trunk)
    shoulder_raise_ref: str = "median"
    #: one foot "raised" (unilateral weight bearing) when the ankles differ by more than this along up (mm) [100]
    foot_raise_mm: float = 100.0
    #: RULA trunk in extension (not covered by the 1993 text): "2" [default] = scored as the first
    #: non-neutral band; "magnitude" = |angle| in the flexion bands; "upright" = scored 1.
    rula_trunk_extension: str = "2"
    #: RULA lower arm "across the midline or out to the side" (+1): "auto" [default] = from the wrist's
    #: position (beyond the body midline, or further out than 2 shoulder half-widths from the midline); "0"/"1" = forced.
    lower_arm_adjust: str = "auto"
    #: flag a frame "near a band edge" when moving any one angle by ± this many degrees changes its score [5]
    edge_margin_deg: float = 5.0
    #: the detector's hand and face points (:mod:`pose3d_cli.ergo.hands`): "auto" = RULA/REBA wrist and neck twist
    #: from them where present and reliable, else from the observation options; "off" [default] = the options only
    #: (the angles are still measured and written): on pose2sim the monocular angles did not follow the 4-view
    #: triangulation (RMSE 9-35 deg, correlation ~0; README), and where they decided a band they were mostly wrong
    hand_points: str = "off"
    #: a hand/face angle is used only when every point it needs has at least this 2D confidence [0.5]
    hand_min_conf: float = 0.5
    #: a measured hand/face band is used only where ± this many degrees keep it in the same band [20: the
    #: typical error of the monocular angles vs the 4-view triangulation, pose2sim dev split]; 0 = always
    hand_margin_deg: float = 20.0
    #: RULA wrist "neutral" dead band (degrees of flexion/extension) [5]
    wrist_neutral_deg: float = 5.0
    #: wrist "bent from the midline" beyond this deviation (degrees) [15], used only when
    #: ``wrist_deviation_measured`` [False: the measured deviation is not reliable enough, README]
    wrist_deviation_deg: float = 15.0
    wrist_deviation_measured: bool = False
    #: neck "twisted" beyond this head yaw relative to the trunk (degrees) [10]
    neck_twist_deg: float = 10.0

    @property
    def trunk_key(self) -> str:
        """The angle name (:mod:`pose3d_cli.body.frame`) that the trunk bands read."""
        return TRUNK_KEYS[self.trunk_angle]

    @property
    def upper_arm_key(self) -> str:
        """The angle name, less its ``_left``/``_right``, that the upper-arm bands read."""
        return "upper_arm_elevation" if self.upper_arm_angle == "3d" else "upper_arm_flexion"

    def __post_init__(self) -> None:
        choices = {"upper_arm_angle": ("3d", "sagittal"), "upper_arm_reference": ("trunk", "vertical"),
                   "trunk_angle": tuple(TRUNK_KEYS), "knee": ("max", "support"), "edges": ("le", "lt"),
                   "rula_trunk_extension": ("2", "magnitude", "upright"), "lower_arm_adjust": ("auto", "0", "1"),
                   "shoulder_raise_ref": ("median", "zero"), "hand_points": ("auto", "off"),
                   "neck_neutral": ("auto", "fixed", "face")}
        for k, allowed in choices.items():
            if getattr(self, k) not in allowed:
                raise Pose3dError(f"{k} {getattr(self, k)!r}: unknown value; use one of {', '.join(allowed)}")
        for f in fields(self):
            if f.type in ("float", float) and not np.isfinite(getattr(self, f.name)) or (
                    f.type in ("float", float) and getattr(self, f.name) < 0 and f.name not in SIGNED):
                raise Pose3dError(f"{f.name}={getattr(self, f.name)!r}: must be a non-negative number")


#: the conventions' numbers that may be negative (a skeleton's head joint behind its trunk line)
SIGNED = ("neck_neutral_deg",)


@dataclass(frozen=True)
class Observations:
    """What the joints cannot see; defaults assume the least risk (scores are lower bounds for these)."""

    wrist: int = 1  #: RULA wrist posture 1 neutral, 2 0–15° flexion/extension, 3 >15° [1]
    wrist_deviated: bool = False  #: wrist bent from the midline (radial/ulnar deviation) [+0]
    wrist_twist: int = 1  #: RULA wrist twist 1 mid-range, 2 at or near the end of range [1]
    load_kg: float = 0.0  #: load or force handled [0]
    load_mode: str = "intermittent"  #: intermittent | static | repeated (RULA force score) [intermittent]
    shock: bool = False  #: shock or rapid build-up of force [no]
    coupling: str = "good"  #: REBA coupling good | fair | poor | unacceptable [good]
    arm_supported: bool = False  #: arm supported or person leaning (−1 upper arm) [no]
    sitting: bool = False  #: seated (legs supported; REBA: no knee adjustment) [no]
    #: seated with the back well supported (RULA: trunk 1 "if sitting and well supported with a hip-trunk angle of
    #: 90° or more", i.e. where the trunk is not bent forward beyond the upright dead band; only where sitting) [no]
    back_supported: bool = False
    neck_twist: bool = False  #: neck twisted (+1) [no: not observable from 17 joints]
    #: the neck's forward bend in degrees (negative: extension) where the video cannot show it, e.g. a phone facing
    #: the worker head-on (ergo warns): replaces the measured neck flexion in the scores [None: measured]
    neck_flexion_deg: float | None = None
    unstable_base: bool = False  #: REBA activity: unstable base (+1) [no]

    def __post_init__(self) -> None:
        for f in fields(self):  # YAML gives strings for typos (sitting: maybe, load_kg: heavy): say which key
            v = getattr(self, f.name)
            if f.type in ("bool", bool) and not isinstance(v, (bool, np.bool_)):
                raise Pose3dError(f"{f.name}={v!r}: must be true or false")
            if f.type in ("int", int) and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
                raise Pose3dError(f"{f.name}={v!r}: must be a whole number")
            if f.type in ("float", float) and (isinstance(v, bool) or not isinstance(v, (int, float, np.number))):
                raise Pose3dError(f"{f.name}={v!r}: must be a number")
            if f.type in ("str", str) and not isinstance(v, str):
                raise Pose3dError(f"{f.name}={v!r}: must be a word (see `pose3d ergo --help`)")
        if self.wrist not in (1, 2, 3):
            raise Pose3dError(f"wrist={self.wrist!r}: the RULA wrist posture score is 1, 2 or 3")
        if self.wrist_twist not in (1, 2):
            raise Pose3dError(f"wrist_twist={self.wrist_twist!r}: 1 (mid-range) or 2 (end of range)")
        if self.load_mode not in ("intermittent", "static", "repeated"):
            raise Pose3dError(f"load_mode={self.load_mode!r}: use intermittent, static or repeated")
        if self.coupling not in COUPLING:
            raise Pose3dError(f"coupling={self.coupling!r}: use one of {', '.join(COUPLING)}")
        if not (np.isfinite(self.load_kg) and self.load_kg >= 0):
            raise Pose3dError(f"load_kg={self.load_kg!r}: must be a non-negative number of kilograms")
        v = self.neck_flexion_deg
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v)
                              or not -60 <= v <= 90):
            raise Pose3dError(f"neck_flexion_deg={v!r}: a number of degrees from -60 (extension) to 90, or leave it "
                              "out to use the measured neck")


COUPLING = {"good": 0, "fair": 1, "poor": 2, "unacceptable": 3}


@dataclass
class Segments:
    """Per-video observations and per-time-span overrides."""

    base: Observations = field(default_factory=Observations)
    spans: list[tuple[float, float, dict]] = field(default_factory=list)

    def per_frame(self, time_s: np.ndarray) -> list[Observations]:
        """One Observations per frame (the last span covering a frame wins)."""
        out = [self.base] * len(time_s)
        for start, end, over in self.spans:
            o = replace(self.base, **over)
            for i in np.flatnonzero((time_s >= start) & (time_s < end)):
                out[i] = o
        return out

    def describe(self) -> dict:
        return {"video": asdict(self.base), "segments": [{"start": a, "end": b, **o} for a, b, o in self.spans]}


_OBS_KEYS = {f.name: f.type for f in fields(Observations)}


def _check_keys(d: dict, where: str) -> dict:
    bad = sorted(set(d) - set(_OBS_KEYS))
    if bad:
        raise Pose3dError(f"{where}: unknown key {bad[0]!r}; known: {', '.join(_OBS_KEYS)}")
    return d


def load_segments(path: str | Path | None, **overrides) -> Segments:
    """Read the observations YAML (module doc); ``overrides`` (from the command line) replace per-video keys."""
    data: dict = {}
    if path is not None:
        import yaml

        from ..config import yaml_loader

        p = Path(path)
        if not p.is_file():
            raise Pose3dError(f"{p}: no such observations file; give a YAML file (see `pose3d ergo --help`)")
        try:
            data = yaml.load(p.read_text(encoding="utf-8"), Loader=yaml_loader())  # 12e3 is a number, as in YAML 1.2
        except UnicodeDecodeError:
            raise Pose3dError(f"{p}: not a text file; give the observations as YAML "
                              "(examples/observations.yaml)") from None
        except yaml.YAMLError as e:
            raise Pose3dError(f"{p}: not valid YAML ({str(e).splitlines()[0]}); fix the file") from None
        if data is None:
            raise Pose3dError(f"{p}: empty observations file; add keys (examples/observations.yaml) or leave "
                              "--observations out")
        if not isinstance(data, dict):
            raise Pose3dError(f"{p}: expected a mapping of options (wrist: 2, segments: [...])")
    spans_raw = data.pop("segments", []) or []
    where = str(path) if path else "options"
    base_kw = {**_check_keys(data, where), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        base = Observations(**base_kw)
    except (TypeError, Pose3dError) as e:
        raise Pose3dError(f"{where}: {e}") from None
    spans = []
    if not isinstance(spans_raw, list):
        raise Pose3dError(f"{where}: segments must be a list of {{start, end, ...}}")
    for k, s in enumerate(spans_raw):
        if not isinstance(s, dict) or "start" not in s or "end" not in s:
            raise Pose3dError(f"{where}: segment {k + 1} needs start and end (seconds)")
        s = dict(s)
        try:
            start, end = float(s.pop("start")), float(s.pop("end"))
        except (TypeError, ValueError):
            raise Pose3dError(f"{where}: segment {k + 1}: start and end must be numbers of seconds") from None
        if not end > start:
            raise Pose3dError(f"{where}: segment {k + 1}: end ({end}) must be after start ({start})")
        _check_keys(s, f"{where}: segment {k + 1}")
        try:
            replace(base, **s)  # validates the values now
        except Pose3dError as e:
            raise Pose3dError(f"{where}: segment {k + 1}: {e}") from None
        spans.append((start, end, s))
    return Segments(base, spans)


def band(x: np.ndarray, edges: list[float], scores: list[int], mode: str = "le") -> np.ndarray:
    """Score of ``x`` (...) in bands: ``scores[0]`` below ``edges[0]``, ``scores[i]`` between edges i-1 and i,
    ``scores[-1]`` above the last edge. ``mode`` "le": an edge value belongs to the band below it; "lt": to
    the band above. NaN in → NaN out. Returns float array (NaN-capable)."""
    x = np.asarray(x, dtype=np.float64)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="left" if mode == "le" else "right")
    out = np.asarray(scores, dtype=np.float64)[idx]
    return np.where(np.isnan(x), np.nan, out)


def lookup(table: np.ndarray, *scores: np.ndarray) -> np.ndarray:
    """``table[s1 - 1, s2 - 1, ...]`` for float score arrays (each clipped to the table's size); NaN where any
    score is NaN."""
    scores = np.broadcast_arrays(*[np.asarray(s, dtype=np.float64) for s in scores])
    ok = np.all([np.isfinite(s) for s in scores], axis=0)
    idx = tuple(np.clip(np.where(ok, s, 1).astype(np.int64), 1, n) - 1 for s, n in zip(scores, table.shape))
    return np.where(ok, table[idx].astype(np.float64), np.nan)


def observation_arrays(segments: "Segments", time_s: np.ndarray) -> dict[str, np.ndarray]:
    """(T,) arrays of every observation for frames at ``time_s`` (spans override the per-video values)."""
    T = len(time_s)
    out = {k: np.full(T, v, dtype=object if isinstance(v, str) else None) for k, v in asdict(segments.base).items()}
    for start, end, over in segments.spans:
        m = (time_s >= start) & (time_s < end)
        for k, v in over.items():
            out[k][m] = v
    return out
