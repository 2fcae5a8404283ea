"""The TypeScript suite (`npm test`: tsc, then node's test runner) against this session's live API."""

from __future__ import annotations

import json
import os
import subprocess

from tests.clients.live_server import LiveServer, suite_config
from tests.clients.typescript import installed, npm


def test_typescript_client_suite_passes_against_the_live_server(server: LiveServer, bulk_history):
    env = {**os.environ, "COSTSIM_TEST_SERVER": json.dumps(suite_config(server))}
    result = subprocess.run(
        [npm(), "test"], cwd=installed(), env=env, capture_output=True, text=True, timeout=600, check=False
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# ts:", "# pass", "# fail"))]
    print("\n".join(summary))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
