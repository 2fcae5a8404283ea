"""THE fit function of V2: one observations frame in, one artifact out (deterministic).

It fits the bootstrap champion from the trace and refits a challenger from realized outcomes. Time
order is respected: the earlier rows are the fit window (medians, means, quantiles, latency
coefficients) and the later rows the calibration window (conformal intervals and the calibration
record each request reports). Same observations, priors and prices -> byte-identical artifact, and
its content hash is the model version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.v2_fit import (
    fit_llm_latency,
    min_calibration_rows,
    rounded,
    rows_for_tolerance,
    segment_statistics,
)
from costsim_assets.simulator.v2_model import ARTIFACT_SCHEMA, model_version, prior_interval_factors
from costsim_assets.simulator.v2_priors import V2Priors
from costsim_assets.simulator.v2_segments import (
    LEVELS,
    PROMPT_BIN_EDGES,
    lookup_segments,
    prompt_bin,
    segment_key,
)
from costsim_assets.statistics.outliers import reference_scale
from costsim_assets.training.observations import (
    ObservationError,
    observations_sha256,
    prepare_observations,
    time_windows,
    window_summary,
)
from costsim_assets.training.profile import reference_profile

CHARS_PER_TOKEN = 4.0
"""Characters per token for prompts given as text: the providers' published rule of thumb for
English (OpenAI: "one token is roughly 4 characters"); the execution model tokenizes differently."""
CONFIDENCE_TOLERANCE = 0.05
"""How closely a segment's reported confidence should match its coverage on later traffic; it sets
the minimum segment size (rows_for_tolerance: 492 rows at 80 %)."""
MIN_SEGMENT_ROWS = rows_for_tolerance(0.8, CONFIDENCE_TOLERANCE)
INTERVAL_METHOD = (
    "split-conformal, Mondrian by segment: per segment the order statistics floor((n+1)a/2) and "
    "ceil((n+1)(1-a/2)) of the calibration window's output tokens, a = 1 - nominal"
)


@dataclass(frozen=True)
class FitConfig:
    """Windows and minimum sizes; a segment needs enough fit AND calibration rows to exist.

    Smaller segments pool into their parent: a segment of a few hundred rows would report a
    confidence that later traffic misses by more than CONFIDENCE_TOLERANCE by chance alone.
    """

    nominal: float = 0.8
    calibration_share: float = 0.3
    min_fit_rows: int = MIN_SEGMENT_ROWS
    min_calibration_rows: int = MIN_SEGMENT_ROWS
    min_latency_rows: int = MIN_SEGMENT_ROWS

    def __post_init__(self) -> None:
        floor = min_calibration_rows(self.nominal)
        if self.min_calibration_rows < floor:
            raise ValueError(f"min_calibration_rows must be >= {floor} for a {self.nominal:.0%} interval")


def _keys(frame: pd.DataFrame, level: str) -> pd.Series:
    """Segment key of every row at one level (None where the row has no tenant at the tenant level)."""
    bins = prompt_bin(frame["input_tokens"].to_numpy())
    keys = [
        segment_key(level, tenant, model, int(b)) if tenant or level != LEVELS[0] else None
        for tenant, model, b in zip(frame["tenant_id"], frame["model"], bins, strict=True)
    ]
    return pd.Series(keys, index=frame.index, dtype=object)


def fit_segments(fit: pd.DataFrame, calibration: pd.DataFrame, config: FitConfig) -> dict[str, dict]:
    """Every segment, at every level, with enough fit and calibration rows ('all' always)."""
    segments = {}
    for level in LEVELS:
        fit_groups = dict(list(fit["output_tokens"].groupby(_keys(fit, level))))
        cal_groups = dict(list(calibration["output_tokens"].groupby(_keys(calibration, level))))
        for key in sorted(set(fit_groups) & set(cal_groups)):
            fit_y, cal_y = fit_groups[key].to_numpy(), cal_groups[key].to_numpy()
            if len(fit_y) >= config.min_fit_rows and len(cal_y) >= config.min_calibration_rows:
                segments[key] = segment_statistics(fit_y, cal_y, config.nominal)
    return segments


def _routed_p50(frame: pd.DataFrame, segments: dict[str, dict]) -> np.ndarray:
    """The median each row would be forecast by V2's lookup (finest segment present)."""
    names = sorted(segments)
    tenants = frame["tenant_id"].tolist()
    tenant_names = sorted({t for t in tenants if t})
    tenant_ids = {t: i for i, t in enumerate(tenant_names)}
    models = sorted(set(frame["model"]))
    index = lookup_segments(
        {name: i for i, name in enumerate(names)},
        tenant_names,
        np.array([tenant_ids[t] if t else -1 for t in tenants], dtype=np.int64),
        models,
        frame["model"].map({m: i for i, m in enumerate(models)}).to_numpy(np.int64),
        prompt_bin(frame["input_tokens"].to_numpy()),
    )
    return np.array([segments[name]["p50"] for name in names])[index]


