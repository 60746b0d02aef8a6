"""Figures of the bridge, drawn from the Dataset of :func:`landscape.models.bridge.run_bridge`.

* :func:`plot_profiles` -- the loss profile L(w* + t n_i) - L* along one sharp direction,
  the threshold tau and the basin widths, with every PTQ point marked at its offset v_i;
* :func:`plot_profile_grid` -- the same for every sharp direction, one panel each;
* :func:`plot_qat` -- STE-QAT re-entry curves: the deployed loss rise L(q_t) - L* per step
  (log scale), one curve per bit width and PTQ start, tau dashed, first step back marked;
* :func:`plot_qat_rho` -- the sharp-subspace distance rho(q_t) in units of basin widths.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_profiles", "plot_profile_grid", "plot_qat", "plot_qat_rho"]

_MARK = {"rtn": "o", "gptq": "s"}


def _ax(ax):
    return plt.subplots(figsize=(5, 3.5))[1] if ax is None else ax


def plot_profiles(ds, ax=None, *, direction: int = 0):
    """Loss rise along sharp direction ``direction`` with tau, r_i^{+-} and the PTQ points marked."""
    ax = _ax(ax)
    if not 0 <= direction < ds.sizes["direction"]:
        raise ValueError(f"direction must lie in [0, {ds.sizes['direction'] - 1}]; got {direction}.")
    p = ds.isel(direction=direction)
    t, rise = p.profile_t.values, p.profile_rise.values
    ax.plot(t, rise, color="k", lw=1.5, label=f"profile, lambda = {float(p.eigenvalue):.3g}")
    tau = float(ds.attrs["tau"])
    ax.axhline(tau, color="grey", ls="--", lw=1, label=f"tau = {tau:g}")
    ax.axvspan(-float(p.width_minus), float(p.width_plus), color="tab:green", alpha=0.12, label="basin")
    colors = plt.cm.viridis(np.linspace(0, 0.9, ds.sizes["bits"]))
    for c, b in zip(colors, ds.bits.values, strict=False):
        for m in ds.ptq.values:
            v = float(p.ptq_offset.sel(bits=b, ptq=m))
            ax.plot([v], [np.interp(v, t, rise)], _MARK.get(str(m), "^"), color=c, ms=6, mec="k",
                    label=f"{m} {int(b)}-bit")
    ax.set_xlabel(f"t along sharp direction n_{direction}")
    ax.set_ylabel("L(w* + t n) - L*")
    ax.set_title(f"{ds.attrs.get('model', '')}: loss profile, direction {direction}")
    ax.legend(fontsize=6, ncol=2)
    return ax


def plot_profile_grid(ds, fig=None, *, max_directions: int = 4):
    """One :func:`plot_profiles` panel per sharp direction (at most ``max_directions``)."""
    n = min(ds.sizes["direction"], max_directions)
    fig = plt.figure(figsize=(4.5 * n, 3.6)) if fig is None else fig
    axes = fig.subplots(1, n, squeeze=False)[0]
    for i, ax in enumerate(axes):
        plot_profiles(ds, ax, direction=i)
    fig.tight_layout()
    return fig


def plot_qat(ds, ax=None):
    """STE-QAT re-entry: L(q_t) - L* per step for each bit width and PTQ start, tau and hits marked."""
    ax = _ax(ax)
    tau, step = float(ds.attrs["tau"]), ds.step.values
    colors = plt.cm.viridis(np.linspace(0, 0.9, ds.sizes["bits"]))
    for c, b in zip(colors, ds.bits.values, strict=False):
        for m in ds.ptq.values:
            sel = ds.sel(bits=b, ptq=m)
            rise = np.maximum(sel.qat_loss.values - float(ds.attrs["loss_star"]), 1e-6)
            ax.plot(step, rise, color=c, ls="-" if m == "rtn" else ":", lw=1.2, label=f"{m} {int(b)}-bit")
            h = int(sel.hit_time)
            if h >= 0:
                ax.plot([h], [rise[h]], "*", color=c, ms=9, mec="k")
    ax.axhline(tau, color="grey", ls="--", lw=1, label=f"tau = {tau:g}")
    ax.set_yscale("log")
    ax.set_xlabel("STE step t")
    ax.set_ylabel("L(Q(w_t)) - L*")
    ax.set_title(f"{ds.attrs.get('model', '')}: QAT re-entry (star: first step in basin)")
    ax.legend(fontsize=6, ncol=2)
    return ax


def plot_qat_rho(ds, ax=None):
    """rho(q_t) = ||v_i / r_i|| per STE step: the sharp-subspace offset in units of basin widths."""
    ax = _ax(ax)
    colors = plt.cm.viridis(np.linspace(0, 0.9, ds.sizes["bits"]))
    for c, b in zip(colors, ds.bits.values, strict=False):
        for m in ds.ptq.values:
            ax.plot(ds.step.values, ds.qat_rho.sel(bits=b, ptq=m).values, color=c,
                    ls="-" if m == "rtn" else ":", lw=1.2, label=f"{m} {int(b)}-bit")
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="rho = 1 (basin widths)")
    ax.set_xlabel("STE step t")
    ax.set_ylabel("rho(Q(w_t))")
    ax.legend(fontsize=6, ncol=2)
    return ax
