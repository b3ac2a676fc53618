"""Name presets: how each source skeleton's joints build the canonical ``h36m17`` joints.

Each preset maps a target joint to a source joint name, a list of names (their mean) or
``{"joints": [...], "weights": [...]}`` (a weighted sum: weights that add to 1 interpolate,
others extrapolate). :func:`detect_preset` picks the first preset whose names a file has.

Where a mocap joint differs from what a detector calls the same joint:
- hips: mocap hip *joint centres* (``LeftUpLeg``, ``UpperLeg_L``) sit inside the pelvis; COCO/BlazePose "hip"
  keypoints sit on the skin near the greater trochanter, a few centimetres higher and wider.
- ``nose`` (H36M "Neck/Nose") is the mocap head joint (base of the skull, about nose height).
- ``head`` is the top of the head: a head End Site where it has length, else extrapolated from neck → head.
- shoulders are the glenohumeral joints (``LeftArm``/``UpperArm_L``), not the clavicle joints.
"""

from __future__ import annotations

from pathlib import Path

from .motion import MappingEntry, MocapError, load_mapping


def _sides(template: dict[str, str], left: str, right: str) -> dict[str, MappingEntry]:
    """Expand ``{"hip": "{S}UpLeg"}`` into left_/right_ entries, ``{S}`` replaced by the side token."""
    out: dict[str, MappingEntry] = {}
    for stem, pattern in template.items():
        out[f"left_{stem}"] = pattern.format(S=left)
        out[f"right_{stem}"] = pattern.format(S=right)
    return out


def _head_from(neck: str, head: str, k: float) -> dict:
    """Head top extrapolated ``k`` neck→head lengths beyond the head joint."""
    return {"joints": [head, neck], "weights": [1.0 + k, -k]}


CMU_LWRIST_OVER_LRADIUS = 0.5  # CMU ASF skeletons: lwrist is half of lradius, along the same axis


def _cmu_wrists(hand: str, elbow: str) -> dict[str, MappingEntry]:
    """CMU BVH wrists: the hand joint (lradius's end) carried on by the dropped lwrist segment."""
    k = CMU_LWRIST_OVER_LRADIUS
    return {f"{side.lower()}_wrist": {"joints": [hand.format(S=side), elbow.format(S=side)], "weights": [1.0 + k, -k]}
            for side in ("Left", "Right")}


