r"""The attack of K2S: k = 2, 3 sharp directions on disjoint groups of 2-4 coordinates, RTN-failed starts.

A case draws the group sizes, random unit normals on the groups (one extra coordinate carries the river
direction ``u``), a grid, random trained points on the river ``N w = 0`` (flat inside each group too),
the first with ``zeta < rho(Q(w*))`` (:func:`~proofs.separable.analysis.zero_radius`), ``r_b`` between
the two (so RTN fails and the bands hold both signs). The wall's ``kappa`` is set (bisection) so that
the larger of K2S's two step ratios is a drawn fraction below 1, or (``breach``) between 1 and 2 or 2
and 30, where the planted mutants live. The engine (float64, 400 STE steps) measures ``T``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import landscape as L
from landscape import testing
from proofs.core import Scenario, wall_of
from proofs.separable.analysis import disjoint_supports, line_band, line_steps, separable_bounds, zero_radius

__all__ = ["SCENARIOS", "separable_case"]

NSTEPS = 400
_TIGHT = 1.0 - 1e-9  # the bands' radii a hair inside the ball (its edge in float64)

_CASES = st.fixed_dictionaries({
    "sizes": st.lists(st.sampled_from((3, 4, 2)), min_size=2, max_size=3),
    "seed": st.integers(0, 2**16),
    **testing.grid_fields(step=(0.1, 1.0), size=13),
    "s0": st.floats(-20.0, 20.0),
    "u_rb": st.floats(0.0, 1.0),
    **testing.wall_fields(mu=(0.0, 0.1)),
    "eta": st.sampled_from((0.1, 0.5)),
    "u_kappa": st.floats(0.05, 0.95),
    "breach": st.sampled_from(("none", "none", "none", "step", "far")),
})


def separable_case(case):
    """(normals N (k x d) on disjoint groups, river direction u, steps, offsets) of a case (float64)."""
    sizes = list(case["sizes"])
    d = sum(sizes) + 1
    rng = np.random.default_rng(case["seed"])
    n = np.zeros((len(sizes), d))
    start = 0
    for i, m in enumerate(sizes):
        v = rng.normal(size=m)
        n[i, start:start + m] = v / np.linalg.norm(v)
        start += m
    u = np.zeros(d)
    u[-1] = 1.0
    steps, offsets = testing.case_steps(case, d)
    return n, u, steps, offsets


def _kappa(case, lines, rb, unit_deriv):
    """kappa with max(jump_ratio, absorb_ratio) at the drawn fraction (bisection on a log scale)."""
    mu, eta = case["mu"], case["eta"]
    # below 1 (K2S applies); between 1 and 2 (the factor-2 mutants); or far beyond (steps that overshoot)
    target = {"none": case["u_kappa"], "step": 1.05 + 0.9 * case["u_kappa"],
              "far": 2.0 + 28.0 * case["u_kappa"]}[case["breach"]]

    def worst(kappa):  # a breach sets the no-jump ratio alone (the absorb ratio follows)
        b = separable_bounds(lines, rb, eta, lambda r: mu * r + kappa * unit_deriv(r))
        return max(b["jump_ratio"], b["absorb_ratio"]) if case["breach"] == "none" else b["jump_ratio"]

    lo, hi = 1e-4, 1e9  # the steps near the ball's edge are small on a flat-bottom wall: kappa may be large
    if worst(lo) > target:
        return lo
    for _ in range(30):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if worst(mid) <= target else (lo, mid)
    return lo


def _prepare(case, stmt):
    n, u, steps, offsets = separable_case(case)
    k = n.shape[0]
    flips = np.abs(n) * steps
    # trained points on the river N w = 0, spread over many cells (the river is flat inside each group too)
    spread = np.random.default_rng(case["seed"] + 1).normal(size=(512, n.shape[1])) * 10.0 * case["step"]
    cand = case["s0"] * u[None] + spread - (spread @ n.T) @ n
    y = (offsets + steps * np.round((cand - offsets) / steps)) @ n.T  # RTN offsets (the grid's formula)
    rho = np.linalg.norm(y, axis=1)
    reach = 2.0 * float(np.max(np.sum(flips, 1)))
    top = np.argsort(-rho)[:16]  # the largest RTN offsets first: the first with zeta < rho(Q(w*))
    every = line_steps(np.tile(n, (top.size, 1)), np.repeat(cand[top], k, axis=0), steps, offsets, reach)
    pick, lines, zeta = 0, None, np.inf
    for t, j in enumerate(top):
        lines = every[t * k:(t + 1) * k]
        zeta = float(np.linalg.norm([zero_radius(ln) for ln in lines]))
        pick = int(j)
        if zeta * 1.01 < rho[j]:  # a margin: r_b strictly between the two
            break
    rb = zeta + (float(rho[pick]) - zeta) * (0.05 + 0.9 * case["u_rb"]) if zeta * 1.01 < rho[pick] else 1.0
    w = cand[pick]
    vals = {"k": float(k), "d": float(n.shape[1]), "eta": case["eta"], "r_b": rb, "rho_q": float(rho[pick]),
            "drift": 0.0, "disjoint": float(disjoint_supports(n)), "zeta": zeta, "mu": case["mu"]}
    if not zeta * 1.01 < rho[pick]:
        vals.update(jump_ratio=np.inf, absorb_ratio=np.inf, time_ratio=np.inf, kappa=1.0)
        return None, vals
    # the bands' radii: zeta_i scaled up to the ball, sum r_i^2 = r_b^2 (a hair inside, float64's edge)
    radii = [zero_radius(ln) * rb / zeta * _TIGHT for ln in lines]
    lines = [line_band(ln, r) for ln, r in zip(lines, radii, strict=True)]
    unit_wall = wall_of(case["wall"], rb, 1.0, 0.0)
    cache: dict = {}

    def unit_deriv(r):
        key = np.asarray(r).tobytes()
        if key not in cache:
            cache[key] = np.asarray(unit_wall.deriv(jnp.asarray(r)), np.float64)
        return cache[key]

    kappa = float(_kappa(case, lines, rb, unit_deriv))
    wall = wall_of(case["wall"], rb, kappa, case["mu"])
    vals.update(separable_bounds(lines, rb, case["eta"], lambda r: np.asarray(wall.deriv(jnp.asarray(r)))))
    vals["kappa"] = kappa
    ls = L.straight_river(n, u, wall=wall, river_loss=0.0)
    return (ls, testing.case_grid(case, n.shape[1]), w), vals


def _simulate(ctx, vals, sim, stmt):
    ls, grid, w = ctx
    tr = sim.run(ls, grid, sim.rule(float(vals["eta"])), jnp.asarray(w), NSTEPS)
    t = int(tr.hit_time)
    return {"T": float(NSTEPS if t < 0 else t), "censored": float(t < 0)}


SCENARIOS = {"separable_recovery": Scenario(_CASES, _prepare, _simulate)}
