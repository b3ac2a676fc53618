"""Wrist flexion/deviation and head yaw from hand-built hand and face points (tests/ergo_fk.py), their use in
RULA/REBA, the fallback without points, and the per-frame lift spread.

Expected angles are the FK parameters; expected scores are the published bands typed here by hand.
"""

import json

import numpy as np
import pytest

from ergo_fk import camera, hand_face, posture, to_camera
from pose3d_cli.body.frame import hand_face_angles
from pose3d_cli.ergo.assess import assess, frames_csv_text, resolve_vertical
from pose3d_cli.ergo.io import read_poses
from pose3d_cli.ergo.options import Conventions
from pose3d_cli.infer.detector_points import POINT_NAMES, DetectorPoints, swap_sides
from pose3d_cli.infer.writers import PoseTrack, write_track
from pose3d_cli.skeleton import H36M17

R = camera(35, 25, 5)  # an off-axis, pitched, slightly rolled phone: nothing may depend on it
BASE = dict(neck_neutral_deg=0.0, shoulder_raise_ref="zero")


def angles_of(world17, R=R, **kw):
    pts = hand_face(world17, **kw)
    return {k: float(v) for k, v in hand_face_angles({n: R @ x for n, x in pts.items()}).items()}


@pytest.mark.parametrize("left,right", [(30, -25), (-25, 30)])
@pytest.mark.parametrize("pron", [(0, 0), (170, 90), (-80, 160)])
def test_wrist_flexion_sign_both_sides(left, right, pron):
    """+ towards the palm, − towards the back of the hand, on each side, whatever the forearm's rotation or the
    camera: a shared cross-product order for both hands, or a camera-frame 'forward', flips one of them."""
    a = angles_of(posture(arm_flex=(40, 70), elbow=(60, 95)), wrist_flex=(left, right), pronation=pron)
    assert a["wrist_flexion_left"] == pytest.approx(left, abs=0.5)
    assert a["wrist_flexion_right"] == pytest.approx(right, abs=0.5)
    assert abs(a["wrist_deviation_left"]) < 0.5 and abs(a["wrist_deviation_right"]) < 0.5


def test_wrist_deviation_radial_vs_ulnar():
    a = angles_of(posture(arm_flex=(20, 20)), wrist_dev=(15, -12), pronation=(90, 0))
    assert a["wrist_deviation_left"] == pytest.approx(15, abs=0.5)  # radial (thumb side)
    assert a["wrist_deviation_right"] == pytest.approx(-12, abs=0.5)  # ulnar
    assert abs(a["wrist_flexion_left"]) < 0.5 and abs(a["wrist_flexion_right"]) < 0.5


@pytest.mark.parametrize("yaw", [35.0, -35.0, 8.0])
@pytest.mark.parametrize("twist", [0.0, 25.0])
def test_head_yaw_left_vs_right_relative_to_trunk(yaw, twist):
    """+ face turned to the subject's left; measured against the trunk, so a twisted trunk carrying the head
    along reads the head's own yaw only."""
    a = angles_of(posture(trunk_twist=twist, trunk_flex=20), head_yaw=yaw)
    assert a["head_yaw"] == pytest.approx(yaw, abs=0.5)


def test_head_yaw_from_the_eyes_when_an_ear_is_missing():
    pts = hand_face(posture(), head_yaw=-30)
    pts["left_ear"] = np.full(3, np.nan)
    assert hand_face_angles(pts)["head_yaw"] == pytest.approx(-30, abs=0.5)


def test_swap_sides_by_name():
    T = 3
    world = np.arange(T * len(POINT_NAMES) * 3, dtype=float).reshape(T, len(POINT_NAMES), 3)
    p = DetectorPoints(POINT_NAMES, world[..., :2], np.ones((T, len(POINT_NAMES))), world)
    q = swap_sides(p, np.array([False, True, False]))
    assert np.array_equal(q.point("left_index")[1], p.point("right_index")[1])
    assert np.array_equal(q.point("nose"), p.point("nose"))
    assert np.array_equal(q.point("left_index")[0], p.point("left_index")[0])


# ------------------------------------------------------------------ scoring through infer outputs


def make_track(T, flex, yaw, conf=0.9, **posture_kw):
    """An infer PoseTrack (camera R) with the detector points of the FK hand/face: wrist flexion (L, R), head yaw."""
    w = posture(**posture_kw)
    p, _ = to_camera(np.stack([w] * T), R)
    pts = hand_face(w, wrist_flex=flex, head_yaw=yaw)
    world = np.stack([[R @ pts[n] for n in POINT_NAMES]] * T)
    points = DetectorPoints(POINT_NAMES, np.zeros((T, len(POINT_NAMES), 2)), np.full((T, len(POINT_NAMES)), conf),
                            world)
    return PoseTrack(np.arange(T), np.arange(T) / 30.0, np.ones(T, bool), p.astype(np.float32),
                     np.zeros((T, 17, 2), np.float32), np.full((T, 17), 0.9, np.float32), H36M17.joints,
                     {"skeleton": "h36m17", "fps": 30.0, "input": "worker.mp4"}, points=points)


def scored(tmp_path, track, fmt="json", **conv):
    path = tmp_path / f"p.{fmt}"
    write_track(track, path, fmt)
    poses = read_poses(path)
    up = tuple(R @ np.array([0, 0, 1.0]))
    return assess(poses, resolve_vertical(poses, up=up), Conventions(**{**BASE, **conv}))


