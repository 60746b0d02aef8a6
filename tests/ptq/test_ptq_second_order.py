"""What the second-order PTQ methods share (landscape.ptq.second_order): checks, damped inverse, Woodbury."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from landscape.ptq import adaround, gptq, hessian_factors, obq, proxy_minimizer
from landscape.ptq.hessian import psd_part
from landscape.ptq.second_order import damped_inverse, landscape_rows, second_order_inputs, woodbury_start


def _case(seed=0, d=6, rows=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(d + 2, d)) * rng.uniform(0.3, 2.0, size=d)
    return x.T @ x, rng.normal(size=(rows, d))


def _land():
    normals = np.linalg.qr(np.random.default_rng(0).normal(size=(8, 3)))[0].T
    return ls.meander_river(normals[:2], normals[2], amplitude=0.3, omega=0.7, aniso=[1.0, 0.5],
                            wall=ls.softplus_wall(0.2, 5.0, mu=0.3), river_loss=0.1)


def test_inputs_of_an_array_source_in_the_layer_setting():
    h, w = _case()
    quant = ls.uniform_grid(jnp.linspace(0.1, 0.3, 3)[:, None])  # a step per row
    x = second_order_inputs(h, quant, w, rows=True)
    assert not x.land and x.shape == (3, 6) and x.w.shape == (3, 6)
    np.testing.assert_allclose(x.source, h, rtol=1e-6)
    steps = np.linspace(0.1, 0.3, 3)[:, None]
    np.testing.assert_allclose(x.qb.quantize(x.w), np.round(w / steps) * steps, atol=1e-6)
    one = second_order_inputs(h, ls.uniform_grid(0.2), w[0], rows=True)
    assert one.w.shape == (1, 6) and one.shape == (6,)  # rows: one point is one row of the layer
    assert second_order_inputs(h, ls.uniform_grid(0.2), w[0]).w.shape == (6,)


def test_inputs_of_a_landscape_source_are_not_reshaped():
    land = _land()
    w = land.sample_river(jax.random.key(1), 2, s_range=(-2, 2))
    x = second_order_inputs(land, ls.uniform_grid(0.2), w[0], rows=True)
    assert x.land and x.source is land and x.w.shape == (8,) and x.shape == (8,)


def test_bad_inputs_are_refused_before_any_work():
    h, w = _case()
    quant = ls.uniform_grid(0.2)
    with pytest.raises(ls.LandscapeError, match="w_star has last axis 6, but the source has dim = 8"):
        second_order_inputs(_land(), quant, w)
    with pytest.raises(ls.LandscapeError, match=r"H must have shape \(6, 6\)"):
        second_order_inputs(h[:5, :5], quant, w)
    seen = []

    def too_large(d):
        seen.append(d)
        raise ls.LandscapeError("too large")

    with pytest.raises(ls.LandscapeError, match="too large"):  # check_dim runs before H is checked
        second_order_inputs(np.full((6, 6), np.nan), quant, w, check_dim=too_large)
    assert seen == [6]
    # each method refuses an indefinite H the same way
    bad = -np.eye(6)
    for method in (gptq, obq, proxy_minimizer, lambda *a: adaround(*a, num_steps=2)):
        with pytest.raises(ls.LandscapeError, match="positive semi-definite"):
            method(bad, quant, w)


@pytest.mark.float64
def test_damped_inverse_is_the_inverse_of_the_damped_hessian():
    h, _ = _case(1, d=7)
    hd = h + 0.05 * np.mean(np.diag(h)) * np.eye(7)
    got = np.asarray(damped_inverse(jnp.asarray(h), 0.05))
    np.testing.assert_allclose(got @ hd, np.eye(7), atol=1e-9)
    np.testing.assert_array_equal(got, got.T)
    # a zero Hessian: lambda = damp, so the inverse is I / damp (every Hessian method equals RTN)
    np.testing.assert_allclose(damped_inverse(jnp.zeros((3, 3)), 0.5), 2.0 * np.eye(3))


@pytest.mark.float64
def test_woodbury_start_gives_the_damped_inverse_of_p_c_p():
    land = _land()
    w = land.sample_river(jax.random.key(2), 1, s_range=(-2, 2))[0] + 0.1
    proj, c = hessian_factors(land, w)
    cp, lam, g0 = woodbury_start(proj, c, 0.01, jnp.float64)
    np.testing.assert_allclose(cp, psd_part(c))
    h = np.asarray(proj.T @ cp @ proj)
    assert float(lam) == pytest.approx(0.01 * np.trace(h) / h.shape[0], rel=1e-12)
    via_woodbury = (np.eye(8) - np.asarray(proj.T @ g0 @ cp @ proj)) / float(lam)
    np.testing.assert_allclose(via_woodbury, np.linalg.inv(h + float(lam) * np.eye(8)), rtol=1e-8, atol=1e-8)


def test_landscape_rows_gives_each_row_its_own_hessian():
    land = _land()
    w = land.sample_river(jax.random.key(3), 3, s_range=(-2, 2)) + 0.05
    qb = ls.uniform_grid(0.2).broadcast_to(w.shape)

    def curvature(proj, c, qrow, wr):  # tr(P^T C P) at that row, plus the row's rounding
        return jnp.trace(c) + jnp.sum(qrow.quantize(wr))

    got = np.asarray(landscape_rows(curvature, land, qb, w, 2))
    want = [float(jnp.trace(hessian_factors(land, w[i])[1]) + jnp.sum(jnp.round(w[i] / 0.2) * 0.2))
            for i in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert len(set(np.round(got, 4))) == 3  # the rows differ: each used its own C
