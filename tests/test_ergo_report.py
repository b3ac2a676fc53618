"""The ergonomics report's plots (ergo/report.py): the action-level strip and the angle bands' shading."""

import numpy as np
import pytest


def test_the_level_strip_shows_every_frame_for_its_time():
    """A one-frame action-level peak had no width (each run was drawn from its first frame to its last), and a change
    of level left a gap that the plot's legend reads as 'not scored'."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pose3d_cli.ergo.report import RULA_COLOURS, _strip

    t = np.arange(10) / 10.0
    level = np.array([1, 1, 1, 4, 1, 1, 3, 3, 3, 1], float)
    fig, ax = plt.subplots()
    _strip(ax, t, level, RULA_COLOURS)
    widths = {}
    for coll in ax.collections:  # one BrokenBarHCollection per level
        for path in coll.get_paths():
            xs = path.vertices[:, 0]
            widths.setdefault(tuple(coll.get_facecolor()[0]), []).append((round(xs.min(), 6), round(xs.max() - xs.min(), 6)))
    covered = sorted(x for v in widths.values() for x in v)
    assert covered[0][0] == 0.0 and abs(sum(w for _, w in covered) - 1.0) < 1e-9  # 10 frames x 0.1 s, no gap
    assert (0.3, 0.1) in covered  # the one-frame peak
    plt.close(fig)


@pytest.mark.parametrize("panel", range(6))
def test_each_angle_band_is_shaded_by_the_risk_the_methods_give_it(panel):
    """The neutral (white) band was guessed as the band nearest 0: the elbow's 60-100 deg (its best band) was shaded
    and its < 60 deg left white, the neck's extension left white."""
    from pose3d_cli.ergo.report import ANGLE_PANELS

    _, _, edges, levels = ANGLE_PANELS[panel]
    assert len(levels) == len(edges) + 1 and min(levels) == 0
    neutral = {0: 0.0, 1: 0.0, 2: 5.0, 3: 0.0, 4: 80.0, 5: 10.0}[panel]  # inside each part's lowest-scoring range
    bounds = [-1e9, *edges, 1e9]
    band = next(i for i in range(len(levels)) if bounds[i] <= neutral < bounds[i + 1])
    assert levels[band] == 0


def test_the_risk_strip_leaves_a_hole_in_the_video_empty():
    """Frames at 0-2 s and 7-9 s: two bars, not one from 0 to 9 s (the caption says gaps are frames not scored)."""
    from pose3d_cli.ergo.report import _strip

    class Ax:
        def __init__(self):
            self.spans = []

        def broken_barh(self, spans, y, **kw):
            self.spans += spans

        def set_yticks(self, *a):
            pass

        def set_ylim(self, *a):
            pass

    t = np.concatenate([np.arange(0, 2, 0.1), np.arange(7, 9, 0.1)])
    ax = Ax()
    _strip(ax, t, np.full(len(t), 2), {2: "red"})
    assert [(round(a, 3), round(w, 3)) for a, w in ax.spans] == [(0.0, 2.0), (7.0, 2.0)]


def _captured_plots(monkeypatch):
    """Every Axes.plot call of a report figure: (axes, x, y, kwargs)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes

    calls = []
    real = Axes.plot

    def plot(self, *args, **kw):
        calls.append((self, np.asarray(args[0], float), np.asarray(args[1], float), kw))
        return real(self, *args, **kw)

    monkeypatch.setattr(Axes, "plot", plot)
    return calls


def test_the_front_view_shows_the_person_s_left_on_the_viewer_s_right(monkeypatch):
    """Seen from the front, a worker's raised left arm is on the viewer's right, as in the photo beside it; the
    figure drew it on the left (a view from behind) under the title "front"."""
    from types import SimpleNamespace

    from ergo_fk import posture
    from pose3d_cli.ergo.report import pose_views

    calls = _captured_plots(monkeypatch)
    w = posture(arm_abd=(90.0, 0.0))  # world X anterior, Y the subject's left, Z up
    A = SimpleNamespace(poses=SimpleNamespace(skeleton="h36m17", joints=w[None], frame=np.array([0])),
                        vertical=SimpleNamespace(up_at=lambda f: np.array([[0.0, 0.0, 1.0]])))
    pose_views(A, 0)
    front = calls[0][0]
    bone = [c for c in calls if c[0] is front and c[3].get("color") == "#ff8c00"]
    xs = [c[1] for c in bone]
    assert bone and max(float(x.max()) for x in xs) > 400  # the raised left hand, ~700 mm to the viewer's right
    assert "front (left →)" == front.get_title()


def test_the_angle_lines_wear_the_report_s_side_colours(monkeypatch):
    """Left orange, right blue, as the legend and the skeletons say (the lines took matplotlib's default blue for
    the left and orange for the right)."""
    from types import SimpleNamespace

    from pose3d_cli.ergo.report import ANGLE_PANELS, angle_plot

    calls = _captured_plots(monkeypatch)
    t = np.arange(20) / 10.0
    keys = {k.replace("upper_arm", "upper_arm_elevation") if k.startswith("upper_arm") else k
            for _, series, _, _ in ANGLE_PANELS for k, _ in series}
    A = SimpleNamespace(poses=SimpleNamespace(time_s=t), conventions=SimpleNamespace(upper_arm_key="upper_arm_elevation"),
                        angles={k: np.linspace(0, 30, len(t)) for k in keys})
    angle_plot(A)
    colour = {kw.get("label"): kw.get("color") for _, _, _, kw in calls if kw.get("label") in ("left", "right")}
    assert colour == {"left": "#ff8c00", "right": "#1e78ff"}
