"""`pose3d export --quantize int8` (issue 9): an int8 ONNX lifter that stays near torch on real keypoints, with
joints missing too.

The int8 layers are chosen by sensitivity (export._quantize_int8): each alone, then least sensitive first while
the check poses (the shipped real sample, 60 BlazePose frames, and the same with 10-50% of joints missing) stay
within half the 15 mm tolerance. Until stop 30 every layer after the first was int8: 8.4 mm max on the sample as
detected, but 17-23 mm on other draws of missing joints (the first layer of each residual block moves them ~15 mm
alone). The held-out P-MPJPE of the int8 file is within 0.05 mm of torch's (measured before stop 30 on a synth
test split); that needs the synth dataset, so it is not a test here.
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
    assert report["quantize"] == "int8" and report["n_check_samples"] == 301
    assert report["max_abs_diff_mm"] <= report["tolerance_mm"] == 15.0
    xy, conf = load_sample()
    with torch.no_grad():
        ref = load_model(default_model_path()).model.eval()(torch.from_numpy(xy), torch.from_numpy(conf)).numpy()
    d = np.abs(OnnxLifter(path, threads=1)(xy, conf).astype(np.float64) - ref)
    assert d.max() <= MAX_MM and d.mean() <= MEAN_MM, (d.max(), d.mean())
    assert d.mean() > 0.01  # it is quantised, not a float32 copy


def test_int8_export_quantises_the_hidden_layers_it_chose(int8_file):
    """The layers the metadata names run as MatMulInteger, the others as float MatMul; the input normaliser
    (ReduceSum, Log, Concat ...) and the first layer always stay float32."""
    graph = onnx.load(str(int8_file[0])).graph
    ops = [n.op_type for n in graph.node]
    chosen = load_exported_meta(int8_file[0])["quantize_layers"]  # e.g. "2 of 6 (2, 4)"
    n_int8, n_all = (int(v) for v in chosen.split(" (")[0].split(" of "))
    assert 1 <= n_int8 < n_all and ops.count("MatMulInteger") == n_int8 and ops.count("MatMul") == n_all - n_int8
    assert "Gemm" not in ops
    first = next(n for n in graph.node if n.op_type == "MatMul")
    assert ops.index("MatMul") < ops.index("DynamicQuantizeLinear")
    assert first.input[0] in {o for n in graph.node if n.op_type == "Concat" for o in n.output}


def test_int8_export_keeps_its_tolerance_with_joints_missing(int8_file):
    """Draws of missing joints the check never saw (other seeds): within the 15 mm the export promises (every
    hidden layer int8 reached 23 mm here)."""
    from pose3d_cli.export import masked_draws

    xy, conf = load_sample()
    model = load_model(default_model_path()).model.eval()
    lifter = OnnxLifter(int8_file[0], threads=1)
    for seed in (1, 2, 3):
        X, C = masked_draws(xy, conf, seed)
        with torch.no_grad():
            ref = model(torch.from_numpy(X), torch.from_numpy(C)).numpy()
        assert np.abs(lifter(X, C) - ref).max() <= 15.0, seed


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
