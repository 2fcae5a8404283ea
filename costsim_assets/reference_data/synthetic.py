"""Seeded generators of the four synthetic reference datasets' raw plan records.

Each generator returns records {record_id, tenant_id, region, ts, plan, noise}; `plan` is a dict,
or raw text for a deliberately malformed record. Timestamps are offsets from a fixed epoch so the
same seed always yields the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

EPOCH = pd.Timestamp("2026-01-01T00:00:00Z")
LLM_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "claude-3-5-haiku", "claude-sonnet-4")

# city: (region, latency multiplier, price multiplier, busiest hour UTC, skill weights)
CITIES: dict[str, tuple[str, float, float, int, dict[str, float]]] = {
    "lisbon": ("eu-west", 1.0, 1.00, 10, {"llm_invoke": 3, "http_call": 2, "kv_get": 3, "json_transform": 2}),
    "virginia": ("us-east", 1.0, 1.00, 15, {"llm_invoke": 4, "http_call": 3, "webhook_send": 1, "kv_set": 2}),
    "singapore": (
        "ap-southeast",
        1.6,
        1.10,
        3,
        {"llm_invoke": 2, "fs_read": 2, "shell_lite": 1, "kv_get": 3},
    ),
    "sao-paulo": ("sa-east", 1.9, 1.15, 18, {"llm_invoke": 2, "email_send": 2, "http_call": 3}),
    "mumbai": ("ap-south", 1.8, 1.05, 6, {"llm_invoke": 5, "json_transform": 2, "fs_write": 1}),
}
LOCAL_URLS = ("http://localhost:8080/api", "http://inventory.svc/items", "http://127.0.0.1:9000/x")
EXTERNAL_URLS = ("https://api.example.com/v1", "https://hooks.partner.io/in", "https://maps.example.org")


def _record(index: int, prefix: str, tenant: str, region: str, seconds: float, plan) -> dict:
    return {
        "record_id": f"{prefix}-{index:06d}",
        "tenant_id": tenant,
        "region": region,
        "ts": EPOCH + pd.Timedelta(seconds=float(seconds)),
        "plan": plan,
        "noise": "",
    }


def _step(skill: str, rng: np.random.Generator, external: bool | None = None) -> dict:
    """One step with realistic parameters for its skill."""
    params: dict = {}
    if skill == "llm_invoke":
        tokens = int(np.clip(rng.lognormal(np.log(1500), 1.2), 5, 120_000))
        if rng.random() < 0.3:
            params["prompt"] = "x" * int(tokens * 3.8)
        else:
            params["prompt_tokens"] = tokens
        params["model"] = str(rng.choice(LLM_MODELS))
        if rng.random() < 0.3:
            params["max_tokens"] = int(rng.choice([16, 64, 256, 1024]))
    elif skill in ("http_call", "webhook_send"):
        is_external = bool(rng.random() < 0.7) if external is None else external
        params["url"] = str(rng.choice(EXTERNAL_URLS if is_external else LOCAL_URLS))
        params["timeout"] = float(np.round(rng.uniform(0.5, 30.0), 2))
    elif skill in ("json_transform", "fs_read", "fs_write"):
        params["payload_bytes"] = int(rng.lognormal(np.log(20_000), 1.5))
    elif skill == "shell_lite":
        params["command"] = "echo " + "a" * int(rng.integers(5, 400))
    return {"skill": skill, "params": params}


def _plan(tenant: str, steps: list[dict], budget: int) -> dict:
    return {"steps": steps, "budget_cents": budget, "tenant_id": tenant}


def low_variance(rng: np.random.Generator, rows: int) -> list[dict]:
    """Cheap, predictable plans: kv, json and local HTTP calls."""
    skills = ("kv_get", "kv_set", "json_transform", "http_call")
    records = []
    for i in range(rows):
        tenant = f"tenant-{rng.integers(1, 6):02d}"
        steps = [_step(str(rng.choice(skills)), rng, external=False) for _ in range(int(rng.integers(1, 5)))]
        records.append(_record(i, "lv", tenant, "eu-west", rng.uniform(0, 86_400), _plan(tenant, steps, 100)))
    return records


def high_variance(rng: np.random.Generator, rows: int) -> list[dict]:
    """LLM-heavy, long plans with wide prompt sizes and slow external calls."""
    skills = ("llm_invoke", "llm_invoke", "llm_invoke", "http_call", "webhook_send", "shell_lite")
    records = []
    for i in range(rows):
        tenant = f"tenant-{rng.integers(1, 6):02d}"
        steps = [_step(str(rng.choice(skills)), rng, external=True) for _ in range(int(rng.integers(3, 13)))]
        records.append(
            _record(
                i,
                "hv",
                tenant,
                "us-east",
                rng.uniform(0, 86_400),
                _plan(tenant, steps, int(rng.integers(10, 500))),
            )
        )
    return records


def mixed_city(rng: np.random.Generator, rows: int) -> list[dict]:
    """Tenants in five cities: own skill mixes, busy hours, network latency and price levels."""
    names = tuple(CITIES)
    records = []
    for i in range(rows):
        city = str(rng.choice(names))
        region, _, _, busy_hour, weights = CITIES[city]
        skills, weight = zip(*weights.items(), strict=False)
        p = np.array(weight, dtype=float) / sum(weight)
        steps = [_step(str(rng.choice(skills, p=p)), rng) for _ in range(int(rng.integers(1, 8)))]
        hour = (busy_hour + rng.normal(0, 3)) % 24
        tenant = f"{city}-{rng.integers(1, 4):02d}"
        record = _record(i, "mc", tenant, region, hour * 3600, _plan(tenant, steps, 300))
        record["city"] = city
        records.append(record)
    return records


def city_multipliers(cities: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-record (latency, price) multipliers of each record's city."""
    latency = np.array([CITIES[c][1] for c in cities], dtype=np.float64)
    price = np.array([CITIES[c][2] for c in cities], dtype=np.float64)
    return latency, price


