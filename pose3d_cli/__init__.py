"""pose3d: 3D human pose from a single camera by 2D-to-3D lifting, trained on synthesised mocap pairs."""

__version__ = "0.1.0"
