"""`pose3d infer worker.mp4 -o poses.csv`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer
from rich.table import Table

from .app import app
from .common import check_outputs, err_console, option, progress, say, state, user_errors


def _size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    from ..errors import Pose3dError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise Pose3dError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080") from None
    if w <= 0 or h <= 0:
        raise Pose3dError(f"--size {text!r}: width and height must be positive")
    if max(w, h) > MAX_IMAGE_SIDE:  # 99999999x99999999 placed the person 2.7 km away
        raise Pose3dError(f"--size {text!r}: no camera's frames are {max(w, h)} px wide; give the footage's WIDTHxHEIGHT "
                          "in pixels")
    return w, h


#: the largest image side --size takes (a 16K frame is 15360 px)
MAX_IMAGE_SIDE = 20000


def parse_fov(text: str | None) -> tuple[float | None, bool]:
    """``--fov``: degrees in [1, 170], or ``auto`` → (degrees or None, whether to find it from the scene)."""
    from ..errors import Pose3dError

    if text is None:
        return None, False
    if text.strip().lower() == "auto":
        return None, True
    try:
        v = float(text)
    except ValueError:
        raise Pose3dError(f"--fov {text!r}: give degrees across the image's long side (1-170, e.g. 65) or auto") from None
    if not 1.0 <= v <= 170.0:
        raise Pose3dError(f"--fov {text}: must be between 1 and 170 degrees (across the long side), or auto")
    return v, False


def _height_cm(value: float | None) -> float | None:
    """``--person-height``: a standing height in centimetres, 100-250 (metres and millimetres are refused)."""
    if value is not None and not 100.0 <= value <= 250.0:
        raise typer.BadParameter(f"{value:g}: give the standing height in centimetres, 100-250 (e.g. 175)")
    return value


_height_cm.pose3d_range = "100<=x<=250 cm"


def check_person_height(inputs: list[str], person: str, max_people: int, detector_3d: bool) -> None:
    """``--person-height`` is one person's height: refuse, before any detection, a run that writes several people
    (a video's or keypoint file's every person, a folder of photos of different people) or the detector's own 3D."""
    from ..errors import Pose3dError
    from ..infer.sources import IMAGE_EXT

    if detector_3d:
        raise Pose3dError("--person-height with --detector-3d: the detector's own 3D is written as it is (not "
                          "rescaled, no position); drop --person-height")
    if person == "all" and max_people > 1:
        raise Pose3dError("--person-height is one person's height and --person all writes everyone: pick the person "
                          "(--person largest, --person ID, or --max-people 1)")
    for inp in inputs:
        p = Path(inp)
        if p.is_dir() and sum(f.suffix.lower() in IMAGE_EXT for f in p.iterdir()) > 1:
            raise Pose3dError(f"{inp}: a folder of photos may show different people; --person-height is one "
                              "person's height: give the photos of that person one at a time, or drop it")


def check_fov_auto(inputs: list[str], detector_3d: bool) -> None:
    """``--fov auto`` looks at a video's frames: refuse, before any detection, the inputs that have none."""
    from ..errors import Pose3dError
    from ..infer.sources import VIDEO_EXT

    if detector_3d:
        raise Pose3dError("--fov auto with --detector-3d: the detector's own 3D does not use the field of view; "
                          "drop --fov auto")
    for inp in inputs:
        if str(inp).startswith("camera:") or Path(inp).suffix.lower() not in VIDEO_EXT:
            raise Pose3dError(f"{inp}: --fov auto finds the field of view from a video's frames (the scene's vertical "
                              "lines); this input is not a video file: give --fov DEGREES, --focal or --calib")


EXAMPLES = """Examples:

  pose3d infer worker.mp4 -o poses.csv --render check.mp4    # 3D per frame, and a video to check it

  pose3d infer photos/ -o poses.json --fov 70                  # a folder of photos, each on its own

  pose3d infer worker.mp4 -o poses.csv --fov auto --person largest --person-height 172   # where, in mm

  pose3d infer --camera 0 -o live.csv                          # the first webcam (Ctrl-C stops)"""


