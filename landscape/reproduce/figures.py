"""Redraw any figure of ``landscape reproduce`` from its saved dataset (``results/<key>.nc``).

:data:`FIGURES` is derived from :data:`landscape.reproduce.runner.STAGES`: the figure of a key is the very
function its stage draws with, so a redrawn figure is the figure of the report.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from landscape.reproduce.runner import STAGES

__all__ = ["FIGURES", "replot"]

#: stage key -> the stage's figure function (of the stage's first Dataset)
FIGURES = {s.key: s.figure for s in STAGES if s.figure is not None}


def replot(key: str, source):
    """The figure ``key`` drawn from a Dataset, or from the results directory / .nc file given as a path."""
    if key not in FIGURES:
        raise KeyError(f"unknown figure {key!r}; choose one of {sorted(FIGURES)}.")
    if isinstance(source, (str, Path)):
        path = Path(source)
        path = path / f"{key}.nc" if path.is_dir() else path
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return FIGURES[key](ds.load())
    return FIGURES[key](source)
