r"""The geometric failure mode of PTQ, measured (DESIGN.md section 1, first bullet).

Four measurements, each an ``xarray.Dataset`` with the manifest (config, seed, versions,
git commit) in ``attrs["manifest"]`` (see :func:`landscape.manifest.save_dataset`):

* :func:`rtn_exit_vs_step` -- RTN exit fraction :math:`P(\rho(Q(w^*)) > r_b)` over trained
  points spread along the river (many ``s``, so the rounding residual equidistributes), as a
  function of ``step / r_b``; dims ``(step_over_rb, seed)``.
* :func:`rtn_exit_vs_theta` -- the same in 2-D as a function of the river's angle
  :math:`\theta`, next to a Monte-Carlo of the rounding residual
  :math:`e \sim U[-\Delta/2, \Delta/2]^2` and the closed form
  ``landscape.laws.rtn_exit_probability_2d``; dims ``(theta, seed)``.
* :func:`rtn_exit_vs_dk` -- in high dimension, dims ``(d, k, seed)``.
* :func:`compare_methods` -- Hessian blindness and deployed loss: the walled landscape and
  its wall-free twin (``quadratic_wall(r_b, kappa=0, mu)``: identical inside the basin);
  every PTQ method on both, the oracle on the walled one; dims
  ``(method, step_over_rb, seed)``.
"""

from __future__ import annotations

import json
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from landscape import laws
from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.geometry import random_river, rotated_river_2d
from landscape.geometry.walls import quadratic_wall
from landscape.manifest import manifest
from landscape.ptq import SMALL_DIM_METHODS, oracle, ptq_methods
from landscape.ptq.hessian import dense_hessian, quadratic_proxy
from landscape.quantizers import uniform_grid

__all__ = [
    "rtn_exit_vs_step",
    "rtn_exit_vs_theta",
    "rtn_exit_vs_dk",
    "compare_methods",
    "run_all",
]


def _manifest_json(config: dict, seeds) -> str:
    return json.dumps(manifest(config, seed=list(seeds)))


@jax.jit
def _rtn_exit(landscape, quantizer, w):
    q = quantizer.quantize(w)
    return jnp.mean(jax.vmap(landscape.rho)(q) > landscape.basin_radius)


def _check_common(n_points, seeds, step_over_rb):
    check_int_at_least("n_points", n_points, 1)
    if len(seeds) == 0:
        raise LandscapeError("seeds must hold at least one seed; got an empty sequence.")
    check_positive("step_over_rb", np.asarray(step_over_rb, dtype=float))


def rtn_exit_vs_step(*, step_over_rb=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0), dim=2, k=1, theta=None,
                     basin_radius=0.1, n_points=4096, seeds=(0, 1, 2), s_extent=2000.0) -> xr.Dataset:
    """RTN exit fraction P(rho(Q(w*)) > r_b) vs step/r_b over w* ~ U(river, |s| <= s_extent * step)."""
    _check_common(n_points, seeds, step_over_rb)
    ratios = np.asarray(step_over_rb, dtype=float)
    out = np.zeros((ratios.size, len(seeds)))
    for j, seed in enumerate(seeds):
        kl, kw = jax.random.split(jax.random.key(seed))
        wall = quadratic_wall(basin_radius, 10.0, 0.0)
        if dim == 2 and k == 1:
            th = theta
            if th is None:
                th = float(jax.random.uniform(kl, minval=0.05, maxval=math.pi / 2 - 0.05))
            land = rotated_river_2d(th, wall=wall)
        else:
            land = random_river(kl, dim, k, wall=wall)
        for i, ratio in enumerate(ratios):
            step = ratio * basin_radius
            w = land.sample_river(kw, n_points, s_range=(-s_extent * step, s_extent * step))
            out[i, j] = float(_rtn_exit(land, uniform_grid(step), w))
    ds = xr.Dataset(
        {"exit_fraction": (("step_over_rb", "seed"), out)},
        coords={"step_over_rb": ratios, "seed": list(seeds)},
    )
    cfg = dict(step_over_rb=ratios, dim=dim, k=k, theta=theta, basin_radius=basin_radius,
               n_points=n_points, s_extent=s_extent)
    ds.attrs.update(description="RTN exit fraction vs step/r_b", manifest=_manifest_json(cfg, seeds))
    return ds


