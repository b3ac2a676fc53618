"""A cheap appearance descriptor per person (numpy + cv2): HSV colour histograms of the torso and of the legs.

The regions are boxes spanned by the 2D keypoints (joints by name through :mod:`..skeleton`): the torso is the
box of the shoulders and hips, the legs the box of the hips, knees and ankles, each shrunk by 15 % on every side so
that background at the edges weighs less. Each region gives a hue × saturation histogram (``bins`` × ``bins``,
pixels with value < 40 or saturation < 30 go to one extra "grey" bin split by value into dark / mid / light, so
black and white clothes are told apart), normalised to sum 1; the descriptor is the two concatenated (a region
that cannot be built is all zeros). :func:`appearance_similarity` is the Bhattacharyya coefficient averaged over
the regions both descriptors have, in [0, 1] (1 = identical colour distributions).
"""

from __future__ import annotations

import numpy as np

from ..skeleton import get_skeleton

_REGIONS = (("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
            ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"))


def region_boxes(xy: np.ndarray, conf: np.ndarray, skeleton: str = "blazepose33", min_conf: float = 0.3,
                 shrink: float = 0.15) -> list[np.ndarray | None]:
    """(x0, y0, x1, y1) pixel box per region (torso, legs) from (J, 2) keypoints; None where fewer than 2 of the
    region's joints have confidence >= ``min_conf`` or the box is under 2 px wide or high."""
    sk = get_skeleton(skeleton)
    out: list[np.ndarray | None] = []
    for names in _REGIONS:
        idx = [sk.index(n) for n in names if n in sk.joints]
        idx = [i for i in idx if conf[i] >= min_conf]
        if len(idx) < 2:
            out.append(None)
            continue
        lo, hi = xy[idx].min(axis=0), xy[idx].max(axis=0)
        pad = (hi - lo) * shrink
        box = np.concatenate([lo + pad, hi - pad]).astype(np.float64)
        out.append(box if (box[2] - box[0] >= 2 and box[3] - box[1] >= 2) else None)
    return out


def descriptor_size(bins: int = 8) -> int:
    return len(_REGIONS) * (bins * bins + 3)


def appearance_descriptor(img_bgr: np.ndarray, xy: np.ndarray, conf: np.ndarray, skeleton: str = "blazepose33",
                          bins: int = 8, rgb: bool = False) -> np.ndarray:
    """(R × (bins² + 3),) float32 descriptor of one person in a (H, W, 3) uint8 BGR frame (``rgb=True``: RGB);
    ``xy`` (J, 2) in that frame's pixels. All zeros for a region that cannot be built (see the module doc)."""
    import cv2

    H, W = img_bgr.shape[:2]
    n = bins * bins + 3
    out = np.zeros(len(_REGIONS) * n, np.float32)
    for r, box in enumerate(region_boxes(xy, conf, skeleton)):
        if box is None:
            continue
        x0, y0 = int(max(0, np.floor(box[0]))), int(max(0, np.floor(box[1])))
        x1, y1 = int(min(W, np.ceil(box[2]))), int(min(H, np.ceil(box[3])))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        code = cv2.COLOR_RGB2HSV if rgb else cv2.COLOR_BGR2HSV
        hsv = cv2.cvtColor(np.ascontiguousarray(img_bgr[y0:y1, x0:x1]), code).reshape(-1, 3)
        h, s, v = hsv[:, 0].astype(np.int64), hsv[:, 1].astype(np.int64), hsv[:, 2].astype(np.int64)
        grey = (v < 40) | (s < 30)
        cell = np.where(grey, bins * bins + np.minimum(v * 3 // 256, 2),
                        np.minimum(h * bins // 180, bins - 1) * bins + np.minimum(s * bins // 256, bins - 1))
        hist = np.bincount(cell, minlength=n).astype(np.float32)
        out[r * n:(r + 1) * n] = hist / hist.sum()
    return out


def appearance_similarity(a: np.ndarray, b: np.ndarray, regions: int = len(_REGIONS)) -> float:
    """Bhattacharyya coefficient of two descriptors, averaged over the regions both have; 0 when none is shared."""
    a, b = np.asarray(a, np.float64).reshape(regions, -1), np.asarray(b, np.float64).reshape(regions, -1)
    both = (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)
    if not both.any():
        return 0.0
    bc = np.sqrt(a[both] / a[both].sum(1, keepdims=True) * b[both] / b[both].sum(1, keepdims=True)).sum(axis=1)
    return float(np.clip(bc, 0.0, 1.0).mean())
