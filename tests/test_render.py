"""Check-video renderer: input frame + 2D skeleton beside a steady 3D view, streamed into an mp4."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import DATA, need
from pose3d_cli.geometry import axis_angle_to_matrix, project
from pose3d_cli.infer.render import Panel3D, RenderError, render_video, view_rotation
from pose3d_cli.skeleton import H36M17

VIDEO = DATA / "video" / "pose2sim_single_person" / "cam01.mp4"
N = 10


def synthetic_poses(T: int) -> np.ndarray:
    """(T, 17, 3) mm camera-frame poses 3 m in front of a level camera, waving the left arm."""
    stand = {  # camera frame: x right, y down; the subject faces the camera so their left is +x
        "pelvis": (0, 0, 0), "right_hip": (-130, 0, 0), "right_knee": (-130, 420, 0), "right_ankle": (-130, 830, 30),
        "left_hip": (130, 0, 0), "left_knee": (130, 420, 0), "left_ankle": (130, 830, 30),
        "spine": (0, -230, 0), "thorax": (0, -480, 0), "nose": (0, -600, -60), "head": (0, -720, 0),
        "left_shoulder": (160, -480, 0), "left_elbow": (420, -480, 0), "left_wrist": (660, -480, 0),
        "right_shoulder": (-160, -480, 0), "right_elbow": (-170, -210, 0), "right_wrist": (-170, 30, -40),
    }
    base = np.array([stand[n] for n in H36M17.joints], dtype=np.float64)
    out = np.repeat(base[None], T, axis=0)
    sh = H36M17.index("left_shoulder")
    ang = np.linspace(0, 1.2, T)
    R = axis_angle_to_matrix(np.broadcast_to([0, 0, -1.0], (T, 3)), ang)  # raise the left arm
    for j in ("left_elbow", "left_wrist"):
        i = H36M17.index(j)
        out[:, i] = base[sh] + np.einsum("tij,j->ti", R, base[i] - base[sh])
    return out


def read_frames(path, n):
    cap = cv2.VideoCapture(str(path))
    try:
        for _ in range(n):
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def saturated(img: np.ndarray) -> int:
    """Number of vividly coloured pixels (skeleton colours; the grid, background and text are grey)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    return int(np.count_nonzero((hsv[..., 1] > 120) & (hsv[..., 2] > 120)))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    video = need(VIDEO)
    cap = cv2.VideoCapture(str(video))
    W, H = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    joints = synthetic_poses(N)
    K = np.array([[1400.0, 0, W / 2], [0, 1400.0, H / 2], [0, 0, 1]])
    uv = project(joints + np.array([0, 0, 3000.0]), K)
    conf = np.full((N, 17), 0.9)
    conf[:, H36M17.index("right_wrist")] = 0.1  # below min_conf: not drawn
    joints3d = joints - joints[:, :1]
    joints3d[4:6] = np.nan  # nobody detected
    uv[4:6] = np.nan
    conf[4:6] = 0.0
    out = tmp_path_factory.mktemp("render") / "check.mp4"
    n = render_video(read_frames(video, N), uv, conf, joints3d, "h36m17", 60.0, out)  # a generator: streamed
    return dict(out=out, n=n, W=W, H=H, uv=uv, video=video)


def test_video_shape(rendered):
    out, W, H = rendered["out"], rendered["W"], rendered["H"]
    assert rendered["n"] == N
    assert [p.name for p in out.parent.iterdir()] == ["check.mp4"]  # atomic: no temporary left behind
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened()
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == N
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == W + min(W, H)  # default panel: min(width, height)
    assert int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == H
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(60.0, rel=1e-3)
    cap.release()


