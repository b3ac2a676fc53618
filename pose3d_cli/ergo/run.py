"""The plain function behind ``pose3d ergo``: input → poses → assessment → outputs (all atomic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Pose3dError
from .assess import Assessment, assess, require_a_person, resolve_vertical
from .io import WORLD_UP, read_poses, read_reference_poses
from .options import Conventions, Segments
from .timeline import TimeRules


@dataclass
class ErgoRequest:
    input: str
    views: list[str] | None = None  # two or more calibrated videos (or 2D files) of one worker: triangulated
    max_offset: int | None = None  # several views: the largest sync offset searched, frames (None: triangulate's auto)
    cameras: list[str] | None = None  # several views: the calibration's camera names in their order (else by file name)
    offsets: list[int] | None = None  # several views: known sync offsets (frames), used as given
    output: Path | None = None
    report: Path | None = None
    json_out: Path | None = None
    plots: Path | None = None
    poses_out: Path | None = None
    up: tuple[float, float, float] | None = None
    calib: str | None = None
    calib_camera: str | None = None
    conventions: Conventions = field(default_factory=Conventions)
    segments: Segments = field(default_factory=Segments)
    rules: TimeRules = field(default_factory=TimeRules)
    min_conf: float = 0.3
    model: str | None = None
    fov: float | None = None
    focal: float | None = None
    detector: str = "full"
    detector_model: str | None = None
    smooth: str = "auto"
    fps: float | None = None
    detect_width: int | None = None
    person: str | int = "all"  # all, largest (id 0) or one id (pose files and videos alike)
    max_people: int = 4  # a video: people per frame for the built-in detector (1: the single-person path)
    video: str | None = None  # an infer output's video: its frames give the scene's vertical lines
    vertical: str = "auto"  # auto (scene lines, else body poses), lines, body, level; --up/--calib come first


def is_pose_file(path: Path) -> bool:
    """An infer output (CSV/JSON with 3D joints), as opposed to a video or a 2D keypoint file."""
    if path.suffix.lower() == ".csv":
        with open(path, errors="replace") as f:
            head = f.readline()
        return "_x" in head and "_z" in head and "time_s" in head
    if path.suffix.lower() == ".json":
        with open(path, errors="replace") as f:
            start = f.read(4096)
        return '"metadata"' in start or '"frames"' in start
    return False


def _people_of(path: Path, person: str | int) -> list[int]:
    """Which person ids of an infer output to score (``--person all|largest|ID``)."""
    from ..infer.readers import person_ids

    ids = person_ids(path)
    if person == "all":
        return ids
    if person == "largest":
        return ids[:1]
    if person not in ids:
        raise Pose3dError(f"{path}: --person {person}: no such person; people in the file: "
                          f"{', '.join(map(str, ids))} (give one of these ids, largest or all)")
    return [int(person)]


def run_ergo(req: ErgoRequest, on_start=None, on_frame=None) -> list[Assessment]:
    """Score every chosen person; returns one :class:`Assessment` per person (``A.person`` = its id)."""
    path = Path(req.input)
    if req.detector not in ("full", "lite"):
        raise Pose3dError(f"--detector {req.detector!r}: use full or lite")
    from ..body.vertical import check_vertical_mode

    check_vertical_mode(req.vertical)
    source, tracks = None, {}
    if req.views:
        return _run_views(req, on_start, on_frame)
    if path.suffix.lower() == ".npz":
        return _run_reference(req, path, on_start, on_frame)
    if path.suffix.lower() in (".csv", ".json") and is_pose_file(path):
        if req.poses_out:
            raise Pose3dError("--poses keeps infer's output of a video; the input is already an infer output")
        if req.vertical == "lines" and req.up is None and not req.calib and not req.video:
            raise Pose3dError(f"{path}: --vertical lines needs the video (the scene's lines); this is an infer "
                              "output: give --video clip.mp4 (the video it came from), or --vertical body / --up / "
                              "--calib")
        people = [(pid, read_poses(path, pid)) for pid in _people_of(path, req.person)]
        if req.video:
            source = _video_of_poses(req.video, people, req.fps)
            for _, p in people:  # the video names the camera (--calib) where the poses file does not
                p.metadata.setdefault("input", req.video)
        require_a_person([poses for _, poses in people], str(path))
        if on_start:  # read and checked: the bar shows from here (a file refused while read leaves no bar)
            on_start(len(people[0][1].frame))
    elif path.suffix.lower() == ".csv":
        raise Pose3dError(f"{path}: not a pose3d infer CSV (no frame, time_s and <joint>_x/_y/_z columns); "
                          "run `pose3d infer video.mp4 -o poses.csv` first, or give the video")
    elif req.video:
        raise Pose3dError(f"--video {req.video}: only for an infer output (poses.csv/.json); {path} is scored from "
                          "its own frames: drop --video")
    else:
        from ..infer.pipeline import InferOptions
        from .from_video import check_video_input, people_from_input

        if not path.suffix.lower() in (".json",):
            check_video_input(str(path), req.fps)  # refuse 1-frame and unreadable videos before loading a model
        opts = InferOptions(model=req.model, fov=req.fov, focal=req.focal, calib=req.calib,
                            calib_camera=req.calib_camera, smooth=req.smooth, detector_model=req.detector_model,
                            fps=req.fps, detect_width=req.detect_width, detector=req.detector, min_conf=req.min_conf,
                            person=req.person, max_people=req.max_people)
        found, source = people_from_input(str(path), opts, on_frame=on_frame, on_start=on_start)
        people = [(pid, poses) for pid, poses, _ in found]
        tracks = {pid: pt for pid, _, pt in found}
    require_a_person([poses for _, poses in people], str(path))  # before the vertical: its errors would hide this
    scene = None
    if source is not None and req.up is None and not req.calib and req.vertical in ("auto", "lines"):
        from ..infer.scene import scene_vertical

        scene = scene_vertical(source, list(tracks.values()), req.fov, req.focal, min_conf=req.min_conf)
    results = []
    vertical = resolve_vertical([poses for _, poses in people], req.up, req.calib, req.calib_camera, scene,
                                req.vertical, req.video)  # one camera, one vertical
    first = people[0][1]
    mismatch = _calibration_against_scene(req, source, tracks, vertical,
                                          str(first.metadata.get("input") or first.source))
    for pid, poses in people:
        A = assess(poses, vertical, req.conventions, req.segments, req.rules, req.min_conf)
        if mismatch:
            A.summary["filming"]["camera_warnings"].append(mismatch)
        A.person = pid
        A.track = tracks.get(pid)  # 2D keypoints (for thumbnails), None for a pose file
        A.video = str(path) if source is not None and source.kind == "video" and not req.video else None
        results.append(A)
    require_a_scored_frame(results, str(path))
    _write_outputs(req, results, [tracks[pid] for pid, _ in people] if req.poses_out else [])
    if on_frame and not tracks:  # a pose file: scored
        on_frame(len(people[0][1].frame) - 1)
    return results


def require_a_scored_frame(results: list, where: str) -> None:
    """Refuse (one line, nothing written) footage in which people were detected but no frame of anyone could be
    scored: a report of empty tables would pass for a result. The most frequent reason is named."""
    from collections import Counter

    if any(A.summary["counts"]["scored"] for A in results):
        return
    detected = sum(A.summary["counts"]["detected"] for A in results)
    reasons = Counter(r for A in results for r in A.reason if r.startswith("not scored"))
    why = f" ({reasons.most_common(1)[0][0]}, in {reasons.most_common(1)[0][1]} frames)" if reasons else ""
    raise Pose3dError(f"{where}: a person was detected in {detected} frames but no frame could be scored{why}; "
                      "nothing was written; film the worker whole, head to feet (or lower --min-conf)")


#: a calibration whose camera's vertical is further than this from the video's own scene lines is likely another
#: camera's (the lines find the vertical within 0.2-0.6° on the shared clip; its cameras' tilts differ by 2-26°)
CALIB_SCENE_MAX_DEG = 5.0


def _calibration_against_scene(req: ErgoRequest, source, tracks: dict, vertical, video_name: str) -> str | None:
    """With ``--calib`` on a video: the calibrated camera's vertical against the one the video's own vertical lines
    show; a warning line when they are more than :data:`CALIB_SCENE_MAX_DEG` apart (``--calib-camera`` naming another
    camera, or the phone moved after its calibration), else None (also where the lines do not decide).
    ``video_name``: what names the camera (as :func:`.assess.resolve_vertical` picks it)."""
    if source is None or source.kind != "video" or not req.calib or req.up is not None:
        return None
    from ..body.vertical import angle_deg
    from ..infer.calibration import camera_for_size, load_calibration, pick_camera
    from ..infer.scene import scene_vertical

    try:  # the camera was resolved once already (the vertical): this check never stops a run
        cam = camera_for_size(pick_camera(load_calibration(req.calib), req.calib_camera, video_name), source.size)
    except Pose3dError:
        return None
    scene = scene_vertical(source, list(tracks.values()), focal=float(cam.K[0, 0]), min_conf=req.min_conf)
    if scene is None:
        return None
    # searched from the level camera first, with no agreement check: searched from the calibration's vertical, lines
    # more than 25° from it were refused as disagreeing, so the further off a calibration, the less it was caught
    s = next((s for s in (scene(None), scene(vertical.up)) if s.accepted), None)
    if s is None:
        return None
    off = float(angle_deg(s.up, vertical.up))
    if off <= CALIB_SCENE_MAX_DEG:
        return None
    return (f"the calibrated camera {cam.name!r} is tilted {off:.0f}° away from the vertical this video's own lines "
            "show: is it the camera that filmed this video (--calib-camera), and did the phone stay where it was "
            "calibrated? The scores use the calibration's vertical")


def check_reference_request(req: ErgoRequest) -> None:
    """Refuse, before anything is read, the options that cannot apply to a multi-view reference (.npz)."""
    name = Path(req.input).name
    for given, opt, why in ((req.up is not None, "--up", "its joints are in the calibration's world frame, Z up"),
                            (req.calib, "--calib", "it was triangulated with its calibration already"),
                            (req.video, "--video", "it comes from several videos; thumbnails are not drawn"),
                            (req.poses_out, "--poses", "it is already a pose file"),
                            (req.vertical != "auto", f"--vertical {req.vertical}", "its vertical is the world's Z"),
                            (req.model, "--model", "its 3D is triangulated, not lifted"),
                            (req.smooth != "auto", "--smooth", "its 3D is triangulated, not infer's lift; "
                             "--cutoff-hz smooths the angles"),
                            (req.fov or req.focal, "--fov/--focal", "its cameras are calibrated"),
                            (req.calib_camera, "--calib-camera", "its cameras are named in the file"),
                            (req.detector != "full" or req.detector_model or req.detect_width,
                             "--detector/--detector-model/--detect-width",
                             "its 2D was detected by `pose3d triangulate`")):
        if given:
            raise Pose3dError(f"{name}: {opt} does not apply to a multi-view reference ({why}); drop {opt}")
    if req.person not in ("all", "largest", 0):
        raise Pose3dError(f"{name}: --person {req.person}: a multi-view reference holds one person (id 0); give 0, "
                          "largest or all")
    if req.max_people != ErgoRequest.max_people:
        raise Pose3dError(f"{name}: --max-people does not apply to a multi-view reference (it holds one person); "
                          "drop --max-people")


def _run_views(req: ErgoRequest, on_start=None, on_frame=None) -> list[Assessment]:
    """Several calibrated videos (or 2D files) of one worker: ``pose3d triangulate``'s reference, then scored as a
    reference. ``--poses`` keeps the triangulation (.npz), written only once the scoring has succeeded."""
    import os
    import tempfile
    from dataclasses import replace

    from ..multiview.reference import triangulate_files
    from ..multiview.triangulate import sync_notes

    if not req.calib:
        raise Pose3dError(f"{len(req.views)} videos: scoring several views triangulates them, which needs their "
                          "calibration: give --calib (Qualisys .qca.txt, rig JSON or anipose/Pose2Sim .toml), or make "
                          "one from the worker: `pose3d calibrate A.mp4 B.mp4 -o rig.json`")
    for v in req.views:
        if Path(v).suffix.lower() == ".npz" or is_pose_file(Path(v)):
            raise Pose3dError(f"{v}: several inputs are triangulated, so each must be one camera's video or 2D "
                              "keypoint file, not an infer output or a reference; score those one at a time")
    if req.calib_camera:
        raise Pose3dError("--calib-camera names one camera; with several videos each is matched to its camera by "
                          "the camera name in its file name, or give them in order with --cameras A,B")
    bare = replace(req, calib=None, poses_out=None, views=None, detector="full")  # the detector is triangulate's
    check_reference_request(bare)  # the options that cannot apply to the triangulation, before any detection
    keep = Path(req.poses_out) if req.poses_out else None
    with tempfile.TemporaryDirectory(dir=keep.parent if keep else None, prefix=".pose3d-views-") as tmp:
        npz = Path(tmp) / "views.npz"
        started = []

        def view(_):  # the bar starts with the first detection: inputs refused before it leave no bar
            if not started and on_start:
                on_start(len(req.views))
            if started and on_frame:
                on_frame(len(started) - 1)
            started.append(True)

        summary = triangulate_files(list(req.views), req.calib, str(npz), camera_names=req.cameras,
                                    max_offset=req.max_offset, detector=req.detector, on_view=view,
                                    offsets=req.offsets)
        names = [Path(v).name for v in req.views]
        rig = _rig_json(req.calib)
        results = _run_reference(replace(bare, input=str(npz)), npz, on_start, on_frame, name=" + ".join(names),
                                 notes=[f"calibration {req.calib}"] + _rig_notes(rig)
                                 + sync_notes(summary.tri, names)
                                 + (_rig_sync_notes(rig, summary, names) if req.offsets is None else [])
                                 + _reprojection_notes(summary)
                                 + (["the videos taken as synchronised (--max-offset 0)"] if req.max_offset == 0
                                    and req.offsets is None else [])
                                 + ([f"sync offsets given: {', '.join(f'{o:+d}' for o in req.offsets)} frames"]
                                    if req.offsets is not None else []))
        if keep is not None:
            os.replace(npz, keep)
    return results


def _reprojection_notes(summary) -> list[str]:
    """The triangulation's own error: each view's median reprojection error over the limb joints it was used for."""
    import numpy as np

    cells = []
    for v, cam in enumerate(summary.cameras):
        e = summary.limb_errors_px(v)
        cells.append(f"{cam.name} {np.median(e):.1f} px" if e.size else f"{cam.name} -")
    return ["triangulation's median reprojection error over the limb joints: " + ", ".join(cells)]


def _rig_json(calib: str) -> dict:
    """A rig JSON calibration as a dict ({} for another format or an unreadable file: the reader said so already)."""
    import json

    if not str(calib).lower().endswith(".json"):
        return {}
    try:
        data = json.loads(Path(calib).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _rig_sync_notes(rig: dict, summary, names: list[str]) -> list[str]:
    """Where ``pose3d calibrate`` recorded a sync offset (``sync_offset_frames`` of the rig JSON ``rig``) and the
    triangulation's own search found another, say both: the scores rest on the one used."""
    k = rig.get("sync_offset_frames")
    cams = [str(c.get("name")) for c in rig.get("cameras", [])] if k is not None else []
    used = [c.name for c in summary.cameras]
    if len(used) != 2 or sorted(cams) != sorted(used):
        return []
    expected = int(k) if cams == used else -int(k)  # the rig's offset is its second camera's against its first
    found = int(summary.tri.offsets[1])
    if found == expected:
        return []
    return [f"sync: `pose3d calibrate` found {names[1]} at {expected:+d} frames, this triangulation's search at "
            f"{found:+d} (used); if a clap or another cue says which is right, give it with --offsets 0,K"]


