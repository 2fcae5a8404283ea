"""The TypeScript package's tools, installed from its lock file when they are missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        pytest.fail("npm is required (Node.js 20+): the TypeScript client is part of the suite")
    return found


def installed() -> Path:
    """The package directory with node_modules installed exactly from package-lock.json."""
    if not (PACKAGE / "node_modules" / ".package-lock.json").is_file():
        subprocess.run([npm(), "ci", "--no-audit", "--no-fund"], cwd=PACKAGE, check=True, timeout=600)
    return PACKAGE
