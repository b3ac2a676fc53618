"""Several sources with kinds and weights: 2D-only learning needs the prior, resume stays bit-identical, and bad
sources or --init models are one-line errors."""

import shutil

import h5py
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.lifting.checkpoint import read_checkpoint, save_checkpoint
from pose3d_cli.lifting.models import MODELS, build_model, contract_of
from pose3d_cli.skeleton import H36M17

from conftest import fitted
from pose3d_cli.train import TrainConfig, last_path, train

SMALL = {"mlp": {"width": 32, "blocks": 1}, "temporal": {"channels": 16, "filter_widths": [3, 3]}, "fused": {"width": 64, "blocks": 1}, "blend": {"width": 64, "blocks": 1},
         "nn": {"k": 4, "library": 300, "chunk": 128}}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_states_its_contract(name):
    J = H36M17.num_joints
    for causal in ((False, True) if name == "temporal" else (False,)):
        args = dict(SMALL[name], **({"causal": causal} if name == "temporal" else {}))
        m = fitted(build_model(name, J, 0, np.zeros((J, 3)), np.ones((J, 3)), **args)).eval()
        c = contract_of(m)
        assert c.receptive_field == m.receptive_field() and c.causal == causal
        assert c.inputs[:2] == ("xy", "confidence")  # the fused model adds optional det3d inputs after them
        T = c.receptive_field + 4
        out = m(torch.zeros(2, T, J, 2), torch.ones(2, T, J))
        assert out.shape[1] == (T if not c.temporal else c.output_frames(T))
        assert c.frames_before == (c.receptive_field - 1 if causal else (c.receptive_field - 1) // 2)


@pytest.fixture(scope="module")
def prior_pairs(tmp_path_factory):
    """Mocap poses for the prior from other files (Bandai 1) than the 2D source (Bandai 2)."""
    from pose3d_cli.synth.pairs import SynthConfig, synthesise

    from conftest import MOCAP, need

    files = sorted(need(MOCAP / "bvh" / "bandai_namco_1").glob("*.bvh"))[::12][:12]
    out = tmp_path_factory.mktemp("prior") / "prior.h5"
    synthesise(files, out, SynthConfig(views=2, seed=2, val_fraction=0.0, test_fraction=0.0))
    return out


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    from pose3d_cli.synth.pairs import SynthConfig, synthesise

    from conftest import MOCAP, need

    files = sorted(need(MOCAP / "bvh" / "bandai_namco_2").glob("*.bvh"))[3::6][:16]  # not in small_pairs
    out = tmp_path_factory.mktemp("held") / "held.h5"
    # by file: half validates (chooses the epoch), half is scored (validating on the scored files was tuning on them)
    synthesise(files, out, SynthConfig(views=2, seed=3, val_fraction=0.5, test_fraction=0.5))
    return out


def _p_mpjpe_and_baseline(model_path, held, prior):
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.lifting.codec import pixels_to_network_input, root_relative
    from pose3d_cli.lifting.predict import predict_frames
    from pose3d_cli.metrics import p_mpjpe

    m, d = load_model(model_path), load_pairs(held).split("test")
    xy, conf = pixels_to_network_input(d.keypoints_2d, d.confidence, d.K[d.camera_index])
    pred, tgt = predict_frames(m.model, xy, conf), root_relative(d.joints_3d, 0)
    mean_pose = root_relative(load_pairs(prior).joints_3d, 0).mean(0)
    return p_mpjpe(pred, tgt).mean(), p_mpjpe(np.broadcast_to(mean_pose, tgt.shape), tgt).mean()


@pytest.mark.slow
def test_two_d_only_run_collapses_without_the_prior_and_not_with_it(small_pairs, prior_pairs, held_out, tmp_path):
    """2D only (small_pairs' 2D; its 3D is never read), reprojection loss, from scratch; held out: other files.
    Without a prior the lifted poses are hardly better than the mean pose (reprojection fixes the 2D, not the
    depth); with the shape prior (fitted on other people's mocap) they beat both clearly. Measured on 5 seeds
    (README): no prior 97.5-103.3 mm, shape prior 74.6-89.1, mean pose 115.7; the adversarial prior at 1.0 was
    not better than none on the dev files (115.9 vs 112.5 mm mean of 3 seeds), so it is not what this tests."""
    src = tmp_path / "src.yaml"
    src.write_text(f"sources:\n  - {{path: {small_pairs}, kind: 2d}}\nval: {held_out}\nprior: {prior_pairs}\n")
    common = dict(data=str(src), model_args={"width": 128, "blocks": 1, "dropout": 0.0}, batch_size=256, threads=1,
                  epochs=60, lr=3e-3, reproj_weight=1.0)
    train(TrainConfig(output=str(tmp_path / "no.pt"), **common))
    train(TrainConfig(output=str(tmp_path / "yes.pt"), shape_prior_weight=1.0, **common))
    no, baseline = _p_mpjpe_and_baseline(tmp_path / "no.pt", held_out, prior_pairs)
    yes, _ = _p_mpjpe_and_baseline(tmp_path / "yes.pt", held_out, prior_pairs)
    print(f"no prior {no:.1f}, shape prior {yes:.1f}, mean pose {baseline:.1f}")
    assert no > 0.8 * baseline  # collapsed: hardly better than the mean pose
    assert yes < baseline - 10 and yes < no - 10  # (since stop 30 the epoch is chosen on other files than scored:
    # 83 vs 104 and 130 mm here; chosen on the scored files themselves it had passed 0.8 x the mean pose)


def test_resume_bit_identical_with_2d_source_prior_and_distillation(small_pairs, prior_pairs, tmp_path):
    base = tmp_path / "base.pt"
    fast = dict(model_args={"width": 32, "blocks": 1}, batch_size=512, threads=1, max_val_samples=300)
    train(TrainConfig(data=str(small_pairs), output=str(base), epochs=1, **fast))
    common = dict(data=str(small_pairs), sources=[{"path": str(small_pairs), "kind": "2d", "weight": 0.5}],
                  prior=str(prior_pairs), epochs=2, init=str(base), reproj_weight=1.0, prior_weight=0.5, shape_prior_weight=0.5,
                  bone_constancy_weight=0.5, smooth_weight=0.5, distill_weight=1.0, ewc_weight=10.0, clip=8,
                  bone_weight=0.5, flexion_weight=0.5, **fast)
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    sa = train(TrainConfig(output=str(a), **common))
    assert set(sa["history"][-1]["terms"]) >= {"mpjpe", "bone", "flexion", "distill", "ewc", "2d_reprojection",
                                             "2d_prior", "2d_shape_prior", "disc"}
    s = train(TrainConfig(output=str(b), stop_after_steps=4, **common))
    assert s["stopped"] == "stop_after_steps"
    train(TrainConfig(output=str(b), **common), resume=True)
    wa, wb = read_checkpoint(last_path(a)), read_checkpoint(last_path(b))
    for k in wa["state_dict"]:
        assert torch.equal(wa["state_dict"][k], wb["state_dict"][k]), k
    for k in wa["resume"]["disc"]:
        assert torch.equal(wa["resume"]["disc"][k], wb["resume"]["disc"][k]), k


def test_bad_sources_and_init_are_one_line_errors(small_pairs, tmp_path):
    from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv

    out = tmp_path / "m.pt"
    base = ["train", str(small_pairs), "-o", str(out), "--epochs", "1", "--arg", "width=32", "--arg", "blocks=1"]

    def run(*extra):
        r = CliRunner().invoke(app, [*base, *extra])
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and len(r.stderr.strip().splitlines()) <= 2
        return r.stderr

    # a 2D-only keypoint file without intrinsics
    seq = KeypointSequence(np.random.default_rng(0).uniform(100, 500, (20, 17, 2)), np.ones((20, 17)), "coco17",
                           np.arange(20), 30.0, (1080, 1920))
    csv = tmp_path / "kp.csv"
    write_keypoints_csv(seq, csv)
    assert "no intrinsics" in run("--source", f"{csv}:2d", "--reproj-weight", "1")
    # a source of another skeleton
    other = tmp_path / "other.h5"
    shutil.copy(small_pairs, other)
    with h5py.File(other, "a") as f:
        f.attrs["skeleton"] = "coco17"
        from pose3d_cli.skeleton import COCO17

        f.attrs["joint_names"] = list(COCO17.joints)
    assert "skeleton coco17" in run("--source", f"{other}:2d", "--reproj-weight", "1")
    assert "skeleton coco17" in run("--source", f"{other}:pairs")
    # a 2D source with no 2D loss switched on
    assert "needs a 2D loss" in run("--source", f"{small_pairs}:2d")
    # an --init model with another codec
    train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "v1.pt"), epochs=1,
                      model_args={"width": 32, "blocks": 1}, batch_size=512, threads=1))
    ck = read_checkpoint(tmp_path / "v1.pt")
    ck["codec"]["name"] = "pixels-v0"
    save_checkpoint(ck, tmp_path / "foreign.pt")
    assert "codec 'pixels-v0'" in run("--init", str(tmp_path / "foreign.pt"))
    assert "give it with --init" in run("--distill-weight", "1")
    # --prior with every term that reads it off did nothing (accepted, exit 0)
    assert "leave --prior out" in run("--prior", str(small_pairs))
    # a pose prior with no mocap poses to learn from (2D only, no prior: pairs)
    only_2d = tmp_path / "only2d.yaml"
    only_2d.write_text(f"sources:\n  - {{path: {small_pairs}, kind: 2d}}\nval: {small_pairs}\n")
    for prior in ("--shape-prior-weight", "--prior-weight"):
        r = CliRunner().invoke(app, ["train", str(only_2d), "-o", str(out), "--epochs", "1", "--init",
                                     str(tmp_path / "v1.pt"), "--reproj-weight", "1", prior, "1"])
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert f"{prior} needs mocap poses" in r.stderr and len(r.stderr.strip().splitlines()) <= 2, r.stderr
    assert not out.exists()


