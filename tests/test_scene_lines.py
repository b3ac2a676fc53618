"""World up from the scene's vertical lines (pose3d_cli.body.scene_lines).

The synthetic room below is built here (camera rows right/down/forward from yaw, pitch and roll, world Z up),
not with the module's helpers: the expected up is ``cam_from_world @ (0, 0, 1)``."""

import json

import numpy as np
import pytest

from conftest import DATA, need
from pose3d_cli.body.scene_lines import (SceneUp, detect_segments, drop_near_limbs, manhattan_frame,
                                         scene_up, scene_up_from_segments, segment_normals)


def cam_from_world(yaw_deg, pitch_deg, roll_deg):
    """Rows: the camera's right, down and forward axes in the world (Z up); pitch > 0 looks down."""
    y, p, r = np.radians([yaw_deg, pitch_deg, roll_deg])
    fwd = np.array([np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), -np.sin(p)])
    right = np.cross(fwd, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    c, s = np.cos(r), np.sin(r)
    right, down = c * right + s * down, -s * right + c * down  # roll about the optical axis
    return np.stack([right, down, fwd])


def room_segments(R, K, size, eye=(0.0, 0.0, 1.5), rng=None, outliers=0.2, noise_px=0.3):
    """Edges of a box room 10 x 12 x 3 m (verticals on the walls and in the room, horizontals along X and Y on
    walls and floor), seen from ``eye``: (N, 4) px segments inside the image, plus random outlier segments."""
    rng = rng or np.random.default_rng(0)
    w, h = size
    seg3d = []
    for x in np.linspace(-5, 5, 41):
        for yw in (6.0, -6.0):
            seg3d.append(((x, yw, 0.0), (x, yw, 2.5)))  # verticals on the far walls
            seg3d.append(((x, yw, 0.3), (x + 0.8, yw, 0.3)))  # horizontals along X
    for yv in np.linspace(-5, 5, 41):
        for xw in (5.0, -5.0):
            seg3d.append(((xw, yv, 0.2), (xw, yv, 2.7)))
            seg3d.append(((xw, yv, 2.0), (xw, yv + 0.8, 2.0)))  # along Y
    for x in np.linspace(-2, 2, 9):
        seg3d.append(((x, 1.0, 0.0), (x, 5.0, 0.0)))  # floor lines running away from the camera
        for yp in (2.0, 3.5):
            seg3d.append(((x, yp, 0.0), (x, yp, 1.0)))  # posts in the room
    eye = np.asarray(eye)
    out = []
    t = np.linspace(0, 1, 400)[:, None]
    for a, b in seg3d:  # keep the part of each edge that is in front of the camera and inside the image
        pts = (np.asarray(a) + t * (np.asarray(b) - np.asarray(a)) - eye) @ R.T
        front = pts[:, 2] > 0.1
        uv = (pts @ K.T)[:, :2] / np.where(front, pts[:, 2], 1.0)[:, None]
        inside = front & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        if inside.sum() >= 2:
            i = np.flatnonzero(inside)
            ua, ub = uv[i[0]], uv[i[-1]]
            if np.linalg.norm(ua - ub) > 20:
                out.append(np.concatenate([ua, ub]))
    seg = np.array(out) + rng.normal(0, noise_px, (len(out), 4))
    n_out = int(outliers * len(seg))
    start = rng.uniform([0, 0], [w, h], (n_out, 2))
    ang = rng.uniform(0, np.pi, n_out)
    ln = rng.uniform(40, 200, n_out)
    junk = np.concatenate([start, start + ln[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)], 1)
    return np.concatenate([seg, junk])


def k_of(fov_deg, size):
    w, h = size
    f = 0.5 * max(w, h) / np.tan(np.radians(fov_deg) / 2)
    return np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])


def angle(a, b):
    return np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


SIZE = (1080, 1920)  # a phone held upright


