"""`pose3d ergo` end to end on infer outputs built from hand-made postures, and its refusals."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DATA, need
from ergo_fk import camera, posture, to_camera
from pose3d_cli.cli.app import app
from pose3d_cli.ergo.assess import assess, resolve_vertical
from pose3d_cli.ergo.io import read_poses
from pose3d_cli.ergo.options import Conventions, load_segments
from pose3d_cli.errors import Pose3dError
from pose3d_cli.infer.writers import PoseTrack, write_track
from pose3d_cli.skeleton import H36M17

runner = CliRunner()
R = camera(40, 20)  # a pitched, off-axis phone
UP = R @ np.array([0, 0, 1.0])
UP_ARG = ",".join(f"{v:.6f}" for v in UP)


def make_track(T=120, fps=30.0, undetected=(), low_conf=None, bend_from=None, R=R):
    """An infer PoseTrack filmed by ``R``: upright for the first half, trunk flexed 45° and left arm raised 100°
    afterwards."""
    frames = []
    for i in range(T):
        if bend_from is not None and i >= bend_from:
            frames.append(posture(trunk_flex=45, arm_flex=(100, 0)))
        else:
            frames.append(posture())
    p, _ = to_camera(np.stack(frames), R)
    conf = np.full((T, 17), 0.9, np.float32)
    det = np.ones(T, bool)
    for i in undetected:
        det[i] = False
    if low_conf:
        for i, j in low_conf:
            conf[i, H36M17.index(j)] = 0.1
    p = p.astype(np.float32)
    p[~det] = np.nan
    return PoseTrack(np.arange(T), np.arange(T) / fps, det, p, np.zeros((T, 17, 2), np.float32), conf, H36M17.joints,
                     {"skeleton": "h36m17", "fps": fps, "input": "worker.mp4"})


def write(track, path, fmt="csv"):
    write_track(track, path, fmt)
    return path


def run(*args):
    return runner.invoke(app, ["ergo", *map(str, args)])


def test_assess_reasons_and_sides(tmp_path):
    tr = make_track(60, undetected=(3,), low_conf=[(5, "left_wrist"), (7, "left_knee")], bend_from=30)
    poses = read_poses(write(tr, tmp_path / "p.csv"))
    A = assess(poses, resolve_vertical(poses, up=tuple(UP)), Conventions(neck_neutral_deg=0))
    assert A.reason[3] == "no person detected" and np.isnan(A.rula["grand"][3])
    assert A.reason[5].startswith("partly scored") and "left_wrist" in A.reason[5]
    assert np.isnan(A.rula["grand_left"][5]) and np.isfinite(A.rula["grand"][5])
    assert A.reason[7].startswith("not scored") and "left_knee" in A.reason[7] and np.isnan(A.reba["reba"][7])
    assert A.reason[10] == ""
    # upright half: RULA 1 / REBA 1. Bent half: RULA UA 4, LA 1 → Table A 4 = C; neck 1, trunk 3 (45°), legs 1 →
    # Table B 3 = D; Table C (4,3) = 3. REBA trunk 3, neck 1, legs 1 → Table A 2; UA 4, LA 1, wrist 1 → Table B 4;
    # Table C (2,4) = 3.
    assert A.rula["grand"][15] == 1 and A.reba["reba"][15] == 1
    assert A.rula["grand"][50] == 3 and A.reba["reba"][50] == 3 and A.rula["trunk"][50] == 3
    s = A.summary
    assert s["counts"]["frames"] == 60 and s["counts"]["detected"] == 59 and s["counts"]["scored"] == 58 and s["counts"]["partly_scored"] == 1
    assert s["vertical"]["source"].startswith("--up")
    assert s["worst_moments_rula"][0]["time_s"] >= 1.0


def test_vertical_modes(tmp_path):
    """--vertical: body (the poses' estimate), level (stated), lines (needs the video's frames: refused for a
    pose file, nothing written), an unknown mode refused."""
    src = write(make_track(40), tmp_path / "p.csv")
    poses = read_poses(src)
    body = resolve_vertical(poses)
    assert body.source == "estimated from the body poses" and body.scene is None
    assert np.degrees(np.arccos(np.clip(body.up @ UP, -1, 1))) < 20  # the pitched camera, roughly
    level = resolve_vertical(poses, mode="level")
    assert level.source.startswith("level camera (--vertical level") and "--calib or --up" in level.note
    assert "--calib" not in body.note
    # an infer output lifted with a calibration: its vertical was known, and the estimate said nothing of it
    poses.metadata["intrinsics"] = "calibration Calib.qca.txt:cam04"
    assert "lifted with calibration Calib.qca.txt:cam04: give it with --calib" in resolve_vertical(poses).note
    assert np.allclose(level.up, [0, -1, 0])
    js = tmp_path / "s.json"
    for args, msg in ((("--vertical", "lines"), "needs the video"), (("--vertical", "sky"), "is not one of")):
        res = run(src, "--json", js, *args)
        assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
        assert not js.exists()
    res = run(src, "--json", js, "--vertical", "level")
    assert res.exit_code == 0, res.output
    assert json.loads(js.read_text())["vertical"]["source"].startswith("level camera")
    js.unlink()
    cv2 = pytest.importorskip("cv2")
    short = tmp_path / "short.mp4"  # 10 frames: not the video of 40 frames of poses
    out = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for _ in range(10):
        out.write(np.zeros((48, 64, 3), np.uint8))
    out.release()
    for args, msg in ((("--video", short), "not the video these poses came from"),
                      (("--video", src), "not a video file")):
        res = run(src, "--json", js, "--vertical", "lines", *args)
        assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
        assert not js.exists()
    tr = make_track(40)  # an infer JSON says its image size: a video of another size is not its video
    tr.metadata["image_size"] = [1080, 1920]
    pj = write(tr, tmp_path / "p.json", "json")
    other = tmp_path / "other.mp4"
    out = cv2.VideoWriter(str(other), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for _ in range(50):
        out.write(np.zeros((48, 64, 3), np.uint8))
    out.release()
    res = run(pj, "--json", js, "--video", other)
    assert res.exit_code == 2 and "64x48 frames, but the poses were inferred from 1080x1920" in res.output, res.output
    assert not js.exists()
    res = run(src, "--json", js, "--up", "0,-1,0", "--vertical", "lines")  # --up wins, and says so
    assert res.exit_code == 0, res.output
    v = json.loads(js.read_text())["vertical"]
    assert v["source"] == "--up (given)" and "--vertical lines not used" in v["note"] and v["requested"] == "lines"


def test_a_moving_camera_s_vertical_is_followed(tmp_path):
    """An upright worker filmed by a phone that rolls ±12 deg: against the per-frame vertical (a moving camera's,
    interpolated between the frames it was measured on) the trunk reads upright in every frame; against one
    vertical for the video the side bend follows the phone's roll."""
    from pose3d_cli.ergo.assess import Vertical

    T = 60
    rolls = 12 * np.sin(np.linspace(0, 2 * np.pi, T))
    Rs = [camera(30, 20, r) for r in rolls]
    joints = np.stack([to_camera(posture()[None], R)[0][0] for R in Rs]).astype(np.float32)
    tr = make_track(T)
    tr.joints3d = joints
    poses = read_poses(write(tr, tmp_path / "p.csv"))
    ups = np.stack([R @ np.array([0, 0, 1.0]) for R in Rs])
    at = np.r_[np.arange(0, T, 4), T - 1]  # measured on every 4th frame and the last
    moving = Vertical(ups.mean(0) / np.linalg.norm(ups.mean(0)), "lines", per_frame=(at, ups[at]))
    assert np.degrees(np.arccos(np.clip((moving.up_at(np.arange(T)) * ups).sum(1), -1, 1))).max() < 1.0
    bend = assess(poses, moving, Conventions(neck_neutral_deg=0)).raw_angles["trunk_side_bend"]
    still = assess(poses, Vertical(moving.up, "lines"), Conventions(neck_neutral_deg=0)).raw_angles["trunk_side_bend"]
    assert np.nanmax(np.abs(bend)) < 1.0
    assert np.nanmax(np.abs(still)) > 8.0


