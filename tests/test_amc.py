"""ASF/AMC reader: hand-built skeletons with FK derived by hand, units, DOF order, and real HDM05 clips."""

from pathlib import Path

import numpy as np
import pytest

from pose3d_cli.mocap.amc import amc_action, amc_subject, read_amc, read_asf
from pose3d_cli.mocap.load import find_mocap_files, load_motions
from pose3d_cli.mocap.motion import MocapError

from conftest import MOCAP, need

HDM05 = MOCAP / "amc" / "hdm05"


def _asf(bones: list[dict], hierarchy: list[str], length: float = 1.0, angle: str = "deg") -> str:
    out = [":version 1.10", ":name test", ":units", "  mass 1.0", f"  length {length}", f"  angle {angle}",
           ":root", "   order TX TY TZ RX RY RZ", "   axis XYZ", "   position 0 0 0", "   orientation 0 0 0",
           ":bonedata"]
    for i, b in enumerate(bones, 1):
        out += ["  begin", f"     id {i}", f"     name {b['name']}", f"     direction {b['direction']}",
                f"     length {b['length']}", f"     axis {b.get('axis', '0 0 0')} XYZ"]
        if b.get("dof"):
            out.append(f"    dof {b['dof']}")
            out.append("    limits " + " ".join("(-180.0 180.0)" for _ in b["dof"].split()))
        out.append("  end")
    out += [":hierarchy", "  begin"] + [f"    {h}" for h in hierarchy] + ["  end"]
    return "\n".join(out) + "\n"


def _amc(frames: list[dict[str, str]]) -> str:
    out = ["#!OML:ASF test.asf", ":FULLY-SPECIFIED", ":DEGREES"]
    for i, fr in enumerate(frames, 1):
        out.append(str(i))
        out += [f"{k} {v}" for k, v in fr.items()]
    return "\n".join(out) + "\n"


def _write(tmp_path: Path, asf: str, amc: str, name: str = "clip") -> Path:
    (tmp_path / f"{name}.asf").write_text(asf)
    p = tmp_path / f"{name}.amc"
    p.write_text(amc)
    return p


def _z_up(p):  # the reader's Y-up → Z-up: (x, y, z) → (x, -z, y)
    return np.array([p[0], -p[2], p[1]], dtype=float)


CHAIN = [dict(name="a", direction="1 0 0", length=1.0, dof="rx ry rz"),
         dict(name="b", direction="1 0 0", length=2.0, dof="rx ry rz")]


def test_chain_fk_by_hand(tmp_path):
    # root at (10, 0, 0) inches; bone a turned +90° about Z: a's end at root + (0, 1, 0), b (unrotated, inherits)
    # continues along +Y by 2: (10, 3, 0) inches in the file's Y-up frame.
    amc = _amc([{"root": "10 0 0 0 0 0", "a": "0 0 90", "b": "0 0 0"},
                {"root": "0 0 0 0 0 0", "a": "0 0 0", "b": "0 0 0"}])
    m = read_amc(_write(tmp_path, _asf(CHAIN, ["root a", "a b"]), amc))
    assert m.names == ("root", "a", "b")
    np.testing.assert_allclose(m.joints[0, 0], _z_up([10, 0, 0]) * 25.4, atol=1e-3)
    np.testing.assert_allclose(m.joints[0, 1], _z_up([10, 1, 0]) * 25.4, atol=1e-3)
    np.testing.assert_allclose(m.joints[0, 2], _z_up([10, 3, 0]) * 25.4, atol=1e-3)
    # rest pose: straight along +X
    np.testing.assert_allclose(m.joints[1, 2], _z_up([3, 0, 0]) * 25.4, atol=1e-3)
    assert m.fps == 120.0


def test_rotation_is_about_the_bone_axis_frame(tmp_path):
    # axis 0 0 90: the bone's local X is the world's Y; rx = 90 turns the bone 90° about world Y:
    # direction (1, 0, 0) → Ry(90)(1, 0, 0) = (0, 0, -1). Ignoring the axis frame would leave it at (1, 0, 0).
    bones = [dict(name="a", direction="1 0 0", length=1.0, axis="0 0 90", dof="rx")]
    m = read_amc(_write(tmp_path, _asf(bones, ["root a"]), _amc([{"root": "0 0 0 0 0 0", "a": "90"}])))
    np.testing.assert_allclose(m.joints[0, 1], _z_up([0, 0, -1]) * 25.4, atol=1e-3)


def test_root_rotation_order_and_child(tmp_path):
    # root RY = 90: a child along +X goes to -Z (Ry(90) x = (0, 0, -1))
    bones = [dict(name="a", direction="1 0 0", length=2.0)]
    m = read_amc(_write(tmp_path, _asf(bones, ["root a"]), _amc([{"root": "0 0 0 0 90 0"}])))
    np.testing.assert_allclose(m.joints[0, 1], _z_up([0, 0, -2]) * 25.4, atol=1e-3)


