"""`pose3d ergo worker.npz`: RULA/REBA from a multi-view reference (`pose3d triangulate`), in the world frame.

The references are built here from hand-made postures (tests/ergo_fk.py: world X anterior, Y left, Z up), placed
away from the origin as a triangulation would place them. Expected bands are typed by hand from RULA's definition.
"""

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DATA, need
from ergo_fk import JOINTS, camera, hand_face, posture, to_camera
from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.geometry import look_at
from pose3d_cli.infer.writers import PoseTrack, write_track
from pose3d_cli.skeleton import get_skeleton
from pose3d_cli.synth.cameras import Camera, intrinsics_from_fov, save_rig

runner = CliRunner()
WHERE = np.array([1200.0, -800.0, 950.0])  # the pelvis's place in the room (mm)
BP33 = get_skeleton("blazepose33").joints


def write_reference(path, world, fps=30.0, points=None, **overrides):
    """A pose3d array npz like `pose3d triangulate`'s: world (T, 17, 3) hand-made joints placed at ``WHERE``;
    ``points``: per frame, {blazepose33 name: (3,)} of the triangulated detector points."""
    arrays = dict(joints=(np.asarray(world) + WHERE).astype(np.float32), names=np.array(JOINTS),
                  fps=np.float64(fps), units=np.array("mm"), up=np.array("z"), skeleton=np.array("h36m17"),
                  frame=np.arange(len(world), dtype=np.int64))
    if points is not None:
        src = np.full((len(world), len(BP33), 3), np.nan, np.float32)
        for t, pts in enumerate(points):
            for n, v in pts.items():
                src[t, BP33.index(n)] = np.asarray(v) + WHERE
        arrays.update(source_joints=src, source_names=np.array(BP33), source_skeleton=np.array("blazepose33"))
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def held(postures, n=30):
    """Each posture held for ``n`` frames, one after the other: (len * n, 17, 3)."""
    return np.concatenate([np.repeat(p[None], n, axis=0) for p in postures])


def rows(path):
    return list(csv.DictReader(open(path)))


def run(*args):
    return runner.invoke(app, ["ergo", *map(str, args)])


def test_trunk_bands_are_measured_against_the_world_s_z(tmp_path):
    """RULA trunk: upright (within the 5° dead band) 1, 0-20° 2, 20-60° 3, > 60° 4. A reader that took the camera's
    −y as up would see this Z-up trunk lying on its side (every frame 4)."""
    ref = write_reference(tmp_path / "worker.npz", held([posture(trunk_flex=f) for f in (0, 15, 30, 70)]))
    out, js = tmp_path / "frames.csv", tmp_path / "s.json"
    res = run(ref, "-o", out, "--json", js, "--neck-neutral-deg", 0)
    assert res.exit_code == 0, res.output
    r = rows(out)
    assert [int(r[15 + 30 * k]["rula_trunk"]) for k in range(4)] == [1, 2, 3, 4]
    assert [round(float(r[15 + 30 * k]["trunk_flexion_deg"])) for k in range(4)] == [0, 15, 30, 70]
    s = json.loads(js.read_text())
    assert s["coordinates"] == "world" and s["vertical"]["up_world_frame"] == [0.0, 0.0, 1.0]
    assert "world frame" in s["vertical"]["source"]
    assert s["filming"]["camera_warnings"] == [] and s["filming"]["percent_time_seen_from"] == {}
    assert s["angle_accuracy_measured_deg"]["rmse_range"] == {}  # the monocular figures do not apply
    assert "world frame" in res.output


