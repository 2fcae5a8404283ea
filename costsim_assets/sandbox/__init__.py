"""The V2 sandbox: routing decision, shadow execution and provenance."""
