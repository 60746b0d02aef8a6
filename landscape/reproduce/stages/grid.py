"""Figures 1 and 2 as stages: the anatomy of a river-valley landscape and its grid, and RTN's exit law."""

from __future__ import annotations

import numpy as np

import landscape as L
from landscape.plot import anatomy_figure, compare, rtn_exit_figure
from landscape.plot.frame import frame_for
from landscape.reproduce.stage import Stage
from landscape.reproduce.stages.common import rounded, with_units
from landscape.studies import figures_data as studies
from landscape.studies import rtn_study

__all__ = ["ANATOMY", "RTN_EXIT"]


# -- figure 1 ---------------------------------------------------------------------------------------
def _anatomy(cfg, key):
    ds = studies.anatomy_dataset(
        cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa, key, n_mesh=cfg.n_mesh
    )
    ls, qz = studies.rotated_case(cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa)
    fr = frame_for(ls)
    x, y = ds["x"].values, ds["y"].values
    g = fr.grid_points(qz, (x.min(), x.max()), (y.min(), y.max()))
    ds = ds.assign(
        grid_x=(("grid",), g[:, 0], {"long_name": "grid point, w1", "units": "weight units"}),
        grid_y=(("grid",), g[:, 1], {"long_name": "grid point, w2", "units": "weight units"}),
    )
    ds.attrs.update(frame=fr.name, xlabel=fr.xlabel, ylabel=fr.ylabel)
    return {"fig1_anatomy": with_units(ds)}


def _anatomy_numbers(cfg, dss):
    ds = dss["fig1_anatomy"]
    rho = {str(p): float(ds["point_rho"].sel(point=p)) for p in ds["point"].values}
    loss = {str(p): float(ds["point_loss"].sel(point=p)) for p in ds["point"].values}
    rb = cfg.anatomy_basin_radius
    return {
        "theta": cfg.anatomy_theta,
        "step": cfg.anatomy_step,
        "basin_radius": rb,
        "kappa": cfg.kappa,
        "delta_perp": ds.attrs["delta_perp"],
        "max_flip_size": ds.attrs["max_flip_size"],
        "rho": rho,
        "loss": loss,
        "oracle_source": ds.attrs["oracle_source"],
        "rel_rtn": compare(rho["rtn"], rb),
        "rel_oracle": compare(rho["oracle"], rb),
        "rel_dp": compare(ds.attrs["delta_perp"], rb),
    }


ANATOMY = Stage(
    "fig1_anatomy",
    "Anatomy of a river-valley landscape and its grid",
    _anatomy,
    anatomy_figure,
    _anatomy_numbers,
    "A 2-D river at angle theta = {theta} rad inside a valley with a flat basin of radius r_b = "
    "{basin_radius} and quadratic walls (kappa = {kappa}), quantized on the grid {step} Z^2. The trained "
    "point w* lies on the river (rho = {rho[trained]:.3g}); round-to-nearest moves it to rho = "
    "{rho[rtn]:.3f} {rel_rtn} r_b (loss {loss[rtn]:.3g}), while the best corner of the same rounding cell "
    "({oracle_source}) has rho = {rho[oracle]:.3f} {rel_oracle} r_b (loss {loss[oracle]:.3g}). Here "
    "delta_perp = {delta_perp:.3f} {rel_dp} r_b.",
)


# -- figure 2 ---------------------------------------------------------------------------------------
def _rtn(cfg, key):
    ds = rtn_study.rtn_exit_dataset(
        cfg.rtn_thetas, cfg.rtn_dks, cfg.rtn_ratios, cfg.rtn_points, key, basin_radius=cfg.rtn_basin_radius
    )
    n = cfg.rtn_points
    for v in ("2d", "hd"):
        lo, hi = L.wilson_interval(np.rint(ds[f"sim_exit_{v}"].values * n), n)
        dims = ds[f"sim_exit_{v}"].dims
        ds[f"exit_lo_{v}"] = (dims, lo, {"long_name": "Wilson 95% interval, low", "units": "1"})
        ds[f"exit_hi_{v}"] = (dims, hi, {"long_name": "Wilson 95% interval, high", "units": "1"})
    return {"fig2_rtn_exit": with_units(ds)}


def _rtn_numbers(cfg, dss):
    ds = dss["fig2_rtn_exit"]
    agree = rtn_study.agreement(ds)
    hd = float(np.max(np.abs(ds["sim_exit_hd"].values - ds["gaussian_limit_hd"].values)))
    return {
        "ratios": [float(r) for r in ds["ratio"].values],
        "thetas": [float(t) for t in ds["theta"].values],
        "simulated_2d": ds["sim_exit_2d"].values.round(4).tolist(),
        "closed_form_2d": ds["closed_form_2d"].values.round(4).tolist(),
        "closed_form_source_2d": ds.attrs["closed_form_source_2d"],
        "agreement_2d": agree,
        "dk": [str(x) for x in ds["dk"].values],
        "simulated_hd": ds["sim_exit_hd"].values.round(4).tolist(),
        "gaussian_limit_hd": ds["gaussian_limit_hd"].values.round(4).tolist(),
        "max_abs_diff_hd_vs_gaussian": rounded(hd, 4),
        "n_points_per_cell": cfg.rtn_points,
        "n_thetas": len(cfg.rtn_thetas),
        "n_ratios": len(cfg.rtn_ratios),
    }


RTN_EXIT = Stage(
    "fig2_rtn_exit",
    "RTN exit probability against grid step / basin radius",
    _rtn,
    rtn_exit_figure,
    _rtn_numbers,
    "RTN exit fraction over {n_points_per_cell} trained points per cell, spread along the river, against the "
    "closed form. In 2-D ({n_thetas} angles x {n_ratios} step ratios) the simulation and the exact law "
    "({closed_form_source_2d}) differ by at most {agreement_2d[max_abs_diff]:.4f}; every cell within the "
    "stated error ({agreement_2d[stated_error]}): {within} (largest |diff| / tolerance = "
    "{agreement_2d[max_diff_over_tolerance]:.2f}). In high dimension the Gaussian limit P(chi2_k > 12 r_b^2 "
    "/ Delta^2) is within {max_abs_diff_hd_vs_gaussian} of the simulation (an approximation; no error bound "
    "is claimed). Intervals in the figure are Wilson 95% intervals. (Angles with a rational slope, such as "
    "pi/4, are avoided: their residuals do not equidistribute along the river.)",
    phrases=lambda nums: {"within": "yes" if nums["agreement_2d"]["agree"] else "NO"},
)
