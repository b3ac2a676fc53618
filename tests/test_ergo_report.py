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
