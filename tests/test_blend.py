"""The blend of a plain MLP and a fused lifter (lifting/blend.py, ``BlendLifter``): its plain 2D path is exactly
the plain model, its detector-3D path is the stated average of the two models run apart, and every mismatch
between the two checkpoints is refused in one line."""

import numpy as np
import pytest
import torch

from pose3d_cli.errors import Pose3dError
from pose3d_cli.lifting.blend import blend_checkpoints, main
from pose3d_cli.lifting.checkpoint import make_checkpoint, model_from_checkpoint, read_checkpoint, save_checkpoint
from pose3d_cli.lifting.models import DEFAULT_ARGS, build_model, check_trainable
from pose3d_cli.skeleton import H36M17

J = H36M17.num_joints


def _trained_like(name, seed, folder, **args):
    """A model with random (non-zero) weights and output statistics, saved as a checkpoint."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    args = {"width": 32, "blocks": 1, **args}
    m = build_model(name, J, 0, rng.normal(0, 100, (J, 3)), rng.uniform(50, 200, (J, 3)), **args).eval()
    ck = make_checkpoint(m, name, {**DEFAULT_ARGS[name], **args}, "h36m17", "pelvis",
                         train={"seed": seed}, data={"path": f"{name}_pairs.h5", "train_pairs": 100 * seed},
                         metrics={"val_p_mpjpe": 50.0 + seed})
    return save_checkpoint(ck, folder / f"{name}{seed}.pt"), m


@pytest.fixture()
def parts(tmp_path):
    return _trained_like("mlp", 1, tmp_path), _trained_like("fused", 2, tmp_path)


def _inputs(B=6):
    g = torch.Generator().manual_seed(3)
    xy, conf = torch.randn(B, J, 2, generator=g) * 0.2, torch.rand(B, J, generator=g) * 0.5 + 0.5
    det = torch.randn(B, J, 3, generator=g) * 150
    det[:, 0] = 0
    return xy, conf, det


def test_plain_path_is_the_plain_model_and_fused_path_the_stated_average(parts, tmp_path):
    (plain_path, plain), (fused_path, fused) = parts
    w = 0.3
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path, w), tmp_path / "b.pt")
    blend = model_from_checkpoint(read_checkpoint(out), out).model
    xy, conf, det = _inputs()
    mask = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    with torch.no_grad():
        p, f = plain(xy, conf), fused(xy, conf, det, mask)
        torch.testing.assert_close(blend(xy, conf), p, rtol=0, atol=0)  # no detector 3D: the plain model exactly
        got = blend(xy, conf, det, mask)
    want = torch.where(mask[:, None, None] > 0, (1 - w) * p + w * f, p)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-3)
    assert not torch.allclose(got[0], p[0], atol=1.0)  # the fused model does move it where the 3D is present
    det[mask == 0] = float("nan")  # what an absent detector 3D may hold: masked means unused, NaN or not
    with torch.no_grad():
        torch.testing.assert_close(blend(xy, conf, det, mask), got, rtol=0, atol=0)
    meta = read_checkpoint(out)
    assert meta["model"] == {"name": "blend", "args": {"width": 32, "blocks": 1, "dropout": 0.05, "fused_weight": w}}
    assert meta["train"]["parts"]["plain"] == {"seed": 1} and meta["train"]["parts"]["fused"] == {"seed": 2}
    assert meta["metrics"]["val_p_mpjpe"] == 51.0  # the plain part's held-out figure: its 2D-only path


def test_the_lifter_uses_world_landmarks_only_through_the_blend(parts, tmp_path):
    from pose3d_cli.infer.lifter import load_lifter

    (plain_path, _), (fused_path, _) = parts
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    blend, plain = load_lifter(out), load_lifter(plain_path)
    assert blend.takes_det3d and not plain.takes_det3d
    xy, conf, det = (a.numpy() for a in _inputs())
    np.testing.assert_array_equal(blend.lift(xy, conf), plain.lift(xy, conf))  # keypoint files: plain, as before
    det[2] = np.nan  # a frame without world landmarks
    both = blend.lift(xy, conf, det)
    np.testing.assert_allclose(both[2], plain.lift(xy, conf)[2], atol=1e-4)
    assert np.abs(both[0] - plain.lift(xy, conf)[0]).max() > 1.0


@pytest.mark.parametrize("bad, words", [
    ("swapped", "a 'fused' model; the blend takes a 'mlp' model"),
    ("sizes", "layer sizes"),
    ("weight", "[0, 1)"),
])
def test_mismatched_parts_are_refused(parts, tmp_path, bad, words):
    (plain_path, _), (fused_path, _) = parts
    if bad == "swapped":
        args = (fused_path, plain_path)
    elif bad == "sizes":
        args = (plain_path, _trained_like("fused", 4, tmp_path, width=48)[0])
    else:
        args = (plain_path, fused_path, 1.0)
    with pytest.raises(Pose3dError, match=None) as e:
        blend_checkpoints(*args)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_the_command_refuses_to_overwrite_an_input(parts, capsys):
    (plain_path, _), (fused_path, _) = parts
    before = plain_path.read_bytes()
    assert main([str(plain_path), str(fused_path), "-o", str(plain_path)]) == 2
    assert "is also an input" in capsys.readouterr().err and plain_path.read_bytes() == before


def test_a_blend_is_not_trained_but_continued_through_its_plain_part(parts, tmp_path):
    from pose3d_cli.train import TrainConfig, build_or_init_model

    with pytest.raises(Pose3dError, match="made from two trained checkpoints"):
        check_trainable("blend", {})
    (plain_path, plain), (fused_path, _) = parts
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    model, name, args = build_or_init_model(TrainConfig(data="x.h5", output=str(tmp_path / "o.pt"), init=str(out)),
                                            H36M17, None)
    assert name == "mlp" and args == {"width": 32, "blocks": 1, "dropout": 0.05}
    xy, conf, _ = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(xy, conf), plain(xy, conf), rtol=0, atol=0)


def test_train_refuses_a_blend_before_reading_data(tmp_path):
    from typer.testing import CliRunner

    from pose3d_cli.cli.app import app

    data = tmp_path / "pairs.h5"
    data.write_bytes(b"not read")  # refused on --model before the data is opened
    r = CliRunner().invoke(app, ["train", str(data), "-o", str(tmp_path / "m.pt"), "--model", "blend"])
    assert r.exit_code == 2 and "made from two trained checkpoints" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "m.pt").exists()


def test_parts_come_back_as_the_checkpoints_blended(parts, tmp_path, capsys):
    (plain_path, _), (fused_path, _) = parts
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    assert main(["--parts", str(out), "-o", str(tmp_path / "parts")]) == 0
    for which, original in (("plain", plain_path), ("fused", fused_path)):
        got, want = read_checkpoint(tmp_path / "parts" / f"{which}.pt"), read_checkpoint(original)
        assert got["model"] == want["model"] and got["train"] == want["train"]
        assert got["data"] == want["data"]  # the fused part got the plain part's data record
        assert got["state_dict"].keys() == want["state_dict"].keys()
        assert all(torch.equal(got["state_dict"][k], want["state_dict"][k]) for k in want["state_dict"])
    assert main(["--parts", str(plain_path), "-o", str(tmp_path / "p2")]) == 2  # not a blend: one line, nothing written
    assert "not a blend" in capsys.readouterr().err and not (tmp_path / "p2").exists()
    assert main(["--parts", str(out), "-o", str(plain_path)]) == 2  # a file, not a folder: refused, left as it was
    assert "is a file" in capsys.readouterr().err and read_checkpoint(plain_path)["model"]["name"] == "mlp"


def test_an_export_says_it_carries_the_plain_path_only(parts, tmp_path):
    from typer.testing import CliRunner

    from pose3d_cli.cli.app import app
    from pose3d_cli.lifting.onnx_runtime import OnnxLifter

    (plain_path, _), (fused_path, _) = parts
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    r = CliRunner().invoke(app, ["export", str(out), "-o", str(tmp_path / "b.onnx")])
    assert r.exit_code == 0, r.output
    assert "without its detector-3D input" in " ".join(r.output.split())
    lifter, plain = OnnxLifter(tmp_path / "b.onnx"), OnnxLifter(_export(plain_path, tmp_path / "p.onnx"))
    assert "det3d" in lifter.meta["not_exported"] and "not_exported" not in plain.meta
    xy, conf, _ = (a.numpy() for a in _inputs())
    np.testing.assert_allclose(lifter(xy, conf), plain(xy, conf), atol=1e-3)  # the export is the plain model


def _export(path, out):
    from pose3d_cli.export import export_model

    return export_model(path, out, "onnx").path


def test_training_from_a_blend_writes_a_blend_with_the_init_fused_part(parts, tmp_path, small_pairs):
    from pose3d_cli.train import TrainConfig, train

    (plain_path, plain), (fused_path, fused) = parts
    init = save_checkpoint(blend_checkpoints(plain_path, fused_path, 0.25), tmp_path / "b.pt")
    out = tmp_path / "site.pt"
    train(TrainConfig(data=str(small_pairs), output=str(out), init=str(init), epochs=1, batch_size=256, threads=1,
                      subsample=4, max_val_samples=500))
    ck = read_checkpoint(out)
    assert ck["model"] == {"name": "blend", "args": {"width": 32, "blocks": 1, "dropout": 0.05, "fused_weight": 0.25}}
    assert ck["train"]["init"] == str(init) and ck["train"]["parts"]["fused"] == {"seed": 2}
    sd = ck["state_dict"]
    assert all(torch.equal(sd[f"fused.{k}"], v) for k, v in fused.state_dict().items())  # untouched
    assert not all(torch.equal(sd[f"plain.{k}"], v) for k, v in plain.state_dict().items())  # learned
    resumable = read_checkpoint(tmp_path / "site.last.pt")  # resume state continues the plain part it trained
    assert resumable["model"]["name"] == "mlp" and "resume" in resumable


def test_eval_of_a_blend_is_its_plain_part_and_says_so(parts, tmp_path, small_pairs):
    from pose3d_cli.evaluate import evaluate

    (plain_path, _), (fused_path, _) = parts
    out = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    blend, plain = (evaluate(p, small_pairs, split="val", max_samples=300) for p in (out, plain_path))
    assert "plain 2D path" in blend["note"] and "note" not in plain
    assert blend["conditions"] == plain["conditions"]


def test_infer_lifts_with_world_landmarks_only_through_a_model_that_takes_them(tmp_path):
    """lift_track with the shipped blend: a track with BlazePose's world landmarks moves the output and says so
    in the metadata; without them (a keypoint file) the output is its plain part's, and says so too."""
    from pose3d_cli.infer.lifter import default_model_path, load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, Track2D, lift_track
    from pose3d_cli.skeleton import get_skeleton

    bp = get_skeleton("blazepose33")
    T = 8
    rng = np.random.default_rng(5)
    # a standing person's 2D: BlazePose points spread over a 300 x 700 px box, drifting a little
    uv = np.repeat(rng.uniform([500, 200], [800, 900], (bp.num_joints, 2))[None], T, 0) + np.linspace(0, 4, T)[:, None, None]
    world = np.repeat(rng.normal(0, 200, (bp.num_joints, 3))[None], T, 0)
    conf = np.ones((T, bp.num_joints), np.float32)

    def track(w):
        return Track2D(np.arange(T), np.arange(T) / 30.0, uv.astype(np.float32), conf, "blazepose33", 30.0,
                       (1280, 1024), "clip.mp4", "test", None if w is None else w.astype(np.float32))

    main(["--parts", str(default_model_path()), "-o", str(tmp_path / "parts")])
    blend, plain = load_lifter(None), load_lifter(tmp_path / "parts" / "plain.pt")
    opts = InferOptions(skeleton_fit="none", smooth="none")
    with_world, without = lift_track(track(world), blend, opts), lift_track(track(None), blend, opts)
    assert "world landmarks" in with_world.metadata["detector_3d_input"]
    assert without.metadata["detector_3d_input"].startswith("none")
    np.testing.assert_array_equal(without.joints3d, lift_track(track(world), plain, opts).joints3d)
    assert np.abs(with_world.joints3d - without.joints3d).max() > 1.0


