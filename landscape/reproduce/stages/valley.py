"""Figure 3 as a stage: Hessian blindness, and the geometric failure of second-order PTQ on valleys.

Panels (a, b): the planar valley (``geometry.valley.valley_landscape_3d``) with and without its wall;
every second-order method returns the same ``q`` on both (the blindness), and with wall-free curvature
``lambda`` it returns a point outside the basin where RTN and the oracle are inside. Panel (c):
``landscape.studies.ptq_valley.valley_exit`` on random valleys. Panel (d): the exact planar law of
``landscape.laws.valley`` against simulation (``planar_law``). The three parts are one Dataset, the parts
(c) and (d) under the prefixes ``vx_`` and ``pl_`` (:func:`prefixed`, :func:`unprefixed`).
"""

from __future__ import annotations

import jax
import numpy as np

from landscape.plot import plot_valley_failure
from landscape.reproduce.stage import Stage, require

__all__ = ["BLINDNESS", "prefixed", "unprefixed"]

#: the points of the planar example, in the order the text names them
_POINTS = ("rtn", "oracle", "obq", "gptq", "adaround", "proxy_min")


def _r(x, nd=4):
    x = float(x)
    return None if not np.isfinite(x) else round(x, nd)


def prefixed(ds, prefix):
    """``ds`` with ``prefix`` on every variable, dimension and attribute (to merge it with other parts)."""
    out = ds.rename({v: f"{prefix}{v}" for v in list(ds.data_vars) + list(ds.dims)})
    out.attrs = {f"{prefix}{k}": v for k, v in ds.attrs.items()}
    return out


def unprefixed(ds, prefix):
    """The part of a merged Dataset that :func:`prefixed` put under ``prefix``, with its own names back."""
    part = ds[[v for v in ds.data_vars if str(v).startswith(prefix)]]
    names = [n for n in list(part.data_vars) + list(part.dims) if str(n).startswith(prefix)]
    part = part.rename({n: str(n)[len(prefix):] for n in names})
    part.attrs = {k[len(prefix):]: v for k, v in ds.attrs.items() if k.startswith(prefix)}
    return part


def _blindness(cfg, key):
    """The planar twin, the random valleys' exit fractions and the planar law, merged into one Dataset."""
    require("landscape.ptq", "ptq_methods", "oracle", "proxy_minimizer")
    valley_exit, planar_law = require("landscape.studies.ptq_valley", "valley_exit", "planar_law")
    from landscape.studies.ptq_study import valley_twin_dataset  # noqa: PLC0415

    rb, mu, kappa = cfg.valley_basin_radius, cfg.valley_mu, cfg.valley_kappa
    twin = valley_twin_dataset(cfg.valley_step, rb, kappa, mu, cfg.valley_picture_lambda, cfg.valley_points,
                               jax.random.fold_in(key, 3), n_mesh=cfg.n_mesh)
    vx = valley_exit(dim=cfg.valley_dim, k=cfg.valley_k, ms=(cfg.valley_m,),
                     lambda_over_mu=cfg.valley_lambdas, step_over_rb=cfg.valley_ratios, basin_radius=rb,
                     kappa=kappa, mu=mu, n_points=cfg.valley_points, seeds=tuple(cfg.valley_seeds))
    pl = planar_law(lambda_over_mu=cfg.planar_lambdas, step_over_rb=(cfg.valley_step / rb,), basin_radius=rb,
                    kappa=kappa, mu=mu, n_points=cfg.planar_points, seed=int(cfg.seed))
    ds = twin.merge(prefixed(vx, "vx_")).merge(prefixed(pl, "pl_"))
    ds.attrs = {**twin.attrs, **prefixed(vx, "vx_").attrs, **prefixed(pl, "pl_").attrs}
    return {"fig3_hessian_blindness": ds}


def _twin_numbers(cfg, twin):
    methods = [str(m) for m in twin["ptq_method"].values]
    rb = cfg.valley_basin_radius
    return {
        "exit_rate": {m: _r(twin["exit_rate"].sel(ptq_method=m)) for m in methods},
        "same_q_walled_vs_wallfree": {m: _r(twin["same_q"].sel(ptq_method=m))
                                      for m in methods if m != "oracle"},
        "lambda_over_mu": cfg.valley_picture_lambda,
        "n_points": cfg.valley_points,
        "example_in_basin": {str(p): float(twin["point_rho"].sel(point=p)) <= rb
                             for p in twin["point"].values},
    }


def _valley_exit_numbers(cfg, vx):
    r2 = float(vx["step_over_rb"].values[np.argmin(np.abs(vx["step_over_rb"].values - 2.0))])
    sub = vx.sel({"m": cfg.valley_m, "step_over_rb": r2})
    measured = {}
    for lam in sub["lambda_over_mu"].values:
        row = sub.sel({"lambda_over_mu": lam})
        measured[f"{lam:g}"] = {
            str(m): [_r(row["exit_pooled"].sel({"method": m})), _r(row["exit_lo"].sel({"method": m})),
                     _r(row["exit_hi"].sel({"method": m}))] for m in row["method"].values}
    big = [lam for lam in sub["lambda_over_mu"].values if lam >= 100]
    separated = {f"{lam:g}": bool(float(sub["exit_lo"].sel({"method": "gptq", "lambda_over_mu": lam}))
                                  > float(sub["exit_hi"].sel({"method": "rtn", "lambda_over_mu": lam})))
                 for lam in big}
    return {"dim": cfg.valley_dim, "k": cfg.valley_k, "m": cfg.valley_m, "step_over_rb": r2,
            "n_points_pooled": int(vx.attrs["n_total"]), "exit_fraction_wilson95": measured,
            "gptq_above_rtn_interval_separated": separated}


