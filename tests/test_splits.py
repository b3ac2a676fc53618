"""Splits: a stable function of each file's identity; small sets still serve the next command; protocols."""

import shutil

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import MOCAP, need
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.splits import assign_splits, file_digest, split_of
from pose3d_cli.synth.pairs import SynthConfig, SynthError, synthesise

runner = CliRunner()
BANDAI = MOCAP / "bvh" / "bandai_namco_2"


def cli(*args):
    from pose3d_cli.cli.app import app

    return runner.invoke(app, [str(a) for a in args])


def splits_by_file(path) -> dict[str, str]:
    with h5py.File(path, "r") as f:
        src = [s.decode().split("/")[-1] for s in f["sequences/source"][()]]
        split = [s.decode() for s in f["sequences/split"][()]]
    out: dict[str, str] = {}
    for s, sp in zip(src, split):
        assert out.setdefault(s, sp) == sp  # every sequence of a file in one split
    return out


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    """root/a/b/{x,y}/ holding 12 short Bandai takes."""
    folder = need(BANDAI)
    root = tmp_path_factory.mktemp("deep") / "root"
    files = sorted(folder.glob("*.bvh"))[::6][:12]
    for i, f in enumerate(files):
        dst = root / "a" / "b" / ("x" if i % 2 else "y") / f.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dst)
    return root


def test_unchanged_by_folder_depth_seed_and_workers(deep, tmp_path):
    runs = []
    for i, (folder, seed, workers) in enumerate([(deep, 0, 1), (deep / "a", 7, 2), (deep / "a" / "b", 123, 1)]):
        out = tmp_path / f"{i}.h5"
        synthesise([folder], out, SynthConfig(views=1, seed=seed, val_fraction=0.2, test_fraction=0.2),
                   workers=workers)
        runs.append(splits_by_file(out))
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0]) == 12 and set(runs[0].values()) == {"train", "val", "test"}
    # the splits are those of the files' digests (repaired per folder of 6 where a split is empty)
    paths = {f.name: f for f in deep.rglob("*.bvh")}
    digests = {n: file_digest(f) for n, f in paths.items()}
    expected, notes = assign_splits(list(digests.values()), 0.2, 0.2,
                                    strata={digests[n]: str(paths[n].resolve().parent) for n in paths})
    assert not notes and runs[0] == {n: expected[d] for n, d in digests.items()}
    moved = sum(expected[d] != split_of(d, 0.2, 0.2) for d in digests.values())
    assert moved <= 4  # at most one move per empty (folder, split)


def test_a_copied_and_renamed_tree_keeps_its_splits(deep, tmp_path):
    files = sorted(deep.rglob("*.bvh"))
    other = tmp_path / "elsewhere" / "deeper"
    renamed = {}
    for i, f in enumerate(files):
        dst = other / ("folder1" if f.parent.name == "x" else "folder2") / f"take{i:02d}.bvh"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dst)
        renamed[dst.name] = f.name
    a = splits_by_file(_synth([deep], tmp_path / "a.h5"))
    b = splits_by_file(_synth([tmp_path / "elsewhere"], tmp_path / "b.h5"))
    assert {renamed[n]: s for n, s in b.items()} == a


def _synth(inputs, out, **kw):
    cfg = SynthConfig(views=1, seed=0, **kw)
    synthesise(inputs, out, cfg)
    return out


@pytest.mark.parametrize("n, val, test, expected, note", [
    (1, 0.1, 0.1, {"train": 1}, "no val or test split"),
    (2, 0.1, 0.1, {"train": 1, "val": 1}, "no test split"),
    (2, 0.0, 0.1, {"train": 1, "test": 1}, None),
    (3, 0.1, 0.1, {"train": 1, "val": 1, "test": 1}, None),
    (4, 0.1, 0.1, {"train": 2, "val": 1, "test": 1}, None),
    (8, 0.1, 0.0, {"train": 7, "val": 1}, None),
])
def test_small_sets(n, val, test, expected, note):
    groups = [f"g{i}" for i in range(n)]
    out, notes = assign_splits(groups, val, test)
    counts = {s: list(out.values()).count(s) for s in ("train", "val", "test") if s in out.values()}
    assert counts == expected
    if note:
        (line,) = notes
        assert note in line and "never split by frame" in line
    else:
        assert notes == []


def test_repair_moves_the_nearest_group_only():
    groups = [f"file{i}" for i in range(40)]
    hashed = {g: split_of(g, 0.1, 0.0) for g in groups}
    if "val" in hashed.values():  # make val empty by construction: drop the val files
        groups = [g for g in groups if hashed[g] != "val"]
    out, notes = assign_splits(groups, 0.1, 0.0)
    moved = [g for g in groups if out[g] != split_of(g, 0.1, 0.0)]
    assert not notes and len(moved) == 1 and out[moved[0]] == "val"


