"""landscape.testing: the public strategies draw what they say, shrink to the simplest case, use float64."""

from __future__ import annotations

import ast
import json
import pathlib

import jax
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.testing import (
    WALL_FAMILIES,
    case_grid,
    case_landscape,
    case_start,
    case_steps,
    cases,
    landscapes,
    quantizers,
    rtn_failed_starts,
    rules,
    trained_points,
    wall_named,
    walls,
)


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


# -- cases: the JSON-ready parameter strategies the proof layer draws from --------------------------
@settings(max_examples=25, deadline=None)
@given(cases(shapes=((3, 1), (4, 2)), rb=st.floats(0.1, 1.0)))
def test_case_example_trained_points_are_on_the_river(case):
    """The documented example of landscape.testing.cases: w* is on the river and Q(w*) has d entries."""
    land = case_landscape(case, wall=ls.quadratic_wall(case["rb"], 5.0))
    w, _ = case_start(case, land)
    assert float(land.rho(w)) < 1e-5
    assert case_grid(case, land.dim).quantize(w).shape == w.shape


@settings(max_examples=20, deadline=None)
@given(cases(), st.sampled_from(WALL_FAMILIES))
def test_a_case_replays_exactly_from_json(case, family):
    """A case survives a JSON round trip and builds the same landscape, grid, start and direction."""
    back = json.loads(json.dumps(case))
    back["shape"] = tuple(back["shape"])
    wall = wall_named(family, 0.3, 2.0, 0.1)
    with jax.enable_x64(True):
        a, b = case_landscape(case, wall=wall), case_landscape(back, wall=wall)
        np.testing.assert_array_equal(np.asarray(a.normals), np.asarray(b.normals))
        starts = zip(case_start(case, a, direction=True), case_start(back, b, direction=True), strict=True)
        for x, y in starts:
            np.testing.assert_array_equal(x, y)
        ga, gb = case_grid(case), case_grid(back)
        np.testing.assert_array_equal(np.asarray(ga.step), np.asarray(gb.step))
        np.testing.assert_array_equal(np.asarray(ga.offset), np.asarray(gb.offset))
        steps, offsets = case_steps(case)
        assert np.all((offsets >= 0) & (offsets <= steps))


def test_case_builders_check_their_inputs_and_shrink_to_the_unit_grid():
    """The minimal case is d = 2, k = 1 on the unit grid with w* = 0; a too-large dim, a bad wall: refused."""
    case = find(cases(), lambda c: True)
    assert case["shape"] == (2, 1) and case["step"] == 1.0 and case["s0"] == 0.0
    steps, offsets = case_steps(case)
    np.testing.assert_array_equal(steps, [1.0, 1.0])
    np.testing.assert_array_equal(offsets, [0.0, 0.0])
    with pytest.raises(ValueError, match="dim must be at most"):
        case_grid(case, 13)
    with pytest.raises(ValueError, match="kind must be one of"):
        wall_named("cubic", 0.3, 1.0)
    assert type(wall_named("power", 0.3, 1.0, power=3.0)).__name__ == "PowerWall"


def test_the_proof_layer_draws_its_cases_from_landscape_testing():
    """No module of proofs/ defines the grid or start fields itself: they come from landscape.testing."""
    import proofs.core
    from landscape.testing import log_uniform

    assert proofs.core.wall_of is wall_named and proofs.core.log_uniform is log_uniform
    own = ("step_mult", "offset_frac", "dir_seed", "flat")
    for path in sorted(pathlib.Path(proofs.core.__file__).parent.parent.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                assert not keys & set(own), f"{path.name} defines {sorted(keys & set(own))} itself"