def test_measured_wrist_and_neck_twist_feed_rula_and_reba(tmp_path):
    """Left wrist 30° extended → RULA wrist 3 (> 15°), REBA wrist 2; right wrist 10° flexed → RULA 2, REBA 1;
    head turned 40° right → RULA and REBA neck +1 (upright neck: RULA 1 → 2, REBA 1 → 2)."""
    A = scored(tmp_path, make_track(40, (-30, 10), -40), hand_points="auto", hand_margin_deg=0)
    t = 20
    assert A.rula["wrist_left"][t] == 3 and A.rula["wrist_right"][t] == 2
    assert A.reba["wrist_left"][t] == 2 and A.reba["wrist_right"][t] == 1
    assert A.rula["neck"][t] == 2 and A.reba["neck"][t] == 2
    assert A.angles["wrist_flexion_left"][t] == pytest.approx(-30, abs=1)
    assert A.angles["head_yaw"][t] == pytest.approx(-40, abs=1)
    off = scored(tmp_path, make_track(40, (-30, 10), -40), hand_points="off")
    assert off.rula["wrist_left"][t] == 1 and off.rula["neck"][t] == 1 and off.reba["wrist_left"][t] == 1
    assert np.isfinite(off.angles["wrist_flexion_left"][t])  # still measured and written
    row = frames_csv_text(A).splitlines()
    head = row[0].split(",")
    cells = dict(zip(head, next(__import__("csv").reader([row[t + 1]]))))
    assert cells["measured"] == "wrist_left;wrist_right;neck_twist"
    assert float(cells["wrist_flexion_left_deg"]) == pytest.approx(-30, abs=1)


def test_margin_keeps_undecided_bands_on_the_option(tmp_path):
    """With a 20° margin, 30° (could be 10°: band 2) is undecided → the option (1); 40° is 3 either way; a 25° head
    yaw could be 5° → not used; 45° is twisted either way."""
    A = scored(tmp_path, make_track(30, (30, 40), 25), hand_points="auto", hand_margin_deg=20)
    assert A.rula["wrist_left"][10] == 1 and A.rula["wrist_right"][10] == 3 and A.rula["neck"][10] == 1
    B = scored(tmp_path, make_track(30, (0, 0), 45), hand_points="auto", hand_margin_deg=20)
    assert B.rula["neck"][10] == 2


def test_low_confidence_points_fall_back(tmp_path):
    A = scored(tmp_path, make_track(30, (-40, -40), 50, conf=0.2), hand_points="auto", hand_margin_deg=0)
    assert A.rula["wrist_left"][5] == 1 and A.rula["neck"][5] == 1
    assert np.isnan(A.angles["wrist_flexion_left"]).all()


def test_17_joint_csv_has_no_points_and_falls_back(tmp_path):
    """An infer CSV carries no hand/face points: documented option defaults, empty angle cells, a stated note."""
    A = scored(tmp_path, make_track(30, (-40, 40), 50), fmt="csv", hand_points="auto", hand_margin_deg=0)
    assert A.poses.points is None
    assert A.rula["wrist_left"][5] == 1 and A.rula["neck"][5] == 1 and np.isfinite(A.rula["grand"]).all()
    assert any("no hand/face points" in n for n in A.summary["not_observable"])
    rows = frames_csv_text(A).splitlines()
    head = rows[0].split(",")
    assert rows[6].split(",")[head.index("wrist_flexion_left_deg")] == ""


def test_json_round_trip_keeps_points_by_name(tmp_path):
    tr = make_track(5, (10, 20), 0)
    write_track(tr, tmp_path / "p.json", "json")
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["metadata"]["detector_point_names"] == list(POINT_NAMES)
    back = read_poses(tmp_path / "p.json").points
    assert np.allclose(back.point("left_index"), tr.points.point("left_index"), atol=0.06)


# ------------------------------------------------------------------ lift spread


@pytest.mark.parametrize("plain_flex,spread,flip", [(70.0, 30.0, 1), (41.0, 1.0, 0)])
def test_lift_spread_and_band_flip(tmp_path, plain_flex, spread, flip):
    """Scored lift: trunk flexed 40° (RULA trunk 3, REBA trunk 3); the plain lift 70° (RULA 4, REBA 4: the final
    scores move) or 41° (same bands: no flip). Spread = the trunk difference."""
    tr = make_track(30, (0, 0), 0, trunk_flex=40)
    write_track(tr, tmp_path / "p.json", "json")
    poses = read_poses(tmp_path / "p.json")
    plain, _ = to_camera(np.stack([posture(trunk_flex=plain_flex)] * 30), R)
    poses.plain_joints = plain
    A = assess(poses, resolve_vertical(poses, up=tuple(R @ np.array([0, 0, 1.0]))), Conventions(**BASE))
    assert A.spread["deg"][10] == pytest.approx(spread, abs=0.5)
    assert A.spread["angle"][10] == "trunk_lean"  # the default scores the lean (= flexion here: no side bend)
    assert A.spread["flip"][10] == flip
    rows = frames_csv_text(A).splitlines()
    head = rows[0].split(",")
    assert rows[11].split(",")[head.index("lift_flip")] == str(flip)
    assert A.summary["lift_spread"]["lift_flip_frames (scored)"] == 30 * flip