@pytest.mark.parametrize("dof, values, expected", [
    # dof rx rz, values (90, 90): M = Rz(90) Rx(90); (0, 1, 0) → Rx → (0, 0, 1) → Rz → (0, 0, 1)
    ("rx rz", "90 90", [0, 0, 1]),
    # dof rz rx, values (90, 90): M = Rx(90) Rz(90); (0, 1, 0) → Rz → (-1, 0, 0) → Rx → (-1, 0, 0)
    ("rz rx", "90 90", [-1, 0, 0]),
    # values follow the dof line: rz rx with (90, 0) is a pure Rz(90): (0, 1, 0) → (-1, 0, 0)
    ("rz rx", "90 0", [-1, 0, 0]),
    ("rx rz", "90 0", [0, 0, 1]),
])
def test_dof_order_decides_the_answer(tmp_path, dof, values, expected):
    bones = [dict(name="a", direction="0 1 0", length=1.0, dof=dof)]
    m = read_amc(_write(tmp_path, _asf(bones, ["root a"]), _amc([{"root": "0 0 0 0 0 0", "a": values}])))
    np.testing.assert_allclose(m.joints[0, 1], _z_up(expected) * 25.4, atol=1e-3)


def test_units_length(tmp_path):
    # ':units length 0.45': a value v is v / 0.45 inches; a bone of length 0.9 is 2 in = 50.8 mm
    bones = [dict(name="a", direction="0 1 0", length=0.9)]
    p = _write(tmp_path, _asf(bones, ["root a"], length=0.45), _amc([{"root": "0.45 0 0 0 0 0"}]))
    m = read_amc(p)
    assert np.linalg.norm(m.joints[0, 1] - m.joints[0, 0]) == pytest.approx(50.8, abs=1e-3)
    np.testing.assert_allclose(m.joints[0, 0], [25.4, 0, 0], atol=1e-3)  # root translation in the same unit
    assert read_amc(p, units="mm").joints[0, 1, 2] == pytest.approx(0.9, abs=1e-6)


def test_angle_radians(tmp_path):
    bones = [dict(name="a", direction="1 0 0", length=1.0, dof="rz")]
    m = read_amc(_write(tmp_path, _asf(bones, ["root a"], angle="rad"),
                        _amc([{"root": "0 0 0 0 0 0", "a": f"{np.pi / 2}"}])))
    np.testing.assert_allclose(m.joints[0, 1], _z_up([0, 1, 0]) * 25.4, atol=1e-3)


@pytest.mark.parametrize("amc, match", [
    (_amc([{"root": "0 0 0 0 0 0", "zz": "1"}]), "does not define"),
    (_amc([{"root": "0 0 0 0 0 0", "a": "1"}]), "has 1 values"),
    ("nothing here\n", "before the first frame"),
    (":DEGREES\n", "0 frames"),
    (_amc([{"root": "0 0 0 0 0 0", "a": "1 2 x"}]), "non-numbers"),
])
def test_bad_amc(tmp_path, amc, match):
    p = _write(tmp_path, _asf(CHAIN[:1], ["root a"]), amc)
    with pytest.raises(MocapError, match=match):
        read_amc(p)


def test_bad_asf_and_missing_asf(tmp_path):
    p = _write(tmp_path, "just text\n", _amc([{"root": "0 0 0 0 0 0"}]))
    with pytest.raises(MocapError, match="not an ASF"):
        read_amc(p)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "x.amc").write_text(_amc([{"root": "0 0 0 0 0 0"}]))
    with pytest.raises(MocapError, match="no .asf"):
        read_amc(lone / "x.amc")
    bad = _asf(CHAIN, ["root a", "a q"])
    with pytest.raises(MocapError, match="does not define"):
        read_asf(_write(tmp_path, bad, "", name="bad").with_suffix(".asf"))


def test_names():
    assert amc_subject(Path("x/bd/HDM_bd_squat1Reps_001_120.amc")) == "bd"
    assert amc_action(Path("x/bd/HDM_bd_squat1Reps_001_120.amc")) == "squat1Reps"
    assert amc_subject(Path("cmu/07/07_05.amc")) == "cmu07"


