"""Lifter speed: torch eager vs onnxruntime (the exported ONNX), on the same threads and inputs.

    python benchmarks/export_speed.py [--threads 2] [--repeats 3] [--min-seconds 0.5] [--mlp-checkpoint model.pt]

Models (random weights; speed does not depend on them): the MLP with its default arguments, and the temporal
model with its defaults (27-frame receptive field) over one 10k-frame sequence (edge-padded, 4096-frame chunks,
as ``lifting.predict.predict_sequence``), plus its batch-1 live case (one 27-frame window → one pose).
Inputs are the shipped real BlazePose keypoints (``assets/sample_keypoints.npz``), tiled.

Prints poses/s per backend and the ratio onnx/torch (> 1: onnxruntime faster), best of ``--repeats`` runs of at
least ``--min-seconds`` each, and the export time and largest difference of each ONNX file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def rate(fn, poses: int, repeats: int, min_seconds: float) -> float:
    """Best poses/s over ``repeats`` runs, each calling ``fn`` until ``min_seconds`` passed."""
    fn()  # warm-up
    best = 0.0
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                break
        best = max(best, n * poses / dt)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads and onnxruntime intra-op threads")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=0.5)
    ap.add_argument("--frames", type=int, default=10_000, help="temporal sequence length")
    ap.add_argument("--mlp-checkpoint", type=Path, default=None,
                    help="benchmark this single-frame checkpoint instead of the default-argument MLP")
    args = ap.parse_args()

    import torch

    from pose3d_cli.export import export_model, load_sample
    from pose3d_cli.lifting.checkpoint import load_model, make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import DEFAULT_ARGS, build_model
    from pose3d_cli.lifting.onnx_runtime import OnnxLifter
    from pose3d_cli.lifting.predict import predict_sequence

    torch.set_num_threads(args.threads)
    xy0, conf0 = load_sample()
    J = xy0.shape[1]
    tile = lambda a, n: np.ascontiguousarray(np.resize(a, (n, *a.shape[1:])))  # noqa: E731
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="pose3d-bench-"))

    def build(name, checkpoint=None):
        if checkpoint is None:
            torch.manual_seed(0)
            rng = np.random.default_rng(0)
            m = build_model(name, J, 0, rng.normal(0, 100, (J, 3)), rng.uniform(50, 200, (J, 3))).eval()
            path, desc = save_checkpoint(make_checkpoint(m, name, DEFAULT_ARGS[name], "h36m17", "pelvis"),
                                         tmp / f"{name}.pt"), f"{name} {DEFAULT_ARGS[name]}"
        else:
            loaded = load_model(checkpoint)
            if loaded.receptive_field != 1:
                raise SystemExit(f"{checkpoint}: --mlp-checkpoint must be a single-frame model")
            m, path, desc = loaded.model, checkpoint, f"{checkpoint} ({loaded.name} {loaded.meta['model']['args']})"
        report = export_model(path, tmp / f"{name}.onnx")
        n_params = sum(p.numel() for p in m.parameters())
        print(f"{desc}: {n_params / 1e6:.2f} M params; ONNX export {report.seconds:.1f} s, "
              f"{report.size_bytes / 1e6:.1f} MB, check max |diff| {report.max_abs_diff_mm:.2g} mm on "
              f"{report.n_check_samples} poses", flush=True)
        return m, OnnxLifter(report.path, threads=args.threads)

    def torch_fn(model, xy, conf):
        tx, tc = torch.from_numpy(xy), torch.from_numpy(conf)

        def f():
            with torch.inference_mode():
                return model(tx, tc)
        return f

    # --- MLP: batch 1, 1024, 8192
    mlp, mlp_onnx = build("mlp", args.mlp_checkpoint)
    for batch in (1, 1024, 8192):
        xy, conf = tile(xy0, batch), tile(conf0, batch)
        diff = float(np.abs(mlp_onnx(xy, conf) - torch_fn(mlp, xy, conf)().numpy()).max())
        t = rate(torch_fn(mlp, xy, conf), batch, args.repeats, args.min_seconds)
        o = rate(lambda: mlp_onnx(xy, conf), batch, args.repeats, args.min_seconds)
        rows.append((f"mlp batch {batch}", t, o, diff))

    # --- temporal: one live window (batch 1), then a whole sequence
    tcn, tcn_onnx = build("temporal")
    rf = tcn.receptive_field()
    xy, conf = tile(xy0, rf)[None], tile(conf0, rf)[None]
    diff = float(np.abs(tcn_onnx(xy, conf) - torch_fn(tcn, xy, conf)().numpy()).max())
    t = rate(torch_fn(tcn, xy, conf), 1, args.repeats, args.min_seconds)
    o = rate(lambda: tcn_onnx(xy, conf), 1, args.repeats, args.min_seconds)
    rows.append((f"temporal rf {rf}, batch 1 (one window)", t, o, diff))
    xs, cs = tile(xy0, args.frames), tile(conf0, args.frames)
    diff = float(np.abs(tcn_onnx.predict_sequence(xs, cs) - predict_sequence(tcn, xs, cs)).max())
    with torch.inference_mode():
        t = rate(lambda: predict_sequence(tcn, xs, cs), args.frames, args.repeats, args.min_seconds)
    o = rate(lambda: tcn_onnx.predict_sequence(xs, cs), args.frames, args.repeats, args.min_seconds)
    rows.append((f"temporal rf {rf}, {args.frames}-frame sequence", t, o, diff))

    print(f"\n{args.threads} threads; poses/s (best of {args.repeats}); torch {torch.__version__}, "
          f"onnxruntime {__import__('onnxruntime').__version__}")
    print(f"{'case':<40} {'torch eager':>12} {'onnxruntime':>12} {'onnx/torch':>10} {'max|diff| mm':>13}")
    for case, t, o, d in rows:
        print(f"{case:<40} {t:>12,.0f} {o:>12,.0f} {o / t:>10.2f} {d:>13.2g}")
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
