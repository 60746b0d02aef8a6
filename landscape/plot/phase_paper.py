"""Figure 5: the dense phase diagram of STE recovery from RTN-failed points, with what is proved drawn on it.

* :func:`phase_panel` (Axes-level: ``ax=None`` draws on a new figure, returns the Axes) colours the cells of
  ``landscape.studies.phase_study.phase_dataset`` over (step / r_b, max flip / r_b) by one variable and
  draws the *proved region* (hatched: at least :data:`PROVED_LEVEL` of the cell's RTN-failed starts
  certified in advance by a theorem: K1, K1P or S5), the *refuted region* (at least half the starts
  refuted: an empty band or an exact cycle), the
  *simulated boundary* (recovery probability 1/2) and the line delta_perp = r_b (RTN cannot fail left of it).
* :func:`plot_phase_diagram` -- the panels of the paper figure (recovery probability, median T; and, when
  the dataset has them, panel (c): k >= 2 sharp directions, and in the title the dyadic family's record,
  :func:`dyadic_line`).
* :func:`sharp_panel` -- panel (c): the ``sharp_*`` variables (:func:`landscape.studies.figures_data.
  sharp_panel_dataset`, merged by the reproduce stage) over (step / r_b, rho(w*) / r_b), coloured by the
  recovery probability; cells with at least :data:`PROVED_LEVEL` of the starts certified hatched, at least
  half refuted outlined, at least half unknown dotted; the bottom row (trained points on the river's
  centre, regime ``ptq_failed``) set apart from the rows above (inside the basin, RTN outside: regime
  ``in_basin``); the line ``2 delta_perp = r_b`` (S5 can apply left of it).

Every label is computed from the dataset (dimension, starts per cell, horizon, certificate record).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from landscape.plot.style import DOUBLE_COLUMN, OKABE_ITO, paper_style

__all__ = [
    "phase_panel",
    "plot_phase_diagram",
    "phase_legend_handles",
    "sharp_panel",
    "sharp_legend_handles",
    "dyadic_line",
    "PROVED_LEVEL",
]

#: a cell is in the proved region when at least this fraction of its RTN-failed starts is certified in
#: advance by a theorem (K1, K1P; S5 never certifies a start on the river)
PROVED_LEVEL = 0.9

_LABELS = {
    "recovery_prob": r"$P(T \leq T_{\mathrm{run}})$ over RTN-failed starts",
    "median_T": r"median $T$ (steps)",
    "certified_prob": "fraction certified by a theorem",
    "refuted_prob": "fraction refuted",
}


def _edges(c):
    c = np.asarray(c, float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def _grid(ds):
    """Cell corners and centres in the plotted coordinates (x = step / r_b, y = alpha step / r_b)."""
    r, a = ds["step_ratio"].values, ds["alpha"].values
    re, ae = np.meshgrid(_edges(r), _edges(a), indexing="ij")
    rc, ac = np.meshgrid(r, a, indexing="ij")
    return re, re * ae, rc, rc * ac


def _norm(ds, var):
    v = ds[var].values
    fin = v[np.isfinite(v)]
    if var == "median_T":
        lo = max(1.0, float(fin.min())) if fin.size else 1.0
        return LogNorm(lo, max(lo * 10, float(fin.max()) if fin.size else 10.0)), "magma_r"
    return Normalize(0, 1), "viridis"


def _hatched(colour: str, hatch: str, label: str) -> Patch:
    """A legend patch for a hatched region (no fill)."""
    return Patch(facecolor="none", edgecolor=OKABE_ITO[colour], hatch=hatch, label=label)


def phase_legend_handles(ds):
    """Legend handles of the overlays (their labels carry the dataset's numbers)."""
    rec = ds.attrs
    return [
        _hatched(
            "green",
            "////",
            f"proved region: >= {100 * PROVED_LEVEL:.0f}% of a cell's starts certified by K1/K1P "
            f"({rec.get('certified_by_theorems', 0)} of {rec.get('starts', 0)} starts overall)",
        ),
        Line2D(
            [],
            [],
            color=OKABE_ITO["vermillion"],
            lw=1.6,
            ls="--",
            label=f"refuted region: >= half refuted (empty band / exact cycle), {rec.get('refuted', 0)} "
            "starts",
        ),
        Line2D([], [], color=OKABE_ITO["black"], lw=1.0, ls=":", label="simulated boundary: recovery = 1/2"),
        Line2D(
            [],
            [],
            color=OKABE_ITO["grey"],
            lw=1.0,
            ls="-.",
            label=r"$\delta_\perp = r_b$ (RTN cannot fail left)",
        ),
        Patch(facecolor="white", edgecolor=OKABE_ITO["grey"], label="no RTN-failed start drawn"),
    ]


#: below this many starts per cell, region boundaries are drawn from 3 x 3 pooled cells (a probability from
#: <= 4 starts takes 5 values, and its contours would outline single cells)
POOL_BELOW = 16


def pooled(field, size: int = 3):
    """The mean of ``field`` over each cell's ``size`` x ``size`` neighbourhood (NaN cells ignored)."""
    from scipy.ndimage import uniform_filter  # noqa: PLC0415

    f = np.asarray(field, float)
    ok = np.isfinite(f)
    num = uniform_filter(np.where(ok, f, 0.0), size=size, mode="nearest")
    den = uniform_filter(ok.astype(float), size=size, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def phase_panel(ds, var: str = "recovery_prob", ax=None, *, colorbar: bool = True, overlays: bool = True):
    """One panel of figure 5: ``var`` per cell over (step / r_b, max flip / r_b), regions drawn; the Axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(DOUBLE_COLUMN / 2, 3.0))
    xe, ye, xc, yc = _grid(ds)
    v = np.ma.masked_invalid(ds[var].values)
    norm, cmap = _norm(ds, var)
    mesh = ax.pcolormesh(xe, ye, v, norm=norm, cmap=cmap, shading="flat", rasterized=True)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, pad=0.02, shrink=0.9).set_label(_LABELS.get(var, var))
    if overlays:
        few = int(ds.attrs.get("n_starts", POOL_BELOW)) < POOL_BELOW
        smooth = pooled if few else np.asarray
        proved = np.nan_to_num(smooth(ds["certified_prob"].values), nan=0.0)
        refuted = np.nan_to_num(smooth(ds["refuted_prob"].values), nan=0.0)
        rec = np.nan_to_num(smooth(ds["recovery_prob"].values), nan=1.0)
        if np.nanmin(proved) < PROVED_LEVEL <= np.nanmax(proved):
            ax.contourf(xc, yc, proved, levels=[PROVED_LEVEL, 1.01], colors="none", hatches=["////"])
        for field, level, colour, style, width in (
            (proved, PROVED_LEVEL, OKABE_ITO["green"], "-", 1.3),
            (refuted, 0.5, OKABE_ITO["vermillion"], "--", 1.6),
            (rec, 0.5, OKABE_ITO["black"], ":", 1.0),
        ):
            if np.nanmin(field) < level < np.nanmax(field) + 1e-12:
                ax.contour(
                    xc, yc, field, levels=[level], colors=[colour], linestyles=[style], linewidths=width
                )
        dp = ds["delta_perp_ratio"].values
        if np.nanmin(dp) < 1 < np.nanmax(dp):
            ax.contour(
                xc, yc, dp, levels=[1.0], colors=[OKABE_ITO["grey"]], linestyles=["-."], linewidths=1.0
            )
    ax.set_xlim(float(xe.min()), float(xe.max()))
    ax.set_ylim(float(ye.min()), float(ye.max()))
    ax.set_xlabel(r"grid step / basin radius, $\Delta / r_b$")
    ax.set_ylabel(r"max flip size / basin radius, $f_{\max} / r_b$")
    return ax


def sharp_legend_handles(ds):
    """Legend handles of panel (c) (labels distinct from panels (a), (b); numbers from the dataset)."""
    a = ds.attrs
    k = int(a["sharp_k"])
    return [
        _hatched(
            "green",
            "\\\\\\\\",
            f"(c) k = {k}: certified cells (>= {100 * PROVED_LEVEL:.0f}% of starts; "
            f"{a['sharp_certified']} of {a['sharp_starts']} starts)",
        ),
        Patch(
            facecolor="none",
            edgecolor=OKABE_ITO["vermillion"],
            lw=1.6,
            ls="--",
            label=f"(c) k = {k}: refuted cells (>= half; {a['sharp_refuted']} starts)",
        ),
        _hatched("grey", "..", f"(c) k = {k}: unknown cells (>= half; {a['sharp_unknown']} starts)"),
        Line2D(
            [],
            [],
            color=OKABE_ITO["blue"],
            lw=1.2,
            label="(c) below: on the river (ptq_failed); above: in_basin",
        ),
        Line2D(
            [],
            [],
            color=OKABE_ITO["purple"],
            lw=1.0,
            ls="-.",
            label=r"(c) $2\delta_\perp = r_b$ (S5 left of it)",
        ),
    ]


def sharp_panel(ds, ax=None, *, colorbar: bool = True):
    """Panel (c) of figure 5 from the ``sharp_*`` variables of ``ds``; the Axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(DOUBLE_COLUMN / 3, 3.0))
    x, y = ds["sharp_step_ratio"].values, ds["sharp_rho_ratio"].values
    xe, ye = _edges(x), _edges(y)
    ye[0] = max(ye[0], 0.0) if y[0] >= 0 else ye[0]  # offsets are >= 0: the bottom row starts at 0
    xe[0] = max(xe[0], 0.0)  # steps are > 0
    v = np.ma.masked_invalid(ds["sharp_recovery_prob"].values)
    mesh = ax.pcolormesh(xe, ye, v.T, norm=Normalize(0, 1), cmap="viridis", shading="flat", rasterized=True)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, pad=0.02, shrink=0.9).set_label("recovery probability")
    cert, ref, unk = (
        np.nan_to_num(ds[f"sharp_{f}_prob"].values) for f in ("certified", "refuted", "unknown")
    )
    for i in range(x.size):
        for j in range(y.size):
            box = (xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j]
            if cert[i, j] >= PROVED_LEVEL:
                ax.add_patch(
                    Rectangle(*box, fill=False, hatch="\\\\\\\\", edgecolor=OKABE_ITO["green"], lw=0)
                )
            if unk[i, j] >= 0.5:
                ax.add_patch(Rectangle(*box, fill=False, hatch="..", edgecolor=OKABE_ITO["grey"], lw=0))
            if ref[i, j] >= 0.5:
                ax.add_patch(Rectangle(*box, fill=False, edgecolor=OKABE_ITO["vermillion"], lw=1.6, ls="--"))
    if y.size > 1 and y[0] == 0.0:
        ax.axhline(ye[1], color=OKABE_ITO["blue"], lw=1.2)
    dp = ds["sharp_delta_perp_ratio"].values
    if dp.size and dp[0] > 0:
        x_half = float(x[0] * 0.5 / dp[0])  # delta_perp grows linearly with the step
        if xe[0] < x_half < xe[-1]:
            ax.axvline(x_half, color=OKABE_ITO["purple"], lw=1.0, ls="-.")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel(r"grid step / basin radius, $\Delta / r_b$")
    ax.set_ylabel(r"trained point's offset, $\rho(w^*) / r_b$")
    ax.set_xticks(x)  # one tick per column and row: the values drawn
    ax.set_yticks(y)
    return ax