def test_cli_csv_to_all_outputs(tmp_path):
    src = write(make_track(120, undetected=(0,), bend_from=60), tmp_path / "poses.csv")
    out, rep, js = tmp_path / "frames.csv", tmp_path / "r.html", tmp_path / "s.json"
    plots = tmp_path / "plots"
    plots.mkdir()
    res = run(src, "-o", out, "--report", rep, "--json", js, "--up", UP_ARG, "--plots", plots)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in plots.iterdir()) == ["angles.png", "scores.png"]
    rows = out.read_text().splitlines()
    header = rows[0].split(",")
    assert {"rula_grand", "reba_reba", "reason", "trunk_flexion_deg", "near_edge", "near_edge_angles"} <= set(header)
    first = dict(zip(header, rows[1].split(",")))
    assert first["reason"] == "no person detected" and first["rula_grand"] == "" and first["trunk_flexion_deg"] == ""
    s = json.loads(js.read_text())
    assert s["counts"]["scored"] == 119 and s["rula"]["max"] >= 4
    by = s["counts"]["near_band_edge_by_angle"]
    assert all(n <= s["counts"]["near_band_edge"] for n in by.values())
    assert s["conventions"]["upper_arm_angle"] == "3d" and s["observations"]["video"]["wrist"] == 1
    html = rep.read_text()
    assert html.count("data:image/png;base64,") >= 3
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "--up (given)" in html
    # what the figures' colours mean is said beside them, and every convention in words (a newcomer could not tell
    # which stick colour is left, what the shading or the strips are, or neutral_neck_deg from neck_neutral_deg)
    assert "orange: left side" in html and "blue: right side" in html and "Dashed lines" in html
    assert "RULA action level" in html and "Background of each angle plot" in html
    from dataclasses import fields

    from pose3d_cli.ergo.options import Conventions
    from pose3d_cli.ergo.report import CONVENTION_WORDS

    for f in fields(Conventions):
        assert f"<td>{f.name}</td>" in html and CONVENTION_WORDS[f.name] in html.replace("&#x27;", "'"), f.name