def _baselines(fit: pd.DataFrame, config: FitConfig) -> dict:
    """Naive forecasters fitted on the same window: the global and the per-model median."""
    by_model = fit.groupby("model")["output_tokens"]
    return {
        "global_median": round(float(np.percentile(fit["output_tokens"], 50)), 9),
        "model_median": {
            str(m): round(float(np.percentile(y, 50)), 9)
            for m, y in by_model
            if len(y) >= config.min_fit_rows
        },
        "fitted_on": "the fit window (the same rows as V2's medians)",
    }


def _llm_latency(fit: pd.DataFrame, calibration: pd.DataFrame, priors: V2Priors, config: FitConfig) -> dict:
    """Fitted on real latencies when both windows hold enough of them; the documented prior otherwise."""
    measured = [w[np.isfinite(w["latency_ms"])] for w in (fit, calibration)]
    rows = {"fit": int(len(measured[0])), "calibration": int(len(measured[1]))}
    prior = priors.llm_latency
    if min(rows.values()) < config.min_latency_rows:
        return {
            "terms": prior["terms"],
            "coef": prior["coef"],
            "interval_factors": rounded(prior_interval_factors(prior["log_sigma"])[0]),
            "validated": False,
            "latency_rows": rows,
            "source": f"prior {priors.version} (no or too few real latencies): {prior['source']}",
        }
    columns = ("input_tokens", "output_tokens", "latency_ms")
    fitted = fit_llm_latency(
        tuple(measured[0][c].to_numpy() for c in columns),
        tuple(measured[1][c].to_numpy() for c in columns),
        config.nominal,
    )
    return {
        "terms": prior["terms"],
        **fitted,
        "validated": True,
        "latency_rows": rows,
        "source": "least squares on real latencies (fit window); conformal factors on the calibration window",
    }


def _error_scale(errors: np.ndarray) -> dict | None:
    """Centre and scale of (actual - forecast median) on the calibration window, fixed for outlier
    rules later; None when the errors have no spread at all (then no outlier rule applies)."""
    scale = reference_scale(errors)
    return {k: round(v, 9) for k, v in scale.to_dict().items()} if np.isfinite(scale.scale) else None


def _check_size(fit: pd.DataFrame, calibration: pd.DataFrame, config: FitConfig) -> None:
    if len(fit) < config.min_fit_rows or len(calibration) < config.min_calibration_rows:
        raise ObservationError(
            f"too few observations: fit window {len(fit)} rows (need {config.min_fit_rows}), "
            f"calibration window {len(calibration)} rows (need {config.min_calibration_rows})"
        )


def fit_v2_artifact(
    observations: pd.DataFrame,
    *,
    prices: PriceTable,
    priors: V2Priors,
    source: dict,
    config: FitConfig | None = None,
    skills: dict[str, float] | None = None,
) -> dict:
    """The V2 artifact fitted on `observations` (see module doc); `source` says where they came from."""
    config = config or FitConfig()
    frame = prepare_observations(observations)
    fit, calibration = time_windows(frame, config.calibration_share)
    _check_size(fit, calibration, config)
    segments = fit_segments(fit, calibration, config)
    errors = calibration["output_tokens"].to_numpy() - _routed_p50(calibration, segments)
    artifact = {
        "schema": ARTIFACT_SCHEMA,
        "price_table": prices.to_dict(),
        "chars_per_token": CHARS_PER_TOKEN,
        "default_prompt_tokens": round(float(np.median(fit["input_tokens"])), 9),
        "output_tokens": {
            "prompt_bin_edges": list(PROMPT_BIN_EDGES),
            "levels": list(LEVELS),
            "nominal_interval": config.nominal,
            "interval_method": INTERVAL_METHOD,
            "segments": segments,
            "error_scale": _error_scale(errors),
        },
        "baselines": _baselines(fit, config),
        "reference_profile": reference_profile(frame, prices, skills),
        "llm_latency": _llm_latency(fit, calibration, priors, config),
        "latency": priors.skill_latency(),
        "latency_design": priors.data["latency_design"],
        "failure_p": priors.failure_p(),
        "skill_cost_cents": priors.skill_cost_cents(),
        "priors": {"version": priors.version, "validated": False, "sources": priors.sources()},
        "fit_config": asdict(config),
        "training_data": {
            "source": source,
            "observations_sha256": observations_sha256(frame),
            "fit_window": window_summary(fit),
            "calibration_window": window_summary(calibration),
        },
    }
    artifact["version"] = model_version(artifact)
    return artifact