@pytest.mark.parametrize("yaw,pitch,roll", [(20, 25, 8), (-35, 10, -12), (0, 33, 0)])
def test_known_intrinsics_recover_up(yaw, pitch, roll):
    R = cam_from_world(yaw, pitch, roll)
    K = k_of(60, SIZE)
    seg = room_segments(R, K, SIZE)
    truth = R @ np.array([0, 0, 1.0])
    res = scene_up_from_segments([seg], SIZE, K)
    assert res.accepted, res.reason
    assert angle(res.up, truth) < 0.3  # up, not down (the level-camera prior signs it)
    assert not res.focal_searched and abs(res.fov_deg - 60) < 1e-6


@pytest.mark.parametrize("fov", [50, 60, 72])
def test_focal_search_finds_the_field_of_view_and_up(fov):
    """Without K the frame is orthogonal only at the right focal length; the default 65 deg would tilt up."""
    R = cam_from_world(15, 25, 6)
    seg = room_segments(R, k_of(fov, SIZE), SIZE)
    truth = R @ np.array([0, 0, 1.0])
    res = scene_up_from_segments([seg], SIZE)
    assert res.focal_searched and abs(res.fov_deg - fov) <= 2
    assert angle(res.up, truth) < 0.8
    wrong = scene_up_from_segments([seg], SIZE, k_of(65 if fov != 65 else 55, SIZE))
    if abs(fov - 65) >= 5:
        assert angle(wrong.up, truth) > angle(res.up, truth)  # the search is what makes it right


def test_a_level_camera_facing_a_wall_does_not_claim_a_field_of_view():
    """Level and square to the room, the lines are parallel in the image and every focal length explains them: up is
    still right, but no field of view is reported as found (--fov auto would relift everyone with an arbitrary one)."""
    for yaw, pitch in ((0, 0), (0, 0.5)):
        R = cam_from_world(yaw, pitch, 0)
        res = scene_up_from_segments([room_segments(R, k_of(60, SIZE), SIZE, noise_px=1.0)], SIZE)
        assert res.accepted and angle(res.up, R @ np.array([0, 0, 1.0])) < 0.5
        assert not res.focal_searched and "field of view not found" in res.reason
    pitched = scene_up_from_segments([room_segments(cam_from_world(0, 8, 0), k_of(60, SIZE), SIZE)], SIZE)
    assert pitched.focal_searched and abs(pitched.fov_deg - 60) <= 2


def test_zero_length_segments_change_nothing():
    """A segment whose ends coincide has no line (its normal is NaN) and no weight: it used to crash the fit."""
    R, K = cam_from_world(10, 20, 5), k_of(60, SIZE)
    seg = room_segments(R, K, SIZE)
    dots = np.concatenate([seg, [[100.0, 100.0, 100.0, 100.0], [5.0, 7.0, 5.0, 7.0]]])
    with_dots, plain = scene_up_from_segments([dots], SIZE, K), scene_up_from_segments([seg], SIZE, K)
    assert with_dots.accepted and np.allclose(with_dots.up, plain.up) and with_dots.n_vertical == plain.n_vertical


def test_floor_lines_do_not_pull_a_vertical_only_fit():
    """Floor lines running away from a pitched camera pass near its vertical vanishing point; fitting the three
    directions together assigns them to the horizontal one (a vertical-only fit would be pulled)."""
    R = cam_from_world(0, 35, 0)
    K = k_of(60, SIZE)
    seg = room_segments(R, K, SIZE, outliers=0.0)
    truth = R @ np.array([0, 0, 1.0])
    up, score, vertical = manhattan_frame(segment_normals(seg, K), np.hypot(*(seg[:, 2:] - seg[:, :2]).T),
                                          np.array([0, -1.0, 0]))
    assert angle(up, truth) < 0.3 and score > 0
    n = segment_normals(seg, K)
    on_floor = np.abs(n @ (R @ np.array([0, 1.0, 0]))) < 1e-3  # segments along world Y (floor lines, wall edges)
    assert on_floor.any() and not (vertical & on_floor).any()


def test_rendered_image_through_the_line_detector():
    """The whole path on pixels: lines drawn into an image, LSD, the focal search."""
    cv2 = pytest.importorskip("cv2")
    R = cam_from_world(-20, 22, 5)
    seg = room_segments(R, k_of(58, SIZE), SIZE, outliers=0.1, noise_px=0.0)
    img = np.full((SIZE[1], SIZE[0], 3), 150, np.uint8)
    for x1, y1, x2, y2 in seg:
        cv2.line(img, (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2))), (40, 40, 40), 3,
                 cv2.LINE_AA)
    found = detect_segments(img)
    assert len(found) > 0.5 * len(seg)
    res = scene_up([img])
    assert res.accepted, res.reason
    assert angle(res.up, R @ np.array([0, 0, 1.0])) < 1.0 and abs(res.fov_deg - 58) <= 3


