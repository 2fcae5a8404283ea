"""Load-dependent latency and failures: the hour's own traffic queues at the LLM provider.

Each hour of a dataset gets a utilisation rho = PEAK_UTILISATION x (LLM calls in that hour) /
(LLM calls in the busiest hour). Waiting follows the M/M/1 mean queueing time,
rho / (1 - rho) x QUEUE_SERVICE_MS, before the first token; rate-limit failures rise once rho
passes OVERLOAD_FROM. V2 sees neither the hour's traffic nor this model.
"""

from __future__ import annotations

import numpy as np

PEAK_UTILISATION = 0.85
QUEUE_SERVICE_MS = 200.0
OVERLOAD_FROM = 0.6
LLM_BASE_FAILURE = 0.01
LLM_OVERLOAD_FAILURE = 0.08


def hourly_utilisation(plan_hour: np.ndarray, llm_calls_per_plan: np.ndarray) -> np.ndarray:
    """Utilisation per plan from the LLM calls of every plan in the same hour of the day."""
    hours = np.asarray(plan_hour, dtype=np.int64) % 24
    calls = np.bincount(hours, weights=llm_calls_per_plan, minlength=24)
    busiest = calls.max()
    return PEAK_UTILISATION * calls[hours] / busiest if busiest > 0 else np.zeros(len(hours))


def queue_wait_ms(utilisation: np.ndarray) -> np.ndarray:
    """M/M/1 mean wait in the queue for the given utilisation (< 1)."""
    return utilisation / (1.0 - utilisation) * QUEUE_SERVICE_MS


def llm_failure_probability(utilisation: np.ndarray) -> np.ndarray:
    """Per-attempt failure of an LLM call: a base rate plus rate limiting near saturation."""
    overload = np.clip((utilisation - OVERLOAD_FROM) / (1.0 - OVERLOAD_FROM), 0.0, 1.0)
    return LLM_BASE_FAILURE + LLM_OVERLOAD_FAILURE * overload
