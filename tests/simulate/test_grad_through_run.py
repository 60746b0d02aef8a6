"""jax.grad through landscape.run and run_batch: a final loss differentiated with respect to the learning
rate and to the start, checked against central differences in float64 (issue 19 item 4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape.simulate.driver import compiled_count

STEPS = 20


def _setup():
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.1, 5.0), river_loss=0.1)
    return ls, L.uniform_grid(0.2), jnp.array([0.33, 0.47])  # off the cell edges 0.2 Z + 0.1


def _final_latent_loss(rule_of, lr=0.05, w0=None, batch=False):
    ls, q, start = _setup()
    w0 = start if w0 is None else w0
    if batch:
        tr = L.run_batch(ls, q, rule_of(lr), jnp.stack([w0, w0 + 0.1]), STEPS, save=L.SaveAt.summary())
        return jnp.sum(jax.vmap(ls.loss)(tr.final_w))
    tr = L.run(ls, q, rule_of(lr), w0, STEPS, save=L.SaveAt.summary())
    return ls.loss(tr.final_w)


def _central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("batch", [False, True], ids=["run", "run_batch"])
@pytest.mark.parametrize("rule_of", [L.full_precision, L.ste], ids=["fp", "ste"])
def test_grad_wrt_learning_rate_matches_central_differences(rule_of, batch, jit):
    with jax.enable_x64(True):
        f = lambda lr: _final_latent_loss(rule_of, lr, batch=batch)  # noqa: E731
        g = (jax.jit(jax.grad(f)) if jit else jax.grad(f))(0.05)
        fd = _central(f, 0.05)
        assert np.isfinite(g) and abs(g) > 1e-4  # the latent moves with eta: a non-trivial derivative
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("rule_of", [L.full_precision, L.ste], ids=["fp", "ste"])
def test_grad_wrt_start_matches_central_differences(rule_of):
    with jax.enable_x64(True):
        _, _, w0 = _setup()
        f = lambda w: _final_latent_loss(rule_of, w0=w)  # noqa: E731
        g = jax.grad(f)(w0)
        fd = np.array([_central(lambda t, e=e: f(w0 + t * e), 0.0) for e in jnp.eye(2)])
        assert g.shape == (2,) and np.all(np.isfinite(g))
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_top_level_run_still_reuses_its_program_after_a_grad():
    ls, q, w0 = _setup()
    L.run(ls, q, L.ste(0.05), w0, STEPS)
    jax.grad(lambda lr: _final_latent_loss(L.ste, lr))(0.05)
    before = compiled_count()
    tr = L.run(ls, q, L.ste(0.07), w0, STEPS)
    assert compiled_count() == before
    assert tr.final_w.shape == (2,)
