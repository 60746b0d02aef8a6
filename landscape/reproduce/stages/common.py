"""What the stages share: rounding for JSON, batch statistics of a run, units of a saved dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from landscape.simulate.outcomes import recovery_summary

__all__ = ["rounded", "percent", "time_text", "batch_stats", "with_units", "recovery_summary"]


def rounded(x, nd=3):
    """``x`` rounded to ``nd`` decimals as a float (None when not finite), for summary.json."""
    x = float(x)
    return None if not np.isfinite(x) else float(np.round(x, nd))


def percent(x) -> str:
    """A fraction as a percentage with one decimal ("n/a" when it is None), for a template's text."""
    return "n/a" if x is None else f"{100 * x:.1f}%"


def time_text(t, name: str = "median T") -> str:
    """``name = t`` for a template's text, or ``name`` undefined and why (no start entered the basin)."""
    return f"{name} undefined (no start entered the basin)" if t is None else f"{name} = {t:g}"


def batch_stats(hit, div):
    """Recovered / censored / diverged counts, Wilson interval and T: landscape.simulate.outcomes."""
    return recovery_summary(hit, div, digits=4)


def _guess_units(name: str) -> str:
    n = name.lower()
    if "loss" in n:
        return "loss"
    if any(
        t in n for t in ("prob", "fraction", "rate", "p_", "same", "exit", "holds", "in_basin", "chatter")
    ):
        return "1"
    if n in ("t", "tp") or any(t in n for t in ("_t", "time", "steps", "t_max", "t_lo", "t_hi")) or n == "T":
        return "steps"
    if any(
        t in n for t in ("rho", "radius", "step", "offset", "_x", "_y", "path", "cycle", "along", "across")
    ) or n in ("x", "y", "s"):
        return "weight units"
    return "1"


def with_units(ds: xr.Dataset) -> xr.Dataset:
    """Fill in long names and units on every variable and coordinate that has none (units from the name)."""
    for name in list(ds.data_vars) + list(ds.coords):
        a = ds[name].attrs
        a.setdefault("long_name", str(name).replace("_", " "))
        a.setdefault("units", _guess_units(str(name)))
    return ds
