"""The daily canary: sample provenance, rerun V1/V2, compare pairwise and against golden data."""
