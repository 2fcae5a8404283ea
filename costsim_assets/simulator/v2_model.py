"""The V2 model artifact: fitted coefficients + price table + training-data hash, as one JSON file.

The model version is the content hash of the artifact, so two processes that load the same file
agree on the version, and any refit that changes a number changes the version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.skills import ALL_SKILL_LABELS, SKILL_CODES, per_skill_table

ARTIFACT_SCHEMA = "costsim-v2-model/2"
PACKAGED_ARTIFACT = "v2_model.json"
LATENCY_DESIGN = ("intercept", "payload_kb", "command_chars", "url_external")


NETWORK_SKILLS = (SKILL_CODES["http_call"], SKILL_CODES["webhook_send"])


def latency_design(batch: PlanBatch) -> np.ndarray:
    """Per-step regressors of the non-LLM latency model, columns in LATENCY_DESIGN order.

    A network call without a URL counts as external (the slow, conservative case).
    """
    network = np.isin(batch.step_skill_code, NETWORK_SKILLS)
    return np.column_stack(
        [
            np.ones(len(batch.step_skill_id)),
            np.nan_to_num(batch.feature("payload_bytes")) / 1000.0,
            np.nan_to_num(batch.feature("command_chars")),
            np.where(network, np.nan_to_num(batch.feature("url_external"), nan=1.0), 0.0),
        ]
    )


def canonical_json(data: dict) -> bytes:
    """Byte-stable JSON: sorted keys, no whitespace, floats as Python repr."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def artifact_text(artifact: dict) -> str:
    """The artifact file's exact text (sorted keys, one-space indent): same artifact, same bytes."""
    return json.dumps(artifact, sort_keys=True, indent=1, allow_nan=False) + "\n"


def model_version(artifact: dict) -> str:
    """Content hash of the artifact (its own 'version' field excluded)."""
    body = {k: v for k, v in artifact.items() if k != "version"}
    return "v2-" + hashlib.sha256(canonical_json(body)).hexdigest()[:16]


Z_80 = 1.2815515655446004  # standard normal quantile of 0.9: a lognormal prior's 80 % central interval
SEGMENT_STATS = ("mean", "p50", "low", "high")
CALIBRATION_STATS = ("coverage", "share_below_low", "share_above_high", "share_above_p50")


@dataclass(frozen=True)
class SegmentTable:
    """Output-token segments as arrays indexed by segment number (keys sorted, as in the artifact)."""

    names: tuple[str, ...]
    index: dict[str, int]
    stats: dict[str, np.ndarray]
    quantiles: np.ndarray

    @classmethod
    def from_artifact(cls, segments: dict[str, dict]) -> SegmentTable:
        names = tuple(sorted(segments))
        rows = [segments[name] for name in names]
        stats = {key: np.array([r[key] for r in rows], dtype=np.float64) for key in SEGMENT_STATS}
        for key in CALIBRATION_STATS:
            stats[key] = np.array([r["calibration"][key] for r in rows], dtype=np.float64)
        return cls(
            names=names,
            index={name: i for i, name in enumerate(names)},
            stats=stats,
            quantiles=np.array([r["quantiles"] for r in rows], dtype=np.float64),
        )


def prior_interval_factors(log_sigma: np.ndarray) -> np.ndarray:
    """Low/high multipliers of a lognormal prior's 80 % interval, one row per entry."""
    sigma = np.atleast_1d(np.asarray(log_sigma, dtype=np.float64))
    return np.column_stack([np.exp(-Z_80 * sigma), np.exp(Z_80 * sigma)])


@dataclass(frozen=True)
class V2Model:
    """Arrays derived from an artifact, laid out for vectorized evaluation."""

    version: str
    artifact: dict
    prices: PriceTable
    chars_per_token: float
    default_prompt_tokens: float
    segments: SegmentTable
    llm_latency_coef: np.ndarray
    llm_latency_factors: np.ndarray
    latency_coef: np.ndarray
    latency_factors: np.ndarray
    failure_p: np.ndarray
    skill_cost_cents: np.ndarray

    @classmethod
    def from_artifact(cls, artifact: dict) -> V2Model:
        if artifact.get("schema") != ARTIFACT_SCHEMA:
            raise ValueError(f"not a V2 model artifact (schema {artifact.get('schema')!r})")
        latency, costs = artifact["latency"], artifact["skill_cost_cents"]
        return cls(
            version=model_version(artifact),
            artifact=artifact,
            prices=PriceTable.from_dict(artifact["price_table"]),
            chars_per_token=artifact["chars_per_token"],
            default_prompt_tokens=artifact["default_prompt_tokens"],
            segments=SegmentTable.from_artifact(artifact["output_tokens"]["segments"]),
            llm_latency_coef=np.array(artifact["llm_latency"]["coef"], dtype=np.float64),
            llm_latency_factors=np.array(artifact["llm_latency"]["interval_factors"], dtype=np.float64),
            latency_coef=np.array([latency[s]["coef"] for s in ALL_SKILL_LABELS], dtype=np.float64),
            latency_factors=prior_interval_factors([latency[s]["log_sigma"] for s in ALL_SKILL_LABELS]),
            failure_p=per_skill_table(artifact["failure_p"], artifact["failure_p"]["unknown"]),
            skill_cost_cents=per_skill_table(costs, costs["unknown"]),
        )

    @property
    def token_error_scale(self) -> dict[str, float] | None:
        """Centre and scale of (actual - p50) output tokens on the calibration window (None: no spread)."""
        return self.artifact["output_tokens"]["error_scale"]

    @property
    def nominal_interval(self) -> float:
        return float(self.artifact["output_tokens"]["nominal_interval"])

    def baseline_medians(self) -> tuple[float, dict[str, float]]:
        """(global median, median per model) of output tokens on the fit window: naive baselines."""
        baselines = self.artifact["baselines"]
        return baselines["global_median"], baselines["model_median"]


def packaged_artifact_path() -> Path:
    return Path(str(resources.files("costsim_assets.simulator").joinpath("data", PACKAGED_ARTIFACT)))


def load_v2_model(path: str | Path | None = None) -> V2Model:
    """Load the artifact at `path`, or the one shipped with the package."""
    source = Path(path) if path else packaged_artifact_path()
    return V2Model.from_artifact(json.loads(source.read_text()))
