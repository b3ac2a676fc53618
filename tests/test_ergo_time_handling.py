"""Scoring over real time (from a review of the time handling): holes in the video, variable frame rate, an
entered neck, timestamps that a container gets wrong. Postures by forward kinematics (ergo_fk), expectations by hand."""

import csv
import io

import cv2
import numpy as np
import pytest

from ergo_fk import camera, posture, to_camera
from pose3d_cli.ergo.assess import assess, frames_csv_text, resolve_vertical
from pose3d_cli.ergo.io import Poses
from pose3d_cli.ergo.options import Conventions, Observations, Segments
from pose3d_cli.infer.sources import FrameSource

R = camera(40, 20)
CONV = Conventions(neck_neutral_deg=0.0, shoulder_raise_ref="zero")


def poses(time_s, frames, detected=None, plain=None):
    """Poses of FK postures ``frames`` (world (17, 3) each) seen by camera R, all joints at confidence 0.9."""
    T = len(time_s)
    p, _ = to_camera(np.stack(frames), R)
    det = np.ones(T, bool) if detected is None else np.asarray(detected, bool)
    p = p.astype(np.float64)
    p[~det] = np.nan
    return Poses(np.arange(T), np.asarray(time_s, float), det, p, np.full((T, 17), 0.9), "h36m17",
                 {"skeleton": "h36m17"}, "synthetic", None, plain)


def run(P, conv=CONV, obs=None):
    return assess(P, resolve_vertical(P, up=tuple(R @ np.array([0, 0, 1.0]))), conv, obs)


def test_an_entered_neck_is_a_posture_of_the_scored_frames_not_a_movement():
    t = np.arange(900) / 10.0  # 90 s at 10 fps, nobody in view from 40 to 45 s
    det = np.ones(900, bool)
    det[400:450] = False
    moving = [posture(neck_flex=float(30 * np.sin(0.5 * s)), trunk_flex=float(15 + 15 * np.sin(0.37 * s))) for s in t]
    P = poses(t, moving, det)
    A = run(P, obs=Segments(Observations(neck_flexion_deg=15.0)))
    rows = list(csv.DictReader(io.StringIO(frames_csv_text(A))))
    assert rows[420]["reason"] == "no person detected" and rows[420]["neck_flexion_deg"] == ""
    assert rows[100]["neck_flexion_deg"] == "15.0"
    # a constant that was entered is not "held > 1 min" (the measured neck moves, so nothing is static)
    assert not A.flags["static_neck"].any() and A.summary["percent_time_static"] == 0.0
    # entered for 10-20 s only: its edges (0 -> 60 deg) are no rapid change of the neck
    still = poses(t[:300], [posture()] * 300)
    B = run(still, obs=Segments(Observations(), [(10.0, 20.0, {"neck_flexion_deg": 60.0})]))
    assert B.angles["neck_flexion"][np.searchsorted(t, 10.0)] == 60.0 and B.angles["neck_flexion"][95] == pytest.approx(0, abs=1)
    assert not B.flags["rapid"].any()


def test_the_lift_spread_compares_like_with_like_when_the_neck_is_entered():
    t = np.arange(60) / 30.0
    frames = [posture(neck_flex=5.0)] * 60
    same, _ = to_camera(np.stack(frames), R)
    A = run(poses(t, frames, plain=same.astype(np.float64)), obs=Segments(Observations(neck_flexion_deg=40.0)))
    assert np.nanmax(A.spread["deg"]) == pytest.approx(0.0, abs=1e-6)  # the same lift twice: no spread


def test_a_hole_in_the_video_ends_an_episode_and_is_not_smoothed_over():
    t = np.concatenate([np.arange(60) / 30.0, 7.0 + np.arange(60) / 30.0])  # 0-2 s, nothing, 7-9 s
    bent = [posture(trunk_flex=0.0)] * 60 + [posture(trunk_flex=60.0)] * 60
    A = run(poses(t, bent))
    assert A.angles["trunk_lean"][59] == pytest.approx(0.0, abs=0.5)  # not pulled up by what comes 5 s later
    assert A.angles["trunk_lean"][60] == pytest.approx(60.0, abs=0.5)
    from pose3d_cli.ergo.timeline import episodes
    (first, second) = sorted(episodes(np.ones(len(t), bool), t), key=lambda e: e["start_s"])
    assert (first["start_s"], first["end_s"], second["start_s"], second["end_s"]) == (0.0, 2.0, 7.0, 9.0)


def test_variable_frame_rate_is_smoothed_and_weighted_in_seconds():
    fast = np.arange(240) / 60.0  # 4 s at 60 fps, then 4 s at 10 fps
    t = np.concatenate([fast, 4.0 + np.arange(40) / 10.0])
    half = [posture(trunk_flex=0.0)] * 240 + [posture(trunk_flex=30.0)] * 40
    A = run(poses(t, half))
    assert A.summary["duration_s"] == pytest.approx(8.0, abs=1e-6)
    assert A.summary["percent_time_in_band"]["trunk flexion > 20 deg"] == pytest.approx(50.0, abs=1.5)
    # a 1 s bend to 70 deg in the 10 fps part keeps its height through the 2 Hz smoothing (as at 60 fps)
    t2 = np.concatenate([np.arange(1200) / 60.0, 20.0 + np.arange(100) / 10.0])
    bend = [posture(trunk_flex=70.0 if 25.3 <= s < 26.3 else 0.0) for s in t2]
    B = run(poses(t2, bend))
    assert np.nanmax(B.angles["trunk_lean"]) > 65.0


def test_worst_moments_show_the_angles_that_were_scored():
    t = np.arange(60) / 30.0
    P = poses(t, [posture(trunk_flex=15, trunk_side=30, arm_abd=(100, 0))] * 60)
    conv = Conventions(neck_neutral_deg=0.0, shoulder_raise_ref="zero", trunk_angle="3d", upper_arm_angle="sagittal")
    A = run(P, conv=conv)
    m = A.summary["worst_moments_rula"][0]
    assert m["trunk_angle"] == "trunk_inclination" and m["upper_arm_angle"] == "upper_arm_flexion"
    assert m["trunk_deg"] > 30  # 15 deg forward and 30 sideways: the 3D inclination, not the 15 deg flexion
    # raised 100 deg sideways: the sagittal projection points up (180 deg), where the 3D elevation reads 100 deg
    assert m["upper_arm_left_deg"] == pytest.approx(A.angles["upper_arm_flexion_left"][m["frame"]], abs=0.05)
    assert abs(m["upper_arm_left_deg"] - A.angles["upper_arm_elevation_left"][m["frame"]]) > 45


def test_a_timestamp_the_container_gets_wrong_never_goes_back(monkeypatch):
    ms = [0, 50, 100, 150, 200, 200, 300, 350]  # a 20 fps video labelled 30 fps that repeats one timestamp

    class Capture:
        def __init__(self, *_):
            self.i = -1

        def read(self):
            self.i += 1
            return self.i < len(ms), np.zeros((4, 4, 3), np.uint8)

        def get(self, _prop):
            return float(ms[self.i])

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Capture)
    t = [s for _, s, _ in FrameSource("x.mp4", "video", 30.0, (4, 4), len(ms), container_times=True).frames()]
    assert np.all(np.diff(t) > 0)
    assert t[5] == pytest.approx(0.2 + 1 / 30)  # one nominal step after the last usable timestamp
