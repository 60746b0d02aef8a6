"""Figure 3: Hessian blindness of second-order PTQ (figure 2 is :func:`landscape.plot.rtn_exit_figure`).

* :func:`plot_hessian_blindness` draws ``landscape.studies.ptq_study.blindness_dataset``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscape.plot.anatomy import POINT_STYLE, draw_landscape_2d
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, paper_style

__all__ = ["plot_hessian_blindness", "plot_river_blindness"]



def plot_hessian_blindness(ds):
    """Figure 3: walled vs wall-free landscape, identical second-order PTQ choice, oracle; rates.

    A dataset of ``landscape.reproduce.stages.valley`` (the planar valley, with ``vx_`` and ``pl_`` parts)
    is drawn by :func:`landscape.plot.valley.plot_valley_failure`; one of
    ``landscape.studies.ptq_study.blindness_dataset`` (a 2-D river without valley curvature) by
    :func:`plot_river_blindness`.
    """
    if "vx_exit_pooled" in ds:
        from landscape.plot.valley import plot_valley_failure  # noqa: PLC0415

        return plot_valley_failure(ds)
    return plot_river_blindness(ds)


def plot_river_blindness(ds):
    """Walled vs wall-free 2-D river (no valley curvature): the same second-order choice, oracle, rates."""
    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 2.75))
        gs = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.15])
        methods = [str(m) for m in ds["ptq_method"].values]
        from landscape.plot.anatomy import _loss_levels  # noqa: PLC0415

        levels = _loss_levels(ds["loss"].values)
        case0 = str(ds["case"].values[0])
        same = {m: float(ds["same_q"].sel(case=case0, ptq_method=m)) for m in methods if m != "oracle"}
        # group the methods that chose the same grid point, so no marker hides another
        groups: dict = {}
        for p in [m for m in ("rtn", "obq", "gptq", "adaround", "oracle") if m in ds["point"].values]:
            xy = (round(float(ds["point_x"].sel(point=p)), 6), round(float(ds["point_y"].sel(point=p)), 6))
            groups.setdefault(xy, []).append(p)
        names = {"rtn": "RTN", "obq": "OBQ", "gptq": "GPTQ", "adaround": "AdaRound", "oracle": "oracle"}
        for j, (var, title) in enumerate(
            [("loss", "(a) With walls"), ("loss_free", "(b) Wall-free twin, same scale")]
        ):
            ax = fig.add_subplot(gs[j])
            sub = ds[["x", "y", "rho", "river_x", "river_y"]].assign(loss=ds[var])
            sub.attrs = ds.attrs
            draw_landscape_2d(ax, sub, colorbar=False, levels=levels)
            st = POINT_STYLE["trained"]
            ax.scatter(
                float(ds["point_x"].sel(point="trained")),
                float(ds["point_y"].sel(point="trained")),
                zorder=6,
                edgecolors="white",
                linewidths=0.5,
                **st,
            )
            free = [
                (0.97, 0.03, "right", "bottom"),
                (0.03, 0.03, "left", "bottom"),
                (0.97, 0.97, "right", "top"),
            ]
            x_mid = 0.5 * sum(ax.get_xlim())
            for (px, py), ms in sorted(groups.items(), key=lambda g: "oracle" in g[1]):
                st = dict(POINT_STYLE.get(ms[-1] if "oracle" in ms else ms[0], POINT_STYLE["rtn"]))
                ax.scatter(px, py, zorder=6, edgecolors="white", linewidths=0.5, **st)
                # a boxed label in a free corner, on the point's side when possible, with an arrow
                side = [c for c in free if (c[0] > 0.5) == (px > x_mid)] or free
                cx, cy, ha, va = side[0]
                free.remove(side[0])
                ax.annotate(
                    ", ".join(names[m] for m in ms),
                    (px, py),
                    xytext=(cx, cy),
                    textcoords="axes fraction",
                    ha=ha,
                    va=va,
                    fontsize=6.5,
                    color=st["color"],
                    bbox=dict(fc="white", ec=st["color"], lw=0.5, alpha=0.92, pad=1.5),
                    arrowprops=dict(arrowstyle="-", color=st["color"], lw=0.6, shrinkB=4),
                    zorder=9,
                )
            ax.set_title(title, loc="left")
            if j == 1:
                ax.text(
                    0.03,
                    0.97,
                    "same $q$ as with the wall:\n"
                    + "\n".join(
                        f"{names[m]}: {100 * v:.0f}% of points" for m, v in same.items() if m != "rtn"
                    ),
                    transform=ax.transAxes,
                    ha="left",
                    va="top",
                    fontsize=6.5,
                    bbox=dict(fc="white", ec="0.7", lw=0.4, pad=2.0),
                    zorder=9,
                )
        ax = fig.add_subplot(gs[2])
        if "cmp_exit_fraction" in ds:
            _rates_vs_step(ax, ds)
        else:
            _rates_bars(ax, ds, methods)
        handles = [
            plt.Line2D(
                [],
                [],
                ls="",
                **{
                    ("ms" if k == "s" else k): (np.sqrt(v) if k == "s" else v)
                    for k, v in POINT_STYLE[p].items()
                    if k != "color"
                },
                color=POINT_STYLE[p]["color"],
            )
            for p in ["trained", "rtn", "oracle"]
            if p in ds["point"].values
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
        fig.suptitle(
            "Second-order PTQ is blind to the wall: the same grid point with and without it", fontsize=9
        )
    return fig


def _rates_bars(ax, ds, methods):
    """Panel (c) as bars: exit rate per PTQ method and (d, k) case."""
    cases = [str(c) for c in ds["case"].values]
    hatches = ["", "////", "xx", ".."]
    h = 0.8 / len(cases)
    y = np.arange(len(methods))
    for ci, case in enumerate(cases):
        rates = ds["exit_rate"].sel(case=case).values
        se = ds["exit_rate_se"].sel(case=case).values
        cols = [COLORS.get(m, OKABE_ITO["grey"]) for m in methods]
        ax.barh(
            y + (ci - (len(cases) - 1) / 2) * h,
            rates,
            xerr=2 * se,
            height=h,
            color=cols,
            hatch=hatches[ci % 4],
            edgecolor="white",
            lw=0.3,
            error_kw=dict(lw=0.8, capsize=1.5),
            label=case.replace("d=", "$d = $").replace("k=", "$k = $"),
        )
    ax.set_yticks(
        y,
        [
            m.replace("_", " ").upper()
            if m in ("rtn", "obq", "gptq")
            else m.capitalize()
            if m != "adaround"
            else "AdaRound"
            for m in methods
        ],
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(r"fraction outside the basin ($\pm 2$ SE)")
    ax.set_ylabel("PTQ method")
    ax.set_title(f"(c) Exit rates, {int(ds.attrs['n_points'])} points/case", loc="left")
    ax.grid(axis="x", alpha=0.25, lw=0.5)
    if len(cases) > 1:
        from matplotlib.patches import Patch  # noqa: PLC0415

        ax.legend(
            handles=[
                Patch(facecolor="white", edgecolor="k", hatch=hatches[i % 4] * 2, lw=0.5, label=c)
                for i, c in enumerate(cases)
            ],
            loc="lower right",
            fontsize=6.5,
        )


_NAMES = {
    "rtn": "RTN",
    "stochastic": "stochastic",
    "obq": "OBQ",
    "gptq": "GPTQ",
    "adaround": "AdaRound",
    "oracle": "oracle",
}
_MK = {"rtn": "s", "stochastic": "x", "obq": "o", "gptq": "^", "adaround": "v", "oracle": "D"}


def _rates_vs_step(ax, ds):
    """Panel (c) as lines: exit fraction vs step / r_b per method (mean over seeds, min-max bars)."""
    x = ds["cmp_step_over_rb"].values
    ef = ds["cmp_exit_fraction"]
    methods = list(ds["cmp_method"].values)
    dodge = 0.025 * (float(np.ptp(x)) or 1.0)  # small horizontal offsets so equal values stay visible
    for i, m in enumerate(methods):
        v = ef.sel(cmp_method=m).values  # (step, seed)
        mean = v.mean(-1)
        key = "stochastic_rounding" if str(m) == "stochastic" else str(m)
        ax.errorbar(
            x + (i - (len(methods) - 1) / 2) * dodge,
            mean,
            yerr=[mean - v.min(-1), v.max(-1) - mean],
            marker=_MK.get(str(m), "o"),
            ms=3.5,
            lw=1.0,
            capsize=1.5,
            color=COLORS.get(key, OKABE_ITO["grey"]),
            label=_NAMES.get(str(m), m),
            mfc="white" if str(m) in ("obq", "oracle") else None,
        )
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(r"grid step / basin radius, $\Delta / r_b$")
    ax.set_ylabel(r"fraction outside the basin")
    d, k = int(ds.attrs.get("cmp_dim", 0)), int(ds.attrs.get("cmp_k", 0))
    ax.set_title(rf"(c) Exit rates, $d = {d}$, $k = {k}$", loc="left")
    ax.grid(alpha=0.25, lw=0.5)
    ax.legend(
        loc="upper left",
        fontsize=6.5,
        ncol=2,
        handlelength=1.2,
        columnspacing=0.8,
        title="bars: min-max over seeds",
        title_fontsize=6.5,
    )
