"""Review fixes of ``pose3d train``'s 2D-only path: a frame nobody was detected in is no measurement for the track
terms, and a run without a pairs source measures its smoothness threshold within the prior's sequences."""

import numpy as np
import pytest
import torch

from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.skeleton import H36M17
from pose3d_cli.train import TrainConfig, new_frames, train
from pose3d_cli.training import losses as L
from pose3d_cli.training.sources import SourceSpec, load_2d_source

BONES = torch.from_numpy(H36M17.bone_indices)
FOCAL, W, H = 1000.0, 1920, 1080


def _walking_pose(T: int) -> np.ndarray:
    """(T, J, 3) camera-frame mm: one rigid pose (pelvis-centred, ~250 mm spread, seeded) 4 m ahead, moving 5 mm a
    frame along x (no acceleration, constant bones)."""
    g = np.random.default_rng(0)
    pose = g.normal(0.0, 250.0, (H36M17.num_joints, 3))
    pose -= pose[H36M17.index(H36M17.root)]
    return pose[None] + np.array([0.0, 0.0, 4000.0]) + np.arange(T)[:, None, None] * np.array([5.0, 0.0, 0.0])


def test_a_csv_frame_nobody_was_detected_in_counts_in_no_track_term(tmp_path):
    """A pose3d CSV (what ``pose3d infer --with-2d`` and adapt's work CSVs write) whose frame 6 is blank stays one
    track; with the lifter exact on every other frame and guessing on frame 6 (the pose shrunk to 0.8), bone
    constancy and smoothness of the clip, weighted as training weighs it (train.new_frames), are 0 (before: frame 6
    counted with weight 1, 7.6 mm and 31 mm/frame² in the reviewer's case)."""
    T = 12
    truth = _walking_pose(T)
    px = truth[..., :2] / truth[..., 2:] * FOCAL + np.array([W / 2, H / 2])
    conf = np.full((T, H36M17.num_joints), 0.9)
    conf[6] = 0.0
    csv = tmp_path / "track.csv"
    write_keypoints_csv(KeypointSequence(px, conf, H36M17.name, np.arange(T), None, (W, H)), csv)
    clip = load_2d_source(SourceSpec(str(csv), "2d", 1.0, focal=FOCAL), H36M17)
    assert clip.ranges == [(0, T)] and float(clip.conf[6].max()) == 0.0
    rows = torch.arange(T)[None]
    pred = torch.from_numpy(truth - truth[:, :1]).float()[None]
    pred[:, 6] *= 0.8
    b = L.Batch(pred, None, clip.xy[rows], clip.conf[rows], frame_weight=new_frames(rows), fps=clip.fps)
    assert float(L.BoneConstancy(BONES)(b)) == pytest.approx(0.0, abs=1e-3)
    assert float(L.Smoothness(1.0)(b)) == pytest.approx(0.0, abs=1e-3)


def test_a_2d_only_run_measures_smoothness_within_the_prior_s_sequences(small_pairs, tmp_path, monkeypatch):
    """Only 2D sources and ``prior: pairs.h5``: the smoothness threshold was the prior's poses taken as one sequence
    (the jumps between takes and views in its 99.9th percentile: 461 instead of 57 mm/frame² in the reviewer's case)
    at no rate. It equals the threshold (and rate) of a run given the same poses as its pairs source."""
    made = []

    class Recorded(L.Smoothness):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(L, "Smoothness", Recorded)
    fast = dict(model_args={"width": 32, "blocks": 1}, batch_size=256, threads=1, epochs=1, stop_after_steps=1,
                reproj_weight=1.0, smooth_weight=0.1, sources=[{"path": str(small_pairs), "kind": "2d"}])
    only_2d = tmp_path / "only2d.yaml"
    only_2d.write_text(f"sources:\n  - {{path: {small_pairs}, kind: 2d}}\nval: {small_pairs}\nprior: {small_pairs}\n")
    train(TrainConfig(data=str(only_2d), output=str(tmp_path / "a.pt"), **{**fast, "sources": []}))
    train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "b.pt"), **fast))
    two_d, pairs = made
    assert pairs.fps is not None  # the pairs say their rate: the threshold is per second
    assert (two_d.margin, two_d.fps) == (pairs.margin, pairs.fps)
