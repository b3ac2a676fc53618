"""Export a checkpoint to ONNX, TorchScript or ``torch.export`` (.pt2), checked against eager torch.

The codec is inside the model (see :mod:`pose3d_cli.lifting.codec`), so an export is complete: inputs ``xy``
``(B, [T,] J, 2)`` normalised camera coordinates and ``conf`` ``(B, [T,] J)``, output ``joints_3d``
``(B, [T',] J, 3)`` root-relative mm (temporal models: ``T' = T - receptive_field + 1``). The batch axis is
dynamic, and so is the time axis of temporal models (from ``receptive_field + 1`` frames).

Every file carries the checkpoint's metadata as JSON (model and arguments, skeleton and joint names, codec,
receptive field, causal, pose3d version): ONNX in ``metadata_props['pose3d']``, TorchScript and pt2 in the
extra file ``pose3d.json``; :func:`load_exported_meta` reads it back (without torch).

After writing, the file is loaded back with its own runtime (onnxruntime, ``torch.jit.load``,
``torch.export.load``) and run on real 2D keypoints (``assets/sample_keypoints.npz``, made by
``scripts/make_sample_keypoints.py``) or on ``check_inputs``; the largest difference from eager torch must be
within ``tolerance_mm`` or the file is removed and :class:`ExportError` raised. Writes are atomic.

``quantize="int8"`` (ONNX only) writes a dynamically quantised file for faster batched CPU inference
(:func:`_quantize_int8`): its outputs differ from torch by a few mm per joint, so its check tolerance defaults to
:data:`INT8_TOLERANCE_MM`, and its metadata says ``"quantize": "int8"``.

torch is imported inside the functions: ``load_exported_meta`` and ``import pose3d_cli.export`` do not need it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .errors import Pose3dError
from .lifting.onnx_runtime import INPUT_NAMES, META_KEY, OUTPUT_NAME, OnnxLifter, read_onnx_meta
from .lifting.sequence import pad_sequence

FORMATS = ("onnx", "torchscript", "pt2")
#: output suffix → format, when no format is given
SUFFIX_FORMATS = {".onnx": "onnx", ".pt2": "pt2", ".ts": "torchscript", ".torchscript": "torchscript"}
#: never an export's suffix: it is the checkpoint's (infer, eval and info read a .pt as one; a TorchScript export
#: written as other_run.pt replaced that run's checkpoint)
CHECKPOINT_SUFFIX = ".pt"
#: default largest allowed |export - eager| in mm (read at call time by the CLI)
TOLERANCE_MM = 0.01
ONNX_OPSET = 20
QUANTIZE = ("int8",)
#: default largest allowed |int8 export - eager| in mm on the check poses. The shipped model, on the shipped
#: sample as detected, every hidden layer int8: 8.4 mm max, 1.1 mm mean (with 10-50% of joints missing up to 24 mm: the
#: layers are chosen now, _quantize_int8; quantising its first layer as well: 24 mm max, 3.2 mm mean); on held-out
#: synth pairs its P-MPJPE moves by 0.03 mm. Speed: ``benchmarks/infer.py --only-lifter``
INT8_TOLERANCE_MM = 15.0
#: the int8 layers are chosen to keep the check poses within this share of the tolerance (:func:`_quantize_int8`)
QUANTIZE_MARGIN = 0.5
META_FILE = f"{META_KEY}.json"
from .lifting.onnx_runtime import EXPORT_FORMAT, EXPORT_FORMAT_VERSION  # noqa: E402  (one owner, torch-free)
SAMPLE_PATH = Path(__file__).resolve().parent / "assets" / "sample_keypoints.npz"


class ExportError(Pose3dError):
    """An export failed, or the exported file does not reproduce the checkpoint's outputs."""


@dataclass
class ExportReport:
    """What :func:`export_model` wrote and how well it matches eager torch."""

    path: Path
    format: str
    max_abs_diff_mm: float
    n_check_samples: int
    seconds: float
    size_bytes: int = 0
    tolerance_mm: float = TOLERANCE_MM
    quantize: str | None = None
    plain_path_only: bool = False  # a fused / blend model: its detector-3D input is not in the export


