"""Name presets: every shared BVH skeleton maps to an anatomically plausible h36m17."""

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.mocap.bvh import read_bvh
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.mocap.motion import MocapError, map_joints, mapping_weights
from pose3d_cli.mocap.presets import PRESETS, detect_preset
from pose3d_cli.skeleton import H36M17

BVH_DIR = MOCAP / "bvh"

#: a few takes of each shared folder: standing, walking, running, bending, reaching, turning, climbing
SAMPLES = {
    "cmu/01_01.bvh": "cmu_motionbuilder",
    "cmu/131_01.bvh": "cmu_3dsmax",
    "cmu/131_03.bvh": "cmu_3dsmax",
    "bandai_namco_1/dataset-1_walk_normal_002.bvh": "bandai_namco",
    "bandai_namco_1/dataset-1_bow_active_001.bvh": "bandai_namco",
    "bandai_namco_1/dataset-1_dash_normal_001.bvh": "bandai_namco",
    "bandai_namco_2/dataset-2_walk-turn-left_normal_001.bvh": "bandai_namco",
    "bandai_namco_2/dataset-2_raise-up-both-hands_active_001.bvh": "bandai_namco",
}

#: the raw toe joints of each preset's skeleton: the feet point forward, an independent cue of the front
TOES = {"cmu_motionbuilder": ("LeftToeBase", "RightToeBase"), "cmu_3dsmax": ("LeftToe", "RightToe"),
        "bandai_namco": ("Toes_L", "Toes_R")}
ANKLES = {"cmu_motionbuilder": ("LeftFoot", "RightFoot"), "cmu_3dsmax": ("LeftAnkle", "RightAnkle"),
          "bandai_namco": ("Foot_L", "Foot_R")}


def J(name):
    return H36M17.index(name)


@pytest.fixture(scope="module", params=list(SAMPLES), ids=[k.split("/")[-1] for k in SAMPLES])
def sample(request):
    path = need(BVH_DIR / request.param)
    motion = read_bvh(path)
    preset = detect_preset(motion.names, str(path))
    return request.param, motion, preset, map_joints(motion, PRESETS[preset])


def test_preset_detected(sample):
    rel, _, preset, h36m = sample
    assert preset == SAMPLES[rel]
    assert h36m.names == H36M17.joints and h36m.skeleton == "h36m17"
    assert np.all(np.isfinite(h36m.joints))


def test_bone_lengths_constant_over_time(sample):
    _, _, _, h36m = sample
    lengths = H36M17.bone_lengths(h36m.joints.astype(np.float64))  # (T, 16)
    cv = lengths.std(axis=0) / lengths.mean(axis=0)
    worst = int(np.argmax(cv))
    assert cv.max() < 0.03, f"bone {H36M17.bones[worst]} varies by {cv.max():.1%}"
    assert lengths.min() > 30.0  # no collapsed bone (mm)
    # left and right limbs match within 10%
    for side_bone in (("knee", "hip"), ("ankle", "knee"), ("elbow", "shoulder"), ("wrist", "elbow")):
        li = H36M17.bones.index(tuple(f"left_{s}" for s in side_bone))
        ri = H36M17.bones.index(tuple(f"right_{s}" for s in side_bone))
        assert lengths[:, li].mean() == pytest.approx(lengths[:, ri].mean(), rel=0.1)


def test_left_joints_on_the_subjects_left(sample):
    """forward = (subject's left) × up must agree with where the stance foot's toes point, in most frames
    (a mirrored mapping or a left-handed world would agree in few)."""
    _, raw, preset, h36m = sample
    P = h36m.joints.astype(np.float64)
    left = (P[:, J("left_hip")] - P[:, J("right_hip")]) + (P[:, J("left_shoulder")] - P[:, J("right_shoulder")])
    forward = np.cross(left, [0.0, 0.0, 1.0])[:, :2]
    toes = np.stack([raw.joints[:, raw.index(n)] for n in TOES[preset]], axis=1)  # (T, 2, 3)
    ankles = np.stack([raw.joints[:, raw.index(n)] for n in ANKLES[preset]], axis=1)
    stance = np.argmin(toes[..., 2], axis=1)  # the lower foot (a swinging foot may point anywhere)
    feet = (toes - ankles)[np.arange(len(P)), stance, :2]
    agree = (forward * feet).sum(-1) > 0
    assert agree.mean() > 0.75  # 0.81-1.0 over all shared takes (sprints lowest); a mirror gives < 0.2
    # and the world is right-handed Z-up: the left hip is on the left of the pelvis-to-thorax axis
    trunk_up = P[:, J("thorax")] - P[:, J("pelvis")]
    assert np.median(trunk_up[:, 2] / np.linalg.norm(trunk_up, axis=-1)) > 0.7


