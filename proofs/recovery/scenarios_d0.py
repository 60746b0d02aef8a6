r"""The scenario of D0 (a drift that touches no sharp coordinate), k = 1: ``drift_free_coords``.

A generic case: d = 4, n on the first two coordinates, u on the last two (or, in one case in four, sharing
coordinate 0 with n: the mutant's ground); the start is the first of 64 river points whose RTN point is
outside the basin. A dyadic case (one in three, :mod:`proofs.recovery.dyadic_share`): the river, grid and
start of :func:`landscape.testing.dyadic.dyadic_case` with u off the sharp support (``drift``) or, for
``overlap``, a Hadamard row through the sharp coordinates (``drift_on_sharp``); ``T`` with and without
the drift from the exact rational orbit. Measured: ``T`` and ``T_no_drift`` (-1: no entry in 400 steps).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import landscape as L
from landscape import testing
from landscape.testing.dyadic import dyadic_case, exact_judge
from proofs.core import Scenario, wall_of
from proofs.recovery import dyadic_share as dy
from proofs.recovery.scenarios_line import _BASE, NSTEPS

__all__ = ["D0_SCENARIOS"]

_D0 = st.fixed_dictionaries(
    {
        **_BASE,
        "shape": st.just((4, 1)),
        "drift": st.sampled_from((0.3, 1.0)),
        "overlap": st.sampled_from((False, False, False, True)),
        "wall": st.just("quadratic"),
        "dyadic": dy.DYADIC_SHARE,
    }
)


def _prepare_d0(case, stmt):
    if case["dyadic"]:
        return _prepare_d0_dyadic(case)
    rng = np.random.default_rng(case["seed"])
    n = np.zeros(4)
    n[:2] = rng.normal(size=2)
    u = np.zeros(4)
    u[2:] = rng.normal(size=2)
    if case["overlap"]:  # the drift direction shares coordinate 0 with n
        u[0] = 0.5 * np.linalg.norm(u[2:])
    n /= np.linalg.norm(n)
    u = u - (u @ n) * n
    u /= np.linalg.norm(u)
    steps = testing.case_steps(case, 4)[0]
    grid = testing.case_grid(case, 4)
    rb = 0.5 * float(np.max(np.abs(n) * steps)) * (1.0 + 0.9 * case["u_rb"])
    cand = (case["s0"] + 0.618 * case["step"] * np.arange(64))[:, None] * u[None]
    off = np.asarray(grid.offset)
    y = (off + steps * np.round((cand - off) / steps)) @ n
    w = cand[int(np.argmax(np.abs(y) > rb))]
    kappa = 0.5 + 19.5 * case["u_kappa"]
    wall = wall_of("quadratic", rb, kappa, case["mu"])
    ls = L.straight_river(n[None], u, wall=wall, river_loss=float(case["drift"]))
    vals = {
        "k": 1.0,
        "d": 4.0,
        "eta": case["eta"],
        "r_b": rb,
        "drift": case["drift"],
        "disjoint": float(not np.any((np.abs(n) > 0) & (np.abs(u) > 0))),
        "rho_q": float(abs(y.max())),
    }
    return (ls, grid, w), vals


def _prepare_d0_dyadic(case):
    """D0's case from a dyadic river: u off the sharp support, or through it (``overlap``)."""
    ov = bool(case["overlap"])
    dc = dyadic_case(case["seed"], k=1, drift=not ov, drift_on_sharp=ov, rtn_failed=False)
    n, u = np.asarray(dc["normals"]), np.asarray(dc["river_dir"])
    step, off, c0 = (np.asarray(dc[x]) for x in ("step", "offset", "c0"))
    grid = L.uniform_grid(step, offset=off)
    half_flip = 0.5 * float(np.max(L.flip_size(grid, n)))
    rb = max(float(np.round(half_flip * (1.0 + 0.9 * case["u_rb"]) * 1024)), 1.0) / 1024  # dyadic
    cand = dy.river_points(np.asarray(dc["w0"]), n, u, 0.625 * float(np.min(step)), case["seed"])
    y = (off + step * np.round((cand - off) / step)) @ n[0] - c0[0]
    pick = int(np.argmax(np.abs(y) > rb))
    kappa = 0.5 + 19.5 * case["u_kappa"]
    ls = L.straight_river(
        n, u, wall=wall_of("quadratic", rb, kappa, case["mu"]), river_loss=float(case["drift"]), center=c0
    )
    vals = {
        "k": 1.0,
        "d": float(n.shape[1]),
        "eta": case["eta"],
        "r_b": rb,
        "drift": case["drift"],
        "disjoint": float(not np.any((np.abs(n[0]) > 0) & (np.abs(u) > 0))),
        "rho_q": float(abs(y[pick])),
        "dyadic": 1.0,
    }
    return (ls, grid, cand[pick]), vals


def _exact_t(jc):
    res = exact_judge(jc, NSTEPS)
    return float(res[1]) if res[0] == "hit" else (float("nan") if res[0] == "undecided" else -1.0)


def _sim_d0(ctx, vals, sim, stmt):
    ls, grid, w = ctx
    if vals.get("dyadic"):  # the exact rational orbit, with and without the drift
        t1 = _exact_t(dy.judge_case(ls, grid, w, vals["eta"], vals["drift"]))
        t0 = _exact_t(dy.judge_case(ls, grid, w, vals["eta"], 0.0))
        if np.isnan(t1) or np.isnan(t0):
            return {"T": -1.0, "T_no_drift": -1.0, "censored": 1.0}  # an undecided orbit: not judged
        return {"T": t1, "T_no_drift": t0}
    rule = sim.rule(float(vals["eta"]))
    with_drift = sim.run(ls, grid, rule, jnp.asarray(w), NSTEPS)
    without = sim.run(ls.replace(river_loss=L.ZeroDrift()), grid, rule, jnp.asarray(w), NSTEPS)
    t1, t0 = int(with_drift.hit_time), int(without.hit_time)
    return {"T": float(t1), "T_no_drift": float(t0)}


D0_SCENARIOS = {"drift_free_coords": Scenario(_D0, _prepare_d0, _sim_d0)}
