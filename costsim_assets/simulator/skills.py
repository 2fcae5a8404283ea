"""The skill vocabulary shared by V1 and V2: known skills get a code; anything else is 'unknown'."""

from __future__ import annotations

import numpy as np

KNOWN_SKILLS: tuple[str, ...] = (
    "http_call",
    "llm_invoke",
    "json_transform",
    "fs_read",
    "fs_write",
    "shell_lite",
    "kv_get",
    "kv_set",
    "webhook_send",
    "email_send",
)
UNKNOWN_SKILL = "unknown"
SKILL_CODES: dict[str, int] = {name: code for code, name in enumerate(KNOWN_SKILLS)}
UNKNOWN_CODE = len(KNOWN_SKILLS)
ALL_SKILL_LABELS: tuple[str, ...] = (*KNOWN_SKILLS, UNKNOWN_SKILL)


def skill_code(name: str) -> int:
    """Code of a skill name; every name outside the vocabulary maps to UNKNOWN_CODE."""
    return SKILL_CODES.get(name, UNKNOWN_CODE)


def per_skill_table(values: dict[str, float], default: float) -> np.ndarray:
    """A lookup array indexed by skill code, so per-step values are one fancy-index away."""
    return np.array([values.get(label, default) for label in ALL_SKILL_LABELS], dtype=np.float64)
