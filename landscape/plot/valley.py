"""Figure 3 on valleys: the twin picture with valley curvature, the measured failure, the exact planar law.

Axes-level functions (``ax=None`` draws on a new figure; each returns its Axes; labels come from the data):

* :func:`draw_valley_slice` -- one landscape of ``landscape.studies.ptq_study.valley_twin_dataset`` in
  the (w1, w2) plane: loss contours, the basin edge, the river (rho = 0) and the valley floor, the grid,
  w* and every method's q (methods on the same point are grouped in one label);
* :func:`draw_exit_vs_curvature` -- ``landscape.studies.ptq_valley.valley_exit``: exit fraction vs
  lambda/mu per method, 95 % Wilson intervals;
* :func:`draw_planar_law` -- ``landscape.studies.ptq_valley.planar_law``: the exact laws (lines) and
  the simulation (markers, 95 % Wilson intervals) vs lambda/mu.

:func:`plot_valley_failure` composes the four panels of figure 3 from one merged dataset (prefixes
``vx_`` and ``pl_`` for the two measurements).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from landscape.plot.anatomy import POINT_STYLE, _loss_levels, draw_landscape_2d
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, paper_style

__all__ = ["NAMES", "draw_valley_slice", "draw_exit_vs_curvature", "draw_planar_law", "plot_valley_failure",
           "split_prefixed"]

NAMES = {"rtn": "RTN", "stochastic": "stochastic", "obq": "OBQ", "gptq": "GPTQ", "adaround": "AdaRound",
         "proxy_min": "exact proxy min.", "oracle": "oracle", "min_corner": "least-$\\rho$ corner"}
_COLOR = {"rtn": COLORS["rtn"], "stochastic": OKABE_ITO["grey"], "obq": COLORS["obq"], "gptq": COLORS["gptq"],
          "adaround": COLORS["adaround"], "proxy_min": OKABE_ITO["black"], "oracle": COLORS["oracle"],
          "min_corner": COLORS["oracle"]}
_MARK = {"rtn": "s", "stochastic": "x", "obq": "o", "gptq": "^", "adaround": "v", "proxy_min": "P",
         "oracle": "D", "min_corner": "D"}
_STYLE = dict(POINT_STYLE, obq=dict(marker="o", s=30, color=COLORS["obq"]),
              proxy_min=dict(marker="P", s=40, color=OKABE_ITO["black"]))


def _ax(ax, size=(3.4, 2.8)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def draw_valley_slice(ds, var: str = "loss", ax=None, *, levels=None, title=None):
    """The (w1, w2) plane of a valley twin dataset: contours of ``var``, basin edge, river, floor, q's."""
    ax = _ax(ax)
    sub = ds[["x", "y", "rho", "river_x", "river_y"]].assign(loss=ds[var])
    sub.attrs = ds.attrs
    draw_landscape_2d(ax, sub, colorbar=False, levels=_loss_levels(ds["loss"].values) if levels is None
                      else levels)
    ax.plot(ds["floor_x"].values, ds["floor_y"].values, color=OKABE_ITO["sky"], lw=0.9, ls=":")
    step = float(ds.attrs["step"])
    wx, wy = float(ds["point_x"].sel(point="trained")), float(ds["point_y"].sel(point="trained"))
    lo = np.floor(np.array([wx, wy]) / step) * step
    ax.add_patch(plt.Rectangle(tuple(lo), step, step, fill=False, ec="0.35", lw=0.6, ls="-", zorder=4))
    ax.scatter(wx, wy, zorder=7, edgecolors="white", linewidths=0.5, **POINT_STYLE["trained"])
    groups: dict = {}
    for p in [str(p) for p in ds["point"].values if str(p) != "trained"]:
        xy = (round(float(ds["point_x"].sel(point=p)), 6), round(float(ds["point_y"].sel(point=p)), 6))
        groups.setdefault(xy, []).append(p)
    corners = [(0.97, 0.03, "right", "bottom"), (0.03, 0.03, "left", "bottom"), (0.97, 0.97, "right", "top"),
               (0.03, 0.97, "left", "top")]
    x_mid, y_mid = 0.5 * sum(ax.get_xlim()), 0.5 * sum(ax.get_ylim())
    taken: list = []
    rb = float(ds.attrs["basin_radius"])
    for (px, py), ms in sorted(groups.items(), key=lambda g: "oracle" in g[1]):
        st = dict(_STYLE.get(ms[0], POINT_STYLE["rtn"]))
        st.pop("label", None)
        ax.scatter(px, py, zorder=6, edgecolors="white", linewidths=0.5, **st)
        # a free corner: first a vertical level not used yet (wide labels never share a level), then the
        # point's own half, vertically and horizontally
        used = {c[3] for c in taken}
        cand = sorted(corners, key=lambda c: (c[3] in used, (c[1] > 0.5) != (py > y_mid),
                                              (c[0] > 0.5) != (px > x_mid)))
        cx, cy, ha, va = cand[0]
        corners.remove(cand[0])
        taken.append(cand[0])
        rho = float(ds["point_rho"].sel(point=ms[0]))
        where = "inside" if rho <= rb else "outside"
        label = ", ".join(NAMES[m] for m in ms) + f"\n({where}, $\\rho = {rho / rb:.2f}\\,r_b$)"
        ax.annotate(label, (px, py),
                    xytext=(cx, cy), textcoords="axes fraction", ha=ha, va=va, fontsize=6, color=st["color"],
                    bbox=dict(fc="white", ec=st["color"], lw=0.5, alpha=0.92, pad=1.2),
                    arrowprops=dict(arrowstyle="-", color=st["color"], lw=0.6, shrinkB=4), zorder=9)
    if title is not None:
        ax.set_title(title, loc="left")
    return ax


