"""Make the embedded demo input: real BlazePose 2D keypoints of the shared pose2sim cam01 clip.

    python scripts/make_demo_keypoints.py [VIDEO] [OUT]

Writes ``pose3d_cli/assets/demo_cam01_blazepose.csv`` (pose3d keypoint CSV: blazepose33, pixels, with fps and
image size), which `pose3d demo` lifts with the shipped model. The clip is BSD-3-Clause (Pose2Sim).
"""

import sys
from pathlib import Path

import numpy as np

from pose3d_cli.detect.keypoint_files import KeypointSequence, write_keypoints_csv
from pose3d_cli.infer.pipeline import detect_video
from pose3d_cli.infer.sources import open_source

REPO = Path(__file__).resolve().parents[1]
video = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared/data/video/pose2sim_single_person/cam01.mp4"
out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "pose3d_cli/assets/demo_cam01_blazepose.csv"
src = open_source(video)
track = detect_video(src)
seq = KeypointSequence(track.uv, track.conf, track.skeleton, np.asarray(track.frame), track.fps, track.size,
                       f"BlazePose full on Pose2Sim demo {video.name} (BSD-3-Clause)")
write_keypoints_csv(seq, out)
print(f"wrote {out}: {len(seq)} frames, {track.size[0]}x{track.size[1]} at {track.fps:g} fps")
