"""When the multi-person detector searches for new people in a video (detect/schedule.py, detect/multi.py).

Synthetic frames (80 x 160 grey, a "person" box at x 40-80, y 10-70; the schedule's small image is 1/8 of the
frame, so pixel (x, y) is small pixel (x // 8, y // 8)) for the rule itself, and a real clip where a second person
appears mid-clip for the detector: the person must be found when they appear, not at the next forced search.
"""

import numpy as np

from conftest import DATA, need

from pose3d_cli.detect.schedule import SearchSchedule

BOX = np.array([40.0, 10.0, 80.0, 70.0])


def frame(value=100):
    return np.full((80, 160, 3), value, np.uint8)


def test_still_scene_is_searched_only_every_max_every_frames():
    s = SearchSchedule(every=10, max_every=30)
    assert s.due(0, frame(), []) is not None  # nothing seen yet: search
    s.searched(0, frame(), [BOX])
    inside = frame()
    inside[20:60, 45:75] = 220  # the person moves inside their box: no new person can be there
    assert all(s.due(t, inside, [BOX]) is None for t in range(1, 30))
    assert s.due(30, inside, [BOX]).tolist() == [0, 0, 160, 80]  # forced, everywhere


def test_a_change_outside_the_people_is_searched_where_it_happened_but_not_before_every_frames():
    s = SearchSchedule(every=10, max_every=30)
    s.searched(0, frame(), [BOX])
    new = frame()
    new[40:56, 120:136] = 250  # someone appears right of the person: small pixels x 15-16, y 5-6
    assert all(s.due(t, new, [BOX]) is None for t in range(1, 10))
    assert s.due(10, new, [BOX]).tolist() == [120, 40, 136, 56]


def test_a_person_who_walked_leaves_no_change_behind():
    s = SearchSchedule(every=10, max_every=30)
    before = frame()
    before[10:70, 40:80] = 30
    s.searched(0, before, [BOX])
    moved = BOX + [16, 0, 16, 0]
    after = frame()
    after[10:70, 56:96] = 30  # the old place is background again, the new one is the person: both masked
    assert s.due(12, after, [moved]) is None
    shaken = np.roll(after, 24, axis=1)  # the camera moved: everything outside the people changed
    assert s.due(12, shaken, [moved]) is not None


def test_a_person_appearing_mid_clip_is_found_when_they_appear():
    """Left half: pose2sim cam03 (one person); right half: grey until frame 15, then the same clip 20 frames on
    (a second person). The detector searches everywhere at frame 0 and again at most every 30 frames; the person
    at the right must be found at frame 15 or 16 (by the scene-change rule, not at the forced search at 30, nor
    at the 10-frame search of the old rule at 20), and the still grey half must not be searched in frames 2-14."""
    import cv2

    from pose3d_cli.detect.multi import MultiPersonDetector

    cap = cv2.VideoCapture(str(need(DATA / "video" / "pose2sim_single_person" / "cam03.mp4")))
    clip = []
    while len(clip) < 45:
        ok, img = cap.read()
        assert ok
        clip.append(cv2.resize(img, (540, 960), interpolation=cv2.INTER_AREA))
    grey = np.full_like(clip[0], 127)
    right_found, searched = [], []
    with MultiPersonDetector(search_every=10, search_max_every=30) as det:
        for t in range(25):
            n = det.searches
            people = det.detect_all(np.hstack([clip[t], clip[t + 20] if t >= 15 else grey]))
            searched.append(det.searches > n)
            right_found.append(any(np.median(p.xy[:, 0]) > 540 for p in people))
    assert not any(right_found[:15])
    first = right_found.index(True)
    assert first <= 16 and all(right_found[first:]), right_found
    assert not any(searched[2:15]), searched