def test_hdm05_squat_clip():
    clip = need(HDM05 / "tr" / "HDM_tr_squat1Reps_049_120.amc")
    raw = read_amc(clip)
    z = raw.joints[..., 2]
    toes = [raw.index("ltoes"), raw.index("rtoes")]
    # standing at the start: toes to head top 1.5-2.0 m; feet on the floor (Z up, floor at 0)
    assert 1500 < z[0].max() - z[0].min() < 2000
    assert -30 < z[:, toes].min() < 60
    (m,) = load_motions(clip)
    assert m.subject == "tr" and m.meta["action"] == "squat1Reps" and m.meta["preset"] == "asf_cmu"
    n = m.names
    pelvis = m.joints[:, n.index("pelvis"), 2]
    assert 850 < pelvis[0] < 1150
    assert pelvis.min() < 0.7 * pelvis[0]  # the squat takes the hips down
    # the head stays above the pelvis, left joints on the subject's left (facing: ankles → toes)
    assert np.all(m.joints[:, n.index("head"), 2] > pelvis)
    lh, rh = m.joints[0, n.index("left_hip")], m.joints[0, n.index("right_hip")]
    toes_fwd = raw.joints[0, toes].mean(0) - raw.joints[0, [raw.index("ltibia"), raw.index("rtibia")]].mean(0)
    left = np.cross([0, 0, 1.0], toes_fwd)  # up × forward = left
    assert np.dot(lh - rh, left) > 0
    # bone lengths constant over time (rigid FK) and of human size
    femur = np.linalg.norm(m.joints[:, n.index("left_knee")] - m.joints[:, n.index("left_hip")], axis=-1)
    assert femur.std() < 1e-3 and 350 < femur.mean() < 500


def test_folder_load_finds_every_clip():
    folder = need(HDM05)
    files = find_mocap_files([folder])
    assert len(files) == 287 and all(f.suffix == ".amc" for f in files)


def test_fuzzed_asf_and_amc_give_a_result_or_one_clean_error(tmp_path_factory):
    """Random edits of a valid ASF/AMC pair: a Motion or a one-line MocapError, never another exception."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    asf = _asf(CHAIN, ["root a", "a b"], length=0.45)
    amc = _amc([{"root": "1 2 3 10 20 30", "a": "5 6 7", "b": "8 9 10"}] * 2)
    folder = tmp_path_factory.mktemp("fuzz")

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(which=st.sampled_from(["asf", "amc"]), pos=st.floats(0, 1), cut=st.integers(0, 12),
                      insert=st.text(alphabet=" \n:#-.0123456789abcdefgrxyzXYZ()", max_size=12))
    def run(which, pos, cut, insert):
        text = asf if which == "asf" else amc
        i = int(pos * len(text))
        edited = text[:i] + insert + text[i + cut:]
        (folder / "f.asf").write_text(edited if which == "asf" else asf)
        (folder / "f.amc").write_text(edited if which == "amc" else amc)
        try:
            m = read_amc(folder / "f.amc")
        except MocapError as e:
            assert "\n" not in str(e) and str(folder) in str(e)
        else:
            assert m.joints.ndim == 3 and m.joints.shape[2] == 3

    run()


def test_fast_and_general_amc_parsers_agree(monkeypatch):
    from pose3d_cli.mocap import amc

    clip = need(HDM05 / "dg" / "HDM_dg_lieDownFloor_011_120.amc")
    fast = read_amc(clip).joints
    monkeypatch.setattr(amc, "_parse_amc_regular", lambda *a: None)
    np.testing.assert_array_equal(read_amc(clip).joints, fast)


def test_the_actors_own_asf_in_a_folder_of_several(tmp_path):
    """Every HDM05 name starts with 'HDM_': a bk clip matched HDM_bd.asf (alphabetically first) by that prefix and
    was read with the other actor's bone lengths."""
    from pose3d_cli.mocap.amc import asf_for

    for actor in ("bd", "bk"):
        (tmp_path / f"HDM_{actor}.asf").write_text("x")
    assert asf_for(tmp_path / "HDM_bk_depositFloorR_007_120.amc").name == "HDM_bk.asf"
    assert asf_for(tmp_path / "HDM_bd_squat1Reps_001_120.amc").name == "HDM_bd.asf"
    with pytest.raises(MocapError, match="none named after this clip"):
        asf_for(tmp_path / "HDM_tr_squat1Reps_001_120.amc")  # no ASF of that actor: refused, not another's
    cmu = tmp_path / "cmu"
    cmu.mkdir()
    for name in ("07.asf", "08.asf"):
        (cmu / name).write_text("x")
    assert asf_for(cmu / "07_05.amc").name == "07.asf"


def test_translation_and_length_dofs_are_refused_where_they_move(tmp_path):
    """They were parsed and ignored: a bone that slid or stretched was read at its rest length."""
    bones = [dict(name="a", direction="1 0 0", length=1.0, dof="rx ry rz tx l")]
    still = _amc([{"root": "0 0 0 0 0 0", "a": "0 0 0 0 0"}] * 2)
    read_amc(_write(tmp_path, _asf(bones, ["root a"]), still))  # present but still: read
    moving = _amc([{"root": "0 0 0 0 0 0", "a": "0 0 0 5 3"}] * 2)
    with pytest.raises(MocapError, match="bone a: its translation/length dofs"):
        read_amc(_write(tmp_path, _asf(bones, ["root a"]), moving, "moving"))
