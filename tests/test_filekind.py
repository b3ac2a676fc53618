"""One sniffer of file contents (pose3d_cli/filekind.py), from real files of each kind, not from their names."""

import zipfile

import numpy as np
import pytest

from pose3d_cli import filekind as fk
from pose3d_cli.errors import Pose3dError


def _npy(path):
    with open(path, "wb") as fh:
        np.save(fh, np.zeros(3))


def test_each_kind_is_told_by_its_bytes_whatever_the_name(tmp_path):
    import h5py

    files = {}
    files[fk.TEXT] = tmp_path / "a.mp4"
    files[fk.TEXT].write_text("frame,person\n0,0\n")
    files[fk.HDF5] = tmp_path / "b.csv"
    with h5py.File(files[fk.HDF5], "w") as f:
        f["x"] = np.zeros(3)
    files[fk.ZIP] = tmp_path / "c.txt"
    with open(files[fk.ZIP], "wb") as fh:  # np.savez would add .npz to a path
        np.savez(fh, x=np.zeros(3))
    files[fk.NPY] = tmp_path / "d.npz"
    _npy(files[fk.NPY])
    files[fk.IMAGE] = tmp_path / "e.mp4"
    files[fk.IMAGE].write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    files[fk.VIDEO] = tmp_path / "f.csv"
    files[fk.VIDEO].write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    files[fk.BINARY] = tmp_path / "g.json"
    files[fk.BINARY].write_bytes(b"\x01\x02\x00\xfe\xff" * 10)
    for kind, path in files.items():
        assert fk.file_kind(path) == kind, path
    empty = tmp_path / "h.csv"
    empty.write_bytes(b"")
    assert fk.file_kind(empty) is None and fk.file_kind(tmp_path / "missing.csv") is None
    with zipfile.ZipFile(tmp_path / "i.npz", "w"):
        pass  # an empty archive starts with the end-of-directory record, not a file header
    assert fk.file_kind(tmp_path / "i.npz") == fk.ZIP


@pytest.mark.parametrize("make, says", [
    (_npy, "a single .npy array"),
    (lambda p: p.write_bytes(b""), "the file is empty"),
    (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(20)), "damaged or truncated .npz"),
    (lambda p: p.write_bytes(b"\xff\xd8\xff\xe0" + bytes(50)), "an image"),
    (lambda p: p.write_text("frame,person\n"), "the order is `pose3d score PREDICTION REFERENCE`"),
])
def test_a_reference_that_is_no_npz_is_named_by_what_it_holds(tmp_path, make, says):
    from pose3d_cli.multiview.reference import read_reference

    path = tmp_path / "ref.npz"
    make(path)
    with pytest.raises(Pose3dError, match="not a pose3d reference") as e:
        read_reference(path)
    assert says in str(e.value)


def test_photos_and_sound_in_a_video_s_box_are_told_apart(tmp_path):
    """An iPhone HEIC photo and a WebP photo share a video's container boxes (ftyp / RIFF); a WAV is RIFF too: they
    were all 'a video'."""
    cases = {"p.heic": (b"\x00\x00\x00\x18ftypheic" + bytes(100), fk.IMAGE),
             "p.webp": (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(100), fk.IMAGE),
             "s.wav": (b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(100), fk.BINARY),
             "v.avi": (b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(100), fk.VIDEO),
             "v.mp4": (b"\x00\x00\x00\x18ftypisom" + bytes(100), fk.VIDEO)}
    for name, (data, kind) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert fk.file_kind(tmp_path / name) == kind, name
