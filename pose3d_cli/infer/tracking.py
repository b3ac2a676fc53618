"""Several people over a video: one id per person, from per-frame lists of 2D poses (numpy + scipy).

Each frame, the people found are assigned to the live tracks by the Hungarian algorithm
(:func:`scipy.optimize.linear_sum_assignment`) on ``1 - similarity``, where the similarity of a track and a pose is

    size similarity × (½ IoU(predicted box, pose box) + ½ keypoint similarity)

- the track's box and keypoints are *predicted* with a constant velocity (of the box centre, an exponential
  average over the frames it was seen) for the frames since it was last seen (at most ``max_predict`` of them);
- keypoint similarity is OKS-like: the mean over joints found in both of ``exp(-d² / (2 (κ s)²))``, with ``s``
  the square root of the track's box area and κ growing with the frames the track was lost (``kappa``);
- size similarity: ratio of the smaller box diagonal to the larger (people do not halve in size between frames);
- a lost track's similarity is lowered by 2 % per frame lost (at most 20 %): ties go to the track seen last;
- with appearance descriptors, a track lost for a frame or more never takes a pose dressed clearly otherwise
  (appearance similarity < ``min_appearance`` / 2): someone stepping into the place of a hidden person.

Pairs below ``min_similarity`` are never assigned. A pose that matches no track starts a new track (birth); a
track that is not seen for more than ``max_lost`` frames is *lost*; its id is never used for anyone else.

Appearance re-identification (when ``update`` is given one descriptor per pose, :mod:`.appearance`): each track
keeps an exponential average of its descriptors; a lost track stays *dormant* for up to ``reid_window`` frames,
and a pose that matches no live track is given a dormant track's id (Hungarian again, on appearance × size) when
the appearance similarity is >= ``min_appearance``, the sizes are within a factor 2 and the pose lies within a
walking distance of where the track was last seen (one box diagonal plus ``reid_speed`` diagonals per frame
lost); otherwise it is born with a new id. So a person who leaves and comes back within the window, or is
occluded for longer than ``max_lost``, keeps the id. Without descriptors a lost track simply ends (death).

:func:`track_people` runs the tracker over a whole sequence and returns dense per-person arrays; tracks seen in
fewer than ``min_frames`` frames are dropped (detector blips), and ids are renumbered so that 0 is the most
prominent person over the video (sum over frames of box area × mean confidence: the person the single-person
path keeps) and the others follow in order of first appearance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: a pose in one frame: (J, 2) pixels and (J,) confidence (0 = missing)
Pose = tuple[np.ndarray, np.ndarray]


def pose_box(xy: np.ndarray, conf: np.ndarray, min_conf: float = 0.3) -> np.ndarray | None:
    """(4,) x0, y0, x1, y1 of the joints with confidence >= ``min_conf`` (> 0 when fewer than 2 are); None when
    fewer than 2 joints are found."""
    ok = conf >= min_conf
    if ok.sum() < 2:
        ok = conf > 0
    if ok.sum() < 2:
        return None
    pts = xy[ok]
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float64)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (4,) x0, y0, x1, y1 boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def keypoint_similarity(xy_a: np.ndarray, conf_a: np.ndarray, xy_b: np.ndarray, conf_b: np.ndarray,
                        scale: float) -> float:
    """OKS-like similarity in [0, 1] of two (J, 2) poses over the joints found in both; 0 when none is."""
    both = (conf_a > 0) & (conf_b > 0)
    if not both.any() or scale <= 0:
        return 0.0
    d2 = ((xy_a[both] - xy_b[both]) ** 2).sum(axis=-1)
    return float(np.exp(-d2 / (2.0 * scale ** 2)).mean())


def _diag(box: np.ndarray) -> float:
    return float(np.hypot(box[2] - box[0], box[3] - box[1]))


@dataclass
class _Track:
    id: int
    box: np.ndarray  # (4,) last seen
    xy: np.ndarray  # (J, 2) last seen
    conf: np.ndarray  # (J,)
    last: int  # frame position last seen
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # px per frame, box centre
    hits: int = 1
    appearance: np.ndarray | None = None  # exponential average of the descriptors, or None

    def predicted(self, t: int, max_predict: int) -> tuple[np.ndarray, np.ndarray]:
        shift = self.velocity * min(t - self.last, max_predict)
        return self.box + np.tile(shift, 2), self.xy + shift


class PoseTracker:
    """Streaming multi-person tracker (see the module doc): ``update(poses)`` once per frame → one id per pose.

    Args:
        max_lost: a track not seen for more than this many frames ends.
        min_similarity: pairs less similar than this are never assigned.
        kappa: keypoint-similarity scale, as a fraction of the person's size (grows ×(1 + gap/2) while lost).
        max_predict: the constant-velocity prediction runs at most this many frames ahead.
        velocity_smoothing: weight of the newest displacement in the velocity's exponential average.
        reid_window: a lost track with an appearance can be re-identified for this many frames since last seen
            (<= ``max_lost``: no appearance re-identification).
        min_appearance: the least appearance similarity for a re-identification.
        reid_speed: walking-distance bound, in box diagonals per frame lost.
        appearance_smoothing: weight of the newest descriptor in the track's average.
    """

    def __init__(self, max_lost: int = 30, min_similarity: float = 0.15, kappa: float = 0.15,
                 max_predict: int = 15, velocity_smoothing: float = 0.5, reid_window: int = 0,
                 min_appearance: float = 0.8, reid_speed: float = 0.1, appearance_smoothing: float = 0.1) -> None:
        self.max_lost, self.min_similarity, self.kappa = max_lost, min_similarity, kappa
        self.max_predict, self.velocity_smoothing = max_predict, velocity_smoothing
        self.reid_window, self.min_appearance, self.reid_speed = reid_window, min_appearance, reid_speed
        self.appearance_smoothing = appearance_smoothing
        self.tracks: list[_Track] = []
        self.dormant: list[_Track] = []
        self.next_id = 0
        self.t = 0

    def similarity(self, track: _Track, xy: np.ndarray, conf: np.ndarray, box: np.ndarray,
                   app: np.ndarray | None = None) -> float:
        """How well ``track`` (predicted to this frame) matches one pose, in [0, 1]; 0 for a track lost a few
        frames whose appearance clearly differs (similarity < ``min_appearance`` / 2) from the pose's."""
        pbox, pxy = track.predicted(self.t, self.max_predict)
        gap = self.t - track.last
        d_track, d_pose = _diag(track.box), _diag(box)
        size = min(d_track, d_pose) / max(d_track, d_pose, 1e-9)
        scale = self.kappa * np.sqrt(max((track.box[2] - track.box[0]) * (track.box[3] - track.box[1]), 1.0))
        oks = keypoint_similarity(pxy, track.conf, xy, conf, scale * (1.0 + 0.5 * (gap - 1)))
        recency = 1.0 - 0.02 * min(gap - 1, 10)  # ties go to the track seen most recently
        if gap > 1 and app is not None and track.appearance is not None:
            from .appearance import appearance_similarity

            if appearance_similarity(track.appearance, app) < 0.5 * self.min_appearance:
                return 0.0
        return recency * size * (0.5 * iou(pbox, box) + 0.5 * oks)

    def update(self, poses: list[Pose], appearances: list[np.ndarray | None] | None = None) -> list[int]:
        """Assign this frame's poses to tracks; returns each pose's id (-1 for a pose with < 2 joints found).
        ``appearances``: optional, one descriptor (or None) per pose."""
        from scipy.optimize import linear_sum_assignment

        apps = list(appearances) if appearances is not None else [None] * len(poses)

        boxes = [pose_box(xy, c) for xy, c in poses]
        valid = [k for k, b in enumerate(boxes) if b is not None]
        ids = [-1] * len(poses)
        sim = np.zeros((len(self.tracks), len(valid)))
        for i, tr in enumerate(self.tracks):
            for j, k in enumerate(valid):
                sim[i, j] = self.similarity(tr, poses[k][0], poses[k][1], boxes[k], apps[k])
        matched_tracks, matched_poses = set(), set()
        if sim.size:
            # pairs below the threshold are no match: gated before the assignment, or one could steal a good match
            # (A's track taking a newcomer at 0.14 so that B's track took A's pose at 0.5: ids swapped for good)
            rows, cols = linear_sum_assignment(1.0 - np.where(sim >= self.min_similarity, sim, 0.0))
            for i, j in zip(rows, cols):
                if sim[i, j] >= self.min_similarity:
                    self._extend(self.tracks[i], poses[valid[j]], boxes[valid[j]], apps[valid[j]])
                    ids[valid[j]] = self.tracks[i].id
                    matched_tracks.add(i)
                    matched_poses.add(j)
        unmatched = [k for j, k in enumerate(valid) if j not in matched_poses]
        for k, tr in self._reidentify(unmatched, poses, boxes, apps):  # a dormant track comes back
            self._extend(tr, poses[k], boxes[k], apps[k])
            self.tracks.append(tr)
            ids[k] = tr.id
        for k in unmatched:
            if ids[k] < 0:  # birth
                xy, c = poses[k]
                app = None if apps[k] is None else np.asarray(apps[k], np.float64).copy()
                self.tracks.append(_Track(self.next_id, boxes[k], np.asarray(xy, np.float64).copy(),
                                          np.asarray(c).copy(), self.t, appearance=app))
                ids[k] = self.next_id
                self.next_id += 1
        keep = self.reid_window if self.reid_window > self.max_lost else self.max_lost
        lost = [tr for tr in self.tracks if self.t - tr.last > self.max_lost]
        self.tracks = [tr for tr in self.tracks if self.t - tr.last <= self.max_lost]
        self.dormant = [tr for tr in self.dormant + [tr for tr in lost if tr.appearance is not None]
                        if self.t - tr.last <= keep and self.reid_window > self.max_lost]  # death
        self.t += 1
        return ids

    def reid_score(self, track: _Track, box: np.ndarray, app: np.ndarray | None) -> float:
        """Appearance × size score of a dormant track for a pose, 0 when implausible (see the module doc)."""
        from .appearance import appearance_similarity

        if app is None or track.appearance is None:
            return 0.0
        d_track, d_pose = _diag(track.box), _diag(box)
        size = min(d_track, d_pose) / max(d_track, d_pose, 1e-9)
        gap = self.t - track.last
        dist = float(np.hypot(*((box[:2] + box[2:]) - (track.box[:2] + track.box[2:])) / 2.0))
        if size < 0.5 or dist > d_track * (1.0 + self.reid_speed * gap):
            return 0.0
        a = appearance_similarity(track.appearance, app)
        return a * size if a >= self.min_appearance else 0.0

    def _reidentify(self, unmatched: list[int], poses, boxes, apps) -> list[tuple[int, _Track]]:
        from scipy.optimize import linear_sum_assignment

        if not unmatched or not self.dormant:
            return []
        score = np.array([[self.reid_score(tr, boxes[k], apps[k]) for k in unmatched] for tr in self.dormant])
        rows, cols = linear_sum_assignment(-score)
        pairs = [(unmatched[j], self.dormant[i]) for i, j in zip(rows, cols) if score[i, j] > 0]
        taken = {id(tr) for _, tr in pairs}
        self.dormant = [tr for tr in self.dormant if id(tr) not in taken]
        return pairs

    def _extend(self, tr: _Track, pose: Pose, box: np.ndarray, app: np.ndarray | None = None) -> None:
        if app is not None:
            app = np.asarray(app, np.float64)
            w = self.appearance_smoothing
            tr.appearance = app.copy() if tr.appearance is None else w * app + (1 - w) * tr.appearance
        gap = self.t - tr.last
        step = ((box[:2] + box[2:]) - (tr.box[:2] + tr.box[2:])) / 2.0 / max(gap, 1)
        a = self.velocity_smoothing
        tr.velocity = step if tr.hits == 1 else a * step + (1 - a) * tr.velocity
        tr.box, tr.xy, tr.conf = box, np.asarray(pose[0], np.float64).copy(), np.asarray(pose[1]).copy()
        tr.last, tr.hits = self.t, tr.hits + 1


