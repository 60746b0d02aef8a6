r"""Axes-level drawings of a landscape: loss contours, river, basin edge, grid, and marked points.

>>> import landscape as ls, landscape.plot as lp
>>> land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
>>> ax = lp.contours(land, quantizer=ls.uniform_grid(1.0))            # doctest: +SKIP
>>> lp.ptq_points(land, ls.uniform_grid(1.0), w_star, ax=ax)          # doctest: +SKIP

Each function takes ``ax=None`` (then a new figure), returns the Axes, and passes extra keyword
arguments to the matplotlib call that draws the main artist.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from landscape.plot.style import COLORS, axes_or_new
from landscape.plot.views import is_view, landscape_view, points_view

__all__ = ["contours", "points", "ptq_points", "loss_levels", "POINT_STYLE", "legend_handles"]

POINT_STYLE = {
    "trained": dict(marker="*", s=80, color=COLORS["trained"], label=r"trained $w^\star$"),
    "start": dict(marker="*", s=70, color=COLORS["trained"], label=r"start $w_0$"),
    "rtn": dict(marker="s", s=30, color=COLORS["rtn"], label=r"RTN $Q(w^\star)$"),
    "oracle": dict(marker="D", s=28, color=COLORS["oracle"], label="oracle (best corner)"),
    "gptq": dict(marker="^", s=34, color=COLORS["gptq"], label="GPTQ"),
    "obq": dict(marker="o", s=30, color=COLORS["obq"], label="OBQ"),
    "adaround": dict(marker="v", s=34, color=COLORS["adaround"], label="AdaRound"),
    "stochastic": dict(marker="x", s=30, color=COLORS["stochastic_rounding"], label="stochastic rounding"),
}


def loss_levels(loss, n: int = 14):
    """Contour levels with quadratic spacing, so that the flat floor and the steep wall both show."""
    loss = np.asarray(loss, float)
    hi = float(np.nanpercentile(loss, 98))
    lo = float(np.nanmin(loss))
    if not hi > lo:
        hi = lo + 1.0
    return lo + (hi - lo) * np.linspace(0.0, 1.0, n) ** 2


def contours(
    landscape,
    quantizer=None,
    *,
    ax=None,
    frame=None,
    center=None,
    half_width=None,
    w_ref=None,
    n: int = 121,
    levels=None,
    grid: bool = True,
    river: bool = True,
    basin: bool = True,
    colorbar: bool = False,
    cmap: str = "Greys",
    **kwargs,
):
    """Filled contours of L with the river, the basin edge rho = r_b and the grid, on ``ax``.

    ``landscape`` is a landscape (any d: the frame is the weights for d = 2, the river frame beyond;
    see :mod:`landscape.plot.frame`) or a view Dataset from :func:`landscape.plot.landscape_view` /
    :func:`landscape.plot.run_view`. ``levels`` fixes the contour levels (to compare two landscapes).
    """
    ax = axes_or_new(ax)
    ds = (
        landscape
        if is_view(landscape)
        else landscape_view(
            landscape, quantizer, frame=frame, center=center, half_width=half_width, w_ref=w_ref, n=n
        )
    )
    x, y, loss = ds["x"].values, ds["y"].values, ds["loss"].values
    levels = loss_levels(loss) if levels is None else levels
    kw = dict(levels=levels, cmap=cmap, extend="max", alpha=0.85) | kwargs
    cs = ax.contourf(x, y, loss, **kw)
    if basin and _has_basin_edge(ds):
        rb, rho = float(ds.attrs["basin_radius"]), ds["rho"].values
        ax.contour(x, y, rho, levels=[rb], colors=[COLORS["basin"]], linewidths=1.2, linestyles="--")
    if river and _has_river(ds):
        rx, ry = ds["river_x"].values, ds["river_y"].values
        if rx.size == 1:
            ax.scatter(rx, ry, marker="+", s=60, color=COLORS["river"], zorder=3)
        else:
            ax.plot(rx, ry, color=COLORS["river"], lw=1.4)
    if grid and _has_grid(ds):
        ax.scatter(
            ds["grid_x"].values,
            ds["grid_y"].values,
            s=6,
            color=COLORS["grid"],
            marker="o",
            linewidths=0,
            zorder=3,
        )
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    if ds.attrs.get("frame") in ("weights", "normal"):
        ax.set_aspect("equal")
    ax.set_xlabel(ds.attrs.get("xlabel", "x"))
    ax.set_ylabel(ds.attrs.get("ylabel", "y"))
    if colorbar:
        cb = ax.figure.colorbar(cs, ax=ax, shrink=0.85, pad=0.02)
        cb.set_label(r"loss $L(w)$")
        ticks = MaxNLocator(5).tick_values(levels[0], levels[-1])
        cb.set_ticks(ticks[(ticks >= levels[0]) & (ticks <= levels[-1] * 0.92)])
        cb.ax.tick_params(labelsize=7)
    ax._landscape_contours = cs  # noqa: SLF001 - for colorbars drawn later by figure helpers
    return ax


def _has_river(ds) -> bool:
    return "river_x" in ds and ds["river_x"].size > 0


def _has_grid(ds) -> bool:
    return "grid_x" in ds and ds["grid_x"].size > 0


def _has_basin_edge(ds) -> bool:
    rb = float(ds.attrs.get("basin_radius", np.nan))
    if "rho" not in ds or not np.isfinite(rb):
        return False
    return bool(np.nanmin(ds["rho"].values) <= rb <= np.nanmax(ds["rho"].values))


def legend_handles(ds=None, *, grid: bool = True) -> list:
    """Legend entries for what :func:`contours` drew from ``ds``: the river, the basin edge, the grid."""
    out = []
    if ds is None or _has_river(ds):
        out.append(Line2D([], [], color=COLORS["river"], lw=1.4, label=r"river $\rho = 0$"))
    if ds is None or _has_basin_edge(ds):
        out.append(Line2D([], [], color=COLORS["basin"], lw=1.2, ls="--", label=r"basin edge $\rho = r_b$"))
    if grid and (ds is None or _has_grid(ds)):
        out.append(Line2D([], [], color=COLORS["grid"], marker="o", ls="", ms=2.5, label="grid points"))
    return out


def points(
    view_or_landscape, pts=None, *, ax=None, frame=None, w_ref=None, styles=None, arrows_from=None, **kwargs
):
    """Mark named points (``{"trained": w, "rtn": q}``, or a :func:`points_view`) on ``ax``.

    Styles come from :data:`POINT_STYLE` by name; ``arrows_from`` names a point from which arrows are
    drawn to the others (e.g. ``"trained"``).
    """
    ax = axes_or_new(ax)
    ds = (
        view_or_landscape
        if is_view(view_or_landscape)
        else points_view(view_or_landscape, pts, frame=frame, w_ref=w_ref)
    )
    styles = {**POINT_STYLE, **(styles or {})}
    names = [str(p) for p in ds["point"].values]
    xy = {p: (float(ds["point_x"].sel(point=p)), float(ds["point_y"].sel(point=p))) for p in names}
    for p in names:
        st = dict(styles.get(p, dict(marker="o", s=25, color=COLORS["theory"], label=p))) | kwargs
        ax.scatter(*xy[p], zorder=5, edgecolors="white", linewidths=0.5, **st)
        if arrows_from is not None and p != arrows_from and arrows_from in xy:
            ax.annotate(
                "",
                xy=xy[p],
                xytext=xy[arrows_from],
                zorder=4,
                arrowprops=dict(arrowstyle="->", color=st["color"], lw=0.9, shrinkA=4, shrinkB=4),
            )
    return ax


def ptq_points(landscape, quantizer, w_star, methods=("rtn",), *, ax=None, frame=None, key=None, **kwargs):
    """Mark w* and the point each PTQ method (``landscape.ptq.ptq_methods`` or "oracle") maps it to.

    Each label states the point's rho against r_b, computed (e.g. "RTN, rho = 0.52 > r_b").
    """
    import jax  # noqa: PLC0415

    from landscape.plot.labels import compare  # noqa: PLC0415
    from landscape.ptq import oracle, ptq_methods  # noqa: PLC0415

    key = jax.random.PRNGKey(0) if key is None else key
    w_star = np.asarray(w_star, np.float64).reshape(-1)
    pts = {"trained": w_star}
    for m in methods:
        if m == "oracle":
            pts[m] = np.asarray(oracle(landscape, quantizer, w_star).q)
        else:
            pts[m] = np.asarray(ptq_methods[m](landscape, quantizer, w_star, key=key))
    ds = points_view(landscape, pts, frame=frame, w_ref=w_star)
    rb = float(np.asarray(landscape.basin_radius))
    styles = {}
    for m in pts:
        base = dict(POINT_STYLE.get(m, dict(marker="o", s=25, color=COLORS["theory"], label=m)))
        if m != "trained":
            r = float(ds["point_rho"].sel(point=m))
            base["label"] = rf"{base['label']}, $\rho = {r:.2f}$ {compare(r, rb)} $r_b$"
        styles[m] = base
    return points(ds, ax=ax, styles=styles, arrows_from="trained", **kwargs)
