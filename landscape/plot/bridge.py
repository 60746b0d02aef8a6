"""Figures of the bridge, drawn from the Dataset of :func:`landscape.models.bridge.to_dataset` (all seeds).

Every function is Axes-level (``ax=None`` makes one, the Axes is returned) and labels itself from the data:

* :func:`plot_settle_rates` -- per (bits, grid, method) group where PTQ left the band: the fraction of
  seeds on which STE-QAT settled, with its Wilson 95 % interval, next to the oracle's and the
  full-precision control's fractions;
* :func:`plot_blindness` -- actual loss rise against the quadratic model's (g.e + e^T H e / 2) for every PTQ
  error, at the saturated and the early-stopped w*, with random errors of the same norm;
* :func:`plot_inward` -- per QAT run: the inward cosine c = cos(-grad L(q), P(q) - q) against the cosine
  towards w*;
* :func:`plot_loss_paths` -- the deployed loss gap of every seed of one group, with tau and the window;
* :func:`plot_tau_sensitivity` -- the settled fraction against tau (0.01 ... 0.2) per group;
* :func:`plot_calibration` -- the loss-to-metric calibration: the share of random points at each
  training-loss rise whose test metric stays in the relative band, with the null-calibrated tau.
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt  # the backend is the user's: no matplotlib.use() (it hid Jupyter's figures)
import numpy as np

__all__ = [
    "plot_bridge",
    "plot_settle_rates",
    "plot_blindness",
    "plot_inward",
    "plot_loss_paths",
    "plot_tau_sensitivity",
    "plot_calibration",
    "verdicts_of",
    "default_group",
]

_BITS_COLORS = {
    2: "tab:red",
    3: "tab:orange",
    4: "tab:blue",
    5: "tab:cyan",
    6: "tab:green",
    7: "tab:olive",
    8: "tab:purple",
}


def _ax(ax, size=(5, 3.5)):
    return plt.subplots(figsize=size)[1] if ax is None else ax


def verdicts_of(ds, band: str = "abs") -> list[dict]:
    """The verdicts of one band stored in the Dataset's attrs."""
    return [v for v in json.loads(ds.attrs["verdicts"]) if v["band"] == band]


def _group_label(v) -> str:
    return f"{v['bits']}b {'abs' if v['grid'] == 'absmax' else v['grid']} {v['method']}"


def plot_settle_rates(ds, ax=None, *, band: str = "abs"):
    """Settled fraction (Wilson 95%) per group where PTQ left the band; oracle and FP control beside it."""
    ax = _ax(ax, (6, 3.5))
    vs = [v for v in verdicts_of(ds, band) if v["n_outside"] > 0]
    x = np.arange(len(vs))
    for i, v in enumerate(vs):
        p = v["k_settled"] / v["n_outside"]
        err = [[max(p - v["wilson_lo"], 0.0)], [max(v["wilson_hi"] - p, 0.0)]]  # >= 0 despite round-off
        ax.errorbar(
            [i],
            [p],
            yerr=err,
            fmt="o",
            color="k",
            capsize=3,
            label="STE-QAT settled (Wilson 95%)" if i == 0 else None,
        )
        ax.annotate(
            f"{v['k_settled']}/{v['n_outside']}",
            (i, p),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=6,
        )
        if v.get("n_oracle"):
            ax.plot(
                [i + 0.2],
                [v["oracle_settled"] / v["n_oracle"]],
                "^",
                color="tab:green",
                ms=5,
                label="oracle (long cosine run)" if i == 0 else None,
            )
        if v.get("n_fp_control"):
            ax.plot(
                [i - 0.2],
                [v["fp_control_settled"] / v["n_fp_control"]],
                "s",
                color="tab:grey",
                ms=5,
                label="control: gradient at latent, then RTN" if i == 0 else None,
            )
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.set_xticks(x)
    ax.set_xticklabels([_group_label(v) for v in vs], rotation=90, fontsize=6)
    ax.set_xlabel("group: bits, grid, PTQ method", fontsize=7)
    ax.set_ylim(-0.05, 1.6)  # the legend sits above the rates (the counts annotate the points below it)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel(f"fraction settled ({band} band)")
    seeds = vs[0]["n_seeds"] if vs else 0
    ax.set_title(
        f"{ds.attrs.get('model', '')}: settled where PTQ left the {band} band ({seeds} seeds)", fontsize=8
    )
    if vs:
        ax.legend(fontsize=6, loc="upper center", frameon=False)
    else:
        ax.text(0.5, 0.5, "PTQ inside the band everywhere", transform=ax.transAxes, ha="center")
    return ax


