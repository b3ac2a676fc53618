"""Calibrated multi-view tools (numpy only): calibration readers, robust triangulation, scoring against a reference."""
