"""Figures 4 and 8: one QAT trajectory on the contours, and rho / deployed loss over steps.

:func:`plot_trajectory` draws a dataset made by
``landscape.reproduce.studies.trajectory_dataset``: the mesh (``loss``, ``rho``, river),
the paths ``w_path (t, xy)`` (latent) and ``q_path (t, xy)`` (deployed), the series
``rho_w``, ``rho_q``, ``loss_q`` over ``t``, the points of the final cycle
``cycle_points``, and attrs ``hit_time`` (T, -1 if never), ``basin_radius``,
``switches``, ``max_flip_size``, ``delta_perp``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from landscape.plots.anatomy import draw_landscape_2d
from landscape.plots.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, paper_style

__all__ = ["plot_trajectory"]


def plot_trajectory(ds, *, title: str | None = None, max_steps_shown: int | None = None):
    """(a) latent and deployed paths on the contours; (b) rho(w_t), rho(Q(w_t)); (c) L(Q(w_t)).

    T (the first step with Q(w_t) in the basin) is marked when it exists; otherwise the
    points of the final cycle are circled (chattering). ``title=None`` writes a
    caption-ready title from T and the largest flip size; ``title=""`` writes none.
    """
    T = int(ds.attrs["hit_time"])
    rb = float(ds.attrs["basin_radius"])
    t = ds["t"].values
    n_show = len(t) if max_steps_shown is None else min(len(t), max_steps_shown)
    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 3.1))
        gs = fig.add_gridspec(2, 2, width_ratios=[1.0, 1.25])
        ax = fig.add_subplot(gs[:, 0])
        draw_landscape_2d(ax, ds, fig=None, colorbar=False)
        w, q = ds["w_path"].values, ds["q_path"].values
        ax.plot(w[:, 0], w[:, 1], color=COLORS["latent"], lw=0.9, marker="o", ms=2.0, zorder=4)
        ax.plot(q[:, 0], q[:, 1], color=COLORS["quantized"], lw=0.7, ls="-", alpha=0.8, zorder=5)
        ax.scatter(
            q[:, 0],
            q[:, 1],
            s=22,
            marker="s",
            color=COLORS["quantized"],
            zorder=6,
            edgecolors="white",
            linewidths=0.4,
        )
        ax.scatter(
            w[0, 0],
            w[0, 1],
            s=70,
            marker="*",
            color=COLORS["trained"],
            zorder=7,
            edgecolors="white",
            linewidths=0.4,
        )
        if T >= 0 and T < len(t):
            ax.scatter(
                q[T, 0], q[T, 1], s=70, facecolors="none", edgecolors=COLORS["oracle"], lw=1.4, zorder=8
            )
        elif T < 0:
            cyc = ds["cycle_points"].values
            ax.scatter(
                cyc[:, 0],
                cyc[:, 1],
                s=90,
                facecolors="none",
                edgecolors=OKABE_ITO["purple"],
                lw=1.4,
                zorder=8,
            )
        ax.set_title("(a) Paths on the loss contours", loc="left")
        handles = [
            Line2D([], [], color=COLORS["river"], lw=1.4, label=r"river"),
            Line2D([], [], color=COLORS["basin"], lw=1.2, ls="--", label=r"basin edge $\rho = r_b$"),
            Line2D([], [], color=COLORS["trained"], marker="*", ls="", ms=7, label=r"start $w_0$"),
            Line2D(
                [], [], color=COLORS["latent"], marker="o", ms=2.5, lw=0.9, label=r"latent $w_t$, $\rho(w_t)$"
            ),
            Line2D(
                [],
                [],
                color=COLORS["quantized"],
                marker="s",
                ms=4,
                lw=0.7,
                label=r"deployed $Q(w_t)$, $\rho(Q(w_t))$",
            ),
        ]
        if "oracle_x" in ds.attrs and bool(ds.attrs.get("oracle_in_basin", False)):
            ax.scatter(
                ds.attrs["oracle_x"],
                ds.attrs["oracle_y"],
                s=30,
                marker="D",
                color=COLORS["oracle"],
                zorder=6,
                edgecolors="white",
                linewidths=0.5,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=COLORS["oracle"],
                    marker="D",
                    ls="",
                    ms=4.5,
                    label="in-basin corner of the start's cell",
                )
            )
        if T >= 0:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    mfc="none",
                    mec=COLORS["oracle"],
                    ms=7,
                    mew=1.4,
                    label=r"$Q(w_T)$, first in basin",
                )
            )
        else:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    mfc="none",
                    mec=OKABE_ITO["purple"],
                    ms=7,
                    mew=1.4,
                    label="final cycle",
                )
            )

        ax_r = fig.add_subplot(gs[0, 1])
        sl = slice(0, n_show)
        ax_r.plot(t[sl], ds["rho_w"].values[sl], color=COLORS["latent"], label=r"$\rho(w_t)$")
        ax_r.plot(
            t[sl],
            ds["rho_q"].values[sl],
            color=COLORS["quantized"],
            drawstyle="steps-post",
            label=r"$\rho(Q(w_t))$",
            lw=1.0,
        )
        ax_r.axhline(rb, color=COLORS["basin"], ls="--", lw=1.0, label=r"$r_b$")
        ax_r.set_ylabel(r"normal distance $\rho$")
        ax_r.set_title(r"(b) Distance to the river", loc="left")
        ax_r.tick_params(labelbottom=False)
        ax_l = fig.add_subplot(gs[1, 1], sharex=ax_r)
        ax_l.plot(t[sl], ds["loss_q"].values[sl], color=COLORS["quantized"], drawstyle="steps-post")
        ax_l.set_ylabel(r"deployed loss $L(Q(w_t))$")
        ax_l.set_xlabel(r"QAT step $t$")
        ax_l.set_ylim(0, 1.3 * max(float(np.max(ds["loss_q"].values[sl])), 1e-12))
        ax_l.set_title(r"(c) Deployed loss", loc="left")
        for a in (ax_r, ax_l):
            if 0 <= T <= t[sl][-1]:
                a.axvline(T, color=COLORS["oracle"], lw=1.0, ls=":")
            a.set_xlim(t[0], t[sl][-1])
        if 0 <= T <= t[sl][-1]:
            ax_r.annotate(
                rf"$T = {T}$",
                xy=(T, 0.5 * rb),
                xytext=(5, 0),
                textcoords="offset points",
                color=COLORS["oracle"],
                fontsize=8,
                va="center",
            )
        elif T < 0:
            ax_r.text(
                0.99,
                0.97,
                f"never in the basin in {int(ds.attrs['num_steps'])} steps; "
                f"{int(ds.attrs['switches'])} cell switches",
                transform=ax_r.transAxes,
                ha="right",
                va="top",
                fontsize=7.5,
                color=OKABE_ITO["purple"],
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=1.0),
            )
        ax_r.set_ylim(0, (1.25 if T >= 0 else 1.6) * max(float(np.max(ds["rho_q"].values[sl])), rb))
        fig.legend(handles=handles, loc="outside lower center", ncol=4, columnspacing=1.0)
        if title is None:
            fr = float(ds.attrs["max_flip_size"]) / rb
            title = (
                rf"STE re-enters the basin at $T = {T}$ (largest flip $f_{{\max}} = {fr:.2f}\,r_b < 2 r_b$)"
                if T >= 0
                else rf"STE chatters outside the basin (largest flip $f_{{\max}} = {fr:.2f}\,r_b > 2 r_b$)"
            )
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
