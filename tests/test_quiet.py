"""Quiet means quiet: the native libraries' log lines (OpenCV, its FFmpeg backend, MediaPipe) never reach the
terminal under -q, and show up again under -v (issue 11). Subprocesses, since the lines come from C++ on fd 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, need

REPO = Path(__file__).resolve().parents[1]


NATIVE_LOG_VARS = ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL", "GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL")


def _run(*args, cwd=REPO):
    # a clean environment: in-process CLI tests may have set the native log levels in this process
    env = {k: v for k, v in os.environ.items() if k not in NATIVE_LOG_VARS}
    return subprocess.run([sys.executable, "-m", "pose3d_cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_missing_camera_under_q_is_one_line_and_under_v_shows_the_native_log(tmp_path):
    r = _run("-q", "infer", "camera:0", "-o", str(tmp_path / "o.csv"))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: camera 0"), r.stderr
    v = _run("-v", "infer", "camera:0", "-o", str(tmp_path / "o.csv"))
    assert v.returncode == 2 and "WARN" in v.stderr  # the native log goes to -v's stderr (the log)


@pytest.mark.slow
def test_quiet_infer_on_a_real_video_prints_nothing(tmp_path):
    video = need(DATA / "video" / "pose2sim_single_person" / "cam01.mp4")
    out = tmp_path / "o.csv"
    r = _run("-q", "infer", str(video), "-o", str(out), "--max-people", "1", "--detect-width", "360")
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "" and r.stdout.strip() == "", (r.stdout, r.stderr)
    assert out.stat().st_size > 0
