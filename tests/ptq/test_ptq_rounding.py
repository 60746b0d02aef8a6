"""RTN equals the quantizer's rounding; stochastic rounding is unbiased and lands on a neighbour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from landscape.ptq import ptq_methods, rtn, stochastic_rounding


@pytest.mark.parametrize("jit", [False, True])
def test_rtn_equals_quantize(jit):
    w = jax.random.normal(jax.random.key(0), (5, 7))
    cases = [
        ls.uniform_grid(0.3, offset=0.05),
        ls.integer_grid(4, 0.2),
        ls.uniform_grid(jnp.linspace(0.1, 0.5, 5)[:, None]),  # per-row steps (rows, 1)
        ls.nf4(1.5),
    ]
    for q in cases:
        f = jax.jit(lambda w, q=q: rtn(None, q, w)) if jit else (lambda w, q=q: rtn(None, q, w))
        # jit may fuse offset + step * n differently: equal up to one rounding of float32
        np.testing.assert_allclose(np.asarray(f(w)), np.asarray(q.quantize(w)), rtol=1e-6, atol=1e-7)
        if np.ndim(getattr(q, "step", 0)) < 2:
            want = np.asarray(q.quantize(w[0]))
            np.testing.assert_allclose(np.asarray(f(w[0])), want, rtol=1e-6, atol=1e-7)
    with pytest.raises(ls.LandscapeError, match="broadcast"):
        rtn(None, cases[2], w[0, :3])


def test_stochastic_rounding_unbiased_and_on_neighbours():
    """E[q] = w* inside the range: |mean - w| <= 5 standard errors, se from the Bernoulli variance."""
    n = 20_000
    w = jnp.array([0.01, 0.13, -0.29, 0.449, 1.0, -2.2, 0.7, 0.3])
    quant = ls.uniform_grid(0.3)
    keys = jax.random.split(jax.random.key(1), n)
    q = np.asarray(jax.vmap(lambda k: stochastic_rounding(None, quant, w, k))(keys))
    down, up = (np.asarray(a) for a in quant.neighbors(w))
    assert np.all((q == down) | (q == up))
    var = (up - np.asarray(w)) * (np.asarray(w) - down)  # Bernoulli variance scaled by the gap^2
    se = np.sqrt(np.maximum(var, 0) / n)
    err = np.abs(q.astype(np.float64).mean(0) - np.asarray(w, dtype=np.float64))
    assert np.all(err <= 5 * se + 1e-6), (err, se)
    assert np.all(se[var > 0] > 0)


def test_stochastic_rounding_codebook_and_clipping():
    quant = ls.integer_grid(3, 0.5)  # codes -4..3, values -2 .. 1.5
    w = jnp.array([5.0, -7.0, 0.2])
    keys = jax.random.split(jax.random.key(2), 4000)
    q = np.asarray(jax.vmap(lambda k: stochastic_rounding(None, quant, w, k))(keys))
    assert np.all(q[:, 0] == 1.5) and np.all(q[:, 1] == -2.0)  # beyond the range: the clipped end
    assert set(np.unique(q[:, 2])) == {0.0, 0.5}
    cb = ls.nf4(1.0)
    qc = np.asarray(stochastic_rounding(None, cb, jnp.array([0.3, -0.6]), jax.random.key(3)))
    assert np.all(np.isin(np.round(qc, 6), np.round(np.asarray(cb.levels), 6)))


def test_stochastic_rounding_needs_a_key():
    with pytest.raises(ValueError, match="key"):
        stochastic_rounding(None, ls.uniform_grid(0.1), jnp.zeros(3), None)


def test_registry_names():
    assert set(ptq_methods) == {"rtn", "stochastic", "obq", "gptq", "adaround", "proxy_min"}
    assert all(callable(f) for f in ptq_methods.values())


def test_bad_w_star_shape():
    with pytest.raises(ls.LandscapeError, match="w_star"):
        rtn(None, ls.uniform_grid(0.1), jnp.zeros((2, 3, 4)))
    with pytest.raises(ls.LandscapeError, match="w_star"):
        rtn(None, ls.uniform_grid(0.1), jnp.array([0.0, jnp.nan]))
