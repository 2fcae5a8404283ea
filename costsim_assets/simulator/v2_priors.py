"""V2's documented priors (latency, failure rates, fixed skill costs), kept as versioned data.

They stand in for what cannot be fitted on this project's data: the Azure trace carries no latency
and no failures, and the execution model is ground truth, never training data. Each entry names its
source in the data file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

PRIORS_FILE = "v2_priors_2025-06-01.json"


@dataclass(frozen=True)
class V2Priors:
    """The parsed priors file; `data` is kept whole so the artifact can cite it verbatim."""

    version: str
    data: dict

    @property
    def llm_latency(self) -> dict:
        return self.data["llm_latency"]

    @property
    def skills(self) -> dict[str, dict]:
        return self.data["skills"]

    def skill_latency(self) -> dict[str, dict]:
        return {name: entry["latency"] for name, entry in self.skills.items()}

    def failure_p(self) -> dict[str, float]:
        return {name: entry["failure_p"] for name, entry in self.skills.items()}

    def skill_cost_cents(self) -> dict[str, float]:
        return {name: entry["cost_cents"] for name, entry in self.skills.items()}

    def sources(self) -> dict[str, str]:
        return {"llm_latency": self.llm_latency["source"]} | {
            name: entry["source"] for name, entry in self.skills.items()
        }


def load_priors(name: str = PRIORS_FILE) -> V2Priors:
    """The priors file shipped with the package."""
    data = json.loads(resources.files("costsim_assets.simulator").joinpath("data", name).read_text())
    return V2Priors(data["priors_version"], data)
