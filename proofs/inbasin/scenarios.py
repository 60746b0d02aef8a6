r"""Attacks of the in-basin statements: trained points drawn on the basin floor (:mod:`landscape.laws`).

* ``rtn_in_basin`` (S1B): 4000 trained points, river points spread over many cells plus a normal offset
  uniform on ``[-r_b, r_b]`` (:func:`landscape.laws.basin_floor_offsets`); the RTN exit frequency against
  :func:`landscape.laws.rtn_exit_in_basin`; ``r_b`` from ``delta_perp / 20`` to ``3 delta_perp``.
* ``ste_in_basin`` (S5I): S5's cases (:mod:`proofs.basin.scenarios`), with the start replaced by the
  first of 512 in-basin trained points (uniform on the floor) whose RTN point is outside the basin.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from landscape import laws
from proofs.basin import scenarios as basin
from proofs.core import Scenario, statement_constant

__all__ = ["SCENARIOS"]

_RTN = st.fixed_dictionaries({**basin._GEOM, "shape": st.sampled_from(((3, 1), (4, 1), (6, 1))),
                              "rb_ratio": st.floats(0.05, 3.0), "sample_seed": st.integers(0, 2**16)})


def _rtn_prepare(case, stmt):
    ls, grid, n, _, _ = basin._geometry(case, 1.0)
    dp = basin._dp(grid, n)
    rb = case["rb_ratio"] * dp
    a = statement_constant(stmt, "hw", 0.5) * np.abs(n[0]) * np.asarray(grid.step)
    values = {"k": 1.0, "d": float(case["shape"][0]), "n": 4000.0, "z": 5.0, "r_b": rb, "dp": dp,
              "P_in": laws.rtn_exit_in_basin(a, rb), "sample_seed": float(case["sample_seed"])}
    return (ls, grid, n), values


def _rtn_simulate(ctx, values, sim, stmt):
    ls, grid, n = ctx
    step = float(np.max(np.asarray(grid.step)))
    seed, count, rb = int(values["sample_seed"]), int(values["n"]), values["r_b"]
    river = ls.sample_river(jax.random.PRNGKey(seed), count, s_range=(-200.0 * step, 200.0 * step),
                            spread=20.0 * step)
    w = np.asarray(river) + laws.basin_floor_offsets(seed, count, 1, rb) @ n
    q = jax.vmap(lambda x: sim.rtn(grid, x))(jnp.asarray(w))
    rho_q = np.asarray(jax.vmap(ls.rho)(q))
    return {"p_hat": float(np.mean(rho_q > rb)), "rho_w": float(np.max(np.asarray(jax.vmap(ls.rho)(w))))}


def _ste_prepare(case, stmt):
    (ls, grid, w_off), values = basin._ste_prepare(case, stmt, "recovery")
    n = np.asarray(ls.normals, np.float64)
    rb, dp = values["r_b"], values["dp"]
    river = w_off - n.T @ np.asarray(ls.offset(jnp.asarray(w_off)), np.float64)  # the river point under it
    v = laws.basin_floor_offsets(int(case["seed"]), 512, n.shape[0], rb)
    w = river[None] + v @ n
    q = np.asarray(jax.vmap(grid.quantize)(jnp.asarray(w)))
    rho_q = np.asarray(jax.vmap(ls.rho)(jnp.asarray(q)))
    pick = int(np.argmax(rho_q > rb)) if np.any(rho_q > rb) else 0
    w0, rho0 = w[pick], float(np.linalg.norm(v[pick]))
    values.update({"rho_w": rho0, "rho_0": rho0, "rho_q": float(rho_q[pick]),
                   "phi_q": float(ls.wall.deriv(float(rho_q[pick]))),
                   "phi_max": float(ls.wall.deriv(rho0 + dp))})
    return (ls, grid, w0), values


SCENARIOS = {
    "rtn_in_basin": Scenario(_RTN, _rtn_prepare, _rtn_simulate),
    "ste_in_basin": Scenario(basin._STE, _ste_prepare, basin._sim_recovery),
}
