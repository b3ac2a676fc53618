"""Run an exported ONNX lifter with onnxruntime, without torch.

This module imports numpy, json and (when a model is opened) onnxruntime only, so ``infer --model x.onnx``
works where torch is not installed. Files come from :func:`pose3d_cli.export.export_model`: inputs ``xy``
``(B, [T,] J, 2)`` normalised camera coordinates and ``conf`` ``(B, [T,] J)``, output ``joints_3d``
``(B, [T',] J, 3)`` root-relative mm, and the checkpoint's metadata as JSON under the ``metadata_props``
key ``pose3d``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import Pose3dError
from .sequence import pad_sequence, run_frames, run_sequence  # noqa: F401 (numpy only; pad_sequence re-exported)

#: the metadata_props key (ONNX) / extra file stem (TorchScript, pt2) that holds the model's metadata
META_KEY = "pose3d"
INPUT_NAMES = ("xy", "conf")
OUTPUT_NAME = "joints_3d"


class OnnxModelError(Pose3dError):
    """An ONNX file is missing, unreadable, or not a pose3d export; or inputs do not fit it."""


def read_onnx_meta(path: str | Path) -> dict:
    """The ``pose3d`` metadata of an exported ONNX file, without building an inference session."""
    path = Path(path)
    if not path.is_file():
        raise OnnxModelError(f"{path}: no such file")
    props = None
    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is not None:
        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as e:  # noqa: BLE001 - protobuf raises many kinds
            raise OnnxModelError(f"{path}: not a readable ONNX file ({_first_line(e)})") from None
        props = {p.key: p.value for p in model.metadata_props}
    else:
        props = _session(path, threads=1).get_modelmeta().custom_metadata_map
    return _parse_meta(path, props)


#: what an export says it is (written by :mod:`pose3d_cli.export`, read here without torch)
EXPORT_FORMAT = "pose3d-export"
EXPORT_FORMAT_VERSION = 1


def _parse_meta(path: Path, props: dict) -> dict:
    """The export's metadata, checked against this pose3d: format and version, the codec, the skeleton's joints as
    the registry has them, a positive receptive field."""
    from ..skeleton import SkeletonError, get_skeleton
    from .codec import CODEC_NAME

    if META_KEY not in props:
        raise OnnxModelError(f"{path}: not a pose3d export (no '{META_KEY}' metadata); "
                             "export a checkpoint with `pose3d export`")
    try:
        meta = json.loads(props[META_KEY])
        joints, rf = [str(j) for j in meta["skeleton"]["joints"]], meta["receptive_field"]
        version, codec = meta.get("format_version"), meta["codec"]["name"]
        sk = get_skeleton(str(meta["skeleton"]["name"]))
    except (ValueError, KeyError, TypeError, SkeletonError) as e:
        raise OnnxModelError(f"{path}: damaged pose3d metadata ({type(e).__name__}: {_first_line(e)})") from None
    if meta.get("format") != EXPORT_FORMAT or isinstance(version, bool) or not isinstance(version, int) \
            or version > EXPORT_FORMAT_VERSION:
        raise OnnxModelError(f"{path}: export format {meta.get('format')!r} version {version!r}: this pose3d reads "
                             f"{EXPORT_FORMAT!r} up to {EXPORT_FORMAT_VERSION}; export again with this pose3d")
    if codec != CODEC_NAME:
        raise OnnxModelError(f"{path}: codec {codec!r}: this pose3d feeds models {CODEC_NAME!r} inputs only")
    if joints != list(sk.joints):
        raise OnnxModelError(f"{path}: skeleton {sk.name}'s joints differ from this pose3d's registry")
    if isinstance(rf, bool) or not isinstance(rf, int) or rf < 1:
        raise OnnxModelError(f"{path}: damaged pose3d metadata (receptive_field {rf!r})")
    return meta


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return (text[:200] if text else type(e).__name__)


def _session(path: Path, threads: int):
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise OnnxModelError(f"running {path} needs the onnxruntime package ({e})") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: no C++ chatter on stderr
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise OnnxModelError(f"{path}: not a loadable ONNX model ({_first_line(e)})") from None


class OnnxLifter:
    """An exported lifting network run by onnxruntime: numpy in, numpy out, same shapes as the torch model.

    Args:
        path: an ``.onnx`` file written by ``pose3d export``.
        threads: onnxruntime intra-op threads (default 2).

    Attributes:
        meta: the checkpoint's metadata (model, skeleton, codec, receptive field ...).
        receptive_field: input frames per output frame (1: single-frame model).
        causal: a temporal model that looks only at past frames.
        skeleton, joints: the input and output joint order.

    Raises:
        OnnxModelError: the file is missing, not loadable, or not a pose3d export.
    """

    def __init__(self, path: str | Path, threads: int = 2):
        self.path = Path(path)
        if not self.path.is_file():
            raise OnnxModelError(f"{self.path}: no such ONNX model; export one with `pose3d export model.pt -o model.onnx`")
        self._session = _session(self.path, threads)
        self.meta = _parse_meta(self.path, self._session.get_modelmeta().custom_metadata_map)
        names = tuple(i.name for i in self._session.get_inputs())
        if names != INPUT_NAMES:
            raise OnnxModelError(f"{self.path}: inputs are {', '.join(names)}; a pose3d export has xy, conf")
        self.receptive_field = int(self.meta.get("receptive_field", 1))
        self.causal = bool(self.meta.get("causal", False))
        self.skeleton = str(self.meta["skeleton"]["name"])
        self.joints = [str(j) for j in self.meta["skeleton"]["joints"]]
        self._check_graph()

    def _check_graph(self) -> None:
        """The graph's input shapes agree with what the metadata says (a graph of 16 joints, or a single-frame graph
        said to be temporal, failed inside onnxruntime as an internal error)."""
        lead = 1 if self.receptive_field == 1 else 2  # (B,) or (B, T)
        J = len(self.joints)
        for inp, last in zip(self._session.get_inputs(), ((J, 2), (J,))):  # xy, conf (names checked above)
            shape = list(inp.shape)
            fixed = [d for d in shape[lead:] if isinstance(d, int)]  # a named (dynamic) size agrees with anything
            if len(shape) != lead + len(last) or (len(fixed) == len(last) and tuple(fixed) != last):
                raise OnnxModelError(f"{self.path}: its graph takes {inp.name} of shape {shape}, but its metadata says "
                                     f"{self.skeleton} ({len(self.joints)} joints), receptive field "
                                     f"{self.receptive_field}; export it again with `pose3d export`")

    @property
    def name(self) -> str:
        return str(self.meta.get("model", {}).get("name", "?"))

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def __repr__(self) -> str:
        return f"OnnxLifter({str(self.path)!r}, model={self.name}, receptive_field={self.receptive_field})"

    def __call__(self, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
        """``(B, J, 2), (B, J) → (B, J, 3)`` (single-frame; a ``(B, T, ·)`` time axis is also accepted) or,
        temporal, ``(B, T, J, 2), (B, T, J) → (B, T - receptive_field + 1, J, 3)`` mm."""
        xy = np.ascontiguousarray(xy, dtype=np.float32)
        conf = np.ascontiguousarray(conf, dtype=np.float32)
        J = self.num_joints
        if xy.shape[-2:] != (J, 2) or conf.shape != xy.shape[:-1]:
            raise OnnxModelError(f"{self.path.name}: expected xy (..., {J}, 2) and conf (..., {J}) with the same leading "
                                 f"dimensions, got {xy.shape} and {conf.shape}")
        if self.receptive_field == 1:
            if xy.ndim not in (3, 4):
                raise OnnxModelError(f"{self.path.name}: expected xy (B, {J}, 2) or (B, T, {J}, 2), got {xy.shape}")
            lead = xy.shape[:-2]
            out = self._run(xy.reshape(-1, J, 2), conf.reshape(-1, J))
            return out.reshape(*lead, J, 3)
        if xy.ndim != 4:
            raise OnnxModelError(f"{self.path.name}: a temporal model needs xy (B, T, {J}, 2), got {xy.shape}")
        T, rf = xy.shape[1], self.receptive_field
        if T < rf:
            raise OnnxModelError(f"{self.path.name}: needs at least {rf} frames (its receptive field), got {T}")
        if T == rf:  # exported for T ≥ rf + 1: add one frame, drop its output
            xy = np.concatenate([xy, xy[:, -1:]], axis=1)
            conf = np.concatenate([conf, conf[:, -1:]], axis=1)
            return self._run(xy, conf)[:, :1]
        return self._run(xy, conf)

    def _run(self, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
        if len(xy) == 0:
            T = () if xy.ndim == 3 else (xy.shape[1] - self.receptive_field + 1,)
            return np.zeros((0, *T, self.num_joints, 3), dtype=np.float32)
        try:
            return self._session.run([OUTPUT_NAME], {"xy": xy, "conf": conf})[0]
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise OnnxModelError(f"{self.path}: onnxruntime could not run it on xy {xy.shape} ({_first_line(e)})") from None

    def predict_frames(self, xy: np.ndarray, conf: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Single-frame model over (N, J, 2), (N, J) → (N, J, 3) mm, in batches."""
        return run_frames(self, xy, conf, batch_size)

    def predict_sequence(self, xy: np.ndarray, conf: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Any model over one contiguous sequence: (T, J, 2), (T, J) → (T, J, 3) mm (edge-padded, in chunks of
        ``chunk`` output frames: :func:`pose3d_cli.lifting.sequence.run_sequence`)."""
        return run_sequence(self, self.receptive_field, self.causal, np.asarray(xy, dtype=np.float32),
                            np.asarray(conf, dtype=np.float32), chunk)
