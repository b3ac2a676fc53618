"""Issue 11 cases: refused before work, one line, exit 2; truthful interruptions; no temp names; round trips."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app

KP = Path(__file__).resolve().parents[1] / "pose3d_cli" / "assets" / "demo_cam01_blazepose.csv"
run = CliRunner().invoke


@pytest.mark.parametrize("argv,needle", [
    (["synth", "a.bvh", "o.h5", "--noise", "-1"], "--noise"), (["synth", "a.bvh", "o.h5", "--dropout", "2"], "--dropout"),
    (["synth", "a.bvh", "o.h5", "--swap-rate", "-3"], "--swap-rate"),
    (["synth", "a.bvh", "o.h5", "--handheld", "7"], "--handheld"), (["synth", "a.bvh", "o.h5", "--val", "1.5"], "--val"),
    (["synth", "a.bvh", "o.h5", "--fps", "-5"], "--fps"), (["train", "a.h5", "-o", "m.pt", "--lr", "-1"], "--lr"),
    (["train", "a.h5", "-o", "m.pt", "--lr", "0"], "--lr"), (["train", "a.h5", "-o", "m.pt", "--flip", "3"], "--flip"),
    (["train", "a.h5", "-o", "m.pt", "--max-minutes", "0"], "--max-minutes"),
    (["infer", "a.csv", "-o", "o.csv", "--fps", "-3"], "--fps"),
    (["infer", "a.csv", "-o", "o.csv", "--min-conf", "-1"], "--min-conf"),
    (["infer", "a.csv", "-o", "o.csv", "--detect-width", "-100"], "--detect-width"),
    (["infer", "a.csv", "-o", "o.csv", "--smooth", "bogus"], "one-euro"),
    (["infer", "a.csv", "-o", "o.csv", "--skeleton-fit", "bogus"], "rays"),
    (["eval", "m.pt", "a.h5", "--max-samples", "0"], "--max-samples"),
    (["eval", "m.pt", "a.h5", "--split", "bogus"], "'val'"),
])
def test_out_of_range_options_are_one_line_errors(tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    for f in ("a.bvh", "a.h5", "m.pt", "a.csv"):
        Path(f).write_text("x")
    r = run(app, argv)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], r.output
    assert not {"o.h5", "m.pt.jsonl", "o.csv"} & {p.name for p in tmp_path.iterdir()}


def test_help_shows_examples_and_ranges():
    for cmd in ("synth", "train", "eval", "infer", "export", "info", "demo"):
        r = run(app, [cmd, "--help"], env={"COLUMNS": "200"})
        assert r.exit_code == 0
        assert "Examples:" in r.output and r.output.count(f"pose3d {cmd}") >= 3, cmd
    assert "x>0.0" in run(app, ["train", "--help"], env={"COLUMNS": "200"}).output


def test_internal_error_is_one_line_with_a_hint_and_a_traceback_only_with_vv(monkeypatch, tmp_path):
    import pose3d_cli.describe as d

    monkeypatch.setattr(d, "describe_file", lambda f: 1 / 0)
    f = tmp_path / "x.bvh"
    f.write_text("x")
    r = run(app, ["info", str(f)])
    assert r.exit_code == 1 and "-vv" in r.output and "Traceback" not in r.output
    assert "ZeroDivisionError" in r.output


def test_unwritable_output_refused_before_training(small_pairs):
    r = run(app, ["train", str(small_pairs), "-o", "/proc/m.pt"])
    assert r.exit_code == 2 and "/proc" in r.output and "Traceback" not in r.output


def test_infer_checks_output_render_and_calib_before_detection(tmp_path, monkeypatch):
    import pose3d_cli.infer.pipeline as pl

    monkeypatch.setattr(pl, "detect_video", lambda *a, **k: pytest.fail("detection ran"))
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    bad_calib = tmp_path / "c.json"
    bad_calib.write_text("not json")
    for extra in (["-o", "/proc/x.csv"], ["-o", str(tmp_path / "o.csv"), "--render", "/proc/r.mp4"],
                  ["-o", str(tmp_path / "o.csv"), "--calib", str(bad_calib)]):
        r = run(app, ["infer", str(video), *extra])
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert not (tmp_path / "o.csv").exists()


def test_failed_render_leaves_no_csv(tmp_path, monkeypatch):
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.infer import render_people

    monkeypatch.setattr(render_people, "render_people",
                        lambda *a, **k: (_ for _ in ()).throw(Pose3dError("r.mp4: broken")))
    video = need_video()
    out = tmp_path / "o.csv"
    import pose3d_cli.infer.pipeline as pl
    from pose3d_cli.infer.pipeline import InferOptions, Track2D

    monkeypatch.setattr(pl, "detect_video", lambda *a, **k: pl.read_track(KP, InferOptions()))
    r = run(app, ["infer", str(video), "-o", str(out), "--max-people", "1", "--render", str(tmp_path / "r.mp4")])
    assert r.exit_code == 2 and not out.exists(), r.output


def need_video():
    from conftest import DATA, need

    return need(DATA / "video" / "pose2sim_single_person" / "cam01.mp4")


def test_messages(tmp_path, small_pairs):
    r = run(app, ["eval", str(tmp_path / "nope.pt"), str(small_pairs)])
    assert r.exit_code == 2 and "--model" not in r.output
    r = run(app, ["infer", str(KP), "-o", str(tmp_path / "newdir") + "/"])
    assert r.exit_code == 2 and "several inputs" not in r.output and "no such folder" in r.output


def test_camera_option_needs_no_input(monkeypatch, tmp_path):
    import pose3d_cli.infer.pipeline as pl
    from pose3d_cli.errors import Pose3dError

    seen = []

    def fake(name, fps):
        seen.append(name)
        raise Pose3dError("camera 0: cannot read from this camera; check --camera")

    monkeypatch.setattr(pl, "open_source", fake)
    r = run(app, ["infer", "--camera", "0", "-o", str(tmp_path / "live.csv")])
    assert r.exit_code == 2 and seen == ["camera:0"], r.output


def test_errors_name_the_target_not_the_temporary_file(tmp_path):
    from pose3d_cli.atomic import atomic_target, write_text_atomic

    target = tmp_path / "x.csv"
    with pytest.raises(OSError) as e:
        with atomic_target(target) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert e.value.filename == str(target)
    with pytest.raises(OSError) as e:
        write_text_atomic("x", "/proc/x.csv")
    assert e.value.filename == "/proc/x.csv"
    assert [p.name for p in tmp_path.iterdir()] == []


def test_outputs_get_normal_modes(tmp_path, small_checkpoint):
    from pose3d_cli.atomic import default_mode, write_text_atomic
    from pose3d_cli.lifting.checkpoint import read_checkpoint, save_checkpoint

    write_text_atomic("a", tmp_path / "a.csv")
    save_checkpoint(read_checkpoint(small_checkpoint), tmp_path / "m.pt")
    for f in ("a.csv", "m.pt"):
        assert (tmp_path / f).stat().st_mode & 0o777 == default_mode() != 0o600


def test_ctrl_c_in_train_says_what_it_left(tmp_path, small_pairs):
    out = tmp_path / "m.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    import signal

    # a terminal's Ctrl-C: SIGINT at its default in the child, whatever this process inherited (a test run started
    # in the background by a non-interactive shell ignores SIGINT, and an ignored signal stays ignored across exec)
    p = subprocess.Popen([sys.executable, "-m", "pose3d_cli", "-q", "train", str(small_pairs), "-o", str(out),
                          "--epochs", "5000", "--arg", "width=16", "--arg", "blocks=1", "--threads", "1"],
                         stderr=subprocess.PIPE, text=True, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import time

    t0 = time.time()
    while not out.with_suffix(".jsonl").exists() and time.time() - t0 < 120:
        time.sleep(0.2)
    time.sleep(0.5)
    p.send_signal(2)
    err = p.communicate(timeout=60)[1]
    # 5000 tiny epochs take ~80 s: the signal lands mid-training
    log = out.with_suffix(".jsonl")
    assert p.returncode == 130, (err, len(log.read_text().splitlines()) if log.exists() else "no log")
    assert "nothing was written" not in err and "m.pt" in err and "m.last.pt" in err and "m.jsonl" in err, err
    assert "Traceback" not in err


def test_sigterm_is_143(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-c", "import sys, time, signal\nsys.argv=['pose3d','info','x']\n"
                          "import pose3d_cli.describe as d\nd.describe_file=lambda f: time.sleep(60)\n"
                          "from pose3d_cli.cli.app import main\nimport threading, os\n"
                          "threading.Timer(2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()\nmain()"],
                         stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    (tmp_path / "x").write_text("x")
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 143 and "terminated" in err and "Traceback" not in err, err


def test_eval_labels_clean_files_and_uses_stored_actions(small_checkpoint, tmp_path):
    from pose3d_cli.evaluate import action_of

    assert action_of("data_3d_h36m.npz#S9/Walking 1") == "Walking"
    assert action_of("x/dataset-1_walk_happy_001.bvh") == "walk"
    from conftest import MOCAP, need
    from pose3d_cli.synth.pairs import SynthConfig, synthesise

    files = sorted(need(MOCAP / "bvh" / "bandai_namco_2").glob("*.bvh"))[:3]
    clean = tmp_path / "c.h5"
    synthesise(files, clean, SynthConfig(views=1, clean=True, val_fraction=0, test_fraction=0))
    r = run(app, ["eval", str(small_checkpoint), str(clean), "--split", "all"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "exact 2D" in r.output and "detector-like" not in r.output


def test_default_blend_is_the_shipped_one():
    from pose3d_cli.lifting.checkpoint import default_model_path, read_checkpoint
    from pose3d_cli.lifting.models import DEFAULT_ARGS

    shipped = read_checkpoint(default_model_path())["model"]
    assert shipped == {"name": "blend", "args": DEFAULT_ARGS["blend"]}


def test_with_2d_csv_and_bvh_round_trip(tmp_path):
    from pose3d_cli.detect.keypoint_files import read_keypoints
    from pose3d_cli.mocap.load import load_motions

    csv2d, bvh = tmp_path / "o.csv", tmp_path / "o.bvh"
    assert run(app, ["-q", "infer", str(KP), "-o", str(csv2d), "--with-2d"]).exit_code == 0
    seq = read_keypoints(csv2d)
    import csv

    rows = list(csv.DictReader(open(csv2d)))
    r = next(r for r in rows if r["detected"] == "1")
    i = rows.index(r)
    assert seq.skeleton == "h36m17"
    assert abs(seq.xy[i, 6, 0] - float(r["left_ankle_u"])) < 0.01
    assert run(app, ["-q", "infer", str(KP), "-o", str(bvh)]).exit_code == 0
    assert run(app, ["-q", "synth", str(bvh), str(tmp_path / "p.h5"), "-n", "1", "--val", "0", "--test", "0"]).exit_code == 0


def test_multi_person_with_2d_csv_is_read_back_per_person_with_its_ids(tmp_path):
    """pose3d's own multi-person CSV (a `person` column, one row per person and frame) read back as 2D: each
    person keeps its id and its own rows (it used to be read as one person with every frame twice)."""
    import csv

    from pose3d_cli.detect.keypoint_files import read_keypoints

    one = tmp_path / "one.csv"
    assert run(app, ["-q", "infer", str(KP), "-o", str(one), "--with-2d"]).exit_code == 0
    rows = list(csv.DictReader(open(one)))
    T = len(rows)
    header = ["frame", "person", *[h for h in rows[0] if h != "frame"]]
    out_rows = []
    for k, r in enumerate(rows):
        out_rows.append({**r, "person": "0"})
        other = {**r, "person": "3"}  # a second person 300 px to the right, absent from the last 5 frames
        for h in r:
            if h.endswith("_u") and r[h]:
                other[h] = f"{float(r[h]) + 300:.2f}"
        if k >= T - 5:
            other.update({h: "" for h in r if h.endswith(("_u", "_v", "_conf"))}, detected="0")
        out_rows.append(other)
    two = tmp_path / "two.csv"
    with open(two, "w", newline="") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        w.writerows(out_rows)
    seq = read_keypoints(two)
    assert len(seq.frame_indices) == T and seq.person_ids is not None
    assert seq.person_ids[0] == [0, 3] and seq.person_ids[-1] == [0]
    size = ["--size", "1920x1080"]
    lift_one, lift_two = tmp_path / "l1.csv", tmp_path / "l2.csv"
    assert run(app, ["-q", "infer", str(one), "-o", str(lift_one), *size]).exit_code == 0
    r = run(app, ["-q", "infer", str(two), "-o", str(lift_two), *size])
    assert r.exit_code == 0, r.output
    got = list(csv.DictReader(open(lift_two)))
    assert len(got) == 2 * T and {g["person"] for g in got} == {"0", "3"}
    p0 = [g for g in got if g["person"] == "0"]
    p3 = [g for g in got if g["person"] == "3"]
    ref = list(csv.DictReader(open(lift_one)))
    assert [g["frame"] for g in p0] == [g["frame"] for g in ref]
    assert max(abs(float(a["left_wrist_x"] or 0) - float(b["left_wrist_x"] or 0)) for a, b in zip(p0, ref)) < 0.05
    assert [g["detected"] for g in p3[-5:]] == ["0"] * 5
    # one row per person and frame: a duplicate is refused in one line
    with open(two, "a") as f:
        f.write(",".join(str(out_rows[0].get(h, "")) for h in header) + "\n")
    r = run(app, ["-q", "infer", str(two), "-o", str(tmp_path / "l3.csv")])
    assert r.exit_code == 2 and "more than one row" in r.output and "Traceback" not in r.output
