"""1,000 simulate requests over loopback against a running API, shadow off and on.

Starts the real server (`python -m costsim_assets api`) twice on a temporary SQLite store, sends
the requests with a few concurrent clients, and prints p50/p99 latency, errors and the shadow
overhead ratio (target: shadow adds < 10 % to p50).

    .venv/bin/python benchmarks/load_simulate.py [--requests 1000] [--clients 4]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from costsim_assets.api.keys import create_key

PLANS = [
    {
        "steps": [
            {"skill": "llm_invoke", "params": {"prompt_tokens": 1500, "model": "gpt-4o"}},
            {"skill": "http_call", "params": {"url": "https://api.example.com", "timeout": 3}},
        ],
        "budget_cents": 100,
    },
    {
        "steps": [{"skill": "kv_get"}, {"skill": "json_transform", "params": {"payload_bytes": 20000}}],
        "budget_cents": 10,
    },
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(workdir: Path, keys: Path, shadow: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "COSTSIM_DATABASE_URL": f"sqlite:///{workdir}/store-{shadow}.db",
        "COSTSIM_API_KEYS_FILE": str(keys),
        "COSTSIM_V2_SANDBOX": str(shadow).lower(),
        "COSTSIM_RATE_LIMIT_BURST": "1000000",
        "COSTSIM_RATE_LIMIT_PER_SECOND": "1000000",
    }
    process = subprocess.Popen([sys.executable, "-m", "costsim_assets", "api", "--port", str(port)], env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def load(port: int, key: str, requests: int, clients: int) -> tuple[np.ndarray, int]:
    def one(i: int) -> tuple[float, bool]:
        started = time.perf_counter()
        response = client.post("/costsim/simulate", json=PLANS[i % len(PLANS)], headers={"X-API-Key": key})
        return (time.perf_counter() - started) * 1000, response.status_code == 200

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for i in range(50):
            one(i)  # warm-up
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(one, range(requests)))
    return np.array([r[0] for r in results]), sum(not ok for _, ok in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        key = create_key(workdir / "keys.yaml", "bench", "service")
        p50 = {}
        for shadow in (False, True):
            process, port = serve(workdir, workdir / "keys.yaml", shadow)
            try:
                latencies, errors = load(port, key, args.requests, args.clients)
            finally:
                process.terminate()
                process.wait(10)
            p50[shadow] = np.percentile(latencies, 50)
            print(
                f"shadow {'on ' if shadow else 'off'}: {args.requests} requests, {args.clients} clients, "
                f"errors {errors}, p50 {p50[shadow]:.2f} ms, p99 {np.percentile(latencies, 99):.2f} ms, "
                f"throughput {args.requests / (latencies.sum() / 1000 / args.clients):,.0f} req/s"
            )
        print(f"shadow overhead on p50: {p50[True] / p50[False]:.3f}x (target < 1.10x)")


if __name__ == "__main__":
    main()
