"""The HTTP API (FastAPI): simulate, V2 status and kill switch, health, metrics."""
