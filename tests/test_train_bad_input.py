"""`pose3d train`, `adapt` and `eval-continual`: every bad input is refused in one line (exit 2), naming the file or
option, before any long work, and nothing is written. Bad inputs are made here from small real data."""

from __future__ import annotations

import shutil
import warnings

import h5py
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.lifting.checkpoint import read_checkpoint, save_checkpoint
from pose3d_cli.skeleton import get_skeleton
from pose3d_cli.train import TrainConfig, train

runner = CliRunner()
TINY = dict(model_args={"width": 32, "blocks": 1, "dropout": 0.0}, batch_size=256, threads=1, max_val_samples=300)


@pytest.fixture(scope="module")
def tiny(small_pairs, tmp_path_factory):
    """A tiny MLP trained one epoch on the small real pairs."""
    out = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    train(TrainConfig(data=str(small_pairs), output=str(out), epochs=1, subsample=4, **TINY))
    return out


def _no_training(*a, **k):
    """adapt must refuse before it trains (a run that got that far fails fast instead of training)."""
    raise AssertionError("adapt trained before the bad input was refused")


def _refused(r, *words):
    """Exit 2, one line on stderr with ``words``, no traceback."""
    assert r.exit_code == 2, r.output
    err = r.stderr
    assert "Traceback" not in r.output and "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _nothing_written(folder, *names):
    for name in names:
        assert not (folder / name).exists(), name


def _train(tmp_path, data, *extra):
    return runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "o.pt"), "--epochs", "1", "--batch-size", "256",
                               "--threads", "1", *map(str, extra)])


def _site_csv(path, frames=8):
    J = get_skeleton("blazepose33").num_joints
    rng = np.random.default_rng(0)
    write_keypoints_csv(KeypointSequence(rng.uniform(200, 400, (frames, J, 2)), np.ones((frames, J)), "blazepose33",
                                         np.arange(frames), image_size=(640, 480)), path)
    return path


def _adapt(tmp_path, inputs, init, replay, *extra, trains=_no_training):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pose3d_cli.train.train", trains)
        return runner.invoke(app, ["adapt", *map(str, inputs), "-o", str(tmp_path / "ad.pt"), "--init", str(init),
                                   "--replay", str(replay), "--epochs", "1", *map(str, extra)])


def _edited_pairs(small_pairs, path, edit):
    shutil.copy(small_pairs, path)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _edited_checkpoint(tiny, path, edit):
    ck = read_checkpoint(tiny)
    edit(ck)
    torch.save(ck, path)
    return path


@pytest.fixture(scope="module")
def bad(small_pairs, tiny, tmp_path_factory):
    """The bad inputs, made once from the small real pairs and the tiny checkpoint."""
    d = tmp_path_factory.mktemp("bad")

    def newer(f):
        f.attrs["schema_version"] = 999

    def no_2d(f):
        del f["keypoints_2d"]

    def nan_3d(f):
        f["joints_3d"][...] = np.nan

    def wrong_shape(ck):
        ck["state_dict"]["stem.0.weight"] = torch.zeros(3)

    def no_state(ck):
        del ck["state_dict"]

    def nan_weights(ck):
        ck["state_dict"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                            for k, v in ck["state_dict"].items()}

    return {
        "newer": _edited_pairs(small_pairs, d / "newer.h5", newer),
        "no2d": _edited_pairs(small_pairs, d / "no2d.h5", no_2d),
        "nan3d": _edited_pairs(small_pairs, d / "nan3d.h5", nan_3d),
        "badstate": _edited_checkpoint(tiny, d / "badstate.pt", wrong_shape),
        "nostate": _edited_checkpoint(tiny, d / "nostate.pt", no_state),
        "nanw": _edited_checkpoint(tiny, d / "nanw.pt", nan_weights),
    }


# ------------------------------------------------------------------------------------- 1. a newer schema


def test_pairs_of_a_newer_schema_are_one_line_everywhere(tmp_path, bad, tiny):
    _refused(_train(tmp_path, bad["newer"]), "newer.h5", "schema version 999", "upgrade")
    _refused(runner.invoke(app, ["eval-continual", str(tiny), "--task", str(bad["newer"])]), "newer.h5", "999", "upgrade")
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, bad["newer"], "--fov", "65")
    _refused(r, "newer.h5", "999", "upgrade")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


# ------------------------------------------------------------------------------------- 2. damaged checkpoints


@pytest.mark.parametrize("kind, words", [("badstate", ("do not fit its model", "stem.0.weight")),
                                         ("nostate", ("no weights",))])
def test_damaged_checkpoint_is_one_line_for_every_command(tmp_path, bad, small_pairs, kind, words):
    ck = bad[kind]
    name = ck.name
    _refused(_train(tmp_path, small_pairs, "--init", ck), name, "damaged checkpoint", *words)
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], ck, small_pairs, "--fov", "65")
    _refused(r, name, "damaged checkpoint", *words)
    _refused(runner.invoke(app, ["eval-continual", str(ck), "--task", str(small_pairs), "--split", "val"]), name, *words)
    csv = _site_csv(tmp_path / "cam02.csv")
    r = runner.invoke(app, ["infer", str(csv), "-o", str(tmp_path / "p.csv"), "--model", str(ck)])
    _refused(r, name, *words)
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d", "p.csv")


