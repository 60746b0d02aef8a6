"""Nagel et al.'s oscillation remedies through the one driver: their update formulas, and what they do on
S6's exact 2-cycle (STE chatters forever; freezing stops it and enters the basin; an over-strong dampening
penalty diverges and is reported as diverged, never as recovered)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import landscape as L
from landscape.studies.oscillation import two_cycle_case, two_cycle_outcomes


def test_dampening_gradient_is_ste_plus_pull_to_the_grid_point():
    land = L.random_river(jax.random.PRNGKey(0), 6, 2, wall=L.quadratic_wall(0.1, 5.0))
    grid = L.uniform_grid(0.3)
    w = jax.random.normal(jax.random.PRNGKey(1), (6,))
    rule = L.oscillation_dampening(0.1, strength=0.7)
    params, state = rule.init(w, grid)
    g, _ = rule.gradient(land, params, state, grid, None)
    q = grid.quantize(w)
    np.testing.assert_allclose(g["w"], land.grad(q) + 1.4 * (w - q), rtol=1e-6, atol=1e-7)


def test_freezing_fixes_an_oscillating_weight_at_its_ema_grid_point():
    # one weight flipping 0 -> 1 -> 0 -> 1: the second change reverses the first (an oscillation)
    grid = L.uniform_grid(1.0)
    rule = L.iterative_freezing(0.1, threshold=0.4, momentum=0.5)
    land = L.axis_aligned_river(2, 1)
    params, st = rule.init(jnp.array([0.2, 0.0]), grid)
    seq = [0.2, 0.8, 0.2, 0.8]
    for x in seq[1:]:
        params = {"w": jnp.array([x, 0.0])}
        _, st = rule.gradient(land, params, st, grid, None)
    # changes +1, -1 (osc), +1 (osc): freq after the 1st osc = 0.5 > 0.4 -> frozen
    assert bool(st.frozen[0]) and not bool(st.frozen[1])
    q = rule.deploy({"w": jnp.array([0.8, 0.0])}, st, grid)
    assert float(q[0]) == float(st.frozen_q[0])


def test_on_the_s6_two_cycle_freezing_stops_the_chattering_and_enters_the_basin():
    out = two_cycle_outcomes(num_steps=600)
    ste = out["ste"]
    assert ste["hit_time"] == -1 and ste["chatters"] and ste["switches"] == 600 and not ste["diverged"]
    fr = out["freeze"]
    assert fr["hit_time"] >= 0 and fr["settle_time"] >= 0 and not fr["chatters"] and fr["switches"] < 20
    assert out["dampen(0.1)"]["chatters"] and out["dampen(0.1)"]["hit_time"] == -1


def test_over_strong_dampening_diverges_and_is_counted_as_diverged():
    land, grid, w0 = two_cycle_case()
    tr = L.run(land, grid, L.oscillation_dampening(0.05, strength=40.0), w0, 400)  # eta * 2 lambda = 4 > 2
    # it touches the basin once on the way out (hit_time 1), then blows up: never a recovery, never settled
    assert bool(tr.diverged) and int(tr.diverge_time) > int(tr.hit_time) >= 0
    assert not bool(tr.recovered) and int(tr.settle_time) == -1
    st = L.recovery_stats(tr)
    assert st.diverged == 1 and st.recovered == 0
