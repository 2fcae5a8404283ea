"""Packaged configuration files (validation thresholds)."""
