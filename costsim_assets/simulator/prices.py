"""The versioned LLM price table (real list prices kept as data, with source and date)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

PRICE_TABLE_FILE = "llm_prices_2025-06-01.json"
CENTS_PER_USD_PER_MTOK = 100.0 / 1_000_000.0


@dataclass(frozen=True)
class PriceTable:
    """Per-model input/output prices in USD per million tokens."""

    version: str
    source: str
    default_model: str
    models: dict[str, dict]

    def cents_per_token(self, model: str) -> tuple[float, float]:
        """(input, output) price in cents per token; unknown models use the default model."""
        entry = self.models.get(model, self.models[self.default_model])
        return entry["input"] * CENTS_PER_USD_PER_MTOK, entry["output"] * CENTS_PER_USD_PER_MTOK

    def to_dict(self) -> dict:
        return {
            "price_table_version": self.version,
            "source": self.source,
            "default_model": self.default_model,
            "models": self.models,
            "unit": "USD per 1,000,000 tokens",
        }

    @classmethod
    def from_dict(cls, data: dict) -> PriceTable:
        return cls(data["price_table_version"], data["source"], data["default_model"], data["models"])


def load_price_table(name: str = PRICE_TABLE_FILE) -> PriceTable:
    """Load a price table shipped with the package."""
    text = resources.files("costsim_assets.simulator").joinpath("data", name).read_text()
    return PriceTable.from_dict(json.loads(text))
