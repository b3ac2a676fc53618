"""RULA and REBA on hand-built postures (tests/ergo_fk.py): every band on both sides of each edge, each
adjustment, table regions worked by hand, both sides, conventions, views and missing joints.

Expected values come from the methods' published definitions, typed here by hand (never from the code under
test); the hand-worked table lookups name the table cell they use.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergo_fk import camera, posture, to_camera
from pose3d_cli.body import body_angles
from pose3d_cli.ergo import reba, rula
from pose3d_cli.ergo.options import Conventions, Observations, Segments, observation_arrays
from pose3d_cli.errors import Pose3dError
from pose3d_cli.skeleton import H36M17

#: the tests' baseline: no neck offset (the FK neck is collinear with the trunk), shoulder raise from zero
BASE = dict(neck_neutral_deg=0.0, shoulder_raise_ref="zero")


def score(world, R=None, up=None, conv=None, obs=None, **conv_kw):
    """RULA and REBA dicts of one or more FK postures (world (..., 17, 3)) seen by camera R."""
    conv = conv or Conventions(**{**BASE, **conv_kw})
    R = camera() if R is None else R
    p, u = to_camera(np.asarray(world).reshape(-1, 17, 3), R)
    a = body_angles(p, u if up is None else up, H36M17, conv.neck_neutral_deg, conv.upper_arm_reference)
    o = observation_arrays(Segments(obs or Observations()), np.arange(len(p), dtype=float))
    return rula.score(a, o, conv), reba.score(a, o, conv)


def one(d, k):
    v = d[k]
    assert v.shape == (1,)
    return v[0]


# ---------------------------------------------------------------- neutral and hand-worked full examples

def test_neutral_standing_is_the_lowest_score():
    r, b = score(posture())
    for k in ("upper_arm_left", "upper_arm_right", "lower_arm_left", "neck", "trunk", "legs", "posture_b", "grand"):
        assert one(r, k) == 1, k
    assert one(r, "action_level") == 1
    assert one(b, "reba") == 1 and one(b, "action_level") == 0


def test_rula_and_reba_worked_example_with_load():
    """Left arm 100° flexion, elbow 120°, wrist 2, neck 25°, trunk 30°, 5 kg held static.

    RULA left: UA 4, LA 2, wrist 2, twist 1 → Table A row (4,2) "4 4 4 4 4 5 5 5" col (2,1) = 4; C = 4 + 0 + 2 = 6.
    Neck 3, trunk 3, legs 1 → Table B (3,3,1) = 4; D = 4 + 2 = 6. Table C (6,6) = 7 → action level 4.
    RULA right: UA 1, LA 1, wrist 2 → Table A (1,1,2,1) = 2; C = 4; Table C (4,6) = 6. Final = max = 7.
    REBA: trunk 3, neck 2, legs 1 → Table A (2,3,1) = 4; load 5 kg → 1; A = 5. Left: UA 4, LA 2, wrist 1 → Table B
    (2,4,1) = 5; B = 5. Table C (5,5) = 6 → 6 (action level 2). Right: Table B (1,1,1) = 1; C (5,1) = 4.
    """
    w = posture(arm_flex=(100, 0), elbow=(120, 80), neck_flex=25, trunk_flex=30)
    r, b = score(w, obs=Observations(wrist=2, load_kg=5, load_mode="static"))
    assert [one(r, k) for k in ("upper_arm_left", "lower_arm_left", "posture_a_left", "score_c_left")] == [4, 2, 4, 6]
    assert [one(r, k) for k in ("neck", "trunk", "legs", "posture_b", "force", "score_d")] == [3, 3, 1, 4, 2, 6]
    assert one(r, "grand_left") == 7 and one(r, "grand_right") == 6 and one(r, "grand") == 7
    assert one(r, "action_level") == 4
    assert [one(b, k) for k in ("trunk", "neck", "legs", "posture_a", "load", "score_a")] == [3, 2, 1, 4, 1, 5]
    assert [one(b, k) for k in ("upper_arm_left", "lower_arm_left", "wrist_left", "posture_b_left")] == [4, 2, 1, 5]
    assert one(b, "reba_left") == 6 and one(b, "reba_right") == 4 and one(b, "reba") == 6
    assert one(b, "action_level") == 2


def test_table_a_top_rows_by_hand():
    """Left arm abducted 100° (elevation 100 → 4; abducted +1), shoulder lifted 60 mm (19° → +1): UA 6; elbow 80°
    but the wrist ends far out to the side (+1): LA 2. RULA Table A (6,2,1,1) = 8; D = 1; Table C (8,1) = 5.
    REBA: UA 6, LA 1 (no midline rule), wrist 1 → Table B (1,6,1) = 7; A = 1; Table C (1,7) = 4."""
    r, b = score(posture(arm_abd=(100, 0), shoulder_up=(60, 0)))
    assert one(r, "upper_arm_left") == 6 and one(r, "lower_arm_left") == 2
    assert one(r, "posture_a_left") == 8 and one(r, "grand") == 5 and one(r, "action_level") == 3
    assert one(b, "upper_arm_left") == 6 and one(b, "posture_b_left") == 7 and one(b, "reba") == 4


def test_table_b_and_c_high_regions_by_hand():
    """Neck extended 20° (4) + side bend 15° (+1) = 5; trunk 70° (4) + twist 20° (+1) + side bend (+1) = 6, one foot
    raised (legs 2): RULA Table B (5,6,2) = 8 → D = 8 (capped to 7 for Table C); arm C: UA 1, LA 1 → 1;
    Table C (1, 7) = 5. REBA: neck 2 + 1 = 3; trunk 4 + 1 = 5; legs 2 (unilateral) + knee 70° (+2) = 4 →
    Table A (3,5,4) = 9; Table C (9, 1) = 9 → action level 3."""
    w = posture(neck_flex=-20, neck_side=15, trunk_flex=70, trunk_twist=20, trunk_side=15, shank_back=(70, 0))
    r, b = score(w)
    assert [one(r, k) for k in ("neck", "trunk", "legs", "posture_b")] == [5, 6, 2, 8]
    assert one(r, "grand") == 5
    assert [one(b, k) for k in ("neck", "trunk", "legs", "posture_a")] == [3, 5, 4, 9]
    assert one(b, "reba") == 9 and one(b, "action_level") == 3


# ---------------------------------------------------------------- bands on both sides of every edge

@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("angle,expect", [(-22, 2), (-18, 1), (18, 1), (22, 2), (43, 2), (47, 3), (88, 3), (92, 4),
                                          (150, 4)])
def test_upper_arm_bands(side, angle, expect):
    arm = (angle, 0) if side == "left" else (0, angle)
    r, b = score(posture(arm_flex=arm))
    other = "right" if side == "left" else "left"
    assert one(r, f"upper_arm_{side}") == expect and one(b, f"upper_arm_{side}") == expect
    assert one(r, f"upper_arm_{other}") == 1


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("elbow,expect", [(20, 2), (58, 2), (62, 1), (98, 1), (102, 2), (140, 2)])
def test_lower_arm_bands(side, elbow, expect):
    e = (elbow, 80) if side == "left" else (80, elbow)
    r, b = score(posture(elbow=e))
    assert one(r, f"lower_arm_{side}") == expect and one(b, f"lower_arm_{side}") == expect


@pytest.mark.parametrize("neck,rula_expect,reba_expect", [
    (8, 1, 1), (12, 2, 1), (18, 2, 1), (22, 3, 2), (40, 3, 2),
    (-3, 1, 1),  # inside the 5° neutral dead band: not "in extension"
    (-8, 4, 2), (-25, 4, 2)])
def test_neck_bands(neck, rula_expect, reba_expect):
    r, b = score(posture(neck_flex=neck))
    assert one(r, "neck") == rula_expect and one(b, "neck") == reba_expect


@pytest.mark.parametrize("trunk,rula_expect,reba_expect", [
    (3, 1, 1), (7, 2, 2), (18, 2, 2), (22, 3, 3), (58, 3, 3), (62, 4, 4), (85, 4, 4),
    (-3, 1, 1), (-8, 2, 2), (-18, 2, 2), (-22, 2, 3), (-35, 2, 3)])
def test_trunk_bands(trunk, rula_expect, reba_expect):
    r, b = score(posture(trunk_flex=trunk))
    assert one(r, "trunk") == rula_expect and one(b, "trunk") == reba_expect


@pytest.mark.parametrize("knee,expect", [(0, 1), (28, 1), (32, 2), (58, 2), (62, 3), (90, 3)])
def test_reba_knee_adjustment_both_feet_down(knee, expect):
    r, b = score(posture(thigh_fwd=(knee, knee)))
    assert one(b, "legs") == expect and one(r, "legs") == 1


def test_one_foot_raised_and_the_knee_conventions():
    w = posture(shank_back=(70, 0))  # left foot 263 mm up, left knee 70°, right (support) knee straight
    r, b = score(w)
    assert one(r, "legs") == 2
    assert one(b, "legs") == 2 + 2  # unilateral + the more flexed knee (>60°)
    _, b2 = score(w, knee="support")
    assert one(b2, "legs") == 2  # the weight-bearing knee is straight
    r3, b3 = score(posture(shank_back=(20, 0)))  # 24 mm: both feet still down
    assert one(r3, "legs") == 1 and one(b3, "legs") == 1


@pytest.mark.parametrize("support_knee,walking_legs", [(0, 1), (40, 2)])
def test_walking_legs_are_bilateral_with_the_weight_bearing_knee(support_knee, walking_legs):
    w = posture(shank_back=(70, support_knee))  # mid-swing: the left foot up, its knee 70°
    p, u = to_camera(w.reshape(1, 17, 3), camera())
    a = body_angles(p, u)
    o = observation_arrays(Segments(), np.zeros(1))
    conv = Conventions(**BASE)
    walking = {"walking": np.ones(1)}
    assert one(reba.score(a, o, conv, walking), "legs") == walking_legs  # REBA: walking 1 + the support knee's
    assert one(reba.score(a, o, conv), "legs") == 2 + 2  # standing on one leg: unilateral + the 70° knee
    assert one(rula.score(a, o, conv, walking), "legs") == 2  # RULA keeps its own rule (not balanced)


@pytest.mark.parametrize("trunk,supported,unsupported", [(-20, 1, 2), (0, 1, 1), (15, 2, 2)])
def test_rula_seated_trunk_well_supported(trunk, supported, unsupported):
    """RULA: trunk 1 "if sitting and well supported with a hip-trunk angle of 90° or more": a reclined trunk against
    a backrest is 1 (else extension: 2 by the default convention), a trunk bent forward keeps its band."""
    w = posture(trunk_flex=trunk, thigh_fwd=(90, 90))
    assert one(score(w, obs=Observations(sitting=True, back_supported=True))[0], "trunk") == supported
    assert one(score(w, obs=Observations(sitting=True))[0], "trunk") == unsupported
    assert one(score(w, obs=Observations(back_supported=True))[0], "trunk") == unsupported  # only where seated


def test_sitting_legs():
    r, b = score(posture(thigh_fwd=(90, 90), shank_back=(0, 0)), obs=Observations(sitting=True))
    assert one(r, "legs") == 1 and one(b, "legs") == 1  # REBA: no knee adjustment when sitting


# ---------------------------------------------------------------- adjustments

@pytest.mark.parametrize("twist,side,rula_adj,reba_adj", [(8, 0, 0, 0), (12, 0, 1, 1), (0, 12, 1, 1), (0, -12, 1, 1),
                                                          (-15, 15, 2, 1), (0, 8, 0, 0)])
def test_trunk_twist_and_side_bend(twist, side, rula_adj, reba_adj):
    r, b = score(posture(trunk_flex=30, trunk_twist=twist, trunk_side=side))
    assert one(r, "trunk") == 3 + rula_adj  # 30° flexion: 3 in both methods
    assert one(b, "trunk") == 3 + reba_adj  # REBA: one +1 for twisting or side flexion


def test_neck_side_bend_and_twist_observation():
    r, b = score(posture(neck_flex=15, neck_side=12))
    assert one(r, "neck") == 3 and one(b, "neck") == 2
    r, b = score(posture(neck_flex=15, neck_side=12), obs=Observations(neck_twist=True))
    assert one(r, "neck") == 4 and one(b, "neck") == 2  # REBA: one +1 for either


@pytest.mark.parametrize("side", ["left", "right"])
def test_upper_arm_adjustments(side):
    i = 0 if side == "left" else 1

    def tup(v):
        return (v, 0) if i == 0 else (0, v)

    r, b = score(posture(shoulder_up=tup(20.0)))  # 6.7°: not raised
    assert one(r, f"upper_arm_{side}") == 1
    r, b = score(posture(shoulder_up=tup(40.0)))  # 13.2°: raised
    assert one(r, f"upper_arm_{side}") == 2 and one(b, f"upper_arm_{side}") == 2
    r, b = score(posture(arm_abd=tup(18.0)))  # elevation 18 (1), not abducted
    assert one(r, f"upper_arm_{side}") == 1
    r, b = score(posture(arm_abd=tup(22.0)))  # elevation 22 (2) + abducted
    assert one(r, f"upper_arm_{side}") == 3 and one(b, f"upper_arm_{side}") == 3
    r, b = score(posture(arm_flex=tup(50.0)), obs=Observations(arm_supported=True))
    assert one(r, f"upper_arm_{side}") == 2 and one(b, f"upper_arm_{side}") == 2


def test_support_never_brings_a_score_below_one():
    r, b = score(posture(), obs=Observations(arm_supported=True))
    assert one(r, "upper_arm_left") == 1 and one(b, "upper_arm_left") == 1
    assert one(r, "grand") == 1 and one(b, "reba") == 1


def test_lower_arm_across_the_midline():
    w = posture(arm_abd=(-40, 0))  # the left hand works across the body
    r, _ = score(w)
    assert one(r, "lower_arm_left") == 1 + 1 and one(r, "lower_arm_right") == 1
    r, _ = score(w, lower_arm_adjust="0")
    assert one(r, "lower_arm_left") == 1


def test_wrist_observations():
    r, b = score(posture(), obs=Observations(wrist=3, wrist_deviated=True, wrist_twist=2))
    assert one(r, "wrist_left") == 4 and one(r, "wrist_twist_left") == 2
    assert one(r, "posture_a_left") == 3  # Table A (1,1,4,2): row (1,1) "1 2 2 2 2 3 3 3", last cell
    assert one(b, "wrist_left") == 3  # > 15° (2) + deviated/twisted (+1)
    assert one(b, "posture_b_left") == 2  # Table B (1,1,3)


@pytest.mark.parametrize("kg,mode,shock,rula_f,reba_l", [
    (0, "intermittent", False, 0, 0), (1.9, "static", False, 0, 0), (2, "intermittent", False, 1, 0),
    (6, "intermittent", False, 1, 1), (6, "repeated", False, 2, 1), (10, "static", False, 2, 1),
    (12, "intermittent", False, 2, 2), (12, "static", False, 3, 2), (1, "intermittent", True, 3, 1),
    (4.9, "intermittent", False, 1, 0), (5, "intermittent", False, 1, 1)])
def test_force_and_load(kg, mode, shock, rula_f, reba_l):
    r, b = score(posture(), obs=Observations(load_kg=kg, load_mode=mode, shock=shock))
    assert one(r, "force") == rula_f and one(b, "load") == reba_l


@pytest.mark.parametrize("coupling,add", [("good", 0), ("fair", 1), ("poor", 2), ("unacceptable", 3)])
def test_coupling(coupling, add):
    _, b = score(posture(arm_flex=(50, 0)), obs=Observations(coupling=coupling))
    assert one(b, "posture_b_left") == 3  # UA 3 (50°), LA 1 (elbow 80°), wrist 1: Table B (1,3,1) = 3
    assert one(b, "score_b_left") == 3 + add


def test_muscle_use_and_activity_are_added():
    w = posture(trunk_flex=30, arm_flex=(50, 0))
    T = 1
    r0, b0 = score(w)
    conv = Conventions(**BASE)
    p, u = to_camera(w.reshape(1, 17, 3), camera())
    a = body_angles(p, u)
    o = observation_arrays(Segments(), np.zeros(T))
    r1 = rula.score(a, o, conv, {"arm_left": np.ones(T), "arm_right": np.zeros(T), "body": np.ones(T)})
    b1 = reba.score(a, o, conv, {"static": np.ones(T), "repeated": np.ones(T), "rapid": np.ones(T)})
    assert one(r1, "score_c_left") == one(r0, "score_c_left") + 1
    assert one(r1, "score_c_right") == one(r0, "score_c_right")
    assert one(r1, "score_d") == one(r0, "score_d") + 1
    assert one(b1, "reba") == one(b0, "reba") + 3


@pytest.mark.parametrize("score_,level", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4)])
def test_rula_action_levels(score_, level):
    assert rula.action_level(np.array([float(score_)]))[0] == level


@pytest.mark.parametrize("score_,level", [(1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (8, 3), (10, 3), (11, 4), (15, 4)])
def test_reba_action_levels(score_, level):
    assert reba.action_level(np.array([float(score_)]))[0] == level


# ---------------------------------------------------------------- conventions

def test_edge_convention_at_exact_edges():
    x = np.array([20.0, 45.0, 90.0, -20.0])
    np.testing.assert_array_equal(rula.upper_arm_base(x, "le"), [1, 2, 3, 1])
    np.testing.assert_array_equal(rula.upper_arm_base(x, "lt"), [2, 3, 4, 2])
    np.testing.assert_array_equal(rula.lower_arm_base(np.array([60.0, 100.0]), "le"), [1, 1])
    np.testing.assert_array_equal(rula.lower_arm_base(np.array([60.0, 100.0]), "lt"), [2, 2])
    c_le, c_lt = Conventions(**BASE), Conventions(**BASE, edges="lt")
    np.testing.assert_array_equal(rula.neck_base(np.array([10.0, 20.0]), c_le), [1, 2])
    np.testing.assert_array_equal(rula.neck_base(np.array([10.0, 20.0]), c_lt), [2, 3])
    np.testing.assert_array_equal(reba.trunk_base(np.array([5.0, 20.0, -20.0, 60.0]), c_le), [1, 2, 2, 3])
    np.testing.assert_array_equal(reba.trunk_base(np.array([5.0, 20.0, -20.0, 60.0]), c_lt), [2, 3, 3, 4])


def test_upper_arm_angle_3d_vs_sagittal():
    w = posture(arm_abd=(60, 0))  # raised sideways: elevation 60, no sagittal flexion
    r3, _ = score(w)
    rs, _ = score(w, upper_arm_angle="sagittal")
    assert one(r3, "upper_arm_left") == 3 + 1 and one(rs, "upper_arm_left") == 1 + 1


def test_upper_arm_reference_trunk_vs_vertical():
    w = posture(trunk_flex=40, arm_flex=(40, 40))  # arms hang plumb while the trunk leans 40°
    rt, _ = score(w)
    rv, _ = score(w, upper_arm_reference="vertical")
    assert one(rt, "upper_arm_left") == 2 and one(rv, "upper_arm_left") == 1


def test_trunk_angle_sagittal_vs_3d():
    w = posture(trunk_side=30)
    rs, bs = score(w)
    r3, b3 = score(w, trunk_angle="3d")
    assert one(rs, "trunk") == 1 + 1 and one(r3, "trunk") == 3 + 1
    assert one(bs, "trunk") == 1 + 1 and one(b3, "trunk") == 3 + 1


@pytest.mark.parametrize("mode,expect", [("2", 2), ("magnitude", 3), ("upright", 1)])
def test_rula_trunk_extension_convention(mode, expect):
    r, _ = score(posture(trunk_flex=-30), rula_trunk_extension=mode)
    assert one(r, "trunk") == expect


def test_dead_bands_are_options():
    r, b = score(posture(trunk_flex=7), upright_deg=10)
    assert one(r, "trunk") == 1 and one(b, "trunk") == 1
    r, b = score(posture(neck_flex=-8), neutral_neck_deg=10)
    assert one(r, "neck") == 1 and one(b, "neck") == 1
    r, _ = score(posture(neck_flex=12), neck_neutral_deg=12)
    assert one(r, "neck") == 1


@pytest.mark.parametrize("kw", [{"knee": "median"}, {"edges": "<"}, {"upper_arm_angle": "x"}, {"upright_deg": -1},
                                {"rula_trunk_extension": "4"}])
def test_unknown_convention_values_are_one_line_errors(kw):
    with pytest.raises(Pose3dError):
        Conventions(**kw)


# ---------------------------------------------------------------- views, asymmetry, missing joints

HAND = dict(arm_flex=(100, 0), elbow=(120, 80), neck_flex=25, trunk_flex=30)


@pytest.mark.parametrize("R", [camera(90), camera(-90), camera(30, 25, 5), camera(150, -10)],
                         ids=["profile-left", "profile-right", "pitched", "behind-low"])
def test_same_scores_from_any_view_when_up_is_known(R):
    obs = Observations(wrist=2, load_kg=5, load_mode="static")
    r0, b0 = score(posture(**HAND), obs=obs)
    r, b = score(posture(**HAND), R=R, obs=obs)
    for k in ("grand_left", "grand_right", "grand"):
        assert one(r, k) == one(r0, k)
    assert one(b, "reba") == one(b0, "reba")


def test_pitched_phone_without_the_vertical_changes_the_trunk_score():
    R = camera(0, 25)  # phone pitched down 25°
    r_ok, b_ok = score(posture(), R=R)
    r_bad, b_bad = score(posture(), R=R, up=np.array([0, -1.0, 0]))
    assert one(r_ok, "trunk") == 1 and one(b_ok, "trunk") == 1
    # the level-camera up of a phone looking down leans back, away from the camera: upright is read as 25° flexion
    assert one(r_bad, "trunk") == 3 and one(b_bad, "trunk") == 3


def test_left_right_asymmetry():
    r, b = score(posture(arm_flex=(95, 10), elbow=(40, 80)))
    assert one(r, "upper_arm_left") == 4 and one(r, "upper_arm_right") == 1
    assert one(r, "lower_arm_left") == 2 and one(r, "lower_arm_right") == 1
    assert one(r, "grand_left") > one(r, "grand_right")
    assert one(r, "grand") == one(r, "grand_left")
    assert one(b, "reba") == one(b, "reba_left") > one(b, "reba_right")


def test_missing_arm_joint_scores_the_other_side_only():
    w = posture(arm_flex=(95, 10))
    w[H36M17.index("left_elbow")] = np.nan
    r, b = score(w)
    assert np.isnan(one(r, "grand_left")) and np.isfinite(one(r, "grand_right"))
    assert one(r, "grand") == one(r, "grand_right")
    assert one(b, "reba") == one(b, "reba_right")


def test_missing_trunk_joint_gives_no_score():
    w = posture()
    w[H36M17.index("thorax")] = np.nan
    r, b = score(w)
    assert np.isnan(one(r, "grand")) and np.isnan(one(b, "reba"))
    assert np.isnan(one(r, "action_level")) and np.isnan(one(b, "action_level"))


# ---------------------------------------------------------------- properties

postures = st.fixed_dictionaries({
    "trunk_flex": st.floats(-30, 80), "trunk_side": st.floats(-30, 30), "trunk_twist": st.floats(-40, 40),
    "neck_flex": st.floats(-30, 45), "neck_side": st.floats(-25, 25),
    "arm_flex": st.tuples(st.floats(-40, 170), st.floats(-40, 170)),
    "elbow": st.tuples(st.floats(5, 150), st.floats(5, 150)),
    "thigh_fwd": st.tuples(st.floats(0, 80), st.floats(0, 80)), "shank_back": st.tuples(st.floats(0, 60), st.floats(0, 60)),
})


#: band edges of the published methods (degrees), by posture parameter: a posture exactly on an edge may fall on
#: either side after a rotation's rounding (1e-13 deg), which is not a dependence on the camera
EDGES = {"trunk_flex": (-20, -5, 0, 5, 20, 60), "trunk_side": (-5, 0, 5), "trunk_twist": (-5, 0, 5),
         "neck_flex": (-5, 0, 10, 20), "neck_side": (-5, 0, 5), "arm_flex": (-20, 0, 20, 45, 90),
         "elbow": (60, 100), "knee": (0, 30, 60)}


def _off(x, edges, margin=0.5):
    while any(abs(x - e) <= margin for e in edges):
        x += 2 * margin
    return x


def _off_edges(kw):
    """The posture moved (by at most a few degrees) so that no scored angle sits within 0.5° of a band edge."""
    out = {}
    for k, v in kw.items():
        if k in EDGES:
            out[k] = tuple(_off(x, EDGES[k]) for x in v) if isinstance(v, tuple) else _off(v, EDGES[k])
        else:
            out[k] = v
    out["shank_back"] = tuple(_off(t + sb, EDGES["knee"]) - t for t, sb in zip(kw["thigh_fwd"], kw["shank_back"]))
    return out


@settings(max_examples=40, deadline=None)
@given(postures, st.floats(-180, 180), st.floats(-40, 40), st.floats(-30, 30))
def test_scores_do_not_depend_on_the_camera(kw, yaw, pitch, roll):
    kw = _off_edges(kw)
    r0, b0 = score(posture(**kw))
    r, b = score(posture(**kw), R=camera(yaw, pitch, roll))
    for k in ("grand_left", "grand_right", "grand"):
        assert one(r, k) == one(r0, k)
    for k in ("reba_left", "reba_right", "reba"):
        assert one(b, k) == one(b0, k)


@settings(max_examples=40, deadline=None)
@given(postures)
def test_mirroring_swaps_left_and_right_scores(kw):
    p, u = to_camera(posture(**kw), camera())
    conv = Conventions(**BASE)
    M = np.diag([-1.0, 1, 1])
    pm = (p @ M.T)[H36M17.flip_permutation]
    o = observation_arrays(Segments(), np.zeros(1))
    a, am = body_angles(p[None], u), body_angles(pm[None], M @ u)
    r, rm = rula.score(a, o, conv), rula.score(am, o, conv)
    b, bm = reba.score(a, o, conv), reba.score(am, o, conv)
    assert one(rm, "grand_left") == one(r, "grand_right") and one(rm, "grand_right") == one(r, "grand_left")
    assert one(bm, "reba_left") == one(b, "reba_right") and one(bm, "reba_right") == one(b, "reba_left")
    assert one(rm, "grand") == one(r, "grand") and one(bm, "reba") == one(b, "reba")


# ---------------------------------------------------------------- extreme postures (a review at stop 28)

@pytest.mark.parametrize("flex", [100, 120, 140])
def test_a_trunk_bent_past_horizontal_keeps_its_angle_and_no_side_bend(flex):
    """Bent 120° to reach the floor: lean read 60° (arcsin folds at 90°) and the side bend ±180° (the frontal
    projection points down), so the trunk fell to the 20-60° band with a side-bend +1."""
    r, b = score(posture(trunk_flex=flex, trunk_side=2))
    a = body_angles(*to_camera(posture(trunk_flex=flex, trunk_side=2)[None], camera()))
    assert a["trunk_lean"][0] == pytest.approx(flex, abs=0.5) and abs(a["trunk_side_bend"][0]) < 5
    assert one(r, "trunk") == 4 and one(b, "trunk") == 4


@pytest.mark.parametrize("flex", [182, 190])
def test_an_arm_just_past_vertical_overhead_is_raised_not_extended(flex):
    r, b = score(posture(arm_flex=(flex, 0)))
    assert one(r, "upper_arm_left") == 4 and one(b, "upper_arm_left") == 4  # it scored 2, as extension
    r, _ = score(posture(arm_flex=(flex, 0)), upper_arm_angle="sagittal")
    assert one(r, "upper_arm_left") == 4


@pytest.mark.parametrize("abd", [120, 150, 170])
def test_an_arm_raised_sideways_overhead_stays_abducted(abd):
    """Abduction out of the sagittal plane folds at 90° (170° read 10°): raised sideways above the shoulder it
    keeps growing, so the +1 'abducted' stays (RULA/REBA upper arm 4 + 1)."""
    r, b = score(posture(arm_abd=(abd, 0)))
    assert one(r, "upper_arm_left") == 5 and one(b, "upper_arm_left") == 5
    r0, _ = score(posture(arm_flex=(abd, 0)))  # raised forwards as high: no abduction
    assert one(r0, "upper_arm_left") == 4
