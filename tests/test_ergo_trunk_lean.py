"""The trunk angle conventions under a combined forward + side bend (where they differ), hand-computed.

FK ``posture(trunk_flex=f, trunk_side=s)`` puts the trunk axis at (sin f cos s, sin s, cos f cos s) in the
subject's (anterior, left, up): its sagittal projection is f, its angle out of the frontal plane (``trunk_lean``)
asin(sin f cos s).
"""

import numpy as np
import pytest

from ergo_fk import camera, posture, to_camera
from pose3d_cli.body import body_angles
from pose3d_cli.ergo import reba, rula
from pose3d_cli.ergo.options import Conventions, Observations, Segments, observation_arrays
from pose3d_cli.skeleton import H36M17


def scores(trunk_angle, f=24.0, s=45.0):
    p, up = to_camera(posture(trunk_flex=f, trunk_side=s)[None], camera(30, 20))
    conv = Conventions(neck_neutral_deg=0.0, shoulder_raise_ref="zero", trunk_angle=trunk_angle)
    a = body_angles(p, up, H36M17, 0.0)
    o = observation_arrays(Segments(Observations()), np.zeros(1))
    return a, rula.score(a, o, conv), reba.score(a, o, conv)


def test_lean_vs_sagittal_under_side_bend():
    a, _, _ = scores("lean")
    assert a["trunk_flexion"][0] == pytest.approx(24.0, abs=0.1)
    assert a["trunk_lean"][0] == pytest.approx(np.degrees(np.arcsin(np.sin(np.radians(24)) * np.cos(np.radians(45)))),
                                               abs=0.1)  # 16.7°
    # REBA trunk: lean 16.7° → 0–20° flexion 2, +1 side bend = 3; sagittal 24° → 20–60° 3, +1 = 4
    assert scores("lean")[2]["trunk"][0] == 3 and scores("sagittal")[2]["trunk"][0] == 4
    # RULA trunk: lean 0–20° 2, sagittal 20–60° 3; +1 side bending each
    assert scores("lean")[1]["trunk"][0] == 3 and scores("sagittal")[1]["trunk"][0] == 4


def test_lean_equals_sagittal_in_the_sagittal_plane():
    for f in (-15.0, 10.0, 50.0, 75.0):
        a, _, _ = scores("lean", f, 0.0)
        assert a["trunk_lean"][0] == pytest.approx(f, abs=0.1) and a["trunk_flexion"][0] == pytest.approx(f, abs=0.1)


def test_default_is_lean():
    assert Conventions().trunk_angle == "lean" and Conventions().trunk_key == "trunk_lean"
