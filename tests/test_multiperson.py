"""Several people on the shared real clips and photos, checked against hand counts written down here.

Hand check of sports2d/demo.mp4 (1768x994, 230 frames; rendered frames 0, 10, ..., 220 looked at by eye):
- the man stands on the box (box centre y < 480 px) in frames 0-140; from about 145 to 185 he is in the sun's glare
  and jumps down (a human barely sees him at 150-160, not at 170-180); at 190 he stands on the grass and then
  crouches and walks right (x > 900) until the end;
- the woman enters at the right edge at frame 40, walks left on the grass (centre y > 480) and leaves at the left
  edge at about 197.
So two people in frames 40-140; an id switch = a hand-checked frame where a person carries another's id.
Found (and asserted): no id switch; since the per-person VIDEO-mode follow (detect/follow.py) the man is found
again at 190, on the grass next to the woman, and keeps his id through the glare (before it, he got a second id
after being lost 48 frames); one fragmentation at most is still allowed.

Hand count of the 24 COCO photos (sorted by name, index 0-23): people whose body is at least a quarter of the
photo's height and mostly visible: 0:1 1:2 2:2 3:4 4:3 5:3 6:0 7:1 8:3 9:2 10:0 11:0 12:1 13:1 14:1 15:1 16:1
17:3 18:3 19:3 20:1 21:0 22:1 23:1 (6, 10: crowds of small people only; 11: a small snowboarder in the air;
21: a small figure from above). Each counted person's chest (just below the shoulders) was marked by eye on the
photo drawn with a 50 px grid: ``COCO_CHEST``, pixels. A person is found when a pose's box (its joints with
confidence > 0.3, grown by 10 % each way) holds the chest, one pose per person (Hungarian on the distance to the
box centre); so a pose of someone's legs alone, or of the catcher beside him, does not count. Extra = a pose
at least a quarter of the photo tall that holds no marked chest.
Split (fixed before any tuning): photos at even index = dev (the still search of detect/multi.py, multi-scale
overlapping tiles + refine pass, was chosen there), odd index = report. Measured with the default
MultiPersonDetector(mode="image"):
- whole frame + 2x2 tiles (old), scored by the earlier rule (a pose >= a quarter of the photo tall counted, up to
  the hand count): dev 14/17, report 17/21;
- multi-scale tiles + refine, box masks: by that rule dev 17/17 (3 extra), report 17/21; by the chest marks dev
  16/17 (4 extra), report 19/21 (1 extra): the old rule missed crouching catchers found whole (17, 19: 0.20-0.24 of
  the photo tall) and counted a catcher's legs as him (4);
- body-shaped masks (now; chosen on dev: recall the same, extras 4 -> 3; the mask width, 0.5 or 0.8 of the shoulder
  width, tied on dev and 0.8 was kept; 0.5 gives report 21/21 with 3 extra): dev 16/17 (3 extra), report 21/21
  (1 extra). Found now and not with box masks: the skier behind another (3) and the dark umpire behind the
  catcher (17), both hidden by the box of the person in front. Still missed: the catcher of photo 4, half behind
  the umpire (no pose there even without the umpire's mask).
"""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app

from conftest import DATA, need

runner = CliRunner()
COCO_CHEST = [[(390, 150)], [(90, 185), (345, 195)], [(325, 150), (555, 270)],
              [(30, 110), (295, 160), (575, 100), (535, 235)], [(320, 240), (405, 320), (480, 285)],
              [(190, 200), (75, 350), (335, 340)], [], [(110, 230)], [(165, 220), (315, 210), (470, 200)],
              [(380, 200), (470, 225)], [], [], [(330, 400)], [(65, 330)], [(400, 230)], [(180, 350)], [(210, 230)],
              [(255, 250), (150, 290), (75, 250)], [(130, 160), (220, 160), (350, 210)],
              [(300, 290), (150, 340), (60, 310)], [(320, 410)], [], [(440, 240)], [(240, 190)]]
COCO_HAND = [len(c) for c in COCO_CHEST]


