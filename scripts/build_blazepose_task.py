#!/usr/bin/env python3
"""Build the MediaPipe BlazePose ``.task`` bundles shipped in ``pose3d_cli/assets`` from registry packages.

Two bundles, the same pose detector with two landmark models:

- ``pose_landmarker_full.task``: BlazePose GHUM 3D landmark *full* (the default detector);
- ``pose_landmarker_lite.task``: BlazePose GHUM 3D landmark *lite* (faster, a little less accurate).

Nothing is downloaded at run time by pose3d, so the detector's weights ship inside the package. They come
from two registry packages (Apache-2.0, both checked against pinned SHA-256 hashes):

- the PyPI wheel ``mediapipe==0.10.14``, the last kind of wheel that still ships the tflite files
  (``mediapipe>=0.10.30``, the version pose3d runs, 1.2.2, only reads ``.task`` bundles): the pose
  detector (with its TFLite metadata) and the full landmark model;
- the npm package ``@mediapipe/pose@0.5.1675469404``: the lite landmark model (its copy of the detector
  lacks the metadata the Tasks API needs, so the wheel's detector is used in both bundles).

This script:

1. gets the wheel (``pip download --no-deps`` for cp311 manylinux x86_64; it is only unzipped, never
   installed), or takes it from ``--wheel``; for the lite bundle also the npm tarball (``npm pack`` into a
   temporary folder; it is only read, never installed), or takes it from ``--npm-tarball``; checks their
   SHA-256;
2. takes the tflite files out of them (SHA-256 checked too);
3. writes TFLite metadata into the landmark model: image input, RGB, NormalizationOptions mean 0, std 255
   (pixel / 255 → [0, 1]), which the Tasks API requires ("Input tensor has type float32: it requires
   specifying NormalizationOptions metadata"). The wheel's detector already has its metadata
   (mean 127.5, std 127.5). The metadata is written with the flatbuffers schema classes that
   ``mediapipe==1.2.2`` ships, because its high-level metadata writers need a C extension it lacks;
4. writes each bundle: an uncompressed, 4-byte aligned zip holding ``pose_detector.tflite`` and
   ``pose_landmarks_detector.tflite`` (the layout of mediapipe's
   ``model_asset_bundle_utils.create_model_asset_bundle``, with fixed zip timestamps so the output is
   byte-for-byte reproducible);
5. writes ``NOTICE-mediapipe.txt`` beside them (licence, provenance, modifications of every bundle found
   in the output folder), and checks that ``PoseLandmarker`` loads each bundle built.

Usage (from the repository root; needs pip access to PyPI and, for lite, npm access to the npm registry,
or the local files)::

    python scripts/build_blazepose_task.py [--variant full|lite|all] [--wheel PATH] [--npm-tarball PATH]
                                           [--out-dir pose3d_cli/assets]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO / "pose3d_cli" / "assets"

WHEEL_REQUIREMENT = "mediapipe==0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"
WHEEL_LICENSE = "mediapipe-0.10.14.dist-info/LICENSE"

NPM_SPEC = "@mediapipe/pose@0.5.1675469404"
NPM_TARBALL = "mediapipe-pose-0.5.1675469404.tgz"
NPM_SHA256 = "8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84"


@dataclass(frozen=True)
class Source:
    """One tflite file of a registry package: ``package`` is "wheel" or "npm"."""

    package: str
    member: str  # path inside the wheel (zip) or the npm tarball (tar.gz)
    sha256: str  # of the file as shipped in the package

    def describe(self) -> str:
        where = f"PyPI {WHEEL_REQUIREMENT}" if self.package == "wheel" else f"npm {NPM_SPEC}"
        return f"{where}: {self.member} (sha256 {self.sha256})"


DETECTOR = Source("wheel", "mediapipe/modules/pose_detection/pose_detection.tflite",
                  "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c")


@dataclass(frozen=True)
class Variant:
    """One bundle: bundle member name → source file, plus the names written into the landmark metadata."""

    task: str  # output file name
    members: dict[str, Source]
    model_name: str
    model_version: str


VARIANTS: dict[str, Variant] = {
    "full": Variant("pose_landmarker_full.task", {
        "pose_detector.tflite": DETECTOR,
        "pose_landmarks_detector.tflite": Source(
            "wheel", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    }, "BlazePose GHUM 3D landmark (full)", "mediapipe-0.10.14"),
    "lite": Variant("pose_landmarker_lite.task", {
        "pose_detector.tflite": DETECTOR,
        "pose_landmarks_detector.tflite": Source(
            "npm", "package/pose_landmark_lite.tflite",
            "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    }, "BlazePose GHUM 3D landmark (lite)", "@mediapipe/pose-0.5.1675469404"),
}
LANDMARK_MEMBER = "pose_landmarks_detector.tflite"

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


def fetch_npm_tarball(download_dir: Path) -> Path:
    """``npm pack`` the npm package's registry tarball into ``download_dir`` (nothing is installed or run)."""
    subprocess.run(["npm", "pack", "--silent", "--ignore-scripts", NPM_SPEC], check=True, cwd=download_dir,
                   stdout=subprocess.DEVNULL)
    return download_dir / NPM_TARBALL


def check_package(path: Path, expected: str) -> None:
    digest = sha256(path.read_bytes())
    if digest != expected:
        raise SystemExit(f"{path}: SHA-256 {digest} is not the pinned {expected}")