def test_upright_and_body_size(sample):
    _, _, _, h36m = sample
    P = h36m.joints.astype(np.float64)
    bones = dict(zip(H36M17.bones, H36M17.bone_lengths(P).mean(0)))
    leg = np.mean([bones[(f"{s}_knee", f"{s}_hip")] + bones[(f"{s}_ankle", f"{s}_knee")] for s in ("left", "right")])
    trunk = sum(bones[b] for b in (("spine", "pelvis"), ("thorax", "spine"), ("nose", "thorax"), ("head", "nose")))
    assert 1300 < leg + trunk < 2000  # ankle to head top, mm
    assert 0.4 < leg / (leg + trunk) < 0.65
    z = P[..., 2]
    floor = np.minimum(z[:, J("left_ankle")], z[:, J("right_ankle")])
    standing = z[:, J("pelvis")] - floor > 0.8 * leg
    assert standing.mean() > 0.5
    head_above = z[standing, J("head")] > z[standing, J("pelvis")]
    assert head_above.mean() > 0.95
    # the head top is above the nose joint, the nose above the thorax, in standing frames
    assert np.median(z[standing, J("head")] - z[standing, J("nose")]) > 0
    assert np.median(z[standing, J("nose")] - z[standing, J("thorax")]) > 0


def test_load_motions_applies_the_preset():
    path = need(BVH_DIR / "cmu" / "131_01.bvh")
    (m,) = load_motions(path)
    assert m.meta["preset"] == "cmu_3dsmax"
    assert m.subject == "cmu131"
    assert m.names == H36M17.joints


def _tiny_bvh(tmp_path, names):
    """A two-frame BVH chain whose joints sit at x = 0, 10, 20 ... (file units) with the given names."""
    text = f"HIERARCHY\nROOT {names[0]}\n{{\n  OFFSET 0 0 0\n"
    text += "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    for n in names[1:]:
        text += f"  JOINT {n}\n  {{\n  OFFSET 10 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
    text += "  }\n" * len(names) + "MOTION\nFrames: 2\nFrame Time: 0.1\n"
    values = " ".join(["0"] * (6 + 3 * (len(names) - 1)))
    p = tmp_path / "odd.bvh"
    p.write_text(text + values + "\n" + values + "\n")
    return p


def test_unknown_skeleton_asks_for_a_mapping(tmp_path):
    p = _tiny_bvh(tmp_path, ["Body", "Wing_L", "Wing_R"])
    with pytest.raises(MocapError, match="--mapping") as e:
        load_motions(p)
    assert str(p) in str(e.value) and "Wing_L" in str(e.value)


def test_user_mapping_dict(tmp_path):
    p = _tiny_bvh(tmp_path, ["Root", "A", "B", "C"])  # x = 0, 10, 20, 30
    # every h36m17 joint from the odd names: plain names, a mean, and weights
    mapping = {j: "A" for j in H36M17.joints}
    mapping["pelvis"] = "Root"
    mapping["head"] = ["B", "C"]
    mapping["nose"] = {"joints": ["C", "A"], "weights": [2.0, -1.0]}
    (m,) = load_motions(p, units="mm", up="z", mapping=mapping)
    assert m.names == H36M17.joints and m.joints.shape == (2, 17, 3)
    x = m.joints[0, :, 0]
    assert x[J("pelvis")] == pytest.approx(0.0)
    assert x[J("left_knee")] == pytest.approx(10.0)
    assert x[J("head")] == pytest.approx(25.0)
    assert x[J("nose")] == pytest.approx(50.0)
    # a mapping that names an absent joint says which
    with pytest.raises(MocapError, match=r"pelvis \(needs Hips\)"):
        load_motions(p, units="mm", up="z", mapping=dict(mapping, pelvis="Hips"))
    with pytest.raises(MocapError, match=r"thorax \(not in mapping\)"):
        mapping_weights(("Root", "A"), {k: v for k, v in mapping.items() if k != "thorax"}, H36M17)


def _offset_length(path, joint):
    """|OFFSET| of ``JOINT joint`` read straight from the BVH header (file units)."""
    lines = path.read_text().split("MOTION")[0].splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[-2:] == ["JOINT", joint])
    offset = next(line for line in lines[at:] if line.strip().startswith("OFFSET"))
    return float(np.linalg.norm([float(v) for v in offset.split()[1:4]]))


@pytest.mark.parametrize("rel,elbow,hand", [("cmu/01_01.bvh", "LeftForeArm", "LeftHand"),
                                             ("cmu/131_01.bvh", "LeftElbow", "LeftWrist")])
def test_cmu_bvh_wrist_restores_dropped_lwrist_segment(rel, elbow, hand):
    """Both CMU conversions collapse the ASF's lwrist bone (half of lradius): the wrist is the hand joint carried
    half a radius further, so forearm/upper arm = 1.5 |hand offset| / |elbow offset| from the header (the hand
    joint itself would give 0.66-0.77, short of HDM05's and Bandai's 0.92-0.95)."""
    path = need(BVH_DIR / rel)
    expected = 1.5 * _offset_length(path, hand) / _offset_length(path, elbow)
    joints = load_motions(path)[0].joints.astype(np.float64)
    upper = np.linalg.norm(joints[:, J("left_elbow")] - joints[:, J("left_shoulder")], axis=-1)
    fore = np.linalg.norm(joints[:, J("left_wrist")] - joints[:, J("left_elbow")], axis=-1)
    assert np.median(fore / upper) == pytest.approx(expected, rel=0.01)
    assert np.median(fore / upper) > 0.95