def test_one_bvh_says_why_it_has_no_val(tmp_path):
    f = need(MOCAP / "bvh" / "cmu" / "131_01.bvh")
    out = tmp_path / "one.h5"
    r = cli("synth", f, out, "--views", 1, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert splits_by_file(out) == {"131_01.bvh": "train"}
    assert "warning: 1 file: no val or test split" in " ".join(r.stderr.split())
    assert "split train/val/test" in r.stderr and "1 / 0 / 0 files" in r.stderr


def test_four_cmu_files_fill_every_split(tmp_path):
    folder = need(MOCAP / "bvh" / "cmu")
    out = tmp_path / "cmu.h5"
    r = cli("synth", folder, out, "--views", 1, "--workers", 2)
    assert r.exit_code == 0, r.output
    assert sorted(splits_by_file(out).values()) == ["test", "train", "train", "val"]
    assert "2 / 1 / 1 files" in r.stderr and "warning" not in r.stderr


def test_eight_c3d_files_fill_every_split(tmp_path):
    folder = need(MOCAP / "c3d")
    files = [folder / "cmu" / f for f in ("135_02.c3d", "85_02.c3d", "85_12.c3d")] + [
        folder / "plug_in_gait" / f for f in ("kinematics_tennis_serve.c3d", "kinematics_tennis_serve_2players.c3d",
                                              "kinematics_tennis_serve_nan.c3d", "pycgm_movement_trial.c3d",
                                              "pycgm_static_trial.c3d")]
    out = tmp_path / "c3d.h5"
    report = synthesise([need(f) for f in files], out, SynthConfig(views=1, seed=0))
    assert report.files == 8 and not report.notes
    assert all(report.split_groups[s] >= 1 for s in ("train", "val", "test"))
    assert sum(report.split_groups.values()) == 8
    assert set(splits_by_file(out).values()) == {"train", "val", "test"}


def test_subjects_from_file_names():
    hdm = need(MOCAP / "amc" / "hdm05" / "mm" / "HDM_mm_grabHighR_019_120.amc")
    assert load_motions(hdm)[0].subject == "mm"
    assert load_motions(need(MOCAP / "bvh" / "cmu" / "131_02.bvh"))[0].subject == "cmu131"


def test_named_test_subjects(tmp_path):
    hdm = need(MOCAP / "amc" / "hdm05")
    files = [sorted((hdm / a).glob("*squat*.amc"))[0] for a in ("bd", "bk", "dg", "mm", "tr")]
    out = tmp_path / "proto.h5"
    r = cli("synth", *files, out, "--views", 1, "--workers", 1, "--test-subjects", "dg,tr", "--split-by", "subject")
    assert r.exit_code == 0, r.output
    with h5py.File(out) as f:
        subj = [s.decode() for s in f["sequences/subject"][()]]
        split = [s.decode() for s in f["sequences/split"][()]]
    by = dict(zip(subj, split))
    assert by["dg"] == by["tr"] == "test"
    assert sorted(by[s] for s in ("bd", "bk", "mm")) == ["train", "train", "val"]
    # by file too: the named subjects are the test set, nothing else is
    report = synthesise(files, tmp_path / "f.h5", SynthConfig(views=1, test_subjects=("tr",)))
    assert report.split_groups["test"] == 1 and report.split_groups["val"] == 1
    # a subject that is not there: one clear error, nothing written
    bad = tmp_path / "bad.h5"
    r = cli("synth", *files, bad, "--views", 1, "--workers", 1, "--test-subjects", "S9")
    assert r.exit_code == 2 and "S9 not among the subjects" in r.stderr and not bad.exists()
    with pytest.raises(SynthError, match="S9"):
        synthesise(files, bad, SynthConfig(views=1, test_subjects=("S9",)))


def test_subject_keeps_that_subjects_files(tmp_path):
    # --subject on files that name their subject (AMC, BVH): only that subject's files are filmed; one that is not
    # there is refused before any file is read (it was accepted and did nothing)
    hdm = need(MOCAP / "amc" / "hdm05")
    files = [sorted((hdm / a).glob("*squat*.amc"))[0] for a in ("bd", "tr")]
    out = tmp_path / "tr.h5"
    report = synthesise(files, out, SynthConfig(views=1, subject="tr", val_fraction=0.0, test_fraction=0.0))
    assert report.files == 1
    with h5py.File(out) as f:
        assert {s.decode() for s in f["sequences/subject"][()]} == {"tr"}
    bad = tmp_path / "bad.h5"
    r = cli("synth", *files, bad, "--views", 1, "--workers", 1, "--subject", "nobody")
    assert r.exit_code == 2 and "--subject nobody: no file of that subject" in r.stderr and "bd, tr" in r.stderr
    assert not bad.exists()


def test_each_source_folder_gets_held_out_files():
    # 3 files in each of two folders: repaired per folder, every folder has train, val and test
    groups = [f"g{i}" for i in range(6)]
    strata = {g: ("cmu" if i < 3 else "c3d") for i, g in enumerate(groups)}
    out, notes = assign_splits(groups, 0.1, 0.1, strata=strata)
    assert not notes
    for folder in ("cmu", "c3d"):
        assert sorted(out[g] for g in groups if strata[g] == folder) == ["test", "train", "val"]
    # one file per folder: the folders cannot, the whole set still can
    strata1 = {g: g for g in groups[:3]}
    out, notes = assign_splits(groups[:3], 0.1, 0.1, strata=strata1)
    assert not notes and sorted(out.values()) == ["test", "train", "val"]


@pytest.mark.parametrize("path, subject", [
    ("x/cmu/131_01.bvh", "cmu131"), ("x/hdm/HDM_tr_squat1Reps_049_120.bvh", "tr"), ("h36m/S9_Walking.bvh", "S9"),
    ("data/subject03_lift.bvh", "subject03"), ("data/sub-01/take2.bvh", "sub-01"), ("bandai_namco_1/dataset-1_bow_active_001.bvh", "bandai_namco_1"),
])
def test_subject_of_file_names(path, subject):
    from pathlib import Path

    from pose3d_cli.mocap.load import subject_of

    assert subject_of(Path(path)) == subject


def test_one_take_per_folder_keeps_the_files_own_splits():
    """A folder too small for every split had its files forced to train, then val, then test: with one take per
    folder all went to train and one file each was moved to val and test (30 files: 28/1/1 for 23/4/3)."""
    groups = [f"take-{i:02d}" for i in range(30)]
    own = {g: split_of(g, 0.1, 0.1) for g in groups}
    assert {"train", "val", "test"} <= set(own.values())  # the test means nothing if a split were empty
    for strata in ({g: "one-folder" for g in groups}, {g: f"folder-{g}" for g in groups}, None):
        out, notes = assign_splits(groups, 0.1, 0.1, strata=strata)
        assert out == own and not notes


def test_a_file_in_two_folders_has_one_split_whatever_the_order():
    """The folder of a file given twice was the last one's: its split followed the order of the inputs."""
    from pose3d_cli.synth.pairs import decide_splits

    cfg = SynthConfig(views=1, val_fraction=0.2, test_fraction=0.2)
    names = [f"g{i}" for i in range(9)]  # in folder A; g2 (its hash: test) is also alone, renamed, in folder B
    assert split_of("g2", 0.2, 0.2) == "test"
    a = [(g, f"/data/A/take{i}.bvh") for i, g in enumerate(names)]
    results = []
    for pairs in (a + [("g2", "/data/B/copy.bvh")], [("g2", "/data/B/copy.bvh")] + a):
        gs, srcs = [g for g, _ in pairs], [s for _, s in pairs]
        splits, _, _ = decide_splits(gs, ["s"] * len(gs), cfg, sources=srcs)
        results.append(dict(zip(gs, splits)))
    assert results[0] == results[1] and results[0]["g2"] == "test"


def test_one_take_stored_three_times_lands_in_one_split(tmp_path):
    """The shared Plug-in Gait tennis serve exists as three byte-different files (the take, its trimmed copy with a
    second player, a copy with gaps): by their bytes they land in train, val and test, so a lifter is tested on the
    motion it was trained on. `--same-take` names them one take: one split for all three; other files keep theirs."""
    folder = need(MOCAP / "c3d")
    files = [folder / "cmu" / f for f in ("135_02.c3d", "85_02.c3d", "85_12.c3d")] + [
        folder / "plug_in_gait" / f for f in ("kinematics_tennis_serve.c3d", "kinematics_tennis_serve_2players.c3d",
                                              "kinematics_tennis_serve_nan.c3d", "pycgm_movement_trial.c3d")]
    files = [need(f) for f in files]
    apart, together = tmp_path / "apart.h5", tmp_path / "together.h5"
    synthesise(files, apart, SynthConfig(views=1, seed=0))
    synthesise(files, together, SynthConfig(views=1, seed=0, same_takes=("kinematics_tennis_serve*",)))
    a, t = splits_by_file(apart), splits_by_file(together)
    serve = [k for k in t if "tennis_serve" in k]
    assert len(serve) == 3 and len({t[k] for k in serve}) == 1
    assert len({a[k] for k in serve}) > 1  # by bytes alone they are apart (the leak)
    with pytest.raises(SynthError, match="--same-take 'tennis.c3d': no mocap file"):
        synthesise(files, tmp_path / "x.h5", SynthConfig(views=1, same_takes=("tennis.c3d",)))
    assert not (tmp_path / "x.h5").exists()
