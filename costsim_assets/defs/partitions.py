"""The daily partitions shared by traffic replay and the canary (one day of provenance each)."""

from datetime import UTC, datetime, timedelta

import dagster as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


def partition_day_bounds(partition_key: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a daily partition."""
    start = datetime.fromisoformat(partition_key).replace(tzinfo=UTC)
    return start, start + timedelta(days=1)