def matched_people(chests, poses, height):
    """(found, extra) of one photo: marked chests held by a pose's grown box, one pose each; extra = poses at
    least a quarter of ``height`` tall that hold none."""
    from scipy.optimize import linear_sum_assignment

    boxes = []
    for k in poses:
        pts = k.xy[k.confidence > 0.3]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        gx, gy = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        boxes.append((x0 - gx, y0 - gy, x1 + gx, y1 + gy, (y1 - y0) / height))
    far = 1e9
    cost = np.full((len(chests), len(boxes)), far)
    for a, (x, y) in enumerate(chests):
        for b, (x0, y0, x1, y1, _) in enumerate(boxes):
            if x0 <= x <= x1 and y0 <= y <= y1:
                cost[a, b] = np.hypot(x - (x0 + x1) / 2, y - (y0 + y1) / 2)
    pairs = [(a, b) for a, b in zip(*linear_sum_assignment(cost)) if cost[a, b] < far] if cost.size else []
    used = {b for _, b in pairs}
    return len(pairs), sum(1 for b, box in enumerate(boxes) if b not in used and box[4] >= 0.25)



def centres(track, t):
    from pose3d_cli.infer.tracking import pose_box

    b = pose_box(track.uv[t], track.conf[t])
    return None if b is None else ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


@pytest.mark.slow
def test_sports2d_both_people_tracked_with_stable_ids():
    from pose3d_cli.infer.people import detect_people
    from pose3d_cli.infer.pipeline import InferOptions
    from pose3d_cli.infer.sources import open_source

    tracks = detect_people(open_source(need(DATA / "video" / "sports2d" / "demo.mp4")), InferOptions())
    where = {t: [(tr.person, centres(tr, t)) for tr in tracks if centres(tr, t) is not None] for t in range(230)}
    man = {t: [i for i, (x, y) in where[t] if y < 480] for t in range(0, 141, 10)}
    woman = {t: [i for i, (x, y) in where[t] if y > 480] for t in range(50, 181, 10)}
    woman[190] = [i for i, (x, y) in where[190] if y > 480 and x < 900]  # the man is on the grass too, at x > 900
    assert all(len(v) == 1 for v in man.values()), man  # found in every hand-checked frame, once
    assert all(len(v) == 1 for v in woman.values()), woman
    man_id, woman_id = man[0][0], woman[50][0]
    switches = sum(v != [man_id] for v in man.values()) + sum(v != [woman_id] for v in woman.values())
    assert switches == 0 and man_id == 0 and woman_id != man_id
    after = {t: [i for i, (x, y) in where[t] if x > 900] for t in range(200, 221, 10)}
    assert all(len(v) == 1 and v[0] != woman_id for v in after.values()), after  # the man again, not her id
    assert len({v[0] for v in after.values()}) == 1 and len(tracks) <= 3  # one fragmentation at most


def test_coco_photos_every_person_with_a_visible_body_gets_a_pose():
    from pose3d_cli.detect.multi import MultiPersonDetector
    import cv2

    photos = sorted(need(DATA / "images" / "coco").glob("*.jpg"))
    assert len(photos) == len(COCO_CHEST)
    found, extra, several = [], [], []
    with MultiPersonDetector(mode="image") as det:
        for p, chests in zip(photos, COCO_CHEST):
            img = cv2.imread(str(p))
            f, e = matched_people(chests, det.detect_all(img), img.shape[0])
            found.append(f), extra.append(e)
    hand, found, extra = np.array(COCO_HAND), np.array(found), np.array(extra)
    got = list(zip(hand, found, extra))
    for half, (least, most_extra) in enumerate(((16, 3), (21, 1))):  # dev (even), report (odd): see module doc
        assert found[half::2].sum() >= least, (half, got)  # dev: 16 of 17 (photo 4's catcher); report: 21 of 21
        assert extra[half::2].sum() <= most_extra, (half, got)
    assert (found[hand >= 2] == hand[hand >= 2]).mean() >= 0.8  # group photos: everyone, not only the largest


