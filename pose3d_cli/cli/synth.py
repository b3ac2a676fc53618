"""`pose3d synth mocap/ out.h5`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .app import app
from .common import check_outputs, err_console, option, progress, state, user_errors


EXAMPLES = """Examples:

  pose3d synth ../shared/data/mocap pairs.h5   # all BVH/C3D below the folder, 8 cameras each

  pose3d synth mocap/ rig.h5 --cameras rig.json --clean   # your own cameras, exact 2D

  pose3d synth walk.bvh p.h5 -n 4 --noise 0.02 --dropout 0.1 --val 0.2 --test 0"""


@app.command(epilog=EXAMPLES)
def synth(
    inputs: list[Path] = typer.Argument(..., help="Mocap files or folders (searched recursively): .bvh .amc (+ its .asf) .c3d .npz .h5"),
    output: Path = typer.Argument(..., help="Output HDF5 of 2D/3D pairs."),
    views: int = typer.Option(8, "--views", "-n", min=1, max=1000, help="Virtual cameras per motion (at most 1000: "
                              "more data comes from more motions, not from more views of one)."),
    fps: float = typer.Option(30.0, min=0.0, max=1000.0, help="Resample every motion to this frame rate (0 keeps each file's own)."),
    stride: int = typer.Option(1, "--stride", min=1, help="Then keep every N-th frame (e.g. --fps 0 --stride 5: "
                                                          "Human3.6M's 50 Hz → 10 Hz)."),
    seed: int = typer.Option(0, min=0, max=2**63 - 1, help="Random seed: same seed and inputs, same file."),
    seated: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of the views that film the motion seated on a "
                                 "chair (upper body's motion kept, legs put on a seat; upright motions only)."),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), "--workers", "-j", min=1, help="Processes across files."),
    clean: bool = typer.Option(False, "--clean", help="Exact projections: no noise, occlusion or swaps."),
    cameras: Optional[Path] = typer.Option(None, "--cameras", help="Calibrated cameras to film with instead of sampling: a pose3d rig JSON, Qualisys .qca.txt or Pose2Sim/anipose .toml (extrinsics in the mocap's world frame, mm, Z up)."),
    camera_config: Optional[Path] = typer.Option(None, "--camera-config", help="YAML/JSON file of camera sampling ranges."),
    fov: Optional[tuple[float, float]] = typer.Option(None, help="Field of view range across the long side, degrees "
                                                          "(default 50 80)."),
    height: Optional[tuple[float, float]] = typer.Option(None, help="Camera height range, mm (default 500 2500)."),
    distance: Optional[tuple[float, float]] = typer.Option(None, help="Camera distance range, mm (default 1500 10000)."),
    handheld: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Fraction of hand-held (slowly moving) "
                                             "cameras (default: --camera-config or the built-in 0.3)."),
    corruption_config: Optional[Path] = typer.Option(None, "--corruption-config", help="YAML/JSON file of corruption rates."),
    noise: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="2D jitter std, fraction of person size "
                                          "(default: --corruption-config or 0.0048)."),
    dropout: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Random missing-joint rate (default: "
                                            "--corruption-config or 0.02)."),
    swap_rate: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Left/right swap rate per frame and pair "
                                              "(default: --corruption-config or 0.001)."),
    split_by: Literal["file", "subject"] = typer.Option("file", help="Hold out by 'file' or 'subject' (never by frame)."),
    val: float = option(0.1, min=0.0, lt=1.0, help="Fraction of files/subjects for validation."),
    test: float = option(0.1, min=0.0, lt=1.0, help="Fraction of files/subjects for test."),
    test_subjects: Optional[str] = typer.Option(None, "--test-subjects", help="Comma-separated subjects that form the "
                                                "test set (e.g. S9,S11); --test is then unused."),
    same_take: Optional[list[str]] = typer.Option(None, "--same-take", help="File-name pattern of one take stored in "
                                                  "several files with different bytes (e.g. 'kinematics_tennis_serve*'"
                                                  "): they share one split. Repeatable."),
    units: Literal["auto", "mm", "cm", "m", "in", "cmu"] = typer.Option("auto", help="BVH units: mm, cm, m, in, cmu or auto (from the rest pose)."),
    up: Literal["auto", "y", "z"] = typer.Option("auto", help="BVH up axis: y, z or auto."),
    mapping: Optional[Path] = typer.Option(None, help="JSON/YAML joint mapping {h36m17 joint: source name(s)}, or a "
                                                      "preset name (cmu_motionbuilder, cmu_3dsmax, bandai_namco, "
                                                      "mixamo, xsens, asf_cmu). Default: the preset that fits, "
                                                      "else joints found by topology and fuzzy names."),
    markerset: str = typer.Option("auto", help="C3D marker set preset (auto detects)."),
    subject: Optional[str] = typer.Option(None, help="Keep only this subject (default: every subject): BVH/AMC files "
                                                     "by the subject their name gives (CMU 01_02 -> cmu01, HDM05 "
                                                     "HDM_bd_... -> bd), C3D and VideoPose3D files by the subjects "
                                                     "inside."),
    compression: Literal["none", "lzf", "gzip"] = typer.Option("none", help="HDF5 compression of the arrays: none, lzf or gzip."),
) -> None:
    """Synthesise 2D/3D training pairs from motion capture through virtual phone cameras."""
    from ..mocap.presets import mapping_from_option
    from ..multiview.calibration import load_calibration
    from ..synth.cameras import CameraSampling
    from ..synth.corrupt import Corruption
    from ..synth.pairs import SynthConfig, SynthError, synthesise
    from ..errors import Pose3dError

    with user_errors():
        check_outputs([*inputs, cameras, camera_config, corruption_config, mapping], [output])
        from ..mocap.markersets import MARKERSETS

        if markerset != "auto" and markerset not in MARKERSETS:  # it was accepted and, without C3D files, unused
            raise Pose3dError(f"--markerset {markerset!r}: unknown; known: auto, {', '.join(MARKERSETS)}")
        if output.suffix.lower() not in (".h5", ".hdf5"):  # HDF5 pairs written into o.csv were accepted
            raise Pose3dError(f"{output}: synth writes an HDF5 file of pairs; name it .h5")
        if val + test >= 1.0:
            raise SynthError(f"--val {val:g} and --test {test:g} leave nothing for training; keep their sum below 1")
        sampling = CameraSampling.from_file(camera_config) if camera_config else CameraSampling()
        for name, value in (("fov_deg", fov), ("height_mm", height), ("distance_mm", distance)):
            if value is not None:
                setattr(sampling, name, tuple(value))
        if handheld is not None:
            sampling.handheld_prob = handheld
        sampling.validate("options")
        corruption = Corruption.from_file(corruption_config) if corruption_config else Corruption()
        corruption = corruption.scaled(noise=noise, occlusion=dropout)
        if swap_rate is not None:
            corruption.swap_rate = swap_rate
        cfg = SynthConfig(views=views, fps=fps or None, sampling=sampling, rig=load_calibration(cameras) if cameras else None,
                          corruption=corruption, clean=clean, seed=seed, split_by=split_by, val_fraction=val,
                          test_fraction=test, units=units, up=up, markerset=markerset,
                          mapping=mapping_from_option(mapping) if mapping else None, subject=subject,
                          test_subjects=tuple(t.strip() for t in (test_subjects or "").split(",") if t.strip()),
                          stride=stride, seated=seated, same_takes=tuple(same_take or ()))
        from ..mocap.load import find_mocap_files

        n_files = len(find_mocap_files(inputs))
        with progress() as bar:
            task = bar.add_task("synth", total=n_files, info="")

            def on_file(res):
                bar.update(task, advance=1, info=escape(Path(res.path).name[:40]))

            report = synthesise(inputs, output, cfg, workers=workers,
                                compression=None if compression == "none" else compression, on_file=on_file)
    if state.quiet:
        return
    table = Table(title=f"pose3d synth → {escape(str(output))}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rate = report.pairs / max(report.wall_s, 1e-9)
    for k, v in (("files used", report.files), ("files skipped", len(report.skipped)), ("frames", report.frames),
                 ("views", len(cfg.rig) if cfg.rig else cfg.views), ("pairs", report.pairs),
                 ("split train/val/test", " / ".join(f"{report.split_pairs.get(s, 0):,}" for s in ("train", "val", "test"))
                  + " pairs"),
                 ("", " / ".join(str(report.split_groups.get(s, 0)) for s in ("train", "val", "test"))
                  + (" subjects" if report.split_by == "subject" else " files")),
                 *((("seated sequences", f"{report.seated_sequences} of {report.sequences} (upright motions only)"),) if cfg.seated else ()),
                 ("wall time", f"{report.wall_s:.1f} s ({rate:,.0f} pairs/s)"),
                 ("time in read / generate / write", f"{report.read_s:.1f} / {report.generate_s:.1f} / {report.write_s:.1f} s (summed over workers)")):
        table.add_row(k, str(v))
    err_console.print(table)
    for line in report.notes + report.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(line)}")
    if report.skipped:
        skipped = Table(title="skipped files", title_justify="left")
        skipped.add_column("file", overflow="fold")
        skipped.add_column("why", overflow="fold")
        for f, why in report.skipped:
            skipped.add_row(escape(Path(f).name), escape(why.split(": ", 1)[-1] if why.startswith(f) else why))
        err_console.print(skipped)
