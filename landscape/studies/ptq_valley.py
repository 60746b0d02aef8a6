r"""The geometric failure of second-order PTQ on valleys with wall-free curvature, measured.

Three measurements, each an ``xarray.Dataset`` with the manifest in ``attrs["manifest"]``:

* :func:`valley_exit` -- on :func:`landscape.geometry.valley.valley_landscape` (random N, u, E; Hessian at
  :math:`w^*` equal to :math:`\mu N^\top N + \lambda E^\top E`), the exit fraction
  :math:`P(\rho(q) > r_b)` of every PTQ method (RTN, stochastic rounding, OBQ, GPTQ, AdaRound, the
  exact proxy minimiser for ``d <= 20``) and of the oracle, against
  ``(m, lambda_over_mu, step_over_rb)``; counts per seed and pooled 95 % Wilson intervals
  (:func:`landscape.simulate.outcomes.wilson_interval`); whether ``q`` is the same on the wall-free
  twin (the blindness); and how often ``q`` exits although a corner of ``w*``'s cell lies in the basin
  (``corner``: the least-rho corner, the oracle of the wall alone, exact for ``d <= 20``).
* :func:`valley_recovery` -- STE from the starts that GPTQ put outside the basin (the latent starts at
  the GPTQ point, so that ``Q(w_0) = q_gptq``), with :func:`landscape.run_batch`; outcomes counted by
  :func:`landscape.simulate.outcomes.recovery_stats` (recovered / censored / diverged apart).
* :func:`planar_law` -- the planar valley of :mod:`landscape.laws.valley`: simulated exit fractions
  (trained points with uniformly random grid offsets, so the residual is uniform on the cell) next to
  the exact laws, against ``lambda_over_mu`` and ``step_over_rb``.
"""

from __future__ import annotations

import json
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.geometry.valley import valley_landscape, valley_landscape_3d
from landscape.geometry.walls import quadratic_wall
from landscape.laws import valley as valley_law
from landscape.manifest import manifest
from landscape.ptq import SMALL_DIM_METHODS, oracle, ptq_methods
from landscape.quantizers import uniform_grid
from landscape.simulate import SaveAt, run_batch
from landscape.simulate.outcomes import recovery_stats, wilson_interval

__all__ = ["VALLEY_METHODS", "valley_methods", "valley_exit", "valley_recovery", "planar_law"]

VALLEY_METHODS = (*ptq_methods, "oracle")  # every PTQ method (the registry derives its list from the same)


def valley_methods(dim: int) -> list[str]:
    """The methods measured at dimension d (the exact proxy minimiser only for d <= 20)."""
    return [m for m in VALLEY_METHODS if dim <= SMALL_DIM_METHODS.get(m, dim)]


@partial(jax.jit, static_argnames=("name",))
def _apply(name, landscape, quantizer, w, key):
    if name == "oracle":
        return oracle(landscape, quantizer, w).q
    return ptq_methods[name](landscape, quantizer, w, key)


@jax.jit
def _outside(landscape, q):
    return ~jax.vmap(landscape.in_basin)(q), jax.vmap(landscape.loss)(q)


def _check(n_points, seeds, **positive):
    check_int_at_least("n_points", n_points, 1)
    if len(seeds) == 0:
        raise LandscapeError("seeds must hold at least one seed; got an empty sequence.")
    for name, value in positive.items():
        check_positive(name, np.asarray(value, dtype=float), allow_zero=name == "lambda_over_mu")


