"""Triangulation on synthetic multi-view projections of real mocap, calibration readers, the CLI and bad inputs."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DATA, MOCAP, need
from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.geometry import look_at
from pose3d_cli.multiview.calibration import camera_for_video, read_qualisys, read_toml
from pose3d_cli.multiview.reference import read_reference
from pose3d_cli.multiview.triangulate import (epipolar_distance_px, reprojection_error, triangulate_robust,
                                              triangulate_views, undistort)
from pose3d_cli.skeleton import H36M17, get_skeleton
from pose3d_cli.synth.cameras import Camera, intrinsics_from_fov, save_rig

runner = CliRunner()
VIDEO = DATA / "video" / "pose2sim_single_person"
DIST = np.array([-0.05, 0.12, 0.0006, 0.0007, 0.0])  # like the shared Qualisys cameras


@pytest.fixture(scope="module")
def walk():
    """(60, 17, 3) mm world frames of a real Bandai Namco walk, every 2nd frame."""
    from pose3d_cli.mocap.load import load_motions

    m = load_motions(need(MOCAP / "bvh" / "bandai_namco_2" / "dataset-2_walk_normal_001.bvh"))[0]
    return m.joints[::2][:60].astype(np.float64)


def ring(X, n=4, dist=DIST):
    """n portrait cameras 4 m around the subject, 40 cm above its centre, looking at it, with distortion."""
    c = X.reshape(-1, 3).mean(0)
    cams = []
    for k, az in enumerate(np.linspace(0.3, 0.3 + 2 * np.pi, n, endpoint=False)):
        eye = c + np.array([4000 * np.cos(az), 4000 * np.sin(az), 400.0])
        R, t = look_at(eye, c)
        cams.append(Camera(intrinsics_from_fov(60, 1080, 1920), dist.copy(), R, t, (1080, 1920), f"cam{k + 1:02d}"))
    return cams


def views(X, cams):
    uv = np.stack([c.project(c.world_to_cam(X)) for c in cams])
    return uv, np.ones(uv.shape[:3])


def test_exact_projections_with_distortion_give_back_the_3d(walk):
    cams = ring(walk)
    uv, conf = views(walk, cams)
    assert np.abs(uv - views(walk, ring(walk, dist=np.zeros(5)))[0]).max() > 5  # the distortion matters
    r = triangulate_views(uv, conf, cams, H36M17)
    assert np.nanmax(np.linalg.norm(r.joints - walk, axis=-1)) < 1.0
    assert (r.offsets == 0).all() and not r.swapped.any() and r.used.all()
    # ignoring the distortion would not pass: the test sees the undistortion
    plain = ring(walk, dist=np.zeros(5))
    X = triangulate_robust(undistort(uv, plain), uv, conf, plain, 1e9)[0]
    assert np.linalg.norm(X - walk, axis=-1).max() > 1.0


def test_confidence_weights_the_views(walk):
    cams = ring(walk, 3)
    uv, conf = views(walk, cams)
    uv[2] += 6.0  # a biased view, below the rejection threshold
    xy = undistort(uv, cams)
    low = conf.copy()
    low[2] = 0.05
    e_equal = np.linalg.norm(triangulate_robust(xy, uv, conf, cams)[0] - walk, axis=-1).mean()
    e_low = np.linalg.norm(triangulate_robust(xy, uv, low, cams)[0] - walk, axis=-1).mean()
    assert e_low < 0.5 * e_equal


@pytest.mark.parametrize("n,view", [(4, 1), (4, 2), (4, 3), (4, 0), (3, 1), (3, 2)])
def test_repairs_an_injected_per_view_swap_whichever_view(walk, n, view):
    """Views were tested one after another against a 3D still holding the swapped view: a view swapped later in
    the order than a right one made that right one flip (490-570 mm off; 3 views: every case)."""
    cams = ring(walk, n)
    uv, conf = views(walk, cams)
    uv[view, 5:15] = uv[view, 5:15][:, H36M17.flip_permutation]
    r = triangulate_views(uv, conf, cams, H36M17, max_offset=0)
    swapped = r.swapped.any(-1)
    assert swapped[view, 5:15].all() and swapped.sum() == 10
    assert np.nanmax(np.linalg.norm(r.joints - walk, axis=-1)) < 1.0


def test_repairs_an_injected_per_view_swap(walk):
    cams = ring(walk)
    uv, conf = views(walk, cams)
    uv[1, 5:15] = uv[1, 5:15][:, H36M17.flip_permutation]  # view 2 labels left as right in frames 5-14
    r = triangulate_views(uv, conf, cams, H36M17, max_offset=0)
    swapped = r.swapped.any(-1)
    assert swapped[1, 5:15].all() and swapped.sum() == 10
    assert np.nanmax(np.linalg.norm(r.joints - walk, axis=-1)) < 1.0
    assert r.used[1, 5:15].all()  # the repaired view is used again
    off = triangulate_views(uv, conf, cams, H36M17, max_offset=0, fix_swaps=False)
    far = H36M17.indices([f"{s}_{j}" for s in ("left", "right") for j in ("wrist", "ankle")])
    assert np.linalg.norm(off.joints[5:15, far] - walk[5:15, far], axis=-1).mean() > 20.0  # the repair matters


def test_the_dlt_weighs_views_by_their_pixel_error(walk):
    """A DLT's rows measure normalised error times depth: a view 8× farther counted 8× more (1 px noise: 5 mm)."""
    from pose3d_cli.multiview.triangulate import _extrinsics, dlt, focal_px

    c = walk.reshape(-1, 3).mean(0)
    cams = []
    for k, (az, r) in enumerate(zip((0.3, 1.9, 3.5, 5.1), (1500, 1500, 12000, 12000))):
        R, t = look_at(c + np.array([r * np.cos(az), r * np.sin(az), 400.0]), c)
        cams.append(Camera(intrinsics_from_fov(60, 1080, 1920), np.zeros(5), R, t, (1080, 1920), f"cam{k}"))
    uv, conf = views(walk, cams)
    uv = uv + np.random.default_rng(0).normal(0, 1.0, uv.shape)
    xy, (R, t) = undistort(uv, cams), _extrinsics(cams)
    plain = np.linalg.norm(dlt(xy, conf, R, t, refine=False) - walk, axis=-1).mean()
    pixel = np.linalg.norm(dlt(xy, conf, R, t, focal_px(cams)) - walk, axis=-1).mean()
    assert pixel < 0.5 * plain and pixel < 2.0


