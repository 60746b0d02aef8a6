"""The test configuration itself: the float64 marker, the jit/nojit fixture, the xdist groups, the cache."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import pytest


@pytest.mark.float64
def test_float64_marker_enters_x64():
    assert jax.config.jax_enable_x64 and jnp.zeros(1).dtype == jnp.float64


def test_unmarked_tests_run_in_float32():
    assert not jax.config.jax_enable_x64 and jnp.zeros(1).dtype == jnp.float32


def test_jit_fixture_traces_only_the_jit_variant(jit, request):
    """Under ``jit`` the body runs once, on tracers (one trace for two calls); under ``nojit``, eagerly."""
    seen = []

    def f(x):
        seen.append(isinstance(x, jax.core.Tracer))
        return 2 * x

    g = jit(f)
    assert float(g(jnp.float32(1.5))) == 3.0 and float(g(jnp.float32(2.5))) == 5.0
    variant = request.node.callspec.params["jit"]
    assert seen == ([True] if variant == "jit" else [False, False]), (variant, seen)


@pytest.fixture(scope="module")
def shared():
    return object()


def test_a_module_fixture_puts_its_users_in_the_module_group(shared, request):
    """Users of a module-scoped fixture run in one xdist group (the fixture is computed once)."""
    mark = request.node.get_closest_marker("xdist_group")
    assert mark is not None and mark.args == (request.node.nodeid.split("::")[0],)


def test_other_tests_are_not_grouped(request):
    """A test without a module-scoped fixture of its own module is scheduled alone (xdist load balancing)."""
    assert request.node.get_closest_marker("xdist_group") is None


def test_compilation_cache_is_under_pytest_cache_unless_set():
    """Every process of the run (workers, ``landscape check`` subprocesses) shares one persistent cache."""
    path = os.environ["JAX_COMPILATION_CACHE_DIR"]
    assert jax.config.jax_compilation_cache_dir == path
    assert float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) >= 0