def valley_exit(*, dim=16, k=2, ms=(2, 4, 8), lambda_over_mu=(0.0, 1.0, 10.0, 100.0, 1000.0),
                step_over_rb=(1.0, 2.0, 3.0), basin_radius=0.1, kappa=1e3, mu=0.1, n_points=512,
                seeds=(0, 1, 2), s_extent=50.0, spread=1.0) -> xr.Dataset:
    """Exit fraction of every PTQ method and the oracle vs (m, lambda/mu, step/r_b) on random valleys.

    Variables (dims method, m, lambda_over_mu, step_over_rb, seed): ``exit_count``, ``exit_fraction``,
    ``mean_loss`` (walled L(q)), ``same_q_fraction`` (q identical on the wall-free twin; NaN for the oracle),
    ``exit_with_corner_inside`` (q outside while the least-rho corner of the cell is inside). Pooled over
    seeds: ``exit_pooled``, ``exit_lo``, ``exit_hi`` (95 % Wilson). Per cell: ``corner_inside_fraction``.
    """
    _check(n_points, seeds, step_over_rb=step_over_rb, lambda_over_mu=lambda_over_mu, mu=mu,
           basin_radius=basin_radius, kappa=kappa)
    ms = [int(m) for m in ms]
    lams = np.asarray(lambda_over_mu, float)
    ratios = np.asarray(step_over_rb, float)
    names = valley_methods(dim)
    shape = (len(names), len(ms), lams.size, ratios.size, len(seeds))
    res = {v: np.full(shape, np.nan) for v in ("exit_count", "mean_loss", "same_q_fraction",
                                                "exit_with_corner_inside")}
    corner_in = np.full(shape[1:], np.nan)
    corner_exact = True
    for a, m in enumerate(ms):
        for s, seed in enumerate(seeds):
            kl, kw, kq = jax.random.split(jax.random.key(seed), 3)
            for b, lr in enumerate(lams):
                walled = valley_landscape(kl, dim, k, m, wall=quadratic_wall(basin_radius, kappa, mu),
                                          curvature=lr * mu)
                free = walled.replace(wall=quadratic_wall(basin_radius, 0.0, mu))
                w = walled.sample_river(kw, n_points, s_range=(-s_extent, s_extent), spread=spread)
                for c, ratio in enumerate(ratios):
                    quant = uniform_grid(ratio * basin_radius)
                    # the least-rho corner: the oracle of the wall alone (its loss is increasing in rho)
                    best = oracle(walled.base, quant, w)
                    corner_exact &= bool(best.exact)
                    inside = np.asarray(best.rho <= basin_radius)
                    corner_in[a, b, c, s] = inside.mean()
                    for i, name in enumerate(names):
                        q = _apply(name, walled, quant, w, kq)
                        out, loss = (np.asarray(x) for x in _outside(walled, q))
                        res["exit_count"][i, a, b, c, s] = out.sum()
                        res["mean_loss"][i, a, b, c, s] = loss.mean()
                        if name != "oracle":  # the oracle reads the loss: no blindness to test
                            q_free = _apply(name, free, quant, w, kq)
                            same = np.all(np.asarray(q) == np.asarray(q_free), axis=-1)
                            res["same_q_fraction"][i, a, b, c, s] = same.mean()
                        res["exit_with_corner_inside"][i, a, b, c, s] = np.mean(out & inside)
    dims = ("method", "m", "lambda_over_mu", "step_over_rb", "seed")
    total = n_points * len(seeds)
    pooled = res["exit_count"].sum(-1)
    lo, hi = wilson_interval(pooled, total)
    ds = xr.Dataset(
        {name: (dims, val) for name, val in res.items()}
        | {
            "exit_fraction": (dims, res["exit_count"] / n_points),
            "exit_pooled": (dims[:-1], pooled / total),
            "exit_lo": (dims[:-1], lo, {"long_name": "95% Wilson interval, lower end (pooled over seeds)"}),
            "exit_hi": (dims[:-1], hi, {"long_name": "95% Wilson interval, upper end (pooled over seeds)"}),
            "corner_inside_fraction": (dims[1:], corner_in),
        },
        coords={"method": names, "m": ms, "lambda_over_mu": lams, "step_over_rb": ratios,
                "seed": list(seeds)},
    )
    cfg = dict(dim=dim, k=k, ms=ms, lambda_over_mu=lams, step_over_rb=ratios, basin_radius=basin_radius,
               kappa=kappa, mu=mu, n_points=n_points, s_extent=s_extent, spread=spread, methods=names)
    ds.attrs.update(
        description="PTQ exit fractions on random valleys (wall-free curvature lambda along m directions)",
        n_points=n_points, n_total=total, dim=dim, k=k, corner_exact=int(corner_exact),
        manifest=json.dumps(manifest(cfg, seed=list(seeds))),
    )
    return ds