def plot_blindness(ds, ax=None):
    """Actual rise L(w* + e) - L(w*) against the quadratic model's, every PTQ error and seed (log-log)."""
    ax = _ax(ax)
    floor = 1e-6
    for b in np.unique(ds.bits.values):
        sel = ds.bits.values == b
        c = _BITS_COLORS.get(int(b), "k")
        q, a = ds.quad_rise.values[sel], ds.actual_rise.values[sel]
        ax.scatter(
            np.maximum(q, floor), np.maximum(a, floor), s=14, color=c, label=f"{int(b)}-bit, saturated w*"
        )
        qe, ae = ds.early_quad_rise.values[sel], ds.early_actual_rise.values[sel]
        if np.isfinite(qe).any():
            ax.scatter(
                np.maximum(qe, floor),
                np.maximum(ae, floor),
                s=14,
                facecolors="none",
                edgecolors=c,
                label=f"{int(b)}-bit, early-stopped w*",
            )
    lim = [floor, max(1.0, float(np.nanmax(ds.actual_rise.values)) * 2)]
    ax.plot(lim, lim, color="grey", ls="--", lw=1, label="actual = quadratic")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"quadratic model $g\cdot e + e^\top H e/2$ (nats)")
    ax.set_ylabel(r"actual rise $L(w^*+e) - L(w^*)$ (nats)")
    ax.set_title(f"{ds.attrs.get('model', '')}: Hessian blindness", fontsize=8)
    ax.legend(fontsize=5, ncol=2)
    return ax


def plot_inward(ds, ax=None):
    """Per QAT run: mean inward cosine (towards the foot P(q)) against the mean cosine towards w*."""
    ax = _ax(ax)
    ok = np.isfinite(ds.inward_cos_mean.values)
    for b in np.unique(ds.bits.values[ok]):
        sel = ok & (ds.bits.values == b)
        ax.scatter(
            ds.cos_to_wstar_mean.values[sel],
            ds.inward_cos_mean.values[sel],
            s=14,
            color=_BITS_COLORS.get(int(b), "k"),
            label=f"{int(b)}-bit ({int(sel.sum())} runs)",
        )
    ax.plot([-1, 1], [-1, 1], color="grey", ls="--", lw=1)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlim(-0.2, 1.05)
    ax.set_ylim(-0.2, 1.05)
    ax.set_xlabel(r"$\cos(-\nabla L(q_t),\ w^* - q_t)$ (mean)")
    ax.set_ylabel(r"$\cos(-\nabla L(q_t),\ P(q_t) - q_t)$ (mean)")
    ax.set_title(f"{ds.attrs.get('model', '')}: where the STE step points", fontsize=8)
    if ok.any():
        ax.legend(fontsize=6)
    return ax


def default_group(ds):
    """(bits, grid, method) with the most seeds outside the band, lowest bits first."""
    vs = [v for v in verdicts_of(ds, "abs") if v["n_outside"] > 0]
    if not vs:
        return None
    v = max(vs, key=lambda v: (v["n_outside"], -v["bits"], v["grid"] == "absmax"))
    return v["bits"], v["grid"], v["method"]


def plot_loss_paths(ds, ax=None, *, group=None):
    """The deployed loss gap L(q_t) - L* of every seed of one group (default: :func:`default_group`)."""
    ax = _ax(ax)
    group = default_group(ds) if group is None else group
    tau = float(ds.attrs["tau"])
    if group is None:
        ax.text(0.5, 0.5, "no QAT run: PTQ inside the band everywhere", transform=ax.transAxes, ha="center")
        ax.set_xlabel("STE step t")
        ax.set_ylabel(r"$L(q_t) - L^*$ (nats)")
        return ax
    b, g, m = group
    sel = (ds.bits.values == b) & (ds.grid.values == g) & (ds.method.values == m)
    t = ds.t.values
    runs = [i for i in np.nonzero(sel)[0] if np.isfinite(ds.loss_gap_path.values[i]).any()]
    shades = plt.get_cmap("viridis")(np.linspace(0.1, 0.9, max(len(runs), 1)))
    seeds = f"{len(runs)} seed{'s' * (len(runs) != 1)}, a line each (shade = seed order)"
    for j, i in enumerate(runs):  # one legend entry for the seeds (24 seeds would repeat a colour cycle)
        label = seeds if j == 0 else None
        ax.plot(t, ds.loss_gap_path.values[i], lw=0.8, color=shades[j], label=label)
    own = dict((int(k), int(v)) for k, v in json.loads(ds.attrs.get("qat_steps_by_bits", "[]")))
    steps = own.get(int(b), int(ds.attrs["qat_steps"]))  # this bit width's budget T
    ax.axhline(tau, color="black", ls="--", lw=1, label=rf"$\tau$ = {tau:g} nats")
    ax.axvspan(
        steps - int(np.ceil(0.1 * steps)), steps, color="tab:green", alpha=0.1, label="settling window"
    )
    ax.set_yscale("symlog", linthresh=min(tau / 10, 1e-3))
    ax.set_ylim(bottom=-tau)
    ax.set_xlabel("STE step t")
    ax.set_ylabel(r"deployed loss gap $L(q_t) - L^*$ (nats)")
    ax.set_title(f"{ds.attrs.get('model', '')}: {b}-bit {g} {m}, every seed", fontsize=8)
    ax.legend(fontsize=6)
    return ax


