"""BVH reader: forward kinematics against hand-computed poses, units and up axis, and damaged files."""

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.mocap.bvh import UNITS_MM, read_bvh
from pose3d_cli.mocap.motion import MocapError

BVH_DIR = MOCAP / "bvh"

CHAIN = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT a
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT b
    {
      OFFSET 0 10 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 5 0
      }
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.04
0 0 0 0 0 0 0 0 0 0 0 0
1 2 3 90 0 0 0 90 0 0 0 0
0 0 0 0 0 0 0 0 90 0 90 0
"""


def write(tmp_path, text, name="m.bvh"):
    p = tmp_path / name
    p.write_text(text)
    return p


def raw(path, **kw):
    """Read in the file's own axes and unit (no conversion)."""
    return read_bvh(path, units="mm", up="z", **kw)


def test_chain_forward_kinematics_by_hand(tmp_path):
    m = raw(write(tmp_path, CHAIN))
    assert m.names == ("root", "a", "b", "b_end")  # End Site → <parent>_end
    assert m.joints.shape == (3, 4, 3) and m.joints.dtype == np.float32
    assert m.fps == pytest.approx(25.0)
    assert m.meta["channels"] == 12
    # rest pose: straight up the Y axis
    np.testing.assert_allclose(m.joints[0], [[0, 0, 0], [0, 10, 0], [0, 20, 0], [0, 25, 0]], atol=1e-5)
    # frame 1: root at (1, 2, 3) turned 90° about Z (y → -x); a turned 90° about X (y → z)
    np.testing.assert_allclose(m.joints[1], [[1, 2, 3], [-9, 2, 3], [-9, 2, 13], [-9, 2, 18]], atol=1e-5)
    # frame 2: a turned 90° about Y (no effect on b, straight above it), b 90° about X: Ry(90) Rx(90) (0,5,0) = (5,0,0)
    np.testing.assert_allclose(m.joints[2], [[0, 0, 0], [0, 10, 0], [0, 20, 0], [5, 20, 0]], atol=1e-5)


ORDER = """HIERARCHY
ROOT root
{{
  OFFSET 0 0 0
  CHANNELS 3 {order}
  End Site
  {{
    OFFSET 10 0 0
  }}
}}
MOTION
Frames: 1
Frame Time: 0.01
{values}
"""


def test_channel_order_zxy_vs_xyz(tmp_path):
    # the same angles (90° about X and about Z), composed in the order the channels are listed
    zxy = raw(write(tmp_path, ORDER.format(order="Zrotation Xrotation Yrotation", values="90 90 0"), "zxy.bvh"))
    xyz = raw(write(tmp_path, ORDER.format(order="Xrotation Yrotation Zrotation", values="90 0 90"), "xyz.bvh"))
    # Rz(90) Rx(90) (10,0,0) = (0,10,0); Rx(90) Rz(90) (10,0,0) = (0,0,10)
    np.testing.assert_allclose(zxy.joints[0, 1], [0, 10, 0], atol=1e-5)
    np.testing.assert_allclose(xyz.joints[0, 1], [0, 0, 10], atol=1e-5)