def valley_recovery(*, dim=16, k=2, m=4, lambda_over_mu=1000.0, step_over_rb=2.0, basin_radius=0.1,
                    kappa=1e3, mu=0.1, learning_rate=1e-3, num_steps=2000, n_points=1024, seed=0,
                    ptq="gptq", s_extent=50.0, spread=1.0) -> xr.Dataset:
    """STE from the starts that ``ptq`` (GPTQ) put outside the basin; per-start outcomes and the summary.

    The latent starts at the PTQ point (``Q(w_0) = q_ptq``). Variables (dim start, the failed starts):
    ``hit_time``, ``diverge_time``, ``settle_time``, ``final_loss``, ``switches``, ``ptq_loss``,
    ``oracle_loss``. ``attrs["stats"]``: :func:`recovery_stats` as JSON.
    """
    _check(n_points, (seed,), step_over_rb=step_over_rb, learning_rate=learning_rate)
    check_int_at_least("num_steps", num_steps, 1)
    from landscape.qat import ste

    kl, kw, kq = jax.random.split(jax.random.key(seed), 3)
    land = valley_landscape(kl, dim, k, m, wall=quadratic_wall(basin_radius, kappa, mu),
                            curvature=lambda_over_mu * mu)
    w = land.sample_river(kw, n_points, s_range=(-s_extent, s_extent), spread=spread)
    quant = uniform_grid(step_over_rb * basin_radius)
    q = _apply(ptq, land, quant, w, kq)
    out, loss = (np.asarray(x) for x in _outside(land, q))
    orc = oracle(land, quant, w)
    failed = np.flatnonzero(out)
    if failed.size == 0:
        raise LandscapeError(
            f"{ptq} left no trained point outside the basin; raise lambda_over_mu or step_over_rb.")
    traj = run_batch(land, quant, ste(learning_rate), q[failed], num_steps, key=jax.random.key(seed + 1),
                     save=SaveAt.summary(switches=True))
    st = recovery_stats(traj)
    ds = xr.Dataset(
        {
            "hit_time": (("start",), np.asarray(traj.hit_time)),
            "diverge_time": (("start",), np.asarray(traj.diverge_time)),
            "settle_time": (("start",), np.asarray(traj.settle_time)),
            "final_loss": (("start",), np.asarray(traj.final_loss)),
            "switches": (("start",), np.asarray(traj.switches)),
            "ptq_loss": (("start",), loss[failed]),
            "oracle_loss": (("start",), np.asarray(orc.loss)[failed]),
        },
        coords={"start": failed},
    )
    cfg = dict(dim=dim, k=k, m=m, lambda_over_mu=lambda_over_mu, step_over_rb=step_over_rb,
               basin_radius=basin_radius, kappa=kappa, mu=mu, learning_rate=learning_rate,
               num_steps=num_steps, n_points=n_points, ptq=ptq, s_extent=s_extent, spread=spread)
    ds.attrs.update(
        description=f"STE from the {ptq}-failed starts of a valley (latent starts at the {ptq} point)",
        ptq=ptq, n_points=n_points, n_failed=int(failed.size), ptq_exit_fraction=float(out.mean()),
        settled_fraction=float(np.mean(np.asarray(traj.settle_time) >= 0)),
        stats=json.dumps(st.as_dict()), manifest=json.dumps(manifest(cfg, seed=seed)),
    )
    return ds