def test_same_scores_as_one_camera_told_the_vertical(tmp_path):
    """The same postures scored from the world frame and from a pitched, off-axis camera told its up: identical
    scores frame by frame (where the person stands and how the 3D is oriented do not matter)."""
    world = held([posture(trunk_flex=35, arm_flex=(100, 20), elbow=(40, 110), neck_flex=25),
                  posture(trunk_side=25, arm_abd=(0, 70), thigh_fwd=(70, 0), shank_back=(0, 0)),
                  posture()], 20)
    ref = write_reference(tmp_path / "worker.npz", world)
    R = camera(40, 20)
    p, up = to_camera(world, R)
    T = len(world)
    track = PoseTrack(np.arange(T), np.arange(T) / 30.0, np.ones(T, bool), p.astype(np.float32),
                      np.zeros((T, 17, 2), np.float32), np.ones((T, 17), np.float32), JOINTS,
                      {"skeleton": "h36m17", "fps": 30.0, "input": "worker.mp4"})
    write_track(track, tmp_path / "poses.csv", "csv")
    a = run(ref, "-o", tmp_path / "a.csv")
    b = run(tmp_path / "poses.csv", "-o", tmp_path / "b.csv", "--up", ",".join(f"{v:.9f}" for v in up))
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ra, rb = rows(tmp_path / "a.csv"), rows(tmp_path / "b.csv")
    for key in ("rula_grand", "reba_reba", "rula_upper_arm_left", "rula_lower_arm_right", "reba_legs", "rula_trunk"):
        assert [x[key] for x in ra] == [x[key] for x in rb], key
    assert {x["rula_grand"] for x in ra} != {ra[0]["rula_grand"]}  # the postures differ in score


def test_the_triangulated_hand_points_give_the_wrist(tmp_path):
    """Left wrist flexed 45° (RULA wrist: > 15° → 3), measured from the triangulated index/pinky points."""
    w = posture(arm_flex=(30, 30))
    pts = hand_face(w, wrist_flex=(45.0, 0.0))
    ref = write_reference(tmp_path / "worker.npz", held([w], 40), points=[pts] * 40)
    out = tmp_path / "f.csv"
    res = run(ref, "-o", out, "--hand-points", "auto", "--report", tmp_path / "r.html")
    assert res.exit_code == 0, res.output
    r = rows(out)[20]
    assert abs(float(r["wrist_flexion_left_deg"]) - 45) < 1 and int(r["rula_wrist_left"]) == 3
    assert "wrist_left" in r["measured"]
    html = (tmp_path / "r.html").read_text()
    assert "up in the world frame" in html and "triangulated from" in html


@pytest.mark.parametrize("extra, msg", [
    (["--calib", "{calib}"], "--calib does not apply to a multi-view reference"),
    (["--up", "0,-1,0"], "--up does not apply to a multi-view reference"),
    (["--person", "2"], "holds one person"),
    (["--vertical", "lines"], "--vertical lines does not apply"),
    (["--fov", "60"], "--fov/--focal does not apply"),
    (["--vertical", "body"], "--vertical body does not apply"),
    (["--smooth", "none"], "--smooth does not apply"),
    (["--detector", "lite"], "--detector/--detector-model/--detect-width does not apply"),
    (["--calib-camera", "cam01"], "--calib-camera does not apply"),
])
def test_options_that_cannot_apply_are_refused(tmp_path, extra, msg):
    ref = write_reference(tmp_path / "worker.npz", held([posture()], 10))
    calib = tmp_path / "rig.json"
    calib.write_text("{}")
    out = tmp_path / "f.csv"
    res = run(ref, "-o", out, *[e.format(calib=calib) for e in extra])
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
    assert not out.exists()


@pytest.mark.parametrize("case, msg", [
    ("y_up", "a Y-up reference"),
    ("no_fps", "no frame rate; give --fps"),
    ("other_joints", "a reference of other joints"),
    ("text", "not a pose3d reference"),
    ("backwards", "'frame' numbers do not increase"),
    ("all_nan", "no joint of any frame was triangulated"),
])
def test_bad_references_one_line_nothing_written(tmp_path, case, msg):
    path = tmp_path / "worker.npz"
    if case == "text":
        path.write_text("frame,x\n0,1\n")
    else:
        over = {"y_up": dict(up=np.array("y")), "no_fps": dict(fps=np.float64(0)),
                "other_joints": dict(names=np.array([f"j{k}" for k in range(17)])),
                "backwards": dict(frame=np.array([0, 1, 2, 3, 2, 5, 6, 7, 8, 9])),
                "all_nan": dict(joints=np.full((10, 17, 3), np.nan, np.float32))}[case]
        write_reference(path, held([posture()], 10), **over)
    out = tmp_path / "f.csv"
    res = run(path, "-o", out)
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
    assert not out.exists()


def test_fps_option_gives_a_rate_to_a_reference_without_one(tmp_path):
    ref = write_reference(tmp_path / "worker.npz", held([posture()], 10), fps=np.float64(0))
    res = run(ref, "-o", tmp_path / "f.csv", "--fps", 25)
    assert res.exit_code == 0, res.output
    assert float(rows(tmp_path / "f.csv")[5]["time_s"]) == pytest.approx(0.2)


