"""The nearest-neighbour baseline (Chen & Ramanan 2017): exact retrieval, the masked aligned distance against a
brute-force least-squares fit, and learning on real pairs (it must beat the mean pose)."""

import numpy as np
import pytest
import torch

from pose3d_cli.errors import Pose3dError
from pose3d_cli.lifting.models import build_model
from pose3d_cli.skeleton import H36M17

J = H36M17.num_joints
ROOT = H36M17.index(H36M17.root)


def library_poses(n=200, seed=0):
    """Random root-relative poses (n, J, 3) mm, 4 m in front of the camera, and their exact projections."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, J, 3, generator=g, dtype=torch.float64).float() * 200.0
    X[..., 2] += 4000.0
    return X[..., :2] / X[..., 2:], X - X[:, ROOT:ROOT + 1]


def nn_model(k, library=1000, chunk=64):
    return build_model("nn", J, ROOT, np.zeros((J, 3)), np.ones((J, 3)), k=k, library=library, chunk=chunk).eval()


def test_a_library_pose_is_retrieved_from_its_own_2d():
    xy, X = library_poses()
    m = nn_model(k=1)
    assert m.fit(xy, torch.ones(len(xy), J), X) == len(xy)
    out = m(xy, torch.ones(len(xy), J))
    torch.testing.assert_close(out, X, rtol=0, atol=1e-3)
    # the 2D moved and scaled in the image, and 3 joints missing (their coordinates garbage): still that pose
    conf = torch.ones(len(xy), J)
    conf[:, [3, 9, 15]] = 0.0
    moved = xy * 0.7 + torch.tensor([0.1, -0.05])
    moved[:, [3, 9, 15]] = 5.0
    torch.testing.assert_close(m(moved, conf), X, rtol=0, atol=1e-3)
    # k = 8: the exact match dominates the inverse-distance average
    m8 = nn_model(k=8)
    m8.fit(xy, torch.ones(len(xy), J), X)
    assert (m8(xy, torch.ones(len(xy), J)) - X).norm(dim=-1).max() < 0.5  # mm


def test_distance_is_the_masked_best_translation_and_scale_fit():
    xy, X = library_poses(n=40, seed=1)
    m = nn_model(k=1)
    m.fit(xy, torch.ones(len(xy), J), X)
    g = torch.Generator().manual_seed(2)
    q = torch.randn(5, J, 2, generator=g) * 0.05
    conf = torch.rand(5, J, generator=g) * 0.9 + 0.1
    conf[:, :4] = 0.0  # missing joints
    d = m.distances(q, conf, m.library_2d).numpy()
    lib = m.library_2d.numpy().astype(np.float64)
    for b in range(5):
        w = conf[b].numpy().astype(np.float64)  # present joints weigh by confidence (all > 0.05 here)
        qb = q[b].numpy().astype(np.float64)
        qc = qb - (w[:, None] * qb).sum(0) / w.sum()
        spread = (w * (qc ** 2).sum(1)).sum()
        for i in range(len(lib)):  # min over s >= 0, t of sum_j w_j |q_j - s l_j - t|^2, by weighted least squares
            A = np.zeros((2 * J, 3))
            A[0::2, 0], A[1::2, 0] = lib[i, :, 0], lib[i, :, 1]
            A[0::2, 1], A[1::2, 2] = 1.0, 1.0
            sw = np.sqrt(np.repeat(w, 2))
            sol = np.linalg.lstsq(A * sw[:, None], qb.reshape(-1) * sw, rcond=None)[0]
            if sol[0] < 0:  # a mirrored (negative) scale is not allowed: translation only
                sol = np.array([0.0, *((w[:, None] * qb).sum(0) / w.sum())])
            resid = (w * ((qb - (sol[0] * lib[i] + sol[1:])) ** 2).sum(1)).sum()
            assert d[b, i] == pytest.approx(resid / spread, abs=1e-4)


def test_nn_beats_the_mean_pose_on_held_out_real_pairs(small_pairs, tmp_path):
    from pose3d_cli.dataset import load_pairs
    from pose3d_cli.lifting.checkpoint import load_model, read_checkpoint
    from pose3d_cli.lifting.codec import pixels_to_network_input, root_relative
    from pose3d_cli.lifting.predict import predict_frames
    from pose3d_cli.metrics import mpjpe
    from pose3d_cli.train import TrainConfig, train

    out = tmp_path / "nn.pt"
    s = train(TrainConfig(data=str(small_pairs), output=str(out), model="nn", model_args={"k": 8, "library": 1000},
                          threads=1))
    assert s["epochs_done"] == 1 and s["parameters"] == 0
    ck = read_checkpoint(out)
    assert ck["state_dict"]["library_3d"].shape == (1000, J, 3)  # a sample of the 1880 training pairs
    d = load_pairs(small_pairs)
    tr, va = d.split("train"), d.split("val")
    xy, conf = pixels_to_network_input(va.keypoints_2d, va.confidence, va.K[va.camera_index])
    pred = predict_frames(load_model(out).model, xy, conf)
    tgt = root_relative(va.joints_3d, ROOT)
    mean_pose = root_relative(tr.joints_3d, ROOT).mean(0)
    nn_err, mean_err = mpjpe(pred, tgt).mean(), mpjpe(np.broadcast_to(mean_pose, tgt.shape), tgt).mean()
    assert nn_err < 0.8 * mean_err, (nn_err, mean_err)
    assert s["best_val_mpjpe"] == pytest.approx(nn_err, rel=0.05)  # train validated the same thing


def test_nn_refuses_what_a_one_pass_fit_cannot_do(small_pairs, tmp_path):
    from pose3d_cli.train import TrainConfig, train

    with pytest.raises(Pose3dError, match="one pass.*--resume"):
        train(TrainConfig(data=str(small_pairs), output=str(tmp_path / "nn.pt"), model="nn", threads=1), resume=True)
    assert not (tmp_path / "nn.pt").exists()
