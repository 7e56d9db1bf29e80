"""Dimension sweeps: TOML grids run on Dask into a SQLite store, and rate fits."""