def plot_phase_diagram(ds):
    """Figure 5: recovery probability and median T over (step / r_b, max f / r_b), proved/refuted regions."""
    sharp = "sharp_recovery_prob" in ds  # panel (c): k >= 2 (figures_data.sharp_panel_dataset)
    with paper_style():
        fig, axes = plt.subplots(1, 3 if sharp else 2, figsize=(DOUBLE_COLUMN, 3.6), layout="constrained")
        phase_panel(ds, "recovery_prob", axes[0])
        axes[0].set_title("(a) STE recovery probability", loc="left")
        phase_panel(ds, "median_T", axes[1])
        axes[1].set_title("(b) Median first hitting time", loc="left")
        handles = phase_legend_handles(ds)
        if sharp:
            sharp_panel(ds, axes[2])
            a = ds.attrs
            axes[2].set_title(rf"(c) $k = {int(a['sharp_k'])}$, $d = {int(a['sharp_dim'])}$", loc="left")
            handles += sharp_legend_handles(ds)
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=7)
        a = ds.attrs
        cov = a.get("coverage_theorems", float("nan"))
        fig.suptitle(
            rf"STE from RTN-failed trained points ((a), (b): $d = {int(a['dim'])}$, $k = 1$, "
            rf"{ds.sizes['step_ratio']} x {ds.sizes['alpha']} cells, <= {int(a['n_starts'])} starts each, "
            rf"{int(a['num_steps'])} steps"
            + (r"; boundaries over $3 \times 3$ cells" if int(a["n_starts"]) < POOL_BELOW else "")
            + "); "
            + ("\n" if "sharp_recovery_prob" in ds else "")
            + rf"certificate: {a.get('false_certificates', 0)} false, "
            rf"theorems cover {100 * cov:.1f}% of recoveries"
            + dyadic_line(ds),
            fontsize=8,
        )
    return fig


def dyadic_line(ds) -> str:
    """The title line of the dyadic family (exact binary inputs, exact judge; "" when ``ds`` has none)."""
    a = ds.attrs
    if "dyadic_cases" not in a:
        return ""
    n = {key: int(a[f"dyadic_{key}"]) for key in ("k", "cases", "false_certificates", "false_refutations",
                                                  "certified_exact_hits", "exact_hits")}  # fmt: skip
    return (
        f"\ndyadic k = {n['k']} family apart (exact judge): {n['cases']} cases, "
        f"{n['false_certificates']} false certificates, {n['false_refutations']} false refutations, "
        f"{n['certified_exact_hits']}/{n['exact_hits']} entries certified"
    )
