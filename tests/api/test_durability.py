"""A real server killed mid-stream loses no acknowledged provenance; V2 completes after restart."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from costsim_assets.store.engine import make_sandbox_engine
from costsim_assets.store.tables import provenance

PLAN = {"steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": 800}}], "budget_cents": 100}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "costsim_assets", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.stderr.read().decode())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_kill_mid_stream_then_restart(database_url, keys):
    port = free_port()
    env = {
        **os.environ,
        "COSTSIM_DATABASE_URL": database_url,
        "COSTSIM_API_KEYS_FILE": keys["path"],
        "COSTSIM_V2_SANDBOX": "true",
        "COSTSIM_RATE_LIMIT_BURST": "100000",
    }
    server = start_server(env, port)
    acknowledged, lock, killed = [], threading.Lock(), threading.Event()

    def send(_: int) -> None:
        if killed.is_set():
            return
        try:
            response = httpx.post(
                f"http://127.0.0.1:{port}/costsim/simulate",
                json=PLAN,
                headers={"X-API-Key": keys["service"]},
                timeout=5,
            )
        except httpx.HTTPError:
            return
        if response.status_code == 200:
            with lock:
                acknowledged.append(response.json()["request_id"])
                if len(acknowledged) == 150:
                    server.send_signal(signal.SIGKILL)
                    killed.set()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(400)))
    server.wait(10)
    assert killed.is_set() and len(acknowledged) >= 150

    engine = make_sandbox_engine(database_url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(provenance.c.request_id)).scalars())
    assert set(acknowledged) <= stored

    restarted = start_server(env, port)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(provenance)
                    .where(provenance.c.v2_status == "pending")
                ).scalar()
            if pending == 0:
                break
            time.sleep(0.2)
        assert pending == 0
    finally:
        restarted.terminate()
        restarted.wait(10)
    engine.dispose()
