"""The one settings module: every environment variable the project reads, and the resources
built from them. Values are resolved by Dagster at run time (dg.EnvVar), never at import."""

from __future__ import annotations

import dagster as dg

from costsim_assets.defs.resources import ArtifactStoreResource, ReferenceDataResource, StoreResource

DATABASE_URL = "COSTSIM_DATABASE_URL"            # sqlite:///... or postgresql+psycopg2://...
ARTIFACT_ROOT = "COSTSIM_ARTIFACT_ROOT"          # directory for datasets, outputs and reports
HISTORICAL_SOURCE = "COSTSIM_HISTORICAL_SOURCE"  # path or URL of the Azure trace CSV
ANONYMIZATION_SALT = "COSTSIM_ANONYMIZATION_SALT"  # secret salt for historical identifiers


def resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the deployed Definitions, all configured from the environment."""
    return {
        "store": StoreResource(database_url=dg.EnvVar(DATABASE_URL)),
        "artifacts": ArtifactStoreResource(root=dg.EnvVar(ARTIFACT_ROOT)),
        "reference_data": ReferenceDataResource(
            historical_source=dg.EnvVar(HISTORICAL_SOURCE),
            anonymization_salt=dg.EnvVar(ANONYMIZATION_SALT),
        ),
    }
