"""AdaRound ends on the grid and is RTN on separable quadratics; the oracle equals brute force."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from landscape.ptq import adaround, oracle, rtn


def test_adaround_on_grid_and_separable_nearest():
    rng = np.random.default_rng(0)
    h = np.diag(rng.uniform(0.2, 3.0, size=12))  # separable quadratic proxy
    w = rng.normal(size=(5, 12)).astype(np.float32)
    quant = ls.uniform_grid(jnp.linspace(0.1, 0.5, 5)[:, None])
    q = np.asarray(adaround(h, quant, w))
    down, up = (np.asarray(a) for a in quant.neighbors(jnp.asarray(w)))
    assert np.all((q == down) | (q == up))  # hard rounding: on the grid, in w*'s cell
    np.testing.assert_array_equal(q, np.asarray(rtn(h, quant, w)))  # separable: the nearest point
    # rows are independent: the batched call equals one row at a time
    q2 = np.asarray(adaround(h, ls.uniform_grid(float(quant.step[2, 0])), w[2]))
    np.testing.assert_array_equal(q2, q[2])


def test_adaround_lowers_the_proxy_on_a_coupled_quadratic():
    """On a strongly coupled H, AdaRound's proxy is below RTN's on average (its objective)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 10))
    h = x.T @ x + 1e-3 * np.eye(10)
    w = rng.normal(size=(16, 10)).astype(np.float32)
    quant = ls.uniform_grid(0.5)

    def proxy(q):
        e = np.asarray(q, np.float64) - w
        return np.einsum("ri,ij,rj->r", e, h, e)

    assert proxy(adaround(h, quant, w)).mean() < proxy(rtn(h, quant, w)).mean()
    with pytest.raises(ls.LandscapeError, match="warmup"):
        adaround(h, quant, w, warmup=1.5)
    with pytest.raises(ls.LandscapeError, match="num_steps"):
        adaround(h, quant, w, num_steps=0)


def brute_force(land, quant, w):
    down, up = (np.asarray(a, np.float64) for a in quant.neighbors(jnp.asarray(w)))
    best = np.inf
    for bits in itertools.product([0, 1], repeat=w.shape[0]):
        best = min(best, float(land.loss(jnp.asarray(np.where(np.array(bits, bool), up, down)))))
    return best


@pytest.mark.float64
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_oracle_equals_brute_force(seed):
    land = ls.random_river(jax.random.key(seed), 7, 2, wall=ls.quadratic_wall(0.1, 10.0, 0.3),
                           river_loss=0.05)
    w = land.sample_river(jax.random.key(seed + 10), 3, s_range=(-2, 2), spread=0.5)
    quant = ls.uniform_grid(0.3)
    res = oracle(land, quant, w, chunk_bits=4)  # 2^3 chunks of 2^4 corners
    assert res.exact and "exact" in res.method
    down, up = (np.asarray(a) for a in quant.neighbors(w))
    assert np.all((np.asarray(res.q) == down) | (np.asarray(res.q) == up))
    for i in range(w.shape[0]):
        np.testing.assert_allclose(float(res.loss[i]), brute_force(land, quant, np.asarray(w[i])),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(float(res.rho[i]), float(land.rho(res.q[i])), rtol=1e-12)


def test_oracle_search_is_certified_and_no_worse_than_rtn():
    land = ls.random_river(jax.random.key(5), 40, 3, wall=ls.quadratic_wall(0.1, 10.0, 0.1))
    w = land.sample_river(jax.random.key(6), 16, s_range=(-5, 5), spread=1.0)
    quant = ls.uniform_grid(0.2)
    res = oracle(land, quant, w)
    assert not res.exact and "not a proof" in res.method
    down, up = (np.asarray(a) for a in quant.neighbors(w))
    assert np.all((np.asarray(res.q) == down) | (np.asarray(res.q) == up))
    np.testing.assert_allclose(np.asarray(res.loss), np.asarray(jax.vmap(land.loss)(res.q)), rtol=1e-6)
    rtn_loss = np.asarray(jax.vmap(land.loss)(quant.quantize(w)))
    assert np.all(np.asarray(res.loss) <= rtn_loss)  # the search only accepts improvements
    assert np.mean(np.asarray(res.loss) < rtn_loss) > 0.5  # and it does improve
    # vmap-friendly: the static fields ride along
    res_v = jax.vmap(lambda x: oracle(land, quant, x))(w)
    np.testing.assert_array_equal(np.asarray(res_v.q), np.asarray(res.q))
    with pytest.raises(ls.LandscapeError, match="Landscape"):
        oracle(np.eye(40), quant, w)