# ------------------------------------------------------------------------------------- 3. non-finite numbers


def test_non_finite_rates_are_refused_before_training(tmp_path, small_pairs, tiny):
    _refused(_train(tmp_path, small_pairs, "--lr", "inf"), "--lr", "10")  # at most 10 (1e30 diverged, an internal error)
    _refused(_train(tmp_path, small_pairs, "--bone-weight", "inf"), "--bone-weight", "finite")
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, small_pairs, "--fov", "65", "--lr", "inf")
    _refused(r, "--lr", "10")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


def test_pairs_with_non_finite_3d_are_refused_at_load(tmp_path, bad, tiny, small_pairs):
    line = _refused(_train(tmp_path, bad["nan3d"]), "nan3d.h5", "non-finite joints_3d", "'train' split")
    assert any(ch.isdigit() for ch in line)  # how many rows
    _refused(runner.invoke(app, ["eval-continual", str(tiny), "--task", str(bad["nan3d"]), "--split", "val"]),
             "nan3d.h5", "non-finite joints_3d")
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, bad["nan3d"], "--fov", "65")
    _refused(r, "nan3d.h5", "non-finite joints_3d")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


def test_checkpoint_with_non_finite_weights_is_refused_at_read(tmp_path, bad, small_pairs):
    _refused(_train(tmp_path, small_pairs, "--init", bad["nanw"]), "nanw.pt", "non-finite weights")
    _refused(runner.invoke(app, ["eval-continual", str(bad["nanw"]), "--task", str(small_pairs), "--split", "val"]),
             "nanw.pt", "non-finite weights")
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], bad["nanw"], small_pairs, "--fov", "65")
    _refused(r, "nanw.pt", "non-finite weights")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


# ------------------------------------------------------------------------------------- 4. --model/--arg with --init


def test_model_or_arg_that_contradict_init_are_refused(tmp_path, small_pairs, tiny):
    _refused(_train(tmp_path, small_pairs, "--init", tiny, "--model", "temporal"), "tiny.pt", "--init keeps",
             "temporal")
    _refused(_train(tmp_path, small_pairs, "--init", tiny, "--arg", "width=64"), "tiny.pt", "--init keeps", "width")
    _refused(_train(tmp_path, small_pairs, "--init", tiny, "--receptive-field", "27"), "tiny.pt", "--init keeps")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl")


def test_model_and_arg_that_repeat_init_are_accepted(tmp_path, small_pairs, tiny):
    r = _train(tmp_path, small_pairs, "--init", tiny, "--model", "mlp", "--arg", "width=32", "--subsample", "8")
    assert r.exit_code == 0, r.output
    assert read_checkpoint(tmp_path / "o.pt")["model"]["args"]["width"] == 32


# ------------------------------------------------------------------------------------- 5. an epoch of nothing


def test_subsample_beyond_the_data_is_refused(tmp_path, small_pairs, tiny):
    _refused(_train(tmp_path, small_pairs, "--subsample", "100000"), "--subsample 100000", "training pairs")
    _refused(_train(tmp_path, small_pairs, "--model", "temporal", "--receptive-field", "9", "--subsample", "100000"),
             "--subsample 100000", "training windows")  # a temporal model subsamples its windows too
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, small_pairs, "--fov", "65",
               "--subsample", "100000")
    _refused(r, "--subsample 100000", small_pairs.name)
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


# ------------------------------------------------------------------------------------- 6. source weights


def test_sources_that_all_weigh_zero_are_refused(tmp_path, small_pairs):
    yaml = tmp_path / "s.yaml"
    yaml.write_text(f"sources:\n  - {{path: {small_pairs}, kind: pairs, weight: 0}}\n")
    _refused(_train(tmp_path, yaml), "s.yaml", "weight 0", "> 0")
    yaml.write_text(f"sources:\n  - {{path: {small_pairs}, kind: pairs, weight: -1}}\n")
    _refused(_train(tmp_path, yaml), "s.yaml", "weight")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl")


# ------------------------------------------------------------------------------------- 7. too short site footage


def test_adapt_refuses_a_one_frame_input(tmp_path, small_pairs, tiny):
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv", frames=1)], tiny, small_pairs, "--fov", "65")
    _refused(r, "cam01.csv", "1 frame", "at least 2")
    import cv2

    video = tmp_path / "one_cam02.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    _refused(_adapt(tmp_path, [video], tiny, small_pairs, "--fov", "65"), "one_cam02.mp4", "1 frame")
    _nothing_written(tmp_path, "ad.pt", "ad_2d")