def _late(uv, view, k):
    """View ``view`` shows reference frame t at its frame t + k (its edge frames repeated)."""
    out = uv.copy()
    out[view] = uv[view, np.clip(np.arange(uv.shape[1]) - k, 0, uv.shape[1] - 1)]
    return out


@pytest.mark.parametrize("n,delays", [(3, {2: -7}), (4, {1: 4, 2: 4, 3: 4}), (3, {1: 3, 2: -6}), (3, {})])
def test_sync_offsets_of_all_views_at_once(walk, n, delays):
    """Each view was searched against the others' triangulation at their current offsets: a late view pulled
    another (three views, the last 7 frames early: [0, 6, -3]; the first view early: [0, 0, 4, 0])."""
    cams = ring(walk, n)
    uv, conf = views(walk, cams)
    for v, k in delays.items():
        uv = _late(uv, v, k)
    r = triangulate_views(uv, conf, cams, H36M17, max_offset=10)
    assert list(r.offsets) == [delays.get(v, 0) for v in range(n)]


def test_a_still_body_in_three_views_takes_no_offset(walk):
    cams = ring(walk, 3)
    uv, conf = views(np.repeat(walk[:1], 40, 0), cams)
    assert list(triangulate_views(uv, conf, cams, H36M17, max_offset=10).offsets) == [0, 0, 0]


def test_rejects_an_outlier_view(walk):
    cams = ring(walk)
    uv, conf = views(walk, cams)
    wrist = H36M17.index("left_wrist")
    uv[3, 20:30, wrist] += 150.0  # a confident wrong detection in one view
    r = triangulate_views(uv, conf, cams, H36M17, max_offset=0)
    assert not r.used[3, 20:30, wrist].any() and r.used[:3, 20:30, wrist].all()
    assert np.linalg.norm(r.joints[20:30, wrist] - walk[20:30, wrist], axis=-1).max() < 1.0
    assert r.error_px[3, 20:30, wrist].min() > 100  # the rejected view's error is still reported


