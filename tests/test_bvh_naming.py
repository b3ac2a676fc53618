"""BVH skeletons of unknown names: joints by topology and fuzzy names, units and up from the rest pose."""

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.mocap.bvh import detect_unit, read_bvh
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.mocap.motion import MocapError
from pose3d_cli.mocap.naming import split_name
from pose3d_cli.mocap.presets import PRESETS, mapping_from_option
from pose3d_cli.skeleton import H36M17

# One body, cm, Y up, facing +Z (its left is +X), T-pose rest. Offsets relative to the parent.
# role: (parent role, offset). Spine links are "s1".."s4"; schemes name only the ones they have.
BODY = {
    "pelvis": (None, (0, 100, 0)),
    "s1": ("pelvis", (0, 10, 0)), "s2": ("s1", (0, 10, 0)), "s3": ("s2", (0, 10, 0)), "s4": ("s3", (0, 10, 0)),
    "neck": ("top", (0, 10, 0)), "head": ("neck", (0, 10, 0)),
    "l_collar": ("top", (3, 5, 0)), "l_shoulder": ("l_collar", (15, 0, 0)), "l_elbow": ("l_shoulder", (28, 0, 0)),
    "l_wrist": ("l_elbow", (25, 0, 0)),
    "l_hip": ("pelvis", (9, -5, 0)), "l_knee": ("l_hip", (0, -42, 0)), "l_ankle": ("l_knee", (0, -40, 0)),
    "l_toe": ("l_ankle", (0, -8, 12)),
}
for k in [k for k in BODY if k.startswith("l_")]:
    parent, off = BODY[k]
    BODY["r_" + k[2:]] = (("r_" + parent[2:]) if parent.startswith("l_") else parent, (-off[0], off[1], off[2]))

SCHEMES = {
    # older Xsens MVN: a chest chain, collar, LeftShoulder = glenohumeral, LeftHip
    "xsens_old": dict(spine=["Chest", "Chest2", "Chest3", "Chest4"], pelvis="Hips", neck="Neck", head="Head",
                      collar="{S}Collar", shoulder="{S}Shoulder", elbow="{S}Elbow", wrist="{S}Wrist",
                      hip="{S}Hip", knee="{S}Knee", ankle="{S}Ankle", toe="{S}Toe", sides=("Left", "Right")),
    # Biovision
    "biovision": dict(spine=["Chest"], pelvis="Hips", neck="Neck", head="Head", collar="{S}Collar",
                      shoulder="{S}UpArm", elbow="{S}LowArm", wrist="{S}Hand", hip="{S}UpLeg", knee="{S}LowLeg",
                      ankle="{S}Foot", toe=None, sides=("Left", "Right")),
    # no neck joint, no collar: arms and head straight off the chest
    "no_neck": dict(spine=["Spine", "Chest"], pelvis="Hips", neck=None, head="Head", collar=None,
                    shoulder="{S}Shoulder", elbow="{S}Elbow", wrist="{S}Wrist", hip="{S}Thigh", knee="{S}Knee",
                    ankle="{S}Foot", toe=None, sides=("Left", "Right")),
    # Second Life / Poser
    "second_life": dict(spine=["abdomen", "chest"], pelvis="hip", neck="neck", head="head", collar="{S}Collar",
                        shoulder="{S}Shldr", elbow="{S}ForeArm", wrist="{S}Hand", hip="{S}Thigh", knee="{S}Shin",
                        ankle="{S}Foot", toe=None, sides=("l", "r")),
    # 3ds Max biped, namespaced names with spaces removed
    "biped": dict(spine=["Bip01_Spine", "Bip01_Spine1"], pelvis="Bip01_Pelvis", neck="Bip01_Neck",
                  head="Bip01_Head", collar="Bip01_{S}_Clavicle", shoulder="Bip01_{S}_UpperArm",
                  elbow="Bip01_{S}_Forearm", wrist="Bip01_{S}_Hand", hip="Bip01_{S}_Thigh", knee="Bip01_{S}_Calf",
                  ankle="Bip01_{S}_Foot", toe=None, sides=("L", "R")),
}