def format_from_path(path: str | Path) -> str:
    """The export format implied by a file name's suffix."""
    suffix = Path(path).suffix.lower()
    check_not_checkpoint_name(path)
    if suffix not in SUFFIX_FORMATS:
        raise ExportError(f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; use "
                          f"{', '.join(SUFFIX_FORMATS)} or give --format {'|'.join(FORMATS)}")
    return SUFFIX_FORMATS[suffix]


def check_not_checkpoint_name(path: str | Path) -> None:
    """ExportError for an export named like a checkpoint (``.pt``): see :data:`CHECKPOINT_SUFFIX`."""
    if Path(path).suffix.lower() == CHECKPOINT_SUFFIX:
        raise ExportError(f"{path}: .pt is the suffix of pose3d checkpoints (infer, eval and info read a .pt as one); "
                          "nothing was written; name the export for its format: .onnx, .ts (TorchScript) or .pt2")


def load_sample(skeleton: str = "h36m17") -> tuple[np.ndarray, np.ndarray]:
    """The shipped real sample as network input for ``skeleton``: xy (60, J, 2), conf (60, J) float32."""
    if not SAMPLE_PATH.is_file():
        raise ExportError(f"{SAMPLE_PATH}: the shipped sample keypoints are missing; "
                          "rebuild them with `python scripts/make_sample_keypoints.py`")
    with np.load(SAMPLE_PATH, allow_pickle=False) as d:
        if skeleton == "h36m17":
            return d["xy"].astype(np.float32), d["conf"].astype(np.float32)
        xy33, c33 = d["xy_blazepose33"], d["conf_blazepose33"]
    from .skeleton import convert

    try:
        xy, conf = convert(xy33, "blazepose33", skeleton, c33)
    except Pose3dError as e:
        raise ExportError(f"the shipped sample cannot be converted to skeleton {skeleton} ({e}); "
                          "pass check_inputs") from None
    return xy.astype(np.float32), conf.astype(np.float32)


def export_meta(meta: dict, receptive_field: int, causal: bool, fmt: str, checkpoint: str | Path = "") -> dict:
    """The metadata stored in an export, from a checkpoint's metadata (``LoadedModel.meta``)."""
    J = len(meta["skeleton"]["joints"])
    t = "" if receptive_field == 1 else "T, "
    t_out = "" if receptive_field == 1 else f"T-{receptive_field - 1}, "
    return {
        "format": EXPORT_FORMAT, "format_version": EXPORT_FORMAT_VERSION, "export_format": fmt,
        "pose3d_version": __version__,
        "checkpoint": {"file": Path(checkpoint).name, "pose3d_version": meta.get("pose3d_version"),
                       "format_version": meta.get("format_version")},
        "model": meta["model"], "skeleton": meta["skeleton"], "codec": meta["codec"],
        "receptive_field": int(receptive_field), "causal": bool(causal),
        "inputs": {"xy": f"(B, {t}{J}, 2) float32 normalised camera coordinates (x/z, y/z)"
                         # traced for an output of ≥ 2 frames (torch.export specialises a length of 1): one output
                         # frame (T = receptive field) needs one frame repeated at the end, its output dropped
                         + ("" if receptive_field == 1 else f", T >= {receptive_field + 1}"),
                   "conf": f"(B, {t}{J}) float32 confidence in [0, 1], 0 = missing"},
        "outputs": {OUTPUT_NAME: f"(B, {t_out}{J}, 3) float32 root-relative mm, camera frame"},
        "metrics": meta.get("metrics", {}), "data": meta.get("data", {}), "train": meta.get("train", {}),
    }


# ----------------------------------------------------------------------------------------------- export