def test_finds_an_injected_sync_offset(walk):
    cams = ring(walk)
    uv, conf = views(walk, cams)
    late = uv.copy()
    late[2, 3:] = uv[2, :-3]  # view 3 shows reference frame t at its frame t + 3
    late[2, :3] = uv[2, 0]
    r = triangulate_views(late, conf, cams, H36M17)
    assert list(r.offsets) == [0, 0, 3, 0]
    assert np.nanmax(np.linalg.norm(r.joints[:-3] - walk[:-3], axis=-1)) < 1.0
    assert not r.used[2, -3:].any()  # the last 3 reference frames are beyond view 3's end


@pytest.mark.parametrize("late", [3, -4])
def test_two_views_are_synchronised_by_the_epipolar_distance(walk, late):
    """Two phones started by hand: view 2 shows reference frame t at its frame t + late. With two views the other
    view alone gives no 3D to reproject, so the epipolar distance decides (it was left at 0 before)."""
    cams = ring(walk, 2)
    uv, conf = views(walk, cams)
    shifted = np.empty_like(uv[1])
    src = np.clip(np.arange(len(walk)) - late, 0, len(walk) - 1)
    shifted[:] = uv[1, src]
    uv[1] = shifted
    r = triangulate_views(uv, conf, cams, H36M17)
    assert list(r.offsets) == [0, late]
    inner = slice(4, len(walk) - 4)
    assert np.nanmax(np.linalg.norm(r.joints[inner] - walk[inner], axis=-1)) < 1.0
    assert epipolar_distance_px(undistort(uv[:1], cams[:1])[0], undistort(uv[1:], cams[1:])[0], cams[0],
                                cams[1])[inner].max() > 5.0  # unsynchronised, the epipolar constraint is broken


def test_two_views_repair_a_swap_and_drop_what_they_disagree_on(walk):
    """Two views: view 2's labels swapped in frames 5-14 are put back by the epipolar distance, and a confident
    wrong wrist in frames 20-29 (which no third view can outvote) is left NaN instead of placed wrong."""
    cams = ring(walk, 2)
    uv, conf = views(walk, cams)
    uv[1, 5:15] = uv[1, 5:15][:, H36M17.flip_permutation]
    wrist = H36M17.index("left_wrist")
    uv[1, 20:30, wrist] += 150.0
    r = triangulate_views(uv, conf, cams, H36M17, max_offset=0)
    assert r.swapped[1, 5:15].any(-1).all() and r.swapped.any(-1).sum() == 10
    assert np.isnan(r.joints[20:30, wrist]).all() and not r.used[:, 20:30, wrist].any()
    good = np.ones(len(walk), bool)
    good[20:30] = False
    assert np.nanmax(np.linalg.norm(r.joints[good] - walk[good], axis=-1)) < 1.0
    assert np.isfinite(r.joints[good]).all()
    off = triangulate_views(uv, conf, cams, H36M17, max_offset=0, fix_swaps=False)
    assert np.isnan(off.joints[5:15]).any()  # unrepaired, the swapped frames disagree and are dropped


def blazepose_bodies(postures, feet_back=False):
    """(T, 33, 3) world mm BlazePose points of hand-made postures (tests/ergo_fk.py: facing +X, Z up) with heels and
    toes (pointing back for a kneel: ``feet_back``); NaN for the points not made (mouth, eye corners)."""
    from ergo_fk import JOINTS, hand_face

    bp = get_skeleton("blazepose33")
    out = np.full((len(postures), len(bp.joints), 3), np.nan)
    toe, heel = (np.array([-150.0, 0, -20]), np.array([50.0, 0, 40])) if feet_back else (
        np.array([150.0, 0, -70]), np.array([-50.0, 0, -60]))
    for t, w in enumerate(postures):
        pts = dict(zip(JOINTS, w)) | hand_face(w)
        for side in ("left", "right"):
            pts[f"{side}_heel"] = pts[f"{side}_ankle"] + heel
            pts[f"{side}_foot_index"] = pts[f"{side}_ankle"] + toe
        for n, v in pts.items():
            if n in bp.joints:
                out[t, bp.index(n)] = v + np.array([0.0, 0.0, 950.0])
    return out