def test_coverage_is_measured_across_the_lines_whatever_the_roll():
    """A camera rolled 90° (a video whose rotation flag was lost) sees its vertical lines as image rows, spread down
    the image: their x alone covered 23% of the width and a good fit (0.02°) was refused."""
    K = k_of(60, SIZE)
    for roll in (0, 90):
        R = cam_from_world(15, 10, roll)
        truth = R @ np.array([0, 0, 1.0])
        res = scene_up_from_segments([room_segments(R, K, SIZE, rng=np.random.default_rng(1))], SIZE, K, truth)
        assert res.accepted and res.coverage > 0.5, (roll, res.reason)
        assert angle(res.up, truth) < 0.3


def test_no_structure_is_refused_with_a_reason():
    rng = np.random.default_rng(3)
    start = rng.uniform([0, 0], SIZE, (300, 2))
    ang = rng.uniform(0, np.pi, 300)
    junk = np.concatenate([start, start + 100 * np.stack([np.cos(ang), np.sin(ang)], 1)], 1)
    res = scene_up_from_segments([junk], SIZE)
    assert not res.accepted and "too few vertical lines" in res.reason
    # one slanted object: many parallel lines, all in a narrow strip of the image
    x = rng.uniform(500, 560, 60)
    strip = np.stack([x, np.full(60, 400.0), x + 300, np.full(60, 1400.0)], 1)
    res = scene_up_from_segments([strip], SIZE)
    assert not res.accepted and "cover" in res.reason
    empty = scene_up_from_segments([np.zeros((0, 4))], SIZE)
    assert not empty.accepted and not empty.focal_searched and np.isnan(empty.fov_deg)  # no field of view was found
    d = SceneUp(np.full(3, np.nan), False, "x", 60.0, True, 0, 0, 1, 0.0, float("nan"), float("nan")).to_dict()
    json.dumps(d)  # NaN-free JSON
    assert d["up"] == [None, None, None] and d["spread_deg"] is None


def test_a_person_hides_only_the_lines_along_its_limbs():
    """A person standing at x = 500 px with an arm held out to x = 700: the outline along the leg and the arm is
    dropped; a door frame at x = 640 under the arm, inside the person's box but 140 px from every bone (the
    capsules are 40 px wide each side), is kept, where a box around the person would drop it."""
    leg = [500, 600, 500, 900.0]  # outline segment along the leg (a few px off the bone)
    arm_edge = [520, 385, 690, 385.0]  # along the outstretched arm
    door = [640, 500, 640, 900.0]  # scene line under the arm
    seg = np.array([leg, arm_edge, door])
    start = np.array([[500, 400], [500, 600], [500, 400.0]])  # shoulder, hip, shoulder
    end = np.array([[500, 600], [505, 900], [700, 380.0]])  # hip, ankle, hand
    kept = drop_near_limbs(seg, [(start, end, 40.0)])
    assert kept.tolist() == [door]
    assert len(drop_near_limbs(seg, None)) == 3 and len(drop_near_limbs(seg, [])) == 3


@pytest.mark.slow
@pytest.mark.parametrize("cam", ["cam01", "cam02", "cam03", "cam04"])
def test_pose2sim_views_against_the_calibration(cam):
    """Real footage, no intrinsics given (the field of view is searched): every view within 1.5 deg of the
    calibration's up (level camera: 18-33 deg off). Frames 50-99 (the report half)."""
    cv2 = pytest.importorskip("cv2")
    from pose3d_cli.infer.calibration import load_calibration

    folder = need(DATA / "video" / "pose2sim_single_person")
    truth = {c.name: c.R @ np.array([0, 0, 1.0]) for c in load_calibration(folder / "Calib.qca.txt")}[cam]
    cap = cv2.VideoCapture(str(folder / f"{cam}.mp4"))
    images = []
    for i in np.linspace(50, 99, 8).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
        ok, img = cap.read()
        assert ok
        images.append(img)
    cap.release()
    segments = [detect_segments(img) for img in images]
    for seed in (0, 1, 2):  # the sampling must not decide the answer
        res = scene_up_from_segments(segments, images[0].shape[1::-1], seed=seed)
        assert res.accepted, res.reason
        assert angle(res.up, truth) < 1.5, (seed, res, angle(res.up, truth))
        assert 55 <= res.fov_deg <= 65  # calibrated: 59.4-59.7 deg across the long side
    assert angle(np.array([0, -1.0, 0]), truth) > 15  # the level camera would be far off


