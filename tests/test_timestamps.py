"""Real timestamps: a phone's variable-frame-rate video is timed by its container's presentation timestamps, not
frame index / fps (issue 8 §4); an explicit --fps still overrides the clock."""

import fractions

import numpy as np
import pytest

from pose3d_cli.infer.sources import open_source

PTS_MS = [0, 33, 66, 150, 183, 400, 433, 466, 500, 533]  # a stall after frame 2 and another after frame 4


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory):
    av = pytest.importorskip("av", reason="PyAV (test extra) writes the variable-frame-rate clip")
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    c = av.open(str(path), "w")
    s = c.add_stream("mpeg4", rate=30)
    s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    s.codec_context.time_base = s.time_base = fractions.Fraction(1, 1000)
    for p in PTS_MS:
        f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), p % 255, np.uint8), format="rgb24")
        f.pts, f.time_base = p, fractions.Fraction(1, 1000)
        for pk in s.encode(f):
            c.mux(pk)
    for pk in s.encode():
        c.mux(pk)
    c.close()
    return path


def test_video_frames_carry_the_container_timestamps(vfr_video):
    times = np.array([t for _, t, _ in open_source(vfr_video).frames()])
    np.testing.assert_allclose(times, np.array(PTS_MS) / 1000.0, atol=1.5e-3)  # index/fps would be off by 0.2 s


def test_explicit_fps_overrides_the_container_clock(vfr_video):
    times = np.array([t for _, t, _ in open_source(vfr_video, fps=10.0).frames()])
    np.testing.assert_allclose(times, np.arange(len(PTS_MS)) / 10.0)


def test_detector_frames_decoded_by_pyav_carry_the_same_timestamps(vfr_video):
    """The detector's frames (PyAV, straight to RGB) are timed like OpenCV's ``frames()``, --fps included."""
    from pose3d_cli.infer import sources

    src = open_source(vfr_video)
    assert sources._pyav_frames(src, None) is not None  # the PyAV path is the one under test
    times = np.array([t for _, t, _, _ in sources.detector_frames(src, None, rgb=True)])
    np.testing.assert_allclose(times, np.array(PTS_MS) / 1000.0, atol=1.5e-3)
    fixed = np.array([t for _, t, _, _ in sources.detector_frames(open_source(vfr_video, fps=10.0), None, rgb=True)])
    np.testing.assert_allclose(fixed, np.arange(len(PTS_MS)) / 10.0)