def blazepose_walk(T=40):
    """(T, 33, 3) a hand-made, left-right asymmetric walk-like motion (:func:`blazepose_bodies`)."""
    from ergo_fk import posture

    a = 25 * np.sin(2 * np.pi * np.arange(T) / 20)
    return blazepose_bodies([posture(arm_flex=(x, -x + 10), elbow=(30 + x, 40), thigh_fwd=(max(x, 0), max(-x, 0)),
                                     shank_back=(20, 10), trunk_flex=5) for x in a])


def two_phones(X, apart=80.0):
    """Two portrait phones ``apart`` degrees apart in front of the body X (T, J, 3), 3.5 m away, 0.5 m above it, and
    their exact 2D (2, T, J, 2) and confidences (0 where X is NaN)."""
    c = np.nanmean(X.reshape(-1, 3), axis=0)
    cams = []
    for k, az in enumerate((-apart / 2, apart / 2)):
        eye = c + 3500 * np.array([np.cos(np.radians(az)), np.sin(np.radians(az)), 0.0]) + np.array([0, 0, 500.0])
        R, t = look_at(eye, c)
        cams.append(Camera(intrinsics_from_fov(65, 1080, 1920), np.zeros(5), R, t, (1080, 1920), f"phone{k + 1}"))
    uv = np.stack([cam.project(cam.world_to_cam(np.nan_to_num(X))) for cam in cams])
    return cams, uv, np.where(np.isfinite(X).all(-1), 1.0, 0.0)[None].repeat(2, 0)


def test_two_views_put_the_labels_right_when_the_first_view_is_swapped():
    """Two phones 80° apart in front of the worker; the FIRST view's 2D labels swapped in frames 5-14 (arms, legs and
    face). Relabelling the second view to agree gives 3D with left and right exchanged; the 3D's own facing (nose
    ahead of the ears, toes ahead of the heels) puts it right."""
    X = blazepose_walk()
    bp = get_skeleton("blazepose33")
    cams, uv, conf = two_phones(X)
    uv[0, 5:15] = uv[0, 5:15][:, bp.flip_permutation]
    r = triangulate_views(uv, conf, cams, bp, max_offset=0)
    seen = np.isfinite(X).all(-1)
    assert np.nanmax(np.linalg.norm(r.joints - X, axis=-1)[seen]) < 1.0
    assert r.swapped[0, 5:15].all() and r.swapped[0].sum() == 30 and not r.swapped[1].any()  # 3 groups, view 1
    plain = triangulate_views(uv, conf, cams, bp, max_offset=0, fix_swaps=False)
    assert np.nanmax(np.linalg.norm(plain.joints[5:15] - X[5:15], axis=-1)) > 100  # unrepaired: wrong


def test_two_views_need_both():
    X = np.array([[[0.0, 0, 1000]]])
    cams = ring(X, 2)
    uv, conf = views(X, cams)
    conf[1] = 0
    r = triangulate_views(uv, conf, cams, H36M17.__class__("one", ("a",), (None,)), max_offset=0)
    assert np.isnan(r.joints).all()


# ---------------------------------------------------------------------------------------------- calibration


def test_qualisys_reprojection_is_consistent_across_the_four_views():
    """A point triangulated from 3 of the shared views reprojects into the 4th within a few px: the K, distortion
    and extrinsic conventions hold together. BlazePose's 2D of the shared clip is not needed: the cameras' own
    geometry gives the test points (a 3D grid around the subject's area, seen by every camera)."""
    cams = read_qualisys(need(VIDEO / "Calib.qca.txt"))
    assert [c.name for c in cams] == ["cam01", "cam02", "cam03", "cam04"] and cams[0].size == (1088, 1920)
    for c in cams:
        assert np.allclose(c.R @ c.R.T, np.eye(3), atol=1e-6)
    # the cameras look at a common volume: its centre is where their optical axes pass closest
    centres = np.stack([-c.R.T @ c.t for c in cams])
    axes = np.stack([c.R[2] for c in cams])
    A = sum(np.eye(3) - np.outer(a, a) for a in axes)
    b = sum((np.eye(3) - np.outer(a, a)) @ p for a, p in zip(axes, centres))
    centre = np.linalg.solve(A, b)
    assert 0 < centre[2] < 2000  # above the floor (Z up), below the ceiling
    g = np.stack(np.meshgrid(*[np.linspace(-400, 400, 3)] * 3), -1).reshape(1, -1, 3) + centre
    uv, conf = views(g, cams)
    for c, p in zip(cams, uv):
        assert ((p > 0) & (p < c.size)).all()  # every grid point is inside every image
    for leave in range(4):
        keep = [k for k in range(4) if k != leave]
        X = triangulate_robust(undistort(uv[keep], [cams[k] for k in keep]), uv[keep], conf[keep],
                               [cams[k] for k in keep])[0]
        assert reprojection_error(X, uv[[leave]], [cams[leave]]).max() < 1e-3


