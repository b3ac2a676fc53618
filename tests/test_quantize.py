"""`pose3d export --quantize int8` (issue 9): an int8 ONNX lifter that stays near torch on real keypoints.

Tolerances are measured on the shipped model and the shipped real sample (60 BlazePose frames): the correct
quantisation (int8 fully connected layers after the first, per output channel) differs from torch by 8.4 mm at
most and 1.1 mm on average; quantising the first layer too (it reads the input normaliser's mixed-scale
features) gives 24 / 3.2 mm, and per-tensor weights 48 / 9.0 mm. The held-out P-MPJPE of the int8 file is within
0.05 mm of torch's (67.34 vs 67.30 mm on a synth test split); that needs the synth dataset, so it is not a test
here.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.export import export_model, load_exported_meta, load_sample
from pose3d_cli.infer.lifter import default_model_path
from pose3d_cli.infer.readers import read_infer_output
from pose3d_cli.lifting.checkpoint import load_model
from pose3d_cli.lifting.onnx_runtime import OnnxLifter

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[1] / "pose3d_cli/assets/demo_cam01_blazepose.csv"
MAX_MM, MEAN_MM = 12.0, 2.0


@pytest.fixture(scope="module")
def int8_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "default.int8.onnx"
    r = runner.invoke(app, ["export", str(default_model_path()), "-o", str(out), "--quantize", "int8", "--json"])
    assert r.exit_code == 0, r.output
    return out, json.loads(r.stdout)


def test_int8_export_stays_near_torch_on_real_keypoints(int8_file):
    path, report = int8_file
    assert report["quantize"] == "int8" and report["n_check_samples"] == 61
    assert report["max_abs_diff_mm"] <= report["tolerance_mm"] == 15.0
    xy, conf = load_sample()
    with torch.no_grad():
        ref = load_model(default_model_path()).model.eval()(torch.from_numpy(xy), torch.from_numpy(conf)).numpy()
    d = np.abs(OnnxLifter(path, threads=1)(xy, conf).astype(np.float64) - ref)
    assert d.max() <= MAX_MM and d.mean() <= MEAN_MM, (d.max(), d.mean())
    assert d.mean() > 0.01  # it is quantised, not a float32 copy


def test_int8_export_quantises_the_hidden_layers_only(int8_file):
    """Every fully connected layer but the first runs as MatMulInteger; the input normaliser (ReduceSum, Log,
    Concat ...) and the first layer stay float32."""
    graph = onnx.load(str(int8_file[0])).graph
    ops = [n.op_type for n in graph.node]
    assert ops.count("MatMulInteger") == 5 and ops.count("MatMul") == 1 and "Gemm" not in ops
    first = next(n for n in graph.node if n.op_type == "MatMul")
    assert ops.index("MatMul") < ops.index("DynamicQuantizeLinear")
    assert first.input[0] in {o for n in graph.node if n.op_type == "Concat" for o in n.output}


def test_info_and_infer_read_the_int8_file(int8_file, tmp_path):
    path = int8_file[0]
    assert load_exported_meta(path)["quantize"] == "int8"
    r = runner.invoke(app, ["info", str(path), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["quantize"] == "int8" and info["skeleton"]["name"] == "h36m17"
    a, b = tmp_path / "torch.csv", tmp_path / "int8.csv"
    assert runner.invoke(app, ["-q", "infer", str(DEMO), "-o", str(a)]).exit_code == 0
    r = runner.invoke(app, ["-q", "infer", str(DEMO), "-o", str(b), "--model", str(path)])
    assert r.exit_code == 0, r.output
    pa, pb = read_infer_output(a).joints3d, read_infer_output(b).joints3d
    assert pa.shape == pb.shape and np.array_equal(np.isnan(pa), np.isnan(pb))
    ok = np.isfinite(pa)
    assert 0 < np.abs(pa[ok] - pb[ok]).mean() <= MEAN_MM


def test_quantize_refusals(tmp_path, small_checkpoint):
    def error(args):
        r = runner.invoke(app, ["export", str(small_checkpoint), *args])
        assert r.exit_code == 2, r.output
        return r.output

    assert "ONNX" in error(["-o", str(tmp_path / "m.ts"), "--quantize", "int8"])
    assert "fp16" in error(["-o", str(tmp_path / "m.onnx"), "--quantize", "fp16"])
    assert list(tmp_path.iterdir()) == []


def test_quantize_refuses_a_model_without_hidden_layers(tmp_path):
    from test_export import make_checkpoint_file

    ck, _ = make_checkpoint_file(tmp_path, "temporal")
    with pytest.raises(Exception, match="fully connected"):
        export_model(ck, tmp_path / "t.onnx", quantize="int8")
    assert not (tmp_path / "t.onnx").exists()
