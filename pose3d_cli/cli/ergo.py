"""`pose3d ergo worker.mp4 -o frames.csv --report report.html --json summary.json`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer
from rich.table import Table

from .app import app
from .common import check_outputs, err_console, option, progress, say, state, user_errors


def _up(text: str | None) -> tuple[float, float, float] | None:
    """``--up x,y,z`` → a unit direction, refused before any work (zero, NaN, not three numbers): body.vertical."""
    if not text:
        return None
    from ..body.vertical import parse_up

    return tuple(float(x) for x in parse_up(text))  # type: ignore[return-value]


@app.command()
def ergo(
    inputs: list[str] = typer.Argument(..., help="A video (runs infer first), an infer output poses.csv / poses.json, "
                                                 "a multi-view reference worker.npz (`pose3d triangulate`), or two or "
                                                 "more calibrated videos of the same worker (with --calib: "
                                                 "triangulated, then scored).", metavar="INPUT"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Per-frame CSV: angles, RULA/REBA steps, reason."),
    report: Optional[Path] = typer.Option(None, help="Self-contained HTML report."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Summary JSON (for machines)."),
    plots: Optional[Path] = typer.Option(None, help="Also write the report's PNG plots into this existing folder."),
    poses_out: Optional[Path] = typer.Option(None, "--poses", help="With a video: also keep infer's poses (.csv/.json); "
                                             "with several videos: the triangulation (.npz)."),
    up: Optional[str] = typer.Option(None, help="The world's up in the camera frame, x,y,z (overrides --calib)."),
    calib: Optional[Path] = typer.Option(None, help="Calibration (rig JSON, Qualisys .qca.txt or anipose/Pose2Sim .toml): intrinsics and up; several videos: `pose3d calibrate` makes one."),
    calib_camera: Optional[str] = typer.Option(None, help="Camera name in the calibration (default: from the file name)."),
    video: Optional[Path] = typer.Option(None, help="With an infer output: the video it came from (its frames give "
                                                     "the scene's vertical lines)."),
    vertical: Literal["auto", "lines", "body", "level"] = typer.Option("auto", help="Without --up/--calib, up comes from: auto (the scene's vertical lines "
                                 "when the video shows enough of them, else the body poses), lines, body or level."),
    observations: Optional[Path] = typer.Option(None, help="YAML of what the video cannot show, per video and per "
                                                           "time span: top-level keys (wrist: 2, load_kg: 4 ...) for the "
                                                           "whole video, segments: [{start: 12, end: 30.5, load_kg: 12}] "
                                                           "(seconds) override them; every key: examples/observations.yaml."),
    wrist: Optional[int] = typer.Option(None, min=1, max=3, help="RULA wrist posture 1-3 for the whole video (default: 1)."),
    wrist_twist: Optional[int] = typer.Option(None, min=1, max=2, help="RULA wrist twist 1-2 (default: 1)."),
    neck_flexion_deg: Optional[float] = typer.Option(None, min=-60.0, max=90.0, help="The neck's forward bend, degrees, "
                                                     "for the whole video where it cannot be seen (a phone facing the "
                                                     "worker head-on; default: measured)."),
    load_kg: Optional[float] = typer.Option(None, min=0.0, help="Load or force handled, kg (default: 0)."),
    load_mode: Optional[Literal["intermittent", "static", "repeated"]] = typer.Option(None, help="How the load is handled: intermittent, static or repeated (default: intermittent)."),
    coupling: Optional[Literal["good", "fair", "poor", "unacceptable"]] = typer.Option(None, help="REBA coupling: good, fair, poor or unacceptable (default: good)."),
    sitting: Optional[bool] = typer.Option(None, "--sitting/--standing", help="Seated or standing work (default: standing)."),
    back_supported: Optional[bool] = typer.Option(None, "--back-supported", help="Seated with the back well supported "
                                                  "(RULA trunk 1 unless bent forward; with --sitting)."),
    upper_arm_angle: Literal["3d", "sagittal"] = typer.Option("3d", help="Upper arm angle scored: 3d (elevation in any plane) or sagittal."),
    upper_arm_reference: Literal["trunk", "vertical"] = typer.Option("trunk", help="Upper arm relative to the trunk or the vertical."),
    trunk_angle: Literal["sagittal", "lean", "3d"] = typer.Option("lean", help="Trunk angle scored: sagittal (flexion), lean (out of the frontal plane) or 3d (inclination)."),
    knee: Literal["max", "support"] = typer.Option("max", help="REBA knee adjustment from the max (more flexed) or the support knee."),
    edges: Literal["le", "lt"] = typer.Option("le", help="Band edges: le (an edge value is in the milder band) or lt."),
    upright_deg: float = typer.Option(5.0, min=0.0, max=45.0, help="Dead band of an upright trunk, degrees."),
    neck_neutral_deg: float = typer.Option(10.0, min=-45.0, max=45.0, help="Neck flexion of the skeleton's neutral posture, degrees."),
    neck_neutral: Literal["auto", "fixed", "face"] = typer.Option("auto", help="The neck's neutral: fixed "
                                                                  "(--neck-neutral-deg), face (the person's own, from "
                                                                  "the face points of a multi-view reference) or auto "
                                                                  "(face for a reference, fixed for lifted poses)."),
    face_line_rise_deg: float = typer.Option(7.0, min=0.0, max=30.0, help="How far the ears -> eyes line rises in a "
                                             "neutral head, degrees (for --neck-neutral face)."),
    cutoff_hz: float = typer.Option(2.0, min=0.0, help="Zero-phase low-pass of the angle series, Hz (0: none)."),
    person: str = typer.Option("all", help="Which people to score (a video or a multi-person infer output): all, "
                                           "largest (id 0, the most prominent) or an id. E.g. --person 1."),
    max_people: int = typer.Option(4, min=1, max=16, help="infer: at most this many people per frame of a video "
                                                          "(1: the faster single-person path, person 0 only)."),
    hand_points: Literal["auto", "off"] = typer.Option("off", help="RULA/REBA wrist and neck twist from BlazePose's hand/face points: "
                                     "auto (where reliable, else the options) or off (the options; the default: see README)."),
    hand_margin_deg: float = typer.Option(20.0, min=0.0, max=90.0, help="With --hand-points auto: a measured band "
                                          "counts only when this many degrees either way keep it."),
    min_conf: float = typer.Option(0.3, min=0.0, max=1.0, help="Joints below this 2D confidence make their body part unscorable."),
    model: Optional[str] = typer.Option(None, help="infer: checkpoint (.pt) or .onnx (default: the shipped model)."),
    fov: Optional[float] = typer.Option(None, min=1.0, max=170.0, help="infer: field of view across the long side."),
    focal: Optional[float] = typer.Option(None, min=1.0, max=1e6, help="infer: focal length in pixels."),
    detector: Literal["full", "lite"] = typer.Option("full", help="infer: built-in BlazePose model, full or lite."),
    detector_model: Optional[Path] = typer.Option(None, help="infer: another MediaPipe PoseLandmarker .task file."),
    smooth: Literal["auto", "none", "one-euro", "savgol", "butter"] = typer.Option(
        "auto", help="infer: pose smoothing (auto, none, one-euro, savgol, butter)."),
    fps: Optional[float] = option(None, gt=0.0, max=1000.0, help="infer: override the frame rate."),
    detect_width: Optional[int] = typer.Option(None, min=32, help="infer: downscale wider frames for the detector."),
    offsets: Optional[str] = typer.Option(None, "--offsets", help="Several videos: known sync offsets, frames, one per "
                                          "video, the first 0 (video k's frame t + offset shows the first's frame t; "
                                          "e.g. from a clap): used as given, not searched."),
    cameras: Optional[str] = typer.Option(None, "--cameras", help="Several videos: the calibration's camera names, in the "
                                          "videos' order, comma-separated (default: the name in each file name)."),
    max_offset: Optional[int] = typer.Option(None, min=0, help="Several videos: the largest sync offset searched "
                                             "between them, frames (default: 3 s of video, at most a quarter of the "
                                             "clip; 0: filmed in sync)."),
) -> None:
    """RULA and REBA risk per frame and per video, from a video, an infer output or several calibrated videos."""
    from ..errors import Pose3dError
    from ..ergo.run import ErgoRequest, run_ergo

    with user_errors():
        input = inputs[0]
        views = inputs if len(inputs) > 1 else None
        check_outputs([*inputs, calib, observations, model, detector_model, video], [output, report, json_out, poses_out])
        if output is None and report is None and json_out is None:
            raise Pose3dError("nothing to write: give -o frames.csv, --report report.html and/or --json summary.json")
        if not views and Path(input).suffix.lower() != ".npz":  # a reference or several videos: run_ergo says
            from ..infer.calibration import check_calib_camera  # --calib-camera does not apply

            check_calib_camera(calib_camera, calib)
        for opt, p, ext in (("-o", output, (".csv",)), ("--report", report, (".html", ".htm")),
                            ("--json", json_out, (".json",)),
                            ("--poses", poses_out, (".npz",) if views else (".csv", ".json"))):
            if p is not None and p.suffix.lower() not in ext:
                raise Pose3dError(f"{opt} {p}: {opt} writes a {' or '.join(ext)} file; give it that suffix")
        if plots is not None and not plots.is_dir():
            raise Pose3dError(f"--plots {plots}: not an existing folder; create it first")
        if plots is not None:  # its PNGs, checked with the other outputs (a read-only folder left them written)
            from .common import check_output_path

            try:
                check_output_path(plots / "scores.png")
            except Pose3dError:
                raise Pose3dError(f"--plots {plots}: no file can be written in this folder; nothing was written; give "
                                  "a writable folder") from None
        for i in inputs:
            if not Path(i).exists():
                raise Pose3dError(f"{i}: no such file; give a video or a `pose3d infer` output")
        inp = Path(input)
        from ..ergo.run import is_pose_file
        from ..infer.calibration import check_intrinsics_options

        check_intrinsics_options(fov, focal, calib)

        # a video or a 2D JSON: checked before any work (a CSV that is no infer output is refused by run_ergo at once;
        # a multi-view reference .npz: run_ergo refuses the options that do not apply before reading it)
        if neck_neutral == "face" and not (inp.suffix.lower() == ".npz" or views):
            raise Pose3dError(f"--neck-neutral face: {input} gives lifted poses (the mocap head, neutral "
                              "--neck-neutral-deg); it needs a multi-view reference (.npz) or several calibrated "
                              "videos: use --neck-neutral auto or fixed")
        if inp.suffix.lower() == ".npz" or views:  # several videos: run_ergo checks them before any detection
            pass
        elif inp.suffix.lower() != ".csv" and not (inp.suffix.lower() == ".json" and is_pose_file(inp)):
            from ..detect.keypoint_files import DetectorError
            from ..ergo.from_video import check_input_kind
            from ..infer.calibration import check_inputs

            check_input_kind(input)  # ergo's own words for what it does not score (photos, other files)

            try:
                check_inputs([input], calib, calib_camera)
            except DetectorError:  # a JSON that is no 2D format: ergo's first reading of a .json is an infer output
                if inp.suffix.lower() != ".json":
                    raise
                raise Pose3dError(f"{input}: not a pose3d infer JSON (frames of joints with x, y, z: `pose3d infer "
                                  "video.mp4 -o poses.json`) nor a 2D keypoint file (OpenPose, COCO, MMPose); give "
                                  "an infer output or the video") from None
        elif calib:  # an infer output: the calibration's kind and the camera's name, before anything is read
            from ..ergo.io import recorded_camera_name
            from ..infer.calibration import load_calibration, pick_camera

            pick_camera(load_calibration(calib), calib_camera, recorded_camera_name(str(input), video))
        from ..ergo.options import Conventions, load_segments
        from ..ergo.timeline import TimeRules

        from ..infer.people import parse_person

        person_sel = parse_person(person)
        conv = Conventions(upper_arm_angle=upper_arm_angle, upper_arm_reference=upper_arm_reference,
                           trunk_angle=trunk_angle, knee=knee, edges=edges, upright_deg=upright_deg,
                           neck_neutral_deg=neck_neutral_deg, neck_neutral=neck_neutral,
                           face_line_rise_deg=face_line_rise_deg, hand_points=hand_points,
                           hand_margin_deg=hand_margin_deg)
        segs = load_segments(observations, wrist=wrist, wrist_twist=wrist_twist, neck_flexion_deg=neck_flexion_deg,
                             load_kg=load_kg, load_mode=load_mode, coupling=coupling, sitting=sitting,
                             back_supported=back_supported)
        if back_supported and not sitting and observations is None:
            raise Pose3dError("--back-supported describes a seated worker: add --sitting (or set sitting in "
                              "--observations)")
        if not 0 <= min_conf <= 1:
            raise Pose3dError(f"--min-conf {min_conf}: must be between 0 and 1")
        if cutoff_hz < 0:
            raise Pose3dError(f"--cutoff-hz {cutoff_hz}: must be >= 0")
        if max_offset is not None and not views:
            raise Pose3dError("--max-offset synchronises several videos; give two or more calibrated videos, or drop it")
        if offsets is not None and not views:
            raise Pose3dError("--offsets synchronises several videos; give two or more calibrated videos, or drop it")
        from ..multiview.reference import parse_offsets

        known = parse_offsets(offsets, len(inputs)) if views else None
        if cameras is not None and not views:
            raise Pose3dError("--cameras names the cameras of several videos; with one video use --calib-camera")
        req = ErgoRequest(input=input, views=views, max_offset=max_offset,
                          cameras=[c.strip() for c in cameras.split(",")] if cameras else None, offsets=known, output=output, report=report, json_out=json_out, plots=plots,
                          poses_out=poses_out, up=_up(up), calib=str(calib) if calib else None,
                          calib_camera=calib_camera, conventions=conv, segments=segs,
                          rules=TimeRules(cutoff_hz=cutoff_hz), min_conf=min_conf, model=model, fov=fov,
                          focal=focal, detector=detector, detector_model=str(detector_model) if detector_model else None,
                          smooth=smooth, fps=fps, detect_width=detect_width,
                          person=person_sel, max_people=max_people, vertical=vertical,
                          video=str(video) if video else None)
        title = " + ".join(Path(i).name for i in inputs)
        with progress() as bar:
            task = bar.add_task(title[:30], total=None, info="")
            results = run_ergo(req, on_start=lambda n: bar.update(task, total=n),
                           on_frame=lambda i: bar.update(task, completed=i + 1))
            bar.update(task, info="scored")
    if state.quiet:
        return
    said: set[str] = set()  # the camera's warnings already said
    for res in results:
        _print_summary(res, title + (f" person {res.person}" if len(results) > 1 else ""), said)
    written = [str(p) for p in (output, report, json_out, plots, poses_out) if p is not None and Path(p).exists()]
    if written:
        say("wrote " + ", ".join(written))


def _print_summary(res, title: str, said: set[str]) -> None:
    s = res.summary
    t = Table(title=f"pose3d ergo: {title}", title_justify="left")
    t.add_column("")
    t.add_column("RULA", justify="right")
    t.add_column("REBA", justify="right")
    def cell(v) -> str:  # a person never scored has no figure: a dash, not Python's None
        return "–" if v is None else str(v)

    t.add_row("max score", cell(s["rula"]["max"]), cell(s["reba"]["max"]))
    t.add_row("median score", cell(s["rula"]["median"]), cell(s["reba"]["median"]))
    for k in ("0", "1", "2", "3", "4"):  # RULA's action levels are 1-4, REBA's 0-4
        t.add_row(f"% time action level {k}", cell(s["rula"]["percent_time_action_level"].get(k)),
                  cell(s["reba"]["percent_time_action_level"].get(k)))
    err_console.print(t)
    b = Table(title="time in posture bands (% of scored time)", title_justify="left")
    b.add_column("band")
    b.add_column("%", justify="right")
    for k, v in s["percent_time_in_band"].items():
        b.add_row(k, cell(v))
    err_console.print(b)
    c = s["counts"]
    say(f"frames {c['frames']}, detected {c['detected']}, scored {c['scored']}, near a band edge {c['near_band_edge']}; "
        f"vertical: {s['vertical']['source']}" + (f" ({s['vertical']['note']})" if s['vertical']['note'] else ""))
    for n in s.get("camera_notes", []):
        say(f"cameras: {n}")
    for n in s["time_notes"]:
        say(f"note: {n}")
    nn = s.get("neck_neutral") or {}
    if nn.get("note"):
        say(f"neck neutral {nn['deg']:g} deg ({nn['source']}): {nn['note']}")
    for n in s["filming"]["camera_warnings"]:  # the same camera films every person: said once
        if n not in said:
            say(f"filming: {n}")
            said.add(n)
    for n in s["filming"]["view_warnings"]:
        say(f"filming: {n}")
    lift = s.get("lift_spread")
    if lift:
        say(f"lift spread (flip-averaged vs plain lift): median {cell(lift['lift_spread_deg_median'])} deg, p95 "
            f"{cell(lift['lift_spread_deg_p95'])} deg; final score differs in {lift['lift_flip_frames (scored)']} scored frames")