def export_model(checkpoint_path: str | Path, output_path: str | Path, fmt: str = "onnx",
                 check_inputs: tuple[np.ndarray, np.ndarray] | None = None,
                 tolerance_mm: float | None = None, quantize: str | None = None) -> ExportReport:
    """Export a checkpoint and check the written file against eager torch.

    Args:
        checkpoint_path: a pose3d checkpoint (``pose3d train``).
        output_path: the file to write (atomically; replaced only when the check passes).
        fmt: ``"onnx"``, ``"torchscript"`` or ``"pt2"``.
        check_inputs: ``xy (N, J, 2), conf (N, J)`` frames of one sequence (network input) to check on;
            default: the shipped real sample. Temporal models may also get windows ``(B, T, J, ·)``.
        tolerance_mm: the largest allowed |export - eager| in mm (default :data:`TOLERANCE_MM`, quantised
            :data:`INT8_TOLERANCE_MM`).
        quantize: ``"int8"``: ONNX with int8 fully connected layers (:func:`_quantize_int8`).

    Raises:
        CheckpointError: the checkpoint is bad. ExportError: export failed or the check did not pass.
    """
    t0 = time.perf_counter()
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose {', '.join(FORMATS)}")
    if quantize is not None and quantize not in QUANTIZE:
        raise ExportError(f"unknown quantisation {quantize!r}; choose {', '.join(QUANTIZE)}")
    if quantize is not None and fmt != "onnx":
        raise ExportError(f"--quantize {quantize} writes ONNX (run by onnxruntime); {fmt} is not quantised")
    if tolerance_mm is None:
        tolerance_mm = TOLERANCE_MM if quantize is None else INT8_TOLERANCE_MM
    checkpoint_path, output_path = Path(checkpoint_path), Path(output_path)
    check_not_checkpoint_name(output_path)
    if output_path.exists() and checkpoint_path.exists() and output_path.resolve() == checkpoint_path.resolve():
        raise ExportError(f"{output_path}: the output would overwrite the checkpoint; choose another file")

    _refuse_exported(checkpoint_path)

    import torch

    from .lifting.checkpoint import load_model
    from .lifting.models import contract_of

    loaded = load_model(checkpoint_path)
    model = loaded.model.eval()
    rf = int(model.receptive_field())
    causal = contract_of(model).causal
    meta = export_meta(loaded.meta, rf, causal, fmt, checkpoint_path)
    if contract_of(model).takes_det3d:  # fused / blend: the exported graph takes xy and conf only
        meta["not_exported"] = ("the detector-3D input (det3d, det3d_mask): this export is the model's plain 2D path; "
                                "use the .pt checkpoint to lift with BlazePose's world landmarks")
    if quantize is not None:
        meta["quantize"] = quantize
    meta_json = json.dumps(meta, default=str)
    J = len(meta["skeleton"]["joints"])

    if check_inputs is None:
        xy, conf = load_sample(meta["skeleton"]["name"])
    else:
        xy, conf = (np.asarray(a, dtype=np.float32) for a in check_inputs)
    batches = _check_batches(xy, conf, J, rf, causal)
    example = _example_inputs(batches[0][0], batches[0][1], rf)

    from .atomic import atomic_target

    with atomic_target(output_path) as tmp:
        try:
            with _quiet(), torch.no_grad():
                _WRITERS[fmt](model, example, rf, tmp, meta_json)
                if quantize is not None:
                    layers = _quantize_int8(tmp, checkpoint_path, lambda f: _compare(model, load_exported(f, fmt),
                                                                                 batches)[0], tolerance_mm)
                    _set_onnx_meta(tmp, json.dumps({**meta, "quantize_layers": layers}, default=str))
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - exporters raise anything; the user needs one line
            raise ExportError(f"{checkpoint_path}: {fmt} export failed ({type(e).__name__}: {_first_line(e)})") from None
        run = load_exported(tmp, fmt)
        diff, n = _compare(model, run, batches)
        if not diff <= tolerance_mm:  # also catches NaN
            kind = f"{fmt} {quantize}" if quantize else fmt
            raise ExportError(f"{output_path}: {kind} export differs from torch by {diff:.3g} mm (tolerance "
                              f"{tolerance_mm:g} mm) on {n} check poses; nothing written")
        size = tmp.stat().st_size
    return ExportReport(output_path, fmt, float(diff), n, time.perf_counter() - t0, size, tolerance_mm, quantize,
                        "not_exported" in meta)