def test_far_from_an_independent_estimate_is_refused():
    """Given the body poses' estimate as prior, lines further than max_from_prior_deg from it are refused (one of
    the two is wrong); without the check the same lines are used."""
    R = cam_from_world(10, 20, 4)
    K = k_of(60, SIZE)
    seg = room_segments(R, K, SIZE)
    truth = R @ np.array([0, 0, 1.0])
    side = np.cross(truth, [1.0, 0, 0])
    side /= np.linalg.norm(side)
    prior = np.cos(np.radians(30)) * truth + np.sin(np.radians(30)) * side
    free = scene_up_from_segments([seg], SIZE, K, prior)
    assert free.accepted and angle(free.up, truth) < 0.3 and abs(free.prior_angle_deg - 30) < 1
    checked = scene_up_from_segments([seg], SIZE, K, prior, max_from_prior_deg=25)
    assert not checked.accepted and "independent estimate" in checked.reason
    near = np.cos(np.radians(10)) * truth + np.sin(np.radians(10)) * side
    assert scene_up_from_segments([seg], SIZE, K, near, max_from_prior_deg=25).accepted


def test_a_moving_camera_is_followed_frame_by_frame():
    """A hand-held phone: each frame its own rotation (yaw, pitch and roll wandering by several degrees). The joint
    fit has no single answer; each frame's own vertical is found, with the one focal length that explains them."""
    K = k_of(62, SIZE)
    rng = np.random.default_rng(5)
    rots = [cam_from_world(10 + 6 * np.sin(k), 22 + 5 * np.cos(1.3 * k), 4 + 7 * np.sin(0.7 * k + 1)) for k in range(8)]
    segs = [room_segments(R, K, SIZE, rng=rng) for R in rots]
    res = scene_up_from_segments(segs, SIZE)
    assert res.accepted and res.moving and "the camera moves" in res.reason, res.reason
    assert abs(res.fov_deg - 62) <= 2
    errs = [angle(u, R @ np.array([0, 0, 1.0])) for u, R in zip(res.frame_up, rots)]
    assert max(errs) < 0.6, errs
    still = scene_up_from_segments([room_segments(rots[0], K, SIZE, rng=rng) for _ in range(4)], SIZE)
    assert still.accepted and not still.moving and still.frame_up is None and still.spread_deg < 0.5


def test_median3_drops_one_bad_frame():
    from pose3d_cli.body.scene_lines import median3

    t = np.radians(np.arange(7) * 2.0)  # a smooth 2 deg/frame roll
    ups = np.stack([np.sin(t), -np.cos(t), np.zeros(7)], 1)
    bad = ups.copy()
    bad[3] = [np.sin(0.5), -np.cos(0.5), 0.0]  # one frame fitted 23 deg off
    bad[5] = np.nan
    out = median3(bad)
    assert angle(out[3], ups[3]) < 2.5 and np.isnan(out[5]).all()
    assert np.allclose(median3(ups)[1:-1], ups[1:-1], atol=1e-9)  # a smooth motion survives
    # a hand-held sway's turning point (±7 deg at 1.2 s, sampled 4 times a second) is kept as fitted: it is further
    # from both neighbours than they are from each other, as an outlier is, but by ~5 deg only
    r = np.radians(7 * np.sin(2 * np.pi * np.arange(9) * 0.25 / 1.2))
    sway = np.stack([np.sin(r), -np.cos(r), np.zeros(9)], 1)
    assert np.allclose(median3(sway), sway, atol=1e-12)
    # a sample next to a frame that could not be fitted has no neighbour there: kept, not medianed across the gap
    gap = bad.copy()
    gap[2] = np.nan
    assert np.allclose(median3(gap)[3], gap[3])