def two_phones(tmp_path, world, fps=30.0, late=0):
    """Two calibrated portrait phones 3.5 m from the worker, 80° apart, 1.5 m high, and each one's exact 2D of the
    hand-made ``world`` poses (placed at ``WHERE``) as a pose3d 2D CSV named after its camera; the second phone
    started ``late`` frames after the first (its frame t + late shows the first's frame t)."""
    X = np.asarray(world) + WHERE
    c = X.reshape(-1, 3).mean(0)
    cams, files = [], []
    for k, az in enumerate((-40.0, 40.0)):
        a = np.radians(az)
        eye = np.array([c[0] + 3500 * np.cos(a), c[1] + 3500 * np.sin(a), 1500.0])  # the worker faces +X
        R, t = look_at(eye, c)
        cam = Camera(intrinsics_from_fov(65, 1080, 1920), np.zeros(5), R, t, (1080, 1920), f"phone{k + 1}")
        uv = cam.project(cam.world_to_cam(X))
        if k == 1 and late:
            uv = uv[np.clip(np.arange(len(uv)) - late, 0, len(uv) - 1)]
        f = tmp_path / f"phone{k + 1}_2d.csv"
        write_keypoints_csv(KeypointSequence(uv, np.ones(uv.shape[:2]), "h36m17", np.arange(len(X)), fps, cam.size), f)
        cams.append(cam)
        files.append(f)
    rig = tmp_path / "rig.json"
    save_rig(cams, rig)
    return rig, files


def test_two_calibrated_phones_in_one_command(tmp_path):
    """`pose3d ergo phone1 phone2 --calib rig`: triangulated, then scored as the reference is (trunk bands by hand,
    as above); --poses keeps the triangulation, written with the scores."""
    world = held([posture(trunk_flex=f) for f in (0, 15, 30, 70)])
    rig, files = two_phones(tmp_path, world)
    out, tri = tmp_path / "frames.csv", tmp_path / "worker.npz"
    res = run(*files, "--calib", rig, "-o", out, "--poses", tri, "--neck-neutral-deg", 0, "--max-offset", 20)
    assert res.exit_code == 0, res.output
    r = rows(out)
    assert [int(r[15 + 30 * k]["rula_trunk"]) for k in range(4)] == [1, 2, 3, 4]
    z = np.load(tri)
    assert list(z["camera_names"]) == ["phone1", "phone2"]
    assert np.nanmax(np.abs(z["joints"] - (world + WHERE))) < 1.0
    assert not list(tmp_path.glob(".pose3d-views-*"))  # no temporary left behind
    assert r[0]["frame"] == "0" and "phone1_2d.csv + phone2_2d.csv" in res.output  # the inputs, not the temporary


def test_two_phones_started_apart_are_synchronised_and_said_so(tmp_path):
    """The second phone started 3 frames late on a moving worker: found (the summary's notes say so) and scored as
    the same phones in sync are (still postures would fit any shift: tested in test_triangulate)."""
    t = np.arange(90)
    world = np.stack([posture(trunk_flex=35 + 35 * np.sin(k / 7), arm_flex=(60 + 50 * np.sin(k / 5), 20))
                      for k in t])
    scores = {}
    for late in (0, 3):
        folder = tmp_path / f"late{late}"
        folder.mkdir()
        rig, files = two_phones(folder, world, late=late)
        js, out = folder / "s.json", folder / "f.csv"
        res = run(*files, "--calib", rig, "--json", js, "-o", out)
        assert res.exit_code == 0, res.output
        notes = json.loads(js.read_text())["camera_notes"]
        scores[late] = [r["rula_grand"] for r in rows(out)][5:-5]
    assert any(n.startswith("sync offset of phone2_2d.csv: +3 frames against phone1_2d.csv") for n in notes)
    assert any(n.startswith("triangulation's median reprojection error") for n in notes)
    assert scores[3] == scores[0] and len(set(scores[0])) > 1
    # a rig from `pose3d calibrate` that recorded another offset (+1) than the search finds (+3): both are said
    data = json.loads(rig.read_text())
    data.update(calibrated_by="pose3d calibrate (test)", sync_offset_frames=1)
    rig.write_text(json.dumps(data))
    assert run(*files, "--calib", rig, "--json", js, "-o", out).exit_code == 0
    notes = json.loads(js.read_text())["camera_notes"]
    assert any("`pose3d calibrate` found phone2_2d.csv at +1 frames, this triangulation's search at +3" in n
               for n in notes), notes