# ------------------------------------------------------------------------------------- 8. options that mean nothing


def test_options_that_would_be_ignored_are_refused(tmp_path, small_pairs, tiny):
    _refused(_train(tmp_path, small_pairs, "--replay-ratio", "1"), "--replay-ratio", "--replay")
    _refused(_train(tmp_path, small_pairs, "--model", "mlp", "--receptive-field", "81"), "--receptive-field",
             "temporal")
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, small_pairs, "--fov", "60", "--focal", "1000")
    _refused(r, "--focal", "--fov", "give one source")
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl", "ad.pt", "ad_2d")


# ------------------------------------------------------------------------------------- 9. a plot that is no PNG


def test_eval_continual_plot_must_be_a_png(tmp_path, small_pairs, tiny):
    r = runner.invoke(app, ["eval-continual", str(tiny), "--task", str(small_pairs), "--split", "val",
                            "--plot", str(tmp_path / "e.txt")])
    _refused(r, "e.txt", ".png")
    _nothing_written(tmp_path, "e.txt")


# ------------------------------------------------------------------------------------- 10. a pairs file missing a dataset


def test_pairs_file_without_keypoints_says_so_plainly(tmp_path, bad):
    line = _refused(_train(tmp_path, bad["no2d"]), "no2d.h5", "not a pose3d pairs file", "'keypoints_2d'",
                    "pose3d synth")
    assert "Unable to" not in line
    _nothing_written(tmp_path, "o.pt", "o.last.pt", "o.jsonl")


# ------------------------------------------------------------------------------------- 11. adapt's work folder


def test_adapt_never_overwrites_a_users_file_in_the_work_folder(tmp_path, small_pairs, tiny):
    csv = _site_csv(tmp_path / "cam01.csv")
    wd = tmp_path / "ad_2d"
    wd.mkdir()
    (wd / "cam01.csv").write_text("keep\n")
    r = _adapt(tmp_path, [csv], tiny, small_pairs, "--fov", "65")
    _refused(r, "cam01.csv", "--work-dir")
    assert (wd / "cam01.csv").read_text() == "keep\n"
    (wd / "cam01.csv").unlink()
    for _ in range(2):  # the 2D adapt wrote for this same input is its own: a rerun replaces it
        r = _adapt(tmp_path, [csv], tiny, small_pairs, "--fov", "65", trains=lambda cfg, *a, **k: {"epochs_done": 1, "best_epoch": 1, "stopped": "done"})
        assert r.exit_code == 0, r.output
    assert "# source:" in (wd / "cam01.csv").read_text()


# ------------------------------------------------------------------------------------- 12. a skipped step is quiet


def test_a_skipped_step_leaks_no_scheduler_warning(tmp_path, small_pairs, monkeypatch):
    monkeypatch.setattr("pose3d_cli.train.gradients_finite", lambda model: False)  # every step skipped
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        s = train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "o.pt"), epochs=1, subsample=8, **TINY))
    assert s["history"][0]["skipped_steps"] > 0
    assert not [w for w in seen if "lr_scheduler.step()" in str(w.message)], [str(w.message) for w in seen]


def test_adapt_refuses_a_detector_model_for_keypoint_inputs(tmp_path, small_pairs, tiny):
    r = _adapt(tmp_path, [_site_csv(tmp_path / "cam01.csv")], tiny, small_pairs, "--fov", "65",
               "--detector-model", str(small_pairs))
    _refused(r, "--detector-model", "keypoint files")


def test_a_run_that_diverges_is_refused_not_kept_as_best(tmp_path, small_pairs, monkeypatch):
    """--lr 1e6 wrote o.pt with 'best val MPJPE 109848608768.0 mm', exit 0; 1e30 was an internal error (SVD)."""
    import numpy as np

    def diverged(*a, **k):
        raise np.linalg.LinAlgError("SVD did not converge")

    def said(r, *words):  # found after training: the epoch's bar is above the one error line
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert all(w in r.stderr.strip().splitlines()[-1] for w in words), r.stderr

    monkeypatch.setattr("pose3d_cli.train._validate", diverged)
    said(_train(tmp_path, small_pairs), "o.pt", "training diverged at epoch 1", "lower --lr")
    assert not (tmp_path / "o.pt").exists()
    monkeypatch.setattr("pose3d_cli.train._validate", lambda *a, **k: {"val_mpjpe": 1.1e11})
    said(_train(tmp_path, small_pairs), "training diverged")
    assert not (tmp_path / "o.pt").exists()


def test_a_folder_given_for_pairs_says_it_is_a_folder(tmp_path, small_pairs):
    # it said "no such file" about a folder that exists; now it names what to give, and what the folder holds
    shutil.copy(small_pairs, tmp_path / "pairs.h5")
    line = _refused(_train(tmp_path, tmp_path), "a folder, not a pairs file", "pairs.h5")
    assert "no such file" not in line
    _nothing_written(tmp_path, "o.pt")