def _rig_notes(rig: dict) -> list[str]:
    """A rig made by ``pose3d calibrate`` says so (its ``calibrated_by`` and ``notes``): the scores rest on it."""
    if "calibrated_by" not in rig:
        return []
    return [f"calibrated by {rig['calibrated_by']}"] + [str(n) for n in rig.get("notes", [])]


def _run_reference(req: ErgoRequest, path: Path, on_start=None, on_frame=None, name: str | None = None,
                   notes: list[str] | None = None) -> list[Assessment]:
    """A multi-view reference (``pose3d triangulate``): world frame, Z up, one person. ``name``: what the outputs
    call the input (the videos, when the reference is a temporary triangulation of them); ``notes``: lines for the
    summary's ``camera_notes`` (how the cameras were calibrated and synchronised)."""
    from ..body.vertical import Vertical

    check_reference_request(req)
    poses = read_reference_poses(path, req.fps)
    if name:
        poses.source = poses.metadata["input"] = name
    require_a_person([poses], str(path))
    if on_start:
        on_start(len(poses.frame))
    views = poses.metadata.get("views") or []
    vertical = Vertical(WORLD_UP.copy(), (f"the calibration's world frame (+Z up; triangulated from {len(views)} views: "
                                          f"{', '.join(views)})" if views else
                                          "the file's world frame (+Z up: a pose3d array without cameras)"),
                        requested=req.vertical)
    A = assess(poses, vertical, req.conventions, req.segments, req.rules, req.min_conf)
    A.person, A.track, A.video = 0, None, None
    A.summary["camera_notes"] = list(notes or [])
    require_a_scored_frame([A], str(path))
    _write_outputs(req, [A])
    if on_frame:
        on_frame(len(poses.frame) - 1)
    return [A]


