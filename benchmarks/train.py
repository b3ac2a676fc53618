"""Training speed per model, time to reach a validation MPJPE, and the default model's held-out accuracy.

    python benchmarks/train.py [--steps 30] [--threads 2] [--skip-accuracy]

1. samples/s of one optimiser step (forward + backward + AdamW) for every registered model at its default
   arguments, for the default recipe's MLP (width 384), and for the reference Martinez MLP (width 1024,
   4.3 M parameters, batch 1024): the baseline, measured in the same run, gives the ratios.
2. time to reach a validation MPJPE: read from the shipped model's training history (stored in its checkpoint).
3. held-out accuracy of the shipped model: the default recipe's synth is rebuilt (deterministic, seed 0) and its
   'test' split evaluated on clean 2D, detector-like 2D and with 20% of the joints occluded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pose3d_cli.lifting.checkpoint import read_checkpoint  # noqa: E402
from pose3d_cli.lifting.models import DEFAULT_ARGS, MODELS, build_model, contract_of  # noqa: E402

J = 17


def samples_per_s(name: str, args: dict, batch: int, steps: int, window: int = 64) -> tuple[float, int]:
    torch.manual_seed(0)
    m = build_model(name, J, 0, np.zeros((J, 3)), np.ones((J, 3)), **args)
    rf = m.receptive_field()
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    if rf == 1:
        xy, conf = torch.randn(batch, J, 2) * 0.1, torch.rand(batch, J)
    else:
        nwin = max(1, batch // window)
        xy, conf = torch.randn(nwin, rf - 1 + window, J, 2) * 0.1, torch.rand(nwin, rf - 1 + window, J)
    out = m(xy, conf)
    target = torch.randn_like(out)
    n = int(np.prod(out.shape[:-2]))
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        loss = (m(xy, conf) - target).norm(dim=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return n * steps / (time.perf_counter() - t0), sum(p.numel() for p in m.parameters())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-accuracy", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# training throughput, {a.threads} threads, batch 1024 samples (temporal: 16 windows × 64 frames)")
    base, base_p = samples_per_s("mlp", {"width": 1024, "blocks": 2, "dropout": 0.1}, 1024, a.steps)
    rows = [("mlp width 1024 (reference, Martinez)", base, base_p)]
    default = read_checkpoint(REPO / "pose3d_cli/models/default.pt")
    rows.append((f"default model ({default['model']['name']} {default['model']['args']})",
                 *samples_per_s(default["model"]["name"], default["model"]["args"], 1024, a.steps)))
    for name in MODELS:
        if not contract_of(build_model(name, J, 0, np.zeros((J, 3)), np.ones((J, 3)))).gradient_steps:
            continue  # filled in one pass, no training step to time (nn: benchmarks/nn_speed.py)
        rows.append((f"{name} {DEFAULT_ARGS[name]}", *samples_per_s(name, DEFAULT_ARGS[name], 1024, a.steps)))
    for label, sps, params in rows:
        print(f"{label:70s} {params / 1e6:5.2f} M params  {sps:9,.0f} samples/s  ×{sps / base:4.1f} vs reference")

    hist = default["metrics"].get("history", [])
    if hist:
        print("\n# shipped model: validation MPJPE over training (from its checkpoint)")
        for target in (100, 80, 70, 60, 50):
            hit = next((h for h in hist if h["val_mpjpe"] <= target), None)
            print(f"val MPJPE <= {target} mm: " + (f"epoch {hit['epoch']} after {hit['elapsed_s']:.0f} s" if hit else "not reached"))
        print(f"total: {len(hist)} epochs in {hist[-1]['elapsed_s']:.0f} s, best val MPJPE "
              f"{min(h['val_mpjpe'] for h in hist):.1f} mm")
    if a.skip_accuracy:
        return 0
    mocap = REPO.parent / "shared" / "data" / "mocap"
    if not mocap.exists():
        print(f"\nskipped accuracy: {mocap} not found")
        return 0
    from pose3d_cli.evaluate import evaluate
    from pose3d_cli.synth.pairs import SynthConfig, synthesise

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "synth.h5"
        t = time.perf_counter()
        synthesise([mocap], data, SynthConfig(views=8, seed=0), workers=2)
        print(f"\n# held-out accuracy of the shipped model (default recipe's synth rebuilt in {time.perf_counter() - t:.0f} s, "
              "split 'test', by file)")
        rep = evaluate(REPO / "pose3d_cli/models/default.pt", data, split="test")
        print(f"{'2D input':12s} {'MPJPE':>7s} {'P-MPJPE':>8s} {'N-MPJPE':>8s} {'PCK150':>7s} {'AUC':>6s}  ({rep['samples']} pairs)")
        for cond, m in rep["conditions"].items():
            print(f"{cond:12s} {m['mpjpe']:7.1f} {m['p_mpjpe']:8.1f} {m['n_mpjpe']:8.1f} {m['pck150']:7.1f} {m['auc']:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
