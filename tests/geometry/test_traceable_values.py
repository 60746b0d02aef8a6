"""Landscapes, walls, centres and grids are equinox Modules with traceable constructors (issue 19 item 4)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape.geometry import walls
from landscape.geometry.river import ConstantCenter, LinearDrift

THETAS = jnp.array([0.1, 0.4, 0.9, 1.3])
POINTS = jnp.array([[0.3, 0.7], [-0.2, 0.1], [1.5, -0.4]])


def _maybe_jit(fn, jit):
    return jax.jit(fn) if jit else fn


def test_values_are_equinox_modules():
    ls = L.rotated_river_2d(0.3, river_loss=0.1)
    for v in (ls, ls.wall, ls.center, ls.river_loss, L.uniform_grid(0.1), L.nf4(), walls.softplus_wall()):
        assert isinstance(v, eqx.Module), type(v)
    assert isinstance(ls.center, ConstantCenter) and isinstance(ls.river_loss, LinearDrift)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_vmap_over_theta_builds_the_batch_the_loop_builds(jit):
    batch = _maybe_jit(jax.vmap(L.rotated_river_2d), jit)(THETAS)
    assert isinstance(batch, L.Landscape)
    assert batch.normals.shape == (4, 1, 2) and batch.river_dir.shape == (4, 2)
    assert batch.wall.basin_radius.shape == (4,)
    loop = [L.rotated_river_2d(float(t)) for t in THETAS]
    # traced: cos/sin in float32; concrete: in float64, then rounded to float32 (at most one ulp apart)
    np.testing.assert_allclose(batch.normals, np.stack([x.normals for x in loop]), rtol=0, atol=1e-7)
    np.testing.assert_allclose(batch.river_dir, np.stack([x.river_dir for x in loop]), rtol=0, atol=1e-7)
    got = jax.vmap(lambda ls: jax.vmap(ls.loss)(POINTS))(batch)
    want = np.stack([np.asarray(jax.vmap(x.loss)(POINTS)) for x in loop])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize(
    "make",
    [
        lambda r: L.rotated_river_2d(0.3, wall=walls.quadratic_wall(r, 5.0)),
        lambda k: L.rotated_river_2d(0.3, wall=walls.softplus_wall(0.2, k)),
        lambda k: L.rotated_river_2d(0.3, wall=walls.power_wall(0.2, k, power=3.0)),
        lambda r: L.meander_river(np.eye(2)[1:], np.eye(2)[0], amplitude=r, omega=0.5),
    ],
    ids=["r_b", "kappa_softplus", "kappa_power", "amplitude"],
)
def test_vmap_over_a_landscape_parameter(make, jit):
    vals = jnp.array([0.1, 0.25, 0.6])
    batch = _maybe_jit(jax.vmap(make), jit)(vals)
    for i, v in enumerate(vals):
        one = make(float(v))
        got = jax.vmap(jax.tree_util.tree_map(lambda a, i=i: a[i], batch).loss)(POINTS)
        np.testing.assert_allclose(got, jax.vmap(one.loss)(POINTS), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_vmap_over_the_grid_step(jit):
    steps = jnp.array([0.1, 0.3, 0.7])
    w = jnp.array([0.27, -0.55, 1.1])
    for make in (L.uniform_grid, lambda s: L.integer_grid(4, s)):
        grids = _maybe_jit(jax.vmap(make), jit)(steps)
        assert grids.step.shape == (3,)
        got = jax.vmap(lambda g: g.quantize(w))(grids)
        want = np.stack([np.asarray(make(float(s)).quantize(w)) for s in steps])
        np.testing.assert_array_equal(got, want)


def test_traced_constructor_skips_checks_concrete_one_still_raises():
    with pytest.raises(L.LandscapeError, match="power"):
        walls.power_wall(0.2, 1.0, power=1.0)
    with pytest.raises(L.LandscapeError, match="basin_radius"):
        walls.quadratic_wall(-0.1)
    jax.vmap(lambda p: walls.power_wall(0.2, 1.0, power=p))(jnp.array([2.0, 3.0]))  # traced: no float()


def test_jit_of_a_bound_method_and_equal_values():
    ls = L.rotated_river_2d(0.3)
    np.testing.assert_allclose(jax.jit(ls.loss)(POINTS[0]), ls.loss(POINTS[0]), rtol=1e-6)
    assert bool(walls.quadratic_wall(0.2, 3.0) == walls.quadratic_wall(0.2, 3.0))
    assert bool(L.uniform_grid(0.1) == L.uniform_grid(0.1))