def test_toml_anipose_and_pose2sim(tmp_path, walk):
    cams = ring(walk, 2)

    def rvec(R):
        angle = np.arccos((np.trace(R) - 1) / 2)
        w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / (2 * np.sin(angle))
        return w * angle

    def table(c, scale, extra=""):
        return (f"[cam_{c.name}]\nname = \"{c.name}\"\nsize = [{c.size[0]}, {c.size[1]}]\n"
                f"matrix = {c.K.tolist()}\ndistortions = {c.dist[:4].tolist()}\n"
                f"rotation = {rvec(c.R).tolist()}\ntranslation = {(c.t / scale).tolist()}\n{extra}\n")

    anipose = tmp_path / "calibration.toml"
    anipose.write_text("".join(table(c, 1.0) for c in cams) + "[metadata]\nadjusted = false\n")
    pose2sim = tmp_path / "Calib.toml"
    pose2sim.write_text("".join(table(c, 1000.0, "fisheye = false") for c in cams) + "[metadata]\nerror = 0.0\n")
    for path in (anipose, pose2sim):
        got = read_toml(path)
        for a, b in zip(got, cams):
            assert a.name == b.name and a.size == b.size
            np.testing.assert_allclose(a.R, b.R, atol=1e-9)
            np.testing.assert_allclose(a.t, b.t, atol=1e-6)  # mm either way
            np.testing.assert_allclose(a.dist[:4], b.dist[:4])
    np.testing.assert_allclose(read_toml(pose2sim, units="mm")[0].t, cams[0].t / 1000, atol=1e-9)
    # anipose's fisheye cameras (OpenCV's fisheye model) were read as pinhole (16° off at an image corner), and their
    # 'fisheye' key alone made mm read as metres; 8 coefficients were cut to 5: refused in one line each
    fisheye = tmp_path / "fisheye.toml"
    fisheye.write_text("".join(table(c, 1.0, "fisheye = true") for c in cams))
    with pytest.raises(Exception, match="fisheye camera"):
        read_toml(fisheye)
    np.testing.assert_allclose(read_toml(anipose)[0].t, cams[0].t, atol=1e-6)  # mm stays mm without the key
    rational = tmp_path / "rational.toml"
    rational.write_text("".join(table(c, 1.0).replace(f"distortions = {c.dist[:4].tolist()}",
                                                       "distortions = [0.1, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0]")
                                for c in cams))
    with pytest.raises(Exception, match="8 distortion coefficients"):
        read_toml(rational)


def test_camera_for_video_never_falls_back_silently():
    cams = ring(np.zeros((1, 1, 3)) + [0, 0, 1000.0])
    assert camera_for_video(cams, "/x/run_cam02.mp4").name == "cam02"
    with pytest.raises(Exception, match="matches no camera.*cam01, cam02, cam03, cam04.*--calib-camera"):
        camera_for_video(cams, "/x/worker.mp4", option="--calib-camera")


# ---------------------------------------------------------------------------------------------- CLI


def keypoint_files(tmp_path, walk, n=4, lengths=None, names=None):
    cams = ring(walk, n)
    rig = tmp_path / "rig.json"
    save_rig(cams, rig)
    uv, conf = views(walk, cams)
    files = []
    for k, c in enumerate(cams):
        T = (lengths or [len(walk)] * n)[k]
        f = tmp_path / f"{(names or [c.name] * n)[k]}_2d.csv"
        write_keypoints_csv(KeypointSequence(uv[k, :T], conf[k, :T], "h36m17", np.arange(T), 50.0, c.size), f)
        files.append(str(f))
    return rig, files