@dataclass
class People:
    """Dense per-person arrays over T frames (person ``k`` of the lists has id ``ids[k]``).

    Attributes:
        ids: (P,) int person ids (0 = the most prominent over the video).
        xy: (P, T, J, 2) pixels (0 where absent).
        conf: (P, T, J) confidence (0 where absent).
        world: (P, T, J, 3) mm detector 3D (NaN where absent), or None.
    """

    ids: np.ndarray
    xy: np.ndarray
    conf: np.ndarray
    world: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def present(self) -> np.ndarray:
        """(P, T) bool: the person has at least 2 joints found in the frame."""
        return (self.conf > 0).sum(axis=-1) >= 2


def track_people(frames: list[list[Pose]], num_joints: int, worlds: list[list[np.ndarray | None]] | None = None,
                 independent: bool = False, min_frames: int = 3, min_confidence: float = 0.0,
                 appearances: list[list[np.ndarray | None]] | None = None, **tracker_args) -> People:
    """Track the people of a sequence and return dense per-person arrays (see the module doc).

    Args:
        frames: per frame, the list of poses found ((J, 2) xy, (J,) confidence each).
        num_joints: J (for a sequence where nobody is found).
        worlds: optional per frame, per pose (J, 3) detector 3D in mm (or None).
        independent: the frames are unrelated photos: no tracking; in each photo, people are numbered by
            prominence (0 = the most prominent of that photo) and ``min_frames`` is ignored.
        min_frames: tracks seen in fewer frames are dropped.
        min_confidence: tracks whose mean confidence over their found joints is lower are dropped (BlazePose's
            poses on clutter score ~0.6, people ~0.8-0.97), unless that would drop every track: then the most
            prominent stays (a worker whose legs are hidden scores low, and was lost: "no person").
        appearances: optional per frame, per pose appearance descriptor (:mod:`.appearance`) or None.
        tracker_args: passed to :class:`PoseTracker`.
    """
    T = len(frames)
    assigned: list[list[int]] = []
    if independent:
        for poses in frames:
            order = np.argsort([-_prominence(xy, c) for xy, c in poses], kind="stable")
            ids = [-1] * len(poses)
            for rank, k in enumerate(order):
                if pose_box(*poses[k]) is not None:
                    ids[k] = rank
            assigned.append(ids)
    else:
        tracker = PoseTracker(**tracker_args)
        assigned = [tracker.update(poses, None if appearances is None else appearances[t])
                    for t, poses in enumerate(frames)]
    raw_ids = sorted({i for ids in assigned for i in ids if i >= 0})
    seen = {i: [t for t, ids in enumerate(assigned) if i in ids] for i in raw_ids}
    score = {i: 0.0 for i in raw_ids}
    for t, ids in enumerate(assigned):
        for k, i in enumerate(ids):
            if i in score:
                score[i] += _prominence(*frames[t][k])
    if not independent:
        lasting = [i for i in raw_ids if len(seen[i]) >= min_frames]
        raw_ids = [i for i in lasting if _mean_confidence(frames, assigned, i) >= min_confidence]
        if not raw_ids and lasting:  # nobody confident enough: the most prominent is kept (a worker whose legs are
            raw_ids = [max(lasting, key=lambda i: score[i])]  # hidden is not lost; the single-person path keeps it)
    if independent:
        order = raw_ids
    else:
        first = max(raw_ids, key=lambda i: score[i]) if raw_ids else None
        order = ([first] if first is not None else []) + [i for i in raw_ids if i != first]  # then by birth
    P = len(order)
    xy = np.zeros((P, T, num_joints, 2), np.float32)
    conf = np.zeros((P, T, num_joints), np.float32)
    world = np.full((P, T, num_joints, 3), np.nan, np.float32) if worlds is not None else None
    slot = {i: p for p, i in enumerate(order)}
    for t, ids in enumerate(assigned):
        for k, i in enumerate(ids):
            if i in slot:
                xy[slot[i], t], conf[slot[i], t] = frames[t][k]
                if world is not None and worlds[t][k] is not None:
                    world[slot[i], t] = worlds[t][k]
    return People(np.arange(P), xy, conf, world)


def _mean_confidence(frames: list[list[Pose]], assigned: list[list[int]], pid: int) -> float:
    """Mean confidence of the found joints (> 0) over every frame track ``pid`` was seen in."""
    c = [np.asarray(frames[t][k][1]) for t, ids in enumerate(assigned) for k, i in enumerate(ids) if i == pid]
    c = np.concatenate(c) if c else np.zeros(0)
    return float(c[c > 0].mean()) if (c > 0).any() else 0.0


def _prominence(xy: np.ndarray, conf: np.ndarray) -> float:
    from ..detect.base import prominence

    return prominence(np.asarray(xy), np.clip(np.nan_to_num(np.asarray(conf)), 0.0, 1.0))