PRESETS: dict[str, dict[str, MappingEntry]] = {
    # CMU, MotionBuilder-friendly conversion (01_01 ...): LeftShoulder is the clavicle, LeftArm the shoulder.
    # Both CMU BVH conversions drop the ASF's lwrist segment (the hand's child sits at offset 0 0 0), so their
    # hand joint is lradius's end: forearm/upper arm 0.66-0.77 against 0.92-0.95 for HDM05 (asf_cmu) and Bandai
    # and 0.91/1.01 for the 4-view BlazePose reference. The wrist is restored as in asf_cmu (lwrist's end): CMU
    # ASFs give lwrist half lradius's length along the same axis (HDM05 .asf: 1.50195 = 3.00391 / 2)
    "cmu_motionbuilder": {
        "pelvis": ["LeftUpLeg", "RightUpLeg"],
        "spine": "Spine",
        "thorax": ["Neck", "Neck1"],  # CMU's Neck joint sits below the shoulders, Neck1 above
        "nose": "Head",
        "head": "Head_end",
        **_sides({"hip": "{S}UpLeg", "knee": "{S}Leg", "ankle": "{S}Foot", "shoulder": "{S}Arm",
                  "elbow": "{S}ForeArm"}, "Left", "Right"),
        **_cmu_wrists("{S}Hand", "{S}ForeArm"),
    },
    # CMU, 3dsMax-friendly conversion (131_01 ...): LeftCollar is the clavicle, LeftShoulder the shoulder
    "cmu_3dsmax": {
        "pelvis": ["LeftHip", "RightHip"],
        "spine": "Chest",
        # lowerneck (the clavicles' pivot) and Neck are the MotionBuilder conversion's Neck and Neck1: the same
        # mean keeps the thorax at one anatomical point across both CMU conversions (Neck alone moves with the
        # neck's flexion, making the thorax-shoulder bones vary by 4%)
        "thorax": ["lowerneck", "Neck"],
        "nose": "Head",
        "head": "Head_end",
        **_sides({"hip": "{S}Hip", "knee": "{S}Knee", "ankle": "{S}Ankle", "shoulder": "{S}Shoulder",
                  "elbow": "{S}Elbow"}, "Left", "Right"),
        **_cmu_wrists("{S}Wrist", "{S}Elbow"),
    },
    # Bandai Namco Research Motion: the head End Site has zero length, so the head top is extrapolated
    "bandai_namco": {
        "pelvis": ["UpperLeg_L", "UpperLeg_R"],
        "spine": "Spine",
        "thorax": {"joints": ["Neck", "Chest"], "weights": [0.75, 0.25]},  # shoulder height
        "nose": _head_from("Neck", "Head", 0.5),
        "head": _head_from("Neck", "Head", 2.5),
        **_sides({"hip": "UpperLeg_{S}", "knee": "LowerLeg_{S}", "ankle": "Foot_{S}", "shoulder": "UpperArm_{S}",
                  "elbow": "LowerArm_{S}", "wrist": "Hand_{S}"}, "L", "R"),
    },
    # Mixamo rigs
    "mixamo": {
        "pelvis": ["mixamorig:LeftUpLeg", "mixamorig:RightUpLeg"],
        "spine": "mixamorig:Spine1",
        "thorax": "mixamorig:Neck",
        "nose": "mixamorig:Head",
        "head": "mixamorig:HeadTop_End",
        **_sides({"hip": "mixamorig:{S}UpLeg", "knee": "mixamorig:{S}Leg", "ankle": "mixamorig:{S}Foot",
                  "shoulder": "mixamorig:{S}Arm", "elbow": "mixamorig:{S}ForeArm", "wrist": "mixamorig:{S}Hand"},
                 "Left", "Right"),
    },
    # Acclaim ASF/AMC, CMU-style skeleton (CMU, HDM05): amc.py names each point after the bone that *ends* there
    # (lfemur = knee, lhumerus = elbow, lclavicle = shoulder). The forearm is lradius + lwrist (lwrist continues
    # along the radius and carries the forearm twist): the wrist is lwrist's end (HDM05: forearm/upper arm 0.93;
    # lradius's end alone would give 0.62)
    "asf_cmu": {
        "pelvis": ["lhipjoint", "rhipjoint"],
        "spine": "lowerback",
        "thorax": ["thorax", "lowerneck"],
        "nose": "upperneck",
        "head": "head",
        **_sides({"hip": "{S}hipjoint", "knee": "{S}femur", "ankle": "{S}tibia", "shoulder": "{S}clavicle",
                  "elbow": "{S}humerus", "wrist": "{S}wrist"}, "l", "r"),
    },
    # Xsens MVN BVH export
    "xsens": {
        "pelvis": ["LeftUpperLeg", "RightUpperLeg"],
        "spine": "T12",
        "thorax": "Neck",
        "nose": "Head",
        "head": "Head_end",
        **_sides({"hip": "{S}UpperLeg", "knee": "{S}LowerLeg", "ankle": "{S}Foot", "shoulder": "{S}UpperArm",
                  "elbow": "{S}ForeArm", "wrist": "{S}Hand"}, "Left", "Right"),
    },
}

# pose3d's own BVH (`pose3d infer -o x.bvh`): its joints carry the h36m17 names, so the mapping is the identity
from ..skeleton import get_skeleton as _get_skeleton  # noqa: E402

PRESETS["pose3d_h36m17"] = {j: j for j in _get_skeleton("h36m17").joints}


def _names_needed(mapping: dict[str, MappingEntry]) -> set[str]:
    out: set[str] = set()
    for entry in mapping.values():
        if isinstance(entry, str):
            out.add(entry)
        elif isinstance(entry, list):
            out.update(entry)
        else:
            out.update(entry["joints"])
    return out


def detect_preset(names: tuple[str, ...] | list[str], source: str = "") -> str:
    """Name of the first preset whose source joints are all in ``names``."""
    have = set(names)
    for name, mapping in PRESETS.items():
        if _names_needed(mapping) <= have:
            return name
    shown = ", ".join(list(names)[:40])
    raise MocapError(
        f"{source}: unknown skeleton (joints: {shown}); give a mapping file, e.g. --mapping map.json with "
        '{"pelvis": ["LHip", "RHip"], "left_knee": "LKnee", ...} for every h36m17 joint '
        f"(presets: {', '.join(PRESETS)})")


def mapping_from_option(value: str | Path) -> dict[str, MappingEntry]:
    """``--mapping``: a preset name (``cmu_motionbuilder``, ``asf_cmu`` ...) or a JSON/YAML mapping file."""
    text = str(value)
    if text in PRESETS and not Path(text).exists():
        return dict(PRESETS[text])
    if not Path(text).exists() and not Path(text).suffix:
        raise MocapError(f"{text}: neither a mapping file nor a preset name; give a JSON/YAML file or one of "
                         f"{', '.join(PRESETS)}")
    return load_mapping(value)
