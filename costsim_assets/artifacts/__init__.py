"""Artifact files (datasets, outputs, reports): written atomically under one root."""
