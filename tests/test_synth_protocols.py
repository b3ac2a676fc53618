"""Real rigs and benchmark protocols: the mocap's own world frame with a rig, frame stride, --subject on
VideoPose3D files, and ASF/AMC through synth."""

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import MOCAP, need
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.synth.cameras import CameraSampling, load_rig, sample_camera, save_rig
from pose3d_cli.synth.pairs import resample

runner = CliRunner()


def cli(*args):
    from pose3d_cli.cli.app import app

    return runner.invoke(app, [str(a) for a in args])


def read(path):
    with h5py.File(path, "r") as f:
        d = {k: f[k][()] for k in ("joints_3d", "cam_from_world_R", "cam_from_world_t", "keypoints_2d")}
        for k in ("length", "fps", "subject", "split", "source"):
            v = f["sequences"][k][()]
            d[k] = np.array([x.decode() for x in v]) if v.dtype == object else v
    return d


def test_rig_keeps_the_mocap_world_frame(tmp_path):
    src = need(MOCAP / "bvh" / "bandai_namco_1" / "dataset-1_walk_normal_002.bvh")
    (m,) = load_motions(src)
    world = resample(m, 30.0).joints.astype(np.float64)
    root_xy = np.linalg.norm(world[:, 0, :2].mean(0))
    assert root_xy > 200  # this take is off the origin: centring would move it
    rng = np.random.default_rng(3)
    cams = [sample_camera(world, rng, CameraSampling(handheld_prob=0)) for _ in range(2)]
    rig = tmp_path / "rig.json"
    save_rig(cams, rig)
    out = tmp_path / "rig.h5"
    r = cli("synth", src, out, "--cameras", rig, "--clean", "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read(out)
    R, t, X = (d[k].astype(np.float64) for k in ("cam_from_world_R", "cam_from_world_t", "joints_3d"))
    back = np.einsum("nji,nkj->nki", R, X - t[:, None, :])  # R^T (X - t): the world the rig saw
    n = world.shape[0]
    np.testing.assert_allclose(back[:n], world, atol=0.05)
    # and the 2D is that world projected through the rig as given
    cam = load_rig(rig)[0]
    uv = cam.project(cam.world_to_cam(world))
    np.testing.assert_allclose(d["keypoints_2d"][:n], uv, atol=0.05)


def test_stride_beside_fps(tmp_path):
    src = need(MOCAP / "bvh" / "cmu" / "131_01.bvh")
    (m,) = load_motions(src)
    out = tmp_path / "s.h5"
    r = cli("synth", src, out, "--views", 1, "--fps", 0, "--stride", 4, "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read(out)
    assert d["fps"][0] == pytest.approx(m.fps / 4, rel=1e-4)
    assert d["length"][0] == len(range(0, m.num_frames, 4))
    out2 = tmp_path / "s2.h5"
    assert cli("synth", src, out2, "--views", 1, "--fps", 30, "--stride", 2, "--workers", 1).exit_code == 0
    d2 = read(out2)
    n30 = resample(m, 30.0).num_frames
    assert d2["fps"][0] == pytest.approx(15.0) and d2["length"][0] == len(range(0, n30, 2))


def test_subject_on_a_videopose3d_file(tmp_path):
    rng = np.random.default_rng(1)
    pose = np.zeros((40, 32, 3))
    pose[:, :, 2] = np.linspace(0, 1.7, 32)  # a vertical line of joints, metres
    pose[:, :, 0] = rng.normal(scale=0.1, size=(40, 32))
    data = {"S1": {"Walking": pose.copy()}, "S9": {"Posing": pose.copy(), "Sitting": pose.copy()}}
    p = tmp_path / "data_3d_h36m.npz"
    np.savez_compressed(p, positions_3d=data)
    out = tmp_path / "s9.h5"
    r = cli("synth", p, out, "--views", 1, "--fps", 0, "--subject", "S9", "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read(out)
    assert set(d["subject"]) == {"S9"} and len(d["subject"]) == 2
    # by file, a container's takes are split as separate files (2 takes: train and val)
    assert sorted(d["split"]) == ["train", "val"]
    bad = tmp_path / "s5.h5"
    r = cli("synth", p, bad, "--views", 1, "--subject", "S5", "--workers", 1)
    assert r.exit_code == 2 and not bad.exists()
    assert "no subject 'S5'" in " ".join(r.stderr.split()) and "S1, S9" in " ".join(r.stderr.split())
    # the Human3.6M protocol on the same file: S9 is the test set
    proto = tmp_path / "proto.h5"
    r = cli("synth", p, proto, "--views", 1, "--fps", 0, "--test-subjects", "S9", "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read(proto)
    assert set(d["split"][d["subject"] == "S9"]) == {"test"} and set(d["split"][d["subject"] == "S1"]) == {"train"}


def test_synth_reads_a_folder_of_amc(tmp_path):
    folder = need(MOCAP / "amc" / "hdm05" / "bd")
    import shutil

    sub = tmp_path / "hdm" / "bd"
    sub.mkdir(parents=True)
    shutil.copy(folder / "HDM_bd.asf", sub)
    for f in sorted(folder.glob("HDM_bd_squat*.amc"))[:3]:
        shutil.copy(f, sub)
    out = tmp_path / "amc.h5"
    r = cli("synth", tmp_path / "hdm", out, "--views", 1, "--workers", 1)
    assert r.exit_code == 0, r.output
    d = read(out)
    assert len(d["source"]) == 3 and set(d["subject"]) == {"bd"}
    assert sorted(d["split"]) == ["test", "train", "val"]
