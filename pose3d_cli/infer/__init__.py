"""Video / images / 2D keypoint files → per-frame 3D joints."""
