"""Frames for the detector: decoding starts before the first ``next``, colour conversion happens in the decoding
thread (``detector_frames(..., rgb=True)``) and detectors take such RGB frames unchanged (``rgb=True``)."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

from conftest import DATA, need
from pose3d_cli.infer import sources
from pose3d_cli.infer.sources import detector_frames, open_source, prefetched

cv2 = pytest.importorskip("cv2")

VIDEO = DATA / "video" / "pose2sim_single_person" / "cam01.mp4"
PHOTO = DATA / "images" / "coco" / "000000000785.jpg"


def _frames_thread_alive() -> bool:
    return any(t.name == "pose3d-frames" and t.is_alive() for t in threading.enumerate())


def test_prefetch_starts_before_the_first_next_and_stops_when_dropped():
    started = threading.Event()

    def items():
        started.set()
        yield from range(100)  # more than the queue holds: the thread blocks until it is stopped

    it = prefetched(items(), depth=2)
    assert started.wait(2.0), "decoding must start when prefetched() returns, not at the first next()"
    del it  # never iterated
    gc.collect()
    deadline = time.monotonic() + 3.0
    while _frames_thread_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _frames_thread_alive()


def test_prefetch_keeps_order_and_transform():
    assert list(prefetched(iter(range(20)), lambda x: x * x, depth=3)) == [x * x for x in range(20)]


def _first(frames, n=3):
    return [f for _, f in zip(range(n), frames)]


def test_rgb_frames_are_the_bgr_frames_with_channels_reversed(monkeypatch):
    """Native size: the PyAV decode to RGB gives OpenCV's pixels exactly; 640 px: FFmpeg's area scaler is within
    a grey level or two of OpenCV's INTER_AREA (same sizes, times and scale)."""
    src = open_source(need(VIDEO))
    for width, tol in ((None, 0.0), (640, 2.0)):
        bgr = _first(detector_frames(src, width))  # OpenCV
        rgb = _first(detector_frames(src, width, rgb=True))  # PyAV where installed
        for (i, t, a, s), (j, u, b, r) in zip(bgr, rgb):
            assert (i, t, s) == (j, u, r) and b.shape == a.shape == ((1138, 640, 3) if width else (1920, 1080, 3))
            assert np.abs(b.astype(int) - a[..., ::-1]).mean() <= tol
    monkeypatch.setattr(sources, "_pyav_frames", lambda *a: None)  # OpenCV converting in its thread: exact
    for (_, _, a, _), (_, _, b, _) in zip(_first(detector_frames(src, 640)), _first(detector_frames(src, 640, rgb=True))):
        assert np.array_equal(b, a[..., ::-1])


def test_detector_takes_rgb_frames_unchanged():
    pytest.importorskip("mediapipe")
    from pose3d_cli.detect import BlazePoseDetector
    from pose3d_cli.detect.base import DetectorError

    bgr = cv2.imread(str(need(PHOTO)))
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    with BlazePoseDetector(mode="image") as det:
        ref = det(bgr)
        got = det(rgb, rgb=True)
        wrong = det(rgb)  # RGB read as BGR: the channels are swapped, the network sees another image
        assert ref is not None and got is not None
        assert np.array_equal(got.xy, ref.xy) and np.array_equal(got.confidence, ref.confidence)
        assert wrong is None or not np.array_equal(wrong.xy, ref.xy)
        with pytest.raises(DetectorError):
            det(rgb[..., 0], rgb=True)


def test_appearance_of_an_rgb_frame_equals_that_of_the_bgr_frame():
    from pose3d_cli.infer.appearance import appearance_descriptor
    from pose3d_cli.skeleton import BLAZEPOSE33

    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (200, 120, 3), dtype=np.uint8)
    bgr[:, :60] = (200, 30, 30)  # a blue left half: hue decides the histogram cell, so a channel mix-up shows
    xy = np.stack([rng.uniform(10, 110, BLAZEPOSE33.num_joints), rng.uniform(10, 190, BLAZEPOSE33.num_joints)], -1)
    conf = np.ones(BLAZEPOSE33.num_joints, np.float32)
    ref = appearance_descriptor(bgr, xy, conf)
    assert ref.any()
    assert np.array_equal(appearance_descriptor(np.ascontiguousarray(bgr[..., ::-1]), xy, conf, rgb=True), ref)
    assert not np.array_equal(appearance_descriptor(np.ascontiguousarray(bgr[..., ::-1]), xy, conf), ref)
