r"""Figure 2's data: the RTN exit fraction, simulated over trained points on the river, and its law.

For trained points spread along a straight river the rounding residual
:math:`e = Q(w^\star) - w^\star` equidistributes on the cell :math:`[-\Delta/2, \Delta/2]^d`,
and RTN leaves the basin with probability :math:`P(\lVert N e\rVert > r_b)`.

The laws live in :mod:`landscape.laws` (one home, verified by the proof layer's step
``irwin_hall_exit_prob``):

* the exact 2-D law -- the weighted Irwin--Hall law ``landscape.laws.rtn_exit_probability`` (mpmath) for
  the cells, and its closed form ``landscape.laws.rtn_exit_probability_2d`` for the curves:
  :math:`d = 2`, :math:`k = 1`: :math:`n\cdot e = aU_1 + bU_2` has a trapezoidal density; with
  :math:`A \le B` the half-widths :math:`|n_j|\Delta/2`, :math:`P(|n\cdot e| > r) = 1 - r/B` for
  :math:`r \le B-A`, :math:`(A+B-r)^2/(4AB)` for :math:`B-A \le r \le A+B`, 0 beyond.
* the Gaussian limit -- large d: :math:`N e \approx \mathcal N(0, \Delta^2/12\, I_k)`, so
  :math:`P \approx P(\chi^2_k > 12 r_b^2/\Delta^2)` (``landscape.laws.chi2_exit``; an approximation, no
  error bound).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape import laws
from landscape.studies.starts import rtn_outside, sample_river

__all__ = ["simulate_rtn_exit", "rtn_exit_dataset", "agreement"]


def simulate_rtn_exit(landscape, quantizer, key, n: int, *, spread: float | None = None):
    """(fraction, n): Monte-Carlo RTN exit fraction over n trained points spread along the river.

    s ~ U(-1000 step, 1000 step) and, for d > 2, flat-direction spread 10 step (or ``spread``).
    For a straight river through the origin the points are drawn in units of the step and
    scaled (the river is invariant under scaling), so one compiled sampler serves every step.
    """
    step = float(np.max(np.asarray(quantizer.step)))
    units = (10.0 if landscape.dim > 2 else 0.0) if spread is None else spread / step
    through_origin = float(landscape.rho(jnp.zeros(landscape.dim))) == 0.0
    if through_origin:
        w = step * sample_river(landscape, key, n, (-1000.0, 1000.0), units)
    else:
        w = sample_river(landscape, key, n, (-1000.0 * step, 1000.0 * step), units * step)
    out = rtn_outside(landscape, quantizer, w)
    return float(np.mean(np.asarray(out))), n


def exact_law_2d():
    """(fn(theta, step, r_b) -> P, source): the exact weighted Irwin-Hall law of landscape.laws in 2-D."""

    def fn(theta, step, basin_radius):
        return laws.rtn_exit_probability(laws.normal_half_widths([-np.sin(theta), np.cos(theta)], step),
                                         basin_radius)

    return fn, "exact weighted Irwin-Hall law (landscape.laws.rtn_exit_probability)"


def rtn_exit_dataset(thetas, dks, ratios, n_points: int, key, basin_radius: float = 0.25) -> xr.Dataset:
    """RTN exit fraction vs step / r_b: 2-D rivers at several theta, and random rivers of several (d, k)."""
    ratios = np.asarray(ratios, dtype=float)
    law, law_source = exact_law_2d()
    fine = np.linspace(ratios.min(), ratios.max(), 141)
    sim2 = np.zeros((len(thetas), len(ratios)))
    cf2 = np.zeros_like(sim2)
    k2, kh = jax.random.split(key)
    for i, th in enumerate(thetas):
        ls = L.rotated_river_2d(float(th), wall=L.quadratic_wall(basin_radius, 10.0))
        for j, r in enumerate(ratios):
            qz = L.uniform_grid(r * basin_radius)
            sim2[i, j], _ = simulate_rtn_exit(ls, qz, jax.random.fold_in(k2, i * 1000 + j), n_points)
            cf2[i, j] = law(float(th), r * basin_radius, basin_radius)
    simh = np.zeros((len(dks), len(ratios)))
    cfh = np.zeros_like(simh)
    dp = np.zeros_like(simh)
    for i, (d, k) in enumerate(dks):
        ls = L.random_river(
            jax.random.fold_in(kh, 7919 * i), int(d), int(k), wall=L.quadratic_wall(basin_radius, 10.0)
        )
        for j, r in enumerate(ratios):
            qz = L.uniform_grid(r * basin_radius)
            simh[i, j], _ = simulate_rtn_exit(ls, qz, jax.random.fold_in(kh, i * 1000 + j), n_points)
            cfh[i, j] = laws.chi2_exit(int(k), r * basin_radius, basin_radius)
            dp[i, j] = L.delta_perp(qz, ls.normals).value / basin_radius
    se2 = np.sqrt(np.clip(sim2 * (1 - sim2), 0, None) / n_points)
    seh = np.sqrt(np.clip(simh * (1 - simh), 0, None) / n_points)
    labels = [f"d={d}, k={k}" for d, k in dks]
    ds = xr.Dataset(
        {
            "sim_exit_2d": (("theta", "ratio"), sim2, {"long_name": "simulated RTN exit fraction (2-D)"}),
            "se_exit_2d": (("theta", "ratio"), se2, {"long_name": "binomial standard error"}),
            "closed_form_2d": (("theta", "ratio"), cf2, {"long_name": "exact law P(|n.e| > r_b)"}),
            "sim_exit_hd": (("dk", "ratio"), simh),
            "se_exit_hd": (("dk", "ratio"), seh),
            "gaussian_limit_hd": (("dk", "ratio"), cfh, {"long_name": "P(chi2_k > 12 r_b^2/step^2)"}),
            "delta_perp_over_rb_hd": (("dk", "ratio"), dp),
            "closed_form_2d_curve": (
                ("theta", "ratio_fine"),
                np.array(
                    [[laws.rtn_exit_probability_2d(float(th), r * basin_radius, basin_radius) for r in fine]
                     for th in thetas]
                ),
                {"long_name": "exact law on a fine grid (trapezoidal closed form)"},
            ),
            "gaussian_limit_hd_curve": (
                ("dk", "ratio_fine"),
                np.array(
                    [
                        [laws.chi2_exit(int(k), r * basin_radius, basin_radius) for r in fine]
                        for _, k in dks
                    ]
                ),
            ),
            "d": (("dk",), np.array([d for d, _ in dks])),
            "k": (("dk",), np.array([k for _, k in dks])),
        },
        coords={"theta": np.asarray(thetas, float), "ratio": ratios, "dk": labels, "ratio_fine": fine},
    )
    ds["ratio"].attrs["long_name"] = "grid step / basin radius"
    ds.attrs.update(
        basin_radius=float(basin_radius),
        n_points=int(n_points),
        closed_form_source_2d=law_source,
        closed_form_source_hd="Gaussian limit P(chi2_k > 12 r_b^2/step^2), approximate",
    )
    return ds


def agreement(ds, n_sigma: float = 4.0) -> dict:
    """Compare simulated and exact 2-D exit fractions: the stated error is n_sigma binomial SEs + 1/n.

    The SE uses the closed-form p (the law under test): sqrt(p (1 - p) / n).
    """
    n = int(ds.attrs["n_points"])
    p = ds["closed_form_2d"].values
    sim = ds["sim_exit_2d"].values
    tol = n_sigma * np.sqrt(p * (1 - p) / n) + 1.0 / n
    diff = np.abs(sim - p)
    return {
        "n_cells": int(p.size),
        "n_points_per_cell": n,
        "max_abs_diff": float(diff.max()),
        "max_diff_over_tolerance": float(np.max(diff / tol)),
        "stated_error": f"{n_sigma:g} binomial standard errors of the closed-form p, plus 1/n",
        "agree": bool(np.all(diff <= tol)),
    }