def scheme_bvh(scheme: dict, frames: list[dict[str, tuple]] | None = None, scale: float = 1.0,
               head_end: float = 18.0) -> tuple[str, dict[str, str], dict[str, np.ndarray]]:
    """BVH text for BODY named by ``scheme``; the role → name table; the rest positions (cm) by role.

    ``frames``: per frame {role: (zrot, xrot, yrot)} (root also 'pos'); default two zero frames.
    """
    spine_roles = ["s1", "s2", "s3", "s4"][:len(scheme["spine"])]
    names = {"pelvis": scheme["pelvis"], **dict(zip(spine_roles, scheme["spine"]))}
    top = spine_roles[-1]
    if scheme["neck"]:
        names["neck"] = scheme["neck"]
    names["head"] = scheme["head"]
    for side, tag in zip(("l", "r"), scheme["sides"]):
        for part in ("collar", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "toe"):
            if scheme[part]:
                names[f"{side}_{part}"] = scheme[part].format(S=tag)
    parent_of, offset_of = {}, {}
    for role in names:
        parent, off = BODY[role]
        if parent == "top":
            parent = top
        if role == "head" and not scheme["neck"]:
            parent, off = top, (0, 20, 0)
        if role.endswith("_shoulder") and not scheme["collar"]:
            parent, off = top, (18 if role[0] == "l" else -18, 5, 0)
        parent_of[role], offset_of[role] = parent, np.array(off, float) * scale
    children: dict = {}
    for role, parent in parent_of.items():
        children.setdefault(parent, []).append(role)
    order: list[str] = []
    pos: dict[str, np.ndarray] = {}
    lines = ["HIERARCHY"]

    def emit(role, depth):
        ind = "  " * depth
        order.append(role)
        p = parent_of[role]
        pos[role] = offset_of[role] if p is None else pos[p] + offset_of[role]
        lines.append(f"{ind}{'ROOT' if p is None else 'JOINT'} {names[role]}")
        lines.append(ind + "{")
        o = offset_of[role]
        lines.append(f"{ind}  OFFSET {o[0]:g} {o[1]:g} {o[2]:g}")
        chans = "6 Xposition Yposition Zposition" if p is None else "3"
        lines.append(f"{ind}  CHANNELS {chans} Zrotation Xrotation Yrotation")
        kids = children.get(role, [])
        for c in kids:
            emit(c, depth + 1)
        if not kids:
            end = (0, head_end * scale, 0) if role == "head" else (0, 0, 0)
            lines.extend([f"{ind}  End Site", ind + "  {", f"{ind}    OFFSET {end[0]:g} {end[1]:g} {end[2]:g}",
                          ind + "  }"])
        lines.append(ind + "}")

    emit("pelvis", 0)
    frames = frames or [{}, {}]
    lines += ["MOTION", f"Frames: {len(frames)}", "Frame Time: 0.0333333"]
    for fr in frames:
        vals = []
        for role in order:
            if parent_of[role] is None:
                vals += list(fr.get("pos", offset_of[role]))
            vals += list(fr.get(role, (0, 0, 0)))
        lines.append(" ".join(f"{v:g}" for v in vals))
    return "\n".join(lines) + "\n", names, pos


EXPECTED_SOURCES = {  # h36m17 joint → role it must come from (per scheme, where it differs)
    "left_hip": "l_hip", "left_knee": "l_knee", "left_ankle": "l_ankle", "left_shoulder": "l_shoulder",
    "left_elbow": "l_elbow", "left_wrist": "l_wrist", "right_hip": "r_hip", "right_knee": "r_knee",
    "right_ankle": "r_ankle", "right_shoulder": "r_shoulder", "right_elbow": "r_elbow", "right_wrist": "r_wrist",
    "nose": "head",
}


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_each_naming_scheme_maps_by_name_and_topology(tmp_path, scheme):
    text, names, pos = scheme_bvh(SCHEMES[scheme])
    p = tmp_path / f"{scheme}.bvh"
    p.write_text(text)
    (m,) = load_motions(p)
    assert m.meta["preset"] == "fuzzy" and m.meta["units"] == "cm" and m.meta["up_axis"] == "y"
    assert m.meta["units_from"] == "rest pose" and m.meta["up_from"] == "rest pose"
    mapping = m.meta["mapping"]
    for joint, role in EXPECTED_SOURCES.items():
        assert mapping[joint] == names[role], (joint, mapping[joint], names[role])

    def world(role_pos):  # cm, Y up → mm, Z up
        x, y, z = role_pos
        return np.array([x, -z, y]) * 10.0

    J = H36M17.index
    for joint, role in EXPECTED_SOURCES.items():
        np.testing.assert_allclose(m.joints[0, J(joint)], world(pos[role]), atol=1e-3)
    np.testing.assert_allclose(m.joints[0, J("pelvis")], world((pos["l_hip"] + pos["r_hip"]) / 2), atol=1e-3)
    # thorax: the neck joint, else (no neck) the collars' mean, else the shoulders' mean
    if SCHEMES[scheme]["neck"]:
        thorax = pos["neck"]
    elif SCHEMES[scheme]["collar"]:
        thorax = (pos["l_collar"] + pos["r_collar"]) / 2
    else:
        thorax = (pos["l_shoulder"] + pos["r_shoulder"]) / 2
    np.testing.assert_allclose(m.joints[0, J("thorax")], world(thorax), atol=1e-3)
    # spine: between pelvis and thorax, head top above the head
    z = m.joints[0, :, 2]
    assert z[J("pelvis")] < z[J("spine")] < z[J("thorax")] < z[J("nose")] < z[J("head")]
    # the subject's left is +X here (facing +Z, Y up → facing -Y in Z-up)
    assert m.joints[0, J("left_wrist"), 0] > 0 > m.joints[0, J("right_wrist"), 0]