@app.command(epilog=EXAMPLES)
def infer(
    inputs: list[str] = typer.Argument(None, show_default=False, help="Videos, images, image folders, camera:N, or 2D keypoint files "
                                                 "(OpenPose JSON folder, COCO/MMPose JSON, pose3d CSV); none with --camera."),
    output: str = typer.Option(..., "--output", "-o", help="Output file (.csv, .json, .bvh), '-' for CSV on stdout, "
                                                             "or a folder for several inputs."),
    model: Optional[str] = typer.Option(None, help="Checkpoint (.pt) or exported .onnx (default: the shipped blend, which also reads BlazePose's own 3D when the built-in detector runs; an .onnx export lifts from 2D alone)."),
    fmt: Optional[Literal["csv", "json", "bvh"]] = typer.Option(None, "--format", help="csv, json or bvh (default: from the extension)."),
    camera: Optional[int] = typer.Option(None, "--camera", min=0, help="Read from camera index N instead of files."),
    fov: Optional[str] = typer.Option(None, help="Field of view across the long side, degrees 1-170 (default 65: a "
                                                  "phone), or auto: found from the scene's vertical lines (walls, door "
                                                  "frames) of a video, 65 when they are too few."),
    focal: Optional[float] = typer.Option(None, min=1.0, max=1e6, help="Focal length in pixels."),
    calib: Optional[Path] = typer.Option(None, help="Calibration: pose3d rig JSON, Qualisys .qca.txt or anipose/Pose2Sim .toml."),
    calib_camera: Optional[str] = typer.Option(None, help="Camera name in the calibration (default: the camera named in the file name; none named is an error)."),
    smooth: Literal["auto", "none", "one-euro", "savgol", "butter"] = typer.Option("auto", help="auto, none, one-euro, "
        "savgol or butter (zero-phase 6 Hz low-pass; auto: butter for files, one-euro for cameras, single-frame models)."),
    skeleton_fit: Literal["rays", "lengths", "none"] = typer.Option("rays", help="Constant bone lengths per person: "
        "rays (kept on the 2D camera rays), lengths (lifted directions only) or none."),
    detector: Literal["full", "lite"] = typer.Option("full", help="Built-in BlazePose model: full, or lite (faster, a little less accurate)."),
    detector_model: Optional[Path] = typer.Option(None, help="Another MediaPipe PoseLandmarker .task file."),
    fps: Optional[float] = option(None, gt=0.0, max=1000.0, help="Override the frame rate (images and keypoint files default to 30)."),
    size: Optional[str] = typer.Option(None, help="Image size WIDTHxHEIGHT for keypoint files that do not store it."),
    with_2d: bool = typer.Option(False, "--with-2d", help="Add the 2D pixel columns to the CSV."),
    angles: bool = typer.Option(False, "--angles", help="Add ergonomic joint angles (trunk, neck, shoulders, elbows, "
                                                        "knees; degrees) to the CSV/JSON; the trunk against --calib's "
                                                        "vertical, else the video's own (as ergo)."),
    min_conf: float = typer.Option(0.3, min=0.0, max=1.0, help="Joints below this 2D confidence are listed as low_conf."),
    render: Optional[Path] = typer.Option(None, help="Also write a side-by-side 2D/3D video (.mp4)."),
    flip_tta: bool = typer.Option(True, "--flip-tta/--no-flip-tta", help="Average with the mirrored input (-1 mm)."),
    fix_swaps: bool = typer.Option(True, "--fix-swaps/--no-fix-swaps", help="Undo the detector's left/right label swaps "
                                                                           "(jumps between consecutive frames)."),
    detector_3d: bool = typer.Option(False, "--detector-3d", help="Write the detector's own 3D (MediaPipe world "
                                                                  "landmarks, root-relative) instead of the lifter's."),
    detect_width: Optional[int] = typer.Option(None, min=32, help="Downscale wider frames to this width for the detector "
                                                          "(e.g. 640: faster; coordinates stay in original pixels; "
                                                                   "default: full size)."),
    person: str = typer.Option("all", help="Which people to write: all (one row per person and frame; id 0 = the "
                                           "largest), largest, or one id."),
    max_people: int = typer.Option(4, min=1, max=16, help="At most this many people per frame (1: the single-person "
                                                  "detector, faster)."),
    person_height: Optional[float] = typer.Option(None, "--person-height", callback=_height_cm, help="The person's "
        "standing height, cm (100-250): scales the 3D and the root position (root_*_mm, camera frame) to it (default: "
        "the lifted body's size; one view cannot tell a small person near from a tall one far). One person: with "
        "--person largest or an id, or --max-people 1."),
) -> None:
    """Lift videos, photos or 2D keypoints to per-frame 3D joints (mm, camera frame, root-relative)."""
    from ..errors import Pose3dError
    from ..infer.lifter import load_lifter
    from ..infer.pipeline import InferOptions, infer_one, output_for

    inputs = list(inputs or [])
    if camera is not None:
        inputs = [f"camera:{camera}", *inputs]
    with user_errors():
        if not inputs:
            raise Pose3dError("no input: give a video, images, a keypoint file or --camera N (see --help)")
        from ..infer.calibration import check_calib_camera

        check_calib_camera(calib_camera, calib)
        fov_deg, fov_auto = parse_fov(fov)
        opts = InferOptions(model=model, fov=fov_deg, focal=focal, calib=str(calib) if calib else None,
                            calib_camera=calib_camera, smooth=smooth, detector_model=str(detector_model) if detector_model else None,
                            fps=fps, size=_size(size), min_conf=min_conf, with_2d=with_2d, fmt=fmt,
                            render=str(render) if render else None, detect_width=detect_width,
                            fix_swaps=fix_swaps, detector=detector, angles=angles,
                            detector_3d=detector_3d, skeleton_fit=skeleton_fit, person_height=person_height,
                            fov_auto=fov_auto)
        from ..infer.people import parse_person

        opts.person, opts.max_people = parse_person(person), max_people
        if render and len(inputs) > 1:
            raise Pose3dError("--render takes one input at a time")
        if output == "-" and len(inputs) > 1:
            raise Pose3dError("-o - takes one input; give -o FOLDER for several inputs")
        outputs = [output_for(i, output, len(inputs), fmt) for i in inputs]
        dup = {o for o in outputs if outputs.count(o) > 1}
        if dup:
            raise Pose3dError(f"several inputs would write {sorted(dup)[0]}; give them distinct file names")
        if render:
            from ..infer.pipeline import is_keypoint_input

            if Path(inputs[0]).exists() and is_keypoint_input(Path(inputs[0])):
                raise Pose3dError("--render needs a video or images as input (a keypoint file has no frames)")
        reads = [*inputs, model, calib, detector_model]
        from ..filekind import TEXT

        # csv, json and bvh are text whatever the extension --format overrides (a checkpoint was overwritten)
        check_outputs(reads, [*outputs, render], writes={o: TEXT for o in outputs if o is not None} if fmt else None)
        from ..infer.writers import format_of

        for out in outputs:  # an output's format is decided (or refused) before any detection
            format_of(out, fmt)
        if render and render.suffix.lower() not in (".mp4", ".avi", ".mov", ".mkv"):
            raise Pose3dError(f"{render}: --render writes a video; give a .mp4 file name")
        from ..infer.people import parse_person

        parse_person(person)  # a bad --person is refused before any detection
        from ..infer.calibration import check_inputs, check_intrinsics_options
        from ..infer.pipeline import is_keypoint_input

        check_intrinsics_options(fov, focal, calib)
        if fov_auto:
            check_fov_auto(inputs, detector_3d)
        if person_height is not None:
            check_person_height(inputs, person, max_people, detector_3d)
        check_inputs(inputs, calib, calib_camera, _size(size))  # each opens, fits its camera: before any detection
        if size and not all(Path(i).exists() and is_keypoint_input(Path(i)) for i in inputs):
            raise Pose3dError("--size is the image size of a keypoint file; a video or photo says its own: drop it")
        lifter = load_lifter(model, flip_tta=flip_tta)
        summaries = []
        with progress() as bar:
            for inp, out in zip(inputs, outputs):
                task = bar.add_task(Path(inp).name[:30], total=None, info="")

                def on_start(n, task=task):
                    bar.update(task, total=n)

                def on_frame(i, task=task):
                    bar.update(task, completed=i + 1)

                s = infer_one(inp, out, opts, lifter, on_frame=on_frame, on_start=on_start)
                bar.update(task, info=f"{s.fps:.1f} fps")
                summaries.append(s)
    if state.quiet:
        return
    from ..infer.people_writers import bvh_paths

    t = Table(title="pose3d infer", title_justify="left")
    for c in ("input", "output", "people", "frames", "detected (person 0)", "fps (end to end)"):
        t.add_column(c, justify="right" if c not in ("input", "output") else "left")
    for s in summaries:
        ids = s.extra.get("people", [0])
        out = s.output  # a BVH holds one person: the others are files beside it
        if out.lower().endswith(".bvh") and len(ids) > 1:
            out += " + " + ", ".join(b.name for b in bvh_paths(out, ids)[1:])
        t.add_row(Path(s.input).name, out, str(len(ids)), str(s.frames),
                  f"{s.detected} ({100 * s.detected / max(s.frames, 1):.0f}%)", f"{s.fps:.1f}")
    err_console.print(t)
    for s in summaries:
        name = Path(s.input).name
        if "fov_auto" in s.extra:
            f = s.extra["fov_auto"]
            say(f"{name}: --fov auto: " + (f"field of view {f['fov_deg']:g} deg across the long side, from the scene's "
                                           "vertical lines" if f["used"] else f["note"]))
        place = s.extra.get("placement")
        if place:
            say(f"{name}: person 0 is {place['near_m']:.1f}-{place['far_m']:.1f} m from the camera (median "
                f"{place['median_m']:.1f} m) at a standing height of {place['height_m']:.2f} m ({place['scale']})")
            if place.get("guessed"):
                from ..infer.pipeline import SIZE_GUESSED

                say(f"[bold yellow]warning[/]: {name}: its image size was {SIZE_GUESSED}")
