"""When a challenger is fitted and what its days of validation decide (pure).

The champion keeps serving. Once it has breached P1 on each of the last `window_days` days (the
world changed and stayed changed), a challenger is refitted on those days' outcomes; it is then
judged like the champion on each later day, and only `validation_days` passing days make it
promotable. No challenger is fitted while another one is still being validated.
"""

from __future__ import annotations

from datetime import date, timedelta


def window(day: str, window_days: int) -> tuple[str, str]:
    """The `window_days` days ending with `day` (inclusive), as ISO dates."""
    end = date.fromisoformat(day)
    return (end - timedelta(days=window_days - 1)).isoformat(), end.isoformat()


def window_days_of(day: str, window_days: int) -> list[str]:
    first, _ = window(day, window_days)
    start = date.fromisoformat(first)
    return [(start + timedelta(days=offset)).isoformat() for offset in range(window_days)]


def refit_due(champion_p1: dict[str, str], day: str, window_days: int, challenger_pending: bool) -> bool:
    """True when no challenger is pending and the champion breached P1 on every day of the window."""
    if challenger_pending:
        return False
    return all(champion_p1.get(d) == "breach" for d in window_days_of(day, window_days))
