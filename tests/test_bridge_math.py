"""The bridge's mathematics on models small enough to check exactly: HVP, Lanczos, widths, grids, data."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landscape._checks import LandscapeError
from landscape.models.basin import basin_rho, basin_widths, in_basin, profiles, sharp_offset
from landscape.models.bridge import BridgeConfig, verdict
from landscape.models.data import entropy_rate, markov_chain, markov_language
from landscape.models.hessian import dense_hessian, hvp, lanczos
from landscape.models.nets import cross_entropy, dense_init, dense_stack, flat_weights, with_weights
from landscape.models.quant import channel_steps, check_bits, grid_geometry, rtn_point, weight_quantizer


def _tiny_loss(n=40, sizes=(5, 6, 3), dtype=jnp.float64):
    """A tanh MLP small enough for a dense Hessian (d = 48); float64 inside ``jax.enable_x64``."""
    key = jax.random.PRNGKey(3)
    x = jax.random.normal(key, (n, sizes[0]), dtype)
    y = jnp.arange(n) % sizes[-1]
    p = {"dense": [{k: v.astype(dtype) for k, v in layer.items()} for layer in dense_init(key, sizes)]}
    w0 = flat_weights(p)
    return (lambda w: cross_entropy(dense_stack(with_weights(p, w)["dense"], x), y)), w0


def test_hvp_matches_central_finite_differences_float64():
    with jax.enable_x64(True):
        loss, w0 = _tiny_loss()
        grad = jax.jit(jax.grad(loss))
        h = jax.jit(lambda w: dense_hessian(loss, w))(w0)
        hvp_at = jax.jit(lambda v: hvp(loss, w0, v))
        for seed in range(3):
            v = jax.random.normal(jax.random.PRNGKey(seed), w0.shape, jnp.float64)
            eps = 1e-5
            fd = (grad(w0 + eps * v) - grad(w0 - eps * v)) / (2 * eps)
            hv = hvp_at(v)
            assert hv.dtype == jnp.float64
            np.testing.assert_allclose(np.asarray(hv), np.asarray(fd), rtol=1e-6, atol=1e-8)
            # and the dense Hessian agrees with the HVP
            np.testing.assert_allclose(np.asarray(h @ v), np.asarray(hv), atol=1e-10)


def test_lanczos_matches_dense_eigendecomposition():
    with jax.enable_x64(True):
        loss, w0 = _tiny_loss()
        d = w0.shape[0]
        h = np.asarray(jax.jit(lambda w: dense_hessian(loss, w))(w0))
        evals, evecs = np.linalg.eigh(h)
        top, topvec = evals[::-1][:4], evecs[:, ::-1][:, :4]
        for num_iter, tol in ((d, 1e-10), (30, 1e-9)):
            spec = lanczos(loss, w0, k=4, num_iter=num_iter, key=jax.random.PRNGKey(1))
            np.testing.assert_allclose(np.asarray(spec.eigenvalues), top, rtol=tol, atol=tol)
            n = np.asarray(spec.normals)
            np.testing.assert_allclose(n @ n.T, np.eye(4), atol=1e-10)  # orthonormal rows
            # same directions up to sign: |<n_i, u_i>| = 1
            np.testing.assert_allclose(np.abs(np.sum(n.T * topvec, 0)), 1.0, atol=1e-6)
            assert np.all(np.asarray(spec.residuals) < 1e-6)


def test_lanczos_survives_breakdown_on_low_rank_hessian():
    # L(w) = 0.5 sum_i lam_i (u_i . w)^2 with rank 3: the Krylov space is exhausted after 3 steps
    with jax.enable_x64(True):
        d = 20
        u = np.linalg.qr(np.random.default_rng(0).normal(size=(d, 3)))[0].T
        lam = np.array([5.0, 2.0, 0.5])
        loss = lambda w: 0.5 * jnp.sum(lam * (jnp.asarray(u) @ w) ** 2)  # noqa: E731
        spec = lanczos(loss, jnp.zeros(d), k=4, num_iter=10)
        np.testing.assert_allclose(np.asarray(spec.eigenvalues), [5.0, 2.0, 0.5, 0.0], atol=1e-10)
        n = np.asarray(spec.normals)
        np.testing.assert_allclose(n @ n.T, np.eye(4), atol=1e-8)


def test_lanczos_is_reproducible_and_float32_by_default():
    loss, w0 = _tiny_loss(dtype=jnp.float32)
    a = lanczos(loss, w0, k=3, num_iter=20, key=jax.random.PRNGKey(5))
    b = lanczos(loss, w0, k=3, num_iter=20, key=jax.random.PRNGKey(5))
    assert a.normals.dtype == jnp.float32 and a.normals.shape == (3, w0.shape[0])
    np.testing.assert_array_equal(np.asarray(a.eigenvalues), np.asarray(b.eigenvalues))
    np.testing.assert_array_equal(np.asarray(a.normals), np.asarray(b.normals))


def test_lanczos_rejects_bad_arguments():
    loss = lambda w: jnp.sum(w**2)  # noqa: E731
    with pytest.raises(LandscapeError, match="num_iter"):
        lanczos(loss, jnp.zeros(5), k=2, num_iter=6)
    with pytest.raises(LandscapeError, match="k must"):
        lanczos(loss, jnp.zeros(5), k=0, num_iter=3)
    with pytest.raises(LandscapeError, match="flat vector"):
        lanczos(loss, jnp.zeros((2, 3)), k=1, num_iter=2)


def test_basin_widths_of_a_quadratic_are_sqrt_2tau_over_lambda():
    with jax.enable_x64(True):
        d = 6
        n = np.linalg.qr(np.random.default_rng(1).normal(size=(d, 2)))[0].T
        lam = np.array([4.0, 1.0])
        w_star = jnp.arange(d, dtype=jnp.float64) / 10
        loss = lambda w: 0.5 * jnp.sum(lam * (jnp.asarray(n) @ (w - w_star)) ** 2)  # noqa: E731
        tau = 0.1
        wd = basin_widths(loss, w_star, jnp.asarray(n), tau, t_max=2.0, num=40)
        exact = np.sqrt(2 * tau / lam)
        np.testing.assert_allclose(np.asarray(wd.plus), exact, rtol=1e-7)
        np.testing.assert_allclose(np.asarray(wd.minus), exact, rtol=1e-7)
        assert not np.any(np.asarray(wd.censored_plus))
        # a range too short is censored at t_max
        short = basin_widths(loss, w_star, jnp.asarray(n), tau, t_max=0.1, num=10)
        assert np.all(np.asarray(short.censored_plus)) and np.allclose(np.asarray(short.plus), 0.1)
        t, rise = profiles(loss, w_star, jnp.asarray(n), t_max=1.0, num=11)
        assert t.shape == rise.shape == (2, 11)
        np.testing.assert_allclose(np.asarray(rise), 0.5 * lam[:, None] * np.asarray(t) ** 2, atol=1e-12)
        # offsets and rho in units of the widths
        q = w_star + 0.5 * exact[0] * jnp.asarray(n[0])
        v = sharp_offset(jnp.asarray(n), q, w_star)
        np.testing.assert_allclose(np.asarray(v), [0.5 * exact[0], 0.0], atol=1e-12)
        assert abs(float(basin_rho(v, wd)) - 0.5) < 1e-7
        assert bool(in_basin(loss(q), loss(w_star), tau)) and not bool(in_basin(0.2, 0.0, tau))


def test_per_channel_rtn_is_on_each_rows_grid():
    key = jax.random.PRNGKey(0)
    params = {"dense": dense_init(key, (7, 5, 3))}
    w = flat_weights(params)
    for bits in (2, 3, 4, 8):
        step = weight_quantizer(params, bits).step
        q = rtn_point(params, bits)
        codes = np.asarray(q / step)
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)
        codes = np.round(codes)
        assert codes.min() >= -(2 ** (bits - 1)) and codes.max() <= 2 ** (bits - 1) - 1
        assert np.all(np.abs(np.asarray(q - w)) <= 0.5 * np.asarray(step) + 1e-7)
        s0 = channel_steps(params["dense"][0]["w"], bits)
        assert s0.shape == (5, 1)
        # each row's absmax is exactly representable: it maps to code +-(2^(b-1) - 1)
        np.testing.assert_allclose(np.max(np.abs(params["dense"][0]["w"]), 1) / s0[:, 0], 2 ** (bits - 1) - 1,
                                   rtol=1e-6)
    sigma, flip = grid_geometry(np.eye(3, w.shape[0]), step)
    np.testing.assert_allclose(sigma, np.asarray(step[:3]) / np.sqrt(12), rtol=1e-6)
    np.testing.assert_allclose(flip, np.asarray(step[:3]), rtol=1e-6)


def test_bad_arguments_name_the_argument_and_range():
    with pytest.raises(ValueError, match=r"bits must lie in \(2, 3"):
        check_bits([1, 4])
    with pytest.raises(ValueError, match="bits must be integers"):
        check_bits(["four"])
    with pytest.raises(ValueError, match="model must be one of"):
        BridgeConfig(model="resnet")
    with pytest.raises(ValueError, match="tau must lie in"):
        BridgeConfig(tau=0.0)
    with pytest.raises(ValueError, match="concentration"):
        markov_chain(concentration=-1.0)
    assert check_bits([2, 8, 4, 4]) == (8, 4, 2)


def test_markov_language_windows_and_entropy_rate():
    chain = markov_chain(seed=0, vocab=5, order=2, concentration=0.5)
    np.testing.assert_allclose(chain.transition.sum(1), 1.0)
    # stationarity of the context chain
    v = chain.vocab
    big = np.zeros((v**2, v**2))
    for c in range(v**2):
        big[c, (c % v) * v + np.arange(v)] = chain.transition[c]
    np.testing.assert_allclose(chain.stationary @ big, chain.stationary, atol=1e-10)
    data = markov_language(chain, jax.random.PRNGKey(0), n_train=100, n_test=8, seq_len=200)
    x, y = np.asarray(data.x_train), np.asarray(data.y_train)
    assert x.shape == (100 * 200, 2) and y.shape == (100 * 200,)
    assert x.min() >= 0 and x.max() < v and y.min() >= 0 and y.max() < v
    # windows overlap: the context of position t+1 is (x_{t-1}, y_t)
    np.testing.assert_array_equal(x[1:200, 0], x[:199, 1])
    np.testing.assert_array_equal(x[1:200, 1], y[:199])
    # the empirical cross-entropy of the true chain matches the entropy rate
    ctx = x[:, 0] * v + x[:, 1]
    emp = -np.mean(np.log(chain.transition[ctx, y]))
    assert abs(emp - entropy_rate(chain)) < 0.03


def test_verdict_logic():
    assert verdict(True, False, 12, 300).startswith("held: PTQ outside, QAT back at step 12")
    assert verdict(True, False, -1, 300).startswith("failed: PTQ outside but QAT not back in 300")
    assert verdict(True, True, 0, 300).startswith("failed: PTQ inside")
    assert verdict(False, True, 0, 300).startswith("held: fine grid")
    assert verdict(False, False, 5, 300).startswith("failed: PTQ outside although grid < basin")
    assert verdict(True, False, 7, 300, 0.25).endswith("(in basin 25% of the last 10% of steps)")


def test_cli_rejects_bad_bits_and_model():
    from typer.testing import CliRunner

    from landscape.cli import app

    res = CliRunner().invoke(app, ["bridge", "--quick", "--bits", "1,4"])
    assert res.exit_code != 0 and "bits must lie in" in res.output
    res = CliRunner().invoke(app, ["bridge", "--quick", "--model", "resnet"])
    assert res.exit_code != 0 and "model must be one of" in res.output
