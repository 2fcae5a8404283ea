"""Columnar plan batches: every plan's steps flattened into arrays so V1 and V2 run vectorized.

Parsing records into a batch is the only per-plan Python loop; everything downstream (simulation,
hashing preimages, comparison) works on these arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from costsim_assets.simulator.plan_schema import Plan
from costsim_assets.simulator.skills import skill_code

# Numeric step features the simulators read; NaN means "parameter absent".
FEATURES: tuple[str, ...] = (
    "prompt_chars",
    "prompt_tokens",
    "max_tokens",
    "timeout_s",
    "payload_bytes",
    "command_chars",
    "url_external",
)
LOCAL_HOST_SUFFIXES = (".local", ".internal", ".svc", ".cluster.local")


def url_is_external(url: str) -> float:
    """1.0 for a URL outside this cluster/host, 0.0 for loopback or cluster-local names."""
    host = (urlparse(url if "//" in url else f"//{url}").hostname or "").lower()
    local = host in ("localhost", "::1") or host.startswith("127.") or host.endswith(LOCAL_HOST_SUFFIXES)
    return 0.0 if local else 1.0


def step_features(params: dict) -> tuple[float, ...]:
    """The numeric features of one step's params, in FEATURES order."""
    nan = float("nan")
    prompt = params.get("prompt")
    url = params.get("url")
    command = params.get("command")
    return (
        float(len(prompt)) if prompt is not None else nan,
        float(params["prompt_tokens"]) if "prompt_tokens" in params else nan,
        float(params["max_tokens"]) if "max_tokens" in params else nan,
        float(params["timeout"]) if "timeout" in params else nan,
        float(params["payload_bytes"]) if "payload_bytes" in params else nan,
        float(len(command)) if command is not None else nan,
        url_is_external(url) if url is not None else nan,
    )


@dataclass(frozen=True)
class PlanBatch:
    """N plans as arrays: plan-level (n,) columns and step-level (s,) columns with offsets."""

    budget_cents: np.ndarray
    risk_threshold: np.ndarray
    allowed_key: np.ndarray
    allowed_sets: tuple[tuple[str, ...], ...]
    step_offsets: np.ndarray
    skill_names: tuple[str, ...]
    step_skill_id: np.ndarray
    step_permitted: np.ndarray
    step_model_id: np.ndarray
    model_names: tuple[str, ...]
    features: dict[str, np.ndarray]
    tenant_names: tuple[str, ...]
    plan_tenant_id: np.ndarray

    @property
    def n_plans(self) -> int:
        return len(self.budget_cents)

    @property
    def n_steps(self) -> np.ndarray:
        return np.diff(self.step_offsets)

    @property
    def step_plan_index(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_plans), self.n_steps)

    @property
    def step_skill_code(self) -> np.ndarray:
        codes = np.array([skill_code(name) for name in self.skill_names], dtype=np.int64)
        return codes[self.step_skill_id] if len(codes) else np.zeros(0, dtype=np.int64)

    def feature(self, name: str) -> np.ndarray:
        return self.features[name]

    @property
    def step_tenant_id(self) -> np.ndarray:
        return self.plan_tenant_id[self.step_plan_index]

    def step_skill_name(self, step: int) -> str:
        return self.skill_names[self.step_skill_id[step]]

    @classmethod
    def from_plans(cls, plans: Sequence[Plan]) -> PlanBatch:
        """Flatten validated plans; interns skill, model and allowed-set names into small tables."""
        builder = _BatchBuilder()
        for plan in plans:
            builder.add(plan)
        return builder.build()

    @classmethod
    def from_llm_calls(
        cls,
        tenant_ids: Sequence[str | None],
        models: Sequence[str],
        prompt_tokens: np.ndarray,
        budget_cents: float = 1e9,
    ) -> PlanBatch:
        """One single-step llm_invoke plan per call, built straight into columns (no per-plan loop).

        For scoring observed calls (a trace, realized outcomes): tenant None means unknown.
        """
        n = len(prompt_tokens)
        tenant_names, tenant_ids_array = _intern_column(tenant_ids)
        model_names, model_ids = _intern_column(models)
        features = {name: np.full(n, np.nan) for name in FEATURES}
        features["prompt_tokens"] = np.asarray(prompt_tokens, dtype=np.float64)
        return cls(
            budget_cents=np.full(n, float(budget_cents)),
            risk_threshold=np.full(n, 1.0),
            allowed_key=np.full(n, -1, dtype=np.int64),
            allowed_sets=(),
            step_offsets=np.arange(n + 1, dtype=np.int64),
            skill_names=("llm_invoke",),
            step_skill_id=np.zeros(n, dtype=np.int64),
            step_permitted=np.ones(n, dtype=bool),
            step_model_id=model_ids,
            model_names=model_names,
            features=features,
            tenant_names=tenant_names,
            plan_tenant_id=tenant_ids_array,
        )


