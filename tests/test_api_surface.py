"""What a new user meets first: dir(landscape), signatures, refusals at construction, shape checks."""

from __future__ import annotations

import inspect
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import landscape as ls


def test_dir_lists_every_public_name_and_import_is_lazy():
    names = dir(ls)
    for n in ("sweep", "linspace", "logspace", "explore", "testing", "plot", "run", "Landscape"):
        assert n in names, n
    assert set(ls.__all__) <= set(names)
    code = "import sys, landscape; print('jax' in sys.modules, len(dir(landscape)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.split()[0] == "False"  # importing the package imports no JAX: names load on first use


def test_every_public_name_resolves():
    for n in ls.__all__:
        assert getattr(ls, n) is not None, n
    assert callable(ls.explore) and callable(ls.plot.explore)


def test_sweep_has_a_real_signature():
    sig = inspect.signature(ls.sweep)
    for p in ("landscape", "quantizer", "rule", "optimizer", "num_steps", "starts", "store", "s_range"):
        assert p in sig.parameters, p
    assert sig.parameters["params"].kind is inspect.Parameter.VAR_KEYWORD


def test_an_optimizer_without_a_learning_rate_is_refused_at_construction():
    with pytest.raises(ls.LandscapeError, match="adam needs learning_rate"):
        ls.optimizer(optax.adam)
    with pytest.raises(ls.LandscapeError, match="takes no argument 'lr'"):
        ls.optimizer(optax.adam, lr=0.1)
    assert "learning_rate=0.1" in repr(ls.optimizer(optax.adam, learning_rate=0.1))


@pytest.mark.parametrize("method", ["in_basin", "rho", "loss", "grad", "offset", "s", "probe", "hessian"])
@pytest.mark.parametrize("make", [lambda: ls.rotated_river_2d(0.5),
                                  lambda: ls.valley_landscape(jax.random.PRNGKey(0), 6, 1, 2)],
                         ids=["river_2d", "valley_6d"])
def test_a_wrong_trailing_dimension_names_the_expected_shape(method, make):
    land = make()
    d = land.dim
    for bad in (jnp.zeros(d + 1), jnp.ones((4, d + 1)), jnp.float32(1.0)):
        with pytest.raises(ls.LandscapeError, match=rf"shape \({d},\) or \(\.\.\., {d}\)"):
            getattr(land, method)(bad)
    good = getattr(land, method)(jnp.zeros(d))
    assert good is not None


def test_batches_of_the_right_dimension_still_work_under_jit_and_vmap():
    land = ls.rotated_river_2d(0.5)
    w = jnp.ones((4, 2))
    assert land.loss(w).shape == (4,)
    np.testing.assert_allclose(jax.jit(jax.vmap(land.loss))(w), land.loss(w), rtol=1e-6)
    with pytest.raises(ls.LandscapeError):
        jax.jit(land.in_basin)(jnp.zeros(3))