def test_body_mask_hides_the_person_found_not_the_one_behind():
    """A photo search greys the found person's shape, not its box: a point beside the body but inside its box (where
    a person behind would stand) keeps its pixels, and a pose re-found on the grey silhouette is told apart."""
    from pose3d_cli.detect.base import Keypoints2D
    from pose3d_cli.detect.multi import GREY, blank_body, on_grey
    from pose3d_cli.skeleton import get_skeleton

    sk = get_skeleton("blazepose33")
    at = {n: (x, y) for n, x, y in [  # a person standing, arms spread up and out (a box 240 px wide)
        ("nose", 200, 60), ("left_ear", 215, 60), ("right_ear", 185, 60), ("left_shoulder", 230, 100),
        ("right_shoulder", 170, 100), ("left_elbow", 280, 70), ("right_elbow", 120, 70), ("left_wrist", 320, 40),
        ("right_wrist", 80, 40), ("left_hip", 220, 200), ("right_hip", 180, 200), ("left_knee", 225, 280),
        ("right_knee", 175, 280), ("left_ankle", 225, 360), ("right_ankle", 175, 360)]}
    xy = np.array([at.get(n, (np.nan, np.nan)) for n in sk.joints], np.float32)
    conf = np.array([0.9 if n in at else 0.0 for n in sk.joints], np.float32)
    kp = Keypoints2D(np.nan_to_num(xy), conf, "blazepose33")
    img = np.full((400, 400, 3), 30, np.uint8)
    painted = np.zeros((400, 400), bool)
    blank_body(img, kp, painted=painted)
    grey = (img == GREY).all(axis=-1)
    np.testing.assert_array_equal(grey, painted)
    assert grey[150, 200] and grey[60, 200] and grey[280, 225] and grey[70, 280]  # torso, head, knee, elbow
    assert not grey[300, 300] and not grey[300, 100] and not grey[150, 300]  # beside the body, inside its box
    assert on_grey(painted, kp) == 1.0
    moved = Keypoints2D(kp.xy + np.float32([150, 0]), conf, "blazepose33")  # someone standing to its right
    assert on_grey(painted, moved) < 0.5
    # a grey photo is not a blanked one: only the mask counts
    assert on_grey(np.zeros((400, 400), bool), kp) == 0.0
    # keypoints that are not finite are left out, not drawn (no crash)
    bad = Keypoints2D(np.where(np.arange(len(xy))[:, None] == 0, np.nan, kp.xy).astype(np.float32), conf, "blazepose33")
    blank_body(np.zeros((400, 400, 3), np.uint8), bad, painted=np.zeros((400, 400), bool))