def planar_law(*, lambda_over_mu=(1.0, 3.0, 10.0, 30.0, 100.0, 1000.0), step_over_rb=(1.5, 2.0, 2.5),
               basin_radius=0.1, kappa=1e3, mu=0.1, damp=0.01, n_points=4000, seed=0) -> xr.Dataset:
    """The planar valley: simulated exit fractions (uniform residuals) next to the exact laws of valley_law.

    Variables (dims method, lambda_over_mu, step_over_rb): ``simulated``, ``exact`` (the law at R),
    ``lo``/``hi`` (95 % Wilson of the simulation); ``exact_curve`` on the fine grid ``lambda_fine``;
    ``rtn_law`` and ``proxy_limit`` (R -> infinity) per step.
    """
    _check(n_points, (seed,), step_over_rb=step_over_rb, lambda_over_mu=lambda_over_mu)
    lams = np.asarray(lambda_over_mu, float)
    ratios = np.asarray(step_over_rb, float)
    names = ["rtn", "obq", "gptq", "proxy_min", "min_corner"]
    sim = np.full((len(names), lams.size, ratios.size), np.nan)
    exact = np.full_like(sim, np.nan)
    kw, ko = jax.random.split(jax.random.key(seed))
    for b, lr in enumerate(lams):
        wall = quadratic_wall(basin_radius, kappa, mu)
        land = valley_landscape_3d(math.pi / 4, wall=wall, curvature=lr * mu)
        w = land.sample_river(kw, n_points, s_range=(-5.0, 5.0))
        big_r = valley_law.planar_ratio(mu, lr * mu, damp)
        for c, ratio in enumerate(ratios):
            step = ratio * basin_radius
            offs = jax.random.uniform(ko, (n_points, 3), minval=0.0, maxval=step, dtype=w.dtype)
            quant = uniform_grid(step, offset=offs)
            rho = valley_law.planar_rho(basin_radius, step)
            for i, name in enumerate(names):
                if name == "min_corner":
                    q = oracle(land.base, quant, w).q
                else:
                    q = ptq_methods[name](land, quant, w, damp=damp) if name != "rtn" else quant.quantize(w)
                sim[i, b, c] = float(jnp.mean(~jax.vmap(land.in_basin)(q)))
                exact[i, b, c] = float(valley_law.exit_probability(rho, name, big_r))
    lo, hi = wilson_interval(np.round(sim * n_points), n_points)
    rhos = np.array([valley_law.planar_rho(basin_radius, r * basin_radius) for r in ratios])
    fine = np.geomspace(1.0, max(float(lams.max()), 10.0), 61)
    law = valley_law.exit_probability
    curve = np.array([[[float(law(rh, name, valley_law.planar_ratio(mu, x * mu, damp))) for rh in rhos]
                       for x in fine] for name in names])
    ds = xr.Dataset(
        {
            "simulated": (("method", "lambda_over_mu", "step_over_rb"), sim),
            "exact": (("method", "lambda_over_mu", "step_over_rb"), exact),
            "lo": (("method", "lambda_over_mu", "step_over_rb"), lo),
            "hi": (("method", "lambda_over_mu", "step_over_rb"), hi),
            "rtn_law": (("step_over_rb",), np.array([valley_law.rtn_exit(r) for r in rhos])),
            "proxy_limit": (("step_over_rb",), np.array([valley_law.proxy_limit_exit(r) for r in rhos])),
            "exact_curve": (("method", "lambda_fine", "step_over_rb"), curve),
            "ratio_R": (("lambda_over_mu",),
                        np.array([valley_law.planar_ratio(mu, x * mu, damp) for x in lams])),
        },
        coords={"method": names, "lambda_over_mu": lams, "step_over_rb": ratios, "lambda_fine": fine},
    )
    cfg = dict(lambda_over_mu=lams, step_over_rb=ratios, basin_radius=basin_radius, kappa=kappa, mu=mu,
               damp=damp, n_points=n_points)
    ds.attrs.update(description="planar valley: simulated PTQ exit fractions vs the exact laws",
                    n_points=n_points, manifest=json.dumps(manifest(cfg, seed=seed)))
    return ds
