"""Appearance re-identification: synthetic people painted in a synthetic frame (shirt and trouser colours known
by construction), who leave, come back, are occluded for longer than ``max_lost`` and swap places meanwhile.

Expected values are by construction: a region painted in one saturated colour puts all its histogram mass in one
hue bin, so the Bhattacharyya coefficient is 1 with itself and 0 with a different hue.
"""

import cv2
import numpy as np

from pose3d_cli.infer.appearance import appearance_descriptor, appearance_similarity, region_boxes
from pose3d_cli.infer.tracking import PoseTracker, track_people
from pose3d_cli.skeleton import get_skeleton

SK = get_skeleton("blazepose33")
W, H = 1280, 720
# BGR, saturated: hues 0 (red), 120 (blue), 60 (green), 30 (yellow) on OpenCV's 0-180 scale
RED, BLUE, GREEN, YELLOW = (0, 0, 255), (255, 0, 0), (0, 255, 0), (0, 255, 255)


def person(cx: float, height: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """(33, 2) standing person with feet at y = 650: shoulders, hips, knees, ankles placed by name."""
    xy = np.zeros((SK.num_joints, 2), np.float32)
    conf = np.zeros(SK.num_joints, np.float32)
    top = 650 - height
    w = height / 5
    for side, sx in (("left", 1), ("right", -1)):
        for name, y in (("shoulder", 0.15), ("hip", 0.5), ("knee", 0.75), ("ankle", 1.0)):
            xy[SK.index(f"{side}_{name}")] = (cx + sx * w / 2, top + y * height)
            conf[SK.index(f"{side}_{name}")] = 0.9
    xy[SK.index("nose")] = (cx, top)
    conf[SK.index("nose")] = 0.9
    return xy, conf


def paint(img: np.ndarray, xy: np.ndarray, shirt, trousers) -> None:
    """Torso rectangle (shoulders → hips) in ``shirt``, legs rectangle (hips → ankles) in ``trousers``."""
    ls, rs, lh, rh, la = (xy[SK.index(n)] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip",
                                                    "left_ankle"))
    x0, x1 = int(min(rs[0], ls[0])) - 5, int(max(rs[0], ls[0])) + 5
    cv2.rectangle(img, (x0, int(ls[1]) - 5), (x1, int(lh[1])), shirt, -1)
    cv2.rectangle(img, (x0, int(lh[1])), (x1, int(la[1]) + 5), trousers, -1)


def frame(people: list[tuple[float, tuple, tuple]]):
    """people: (cx, shirt, trousers) → (poses, descriptors) of one synthetic frame on a grey background."""
    img = np.full((H, W, 3), 128, np.uint8)
    poses = []
    for cx, shirt, trousers in people:
        xy, conf = person(cx)
        paint(img, xy, shirt, trousers)
        poses.append((xy, conf))
    return poses, [appearance_descriptor(img, xy, c) for xy, c in poses]


def test_descriptor_separates_colours_and_ignores_position():
    a1 = frame([(300, RED, BLUE)])[1][0]
    a2 = frame([(900, RED, BLUE)])[1][0]
    b = frame([(300, GREEN, YELLOW)])[1][0]
    half = frame([(300, RED, YELLOW)])[1][0]  # same shirt, other trousers
    assert appearance_similarity(a1, a2) > 0.99
    assert appearance_similarity(a1, b) < 0.05
    assert 0.4 < appearance_similarity(a1, half) < 0.6  # one region of two matches
    assert appearance_similarity(a1, np.zeros_like(a1)) == 0.0  # nothing shared
    xy, conf = person(300)
    conf[SK.index("left_knee")] = conf[SK.index("right_knee")] = 0.0
    conf[SK.index("left_ankle")] = conf[SK.index("right_ankle")] = 0.0
    assert region_boxes(xy, conf)[0] is not None
    assert region_boxes(xy, conf)[1] is None  # the two hips alone span no area: no legs region


def run(script, **kw):
    """script: per frame, list of (name, cx, shirt, trousers) → (tracker, per-name set of ids, ids per frame)."""
    tracker = PoseTracker(**kw)
    ids_of, per_frame = {}, []
    for people in script:
        poses, apps = frame([p[1:] for p in people])
        ids = tracker.update(poses, apps)
        per_frame.append(ids)
        for (name, *_), i in zip(people, ids):
            ids_of.setdefault(name, set()).add(i)
    return tracker, ids_of, per_frame


