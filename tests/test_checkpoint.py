"""Checkpoints: foreign, corrupted and malicious files are refused with one clear error."""

import os
import pickle

import numpy as np
import pytest
import torch

from pose3d_cli.lifting.checkpoint import CheckpointError, load_model, read_checkpoint


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        read_checkpoint(tmp_path / "none.pt")


def test_random_bytes(tmp_path):
    p = tmp_path / "junk.pt"
    p.write_bytes(os.urandom(2000))
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_model(p)


def test_foreign_torch_file(tmp_path):
    p = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, p)
    with pytest.raises(CheckpointError, match="not a pose3d checkpoint"):
        load_model(p)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the payload is pickled on purpose
def test_pickle_payload_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.pt"
    torch.save({"format": "pose3d-checkpoint", "evil": Payload(marker)}, p)
    with pytest.raises(CheckpointError, match="refused"):
        load_model(p)
    assert not marker.exists()
    # a raw pickle file, not even a torch zip
    p2 = tmp_path / "evil2.pt"
    p2.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(CheckpointError):
        load_model(p2)
    assert not marker.exists()


def test_truncated_checkpoint(tmp_path, small_checkpoint):
    data = small_checkpoint.read_bytes()
    p = tmp_path / "cut.pt"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt"):
        load_model(p)


def test_info_says_how_a_continued_model_went_on_from_its_init(tmp_path):
    from pose3d_cli.lifting.checkpoint import describe_checkpoint, make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import build_model
    from pose3d_cli.skeleton import H36M17

    J = H36M17.num_joints
    m = build_model("mlp", J, 0, np.zeros((J, 3)), np.ones((J, 3)), width=16, blocks=1)
    data = {"path": "/x/t2.h5", "replay": ["/x/t1.h5", "/x/t0.h5"], "new_pairs": 100, "replay_pairs": [150, 100]}
    cont = make_checkpoint(m, "mlp", {"width": 16, "blocks": 1}, "h36m17", "pelvis",
                           train={"init": "/runs/v1.pt", "distill_weight": 0.0, "ewc_weight": 0.0, "init_share": 0.4},
                           data=data)
    d = describe_checkpoint(save_checkpoint(cont, tmp_path / "v2.pt"))
    assert d["continued"] == "from v1.pt; 100 new pairs + 250 replayed from t1.h5, t0.h5; interpolated back 0.4"
    scratch = make_checkpoint(m, "mlp", {"width": 16, "blocks": 1}, "h36m17", "pelvis", train={"init": None})
    assert "continued" not in describe_checkpoint(save_checkpoint(scratch, tmp_path / "v1.pt"))
    assert describe_checkpoint(tmp_path / "v1.pt")["losses"] == "no 2D/3D pairs"
    # the loss terms a run switched on, and the sources they apply to
    mixed = make_checkpoint(m, "mlp", {"width": 16, "blocks": 1}, "h36m17", "pelvis",
                            train={"reproj_weight": 1.0, "shape_prior_weight": 0.5, "shape_prior_modes": 12,
                                   "prior_weight": 0.0, "flexion_weight": 2.0},
                            data={"path": "/x/src.yaml", "train_pairs": 500,
                                  "sources": [{"path": "a.h5", "kind": "pairs"}, {"path": "kp.csv", "kind": "2d"},
                                              {"path": "kp2.csv", "kind": "2d"}]})
    assert describe_checkpoint(save_checkpoint(mixed, tmp_path / "mixed.pt"))["losses"] == (
        "MPJPE on 2D/3D pairs + flexion 2, reprojection 1, shape prior 0.5 (12 modes); 2 2d sources")


@pytest.mark.parametrize("field,value,message", [
    ("receptive_field", 27, "receptive field 27, its model needs 1"),  # infer padded by the file's word: 66 frames out
    ("receptive_field", "abc", "receptive field"),
    ("format_version", "x", "no version number"),
    ("codec", {"name": "camera-centred-v9", "root": "pelvis"}, "codec 'camera-centred-v9'"),
])
def test_fields_a_file_could_lie_about_are_checked(tmp_path, small_checkpoint, field, value, message):
    ck = torch.load(small_checkpoint, weights_only=True)
    ck[field] = value
    bad = tmp_path / "bad.pt"
    torch.save(ck, bad)
    with pytest.raises(CheckpointError, match=message):
        load_model(bad)


