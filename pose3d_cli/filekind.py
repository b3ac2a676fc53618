"""What a file holds, from its first bytes: one sniffer for every command and reader (not the file's name).

Used to refuse replacing a file of another kind (a video where a CSV goes: ``cli/common.check_outputs``) and to say
what a file that a reader cannot read holds instead (``multiview/reference.read_reference``).
"""

from __future__ import annotations

import codecs
from pathlib import Path

#: kinds :func:`file_kind` returns (a few words each, ready for a message)
TEXT, HDF5, ZIP, NPY, VIDEO, IMAGE, BINARY = ("text", "an HDF5 file", "a zip archive (checkpoint, export or .npz)",
                                              "a single NumPy .npy array", "a video", "an image", "binary data")


def file_kind(path: Path | str) -> str | None:
    """One of :data:`TEXT` … :data:`BINARY` for ``path``, from its first bytes; None when it is empty or cannot be
    read."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return None
    if not head:
        return None
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return HDF5
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip with files / an empty one
        return ZIP
    if head.startswith(b"\x93NUMPY"):
        return NPY
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"hevc"):
        return IMAGE  # HEIF/AVIF photos share the video container's ftyp box
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return IMAGE
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return BINARY  # sound, not a video
    if head[4:8] == b"ftyp" or head.startswith((b"RIFF", b"\x1a\x45\xdf\xa3")):
        return VIDEO
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG")):
        return IMAGE
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return BINARY
    return BINARY if b"\0" in head else TEXT


def exported_model_kind(path: Path | str) -> str | None:
    """'TorchScript', 'torch.export .pt2' or 'ONNX' when ``path``'s content is one of those (whatever its name),
    else None."""
    import zipfile

    path = Path(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (OSError, zipfile.BadZipFile):
            return None
        if any(n.endswith("/models/model.json") or n.endswith("/archive_format") for n in names):
            return "torch.export .pt2"
        return "TorchScript" if any("/code/__torch__/" in n for n in names) else None
    try:
        import onnx

        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception:  # noqa: BLE001 - not ONNX (protobuf raises many kinds), or onnx missing
        return None
    return "ONNX" if len(graph.node) > 0 else None