def _planar_law_numbers(cfg, pl):
    ratio = cfg.valley_step / cfg.valley_basin_radius
    pls = pl.sel({"step_over_rb": ratio})
    planar = {str(m): {"simulated": [_r(v) for v in pls["simulated"].sel({"method": m}).values],
                       "exact": [_r(v) for v in pls["exact"].sel({"method": m}).values]}
              for m in pls["method"].values}
    return {"lambda_over_mu": [float(x) for x in pls["lambda_over_mu"].values], "step_over_rb": ratio,
            "n_points": cfg.planar_points, "methods": planar, "proxy_limit": _r(pls["proxy_limit"]),
            "rtn_law": _r(pls["rtn_law"])}


def _blindness_numbers(cfg, dss):
    ds = dss["fig3_hessian_blindness"]
    twin = _twin_numbers(cfg, ds)
    return {
        "planar_twin": twin,
        "valley_exit": _valley_exit_numbers(cfg, unprefixed(ds, "vx_")),
        "planar_law": _planar_law_numbers(cfg, unprefixed(ds, "pl_")),
        "basin_radius": cfg.valley_basin_radius, "kappa": cfg.valley_kappa, "mu": cfg.valley_mu,
        "gptq_exit_planar": twin["exit_rate"]["gptq"],
        "proxy_min_exit_planar": twin["exit_rate"]["proxy_min"],
        "rtn_exit_planar": twin["exit_rate"]["rtn"],
        "oracle_in_basin_rate_planar": _r(1 - float(ds["exit_rate"].sel(ptq_method="oracle"))),
    }


def _blindness_phrases(nums):
    twin, vx = nums["planar_twin"], nums["valley_exit"]
    top = max(vx["exit_fraction_wilson95"], key=float)
    row = vx["exit_fraction_wilson95"][top]
    pin = twin["example_in_basin"]
    return {
        "same_pct": ", ".join(f"{100 * v:.0f}%" for v in twin["same_q_walled_vs_wallfree"].values()),
        "inside": ", ".join(p for p in _POINTS if pin[p]) or "none",
        "outside": ", ".join(p for p in _POINTS if not pin[p]) or "none",
        "top_lambda": top,
        "exits_at_top": ", ".join(f"{m} {v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" for m, v in row.items()),
        "separated": ", ".join(
            f"{k} ({'yes' if v else 'NO'})" for k, v in vx["gptq_above_rtn_interval_separated"].items()
        ),
    }


BLINDNESS = Stage(
    "fig3_hessian_blindness",
    "Hessian blindness of second-order PTQ",
    _blindness,
    plot_valley_failure,
    _blindness_numbers,
    "Panels (a, b): the planar valley (d = 3; in the (w1, w2) plane the walled normal n and the wall-free "
    "curved direction e lie on the diagonals of the grid's cells; lambda/mu = "
    "{planar_twin[lambda_over_mu]:g}, kappa = {kappa:g}, mu = {mu:g}, step / r_b = "
    "{planar_law[step_over_rb]:g}) and its wall-free twin. Over {planar_twin[n_points]} trained points "
    "with uniform residuals, OBQ, GPTQ, AdaRound and the exact proxy minimiser return the same q with and "
    "without the wall for {same_pct} of points, and leave the basin for GPTQ "
    "{planar_twin[exit_rate][gptq]:.3f}, exact proxy minimiser {planar_twin[exit_rate][proxy_min]:.3f}, "
    "OBQ {planar_twin[exit_rate][obq]:.3f}, AdaRound {planar_twin[exit_rate][adaround]:.3f}, against RTN "
    "{planar_twin[exit_rate][rtn]:.3f} and the oracle {planar_twin[exit_rate][oracle]:.3f}. In the example "
    "drawn, inside the basin: {inside}; outside: {outside}. Panel (c), random valleys d = "
    "{valley_exit[dim]}, k = {valley_exit[k]}, m = {valley_exit[m]}, step / r_b = "
    "{valley_exit[step_over_rb]:g}, {valley_exit[n_points_pooled]} trained points per cell, exit fraction "
    "[95% Wilson] at lambda/mu = {top_lambda}: {exits_at_top}. GPTQ's interval lies above RTN's at "
    "lambda/mu = {separated}. Second-order PTQ leaves the basin often once the Hessian at w* has "
    "curvature where no wall is: the proxy trades rounding error out of the curved directions into the "
    "cheap-looking walled ones. Panel (d): on the planar valley the exit probability of each method is an "
    "exact law (exact polygon areas, landscape.laws.valley); RTN's is (1 - rho)^2 = {planar_law[rtn_law]}, "
    "the exact proxy minimiser's tends to 1 - rho = {planar_law[proxy_limit]} as lambda/mu grows "
    "(statement S2V of docs/theory.md). The oracle (the best corner of the cell) leaves "
    "the basin for {planar_twin[exit_rate][oracle]:.3f} of the points, so a corner inside the basin exists "
    "for the rest of them, not for every point.",
    phrases=_blindness_phrases,
)
