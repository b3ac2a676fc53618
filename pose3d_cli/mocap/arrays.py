"""3D joint arrays: pose3d's own npz/h5 format and the public VideoPose3D ``data_3d_h36m.npz`` layout.

pose3d array format (``.npz`` or ``.h5``), one sequence per file:
- ``joints``: (T, J, 3) float, joint positions in ``units``;
- ``names``: (J,) strings, joint names (h36m17 names, or any names plus ``--mapping``);
- ``fps``: scalar; ``units``: ``"mm" | "cm" | "m" | "in"`` (default mm); ``up``: ``"z" | "y"`` (default z);
- ``subject`` (optional): actor id, used for splits.

VideoPose3D layout: ``positions_3d[subject][action]`` → (T, 32, 3) metres, Z up, 50 fps (Human3.6M); the 17
joints of ``h36m17`` are picked by the standard indices (:data:`H36M32_TO_17`). Users who hold a Human3.6M
licence can synthesise from it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..skeleton import H36M17
from .bvh import UNITS_MM, y_up_to_z_up
from .motion import MocapError, Motion

#: Human3.6M 32-joint index of each h36m17 joint, in h36m17 order
H36M32_TO_17 = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
H36M_FPS = 50.0


def _str(x) -> str:
    x = np.asarray(x)
    return x.item().decode() if x.dtype.kind == "S" else str(x.item() if x.ndim == 0 else x)


def read_array_file(path: str | Path) -> list[Motion]:
    """Read a pose3d npz/h5 array file, or a VideoPose3D ``data_3d_*.npz`` (one Motion per subject/action)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = set(z.files)
                if "positions_3d" in keys:
                    raise MocapError("videopose")
                fields = {k: z[k] for k in keys}
        else:
            import h5py

            with h5py.File(path, "r") as f:
                fields = {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
    except MocapError:
        return read_videopose3d(path)
    except ValueError as e:  # object arrays need pickle: the VideoPose3D layout
        if "pickle" in str(e).lower():
            return read_videopose3d(path)
        raise MocapError(f"{path}: cannot read arrays ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        from ..filekind import file_kind

        kind = file_kind(path)
        holds = "is empty" if path.stat().st_size == 0 else f"holds {kind}" if kind else "cannot be read"
        raise MocapError(f"{path}: {holds}, not a pose3d array file ({type(e).__name__}); give a .npz/.h5 with "
                         "'joints' and 'names'") from None
    if "joints" not in fields or "names" not in fields:
        found = sorted(fields)
        what = ("a PyTorch checkpoint renamed" if any(k.endswith("data.pkl") for k in found) else
                f"arrays {', '.join(found[:5])}{' ...' if len(found) > 5 else ''}")
        raise MocapError(f"{path}: a pose3d array file needs 'joints' (T, J, 3) and 'names' (J,); it holds {what}")
    joints = np.asarray(fields["joints"], dtype=np.float64)
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in np.asarray(fields["names"]).ravel()]
    if joints.ndim != 3 or joints.shape[2] != 3 or joints.shape[1] != len(names):
        raise MocapError(f"{path}: 'joints' must be (T, {len(names)}, 3), got {joints.shape}")
    units = _str(fields.get("units", "mm"))
    if units not in UNITS_MM:
        raise MocapError(f"{path}: unknown units {units!r}; use one of {', '.join(UNITS_MM)}")
    up = _str(fields.get("up", "z")).strip().lower()
    if up not in ("y", "z"):
        raise MocapError(f"{path}: 'up' {up!r} is not an axis this reader turns; save the joints with up 'z' or 'y'")
    if up == "y":
        joints = y_up_to_z_up(joints)
    try:
        fps = float(np.asarray(fields.get("fps", 0)).item())
    except (TypeError, ValueError):
        fps = float("nan")
    if not (np.isfinite(fps) and fps > 0):
        raise MocapError(f"{path}: 'fps' must be a positive number of frames per second")
    subject = _str(fields["subject"]) if "subject" in fields else path.stem
    return [Motion((joints * UNITS_MM[units]).astype(np.float32), tuple(names), fps, source=str(path),
                   subject=subject, meta={"format": "array", "units": units, "up_axis": up})]


def read_videopose3d(path: str | Path) -> list[Motion]:
    """Read ``data_3d_h36m.npz`` (``positions_3d[subject][action]``, metres).

    That file stores a pickled dict, so it is read with a restricted unpickler that accepts only numpy arrays
    and builtin containers: no code from the file ever runs.
    """
    import pickle
    import zipfile

    class _Safe(pickle.Unpickler):
        ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                   ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
                   ("numpy._core.multiarray", "scalar"), ("builtins", "dict")}

        def find_class(self, module, name):
            if (module, name) in self.ALLOWED:
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf, zf.open("positions_3d.npy") as fh:
            from numpy.lib import format as npformat

            version = npformat.read_magic(fh)
            # skip the header to reach the pickle (public readers: numpy 2 has no format._read_array_header)
            if version == (1, 0):
                npformat.read_array_header_1_0(fh)
            elif version == (2, 0):
                npformat.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            data = _Safe(fh).load()
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError) as e:
        raise MocapError(f"{path}: not a readable VideoPose3D positions_3d file ({e})") from None
    data = data.item() if hasattr(data, "item") and getattr(data, "ndim", 1) == 0 else data
    if not isinstance(data, dict):
        raise MocapError(f"{path}: positions_3d must hold {{subject: {{action: (T, 32, 3)}}}}")
    motions = []
    for subject, actions in data.items():
        for action, arr in actions.items():
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim != 3 or arr.shape[1:] != (32, 3):
                raise MocapError(f"{path}: {subject}/{action} has shape {arr.shape}, expected (T, 32, 3)")
            motions.append(Motion((arr[:, H36M32_TO_17] * 1000.0).astype(np.float32), H36M17.joints, H36M_FPS,
                                  source=f"{path}#{subject}/{action}", subject=str(subject),
                                  skeleton=H36M17.name, meta={"format": "videopose3d", "action": str(action)}))
    return motions
