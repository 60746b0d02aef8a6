"""landscape.testing: the public strategies draw what they say, shrink to the simplest case, use float64."""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import find, given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.testing import landscapes, quantizers, rtn_failed_starts, rules, trained_points, walls


@given(st.data())
def test_rtn_failures_are_outside_the_basin(data):
    """The documented example: a drawn RTN-failed start is on the river and its RTN point is outside."""
    land = data.draw(landscapes(dim=(2, 6), wall=walls(basin_radius=(0.05, 0.2))))
    grid = data.draw(quantizers(dim=land.dim, kinds=("uniform",), step=(0.8, 2.0)))
    w = data.draw(rtn_failed_starts(land, grid, s_range=(-50.0, 50.0)))
    assert w.shape == (land.dim,)
    assert not bool(land.in_basin(grid.quantize(w)))
    assert float(land.rho(w)) < 1e-4


@given(st.data())
def test_trained_points_lie_on_curved_rivers_too(data):
    """rho(w*) = 0 for every river kind, with flat-direction spread."""
    land = data.draw(landscapes(dim=(3, 8), rivers=("straight", "meander", "arc")))
    w = data.draw(trained_points(land, spread=(0.0, 2.0)))
    assert float(land.rho(w)) < 1e-4


@given(walls(), st.floats(0.0, 1.0))
def test_drawn_walls_are_flat_in_the_basin(wall, frac):
    """phi(rho) <= flatness for rho <= r_b, for every drawn wall."""
    rb = float(wall.basin_radius)
    assert float(wall.value(frac * rb)) - float(wall.value(0.0)) <= float(wall.flatness) + 1e-6


@settings(max_examples=10)
@given(rules())
def test_drawn_rules_are_registry_rules_with_their_optimizer(rule):
    """A drawn rule is a landscape Rule whose optimizer is an optax factory named sgd or adam."""
    assert isinstance(rule, ls.Rule)
    assert rule.optimizer.factory.__name__ in ("sgd", "adam")
    assert 1e-3 <= float(rule.learning_rate) <= 0.5


def test_strategies_shrink_to_the_simplest_case():
    """The minimal landscape is d = 2, k = 1 with the first wall family; the minimal trained point is c(0)."""
    land = find(landscapes(), lambda x: True)
    assert (land.dim, land.k) == (2, 1)
    assert type(land.wall).__name__ == "QuadraticWall"
    w = find(trained_points(land), lambda x: True)
    np.testing.assert_allclose(w, np.zeros(2), atol=1e-7)
    grid = find(quantizers(), lambda q: True)
    assert isinstance(grid, ls.UniformGrid) and float(grid.offset) == 0.0
    rule = find(rules(), lambda r: True)
    assert rule.name == "ste" and rule.optimizer.factory.__name__ == "sgd"


def test_strategies_draw_float64_under_x64():
    """With jax_enable_x64 the drawn landscape, grid and point are float64 (the proof layer's precision)."""
    with jax.enable_x64(True):
        land = find(landscapes(dim=(3, 4)), lambda x: True)
        grid = find(quantizers(), lambda q: True)
        w = find(trained_points(land), lambda x: True)
        assert land.normals.dtype == np.float64 and grid.step.dtype == np.float64 and w.dtype == np.float64
    assert jax.numpy.zeros(1).dtype == np.float32