def test_shoulder_is_the_clavicle_when_an_upper_arm_follows():
    # LeftShoulder + LeftArm (MotionBuilder / Mixamo): the arm is the shoulder; LeftShoulder alone: the shoulder
    from pose3d_cli.mocap.naming import find_roles

    names = ["Hips", "Spine", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "Head"]
    parents = [-1, 0, 1, 2, 3, 4, 1]
    rest = np.array([[0, 0, 0], [0, 10, 0], [3, 15, 0], [15, 15, 0], [40, 15, 0], [65, 15, 0], [0, 30, 0]], float)
    roles = find_roles(names, parents, rest)
    assert names[roles["left_shoulder"]] == "LeftArm" and names[roles["left_collar"]] == "LeftShoulder"
    names2 = ["Hips", "Spine", "LeftShoulder", "LeftElbow", "LeftWrist", "Head"]
    roles2 = find_roles(names2, [-1, 0, 1, 2, 3, 1], rest[[0, 1, 3, 4, 5, 6]])
    assert names2[roles2["left_shoulder"]] == "LeftShoulder" and "left_collar" not in roles2


def test_an_unnamed_elbow_comes_from_the_topology():
    from pose3d_cli.mocap.naming import find_roles

    names = ["Hips", "Spine", "LeftUpperArm", "Bone07", "LeftForeArmTwist", "LeftHand", "Head"]
    parents = [-1, 0, 1, 2, 3, 4, 1]
    # Bone07 is the elbow; LeftForeArmTwist sits halfway down the forearm (not a name the roles know)
    rest = np.array([[0, 0, 0], [0, 10, 0], [15, 15, 0], [40, 15, 0], [52, 15, 0], [65, 15, 0], [0, 30, 0]], float)
    roles = find_roles(names, parents, rest)
    # nearest ancestor of the wrist not at its place, twist/roll joints skipped (the twist joint lies on the
    # forearm, 13 cm from the wrist); the shoulder stays the named one
    assert names[roles["left_wrist"]] == "LeftHand" and names[roles["left_shoulder"]] == "LeftUpperArm"
    assert names[roles["left_elbow"]] == "Bone07"


@pytest.mark.parametrize("name, expected", [
    ("LeftUpLeg", ("L", "upleg")), ("lShldr", ("L", "shldr")), ("rForeArm", ("R", "forearm")),
    ("Shoulder_L", ("L", "shoulder")), ("mixamorig:RightHand", ("R", "hand")), ("Bip01 L Thigh", ("L", "thigh")),
    ("Chest4", (None, "chest4")), ("LHipJoint", ("L", "hipjoint")), ("Hips", (None, "hips")),
])
def test_split_name(name, expected):
    assert split_name(name) == expected


def crouch_frames(n=4):
    # root 60 cm high; thighs forward-horizontal, shins vertical back down, trunk leaning: a deep crouch held
    # throughout. Xrotation -90 on the hip (Y up, facing +Z): the thigh's -Y offset turns to +Z (forward).
    fr = {"pos": (0, 55, 0), "l_hip": (0, -90, 0), "r_hip": (0, -90, 0), "l_knee": (0, 90, 0), "r_knee": (0, 90, 0),
          "s1": (0, 40, 0), "l_shoulder": (-80, 0, 0), "r_shoulder": (80, 0, 0)}
    return [fr] * n


