"""Photo results carry each photo's file name, its own size and its own intrinsics (issue 11); videos keep their layout."""

import csv
import io
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.skeleton import H36M17

from conftest import DATA, need

runner = CliRunner()
# three COCO photos of different sizes (landscape 500x333, portrait 480x640, wide 640x218): the first photo's K
# for all would put the principal point of the others far from their centres
PHOTOS = ("000000040083.jpg", "COCO_val2014_000000000241.jpg", "COCO_val2014_000000000357.jpg")


@pytest.fixture
def photo_dir(tmp_path):
    import cv2

    folder = need(DATA / "images" / "coco")
    work = tmp_path / "photos"
    work.mkdir()
    sizes = {}
    for name in PHOTOS:
        shutil.copy(need(folder / name), work / name)
        h, w = cv2.imread(str(work / name)).shape[:2]
        sizes[name] = (w, h)
    assert len(set(sizes.values())) == len(PHOTOS)  # the test means nothing with equal sizes
    return work, sizes


def check_photo(file: str, size, K, sizes: dict) -> None:
    """``size`` and ``K`` of the photo ``file`` against the photo itself (read with OpenCV in the fixture)."""
    w, h = sizes[file]
    assert tuple(size) == (w, h), file
    K = np.asarray(K, float)
    assert abs(K[0, 2] - w / 2) < 0.05 * w and abs(K[1, 2] - h / 2) < 0.05 * h, (file, K)
    assert K[0, 0] > 0 and K[1, 1] > 0 and K[2, 2] == 1.0


@pytest.mark.parametrize("max_people", ["4", "1"])  # the multi-person and the single-person paths
def test_photo_csv_rows_carry_file_size_and_their_own_K(tmp_path, photo_dir, max_people):
    work, sizes = photo_dir
    out = tmp_path / "p.csv"
    r = runner.invoke(app, ["-q", "infer", str(work), "-o", str(out), "--max-people", max_people])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    head = text.splitlines()[0].split(",")
    first = ["frame", "person", "time_s", "detected"] if "person" in head else ["frame", "time_s", "detected"]
    assert head[:len(first) + 7] == first + ["file", "width", "height", "fx", "fy", "cx", "cy"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {x["file"] for x in rows} == set(PHOTOS)
    for x in rows:  # every row, detected or not, names its photo
        check_photo(x["file"], (int(x["width"]), int(x["height"])),
                    [[float(x["fx"]), 0, float(x["cx"])], [0, float(x["fy"]), float(x["cy"])], [0, 0, 1.0]], sizes)
    assert [x["file"] for x in rows if x.get("person", "0") == "0"] == sorted(PHOTOS)  # frame order = file order
    assert any(x["detected"] == "1" for x in rows)

    # the readers take the photo CSV by column name
    from pose3d_cli.ergo.io import read_poses
    from pose3d_cli.infer.readers import read_infer_output

    back = read_infer_output(out)
    mine = [x for x in rows if x.get("person", "0") == "0"]
    assert back.files == [x["file"] for x in mine]
    for t, x in enumerate(mine):
        if x["detected"] == "1":
            assert np.allclose(back.joints3d[t, H36M17.index("head")], [float(x[f"head_{a}"]) for a in "xyz"])
    poses = read_poses(out)
    assert len(poses.frame) == len(mine) and poses.detected.tolist() == [x["detected"] == "1" for x in mine]


def test_photo_json_frames_carry_file_size_and_their_own_K(tmp_path, photo_dir):
    work, sizes = photo_dir
    out = tmp_path / "p.json"
    r = runner.invoke(app, ["-q", "infer", str(work), "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    people = d.get("people") or [{"frames": d["frames"]}]
    for frames in [d["frames"]] + [p["frames"] for p in people]:
        assert [f["file"] for f in frames] == sorted(PHOTOS)
        for f in frames:
            check_photo(f["file"], f["image_size"], f["K"], sizes)

    from pose3d_cli.infer.readers import read_infer_output

    assert read_infer_output(out).files == sorted(PHOTOS)
    # its 2D read back as one sequence smoothed the photos together at the first one's intrinsics: refused
    again = runner.invoke(app, ["infer", str(out), "-o", str(tmp_path / "again.csv")])
    assert again.exit_code == 2 and "folder of photos" in again.output and "Traceback" not in again.output
    assert not (tmp_path / "again.csv").exists()


def test_a_photo_is_lifted_alike_alone_and_among_others(tmp_path, photo_dir):
    """One skeleton was fitted over every photo of a folder: a photo's 3D changed with the other photos."""
    work, _ = photo_dir
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(work / PHOTOS[0], alone / PHOTOS[0])
    outs = {}
    for name, folder in (("alone", alone), ("folder", work)):
        outs[name] = tmp_path / f"{name}.json"
        r = runner.invoke(app, ["-q", "infer", str(folder), "-o", str(outs[name]), "--max-people", "1"])
        assert r.exit_code == 0, r.output
    pick = {k: next(f for f in json.loads(v.read_text())["frames"] if f["file"] == PHOTOS[0]) for k, v in outs.items()}
    assert pick["alone"]["detected"]
    np.testing.assert_allclose(pick["folder"]["joints_3d"], pick["alone"]["joints_3d"], atol=0.05)


def test_a_video_output_keeps_its_csv_layout(tmp_path):
    import cv2

    cap = cv2.VideoCapture(str(need(DATA / "video" / "pose2sim_single_person" / "cam01.mp4")))
    frames = [cap.read()[1] for _ in range(6)]
    cap.release()
    video = tmp_path / "short.mp4"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    out = tmp_path / "v.csv"
    r = runner.invoke(app, ["-q", "infer", str(video), "-o", str(out)])
    assert r.exit_code == 0, r.output
    head = out.read_text().splitlines()[0].split(",")
    joints = H36M17.joints
    expected = (["frame", "person", "time_s", "detected"] + [f"{j}_{a}" for j in joints for a in "xyz"]
                + ["root_x_mm", "root_y_mm", "root_z_mm"] + [f"{j}_conf" for j in joints] + ["low_conf"])
    assert head == expected
    for col in ("file", "width", "height", "fx", "fy", "cx", "cy"):
        assert col not in head
    d = json.loads(runner.invoke(app, ["-q", "infer", str(video), "-o", "-", "--format", "json"]).stdout)
    assert all("file" not in f and "K" not in f for f in d["frames"])
