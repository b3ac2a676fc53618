"""2D keypoints: the built-in BlazePose detector and readers for other detectors' output files.

``import pose3d_cli.detect`` is cheap (numpy only): mediapipe is imported when a
:class:`BlazePoseDetector` is made.
"""

from pose3d_cli.detect.base import Detector, DetectorError, Keypoints2D, prominence
from pose3d_cli.detect.keypoint_files import KeypointSequence, read_keypoints, write_keypoints_csv
from pose3d_cli.detect.mediapipe import BlazePoseDetector

__all__ = [
    "BlazePoseDetector",
    "Detector",
    "DetectorError",
    "KeypointSequence",
    "Keypoints2D",
    "prominence",
    "read_keypoints",
    "write_keypoints_csv",
]
