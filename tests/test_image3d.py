"""The image/3D source kind: a reference npz and per-view 2D files → camera-frame targets; view consistency;
bad inputs as one-line errors; training with it resumes bit-identically.

The synthetic reference is written by hand (not by ``write_reference``): a known motion, two cameras, a sync
offset; the 2D files are its projections computed in the test with K (R X + t)."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pose3d_cli.errors import Pose3dError
from pose3d_cli.skeleton import COCO17, H36M17
from pose3d_cli.training import losses as L
from pose3d_cli.training.image3d import load_image3d_source
from pose3d_cli.training.sources import SourceSpec

J = H36M17.num_joints
ROOT = H36M17.index(H36M17.root)
T = 10


def rot_z(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])


# camera looking along world +Y (x right, y down = world -Z, z forward = world +Y), a second one turned 90° about Z
LOOK_Y = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
CAMS = {"camA": (LOOK_Y, np.array([0.0, 900.0, 4000.0])), "camB": (LOOK_Y @ rot_z(90), np.array([50.0, 900.0, 3500.0]))}
K = np.array([[1000.0, 0, 540], [0, 1000.0, 960], [0, 0, 1]])
OFFSETS = {"camA": 0, "camB": 2}


def motion():
    """(T, J, 3) world mm, Z up: a random body-sized pose translating along X."""
    g = np.random.default_rng(3)
    pose = g.normal(0, 250, (J, 3)) + np.array([0, 0, 1000.0])
    return pose[None] + np.arange(T)[:, None, None] * np.array([20.0, 0, 0])


def write_reference(path, world, cams=CAMS, names=H36M17.joints, with_cameras=True):
    fields = dict(joints=world.astype(np.float32), names=np.array(names), fps=np.float64(30), units=np.array("mm"),
                  up=np.array("z"), skeleton=np.array("h36m17"), frame=np.arange(T))
    if with_cameras:
        fields |= dict(camera_names=np.array(list(cams)), sync_offsets=np.array([OFFSETS[c] for c in cams]),
                       cam_K=np.stack([K] * len(cams)), cam_dist=np.zeros((len(cams), 5)),
                       cam_R=np.stack([cams[c][0] for c in cams]), cam_t=np.stack([cams[c][1] for c in cams]),
                       cam_size=np.array([[1080, 1920]] * len(cams)))
    np.savez(path, **fields)


def write_view(path, world, cam, drop_frame=None, skeleton=H36M17):
    """The exact projection of ``world`` into ``cam`` as a pose3d CSV; view frame = reference frame + offset."""
    R, t = CAMS[cam]
    lines = ["frame," + ",".join(f"{j}_{q}" for j in skeleton.joints for q in ("x", "y", "conf"))]
    for f in range(T):
        cells = [str(f + OFFSETS[cam])]
        for j in range(skeleton.num_joints):
            X = R @ world[f, j % J] + t
            u, v = K[0, 0] * X[0] / X[2] + K[0, 2], K[1, 1] * X[1] / X[2] + K[1, 2]
            cells += ["", "", ""] if f == drop_frame else [f"{u:.4f}", f"{v:.4f}", "0.9"]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def scene(tmp_path):
    world = motion()
    world[6, 3] = np.nan  # reference frame 6 lacks a joint: dropped
    ref = tmp_path / "ref.npz"
    write_reference(ref, world)
    write_view(tmp_path / "camA.csv", world, "camA")
    write_view(tmp_path / "camB.csv", world, "camB", drop_frame=3)  # camB saw nobody at reference frame 3
    return tmp_path, ref, world


def spec(ref, views, **kw):
    return SourceSpec(str(ref), "image3d", 1.0, views=[str(v) for v in views], **kw)


def test_targets_are_the_reference_in_each_camera_frame(scene):
    d, ref, world = scene
    vf = load_image3d_source(spec(ref, [d / "camB.csv", d / "camA.csv"], frames="2:9"), H36M17)
    assert vf.cameras == ["camB", "camA"]
    kept = [2, 4, 5, 7, 8]  # 3: camB missed it, 6: the reference lacks a joint, 9: outside the range
    assert vf.frame.tolist() == kept
    assert vf.ranges == [(0, 1), (1, 3), (3, 5)]
    for v, cam in enumerate(vf.cameras):
        R, t = CAMS[cam]
        assert np.allclose(vf.R[v].numpy(), R)
        for i, f in enumerate(kept):
            X = np.array([R @ world[f, j] + t for j in range(J)])  # camera frame, mm
            assert np.allclose(vf.target[i, v].numpy(), X - X[ROOT], atol=1e-2)
            assert np.allclose(vf.xy[i, v].numpy(), X[:, :2] / X[:, 2:], atol=1e-5)  # the 2D file, undistorted
            assert np.allclose(vf.conf[i, v].numpy(), 0.9)


def test_view_consistency_is_zero_for_one_world_pose_and_grows_away():
    world = motion()[:4] - motion()[:4, :, ROOT:ROOT + 1]  # (G=4, J, 3) root-relative world poses
    Rs = [R for R, _ in CAMS.values()] + [LOOK_Y @ rot_z(200)]
    V = len(Rs)
    pred = torch.tensor(np.stack([np.einsum("ij,gnj->gni", R, world) for R in Rs], axis=1)).flatten(0, 1)  # (G·V, J, 3)
    rot = torch.tensor(np.stack(Rs)).repeat(4, 1, 1)
    term = L.ViewConsistency(V)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(pred.shape, generator=g, dtype=pred.dtype) * 30
    values = [float(term(L.Batch(pred + k * noise, rotation=rot))) for k in (0, 1, 2)]
    assert values[0] == pytest.approx(0.0, abs=1e-9)
    assert values[2] > 1.9 * values[1] > 1.9 * 10
    # the same pose in every camera frame (a lifter blind to the viewpoint) is inconsistent
    same = torch.tensor(np.repeat(np.einsum("ij,gnj->gni", Rs[0], world)[:, None], V, axis=1)).flatten(0, 1)
    assert float(term(L.Batch(same, rotation=rot))) > 100


def test_bad_image3d_inputs_are_one_line_errors(scene, tmp_path):
    d, ref, world = scene
    # a view whose camera is not in the reference
    write_view(d / "camA.csv", world, "camA")
    (d / "cam09.csv").write_text((d / "camA.csv").read_text())
    with pytest.raises(Pose3dError, match="matches no camera"):
        load_image3d_source(spec(ref, [d / "camA.csv", d / "cam09.csv"]), H36M17)
    with pytest.raises(Pose3dError, match="no camera 'camZ'"):
        load_image3d_source(spec(ref, [d / "camA.csv"], cameras=["camZ"]), H36M17)
    # a reference without cameras (no intrinsics)
    plain = tmp_path / "plain.npz"
    write_reference(plain, world, with_cameras=False)
    with pytest.raises(Pose3dError, match="holds no cameras"):
        load_image3d_source(spec(plain, [d / "camA.csv"]), H36M17)
    # a reference of another skeleton
    other = tmp_path / "other.npz"
    write_reference(other, motion()[:, :COCO17.num_joints], names=COCO17.joints)
    with pytest.raises(Pose3dError, match="not h36m17"):
        load_image3d_source(spec(other, [d / "camA.csv"]), H36M17)
    # a frame range with nothing in it
    with pytest.raises(Pose3dError, match="no reference frame"):
        load_image3d_source(spec(ref, [d / "camA.csv"], frames="50:60"), H36M17)


def test_train_with_image3d_is_one_line_error_cli_and_resumes_bit_identically(scene, small_pairs, tmp_path):
    from pose3d_cli.cli.app import app
    from pose3d_cli.lifting.checkpoint import read_checkpoint
    from pose3d_cli.train import TrainConfig, last_path, train

    d, ref, world = scene
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"sources:\n  - {{path: {small_pairs}, kind: pairs}}\n"
                   f"  - {{path: {ref}, kind: image3d, views: [{d / 'cam09.csv'}]}}\n")
    (d / "cam09.csv").write_text((d / "camA.csv").read_text())
    r = CliRunner().invoke(app, ["train", str(bad), "-o", str(tmp_path / "x.pt"), "--arg", "width=32", "--epochs", "1"])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) <= 2 and "matches no camera" in r.stderr
    assert not (tmp_path / "x.pt").exists()

    fast = dict(model_args={"width": 32, "blocks": 1}, batch_size=256, threads=1, max_val_samples=300, clip=4)
    base = tmp_path / "base.pt"
    train(TrainConfig(data=str(small_pairs), output=str(base), epochs=1, **fast))
    common = dict(data=str(small_pairs), epochs=2, init=str(base), reproj_weight=1.0, view_weight=0.5,
                  bone_constancy_weight=0.5, smooth_weight=0.5, distill_weight=1.0, prior_weight=0.1,
                  sources=[{"path": str(ref), "kind": "image3d", "weight": 2.0, "frames": "0:9",
                            "views": [str(d / "camA.csv"), str(d / "camB.csv")]}], **fast)
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    sa = train(TrainConfig(output=str(a), **common))
    assert set(sa["history"][-1]["terms"]) >= {"image3d_mpjpe", "image3d_view_consistency", "image3d_reprojection",
                                               "image3d_distill", "image3d_prior"}
    assert train(TrainConfig(output=str(b), stop_after_steps=3, **common))["stopped"] == "stop_after_steps"
    train(TrainConfig(output=str(b), **common), resume=True)
    wa, wb = read_checkpoint(last_path(a)), read_checkpoint(last_path(b))
    for k in wa["state_dict"]:
        assert torch.equal(wa["state_dict"][k], wb["state_dict"][k]), k


def write_det3d(path, world, cam, swapped_frame=None, shift=np.array([10.0, -5.0, 20.0])):
    """A `pose3d infer --detector-3d --with-2d` CSV of ``cam``: the detector's 3D = the reference in the camera frame,
    root-relative, moved by ``shift`` (a known error); its own 2D = the exact projection. At ``swapped_frame`` the
    detector exchanged left and right, in its 2D and its 3D alike (what BlazePose does, and infer's swap fix undoes
    in the view's 2D file only)."""
    from pose3d_cli.infer.writers import PoseTrack, write_track

    R, t = CAMS[cam]
    X = np.einsum("ij,tnj->tni", R, world) + t
    det = X - X[:, ROOT:ROOT + 1] + shift
    det[:, ROOT] = 0.0
    uv = np.stack([K[0, 0] * X[..., 0] / X[..., 2] + K[0, 2], K[1, 1] * X[..., 1] / X[..., 2] + K[1, 2]], -1)
    if swapped_frame is not None:
        perm = H36M17.flip_permutation
        det[swapped_frame], uv[swapped_frame] = det[swapped_frame][perm], uv[swapped_frame][perm]
    frames = np.arange(T) + OFFSETS[cam]
    write_track(PoseTrack(frames, frames / 30.0, np.ones(T, bool), det, uv, np.full((T, J), 0.9), H36M17.joints),
                path, "csv", with_2d=True)
    return X - X[:, ROOT:ROOT + 1] + shift * (np.arange(J) != ROOT)[:, None]


def test_the_detector_3d_of_each_view_is_read_and_relabelled_where_the_views_2d_was(scene):
    d, ref, world = scene
    want = {c: write_det3d(d / f"{c}_det.csv", world, c, swapped_frame=5 if c == "camA" else None) for c in CAMS}
    s = spec(ref, [d / "camA.csv", d / "camB.csv"], frames="0:9", det3d=[str(d / "camA_det.csv"), str(d / "camB_det.csv")])
    assert load_image3d_source(s, H36M17).det is None  # a plain model does not read them
    vf = load_image3d_source(s, H36M17, with_det3d=True)
    for v, cam in enumerate(vf.cameras):
        rows = [f for f in range(9) if f not in (3, 6)]  # as in the targets' test
        np.testing.assert_allclose(vf.det[:, v].numpy(), want[cam][rows], atol=1e-2)  # frame 5 of camA relabelled
    s.det3d = [str(d / "camA.csv"), str(d / "camB_det.csv")]  # a 2D keypoint file, not a 3D output
    with pytest.raises(Pose3dError, match="camA.csv"):
        load_image3d_source(s, H36M17, with_det3d=True)
    # listed in another order than the views: each view would get the other camera's 3D (1.2 m off in its frame)
    s.det3d = [str(d / "camB_det.csv"), str(d / "camA_det.csv")]
    with pytest.raises(Pose3dError, match="camB_det.csv: its 2D is not the view's it is listed with"):
        load_image3d_source(s, H36M17, with_det3d=True)


def test_a_fused_model_learns_from_the_real_detector_3d_of_image3d_views(scene, small_pairs, tmp_path):
    """Fine-tuned on the views with their detector 3D, the fused model's output moves where the detector 3D is
    given and the run logs the image/3D terms; the same run without det3d files trains its plain path only."""
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.train import TrainConfig, train

    d, ref, world = scene
    for c in CAMS:
        write_det3d(d / f"{c}_det.csv", world, c)
    fast = dict(model="fused", model_args={"width": 32, "blocks": 1}, batch_size=256, threads=1, max_val_samples=300,
                clip=4, det3d_dropout=0.0)
    base = tmp_path / "base.pt"
    train(TrainConfig(data=str(small_pairs), output=str(base), epochs=1, **fast))
    src = {"path": str(ref), "kind": "image3d", "weight": 5.0, "frames": "0:9",
           "views": [str(d / "camA.csv"), str(d / "camB.csv")]}
    out = {}
    for tag, extra in (("with", {"det3d": [str(d / "camA_det.csv"), str(d / "camB_det.csv")]}), ("without", {})):
        out[tag] = tmp_path / f"{tag}.pt"
        s = train(TrainConfig(data=str(small_pairs), output=str(out[tag]), epochs=2, init=str(base), lr=1e-3,
                              sources=[{**src, **extra}], **fast))
        assert "image3d_mpjpe" in s["history"][-1]["terms"]
    vf = load_image3d_source(spec(ref, [d / "camA.csv"], frames="0:9", det3d=[str(d / "camA_det.csv")]), H36M17,
                             with_det3d=True)
    xy, conf, det = vf.xy[:, 0], vf.conf[:, 0], vf.det[:, 0]
    ones = torch.ones(len(xy))
    with torch.no_grad():
        a, b = (load_model(out[t]).model(xy, conf, det, ones) for t in ("with", "without"))
        base_out = load_model(base).model(xy, conf, det, ones)
    err = {k: float((v - vf.target[:, 0]).norm(dim=-1).mean()) for k, v in (("with", a), ("without", b), ("base", base_out))}
    assert not torch.allclose(a, b)  # the detector's 3D took part in the training
    assert err["with"] < err["base"]  # and fine-tuning on the views helped on them


def test_det3d_files_are_checked_with_the_source_and_refused_for_a_model_that_cannot_use_them(scene, small_pairs,
                                                                                               tmp_path):
    from pose3d_cli.train import TrainConfig, train
    from pose3d_cli.training.sources import parse_source

    d, ref, world = scene
    with pytest.raises(Pose3dError, match="det3d lists 1 files for 2 views"):
        parse_source({"path": str(ref), "kind": "image3d", "views": ["a.csv", "b.csv"], "det3d": ["a_det.csv"]}, "y")
    with pytest.raises(Pose3dError, match="cameras names 3 cameras for 2 views"):
        parse_source({"path": str(ref), "kind": "image3d", "views": ["a.csv", "b.csv"], "cameras": ["1", "2", "3"]}, "y")
    for c in CAMS:
        write_det3d(d / f"{c}_det.csv", world, c)
    src = {"path": str(ref), "kind": "image3d", "frames": "0:9", "views": [str(d / "camA.csv"), str(d / "camB.csv")],
           "det3d": [str(d / "camA_det.csv"), str(d / "camB_det.csv")]}
    with pytest.raises(Pose3dError, match="does not take the detector's 3D"):
        train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "m.pt"), model_args={"width": 32, "blocks": 1},
                          epochs=1, threads=1, sources=[src]))
    assert not (tmp_path / "m.pt").exists()