def _video_of_poses(video: str, people: list, fps: float | None):
    """The video an infer output came from (``--video``), opened for its frames: refused when it is not a readable
    video or has fewer frames than the poses (then it is not their video)."""
    from ..infer.sources import VIDEO_EXT, open_source

    if Path(video).suffix.lower() not in VIDEO_EXT:
        raise Pose3dError(f"--video {video}: not a video file ({', '.join(sorted(VIDEO_EXT))}); give the video the "
                          "poses were inferred from")
    src = open_source(video, fps)
    last = max(int(p.frame.max()) for _, p in people if len(p.frame))
    if src.num_frames is not None and src.num_frames <= last:
        raise Pose3dError(f"--video {video}: {src.num_frames} frames, but the poses reach frame {last}: not the video "
                          "these poses came from")
    size = people[0][1].metadata.get("image_size")  # an infer JSON says it; a CSV does not
    if size is not None and tuple(int(v) for v in size) != tuple(src.size):
        raise Pose3dError(f"--video {video}: {src.size[0]}x{src.size[1]} frames, but the poses were inferred from "
                          f"{size[0]}x{size[1]}: not the video these poses came from")
    return src


def _write_outputs(req: ErgoRequest, results: list[Assessment], pose_tracks: list | None = None) -> None:
    """Build everything first, then write: a failure leaves nothing half-written. One person: the single-person
    layouts; several: a ``person`` CSV column, JSON ``people``, one report section per person. ``pose_tracks``:
    infer's own poses of a video (``--poses``), every person scored."""
    from .people_out import frames_csv_people, report_people, summary_json_people

    texts = {}
    if req.output:
        texts[req.output] = frames_csv_people(results)
    if req.json_out:
        texts[req.json_out] = summary_json_people(results)
    pngs = {}
    if req.report or req.plots:
        html, pngs = report_people(results)
        if req.report:
            texts[req.report] = html
    from ..atomic import write_text_atomic

    if pose_tracks:
        from ..infer.people_writers import write_people
        from ..infer.writers import format_of

        write_people(pose_tracks, req.poses_out, format_of(str(req.poses_out), None), min_conf=req.min_conf,
                     inputs=[req.input, req.calib])
    for p, text in texts.items():
        write_text_atomic(text, p)
    if req.plots:
        for name, data in pngs.items():
            _write_bytes_atomic(data, Path(req.plots) / name)


def _write_bytes_atomic(data: bytes, path: Path) -> None:
    import os

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