def test_cli_json_input_and_observation_segments(tmp_path):
    src = write(make_track(90), tmp_path / "poses.json", "json")
    obs = tmp_path / "obs.yaml"
    obs.write_text("wrist: 2\nsegments:\n  - {start: 1.0, end: 2.0, load_kg: 12, load_mode: static}\n")
    out = tmp_path / "f.csv"
    res = run(src, "-o", out, "--observations", obs, "--up", UP_ARG, "--neck-neutral-deg", "0")
    assert res.exit_code == 0, res.output
    import csv

    rows = list(csv.DictReader(out.open()))
    g = np.array([float(r["rula_grand"]) for r in rows])
    t = np.array([float(r["time_s"]) for r in rows])
    # upright, wrist 2: Table A (1,1,2,1) = 2 → C 2, D 1 → Table C (2,1) = 2; 12 kg static (force 3): C 5, D 4 →
    # Table C (5,4) = 5
    assert (g[(t >= 1.0) & (t < 2.0)] == 5).all() and (g[t < 1.0] == 2).all() and (g[t >= 2.0] == 2).all()


def _nothing_written(tmp_path, keep):
    return sorted(p.name for p in tmp_path.iterdir() if p.name not in keep) == []


@pytest.mark.parametrize("content,msg", [
    ("a,b\n1,2\n", "not a pose3d infer CSV"),
    ("", "not a pose3d infer CSV"),
])
def test_not_an_infer_csv(tmp_path, content, msg):
    src = tmp_path / "x.csv"
    src.write_text(content)
    res = run(src, "-o", tmp_path / "f.csv", "--json", tmp_path / "s.json")
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output
    assert _nothing_written(tmp_path, {"x.csv"})


def test_missing_columns(tmp_path):
    src = write(make_track(20), tmp_path / "p.csv")
    lines = src.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("left_elbow_z")
    src.write_text("\n".join(",".join(c for k, c in enumerate(l.split(",")) if k != drop) for l in lines) + "\n")
    res = run(src, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "skeleton" in res.output
    assert _nothing_written(tmp_path, {"p.csv"})


def test_all_frames_undetected(tmp_path):
    src = write(make_track(10, undetected=range(10)), tmp_path / "p.csv")
    res = run(src, "-o", tmp_path / "f.csv", "--report", tmp_path / "r.html")
    assert res.exit_code == 2 and "no frame has a detected person" in res.output
    assert _nothing_written(tmp_path, {"p.csv"})
    cv2 = pytest.importorskip("cv2")  # a video with no one in it: said so, not hidden by the vertical's own refusal
    empty = tmp_path / "empty.mp4"
    out = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 30, (160, 120))
    for _ in range(6):
        out.write(np.full((120, 160, 3), 128, np.uint8))
    out.release()
    res = run(empty, "--json", tmp_path / "s.json", "--vertical", "lines", "--max-people", "1")
    assert res.exit_code == 2 and "no frame has a detected person" in res.output, res.output
    assert _nothing_written(tmp_path, {"p.csv", "empty.mp4"})


