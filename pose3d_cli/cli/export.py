"""`pose3d export model.pt -o model.onnx [--format onnx|torchscript|pt2]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.markup import escape

from .app import app
from .common import check_outputs, err_console, state, user_errors


EXAMPLES = """Examples:

  pose3d export model.pt -o model.onnx          # runs with onnxruntime (pose3d infer --model model.onnx)

  pose3d export model.pt -o model.int8.onnx --quantize int8   # int8 layers within tolerance: faster batched CPU

  pose3d export model.pt -o model.ts            # TorchScript

  pose3d export model.pt -o model.pt2 --tolerance 0.001"""


@app.command(epilog=EXAMPLES)
def export(
    checkpoint: Path = typer.Argument(..., help="A pose3d checkpoint (.pt) from `pose3d train`."),
    output: Path = typer.Option(..., "--output", "-o", help="The exported file: .onnx, .pt2, or .ts/.torchscript/.pt."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="onnx, torchscript or pt2 (default: from the output's extension)."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", min=0.0,
                                              help="Largest allowed difference from torch in mm (default 0.01; "
                                                   "15 with --quantize int8)."),
    quantize: Optional[Literal["int8"]] = typer.Option(
        None, "--quantize", help="int8: ONNX with int8 fully connected layers (onnxruntime dynamic quantisation), "
                                 "those that keep the check poses (with joints missing too) within half the "
                                 "tolerance; the shipped model: 1.2-1.3x the poses/s of float32, a few mm from torch."),
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON on stdout."),
) -> None:
    """Export a checkpoint to ONNX, TorchScript or torch.export (.pt2), checked against torch on real 2D keypoints.

    Inputs: xy (B, [T,] J, 2) normalised camera coordinates, conf (B, [T,] J); output: joints_3d (B, [T',] J, 3) mm.
    The codec and the checkpoint's metadata (skeleton, joints, receptive field ...) travel in the file.
    Batch and time axes are dynamic; the file is written only when it matches torch within the tolerance.
    --quantize int8 (ONNX; mlp, fused and blend models) keeps the input normaliser, first layer and output in float32,
    and the hidden layers that would move the check poses beyond half the tolerance.
    A fused or blend model (the default) is exported as its plain 2D path: the detector-3D input stays in the .pt.
    """
    from .. import export as ex
    from ..errors import Pose3dError

    with user_errors():
        if fmt is None:
            fmt = ex.format_from_path(output)
        fmt = fmt.lower()
        if fmt not in ex.FORMATS:
            raise Pose3dError(f"--format {fmt!r}: choose {', '.join(ex.FORMATS)}")
        check_outputs([checkpoint], [output])
        ex.check_not_checkpoint_name(output)
        implied = ex.SUFFIX_FORMATS.get(output.suffix.lower())
        if implied and implied != fmt:  # a file named .onnx that is no ONNX model
            raise Pose3dError(f"{output}: the extension says {implied}, but --format {fmt} would be written there; "
                              f"nothing was written; name the output for its format (e.g. "
                              f"{output.with_suffix(next(k for k, v in ex.SUFFIX_FORMATS.items() if v == fmt))})")
        with err_console.status(f"exporting {escape(str(checkpoint))} to {fmt} …") if not state.quiet else _null():
            report = ex.export_model(checkpoint, output, fmt, tolerance_mm=tolerance, quantize=quantize)
    if as_json:
        typer.echo(json.dumps({"path": str(report.path), "format": report.format, "quantize": report.quantize,
                               "max_abs_diff_mm": report.max_abs_diff_mm, "n_check_samples": report.n_check_samples,
                               "tolerance_mm": report.tolerance_mm, "size_bytes": report.size_bytes,
                               "seconds": round(report.seconds, 3), "plain_path_only": report.plain_path_only}))
    if not state.quiet:
        err_console.print(
            f"[bold green]exported[/] {escape(str(report.path))} ({report.format}"
            f"{' ' + report.quantize if report.quantize else ''}, {report.size_bytes / 1e6:.2f} MB, "
            f"{report.seconds:.1f} s); check vs torch: max |diff| [bold]{report.max_abs_diff_mm:.2g} mm[/] over "
            f"{report.n_check_samples} poses (tolerance {report.tolerance_mm:g} mm)", highlight=False)
    if report.plain_path_only:
        say_warning(f"{checkpoint}: exported without its detector-3D input (BlazePose world landmarks): the export "
                    "lifts from 2D alone, like the plain model; `pose3d infer --model` on the .pt uses both")


def say_warning(msg: str) -> None:
    if not state.quiet:
        err_console.print(f"[yellow]warning:[/] {escape(msg)}", highlight=False)


def _null():
    import contextlib

    return contextlib.nullcontext()
