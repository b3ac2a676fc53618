"""`pose3d synth` end to end: the HDF5 schema, geometry of the stored pairs, determinism, bad inputs, `info`."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import MOCAP, REPO, need
from pose3d_cli.dataset import SCHEMA, SCHEMA_VERSION, assign_split, describe, load_pairs
from pose3d_cli.splits import assign_splits, file_digest
from pose3d_cli.geometry import project
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.mocap.motion import Motion
from pose3d_cli.skeleton import H36M17
from pose3d_cli.synth.cameras import Camera, CameraSampling, load_rig, sample_camera, save_rig
from pose3d_cli.synth.pairs import SynthConfig, SynthError, centre_on_origin, resample, synthesise

BVH_DIR = MOCAP / "bvh"
#: a small mix: both CMU conversions are covered by test_presets; here one CMU take (120 fps) and three Bandai
FILES = [
    "cmu/131_01.bvh",
    "bandai_namco_1/dataset-1_walk_normal_002.bvh",
    "bandai_namco_1/dataset-1_dash_normal_001.bvh",
    "bandai_namco_2/dataset-2_walk-turn-left_normal_001.bvh",
]
VIEWS = 2
PER_SAMPLE = {
    "keypoints_2d": (np.float32, (17, 2)), "confidence": (np.float32, (17,)), "joints_3d": (np.float32, (17, 3)),
    "cam_from_world_R": (np.float32, (3, 3)), "cam_from_world_t": (np.float32, (3,)),
    "camera_index": (np.int32, ()), "sequence_index": (np.int32, ()), "frame_index": (np.int32, ()),
}

runner = CliRunner()


def cli(*args):
    from pose3d_cli.cli.app import app

    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def mocap(tmp_path_factory):
    """A folder holding copies of a few shared BVH takes (in their sub-folders)."""
    root = tmp_path_factory.mktemp("mocap") / "mocap"
    for rel in FILES:
        src = need(BVH_DIR / rel)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    return root


def _synth(mocap, tmp_path_factory, name, *extra):
    out = tmp_path_factory.mktemp("out") / name
    r = cli("synth", mocap, out, "--views", VIEWS, "--val", 0.3, "--test", 0.3, *extra)
    assert r.exit_code == 0, r.output
    assert out.is_file()
    return out


@pytest.fixture(scope="module")
def noisy(mocap, tmp_path_factory):
    return _synth(mocap, tmp_path_factory, "noisy.h5", "--seed", 3, "--workers", 1)


@pytest.fixture(scope="module")
def noisy_2workers(mocap, tmp_path_factory):
    return _synth(mocap, tmp_path_factory, "noisy2.h5", "--seed", 3, "--workers", 2)


@pytest.fixture(scope="module")
def clean(mocap, tmp_path_factory):
    return _synth(mocap, tmp_path_factory, "clean.h5", "--clean", "--workers", 1)


def read_all(path):
    with h5py.File(path, "r") as f:
        out = {k: f[k][()] for k in PER_SAMPLE}
        for g in ("cameras", "sequences"):
            for k in f[g]:
                v = f[g][k][()]
                out[f"{g}/{k}"] = np.array([x.decode() for x in v]) if v.dtype == object else v
        out["attrs"] = dict(f.attrs)
    return out


def world_of(d):
    """Stored camera-frame 3D back to the world through the stored extrinsics: R^T (X - t)."""
    R = d["cam_from_world_R"].astype(np.float64)
    t = d["cam_from_world_t"].astype(np.float64)
    X = d["joints_3d"].astype(np.float64)
    return np.einsum("nji,nkj->nki", R, X - t[:, None, :])


def sequences(d):
    for s, (start, length) in enumerate(zip(d["sequences/start"], d["sequences/length"])):
        yield s, slice(int(start), int(start + length))


# ---------------------------------------------------------------------------------------------------- schema


def test_schema(noisy):
    d = read_all(noisy)
    N = d["keypoints_2d"].shape[0]
    for name, (dtype, tail) in PER_SAMPLE.items():
        assert d[name].dtype == dtype, name
        assert d[name].shape == (N,) + tail, name
    a = d["attrs"]
    assert a["schema"] == SCHEMA and int(a["schema_version"]) == SCHEMA_VERSION
    assert a["skeleton"] == "h36m17" and tuple(a["joint_names"]) == H36M17.joints
    assert int(a["seed"]) == 3 and a["pose3d_version"] and a["created"]
    params = json.loads(a["synth_params"])
    assert params["views"] == VIEWS and params["seed"] == 3 and params["fps"] == 30.0
    assert params["corruption"]["noise_sigma"] > 0
    S = len(FILES) * VIEWS
    C = d["cameras/K"].shape[0]
    assert d["cameras/K"].shape == (C, 3, 3) and d["cameras/K"].dtype == np.float64
    assert d["cameras/dist"].shape == (C, 5) and d["cameras/dist"].dtype == np.float64
    assert d["cameras/image_size"].shape == (C, 2) and d["cameras/image_size"].dtype == np.int32
    assert C == S  # one (static or hand-held) camera per sequence
    for k, dtype in (("start", np.int64), ("length", np.int64), ("fps", np.float32), ("view", np.int32)):
        assert d[f"sequences/{k}"].shape == (S,) and d[f"sequences/{k}"].dtype == dtype
    for k in ("source", "subject", "split"):
        assert d[f"sequences/{k}"].shape == (S,)
    # sequences are contiguous and cover every row once
    np.testing.assert_array_equal(d["sequences/start"], np.concatenate([[0], np.cumsum(d["sequences/length"])[:-1]]))
    assert d["sequences/length"].sum() == N
    for s, rows in sequences(d):
        assert np.all(d["sequence_index"][rows] == s)
        np.testing.assert_array_equal(d["frame_index"][rows], np.arange(rows.stop - rows.start))
        assert len(set(d["camera_index"][rows])) == 1
    assert d["camera_index"].min() >= 0 and d["camera_index"].max() < C
    assert np.all(d["sequences/fps"] == 30.0)
    # every file seen by views 0..V-1
    sources = d["sequences/source"]
    assert sorted({s.split("/mocap/")[-1] for s in sources}) == sorted(FILES)
    for src in set(sources):
        assert sorted(d["sequences/view"][sources == src]) == list(range(VIEWS))
    # subjects from file names (CMU) or folders (Bandai)
    assert set(d["sequences/subject"]) == {"cmu131", "bandai_namco_1", "bandai_namco_2"}
    # detector-like 2D: confidences in [0, 1], missing joints at 0, others inside the image
    conf, kp = d["confidence"], d["keypoints_2d"]
    assert np.all((conf >= 0) & (conf <= 1))
    assert np.all(kp[conf == 0] == 0)
    assert 0 < (conf == 0).mean() < 0.5
    size = d["cameras/image_size"][d["camera_index"]]  # (N, 2)
    vis = conf > 0
    assert np.all(np.isfinite(kp)) and np.all(np.isfinite(d["joints_3d"]))
    assert np.mean((kp[..., 0] >= -50) & (kp[..., 0] < size[:, None, 0] + 50))[()] > 0.99
    assert (d["joints_3d"][..., 2] > 0).all()  # every joint in front of its camera
    assert vis.sum() > 0


def test_splits_by_file(noisy):
    d = read_all(noisy)
    split, sources = d["sequences/split"], d["sequences/source"]
    assert set(split) <= {"train", "val", "test"}
    digests = {src: file_digest(src) for src in set(sources)}
    expected, notes = assign_splits(list(digests.values()), 0.3, 0.3,
                                    strata={d: str(Path(src).resolve().parent) for src, d in digests.items()})
    assert not notes and set(expected.values()) == {"train", "val", "test"}  # 4 files: every split non-empty
    for src in set(sources):
        assert len(set(split[sources == src])) == 1, src  # a file's sequences share a split
        assert split[sources == src][0] == expected[digests[src]]
    # the loader's split views agree with the file
    data = load_pairs(noisy)
    assert sum(len(data.split(s)) for s in ("train", "val", "test")) == len(data)
    for s in ("train", "val", "test"):
        part = data.split(s)
        assert set(data.sequences["split"][np.unique(part.sequence_index)]) <= {s}
    info = describe(noisy)
    assert info["pairs"] == len(data) and info["sequences"] == len(FILES) * VIEWS
    assert sum(info["split pairs"].values()) == len(data)
    assert info["mocap files"] == len(FILES) and info["subjects"] == 3


def test_assign_split_fractions():
    keys = [f"file{i}.bvh" for i in range(4000)]
    splits = [assign_split(k, 0.1, 0.2) for k in keys]
    assert splits.count("val") / 4000 == pytest.approx(0.1, abs=0.02)
    assert splits.count("test") / 4000 == pytest.approx(0.2, abs=0.02)
    assert splits == [assign_split(k, 0.1, 0.2) for k in reversed(keys)][::-1]  # deterministic, order-free
    # a large set needs no repair: assign_splits agrees with the hash alone
    by_group, notes = assign_splits(keys, 0.1, 0.2)
    assert not notes and [by_group[k] for k in keys] == splits


# -------------------------------------------------------------------------------------------------- geometry


def test_bone_lengths_constant_within_sequences(noisy):
    d = read_all(noisy)
    for s, rows in sequences(d):
        lengths = H36M17.bone_lengths(d["joints_3d"][rows].astype(np.float64))
        cv = lengths.std(0) / lengths.mean(0)
        assert cv.max() < 0.03, (d["sequences/source"][s], H36M17.bones[int(np.argmax(cv))])


def test_clean_2d_is_the_projection_of_the_stored_3d(clean):
    d = read_all(clean)
    K = d["cameras/K"][d["camera_index"]]
    dist = d["cameras/dist"][d["camera_index"]]
    uv = project(d["joints_3d"].astype(np.float64), K, dist)
    err = np.abs(uv - d["keypoints_2d"]).max()
    assert err < 1e-3, f"{err} px"
    # confidence 1 exactly inside the image, 0 outside
    size = d["cameras/image_size"][d["camera_index"]][:, None, :]
    inside = np.all((uv >= 0) & (uv < size), axis=-1)
    np.testing.assert_array_equal(d["confidence"] == 1.0, inside)
    np.testing.assert_array_equal(d["confidence"] == 0.0, ~inside)
    assert json.loads(d["attrs"]["synth_params"])["corruption"] == "clean"


def test_stored_extrinsics_give_one_world_pose_per_motion(clean):
    """R, t of every view map its camera-frame 3D back to the same world motion: the source, resampled and
    centred, a rotation (det +1), never a mirror image."""
    d = read_all(clean)
    R = d["cam_from_world_R"].astype(np.float64)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-5)
    world = world_of(d)
    sources = d["sequences/source"]
    for src in sorted(set(sources)):
        views = [rows for s, rows in sequences(d) if sources[s] == src]
        ref = world[views[0]]
        for rows in views[1:]:
            assert np.abs(world[rows] - ref).max() < 0.05  # mm
        # upright: world Z up, and the head above the pelvis in the images (image y points down)
        head, pelvis = H36M17.index("head"), H36M17.index("pelvis")
        assert np.mean(ref[:, head, 2] > ref[:, pelvis, 2] + 300) > 0.95
        for rows in views:
            assert np.mean(d["joints_3d"][rows, head, 1] < d["joints_3d"][rows, pelvis, 1]) > 0.95
        (m,) = load_motions(src)
        expected = centre_on_origin(resample(m, 30.0).joints.astype(np.float64))
        assert ref.shape == expected.shape
        assert np.abs(ref - expected).max() < 0.05


def test_left_right_consistent_in_clean_mode(clean):
    """The body's handedness (left hip, up the trunk, forward knee) is the same in every camera frame as in the
    source motion: left and right are never exchanged by the cameras."""
    d = read_all(clean)

    def chirality(P):
        across = P[..., H36M17.index("left_hip"), :] - P[..., H36M17.index("right_hip"), :]
        up = P[..., H36M17.index("thorax"), :] - P[..., H36M17.index("pelvis"), :]
        lk = P[..., H36M17.index("left_knee"), :] - P[..., H36M17.index("left_hip"), :]
        return np.sign(np.einsum("...i,...i->...", np.cross(across, up), lk))

    world = world_of(d)
    assert np.all(chirality(d["joints_3d"].astype(np.float64)) == chirality(world))
    # the 2D left/right are the projections of the 3D left/right (no swaps in clean mode)
    K = d["cameras/K"][d["camera_index"]]
    uv = project(d["joints_3d"].astype(np.float64), K, d["cameras/dist"][d["camera_index"]])
    for li, ri in zip(H36M17.joints_left, H36M17.joints_right):
        assert np.abs(d["keypoints_2d"][:, li] - uv[:, li]).max() < 1e-3
        assert np.abs(d["keypoints_2d"][:, ri] - uv[:, ri]).max() < 1e-3


# ----------------------------------------------------------------------------------------------- determinism


def test_same_seed_same_file_whatever_the_workers(noisy, noisy_2workers):
    a, b = read_all(noisy), read_all(noisy_2workers)
    for k in a:
        if k == "attrs":
            assert a[k]["synth_params"] == b[k]["synth_params"]
            continue
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_same_seed_twice_and_other_seed(mocap, noisy, tmp_path):
    cfg = SynthConfig(views=VIEWS, seed=3, val_fraction=0.3, test_fraction=0.3)
    again = tmp_path / "again.h5"
    synthesise([mocap], again, cfg)
    a, b = read_all(noisy), read_all(again)
    for k in ("keypoints_2d", "confidence", "joints_3d", "cam_from_world_R", "cameras/K", "sequences/split"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    other = tmp_path / "other.h5"
    synthesise([mocap], other, SynthConfig(views=VIEWS, seed=4, val_fraction=0.3, test_fraction=0.3))
    c = read_all(other)
    assert a["keypoints_2d"].shape != c["keypoints_2d"].shape or not np.array_equal(a["keypoints_2d"],
                                                                                     c["keypoints_2d"])
    assert not np.array_equal(a["cameras/K"], c["cameras/K"])


# --------------------------------------------------------------------------------------------- library level


def test_report_and_callback(mocap, tmp_path):
    seen = []
    out = tmp_path / "r.h5"
    report = synthesise([mocap], out, SynthConfig(views=1, seed=0), workers=1, compression="gzip",
                        on_file=lambda res: seen.append(res.path))
    assert len(seen) == len(FILES) and report.files == len(FILES) and not report.skipped
    data = load_pairs(out)
    assert report.pairs == len(data) == report.frames  # one view: a pair per frame
    assert report.sequences == len(FILES)
    assert sum(report.split_pairs.values()) == report.pairs
    assert min(report.read_s, report.generate_s, report.write_s) > 0 and report.wall_s > 0
    with h5py.File(out) as f:
        assert f["keypoints_2d"].compression == "gzip"


def test_resample():
    T = 9
    joints = np.arange(T * 17 * 3, dtype=np.float32).reshape(T, 17, 3)
    m = Motion(joints, H36M17.joints, 60.0)
    half = resample(m, 30.0)
    assert half.fps == 30.0 and half.num_frames == 5 and half.meta["native_fps"] == 60.0
    np.testing.assert_allclose(half.joints, joints[::2])
    double = resample(m, 120.0)
    assert double.num_frames == 17
    np.testing.assert_allclose(double.joints[1::2], (joints[:-1] + joints[1:]) / 2)
    assert resample(m, None) is m
    # BVH "Frame Time: 0.0333333" is 30 fps, not a reason to interpolate and drop the last frame
    near = resample(Motion(joints, H36M17.joints, 30.00003), 30.0)
    assert near.fps == 30.0 and near.num_frames == T
    np.testing.assert_array_equal(near.joints, joints)


def test_centre_on_origin_keeps_height():
    j = np.random.default_rng(0).normal(size=(5, 17, 3)) * 100 + [1000.0, -2000.0, 900.0]
    c = centre_on_origin(j)
    np.testing.assert_allclose(c[:, 0, :2].mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(c[..., 2], j[..., 2])


def test_rig_cameras_are_used_as_given(mocap, tmp_path):
    src = mocap / "cmu" / "131_01.bvh"
    (m,) = load_motions(src)
    joints = m.joints.astype(np.float64)  # a rig is in the mocap's own world frame (synth keeps it with a rig)
    rng = np.random.default_rng(5)
    cams = [sample_camera(joints, rng, CameraSampling(handheld_prob=0, distortion_k1=0.1)) for _ in range(3)]
    rig = tmp_path / "rig.json"
    save_rig(cams, rig)
    out = tmp_path / "rig.h5"
    r = cli("synth", src, out, "--cameras", rig, "--fps", 0, "--clean", "--workers", 1)
    assert r.exit_code == 0, r.output  # three sampled cameras, all called "virtual": written numbered
    assert [c.name for c in load_rig(rig)] == ["virtual1", "virtual2", "virtual3"]
    d = read_all(out)
    assert np.all(d["sequences/fps"] == pytest.approx(120.0, rel=1e-4))  # --fps 0 keeps the file's rate
    assert d["sequences/length"].tolist() == [m.num_frames] * 3
    for v, cam in enumerate(load_rig(rig)):
        rows = d["sequences/view"][d["camera_index"]] == v
        np.testing.assert_array_equal(d["cameras/K"][v], cam.K)
        np.testing.assert_array_equal(d["cameras/dist"][v], cam.dist)
        np.testing.assert_allclose(d["cam_from_world_R"][rows], np.broadcast_to(cam.R, (rows.sum(), 3, 3)), atol=1e-6)
        np.testing.assert_allclose(d["cam_from_world_t"][rows], np.broadcast_to(cam.t, (rows.sum(), 3)), rtol=1e-6)
    assert json.loads(d["attrs"]["synth_params"])["cameras"] == "rig"
    # a camera of the rig that does not see the body (another world frame, turned away) was filmed anyway: depth
    # negative, 2D mirrored into the image under --clean; now it is left out with a line that says why
    turn = np.diag([-1.0, 1.0, -1.0])  # half a turn about its own vertical, where it stands
    away = Camera(cams[0].K, cams[0].dist, turn @ cams[0].R, turn @ cams[0].t, cams[0].size, "away")
    save_rig([cams[0], away], rig)
    r = cli("synth", src, out, "--cameras", rig, "--fps", 0, "--clean", "--workers", 1)
    assert r.exit_code == 0 and "rig camera away sees 0% of the body" in " ".join(r.output.split()), r.output
    assert read_all(out)["sequences/length"].tolist() == [m.num_frames]


def test_split_by_subject(mocap, tmp_path):
    out = tmp_path / "subj.h5"
    r = cli("synth", mocap, out, "--views", 1, "--split-by", "subject", "--val", 0.4, "--test", 0.4, "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read_all(out)
    for subject in set(d["sequences/subject"]):
        splits = d["sequences/split"][d["sequences/subject"] == subject]
        assert len(set(splits)) == 1
    expected, _ = assign_splits(sorted(set(d["sequences/subject"])), 0.4, 0.4, what="subject")
    for subject, split in expected.items():
        assert set(d["sequences/split"][d["sequences/subject"] == subject]) == {split}


# ------------------------------------------------------------------------------------------------ bad inputs


def assert_clean_failure(result, out, *needles):
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # typer.Exit, not a crash
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err  # one line (a progress line may precede it)
    assert err.rstrip().endswith(lines[0])
    for n in needles:
        assert str(n) in lines[0], (n, lines[0])
    assert result.stdout == ""
    if out is not None and not out.is_dir():
        assert not out.exists()
        assert not list(out.parent.glob(f".{out.name}.tmp-*"))


def test_bad_inputs(tmp_path, mocap):
    out = tmp_path / "o.h5"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(cli("synth", empty, out), out, empty, "no mocap files")

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "noise.bvh").write_bytes(np.random.default_rng(0).bytes(4000))
    assert_clean_failure(cli("synth", garbage, out), out, garbage / "noise.bvh", "no pairs could be made")

    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert_clean_failure(cli("synth", notes, out), out, notes, "unsupported file type")

    text = (mocap / "cmu" / "131_01.bvh").read_text()
    trunc = tmp_path / "trunc" / "cut.bvh"
    trunc.parent.mkdir()
    trunc.write_text(text[:len(text) * 2 // 3])
    assert_clean_failure(cli("synth", trunc, out), out, trunc, "truncated")

    # brackets in a path are printed as they are (not eaten as rich markup)
    odd = tmp_path / "take[fast]" / "bad[red].bvh"
    odd.parent.mkdir()
    odd.write_text("junk")
    assert_clean_failure(cli("synth", odd, out), out, odd, "no HIERARCHY")

    assert_clean_failure(cli("synth", tmp_path / "missing", out), out, tmp_path / "missing", "no such file")
    nowhere = tmp_path / "nowhere" / "o.h5"
    assert_clean_failure(cli("synth", mocap, nowhere), nowhere, nowhere, "does not exist")
    assert not nowhere.parent.exists()
    assert_clean_failure(cli("synth", mocap, empty), empty, empty, "is a folder")
    assert list(empty.iterdir()) == []
    assert_clean_failure(cli("synth", mocap, out, "--split-by", "frame"), out, "--split-by")
    bad_rig = tmp_path / "rig.json"
    bad_rig.write_text("{}")
    assert_clean_failure(cli("synth", mocap, out, "--cameras", bad_rig), out, bad_rig)
    # nothing at all was left in the output folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "garbage", "notes.txt", "rig.json", "take[fast]",
                                                          "trunc"]


def test_library_refuses_bad_outputs(mocap, tmp_path):
    with pytest.raises(SynthError, match="does not exist"):
        synthesise([mocap], tmp_path / "no" / "o.h5", SynthConfig(views=1))
    with pytest.raises(SynthError, match="no mocap files"):
        synthesise([tmp_path], tmp_path / "o.h5", SynthConfig(views=1))
    assert list(tmp_path.iterdir()) == []


def test_mixed_folder_skips_bad_files(tmp_path, mocap):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(mocap / FILES[2], folder / "good.bvh")
    (folder / "bad.bvh").write_text("HIERARCHY\nROOT x\n{\n")
    (folder / "junk.npz").write_bytes(b"PK not a zip")
    out = tmp_path / "mixed.h5"
    r = cli("synth", folder, out, "--views", 2, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert out.is_file() and not list(tmp_path.glob(".mixed.h5.tmp-*"))
    err = r.stderr
    assert "files skipped" in err and "skipped files" in err
    assert "bad.bvh" in err and "no MOTION section" in err
    assert "junk.npz" in err
    d = read_all(out)
    assert set(d["sequences/source"]) == {str(folder / "good.bvh")}
    assert describe(out)["mocap files"] == 1


# ------------------------------------------------------------------------------------------------------ info


def test_info_on_bvh():
    path = need(BVH_DIR / "cmu" / "131_01.bvh")
    r = cli("info", path, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["kind"] == "BVH motion capture"
    assert d["frames"] == 994 and d["fps"] == pytest.approx(120.0, rel=1e-4)
    assert d["units (detected)"] == "cmu" and d["up axis (detected)"] == "y"
    assert d["name preset"] == "cmu_3dsmax" and d["channels per frame"] == 96
    assert 1200 < d["body height mm"] < 2000
    table = cli("info", path)
    assert table.exit_code == 0
    assert "BVH motion capture" in table.stdout and "cmu_3dsmax" in table.stdout


def test_info_on_dataset(noisy, tmp_path):
    r = cli("info", noisy, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    with h5py.File(noisy) as f:
        N = f["keypoints_2d"].shape[0]
    assert d["kind"] == "pose3d pairs (HDF5)" and d["pairs"] == N
    assert d["sequences"] == len(FILES) * VIEWS and d["skeleton"] == "h36m17" and d["seed"] == 3
    assert sum(d["split pairs"].values()) == N and d["fps"] == [30.0]
    table = cli("info", noisy)
    assert table.exit_code == 0 and "pose3d pairs (HDF5)" in table.stdout
    # several files: one JSON object per file
    bvh = need(BVH_DIR / FILES[2])
    both = json.loads(cli("info", noisy, bvh, "--json").stdout)
    assert set(both) == {str(noisy), str(bvh)}
    # a missing file: one error line
    r = cli("info", tmp_path / "nope[bold].h5")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.strip() == f"error: {tmp_path / 'nope[bold].h5'}: no such file; check the path"


def test_version():
    r = subprocess.run([sys.executable, "-m", "pose3d_cli", "--version"], capture_output=True, text=True, cwd=REPO,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    from pose3d_cli import __version__

    assert r.stdout.strip() == f"pose3d {__version__}"
    assert cli("--version").stdout.strip() == f"pose3d {__version__}"


@pytest.mark.parametrize("setting,words", [
    ({"fov_deg": 60}, "fov_deg must be [low, high]"), ({"image_aspect": 0}, "image_aspect positive"),
    ({"image_long_side": 0}, "image_long_side must be at least 16"), ({"portrait_prob": "often"}, "portrait_prob"),
    ({"handheld_prob": 2}, "probability"),
])
def test_camera_settings_of_the_wrong_type_or_range_are_one_line(tmp_path, setting, words):
    """They were internal errors (a scalar range, a zero aspect) or accepted (0 px images, probability 2)."""
    from pose3d_cli.synth.cameras import CameraError

    cfg = tmp_path / "cams.json"
    cfg.write_text(json.dumps(setting))
    with pytest.raises(CameraError, match=re.escape(words)):
        CameraSampling.from_file(cfg)


def test_a_rig_s_distortion_beyond_five_coefficients_is_refused(tmp_path):
    """OpenCV's rational model (8 values) was cut to 5 in silence: the 2D was up to 10 px off the real camera."""
    from pose3d_cli.synth.cameras import CameraError

    rig = tmp_path / "rig.json"
    rig.write_text(json.dumps({"cameras": [{"name": "c", "K": [[1000, 0, 960], [0, 1000, 540], [0, 0, 1]],
                                            "dist": [0.1, -0.05, 0, 0, 0.01, 0.2, 0, 0], "R": np.eye(3).tolist(),
                                            "t": [0, 0, 3000], "size": [1920, 1080]}]}))
    with pytest.raises(CameraError, match="camera .c. has 8 distortion coefficients"):
        load_rig(rig)


def test_workers_are_capped_by_the_files_and_the_cores(mocap, tmp_path, monkeypatch):
    """-j 100000 forked 100000 interpreters for one file (a sweep ran the machine out of memory)."""
    import pose3d_cli.synth.pairs as P

    asked = []

    class Pool:  # records the pool size; runs the jobs in this process
        def __init__(self, max_workers):
            asked.append(max_workers)

        def map(self, fn, jobs, chunksize=1):
            return map(fn, jobs)

        def shutdown(self, *a, **k):
            pass

    monkeypatch.setattr(P, "ProcessPoolExecutor", Pool)
    files = sorted((mocap / "bandai_namco_1").glob("*.bvh"))[:2]
    synthesise(files, tmp_path / "o.h5", SynthConfig(views=1, val_fraction=0, test_fraction=0), workers=100000)
    assert asked == [2]
    synthesise(files[:1], tmp_path / "p.h5", SynthConfig(views=1, val_fraction=0, test_fraction=0), workers=100000)
    assert asked == [2]  # one file: no pool at all
