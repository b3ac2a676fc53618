"""Make ``pose3d_cli/assets/sample_keypoints.npz``: a small real sample of lifter inputs.

`pose3d export` checks every exported model against eager torch on these inputs (real BlazePose 2D, with
its real confidences and missing joints), not on random numbers.

Recipe (reproducible; run from the repository root)::

    python scripts/make_sample_keypoints.py [--video ../shared/data/video/pose2sim_single_person/cam01.mp4]

1. BlazePose (the shipped ``.task``, VIDEO mode, timestamps from the video's frame rate) on the first 60
   frames of the video;
   a frame with no person gets zero confidence everywhere.
2. blazepose33 → h36m17 by joint name (:func:`pose3d_cli.skeleton.convert`).
3. pixels → normalised camera coordinates (:func:`pose3d_cli.lifting.codec.pixels_to_network_input`) with the
   intrinsics of a 1080x1920 portrait phone whose field of view across the long side is 65 degrees
   (:func:`pose3d_cli.synth.cameras.intrinsics_from_fov`).

Stored: ``xy (60, 17, 2) float32``, ``conf (60, 17) float32`` (h36m17), ``source`` (a one-line description),
and the same step 3 applied to the raw detections, ``xy_blazepose33 (60, 33, 2)``, ``conf_blazepose33 (60, 33)``,
so a model on another skeleton (coco17 ...) can be checked too (no distortion: normalising is affine, so
converting normalised coordinates equals normalising converted pixels).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "video" / "pose2sim_single_person" / "cam01.mp4"
OUTPUT = REPO / "pose3d_cli" / "assets" / "sample_keypoints.npz"
FRAMES = 60
WIDTH, HEIGHT, FOV_DEG = 1080, 1920, 65.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = ap.parse_args()

    import cv2

    from pose3d_cli.detect import BlazePoseDetector
    from pose3d_cli.lifting.codec import pixels_to_network_input
    from pose3d_cli.skeleton import convert
    from pose3d_cli.synth.cameras import intrinsics_from_fov

    cap = cv2.VideoCapture(str(args.video))
    if not cap.isOpened():
        raise SystemExit(f"cannot open {args.video}")
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    if (w, h) != (WIDTH, HEIGHT):
        raise SystemExit(f"{args.video}: expected a {WIDTH}x{HEIGHT} portrait video, got {w}x{h}")

    uv = np.zeros((args.frames, 33, 2), dtype=np.float32)
    conf33 = np.zeros((args.frames, 33), dtype=np.float32)
    found = 0
    with BlazePoseDetector(mode="video") as det:
        for i in range(args.frames):
            ok, frame = cap.read()
            if not ok:
                raise SystemExit(f"{args.video}: only {i} frames, need {args.frames}")
            kp = det(frame, timestamp_ms=round(i * 1000 / fps))
            if kp is not None:
                uv[i], conf33[i] = kp.xy, kp.confidence
                found += 1
    cap.release()

    uv17, conf17 = convert(uv, "blazepose33", "h36m17", conf33)
    K = intrinsics_from_fov(FOV_DEG, WIDTH, HEIGHT)
    xy, conf = pixels_to_network_input(uv17, conf17, K)
    xy33, c33 = pixels_to_network_input(uv, conf33, K)
    source = (f"{args.video.parent.name}/{args.video.name} frames 0-{args.frames - 1} ({fps:g} fps): BlazePose full (video mode) "
              f"-> h36m17 -> normalised camera coords, K of a {WIDTH}x{HEIGHT} phone with {FOV_DEG:g} deg FOV "
              f"across the long side; person found in {found}/{args.frames} frames")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, xy=xy.astype(np.float32), conf=conf.astype(np.float32), source=np.array(source),
                        xy_blazepose33=xy33, conf_blazepose33=c33)
    print(f"{args.output}: xy {xy.shape}, conf {conf.shape}; mean confidence {conf.mean():.3f}; {source}")


if __name__ == "__main__":
    main()