def test_cli_triangulates_2d_files_into_a_reference_that_synth_reads(tmp_path, walk):
    rig, files = keypoint_files(tmp_path, walk)
    out = tmp_path / "ref.npz"
    r = runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "cam03" in r.output and "sync" in r.output
    ref = read_reference(out)
    assert ref.names == H36M17.joints and ref.fps == 50.0 and [c.name for c in ref.cameras] == ["cam01", "cam02", "cam03", "cam04"]
    assert np.nanmax(np.linalg.norm(ref.joints - walk, axis=-1)) < 1.0
    from pose3d_cli.mocap.load import load_motions

    m = load_motions(out)[0]  # what `pose3d synth` reads
    assert m.joints.shape == walk.shape and np.abs(m.joints - walk).max() < 1.0
    h5 = tmp_path / "pairs.h5"
    r = runner.invoke(app, ["-q", "synth", str(out), str(h5), "--views", "1", "--cameras", str(rig), "--clean",
                            "--val", "0", "--test", "0"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("case", ["lengths", "fewer_cameras", "unknown_name", "same_camera"])
def test_cli_bad_inputs_one_line_exit_2_nothing_written(tmp_path, walk, case):
    if case == "lengths":
        rig, files = keypoint_files(tmp_path, walk, lengths=[60, 60, 59, 60])
        want = "different lengths"
    elif case == "fewer_cameras":
        rig, files = keypoint_files(tmp_path, walk, 4)
        save_rig(ring(walk, 3), rig)
        want = "has 3 cameras"
    elif case == "unknown_name":
        rig, files = keypoint_files(tmp_path, walk, names=["cam01", "cam02", "side", "cam04"])
        want = "matches no camera"
    else:
        rig, files = keypoint_files(tmp_path, walk, names=["cam01", "cam02", "cam02b", "cam04"])
        want = "already used"
    out = tmp_path / "ref.npz"
    r = runner.invoke(app, ["triangulate", *files, "--calib", str(rig), "-o", str(out)])
    assert r.exit_code == 2, r.output
    assert want in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.strip().splitlines() if ln.strip()]) <= 3  # one message (rich may wrap it)
    assert not out.exists() and not list(tmp_path.glob(".ref*"))


def test_infer_calib_refuses_a_video_that_names_no_camera(tmp_path):
    calib = need(VIDEO / "Calib.qca.txt")
    video = tmp_path / "worker.mp4"
    video.write_bytes((need(VIDEO / "cam01.mp4")).read_bytes())
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["infer", str(video), "--calib", str(calib), "-o", str(out)])
    assert r.exit_code == 2, r.output
    assert "matches no camera" in r.output and "cam01, cam02, cam03, cam04" in r.output and "--calib-camera" in r.output
    assert not out.exists()


# ---------------------------------------------------------------------------------------------- bad view files


@pytest.fixture()
def tiny_views(tmp_path):
    """A rig of 3 cameras and one pose3d 2D CSV per camera of 12 frames of a random 17-joint body (no shared data)."""
    rng = np.random.default_rng(0)
    X = np.array([0, 0, 1000.0]) + rng.normal(0, 300, (1, 17, 3)) + rng.normal(0, 20, (12, 17, 3))
    cams = ring(X, 3)
    rig = tmp_path / "rig.json"
    save_rig(cams, rig)
    uv, conf = views(X, cams)
    files = []
    for k, c in enumerate(cams):
        f = tmp_path / f"{c.name}_2d.csv"
        write_keypoints_csv(KeypointSequence(uv[k], conf[k], "h36m17", np.arange(12), 50.0, c.size), f)
        files.append(f)
    return rig, files


def _refused_naming(r, want, out):
    assert r.exit_code == 2, r.output
    assert want in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*"))


@pytest.mark.parametrize("case", ["truncated", "header_only", "short"])
def test_cli_names_the_bad_view_not_a_valid_one(tiny_views, case):
    rig, files = tiny_views
    bad = files[1]
    lines = bad.read_text().splitlines()
    if case == "truncated":  # the last row cut in the middle: refused with its line, not read as a short view
        bad.write_text("\n".join(lines)[:-150])
        want = f"{bad}: line {len(lines)} has"
    elif case == "header_only":
        bad.write_text("\n".join(ln for ln in lines if ln.startswith(("#", "frame"))) + "\n")
        want = f"{bad}: the CSV has a header but no frames"
    else:
        bad.write_text("\n".join(lines[:-4]) + "\n")
        want = f"{bad}: 8 frames, fewer than {files[0].name}'s 12"
    out = rig.parent / "ref.npz"
    r = runner.invoke(app, ["triangulate", *map(str, files), "--calib", str(rig), "-o", str(out)])
    _refused_naming(r, want, out)


