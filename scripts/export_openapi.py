"""Write the API's OpenAPI document from the app factory (no server, no database, no settings read),
so the committed clients/openapi.json is the one source of truth the SDKs are generated from.

    .venv/bin/python scripts/export_openapi.py [OUT]   # default: clients/openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from costsim_assets.api.app import create_app

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "clients" / "openapi.json"


def openapi_text() -> str:
    """The document as stable text: two-space indent, keys in the app's order, one final newline."""
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_text())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
