"""Nothing lost: every command, every path-like option. No output can replace an input or another output, and
every numeric option declares its range (issue 11)."""

import itertools
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pose3d_cli.cli.app import app

#: every path-like (Path or str) parameter of every command, by role. The walk below fails when a command gains a
#: path-like parameter that is not listed here, so a new output cannot skip the guard unnoticed.
ROLES = {
    "synth": {"in": ["inputs", "cameras", "camera_config", "corruption_config", "mapping"], "out": ["output"],
              "not_path": ["split_by", "units", "up", "markerset", "subject", "compression",
                           "test_subjects", "same_take"]},
    "train": {"in": ["data", "val", "init", "replay", "source", "prior"], "out": ["output", "log"],
              "not_path": ["model", "arg", "landmarks"]},
    "eval": {"in": ["model", "data"], "out": ["json_out", "plots"], "not_path": ["split"]},
    "infer": {"in": ["inputs", "model", "calib", "detector_model"], "out": ["output", "render"],
              "not_path": ["fmt", "calib_camera", "smooth", "skeleton_fit", "detector", "size", "person", "fov"]},
    "export": {"in": ["checkpoint"], "out": ["output"], "not_path": ["fmt", "quantize"]},
    "info": {"in": ["files"], "out": [], "not_path": []},
    "demo": {"in": ["model"], "out": ["output"], "not_path": []},
    "ergo": {"in": ["inputs", "calib", "observations", "model", "detector_model", "video"],
             "out": ["output", "report", "json_out", "poses_out"],
             "not_path": ["plots", "up", "calib_camera", "load_mode", "coupling", "upper_arm_angle",
                          "upper_arm_reference", "trunk_angle", "knee", "edges", "detector", "smooth", "person",
                          "hand_points", "vertical", "cameras", "offsets", "neck_neutral"]},
    "triangulate": {"in": ["inputs", "calib"], "out": ["output"], "not_path": ["cameras", "detector", "offsets"]},
    "calibrate": {"in": ["inputs"], "out": ["output"], "not_path": ["detector"]},
    "score": {"in": ["prediction", "reference", "calib"], "out": ["json_out"], "not_path": ["camera", "frames"]},
    "eval-continual": {"in": ["models", "task", "baseline", "joint"], "out": ["json_out", "plot"], "not_path": ["split"]},
    "adapt": {"in": ["inputs", "init", "replay", "calib", "detector_model"], "out": ["output", "work_dir"],
              "not_path": ["frames", "size"]},
}
#: the file name each output gets in the collision test (its own kind: the extension decides the format)
OUT_NAME = {("synth", "output"): "x.h5", ("train", "output"): "x.pt", ("train", "log"): "x.jsonl",
            ("eval", "json_out"): "x.json", ("eval", "plots"): "x.png", ("infer", "output"): "x.csv",
            ("infer", "render"): "x.mp4", ("export", "output"): "x.onnx", ("demo", "output"): "x.csv",
            ("ergo", "output"): "x.csv", ("ergo", "report"): "x.html", ("ergo", "json_out"): "x.json",
            ("ergo", "poses_out"): "y.csv", ("triangulate", "output"): "x.npz", ("calibrate", "output"): "x.json", ("score", "json_out"): "x.json",
            ("eval-continual", "json_out"): "x.json", ("eval-continual", "plot"): "x.png",
            ("adapt", "output"): "x.pt", ("adapt", "work_dir"): "wd"}
#: a valid-looking invocation: required parameters filled with placeholder files
BASE = {"synth": {"inputs": "a.bvh", "output": "o.h5"}, "train": {"data": "a.h5", "output": "o.pt"},
        "eval": {"model": "a.pt", "data": "b.h5"}, "infer": {"inputs": "a.mp4", "output": "o.csv"},
        "export": {"checkpoint": "a.pt", "output": "o.onnx"}, "demo": {"output": "o.csv"},
        "ergo": {"inputs": "a.csv"}, "triangulate": {"inputs": "a.mp4", "calib": "c.toml", "output": "o.npz"},
        "calibrate": {"inputs": "a.mp4", "output": "o.json"},
        "score": {"prediction": "a.csv", "reference": "r.npz"},
        "eval-continual": {"models": "a.pt", "task": "t.h5"},
        "adapt": {"inputs": "a.mp4", "output": "o.pt", "init": "i.pt", "replay": "r.h5"}}