def rtn_exit_vs_theta(*, thetas=None, step_over_rb=2.5, basin_radius=0.1, n_points=4096,
                      n_mc=100_000, seeds=(0, 1, 2), s_extent=2000.0) -> xr.Dataset:
    """2-D RTN exit fraction vs the river angle theta, next to a residual Monte-Carlo and the closed form."""
    _check_common(n_points, seeds, step_over_rb)
    check_int_at_least("n_mc", n_mc, 1)
    # default angles avoid rational slopes: at theta = pi/4 the river points' residuals lie on a
    # diagonal (no equidistribution) and the exit fraction along the river is 0, not the closed form
    thetas = np.linspace(0.05, 0.75, 8) if thetas is None else np.asarray(thetas, dtype=float)
    step = step_over_rb * basin_radius
    sim = np.zeros((thetas.size, len(seeds)))
    mc = np.zeros((thetas.size, len(seeds)))
    for j, seed in enumerate(seeds):
        kw, ke = jax.random.split(jax.random.key(seed))
        e = jax.random.uniform(ke, (n_mc, 2), minval=-step / 2, maxval=step / 2)
        for i, th in enumerate(thetas):
            land = rotated_river_2d(float(th), wall=quadratic_wall(basin_radius, 10.0, 0.0))
            w = land.sample_river(kw, n_points, s_range=(-s_extent * step, s_extent * step))
            sim[i, j] = float(_rtn_exit(land, uniform_grid(step), w))
            mc[i, j] = float(jnp.mean(jnp.abs(e @ land.normals[0]) > basin_radius))
    # the exact law in units of r_b (step = step_over_rb, r_b = 1)
    closed = np.array([laws.rtn_exit_probability_2d(float(t), step_over_rb, 1.0) for t in thetas])
    ds = xr.Dataset(
        {
            "exit_fraction": (("theta", "seed"), sim),
            "mc_residual_exit": (("theta", "seed"), mc),
            "closed_form_exit": (("theta",), closed),
        },
        coords={"theta": thetas, "seed": list(seeds)},
    )
    cfg = dict(thetas=thetas, step_over_rb=step_over_rb, basin_radius=basin_radius, n_points=n_points,
               n_mc=n_mc, s_extent=s_extent)
    ds.attrs.update(description="2-D RTN exit fraction vs theta", manifest=_manifest_json(cfg, seeds))
    return ds


def rtn_exit_vs_dk(*, dims=(64, 256), ks=(1, 4, 16), step_over_rb=1.0, basin_radius=0.1, n_points=2048,
                   seeds=(0, 1, 2), s_extent=50.0) -> xr.Dataset:
    """RTN exit fraction vs (d, k) at fixed step/r_b (random straight rivers; NaN where k >= d)."""
    _check_common(n_points, seeds, step_over_rb)
    step = step_over_rb * basin_radius
    out = np.full((len(dims), len(ks), len(seeds)), np.nan)
    for a, d in enumerate(dims):
        for b, k in enumerate(ks):
            if k >= d:
                continue
            for j, seed in enumerate(seeds):
                kl, kw = jax.random.split(jax.random.key(seed))
                land = random_river(kl, d, k, wall=quadratic_wall(basin_radius, 10.0, 0.0))
                w = land.sample_river(kw, n_points, s_range=(-s_extent, s_extent), spread=1.0)
                out[a, b, j] = float(_rtn_exit(land, uniform_grid(step), w))
    ds = xr.Dataset(
        {"exit_fraction": (("d", "k", "seed"), out)},
        coords={"d": list(dims), "k": list(ks), "seed": list(seeds)},
    )
    cfg = dict(dims=list(dims), ks=list(ks), step_over_rb=step_over_rb, basin_radius=basin_radius,
               n_points=n_points, s_extent=s_extent)
    ds.attrs.update(description="RTN exit fraction vs (d, k)", manifest=_manifest_json(cfg, seeds))
    return ds


