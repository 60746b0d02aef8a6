"""PTQ on the valley family: GPTQ / OBQ / the exact proxy minimiser against independent NumPy references.

The references take the dense Hessian H = mu N^T N + E^T diag(lambda) E built here from the landscape's
arrays (not from the engine's factors) and run the textbook algorithms in float64.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.ptq import gptq, obq, proxy_minimizer, ptq_methods


def valley_case(seed, d, k, m, ratio, mu=0.1, rb=0.1, n=6, step=0.2):
    """A random valley (lambda = ratio * mu), trained points on its floor, its dense Hessian (NumPy)."""
    v = ls.valley_landscape(jax.random.key(seed), d, k, m, wall=ls.quadratic_wall(rb, 1e4, mu),
                            curvature=ratio * mu)
    w = v.sample_river(jax.random.key(seed + 1), n, s_range=(-3.0, 3.0), spread=1.0)
    nn, e = np.asarray(v.normals, np.float64), np.asarray(v.valley_dirs, np.float64)
    h = mu * nn.T @ nn + ratio * mu * e.T @ e
    offset = np.random.default_rng(seed).uniform(0, step, size=d)
    return v, np.asarray(w, np.float64), h, ls.uniform_grid(step, offset=offset), step, offset


def _round(x, step, offset):
    return offset + step * np.round((x - offset) / step)


def numpy_gptq(h, w, step, offset, damp=0.01):
    """Textbook GPTQ on one row (Frantar et al. 2023, Alg. 1, unblocked): Cholesky of (H + lambda I)^-1."""
    d = w.shape[0]
    hd = h + damp * np.mean(np.diag(h)) * np.eye(d)
    u = np.linalg.cholesky(np.linalg.inv(hd)).T  # upper: U^T U = H^-1
    w = w.copy()
    q = np.zeros(d)
    for i in range(d):
        q[i] = _round(w[i], step, offset[i])
        err = (w[i] - q[i]) / u[i, i]
        w[i:] -= err * u[i, i:]
    return q


def numpy_obq(h, w, step, offset, damp=0.01):
    """Textbook greedy OBQ on one row: explicit free set, H_F^-1 by inversion at every step."""
    d = w.shape[0]
    hd = h + damp * np.mean(np.diag(h)) * np.eye(d)
    w = w.copy()
    free, q = list(range(d)), np.zeros(d)
    for _ in range(d):
        hinv = np.linalg.inv(hd[np.ix_(free, free)])
        qw = _round(w[free], step, offset[free])
        a = int(np.argmin((qw - w[free]) ** 2 / np.diag(hinv)))
        j = free[a]
        w[free] = w[free] - (w[j] - qw[a]) / hinv[a, a] * hinv[:, a]
        q[j] = qw[a]
        free.remove(j)
    return q


def numpy_proxy_min(h, w, step, offset, damp=0.01):
    """argmin over the 2^d corners of w's cell of (q - w)^T (H + lambda I)(q - w), by brute force."""
    d = w.shape[0]
    hd = h + damp * np.mean(np.diag(h)) * np.eye(d)
    down = offset + step * np.floor((w - offset) / step)
    best, arg = np.inf, None
    for bits in itertools.product((0, 1), repeat=d):
        e = down + step * np.asarray(bits) - w
        val = e @ hd @ e
        if val < best:
            best, arg = val, down + step * np.asarray(bits)
    return arg, best


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), shape=st.sampled_from(((12, 2, 3), (33, 3, 8), (20, 1, 5))),
       log_ratio=st.floats(-1.0, 4.0))
def test_gptq_on_a_valley_equals_numpy_gptq(seed, shape, log_ratio):
    d, k, m = shape
    with jax.enable_x64(True):
        v, w, h, quant, step, off = valley_case(seed, d, k, m, 10.0**log_ratio)
        got = np.asarray(gptq(v, quant, w))
        want = np.stack([numpy_gptq(h, r, step, off) for r in w])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.asarray(gptq(h, quant, w)), want, rtol=0, atol=1e-12)  # dense path


@pytest.mark.float64
@pytest.mark.parametrize("seed,d,k,m,ratio", [(0, 9, 1, 3, 100.0), (1, 14, 2, 4, 1000.0), (2, 7, 2, 2, 3.0)])
def test_obq_and_sequential_obq_on_a_valley_equal_numpy(seed, d, k, m, ratio):
    v, w, h, quant, step, off = valley_case(seed, d, k, m, ratio)
    np.testing.assert_allclose(np.asarray(obq(v, quant, w)),
                               np.stack([numpy_obq(h, r, step, off) for r in w]), atol=1e-12)
    np.testing.assert_allclose(np.asarray(obq(v, quant, w, order="sequential")),
                               np.stack([numpy_gptq(h, r, step, off) for r in w]), atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), shape=st.sampled_from(((5, 1, 2), (8, 2, 3), (10, 2, 4))),
       log_ratio=st.floats(-1.0, 4.0), damp=st.sampled_from((0.01, 0.1)))