def test_panels(rendered):
    out, W, H = rendered["out"], rendered["W"], rendered["H"]
    got = list(read_frames(out, N))
    src = list(read_frames(rendered["video"], N))
    assert len(got) == N
    for t in range(N):
        left, right = got[t][:, :W].astype(np.int16), got[t][:, W:]
        # the corner of the input, far from the skeleton, is the input frame (up to mp4 compression)
        corner = np.abs(left[:200, :200] - src[t][:200, :200].astype(np.int16))
        assert corner.mean() < 6, f"frame {t}: left corner differs by {corner.mean():.1f}"
        if t in (4, 5):
            assert saturated(right) < 50, "no-detection frame: empty 3D panel"
            # "no detection" text, centred in the panel
            band = right[H // 2 - 60:H // 2 + 60]
            assert np.count_nonzero(band.max(axis=-1) > 200) > 200
        else:
            assert saturated(right) > 1000, f"frame {t}: no 3D skeleton in the panel"
            # the 2D skeleton is drawn on the input around the projected joints
            uv = rendered["uv"][t]
            x0, y0 = np.nanmin(uv, 0).astype(int)
            x1, y1 = np.nanmax(uv, 0).astype(int)
            drawn = got[t][max(y0 - 10, 0):y1 + 10, max(x0 - 10, 0):min(x1 + 10, W)]
            assert saturated(drawn) > saturated(src[t][max(y0 - 10, 0):y1 + 10, max(x0 - 10, 0):min(x1 + 10, W)]) + 300


def test_low_confidence_joint_is_skipped(rendered):
    # the right wrist (conf 0.1) hangs below the right elbow: no bone is drawn there on frame 0
    out, W = rendered["out"], rendered["W"]
    frame = next(read_frames(out, 1))
    src = next(read_frames(rendered["video"], 1))
    uv = rendered["uv"][0]
    e, w = uv[H36M17.index("right_elbow")], uv[H36M17.index("right_wrist")]
    mid = ((e + 2 * w) / 3).astype(int)  # a point on the would-be forearm, away from the elbow's dot
    box = (slice(mid[1] - 6, mid[1] + 6), slice(mid[0] - 6, mid[0] + 6))
    assert np.abs(frame[:, :W][box].astype(int) - src[box].astype(int)).mean() < 12


def test_steady_view_and_scale():
    poses = synthetic_poses(30)
    poses = poses - poses[:, :1]
    p = Panel3D(poses, H36M17, 600, 800)
    # fixed scale: body height (~1.55 m here) takes ~60% of the panel height
    height_px = p.screen[0, :, 1].max() - p.screen[0, :, 1].min()
    assert 0.5 * 800 < height_px < 0.65 * 800
    # the legs do not move: their screen positions are the same in every frame (steady viewpoint)
    legs = H36M17.indices(["left_knee", "left_ankle", "right_knee", "right_ankle"])
    assert np.ptp(p.screen[:, legs], axis=0).max() <= 1
    # lowest joint on the floor line through the panel's floor origin
    assert abs(p.screen[:, :, 1].max(axis=1) - p.origin[1]).max() < 0.25 * 800  # feet near the floor row
    # the view looks from 30° to the side and 15° above
    V = view_rotation(30, 15)
    assert np.degrees(np.arcsin(-V[2, 1])) == pytest.approx(15)
    assert np.degrees(np.arctan2(-V[2, 0], -V[2, 2])) == pytest.approx(30)


def test_no_video_without_frames(tmp_path):
    out = tmp_path / "empty.mp4"
    with pytest.raises(RenderError, match="no frames"):
        render_video(iter([]), np.zeros((0, 17, 2)), None, np.zeros((0, 17, 3)), "h36m17", 30, out)
    assert not list(tmp_path.iterdir())
    with pytest.raises(RenderError, match="joints3d"):
        render_video(iter([]), np.zeros((3, 17, 2)), None, np.zeros((3, 16, 3)), "h36m17", 30, out)


def test_panel_stands_on_a_known_vertical():
    """A worker bent 45° forward all clip: on the world's vertical the 3D panel draws the trunk leaning (its
    screen direction ~45° from the panel's up, seen side-on); on the clip's mean trunk axis it stands upright."""
    from ergo_fk import camera, posture, to_camera

    cam, up = to_camera(np.stack([posture(trunk_flex=45.0)] * 6), camera(0, 20))
    leans = {}
    for name, given in (("vertical", up), ("mean trunk", None)):
        panel = Panel3D(cam, H36M17, 400, 400, azimuth=90.0, elevation=0.0, up=given)  # seen from the side
        d = (panel.screen[:, H36M17.index("thorax")] - panel.screen[:, H36M17.index("pelvis")]).astype(float)
        leans[name] = np.degrees(np.arctan2(np.abs(d[:, 0]), -d[:, 1]))  # screen y grows downwards
    assert np.allclose(leans["vertical"], 45.0, atol=3.0), leans
    assert np.allclose(leans["mean trunk"], 0.0, atol=3.0), leans


def test_photos_of_other_sizes_are_letterboxed_with_their_keypoints(tmp_path):
    """A photo set's frames differ in size: each is fitted into the first's (aspect kept) and its keypoints moved
    with it. (They were stretched to the first frame's size and the keypoints drawn unscaled: a joint at the centre
    of a 320 × 480 photo landed at x = 160 of 640.) An odd side gets one black row (the encoder drops it)."""
    frames = [np.full((481, 640, 3), 50, np.uint8), np.full((240, 160, 3), 50, np.uint8)]
    uv, conf = np.full((2, 17, 2), np.nan), np.zeros((2, 17))
    uv[:, 0], conf[:, 0] = [[320, 240], [80, 120]], 1.0  # each photo's centre (the second: scale 2, 160 px margins)
    out = tmp_path / "photos.mp4"
    render_video(iter(frames), uv, conf, synthetic_poses(2), "h36m17", 1.0, out)
    cap = cv2.VideoCapture(str(out))
    for t in range(2):
        ok, img = cap.read()
        assert ok and img.shape[0] == 482  # 481 rows kept, padded to even
        left = img[:481, :640].astype(int)
        ys, xs = np.nonzero(np.abs(left - 50).max(-1) > 60)
        assert abs(xs.mean() - 320) < 3 and abs(ys.mean() - 240) < 3, (t, xs.mean(), ys.mean())
        if t == 1:
            assert np.abs(left[:, :150]).max() < 20  # the margins are black, the photo not stretched


def test_rescaling_a_panel_redraws_its_floor_grid():
    """Several people share one panel at a smaller scale: the 50 cm grid must shrink with them."""
    p = Panel3D(synthetic_poses(3), H36M17, 400, 400)
    def grid_width(img):
        xs = np.nonzero((np.abs(img.astype(int) - img[0, 0].astype(int)).max(-1) > 10).any(0))[0]
        return xs.max() - xs.min()
    before = grid_width(p.background)
    p.rescale(p.scale / 4)  # the 4 m grid then fits the panel (before it filled it)
    assert grid_width(p.background) / before < 0.6


def test_several_people_each_stay_inside_their_slot_of_the_panel():
    """Two people side by side, one of them in a wide lunge (legs 1.6 m apart across the view): at the shared
    scale every joint of each stays inside its half of the panel (a lunge's leg ran off the panel's edge when the
    scale only shrank by 1.2 for two people)."""
    from pose3d_cli.infer.render_people import slot_scale

    stand = synthetic_poses(10)
    stand = stand - stand[:, :1]
    lunge = stand.copy()
    for j, dx in (("left_ankle", 800.0), ("left_knee", 400.0), ("right_ankle", -800.0), ("right_knee", -400.0)):
        lunge[:, H36M17.index(j), 0] += dx  # camera x: across the view
    P = 600
    panels = [Panel3D(x, H36M17, P, 800, azimuth=0.0, elevation=0.0) for x in (stand, lunge)]
    scale = min(min(p.scale for p in panels), slot_scale(panels, P / 2))
    for k, p in enumerate(panels):
        p.rescale(scale, int(round((k - 0.5) * P / 2)))
        lo, hi = k * P / 2, (k + 1) * P / 2
        assert p.screen[..., 0].min() >= lo and p.screen[..., 0].max() <= hi, k


def test_the_frame_label_gives_each_frame_its_own_time():
    """A variable-frame-rate phone clip: frame 19 is at 0.63 s (its timestamps, as infer's CSV and ergo's report
    say), not 19 / fps."""
    from pose3d_cli.infer.render import frame_label

    t = np.concatenate([np.arange(20) / 30.0, 19 / 30.0 + np.arange(1, 21) / 10.0])
    assert frame_label(19, 16.2, t) == "frame 19  0.63 s"
    assert frame_label(39, 16.2, t) == "frame 39  2.63 s"
    assert frame_label(5, 10.0) == "frame 5  0.50 s"


def test_a_variable_frame_rate_clip_plays_in_real_time():
    """20 frames at 30 fps then 20 at 10 fps, written at 30 fps: the slow frames are written 3 times each, so the
    check video's 2.6 s play as 2.6 s (each frame once played the 10 fps stretch 3x too fast)."""
    from pose3d_cli.infer.render import playback_copies

    t = np.concatenate([np.arange(20) / 30.0, 19 / 30.0 + np.arange(1, 21) / 10.0])
    c = playback_copies(t, 30.0)
    assert (c[:19] == 1).all() and (c[19:39] == 3).all() and c[39] == 1
    assert np.array_equal(playback_copies(np.arange(50) / 25.0, 25.0), np.ones(50))  # a steady clip: once each
    fast = playback_copies(np.arange(60) / 60.0, 30.0)  # a 60 fps burst in a 30 fps video: every other frame
    assert fast.sum() in (30, 31) and set(fast[:-1].tolist()) <= {0, 1}  # 1 s at 30 fps, the last frame once
    assert np.array_equal(playback_copies(np.full(3, np.nan), 30.0), np.ones(3))  # photos: no times


def test_a_frame_whose_time_goes_back_is_the_one_left_out():
    from pose3d_cli.infer.render import playback_copies

    assert playback_copies(np.array([0, 1, 2, 1, 4, 5]) / 30.0, 30.0).tolist() == [1, 1, 2, 0, 1, 1]
