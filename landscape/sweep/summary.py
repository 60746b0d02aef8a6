"""Summaries of a sweep Dataset: outcomes counted apart (recovered / censored / diverged), Wilson intervals.

Over the starts (and seeds) of each cell, among the runs whose PTQ point left the basin
(``ptq_exit``): the counts of :func:`landscape.simulate.outcomes.outcomes`, the recovery probability
with its Wilson interval (:func:`~landscape.simulate.outcomes.wilson_interval`, always inside [0, 1]),
and the median and 90% quantile of T over the recovered runs.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from landscape._errors import LandscapeError
from landscape.simulate.outcomes import OUTCOME_CODES, outcomes, wilson_interval

__all__ = ["summarize"]


def summarize(
    ds: xr.Dataset, over=("seed", "start"), *, failed: str | None = "ptq_exit", confidence: float = 0.95
) -> xr.Dataset:
    """Per cell (the dims not in ``over``): n, recovered, censored, diverged, p_recovered [p_lo, p_hi], T.

    ``failed`` names the boolean variable selecting the runs counted (default: the PTQ failures);
    ``failed=None`` counts every run.
    """
    over = [d for d in over if d in ds.dims]
    if not over:
        raise LandscapeError(
            f"summarize reduces over {list(over)}, none of which is a dimension of the Dataset."
        )
    for v in ("hit_time", "diverge_time"):
        if v not in ds:
            raise LandscapeError(
                f"summarize needs the variable {v!r} (a sweep Dataset); got {list(ds.data_vars)}."
            )
    keep = [v for v in ("hit_time", "diverge_time", "ptq_exit", failed) if v is not None and v in ds]
    ds = ds[keep].load().assign_attrs(ds.attrs)  # a lazily opened store: what is counted, loaded
    code = xr.apply_ufunc(outcomes, ds["hit_time"], ds["diverge_time"])
    mask = ds[failed].astype(bool) if failed is not None else xr.ones_like(code, dtype=bool)
    n = mask.sum(over)
    counts = {name: (mask & (code == c)).sum(over) for name, c in OUTCOME_CODES.items()}
    lo, hi = wilson_interval(counts["recovered"].values, n.values, confidence)
    t = ds["hit_time"].where(mask & (code == 0))
    out = xr.Dataset(
        {
            "n": (
                n.dims,
                n.values,
                {"long_name": "runs counted (PTQ point outside the basin)", "units": "1"},
            ),
            **{k: (v.dims, v.values, {"long_name": f"{k} runs", "units": "1"}) for k, v in counts.items()},
        },
        coords={c: ds[c] for c in n.coords},
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = n.values.astype(float)
        p = np.where(nn > 0, counts["recovered"].values / np.where(nn > 0, nn, 1), np.nan)
        out["p_recovered"] = (n.dims, p, {"long_name": "P(recovered | counted)", "units": "1"})
        out["p_lo"] = (n.dims, lo, {"long_name": f"Wilson {confidence:.0%} interval, low", "units": "1"})
        out["p_hi"] = (n.dims, hi, {"long_name": f"Wilson {confidence:.0%} interval, high", "units": "1"})
        for k in ("censored", "diverged"):
            out[f"p_{k}"] = (
                n.dims,
                np.where(nn > 0, counts[k].values / np.where(nn > 0, nn, 1), np.nan),
                {"long_name": f"P({k} | counted)", "units": "1"},
            )
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell without a recovered run: NaN, not 0
        out["median_T"] = t.median(over).assign_attrs(long_name="median T over recovered runs", units="steps")
        out["q90_T"] = (
            t.quantile(0.9, over)
            .drop_vars("quantile")
            .assign_attrs(long_name="90% quantile of T over recovered runs", units="steps")
        )
    if "ptq_exit" in ds:
        out["ptq_exit_fraction"] = (
            ds["ptq_exit"]
            .astype(float)
            .mean(over)
            .assign_attrs(long_name="PTQ exit fraction P(rho(q0) > r_b)", units="1")
        )
    out.attrs.update({k: v for k, v in ds.attrs.items() if k != "manifest"})
    out.attrs["counted"] = failed or "all runs"
    return out
