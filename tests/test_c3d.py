"""C3D reader and marker-set presets: real files from ../shared/data/mocap/c3d, synthetic files, broken files."""

from __future__ import annotations

import json
import time
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from conftest import MOCAP, need
from pose3d_cli.mocap import markersets
from pose3d_cli.mocap.c3d import MARKERSETS, fill_gaps, read_c3d, read_c3d_info, read_c3d_points, split_subjects, up_axis
from pose3d_cli.mocap.motion import MocapError, Motion, load_mapping
from pose3d_cli.skeleton import H36M17

c3d = pytest.importorskip("c3d")

C3D = MOCAP / "c3d"
#: file → (fps, preset) for every file that carries a full-body marker set
LABELLED = {
    "plug_in_gait/kinematics_tennis_serve.c3d": (50.0, "plug_in_gait"),
    "plug_in_gait/kinematics_tennis_serve_2players.c3d": (50.0, "plug_in_gait"),
    "plug_in_gait/kinematics_tennis_serve_nan.c3d": (50.0, "plug_in_gait"),
    "plug_in_gait/pycgm_movement_trial.c3d": (120.0, "plug_in_gait"),
    "plug_in_gait/pycgm_static_trial.c3d": (120.0, "plug_in_gait"),
    "cmu/135_02.c3d": (120.0, "cmu41"),
    "cmu/85_02.c3d": (120.0, "cmu41"),
    "cmu/85_12.c3d": (120.0, "cmu41"),
}
JOINT_CENTRES = ["joint_centres/walking2.c3d", "joint_centres/walking5.c3d"]
UP = np.array([0.0, 0.0, 1.0])
ARMS = [f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")]


@lru_cache(maxsize=None)
def _read(rel: str) -> tuple[Motion, ...]:
    return tuple(read_c3d(need(C3D / rel)))


def _j(joints: np.ndarray, name: str) -> np.ndarray:
    return joints[:, H36M17.index(name)]


def _cv(d: np.ndarray) -> float:
    return float(d.std() / d.mean())


def _one_line_error(exc: pytest.ExceptionInfo, path: Path | str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg, msg
    return msg


# ------------------------------------------------------------------------------------------------ real files

@pytest.mark.parametrize("rel", sorted(LABELLED))
def test_labelled_file_reads_into_h36m17(rel):
    fps, preset = LABELLED[rel]
    motions = _read(rel)
    assert len(motions) >= 1
    for m in motions:
        assert m.skeleton == "h36m17" and m.names == H36M17.joints
        assert m.fps == fps and m.source == str(C3D / rel)
        assert m.meta["markerset"] == preset and m.meta["up_axis"] == "+Z"
        assert m.num_frames >= 0.5 * fps and np.isfinite(m.joints).all()
    J = np.concatenate([m.joints for m in motions if m.subject == motions[0].subject])
    # mm: the head top stands 1.3-2.1 m above the lower ankle when upright (95th percentile over the trial)
    height = _j(J, "head")[:, 2] - np.minimum(_j(J, "left_ankle")[:, 2], _j(J, "right_ankle")[:, 2])
    assert 1300 < np.percentile(height, 95) < 2100
    # and the chain ankle-knee-hip + pelvis-thorax-head adds up to a plausible stature as well
    bones = {c: np.median(b) for (c, _), b in zip(H36M17.bones, H36M17.bone_lengths(J).T)}
    chain = bones["left_ankle"] + bones["left_knee"] + bones["spine"] + bones["thorax"] + bones["nose"] + bones["head"]
    assert 1300 < chain < 2100


def test_every_plug_in_gait_and_cmu_file_is_covered():
    found = {str(p.relative_to(C3D)) for d in ("plug_in_gait", "cmu") for p in need(C3D / d).glob("*.c3d")}
    assert found == set(LABELLED)


@pytest.mark.parametrize("rel", sorted(LABELLED))
def test_anatomy_is_sound(rel):
    motions = _read(rel)
    J = np.concatenate([m.joints for m in motions if m.subject == motions[0].subject])
    g = lambda n: _j(J, n)  # noqa: E731
    # facing from hips and shoulders; left = up x facing (right-handed, Z up)
    lateral = (g("left_hip") - g("right_hip")) + (g("left_shoulder") - g("right_shoulder"))
    facing = np.cross(lateral, UP)
    facing /= np.linalg.norm(facing, axis=-1, keepdims=True)
    left = np.cross(UP, facing)
    height = g("head")[:, 2] - np.minimum(g("left_ankle")[:, 2], g("right_ankle")[:, 2])
    upright = height >= 0.9 * np.percentile(height, 95)
    assert upright.mean() > 0.3

    def on_left(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.sum((a - b) * left, axis=-1)[upright] > 0))

    assert on_left(g("left_hip"), g("pelvis")) == 1.0 and on_left(g("pelvis"), g("right_hip")) == 1.0
    minimum = {"hip": 0.99, "shoulder": 0.99, "knee": 0.95, "elbow": 0.95, "ankle": 0.85, "wrist": 0.9}
    for part, frac in minimum.items():
        assert on_left(g(f"left_{part}"), g(f"right_{part}")) >= frac, part
    # handedness, independently of the hips: the face (nose) is in front of the neck base
    assert np.mean(np.sum((g("nose") - g("thorax")) * facing, axis=-1) > 0) > 0.85
    # knee below hip, above ankle when upright; head above thorax above pelvis
    for s in ("left", "right"):
        z = [g(f"{s}_{p}")[upright, 2] for p in ("hip", "knee", "ankle")]
        assert np.mean((z[0] > z[1]) & (z[1] > z[2])) > 0.95
    assert np.mean((g("head")[upright, 2] > g("thorax")[upright, 2]) & (g("thorax")[upright, 2] > g("pelvis")[upright, 2])) > 0.95
    # hip width and constant bone lengths
    hip_width = np.linalg.norm(g("left_hip") - g("right_hip"), axis=-1)
    assert 150 < hip_width.mean() < 300
    for s in ("left", "right"):
        for a, b in ((f"{s}_hip", f"{s}_knee"), (f"{s}_knee", f"{s}_ankle")):
            d = np.linalg.norm(g(a) - g(b), axis=-1)
            # < 6%: soft-tissue motion of CMU's breakdance trials moves the markers themselves by ~5%
            limit = 0.06 if "movement" not in rel else _pig_own_cv(rel, s[0].upper()) + 0.01
            assert _cv(d) < limit, (a, b, _cv(d))
            assert 300 < np.median(d) < 550


@lru_cache(maxsize=None)
def _pig_own_cv(rel: str, side: str) -> float:
    """CV of the shank of the Plug-in Gait model outputs stored in a pyCGM file (its own reference), >= 5%."""
    raw = read_c3d_points(C3D / rel)
    cols = split_subjects(raw.labels, "x")["x"]
    p = lambda n: raw.points[:, cols[n]]  # noqa: E731
    shank = np.linalg.norm(p(f"{side}FEO") - p(f"{side}TIO"), axis=-1)  # femur origin = knee, tibia origin = ankle
    return max(_cv(shank[np.isfinite(shank)]), 0.05)


def test_pycgm_model_outputs_agree_with_our_joint_centres():
    """pyCGM files store Plug-in Gait's own centres: FEO = knee, TIO = ankle, HUO = elbow, CLO = shoulder."""
    for rel in ("plug_in_gait/pycgm_static_trial.c3d", "plug_in_gait/pycgm_movement_trial.c3d"):
        raw = read_c3d_points(need(C3D / rel))
        cols = split_subjects(raw.labels, "x")["x"]
        markers = {n: raw.points[:, i] for n, i in cols.items()}
        built, missing = markersets.build_partial(markers, "plug_in_gait")
        assert not missing
        tolerance = {"knee": ("FEO", 30), "ankle": ("TIO", 25), "elbow": ("HUO", 30), "shoulder": ("CLO", 25),
                     "wrist": ("RAO", 45)}
        for side, s in (("left", "L"), ("right", "R")):
            for joint, (origin, tol) in tolerance.items():
                err = np.linalg.norm(built[f"{side}_{joint}"] - markers[f"{s}{origin}"], axis=-1)
                assert np.nanmedian(err) < tol, (rel, side, joint, np.nanmedian(err))


def test_two_players_give_two_subjects():
    rel = "plug_in_gait/kinematics_tennis_serve_2players.c3d"
    motions = _read(rel)
    assert sorted(m.subject for m in motions) == ["Derrick", "Viktor"]
    d, v = (next(m for m in motions if m.subject == s) for s in ("Derrick", "Viktor"))
    assert d.meta["start_frame"] == 52 and d.num_frames == 599
    assert np.linalg.norm(d.joints[:, 0] - v.joints[:, 0], axis=-1).min() > 500  # two people, apart
    only = read_c3d(C3D / rel, subject="Viktor")
    assert len(only) == 1 and only[0].subject == "Viktor"
    np.testing.assert_allclose(only[0].joints, v.joints)
    with pytest.raises(MocapError) as e:
        read_c3d(C3D / rel, subject="Nobody")
    assert "Derrick, Viktor" in _one_line_error(e, C3D / rel)


def test_nan_gaps_are_filled_or_cut():
    full = _read("plug_in_gait/kinematics_tennis_serve.c3d")[0].joints
    rel = "plug_in_gait/kinematics_tennis_serve_nan.c3d"
    raw = read_c3d_points(need(C3D / rel))
    rsho = raw.labels.index("Derrick:RSHO")
    gap = np.isnan(raw.points[:, rsho]).any(-1)
    assert 100 < gap.sum() < 200  # the file really has holes (RSHO)
    motions = _read(rel)
    assert len(motions) > 1
    starts = [m.meta["start_index"] for m in motions]
    assert starts == sorted(starts)
    for a, b in zip(motions, motions[1:]):
        assert a.meta["start_index"] + a.num_frames < b.meta["start_index"]  # a cut between segments
    covered = np.zeros(len(full), bool)
    for m in motions:
        s = m.meta["start_index"]
        assert np.isfinite(m.joints).all() and m.num_frames >= 0.5 * m.fps
        assert m.meta["start_frame"] == raw.first_frame + s
        err = np.linalg.norm(m.joints - full[s:s + m.num_frames], axis=-1)
        here = gap[s:s + m.num_frames]
        assert err[~here].max(initial=0) < 1.0  # where nothing was missing: the same joints as the complete file
        assert err[here].max(initial=0) < 150  # linearly interpolated shoulder during a serve: close, not exact
        covered[s:s + m.num_frames] = True
    # long gaps (> 0.25 s) were cut out, short ones filled
    assert covered.sum() > 0.8 * len(full) and not covered[gap].all()
    assert sum(len(m.joints) for m in read_c3d(C3D / rel, max_gap_s=0.0)) < covered.sum()


@pytest.mark.parametrize("rel", JOINT_CENTRES)
def test_joint_centre_files_lack_arms_and_say_so(rel):
    """These OpenSim trials hold leg centres and trunk markers but no arm markers: no h36m17 is possible."""
    with pytest.raises(MocapError) as e:
        read_c3d(need(C3D / rel))
    msg = _one_line_error(e, C3D / rel)
    assert "marker set joint_centres" in msg and "left_wrist" in msg and "LSHO" in msg and "--mapping" in msg
    # the stored leg centres themselves are sound
    raw = read_c3d_points(C3D / rel)
    markers = {n: raw.points[:, i] for n, i in split_subjects(raw.labels, "x")["x"].items()}
    legs, missing = markersets.build_partial(markers, "joint_centres")
    assert set(ARMS) <= set(missing)
    ok = np.isfinite(legs["left_hip"]).all(-1) & np.isfinite(legs["left_ankle"]).all(-1)
    assert ok.sum() > 0.3 * len(ok)
    hip_width = np.linalg.norm(legs["left_hip"] - legs["right_hip"], axis=-1)[ok]
    assert 150 < hip_width.mean() < 300
    for s in ("left", "right"):
        h, k, a = (legs[f"{s}_{p}"][ok] for p in ("hip", "knee", "ankle"))
        assert np.all((h[:, 2] > k[:, 2]) & (k[:, 2] > a[:, 2]))
        for d in (np.linalg.norm(h - k, axis=-1), np.linalg.norm(k - a, axis=-1)):
            assert _cv(d) < 0.05 and 300 < np.median(d) < 550


def test_c3d_test_suite_is_read_or_rejected_clearly():
    files = sorted(need(C3D / "c3d_test_suite").glob("*.c3d"))
    assert len(files) >= 20
    outcomes = {}
    for f in files:
        try:
            motions = read_c3d(f)
        except MocapError as e:
            msg = str(e)
            assert "\n" not in msg and str(f) in msg, msg
            outcomes[f.name] = "unknown" if "unknown marker set" in msg else msg
            if "unknown marker set" in msg:
                assert "--mapping map.json" in msg
        else:
            assert motions and all(np.isfinite(m.joints).all() for m in motions)
            outcomes[f.name] = "read"
    assert "no point data" in outcomes["c3d_test_suite__others__C3DRotationExample.c3d"]
    assert outcomes["c3d_test_suite__Sample02__dec_int.c3d"] == "unknown"  # DEC integer file parsed fine
    assert outcomes["c3d_test_suite__others__duplicate_labels.c3d"] == "unknown"


def test_processor_formats_read_the_same_points():
    """PC / DEC / SGI, integer and float copies of one trial give the same coordinates."""
    base = read_c3d_points(need(C3D / "c3d_test_suite" / "c3d_test_suite__Sample02__pc_real.c3d"))
    for kind in ("pc_int", "dec_int", "dec_real", "sgi_int", "sgi_real"):
        other = read_c3d_points(C3D / "c3d_test_suite" / f"c3d_test_suite__Sample02__{kind}.c3d")
        assert other.labels == base.labels and other.fps == base.fps
        np.testing.assert_array_equal(np.isnan(other.points), np.isnan(base.points))
        np.testing.assert_allclose(other.points, base.points, atol=0.5, equal_nan=True)


def test_unknown_marker_set_with_mapping_file_reads(tmp_path):
    """A solved-skeleton file (Y up, joint names of its own) + a JSON mapping → h36m17, Z up."""
    path = need(C3D / "c3d_test_suite" / "c3d_test_suite__others__many_analogs.c3d")
    with pytest.raises(MocapError) as e:
        read_c3d(path)
    assert "unknown marker set" in _one_line_error(e, path) and "Hips" in str(e.value)
    mapping = {"pelvis": "Hips", "right_hip": "RightThigh", "right_knee": "RightLeg", "right_ankle": "RightFoot",
               "left_hip": "LeftThigh", "left_knee": "LeftLeg", "left_ankle": "LeftFoot", "spine": "SpineMid",
               "thorax": "Neck", "nose": {"joints": ["Head", "HeadEnd"], "weights": [0.7, 0.3]}, "head": "HeadEnd",
               "left_shoulder": "LeftArm", "left_elbow": "LeftForearm", "left_wrist": "LeftHand",
               "right_shoulder": "RightArm", "right_elbow": "RightForearm", "right_wrist": "RightHand"}
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    motions = read_c3d(path, mapping=load_mapping(tmp_path / "map.json"))
    assert len(motions) == 1
    m = motions[0]
    assert m.meta["markerset"] == "mapping" and m.meta["up_axis"] == "+Y" and m.fps == 100.0
    assert m.num_frames == 710 and np.isfinite(m.joints).all()
    # rotated to Z up: head well above the ankles, hips above knees
    assert np.median(_j(m.joints, "head")[:, 2] - _j(m.joints, "left_ankle")[:, 2]) > 1300
    assert np.all(_j(m.joints, "left_hip")[:, 2] > _j(m.joints, "left_knee")[:, 2])
    # the mapping is applied as given (after the rotation, which keeps distances)
    raw = read_c3d_points(path)
    hips = raw.points[:, raw.labels.index("Hips")]
    np.testing.assert_allclose(np.linalg.norm(np.diff(_j(m.joints, "pelvis"), axis=0), axis=-1),
                               np.linalg.norm(np.diff(hips, axis=0), axis=-1), atol=1e-6)


def test_partial_mapping_overrides_the_preset():
    rel = "plug_in_gait/kinematics_tennis_serve.c3d"
    m = read_c3d(need(C3D / rel), mapping={"head": ["LFHD", "RFHD", "LBHD", "RBHD"]})[0]
    assert m.meta["markerset"] == "mapping+plug_in_gait"
    raw = read_c3d_points(C3D / rel)
    band = np.mean([raw.points[:, raw.labels.index(f"Derrick:{n}")] for n in ("LFHD", "RFHD", "LBHD", "RBHD")], 0)
    np.testing.assert_allclose(_j(m.joints, "head"), band, atol=1e-9)
    np.testing.assert_allclose(_j(m.joints, "left_knee"), _j(_read(rel)[0].joints, "left_knee"))


def test_bad_mappings_and_presets_are_clear_errors():
    path = need(C3D / "plug_in_gait" / "kinematics_tennis_serve.c3d")
    with pytest.raises(MocapError) as e:
        read_c3d(path, mapping={"head": "NOSUCHMARKER"})
    assert "NOSUCHMARKER" in _one_line_error(e, path)
    with pytest.raises(MocapError) as e:
        read_c3d(path, mapping={"skull": "LFHD"})
    assert "skull" in _one_line_error(e, path)
    with pytest.raises(MocapError) as e:
        read_c3d(path, markerset="cmu41")
    assert "LFWT" in _one_line_error(e, path)
    with pytest.raises(MocapError, match="unknown marker set preset 'bogus'"):
        read_c3d(path, markerset="bogus")


def test_info_without_reading_frames():
    info = read_c3d_info(need(C3D / "plug_in_gait" / "kinematics_tennis_serve_2players.c3d"))
    assert info["subjects"] == ["Derrick", "Viktor"]
    assert info["markersets"] == {"Derrick": "plug_in_gait", "Viktor": "plug_in_gait"}
    assert (info["fps"], info["frames"], info["first_frame"], info["units"]) == (50.0, 599, 52, "m")
    assert info["num_points"] == 78 and info["labels"][0] == "Derrick:C7" and info["analog_channels"] == 0
    info = read_c3d_info(C3D / "plug_in_gait" / "pycgm_movement_trial.c3d")
    assert info["analog_channels"] == 69 and info["num_points"] == 239 and info["subjects"] == ["pycgm_movement_trial"]
    assert read_c3d_info(C3D / "cmu" / "85_02.c3d")["markerset"] == "cmu41"
    assert read_c3d_info(C3D / "joint_centres" / "walking2.c3d")["markerset"] == "joint_centres"
    assert read_c3d_info(C3D / "rehazenter" / "rehazenter_2014001_ST.c3d")["markerset"] is None


def test_reading_is_fast():
    path = need(C3D / "cmu" / "135_02.c3d")  # 5202 frames x 41 markers
    t = time.perf_counter()
    motions = read_c3d(path)
    elapsed = time.perf_counter() - t
    assert sum(m.num_frames for m in motions) == 5202
    assert elapsed < 3.0, elapsed  # ~0.6 s here, 0.45 s of it inside c3d.read_frames


# ----------------------------------------------------------------------------------------------- broken files

@pytest.mark.parametrize("cut", [100, 700, 3000, 0.5])
def test_truncated_file_is_a_mocap_error(tmp_path, cut):
    data = need(C3D / "cmu" / "85_02.c3d").read_bytes()
    n = int(cut * len(data)) if isinstance(cut, float) else cut
    path = tmp_path / "cut.c3d"
    path.write_bytes(data[:n])
    with pytest.raises(MocapError) as e:
        read_c3d(path)
    msg = _one_line_error(e, path)
    assert "truncated" in msg or "corrupt" in msg


@pytest.mark.parametrize("content", [b"", b"hello, not a c3d file\n" * 40, bytes(range(256)) * 200])
def test_non_c3d_file_is_a_mocap_error(tmp_path, content):
    path = tmp_path / "bad.c3d"
    path.write_bytes(content)
    for fn in (read_c3d, read_c3d_info):
        with pytest.raises(MocapError) as e:
            fn(path)
        _one_line_error(e, path)


def test_missing_file_is_a_mocap_error(tmp_path):
    with pytest.raises(MocapError, match="no such file"):
        read_c3d(tmp_path / "nope.c3d")


# ------------------------------------------------------------------------------- synthetic files (no data)

def _standing_pose() -> np.ndarray:
    """(17, 3) mm, Z up, facing +X: a rough standing h36m17 body."""
    p = {"pelvis": (0, 0, 950), "right_hip": (0, -90, 950), "right_knee": (20, -95, 520),
         "right_ankle": (0, -100, 90), "spine": (0, 0, 1180), "thorax": (0, 0, 1430), "nose": (60, 0, 1540),
         "head": (20, 0, 1700), "right_shoulder": (0, -180, 1400), "right_elbow": (0, -200, 1120),
         "right_wrist": (40, -210, 880)}
    for k, v in list(p.items()):
        if k.startswith("right_"):
            p["left_" + k[6:]] = (v[0], -v[1], v[2])
    return np.array([p[j] for j in H36M17.joints], dtype=np.float64)


def _write_c3d(path: Path, points: np.ndarray, labels: list[str], *, fps: float = 100.0, units: str = "mm",
               invalid: np.ndarray | None = None) -> None:
    """points (T, M, 3) in ``units``; invalid (T, M) bool → residual -1 (stale coordinates kept)."""
    w = c3d.Writer(point_rate=fps, point_units=units.ljust(4))
    w.set_point_labels(labels)
    for t in range(len(points)):
        frame = np.zeros((points.shape[1], 5), np.float32)
        frame[:, :3] = points[t]
        if invalid is not None:
            frame[invalid[t], 3] = -1
        w.add_frames((frame, np.zeros((0, 0))))
    with open(path, "wb") as f, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No analog data found in file."
        w.write(f)


def _walk(T: int, fps: float) -> np.ndarray:
    t = np.arange(T)[:, None, None] / fps
    pose = _standing_pose()[None]
    return pose + np.concatenate([1000 * t, 0 * t, 20 * np.sin(2 * np.pi * t)], axis=-1)  # (T, 17, 3)


def test_synthetic_y_up_metres_two_subjects_with_gaps(tmp_path):
    fps, T = 100.0, 300
    z_up = {"Ann": _walk(T, fps), "Bob": _walk(T, fps) + [0, 2000, 0]}
    to_y_up = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # (x, y, z) → (x, z, -y): Y up, right-handed
    pts = np.concatenate([z_up[s] @ to_y_up.T for s in z_up], axis=1) / 1000.0  # metres
    labels = [f"{s}:{j}" for s in z_up for j in H36M17.joints]
    invalid = np.zeros(pts.shape[:2], bool)
    invalid[100:110, 3] = True  # Ann right_ankle: 0.1 s, filled
    invalid[200:260, 12] = True  # Ann left_elbow: 0.6 s, cut
    path = tmp_path / "syn.c3d"
    _write_c3d(path, pts + 5.0 * invalid[..., None], labels, units="m", invalid=invalid)  # stale coords must go
    identity = {j: j for j in H36M17.joints}
    motions = read_c3d(path, mapping=identity)
    ann = [m for m in motions if m.subject == "Ann"]
    bob = [m for m in motions if m.subject == "Bob"]
    assert len(bob) == 1 and bob[0].num_frames == T and bob[0].meta["up_axis"] == "+Y"
    np.testing.assert_allclose(bob[0].joints, z_up["Bob"], atol=0.05)  # back to mm, Z up
    assert [(m.meta["start_index"], m.num_frames) for m in ann] == [(0, 200)]  # 0.4 s after the long gap dropped
    seen = ~invalid[:200, :17]
    np.testing.assert_allclose(ann[0].joints[seen], z_up["Ann"][:200][seen], atol=0.05)
    np.testing.assert_allclose(ann[0].joints, z_up["Ann"][:200], atol=1.5)  # 0.1 s of a sway: linear is close
    short = read_c3d(path, mapping=identity, subject="Ann", min_segment_s=0.3)
    assert [(m.subject, m.meta["start_index"], m.num_frames) for m in short] == [("Ann", 0, 200), ("Ann", 260, 40)]
    info = read_c3d_info(path)
    assert info["subjects"] == ["Ann", "Bob"] and info["units"] == "m" and info["markersets"]["Ann"] is None


def test_blank_units_in_metres_are_read_as_metres_and_a_tiny_body_is_said(tmp_path):
    """A file without POINT:UNITS was taken as mm whatever it held: a body in metres was 1.5 mm tall, silently."""
    pts = _walk(50, 100.0) / 1000.0
    path = tmp_path / "blank.c3d"
    _write_c3d(path, pts, list(H36M17.joints), units="")
    (m,) = read_c3d(path, mapping={j: j for j in H36M17.joints})
    np.testing.assert_allclose(m.joints, _walk(50, 100.0), atol=0.05)
    assert m.meta["units"].startswith("m (assumed") and not m.meta["warnings"]
    _write_c3d(path, pts * 100.0, list(H36M17.joints), units="mm")  # says mm, holds cm: a 17 cm body
    (m,) = read_c3d(path, mapping={j: j for j in H36M17.joints})
    assert any("tall" in w and "POINT:UNITS" in w for w in m.meta["warnings"])


def test_synthetic_never_seen_joint_leaves_no_segment(tmp_path):
    pts = _walk(50, 100.0)
    invalid = np.zeros(pts.shape[:2], bool)
    invalid[::2, 0] = True  # pelvis missing every other frame: filled
    invalid[:, 16] = True  # right wrist never seen
    path = tmp_path / "holes.c3d"
    _write_c3d(path, pts, list(H36M17.joints), invalid=invalid)
    with pytest.raises(MocapError) as e:
        read_c3d(path, mapping={j: j for j in H36M17.joints}, min_segment_s=0.1)
    assert "no gap-free stretch" in _one_line_error(e, path)


# ---------------------------------------------------------------------------------------- geometry (no data)

def test_fill_gaps_interpolates_interior_short_gaps_only():
    x = np.arange(20, dtype=float)[:, None, None] * np.ones((1, 2, 3))
    x[0:2, 0] = np.nan  # leading gap: kept
    x[5:8, 0] = np.nan  # 3 frames: filled
    x[10:16, 1] = np.nan  # 6 frames: kept
    y = fill_gaps(x, max_gap=4)
    assert np.isnan(y[0:2, 0]).all() and np.isnan(y[10:16, 1]).all()
    np.testing.assert_allclose(y[5:8, 0], np.arange(5, 8)[:, None] * np.ones(3))


def test_up_axis_detection():
    pose = _standing_pose()[None]
    assert up_axis(pose) == "+Z"
    assert up_axis(pose[..., [0, 2, 1]]) == "+Y"
    assert up_axis(-pose[..., [2, 1, 0]]) == "-X"


def test_harrington_hip_centres_on_a_synthetic_pelvis():
    # pelvis facing +X, Z up: ASIS 240 mm apart, PSIS 160 mm behind
    T = 3
    lasi, rasi = np.tile([[0, 120.0, 1000]], (T, 1)), np.tile([[0, -120.0, 1000]], (T, 1))
    lpsi, rpsi = np.tile([[-160, 45.0, 1000]], (T, 1)), np.tile([[-160, -45.0, 1000]], (T, 1))
    left, right = markersets.hip_centres_harrington(lasi, rasi, lpsi, rpsi)
    pw, pd = 240.0, 160.0
    np.testing.assert_allclose(right[0], [-0.24 * pd - 9.9, -(0.33 * pw + 7.3), 1000 - 0.30 * pw - 10.9])
    np.testing.assert_allclose(left[0], right[0] * [1, -1, 1])


def test_chord_centre_geometry():
    hip = np.array([[0.0, 0, 900]])
    kne = np.array([[0.0, 60, 450]])  # lateral knee marker (+Y lateral)
    thi = np.array([[0.0, 90, 650]])  # lateral thigh marker
    kjc = markersets.chord_centre(hip, kne, kne - thi, 50.0)
    assert abs(np.linalg.norm(kjc - kne) - 50) < 1e-9
    assert abs(np.dot((kjc - kne)[0], (hip - kjc)[0])) < 1e-6
    assert kjc[0, 1] < kne[0, 1]  # medial


def test_presets_detect_from_labels():
    assert set(MARKERSETS) == {"plug_in_gait", "cmu41", "joint_centres"}
    pig = ["LASI", "RASI", "SACR", "LKNE", "RKNE", "LANK", "RANK", "LTHI", "RTHI", "LTIB", "RTIB"]
    assert markersets.detect_markerset(pig) == "plug_in_gait"
    cmu = ["LFWT", "RFWT", "LBWT", "RBWT", "LKNE", "RKNE", "LANK", "RANK", "LTHI", "RTHI", "LSHN", "RSHN"]
    assert markersets.detect_markerset(cmu) == "cmu41"
    assert markersets.detect_markerset(["LHJC", "RHJC", "LKJC", "RKJC", "LAJC", "RAJC"]) == "joint_centres"
    assert markersets.detect_markerset(["L_IAS", "R_IAS"]) is None
    missing = markersets.missing_markers(cmu, "cmu41")
    assert missing["left_wrist"] == ("LWRA", "LWRB") and "left_knee" not in missing
