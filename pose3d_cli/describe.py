"""`pose3d info`: describe a BVH, C3D, 3D-array, pose3d HDF5 or checkpoint file as a flat dict."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import Pose3dError


def describe_bvh(path: Path) -> dict:
    from .mocap.bvh import body_height, read_bvh
    from .mocap.motion import MocapError
    from .mocap.presets import detect_preset

    m = read_bvh(path)
    joints = [n for n in m.names if not n.endswith("_end")]
    try:
        preset = detect_preset(m.names, str(path))
    except MocapError:
        preset = "unknown (give --mapping)"
    return {
        "kind": "BVH motion capture", "frames": m.num_frames, "fps": round(m.fps, 3),
        "duration_s": round(m.num_frames / m.fps, 2),
        "joints": f"{len(joints)} (and {len(m.names) - len(joints)} end sites)" if len(joints) < len(m.names) else len(m.names),
        "joint names": ", ".join(joints),
        "channels per frame": m.meta["channels"], "units (detected)": m.meta["units"],
        "up axis (detected)": m.meta["up_axis"], "body height mm": round(body_height(m.joints)),
        "name preset": preset,
    }


def describe_c3d(path: Path) -> dict:
    from .mocap.c3d import read_c3d_info

    info = read_c3d_info(path)
    return {"kind": "C3D motion capture", **{k: round(v, 3) if isinstance(v, float) else v for k, v in info.items()}}


def describe_array(path: Path) -> dict:
    from .mocap.arrays import read_array_file

    motions = read_array_file(path)
    m = motions[0]
    return {"kind": "3D joint array", "sequences": len(motions), "frames": sum(x.num_frames for x in motions),
            "fps": m.fps, "joints": len(m.names), "joint names": ", ".join(m.names), "units": "mm (converted)"}


def describe_file(path: str | Path) -> dict:
    """A flat dict describing ``path``; raises :class:`Pose3dError` for unknown or unreadable files."""
    path = Path(path)
    if not path.exists():
        raise Pose3dError(f"{path}: no such file; check the path")
    ext = path.suffix.lower()
    if ext == ".bvh":
        return describe_bvh(path)
    if ext == ".c3d":
        return describe_c3d(path)
    if ext in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                is_pairs = f.attrs.get("schema") is not None
        except OSError:
            raise Pose3dError(f"{path}: not a readable HDF5 file") from None
        if is_pairs:
            from .dataset import describe

            return describe(path)
        return describe_array(path)
    if ext == ".npz":
        return describe_array(path)
    if ext in (".onnx", ".pt2", ".ts", ".torchscript") or (ext == ".pt" and _is_export(path)):
        from .export import load_exported_meta

        meta = load_exported_meta(path)
        if isinstance(meta.get("metrics"), dict):
            meta["metrics"] = {k: v for k, v in meta["metrics"].items() if k != "history"}
        return {"kind": f"exported lifting model ({ext.lstrip('.')})", **{k: v for k, v in meta.items() if k != "train"}}
    if ext in (".pt", ".pth", ".ckpt"):
        from .lifting.checkpoint import describe_checkpoint

        return describe_checkpoint(path)
    raise Pose3dError(f"{path}: unknown file type {ext!r}; pose3d info reads .bvh, .c3d, .h5, .npz, .pt, .onnx "
                      "and .pt2 files")


def _is_export(path: Path) -> bool:
    """A TorchScript file saved as .pt (it holds pose3d.json among its extra files)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("extra/pose3d.json") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def jsonable(d: dict) -> dict:
    """Numpy scalars/arrays → plain Python, for JSON output."""
    out = {}
    for k, v in d.items():
        if isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, dict):
            v = jsonable(v)
        out[k] = v
    return out
