r"""Axes-level drawings of one run (a :class:`~landscape.Trajectory` from ``landscape.run``).

* :func:`path` -- the latent path :math:`w_t` and the deployed path :math:`q_t` in the frame of the
  landscape (needs ``record_path=True``), the start, and :math:`q_T` circled when the run entered the basin;
* :func:`distance` -- :math:`\rho(w_t)` and :math:`\rho(q_t)` against t, r_b, and T, T_settle marked;
* :func:`deployed_loss` -- :math:`L(q_t)` against t with T and T_settle marked;
* :func:`run_figure` -- the three together, titled from the run itself (rule, optimizer, outcome).

Every mark is drawn only if the run shows it: T only if ``hit_time >= 0``, T_settle only if the run
ends in the basin, a divergence mark only if it diverged.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from landscape._errors import LandscapeError
from landscape.plot.contours import contours, legend_handles
from landscape.plot.labels import inequality, outcome_text, run_label
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, axes_or_new, paper_style
from landscape.plot.views import is_view, run_view

__all__ = ["path", "distance", "deployed_loss", "run_figure", "mark_times"]

SETTLE_COLOR = OKABE_ITO["purple"]
DIVERGE_COLOR = OKABE_ITO["black"]


def _view(traj, landscape=None, quantizer=None, rule=None, **kw):
    return traj if is_view(traj) else run_view(traj, landscape, quantizer, rule, **kw)


def path(
    traj,
    landscape=None,
    quantizer=None,
    *,
    ax=None,
    frame=None,
    mesh: bool = True,
    latent: bool = True,
    deployed: bool = True,
    max_steps=None,
    **kwargs,
):
    """Latent and deployed paths on the contours of the landscape (any d, in its frame), on ``ax``.

    ``traj`` is one run recorded with ``record_path=True`` (or a :func:`run_view`). With ``mesh`` the
    contours, river, basin edge and grid are drawn under the paths.
    """
    ax = axes_or_new(ax)
    ds = _view(traj, landscape, quantizer, frame=frame, mesh=mesh)
    if not ds.attrs.get("paths", 0):
        raise LandscapeError(
            "path() needs the recorded paths and the landscape: run with record_path=True "
            "(landscape.run(..., record_path=True)) and pass the landscape."
        )
    if mesh and "loss" in ds and "x" in ds.dims:
        contours(ds, ax=ax)
    n = ds.sizes["tp"] if max_steps is None else min(ds.sizes["tp"], int(max_steps) + 1)
    wx, wy = ds["path_w_x"].values[:n], ds["path_w_y"].values[:n]
    qx, qy = ds["path_q_x"].values[:n], ds["path_q_y"].values[:n]
    if latent:
        ax.plot(wx, wy, color=COLORS["latent"], lw=0.9, marker="o", ms=2.0, zorder=4, **kwargs)
    if deployed:
        ax.plot(qx, qy, color=COLORS["quantized"], lw=0.7, alpha=0.8, zorder=5)
        ax.scatter(
            qx, qy, s=22, marker="s", color=COLORS["quantized"], zorder=6, edgecolors="white", linewidths=0.4
        )
    ax.scatter(
        wx[0], wy[0], s=70, marker="*", color=COLORS["trained"], zorder=7, edgecolors="white", linewidths=0.4
    )
    T = int(ds.attrs["hit_time"])
    tp = ds["tp"].values[:n]
    if T >= 0 and T in tp:
        i = int(np.flatnonzero(tp == T)[0])
        ax.scatter(qx[i], qy[i], s=70, facecolors="none", edgecolors=COLORS["oracle"], lw=1.4, zorder=8)
    return ax


def path_handles(ds) -> list:
    """Legend entries of :func:`path`: river, basin, start, latent, deployed, and q_T if it exists."""
    out = legend_handles(ds, grid=bool(ds.sizes.get("grid", 0)))
    out += [
        Line2D([], [], color=COLORS["trained"], marker="*", ls="", ms=7, label=r"start $w_0$"),
        Line2D(
            [], [], color=COLORS["latent"], marker="o", ms=2.5, lw=0.9, label=r"latent $w_t$, $\rho(w_t)$"
        ),
        Line2D(
            [], [], color=COLORS["quantized"], marker="s", ms=4, lw=0.7, label=r"deployed $q_t$, $\rho(q_t)$"
        ),
    ]
    if int(ds.attrs["hit_time"]) >= 0:
        out.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                mfc="none",
                mec=COLORS["oracle"],
                ms=7,
                mew=1.4,
                label=r"$q_T$, first in the basin",
            )
        )
    return out


def mark_times(ax, ds, *, label: bool = True, t_max=None):
    """Vertical lines at T (first entry), T_settle (last entry) and the divergence step, where they exist."""
    T, S, D = (int(ds.attrs[k]) for k in ("hit_time", "settle_time", "diverge_time"))
    t_max = float(ds["t"].values[-1]) if t_max is None else t_max
    marks = [
        (T, COLORS["oracle"], ":", r"$T = {}$"),
        (S if S != T else -1, SETTLE_COLOR, "-.", r"$T_{{\mathrm{{settle}}}} = {}$"),
        (D, DIVERGE_COLOR, "--", r"diverged, $t = {}$"),
    ]
    for i, (t, col, ls, fmt) in enumerate(marks):
        if 0 <= t <= t_max:
            ax.axvline(t, color=col, lw=1.0, ls=ls)
            if label:
                ax.annotate(
                    fmt.format(t),
                    xy=(t, 1.0 - 0.12 * i),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -2),
                    textcoords="offset points",
                    color=col,
                    fontsize=7.5,
                    va="top",
                )
    return ax


def distance(
    traj, landscape=None, *, ax=None, basin_radius=None, max_steps=None, marks: bool = True, **kwargs
):
    """rho(w_t) and rho(q_t) against t, the basin radius r_b, and T / T_settle marked, on ``ax``."""
    ax = axes_or_new(ax)
    ds = _view(traj, landscape, mesh=False)
    t = ds["t"].values
    sl = slice(0, t.size if max_steps is None else int(np.searchsorted(t, max_steps, side="right")))
    if "rho_w" in ds:
        ax.plot(t[sl], ds["rho_w"].values[sl], color=COLORS["latent"], label=r"$\rho(w_t)$", **kwargs)
    if "rho_q" in ds:
        ax.plot(
            t[sl],
            ds["rho_q"].values[sl],
            color=COLORS["quantized"],
            drawstyle="steps-post",
            label=r"$\rho(q_t)$",
            lw=1.0,
        )
    rb = ds.attrs.get("basin_radius") if basin_radius is None else basin_radius
    if rb is not None and np.isfinite(rb):
        ax.axhline(rb, color=COLORS["basin"], ls="--", lw=1.0, label=r"$r_b$")
    top = np.nanmax(np.concatenate([ds[v].values[sl] for v in ("rho_q", "rho_w") if v in ds] + [[rb or 0.0]]))
    ax.set_ylim(0, 1.35 * max(float(top), 1e-12) if np.isfinite(top) else 1.0)
    ax.set_xlim(t[sl][0], t[sl][-1] if t[sl][-1] > t[sl][0] else t[sl][0] + 1)
    if marks:
        mark_times(ax, ds, t_max=t[sl][-1])
    ax.set_xlabel(r"QAT step $t$")
    ax.set_ylabel(r"normal distance $\rho$")
    return ax


def deployed_loss(traj, *, ax=None, max_steps=None, marks: bool = True, **kwargs):
    """The deployed loss L(q_t) against t, with T and T_settle marked, on ``ax``."""
    ax = axes_or_new(ax)
    ds = _view(traj, mesh=False)
    t = ds["t"].values
    sl = slice(0, t.size if max_steps is None else int(np.searchsorted(t, max_steps, side="right")))
    y = ds["loss_q"].values[sl]
    ax.plot(t[sl], y, color=COLORS["quantized"], drawstyle="steps-post", **kwargs)
    fin = y[np.isfinite(y)]
    if fin.size:
        lo, hi = float(min(fin.min(), 0.0)), float(fin.max())
        ax.set_ylim(lo, lo + 1.3 * max(hi - lo, 1e-12))
    ax.set_xlim(t[sl][0], t[sl][-1] if t[sl][-1] > t[sl][0] else t[sl][0] + 1)
    if marks:
        mark_times(ax, ds, label=False, t_max=t[sl][-1])
    ax.set_xlabel(r"QAT step $t$")
    ax.set_ylabel(r"deployed loss $L(q_t)$")
    return ax


def run_title(ds) -> str:
    """A title from the run: who ran (rule, optimizer), what happened, and the grid's flip size vs 2 r_b."""
    who = ds.attrs.get("run_label") or ds.attrs.get("rule_label") or "the rule"
    what = outcome_text(
        ds.attrs["hit_time"],
        ds.attrs["settle_time"],
        ds.attrs["diverge_time"],
        ds.attrs["num_steps"],
        ds.attrs.get("switches", -1),
    )
    title = f"{who}: {what}"
    rb = ds.attrs.get("basin_radius")
    if "max_flip_size" in ds.attrs and rb:
        title += " (" + "$" + inequality(r"f_{\max}", ds.attrs["max_flip_size"] / rb, 2.0, "") + "$)"
    return title


