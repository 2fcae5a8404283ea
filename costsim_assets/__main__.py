"""`python -m costsim_assets` is the `costsim` command."""

from costsim_assets.cli import main

raise SystemExit(main())