def test_detected_frames_without_any_3d_are_nothing_to_score(tmp_path):
    """An infer CSV whose rows say detected but hold no joint (all cells empty): refused, not scored as 0 frames."""
    tr = make_track(10)
    tr.joints3d[:] = np.nan
    src = write(tr, tmp_path / "p.csv")
    res = run(src, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "no frame has a detected person" in res.output, res.output
    assert _nothing_written(tmp_path, {"p.csv"})


def test_people_seen_but_never_scorable_are_refused_with_the_reason(tmp_path):
    """Detected in every frame but the legs never seen reliably: it wrote every output with empty tables and 'None'
    in the terminal, exit 0 (the README: scores are never guessed; a report of nothing is no result either)."""
    T = 20
    src = write(make_track(T, low_conf=[(i, j) for i in range(T) for j in ("left_knee", "right_knee")]),
                tmp_path / "p.json", "json")
    res = run(src, "-o", tmp_path / "f.csv", "--report", tmp_path / "r.html", "--up", UP_ARG)
    assert res.exit_code == 2 and "no frame could be scored" in res.output and "knee" in res.output, res.output
    assert "Traceback" not in res.output
    assert _nothing_written(tmp_path, {"p.json"})


def test_video_options_refused_before_the_video_is_read(tmp_path):
    """Bad infer options of a video run are refused before any frame is decoded (the 'video' here is not one)."""
    calib = need(DATA / "video" / "pose2sim_single_person" / "Calib.qca.txt")
    vid = tmp_path / "cam01.mp4"
    vid.write_bytes(b"not a video at all")
    for args, msg in ((["--smooth", "bogus"], "'bogus' is not one of"), (["--poses", tmp_path / "p.txt"], ".csv or .json"),
                      (["--calib", calib, "--calib-camera", "cam09"], "no camera 'cam09'")):
        res = run(vid, "-o", tmp_path / "f.csv", *args)
        assert res.exit_code == 2 and msg in res.output, res.output
        assert _nothing_written(tmp_path, {"cam01.mp4"})


def test_photos_and_other_files_are_refused_in_words_of_ergo(tmp_path):
    """A folder of unrelated photos was scored as one 30 fps clip of one camera (tracked across photos, one
    vertical pooled); another file got infer's list of inputs, without ergo's own (.npz references)."""
    cv2 = pytest.importorskip("cv2")
    photos = tmp_path / "photos"
    photos.mkdir()
    for k in range(2):
        cv2.imwrite(str(photos / f"p{k}.jpg"), np.full((48, 64, 3), 40 * k, np.uint8))
    res = run(photos, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "a folder of photos" in res.output, res.output
    obs = tmp_path / "observations.yaml"
    obs.write_text("wrist: 2\n")
    res = run(obs, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "triangulate reference (.npz)" in res.output, res.output
    assert _nothing_written(tmp_path, {"photos", "observations.yaml"})


def test_a_photo_named_like_a_video_is_refused(tmp_path):
    cv2 = pytest.importorskip("cv2")
    vid = tmp_path / "clip.mp4"
    ok, buf = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))
    vid.write_bytes(buf.tobytes())
    res = run(vid, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "holds a JPEG photo, not a video" in res.output, res.output
    res = runner.invoke(app, ["infer", str(vid), "-o", str(tmp_path / "p.csv")])
    assert res.exit_code == 2 and "rename it .jpg" in res.output, res.output
    assert _nothing_written(tmp_path, {"clip.mp4"})


def test_one_frame(tmp_path):
    src = write(make_track(1), tmp_path / "p.csv")
    res = run(src, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "at least 2 frames" in res.output
    assert _nothing_written(tmp_path, {"p.csv"})


def test_one_frame_video(tmp_path):
    import cv2

    vid = tmp_path / "one.mp4"
    w = cv2.VideoWriter(str(vid), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    res = run(vid, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "1 frame" in res.output, res.output
    assert _nothing_written(tmp_path, {"one.mp4"})


@pytest.mark.parametrize("args,msg", [
    (["--knee", "median"], "'--knee'"), (["--edges", "<"], "'--edges'"), (["--upper-arm-angle", "x"], "'--upper-arm-angle'"),
    (["--coupling", "bad"], "'--coupling'"), (["--wrist", "5"], "--wrist"), (["--load-mode", "often"], "'--load-mode'"),
    (["--trunk-angle", "crooked"], "'--trunk-angle'"),
    (["--up", "1,2"], "--up"), (["--up", "0,0,0"], "non-zero"), (["--detector", "huge"], "--detector"),
    (["--min-conf", "2"], "--min-conf"), (["--back-supported"], "add --sitting"),
    (["-q"], "give it before the command (`pose3d -q ergo"),  # a global option after the command: where it goes
])
def test_unknown_option_values(tmp_path, args, msg):
    src = write(make_track(20), tmp_path / "p.csv")
    res = run(src, "-o", tmp_path / "f.csv", *args)
    assert res.exit_code == 2 and msg in res.output, res.output
    assert _nothing_written(tmp_path, {"p.csv"})


@pytest.mark.parametrize("yaml_text,msg", [
    ("wrists: 2\n", "unknown key 'wrists'"), ("segments:\n  - {start: 5, end: 2}\n", "must be after"),
    ("segments:\n  - {start: 1, end: 2, load: 3}\n", "unknown key 'load'"), ("[1, 2]\n", "expected a mapping"),
    ("wrist: [\n", "not valid YAML"), ("sitting: maybe\n", "sitting='maybe': must be true or false"),
    ("load_kg: heavy\n", "load_kg='heavy': must be a number"),
    ("segments:\n  - {start: 0, end: 1, wrist: x}\n", "segment 1: wrist='x': must be a whole number"),
    ("", "empty observations file"), ("# only a comment\n", "empty observations file"),
    (b"PK\x03\x04\xff\xfe\x00binary", "not a text file"),
])
def test_bad_observations_file(tmp_path, yaml_text, msg):
    src = write(make_track(20), tmp_path / "p.csv")
    obs = tmp_path / "o.yaml"
    obs.write_bytes(yaml_text) if isinstance(yaml_text, bytes) else obs.write_text(yaml_text)
    res = run(src, "-o", tmp_path / "f.csv", "--observations", obs)
    assert res.exit_code == 2 and msg in res.output, res.output
    assert _nothing_written(tmp_path, {"p.csv", "o.yaml"})


def test_refuses_to_overwrite_its_input_and_needs_an_output(tmp_path):
    src = write(make_track(20), tmp_path / "p.csv")
    before = src.read_text()
    res = run(src, "-o", src)
    assert res.exit_code == 2 and "also an input" in res.output and src.read_text() == before
    res = run(src)
    assert res.exit_code == 2 and "nothing to write" in res.output
    res = run(src, "--report", tmp_path / "r.txt")
    assert res.exit_code == 2 and ".html" in res.output


def test_load_segments_overrides():
    s = load_segments(None, wrist=3, load_kg=None)
    assert s.base.wrist == 3 and s.base.load_kg == 0
    with pytest.raises(Pose3dError):
        load_segments(None, wrist=0)


@pytest.mark.slow
def test_real_video_scores_every_person_with_calibration_and_thumbnails(tmp_path):
    """pose2sim cam02: the subject on the walkway (id 0, in every frame) and the woman standing in the background
    (id 1; a human sees her in most frames, hidden behind the subject's arm near the end) are both scored."""
    folder = need(DATA / "video" / "pose2sim_single_person")
    rep, js, out, poses = tmp_path / "r.html", tmp_path / "s.json", tmp_path / "f.csv", tmp_path / "p.csv"
    res = run(folder / "cam02.mp4", "--report", rep, "--json", js, "-o", out, "--poses", poses,
              "--calib", folder / "Calib.qca.txt", "--detect-width", "480")
    assert res.exit_code == 0, res.output
    people = json.loads(js.read_text())["people"]
    assert [p["person"] for p in people] == [0, 1]
    subject, woman = people
    for s in people:
        assert s["vertical"]["source"].startswith("calibration") and s["counts"]["frames"] == 100
    assert subject["counts"]["scored"] > 90 and 50 < woman["counts"]["detected"] < 100
    rows = out.read_text().splitlines()
    assert rows[0].split(",")[:2] == ["frame", "person"] and len(rows) == 1 + 2 * 100
    assert poses.read_text().splitlines()[0].split(",")[:2] == ["frame", "person"]
    html = rep.read_text()
    assert html.count('<h2 id="person') == 2 and "<iframe" not in html
    n_worst = sum(len(s["worst_moments_rula"]) for s in people)
    assert html.count("data:image/png;base64,") >= 2 * 2 + n_worst  # each person's plots, each moment's 3D pose
    assert html.count("data:image/jpeg;base64,") >= n_worst  # the worst frames' photos (JPEG: ~7x smaller than PNG)


@pytest.mark.slow
def test_real_video_person_choice(tmp_path):
    folder = need(DATA / "video" / "pose2sim_single_person")
    js = tmp_path / "s.json"
    res = run(folder / "cam02.mp4", "--json", js, "--up", "0,-1,0", "--detect-width", "480", "--person", "7")
    assert res.exit_code == 2 and "people found: 0, 1" in res.output and "Traceback" not in res.output, res.output
    assert not js.exists()
    res = run(folder / "cam02.mp4", "--json", js, "--up", "0,-1,0", "--detect-width", "480", "--max-people", "1")
    assert res.exit_code == 0, res.output
    s = json.loads(js.read_text())  # one person: the single-person layout
    assert "people" not in s and s["counts"]["detected"] == 100


@pytest.mark.slow
def test_real_video_vertical_from_the_scene_lines(tmp_path):
    """pose2sim cam04 (33.5 deg from a level camera; the body-pose estimate 10-12 deg off): without --calib the
    scene's vertical lines give up within 1.5 deg of the calibration, the field of view found from them."""
    from pose3d_cli.infer.calibration import load_calibration

    folder = need(DATA / "video" / "pose2sim_single_person")
    truth = {c.name: c.R @ np.array([0, 0, 1.0]) for c in load_calibration(folder / "Calib.qca.txt")}["cam04"]
    js, rep = tmp_path / "s.json", tmp_path / "r.html"
    res = run(folder / "cam04.mp4", "--json", js, "--vertical", "lines", "--max-people", "1", "--detect-width", "480",
              "--report", rep)
    assert res.exit_code == 0, res.output
    assert "The vertical's evidence" in rep.read_text()  # the lines drawn over a frame, for a check by eye
    v = json.loads(js.read_text())["vertical"]
    assert v["source"] == "estimated from the scene's vertical lines" and v["scene_lines"]["accepted"]
    up = np.array(v["up_camera_frame"])
    assert np.degrees(np.arccos(np.clip(up @ truth / np.linalg.norm(up), -1, 1))) < 1.5
    assert 55 <= v["scene_lines"]["fov_deg"] <= 65 and v["scene_lines"]["prior_angle_deg"] > 3
    # an infer output scored later gets the same vertical from its video (--video)
    poses = tmp_path / "poses.csv"
    res = runner.invoke(app, ["infer", str(folder / "cam04.mp4"), "-o", str(poses), "--max-people", "1",
                              "--detect-width", "480"])
    assert res.exit_code == 0, res.output
    js2 = tmp_path / "s2.json"
    res = run(poses, "--json", js2, "--video", folder / "cam04.mp4")
    assert res.exit_code == 0, res.output
    v2 = json.loads(js2.read_text())["vertical"]
    assert v2["source"] == "estimated from the scene's vertical lines"
    assert np.degrees(np.arccos(np.clip(np.array(v2["up_camera_frame"]) @ truth, -1, 1))) < 1.5


def test_an_observations_segment_outside_the_clip_is_said(tmp_path):
    """A segment whose times miss the clip (a typo in seconds, another video's file) is not silently ignored."""
    src = write(make_track(30), tmp_path / "p.csv")
    obs = tmp_path / "o.yaml"
    obs.write_text("segments:\n  - {start: 0.2, end: 0.5, wrist: 3}\n  - {start: 30, end: 40, load_kg: 12}\n")
    res = run(src, "--json", tmp_path / "s.json", "--observations", obs)
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "s.json").read_text())["time_notes"]
    assert any("segment 2 (30-40 s) lies outside the clip" in n for n in notes), notes
    assert not any("segment 1" in n for n in notes)


def test_a_csv_cut_short_names_the_line(tmp_path):
    src = write(make_track(10), tmp_path / "p.csv")
    text = src.read_text()
    src.write_text(text[: len(text) - 200])  # the last row loses its last cells
    n = len(src.read_text().splitlines())
    res = run(src, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and f"line {n} has" in res.output, res.output
    assert _nothing_written(tmp_path, {"p.csv"})


def test_filming_conditions_are_measured_and_warned_about(tmp_path):
    """A phone behind the worker, rolled 26° and looking 35° down gets all three warnings, with its tilt read back
    from the given vertical; the module's off-axis phone (40° round, 20° down, level) gets none; under the
    level-camera assumption the tilt is not claimed."""
    from pose3d_cli.ergo.assess import summarise

    behind = camera(160, 35, -26)
    tr = make_track(40, bend_from=20, R=behind)
    poses = read_poses(write(tr, tmp_path / "b.csv"))
    f = summarise(assess(poses, resolve_vertical(poses, up=tuple(behind @ np.array([0, 0, 1.0])))))["filming"]
    assert f["camera_down_deg"] == pytest.approx(35, abs=0.1) and f["camera_roll_deg"] == pytest.approx(-26, abs=0.1)
    assert f["percent_time_seen_from"] == {"front": 0.0, "side": 0.0, "behind": 100.0}
    warned = f["camera_warnings"] + f["view_warnings"]
    assert [w.split(" ")[1] for w in warned] == ["phone", "camera", "worker", "worker"]
    assert "within 30° of head-on" in warned[2] and "100%" in warned[2]  # 160° round: 20° from the back
    poses = read_poses(write(make_track(40, bend_from=20), tmp_path / "f.csv"))
    f = summarise(assess(poses, resolve_vertical(poses, up=tuple(UP))))["filming"]
    assert f["camera_down_deg"] == pytest.approx(20, abs=0.1) and f["camera_warnings"] + f["view_warnings"] == []
    assert f["percent_time_seen_from"]["front"] == 100.0
    for yaw, warned in ((20, True), (90, False)):  # head-on (the neck bends in depth) or from the side
        R = camera(yaw, 20)
        poses = read_poses(write(make_track(40, bend_from=20, R=R), tmp_path / f"y{yaw}.csv"))
        f = summarise(assess(poses, resolve_vertical(poses, up=tuple(R @ np.array([0, 0, 1.0])))))["filming"]
        assert any("head-on" in w for w in f["view_warnings"]) == warned, (yaw, f["view_warnings"])
    f = summarise(assess(poses, resolve_vertical(poses, mode="level")))["filming"]
    assert f["camera_down_deg"] is None and f["camera_roll_deg"] is None and "level-camera" in f["tilt_from"]


def test_infer_outputs_edited_by_hand_are_read_by_name_or_refused(tmp_path):
    """The one reader of infer outputs: a CSV whose person column comes first keeps its frame numbers (read by
    column name); a JSON frame without ``detected``, or detected without joints, is refused as malformed; a joint
    with x and z columns but no y is not a joint (the skeleton check says so), never an internal error."""
    src = write(make_track(6), tmp_path / "p.csv")
    lines = src.read_text().splitlines()
    head = lines[0].split(",")
    (tmp_path / "q.csv").write_text("\n".join(["person," + lines[0]] + ["0," + r for r in lines[1:]]) + "\n")
    assert read_poses(tmp_path / "q.csv").frame.tolist() == list(range(6))
    data = json.loads(write(make_track(6), tmp_path / "p.json", "json").read_text())
    for edit in (lambda f: f.pop("detected"), lambda f: f.update(joints_3d=None)):
        bad = json.loads(json.dumps(data))
        edit(bad["frames"][2])
        (tmp_path / "b.json").write_text(json.dumps(bad))
        with pytest.raises(Pose3dError, match="frame entry 2 is malformed"):
            read_poses(tmp_path / "b.json")
    k = head.index("left_elbow_y")
    (tmp_path / "y.csv").write_text("\n".join(",".join(c for n, c in enumerate(r.split(",")) if n != k) for r in lines) + "\n")
    with pytest.raises(Pose3dError, match="skeleton"):
        read_poses(tmp_path / "y.csv")


def test_no_tilt_warning_from_the_body_poses_vertical(tmp_path):
    """The body poses' own vertical is several degrees off on real views: a tilt read from it is shown, never
    warned about (the same poses with the true, rolled vertical do warn)."""
    from pose3d_cli.body.vertical import Vertical
    from pose3d_cli.ergo.assess import summarise

    rolled = camera(0, 10, -20)
    poses = read_poses(write(make_track(20, R=rolled), tmp_path / "r.csv"))
    up = rolled @ np.array([0, 0, 1.0])
    body = Vertical(up, "estimated from the body poses", 2.0, "test")
    f = summarise(assess(poses, body))["filming"]
    assert f["camera_roll_deg"] == pytest.approx(-20, abs=0.1) and f["camera_warnings"] == [] and "uncertain" in f["tilt_from"]
    assert all("head-on" in w for w in f["view_warnings"])  # the front camera's neck caveat, no tilt
    f = summarise(assess(poses, resolve_vertical(poses, up=tuple(up))))["filming"]
    assert len(f["camera_warnings"]) == 1 and "rolled 20°" in f["camera_warnings"][0]
    assert len(f["view_warnings"]) == 1 and "within 30° of head-on" in f["view_warnings"][0]


def test_the_observations_example_loads_and_names_every_key():
    from dataclasses import fields

    from pose3d_cli.ergo.options import Observations

    path = Path(__file__).resolve().parents[1] / "examples" / "observations.yaml"
    s = load_segments(path)
    assert s.base.wrist == 2 and len(s.spans) == 3 and s.spans[0][2]["load_kg"] == 12
    text = path.read_text()
    assert [f.name for f in fields(Observations) if f.name not in text] == []  # the example documents every key


def test_an_observed_neck_replaces_the_measured_one_where_given(tmp_path):
    """An upright worker whose neck the phone cannot see (head-on): the ergonomist's 25° for seconds 1-2 scores RULA
    neck 3 (> 20°) and REBA neck 2 (> 20°) there, the measured upright neck (RULA 1, REBA 1) elsewhere; the whole
    video from the command line; bad values refused in one line."""
    src = write(make_track(90), tmp_path / "p.csv")  # 30 fps, 3 s, upright
    obs = tmp_path / "o.yaml"
    obs.write_text("segments:\n  - {start: 1.0, end: 2.0, neck_flexion_deg: 25}\n")
    out = tmp_path / "f.csv"
    summary = tmp_path / "s.json"
    res = run(src, "-o", out, "--up", UP_ARG, "--observations", obs, "--neck-neutral-deg", 0, "--json", summary)
    assert res.exit_code == 0, res.output
    r = list(csv.DictReader(out.open()))
    assert [(r[i]["rula_neck"], r[i]["reba_neck"]) for i in (15, 45, 75)] == [("1", "1"), ("3", "2"), ("1", "1")]
    # every output carries the neck that was scored (the report's bands and worst moments read ~0° before stop 27)
    assert float(r[45]["neck_flexion_deg"]) == pytest.approx(25, abs=0.5) and abs(float(r[15]["neck_flexion_deg"])) < 1
    s = json.loads(summary.read_text())["people"][0] if "people" in json.loads(summary.read_text()) else \
        json.loads(summary.read_text())
    assert 25 < s["percent_time_in_band"]["neck flexion > 20 deg"] < 45  # about a third of the 3 s
    res = run(src, "-o", out, "--up", UP_ARG, "--neck-flexion-deg", -15, "--neck-neutral-deg", 0)
    assert res.exit_code == 0 and {x["rula_neck"] for x in csv.DictReader(out.open())} == {"4"}  # extension: 4
    for bad in ("neck_flexion_deg: steep", "neck_flexion_deg: 200"):
        obs.write_text(bad + "\n")
        res = run(src, "-o", tmp_path / "g.csv", "--up", UP_ARG, "--observations", obs)
        assert res.exit_code == 2 and "neck_flexion_deg" in res.output and not (tmp_path / "g.csv").exists()


def test_a_cutoff_above_half_the_frame_rate_is_said_not_silently_skipped(tmp_path):
    src = write(make_track(40), tmp_path / "p.csv")
    res = run(src, "--json", tmp_path / "s.json", "--cutoff-hz", "1000")
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "s.json").read_text())["time_notes"]
    assert any("--cutoff-hz 1000 is not below half the frame rate" in n for n in notes), notes
    res = run(src, "--json", tmp_path / "s2.json")
    assert not any("cutoff" in n for n in json.loads((tmp_path / "s2.json").read_text())["time_notes"])
    res = run(src, "--json", tmp_path / "s3.json", "--cutoff-hz", "0")  # said "low-pass ... at 0 Hz"
    rules = json.loads((tmp_path / "s3.json").read_text())["time_rules"]
    assert rules[0].startswith("smoothing: none") and not any("at 0 Hz" in r for r in rules)


@pytest.mark.parametrize("text", ['{"foo": 1}', "[1, 2]"])
def test_a_json_that_is_neither_an_infer_output_nor_2d_says_so_in_one_line(tmp_path, text):
    bad = tmp_path / "poses.json"
    bad.write_text(text)
    res = run(bad, "-o", tmp_path / "f.csv")
    assert res.exit_code == 2 and "not a pose3d infer JSON" in res.output and "nor a 2D keypoint file" in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    assert _nothing_written(tmp_path, {"poses.json"})


@pytest.mark.parametrize("video, camera, warned", [("cam02", "cam02", False), ("cam02", "cam04", True),
                                                   ("cam01", "cam04", True)])
def test_a_calibration_of_another_camera_is_caught_by_the_scene_lines(video, camera, warned):
    """cam02's video scored with --calib-camera cam04 (rolled 26°, where cam02 is level within 2°) was taken as given;
    the video's own vertical lines disagree with that camera's vertical by ~23° (cam02's own: 0.6°): said. cam01's
    video with cam04's camera (36° apart) was not: lines searched from the calibration's vertical were refused as
    more than 25° from it."""
    from types import SimpleNamespace

    from pose3d_cli.ergo.run import ErgoRequest, _calibration_against_scene
    from pose3d_cli.infer.sources import open_source
    from pose3d_cli.multiview.calibration import camera_by_name, load_calibration

    clip = need(DATA / "video" / "pose2sim_single_person")
    calib = clip / "Calib.qca.txt"
    req = ErgoRequest(input=str(clip / f"{video}.mp4"), calib=str(calib), calib_camera=camera)
    up = camera_by_name(load_calibration(calib), camera).R @ np.array([0.0, 0.0, 1.0])
    out = _calibration_against_scene(req, open_source(clip / f"{video}.mp4"), {}, SimpleNamespace(up=up),
                                     f"{video}.mp4")
    assert (out is not None) == warned, out
    if warned:
        assert "'cam04' is tilted" in out and "--calib-camera" in out


def test_the_calibrated_camera_of_an_infer_output_is_named_one_way(tmp_path):
    """--video, else the video an infer JSON records, else the file's name: the early check and the scoring used
    different names (a JSON made from phone2.mp4 named phone1_poses.json: checked as phone1, scored with phone2's
    vertical, 20 deg apart; a CSV with --video phone2.mp4 refused although phone2 would have been used)."""
    from pose3d_cli.geometry import look_at
    from pose3d_cli.synth.cameras import Camera, intrinsics_from_fov, save_rig

    cams = []
    for k, (az, h) in enumerate(((-40, 1500.0), (40, 3000.0))):
        a = np.radians(az)
        Rr, t = look_at(np.array([3500 * np.cos(a), 3500 * np.sin(a), h]), np.array([0, 0, 900.0]))
        cams.append(Camera(intrinsics_from_fov(65, 64, 48), np.zeros(5), Rr, t, (64, 48), f"phone{k + 1}"))
    save_rig(cams, tmp_path / "rig.json")
    tr = make_track(40)
    tr.metadata["input"] = str(tmp_path / "phone2.mp4")
    write_track(tr, tmp_path / "phone1_poses.csv", "csv")
    write_track(tr, tmp_path / "poses.json", "json")  # names no camera: the video it records names it
    write_track(tr, tmp_path / "poses.csv", "csv")
    import cv2

    vw = cv2.VideoWriter(str(tmp_path / "phone2.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for _ in range(50):
        vw.write(np.zeros((48, 64, 3), np.uint8))
    vw.release()
    source = {}
    for name, extra in (("phone1_poses.csv", []), ("poses.json", []),
                        ("poses.csv", ["--video", str(tmp_path / "phone2.mp4")])):
        js = tmp_path / "s.json"
        js.unlink(missing_ok=True)
        r = run(str(tmp_path / name), *extra, "--calib", str(tmp_path / "rig.json"), "--json", str(js))
        assert r.exit_code == 0, r.output
        source[(name, bool(extra))] = json.loads(js.read_text())["vertical"]["source"]
    assert source[("phone1_poses.csv", False)].endswith("phone1 (world +Z)")
    assert source[("poses.json", False)].endswith("phone2 (world +Z)")  # the early check refused it (no camera)
    assert source[("poses.csv", True)].endswith("phone2 (world +Z)")  # refused too, though phone2 was to be used


def test_observations_read_numbers_in_exponent_form(tmp_path):
    """``load_kg: 1.2e1`` is 12 kg (YAML 1.2, JSON); PyYAML's YAML 1.1 rules read it as the string '1.2e1'."""
    from pose3d_cli.ergo.options import load_segments

    obs = tmp_path / "obs.yaml"
    obs.write_text("load_kg: 1.2e1\n")
    assert load_segments(obs).base.load_kg == 12.0


def test_a_segment_outside_the_clip_is_marked_not_applied_in_the_report(tmp_path):
    """The example file's segments (12-90 s) on a 3 s clip: the terminal said 'not applied', the report's table
    listed them as if they were."""
    src = write(make_track(90), tmp_path / "poses.csv", "csv")
    obs = tmp_path / "obs.yaml"
    obs.write_text("segments:\n  - {start: 12.0, end: 30.5, load_kg: 12}\n  - {start: 1.0, end: 2.0, load_kg: 4}\n")
    rep = tmp_path / "r.html"
    res = runner.invoke(app, ["ergo", str(src), "--report", str(rep), "--observations", str(obs)])
    assert res.exit_code == 0, res.output
    html = rep.read_text()
    assert "<th>applied</th>" in html and html.count("no: outside the clip") == 1