def test_cli_refuses_an_output_that_is_not_npz(tiny_views):
    rig, files = tiny_views
    out = rig.parent / "ref.csv"
    r = runner.invoke(app, ["triangulate", *map(str, files), "--calib", str(rig), "-o", str(out)])
    _refused_naming(r, f"{out}: -o writes a reference .npz", out)
    ok = rig.parent / "ref.npz"
    r = runner.invoke(app, ["-q", "triangulate", *map(str, files), "--calib", str(rig), "-o", str(ok)])
    assert r.exit_code == 0, r.output
    assert read_reference(ok).joints.shape == (12, 17, 3) and not list(ok.parent.glob(".ref.npz*"))


def test_an_offset_that_barely_beats_no_shift_is_called_uncertain():
    """Costs by hand (shifts -2..2): view 2's +1 (3.0 px against 5.0 at 0) is clear; view 3's -1 (8.0 against 8.5)
    is within 10% of no shift and is named."""
    from pose3d_cli.multiview.triangulate import uncertain_offsets

    cost = np.array([[np.nan] * 5, [5.0, 4.9, 5.0, 3.0, 6.0], [9.0, 8.0, 8.5, 9.0, 9.0]])
    assert uncertain_offsets(np.array([0, 1, -1]), cost) == [(2, -1, 8.0, 8.5)]
    assert uncertain_offsets(np.array([0, 0, 0]), cost) == []
    assert uncertain_offsets(np.array([0, 0]), np.zeros((2, 0))) == []


def test_two_views_agreeing_as_detected_are_not_relabelled_in_a_deep_bend_or_a_kneel():
    """Bent 90° forward the nose is no longer ahead of the ears; kneeling, the toes point back: the 3D facing cues
    turn backwards, but two views whose labels agree as detected keep them."""
    from ergo_fk import posture

    bp = get_skeleton("blazepose33")
    for bodies in (blazepose_bodies([posture(trunk_flex=90, arm_flex=(60, 60))] * 10),
                   blazepose_bodies([posture(thigh_fwd=(0, 0), shank_back=(90, 90))] * 10, feet_back=True)):
        cams, uv, conf = two_phones(bodies)
        r = triangulate_views(uv, conf, cams, bp, max_offset=0)
        seen = np.isfinite(bodies).all(-1)
        assert np.nanmax(np.linalg.norm(r.joints - bodies, axis=-1)[seen]) < 1.0 and not r.swapped.any()


def test_two_views_drop_a_point_only_beyond_one_and_a_half_thresholds():
    """A wrist seen displaced in the second view: its DLT splits the disagreement between the two views. Kept while
    both reprojection errors stay under 1.5 x 20 px (even above 20), NaN beyond."""
    X = blazepose_walk(10)
    bp = get_skeleton("blazepose33")
    wrist = bp.index("left_wrist")
    for shift, kept in ((45.0, True), (90.0, False)):
        cams, uv, conf = two_phones(X)
        uv[1, :, wrist, 1] += shift
        r = triangulate_views(uv, conf, cams, bp, max_offset=0, fix_swaps=False)
        worst = r.error_px[:, :, wrist].max(0)
        assert (worst > 20).all() if kept else (worst > 30).all()
        assert np.isfinite(r.joints[:, wrist]).all() == kept and (np.isnan(r.joints[:, wrist]).all() != kept)


def test_two_views_of_a_still_body_take_no_offset():
    """Every shift fits a still body equally: the smallest is taken (not the first searched, -10)."""
    from ergo_fk import posture

    X = blazepose_bodies([posture(arm_flex=(40, 10))] * 30)
    cams, uv, conf = two_phones(X)
    r = triangulate_views(uv, conf, cams, get_skeleton("blazepose33"))
    assert list(r.offsets) == [0, 0]


def test_the_default_sync_search_covers_three_seconds_of_a_long_clip():
    from pose3d_cli.multiview.reference import auto_max_offset

    assert auto_max_offset(30.0, 1800) == 90 and auto_max_offset(60.0, 100) == 25  # 3 s; a quarter of a short clip
    assert auto_max_offset(0.0, 4) == 1 and auto_max_offset(float("nan"), 1000) == 90  # no rate: 30 fps assumed
