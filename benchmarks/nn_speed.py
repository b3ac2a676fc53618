"""Lifter speed of the nearest-neighbour baseline vs the MLP, torch eager, same threads and inputs, one run.

    python benchmarks/nn_speed.py NN_CHECKPOINT [--mlp pose3d_cli/models/default.pt] [--threads 1]

Inputs are the shipped real BlazePose keypoints (``assets/sample_keypoints.npz``), tiled to each batch.
Prints poses/s per model and batch (best of ``--repeats`` runs of at least ``--min-seconds``) and nn/mlp.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from export_speed import rate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nn", type=Path, help="an `nn` checkpoint (pose3d train --model nn)")
    ap.add_argument("--mlp", type=Path, default=None, help="the MLP checkpoint (default: the shipped model)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=0.5)
    args = ap.parse_args()

    import torch

    from pose3d_cli.export import load_sample
    from pose3d_cli.lifting.checkpoint import default_model_path, load_model

    torch.set_num_threads(args.threads)
    xy0, conf0 = load_sample()
    models = {"mlp": load_model(args.mlp or default_model_path()), "nn": load_model(args.nn)}
    for name, m in models.items():
        print(f"{name}: {m.path} {m.name} {m.meta['model']['args']}")
    rows = []
    for batch in (1, 1024, 8192):
        xy = torch.from_numpy(np.ascontiguousarray(np.resize(xy0, (batch, *xy0.shape[1:]))))
        conf = torch.from_numpy(np.ascontiguousarray(np.resize(conf0, (batch, *conf0.shape[1:]))))
        speed = {}
        for name, m in models.items():
            def f(model=m.model):
                with torch.inference_mode():
                    return model(xy, conf)
            speed[name] = rate(f, batch, args.repeats, args.min_seconds)
        rows.append((batch, speed["mlp"], speed["nn"]))
    print(f"\n{args.threads} threads, torch {torch.__version__}; poses/s (best of {args.repeats})")
    print(f"{'batch':>6} {'mlp':>12} {'nn':>12} {'nn/mlp':>8}")
    for batch, a, b in rows:
        print(f"{batch:>6} {a:>12,.0f} {b:>12,.0f} {b / a:>8.3f}")


if __name__ == "__main__":
    main()
