"""Several people per frame with BlazePose: search with masks and tiles, follow each person in a crop.

BlazePose's own detector finds about one person per image even with ``num_poses > 1`` (measured on the shared
clips: see README "Several people"). Its landmark model, though, works on any crop that holds one person. So:

- **search** (photos; in video: the first frame, after a person was lost, and when :mod:`.schedule` says the
  scene changed outside the people followed, or at least every ``search_max_every`` frames): run BlazePose on the
  whole frame; blank out (grey) the box of every person found and run it again, until nothing new is found; then
  the same on a 2 × 2 grid of overlapping tiles (``tile_fraction`` of the frame each), which finds people too
  small for the detector's 224 px input on the whole frame;
- **follow** (every video frame): each person found is followed, largest first, by its own VIDEO-mode
  landmarker (:mod:`.follow`: BlazePose's ROI tracking from the previous landmarks, no detector call) in a square
  window around its previous box (``crop_scale`` × the box's long side, grey beyond the frame), with the people
  already found in this frame blanked out. The window moves with the person, so the landmarker sees them about
  where it saw them last; on its first frame it runs BlazePose's detector inside the window, where a person too
  small for the whole frame is big enough.

**Photos** (``mode="image"``, independent frames) get a denser search, as no later frame can make up for a
miss: after the whole frame, overlapping tiles at more than one scale (:func:`tile_windows`, ``still_tiles``
fractions of the frame, neighbours overlapping by half a tile, so that a person cut by one tile's border lies
whole in the next), then a **refine** pass: each person found is looked for again on the frame without grey
(another person's grey box may hide its legs) in a square of 1.5 × its landmarks' extent and in the two nearest
tiles holding that extent, and the pose with the most confident joints replaces it. In a photo each person found is
blanked out by the **shape of its body** (torso, limbs as thick strokes, head; :func:`blank_body`), not by its box,
so that a person standing behind stays visible; a new pose whose confident joints lie mostly on grey (the found
person re-detected on its own silhouette) is no new person. The video path is unchanged (box masks: the body
mask there made the followers swap ids on sports2d).

Searches use one shared ``PoseLandmarker`` in IMAGE mode; followers one VIDEO-mode landmarker each. A pose is kept when at least
``min_joints`` of its 33 joints have confidence >= 0.5 and its box is at least ``min_box_px`` on its long side,
and dropped as a duplicate when its box overlaps a kept one by IoU > ``dup_iou``. The detector keeps no identity:
ids come from :mod:`pose3d_cli.infer.tracking`.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Literal

import numpy as np

from pose3d_cli.detect.base import DetectorError, Keypoints2D, prominence
from pose3d_cli.detect.follow import Follower
from pose3d_cli.detect.mediapipe import (
    MODELS,
    _close_quietly,
    _create_landmarker,
    _import_mediapipe,
    _native_stderr_silenced,
    _to_keypoints,
    as_rgb,
)
from pose3d_cli.detect.schedule import SearchSchedule

GREY = 127  # the fill of a blanked-out person


def keypoint_box(xy: np.ndarray, confidence: np.ndarray, min_conf: float = 0.3) -> np.ndarray:
    """(4,) x0, y0, x1, y1 of the joints with confidence >= ``min_conf`` (all joints when fewer than 3 are)."""
    ok = confidence >= min_conf
    pts = xy[ok] if ok.sum() >= 3 else xy
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float64)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (4,) x0, y0, x1, y1 boxes."""
    inter = _intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class MultiPersonDetector:
    """BlazePose for several people (see the module doc). Same call contract as :class:`BlazePoseDetector`.

    Args:
        model_path: a MediaPipe pose ``.task`` bundle; default: the shipped bundle of ``variant``.
        mode: ``"video"`` (follow people between frames) or ``"image"`` (every frame searched on its own).
        max_people: at most this many people per frame.
        search_every: in video mode, look for a scene change (and search) at most every this many frames.
        search_max_every: in video mode, search at least every this many frames (:mod:`.schedule`).
        tiles: also search a 2 × 2 grid of tiles (smaller people; 4+ more landmarker calls per search).
        still_tiles: in image mode, the tile sizes (fractions of the frame) searched instead of the 2 × 2 grid, each
            as overlapping tiles (:func:`tile_windows`), then each person refined (COCO: 34 calls a photo, not 6).
        min_confidence: MediaPipe's minimum detection/presence confidence.
        outside_margin: joints farther than this fraction of the image outside it get confidence 0.

    ``detect_all(frame, timestamp_ms)`` → list of :class:`Keypoints2D`, most prominent first;
    ``detector(frame, timestamp_ms)`` → the most prominent person or None (the single-person contract).
    """

    skeleton = "blazepose33"

    def __init__(self, model_path: str | Path | None = None, mode: Literal["video", "image"] = "video",
                 max_people: int = 4, search_every: int = 10, search_max_every: int = 30, tiles: bool = True, min_confidence: float = 0.5,
                 outside_margin: float = 0.05, variant: Literal["full", "lite"] = "full", min_joints: int = 8,
                 min_box_px: float = 32.0, crop_scale: float = 1.6, tile_fraction: float = 0.6,
                 dup_iou: float = 0.5, still_tiles: tuple[float, ...] = (0.6, 0.45),
                 photo_mask: Literal["body", "box"] = "body", max_on_grey: float = 0.3) -> None:
        if mode not in ("video", "image"):
            raise DetectorError(f"detector mode must be 'video' or 'image', not {mode!r}")
        if variant not in MODELS:
            raise DetectorError(f"BlazePose variant must be one of {', '.join(map(repr, MODELS))}, not {variant!r}")
        if max_people < 1 or search_every < 1:
            raise DetectorError(f"max_people and search_every must be >= 1, got {max_people} and {search_every}")
        self.model_path = Path(model_path) if model_path is not None else MODELS[variant]
        self.mode, self.max_people, self.search_every, self.tiles = mode, max_people, search_every, tiles
        self.outside_margin, self.min_joints, self.min_box_px = outside_margin, min_joints, min_box_px
        self.crop_scale, self.tile_fraction, self.dup_iou = crop_scale, tile_fraction, dup_iou
        self.still_tiles = tuple(still_tiles)
        if photo_mask not in ("body", "box"):
            raise DetectorError(f"photo_mask must be 'body' or 'box', not {photo_mask!r}")
        # photos: how a found person is blanked out; a new pose with more than ``max_on_grey`` of its confident
        # joints on grey is that person again (body masks only: a box hides everyone behind it anyway)
        self.body_mask = mode == "image" and photo_mask == "body"
        self.max_on_grey = max_on_grey
        # photos: search up to 3 × max_people and keep the most prominent (not the first found, often small)
        self._cap = max_people if mode == "video" else 3 * max_people
        self._mp = _import_mediapipe()
        with _native_stderr_silenced():
            self._landmarker = _create_landmarker(self._mp, self.model_path, "image", min_confidence, num_poses=2)
        self._finalizer = weakref.finalize(self, _close_quietly, self._landmarker)
        self._min_confidence = min_confidence
        self._schedule = SearchSchedule(search_every, search_max_every)
        self._following: list[Follower] = []  # one per person of the previous frame (video mode)
        self._spare: list[Follower] = []  # idle followers, reused for the next people found
        self._frame = 0
        self.calls = 0  # landmarker calls so far (for benchmarks)
        self.searches = 0  # frames searched so far

    # ------------------------------------------------------------------------------------------ public

    def __call__(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None, *,
                 rgb: bool = False) -> Keypoints2D | None:
        people = self.detect_all(frame_bgr, timestamp_ms, rgb=rgb)
        return people[0] if people else None

    def detect_all(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None, *,
                   rgb: bool = False) -> list[Keypoints2D]:
        """Every person found in one (H, W, 3) uint8 BGR frame (``rgb=True``: RGB), most prominent first
        (``timestamp_ms`` unused: the frames' order is what counts)."""
        if not self._finalizer.alive:
            raise DetectorError("MultiPersonDetector is closed")
        rgb = as_rgb(frame_bgr, rgb)
        work = rgb.copy()  # found people are blanked out here
        # photos: where a found person's shape was blanked out (a mask: a grey photo is not a blanked one)
        self._painted = np.zeros(rgb.shape[:2], bool) if self.body_mask else None
        found: list[Keypoints2D] = []
        boxes: list[np.ndarray] = []
        where = self._follow(rgb, work, found, boxes) if self.mode == "video" else _whole(rgb)
        if self.mode == "video":
            due = self._schedule.due(self._frame, rgb, boxes)
            where = due if where is None else where if due is None else _union(where, due)
        if where is not None:
            n = len(boxes)
            if n < self._cap:
                self._search(rgb, work, found, boxes, where)
                self.searches += 1
            if self.mode == "video":
                self._schedule.searched(self._frame, rgb, boxes)
                for box in boxes[n:]:
                    self._following.append(self._follower(box, rgb.shape))
        self._frame += 1
        order = np.argsort([-prominence(k.xy, k.confidence) for k in found], kind="stable")
        return [found[i] for i in order[:self.max_people]]

    def reset(self) -> None:
        """Forget the previous frames (next frame is searched from scratch)."""
        for f in self._following:
            self._retire(f)
        self._following, self._frame = [], 0
        self._schedule = SearchSchedule(self._schedule.every, self._schedule.max_every)

    def close(self) -> None:
        for f in self._following + self._spare:
            f.close()
        self._finalizer()

    def __enter__(self) -> MultiPersonDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- internals

    def _follow(self, rgb: np.ndarray, work: np.ndarray, found: list, boxes: list) -> np.ndarray | None:
        """Each followed person, largest first, in this frame; the (4,) box spanning the previous boxes of the
        people not found again (where to search), None when every one was."""
        h, w = rgb.shape[:2]
        still, lost = [], None
        for f in sorted(self._following, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1])):
            kept = 0
            if len(found) < self.max_people:
                window = self._crop_window(f.box)
                result = f.detect(_padded_crop(work, window), self._frame)
                self.calls += 1
                kept = self._keep(self._candidates(result, window, rgb.shape)[:1], found, boxes, work)
            if kept:
                f.box = boxes[-1]
                still.append(f)
            else:
                lost = f.box if lost is None else _union(lost, f.box)
                self._retire(f)
        self._following = still
        return lost

    def _follower(self, box: np.ndarray, shape: tuple) -> Follower:
        f = self._spare.pop() if self._spare else Follower(self._mp, self.model_path, self._min_confidence)
        f.reset(shape, self._frame)
        f.box = box
        return f

    def _retire(self, f: Follower) -> None:
        f.box = None
        self._spare.append(f)

    def _search(self, rgb: np.ndarray, work: np.ndarray, found: list, boxes: list, where: np.ndarray) -> None:
        """The whole frame, then the tiles that overlap ``where`` (4,), each until nothing new is found."""
        h, w = rgb.shape[:2]
        windows = [(0, 0, w, h)]
        if self.tiles and self.mode == "image" and self.still_tiles:
            windows += [t for f in self.still_tiles for t in tile_windows(w, h, f)
                        if t[0] < where[2] and where[0] < t[2] and t[1] < where[3] and where[1] < t[3]]
        elif self.tiles:
            cw, ch = int(w * self.tile_fraction), int(h * self.tile_fraction)
            windows += [(x, y, x + cw, y + ch) for y in (0, h - ch) for x in (0, w - cw)
                        if x < where[2] and where[0] < x + cw and y < where[3] and where[1] < y + ch]
        for window in windows:
            while len(found) < self._cap:
                if not self._keep(self._run(rgb, work, window), found, boxes, work):
                    break
        if self.mode == "image" and self.still_tiles:
            for k in range(len(found)):
                self._refine(rgb, found, boxes, k)

    def _refine(self, rgb: np.ndarray, found: list, boxes: list, k: int) -> None:
        """Photos: look for person ``k`` again on the ungreyed ``rgb`` in a square of 1.5 × the extent of all
        its landmarks and in the two nearest ``still_tiles`` tiles holding that extent; a pose there that overlaps
        it (IoU > 0.2, or holding 80 % of its box), is no other person and has more joints with confidence >= 0.5
        replaces it (a person greyed in part by another's box, or cut by a tile border, comes back whole)."""
        h, w = rgb.shape[:2]
        xy = found[k].xy
        ext = np.concatenate([xy.min(axis=0), xy.max(axis=0)])
        cx, cy = (ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2
        half = 0.75 * max(ext[2] - ext[0], ext[3] - ext[1], self.min_box_px)
        holding = [t for f in self.still_tiles for t in tile_windows(w, h, f)
                   if t[0] <= ext[0] and t[1] <= ext[1] and t[2] >= ext[2] and t[3] >= ext[3]]
        holding.sort(key=lambda t: abs((t[0] + t[2]) / 2 - cx) + abs((t[1] + t[3]) / 2 - cy))
        windows = [(int(cx - half), int(cy - half), int(cx + half), int(cy + half))] + holding[:2]
        best, joints = None, int((found[k].confidence >= 0.5).sum())
        for window in windows:
            for kp, box in self._landmarks(_padded_crop(rgb, window), window, rgb.shape):
                same = box_iou(box, boxes[k]) > 0.2 or _inside(boxes[k], box) >= 0.8
                other = any(box_iou(box, b) > self.dup_iou for j, b in enumerate(boxes) if j != k)
                n = int((kp.confidence >= 0.5).sum())
                if same and not other and n > joints:
                    best, joints = (kp, box), n
        if best is not None:
            found[k], boxes[k] = best

    def _crop_window(self, box: np.ndarray) -> tuple[int, int, int, int]:
        """The square (x0, y0, x1, y1) of ``crop_scale`` × the box's long side around its centre (it may reach
        beyond the frame)."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(box[2] - box[0], box[3] - box[1], self.min_box_px) * self.crop_scale / 2
        x0, y0 = int(round(cx - half)), int(round(cy - half))
        return x0, y0, x0 + int(round(2 * half)), y0 + int(round(2 * half))

    def _run(self, rgb: np.ndarray, work: np.ndarray, window: tuple[int, int, int, int]) -> list:
        """Landmarker on ``work[window]`` → [(Keypoints2D in full-image pixels, box)] passing the filters."""
        x0, y0, x1, y1 = window
        crop = np.ascontiguousarray(work[y0:y1, x0:x1])
        if min(crop.shape[:2]) < 16:
            return []
        return self._landmarks(crop, window, rgb.shape)

    def _landmarks(self, crop: np.ndarray, window: tuple[int, int, int, int], shape: tuple) -> list:
        """The search landmarker on ``crop`` (the (h, w, 3) RGB pixels of ``window``) → its candidates."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop)
        with _native_stderr_silenced():  # MediaPipe warns once per new ROI shape
            result = self._landmarker.detect(image)
        self.calls += 1
        return self._candidates(result, window, shape)

    def _candidates(self, result, window: tuple[int, int, int, int], shape: tuple) -> list:
        """A landmarker result on ``window`` → [(Keypoints2D in full-image pixels, box)] passing the filters."""
        x0, y0, x1, y1 = window
        h, w = shape[:2]
        out = []
        for lms, world in zip(result.pose_landmarks, result.pose_world_landmarks):
            kp = _to_keypoints(lms, world, x1 - x0, y1 - y0, np.inf)
            kp.xy += np.array([x0, y0], np.float32)
            norm = kp.xy / np.array([w, h], np.float32)
            outside = ((norm < -self.outside_margin) | (norm > 1 + self.outside_margin)).any(axis=1)
            kp.confidence[outside] = 0.0
            if (kp.confidence >= 0.5).sum() < self.min_joints:
                continue
            box = keypoint_box(kp.xy, kp.confidence)
            if max(box[2] - box[0], box[3] - box[1]) < self.min_box_px:
                continue
            out.append((kp, box))
        return out

    def _keep(self, cands: list, found: list, boxes: list, work: np.ndarray) -> int:
        """Add the candidates that are no duplicate of a kept person; blank them out of ``work``."""
        added = 0
        for kp, box in cands:
            if len(found) >= self._cap or any(box_iou(box, b) > self.dup_iou for b in boxes):
                continue
            if self.body_mask and boxes and on_grey(self._painted, kp) > self.max_on_grey:
                continue
            found.append(kp)
            boxes.append(box)
            if self.body_mask:
                blank_body(work, kp, painted=self._painted)
            else:
                _blank(work, box)
            added += 1
        return added


def tile_windows(w: int, h: int, fraction: float, overlap: float = 0.5) -> list[tuple[int, int, int, int]]:
    """Overlapping (x0, y0, x1, y1) tiles of ``fraction`` × the (w, h) image each, row by row: on each axis the
    first tile starts at 0, the last ends at the image's edge and neighbours overlap by at least ``overlap`` × the
    tile's size (so any object up to ``overlap`` × the tile lies whole in one tile); ``fraction >= 1``: the image."""
    if fraction >= 1:
        return [(0, 0, w, h)]
    axes = []
    for size in (w, h):
        tile = max(1, int(size * fraction))
        step = max(1, int((1 - overlap) * tile))  # the largest whole-pixel step between neighbours
        n = max(2, -(-(size - tile) // step) + 1)
        axes.append([((size - tile) * i // (n - 1), (size - tile) * i // (n - 1) + tile) for i in range(n)])
    return [(x0, y0, x1, y1) for y0, y1 in axes[1] for x0, x1 in axes[0]]


def _intersection(a: np.ndarray, b: np.ndarray) -> float:
    """The area shared by two (4,) x0, y0, x1, y1 boxes."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _inside(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of (4,) box ``a``'s area inside (4,) box ``b``."""
    area = (a[2] - a[0]) * (a[3] - a[1])
    return float(_intersection(a, b) / area) if area > 0 else 0.0


def _blank(img: np.ndarray, box: np.ndarray, pad: tuple[float, float] = (0.05, 0.05)) -> None:
    """Fill ``box`` (grown by ``pad`` of its width/height) with grey, in place."""
    h, w = img.shape[:2]
    mx, my = pad[0] * (box[2] - box[0]), pad[1] * (box[3] - box[1])
    x0, y0 = int(np.clip(box[0] - mx, 0, w)), int(np.clip(box[1] - my, 0, h))
    x1, y1 = int(np.clip(box[2] + mx, 0, w)), int(np.clip(box[3] + my, 0, h))
    if x1 > x0 and y1 > y0:  # a box outside the frame greys nothing (a negative stop greyed nearly all of it)
        img[y0:y1, x0:x1] = GREY



def blank_body(img: np.ndarray, kp: Keypoints2D, width: float = 0.8, min_conf: float = 0.3,
               painted: np.ndarray | None = None) -> None:
    """Grey out the shape of one BlazePose person in (H, W, C) ``img``, in place: the torso's hull (shoulders,
    hips), every bone of the skeleton registry's ``blazepose33`` as a stroke ``width`` × the shoulder width thick
    (at least 0.12 × the body's extent, for a side view), a disc at each joint and one over the head. Joints
    below ``min_conf`` (or not finite) are left out. ``painted``: an (H, W) bool mask marked where it greys."""
    import cv2  # a mediapipe dependency

    from pose3d_cli.skeleton import get_skeleton

    sk = get_skeleton("blazepose33")
    xy, ok = kp.xy.astype(np.float64), (kp.confidence >= min_conf) & np.isfinite(kp.xy).all(axis=1)
    if not ok.any():
        return
    if painted is not None:  # draw the same shape on the mask, then grey the image where it is set
        canvas = np.zeros(img.shape[:2], np.uint8)
        blank_body(canvas[..., None], kp, width, min_conf)
        painted |= canvas == GREY
        img[canvas == GREY] = GREY
        return
    at = {n: i for i, n in enumerate(sk.joints)}
    shoulders = [at["left_shoulder"], at["right_shoulder"]]
    box = keypoint_box(kp.xy, kp.confidence, min_conf)
    extent = max(box[2] - box[0], box[3] - box[1])
    across = max(np.linalg.norm(xy[shoulders[0]] - xy[shoulders[1]]) if ok[shoulders].all() else 0.0, 0.12 * extent)
    thick = max(3, int(round(width * across)))
    fill = (GREY,) * (img.shape[2] if img.ndim == 3 else 1)
    pix = np.round(np.nan_to_num(xy)).astype(np.int32)  # rows not ok are never drawn
    torso = [at[n] for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip") if ok[at[n]]]
    if len(torso) >= 3:
        cv2.fillConvexPoly(img, cv2.convexHull(pix[torso]), fill)
    for a, b in sk.bones:
        if ok[at[a]] and ok[at[b]]:
            cv2.line(img, tuple(map(int, pix[at[a]])), tuple(map(int, pix[at[b]])), fill, thick)
    for i in np.flatnonzero(ok):
        cv2.circle(img, tuple(map(int, pix[i])), thick // 2, fill, -1)
    head = [at[n] for n in ("nose", "left_ear", "right_ear") if ok[at[n]]]
    if head:
        cv2.circle(img, tuple(map(int, np.round(xy[head].mean(axis=0)))), int(0.6 * across), fill, -1)


def on_grey(painted: np.ndarray, kp: Keypoints2D, min_conf: float = 0.5) -> float:
    """The fraction of ``kp``'s joints with confidence >= ``min_conf`` (finite, inside the image) that fall where
    the (H, W) bool mask ``painted`` says a found person was blanked out; 0 when none is."""
    h, w = painted.shape[:2]
    xy = kp.xy[(kp.confidence >= min_conf) & np.isfinite(kp.xy).all(axis=1)]
    pix = np.round(xy).astype(int)
    pix = pix[(pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0) & (pix[:, 1] < h)]
    if not len(pix):
        return 0.0
    return float(painted[pix[:, 1], pix[:, 0]].mean())


def _whole(img: np.ndarray) -> np.ndarray:
    return np.array([0.0, 0.0, img.shape[1], img.shape[0]])


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (4,) box spanning two (4,) boxes."""
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def _padded_crop(img: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    """``img[y0:y1, x0:x1]`` of a (x0, y0, x1, y1) window that may reach beyond the image, grey there."""
    x0, y0, x1, y1 = window
    h, w = img.shape[:2]
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        return np.ascontiguousarray(img[y0:y1, x0:x1])
    out = np.full((y1 - y0, x1 - x0) + img.shape[2:], GREY, img.dtype)
    ix0, iy0, ix1, iy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if ix1 > ix0 and iy1 > iy0:
        out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = img[iy0:iy1, ix0:ix1]
    return out
