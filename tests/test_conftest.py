"""The test configuration itself: the float64 marker, the jit/nojit fixture, module fixtures, the cache."""

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
def shared_log(tmp_path_factory):
    """A file shared by every worker of this run (xdist's run id), holding the pids that ran this module."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")
    return tmp_path_factory.getbasetemp().parent / f"test_conftest-{run}.pids"


@pytest.mark.parametrize("i", range(6))
def test_a_module_runs_in_one_process(shared_log, i):
    """Under ``--dist loadfile`` every test of a module runs in one process (its fixtures computed once)."""
    with open(shared_log, "a") as f:
        f.write(f"{os.getpid()}\n")
    assert set(shared_log.read_text().split()) == {str(os.getpid())}


def test_compilation_cache_is_the_librarys_unless_set():
    """Every process of the run (workers, ``landscape check`` subprocesses) and every later run share one
    persistent cache: the library's own directory (``cache_dir()``), unless the caller set another."""
    from landscape.simulate.cache import cache_dir

    path = os.environ["JAX_COMPILATION_CACHE_DIR"]
    assert jax.config.jax_compilation_cache_dir == path
    assert float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) >= 0
    if os.environ["LANDSCAPE_TEST_CACHE_SET_BY_CALLER"] == "0":
        expected = cache_dir()
        assert expected is None or path == str(expected), (path, expected)


def test_memory_guard_releases_only_above_its_limit(memory_release):
    """The guard clears JAX's in-memory caches above its limit (a jitted function recompiles), not below."""
    f = jax.jit(lambda x: x + 1)
    f(jnp.float32(0))
    assert f._cache_size() == 1
    assert not memory_release(2**62) and f._cache_size() == 1
    assert memory_release(0) and f._cache_size() == 0


def test_every_process_compiles_with_the_suites_xla_flags(suite_xla_flags):
    """XLA_FLAGS holds the suite's options (unless LANDSCAPE_TEST_XLA_FLAGS replaced them), after the
    caller's own, which win; the benchmark that measures them compares the same flags."""
    from benchmarks.compile_time import SETTINGS

    flags, combine = suite_xla_flags
    assert SETTINGS["suite (tests/conftest.py)"] == flags
    wanted = os.environ.get("LANDSCAPE_TEST_XLA_FLAGS", flags).split()
    assert all(f.split("=")[0] in os.environ["XLA_FLAGS"] for f in wanted)
    assert combine("", flags) == flags
    assert combine(flags, flags) == flags  # an xdist worker inherits them: nothing twice
    mine = "--xla_cpu_use_fusion_emitters=true --xla_dump_to=/tmp/x"
    assert combine(mine, flags) == f"{mine} --xla_cpu_parallel_codegen_split_count=1"