def test_inputs_named_in_a_sources_file_are_never_overwritten(small_pairs, tmp_path):
    """The files a sources YAML lists (sources, val, prior) are inputs too: -o/--log on one of them is refused
    before training, and the file is left as it was."""
    data = tmp_path / "p.h5"
    shutil.copy(small_pairs, data)
    val = tmp_path / "v.h5"
    shutil.copy(small_pairs, val)
    spec = tmp_path / "s.yaml"
    spec.write_text(f"sources:\n  - {{path: p.h5, kind: pairs}}\nval: {val.name}\n")
    before = data.read_bytes(), val.read_bytes()
    for extra in (["--log", str(data)], ["--log", str(val)]):
        r = CliRunner().invoke(app, ["train", str(spec), "-o", str(tmp_path / "m.pt"), "--epochs", "1", *extra])
        assert r.exit_code == 2 and "is also an input" in r.output, r.output
    assert (data.read_bytes(), val.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.h5", "s.yaml", "v.h5"]


@pytest.mark.parametrize("entry,msg", [
    ("fov: wide", "fov must be a number"), ("fov: -10", "fov must be a number"), ("fov: 500", "fov must be a number"),
    ("focal: long", "focal must be a number"), ("image_size: big", "image_size must be WxH"),
    ("image_size: [1, 2, 3]", "image_size must be WxH"), ("image_size: -1x0", "image_size must be WxH"),
    ("fov: 65, focal: 3000", "fov and focal both give the intrinsics"),  # fov was dropped without a word
    ("views: [a.csv]", "views does not apply to a 2d source"),  # ignored without a word
])
def test_a_sources_entry_of_the_wrong_type_is_one_line(tmp_path, entry, msg):
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.training.sources import read_sources_file

    spec = tmp_path / "s.yaml"
    spec.write_text(f"sources:\n  - {{path: kp.csv, kind: 2d, {entry}}}\n")
    with pytest.raises(Pose3dError, match=msg):
        read_sources_file(spec)


def test_unquoted_frames_and_non_utf8_files_are_one_line(tmp_path):
    """YAML reads an unquoted 10:50 as the number 650 (the error named '650'); a Latin-1 file was a traceback."""
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.training.sources import read_sources_file

    spec = tmp_path / "s.yaml"
    spec.write_text("sources:\n  - {path: ref.npz, kind: image3d, views: [a.csv], frames: 10:50}\n")
    with pytest.raises(Pose3dError, match="frames must be quoted"):
        read_sources_file(spec)
    spec.write_text("sources:\n  - {path: ref.npz, kind: image3d, views: [a.csv], frames: \"ten\"}\n")
    with pytest.raises(Pose3dError, match="expected START:STOP"):
        read_sources_file(spec)
    spec.write_bytes("sources:\n  - {path: caf\u00e9/kp.csv, kind: 2d, fov: 65}\n".encode("latin-1"))
    with pytest.raises(Pose3dError, match="not UTF-8"):
        read_sources_file(spec)


def test_bad_source_kind_weight_model_argument_and_output_suffix(small_pairs, tmp_path):
    def refused(*args):
        r = CliRunner().invoke(app, ["train", str(small_pairs), "--epochs", "1", *map(str, args)])
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        return r.output

    assert "'bogus' is neither a kind" in refused("-o", tmp_path / "m.pt", "--source", f"{small_pairs}:bogus")
    assert "'abc' is neither a kind" in refused("-o", tmp_path / "m.pt", "--source", f"{small_pairs}:pairs:abc")
    assert "width must be a whole number >= 1" in refused("-o", tmp_path / "m.pt", "--arg", "width=abc")
    assert "dropout must be a number in [0, 1)" in refused("-o", tmp_path / "m.pt", "--arg", "dropout=2")
    # a temporal model of one frame was accepted, then crashed as an internal error (no time axis)
    assert "not all 1 (one frame: use --model mlp)" in refused("-o", tmp_path / "m.pt", "--model", "temporal",
                                                               "--arg", "filter_widths=[1,1]")
    assert "written as .pt" in refused("-o", tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_several_pairs_sources_are_validated_on_every_ones_val_split(small_pairs, tmp_path):
    """A run on several pairs sources without --val was validated (and its best epoch chosen) on the first source's
    val split alone: the continual recipe's joint model kept its best epoch for task 1."""
    import shutil

    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.lifting.checkpoint import read_checkpoint
    from pose3d_cli.train import TrainConfig, train

    second = tmp_path / "second.h5"
    shutil.copy(small_pairs, second)
    spec = tmp_path / "two.yaml"
    spec.write_text(f"sources:\n  - {{path: {small_pairs}, kind: pairs}}\n  - {{path: {second}, kind: pairs}}\n")
    out = tmp_path / "m.pt"
    train(TrainConfig(data=str(spec), output=str(out), epochs=1, model_args={"width": 32, "blocks": 1},
                      batch_size=512, threads=1))
    data = read_checkpoint(out)["data"]
    n_val = len(load_pairs(small_pairs).split("val"))
    assert data["val_pairs"] == 2 * n_val and data["val"] == "split 'val' of each of the 2 pairs sources"


def test_val_file_is_read_for_its_val_split_only(small_pairs, tmp_path):
    """--val old.h5 validated, and chose the best epoch, on every pair of old.h5, its test split included (the one
    eval-continual reports): its 'val' split only; a file without one is refused."""
    import h5py

    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.lifting.checkpoint import read_checkpoint
    from pose3d_cli.train import TrainConfig, train

    out = tmp_path / "m.pt"
    common = dict(data=str(small_pairs), epochs=1, model_args={"width": 32, "blocks": 1}, batch_size=512, threads=1)
    train(TrainConfig(output=str(out), val=str(small_pairs), **common))
    pairs = load_pairs(small_pairs)
    assert read_checkpoint(out)["data"]["val_pairs"] == len(pairs.split("val")) < len(pairs)
    no_val = tmp_path / "no_val.h5"
    shutil.copy(small_pairs, no_val)
    with h5py.File(no_val, "a") as f:
        split = f["sequences/split"][()]
        f["sequences/split"][...] = np.where(split == b"val", b"test", split)
    with pytest.raises(Pose3dError, match="no 'val' split"):
        train(TrainConfig(output=str(tmp_path / "n.pt"), val=str(no_val), **common))


def test_ewc_alone_builds_no_teacher_and_anchors_at_the_init_weights(small_pairs, tmp_path):
    """An EWC-only update ran the frozen teacher on every batch and used nothing of it."""
    import torch

    from pose3d_cli import train as T
    from pose3d_cli.lifting.checkpoint import load_model
    from pose3d_cli.skeleton import H36M17

    init = tmp_path / "v1.pt"
    T.train(T.TrainConfig(data=str(small_pairs), output=str(init), epochs=1, model_args={"width": 32, "blocks": 1},
                          batch_size=512, threads=1))
    model = load_model(init).model
    cfg = T.TrainConfig(data=str(small_pairs), output=str(tmp_path / "v2.pt"), init=str(init), ewc_weight=1.0)
    _, tr, _, _ = T.prepare_data(cfg)
    terms = T.build_terms(cfg, model, H36M17, tr, [], None)
    assert terms["teacher"] is None and terms["ewc"] is not None
    for n, p in model.named_parameters():
        assert torch.equal(terms["ewc"].anchor[n], p.detach()), n


@pytest.mark.parametrize("word", ["off", "yes", "true", "no"])
def test_a_yaml_boolean_weight_is_one_line(tmp_path, word):
    """float(True) is 1.0: ``weight: off`` trained with weight 0.0 and ``weight: yes`` with 1.0 without a word."""
    from pose3d_cli.errors import Pose3dError
    from pose3d_cli.training.sources import read_sources_file

    spec = tmp_path / "s.yaml"
    spec.write_text(f"sources:\n  - {{path: a.h5, kind: pairs, weight: {word}}}\n")
    with pytest.raises(Pose3dError, match="weight must be a number ≥ 0, got the boolean") as e:
        read_sources_file(spec)
    assert "\n" not in str(e.value) and str(e.value).startswith(str(spec)) and "weight: 1" in str(e.value)
