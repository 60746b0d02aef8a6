"""Hypothesis strategies named after the mathematical objects they draw."""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import strategies as st

import landscape as ls


@st.composite
def walls(draw):
    """A wall profile phi of any family with r_b in [0.05, 2]."""
    rb = draw(st.floats(0.05, 2.0))
    kappa = draw(st.floats(0.5, 50.0))
    mu = draw(st.sampled_from([0.0, 0.1, 1.0]))
    family = draw(st.sampled_from(["quadratic", "softplus", "power", "exp"]))
    if family == "quadratic":
        return ls.quadratic_wall(rb, kappa, mu)
    if family == "softplus":
        return ls.softplus_wall(rb, kappa, mu)
    if family == "power":
        return ls.power_wall(rb, kappa, mu, power=draw(st.sampled_from([2.0, 3.0, 4.0])))
    return ls.exp_wall(rb, kappa, mu)


@st.composite
def landscapes(draw, max_dim: int = 12):
    """A straight river landscape with random N, u (d <= max_dim), any wall, any drift."""
    d = draw(st.integers(2, max_dim))
    k = draw(st.integers(1, d - 1))
    seed = draw(st.integers(0, 2**31 - 1))
    drift = draw(st.sampled_from([0.0, 0.05, -0.1]))
    return ls.random_river(jax.random.PRNGKey(seed), d, k, wall=draw(walls()), river_loss=drift)


def points_near(landscape, seed: int, n: int = 8, scale: float = 2.0):
    """n points near the river: river points plus Gaussian offsets."""
    rng = np.random.default_rng(seed)
    base = np.asarray(landscape.sample_river(jax.random.PRNGKey(seed), n, s_range=(-5, 5)))
    return base + scale * rng.standard_normal(base.shape)
