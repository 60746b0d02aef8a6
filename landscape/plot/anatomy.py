"""Contours of a 2-D mesh dataset with river, basin edge and grid, and the point styles of the PTQ figures.

Figure 1 itself is :func:`landscape.plot.anatomy_figure`. :func:`draw_landscape_2d` draws an
``xarray.Dataset`` made by ``landscape.studies.figures_data.anatomy_dataset`` or ``mesh_2d`` (or any
dataset with the same variables); it serves the river-blindness panels of figure 3:

* coords ``x``, ``y`` (the mesh) and ``s`` (river samples);
* ``loss (y, x)`` = :math:`L(w)`, ``rho (y, x)`` = :math:`\\rho(w)`;
* ``river_x (s)``, ``river_y (s)``: the river :math:`\\{\\rho = 0\\}`;
* ``point_x``, ``point_y``, ``point_rho``, ``point_loss`` over ``point``
  (``trained``, ``rtn``, ``oracle``);
* ``loss_surface (across, along)``: :math:`L(w^\\star + a u + b n)`, the 3-D panel;
* attrs ``step``, ``offset``, ``basin_radius``, ``theta``, ``kappa``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from landscape.plot.style import COLORS

__all__ = ["draw_landscape_2d", "POINT_STYLE"]

POINT_STYLE = {
    "trained": dict(marker="*", s=80, color=COLORS["trained"], label=r"trained $w^\star$"),
    "rtn": dict(marker="s", s=30, color=COLORS["rtn"], label=r"RTN $Q(w^\star)$"),
    "oracle": dict(marker="D", s=28, color=COLORS["oracle"], label="oracle (best corner)"),
    "gptq": dict(marker="^", s=34, color=COLORS["gptq"], label="GPTQ"),
    "adaround": dict(marker="v", s=34, color=COLORS["adaround"], label="AdaRound"),
}


def _loss_levels(loss):
    """Contour levels: quadratic spacing so the flat floor and the steep wall both show."""
    hi = float(np.nanpercentile(loss, 98))
    lo = float(np.nanmin(loss))
    return lo + (hi - lo) * np.linspace(0.0, 1.0, 14) ** 2


def draw_landscape_2d(ax, ds, *, grid=True, colorbar=True, fig=None, levels=None):
    """Filled loss contours, the river, the basin boundary rho = r_b and the grid on ``ax``.

    ``levels`` fixes the contour levels (to compare two landscapes on one scale).
    """
    x, y = ds["x"].values, ds["y"].values
    loss = ds["loss"].values
    levels = _loss_levels(loss) if levels is None else levels
    cs = ax.contourf(x, y, loss, levels=levels, cmap="Greys", extend="max", alpha=0.85)
    ax.contour(
        x,
        y,
        ds["rho"].values,
        levels=[float(ds.attrs["basin_radius"])],
        colors=[COLORS["basin"]],
        linewidths=1.2,
        linestyles="--",
    )
    ax.plot(ds["river_x"].values, ds["river_y"].values, color=COLORS["river"], lw=1.4)
    if grid:
        step, off = float(ds.attrs["step"]), float(ds.attrs["offset"])
        gx = off + step * np.arange(np.ceil((x.min() - off) / step), np.floor((x.max() - off) / step) + 1)
        gy = off + step * np.arange(np.ceil((y.min() - off) / step), np.floor((y.max() - off) / step) + 1)
        gg = np.array(np.meshgrid(gx, gy)).reshape(2, -1)
        ax.scatter(gg[0], gg[1], s=6, color=COLORS["grid"], marker="o", linewidths=0, zorder=3)
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.set_aspect("equal")
    ax.set_xlabel(r"weight $w_1$")
    ax.set_ylabel(r"weight $w_2$")
    if colorbar and fig is not None:
        cb = fig.colorbar(cs, ax=ax, shrink=0.85, pad=0.02)
        cb.set_label(r"loss $L(w)$")
        ticks = MaxNLocator(5).tick_values(levels[0], levels[-1])
        cb.set_ticks(ticks[(ticks >= levels[0]) & (ticks <= levels[-1] * 0.92)])
        cb.ax.tick_params(labelsize=7)
    return cs
