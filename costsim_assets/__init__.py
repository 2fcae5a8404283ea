"""costsim_assets."""
