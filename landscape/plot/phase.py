r"""A phase diagram from a sweep: recovery probability (or median T) over two swept axes.

>>> ds = landscape.sweep(..., learning_rate=[0.01, 0.05, 0.2], step=[0.2, 0.4, 0.8])  # doctest: +SKIP
>>> landscape.plot.phase_diagram(ds, x="step", y="learning_rate")                     # doctest: +SKIP

The Dataset is summarised with :func:`landscape.sweep.summarize` (recovered / censored / diverged
counted apart among the starts whose PTQ point left the basin, Wilson intervals); a cell without a PTQ
failure is drawn open (nothing to recover), never as 0 or 1.
"""

from __future__ import annotations

import numpy as np
from matplotlib import patheffects
from matplotlib.colors import LogNorm, Normalize

from landscape._errors import LandscapeError
from landscape.plot.labels import math_label
from landscape.plot.style import OKABE_ITO, axes_or_new

__all__ = ["phase_diagram", "VALUE_LABELS"]

VALUE_LABELS = {
    "p_recovered": r"$P$(recovered | PTQ failed)",
    "p_diverged": r"$P$(diverged | PTQ failed)",
    "p_censored": r"$P$(never in the basin | PTQ failed)",
    "median_T": r"median $T$ over recovered runs (steps)",
    "ptq_exit_fraction": r"PTQ exit fraction $P(\rho(q_0) > r_b)$",
}


def _axis_label(ds, name: str) -> str:
    c = ds[name]
    long = math_label(c.attrs.get("long_name", name))
    units = math_label(c.attrs.get("units", ""))
    return f"{long} ({units})" if units and units not in ("1", "") else long


def _edges(v: np.ndarray, log: bool) -> np.ndarray:
    v = np.asarray(v, float)
    if v.size == 1:
        return np.array([v[0] * 0.8, v[0] * 1.25]) if log else np.array([v[0] - 0.5, v[0] + 0.5])
    t = np.log(v) if log else v
    mid = 0.5 * (t[1:] + t[:-1])
    e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


def _is_log(v) -> bool:
    v = np.asarray(v, float)
    if v.size < 3 or np.any(v <= 0):
        return False
    r = v[1:] / v[:-1]
    return bool(np.allclose(r, r[0], rtol=1e-3) and not np.allclose(np.diff(v), np.diff(v)[0], rtol=1e-3))


def phase_diagram(
    ds,
    x: str,
    y: str,
    *,
    value: str = "p_recovered",
    ax=None,
    colorbar: bool = True,
    annotate: bool | None = None,
    cmap=None,
    xlog=None,
    ylog=None,
    **kwargs,
):
    """Draw ``value`` (default the recovery probability) over the swept axes ``x`` and ``y`` on ``ax``.

    ``ds`` is a sweep Dataset (raw, with ``seed``/``start`` dims, or already summarised). Every other
    swept dimension must be selected first (``ds.sel(rule="ste")``). Log axes are chosen when the values
    are a geometric progression (override with ``xlog``/``ylog``); ``annotate`` writes the value and the
    number of PTQ failures in each cell (default: when the grid has at most 64 cells).
    """
    from landscape.sweep.summary import summarize  # noqa: PLC0415

    ax = axes_or_new(ax)
    s = summarize(ds) if ("start" in ds.dims or "seed" in ds.dims) else ds
    for name in (x, y):
        if name not in s.dims:
            raise LandscapeError(
                f"{name!r} is not a swept dimension of the sweep; its dimensions are {list(s.dims)}."
            )
    rest = [d for d in s.dims if d not in (x, y)]
    if rest:
        raise LandscapeError(
            f"the phase diagram draws two dimensions ({x}, {y}); select the others first, e.g. "
            f"ds.sel({rest[0]}=...) (remaining: {rest})."
        )
    if value not in s:
        raise LandscapeError(f"value must be one of {sorted(v for v in s.data_vars)}; got {value!r}.")
    v = s[value].transpose(y, x).values.astype(float)
    n_fail = s["n"].transpose(y, x).values if "n" in s else np.ones_like(v)
    xv, yv = s[x].values.astype(float), s[y].values.astype(float)
    xlog = _is_log(xv) if xlog is None else xlog
    ylog = _is_log(yv) if ylog is None else ylog
    prob = value.startswith("p_") or value.endswith("fraction")
    if prob:
        norm, cmap = Normalize(0, 1), cmap or "viridis"
    else:
        fin = v[np.isfinite(v)]
        lo = max(float(fin.min()), 0.5) if fin.size else 1.0
        norm, cmap = LogNorm(lo, max(float(fin.max()) if fin.size else 10.0, 2 * lo)), cmap or "magma_r"
    masked = np.ma.masked_invalid(np.where(n_fail > 0, v, np.nan))
    mesh = ax.pcolormesh(_edges(xv, xlog), _edges(yv, ylog), masked, cmap=cmap, norm=norm, **kwargs)
    empty = ~np.isfinite(np.where(n_fail > 0, v, np.nan))
    if empty.any():
        gx, gy = np.meshgrid(xv, yv)
        ax.scatter(
            gx[empty],
            gy[empty],
            marker="s",
            s=40,
            facecolors="none",
            edgecolors=OKABE_ITO["grey"],
            lw=0.6,
            label="no PTQ failure" if (n_fail[empty] == 0).any() else "no value",
        )
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    annotate = v.size <= 64 if annotate is None else annotate
    if annotate:
        for i, yy in enumerate(yv):
            for j, xx in enumerate(xv):
                if n_fail[i, j] > 0 and np.isfinite(v[i, j]):
                    txt = f"{v[i, j]:.2f}" if prob else f"{v[i, j]:.0f}"
                    r, g, b, _ = mesh.cmap(norm(v[i, j]))  # the cell's own colour decides the ink
                    dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
                    ax.text(
                        xx,
                        yy,
                        f"{txt}\nn={int(n_fail[i, j])}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if dark else "black",
                        path_effects=[
                            patheffects.withStroke(linewidth=1.2, foreground="black" if dark else "white")
                        ],
                    )
    ax.set_xlabel(_axis_label(s, x))
    ax.set_ylabel(_axis_label(s, y))
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax, pad=0.02, shrink=0.9)
        cb.set_label(VALUE_LABELS.get(value, s[value].attrs.get("long_name", value)))
    return ax