@pytest.mark.parametrize("extra, msg", [
    ([], "needs their calibration: give --calib"),
    (["--calib", "{rig}", "--calib-camera", "phone1"], "--calib-camera names one camera"),
    (["--calib", "{rig}", "--up", "0,0,1"], "--up does not apply"),
    (["--calib", "{rig}", "--poses", "{tmp}/p.csv"], "--poses writes a .npz file"),
    (["--calib", "{rig}", "--person", "1"], "holds one person"),
])
def test_two_phones_refusals_before_any_work(tmp_path, extra, msg):
    rig, files = two_phones(tmp_path, held([posture()], 10))
    out = tmp_path / "f.csv"
    res = run(*files, "-o", out, *[e.format(rig=rig, tmp=tmp_path) for e in extra])
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
    assert not out.exists()


def test_known_sync_offsets_are_used_as_given(tmp_path):
    """The second phone started 3 frames late, known from a clap: --offsets 0,3 scores as the in-sync phones do, where
    a wrong given offset (0,-3) does not; bad values refused before any work."""
    t = np.arange(90)
    world = np.stack([posture(trunk_flex=35 + 35 * np.sin(k / 7), arm_flex=(60 + 50 * np.sin(k / 5), 20)) for k in t])
    grand = {}
    for name, late, offs in (("sync", 0, "0,0"), ("given", 3, "0,3"), ("wrong", 3, "0,-3")):
        folder = tmp_path / name
        folder.mkdir()
        rig, files = two_phones(folder, world, late=late)
        out, js = folder / "f.csv", folder / "s.json"
        res = run(*files, "--calib", rig, "-o", out, "--json", js, "--offsets", offs)
        assert res.exit_code == 0, res.output
        grand[name] = [r["rula_grand"] for r in rows(out)][5:-5]
        assert f"sync offsets given: {', '.join(f'{int(o):+d}' for o in offs.split(','))} frames" in json.loads(
            js.read_text())["camera_notes"]
    assert grand["given"] == grand["sync"] and grand["wrong"] != grand["sync"]
    for bad, msg in (("0", "give 2 whole numbers"), ("1,3", "the first 0"), ("0,x", "give 2 whole numbers"),
                     ("0,500", "would share too few frames")):
        res = run(*files, "--calib", rig, "-o", tmp_path / "g.csv", "--offsets", bad)
        assert res.exit_code == 2 and msg in res.output and not (tmp_path / "g.csv").exists(), (bad, res.output)


def test_cameras_named_in_order_when_the_file_names_do_not_say(tmp_path):
    """Videos named after nothing in the calibration: refused with a way out (--cameras), which then works."""
    world = held([posture(trunk_flex=f) for f in (0, 30)], 20)
    rig, files = two_phones(tmp_path, world)
    renamed = [f.rename(tmp_path / f"take{k + 1}.csv") for k, f in enumerate(files)]
    out = tmp_path / "f.csv"
    res = run(*renamed, "--calib", rig, "-o", out)
    assert res.exit_code == 2 and "pass --cameras A,B" in res.output and not out.exists(), res.output
    res = run(*renamed, "--calib", rig, "-o", out, "--cameras", "phone1,phone2")
    assert res.exit_code == 0 and out.exists(), res.output
    res = run(renamed[0], "-o", tmp_path / "g.csv", "--cameras", "phone1")
    assert res.exit_code == 2 and "--cameras names the cameras of several videos" in res.output


def test_max_offset_needs_several_videos(tmp_path):
    ref = write_reference(tmp_path / "worker.npz", held([posture()], 10))
    res = run(ref, "-o", tmp_path / "f.csv", "--max-offset", 30)
    assert res.exit_code == 2 and "--max-offset synchronises several videos" in res.output, res.output


def test_two_phones_refuse_an_infer_output_among_the_views(tmp_path):
    rig, files = two_phones(tmp_path, held([posture()], 10))
    ref = write_reference(tmp_path / "worker.npz", held([posture()], 10))
    out = tmp_path / "f.csv"
    res = run(files[0], ref, "--calib", rig, "-o", out)
    assert res.exit_code == 2 and "not an infer output or a reference" in res.output, res.output
    assert not out.exists()


