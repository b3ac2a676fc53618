"""The multi-person tracker on synthetic people: crossings, short disappearances, births, deaths, empty frames.

Ground truth is built by hand: each synthetic person is a stick figure of 17 joints translated along a known
path; the tracker sees the poses of each frame in a shuffled order, so it cannot rely on list order.
"""

import numpy as np

from pose3d_cli.infer.tracking import PoseTracker, iou, keypoint_similarity, pose_box, track_people

J = 17
rng = np.random.default_rng(0)


def figure(cx: float, cy: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """A standing figure: (J, 2) joints spread over a box of ``height`` × height/3 centred at (cx, cy)."""
    base = np.linspace(-0.5, 0.5, J)
    xy = np.stack([cx + height / 3 * np.sin(7 * base), cy + height * base], axis=-1)
    return xy.astype(np.float32), np.full(J, 0.9, np.float32)


def frames_of(paths: dict[str, list], shuffle: bool = True):
    """paths: name → per frame (cx, cy, h) or None (absent) → (frames of poses, truth names per frame)."""
    T = len(next(iter(paths.values())))
    frames, truth = [], []
    for t in range(T):
        items = [(n, figure(*p[t])) for n, p in paths.items() if p[t] is not None]
        if shuffle:
            items = [items[k] for k in rng.permutation(len(items))]
        frames.append([pose for _, pose in items])
        truth.append([n for n, _ in items])
    return frames, truth


def id_switches(frames, truth, tracker=None) -> tuple[int, dict]:
    """Run the tracker; count frames where a true person's id differs from its previous id."""
    tracker = tracker or PoseTracker(max_lost=10)
    last, switches, ids_of = {}, 0, {}
    for poses, names in zip(frames, truth):
        ids = tracker.update(poses)
        for n, i in zip(names, ids):
            if n in last and last[n] != i:
                switches += 1
            last[n] = i
            ids_of.setdefault(n, set()).add(i)
    return switches, ids_of


def test_geometry_helpers():
    assert iou(np.array([0, 0, 2, 2.0]), np.array([1, 1, 3, 3.0])) == 1 / 7  # 1 / (4 + 4 - 1)
    xy, c = figure(100, 100, 90)
    assert keypoint_similarity(xy, c, xy, c, 10.0) == 1.0
    assert np.isclose(keypoint_similarity(xy, c, xy + 10, c, 10.0), np.exp(-200 / 200))  # d² = 200, 2 s² = 200
    assert keypoint_similarity(xy, c * 0, xy, c, 10.0) == 0.0
    assert pose_box(xy, np.zeros(J)) is None


def test_two_people_crossing_keep_their_ids():
    # A walks right, B walks left on the same line; they overlap completely at t = 20; B is a bit smaller
    T = 41
    a = [(100 + 10 * t, 300, 200) for t in range(T)]
    b = [(500 - 10 * t, 310, 170) for t in range(T)]
    frames, truth = frames_of({"A": a, "B": b})
    switches, ids = id_switches(frames, truth)
    assert switches == 0 and ids["A"] != ids["B"] and all(len(v) == 1 for v in ids.values())


def test_crossing_with_the_back_person_hidden_and_a_same_size_pair():
    # same size, and B is not detected for 5 frames while in front of/behind A: the prediction carries it over
    T = 41
    a = [(100 + 10 * t, 300, 200) for t in range(T)]
    b = [None if 18 <= t <= 22 else (500 - 10 * t, 300, 200) for t in range(T)]
    frames, truth = frames_of({"A": a, "B": b})
    switches, ids = id_switches(frames, truth)
    assert switches == 0 and len(ids["A"] | ids["B"]) == 2


def test_a_person_who_disappears_briefly_keeps_the_id_and_a_long_absence_gets_a_new_one():
    T = 60
    a = [None if 10 <= t < 16 else (200 + 2 * t, 300, 200) for t in range(T)]  # 6 frames gone: same id
    b = [None if 20 <= t < 45 else (700, 300, 180) for t in range(T)]  # 25 frames gone (> max_lost): new id
    frames, truth = frames_of({"A": a, "B": b})
    tracker = PoseTracker(max_lost=10)
    switches, ids = id_switches(frames, truth, tracker)
    assert len(ids["A"]) == 1
    assert len(ids["B"]) == 2 and not ids["B"] & ids["A"]
    assert tracker.next_id == 3  # A, B, B again: ids are never reused


def test_empty_frames_and_a_person_born_later():
    T = 30
    a = [None if t < 5 or 12 <= t < 15 else (200, 300, 200) for t in range(T)]  # nobody in frames 0-4, 12-14
    b = [None if t < 20 else (600, 300, 200) for t in range(T)]
    frames, truth = frames_of({"A": a, "B": b})
    assert frames[0] == [] and frames[13] == []
    tracker = PoseTracker(max_lost=10)
    assert tracker.update([]) == []  # a frame with no one
    people = track_people(frames, J, min_frames=3)
    pres = people.present()
    assert len(people) == 2
    assert pres[0].sum() == 22 and pres[1].sum() == 10  # id 0 is the more prominent over the video (A)
    np.testing.assert_array_equal(np.flatnonzero(pres[1]), np.arange(20, 30))
    assert not pres[:, :5].any()


def test_ids_are_never_reused_and_blips_are_dropped():
    # people come and go one after the other at the same spot: each visit is a new person
    paths = {f"P{k}": [(300, 300, 200) if 20 * k <= t < 20 * k + 8 else None for t in range(100)] for k in range(5)}
    paths["blip"] = [(900, 300, 200) if t == 50 else None for t in range(100)]
    frames, truth = frames_of(paths)
    tracker = PoseTracker(max_lost=5)
    all_ids = [tracker.update(f) for f in frames]
    per_visit = [{i for ids, names in zip(all_ids, truth) for n, i in zip(names, ids) if n == f"P{k}"}
                 for k in range(5)]
    assert all(len(v) == 1 for v in per_visit) and len(set.union(*per_visit)) == 5
    people = track_people(frames, J, min_frames=3, max_lost=5)
    assert len(people) == 5  # the one-frame blip is gone
    assert list(people.ids) == [0, 1, 2, 3, 4]


def test_photos_are_numbered_by_prominence_without_tracking():
    big, small = figure(100, 100, 300), figure(400, 100, 100)
    frames = [[small, big], [big], []]
    people = track_people(frames, J, independent=True)
    assert len(people) == 2
    np.testing.assert_allclose(people.xy[0, 0], big[0])
    np.testing.assert_allclose(people.xy[1, 0], small[0])
    assert people.present().tolist() == [[True, True, False], [True, False, False]]


def test_a_pair_below_the_threshold_cannot_steal_a_good_match():
    """A's track matches A's pose at 0.6 and a newcomer at 0.14 (below 0.15); B's track matches A's pose at 0.5. Gating
    after the assignment let it pick A-newcomer + B-A (0.64 > 0.6), then drop the first: A's pose took B's id."""

    class Fixed(PoseTracker):
        S = None

        def similarity(self, track, xy, conf, box, app=None):
            return self.S[track.id, int(round(xy[0, 0]))]  # the pose's index rides in joint 0's x

    def pose(k):
        xy = np.zeros((17, 2))
        xy[:, 0], xy[:, 1] = k, np.arange(17)
        xy[1:, 0] += 1
        return xy, np.ones(17)

    tracker = Fixed(min_similarity=0.15)
    assert tracker.update([pose(0), pose(1)]) == [0, 1]
    tracker.S = np.array([[0.6, 0.14], [0.5, 0.0]])
    assert tracker.update([pose(0), pose(1)]) == [0, 2]  # A keeps its id, the newcomer is born
