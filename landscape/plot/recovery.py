"""Figures 5, 6 and 7: STE recovery phase diagram, T against T_max, and the rule comparison.

* :func:`plot_phase_diagram` draws ``landscape.studies.phase_study.phase_dataset`` (it lives in
  :mod:`landscape.plot.phase_paper`, with the Axes-level :func:`~landscape.plot.phase_paper.phase_panel`).
* :func:`plot_tightness` draws a dataset with ``T`` and ``T_max`` per case (dim ``case``).
* :func:`plot_rules` draws a dataset with ``recovery_prob``, its Wilson interval
  ``recovery_lo``/``recovery_hi`` and ``median_T``, ``T_lo``, ``T_hi`` per ``rule`` and ``scenario``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscape.plot.phase_paper import plot_phase_diagram
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, SINGLE_COLUMN, paper_style, tex_label

__all__ = ["plot_phase_diagram", "plot_tightness", "plot_rules"]


def plot_tightness(ds):
    """Figure 6: measured T against the theorem's T_max per case (log-log), with the diagonal."""
    with paper_style():
        fig, ax = plt.subplots(figsize=(SINGLE_COLUMN, 3.0))
        t, tmax = ds["T"].values.astype(float), ds["T_max"].values.astype(float)
        ok = np.isfinite(t) & np.isfinite(tmax) & (t >= 0) & (tmax > 0)
        x, y = tmax[ok], np.maximum(t[ok], 0.5)
        ax.scatter(x, y, s=9, alpha=0.6, color=COLORS["ste"], edgecolors="none", label="one STE run")
        lo, hi = min(x.min(), y.min()) / 1.5, max(x.max(), y.max()) * 1.5
        ax.plot([lo, hi], [lo, hi], color=COLORS["theory"], lw=1.0, ls="--", label=r"$T = T_{\max}$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(r"bound $T_{\max}$ (steps)")
        ax.set_ylabel(r"measured $T$ (steps; $T = 0$ drawn at 0.5)")
        ratio = float(np.max(t[ok] / tmax[ok])) if ok.any() else float("nan")
        stmt = ds.attrs.get("statement", "")
        ax.set_title(
            rf"{stmt} tightness: max $T / T_{{\max}}$ = {ratio:.3g}, {int(ok.sum())} cases",
            loc="left",
            fontsize=8.5,
        )
        ax.legend(loc="upper left")
    return fig


def plot_rules(ds, *, interval_label: str = "IQR"):
    """Figure 7: recovery probability (bars, Wilson 95% interval) and median T (with an interval) per rule.

    The interval is ``T_lo`` to ``T_hi`` (name it with ``interval_label``, e.g. "10-90%").
    """
    rules = [str(r) for r in ds["rule"].values]
    scen = [str(s) for s in ds["scenario"].values]
    cols = [
        OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "yellow", "black")
    ]
    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.9), sharey=True)
        width = 0.8 / max(len(scen), 1)
        y = np.arange(len(rules))
        for j, sc in enumerate(scen):
            p = ds["recovery_prob"].sel(scenario=sc).values
            lo = ds["recovery_lo"].sel(scenario=sc).values
            hi = ds["recovery_hi"].sel(scenario=sc).values
            yb = y + (j - (len(scen) - 1) / 2) * width
            axes[0].barh(
                yb,
                p,
                xerr=np.stack([np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)]),
                height=width,
                color=cols[j],
                label=tex_label(sc),
                error_kw=dict(lw=0.7, capsize=1.2),
            )
            zero = np.isfinite(p) & (p < 0.005)  # an open marker says "0", not "missing"
            axes[0].scatter(
                np.zeros(zero.sum()),
                yb[zero],
                marker="o",
                s=12,
                facecolors="white",
                edgecolors=cols[j],
                linewidths=0.8,
                zorder=5,
                clip_on=False,
            )
            m = ds["median_T"].sel(scenario=sc).values
            q1, q3 = ds["T_lo"].sel(scenario=sc).values, ds["T_hi"].sel(scenario=sc).values
            yy = y + (j - (len(scen) - 1) / 2) * width
            ok = np.isfinite(m)
            axes[1].errorbar(
                np.maximum(m[ok], 0.5),
                yy[ok],
                xerr=[
                    np.maximum(m[ok], 0.5) - np.maximum(q1[ok], 0.5),
                    np.maximum(q3[ok], 0.5) - np.maximum(m[ok], 0.5),
                ],
                fmt="o",
                color=cols[j],
                ms=3.5,
                capsize=1.5,
                elinewidth=0.8,
            )
        axes[0].set_yticks(y, [r.replace("_", " ") for r in rules])
        axes[0].invert_yaxis()  # shared with axes[1]: invert once
        axes[0].set_ylabel("QAT rule")
        for a in axes:
            a.grid(axis="x", alpha=0.25, lw=0.5)
        axes[1].tick_params(labelleft=False)
        axes[0].set_xlim(0, 1.05)
        axes[0].set_xlabel(r"recovery probability $P(T \leq T_{\mathrm{run}})$ (Wilson 95%; $\circ$: 0)")
        axes[0].set_title("(a) Recovery from RTN-failed starts", loc="left")
        axes[1].set_xscale("log")
        axes[1].set_xlabel(rf"first hitting time $T$ (steps; median, {interval_label}; $T = 0$ at 0.5)")
        axes[1].set_title("(b) Time to re-enter the basin", loc="left")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=len(scen))
        fig.suptitle("QAT rules compared on the same RTN-failed starts", fontsize=9)
    return fig
