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
    # a joint model of another skeleton was scored against the tasks without a word (intransigence -20)
    import torch

    from pose3d_cli.lifting.checkpoint import make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import build_model

    coco = build_model("mlp", 17, 0, np.zeros((17, 3)), np.ones((17, 3)), width=32, blocks=1)
    other = save_checkpoint(make_checkpoint(coco, "mlp", {"width": 32, "blocks": 1, "dropout": 0.0}, "coco17", "nose"),
                            tmp_path / "coco.pt")
    del torch
    r = CliRunner().invoke(app, ["eval-continual", str(a), "--task", str(small_pairs), "--split", "val",
                                 "--joint", str(other)])
    assert r.exit_code == 2 and "skeleton coco17" in r.stderr, r.output


def test_replay_budgets_share_equally_by_hand():
    from pose3d_cli.train import replay_budgets

    assert replay_budgets([4000, 4000], 3000) == [1500, 1500]
    assert replay_budgets([5000, 100], 3000) == [2900, 100]  # the small file whole, the rest to the other
    assert replay_budgets([10, 20, 30], 1000) == [10, 20, 30]  # more asked than there is: everything
    assert sum(replay_budgets([700, 800, 900], 1001)) == 1001


def test_replay_ratio_sizes_the_replay_by_the_new_task_across_every_old_task(small_pairs, tmp_path):
    """R × the new training pairs, about half from each of two earlier files of very different sizes (not all
    from one, not in proportion to each old file's size), whole sequences; --replay-fraction still works."""
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.synth.pairs import SynthConfig, synthesise
    from pose3d_cli.train import TrainConfig, prepare_data

    from conftest import MOCAP, need

    big = tmp_path / "big.h5"
    synthesise(sorted(need(MOCAP / "bvh" / "bandai_namco_1").glob("*.bvh"))[::4][:24], big,
               SynthConfig(views=2, seed=3, val_fraction=0.0, test_fraction=0.0))
    n_new = len(load_pairs(small_pairs).split("train"))
    n_big = len(load_pairs(big).split("train"))
    assert n_big > 2 * n_new
    longest = max(b - a for d in (small_pairs, big) for a, b in load_pairs(d).split("train").sequence_ranges())

    def replayed(**kw):
        _, tr, _, info = prepare_data(TrainConfig(data=str(small_pairs), output=str(tmp_path / "m.pt"),
                                                  replay=[str(big), str(small_pairs)], **kw))
        assert len(tr.xy) == info["new_pairs"] + sum(info["replay_pairs"]) and info["new_pairs"] == n_new
        return info["replay_pairs"]

    for ratio in (0.5, 1.0):
        from_big, from_small = replayed(replay_ratio=ratio)
        for got in (from_big, from_small):
            assert ratio * n_new / 2 <= got < ratio * n_new / 2 + longest
    assert sum(replayed(replay_ratio=20.0)) == n_big + n_new  # more than the history holds: all of it
    from_big, from_small = replayed(replay_fraction=0.5)  # the old option: a share of each file
    assert from_big > 2 * from_small
    with pytest.raises(Exception, match="give one of them"):
        replayed(replay_ratio=1.0, replay_fraction=0.5)


def test_train_cli_replay_ratio(small_pairs, tmp_path):
    from pose3d_cli.lifting.checkpoint import read_checkpoint

    import subprocess
    import sys

    base = ["train", str(small_pairs), "--epochs", "1", "--arg", "width=32", "--arg", "blocks=1", "--batch-size", "512"]
    p = subprocess.run([sys.executable, "-m", "pose3d_cli", "-q", *base, "-o", str(tmp_path / "a.pt"), "--threads", "1"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    rec = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[-1])
    assert rec["wall_s"] > rec["elapsed_s"] + 0.2  # what the user waits for: interpreter start and imports count
    r = CliRunner().invoke(app, base + ["-o", str(tmp_path / "b.pt"), "--init", str(tmp_path / "a.pt"),
                                        "--replay", str(small_pairs), "--replay-ratio", "0.5"])
    assert r.exit_code == 0, r.output
    data = read_checkpoint(tmp_path / "b.pt")["data"]
    assert 0.5 * data["new_pairs"] <= data["replay_pairs"][0] < data["new_pairs"]
    for bad in ("0", "-1", "101"):
        r = CliRunner().invoke(app, base + ["-o", str(tmp_path / "c.pt"), "--replay", str(small_pairs),
                                            "--replay-ratio", bad])
        assert r.exit_code == 2 and "--replay-ratio" in r.output + r.stderr
    r = CliRunner().invoke(app, ["train", "--help"])
    assert "--replay-ratio" in r.stdout


def test_the_summary_table_shows_a_miss_as_a_miss():
    """AF 1.04 mm, intransigence 2.04 mm and an update at 10.49% printed as 1.0, 2.0 and 10%: met, to the eye."""
    from pose3d_cli.training.continual import report_table

    report = {"sequences": {"method": {"average_forgetting": 1.04, "intransigence": 2.04, "final_gap": 3.0,
                                       "matrix": [[50.0, 60.0]], "update_over_full_retrain": [0.1049]}}}
    row = report_table(report)[1]
    assert row[1] == "1.04" and row[2] == "2.04" and row[5] == "10.5%"