def _commands():
    return typer.main.get_command(app).commands


def _is_path_like(p) -> bool:
    ann = str(p.type_descriptor.annotation)
    return p.type_descriptor.is_path or p.type_descriptor.is_choice or "Path" in ann or "str" in ann


def test_every_path_like_parameter_has_a_role():
    cmds = _commands()
    assert set(cmds) == set(ROLES), "a command was added or removed: classify its parameters in ROLES"
    for name, cmd in cmds.items():
        listed = set(itertools.chain(*ROLES[name].values()))
        path_like = {p.name for p in cmd.params if _is_path_like(p)}
        assert path_like == listed, f"{name}: unclassified {path_like - listed}, stale {listed - path_like}"


def test_every_numeric_option_declares_its_range():
    missing = []
    for name, cmd in _commands().items():
        for p in cmd.params:
            ann = p.type_descriptor.annotation
            numeric = ann in (int, float) or str(ann) in ("typing.Optional[int]", "typing.Optional[float]")
            if numeric and not (p.type_descriptor.is_ranged or getattr(p.callback, "pose3d_range", None)):
                missing.append(f"{name} --{p.name}")
    assert not missing, f"options without a declared range: {missing}"


def _argv(cmd, values: dict) -> list[str]:
    out = [cmd]
    for p in _commands()[cmd].params:
        if p.name not in values:
            continue
        v = values[p.name]
        out += [v] if p.param_type_name == "argument" else [p.opts[0], v]
    return out


def _pairs():
    for cmd, roles in ROLES.items():
        for o in roles["out"]:
            for other in roles["in"] + [x for x in roles["out"] if x != o]:
                yield cmd, o, other


@pytest.mark.parametrize("cmd,out,other", list(_pairs()), ids=lambda x: str(x))
def test_no_output_can_replace_an_input_or_another_output(tmp_path, monkeypatch, cmd, out, other):
    monkeypatch.chdir(tmp_path)
    for f in BASE[cmd].values():
        Path(f).write_bytes(b"placeholder " + f.encode())
    shared = Path(OUT_NAME[(cmd, out)])
    content = b"precious user data\n"
    shared.write_bytes(content)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = CliRunner().invoke(app, _argv(cmd, {**BASE[cmd], out: str(shared), other: str(shared)}))
    assert r.exit_code == 2, r.output
    assert shared.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing else written either
    if "plots" not in (out, other):  # --plots FILE: refused as "takes a folder"
        assert "is also an input" in r.output or "two outputs" in r.output, r.output
    assert "Traceback" not in r.output


def test_output_through_a_symlink_or_another_spelling_is_the_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    data = tmp_path / "d.h5"
    data.write_bytes(b"pairs")
    (tmp_path / "link.pt").symlink_to(data)
    for o in ("link.pt", "sub/../d.h5", str(data)):
        r = CliRunner().invoke(app, ["train", "d.h5", "-o", o])
        assert r.exit_code == 2 and "is also an input" in r.output, (o, r.output)
    assert data.read_bytes() == b"pairs"


def test_a_file_of_another_kind_is_not_replaced(tmp_path, monkeypatch):
    """-o poses.csv where poses.csv is (say) a video: refused; a previous CSV is replaced as usual (re-running)."""
    from pose3d_cli.cli.common import check_outputs
    from pose3d_cli.errors import Pose3dError

    video = tmp_path / "poses.csv"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    with pytest.raises(Pose3dError, match="holds a video"):
        check_outputs([], [video])
    check_outputs([], [video], force=True)
    old = tmp_path / "old.csv"
    old.write_text("frame,time_s\n")
    check_outputs([], [old])
    ck = tmp_path / "m.pt"
    ck.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(10))
    with pytest.raises(Pose3dError, match="HDF5"):
        check_outputs([], [ck])
