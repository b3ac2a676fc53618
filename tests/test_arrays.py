"""3D joint array files: pose3d npz/h5, the VideoPose3D positions_3d layout, and refusing pickled code."""

import io
import os
import pickle
import zipfile

import h5py
import numpy as np
import pytest

from pose3d_cli.mocap.arrays import H36M32_TO_17, read_array_file
from pose3d_cli.mocap.load import load_motions
from pose3d_cli.mocap.motion import MocapError
from pose3d_cli.skeleton import H36M17


def _joints_y_up_m(T=6):
    rng = np.random.default_rng(0)
    return rng.normal(size=(T, 17, 3)).astype(np.float32)


def _expect_z_up_mm(j):
    # Y-up (x, y, z) → Z-up (x, -z, y), metres → mm
    return np.stack([j[..., 0], -j[..., 2], j[..., 1]], axis=-1) * 1000.0


def test_npz_round_trip_units_and_up(tmp_path):
    j = _joints_y_up_m()
    p = tmp_path / "walk.npz"
    np.savez(p, joints=j, names=np.array(H36M17.joints), fps=np.float64(25.0), units="m", up="y", subject="S9")
    (m,) = read_array_file(p)
    assert m.names == H36M17.joints
    assert m.fps == 25.0 and m.subject == "S9" and m.source == str(p)
    assert m.meta["units"] == "m" and m.meta["up_axis"] == "y"
    np.testing.assert_allclose(m.joints, _expect_z_up_mm(j), rtol=1e-5, atol=1e-3)
    # defaults: mm, Z up, subject from the file name
    np.savez(tmp_path / "plain.npz", joints=j, names=np.array(H36M17.joints), fps=30)
    (m2,) = read_array_file(tmp_path / "plain.npz")
    np.testing.assert_array_equal(m2.joints, j)
    assert m2.subject == "plain"
    # load_motions recognises h36m17 names without a mapping
    (m3,) = load_motions(p)
    assert m3.skeleton == "h36m17"
    np.testing.assert_allclose(m3.joints, _expect_z_up_mm(j), rtol=1e-5, atol=1e-3)


def test_h5_round_trip_units_and_up(tmp_path):
    j = _joints_y_up_m()
    p = tmp_path / "walk.h5"
    with h5py.File(p, "w") as f:
        f["joints"] = j
        f["names"] = np.array(H36M17.joints, dtype=h5py.string_dtype())
        f["fps"] = 50.0
        f["units"] = "m"
        f["up"] = "y"
        f["subject"] = "S11"
    (m,) = read_array_file(p)
    assert m.names == H36M17.joints and m.fps == 50.0 and m.subject == "S11"
    np.testing.assert_allclose(m.joints, _expect_z_up_mm(j), rtol=1e-5, atol=1e-3)
    # cm, Z up
    p2 = tmp_path / "cm.h5"
    with h5py.File(p2, "w") as f:
        f["joints"] = j
        f["names"] = np.array([n.encode() for n in H36M17.joints])
        f["fps"] = 30
        f["units"] = "cm"
    (m2,) = read_array_file(p2)
    np.testing.assert_allclose(m2.joints, j * 10.0, rtol=1e-6)


@pytest.mark.parametrize("fields,match", [
    ({"joints": np.zeros((3, 17, 3))}, "needs 'joints'"),
    ({"joints": np.zeros((3, 16, 3)), "names": np.array(H36M17.joints), "fps": 30}, "must be"),
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints), "fps": 30, "units": "ft"}, "unknown units"),
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints)}, "'fps' must be"),
    # any 'up' but y was read as Z up (x, -y, yup: the body lay along another axis), nan/inf rates passed
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints), "fps": 30, "up": "x"}, "'up' 'x'"),
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints), "fps": 30, "up": "-y"}, "'up' '-y'"),
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints), "fps": np.nan}, "'fps' must be"),
    ({"joints": np.zeros((3, 17, 3)), "names": np.array(H36M17.joints), "fps": np.inf}, "'fps' must be"),
])
def test_bad_array_files(tmp_path, fields, match):
    p = tmp_path / "bad.npz"
    np.savez(p, **fields)
    with pytest.raises(MocapError, match=match) as e:
        read_array_file(p)
    assert str(p) in str(e.value)


