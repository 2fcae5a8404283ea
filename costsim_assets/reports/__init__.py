"""Reports built from sandbox provenance (no Dagster or FastAPI here)."""