def _refuse_exported(path: Path) -> None:
    """A clear error when an exported file is given where a checkpoint is expected (by its content, any name)."""
    from .filekind import exported_model_kind

    kind = exported_model_kind(path) if path.is_file() else None
    if kind is not None:
        raise ExportError(f"{path}: an exported {kind} model, not a checkpoint; export from the .pt checkpoint "
                          "that `pose3d train` wrote")


def _check_batches(xy: np.ndarray, conf: np.ndarray, J: int, rf: int, causal: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """The inputs to compare on: MLP all frames and batch 1; temporal one padded sequence and a batch of 2."""
    if xy.shape[-2:] != (J, 2) or conf.shape != xy.shape[:-1] or xy.ndim not in (3, 4) or len(xy) == 0:
        raise ExportError(f"check inputs must be xy (N, {J}, 2) and conf (N, {J}) for this {J}-joint model, "
                          f"got {xy.shape} and {conf.shape}")
    if rf == 1:
        xy, conf = xy.reshape(-1, J, 2), conf.reshape(-1, J)
        return [(xy, conf), (xy[:1], conf[:1]), masked_draws(xy, conf)]
    if xy.ndim == 4:  # windows given
        if xy.shape[1] < rf + 1:
            raise ExportError(f"check windows need at least {rf + 1} frames, got {xy.shape[1]}")
        return [(xy[:1], conf[:1]), (xy, conf)]
    xp, cp = pad_sequence(xy, conf, rf, causal)
    return [(xp[None], cp[None]), (np.stack([xp, xp[::-1]]), np.stack([cp, cp[::-1]]))]


#: shares of joints missing (confidence 0) in the check's masked draws: the input a detector gives for a person
#: partly out of view or occluded, where an int8 export is least accurate (a check without them passed 15 mm while
#: 20% missing joints moved poses by 17-20 mm)
MASKED_SHARES = (0.1, 0.2, 0.3, 0.5)


def masked_draws(xy: np.ndarray, conf: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, J, 2), (N, J) → every pose again with :data:`MASKED_SHARES` of its joints missing (seeded draws):
    (len(MASKED_SHARES) N, J, 2), (len(MASKED_SHARES) N, J)."""
    rng = np.random.default_rng(seed)
    N, J = conf.shape
    out = []
    for share in MASKED_SHARES:
        drop = np.argsort(rng.random((N, J)), axis=1)[:, :max(1, int(round(share * J)))]
        c = conf.copy()
        np.put_along_axis(c, drop, 0.0, axis=1)
        out.append(c)
    return np.tile(xy, (len(MASKED_SHARES), 1, 1)), np.concatenate(out)


def _example_inputs(xy: np.ndarray, conf: np.ndarray, rf: int):
    """Tracing/export example: batch 2 (0/1 would be specialised), temporal ≥ rf + 1 frames."""
    import torch

    if rf == 1:
        xy, conf = np.concatenate([xy, xy])[:2], np.concatenate([conf, conf])[:2]
    else:
        xy, conf = np.concatenate([xy, xy[:, ::-1]])[:2], np.concatenate([conf, conf[:, ::-1]])[:2]
    return torch.from_numpy(np.ascontiguousarray(xy)), torch.from_numpy(np.ascontiguousarray(conf))


def _dynamic_shapes(rf: int) -> dict:
    import torch

    batch = torch.export.Dim("batch", min=1)
    if rf == 1:
        return {"xy": {0: batch}, "conf": {0: batch}}
    time_ = torch.export.Dim("time", min=rf + 1)  # output length ≥ 2
    return {"xy": {0: batch, 1: time_}, "conf": {0: batch, 1: time_}}


def _write_onnx(model, example, rf: int, path: Path, meta_json: str) -> None:
    import torch

    program = torch.onnx.export(model, example, None, input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                                dynamic_shapes=_dynamic_shapes(rf), opset_version=ONNX_OPSET, dynamo=True,
                                external_data=False, verbose=False)
    program.model.metadata_props[META_KEY] = meta_json
    program.model.doc_string = "pose3d 2D-to-3D lifter: xy, conf -> joints_3d (root-relative mm)"
    program.save(path, external_data=False)


def _write_torchscript(model, example, rf: int, path: Path, meta_json: str) -> None:
    import torch

    traced = torch.jit.trace(model, example, check_trace=False, _store_inputs=False)
    torch.jit.save(traced, str(path), _extra_files={META_FILE: meta_json})


def _write_pt2(model, example, rf: int, path: Path, meta_json: str) -> None:
    import torch

    program = torch.export.export(model, example, dynamic_shapes=_dynamic_shapes(rf))
    torch.export.save(program, str(path), extra_files={META_FILE: meta_json})


def _quantize_int8(path: Path, checkpoint_path: Path, error_of: Callable[[Path], float],
                   tolerance_mm: float) -> str:
    """Rewrite an ONNX export in place with int8 fully connected layers (onnxruntime dynamic quantisation); returns
    which layers, e.g. "3 of 6 (2, 4, 5)".

    Each ``Gemm`` with constant weights (a ``Linear``) becomes ``MatMul`` + ``Add``; a quantised one gets int8
    weights (per output channel) and per-batch uint8 activations (``MatMulInteger``: VNNI on x86 CPUs). The input
    normaliser, the first layer (its input mixes joints, confidences, centre and log-scale) and the output
    denormaliser stay float32. The others are quantised by sensitivity: each alone is measured (``error_of``: the
    largest |export - eager| mm on the check poses), then, least sensitive first, each is kept int8 if the export
    stays within :data:`QUANTIZE_MARGIN` × ``tolerance_mm`` with it and those before it: the margin is for poses
    the check did not see (every layer int8 passed 13 mm on the check's masked draws and reached 23 mm on other
    draws; 2 of the shipped model's 5 passed 6.5 mm and reached 9 mm). A model without fully connected layers
    after the first, or none that can be quantised within the margin, is refused.
    """
    import tempfile

    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(path))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    nodes, linear = [], []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (node.op_type != "Gemm" or len(node.input) != 3 or node.input[1] not in weights
                or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0)):
            nodes.append(node)
            continue
        x, w, b = node.input
        if attrs.get("transB", 0):
            W = numpy_helper.to_array(weights[w]).T
            graph.initializer.remove(weights[w])
            graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(W), w))
        linear.append(f"{node.name}_matmul")
        nodes += [helper.make_node("MatMul", [x, w], [f"{node.output[0]}_matmul"], name=linear[-1]),
                  helper.make_node("Add", [f"{node.output[0]}_matmul", b], [node.output[0]], name=f"{node.name}_bias")]
    if len(linear) < 2:
        raise ExportError(f"{checkpoint_path}: --quantize int8 quantises fully connected layers after the first; "
                          f"this model has {len(linear)} (export it without --quantize)")
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]  # shapes of the transposed weights changed; onnxruntime infers them again
    with tempfile.TemporaryDirectory(prefix="pose3d-quantize-") as folder:
        float_path, trial = Path(folder) / "float.onnx", Path(folder) / "trial.onnx"
        onnx.save(model, str(float_path))

        def error_with(layers: list[str]) -> float:
            quantize_dynamic(str(float_path), str(trial), op_types_to_quantize=["MatMul"], nodes_to_quantize=layers,
                             per_channel=True, weight_type=QuantType.QInt8)
            e = error_of(trial)
            return e if e == e else float("inf")  # NaN: never within the tolerance

        budget = QUANTIZE_MARGIN * tolerance_mm
        alone = {n: error_with([n]) for n in linear[1:]}
        chosen: list[str] = []
        for n in sorted(alone, key=alone.get):
            if alone[n] <= budget and error_with(chosen + [n]) <= budget:
                chosen.append(n)
        if not chosen:
            raise ExportError(f"{checkpoint_path}: no fully connected layer can be int8 within {budget:g} mm on "
                              f"the check poses (alone: {min(alone.values()):.3g} mm at best); export it without "
                              "--quantize")
        quantize_dynamic(str(float_path), str(path), op_types_to_quantize=["MatMul"],
                         nodes_to_quantize=[n for n in linear if n in chosen],
                         per_channel=True, weight_type=QuantType.QInt8)
    return f"{len(chosen)} of {len(linear)} ({', '.join(str(linear.index(n)) for n in linear if n in chosen)})"


def _set_onnx_meta(path: Path, meta_json: str) -> None:
    """Replace the pose3d metadata of an ONNX file in place."""
    import onnx

    model = onnx.load(str(path))
    props = [p for p in model.metadata_props if p.key != META_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    model.metadata_props.add(key=META_KEY, value=meta_json)
    onnx.save(model, str(path))


_WRITERS = {"onnx": _write_onnx, "torchscript": _write_torchscript, "pt2": _write_pt2}


def _compare(model, run: Callable, batches) -> tuple[float, int]:
    """Largest |export - eager| (mm) over the check batches, and the number of output poses compared."""
    import torch

    worst, n = 0.0, 0
    for xy, conf in batches:
        with torch.no_grad():
            ref = model(torch.from_numpy(np.ascontiguousarray(xy)), torch.from_numpy(np.ascontiguousarray(conf))).numpy()
        try:
            with _quiet():
                out = np.asarray(run(xy, conf))
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"the exported model fails on input {xy.shape} ({type(e).__name__}: {_first_line(e)})") from None
        if out.shape != ref.shape:
            raise ExportError(f"the exported model returns {out.shape} for input {xy.shape}; torch returns {ref.shape}")
        d = float(np.abs(out.astype(np.float64) - ref).max()) if out.size else 0.0
        worst = max(worst, d) if not np.isnan(d) else float("nan")
        n += int(np.prod(ref.shape[:-2]))
        if np.isnan(worst):
            break
    return worst, n


# ------------------------------------------------------------------------------------------- reading back


def _sniff_format(path: Path) -> str:
    """'onnx', 'torchscript' or 'pt2', from the file's content (zip layout), else from the suffix."""
    from .filekind import exported_model_kind

    if zipfile.is_zipfile(path):
        kind = exported_model_kind(path)  # torch.save archives have data.pkl but no code
        if kind is None:
            raise ExportError(f"{path}: a zip archive that is neither TorchScript nor a torch.export .pt2 file")
        return "pt2" if kind.endswith(".pt2") else "torchscript"
    return "onnx"


def load_exported_meta(path: str | Path) -> dict:
    """The pose3d metadata of an exported file (ONNX, TorchScript or pt2); torch is not needed."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    fmt = _sniff_format(path)
    if fmt == "onnx":
        return read_onnx_meta(path)
    with zipfile.ZipFile(path) as z:
        entry = next((n for n in z.namelist() if n.endswith(f"/extra/{META_FILE}")), None)
        if entry is None:
            raise ExportError(f"{path}: a {fmt} file without pose3d metadata ({META_FILE}); export it with `pose3d export`")
        raw = z.read(entry)
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ExportError(f"{path}: damaged pose3d metadata ({_first_line(e)})") from None


def load_exported(path: str | Path, fmt: str | None = None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """An exported file as a numpy function ``(xy, conf) → joints_3d`` (its own runtime, not the checkpoint)."""
    path = Path(path)
    fmt = fmt or _sniff_format(path)
    if fmt == "onnx":
        return OnnxLifter(path)
    import torch

    with _quiet():
        if fmt == "torchscript":
            module = torch.jit.load(str(path), map_location="cpu")
        elif fmt == "pt2":
            module = torch.export.load(str(path)).module()
        else:
            raise ExportError(f"unknown export format {fmt!r}; choose {', '.join(FORMATS)}")

    def run(xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(xy, dtype=np.float32)),
                          torch.from_numpy(np.ascontiguousarray(conf, dtype=np.float32))).numpy()

    run.module = module  # type: ignore[attr-defined]
    return run


# ------------------------------------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _quiet():
    """No exporter chatter: Python warnings ignored, log records below ERROR dropped, stray prints swallowed."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stdout(io.StringIO()):
                yield
    finally:
        logging.disable(previous)


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] if text else type(e).__name__
