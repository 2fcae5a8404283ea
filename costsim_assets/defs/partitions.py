"""The daily partitions shared by traffic replay and the canary (one day of provenance each)."""

import dagster as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")
