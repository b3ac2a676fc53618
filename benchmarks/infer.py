"""Inference speed and memory, and the camera-independent consistency checks on the shared videos.

    python benchmarks/infer.py [--skip-consistency]

1. detector alone (BlazePose full, VIDEO mode; decoding not counted) on pose2sim cam01 and the sports2d clip,
   at native size and downscaled to 640 px wide;
2. lifter alone, poses/s: the shipped model in torch vs onnxruntime float32 and int8 (``pose3d export --quantize
   int8``), 1 and 2 threads, batch 1, 512, 1024, 8192 (wall and per CPU-second, ratios to both float32 backends in the same run;
   ``--only-lifter`` runs this alone);
3. end to end (`infer_one`: decode + detect + lift + write CSV) on the same clips, native and `--detect-width 640`,
   with the process's peak memory;
4. consistency on pose2sim (4 synchronised calibrated views): coefficient of variation of each bone's length over
   time, and the P-MPJPE between the root-relative poses inferred from different views at the same instant
   (cam03 runs 3 frames ahead and is shifted back). MediaPipe's own 3D world landmarks, mapped to h36m17, are
   scored the same way as a baseline.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "video"
CLIPS = {"pose2sim cam01 (1080x1920)": DATA / "pose2sim_single_person" / "cam01.mp4",
         "sports2d (1768x994)": DATA / "sports2d" / "demo.mp4"}
CAM03_LEAD = 3
MODEL = None  # the shipped model; --model to compare another checkpoint or .onnx


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_detector(path: Path, width: int | None, variant: str = "full") -> tuple[float, int]:
    import cv2

    from pose3d_cli.detect.mediapipe import BlazePoseDetector
    from pose3d_cli.infer.sources import open_source

    src = open_source(path)
    spent, n, found = 0.0, 0, 0
    with BlazePoseDetector(mode="video", variant=variant) as det:
        for i, t, img in src.frames():
            if width and img.shape[1] > width:
                img = cv2.resize(img, (width, int(round(img.shape[0] * width / img.shape[1]))), interpolation=cv2.INTER_AREA)
            t0 = time.perf_counter()
            kp = det(img, int(t * 1000))
            spent += time.perf_counter() - t0
            n += 1
            found += kp is not None
    return n / spent, found


def bench_lifter(model_pt: Path, total: int = 8192 * 4) -> None:
    """poses/s of the network alone (no flip averaging) over ``total`` poses, fed in chunks of ``chunk`` poses:
    wall clock and per CPU-second (process time; what an idle machine gives per core). Best of 3, the backends
    interleaved (torch, onnxruntime float32, onnxruntime int8 from ``pose3d export --quantize int8``), each with
    its ratios to torch and onnxruntime float32 in the same run."""
    from pose3d_cli.export import export_model, load_sample
    from pose3d_cli.infer.lifter import load_lifter

    xy, conf = load_sample()
    X = np.ascontiguousarray(np.resize(xy, (total,) + xy.shape[1:]))
    C = np.ascontiguousarray(np.resize(conf, (total,) + conf.shape[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        onnx, int8 = Path(tmp) / "default.onnx", Path(tmp) / "default.int8.onnx"
        export_model(model_pt, onnx, "onnx")
        export_model(model_pt, int8, "onnx", quantize="int8")
        paths = {"torch": model_pt, "onnxruntime": onnx, "onnxruntime int8": int8}
        D = np.zeros(X.shape[:-1] + (3,), np.float32)  # a detector 3D: its values do not change the cost
        M = np.ones(len(X), np.float32)
        for threads in (1, 2):
            lifters = {b: load_lifter(p, threads=threads, flip_tta=False) for b, p in paths.items()}  # the network alone
            # a fused / blend model (the default) runs more with the detector's 3D present: timed as its own row
            calls = {b: (lambda lf: lambda s: lf.fn(X[s], C[s]))(lf) for b, lf in lifters.items()}
            if lifters["torch"].takes_det3d:
                calls["torch + detector 3D"] = (lambda lf: lambda s: lf.fn(X[s], C[s], D[s], M[s]))(lifters["torch"])
            for chunk in (1, 512, 1024, 8192):
                n = 2000 if chunk == 1 else total
                wall, cpu = dict.fromkeys(calls, np.inf), dict.fromkeys(calls, np.inf)
                for rep in range(4):  # the first round warms up
                    for backend, call in calls.items():
                        t0, c0 = time.perf_counter(), time.process_time()
                        for i in range(0, n, chunk):
                            call(slice(i, i + chunk))
                        if rep:
                            wall[backend] = min(wall[backend], time.perf_counter() - t0)
                            cpu[backend] = min(cpu[backend], time.process_time() - c0)
                for backend in calls:
                    print(f"lifter {backend:19s} {threads} thread{'s' if threads > 1 else ' '} batch {chunk:5d}: "
                          f"{n / wall[backend]:10,.0f} poses/s ({n / cpu[backend]:10,.0f} per CPU-second), "
                          f"x{wall['torch'] / wall[backend]:.2f} torch, "
                          f"x{wall['onnxruntime'] / wall[backend]:.2f} onnxruntime", flush=True)


def bench_end_to_end(path: Path, width: int | None, detector: str) -> tuple[float, float, int, int]:
    """fps of `infer_one` (lifter already loaded, as in the CLI), and the same without the detector's start-up
    (what a long video approaches)."""
    from pose3d_cli.detect.mediapipe import BlazePoseDetector
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, infer_one

    lifter = load_lifter(None)
    t0 = time.perf_counter()
    BlazePoseDetector(variant=detector).close()
    startup = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        s = infer_one(path, Path(tmp) / "out.csv", InferOptions(detect_width=width, detector=detector), lifter)
    return s.fps, s.frames / max(s.seconds - startup, 1e-9), s.frames, s.detected


def consistency() -> None:
    from pose3d_cli.geometry import procrustes_align
    from pose3d_cli.infer.lifter import load_lifter
    from pose3d_cli.infer.pipeline import InferOptions, detect_video, lift_track
    from pose3d_cli.infer.sources import open_source
    from pose3d_cli.skeleton import H36M17, convert

    folder = DATA / "pose2sim_single_person"
    calib = folder / "Calib.qca.txt"
    from pose3d_cli.infer.pipeline import tracks_of_input

    lifter = load_lifter(MODEL)
    poses, world, defaults = {}, {}, {}
    for cam in ("cam01", "cam02", "cam03", "cam04"):
        # what `pose3d infer camXX.mp4` does with no option (every person tracked: the subject is person 0)
        tracks, _ = tracks_of_input(folder / f"{cam}.mp4", InferOptions())
        defaults[cam] = lift_track(tracks[0], lifter, InferOptions()).joints3d
        src = open_source(folder / f"{cam}.mp4")
        track = detect_video(src)
        for fix in (True, False):
            p = lift_track(track, lifter, InferOptions(calib=str(calib), fix_swaps=fix))
            poses[cam if fix else f"{cam} (no swap fix)"] = p.joints3d
        w, _ = convert(track.world, "blazepose33", H36M17)
        root = H36M17.index(H36M17.root)
        world[f"{cam} (MediaPipe 3D)"] = w - w[:, root:root + 1]
    names = [c for c, _ in H36M17.bones]
    print("\n# bone length coefficient of variation over time (%), per view")
    print(f"{'view':28s} " + " ".join(f"{n[:8]:>8s}" for n in names) + "   median")
    for cam, P in {**poses, **world}.items():
        ok = np.isfinite(P).all(axis=(1, 2))
        b = H36M17.bone_lengths(P[ok])
        cv = 100 * b.std(0) / b.mean(0)
        print(f"{cam:28s} " + " ".join(f"{v:8.1f}" for v in cv) + f"   {np.median(cv):6.1f}")
    print(f"\n# cross-view P-MPJPE (mm) of root-relative poses at the same instant (cam03 shifted by {CAM03_LEAD} frames)")
    for label, group in (("pose3d, infer's defaults", defaults),
                         ("pose3d (1 person, --calib)", {c: P for c, P in poses.items() if "no swap" not in c}),
                         ("pose3d (swap fix off)", {c: P for c, P in poses.items() if "no swap" in c}),
                         ("MediaPipe world landmarks", world)):
        aligned = {c: (P[CAM03_LEAD:] if c.startswith("cam03") else P[:len(P) - CAM03_LEAD]) for c, P in group.items()}
        cams = list(aligned)
        errs = []
        for i in range(len(cams)):
            for j in range(i + 1, len(cams)):
                A, B = aligned[cams[i]], aligned[cams[j]]
                ok = np.isfinite(A).all(axis=(1, 2)) & np.isfinite(B).all(axis=(1, 2))
                errs.append(np.linalg.norm(procrustes_align(A[ok], B[ok]) - B[ok], axis=-1).mean())
        print(f"{label:28s}: mean {np.mean(errs):6.1f} mm over {len(errs)} view pairs "
              f"(pairs: {' '.join(f'{e:.0f}' for e in errs)})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-consistency", action="store_true")
    ap.add_argument("--only-consistency", action="store_true")
    ap.add_argument("--only-lifter", action="store_true")
    ap.add_argument("--model", default=None, help="checkpoint or .onnx (default: the shipped model)")
    a = ap.parse_args()
    global MODEL
    MODEL = a.model
    if a.only_consistency:
        consistency()
        return 0
    missing = [p for p in CLIPS.values() if not p.exists()]
    if missing:
        print(f"skipped: {missing[0]} not found")
        return 0
    import torch

    torch.set_num_threads(2)
    if a.only_lifter:
        bench_lifter(REPO / "pose3d_cli" / "models" / "default.pt")
        return 0
    print("# detector alone (BlazePose, VIDEO mode, decode excluded)")
    for variant in ("full", "lite"):
        for label, path in CLIPS.items():
            for width in (None, 640):
                fps, found = bench_detector(path, width, variant)
                print(f"{variant:4s} {label:28s} {'native' if width is None else '640 px':7s}: {fps:6.1f} fps "
                      f"({found} frames with a person)")
    print("\n# lifter alone (shipped model)")
    bench_lifter(REPO / "pose3d_cli" / "models" / "default.pt")
    print("\n# end to end (decode + detect + lift + CSV); 'steady' leaves out the detector's start-up")
    for detector in ("full", "lite"):
        for label, path in CLIPS.items():
            for width in (None, 640):
                fps, steady, n, det = bench_end_to_end(path, width, detector)
                print(f"{detector:4s} {label:28s} {'native' if width is None else '640 px':7s}: {fps:6.1f} fps "
                      f"(steady {steady:5.1f}), {det}/{n} frames detected")
    print(f"\npeak memory of this process so far: {peak_mb():.0f} MB")
    if not a.skip_consistency:
        consistency()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