def test_tile_windows_cover_the_image_and_overlap_by_half_a_tile():
    from pose3d_cli.detect.multi import tile_windows

    for w, h, f in ((640, 480, 0.6), (640, 480, 0.45), (375, 500, 0.45), (101, 37, 0.3)):
        tiles = tile_windows(w, h, f)
        tw, th = int(w * f), int(h * f)
        assert all(x1 - x0 == tw and y1 - y0 == th for x0, y0, x1, y1 in tiles)
        assert all(0 <= x0 and 0 <= y0 and x1 <= w and y1 <= h for x0, y0, x1, y1 in tiles)
        covered = np.zeros((h, w), bool)
        for x0, y0, x1, y1 in tiles:
            covered[y0:y1, x0:x1] = True
        assert covered.all()
        xs, ys = sorted({t[0] for t in tiles}), sorted({t[1] for t in tiles})
        assert len(tiles) == len(xs) * len(ys) >= 4  # a full grid
        assert all(b - a <= tw / 2 for a, b in zip(xs, xs[1:])) and all(b - a <= th / 2 for a, b in zip(ys, ys[1:]))
        # so any box up to half a tile on each side lies whole in some tile (a 2x2 grid without overlap fails)
        rng = np.random.default_rng(0)
        for _ in range(200):
            bw, bh = rng.integers(1, tw // 2 + 1), rng.integers(1, th // 2 + 1)
            x, y = rng.integers(0, w - bw + 1), rng.integers(0, h - bh + 1)
            assert any(x0 <= x and y0 <= y and x + bw <= x1 and y + bh <= y1 for x0, y0, x1, y1 in tiles)
    assert tile_windows(640, 480, 1.0) == [(0, 0, 640, 480)]


@pytest.mark.slow
def test_pose2sim_background_person_and_cli_person_choice(tmp_path):
    import csv

    video = need(DATA / "video" / "pose2sim_single_person" / "cam01.mp4")
    out = tmp_path / "cam01.csv"
    r = runner.invoke(app, ["-q", "infer", str(video), "-o", str(out), "--detect-width", "540", "--with-2d"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    ids = sorted({int(x["person"]) for x in rows})
    assert len(ids) >= 2 and len(rows) == 100 * len(ids)
    # hand check: the woman stands at the left edge (x < 200 px in the 1080 px wide frame) through the clip
    back = [x for x in rows if x["person"] != "0" and x["detected"] == "1" and x["pelvis_u"]
            and float(x["pelvis_u"]) < 200]
    # measured: at 540 px she is lost once for longer than the 1 s a lost track is kept and comes back with a
    # new id (one fragmentation); never does she take the subject's id 0
    assert len(back) >= 60 and len({x["person"] for x in back}) <= 2
    # --person 7: one clear line listing the ids found, exit 2, nothing written
    bad = tmp_path / "bad.csv"
    r = runner.invoke(app, ["-q", "infer", str(video), "-o", str(bad), "--person", "7", "--detect-width", "540"])
    assert r.exit_code == 2 and "people found: " + ", ".join(map(str, ids)) in r.output and not bad.exists()
    r = runner.invoke(app, ["-q", "infer", str(video), "-o", str(bad), "--person", "someone"])
    assert r.exit_code == 2 and "--person" in r.output and not bad.exists()


def _openpose_two_people(folder, frames=40):
    """An OpenPose BODY_25 folder with two people (from the shipped BlazePose sample, the second shifted right
    and smaller), listed in alternating order."""
    import json

    from pose3d_cli.detect.keypoint_files import OPENPOSE25, read_keypoints
    from pose3d_cli.skeleton import convert

    seq = read_keypoints(Path(__file__).resolve().parents[1] / "pose3d_cli/assets/demo_cam01_blazepose.csv")
    xy, conf = convert(seq.xy, seq.skeleton, "coco17", seq.confidence)
    names = list(OPENPOSE25.joints)
    from pose3d_cli.skeleton import COCO17

    def op(p_xy, p_c):
        out = np.zeros((25, 3))
        for j, n in enumerate(COCO17.joints):
            if n in names:
                out[names.index(n)] = [p_xy[j, 0], p_xy[j, 1], p_c[j]]
        return out.reshape(-1).tolist()

    folder.mkdir()
    for t in range(frames):
        a = op(xy[t], conf[t])
        b = op(xy[t] * 0.7 + np.array([700.0, 100.0]), conf[t])
        people = [a, b] if t % 2 else [b, a]
        (folder / f"clip_{t:06d}_keypoints.json").write_text(json.dumps(
            {"people": [{"pose_keypoints_2d": p} for p in people]}))


def test_keypoint_files_with_two_people_give_csv_json_bvh_per_person(tmp_path):
    import csv
    import json

    folder = tmp_path / "op"
    _openpose_two_people(folder)
    out = tmp_path / "p.csv"
    r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(out), "--size", "1080x1920"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:3] == ["frame", "person", "time_s"]
    assert len(rows) == 80 and [x["person"] for x in rows[:4]] == ["0", "1", "0", "1"]
    # ids follow the people, not the list order: person 0 (the larger) keeps a larger pelvis-to-head 2D distance
    r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(tmp_path / "p.json"), "--size", "1080x1920"])
    d = json.loads((tmp_path / "p.json").read_text())
    assert d["metadata"]["people"] == [0, 1] and [p["id"] for p in d["people"]] == [0, 1]
    u0 = np.array([f["keypoints_2d"][0][0] for f in d["people"][0]["frames"]])
    u1 = np.array([f["keypoints_2d"][0][0] for f in d["people"][1]["frames"]])
    assert (u1 > u0 + 300).all()  # person 1 is always the shifted copy: no swap in alternating list order
    assert d["frames"] == d["people"][0]["frames"]
    r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(tmp_path / "p.bvh"), "--size", "1080x1920"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.bvh").exists() and (tmp_path / "p_person1.bvh").exists()
    r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(tmp_path / "one.csv"), "--person", "1",
                            "--size", "1080x1920"])
    assert r.exit_code == 0 and {x["person"] for x in csv.DictReader((tmp_path / "one.csv").open())} == {"1"}
    r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(tmp_path / "bad.csv"), "--person", "7"])
    assert r.exit_code == 2 and "people found: 0, 1" in r.output and not (tmp_path / "bad.csv").exists()


