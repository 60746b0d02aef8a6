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
