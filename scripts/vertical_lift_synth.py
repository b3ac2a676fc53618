"""Lift a synth HDF5 with a pose3d lifter and save what the vertical estimator needs (for training/measuring).

    python scripts/vertical_lift_synth.py synth.h5 out.npz [--model m.pt] [--every N]

Saves, per kept sample: ``pred`` (N, J, 3) the lifter's root-relative camera-frame joints (mm, flip-averaged as
in ``pose3d infer``), ``gt`` (N, J, 3) the true root-relative joints, ``root`` (N, 3) the true camera-frame root,
``xy`` (N, J, 2) normalised image coordinates, ``conf`` (N, J), ``up`` (N, 3) the true world up (+Z) in the
camera frame (third column of ``cam_from_world_R``), ``seq`` (N,) sequence index, ``frame`` (N,), ``split`` (S,),
``source`` (S,). Sequences are kept whole (``--every`` subsamples frames inside each sequence).
"""

from __future__ import annotations

import argparse

import h5py
import numpy as np

from pose3d_cli.dataset import load_pairs
from pose3d_cli.infer.lifter import load_lifter
from pose3d_cli.lifting.codec import pixels_to_network_input, root_relative
from pose3d_cli.lifting.sequence import run_frames


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--model", default=None)
    ap.add_argument("--every", type=int, default=1)
    a = ap.parse_args()
    d = load_pairs(a.data)
    with h5py.File(a.data, "r") as f:
        R = f["cam_from_world_R"][()]
    keep = np.flatnonzero(d.frame_index % a.every == 0)
    lifter = load_lifter(a.model)
    root = lifter.skeleton.index(lifter.skeleton.root)
    cam = d.camera_index[keep]
    xy, conf = pixels_to_network_input(d.keypoints_2d[keep], d.confidence[keep], d.K[cam])
    # distortion: the synth default has none (k1 = 0); refuse silently wrong input
    assert np.allclose(d.dist, 0), "distorted synth cameras are not handled by this script"
    pred = run_frames(lifter.fn, xy, conf)
    gt3 = d.joints_3d[keep]
    np.savez_compressed(a.out, pred=pred.astype(np.float32), gt=root_relative(gt3, root).astype(np.float32),
                        root=gt3[:, root].astype(np.float32), xy=xy, conf=conf,
                        up=R[keep][:, :, 2].astype(np.float32), seq=d.sequence_index[keep],
                        frame=d.frame_index[keep], split=d.sequences["split"].astype(str),
                        source=d.sequences["source"].astype(str), fps=d.sequences["fps"])
    print(f"{a.out}: {len(keep)} samples")


if __name__ == "__main__":
    main()
