"""OBQ and GPTQ: a NumPy reference, blocked == unblocked, Landscape == dense, proxy theorems, bad H."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape.ptq import dense_hessian, gptq, hessian_factors, obq, rtn
from landscape.ptq.gptq import gptq_cholesky
from landscape.ptq.hessian import psd_part


def numpy_obq(h, w, step, damp=0.01, greedy=True):
    """Plain NumPy OBQ (Frantar & Alistarh 2022) on one row: explicit free set, H_F^-1 by inversion."""
    d = w.shape[0]
    hd = h + damp * np.mean(np.diag(h)) * np.eye(d)
    w = w.astype(np.float64).copy()
    free = list(range(d))
    q = np.zeros(d)
    for _ in range(d):
        hinv = np.linalg.inv(hd[np.ix_(free, free)])  # inverse of the Hessian restricted to F
        qw = np.round(w[free] / step) * step
        err2 = (qw - w[free]) ** 2 / np.diag(hinv)
        a = int(np.argmin(err2)) if greedy else 0
        j = free[a]
        w[free] = w[free] - (w[j] - qw[a]) / hinv[a, a] * hinv[:, a]
        q[j] = qw[a]
        free.remove(j)
    return q


def damped_proxy(h, w, q, damp=0.01):
    hd = h + damp * np.mean(np.diag(h)) * np.eye(h.shape[0])
    e = np.asarray(q, np.float64) - np.asarray(w, np.float64)
    return np.einsum("...i,ij,...j->...", e, hd, e)


def random_case(seed, d, rows, n_samples=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_samples or 2 * d, d)) * rng.uniform(0.2, 3.0, size=d)
    return x.T @ x, rng.normal(size=(rows, d))


@pytest.mark.float64
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("order", ["greedy", "sequential"])
def test_obq_matches_numpy_reference(seed, order):
    h, w = random_case(seed, d=7, rows=4, n_samples=5)  # rank-deficient H: dampening matters
    quant = ls.uniform_grid(0.25)
    got = np.asarray(obq(h, quant, w, order=order))
    want = np.stack([numpy_obq(h, r, 0.25, greedy=order == "greedy") for r in w])
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert not np.array_equal(got, np.asarray(rtn(h, quant, w)))  # the test is not trivial


@pytest.mark.float64
@pytest.mark.parametrize("seed", [0, 1])
def test_gptq_blocked_equals_unblocked_and_sequential_obq(seed):
    h, w = random_case(seed, d=11, rows=6)
    quant = ls.uniform_grid(jnp.linspace(0.1, 0.4, 6)[:, None])  # a step per row
    q1 = np.asarray(gptq(h, quant, w, block_size=1))
    for b in (3, 4, 11, 128):
        np.testing.assert_array_equal(np.asarray(gptq(h, quant, w, block_size=b)), q1)
    np.testing.assert_array_equal(np.asarray(obq(h, quant, w, order="sequential")), q1)
    for i in range(w.shape[0]):  # the shared-H layer form equals one row at a time
        qi = gptq(h, ls.uniform_grid(float(quant.step[i, 0])), w[i], block_size=4)
        np.testing.assert_array_equal(np.asarray(qi), q1[i])


@pytest.mark.float64
def test_gptq_cholesky_factor():
    h, _ = random_case(3, d=6, rows=1)
    u = np.asarray(gptq_cholesky(jnp.asarray(h), 0.01))
    hd = h + 0.01 * np.mean(np.diag(h)) * np.eye(6)
    np.testing.assert_allclose(u.T @ u, np.linalg.inv(hd), rtol=1e-9, atol=1e-12)
    assert np.allclose(u, np.triu(u))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), step=st.floats(0.05, 2.0))
def test_two_coordinates_never_worse_than_rtn(seed, step):
    """Theorem (d = 2): both orders round one coordinate as RTN does and then choose the other
    optimally given it (a 1-D quadratic is minimised over a grid by rounding its minimiser),
    so the damped proxy of GPTQ and of OBQ is <= that of RTN."""
    with jax.enable_x64(True):
        h, w = random_case(seed, d=2, rows=3, n_samples=3)
        quant = ls.uniform_grid(step)
        base = damped_proxy(h, w, rtn(h, quant, w))
        for q in (gptq(h, quant, w), obq(h, quant, w)):
            assert np.all(damped_proxy(h, w, q) <= base + 1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_diagonal_hessian_gives_rtn(seed):
    """Theorem: with a diagonal H no error is fed back (H^-1 is diagonal), so OBQ = GPTQ = RTN."""
    rng = np.random.default_rng(seed)
    h = np.diag(rng.uniform(0.1, 5.0, size=9))
    w = rng.normal(size=(4, 9)).astype(np.float32)
    quant = ls.uniform_grid(0.3)
    want = np.asarray(rtn(h, quant, w))
    for q in (gptq(h, quant, w, block_size=4), obq(h, quant, w), obq(h, quant, w, order="sequential")):
        np.testing.assert_array_equal(np.asarray(q), want)


@pytest.mark.float64
def test_landscape_source_equals_dense_hessian():
    """The Woodbury (rank k+1) path equals the dense path given H = Hess L(w*) = P^T C P."""
    normals = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 3)))[0].T  # 3 x 10
    lands = [  # curved river, drift, anisotropic basin, softplus wall: the general case
        ls.meander_river(normals[:2], normals[2], amplitude=0.3, omega=0.7, aniso=[1.0, 0.5],
                         wall=ls.softplus_wall(0.2, 5.0, mu=0.3), river_loss=0.1),
    ]
    quant = ls.uniform_grid(0.2)
    for land in lands:
        w = land.sample_river(jax.random.key(1), 2, s_range=(-3, 3))
        w = w + 0.15 * jax.random.normal(jax.random.key(2), w.shape)  # off the river too
        for i in range(w.shape[0]):
            np.testing.assert_allclose(dense_hessian(land, w[i]), land.hessian(w[i]), atol=1e-10)
            proj, c = hessian_factors(land, w[i])
            h = proj.T @ psd_part(c) @ proj  # a curved river's Hessian can be indefinite: PSD part
            np.testing.assert_array_equal(obq(land, quant, w[i]), obq(h, quant, w[i]))
            np.testing.assert_array_equal(gptq(land, quant, w[i]), gptq(h, quant, w[i]))
        # 2-D w*: each row with its own Hessian, and the same numbers under jax.vmap
        batch = np.asarray(gptq(land, quant, w))
        vmapped = jax.vmap(lambda x, land=land: gptq(land, quant, x))(w)
        np.testing.assert_array_equal(batch, np.asarray(vmapped))
        np.testing.assert_array_equal(batch[1], np.asarray(gptq(land, quant, w[1])))


def test_bad_hessians_clear_errors_never_nan():
    d = 5
    quant = ls.uniform_grid(0.2)
    w = jnp.linspace(-1, 1, d)
    asym = np.eye(d) + np.triu(np.ones((d, d)), 1)
    with pytest.raises(ls.LandscapeError, match="symmetric"):
        gptq(asym, quant, w)
    indef = np.diag([1.0, 2.0, -0.5, 1.0, 1.0])
    for f in (gptq, obq):
        with pytest.raises(ls.LandscapeError, match="positive semi-definite"):
            f(indef, quant, w)
        q = f(indef, quant, w, on_indefinite="shift")
        assert np.all(np.isfinite(np.asarray(q)))
    # traced H (no Python-side check possible): documented shift, finite output
    q = jax.jit(lambda h: gptq(h, quant, w))(jnp.asarray(indef))
    assert np.all(np.isfinite(np.asarray(q)))
    # H = 0 (perfectly flat): lambda = damp, every Hessian method is RTN
    np.testing.assert_array_equal(np.asarray(gptq(np.zeros((d, d)), quant, w)), np.asarray(quant.quantize(w)))
    with pytest.raises(ls.LandscapeError, match="shape"):
        gptq(np.eye(4), quant, w)
    with pytest.raises(ls.LandscapeError, match="damp"):
        gptq(np.eye(d), quant, w, damp=0.0)
    with pytest.raises(ls.LandscapeError, match="block_size"):
        gptq(np.eye(d), quant, w, block_size=0)
    with pytest.raises(ls.LandscapeError, match="order"):
        obq(np.eye(d), quant, w, order="random")
    with pytest.raises(ls.LandscapeError, match="finite"):
        gptq(np.full((d, d), np.nan), quant, w)
