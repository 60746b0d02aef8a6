"""Landscapes: geometry, loss, exact derivatives, jit/vmap invariance, hypothesis laws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.testing import landscapes, points_near, walls


def _all_landscapes():
    key = jax.random.PRNGKey(3)
    n2 = np.array([[0.0, 0.0, 1.0, 0.0]])
    return {
        "random": ls.random_river(key, 6, 2, wall=ls.softplus_wall(0.3, 5.0, 0.2), river_loss=0.1),
        "axis": ls.axis_aligned_river(5, 2, wall=ls.power_wall(0.2, 4.0, 0.5)),
        "rotated": ls.rotated_river_2d(0.4, wall=ls.exp_wall(0.25, 3.0, 0.1)),
        "meander": ls.meander_river(n2, amplitude=0.7, omega=0.5, wall=ls.quadratic_wall(0.2, 8.0, 0.3)),
        "arc": ls.arc_river(n2, radius=5.0, river_loss=ls.Lake.make(0.5, 1.0, 0.5)),
        "aniso": ls.random_river(key, 5, 2, aniso=[1.0, 3.0], wall=ls.quadratic_wall(0.3, 8.0, 0.4)),
        "wsd": ls.wsd_river_valley(lake_at=3.0),
    }


@pytest.mark.parametrize("name", list(_all_landscapes()))
def test_jit_matches_eager_and_vmap_matches_loop(name):
    land = _all_landscapes()[name]
    pts = jnp.asarray(points_near(land, 1, n=5, scale=0.7), dtype=jnp.float32)
    for fn in (land.loss, land.rho, land.offset, land.grad, land.s):
        eager = np.stack([np.asarray(fn(p)) for p in pts])
        jitted = np.stack([np.asarray(jax.jit(fn)(p)) for p in pts])
        batched = np.asarray(jax.vmap(fn)(pts))
        np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(batched, eager, rtol=1e-5, atol=1e-6)


@pytest.mark.float64
@pytest.mark.parametrize("name", list(_all_landscapes()))
def test_gradient_matches_central_differences_float64(name):
    land = _all_landscapes()[name]
    assert land.normals.dtype == jnp.float64
    pts = jnp.asarray(points_near(land, 2, n=4, scale=0.6))
    h = 1e-6
    for p in pts:
        g = np.asarray(land.grad(p))
        eye = np.eye(p.shape[0])
        fd = np.array([(land.loss(p + h * e) - land.loss(p - h * e)) / (2 * h) for e in eye])
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)
        hess = np.asarray(land.hessian(p))
        np.testing.assert_allclose(hess, hess.T, atol=1e-10)
        x = np.random.default_rng(0).standard_normal(p.shape[0])
        np.testing.assert_allclose(np.asarray(land.hvp(p, x)), hess @ x, rtol=1e-8, atol=1e-8)


@pytest.mark.float64
def test_hessian_on_the_river_is_mu_in_sharp_directions():
    land = ls.random_river(jax.random.PRNGKey(0), 7, 3, wall=ls.quadratic_wall(0.3, 9.0, mu=0.7))
    w = land.sample_river(jax.random.PRNGKey(1), 1)[0]
    n = np.asarray(land.normals)
    np.testing.assert_allclose(np.asarray(land.hessian(w)), 0.7 * n.T @ n, atol=1e-10)


@settings(max_examples=12)
@given(landscapes(), st.integers(0, 10_000))
def test_in_basin_iff_rho_at_most_rb(land, seed):
    pts = jnp.asarray(points_near(land, seed, n=16, scale=float(land.basin_radius) * 2))
    rho = np.asarray(jax.vmap(land.rho)(pts))
    inb = np.asarray(jax.vmap(land.in_basin)(pts))
    np.testing.assert_array_equal(inb, rho <= float(land.basin_radius))


@settings(max_examples=12)
@given(landscapes(), st.integers(0, 10_000), st.floats(0.0, 5.0))
def test_offset_is_zero_on_the_river(land, seed, spread):
    pts = land.sample_river(jax.random.PRNGKey(seed), 8, s_range=(-20, 20), spread=spread)
    v = np.asarray(jax.vmap(land.offset)(pts))
    assert np.max(np.abs(v)) < 1e-4 * (1 + 20 + spread)


@given(walls(), st.floats(0.0, 1.0), st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_wall_flat_inside_and_rising_outside(wall, frac, a, b):
    rb = float(wall.basin_radius)
    inside = frac * rb
    assert float(wall.value(inside)) <= float(wall.flatness) * (1 + 1e-5) + 1e-7
    r1, r2 = rb * (1 + min(a, b)), rb * (1 + max(a, b))
    rise = float(wall.value(r2) - wall.value(r1))
    assert rise >= float(wall.wall_slope(r1)) * (r2 - r1) * (1 - 1e-4) - 1e-6
    assert float(wall.wall_slope(r1)) >= 0
    if r1 > 1.01 * rb:
        assert float(wall.wall_slope(r1)) > 0
    np.testing.assert_allclose(float(jax.grad(wall.value)(r2)), float(wall.deriv(r2)), rtol=1e-4, atol=1e-5)


@settings(max_examples=12)
@given(landscapes(), st.integers(0, 10_000))
def test_loss_inside_basin_below_flatness_bound(land, seed):
    pts = points_near(land, seed, n=16, scale=float(land.basin_radius))
    for p in jnp.asarray(pts):
        if bool(land.in_basin(p)):
            excess = float(land.loss(p) - land.river_loss(land.s(p)))
            assert excess <= float(land.wall.flatness) * (1 + 1e-4) + 1e-6


@pytest.mark.parametrize("name", ["meander", "arc", "random", "aniso"])
def test_project_to_river_lands_on_the_river(name):
    land = _all_landscapes()[name]
    pts = jnp.asarray(points_near(land, 5, n=6, scale=0.8), dtype=jnp.float32)
    proj = jax.vmap(land.project_to_river)(pts)
    np.testing.assert_allclose(np.asarray(jax.vmap(land.rho)(proj)), 0.0, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(land.s)(proj)), np.asarray(jax.vmap(land.s)(pts)), atol=1e-5
    )


def test_anisotropic_rho_scales_each_sharp_direction():
    land = ls.axis_aligned_river(4, 2, aniso=[1.0, 4.0], wall=ls.quadratic_wall(0.5, 3.0))
    np.testing.assert_allclose(float(land.rho(jnp.array([0.0, 2.0, 0.0, 0.0]))), 0.5, rtol=1e-6)
    np.testing.assert_allclose(float(land.rho(jnp.array([0.5, 0.0, 0.0, 0.0]))), 0.5, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(land.radii), [0.5, 2.0])


def test_vmap_over_a_batch_of_landscapes():
    walls_ = [ls.quadratic_wall(rb, 10.0) for rb in (0.1, 0.2, 0.4)]
    lands = [ls.rotated_river_2d(0.3, wall=w) for w in walls_]
    stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *lands)
    w = jnp.array([0.1, 0.5])
    batched = jax.vmap(lambda land: land.loss(w))(stacked)
    np.testing.assert_allclose(np.asarray(batched), [float(land.loss(w)) for land in lands], rtol=1e-6)


def test_river_losses():
    s = jnp.linspace(-5, 5, 11)
    np.testing.assert_allclose(
        np.asarray(ls.LinearDrift(jnp.asarray(0.3))(s)), -0.3 * np.asarray(s), atol=1e-6
    )
    lake = ls.Lake.make(rate=2.0, s0=1.0, width=0.5)
    vals = np.asarray(lake(s))
    assert np.argmin(vals) == 6 and vals.min() == pytest.approx(0.0, abs=1e-6)
    far = jax.grad(lake)(jnp.asarray(-20.0))
    assert float(far) == pytest.approx(-2.0, rel=1e-4)


def test_random_constructors_draw_the_same_numbers_from_few_programs(monkeypatch):
    """``normal_matrix`` is ``jax.random.normal`` (bit for bit: raw and typed keys, float32 and float64,
    and in its own shape where threefry is not partitionable or the key is traced); random rivers of 11
    dimensions and 2 ranks, and spread samples on them, draw at most three shapes (programs), not 44."""
    from landscape.geometry.draws import normal_matrix

    for key in (jax.random.PRNGKey(7), jax.random.key(7)):
        for shape in [(2, 2), (12, 3), (1024, 17), (3,)]:
            want = np.asarray(jax.random.normal(key, shape, jnp.float32))
            assert np.array_equal(normal_matrix(key, shape, jnp.float32), want), shape
    with jax.enable_x64(True):
        want = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (40, 7), jnp.float64))
        assert np.array_equal(normal_matrix(jax.random.PRNGKey(1), (40, 7), jnp.float64), want)
    want = np.asarray(jax.random.normal(jax.random.PRNGKey(3), (300, 7)))  # the default dtype; and traced
    assert np.array_equal(normal_matrix(jax.random.PRNGKey(3), (300, 7)), want)
    assert np.array_equal(jax.jit(lambda key: normal_matrix(key, (300, 7)))(jax.random.PRNGKey(3)), want)
    jax.config.update("jax_threefry_partitionable", False)
    try:
        want = np.asarray(jax.random.normal(jax.random.PRNGKey(2), (9, 4), jnp.float32))
        assert np.array_equal(normal_matrix(jax.random.PRNGKey(2), (9, 4), jnp.float32), want)
    finally:
        jax.config.update("jax_threefry_partitionable", True)
    shapes = set()  # the (shape, dtype) of every Gaussian draw: one XLA program each
    real = jax.random.normal

    def recording(key, shape=(), dtype=float):
        shapes.add((tuple(shape), str(jnp.dtype(dtype))))
        return real(key, shape, dtype)

    monkeypatch.setattr(jax.random, "normal", recording)
    for d in range(2, 13):
        for k in (1, 2):
            if k < d:
                river = ls.random_river(jax.random.PRNGKey(d), d, k)
                river.sample_river(jax.random.PRNGKey(0), 64, spread=1.0)
    assert 1 <= len(shapes) <= 3, shapes  # lengths 256, 512, 1024
