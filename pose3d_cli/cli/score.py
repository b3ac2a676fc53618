"""`pose3d score pred.csv ref.npz`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .app import app
from .common import check_outputs, err_console, say, state, user_errors

LABELS = {"p_mpjpe": "P-MPJPE", "mpjpe_rotation": "MPJPE rotation-only", "mpjpe_unaligned": "MPJPE unaligned",
          "mpjpe_absolute": "MPJPE absolute (placed by its root)"}


def _mm(v) -> str:
    return "-" if v is None else f"{v:.1f}"


@app.command()
def score(
    prediction: Path = typer.Argument(..., help="A CSV or JSON written by `pose3d infer` (camera frame, mm)."),
    reference: Path = typer.Argument(..., help="A 3D reference .npz (`pose3d triangulate`, or a pose3d array file)."),
    calib: Optional[Path] = typer.Option(None, help="Calibration (default: the cameras stored in the reference)."),
    camera: Optional[str] = typer.Option(None, help="The prediction's camera (default: the one named in its file name)."),
    frames: Optional[str] = typer.Option(None, help="Reference frames START:STOP (half-open), e.g. 50:100."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write every figure to this JSON file."),
) -> None:
    """Score a monocular 3D result against a reference: P-MPJPE, rotation-only and unaligned MPJPE, per joint,
    bone-length ratios and CV, elbow/knee angle RMSE, swapped frames; with a calibrated camera and an infer output
    that places the person, the root position's error and the absolute MPJPE."""
    from ..atomic import write_text_atomic
    from ..errors import Pose3dError
    from ..multiview.score import score_file

    with user_errors():
        check_outputs([prediction, reference, calib], [json_out])
        if json_out is not None and str(json_out) != "-" and json_out.suffix.lower() != ".json":
            raise Pose3dError(f"{json_out}: --json writes JSON; give a file name ending in .json (or - for stdout)")
        res = score_file(str(prediction), str(reference), str(calib) if calib else None, camera, frames)
        if json_out:
            write_text_atomic(json.dumps(res, indent=2), json_out)
    if state.quiet:
        return
    a, b = res["reference_frames"]
    lo, _, hi = (frames or "").partition(":")
    if (lo.strip() and int(lo) != a) or (hi.strip() and int(hi) != b):
        say(f"--frames {frames!r}: the reference and the prediction share frames {a}:{b} of it; those were scored")
    if res.get("reference_frames_without_prediction"):
        say(f"{res['reference_frames_without_prediction']} reference frames in {a}:{b} have no row in "
            f"{prediction.name} (not scored): the figures cover the frames it holds")
    if res.get("people_in_prediction", 1) > 1:
        say(f"{prediction.name} holds {res['people_in_prediction']} people: person 0 (the most prominent, infer's "
            "subject) was scored")
    t = Table(title=f"pose3d score {prediction.name} vs {reference.name} (camera {res['camera'] or '-'}, offset "
                    f"{res['sync_offset']:+d}, reference frames {a}:{b}, {res['frames']} scored, mm over "
                    f"{len(res['joints'])} joints)", title_justify="left")
    subsets = list(res.get("frames_in", {}))
    t.add_column("metric")
    for s in subsets:
        t.add_column(f"{s} ({res['frames_in'][s]})", justify="right")
    for k, per in res.get("mpjpe", {}).items():
        label = LABELS.get(k, k)
        if k == "mpjpe_absolute" and res["frames_in_absolute"] != res["frames_in"]:
            label += " (frames: " + " / ".join(str(res["frames_in_absolute"][s]) for s in subsets) + ")"
        t.add_row(label, *[_mm(per.get(s)) for s in subsets])
    err_console.print(t)
    rp = res.get("root_position")
    if rp and rp.get("frames"):
        say(f"root position (camera frame, {rp['frames']} frames): error median {rp['error_median_mm']:.0f} mm, "
            f"depth bias {rp['depth_bias_mm']:+.0f} mm ({rp['depth_bias_percent']:+.1f}% of "
            f"{rp['reference_depth_mean_mm'] / 1000:.2f} m), sideways/up-down median {rp['lateral_error_median_mm']:.0f} mm")
    if "per_joint" not in res:
        return
    pj = Table(title="per joint (mm)", title_justify="left")
    pj.add_column("joint")
    for k in res["per_joint"]:
        pj.add_column(LABELS.get(k, k), justify="right")
    for j in res["joints"]:
        pj.add_row(j, *[_mm(res["per_joint"][k][j]) for k in res["per_joint"]])
    err_console.print(pj)
    o = Table(title=f"bones and angles ({res['swapped_frames']} frames with swapped sides)", title_justify="left")
    for c in ("bone", "length ratio pred/ref", "CV pred %", "CV ref %"):
        o.add_column(c, justify="left" if c == "bone" else "right")
    for bone, r in res["bone_length_ratio"].items():
        o.add_row(bone, f"{r:.2f}", f"{100 * res['bone_length_cv'][bone]:.1f}", f"{100 * res['bone_length_cv_reference'][bone]:.1f}")
    err_console.print(o)
    g = Table(title="joint angle RMSE (degrees)", title_justify="left")
    g.add_column("angle")
    g.add_column("RMSE", justify="right")
    for k, v in res["angle_rmse_deg"].items():
        g.add_row(k, f"{v:.1f}")
    err_console.print(g)
