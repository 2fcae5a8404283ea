"""Fixtures for the Dagster layer: real resources on temporary directories and databases."""

from pathlib import Path

import pytest

from costsim_assets.defs.resources import (
    ArtifactStoreResource,
    CanaryResource,
    ReferenceDataResource,
    ReportLinksResource,
    StoreResource,
)

TRACE = str(Path("../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv").resolve())


def make_resources(root: Path, database_url: str, historical_source: str = TRACE) -> dict:
    return {
        "store": StoreResource(database_url=database_url),
        "artifacts": ArtifactStoreResource(root=str(root)),
        "reference_data": ReferenceDataResource(
            historical_source=historical_source, anonymization_salt="test-salt"
        ),
        "canary": CanaryResource(incident_dir=str(root / "incidents")),
        "report_links": ReportLinksResource(),
    }


@pytest.fixture
def sqlite_resources(tmp_path) -> dict:
    return make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