def test_a_fused_model_is_validated_with_the_detector_3d_it_runs_with(small_pairs, tmp_path):
    """The best epoch is chosen on what infer runs: the fused lifter given a detector 3D (simulated from the val
    targets with the measured error model and a fixed seed, computed here with the simulator itself); its 2D-only
    fallback is logged beside it. Before, val_mpjpe was the 2D-only path's, one the fused training rarely trains."""
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.lifting.codec import detector3d_to_network_input, pixels_to_network_input, root_relative
    from pose3d_cli.lifting.detector3d_sim import load_error_model, simulate_detector3d
    from pose3d_cli.metrics import mpjpe
    from pose3d_cli.train import VAL_DET3D_SEED, TrainConfig, train

    out = tmp_path / "f.pt"
    s = train(TrainConfig(data=str(small_pairs), output=str(out), epochs=1, model="fused", threads=1,
                          model_args={"width": 32, "blocks": 1}, batch_size=256, max_val_samples=100000,
                          det3d_dropout=0.0))
    rec = s["history"][-1]
    val = load_pairs(str(small_pairs)).split("val")
    K = val.K[val.camera_index]
    xy, conf = pixels_to_network_input(val.keypoints_2d, val.confidence, K, val.dist[val.camera_index]
                                       if np.any(val.dist) else None)
    tgt = root_relative(val.joints_3d, H36M17.index(H36M17.root))
    det, present = simulate_detector3d(tgt, np.random.default_rng(VAL_DET3D_SEED), load_error_model(), "h36m17", 0.0)
    det, mask = detector3d_to_network_input(det, present, tuple(xy.shape[:-1]))
    model = load_model(out).model.eval()
    with torch.no_grad():
        fused = model(torch.from_numpy(xy).float(), torch.from_numpy(conf).float(), torch.from_numpy(det),
                      torch.from_numpy(mask)).numpy()
        plain = model(torch.from_numpy(xy).float(), torch.from_numpy(conf).float()).numpy()
    assert rec["val_mpjpe"] == pytest.approx(float(mpjpe(fused, tgt).mean()), rel=1e-3)
    assert rec["val_mpjpe_2d_only"] == pytest.approx(float(mpjpe(plain, tgt).mean()), rel=1e-3)
    assert rec["val_mpjpe"] < rec["val_mpjpe_2d_only"]