def test_resuming_with_another_init_is_refused(parts, tmp_path, small_pairs):
    """A run from a blend writes blends; resumed without that --init it would write plain models over them."""
    from pose3d_cli.train import TrainConfig, train

    (plain_path, _), (fused_path, _) = parts
    init = save_checkpoint(blend_checkpoints(plain_path, fused_path), tmp_path / "b.pt")
    common = dict(data=str(small_pairs), output=str(tmp_path / "o.pt"), epochs=2, batch_size=256, threads=1,
                  subsample=4, max_val_samples=300)
    assert train(TrainConfig(init=str(init), stop_after_steps=2, **common))["stopped"] == "stop_after_steps"
    with pytest.raises(Pose3dError, match="cannot resume with different init"):
        train(TrainConfig(model_args={"width": 32, "blocks": 1}, **common), resume=True)


def test_the_command_says_one_line_when_it_cannot_write(parts, tmp_path, capsys):
    (plain_path, _), (fused_path, _) = parts
    assert main([str(plain_path), str(fused_path), "-o", str(tmp_path / "no" / "such" / "b.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()  # refused before the blend was built


def test_info_describes_a_blend_without_loading_its_weights(parts, tmp_path):
    from pose3d_cli.lifting.checkpoint import describe_checkpoint

    (plain_path, plain), (fused_path, _) = parts
    ck = blend_checkpoints(plain_path, fused_path, 0.25)
    d = describe_checkpoint(save_checkpoint(ck, tmp_path / "b.pt"))
    assert "weight 0.25" in d["detector 3D input"]
    n_plain = sum(p.numel() for p in plain.parameters())
    assert d["parameters"] == n_plain + sum(p.numel() for p in _trained_like("fused", 9, tmp_path)[1].parameters())
    del ck["state_dict"]["fused.head.bias"]  # damaged: still described
    assert describe_checkpoint(save_checkpoint(ck, tmp_path / "damaged.pt"))["model"] == "blend"
    assert describe_checkpoint(plain_path)["detector 3D input"].startswith("no")