# --------------------------------------------------------------------------------------
# Hessian blindness and deployed loss of every method
# --------------------------------------------------------------------------------------
@partial(jax.jit, static_argnames=("name",))
def _apply(name, landscape, quantizer, w, key):
    return ptq_methods[name](landscape, quantizer, w, key)


@jax.jit
def _oracle(landscape, quantizer, w):
    return oracle(landscape, quantizer, w)


@jax.jit
def _metrics(walled, w, q):
    rho = jax.vmap(walled.rho)(q)
    loss = jax.vmap(walled.loss)(q)
    proxy = quadratic_proxy(walled, w, q)
    return rho > walled.basin_radius, loss, proxy


def compare_methods(*, dim=16, k=2, step_over_rb=(0.5, 1.0, 2.0, 3.0), basin_radius=0.1, kappa=10.0,
                    mu=0.1, n_points=256, seeds=(0, 1, 2), s_extent=50.0) -> xr.Dataset:
    """Every PTQ method on the walled landscape and its wall-free twin, next to the oracle.

    Variables (dims method, step_over_rb, seed): ``exit_fraction`` (rho(q) > r_b on the walled
    landscape), ``mean_loss`` (walled L(q)), ``median_loss``, ``mean_proxy`` ((q - w*)^T H (q - w*)),
    ``same_q_fraction`` (q identical on both landscapes), ``exit_with_oracle_inside`` (q outside
    the basin while the oracle's corner of the same cell, within one step in l_inf, is inside).
    Per (step_over_rb, seed): ``hessian_max_diff`` between the two landscapes at w*.
    """
    _check_common(n_points, seeds, step_over_rb)
    ratios = np.asarray(step_over_rb, dtype=float)
    names = [n for n in ptq_methods if dim <= SMALL_DIM_METHODS.get(n, dim)] + ["oracle"]
    shape = (len(names), ratios.size, len(seeds))
    res = {v: np.full(shape, np.nan) for v in ("exit_fraction", "mean_loss", "median_loss", "mean_proxy",
                                                "same_q_fraction", "exit_with_oracle_inside")}
    hdiff = np.zeros((ratios.size, len(seeds)))
    exact = None
    for j, seed in enumerate(seeds):
        kl, kw, ks = jax.random.split(jax.random.key(seed), 3)
        walled = random_river(kl, dim, k, wall=quadratic_wall(basin_radius, kappa, mu))
        free = walled.replace(wall=quadratic_wall(basin_radius, 0.0, mu))
        w = walled.sample_river(kw, n_points, s_range=(-s_extent, s_extent), spread=1.0)
        h_w, h_f = dense_hessian(walled, w[0]), dense_hessian(free, w[0])
        for i, ratio in enumerate(ratios):
            quant = uniform_grid(ratio * basin_radius)
            hdiff[i, j] = float(jnp.max(jnp.abs(h_w - h_f)))
            orc = _oracle(walled, quant, w)
            exact = orc.exact
            orc_inside = np.asarray(orc.rho <= basin_radius)
            for m, name in enumerate(names):
                if name == "oracle":
                    q_w = q_f = orc.q
                else:
                    q_w = _apply(name, walled, quant, w, ks)
                    q_f = _apply(name, free, quant, w, ks)
                out, loss, proxy = (np.asarray(a) for a in _metrics(walled, w, q_w))
                res["exit_fraction"][m, i, j] = out.mean()
                res["mean_loss"][m, i, j] = loss.mean()
                res["median_loss"][m, i, j] = np.median(loss)
                res["mean_proxy"][m, i, j] = proxy.mean()
                res["same_q_fraction"][m, i, j] = np.mean(np.all(np.asarray(q_w) == np.asarray(q_f), axis=-1))
                res["exit_with_oracle_inside"][m, i, j] = np.mean(out & orc_inside)
    ds = xr.Dataset(
        {name: (("method", "step_over_rb", "seed"), val) for name, val in res.items()}
        | {"hessian_max_diff": (("step_over_rb", "seed"), hdiff)},
        coords={"method": names, "step_over_rb": ratios, "seed": list(seeds)},
    )
    cfg = dict(dim=dim, k=k, step_over_rb=ratios, basin_radius=basin_radius, kappa=kappa, mu=mu,
               n_points=n_points, s_extent=s_extent, methods=names)
    ds.attrs.update(
        description="PTQ methods on a walled landscape and its wall-free twin, with the oracle",
        oracle_exact=int(bool(exact)),
        oracle_method=orc.method,
        manifest=_manifest_json(cfg, seeds),
    )
    return ds


