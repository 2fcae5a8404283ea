"""Plans and outcomes both Python suites send, and a bounded wait for V2's shadow to finish."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any


def plan(prompt_tokens: int = 900, tenant: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": prompt_tokens, "model": "gpt-4o"}}],
        "budget_cents": 50,
    }
    return record if tenant is None else {**record, "tenant_id": tenant}


INVALID_PLAN = {"steps": "not a list", "budget_cents": 10}


def outcome(request_id: str, output_tokens: int = 200) -> dict[str, Any]:
    step = {
        "skill": "llm_invoke",
        "model": "gpt-4o",
        "input_tokens": 900,
        "output_tokens": output_tokens,
        "cost_cents": 0.5,
        "status": "ok",
    }
    return {"request_id": request_id, "steps": [step]}


def today_range() -> tuple[date, date]:
    """[today, tomorrow) in UTC: every request of this run falls inside."""
    today = datetime.now(UTC).date()
    return today, today + timedelta(days=1)


def until(condition: Callable[[], bool], attempts: int = 100, pause_s: float = 0.1) -> bool:
    """Poll a condition a bounded number of times (V2's shadow completes after simulate answers)."""
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(pause_s)
    return False
