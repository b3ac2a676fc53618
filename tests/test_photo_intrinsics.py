"""A folder of photos with --calib: each photo gets the calibrated camera at its own size, and a photo of another
shape is refused by name (every photo was lifted with the first photo's K, a portrait one too)."""

import json

import numpy as np
import pytest

from pose3d_cli.errors import Pose3dError
from pose3d_cli.infer.pipeline import InferOptions, Track2D, frame_intrinsics


def photos(tmp_path, sizes):
    rig = tmp_path / "rig.json"
    rig.write_text(json.dumps({"cameras": [{"name": "cam1", "K": [[1000, 0, 960], [0, 1000, 540], [0, 0, 1]],
                                            "R": np.eye(3).tolist(), "t": [0, 0, 0], "size": [1920, 1080]}]}))
    T = len(sizes)
    track = Track2D(np.arange(T), np.arange(T) / 30, np.zeros((T, 33, 2)), np.ones((T, 33)), "blazepose33", 30.0,
                    tuple(sizes[0]), str(tmp_path / "shots"), "test", independent=True, sizes=np.array(sizes),
                    files=[f"p{i}.jpg" for i in range(T)])
    return track, InferOptions(calib=str(rig))


def test_each_photo_gets_the_calibrated_camera_at_its_own_size(tmp_path):
    track, opts = photos(tmp_path, [(1920, 1080), (960, 540)])
    K = frame_intrinsics(track, opts, np.eye(3))
    assert K.shape == (2, 3, 3)
    np.testing.assert_allclose(K[0], [[1000, 0, 960], [0, 1000, 540], [0, 0, 1]])
    np.testing.assert_allclose(K[1], [[500, 0, 480], [0, 500, 270], [0, 0, 1]], atol=1.0)  # half the size


def test_a_photo_of_another_shape_is_refused_by_name(tmp_path):
    track, opts = photos(tmp_path, [(1920, 1080), (1080, 1920)])
    with pytest.raises(Pose3dError, match="p1.jpg: 1080x1920"):
        frame_intrinsics(track, opts, np.eye(3))
