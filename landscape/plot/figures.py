r"""The paper's figures that ``landscape reproduce`` draws with this package's Axes functions.

* :func:`anatomy_figure` -- figure 1: contours, river, basin edge, grid, w*, RTN and oracle (any view
  with ``point_*`` variables), and the 3-D valley;
* :func:`rtn_exit_figure` -- figure 2: the RTN exit fraction, simulation with Wilson 95% intervals
  (never outside [0, 1]) over the closed forms;
* :func:`run_figure` (from :mod:`landscape.plot.run`) -- figures 4 and 8.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscape.plot.contours import POINT_STYLE, contours, legend_handles, points
from landscape.plot.labels import compare
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, paper_style

__all__ = ["anatomy_figure", "rtn_exit_figure", "exit_panel", "valley_surface"]

_SERIES = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange")]
_MARKERS = ["o", "s", "^", "D", "v"]


def valley_surface(ds, *, ax):
    """The 3-D loss surface L(w* + a u + b n) over (along, across) with the river and the basin edges."""
    aa, bb = np.meshgrid(ds["along"].values, ds["across"].values)
    z = ds["loss_surface"].values
    ax.plot_surface(
        aa, bb, z, cmap="viridis", rstride=2, cstride=2, linewidth=0, antialiased=True, alpha=0.95
    )
    a = ds["along"].values
    z0 = float(np.min(z))
    ax.plot(a, np.zeros_like(a), np.full_like(a, z0), color=COLORS["river"], lw=1.8, zorder=10)
    rb = float(ds.attrs["basin_radius"])
    for sign in (-1, 1):
        ax.plot(
            a,
            np.full_like(a, sign * rb),
            np.full_like(a, z0),
            color=COLORS["basin"],
            lw=1.0,
            ls="--",
            zorder=10,
        )
    ax.set_xlabel(r"along river $s - s^\star$", labelpad=-4)
    ax.set_ylabel(r"normal offset $v$", labelpad=-4)
    ax.set_zlabel(r"loss $L$", labelpad=-5)
    ax.tick_params(pad=-2, labelsize=6.5)
    ax.view_init(elev=28, azim=-55)
    return ax


def anatomy_figure(ds):
    """Figure 1: (a) contours with river, basin edge, grid, w*, RTN, oracle; (b) the 3-D valley."""
    rb = float(ds.attrs["basin_radius"])
    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 3.3))
        gs = fig.add_gridspec(1, 2, width_ratios=[1.05, 1.0])
        ax = fig.add_subplot(gs[0])
        contours(ds, ax=ax, colorbar=True)
        step = float(ds.attrs.get("step", 0.0))
        rx, ry = float(ds["point_x"].sel(point="rtn")), float(ds["point_y"].sel(point="rtn"))
        if step:
            ax.add_patch(
                plt.Rectangle(
                    (rx - step / 2, ry - step / 2),
                    step,
                    step,
                    fill=False,
                    ec=COLORS["rtn"],
                    lw=0.8,
                    ls=":",
                    zorder=2,
                )
            )
        styles = {}
        for p in ds["point"].values:
            p = str(p)
            st = dict(POINT_STYLE[p])
            if p != "trained":
                r = float(ds["point_rho"].sel(point=p))
                st["label"] = rf"{st['label']}: $\rho = {r:.2f}$ {compare(r, rb)} $r_b$"
            styles[p] = st
        points(ds, ax=ax, styles=styles, arrows_from="trained")
        handles = legend_handles(ds) + [
            plt.Line2D([], [], color=COLORS["rtn"], lw=0.8, ls=":", label=r"rounding cell of $w^\star$")
        ]
        handles += [
            plt.Line2D(
                [],
                [],
                ls="",
                marker=styles[p]["marker"],
                color=styles[p]["color"],
                ms=np.sqrt(styles[p]["s"]),
                label=styles[p]["label"],
            )
            for p in styles
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=4, columnspacing=1.2)
        theta = ds.attrs.get("theta")
        th = rf", $\theta = {float(theta):.2f}$ rad" if theta is not None else ""
        ax.set_title(rf"(a) Loss contours, $\Delta = {step:g}$, $r_b = {rb:g}${th}", loc="left")
        ax3 = fig.add_subplot(gs[1], projection="3d")
        valley_surface(ds, ax=ax3)
        ax3.set_title("(b) The valley: flat basin floor, steep walls", loc="left")
        fig.suptitle("Anatomy of a river-valley landscape and its quantization grid", fontsize=9)
    return fig


def exit_panel(ax, x, xf, curves, k_exit, n, labels, *, z_label="Wilson 95%"):
    """One panel of figure 2: a closed-form curve per series, simulated fractions with Wilson intervals."""
    from landscape.simulate.outcomes import wilson_interval  # noqa: PLC0415

    for i, label in enumerate(labels):
        c = _SERIES[i % len(_SERIES)]
        ax.plot(xf, curves[i], color=c, lw=1.1)
        p = k_exit[i] / n
        lo, hi = wilson_interval(k_exit[i], n)
        ax.errorbar(
            x,
            p,
            yerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)],
            fmt=_MARKERS[i % 5],
            color=c,
            ms=3.5,
            capsize=1.5,
            elinewidth=0.8,
            mfc="white",
            mew=0.9,
            label=label,
        )
    ax.set_xlabel(r"grid step / basin radius, $\Delta / r_b$")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(float(np.min(x)) - 0.1, float(np.max(x)) + 0.1)
    ax.grid(alpha=0.25, lw=0.5)
    return ax


def rtn_exit_figure(ds):
    """Figure 2: RTN exit probability vs step / r_b, simulation (Wilson intervals) over the closed forms."""
    x = ds["ratio"].values
    n = int(ds.attrs["n_points"])
    k2 = np.rint(ds["sim_exit_2d"].values * n)
    kh = np.rint(ds["sim_exit_hd"].values * n)
    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 3.1), sharey=True)
        xf = ds["ratio_fine"].values
        exit_panel(
            axes[0],
            x,
            xf,
            ds["closed_form_2d_curve"].values,
            k2,
            n,
            [rf"$\theta = {th:.2f}$ rad" for th in ds["theta"].values],
        )
        axes[0].set_title(r"(a) $d = 2$, $k = 1$: simulation vs exact law", loc="left")
        axes[0].set_ylabel(r"RTN exit fraction $P(\rho(Q(w^\star)) > r_b)$")
        axes[0].legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=3,
            title="markers: simulation, Wilson 95% interval; lines: exact law",
            title_fontsize=7,
        )
        dks = [
            rf"$d = {int(d)}$, $k = {int(k)}$" for d, k in zip(ds["d"].values, ds["k"].values, strict=True)
        ]
        exit_panel(axes[1], x, xf, ds["gaussian_limit_hd_curve"].values, kh, n, dks)
        axes[1].set_title(r"(b) High dimension: simulation vs Gaussian limit", loc="left")
        axes[1].legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=min(4, ds.sizes["dk"]),
            title="markers: simulation, Wilson 95%; lines: $P(\\chi^2_k > 12 r_b^2/\\Delta^2)$",
            title_fontsize=7,
        )
        fig.suptitle(
            f"RTN exit fraction against grid step / basin radius ({n} trained points per marker)", fontsize=9
        )
    return fig
