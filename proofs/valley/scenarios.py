"""Scenarios of S2V and S2L: cases drawn by hypothesis, built and measured with the engine in float64.

* ``planar_valley`` (S2V): the planar valley with random mu, lambda/mu (both sides of 1, so that the
  assumption lambda >= mu can be breached), damping, r_b and Delta; 2000 trained points with uniform grid
  offsets; the engine's RTN, exact proxy minimiser, GPTQ and OBQ, and the least-rho corner (the oracle of
  the wall alone). The exact laws are evaluated in ``prepare`` from :mod:`landscape.laws.valley` with the
  statement's ``rho_factor``, so a mutant of that constant changes the prediction.
* ``valley_trade`` (S2L): a random valley at two curvatures lambda1, lambda2 (drawn in either order) and at
  0; one trained point on the floor, a grid with random per-coordinate steps and offsets; the undamped exact
  proxy minimiser at each.

:func:`scenarios` returns them as :class:`proofs.core.Scenario` values.
"""

from __future__ import annotations

import math

import jax
import numpy as np
from hypothesis import strategies as st

from landscape import quantizers, testing
from landscape.geometry import walls
from landscape.geometry.valley import valley_landscape, valley_landscape_3d
from landscape.laws import valley as valley_law
from landscape.ptq import gptq, obq, oracle, proxy_minimizer
from proofs.core import Scenario, statement_constant

__all__ = ["scenarios", "N_PLANAR"]

N_PLANAR = 2000  # trained points per planar case


_logu = testing.log_uniform

_PLANAR = st.fixed_dictionaries({
    "seed": st.integers(0, 2**16),
    "lam_over_mu": _logu(0.05, 1e4),
    "mu": _logu(0.02, 1.0),
    "step_over_rb": st.floats(1.2, 4.0),
    "rb": st.floats(0.05, 0.5),
    "damp": st.sampled_from((0.01, 0.1)),
})


def _planar_prepare(case, stmt):
    mu, rb, damp = case["mu"], case["rb"], case["damp"]
    lam = case["lam_over_mu"] * mu
    step = case["step_over_rb"] * rb
    rho_v = statement_constant(stmt, "rho_factor", math.sqrt(2.0)) * rb / step
    ratio = valley_law.planar_ratio(mu, lam, damp)
    values = {"rho_v": rho_v, "R": ratio, "lam": lam, "mu": mu, "n": float(N_PLANAR), "z": 5.0}
    for name, key in (("proxy_min", "P_prox"), ("gptq", "P_gptq"), ("obq", "P_obq")):
        values[key] = float(valley_law.exit_probability(rho_v, name, ratio))
    return (case, lam, step), values


@jax.jit
def _rho(land, q):
    return jax.vmap(land.rho)(q)


def _planar_simulate(ctx, values, sim, stmt):
    case, lam, step = ctx
    mu, rb, damp = case["mu"], case["rb"], case["damp"]
    land = valley_landscape_3d(math.pi / 4, wall=walls.quadratic_wall(rb, 1e3, mu), curvature=lam)
    kw, ko = jax.random.split(jax.random.PRNGKey(case["seed"]))
    w = land.sample_river(kw, N_PLANAR, s_range=(-5.0, 5.0))
    offs = jax.random.uniform(ko, (N_PLANAR, 3), minval=0.0, maxval=step, dtype=w.dtype)
    quant = quantizers.uniform_grid(step, offset=offs)
    rho = {"rtn": _rho(land, sim.rtn(quant, w)),
           "prox": _rho(land, proxy_minimizer(land, quant, w, damp=damp)),
           "gptq": _rho(land, gptq(land, quant, w, damp=damp)),
           "obq": _rho(land, obq(land, quant, w, damp=damp))}
    rho = {k: np.asarray(v, np.float64) for k, v in rho.items()}
    out = {f"p_{k}": float(np.mean(v > rb)) for k, v in rho.items()}
    for k in ("prox", "gptq", "obq"):
        out[f"trade_{k}"] = float(np.min(rho[k] - rho["rtn"]))
    least = np.asarray(oracle(land.base, quant, w).rho, np.float64)
    out["max_min_sigma"] = float(np.max(math.sqrt(2.0) * least / step))
    return out


_TRADE = st.fixed_dictionaries({
    **testing.river_fields(((4, 1, 2), (6, 2, 2), (8, 2, 4), (10, 3, 5))),
    "mu": _logu(0.02, 1.0),
    "lam1": _logu(1e-3, 1e4),
    "lam2": _logu(1e-3, 1e4),
    **testing.grid_fields(step=(0.05, 1.0), size=10),
    "floor": st.floats(-2.0, 2.0),
    "spread": st.floats(0.0, 3.0),
})


def _trade_prepare(case, stmt):
    mu = case["mu"]
    return case, {"lam1": case["lam1"] * mu, "lam2": case["lam2"] * mu, "mu": mu}


def _trade_simulate(case, values, sim, stmt):
    d, k, m = case["shape"]
    grid = testing.case_grid(case)
    key = jax.random.PRNGKey(case["seed"])
    wall = walls.quadratic_wall(1.0, 10.0, values["mu"])

    def make(lam):
        return valley_landscape(key, d, k, m, wall=wall, curvature=lam, offset=case["floor"])

    base = make(values["lam1"])
    w = base.sample_river(jax.random.fold_in(key, 1), 1, s_range=(-5.0, 5.0), spread=case["spread"])
    n, e = np.asarray(base.normals, np.float64), np.asarray(base.valley_dirs, np.float64)
    out = {}
    for tag, lam in (("1", values["lam1"]), ("2", values["lam2"]), ("0", 0.0)):
        q = np.asarray(proxy_minimizer(make(lam), grid, w, damp=0.0), np.float64)
        err = (q - np.asarray(w, np.float64))[0]
        if tag == "0":
            out["rho0"] = float(np.linalg.norm(n @ err))
        else:
            out[f"X{tag}"] = float(np.sum((n @ err) ** 2))
            out[f"Y{tag}"] = float(np.sum((e @ err) ** 2))
    out["min_rho_corner"] = float(np.asarray(oracle(base.base, grid, w).rho)[0])
    return out


def scenarios() -> dict:
    """name -> Scenario for the valley statements (``planar_valley``, ``valley_trade``)."""
    return {
        "planar_valley": Scenario(_PLANAR, _planar_prepare, _planar_simulate),
        "valley_trade": Scenario(_TRADE, _trade_prepare, _trade_simulate),
    }