def read_member(package: Path, source: Source) -> bytes:
    """One file of the wheel (zip) or npm tarball (tar.gz), checked against its pinned hash."""
    if source.package == "wheel":
        with zipfile.ZipFile(package) as zf:
            data = zf.read(source.member)
    else:
        with tarfile.open(package, "r:gz") as tf:
            f = tf.extractfile(source.member)
            if f is None:
                raise SystemExit(f"{package}:{source.member}: not a regular file")
            data = f.read()
    if sha256(data) != source.sha256:
        raise SystemExit(f"{package}:{source.member}: unexpected SHA-256 {sha256(data)}")
    return data


def read_models(variant: Variant, packages: dict[str, Path]) -> dict[str, bytes]:
    """The variant's tflite models (bundle name → bytes), as shipped in the packages."""
    return {name: read_member(packages[src.package], src) for name, src in variant.members.items()}


def read_licence(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(WHEEL_LICENSE).decode("utf-8")


def landmark_metadata(variant: Variant) -> bytes:
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
    model.name = variant.model_name
    model.description = "33 pose landmarks, world landmarks and segmentation of one person (MediaPipe)"
    model.version, model.license = variant.model_version, "Apache-2.0"
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


def notice(bundles: dict[str, Path], licence: str) -> str:
    """NOTICE text for the bundles (variant → .task path) found in the output folder."""
    lines = ["MediaPipe BlazePose model bundles shipped with pose3d (pose detector + BlazePose GHUM 3D landmark):"]
    for key, path in bundles.items():
        lines.append(f"  {path.name}: landmark model {key}")
    lines += [
        "",
        "Copyright The MediaPipe Authors (Google LLC).",
        "Licensed under the Apache License, Version 2.0; the full text follows below.",
        "",
        "Where the files come from (https://github.com/google/mediapipe):",
        f"  PyPI wheel {WHEEL_NAME}",
        f"  (sha256 {WHEEL_SHA256}), Apache-2.0 (its LICENSE file);",
    ]
    if any(src.package == "npm" for key in bundles for src in VARIANTS[key].members.values()):
        lines += [
            f"  npm package {NPM_SPEC}, registry tarball {NPM_TARBALL}",
            f"  (sha256 {NPM_SHA256}), Apache-2.0 (the \"license\" of its package.json).",
        ]
    for key, path in bundles.items():
        lines += ["", f"{path.name}:"]
        for name, src in VARIANTS[key].members.items():
            lines.append(f"  {src.describe()} -> {name}")
    lines += [
        "",
        "Modifications (Apache-2.0 section 4(b)), the same in every bundle:",
        "  pose_landmarks_detector.tflite: TFLite metadata added (input image, RGB, NormalizationOptions",
        "  mean 0, std 255), which the MediaPipe Tasks API requires; the model's weights and graph are unchanged.",
        "  pose_detector.tflite: unchanged.",
        "  Both are packed into an uncompressed zip (a MediaPipe model asset bundle) by",
        "  scripts/build_blazepose_task.py of pose3d.",
        "",
        "Resulting files:",
    ]
    for path in bundles.values():
        bundle = path.read_bytes()
        lines.append(f"  {path.name}: {len(bundle)} bytes, sha256 {sha256(bundle)}")
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                lines.append(f"    {name}: {len(data)} bytes, sha256 {sha256(data)}")
    lines += ["", "=" * 75, ""]
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
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default="all", help="bundle(s) to build")
    parser.add_argument("--wheel", type=Path, help=f"a local {WHEEL_NAME} (default: pip download it)")
    parser.add_argument("--npm-tarball", type=Path, help=f"a local {NPM_TARBALL} (default: npm pack it)")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="output folder of the .task files")
    parser.add_argument("--no-check", action="store_true", help="skip loading the bundles with PoseLandmarker")
    args = parser.parse_args(argv)
    keys = list(VARIANTS) if args.variant == "all" else [args.variant]

    built = {}
    with tempfile.TemporaryDirectory() as tmp:
        packages = {"wheel": args.wheel or fetch_wheel(Path(tmp))}
        if any(src.package == "npm" for key in keys for src in VARIANTS[key].members.values()):
            packages["npm"] = args.npm_tarball or fetch_npm_tarball(Path(tmp))
        check_package(packages["wheel"], WHEEL_SHA256)
        if "npm" in packages:
            check_package(packages["npm"], NPM_SHA256)
        licence = read_licence(packages["wheel"])
        models = {key: read_models(VARIANTS[key], packages) for key in keys}

    for key in keys:
        variant = VARIANTS[key]
        models_out = dict(models[key])
        models_out[LANDMARK_MEMBER] = with_metadata(models_out[LANDMARK_MEMBER], landmark_metadata(variant))
        out = args.out_dir / variant.task
        write_bundle(models_out, out)
        built[key] = out
    present = {key: args.out_dir / v.task for key, v in VARIANTS.items() if (args.out_dir / v.task).is_file()}
    (args.out_dir / "NOTICE-mediapipe.txt").write_text(notice(present, licence))
    for key, out in built.items():
        if not args.no_check:
            check_loads(out)
        bundle = out.read_bytes()
        print(f"wrote {out} ({len(bundle)} bytes, sha256 {sha256(bundle)})")


if __name__ == "__main__":
    main()
