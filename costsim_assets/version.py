"""The code version recorded beside every report and provenance row, resolved once per process."""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata


@lru_cache(maxsize=1)
def code_version() -> str:
    try:
        return f"costsim-m6-{metadata.version('costsim-m6')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        return "costsim-m6-unknown"