def plot_tau_sensitivity(ds, ax=None):
    """Settled fraction among the QAT runs of the seeds outside the band at tau, against tau, per group."""
    ax = _ax(ax)
    drawn = 0
    for v in verdicts_of(ds, "abs"):
        pts = [
            (s["tau"], s["k_settled"] / s["n_qat"]) for s in v.get("tau_sensitivity", []) if s.get("n_qat")
        ]
        if pts:
            x, y = zip(*pts, strict=True)
            ax.plot(
                x,
                y,
                marker="o",
                ms=3,
                lw=1,
                color=_BITS_COLORS.get(v["bits"], "k"),
                ls="-" if v["method"] == "rtn" else ":",
                label=_group_label(v),
            )
            drawn += 1
    ax.set_xscale("log")
    ax.set_xlabel(r"$\tau$ (nats)")
    ax.set_ylabel("fraction settled")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"{ds.attrs.get('model', '')}: verdict against tau", fontsize=8)
    if drawn:
        ax.legend(fontsize=5, ncol=2)
    return ax


def plot_calibration(ds, ax=None):
    """Loss-to-metric calibration: share of random points at each training-loss rise in the relative band."""
    ax = _ax(ax)
    cal = json.loads(ds.attrs.get("calibration", "{}") or "{}")
    if not cal:
        ax.text(0.5, 0.5, "no calibration recorded", ha="center", va="center", transform=ax.transAxes)
        return ax
    for rec in cal["per_seed"]:
        ax.plot(rec["rises"], rec["share_rel_in_band"], color="0.7", lw=0.8)
    ax.plot(
        cal["rises"],
        cal["share_rel_in_band"],
        "o-",
        color="k",
        label=f"pooled ({cal['n_points_per_rise']} pts)",
    )
    bands = json.loads(ds.attrs.get("bands", "{}") or "{}")
    if bands:
        ax.axvline(
            bands["tau"], color="tab:red", ls="--", label=f"tau = {bands['tau']:.3g} (null-calibrated)"
        )
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("training-loss rise of a random point (nats)")
    ax.set_ylabel("share with the test metric in the relative band")
    ax.set_title(f"{ds.attrs.get('model', '')}: loss-to-metric calibration")
    ax.legend(fontsize=6)
    return ax


def plot_bridge(ds, fig=None, *, ncols: int = 4):
    """The bridge figure: settle rates (three bands), blindness, inward cosines, paths, tau, calibration.

    Eight panels in rows of ``ncols`` (4: a wide screen figure; 2: a page-high paper figure).
    """
    if ncols not in (2, 4):
        raise ValueError(f"ncols must be 2 or 4; got {ncols!r}.")
    fig = plt.figure(figsize=(17, 7.5) if ncols == 4 else (8, 14)) if fig is None else fig
    axes = fig.subplots(8 // ncols, ncols)
    a = axes.flat
    plot_settle_rates(ds, a[0], band="abs")
    plot_settle_rates(ds, a[1], band="test")
    plot_settle_rates(ds, a[2], band="rel")
    plot_blindness(ds, a[3])
    plot_inward(ds, a[4])
    plot_loss_paths(ds, a[5])
    plot_tau_sensitivity(ds, a[6])
    plot_calibration(ds, a[7])
    prefix = f"{ds.attrs.get('model', '')}: "
    for i, (ax, tag) in enumerate(zip(axes.flat, "abcdefgh", strict=True)):  # (a)-(h) in reading order
        title = ax.get_title().removeprefix(prefix)
        ax.set_title("")
        ax.set_title(f"({tag}) {title}", loc="left", fontsize=7)
        if i in (1, 2) and ax.get_legend() is not None:  # one legend for the three rate panels
            ax.get_legend().remove()
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    return fig
