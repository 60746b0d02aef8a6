"""The closed forms of landscape.laws: the 2-D trapezoid equals the exact Irwin-Hall law, both equal a
Monte-Carlo of the RTN residual, and the Gaussian limits approach the exact law as d grows."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import landscape as L
from landscape import laws


@pytest.mark.parametrize("theta", [0.0, 0.2, 0.6, np.pi / 4, 1.3])
@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.5, 4.0])
def test_trapezoid_equals_irwin_hall(theta, ratio):
    rb = 0.3
    h = laws.normal_half_widths([-np.sin(theta), np.cos(theta)], ratio * rb)
    assert laws.rtn_exit_probability_2d(theta, ratio * rb, rb) == pytest.approx(
        laws.rtn_exit_probability(h, rb), abs=1e-12
    )


def test_exit_law_matches_the_rtn_residual_of_the_engine():
    land = L.random_river(jax.random.PRNGKey(3), 6, 1, wall=L.quadratic_wall(0.2))
    grid = L.uniform_grid(0.5)
    w = np.asarray(land.sample_river(jax.random.PRNGKey(4), 40000, s_range=(-500.0, 500.0), spread=20.0))
    out = ~np.asarray(jax.vmap(land.in_basin)(grid.quantize(w)))
    p = laws.rtn_exit_probability(laws.normal_half_widths(land.normals[0], 0.5), 0.2)
    se = np.sqrt(p * (1 - p) / out.size)
    assert abs(out.mean() - p) < 5 * se + 1e-3


def test_gaussian_limit_approaches_the_exact_law():
    rng = np.random.default_rng(0)
    errs = []
    for m in (2, 6, 14):
        a = rng.uniform(0.5, 1.0, m)
        r = 0.8 * np.sqrt(np.sum(a**2) / 3)
        errs.append(abs(laws.gaussian_exit(a, r) - laws.rtn_exit_probability(a, r)))
    assert errs[2] < errs[0] and errs[2] < 0.01
    assert laws.berry_esseen_sum([1.0, 2.0]) == pytest.approx((1 + 8) / 4)


# --------------------------------------------------------------------------------------
# the paper's regime: trained points on the basin floor
# --------------------------------------------------------------------------------------
def test_in_basin_exit_law_one_summand_and_limits():
    """a / (4 r) for one summand with a <= r; 0 for no error; between 0 and 1 and rising with the error."""
    assert laws.rtn_exit_in_basin([0.3], 0.5) == pytest.approx(0.3 / (4 * 0.5), abs=1e-14)
    assert laws.rtn_exit_in_basin([0.0, 0.0], 0.5) == 0.0
    vals = [laws.rtn_exit_in_basin([0.1 * m, 0.2 * m], 0.3) for m in (1, 2, 4, 8)]
    assert all(0 <= v <= 1 for v in vals) and vals == sorted(vals) and vals[0] < vals[-1]


def test_in_basin_exit_law_matches_the_engine_on_floor_samples():
    """The law against RTN of trained points = river points + uniform floor offsets, through the engine."""
    land = L.random_river(jax.random.PRNGKey(3), 5, 1, wall=L.quadratic_wall(0.3))
    grid = L.uniform_grid(0.5)
    count = 40000
    river = np.asarray(land.sample_river(jax.random.PRNGKey(4), count, s_range=(-500.0, 500.0), spread=20.0))
    w = river + laws.basin_floor_offsets(7, count, 1, 0.3) @ np.asarray(land.normals)
    assert np.all(np.asarray(jax.vmap(land.in_basin)(w)))  # every trained point is inside the basin
    out = ~np.asarray(jax.vmap(land.in_basin)(grid.quantize(w)))
    p = laws.rtn_exit_in_basin(laws.normal_half_widths(land.normals[0], 0.5), 0.3)
    se = np.sqrt(p * (1 - p) / count)
    assert 0.01 < p < 0.9 and abs(out.mean() - p) < 5 * se


def test_basin_floor_offsets_uniform_and_sgd_spread():
    """Uniform on the k-ball (radial law r^k); the Gaussian spread conditioned on the ball; seeded."""
    v = laws.basin_floor_offsets(0, 20000, 3, 2.0)
    r = np.linalg.norm(v, axis=1)
    assert r.max() <= 2.0 and abs(np.mean(r <= 1.0) - 1 / 8) < 0.01  # P(r <= 1) = (1/2)^3
    assert np.array_equal(v, laws.basin_floor_offsets(0, 20000, 3, 2.0))
    g = laws.basin_floor_offsets(1, 20000, 1, 10.0, spread=0.5)
    assert abs(g.std() - 0.5) < 0.02 and np.abs(g).max() <= 10.0
    with pytest.raises(L.LandscapeError, match="basin_radius"):
        laws.basin_floor_offsets(0, 10, 1, -1.0)


def test_sgd_floor_variance_is_the_stationary_variance_of_the_linear_recursion():
    """v <- (1 - eta mu) v + eta sigma xi has stationary variance eta sigma^2 / (mu (2 - eta mu))."""
    eta, mu, sigma = 0.1, 2.0, 0.3
    rng = np.random.default_rng(0)
    v = np.zeros(4000)
    for _ in range(400):
        v = (1 - eta * mu) * v + eta * sigma * rng.normal(size=v.size)
    assert v.var() == pytest.approx(laws.sgd_floor_variance(eta, mu, sigma), rel=0.08)
    assert laws.sgd_floor_variance(eta, 0.0, sigma) == np.inf
    with pytest.raises(L.LandscapeError, match="mu must lie"):
        laws.sgd_floor_variance(eta, 25.0, sigma)