def test_two_real_phones(tmp_path):
    """Two calibrated views of the shared clip (cam01 from the front, cam04 from behind, 108° apart at the worker):
    synchronised as filmed (offset 0), scored in the world frame. The worker holds his head upright (the videos; the
    4-view triangulation's face line, ears → eyes, within 2-8° of a neutral head on frames 0-44): with the person's
    own neutral from the face (the ears' mid-point sits ~35° in front of his trunk line) the neck reads 0-15°;
    with the mocap head top's 10° it read 23-34°, a bend the videos do not show."""
    folder = need(DATA / "video" / "pose2sim_single_person")
    out, js, tri = tmp_path / "f.csv", tmp_path / "s.json", tmp_path / "worker.npz"
    res = run(folder / "cam01.mp4", folder / "cam04.mp4", "--calib", folder / "Calib.qca.txt", "-o", out, "--json", js,
              "--poses", tri)
    assert res.exit_code == 0, res.output
    s = json.loads(js.read_text())
    assert s["coordinates"] == "world" and "cam01, cam04" in s["vertical"]["source"]
    assert s["counts"]["scored"] >= 85
    assert list(np.load(tri)["sync_offsets"]) == [0, 0]
    assert s["neck_neutral"]["source"] == "face" and s["neck_neutral"]["frames"] >= 10
    assert s["neck_neutral"]["deg"] > 20  # the ears' mid-point far in front of the trunk line: not the 10° default
    neck = np.array([float(r["neck_flexion_deg"]) for r in rows(out) if r["neck_flexion_deg"]])
    assert 0 < np.median(neck) < 15


def _face_worker(neck_flex, own_neutral=30.0, rise=7.0, yaw=0.0):
    """(17, 3) joints and the face points of a worker whose head joint is the ears' mid-point (a triangulated
    detector's "head"), ``own_neutral`` degrees in front of the trunk line when the head is neutral, and whose
    ears → eyes line rises ``rise`` degrees then; the head is turned by ``yaw`` about its own vertical axis
    through the ears' mid-point (+ left), then the whole head (ears, eyes, nose) is bent forward by ``neck_flex``
    about the neck's base (+ flexion)."""
    from ergo_fk import ry, rz
    j = dict(zip(JOINTS, posture()))
    R = ry(neck_flex)  # ry(+a) turns the trunk's +Z (up) towards +X (anterior): flexion
    base = j["thorax"]
    ear_mid = np.array([180.0 * np.sin(np.radians(own_neutral)), 0.0, 180.0 * np.cos(np.radians(own_neutral))])
    eye_mid = 75.0 * np.array([np.cos(np.radians(rise)), 0.0, np.sin(np.radians(rise))])  # from the ears' mid-point
    around = {"left_ear": [0, 55.0, 0], "right_ear": [0, -55.0, 0], "left_eye": eye_mid + [0, 28.0, 0],
              "right_eye": eye_mid - [0, 28.0, 0], "nose": [95.0, 0, -25.0]}
    face = {n: base + R @ (ear_mid + rz(yaw) @ np.asarray(v)) for n, v in around.items()}
    j["head"] = base + R @ ear_mid
    pts = hand_face(np.stack([j[n] for n in JOINTS]))
    pts.update(face)
    return np.stack([j[n] for n in JOINTS]), pts