def test_exact_proxy_minimiser_equals_brute_force(seed, shape, log_ratio, damp):
    d, k, m = shape
    with jax.enable_x64(True):
        v, w, h, quant, step, off = valley_case(seed, d, k, m, 10.0**log_ratio, n=3)
        got = np.asarray(proxy_minimizer(v, quant, w, damp=damp, chunk_bits=3))  # several chunks
        dense = np.asarray(proxy_minimizer(h, quant, w, damp=damp))
        for i, r in enumerate(w):
            want, best = numpy_proxy_min(h, r, step, off, damp)
            np.testing.assert_allclose(got[i], want, atol=1e-12)
            np.testing.assert_allclose(dense[i], want, atol=1e-12)
            # and no corner GPTQ or RTN found (they may leave the cell) beats it inside the cell
            hd = h + damp * np.mean(np.diag(h)) * np.eye(d)
            e = np.asarray(quant.quantize(jnp.asarray(r))) - r
            assert best <= e @ hd @ e + 1e-12


def test_proxy_minimiser_contract():
    v, w, h, quant, *_ = valley_case(3, 12, 2, 3, 10.0, n=4)
    q = np.asarray(ptq_methods["proxy_min"](v, quant, w))
    down, up = (np.asarray(a) for a in quant.neighbors(jnp.asarray(w)))
    assert np.all((q == down) | (q == up))  # a corner of the cell
    with pytest.raises(ls.LandscapeError, match="d must lie in"):
        proxy_minimizer(ls.valley_landscape(jax.random.key(0), 24, 2, 3), quant, jnp.zeros(24))
    with pytest.raises(ls.LandscapeError, match="damp"):
        proxy_minimizer(v, quant, w, damp=-1.0)
    # a flat basin (mu = 0, lambda = 0): every corner has proxy 0 but the damping's, so RTN
    flat = ls.axis_aligned_valley(6, 1, 2, wall=ls.quadratic_wall(0.1, 10.0, 0.0), curvature=0.0)
    x = flat.sample_river(jax.random.key(1), 5, s_range=(-1, 1), spread=1.0)
    grid = ls.uniform_grid(0.2)
    np.testing.assert_array_equal(np.asarray(proxy_minimizer(flat, grid, x)), np.asarray(grid.quantize(x)))


def test_low_rank_methods_run_at_d_4096_without_a_dense_hessian():
    """Every method on d = 4096 (k = 4, m = 16): the factors are (21, 21); no d x d array exists."""
    v = ls.valley_landscape(jax.random.key(0), 4096, 4, 16, wall=ls.quadratic_wall(0.05, 1e4, 0.1),
                            curvature=10.0)
    w = v.sample_river(jax.random.key(1), 2, s_range=(-1, 1), spread=1.0)
    quant = ls.uniform_grid(0.1)
    p, c = ls.ptq.hessian_factors(v, w)
    assert p.shape == (21, 4096) and c.shape == (2, 21, 21)
    for name in ("rtn", "stochastic", "obq", "gptq", "adaround"):
        kw = {"num_steps": 50} if name == "adaround" else {}
        q = ptq_methods[name](v, quant, w, key=jax.random.key(2), **kw)
        assert q.shape == w.shape and bool(jnp.all(jnp.isfinite(q))), name
    res = ls.oracle(v, quant, w)
    assert not res.exact and res.q.shape == w.shape


def test_valley_twin_blindness_and_the_failure():
    """Walled vs wall-free twin: the same q for every second-order method; at lambda/mu = 1000 they exit."""
    v, w, *_ = valley_case(5, 16, 2, 4, 1000.0, n=64)
    free = v.replace(wall=ls.quadratic_wall(0.1, 0.0, 0.1))
    quant = ls.uniform_grid(0.2)
    outside = {}
    for name in ("obq", "gptq", "adaround", "proxy_min"):
        qa, qb = ptq_methods[name](v, quant, w), ptq_methods[name](free, quant, w)
        np.testing.assert_array_equal(np.asarray(qa), np.asarray(qb), err_msg=name)
        outside[name] = float(jnp.mean(~jax.vmap(v.in_basin)(qa)))
    rtn_out = float(jnp.mean(~jax.vmap(v.in_basin)(quant.quantize(jnp.asarray(w)))))
    assert outside["proxy_min"] > rtn_out and outside["gptq"] > rtn_out
    orc = ls.oracle(v, quant, w)
    assert orc.exact and float(jnp.mean(orc.rho > 0.1)) < outside["gptq"]