def test_crouching_take_in_cm_is_not_read_as_inches(tmp_path):
    text, _, _ = scheme_bvh(SCHEMES["biovision"], frames=crouch_frames())
    p = tmp_path / "crouch.bvh"
    p.write_text(text)
    raw = read_bvh(p, units="mm", up="y")
    extent = raw.joints[..., 2].max() - raw.joints[..., 2].min()
    assert extent < 110  # file units (cm): a body about 1 m tall throughout
    assert detect_unit(raw.joints) == "in"  # what the motion alone would say
    m = read_bvh(p)
    assert m.meta["units"] == "cm" and m.meta["units_from"] == "rest pose" and not m.meta["warnings"]
    (h,) = load_motions(p)
    femur = np.linalg.norm(h.joints[0, H36M17.index("left_knee")] - h.joints[0, H36M17.index("left_hip")])
    assert femur == pytest.approx(420, abs=1e-2)


def test_implausible_height_warns_in_one_line(tmp_path):
    text, _, _ = scheme_bvh(SCHEMES["biovision"])
    p = tmp_path / "b.bvh"
    p.write_text(text)
    m = read_bvh(p, units="mm")  # a cm file read as mm: a 14 cm body (1.15 × 122 cm ankle → head path)
    (w,) = m.meta["warnings"]
    assert "\n" not in w and "0.14 m tall" in w and "--units" in w and str(p) in w
    text, _, _ = scheme_bvh(SCHEMES["biovision"], scale=1.6)  # a 2.24 m giant in cm
    p.write_text(text)
    assert "m tall" in read_bvh(p).meta["warnings"][0]


def test_up_axis_from_the_rest_pose_in_a_z_up_file(tmp_path):
    # the same body with Y and Z swapped (Z up, facing -Y): rest pose says z whatever the motion does
    text, _, _ = scheme_bvh(SCHEMES["second_life"], frames=crouch_frames())
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("OFFSET"):
            x, y, z = map(float, line.split()[1:])
            line = line.split("OFFSET")[0] + f"OFFSET {x:g} {-z:g} {y:g}"
        lines.append(line)
    p = tmp_path / "z.bvh"
    p.write_text("\n".join(lines) + "\n")
    m = read_bvh(p)
    assert m.meta["up_axis"] == "z" and m.meta["up_from"] == "rest pose" and m.meta["units"] == "cm"


def test_mapping_option_takes_a_preset_name(tmp_path):
    assert mapping_from_option("cmu_3dsmax") == PRESETS["cmu_3dsmax"]
    with pytest.raises(MocapError, match="preset name.*cmu_motionbuilder"):
        mapping_from_option("no_such_preset")
    path = need(MOCAP / "bvh" / "cmu" / "131_01.bvh")
    (a,) = load_motions(path, mapping=mapping_from_option("cmu_3dsmax"))
    (b,) = load_motions(path)
    np.testing.assert_array_equal(a.joints, b.joints)


def test_unmappable_skeleton_names_what_is_missing(tmp_path):
    text, _, _ = scheme_bvh(SCHEMES["biovision"])
    p = tmp_path / "x.bvh"
    p.write_text(text.replace("LeftHand", "Paw1").replace("LeftLowArm", "Paw2").replace("LeftUpArm", "Paw3")
                 .replace("LeftCollar", "Paw4"))
    with pytest.raises(MocapError, match="cannot find left_shoulder, left_elbow, left_wrist"):
        load_motions(p)


def test_shared_files_use_the_rest_pose_where_it_stands():
    cmu = need(MOCAP / "bvh" / "cmu" / "01_01.bvh")
    m = read_bvh(cmu)
    assert (m.meta["units"], m.meta["units_from"], m.meta["up_from"]) == ("cmu", "rest pose", "rest pose")
    bandai = need(MOCAP / "bvh" / "bandai_namco_1" / "dataset-1_bow_active_001.bvh")
    m = read_bvh(bandai)  # its rest pose lies along X: up from the motion, units from the bone lengths
    assert (m.meta["units"], m.meta["up_axis"], m.meta["units_from"], m.meta["up_from"]) == \
        ("cm", "y", "rest pose", "motion")
