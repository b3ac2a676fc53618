"""Benchmark: the vertical from the scene's lines against the calibration, on the shared pose2sim views.

For each view: the angle between the calibrated up (world +Z in the camera frame) and
  - the scene's lines on 8 frames of the dev half (0-49) and of the report half (50-99), no intrinsics given
    (field of view searched), and with the calibrated K (to separate the focal length's share);
  - what `pose3d ergo video.mp4` uses without --calib (`--vertical auto`: lines over 8 frames of the whole video,
    the people's limbs left out), the body-pose estimate (`--vertical body`) and the level camera;
and the time the scene estimate takes against the detection + lifting it follows (same run). sports2d (no
calibration): whether the lines are accepted, the field of view found, the angle to the body-pose estimate.

``--synth N``: also N random cameras drawn as `pose3d synth` draws them (its default camera sampling, seed 1: cameras
no model was fitted on), each filming a rendered warehouse (columns on a 3 m grid, shelving, walls and floor
lines drawn as dark lines on grey, 10% random clutter segments): the angle between the lines' up and the camera's
true up, and the field of view found. An idealised scene (straight, high-contrast edges, no texture), not natural
images: it measures the geometry and the focal search over the cameras synth uses, not the line detector's
behaviour on real walls.

``--handheld``: pose2sim cam01 re-filmed as a hand-held phone (each frame warped by the homography of a camera turning
about its centre: roll ±7° over 1.2 s, pitch ±5° over 1.7 s, zoomed 1.2x; true up per frame from the calibration),
written to a temporary video and run through ergo's path: the vertical per frame (followed), one vertical for the
video (the lines' mean), the body estimate and the level camera, against the truth of every frame.

    python benchmarks/vertical_scene.py [--data ../shared/data] [--json out.json] [--synth 100] [--handheld]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pose3d_cli.body.scene_lines import MAX_FROM_BODY_DEG, scene_up
from pose3d_cli.ergo.assess import resolve_vertical
from pose3d_cli.ergo.from_video import people_from_input
from pose3d_cli.infer.scene import scene_vertical
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


def warehouse_edges(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """3D segments (mm, Z up) of a 24 x 24 m warehouse around the origin: columns, shelving, walls, floor lines."""
    segs = []
    for x in np.arange(-12000, 12001, 3000):
        for y in np.arange(-12000, 12001, 3000):
            if abs(x) < 2000 and abs(y) < 2000:
                continue  # the subject's spot
            segs.append(((x, y, 0.0), (x, y, 3500.0)))
            for z in (800.0, 1600.0, 2400.0):  # shelving between columns, along X
                segs.append(((x, y, z), (x + 3000.0, y, z)))
    for w in (-12000.0, 12000.0):
        for u in np.arange(-12000, 12001, 1500):
            segs.append(((w, u, 0.0), (w, u, 4000.0)))
            segs.append(((u, w, 0.0), (u, w, 4000.0)))
    for u in np.arange(-9000, 9001, 1500):
        segs.append(((u, -12000.0, 0.0), (u, 12000.0, 0.0)))  # floor lines along Y
    return [(np.array(a), np.array(b)) for a, b in segs]


def render(cam, segs, rng: np.random.Generator, clutter: float = 0.1) -> np.ndarray:
    """Dark lines on grey: the visible part of each segment, plus random clutter segments."""
    import cv2

    w, h = cam.size
    img = np.full((h, w, 3), 160, np.uint8)
    t = np.linspace(0, 1, 300)[:, None]
    n = 0
    for a, b in segs:
        pc = cam.world_to_cam((a + t * (b - a))[None])[0]
        front = pc[:, 2] > 100
        uv = (pc @ cam.K.T)[:, :2] / np.where(front, pc[:, 2], 1.0)[:, None]
        ok = front & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        if ok.sum() >= 2:
            i = np.flatnonzero(ok)
            p, q = uv[i[0]], uv[i[-1]]
            if np.linalg.norm(p - q) > 15:
                cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), (50, 50, 50), 3, cv2.LINE_AA)
                n += 1
    for _ in range(int(clutter * n)):
        p = rng.uniform([0, 0], [w, h])
        q = p + rng.uniform(30, 250) * np.array([np.cos(a := rng.uniform(0, np.pi)), np.sin(a)])
        cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), (60, 60, 60), 3, cv2.LINE_AA)
    return img


def synth_cameras(n: int) -> dict:
    from pose3d_cli.synth.cameras import CameraSampling, sample_camera

    rng = np.random.default_rng(1)
    segs = warehouse_edges(rng)
    subject = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, 1700.0], [300.0, 0.0, 900.0], [-300.0, 0.0, 900.0]]])
    errs, level, fov_err, accepted, times, found = [], [], [], [], [], []
    for _ in range(n):
        cam = sample_camera(subject, rng, CameraSampling())
        truth = cam.R @ np.array([0.0, 0.0, 1.0])
        img = render(cam, segs, rng)
        # the prior ergo gives it: the body poses' estimate, here emulated as the truth tilted 10 deg (about the
        # body estimate's 95th-percentile error per clip on synth) in a random direction
        side = np.cross(truth, rng.normal(size=3))
        prior = np.cos(np.radians(10)) * truth + np.sin(np.radians(10)) * side / np.linalg.norm(side)
        t0 = time.perf_counter()
        s = scene_up([img], prior=prior, max_from_prior_deg=MAX_FROM_BODY_DEG)
        times.append(time.perf_counter() - t0)
        accepted.append(s.accepted)
        level.append(angle([0, -1, 0], truth))
        if s.accepted:
            errs.append(angle(s.up, truth))
            true_fov = np.degrees(2 * np.arctan(0.5 * max(cam.size) / cam.K[0, 0]))
            fov_err.append(abs(s.fov_deg - true_fov))
            found.append(s.focal_searched)  # False: the lines could not tell the focal length (a level camera)
    e, fe, fd = np.array(errs), np.array(fov_err), np.array(found, bool)
    out = {"cameras": n, "accepted": int(np.sum(accepted)), "median_deg": float(np.median(e)),
           "p95_deg": float(np.percentile(e, 95)), "max_deg": float(e.max()),
           "level_camera_median_deg": float(np.median(level)), "level_camera_p95_deg": float(np.percentile(level, 95)),
           "fov_error_median_deg": float(np.median(fov_err)), "fov_error_p95_deg": float(np.percentile(fov_err, 95)),
           "fov_found": int(fd.sum()),
           "fov_found_error_median_deg": float(np.median(fe[fd])) if fd.any() else float("nan"),
           "fov_found_error_p95_deg": float(np.percentile(fe[fd], 95)) if fd.any() else float("nan"),
           "fov_not_found_error_median_deg": float(np.median(fe[~fd])) if (~fd).any() else float("nan"),
           "seconds_per_frame": float(np.median(times))}
    print(f"synth cameras ({n}, seed 1, rendered warehouse): accepted {out['accepted']}, error median "
          f"{out['median_deg']:.2f} / p95 {out['p95_deg']:.2f} / max {out['max_deg']:.2f} deg (level camera "
          f"{out['level_camera_median_deg']:.1f} / {out['level_camera_p95_deg']:.1f}); field of view error median "
          f"{out['fov_error_median_deg']:.1f} / p95 {out['fov_error_p95_deg']:.1f} deg (reported found on "
          f"{out['fov_found']}: median {out['fov_found_error_median_deg']:.1f} / p95 "
          f"{out['fov_found_error_p95_deg']:.1f}; the others {out['fov_not_found_error_median_deg']:.1f}); "
          f"{out['seconds_per_frame']:.2f} s a frame")
    return out


def handheld(folder: Path) -> dict:
    import tempfile

    import cv2

    from pose3d_cli.ergo.assess import Vertical

    cam = {c.name: c for c in load_calibration(folder / "Calib.qca.txt")}["cam01"]
    src = cv2.VideoCapture(str(folder / "cam01.mp4"))
    fps = src.get(cv2.CAP_PROP_FPS)
    w, h = int(src.get(cv2.CAP_PROP_FRAME_WIDTH)), int(src.get(cv2.CAP_PROP_FRAME_HEIGHT))
    K = cam.K * np.array([[w / cam.size[0]], [h / cam.size[1]], [1.0]])
    zoom = np.diag([1.2, 1.2, 1.0]) @ np.array([[1, 0, -K[0, 2]], [0, 1, -K[1, 2]], [0, 0, 1]])
    K_out = np.array([[1, 0, K[0, 2]], [0, 1, K[1, 2]], [0, 0, 1]]) @ zoom @ K
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "handheld_cam01.mp4"
        sink = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        truth = []
        while True:
            ok, img = src.read()
            if not ok:
                break
            t = len(truth) / fps
            rvec = np.radians([5 * np.sin(2 * np.pi * t / 1.7 + 1), 0.0, 0.0])
            R = cv2.Rodrigues(np.radians([0.0, 0.0, 7 * np.sin(2 * np.pi * t / 1.2)]))[0] @ cv2.Rodrigues(rvec)[0]
            sink.write(cv2.warpPerspective(img, K_out @ R @ np.linalg.inv(K), (w, h)))
            truth.append(R @ cam.R @ np.array([0.0, 0.0, 1.0]))
        sink.release()
        t0 = time.perf_counter()
        found, source = people_from_input(str(video), InferOptions(max_people=1))
        t1 = time.perf_counter()
        poses, tracks = [p for _, p, _ in found], [pt for _, _, pt in found]
        v = resolve_vertical(poses, scene=scene_vertical(source, tracks), mode="lines")
        t2 = time.perf_counter()
    frames = poses[0].frame
    truth = np.array(truth)[frames]
    body = resolve_vertical(poses, mode="body")
    out = {"samples": None if v.per_frame is None else len(v.per_frame[0]), "lines_s": t2 - t1,
           "pipeline_s": t1 - t0, "moving_camera": bool(v.scene and v.scene["moving_camera"])}
    for name, up in (("per_frame", v.up_at(frames)), ("one_vertical", Vertical(v.up, "").up_at(frames)),
                     ("body", Vertical(body.up, "").up_at(frames)), ("level", np.tile([0.0, -1.0, 0.0], (len(frames), 1)))):
        e = np.degrees(np.arccos(np.clip((up * truth).sum(1), -1, 1)))
        out[name] = {"median_deg": float(np.median(e)), "p95_deg": float(np.percentile(e, 95)), "max_deg": float(e.max())}
    print("hand-held cam01: " + "; ".join(f"{k} {out[k]['median_deg']:.2f} / {out[k]['p95_deg']:.2f} / "
                                          f"{out[k]['max_deg']:.2f}" for k in ("per_frame", "one_vertical", "body", "level"))
          + f" deg (median / p95 / max); {out['samples']} frames measured; lines {out['lines_s']:.1f} s vs detection "
            f"+ lift {out['pipeline_s']:.1f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--synth", type=int, default=0, help="also N random synth cameras filming a rendered warehouse")
    ap.add_argument("--only-synth", action="store_true", help="skip the real views")
    ap.add_argument("--handheld", action="store_true", help="also pose2sim cam01 re-filmed as a hand-held phone")
    a = ap.parse_args()
    if a.only_synth:
        out = {"synth": synth_cameras(a.synth or 100)}
        if a.json:
            a.json.write_text(json.dumps(out, indent=1, default=float))
        return
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
    if a.synth:
        out["synth"] = synth_cameras(a.synth)
    if a.handheld:
        out["handheld"] = handheld(folder)
    if a.json:
        a.json.write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
