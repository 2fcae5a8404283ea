"""The one table of canary checks: name, priority, blocking, action on breach, description.

The Dagster layer turns each row into an asset check, the drift sensor decides on its breaches
and the breach-response job acts by `action`; nothing else names a check or its priority.

Actions: `disable` flips V2 routing off (compare-and-set), opens an incident and alerts;
`incident` opens an incident and alerts; `alert` only alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("disable", "incident", "alert")
OUTCOMES = ("pass", "breach", "no_data")


@dataclass(frozen=True)
class CanaryCheck:
    name: str
    priority: str
    blocking: bool
    action: str
    description: str


CHECKS = (
    CanaryCheck(
        "realized_drift_p1",
        "P1",
        True,
        "disable",
        "V2's realized miscalibration or inaccuracy beyond the P1 threshold: V2 routing disabled",
    ),
    CanaryCheck(
        "median_shift_p2",
        "P2",
        False,
        "alert",
        "V2's median cost shifted beyond the P2 threshold",
    ),
    CanaryCheck(
        "schema_errors_p3",
        "P3",
        True,
        "incident",
        "schema errors above the P3 threshold",
    ),
)
BY_NAME = {check.name: check for check in CHECKS}


def canary_check(name: str) -> CanaryCheck:
    """The row of a check; a KeyError names an unknown check."""
    return BY_NAME[name]