def draw_exit_vs_curvature(ds, ax=None, *, m=None, step_over_rb=None, methods=None):
    """Exit fraction (pooled over seeds, 95 % Wilson) vs lambda/mu per method, at one (m, step/r_b)."""
    ax = _ax(ax)
    m = int(ds["m"].values[len(ds["m"]) // 2]) if m is None else m
    r = float(ds["step_over_rb"].values[np.argmin(np.abs(ds["step_over_rb"].values - 2.0))]) \
        if step_over_rb is None else step_over_rb
    sub = ds.sel({"m": m, "step_over_rb": r})
    lam = sub["lambda_over_mu"].values
    x = np.where(lam > 0, lam, lam[lam > 0].min() / 10 if np.any(lam > 0) else 0.1)  # lambda = 0 on the left
    names = [str(v) for v in sub["method"].values] if methods is None else list(methods)
    dodge = np.exp(0.06 * (np.arange(len(names)) - (len(names) - 1) / 2))
    for i, name in enumerate(names):
        row = sub.sel({"method": name})
        p, lo, hi = (row[v].values for v in ("exit_pooled", "exit_lo", "exit_hi"))
        err = [np.maximum(p - lo, 0), np.maximum(hi - p, 0)]
        ax.errorbar(x * dodge[i], p, yerr=err, marker=_MARK.get(name, "o"), ms=3.5, lw=1.0,
                    capsize=1.5, color=_COLOR.get(name, OKABE_ITO["grey"]), label=NAMES.get(name, name),
                    mfc="white" if name in ("obq", "oracle") else None)
    ax.set_xscale("log")
    ticks = list(x)
    ax.set_xticks(ticks, [("0" if v == 0 else f"{v:g}") for v in lam])
    ax.minorticks_off()
    if np.any(lam == 0) and np.any(lam > 0):  # lambda = 0 has no place on a log axis: break the axis there
        brk = np.sqrt(x[lam == 0].max() * lam[lam > 0].min())
        ax.axvline(brk, color=OKABE_ITO["grey"], lw=0.6, ls=":", gid="lambda-axis-break")
        for dx in (0.94, 1.06):
            ax.plot([brk * dx], [0.0], marker=[(-0.5, -1), (0.5, 1)], ms=7, color="k", mew=0.8,
                    transform=ax.get_xaxis_transform(), clip_on=False, gid="lambda-axis-break")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(r"valley curvature / floor curvature, $\lambda/\mu$")
    ax.set_ylabel("fraction outside the basin")
    n = int(ds.attrs.get("n_total", 0))
    ax.set_title(f"(c) $d = {ds.attrs['dim']}$, $k = {ds.attrs['k']}$, $m = {m}$, "
                 f"$\\Delta/r_b = {r:g}$ ({n} points)", loc="left")
    ax.grid(alpha=0.25, lw=0.5)
    ax.legend(loc="upper left", fontsize=6, ncol=2, handlelength=1.2, columnspacing=0.8,
              title="bars: 95% Wilson", title_fontsize=6)
    return ax


def draw_planar_law(ds, ax=None, *, step_over_rb=None, methods=("rtn", "gptq", "proxy_min", "min_corner")):
    """The planar valley: exact exit laws (lines) and simulation (markers, 95 % Wilson) vs lambda/mu."""
    ax = _ax(ax)
    steps = ds["step_over_rb"].values
    r = float(steps[np.argmin(np.abs(steps - 2.0))]) if step_over_rb is None else step_over_rb
    sub = ds.sel({"step_over_rb": r})
    for name in methods:
        c = _COLOR.get(name, OKABE_ITO["grey"])
        ax.plot(sub["lambda_fine"].values, sub["exact_curve"].sel({"method": name}).values, color=c, lw=1.1)
        row = sub.sel({"method": name})
        p, lo, hi = row["simulated"].values, row["lo"].values, row["hi"].values
        err = [np.maximum(p - lo, 0), np.maximum(hi - p, 0)]
        ax.errorbar(sub["lambda_over_mu"].values, p, yerr=err, fmt=_MARK.get(name, "o"), ms=3.5,
                    color=c, mfc="white", mew=0.9, capsize=1.5, elinewidth=0.8, label=NAMES.get(name, name))
    lim = float(sub["proxy_limit"])
    ax.axhline(lim, color=OKABE_ITO["black"], lw=0.7, ls="--")
    ax.text(float(sub["lambda_fine"].values[0]) * 1.1, lim + 0.012, r"$\lambda/\mu\to\infty$: $1 - \varrho$",
            fontsize=6.5, va="bottom")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, max(0.62, 2.0 * float(np.nanmax(sub["exact_curve"].values))))
    ax.set_xlabel(r"valley curvature / floor curvature, $\lambda/\mu$")
    ax.set_ylabel("fraction outside the basin")
    rho = float(np.sqrt(2.0) / r)
    ax.set_title(f"(d) Planar valley, $\\Delta/r_b = {r:g}$ ($\\varrho = {rho:.3f}$): exact law", loc="left")
    ax.grid(alpha=0.25, lw=0.5)
    n = int(ds.attrs["n_points"])
    ax.legend(loc="upper right", fontsize=6, ncol=2,
              title=f"lines: exact law; markers: {n} points, 95% Wilson",
              title_fontsize=6)
    return ax


def split_prefixed(ds, prefix: str) -> xr.Dataset:
    """The variables, dims and attrs of ``ds`` named ``prefix + name``, renamed back to ``name``."""
    names = [v for v in ds.data_vars if v.startswith(prefix)]
    sub = ds[names]
    dims = [d for d in sub.dims if d.startswith(prefix)]
    sub = sub.rename({v: v[len(prefix):] for v in names + dims})
    sub = sub.drop_vars([c for c in sub.coords if c not in sub.dims])
    sub.attrs = {k[len(prefix):]: v for k, v in ds.attrs.items() if k.startswith(prefix)}
    return sub


def _line_handles():
    from matplotlib.lines import Line2D  # noqa: PLC0415

    return [
        Line2D([], [], color=COLORS["river"], lw=1.4, label=r"river $\rho = 0$"),
        Line2D([], [], color=COLORS["basin"], lw=1.2, ls="--", label=r"basin edge $\rho = r_b$"),
        Line2D([], [], color=OKABE_ITO["sky"], lw=0.9, ls=":", label=r"valley floor $e\cdot w = b$"),
        Line2D([], [], color=COLORS["grid"], marker="o", ls="", ms=2.5, label="grid"),
        Line2D([], [], color="0.35", lw=0.6, label=r"cell of $w^\star$"),
        Line2D([], [], color=COLORS["trained"], marker="*", ls="", ms=7, label=r"trained $w^\star$"),
    ]


def plot_valley_failure(ds):
    """Figure 3: (a, b) the planar valley with and without its wall, the same q; (c) the measured failure;
    (d) the exact planar law."""
    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 6.6))
        gs = fig.add_gridspec(2, 2, height_ratios=[1.25, 1.0])
        top = [fig.add_subplot(gs[0, j]) for j in range(2)]
        bottom = [fig.add_subplot(gs[1, j]) for j in range(2)]
        # one scale for both: the twin's range, so the valley's curvature shows and the wall saturates
        levels = _loss_levels(ds["loss_free"].values)
        lam = float(ds.attrs["lambda_over_mu"])
        draw_valley_slice(ds, "loss", top[0], levels=levels,
                          title=f"(a) Planar valley with its wall, $\\lambda/\\mu = {lam:g}$")
        same = [(NAMES[str(m)], float(ds["same_q"].sel(ptq_method=m)))
                for m in ds["ptq_method"].values if m not in ("oracle", "rtn")]
        note = ", ".join(f"{name} {100 * v:.0f}%" for name, v in same)
        draw_valley_slice(ds, "loss_free", top[1], levels=levels)
        top[1].set_title(f"(b) Wall-free twin, same scale; same $q$ as with the wall:\n{note}", loc="left",
                         fontsize=7.5)
        fig.legend(handles=_line_handles(), loc="outside lower center", ncol=6, fontsize=6.5, frameon=False,
                   handlelength=1.6, columnspacing=1.2)
        draw_exit_vs_curvature(split_prefixed(ds, "vx_"), bottom[0])
        draw_planar_law(split_prefixed(ds, "pl_"), bottom[1])
        fig.suptitle("Second-order PTQ is blind to the wall: with wall-free curvature it trades rounding "
                     "error into the walled directions", fontsize=9)
    return fig
