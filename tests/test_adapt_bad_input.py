"""`pose3d adapt`: every bad input is refused in one line (exit 2) BEFORE any 2D detection, naming the user's file,
and a failed run leaves no work folder it created behind (a folder the user had is kept)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.errors import Pose3dError
from pose3d_cli.lifting.checkpoint import default_model_path
from pose3d_cli.skeleton import get_skeleton

runner = CliRunner()
INIT = str(default_model_path())


def _pairs(path, splits=("train", "val")):
    """A tiny valid pose3d pairs file (h36m17, one 20-frame sequence per split)."""
    from pose3d_cli.dataset import PairWriter, SequenceBlock

    sk = get_skeleton("h36m17")
    J, T = sk.num_joints, 20
    rng = np.random.default_rng(0)
    with PairWriter(path, tuple(sk.joints), sk.name, {}, 0) as w:
        for split in splits:
            K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
            w.append(SequenceBlock(rng.uniform(0, 640, (T, J, 2)), np.ones((T, J)), rng.normal(0, 300, (T, J, 3)),
                                   np.tile(np.eye(3), (T, 1, 1)), np.tile([0.0, 0.0, 4000.0], (T, 1)), K, np.zeros(5),
                                   (640, 480), f"take_{split}", "s1", 30.0, 0, split))
        w.close()
    return path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return _pairs(tmp_path_factory.mktemp("pairs") / "pairs.h5")


@pytest.fixture
def video(tmp_path):
    """A 10-frame 64x48 video named after camera cam01."""
    import cv2

    path = tmp_path / "cam01.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for i in range(10):
        w.write(np.full((48, 64, 3), 20 * i, np.uint8))
    w.release()
    return path


@pytest.fixture(autouse=True)
def no_detection(monkeypatch):
    """Any 2D detection fails the test: these inputs must be refused before it."""
    def detect(*a, **k):
        raise AssertionError("2D detection ran before the bad input was refused")

    monkeypatch.setattr("pose3d_cli.infer.pipeline.detect_video", detect)


#: what train returns after one full epoch (the keys adapt reads)
DONE = {"epochs_done": 1, "best_epoch": 1, "stopped": "done"}


def _csv(path, size=(640, 480), conf=1.0, frames=np.arange(5)):
    J = get_skeleton("blazepose33").num_joints
    T = len(frames)
    write_keypoints_csv(KeypointSequence(np.full((T, J, 2), 100.0), np.full((T, J), conf), "blazepose33",
                                         np.asarray(frames), image_size=size), path)
    return path


def _rig(path, names=("cam01", "cam02")):
    cams = [{"name": n, "K": [[500, 0, 32], [0, 500, 24], [0, 0, 1]], "dist": [0] * 5,
             "R": np.eye(3).tolist(), "t": [0, 0, 0], "size": [64, 48]} for n in names]
    path.write_text(json.dumps({"cameras": cams}))
    return path


def _adapt(tmp_path, inputs, *extra):
    return runner.invoke(app, ["adapt", *map(str, inputs), "-o", str(tmp_path / "ad.pt"), "--init", INIT, *extra])


def _refused(r, *words):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert len([l for l in r.output.strip().splitlines() if l.strip()]) == 1, r.output
    for w in words:
        assert w in r.output, r.output


def _nothing_left(tmp_path):
    assert not (tmp_path / "ad.pt").exists() and not (tmp_path / "ad_2d").exists()


@pytest.mark.parametrize("kind", ["text", "empty", "random", "npz", "train_only"])
def test_bad_replay_is_refused_before_detection(tmp_path, video, kind):
    replay = tmp_path / ("r.npz" if kind == "npz" else "r.h5")
    if kind == "text":
        replay.write_text("not an hdf5 file\n")
    elif kind == "empty":
        replay.write_bytes(b"")
    elif kind == "random":
        replay.write_bytes(np.random.default_rng(0).bytes(2048))
    elif kind == "npz":
        np.savez(replay, a=np.zeros(3))
    else:
        _pairs(replay, splits=("train",))
    r = _adapt(tmp_path, [video], "--replay", str(replay), "--fov", "65")
    _refused(r, "r.")
    if kind == "train_only":
        assert "validation" in r.output
    _nothing_left(tmp_path)


def test_bad_calibration_is_refused_before_detection(tmp_path, video, pairs):
    calib = tmp_path / "c.qca.txt"
    calib.write_text("not a calibration\n")
    r = _adapt(tmp_path, [video], "--replay", str(pairs), "--calib", str(calib))
    _refused(r, "c.qca.txt")
    _nothing_left(tmp_path)


def test_video_named_after_no_camera_is_refused_before_detection(tmp_path, video, pairs):
    other = video.rename(tmp_path / "video.mp4")
    r = _adapt(tmp_path, [other], "--replay", str(pairs), "--calib", str(_rig(tmp_path / "rig.json")))
    _refused(r, "video.mp4", "cam01", "rename")
    _nothing_left(tmp_path)


def test_frames_beyond_the_video_are_refused_before_detection(tmp_path, video, pairs):
    r = _adapt(tmp_path, [video], "--replay", str(pairs), "--fov", "65", "--frames", "500:1000")
    _refused(r, "cam01.mp4", "10 frames", "--frames")
    _nothing_left(tmp_path)


def test_bad_detector_model_is_refused_before_detection(tmp_path, video, pairs):
    task = tmp_path / "m.task"
    task.write_text("not a task bundle\n")
    r = _adapt(tmp_path, [video], "--replay", str(pairs), "--fov", "65", "--detector-model", str(task))
    _refused(r, "m.task")
    _nothing_left(tmp_path)


def test_keypoint_file_without_image_size_names_it_and_asks_for_size(tmp_path, pairs):
    csv = _csv(tmp_path / "cam01.csv", size=None)
    r = _adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65")
    _refused(r, str(csv), "--size")
    assert "ad_2d" not in r.output
    _nothing_left(tmp_path)


def test_keypoint_file_with_size_is_adapted_on(tmp_path, pairs, monkeypatch):
    seen = {}

    def train(cfg, *a, **k):
        seen["sources"], seen["init_share"], seen["distill"] = cfg.sources, cfg.init_share, cfg.distill_weight
        seen["shape"] = cfg.shape_prior_weight
        return DONE

    monkeypatch.setattr("pose3d_cli.train.train", train)
    csv = _csv(tmp_path / "cam01.csv", size=None)
    r = _adapt(tmp_path, [csv], "--replay", str(pairs), "--calib", str(_rig(tmp_path / "rig.json")), "--size", "64x48",
               "--init-share", "0.3", "--distill-weight", "0", "--shape-prior-weight", "0.2")
    assert r.exit_code == 0, r.output
    # adapt's options reach the training run
    assert seen["init_share"] == 0.3 and seen["distill"] == 0.0 and seen["shape"] == 0.2
    (src,) = seen["sources"]
    assert src["camera"] == "cam01"
    assert "# image_size: 64x48" in (tmp_path / "ad_2d" / "cam01.csv").read_text()
    r = _adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65", "--size", "64")
    _refused(r, "--size")


def test_work_dir_that_is_a_file_is_one_clear_line(tmp_path, pairs):
    wd = tmp_path / "wd"
    wd.write_text("mine\n")
    r = _adapt(tmp_path, [_csv(tmp_path / "cam01.csv")], "--replay", str(pairs), "--fov", "65", "--work-dir", str(wd))
    _refused(r, "wd", "is a file", "--work-dir")
    assert wd.read_text() == "mine\n"


def test_two_inputs_of_one_name_are_refused(tmp_path, pairs):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r = _adapt(tmp_path, [_csv(tmp_path / "a" / "cam01.csv"), _csv(tmp_path / "b" / "cam01.csv")],
               "--replay", str(pairs), "--fov", "65")
    _refused(r, "cam01.csv", "distinct")
    _nothing_left(tmp_path)


def _failing_train(cfg, *a, **k):
    raise Pose3dError("training failed")


def test_a_failed_run_removes_the_work_folder_it_created(tmp_path, pairs, monkeypatch):
    monkeypatch.setattr("pose3d_cli.train.train", _failing_train)
    r = _adapt(tmp_path, [_csv(tmp_path / "cam01.csv")], "--replay", str(pairs), "--fov", "65")
    _refused(r, "training failed")
    _nothing_left(tmp_path)


def test_an_existing_work_folder_is_used_and_kept(tmp_path, pairs, monkeypatch):
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "note.txt").write_text("mine\n")
    monkeypatch.setattr("pose3d_cli.train.train", _failing_train)
    csv = _csv(tmp_path / "cam01.csv")
    r = _adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65", "--work-dir", str(wd))
    _refused(r, "training failed")
    assert sorted(p.name for p in wd.iterdir()) == ["note.txt"]  # the user's file kept, this run's CSV removed
    monkeypatch.setattr("pose3d_cli.train.train", lambda cfg, *a, **k: DONE)
    r = _adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65", "--work-dir", str(wd))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in wd.iterdir()) == ["cam01.csv", "note.txt"]


def test_an_output_that_is_not_a_checkpoint_is_refused(tmp_path, video, pairs):
    r = runner.invoke(app, ["adapt", str(video), "-o", str(tmp_path / "ad.onnx"), "--init", INIT, "--replay", str(pairs),
                            "--fov", "65"])
    _refused(r, "ad.onnx", "written as .pt")
    assert not (tmp_path / "ad.onnx").exists() and not (tmp_path / "ad_2d").exists()


@pytest.mark.parametrize("case,words", [("nobody", "no person detected"),
                                        ("every_other_frame", "no two consecutive frames")])
def test_footage_without_a_track_is_refused_before_training(tmp_path, pairs, monkeypatch, case, words):
    """Rows were counted, not frames with someone in them: footage where nobody was detected trained on replay
    alone (exit 0), and 2D kept every other frame gave one-frame tracks (bone constancy and smoothness silently 0)."""
    monkeypatch.setattr("pose3d_cli.train.train", lambda *a, **k: pytest.fail("trained"))
    csv = _csv(tmp_path / "cam01.csv", conf=0.0) if case == "nobody" else _csv(tmp_path / "cam01.csv",
                                                                              frames=np.arange(0, 20, 2))
    _refused(_adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65"), str(csv), words)
    _nothing_left(tmp_path)


def test_a_file_of_several_people_is_refused(tmp_path, pairs):
    """Its lowest id per frame was kept: one 'track' jumping between two bodies."""
    sk = get_skeleton("blazepose33")
    head = "frame,person," + ",".join(f"{j}_{q}" for j in sk.joints for q in ("x", "y", "conf"))
    rows = [f"{f},{pid}," + ",".join(["100,100,0.9"] * sk.num_joints) for f in range(5) for pid in (0, 1)]
    csv = tmp_path / "cam01.csv"
    csv.write_text(f"# skeleton: blazepose33\n# image_size: 640x480\n{head}\n" + "\n".join(rows) + "\n")
    _refused(_adapt(tmp_path, [csv], "--replay", str(pairs), "--fov", "65"), str(csv), "people 0, 1")


def test_an_openpose_folder_is_one_input(tmp_path, pairs, monkeypatch):
    """It was taken for a folder of inputs, each json a 1-frame input, and refused as too short."""
    seen = {}
    monkeypatch.setattr("pose3d_cli.train.train", lambda cfg, *a, **k: seen.update(sources=cfg.sources) or DONE)
    folder = tmp_path / "cam01_openpose"
    folder.mkdir()
    body25 = [v for k in range(25) for v in (300 + 3 * k, 200 + 10 * k, 0.9)]
    for f in range(6):
        (folder / f"cam01_{f:012d}_keypoints.json").write_text(json.dumps(
            {"version": 1.3, "people": [{"pose_keypoints_2d": body25}]}))
    r = _adapt(tmp_path, [folder], "--replay", str(pairs), "--fov", "65", "--size", "640x480")
    assert r.exit_code == 0, r.output
    (src,) = seen["sources"]
    assert src["path"].endswith("cam01_openpose.csv")


def test_an_adapt_stopped_inside_its_first_epoch_writes_nothing_and_says_so(tmp_path, pairs, monkeypatch):
    """It said 'wrote ad.pt' and exited 0 with no model written (an older ad.pt would have passed for the new)."""
    def stopped(cfg, *a, **k):
        from pose3d_cli.train import last_path

        last_path(cfg.output).write_bytes(b"resume state")
        return {"epochs_done": 0, "best_epoch": -1, "stopped": "max_minutes"}

    monkeypatch.setattr("pose3d_cli.train.train", stopped)
    r = _adapt(tmp_path, [_csv(tmp_path / "cam01.csv")], "--replay", str(pairs), "--fov", "65", "--max-minutes", "0.01")
    _refused(r, "ad.pt", "no model was written", "--max-minutes")
    _nothing_left(tmp_path)
    assert not (tmp_path / "ad.last.pt").exists()


def test_a_fused_init_is_refused_before_detection(tmp_path, video, pairs):
    from pose3d_cli.lifting.checkpoint import make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import DEFAULT_ARGS, build_model

    J = get_skeleton("h36m17").num_joints
    m = build_model("fused", J, 0, np.zeros((J, 3)), np.ones((J, 3)), width=16, blocks=1)
    init = save_checkpoint(make_checkpoint(m, "fused", {**DEFAULT_ARGS["fused"], "width": 16, "blocks": 1}, "h36m17",
                                           "pelvis"), tmp_path / "fused.pt")
    r = runner.invoke(app, ["adapt", str(video), "-o", str(tmp_path / "ad.pt"), "--init", str(init), "--replay",
                            str(pairs), "--fov", "65"])
    _refused(r, "fused.pt", "detector's 3D")
