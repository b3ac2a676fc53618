"""Forgetting metrics on a hand-made accuracy matrix (values derived by hand), and `pose3d eval-continual`."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.training.continual import average_forgetting, final_gap, intransigence

# P-MPJPE (mm): row i = after learning task i, column j = task j
M = np.array([[10.0, 30.0, 40.0],
              [12.0, 11.0, 35.0],
              [15.0, 13.0, 9.0]])
JOINT = np.array([9.0, 10.0, 8.0])


def test_average_forgetting_by_hand():
    # final row minus the diagonal on the earlier tasks: (15 - 10) and (13 - 11) → mean 3.5
    assert average_forgetting(M) == pytest.approx(3.5)
    assert average_forgetting(M[:1, :1]) == 0.0
    no_forgetting = np.array([[10.0, 20.0], [9.0, 8.0]])  # got better on task 1: negative forgetting
    assert average_forgetting(no_forgetting) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        average_forgetting(np.zeros((2, 3)))


def test_intransigence_and_final_gap_by_hand():
    # diagonal minus joint: (10 - 9), (11 - 10), (9 - 8) → 1.0
    assert intransigence(M, JOINT) == pytest.approx(1.0)
    # final row minus joint: (15 - 9), (13 - 10), (9 - 8) → 10 / 3
    assert final_gap(M, JOINT) == pytest.approx(10 / 3)


def test_eval_continual_cli(small_pairs, tmp_path):
    from pose3d_cli.train import TrainConfig, train

    fast = dict(model_args={"width": 32, "blocks": 1, "dropout": 0.0}, batch_size=512, threads=1, epochs=1)
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    train(TrainConfig(data=str(small_pairs), output=str(a), **fast))
    train(TrainConfig(data=str(small_pairs), output=str(b), init=str(a), **fast))
    out, png = tmp_path / "c.json", tmp_path / "c.png"
    r = CliRunner().invoke(app, ["eval-continual", str(a), str(b), "--task", str(small_pairs), "--task", str(small_pairs),
                                 "--split", "val", "--joint", str(a), "--baseline", str(a), "--baseline", str(a),
                                 "--json", str(out), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    s = rep["sequences"]["method"]
    Mx = np.array(s["matrix"])
    assert Mx.shape == (2, 2) and np.all(Mx > 0)
    assert s["average_forgetting"] == pytest.approx(Mx[1, 0] - Mx[0, 0], abs=1e-3)
    assert rep["sequences"]["baseline"]["average_forgetting"] == pytest.approx(0.0, abs=1e-3)  # same model twice
    assert rep["sequences"]["baseline"]["intransigence"] == pytest.approx(0.0, abs=1e-3)  # joint = that model
    assert all(t > 0 for t in s["wall_s"]) and len(s["update_over_full_retrain"]) == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "continual learning summary" in r.stdout
    r = CliRunner().invoke(app, ["eval-continual", str(a), str(b), "--task", str(small_pairs)])
    assert r.exit_code == 2 and "2 models for 1 tasks" in r.stderr
    r = CliRunner().invoke(app, ["eval-continual", str(a), "--task", str(small_pairs), "--json", str(small_pairs)])
    assert r.exit_code == 2 and "also an input" in r.stderr