@pytest.mark.slow
def test_pose2sim_view_as_a_hand_held_phone(tmp_path):
    """pose2sim cam01 re-filmed as a hand-held phone: every frame warped by K' R(t) K^-1 (the camera turning about
    its centre: roll ±7 deg, pitch ±5 deg, zoomed 1.2x), true up R(t) @ the calibration's. ergo's vertical follows it
    frame by frame (interpolated between 4 samples a second), well within the body estimate's 11 deg."""
    cv2 = pytest.importorskip("cv2")
    from pose3d_cli.ergo.assess import resolve_vertical
    from pose3d_cli.ergo.from_video import people_from_input
    from pose3d_cli.infer.scene import scene_vertical
    from pose3d_cli.infer.calibration import load_calibration
    from pose3d_cli.infer.pipeline import InferOptions

    folder = need(DATA / "video" / "pose2sim_single_person")
    cam = {c.name: c for c in load_calibration(folder / "Calib.qca.txt")}["cam01"]
    cap = cv2.VideoCapture(str(folder / "cam01.mp4"))
    fps, w, h = cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    K = cam.K.copy()
    K[0] *= w / cam.size[0]
    K[1] *= h / cam.size[1]
    K_out = K.copy()
    K_out[:2, :2] *= 1.2
    video = tmp_path / "handheld.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    truth, i = [], 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        t = i / fps
        roll, pitch = np.radians(7 * np.sin(2 * np.pi * t / 1.2)), np.radians(5 * np.sin(2 * np.pi * t / 1.7 + 1))
        Rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
        Rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
        R = Rz @ Rx
        out.write(cv2.warpPerspective(img, K_out @ R @ np.linalg.inv(K), (w, h)))
        truth.append(R @ cam.R @ np.array([0, 0, 1.0]))
        i += 1
    out.release()
    truth = np.array(truth)
    found, source = people_from_input(str(video), InferOptions(max_people=1, detect_width=480))
    poses, tracks = [p for _, p, _ in found], [pt for _, _, pt in found]
    v = resolve_vertical(poses, scene=scene_vertical(source, tracks), mode="lines")
    assert v.per_frame is not None and v.scene["moving_camera"], v.note
    up = v.up_at(poses[0].frame)
    err = np.degrees(np.arccos(np.clip((up * truth[poses[0].frame]).sum(1), -1, 1)))
    assert np.median(err) < 1.5 and err.max() < 4, (np.median(err), err.max())
    body = resolve_vertical(poses, mode="body").up
    assert np.median(np.degrees(np.arccos(np.clip(truth @ body, -1, 1)))) > 5  # what it replaces


def test_tracked_people_become_limb_capsules():
    """infer/scene.py: each person detected in the frame gives its confident bones, radius 0.1 × its 2D size."""
    from pose3d_cli.infer.scene import LIMB_MASK_FRACTION, _person_limbs
    from pose3d_cli.infer.writers import PoseTrack
    from pose3d_cli.skeleton import H36M17

    J = H36M17.num_joints
    rng = np.random.default_rng(0)
    uv = rng.uniform([400, 300], [600, 900], (2, J, 2))  # frames 0 and 1
    uv[0, 0], uv[0, 1] = [400, 300], [600, 900]  # frame 0's box: 200 x 600 px
    conf = np.full((2, J), 0.9)
    conf[0, H36M17.index("left_wrist")] = 0.1  # not confident: its forearm is no capsule
    track = PoseTrack(np.array([0, 1]), np.array([0, 0.03]), np.array([True, False]), np.zeros((2, J, 3)), uv, conf,
                      H36M17.joints, {"skeleton": "h36m17"})
    (start, end, radius), = _person_limbs([track], 0, 0.3)
    assert radius == pytest.approx(LIMB_MASK_FRACTION * 600)
    assert len(start) == len(end) == len(H36M17.bones) - 1
    assert _person_limbs([track], 1, 0.3) == []  # not detected in frame 1
