"""`pose3d score` on bad inputs: one clear line naming the file, exit 2, nothing written (no --json left behind)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.skeleton import H36M17
from test_score import write_reference_files

runner = CliRunner()


def refused(r, want: str, *files) -> None:
    """Exit 2, ``want`` in one message (rich may wrap it), no traceback, none of ``files`` written."""
    assert r.exit_code == 2, r.output
    assert want in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    assert len([ln for ln in r.output.strip().splitlines() if ln.strip()]) <= 4, r.output
    for f in files:
        assert not f.exists(), f"{f} was left behind"


def score(*args):
    return runner.invoke(app, ["score", *map(str, args)])


def test_a_prediction_without_a_usable_frame_is_one_line_and_writes_no_json(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    xyz = [i for i, h in enumerate(header) if h.endswith(("_x", "_y", "_z"))]
    rows = []
    for ln in lines[1:]:
        cells = ln.split(",")
        for i in xyz:
            cells[i] = "nan"
        rows.append(",".join(cells))
    csv.write_text("\n".join([lines[0], *rows]) + "\n")
    out = tmp_path / "s.json"
    refused(score(csv, ref, "--json", out), f"{csv}: no usable frame", out)


def test_a_reference_without_a_usable_frame_is_one_line(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    z = dict(np.load(ref))
    z["joints"] = np.full_like(z["joints"], np.nan)
    np.savez(ref, **z)
    out = tmp_path / "s.json"
    refused(score(csv, ref, "--json", out), f"{ref}: no usable frame", out)


@pytest.mark.parametrize("kind", ["empty", "truncated", "text", "hdf5", "npy", "swapped"])
def test_a_reference_that_is_no_npz_says_so(tmp_path, kind):
    ref, csv, _ = write_reference_files(tmp_path)
    bad = tmp_path / "bad.npz"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "truncated":
        bad.write_bytes(ref.read_bytes()[:2000])
    elif kind == "text":
        bad.write_text("not an array file\n")
    elif kind == "hdf5":
        bad = tmp_path / "pairs.h5"
        bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    elif kind == "npy":
        with open(bad, "wb") as fh:
            np.save(fh, np.zeros(3))
    out = tmp_path / "s.json"
    if kind == "swapped":
        r = score(ref, csv, "--json", out)
        refused(r, f"{csv}: not a pose3d reference", out)
        assert "PREDICTION REFERENCE" in " ".join(r.output.split())
        return
    r = score(csv, bad, "--json", out)
    refused(r, f"{bad}: not a pose3d reference", out)
    assert "pickle" not in r.output and "`pose3d triangulate`" in r.output


def test_a_truncated_prediction_csv_is_refused_with_its_line(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    text = csv.read_text()
    csv.write_text(text[:len(text) - 200])  # the last row cut in the middle
    n = len(csv.read_text().splitlines())
    out = tmp_path / "s.json"
    refused(score(csv, ref, "--json", out), f"{csv}: line {n} has", out)


@pytest.mark.parametrize("frames, want", [("-5:10", "no negative"), ("10:5", "START must be below STOP"),
                                          ("5:5", "START must be below STOP"), (":-1", "no negative"),
                                          ("30:40", "holds reference frames 0:20")])
def test_bad_frame_ranges_are_refused(tmp_path, frames, want):
    ref, csv, _ = write_reference_files(tmp_path)
    out = tmp_path / "s.json"
    refused(score(csv, ref, "--json", out, f"--frames={frames}"), want, out)


def test_a_stop_beyond_the_reference_reports_the_frames_scored(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)  # 20 reference frames; offset +2: the prediction shows 0:18
    out = tmp_path / "s.json"
    r = score(csv, ref, "--json", out, "--frames", "5:1000")
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["reference_frames"] == [5, 18]
    assert "share frames 5:18" in " ".join(r.output.split())


@pytest.mark.parametrize("data, want", [
    ({"metadata": {"joint_names": []}, "frames": []}, "its metadata names no joints"),
    ({"metadata": {"joint_names": list(H36M17.joints)}, "frames": []}, "holds no frames")])
def test_an_empty_prediction_json_is_blamed_not_the_reference(tmp_path, data, want):
    ref, _, _ = write_reference_files(tmp_path)
    pred = tmp_path / "pose3d_cam01.json"
    pred.write_text(json.dumps(data))
    out = tmp_path / "s.json"
    r = score(pred, ref, "--json", out)
    refused(r, f"{pred}: {want}", out)
    assert "reference's joints" not in r.output


def test_a_json_output_of_another_extension_is_refused_before_work(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    out = tmp_path / "s.csv"
    refused(score(csv, ref, "--json", out), f"{out}: --json writes JSON", out)


def test_a_prediction_lacking_a_joint_is_blamed_not_the_reference(tmp_path):
    ref, csv, _ = write_reference_files(tmp_path)
    rows = [ln.split(",") for ln in csv.read_text().splitlines()]
    keep = [i for i, h in enumerate(rows[0]) if not h.startswith("left_wrist_")]
    csv.write_text("\n".join(",".join(r[i] for i in keep) for r in rows) + "\n")
    r = score(csv, ref)
    refused(r, f"{csv}: lacks joint left_wrist of the reference's h36m17", tmp_path / "s.json")
    assert "reference's joints" not in r.output
