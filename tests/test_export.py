"""Export: every registered model × ONNX / TorchScript / pt2 reproduces torch on real 2D keypoints.

Each (model, format) is exported once per module (ONNX export takes seconds) and shared by the tests.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pose3d_cli import __version__
from pose3d_cli import export as ex
from pose3d_cli.cli.app import app
from pose3d_cli.export import ExportError, export_model, load_exported, load_exported_meta, load_sample
from pose3d_cli.lifting.checkpoint import make_checkpoint, save_checkpoint
from pose3d_cli.lifting.models import DEFAULT_ARGS, MODELS, build_model
from pose3d_cli.lifting.onnx_runtime import OnnxLifter, OnnxModelError
from pose3d_cli.lifting.sequence import pad_sequence
from pose3d_cli.lifting.predict import predict_sequence
from pose3d_cli.skeleton import H36M17

from conftest import fitted

REPO = Path(__file__).resolve().parents[1]
J = H36M17.num_joints
SMALL = {"mlp": {"width": 64, "blocks": 1}, "temporal": {"channels": 32, "filter_widths": [3, 3]},
         "fused": {"width": 64, "blocks": 1}, "blend": {"width": 64, "blocks": 1},
         "nn": {"k": 4, "library": 300, "chunk": 128}}
SUFFIX = {"onnx": ".onnx", "torchscript": ".ts", "pt2": ".pt2"}
TOL = 0.01
CASES = [(name, fmt) for name in sorted(MODELS) for fmt in ex.FORMATS]


def make_checkpoint_file(folder: Path, name: str, **extra) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    args = {**SMALL[name], **extra}
    m = fitted(build_model(name, J, 0, rng.normal(0, 100, (J, 3)), rng.uniform(50, 200, (J, 3)), **args)).eval()
    ck = make_checkpoint(m, name, {**DEFAULT_ARGS[name], **args}, "h36m17", "pelvis", metrics={"val_mpjpe": 99.0})
    return save_checkpoint(ck, folder / f"{name}.pt"), m


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_ck")
    return {name: make_checkpoint_file(folder, name) for name in SMALL}


@pytest.fixture(scope="module")
def exported(checkpoints, tmp_path_factory):
    """(name, fmt) → (ExportReport, eager model), exported on first use."""
    folder = tmp_path_factory.mktemp("exported")
    cache = {}

    def get(name, fmt):
        if (name, fmt) not in cache:
            path, model = checkpoints[name]
            cache[name, fmt] = (export_model(path, folder / f"{name}{SUFFIX[fmt]}", fmt), model)
        return cache[name, fmt]

    return get


def eager(model, xy, conf):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(xy)), torch.from_numpy(np.ascontiguousarray(conf))).numpy()


def test_every_model_has_a_small_config():
    assert set(SMALL) == set(MODELS)


def test_shipped_sample_is_real_keypoints():
    with np.load(ex.SAMPLE_PATH, allow_pickle=False) as d:
        assert d["xy"].shape == (60, 17, 2) and d["xy"].dtype == np.float32
        assert d["conf"].shape == (60, 17) and d["conf"].dtype == np.float32
        assert "cam01.mp4" in str(d["source"])
    xy, conf = load_sample()
    assert np.isfinite(xy).all() and conf.mean() > 0.5
    assert 0.01 < xy.std(axis=0).mean() < 0.5  # a moving person, not constants
    coco_xy, coco_conf = load_sample("coco17")  # other skeletons come from the raw BlazePose joints
    assert coco_xy.shape == (60, 17, 2) and coco_conf.shape == (60, 17)


@pytest.mark.parametrize("name,fmt", CASES)
def test_export_report_and_metadata(name, fmt, exported, checkpoints):
    report, model = exported(name, fmt)
    assert report.format == fmt and report.path.is_file()
    assert report.max_abs_diff_mm <= TOL
    # the sample, one frame alone, and the sample with 10/20/30/50% of joints missing (export.masked_draws)
    assert report.n_check_samples == (61 + 4 * 60 if model.receptive_field() == 1 else 180)
    assert not [p for p in report.path.parent.iterdir() if ".tmp-" in p.name or p.suffix == ".data"]
    meta = load_exported_meta(report.path)
    assert meta["model"] == {"name": name, "args": {**DEFAULT_ARGS[name], **SMALL[name]}}
    assert meta["skeleton"] == {"name": "h36m17", "joints": list(H36M17.joints)}
    assert meta["codec"]["name"] == "camera-centred-v1" and meta["codec"]["root"] == "pelvis"
    assert meta["receptive_field"] == model.receptive_field()
    assert meta["causal"] is False and meta["pose3d_version"] == __version__
    assert meta["export_format"] == fmt and meta["metrics"] == {"val_mpjpe": 99.0}
    assert meta["checkpoint"]["file"] == checkpoints[name][0].name


@pytest.mark.parametrize("name,fmt", CASES)
def test_reloaded_export_matches_torch_on_real_keypoints(name, fmt, exported):
    report, model = exported(name, fmt)
    run = OnnxLifter(report.path) if fmt == "onnx" else load_exported(report.path)
    xy, conf = load_sample()
    rf = model.receptive_field()
    if rf == 1:
        batches = [(xy, conf), (xy[:1], conf[:1]), (xy[:7], conf[:7])]
    else:
        xp, cp = pad_sequence(xy, conf, rf, False)
        windows = lambda n, t: (np.stack([xp[i:i + t] for i in range(n)]), np.stack([cp[i:i + t] for i in range(n)]))
        batches = [(xp[None], cp[None]), windows(1, rf + 1), windows(7, rf + 1), windows(7, rf + 20), windows(3, 40)]
    for bx, bc in batches:
        out, ref = run(bx, bc), eager(model, bx, bc)
        assert out.shape == ref.shape
        expected_T = () if rf == 1 else (bx.shape[1] - rf + 1,)
        assert out.shape == (len(bx), *expected_T, J, 3)
        np.testing.assert_allclose(out, ref, rtol=0, atol=TOL)


def test_onnx_file_layout(exported):
    import onnx

    report, _ = exported("temporal", "onnx")
    m = onnx.load(str(report.path))
    assert [i.name for i in m.graph.input] == ["xy", "conf"] and [o.name for o in m.graph.output] == ["joints_3d"]
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "time", 17, 2]
    assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 18
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)
    assert {p.key for p in m.metadata_props} >= {"pose3d"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_lifter(name, exported):
    report, model = exported(name, "onnx")
    lifter = OnnxLifter(report.path)
    rf = model.receptive_field()
    assert lifter.receptive_field == rf and lifter.causal is False
    assert lifter.skeleton == "h36m17" and lifter.joints == list(H36M17.joints) and lifter.meta["model"]["name"] == name
    xy, conf = load_sample()
    np.testing.assert_allclose(lifter.predict_sequence(xy, conf, chunk=25), predict_sequence(model, xy, conf), atol=TOL, rtol=0)
    if rf > 1:  # exactly one receptive field (below the exported minimum) still works
        xp, cp = pad_sequence(xy, conf, rf, False)
        np.testing.assert_allclose(lifter(xp[None, :rf], cp[None, :rf]), eager(model, xp[None, :rf], cp[None, :rf]),
                                   atol=TOL, rtol=0)
        with pytest.raises(OnnxModelError, match="at least"):
            lifter(xp[None, :rf - 1], cp[None, :rf - 1])
    with pytest.raises(OnnxModelError, match="expected"):
        lifter(np.zeros((2, 5, 2), np.float32), np.ones((2, 5), np.float32))


def test_onnx_lifter_refuses_foreign_files(tmp_path, checkpoints):
    with pytest.raises(OnnxModelError, match="no such"):
        OnnxLifter(tmp_path / "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(os.urandom(500))
    with pytest.raises(OnnxModelError, match="junk.onnx"):
        OnnxLifter(junk)


@pytest.mark.parametrize("joints, rf", [(16, 1), (17, 3)])
def test_onnx_graph_that_contradicts_its_metadata_is_refused_at_load(tmp_path, exported, joints, rf):
    """A graph of 16 joints, or a single-frame graph said to be temporal, under pose3d metadata: refused when
    loaded (it failed inside onnxruntime, 'internal error ... this is a bug')."""
    import onnx
    from onnx import TensorProto, helper

    from pose3d_cli.lifting.onnx_runtime import META_KEY, OnnxLifter, OnnxModelError

    meta = json.loads({p.key: p.value for p in onnx.load(str(exported("mlp", "onnx")[0].path)).metadata_props}[META_KEY])
    meta["receptive_field"] = rf
    xy = helper.make_tensor_value_info("xy", TensorProto.FLOAT, ["B", joints, 2])
    conf = helper.make_tensor_value_info("conf", TensorProto.FLOAT, ["B", joints])
    out = helper.make_tensor_value_info("joints_3d", TensorProto.FLOAT, ["B", joints, 3])
    pads = helper.make_tensor("pads", TensorProto.INT64, [6], [0, 0, 0, 0, 0, 1])
    graph = helper.make_graph([helper.make_node("Pad", ["xy", "pads"], ["joints_3d"])], "g", [xy, conf], [out], [pads])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    m.ir_version = 9
    m.metadata_props.add(key=META_KEY, value=json.dumps(meta))
    path = tmp_path / "foreign.onnx"
    onnx.save(m, str(path))
    with pytest.raises(OnnxModelError, match="its graph takes xy of shape"):
        OnnxLifter(path)


def test_onnx_lifter_and_meta_need_no_torch(exported):
    onnx_path = exported("mlp", "onnx")[0].path
    pt2_path = exported("mlp", "pt2")[0].path
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from pose3d_cli.lifting.onnx_runtime import OnnxLifter\n"
        "from pose3d_cli.export import load_exported_meta, load_sample\n"
        f"lifter = OnnxLifter({str(onnx_path)!r})\n"
        "xy, conf = load_sample()\n"
        "print(lifter(xy, conf).shape, load_exported_meta(" + repr(str(pt2_path)) + ")['model']['name'])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(60, 17, 3) mlp"


def test_causal_temporal_metadata(tmp_path):
    path, model = make_checkpoint_file(tmp_path, "temporal", causal=True)
    report = export_model(path, tmp_path / "causal.ts", "torchscript")
    assert report.max_abs_diff_mm <= TOL
    assert load_exported_meta(report.path)["causal"] is True


def test_check_failure_removes_the_file_and_keeps_an_old_one(tmp_path, small_checkpoint):
    out = tmp_path / "m.ts"
    with pytest.raises(ExportError, match="differs from torch"):
        export_model(small_checkpoint, out, "torchscript", tolerance_mm=-1.0)
    assert list(tmp_path.iterdir()) == []
    out.write_bytes(b"previous export")
    with pytest.raises(ExportError):
        export_model(small_checkpoint, out, "torchscript", tolerance_mm=-1.0)
    assert out.read_bytes() == b"previous export" and list(tmp_path.iterdir()) == [out]


def test_check_inputs_are_validated(tmp_path, small_checkpoint):
    with pytest.raises(ExportError, match="check inputs"):
        export_model(small_checkpoint, tmp_path / "m.ts", "torchscript",
                     check_inputs=(np.zeros((4, 16, 2), np.float32), np.ones((4, 16), np.float32)))
    xy, conf = load_sample()
    report = export_model(small_checkpoint, tmp_path / "m.ts", "torchscript", check_inputs=(xy[:10], conf[:10]))
    assert report.n_check_samples == 11 + 4 * 10


def test_format_from_path():
    assert [ex.format_from_path(p) for p in ("a.onnx", "a.pt2", "a.ts", "a.torchscript")] == \
        ["onnx", "pt2", "torchscript", "torchscript"]
    with pytest.raises(ExportError, match="suffix of pose3d checkpoints"):
        ex.format_from_path("a.PT")
    with pytest.raises(ExportError, match="--format"):
        ex.format_from_path("a.bin")


# ------------------------------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_export(tmp_path, small_checkpoint):
    out = tmp_path / "tiny.pt2"
    r = runner.invoke(app, ["export", str(small_checkpoint), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["format"] == "pt2" and report["n_check_samples"] == 301 and report["max_abs_diff_mm"] <= TOL
    assert "max |diff|" in r.stderr and "301 poses" in r.stderr
    assert load_exported_meta(out)["model"]["name"] == "mlp"
    r = runner.invoke(app, ["export", str(small_checkpoint), "-o", str(tmp_path / "tiny.bin"), "--format", "torchscript"])
    assert r.exit_code == 0, r.stderr
    assert load_exported_meta(tmp_path / "tiny.bin")["export_format"] == "torchscript"


def test_cli_onnx_export_is_quiet(tmp_path, small_checkpoint):
    """A real process: nothing on stdout, nothing but the result line on stderr (no exporter chatter)."""
    out = tmp_path / "tiny.onnx"
    r = subprocess.run([sys.executable, "-m", "pose3d_cli", "export", str(small_checkpoint), "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=120, env={**os.environ, "COLUMNS": "300"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [l for l in r.stderr.strip().splitlines() if l.startswith("exported ")]
    assert len(r.stderr.strip().splitlines()) == 1 and "301 poses" in r.stderr
    lifter = OnnxLifter(out)
    assert lifter.receptive_field == 1 and lifter(*load_sample()).shape == (60, 17, 3)


def _one_line_error(r):
    assert r.exit_code == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    return lines[0]


@pytest.mark.parametrize("content", [None, b"not a checkpoint at all", "foreign"])
def test_cli_bad_checkpoint(tmp_path, content):
    bad = tmp_path / "bad.pt"
    if content == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(3)}}, bad)
    elif content is not None:
        bad.write_bytes(content)
    out = tmp_path / "bad.onnx"
    line = _one_line_error(runner.invoke(app, ["export", str(bad), "-o", str(out)]))
    assert "bad.pt" in line
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".bad")]


def test_cli_check_failure_leaves_no_file(tmp_path, small_checkpoint, monkeypatch):
    monkeypatch.setattr(ex, "TOLERANCE_MM", -1.0)
    out = tmp_path / "m.ts"
    r = runner.invoke(app, ["export", str(small_checkpoint), "-o", str(out)])
    assert r.exit_code != 0
    assert "differs from torch" in _one_line_error(r)
    assert list(tmp_path.iterdir()) == []


def test_cli_usage_errors(tmp_path, small_checkpoint, exported):
    _one_line_error(runner.invoke(app, ["export", str(small_checkpoint), "-o", str(small_checkpoint), "-f", "torchscript"]))
    assert "--format" in _one_line_error(runner.invoke(app, ["export", str(small_checkpoint), "-o", str(tmp_path / "m.bin")]))
    _one_line_error(runner.invoke(app, ["export", str(small_checkpoint), "-o", str(tmp_path / "m.x"), "-f", "tflite"]))
    _one_line_error(runner.invoke(app, ["export", str(small_checkpoint), "-o", str(tmp_path / "no" / "m.onnx")]))
    onnx_path = exported("mlp", "onnx")[0].path
    assert "not a checkpoint" in _one_line_error(runner.invoke(app, ["export", str(onnx_path), "-o", str(tmp_path / "m.onnx")]))
    assert list(tmp_path.iterdir()) == []


def test_an_export_never_takes_a_checkpoints_name(tmp_path, small_checkpoint):
    """`export a.pt -o other_run.pt` replaced another run's checkpoint with TorchScript (exit 0), and `--format onnx`
    wrote ONNX at a .pt that infer then called damaged: .pt is refused whatever the format, the file kept."""
    import shutil

    other = tmp_path / "other_run.pt"
    shutil.copy(small_checkpoint, other)
    before = other.read_bytes()
    for extra in ([], ["--format", "onnx"], ["--format", "torchscript"]):
        line = _one_line_error(runner.invoke(app, ["export", str(small_checkpoint), "-o", str(other), *extra]))
        assert "suffix of pose3d checkpoints" in line
    assert other.read_bytes() == before
    with pytest.raises(ExportError, match="suffix of pose3d checkpoints"):
        export_model(small_checkpoint, tmp_path / "new.pt", "onnx")


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_an_export_given_as_a_checkpoint_says_what_it_is(fmt, exported, tmp_path):
    """By content, whatever its name: infer and info said 'damaged, truncated or another kind of file'."""
    import shutil

    from pose3d_cli.lifting.checkpoint import CheckpointError, read_checkpoint

    renamed = tmp_path / "model.pt"
    shutil.copy(exported("mlp", fmt)[0].path, renamed)
    with pytest.raises(CheckpointError, match="an exported (ONNX|TorchScript|torch.export .pt2) model"):
        read_checkpoint(renamed)
    line = _one_line_error(runner.invoke(app, ["export", str(renamed), "-o", str(tmp_path / "m.onnx")]))
    assert "an exported" in line and "not a checkpoint" in line


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_info_reads_every_export_format(fmt, exported):
    """Round trip (issue 11): `pose3d info` describes what `pose3d export` wrote, in every format; none is
    called damaged."""
    path = exported("mlp", fmt)[0].path
    r = runner.invoke(app, ["info", str(path)])
    assert r.exit_code == 0, r.output
    assert "damaged" not in r.output and "h36m17" in r.output, r.output