def test_a_person_who_leaves_for_three_seconds_keeps_the_id_and_a_stranger_does_not():
    fps = 30
    script = []
    for t in range(200):
        people = [("B", 900, GREEN, YELLOW)]
        if t < 40 or t >= 130:  # A away for 90 frames = 3 s, far more than max_lost = 30
            people.append(("A", 300 + (0 if t < 40 else 40), RED, BLUE))
        if 60 <= t < 100:  # C, dressed differently, stands where A was while A is away
            people.append(("C", 320, BLUE, RED))
        script.append(people[::-1] if t % 2 else people)
    tracker, ids, _ = run(script, max_lost=fps, reid_window=5 * fps)
    assert len(ids["A"]) == 1 and len(ids["B"]) == 1 and len(ids["C"]) == 1
    assert len(ids["A"] | ids["B"] | ids["C"]) == 3  # C is not mistaken for A, nor A for C
    assert tracker.next_id == 3
    # the same without re-identification (window <= max_lost): A comes back with a fresh id
    _, ids, _ = run(script, max_lost=fps, reid_window=0)
    assert len(ids["A"]) == 2 and len(ids["A"] | ids["B"] | ids["C"]) == 4


def test_two_people_occluded_together_and_swapped_meanwhile_are_told_apart_by_colour():
    script = []
    for t in range(120):
        if t < 30:
            script.append([("A", 500, RED, BLUE), ("B", 700, GREEN, YELLOW)])
        elif t < 80:  # nobody in view for 50 frames (> max_lost), e.g. behind a machine: an empty frame
            script.append([])
        else:  # back, on swapped sides (each moved 200 px: plausible after 50 frames)
            script.append([("B", 500, GREEN, YELLOW), ("A", 700, RED, BLUE)])
    tracker, ids, per_frame = run(script, max_lost=10, reid_window=100)
    assert all(ids == [] for ids in per_frame[30:80])
    assert len(ids["A"]) == 1 and len(ids["B"]) == 1 and ids["A"] != ids["B"]
    assert tracker.next_id == 2


def test_reid_needs_a_plausible_place_and_an_expired_window_gives_a_new_id():
    # A vanishes at x=100 and 5 frames later someone dressed the same appears at x=1150: too far to walk
    script = [[("A", 100, RED, BLUE)]] * 20 + [[]] * 5 + [[("A2", 1150, RED, BLUE)]] * 10
    _, ids, _ = run(script, max_lost=2, reid_window=100)
    assert ids["A"] != ids["A2"]
    # back at the same place but after the window: new id; ids are never reused
    script = [[("A", 300, RED, BLUE)]] * 10 + [[]] * 40 + [[("A2", 300, RED, BLUE)]] * 10
    tracker, ids, _ = run(script, max_lost=5, reid_window=30)
    assert ids["A"] == {0} and ids["A2"] == {1} and tracker.next_id == 2
    tracker, ids, _ = run(script, max_lost=5, reid_window=60)
    assert ids["A"] == ids["A2"] == {0}


def test_track_people_passes_descriptors_through():
    frames, apps = [], []
    for t in range(100):
        poses, a = frame([(300, RED, BLUE)] if t < 20 or t >= 70 else [])
        frames.append(poses)
        apps.append(a)
    people = track_people(frames, SK.num_joints, appearances=apps, max_lost=10, reid_window=60)
    assert len(people) == 1 and people.present()[0].sum() == 50
    assert len(track_people(frames, SK.num_joints, max_lost=10)) == 2  # no descriptors: two tracks


def test_a_low_confidence_track_is_dropped_as_clutter():
    frames = []
    for t in range(30):
        real, _ = frame([(300, RED, BLUE)])
        xy, c = person(900)
        frames.append(real + [(xy, np.where(c > 0, 0.55, 0.0).astype(np.float32))])  # clutter scores ~0.55
    assert len(track_people(frames, SK.num_joints)) == 2
    people = track_people(frames, SK.num_joints, min_confidence=0.7)
    assert len(people) == 1 and abs(people.xy[0, 0, SK.index("nose"), 0] - 300) < 1


def test_a_lone_low_confidence_person_is_kept_not_dropped_as_clutter():
    """Every track under the confidence floor (a worker whose legs are hidden scores low): the most prominent one
    stays, where all were dropped and the video had 'no person'; a smaller, fainter one beside it still goes."""
    frames = []
    for t in range(30):
        xy, c = person(300)
        small, cs = person(900)
        frames.append([(xy, np.where(c > 0, 0.6, 0.0).astype(np.float32)),
                       (900 + 0.5 * (small - 900), np.where(cs > 0, 0.5, 0.0).astype(np.float32))])
    people = track_people(frames, SK.num_joints, min_confidence=0.7)
    assert len(people) == 1 and abs(people.xy[0, 0, SK.index("nose"), 0] - 300) < 1