SIX = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT hip
  {
    OFFSET 100 100 100
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    JOINT knee
    {
      OFFSET 0 -40 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 -40 0
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
5 0 0 0 0 0 0 7 0 0 0 0 0 0 0
5 0 0 0 0 0 3 7 0 90 0 0 0 0 0
"""


def test_position_channels_replace_the_offset(tmp_path):
    m = raw(write(tmp_path, SIX))
    assert m.fps == pytest.approx(30.0, rel=1e-5)
    # hip's local translation is its position channels (0, 7, 0), not its OFFSET (100, 100, 100)
    np.testing.assert_allclose(m.joints[0, 1], [5, 7, 0], atol=1e-5)
    np.testing.assert_allclose(m.joints[0, 3], [5, -73, 0], atol=1e-5)
    # frame 1: hip at (8, 7, 0), turned 90° about Z: the leg points along +x
    np.testing.assert_allclose(m.joints[1, 1:], [[8, 7, 0], [48, 7, 0], [88, 7, 0]], atol=1e-5)


def test_y_up_file_ends_z_up_and_units_scale(tmp_path):
    p = write(tmp_path, CHAIN)
    auto = read_bvh(p, units="cm")  # the chain is tallest along Y: detected Y-up
    assert auto.meta["up_axis"] == "y" and auto.meta["units"] == "cm"
    # Y-up (x, y, z) → Z-up (x, -z, y), and cm → mm
    np.testing.assert_allclose(auto.joints[0, 3], [0, 0, 250], atol=1e-4)
    np.testing.assert_allclose(auto.joints[1, 3], [-90, -180, 20], atol=1e-4)
    m = read_bvh(p, units="m", up="y")
    np.testing.assert_allclose(m.joints, raw(p).joints[..., [0, 2, 1]] * [1, -1, 1] * 1000.0, rtol=1e-6)
    # Z-up file kept as is
    z = read_bvh(p, units="mm", up="z")
    np.testing.assert_allclose(z.joints[0, 3], [0, 25, 0], atol=1e-5)
    with pytest.raises(MocapError, match="unknown unit 'furlong'"):
        read_bvh(p, units="furlong")
    with pytest.raises(MocapError, match="--up must be"):
        read_bvh(p, up="x")


def test_auto_unit_from_body_height(tmp_path):
    # a 170-unit-tall chain reads as cm (1.7 m); 1.7 units as m
    tall = CHAIN.replace("OFFSET 0 10 0", "OFFSET 0 70 0").replace("OFFSET 0 5 0", "OFFSET 0 30 0")
    assert read_bvh(write(tmp_path, tall, "cm.bvh")).meta["units"] == "cm"
    small = tall.replace("OFFSET 0 70 0", "OFFSET 0 0.7 0").replace("OFFSET 0 30 0", "OFFSET 0 0.3 0")
    m = read_bvh(write(tmp_path, small, "m.bvh"))
    assert m.meta["units"] == "m"
    assert np.ptp(m.joints[0, :, 2]) == pytest.approx(1700, rel=1e-4)


GROUND_ROOT = """HIERARCHY
ROOT ground
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT pelvis
  {
    OFFSET 0 90 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    JOINT chest
    {
      OFFSET 0 50 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 30 0
      }
    }
    JOINT leg_l
    {
      OFFSET 10 0 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 -85 0
      }
    }
    JOINT leg_r
    {
      OFFSET -10 0 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 -85 0
      }
    }
  }
}
MOTION
"""


def test_auto_up_ignores_a_floor_root_the_body_walks_away_from(tmp_path):
    """Regression: Bandai Namco's joint_Root stays at the origin while the body walks metres away; the up
    axis must come from the body, not from the root-to-body travel."""
    frames = [f"0 0 0 0 0 0 0 90 {z} 0 0 0 0 0 0 0 0 0 0 0 0" for z in np.linspace(100, 600, 40)]
    text = GROUND_ROOT + f"Frames: {len(frames)}\nFrame Time: 0.0333333\n" + "\n".join(frames) + "\n"
    m = read_bvh(write(tmp_path, text), units="auto")
    assert m.meta["up_axis"] == "y" and m.meta["units"] == "cm"
    z = m.joints[..., 2]
    assert np.median(z.max(1) - z.min(1)) == pytest.approx(1700, rel=1e-4)  # standing, 1.7 m tall


@pytest.mark.parametrize("rel,unit", [
    ("cmu/01_01.bvh", "cmu"), ("cmu/131_02.bvh", "cmu"),
    ("bandai_namco_1/dataset-1_walk_normal_002.bvh", "cm"), ("bandai_namco_1/dataset-1_dash_normal_001.bvh", "cm"),
    ("bandai_namco_2/dataset-2_walk-turn-left_normal_001.bvh", "cm"),
    ("bandai_namco_2/dataset-2_raise-up-both-hands_active_001.bvh", "cm"),
])
def test_shared_files_units_and_up_axis(rel, unit):
    m = read_bvh(need(BVH_DIR / rel))
    assert m.meta["units"] == unit
    assert m.meta["up_axis"] == "y"  # all shared BVH are Y-up, walking and running takes included
    assert m.source.endswith(rel)
    # standing subjects: 1.2-2.1 m tall along Z (Bandai's head End Site has zero length), hips 0.75-1.1 m high
    z = m.joints[..., 2]
    assert 1200 < np.median(z.max(1) - z.min(1)) < 2100
    assert 750 < np.median(z[:, m.index("Hips")]) < 1100
    assert np.all(np.isfinite(m.joints))
    assert UNITS_MM["cmu"] == pytest.approx(56.444)


# ------------------------------------------------------------------------------------------------ damaged files


def test_truncated_real_file(tmp_path):
    text = need(BVH_DIR / "cmu" / "131_01.bvh").read_text()
    cut = text.index("MOTION") + (len(text) - text.index("MOTION")) // 2
    p = write(tmp_path, text[:cut], "cut.bvh")
    with pytest.raises(MocapError, match="truncated") as e:
        read_bvh(p)
    assert str(p) in str(e.value)
    # cut on a line boundary: fewer frames than the header says
    p2 = write(tmp_path, text[:text.rindex("\n", 0, cut) + 1], "cut2.bvh")
    with pytest.raises(MocapError, match=r"header says \d+ frames but only \d+ are present") as e:
        read_bvh(p2)
    assert str(p2) in str(e.value)


@pytest.mark.parametrize("frames,match", [
    ("0 0 0 0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0 0 0 0 7\n", "declares 12 channels"),
    ("0 0 0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0 0 0\n", "declares 12 channels"),
    ("0 0 0 0 0 0 0 0 0 0 0 0\n0 0 0 nan 0 0 0 0 0 0 0 0\n", "NaN"),
    ("0 0 0 0 0 0 0 0 0 0 0 0\n0 0 0 x 0 0 0 0 0 0 0 0\n", "non-numbers"),
])
def test_bad_frames(tmp_path, frames, match):
    head = CHAIN[:CHAIN.index("Frames:")]
    p = write(tmp_path, head + "Frames: 2\nFrame Time: 0.04\n" + frames)
    with pytest.raises(MocapError, match=match) as e:
        read_bvh(p)
    assert str(p) in str(e.value)


@pytest.mark.parametrize("text,match", [
    ("", "no HIERARCHY"),
    ("hello world\n", "no HIERARCHY"),
    ("MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n", "no HIERARCHY"),
    (CHAIN[:CHAIN.index("MOTION")], "no MOTION"),
    (CHAIN.replace("Frame Time: 0.04", "Frame Time: 0"), "Frame Time must be positive"),
    (CHAIN.replace("Frames: 3", "Frames: three"), "MOTION header"),
    (CHAIN.replace("Frames: 3", "Frames: 0"), "0 frames"),
    (CHAIN.replace("Zrotation Xrotation Yrotation\n    JOINT b", "Zrotation Xrotation Wobble\n    JOINT b"),
     "bad CHANNELS"),
    (CHAIN.replace("OFFSET 0 10 0", "OFFSET 0 ten 0", 1), "malformed HIERARCHY"),
    (CHAIN.replace("  }\n}\nMOTION", "}\nMOTION"), "unbalanced braces"),
])
def test_bad_files(tmp_path, text, match):
    p = write(tmp_path, text)
    with pytest.raises(MocapError, match=match) as e:
        read_bvh(p)
    assert str(p) in str(e.value)


def test_unreadable_paths(tmp_path):
    for p in (tmp_path / "missing.bvh", tmp_path):  # nonexistent, and a folder
        with pytest.raises(MocapError, match="cannot read") as e:
            read_bvh(p)
        assert str(p) in str(e.value)


def test_joint_names_with_spaces_and_a_bom(tmp_path):
    """3ds Max Biped and Blender write names with spaces ('Bip01 L Thigh'): the one token after JOINT was taken
    as the name and the file refused as damaged; a UTF-8 BOM made it 'not a BVH file'."""
    text = ORDER.format(order="Zrotation Xrotation Yrotation", values="0 0 0").replace(
        "ROOT root", "ROOT Bip01 Pelvis").replace("  End Site", "  JOINT Bip01 L Thigh {\n  OFFSET 0 -5 0\n"
                                                  "  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site")
    text = text.replace("    OFFSET 10 0 0\n  }\n}", "    OFFSET 10 0 0\n  }\n  }\n}").replace("Frame Time: 0.01\n0 0 0",
                                                                                      "Frame Time: 0.01\n0 0 0 0 0 0")
    p = tmp_path / "biped.bvh"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    m = read_bvh(p, units="cm", up="y")
    assert m.names[:2] == ("Bip01 Pelvis", "Bip01 L Thigh")
    np.testing.assert_allclose(m.joints[0, 1], [0, 0, -50], atol=1e-4)  # 5 cm down the file's Y: Z up, mm