def _perturb(plan: dict, rng: np.random.Generator) -> None:
    for step in plan["steps"]:
        params = step["params"]
        if "prompt_tokens" in params:
            params["prompt_tokens"] = int(params["prompt_tokens"] * rng.choice([0.1, 10]))
        if "timeout" in params:
            params["timeout"] = float(params["timeout"] * rng.choice([0.01, 5.0]))


def _inject(plan: dict, kind: str, rng: np.random.Generator):
    """Apply one kind of noise; returns the plan (or raw text for a malformed record)."""
    if kind == "perturbed":
        _perturb(plan, rng)
    elif kind == "duplicated_steps":
        plan["steps"] = plan["steps"] + plan["steps"][: int(rng.integers(1, len(plan["steps"]) + 1))]
    elif kind == "missing_field":
        del plan[str(rng.choice(["budget_cents", "tenant_id", "steps"]))]
    elif kind == "out_of_range":
        plan["steps"][0]["params"]["timeout"] = -float(rng.integers(1, 10))
    elif kind == "unknown_skill":
        plan["steps"].append(
            {"skill": str(rng.choice(["ftp_upload", "gpu_render", "sms_send"])), "params": {}}
        )
    elif kind == "malformed":
        return json.dumps(plan)[: int(rng.integers(5, 40))]
    return plan


NOISE_KINDS = {
    "perturbed": 0.08,
    "duplicated_steps": 0.05,
    "missing_field": 0.04,
    "out_of_range": 0.03,
    "unknown_skill": 0.04,
    "malformed": 0.03,
}


def noise_injected(rng: np.random.Generator, rows: int) -> list[dict]:
    """A clean low/high mix with documented rates of each noise kind injected."""
    clean = low_variance(rng, rows // 2) + high_variance(rng, rows - rows // 2)
    kinds, rates = list(NOISE_KINDS), list(NOISE_KINDS.values())
    probabilities = np.array([*rates, 1 - sum(rates)])
    records = []
    for i, record in enumerate(clean):
        kind = str(rng.choice([*kinds, ""], p=probabilities))
        record = dict(record, record_id=f"ni-{i:06d}", noise=kind)
        if kind:
            record["plan"] = _inject(record["plan"], kind, rng)
        records.append(record)
    return records


GENERATORS: dict[str, Callable[[np.random.Generator, int], list[dict]]] = {
    "low_variance": low_variance,
    "high_variance": high_variance,
    "mixed_city": mixed_city,
    "noise_injected": noise_injected,
}