def run_all(quick: bool = False, seed: int = 0, family: str = "all", valley: dict | None = None,
            progress=None) -> dict[str, xr.Dataset]:
    """The measurements (quick: small sizes, one seed, seconds); name -> Dataset.

    ``family``: "river" (the RTN exit laws and the walled/wall-free pair), "valley" (the valley family of
    :mod:`landscape.studies.ptq_valley`: exit fractions, STE recovery from GPTQ failures, the planar
    law) or "all". ``valley``: keyword overrides of :func:`~landscape.studies.ptq_valley.valley_exit`
    (e.g. ``dim=4096, ms=(16,), n_points=64``). ``progress(name, done, total)`` is called after each
    measurement (the CLI prints a line).
    """
    if family not in ("river", "valley", "all"):
        raise LandscapeError(f"family must be 'river', 'valley' or 'all'; got {family!r}.")
    todo = {} if family == "valley" else _river_all(quick, seed)
    if family != "river":
        todo |= _valley_all(quick, seed, dict(valley or {}))
    out = {}
    for name, measure in todo.items():
        out[name] = measure()
        if progress is not None:
            progress(name, len(out), len(todo))
    return out


def _valley_all(quick: bool, seed: int, overrides: dict) -> dict:
    """name -> a thunk computing one measurement of the valley family."""
    from landscape.studies import ptq_valley as pv

    seeds = (seed,) if quick else (seed, seed + 1, seed + 2)
    if quick:
        exit_kw = dict(ms=(4,), lambda_over_mu=(0.0, 100.0, 1000.0), step_over_rb=(2.0,), n_points=128,
                       seeds=seeds)
        planar_kw = dict(lambda_over_mu=(1.0, 100.0), step_over_rb=(2.0,), n_points=1000, seed=seed)
        rec_kw = dict(n_points=256, num_steps=300, seed=seed)
    else:
        exit_kw, planar_kw, rec_kw = dict(seeds=seeds), dict(seed=seed), dict(seed=seed)
    exit_kw |= overrides
    return {
        "valley_exit": partial(pv.valley_exit, **exit_kw),
        "valley_planar": partial(pv.planar_law, **planar_kw),
        "valley_recovery": partial(pv.valley_recovery, **rec_kw),
    }


def _river_all(quick: bool, seed: int) -> dict:
    """name -> a thunk computing one measurement of the river family."""
    seeds = (seed,) if quick else (seed, seed + 1, seed + 2)
    if quick:
        return {
            "rtn_exit_step": partial(rtn_exit_vs_step, step_over_rb=(1.0, 2.0, 3.0), n_points=512,
                                     seeds=seeds),
            "rtn_exit_theta": partial(rtn_exit_vs_theta, thetas=(0.2, 0.5, 0.78), n_points=512, n_mc=20_000,
                                      seeds=seeds),
            "rtn_exit_dk": partial(rtn_exit_vs_dk, dims=(32,), ks=(1, 4), n_points=256, seeds=seeds),
            "compare_exact": partial(compare_methods, dim=10, k=2, step_over_rb=(1.0, 2.0), n_points=64,
                                     seeds=seeds),
        }
    return {
        "rtn_exit_step": partial(rtn_exit_vs_step, seeds=seeds),
        "rtn_exit_theta": partial(rtn_exit_vs_theta, seeds=seeds),
        "rtn_exit_dk": partial(rtn_exit_vs_dk, seeds=seeds),
        "compare_exact": partial(compare_methods, seeds=seeds),
        "compare_search": partial(compare_methods, dim=256, k=4, n_points=256, seeds=seeds),
    }
