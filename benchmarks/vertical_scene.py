"""Benchmark: the vertical from the scene's lines against the calibration, on the shared pose2sim views.

For each view: the angle between the calibrated up (world +Z in the camera frame) and
  - the scene's lines on 8 frames of the dev half (0-49) and of the report half (50-99), no intrinsics given
    (field of view searched), and with the calibrated K (to separate the focal length's share);
  - what `pose3d ergo video.mp4` uses without --calib (`--vertical auto`: lines over 8 frames of the whole video,
    the person's box left out), the body-pose estimate (`--vertical body`) and the level camera;
and the time the scene estimate takes against the detection + lifting it follows (same run). sports2d (no
calibration): whether the lines are accepted, the field of view found, the angle to the body-pose estimate.

    python benchmarks/vertical_scene.py [--data ../shared/data] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pose3d_cli.body.scene_lines import scene_up
from pose3d_cli.ergo.assess import resolve_vertical
from pose3d_cli.ergo.from_video import people_from_input, scene_vertical
from pose3d_cli.infer.calibration import load_calibration
from pose3d_cli.infer.pipeline import InferOptions
from pose3d_cli.infer.sources import open_source


def angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def frames_between(video: Path, lo: int, hi: int, n: int = 8) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(video))
    out = []
    for i in np.linspace(lo, hi, n).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
        ok, img = cap.read()
        if ok:
            out.append(img)
    cap.release()
    return out


def through_ergo(video: Path):
    """What `pose3d ergo` does without --calib: detection, lifting, then the vertical (timed apart)."""
    opts = InferOptions(max_people=1)
    t0 = time.perf_counter()
    found, source = people_from_input(str(video), opts)
    t_pipeline = time.perf_counter() - t0
    poses = [p for _, p, _ in found]
    tracks = [pt for _, _, pt in found]
    t0 = time.perf_counter()
    auto = resolve_vertical(poses, scene=scene_vertical(source, tracks))
    t_scene = time.perf_counter() - t0
    body = resolve_vertical(poses, mode="body")
    return auto, body, t_pipeline, t_scene


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    folder = a.data / "video" / "pose2sim_single_person"
    cams = {c.name: c for c in load_calibration(folder / "Calib.qca.txt")}
    rows, out = [], {"pose2sim": {}}
    for name in sorted(cams):
        video = folder / f"{name}.mp4"
        truth = cams[name].R @ np.array([0.0, 0.0, 1.0])
        r = {"level_camera": angle([0, -1, 0], truth)}
        for half, (lo, hi) in (("dev", (0, 49)), ("report", (50, 99))):
            imgs = frames_between(video, lo, hi)
            s = scene_up(imgs)
            r[f"lines_{half}"] = angle(s.up, truth)
            r[f"lines_{half}_fov"] = s.fov_deg
            r[f"lines_{half}_accepted"] = s.accepted
            w, h = open_source(video).size
            K = cams[name].K.copy()
            cw, ch = cams[name].size
            K[0] *= w / cw
            K[1] *= h / ch
            r[f"lines_{half}_calibrated_K"] = angle(scene_up(imgs, K).up, truth)
        auto, body, t_pipe, t_scene = through_ergo(video)
        r.update(ergo_auto=angle(auto.up, truth), ergo_auto_source=auto.source, ergo_body=angle(body.up, truth),
                 pipeline_s=t_pipe, scene_s=t_scene, fov_true=float(np.degrees(2 * np.arctan(cams[name].size[1] / 2
                                                                                              / cams[name].K[1, 1]))))
        out["pose2sim"][name] = r
        rows.append(f"| {name} | {r['level_camera']:.1f} | {r['ergo_body']:.1f} | {r['lines_dev']:.2f} / "
                    f"{r['lines_report']:.2f} | {r['lines_dev_calibrated_K']:.2f} / {r['lines_report_calibrated_K']:.2f}"
                    f" | **{r['ergo_auto']:.2f}** | {r['lines_report_fov']:.0f} ({r['fov_true']:.1f}) | "
                    f"{r['scene_s']:.1f} s / {r['pipeline_s']:.1f} s |")
        print(rows[-1], flush=True)
    sports = a.data / "video" / "sports2d" / "demo.mp4"
    if sports.exists():
        auto, body, t_pipe, t_scene = through_ergo(sports)
        out["sports2d"] = {"source": auto.source, "note": auto.note, "angle_to_body_deg": angle(auto.up, body.up),
                           "scene_lines": auto.scene, "scene_s": t_scene, "pipeline_s": t_pipe}
        print(f"sports2d: {auto.source}; {auto.note}")
    print("| view | level camera | body poses (`--vertical body`) | lines, frames 0-49 / 50-99 (FOV searched) "
          "| same with calibrated K | `ergo` default (lines, whole video) | FOV found, report half (calibrated) "
          "| time: lines / detection + lift |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    errs = [out["pose2sim"][n]["ergo_auto"] for n in sorted(cams)]
    print(f"ergo default over the 4 views: median {np.median(errs):.2f} deg, max {max(errs):.2f} deg")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
