"""reference_data."""
