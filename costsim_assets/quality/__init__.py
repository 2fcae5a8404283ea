"""Data quality: Great Expectations suites for reference datasets."""
