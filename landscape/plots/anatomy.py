"""Figure 1, the anatomy of a landscape: river, basin, walls, grid, w*, RTN and oracle points.

:func:`plot_anatomy` draws an ``xarray.Dataset`` made by
``landscape.reproduce.studies.anatomy_dataset`` (or any dataset with the same variables):

* coords ``x``, ``y`` (the mesh) and ``s`` (river samples);
* ``loss (y, x)`` = :math:`L(w)`, ``rho (y, x)`` = :math:`\\rho(w)`;
* ``river_x (s)``, ``river_y (s)``: the river :math:`\\{\\rho = 0\\}`;
* ``point_x``, ``point_y``, ``point_rho``, ``point_loss`` over ``point``
  (``trained``, ``rtn``, ``oracle``);
* ``loss_surface (across, along)``: :math:`L(w^\\star + a u + b n)`, the 3-D panel;
* attrs ``step``, ``offset``, ``basin_radius``, ``theta``, ``kappa``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from landscape.plots.style import COLORS, DOUBLE_COLUMN, paper_style

__all__ = ["plot_anatomy", "draw_landscape_2d", "POINT_STYLE"]

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


def _legend_handles():
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], color=COLORS["river"], lw=1.4, label=r"river $\rho = 0$"),
        Line2D([], [], color=COLORS["basin"], lw=1.2, ls="--", label=r"basin edge $\rho = r_b$"),
        Line2D([], [], color=COLORS["grid"], marker="o", ls="", ms=2.5, label=r"grid $\Delta\mathbb{Z}^2$"),
    ]


def plot_anatomy(ds):
    """Figure 1: (a) contours with river, basin edge, grid, w*, RTN and oracle; (b) 3-D surface."""
    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 3.3))
        gs = fig.add_gridspec(1, 2, width_ratios=[1.05, 1.0])
        ax = fig.add_subplot(gs[0])
        draw_landscape_2d(ax, ds, fig=fig)
        # the rounding cell of w*
        step = float(ds.attrs["step"])
        wx, wy = float(ds["point_x"].sel(point="rtn")), float(ds["point_y"].sel(point="rtn"))
        ax.add_patch(
            plt.Rectangle(
                (wx - step / 2, wy - step / 2),
                step,
                step,
                fill=False,
                ec=COLORS["rtn"],
                lw=0.8,
                ls=":",
                zorder=2,
            )
        )
        tx, ty = float(ds["point_x"].sel(point="trained")), float(ds["point_y"].sel(point="trained"))
        handles = _legend_handles() + [
            plt.Line2D([], [], color=COLORS["rtn"], lw=0.8, ls=":", label=r"rounding cell of $w^\star$")
        ]
        for p in ds["point"].values:
            st = dict(POINT_STYLE[str(p)])
            h = ax.scatter(
                float(ds["point_x"].sel(point=p)),
                float(ds["point_y"].sel(point=p)),
                zorder=5,
                edgecolors="white",
                linewidths=0.5,
                **st,
            )
            handles.append(h)
            if str(p) != "trained":
                ax.annotate(
                    "",
                    xy=(float(ds["point_x"].sel(point=p)), float(ds["point_y"].sel(point=p))),
                    xytext=(tx, ty),
                    arrowprops=dict(arrowstyle="->", color=st["color"], lw=0.9, shrinkA=4, shrinkB=4),
                    zorder=4,
                )
        fig.legend(handles=handles, loc="outside lower center", ncol=4, columnspacing=1.2)
        rb = float(ds.attrs["basin_radius"])
        ax.set_title(
            rf"(a) Loss contours, $\Delta = {step:g}$, $r_b = {rb:g}$, "
            rf"$\theta = {float(ds.attrs['theta']):.2f}$ rad",
            loc="left",
        )
        # 3-D surface over (along-river, across-river) coordinates centred at w*
        ax3 = fig.add_subplot(gs[1], projection="3d")
        aa, bb = np.meshgrid(ds["along"].values, ds["across"].values)
        z = ds["loss_surface"].values
        ax3.plot_surface(
            aa, bb, z, cmap="viridis", rstride=2, cstride=2, linewidth=0, antialiased=True, alpha=0.95
        )
        a = ds["along"].values
        ax3.plot(
            a, np.zeros_like(a), np.full_like(a, float(np.min(z))), color=COLORS["river"], lw=1.8, zorder=10
        )
        for sign in (-1, 1):
            ax3.plot(
                a,
                np.full_like(a, sign * rb),
                np.full_like(a, float(np.min(z))),
                color=COLORS["basin"],
                lw=1.0,
                ls="--",
                zorder=10,
            )
        ax3.set_xlabel(r"along river $s - s^\star$", labelpad=-4)
        ax3.set_ylabel(r"normal offset $v$", labelpad=-4)
        ax3.set_zlabel(r"loss $L$", labelpad=-5)
        ax3.tick_params(pad=-2, labelsize=6.5)
        ax3.view_init(elev=28, azim=-55)
        ax3.set_title("(b) The valley: flat basin floor, steep walls", loc="left")
        fig.suptitle("Anatomy of a river-valley landscape and its quantization grid", fontsize=9)
    return fig
