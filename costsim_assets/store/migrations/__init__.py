"""Alembic migrations for the store (a package so it ships with installs)."""
