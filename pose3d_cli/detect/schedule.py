"""When and where to search for new people (video): everywhere at the start and at least every ``max_every``
frames; where the scene changed outside the people followed (and where a person was lost, :mod:`.multi`).

A search costs 5+ detector calls (whole frame, then 4 tiles; :mod:`.multi`), more than following a person for a
frame. A new person can only appear where the image changes, so between searches the schedule compares a small
grey copy of the frame (``1 / scale`` of the size) with the one of the last search, outside the boxes of the people
followed then and now (grown by ``pad``): the scene *changed* when more than ``min_fraction`` of those pixels moved
by more than ``threshold`` grey levels, and the search covers the box of the moved pixels (the whole frame is
always searched at the detector's resolution; the tiles only where they overlap that box). The comparison runs at most every ``every`` frames; a moving camera changes
every pixel, so it searches every ``every`` frames (the rule without the schedule), a still one every ``max_every``
frames (a person missed once while standing still is looked for again).
"""

from __future__ import annotations

import numpy as np


class SearchSchedule:
    """``due(frame, rgb, boxes)``: where to search this frame (None: nowhere); ``searched(...)``: a search ran.

    Args:
        every: the scene is compared at most every this many frames since the last search.
        max_every: search at least every this many frames.
        threshold: a small-image pixel moved when its grey level changed by more than this.
        min_fraction: the scene changed when more than this fraction of the unmasked pixels moved.
        scale: the small image is ``1 / scale`` of the frame on each side.
        pad: people's boxes are grown by this fraction of their size on every side before masking.
    """

    def __init__(self, every: int = 10, max_every: int = 30, threshold: float = 25.0, min_fraction: float = 0.002,
                 scale: int = 8, pad: float = 0.15) -> None:
        self.every, self.max_every, self.threshold, self.min_fraction = every, max(every, max_every), threshold, min_fraction
        self.scale, self.pad = scale, pad
        self._small: np.ndarray | None = None
        self._boxes: list[np.ndarray] = []
        self._last = 0

    def due(self, frame: int, rgb: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray | None:
        """The (4,) x0, y0, x1, y1 pixel region of frame ``frame`` ((H, W, 3) uint8) to search for new people,
        given the (4,) boxes followed in it: the whole frame when a search is due everywhere, None for no search."""
        since = frame - self._last
        if self._small is None or since >= self.max_every:
            return np.array([0.0, 0.0, rgb.shape[1], rgb.shape[0]])
        if since < self.every:
            return None
        return self.changed(rgb, boxes)

    def searched(self, frame: int, rgb: np.ndarray, boxes: list[np.ndarray]) -> None:
        """Remember frame ``frame`` and the boxes of everyone found in it as the reference."""
        self._small, self._boxes, self._last = self._shrink(rgb), [np.asarray(b, float) for b in boxes], frame

    def changed(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray | None:
        """The (4,) pixel box of what moved outside the people (then and now) since the reference, or None when
        at most ``min_fraction`` of those pixels moved."""
        small = self._shrink(rgb)
        if self._small is None or small.shape != self._small.shape:
            return np.array([0.0, 0.0, rgb.shape[1], rgb.shape[0]])
        moved = np.abs(small - self._small) > self.threshold
        keep = np.ones(small.shape, bool)
        for b in self._boxes + [np.asarray(b, float) for b in boxes]:
            mx, my = self.pad * (b[2] - b[0]), self.pad * (b[3] - b[1])
            H, W = keep.shape[:2]
            x0, y0 = int(np.clip((b[0] - mx) / self.scale, 0, W)), int(np.clip((b[1] - my) / self.scale, 0, H))
            x1, y1 = int(np.clip(np.ceil((b[2] + mx) / self.scale), 0, W)), int(np.clip(np.ceil((b[3] + my) / self.scale), 0, H))
            if x1 > x0 and y1 > y0:  # a box outside the frame masks nothing (a negative stop masked nearly all)
                keep[y0:y1, x0:x1] = False
        ys, xs = np.nonzero(moved & keep)
        if len(xs) <= self.min_fraction * keep.sum():
            return None
        return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float) * self.scale

    def _shrink(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        h, w = rgb.shape[:2]
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
        return cv2.resize(grey, (max(1, w // self.scale), max(1, h // self.scale)),
                          interpolation=cv2.INTER_AREA).astype(np.int16)
