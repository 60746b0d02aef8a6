"""Redraw any figure of ``landscape reproduce`` from its saved dataset (``results/<key>.nc``)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from landscape.plot import anatomy_figure, rtn_exit_figure, run_figure
from landscape.plots.ptq import plot_hessian_blindness
from landscape.plots.recovery import plot_phase_diagram, plot_rules, plot_tightness

__all__ = ["FIGURES", "replot"]

FIGURES = {
    "fig1_anatomy": anatomy_figure,
    "fig2_rtn_exit": rtn_exit_figure,
    "fig3_hessian_blindness": plot_hessian_blindness,
    "fig4_ste_trajectory": run_figure,
    "fig5_phase_diagram": plot_phase_diagram,
    "fig6_tightness": plot_tightness,
    "fig7_rules": lambda ds: plot_rules(ds, interval_label="10-90%"),
    "fig8_chattering": lambda ds: run_figure(ds, max_steps=60),
    "bridge": lambda ds: _plot_bridge(ds),
}


def _plot_bridge(ds):
    from landscape.reproduce.external_stages import plot_bridge  # noqa: PLC0415

    return plot_bridge(ds)


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