def _intern_column(values: Sequence[str | None]) -> tuple[tuple[str, ...], np.ndarray]:
    """(distinct names, id per row), -1 where the value is missing (None or empty)."""
    text = np.array([v if isinstance(v, str) else "" for v in values], dtype=str)
    names, ids = np.unique(text, return_inverse=True)
    ids = ids.astype(np.int64).ravel()
    if len(names) and names[0] == "":  # the empty string sorts first
        return tuple(names[1:].tolist()), ids - 1
    return tuple(names.tolist()), ids


class _Interner:
    """Maps values to dense ids in first-seen order."""

    def __init__(self) -> None:
        self.ids: dict = {}

    def __call__(self, value) -> int:
        return self.ids.setdefault(value, len(self.ids))

    def table(self) -> tuple:
        return tuple(self.ids)


class _BatchBuilder:
    def __init__(self) -> None:
        self.budgets: list[int] = []
        self.risks: list[float] = []
        self.allowed_keys: list[int] = []
        self.offsets: list[int] = [0]
        self.skill_ids: list[int] = []
        self.permitted: list[bool] = []
        self.model_ids: list[int] = []
        self.rows: list[tuple[float, ...]] = []
        self.tenant_ids: list[int] = []
        self.skills = _Interner()
        self.models = _Interner()
        self.allowed = _Interner()
        self.tenants = _Interner()

    def add(self, plan: Plan) -> None:
        self.budgets.append(plan.budget_cents)
        self.tenant_ids.append(self.tenants(plan.tenant_id))
        self.risks.append(plan.risk_threshold)
        allowed = plan.allowed_skills
        self.allowed_keys.append(-1 if allowed is None else self.allowed(tuple(sorted(allowed))))
        for step in plan.steps:
            self.skill_ids.append(self.skills(step.skill))
            self.permitted.append(allowed is None or step.skill in allowed)
            model = step.params.get("model")
            self.model_ids.append(-1 if model is None else self.models(model))
            self.rows.append(step_features(step.params))
        self.offsets.append(len(self.skill_ids))

    def build(self) -> PlanBatch:
        table = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(FEATURES))
        return PlanBatch(
            budget_cents=np.array(self.budgets, dtype=np.float64),
            risk_threshold=np.array(self.risks, dtype=np.float64),
            allowed_key=np.array(self.allowed_keys, dtype=np.int64),
            allowed_sets=self.allowed.table(),
            step_offsets=np.array(self.offsets, dtype=np.int64),
            skill_names=self.skills.table(),
            step_skill_id=np.array(self.skill_ids, dtype=np.int64),
            step_permitted=np.array(self.permitted, dtype=bool),
            step_model_id=np.array(self.model_ids, dtype=np.int64),
            model_names=self.models.table(),
            features={name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(FEATURES)},
            tenant_names=self.tenants.table(),
            plan_tenant_id=np.array(self.tenant_ids, dtype=np.int64),
        )
