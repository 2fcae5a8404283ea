"""Alembic revision scripts (a package so they ship with installs)."""