# Hand check of pose2sim (frames 0, 30, 50, 90, 99 looked at, PNGs in the people2 notes): the woman in the
# background stands at the left edge of cam01 and right of the subject in cam02 (x ~ 750-840 px) in every frame
# looked at; cam03 and cam04 see nobody but the subject (cam04: a treadmill foot at the bottom left, y > 1500 px,
# is no person).
POSE2SIM_HAND = {"cam02": (True, (700, 900)), "cam04": (False, None)}


@pytest.mark.slow
def test_pose2sim_background_person_per_view_against_the_hand_check():
    from pose3d_cli.infer.people import detect_people
    from pose3d_cli.infer.pipeline import InferOptions
    from pose3d_cli.infer.sources import open_source

    for cam, (seen, xs) in POSE2SIM_HAND.items():
        tracks = detect_people(open_source(need(DATA / "video" / "pose2sim_single_person" / f"{cam}.mp4")),
                               InferOptions())
        others = tracks[1:]
        if not seen:  # measured before the confidence filter: a false person in 68 frames of cam04
            assert others == [], (cam, len(others))
            continue
        found = sum(1 for t in range(100) for tr in others
                    if centres(tr, t) is not None and xs[0] < centres(tr, t)[0] < xs[1])
        assert len(others) == 1 and found >= 60, (cam, found)  # measured: 74 of 100 (lost behind the arm)


def test_min_track_frames_is_half_a_second_but_never_more_than_half_the_clip():
    from pose3d_cli.infer.people import min_track_frames

    assert min_track_frames(60, 1000) == 30 and min_track_frames(4, 1000) == 3  # half a second, at least 3
    assert min_track_frames(60, 12) == 6 and min_track_frames(60, 1) == 1  # a short clip keeps its person


def test_a_clip_shorter_than_half_a_second_still_finds_its_person(tmp_path):
    """12 frames of 60 fps: the default (multi-person) path must find the subject, as --max-people 1 does."""
    import cv2

    src = cv2.VideoCapture(str(need(DATA / "video" / "pose2sim_single_person" / "cam02.mp4")))
    clip = tmp_path / "short.mp4"
    w = None
    for _ in range(12):
        ok, img = src.read()
        assert ok
        if w is None:
            w = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 60, (img.shape[1], img.shape[0]))
        w.write(img)
    w.release()
    out = tmp_path / "short.csv"
    r = CliRunner().invoke(app, ["-q", "infer", str(clip), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = [line.split(",") for line in out.read_text().splitlines() if not line.startswith("#")]
    col = rows[0].index("detected")
    assert sum(row[col] == "1" for row in rows[1:]) >= 10


def test_a_box_beyond_the_frame_greys_nothing():
    """A box wholly left of the frame (joints kept up to 5% outside) had a negative stop: it greyed nearly all of it."""
    from pose3d_cli.detect.multi import _blank
    from pose3d_cli.detect.schedule import SearchSchedule

    img = np.full((100, 200, 3), 7, np.uint8)
    _blank(img, np.array([-30.0, 10.0, -10.0, 90.0]))
    assert (img == 7).all()
    _blank(img, np.array([150.0, 20.0, 260.0, 80.0]))  # partly outside: greys its inside part only
    assert (img[:, :140] == 7).all() and (img[40, 160:] != 7).all()
    # the same rule where the schedule masks people out of the moved pixels: a box beyond the frame masks nothing
    sched = SearchSchedule(every=1)
    still = np.zeros((160, 320, 3), np.uint8)
    sched.searched(0, still, [np.array([-60.0, 10.0, -20.0, 150.0])])
    moved = still.copy()
    moved[40:120, 200:280] = 200  # something new, far from the box
    region = sched.changed(moved, [])
    assert region is not None and region[0] >= 190 and region[2] <= 290


def test_person_ids_are_ascii_digits():
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.infer.people import parse_person

    assert parse_person("3") == 3 and parse_person("largest") == "largest"
    with pytest.raises(Pose3dError, match="expected all, largest or a person id"):
        parse_person("²")  # str.isdigit() says yes, int() says no: it was an internal error