def run_figure(
    traj,
    landscape=None,
    quantizer=None,
    rule=None,
    *,
    title=None,
    frame=None,
    max_steps=None,
    n: int = 121,
    figsize=None,
):
    """(a) paths on the contours, (b) rho(w_t), rho(q_t), (c) L(q_t): one figure, titled from the data.

    ``title=None`` writes the computed title (:func:`run_title`), ``title=""`` none. Without recorded
    paths (or a landscape) panel (a) is left out.
    """
    ds = _view(traj, landscape, quantizer, rule, frame=frame, n=n)
    if rule is not None and "run_label" not in ds.attrs:
        ds.attrs["run_label"] = run_label(rule)
    has_paths = bool(ds.attrs.get("paths", 0))
    with paper_style():
        fig = plt.figure(figsize=figsize or (DOUBLE_COLUMN, 3.1))
        if has_paths:
            gs = fig.add_gridspec(2, 2, width_ratios=[1.0, 1.25])
            ax_p = fig.add_subplot(gs[:, 0])
            path(ds, ax=ax_p, max_steps=max_steps)
            ax_p.set_title("(a) Paths on the loss contours", loc="left")
            ax_r, ax_l = fig.add_subplot(gs[0, 1]), None
            ax_l = fig.add_subplot(gs[1, 1], sharex=ax_r)
        else:
            gs = fig.add_gridspec(2, 1)
            ax_r = fig.add_subplot(gs[0])
            ax_l = fig.add_subplot(gs[1], sharex=ax_r)
        distance(ds, ax=ax_r, max_steps=max_steps)
        ax_r.set_xlabel("")
        ax_r.tick_params(labelbottom=False)
        ax_r.set_title(f"({'b' if has_paths else 'a'}) Distance to the river", loc="left")
        deployed_loss(ds, ax=ax_l, max_steps=max_steps)
        ax_l.set_title(f"({'c' if has_paths else 'b'}) Deployed loss", loc="left")
        handles = path_handles(ds) if has_paths else ax_r.get_legend_handles_labels()[0]
        fig.legend(handles=handles, loc="outside lower center", ncol=4, columnspacing=1.0)
        title = run_title(ds) if title is None else title
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