def test_onnx_metadata_is_checked_like_a_checkpoint(tmp_path, small_checkpoint):
    """An export claiming another codec or another order of the skeleton's joints ran as if it were ours."""
    pytest.importorskip("onnxruntime")
    import json

    import onnx

    from pose3d_cli.export import export_model
    from pose3d_cli.lifting.onnx_runtime import META_KEY, OnnxLifter, OnnxModelError

    good = tmp_path / "m.onnx"
    export_model(small_checkpoint, good)
    OnnxLifter(good)
    for change, message in ((lambda m: m["codec"].update(name="camera-centred-v9"), "codec"),
                            (lambda m: m["skeleton"].update(joints=m["skeleton"]["joints"][::-1]), "registry"),
                            (lambda m: m.update(format_version=99), "version 99")):
        proto = onnx.load(str(good))
        entry = next(p for p in proto.metadata_props if p.key == META_KEY)
        meta = json.loads(entry.value)
        change(meta)
        entry.value = json.dumps(meta)
        bad = tmp_path / "bad.onnx"
        onnx.save(proto, str(bad))
        with pytest.raises(OnnxModelError, match=message):
            OnnxLifter(bad)


@pytest.mark.parametrize("l2,l3", [((10, 5, 2), (10, 5, 3)), ((10, 17, 2), (10, 17, 7)), ((10,), (10,))])
def test_a_nearest_neighbour_library_of_another_shape_is_refused(tmp_path, l2, l3):
    """Only the libraries' lengths were compared: other shapes loaded and crashed mid-inference."""
    from pose3d_cli.lifting.checkpoint import make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import build_model

    m = build_model("nn", 17, 0, np.zeros((17, 3)), np.ones((17, 3)))
    ck = make_checkpoint(m, "nn", {}, "h36m17", "pelvis")
    ck["state_dict"] = {**ck["state_dict"], "library_2d": torch.zeros(l2), "library_3d": torch.zeros(l3)}
    bad = save_checkpoint(ck, tmp_path / "nn.pt")
    with pytest.raises(CheckpointError, match="library shapes"):
        load_model(bad)


def _tiny_checkpoint():
    from pose3d_cli.lifting.checkpoint import make_checkpoint
    from pose3d_cli.lifting.models import build_model

    m = build_model("mlp", 17, 0, np.zeros((17, 3)), np.ones((17, 3)), width=16, blocks=1)
    return make_checkpoint(m, "mlp", {"width": 16, "blocks": 1, "dropout": 0.05}, "h36m17", "pelvis")


@pytest.mark.parametrize("damage, words", [
    (lambda c: c.pop("skeleton"), "'skeleton'"),
    (lambda c: c["codec"].pop("root"), "'root'"),
    (lambda c: c.__setitem__("skeleton", "h36m17"), "TypeError"),
    (lambda c: c["state_dict"].__setitem__(0, torch.zeros(1)), "no weights"),  # raw AttributeError in torch
])
def test_info_refuses_a_damaged_checkpoint_in_one_line(tmp_path, damage, words):
    """`pose3d info` indexed fields read_checkpoint never checked: 'internal error ... this is a bug', exit 1."""
    from typer.testing import CliRunner

    from pose3d_cli.cli.app import app
    from pose3d_cli.lifting.checkpoint import save_checkpoint

    ck = _tiny_checkpoint()
    damage(ck)
    p = save_checkpoint(ck, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError):
        load_model(p)
    r = CliRunner().invoke(app, ["info", str(p)])
    assert r.exit_code == 2 and "Traceback" not in r.output and words in r.stderr, r.output
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_info_counts_parameters_not_buffers(tmp_path):
    """A damaged metrics entry reads as absent; a nearest-neighbour library is no parameter (info said 85,051)."""
    from pose3d_cli.lifting.checkpoint import describe_checkpoint, make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import build_model

    ck = _tiny_checkpoint()
    ck["metrics"] = []
    expected = sum(v.numel() for k, v in ck["state_dict"].items() if not k.startswith("decode."))
    assert describe_checkpoint(save_checkpoint(ck, tmp_path / "m.pt"))["parameters"] == expected
    nn_model = build_model("nn", 17, 0, np.zeros((17, 3)), np.ones((17, 3)), library=50)
    nn_ck = make_checkpoint(nn_model, "nn", {"library": 50}, "h36m17", "pelvis")
    assert any(v.numel() >= 50 for v in nn_ck["state_dict"].values())  # it stores a library...
    assert describe_checkpoint(save_checkpoint(nn_ck, tmp_path / "nn.pt"))["parameters"] == 0  # ...of no parameters


def test_a_torchscript_file_is_refused_without_torch_warnings(tmp_path):
    p = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), p)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's UserWarning went to stderr before the one line
        with pytest.raises(CheckpointError):
            read_checkpoint(p)
