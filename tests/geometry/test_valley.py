"""The valley family: closed-form gradient == autodiff (float64), exact Hessian, reduction, floor, engine."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.geometry.valley import ValleyLandscape
from landscape.ptq import dense_hessian, hessian_factors, quadratic_proxy
from landscape.ptq.hessian import reduced_landscape
from landscape.testing import wall_named

_hess = jax.jit(lambda land, x: land.hessian(x))

#: the wall families of these tests (r_b = 0.2, kappa = 10, mu = 0.3), built by landscape.testing.wall_named
#: inside the caller's dtype context (a wall drawn outside jax.enable_x64 would hold float32 parameters)
WALLS = ("quadratic", "softplus", "exp")


def make(seed, dim=9, k=2, m=3, wall="quadratic", drift=0.0):
    lam = np.linspace(0.5, 4.0, m)
    wall = wall_named(wall, 0.2, 10.0, 0.3)
    return ls.valley_landscape(jax.random.key(seed), dim, k, m, wall=wall, curvature=lam,
                               offset=np.linspace(-0.3, 0.4, m), river_loss=drift)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 500), wall=st.sampled_from(WALLS), drift=st.sampled_from((0.0, 0.3)),
       scale=st.floats(0.0, 2.0))
def test_closed_form_gradient_equals_autodiff_float64(seed, wall, drift, scale):
    with jax.enable_x64(True):
        v = make(seed, wall=wall, drift=drift)
        x = scale * jax.random.normal(jax.random.key(seed + 1), (v.dim,), dtype=jnp.float64)
        p = v.probe(x)
        np.testing.assert_allclose(np.asarray(p.grad), np.asarray(v.grad_autodiff(x)), rtol=1e-11, atol=1e-12)
        assert float(p.loss) == pytest.approx(float(v.loss(x)), rel=1e-13, abs=1e-15)
        assert float(p.rho) == pytest.approx(float(v.base.rho(x)), rel=1e-13, abs=1e-15)
        assert bool(p.in_basin) == bool(v.base.rho(x) <= v.basin_radius)


@pytest.mark.float64
def test_loss_is_base_plus_valley_term_and_hessian_is_exact():
    v = make(0)
    x = jax.random.normal(jax.random.key(1), (v.dim,), dtype=jnp.float64)
    e, lam, b = (np.asarray(a) for a in (v.valley_dirs, v.valley_curvature, v.valley_offset))
    r = e @ np.asarray(x) - b
    assert float(v.loss(x)) == pytest.approx(float(v.base.loss(x)) + 0.5 * np.sum(lam * r * r), rel=1e-13)
    h = np.asarray(_hess(v, x))
    np.testing.assert_allclose(h, np.asarray(jax.jit(jax.hessian(v.loss))(x)), atol=1e-10)
    np.testing.assert_allclose(h - np.asarray(v.base.hessian(x)), (e.T * lam) @ e, atol=1e-12)
    y = jax.random.normal(jax.random.key(2), (v.dim,), dtype=jnp.float64)
    np.testing.assert_allclose(np.asarray(v.hvp(x, y)), h @ np.asarray(y), atol=1e-10)


@pytest.mark.float64
def test_reduction_and_low_rank_hessian_factors():
    v = make(3, dim=11, k=2, m=4)
    red, proj = reduced_landscape(v)
    assert proj.shape == (2 + 1 + 4, 11)
    np.testing.assert_allclose(np.asarray(proj @ proj.T), np.eye(7), atol=1e-12)
    xs = jax.random.normal(jax.random.key(4), (5, 11), dtype=jnp.float64)
    got = np.asarray(jax.vmap(red.loss)(xs @ proj.T))
    np.testing.assert_allclose(got, np.asarray(jax.vmap(v.loss)(xs)), rtol=1e-12)
    p, c = hessian_factors(v, xs)
    assert c.shape == (5, 7, 7)
    hs = np.asarray(jax.vmap(_hess, in_axes=(None, 0))(v, xs))
    lowrank = np.einsum("ri,nrs,sj->nij", np.asarray(p), np.asarray(c), np.asarray(p))
    np.testing.assert_allclose(lowrank, hs, atol=1e-9)
    np.testing.assert_allclose(np.asarray(dense_hessian(v, xs[0])), hs[0], atol=1e-9)
    q = xs + 0.1
    want = np.einsum("ni,nij,nj->n", np.asarray(q - xs), hs, np.asarray(q - xs))
    np.testing.assert_allclose(np.asarray(quadratic_proxy(v, xs, q)), want, rtol=1e-9)


@pytest.mark.float64
def test_trained_points_lie_on_the_river_and_the_valley_floor():
    v = make(5, dim=16, k=3, m=4)
    w = v.sample_river(jax.random.key(6), 64, s_range=(-3.0, 3.0), spread=2.0)
    assert w.shape == (64, 16)
    np.testing.assert_allclose(np.asarray(jax.vmap(v.valley_residual)(w)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.vmap(v.rho)(w)), 0.0, atol=1e-12)
    g = np.asarray(jax.vmap(v.grad)(w))
    np.testing.assert_allclose(g, 0.0, atol=1e-12)  # a minimum: no drift, floor and river
    flat = np.asarray(w) - np.asarray(w).mean(0)
    assert np.linalg.norm(flat) > 1.0  # the spread moved them
    np.testing.assert_allclose(flat @ np.asarray(v.valley_dirs).T, 0.0, atol=1e-10)
    # the Hessian there is mu N^T N + E^T diag(lambda) E (quadratic wall, flat bottom)
    h = np.asarray(_hess(v, w[0]))
    n, e, lam = np.asarray(v.normals), np.asarray(v.valley_dirs), np.asarray(v.valley_curvature)
    np.testing.assert_allclose(h, 0.3 * n.T @ n + (e.T * lam) @ e, atol=1e-10)


def test_constructors_geometry_and_errors():
    a = ls.axis_aligned_valley(6, 2, 2, curvature=3.0)
    np.testing.assert_array_equal(np.asarray(a.valley_dirs), np.eye(6)[3:5])
    np.testing.assert_array_equal(np.asarray(a.normals), np.eye(6)[:2])
    p = ls.valley_landscape_3d(np.pi / 4, curvature=2.0)
    assert (p.dim, p.k, p.m) == (3, 1, 1)
    np.testing.assert_allclose(np.asarray(p.normals[0]), [2**-0.5, 2**-0.5, 0.0], atol=1e-7)
    assert isinstance(p.replace(wall=ls.quadratic_wall(0.1, 0.0, 0.1)), ValleyLandscape)
    assert float(p.replace(wall=ls.quadratic_wall(0.1, 0.0, 0.1)).basin_radius) == pytest.approx(0.1)
    assert float(p.replace(valley_curvature=jnp.array([5.0])).valley_curvature[0]) == 5.0
    assert "ValleyLandscape(m=1" in repr(p)
    with pytest.raises(ls.LandscapeError, match="m must lie in"):
        ls.valley_landscape(jax.random.key(0), 5, 2, 3)
    with pytest.raises(ls.LandscapeError, match="orthogonal"):
        ls.with_valley(ls.axis_aligned_river(4, 1), np.eye(4)[:1])
    with pytest.raises(ls.LandscapeError, match="curvature"):
        ls.axis_aligned_valley(6, 2, 2, curvature=-1.0)
    with pytest.raises(ls.LandscapeError, match="curvature"):
        ls.axis_aligned_valley(6, 2, 2, curvature=[1.0, 2.0, 3.0])


def test_every_rule_runs_on_a_valley_and_ste_recovers():
    wall = ls.quadratic_wall(0.05, 10.0, 0.1)
    v = ls.valley_landscape(jax.random.key(7), 24, 2, 4, wall=wall, curvature=2.0)
    quant = ls.uniform_grid(0.1)
    w = v.sample_river(jax.random.key(8), 16, s_range=(-2.0, 2.0), spread=1.0)
    for name, rule in ls.default_rules(0.05).items():
        traj = ls.run_batch(v, quant, rule, w, 30, key=jax.random.key(9), save=ls.SaveAt.summary())
        assert traj.hit_time.shape == (16,), name
        assert not bool(np.any(np.asarray(traj.diverged))), name
    traj = ls.run_batch(v, quant, ls.ste(0.05), w, 200, save=ls.SaveAt.summary())
    stats = ls.recovery_stats(traj)
    assert stats.p_recovered > 0.5 and stats.diverged == 0
    one = ls.run(v, quant, ls.ste(0.05), w[0], 20)
    assert int(one.t[0]) == 0
    # the driver's probe is the valley's (its loss includes the valley term)
    q = quant.quantize(w[0])
    assert float(one.loss[0]) == pytest.approx(float(v.loss(q)), rel=1e-5)
    assert float(v.valley_term(q)) > 0


def test_batched_valleys_and_cell_geometry():
    vs = [ls.valley_landscape(jax.random.key(s), 8, 1, 2, curvature=1.0 + s) for s in range(4)]
    bank = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *vs)
    w0 = jnp.stack([v.sample_river(jax.random.key(10), 1)[0] for v in vs])
    traj = ls.run_batch(bank, ls.uniform_grid(0.3), ls.ste(0.05), w0, 30, landscape_axis=0,
                        save=ls.SaveAt.summary())
    assert traj.hit_time.shape == (4,)
    dp = ls.delta_perp(ls.uniform_grid(0.3), vs[0].normals)
    base = ls.delta_perp(ls.uniform_grid(0.3), vs[0].base.normals).value
    assert dp.exact and dp.value == pytest.approx(base)
    assert ls.flip_size(ls.uniform_grid(0.3), vs[0].normals).shape == (8,)
