"""One source of truth: the committed OpenAPI document and the TypeScript types generated from it
must be what the app and openapi-typescript produce now; otherwise run `make clients`."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

from tests.clients.typescript import installed

REPOSITORY = Path(__file__).resolve().parents[2]
HINT = "is stale: run `make clients` and commit the result"


def export_openapi() -> ModuleType:
    """scripts/export_openapi.py, loaded in this process (the same code `make clients` runs)."""
    spec = importlib.util.spec_from_file_location(
        "export_openapi", REPOSITORY / "scripts" / "export_openapi.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_and_typescript_types_are_regenerated_identically(tmp_path):
    document = tmp_path / "openapi.json"
    export_openapi().main([str(document)])
    assert document.read_text() == (REPOSITORY / "clients" / "openapi.json").read_text(), (
        f"openapi.json {HINT}"
    )
    package = installed()
    schema = tmp_path / "schema.ts"
    generate = [
        str(package / "node_modules" / ".bin" / "openapi-typescript"),
        str(document),
        "--output",
        str(schema),
    ]
    subprocess.run(generate, cwd=package, check=True, timeout=120, capture_output=True)
    assert schema.read_text() == (package / "src" / "schema.ts").read_text(), f"schema.ts {HINT}"