def test_unreadable_array_file(tmp_path):
    p = tmp_path / "junk.h5"
    p.write_bytes(b"not hdf5 at all")
    with pytest.raises(MocapError, match="holds text, not a pose3d array file") as e:
        read_array_file(p)
    assert str(p) in str(e.value)
    empty = tmp_path / "empty.npz"  # an EOFError inside numpy: it was an internal error of `pose3d info`
    empty.write_bytes(b"")
    with pytest.raises(MocapError, match="is empty"):
        read_array_file(empty)


def test_videopose3d_positions_3d(tmp_path):
    rng = np.random.default_rng(1)
    data = {"S1": {"Walking": rng.normal(size=(10, 32, 3)), "Sitting 1": rng.normal(size=(7, 32, 3))},
            "S9": {"Posing": rng.normal(size=(5, 32, 3)).astype(np.float32)}}
    p = tmp_path / "data_3d_h36m.npz"
    np.savez_compressed(p, positions_3d=data)  # pickled dict, as VideoPose3D writes it
    motions = read_array_file(p)
    assert [(m.subject, m.meta["action"], m.num_frames) for m in motions] == [
        ("S1", "Walking", 10), ("S1", "Sitting 1", 7), ("S9", "Posing", 5)]
    for m in motions:
        subject, action = m.source.split("#")[1].split("/")
        np.testing.assert_allclose(m.joints, data[subject][action][:, H36M32_TO_17] * 1000.0, rtol=1e-5)
        assert m.names == H36M17.joints and m.skeleton == "h36m17" and m.fps == 50.0
    # the same through load_motions
    assert len(load_motions(p)) == 3


def test_videopose3d_wrong_shape(tmp_path):
    p = tmp_path / "data_3d.npz"
    np.savez(p, positions_3d={"S1": {"Walk": np.zeros((4, 17, 3))}})
    with pytest.raises(MocapError, match=r"S1/Walk has shape \(4, 17, 3\)"):
        read_array_file(p)


class Exploit:
    """Unpickling this runs a shell command that creates a marker file."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class ExploitOpen:
    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _npz_with_payload(path, payload: bytes):
    """A .npz whose positions_3d.npy is an object-array header followed by ``payload`` (a pickle)."""
    from numpy.lib import format as npformat

    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("positions_3d.npy", buf.getvalue() + payload)


@pytest.mark.parametrize("cls", [Exploit, ExploitOpen])
@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "in-dict"])
def test_malicious_pickle_is_refused(tmp_path, monkeypatch, cls, wrapped):
    marker = tmp_path / "pwned"
    monkeypatch.setattr(cls, "marker", str(marker))
    obj = {"S1": {"Walk": cls()}} if wrapped else cls()
    payload = pickle.dumps(obj, protocol=3)
    # sanity: an ordinary unpickler runs it
    ran = pickle.loads(payload)
    assert marker.exists()
    if hasattr(ran, "close"):
        ran.close()
    marker.unlink()
    p = tmp_path / "evil.npz"
    _npz_with_payload(p, payload)
    with pytest.raises(MocapError, match="refusing to load") as e:
        read_array_file(p)
    assert str(p) in str(e.value)
    assert not marker.exists()
    # also through np.savez (the payload inside an object array, the way VideoPose3D files are written)
    p2 = tmp_path / "evil2.npz"
    np.savez(p2, positions_3d=np.array(obj, dtype=object))
    with pytest.raises(MocapError, match="refusing to load"):
        load_motions(p2)
    assert not marker.exists()