def test_the_neck_neutral_of_a_reference_is_the_person_s_own_from_the_face(tmp_path):
    """A triangulated reference's head joint is the ears' mid-point, 30° in front of this worker's trunk line: with
    the face's neutral the neck reads its true flexion (0, 15, 30° held; a turned head reads the same), with the
    fixed 10° it reads 20° too much (0° → RULA neck 3 instead of 1). A quarter of the frames have a broken face
    (the nose collapsed onto the ears, as a badly triangulated turned head gives): left out of the neutral."""
    flex = [0.0, 15.0, 30.0, 0.0]
    yaw = [0.0, 0.0, 45.0, 90.0]  # a bent head turned 45°, an upright one 90°: read the same (the face line's
    # elevation alone read the bend turned 45° as 21° and skewed the neutral by 9°)
    poses, points = [], []
    for f, y in zip(flex, yaw):
        w, p = _face_worker(f, yaw=y)
        poses += [w] * 30
        points += [p] * 30
    for t in range(0, len(points), 4):  # every 4th frame: a broken face
        points[t] = {**points[t], "nose": 0.5 * (points[t]["left_ear"] + points[t]["right_ear"])}
    ref = write_reference(tmp_path / "worker.npz", np.stack(poses), points=points)
    out, js = tmp_path / "f.csv", tmp_path / "s.json"
    assert run(ref, "-o", out, "--json", js, "--cutoff-hz", "0").exit_code == 0
    s = json.loads(js.read_text())
    assert s["neck_neutral"]["source"] == "face" and s["neck_neutral"]["frames"] == 90
    assert abs(s["neck_neutral"]["deg"] - 30.0) < 0.5
    r = rows(out)
    neck = np.array([float(x["neck_flexion_deg"]) for x in r])
    for k, f in enumerate(flex):
        assert np.allclose(neck[30 * k + 5:30 * k + 25], f, atol=0.5), (k, neck[30 * k + 5])
    assert int(r[10]["rula_neck"]) == 1 and int(r[40]["rula_neck"]) == 2 and int(r[70]["rula_neck"]) == 3
    fixed = tmp_path / "fixed.csv"
    assert run(ref, "-o", fixed, "--neck-neutral", "fixed", "--cutoff-hz", "0").exit_code == 0
    rf = rows(fixed)
    assert abs(float(rf[10]["neck_flexion_deg"]) - 20.0) < 0.5 and int(rf[10]["rula_neck"]) == 3


def test_too_few_faces_fall_back_to_the_fixed_neutral_and_say_so(tmp_path):
    w, p = _face_worker(0.0)
    points = [p] * 8 + [{k: v for k, v in p.items() if k not in ("left_eye", "right_eye")}] * 32
    ref = write_reference(tmp_path / "worker.npz", np.stack([w] * 40), points=points)
    js = tmp_path / "s.json"
    assert run(ref, "-o", tmp_path / "f.csv", "--json", js).exit_code == 0
    nn = json.loads(js.read_text())["neck_neutral"]
    assert nn["source"] == "fixed" and nn["deg"] == 10.0 and nn["frames"] == 8 and "10 needed" in nn["note"]
    assert nn["warn"] and "--neck-neutral-deg" in nn["note"]  # what to do about it


def test_a_face_neutral_is_refused_for_lifted_poses_before_any_work(tmp_path):
    csv_in = tmp_path / "poses.csv"
    csv_in.write_text("frame,time_s\n")
    out = tmp_path / "f.csv"
    res = run(csv_in, "-o", out, "--neck-neutral", "face")
    assert res.exit_code != 0 and "--neck-neutral face" in res.output and "multi-view reference" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not out.exists()


def test_a_reference_without_hand_points_still_reads_the_face_and_one_without_a_face_says_so(tmp_path):
    """A reference triangulated from COCO keypoints has the face and the shoulders and hips but no hand points: its
    neck neutral still comes from the face (it fell silently to the mocap's 10° because the hand points were
    missing). One with no detector points at all falls back to 10° with a warning saying what to do."""
    w, p = _face_worker(15.0)
    face_only = {k: v for k, v in p.items() if not k.endswith(("_index", "_pinky", "_thumb", "_elbow", "_wrist"))}
    ref = write_reference(tmp_path / "coco.npz", np.stack([w] * 40), points=[face_only] * 40)
    js = tmp_path / "s.json"
    assert run(ref, "-o", tmp_path / "f.csv", "--json", js, "--cutoff-hz", "0").exit_code == 0
    nn = json.loads(js.read_text())["neck_neutral"]
    assert nn["source"] == "face" and abs(nn["deg"] - 30.0) < 0.5
    assert abs(float(rows(tmp_path / "f.csv")[20]["neck_flexion_deg"]) - 15.0) < 0.5
    bare = write_reference(tmp_path / "bare.npz", np.stack([w] * 40))
    assert run(bare, "-o", tmp_path / "g.csv", "--json", js).exit_code == 0
    nn = json.loads(js.read_text())["neck_neutral"]
    assert nn["source"] == "fixed" and nn["warn"] and "--neck-neutral-deg" in nn["note"]
